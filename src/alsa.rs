// SPDX-License-Identifier: GPL-2.0

//! Abstractions for ALSA sound cards and PCM devices.
//!
//! C headers: [`include/sound/core.h`](srctree/include/sound/core.h),
//! [`include/sound/pcm.h`](srctree/include/sound/pcm.h).
//!
//! A [`card::Card`] owns a `struct snd_card`; PCM devices created on it
//! ([`pcm::Pcm::new`]) dispatch their callbacks to a [`pcm::PcmOps`] implementation.

pub(crate) mod card;
pub(crate) mod pcm;
