/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers that the module-local bindgen run reads (see src/Kbuild and
 * src/sys/bindgen_parameters). Types that the kernel crate's own bindings
 * already have are not regenerated: `--no-recursive-allowlist` leaves them to
 * `kernel::bindings`.
 */
#include <linux/jiffies.h>
#include <linux/ratelimit.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <sound/control.h>
#include <sound/core.h>
#include <sound/jack.h>
#include <sound/memalloc.h>
#include <sound/pcm.h>
#include <sound/pcm_params.h>

#include "helpers.h"
