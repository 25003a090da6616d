// SPDX-License-Identifier: GPL-2.0

//! PCM streams: discovery with `PCM_INFO`, and the ALSA PCM devices that expose them.
//!
//! Streams that share an HDA function node form one PCM device, with one substream per
//! stream, as in the C driver. The callbacks go to the stream's engine ([`Stream`]).

use super::{
    stream::Stream,
    VirtioSnd, //
};
use crate::{
    alsa::{
        card::Card,
        pcm::{
            self as alsa_pcm,
            info,
            HwParams,
            Pcm,
            PcmOps,
            Substream,
            TriggerCmd, //
        },
    },
    spec::{
        hw,
        wire::{
            self,
            Direction,
            PcmInfo,
            QueryInfo, //
        },
    },
};
use kernel::{
    prelude::*,
    str::CString,
    sync::Arc, //
};

/// What every substream can do, whatever the device.
///
/// - Interleaved only: the device takes interleaved frames.
/// - `BATCH`: the position moves one period at a time.
/// - `SYNC_APPLPTR`: `ack` must see every move of the application pointer, also with mmap,
///   so that playback periods are queued as soon as they are written.
/// - `NO_REWINDS`: queued periods belong to the device.
const INFO: u32 = info::MMAP
    | info::MMAP_VALID
    | info::INTERLEAVED
    | info::BLOCK_TRANSFER
    | info::BATCH
    | info::PAUSE
    | info::NO_REWINDS
    | info::SYNC_APPLPTR;

/// Asks the device for the description of all its streams.
///
/// A stream whose description is unusable is skipped with a warning; the others stay.
pub(super) fn query_streams(snd: &VirtioSnd) -> Result<KVec<Arc<Stream>>> {
    let count = snd.config.streams;
    let mut streams = KVec::new();
    if count == 0 {
        return Ok(streams);
    }
    let request = QueryInfo {
        code: wire::code::PCM_INFO,
        start_id: 0,
        count,
        size: wire::PCM_INFO_SIZE as u32,
    }
    .to_bytes();
    let expected = count as usize * wire::PCM_INFO_SIZE;
    let payload = snd.ctl_request(&request, expected)?;
    if payload.len() < expected {
        dev_err!(
            snd.dev.as_ref(),
            "PCM_INFO: device answered {} of {} bytes\n",
            payload.len(),
            expected
        );
        return Err(EIO);
    }
    for (id, chunk) in (0u32..).zip(payload.chunks_exact(wire::PCM_INFO_SIZE)) {
        match PcmInfo::parse(chunk) {
            Ok(info) => streams.push(Stream::new(id, info)?, GFP_KERNEL)?,
            Err(e) => dev_warn!(
                snd.dev.as_ref(),
                "stream {}: unusable PCM_INFO ({:?}), skipped\n",
                id,
                e
            ),
        }
    }
    Ok(streams)
}

/// The data of one ALSA PCM device: its streams, by direction and substream number.
pub(super) struct PcmDevice {
    snd: Arc<VirtioSnd>,
    playback: KVec<Arc<Stream>>,
    capture: KVec<Arc<Stream>>,
}

/// Creates one PCM device per HDA function node. Returns how many.
pub(super) fn register(snd: &Arc<VirtioSnd>, card: &Card, streams: &[Arc<Stream>]) -> Result<u32> {
    let mut nids: KVec<u32> = KVec::new();
    for s in streams {
        if !nids.contains(&s.info.hda_fn_nid) {
            nids.push(s.info.hda_fn_nid, GFP_KERNEL)?;
        }
    }
    let mut device = 0u32;
    for &nid in nids.iter() {
        let mut data = PcmDevice {
            snd: snd.clone(),
            playback: KVec::new(),
            capture: KVec::new(),
        };
        for s in streams.iter().filter(|s| s.info.hda_fn_nid == nid) {
            match s.info.direction {
                Direction::Output => data.playback.push(s.clone(), GFP_KERNEL)?,
                Direction::Input => data.capture.push(s.clone(), GFP_KERNEL)?,
            }
        }
        let name = CString::try_from_fmt(fmt!("VirtIO PCM {}", device))?;
        let (np, nc) = (data.playback.len() as u32, data.capture.len() as u32);
        // Atomic PCM: trigger and pointer run under the stream spinlock, and
        // `snd_pcm_period_elapsed` can be called straight from the virtqueue callback.
        Pcm::new(
            card,
            device,
            &name,
            np,
            nc,
            false,
            Arc::new(data, GFP_KERNEL)?,
        )?;
        device += 1;
    }
    Ok(device)
}

impl PcmDevice {
    fn stream(&self, substream: &Substream<'_>) -> Result<&Arc<Stream>> {
        let list = match substream.direction() {
            alsa_pcm::Direction::Playback => &self.playback,
            alsa_pcm::Direction::Capture => &self.capture,
        };
        list.get(substream.number() as usize).ok_or(ENODEV)
    }
}

#[vtable]
impl PcmOps for PcmDevice {
    fn open(this: &Self, substream: &Substream<'_>) -> Result {
        let stream = this.stream(substream)?;
        let h = hw::hardware(&stream.info, &this.snd.limits);
        substream.set_hardware(&alsa_pcm::Hardware {
            info: INFO,
            formats: h.formats,
            rates: h.rates,
            rate_min: h.rate_min,
            rate_max: h.rate_max,
            channels_min: h.channels_min,
            channels_max: h.channels_max,
            buffer_bytes_max: h.buffer_bytes_max,
            period_bytes_min: h.period_bytes_min,
            period_bytes_max: h.period_bytes_max,
            periods_min: h.periods_min,
            periods_max: h.periods_max,
        });
        substream.constrain_integer_periods()?;
        stream.open(substream);
        Ok(())
    }

    fn close(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.close();
        Ok(())
    }

    fn hw_params(this: &Self, substream: &Substream<'_>, params: &HwParams<'_>) -> Result {
        this.stream(substream)?
            .hw_params(&this.snd, substream, params)
    }

    fn hw_free(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.hw_free(&this.snd, substream)
    }

    fn prepare(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.prepare(&this.snd)
    }

    fn trigger(this: &Self, substream: &Substream<'_>, cmd: TriggerCmd) -> Result {
        Stream::trigger(this.stream(substream)?, &this.snd, substream, cmd)
    }

    fn sync_stop(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.sync_stop(&this.snd)
    }

    fn pointer(this: &Self, substream: &Substream<'_>) -> usize {
        this.stream(substream).map_or(0, |s| s.pointer(substream))
    }

    fn ack(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.ack(&this.snd, substream)
    }
}
