// SPDX-License-Identifier: GPL-2.0

//! Abstractions for ALSA sound cards and PCM devices.
//!
//! C headers: [`include/sound/core.h`](srctree/include/sound/core.h),
//! [`include/sound/pcm.h`](srctree/include/sound/pcm.h),
//! [`include/sound/jack.h`](srctree/include/sound/jack.h),
//! [`include/sound/control.h`](srctree/include/sound/control.h).
//!
//! A [`card::Card`] owns a `struct snd_card`; PCM devices created on it
//! ([`pcm::Pcm::new`]) dispatch their callbacks to a [`pcm::PcmOps`] implementation; its
//! jacks ([`jack::Jacks`]) and control elements ([`control::Controls`]) can be reported
//! from any context.

pub(crate) mod card;
pub(crate) mod control;
pub(crate) mod jack;
pub(crate) mod pcm;
