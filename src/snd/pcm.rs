// SPDX-License-Identifier: GPL-2.0

//! PCM streams: discovery with `PCM_INFO`, and the ALSA PCM devices that expose them.
//!
//! Streams that share an HDA function node form one PCM device, with one substream per
//! stream, as in the C driver. The callbacks go to the stream's engine ([`Stream`]).

use super::{
    stream::Stream,
    Completions,
    DeviceIo, //
};
use crate::{
    alsa::{
        card::Card,
        control::{
            ControlOps,
            Elem,
            ElemInfo,
            ElemValue,
            Iface, //
        },
        pcm::{
            self as alsa_pcm,
            info,
            Chmap,
            HwParams,
            LockedSubstream,
            OpeningSubstream,
            Pcm,
            PcmOps,
            Position,
            Substream,
            SubstreamSlot,
            TriggerCmd, //
        },
    },
    spec::{
        hw,
        info::{
            sndrv_ctl,
            ChmapInfo,
            CHMAP_INFO_SIZE, //
        },
        wire::{
            self,
            Direction,
            PcmInfo, //
        },
    },
};
use kernel::{
    page::PAGE_SIZE,
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
/// - `DRAIN_TRIGGER`: a drain queues the last, partial period at once (padded with
///   silence), also when the drain is what starts the stream.
/// - `NO_PERIOD_WAKEUP`: an application that reads the position on its own timer (a sound
///   server) may turn period wakeups off; the stream then takes no interrupts, `pointer`
///   takes the completions, and a timer expires only if the device stalls for a buffer.
/// - `RESUME`: after a system sleep, the driver has set the streams up again on the device
///   (`VirtioSnd::resume`), and the `RESUME` trigger starts them where they stopped.
const INFO: u32 = info::MMAP
    | info::MMAP_VALID
    | info::INTERLEAVED
    | info::BLOCK_TRANSFER
    | info::BATCH
    | info::PAUSE
    | info::NO_REWINDS
    | info::SYNC_APPLPTR
    | info::DRAIN_TRIGGER
    | info::RESUME
    | info::NO_PERIOD_WAKEUP;

/// Asks the device for the description of all its streams.
///
/// A stream whose description is unusable is skipped with a warning; the others stay.
pub(super) fn query_streams(io: &DeviceIo, completions: Completions) -> Result<KVec<Arc<Stream>>> {
    let mut streams = KVec::new();
    io.query_info(
        "PCM_INFO",
        wire::code::PCM_INFO,
        io.config().streams,
        wire::PCM_INFO_SIZE,
        |id, chunk| {
            match PcmInfo::parse(chunk) {
                Ok(info) => streams.push(Stream::new(id, info, completions)?, GFP_KERNEL)?,
                Err(e) => complain!(
                    dev_warn,
                    io,
                    Info,
                    "stream {}: unusable PCM_INFO ({:?}), skipped\n",
                    id,
                    e
                ),
            }
            Ok(())
        },
    )?;
    Ok(streams)
}

/// The data of one ALSA PCM device: its streams, by direction and substream number.
///
/// The card's PCM device holds it; it holds the streams and the device's I/O handle, not
/// the [`VirtioSnd`].
pub(super) struct PcmDevice {
    io: Arc<DeviceIo>,
    limits: hw::Limits,
    playback: KVec<Arc<Stream>>,
    capture: KVec<Arc<Stream>>,
}

/// Asks the device for its channel maps.
///
/// A map that cannot be used is skipped with a warning.
pub(super) fn query_chmaps(io: &DeviceIo) -> Result<KVec<ChmapInfo>> {
    let mut maps = KVec::new();
    io.query_info(
        "CHMAP_INFO",
        wire::code::CHMAP_INFO,
        io.config().chmaps,
        CHMAP_INFO_SIZE,
        |id, chunk| {
            match ChmapInfo::parse(chunk) {
                Ok(map) => maps.push(map, GFP_KERNEL)?,
                Err(e) => complain!(
                    dev_warn,
                    io,
                    Info,
                    "channel map {}: unusable CHMAP_INFO ({:?}), skipped\n",
                    id,
                    e
                ),
            }
            Ok(())
        },
    )?;
    Ok(maps)
}

/// The ALSA channel maps of the streams of HDA function node `nid` in `direction`.
fn alsa_chmaps(
    io: &DeviceIo,
    maps: &[ChmapInfo],
    nid: u32,
    direction: Direction,
) -> Result<KVec<Chmap>> {
    let mut out = KVec::new();
    for m in maps
        .iter()
        .filter(|m| m.hda_fn_nid() == nid && m.direction() == direction)
    {
        match m.to_alsa() {
            Some(a) => out.push(
                Chmap {
                    channels: a.channels,
                    map: a.map,
                },
                GFP_KERNEL,
            )?,
            None => complain!(
                dev_warn,
                io,
                Info,
                "channel map of {} channels: ALSA takes at most 15, skipped\n",
                m.channels()
            ),
        }
    }
    Ok(out)
}

/// Creates one PCM device per HDA function node, with its channel-map controls. Returns
/// how many.
pub(super) fn register(
    io: &Arc<DeviceIo>,
    limits: hw::Limits,
    card: &mut Card,
    streams: &[Arc<Stream>],
    chmaps: &[ChmapInfo],
) -> Result<u32> {
    let mut nids: KVec<u32> = KVec::new();
    for s in streams {
        if !nids.contains(&s.info.hda_fn_nid) {
            nids.push(s.info.hda_fn_nid, GFP_KERNEL)?;
        }
    }
    let mut device = 0u32;
    for &nid in nids.iter() {
        let mut data = PcmDevice {
            io: io.clone(),
            limits,
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
        add_mode_controls(card, device, &data.playback, c"Playback Polling Switch")?;
        add_mode_controls(card, device, &data.capture, c"Capture Polling Switch")?;
        // Atomic PCM: trigger and pointer run under the stream spinlock, and
        // `snd_pcm_period_elapsed` can be called straight from the virtqueue callback.
        let mut pcm = Pcm::new(
            card,
            device,
            &name,
            np,
            nc,
            false,
            Arc::new(data, GFP_KERNEL)?,
        )?;
        if np > 0 {
            let maps = alsa_chmaps(io, chmaps, nid, Direction::Output)?;
            pcm.add_chmaps(alsa_pcm::Direction::Playback, &maps)?;
        }
        if nc > 0 {
            let maps = alsa_chmaps(io, chmaps, nid, Direction::Input)?;
            pcm.add_chmaps(alsa_pcm::Direction::Capture, &maps)?;
        }
        device += 1;
    }
    Ok(device)
}

/// The "Playback Polling Switch" / "Capture Polling Switch" elements of a PCM device's
/// substreams (interface PCM, one per substream): on, the stream polls its completions from
/// its next start on (`Completions::Polling`); off, the device interrupts. The module
/// parameter `poll` is the default.
struct ModeControls {
    /// The streams, by substream number (the element's group index).
    streams: KVec<Arc<Stream>>,
}

/// Adds a mode element named `name` for each of `streams`, substreams of PCM `device`.
fn add_mode_controls(card: &Card, device: u32, streams: &KVec<Arc<Stream>>, name: &CStr) -> Result {
    if streams.is_empty() {
        return Ok(());
    }
    let mut list = KVec::with_capacity(streams.len(), GFP_KERNEL)?;
    for s in streams.iter() {
        list.push(s.clone(), GFP_KERNEL)?;
    }
    let data = Arc::new(ModeControls { streams: list }, GFP_KERNEL)?;
    for n in 0..streams.len() {
        card.add_control(
            &Elem {
                iface: Iface::Pcm {
                    device,
                    subdevice: u32::try_from(n)?,
                },
                name,
                index: 0,
                access: sndrv_ctl::ACCESS_READ | sndrv_ctl::ACCESS_WRITE,
                group_index: n,
            },
            data.clone(),
        )?;
    }
    Ok(())
}

#[vtable]
impl ControlOps for ModeControls {
    fn info(_this: &Self, _index: usize, info: &mut ElemInfo<'_>) -> Result {
        info.set_type(sndrv_ctl::TYPE_BOOLEAN, 1);
        info.set_integer(0, 1, 1);
        Ok(())
    }

    fn get(this: &Self, index: usize, value: &mut ElemValue<'_>) -> Result {
        let stream = this.streams.get(index).ok_or(EINVAL)?;
        let on = stream.selected_completions() == Completions::Polling;
        value.set_integer(0, i64::from(on));
        Ok(())
    }

    fn put(this: &Self, index: usize, value: &ElemValue<'_>) -> Result<bool> {
        let stream = this.streams.get(index).ok_or(EINVAL)?;
        let mode = match value.integer(0) {
            Some(0) => Completions::Interrupts,
            Some(1) => Completions::Polling,
            _ => return Err(EINVAL),
        };
        Ok(stream.select_completions(mode))
    }
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
    fn open(this: &Self, substream: &OpeningSubstream<'_>) -> Result {
        let stream = this.stream(substream)?;
        let ring = this.io.queues().lock(stream.queue_index())?.ring_size()?;
        substream.set_hardware(&hw::Hardware {
            info: INFO,
            ..hw::hardware(&stream.info, &this.limits).fit_ring(ring, PAGE_SIZE)
        });
        substream.constrain_integer_periods()
    }

    fn slot<'a>(this: &'a Self, substream: &Substream<'_>) -> Option<&'a SubstreamSlot> {
        this.stream(substream).ok().map(|s| s.slot())
    }

    fn close(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.close();
        Ok(())
    }

    fn hw_params(this: &Self, substream: &Substream<'_>, params: &HwParams<'_>) -> Result {
        this.stream(substream)?
            .hw_params(&this.io, substream, params)
    }

    fn hw_free(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.hw_free(&this.io, substream)
    }

    fn prepare(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.prepare(&this.io)
    }

    fn trigger(this: &Self, substream: &LockedSubstream<'_>, cmd: TriggerCmd) -> Result {
        Stream::trigger(this.stream(substream)?, &this.io, substream, cmd)
    }

    fn sync_stop(this: &Self, substream: &Substream<'_>) -> Result {
        this.stream(substream)?.sync_stop(&this.io)
    }

    fn pointer(this: &Self, substream: &LockedSubstream<'_>) -> Position {
        this.stream(substream)
            .map_or(Position::Frames(0), |s| s.pointer(&this.io, substream))
    }

    fn ack(this: &Self, substream: &LockedSubstream<'_>) -> Result {
        this.stream(substream)?.ack(&this.io, substream)
    }

    fn sync_position(this: &Self, substream: &Substream<'_>) {
        if let Ok(stream) = this.stream(substream) {
            stream.sync_position(&this.io);
        }
    }

    fn reset(this: &Self, substream: &LockedSubstream<'_>) {
        if let Ok(stream) = this.stream(substream) {
            stream.reset(substream);
        }
    }
}
