// SPDX-License-Identifier: GPL-2.0

//! The streaming engine of one PCM stream.
//!
//! The stream runs like DMA hardware: its buffer is a ring of periods, and every period
//! travels to the device as one I/O message `[pcm_xfer | data | pcm_status]` that points
//! straight into the ALSA buffer. Completions arrive in the virtqueue callback, where the
//! position advances one period per message and ALSA is told at once (the PCM is atomic,
//! so there is no scheduling hop), and freed messages are queued again.
//!
//! Playback only queues periods that the application has written (`ack` and the
//! completion path look at `appl_ptr`), so the device never plays stale data; a drain
//! queues the last partial period padded with silence. Capture only gives the device
//! periods that the application has read, so the device never writes over audio that the
//! application is still reading. A device that runs dry while the stream runs is an underrun
//! (playback) or an overrun (capture): the stream stops with an xrun (`EPIPE`).
//!
//! Positions are ALSA's: when the core resets them (`SNDRV_PCM_IOCTL_RESET`), the queued
//! periods move back with them ([`Stream::reset`]).
//!
//! Completions reach the stream in one of two ways ([`Completions`], module parameter
//! `poll`). With interrupts, the device notifies every used buffer. With polling, the
//! device's notifications for the queue are suppressed while the stream runs, and the
//! stream's high-resolution timer harvests the used ring once per period: no interrupt at
//! all in the steady state.
//!
//! Locking order: ALSA's stream lock, then [`Stream::io`], then the device's queue-user
//! lock, then its queue lock. [`Stream::ctl`] (a mutex) is only taken in sleeping
//! callbacks. The poll timer is stopped (and waited for) only where no lock is held.
//!
//! One file per concern: `stream/control.rs` (the sleeping callbacks and system sleep, whose
//! requests go on the control queue), `stream/trigger.rs` (START/STOP from `trigger`, and
//! the waits for their answers), `stream/engine.rs` (the data path: period messages, their
//! completions, the position) and `stream/poll.rs` (the completion mode and the poll timer).
//! This file holds the stream's types and state.

use super::{
    Completions,
    Msg, //
};
use crate::{
    alsa::pcm::{
        DmaBuffer,
        SubstreamSlot, //
    },
    spec::{
        ring::{
            Geometry,
            Periods, //
        },
        state::State,
        wire::{
            self,
            Direction,
            PcmInfo,
            PcmSetParams, //
        },
    },
    sync::{
        new_spinlock_irq,
        SpinLockIrq, //
    },
};
use kernel::{
    impl_has_hr_timer, new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    time::{
        hrtimer::{
            HrTimer,
            RelativeMode, //
        },
        Delta,
        Monotonic, //
    },
};

mod control;
mod engine;
mod poll;
mod trigger;

use poll::Poller;

/// Bits of a message tag that hold the period slot; the stream ID is above them.
const TAG_SLOT_BITS: u32 = 10;
/// Tag flag of an asynchronous START/STOP message.
const TAG_TRIGGER: u32 = 1 << 31;
/// Asynchronous START/STOP messages per stream (rapid pause toggles need more than one).
const TRIGGER_MSGS: usize = 4;

/// Builds the tag of period slot `slot` of stream `id`.
fn period_tag(id: u32, slot: usize) -> u32 {
    (id << TAG_SLOT_BITS) | slot as u32
}

/// Splits a message tag into the stream ID, and the period slot (if not a trigger).
pub(super) fn split_tag(tag: u32) -> (u32, Option<usize>) {
    let id = (tag & !TAG_TRIGGER) >> TAG_SLOT_BITS;
    let slot = (tag & TAG_TRIGGER == 0).then_some((tag & ((1 << TAG_SLOT_BITS) - 1)) as usize);
    (id, slot)
}

/// When [`Stream::fill`] notifies the device.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kick {
    /// Announce everything queued (start), also to a device that polls.
    Start,
    /// Announce everything queued, unless the device polls (`MSG_POLLING`).
    Now,
    /// Only if the device could otherwise starve (`ring::must_kick`), and does not poll.
    IfNeeded,
}

/// What [`Stream::fill`] does with playback frames short of a whole period.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pad {
    /// They wait for the rest of the period (unless the stream drains: then as `Partial`).
    No,
    /// They go, as a last period padded with silence.
    Partial,
    /// As `Partial`; and if the device would still hold nothing, a period of silence goes,
    /// so that a completion moves the position past the application pointer (the end of a
    /// drain; ALSA only sees it when the position moves).
    Flush,
}

/// Where a stream stood when a system sleep began.
#[derive(Clone, Copy)]
struct Asleep {
    /// On the device (before the sleep released its I/O).
    state: State,
    /// The period accounting, before the release gave the periods in flight back.
    periods: Periods,
}

/// State of the sleeping (control) side of a stream.
struct Ctl {
    params: Option<PcmSetParams>,
}

/// State shared with the completion path (interrupt context).
struct Io {
    /// Where the stream stands on the device.
    dev_state: State,
    /// Where it stood when a system sleep began (see [`Stream::suspend`]).
    asleep: Option<Asleep>,
    geo: Option<Geometry>,
    buffer: Option<Arc<DmaBuffer>>,
    /// One message per period slot.
    msgs: KVec<Arc<Msg>>,
    /// Free period slots (capacity: one per slot, so pushing never allocates).
    free: KVec<usize>,
    periods: Periods,
    /// The device was told to run (START sent, no STOP since).
    running: bool,
    /// Periods queued but not announced to the device yet (see `ring::must_kick`).
    unkicked: u64,
    latency_bytes: u32,
    /// Trigger messages, reused; a queued one is busy.
    triggers: KVec<Arc<Msg>>,
    /// How the stream takes its completions while it runs.
    completions: Completions,
    /// How it takes them from its next start on (the substream's "Polling Switch" control;
    /// the module parameter `poll` by default).
    selected: Completions,
    /// The mode the stream registered with its queue while running (see
    /// `DeviceIo::set_queue_user`); `None` when not registered.
    queue_user: Option<Completions>,
    /// The poll timer, from the first start with polling until `sync_stop`/`hw_free`.
    poller: Option<Poller>,
    /// Duration of one period at the stream's rate.
    period_time: Delta,
    /// The device polls the queue (`VIRTIO_SND_PCM_F_MSG_POLLING` negotiated).
    device_polls: bool,
    /// The period in flight was padded after an underrun at start (see `start_tick`).
    padded_underrun: bool,
    /// `fill` found the virtqueue full: the next completion on the queue retries
    /// ([`Stream::retry_fill`]).
    wants_room: bool,
    /// The application disabled period wakeups (read at each start): the stream polls,
    /// `pointer` harvests its queue, and its timer is a watchdog, pushed back by every
    /// `pointer` that finds progress.
    no_wakeup: bool,
    /// The interval of the poll timer: a period, or the buffer's length if `no_wakeup`.
    tick: Delta,
    /// The periods completed when `pointer` last pushed the watchdog back (`no_wakeup`).
    watched: u64,
    /// Completions taken back whose effects ALSA has not seen yet ([`Stream::service`]).
    service_pending: bool,
    /// One of them carried an error status, or none at all.
    error_pending: bool,
    /// The parts of the buffer that short capture periods left unwritten, to be silenced
    /// before ALSA sees those periods (capacity: one per slot, so pushing never allocates).
    silence: KVec<(usize, usize)>,
    xruns: u64,
    io_errors: u64,
}

impl Io {
    /// Forgets the completions whose effects ALSA has not seen (the stream starts afresh).
    fn clear_pending(&mut self) {
        self.service_pending = false;
        self.error_pending = false;
        self.silence.clear();
    }

    /// Marks every period slot free (no message of the stream is on the device).
    fn free_every_slot(&mut self) -> Result {
        let n = self.msgs.len();
        self.free.clear();
        for slot in 0..n {
            // Capacity is `n` (reserved in `replace_msgs`): no allocation.
            self.free.push(slot, GFP_ATOMIC)?;
        }
        Ok(())
    }
}

/// One stream of the device.
#[pin_data]
pub(super) struct Stream {
    pub(super) id: u32,
    pub(super) info: PcmInfo,
    #[pin]
    slot: SubstreamSlot,
    #[pin]
    ctl: Mutex<Ctl>,
    #[pin]
    io: SpinLockIrq<Io>,
    #[pin]
    timer: HrTimer<Stream>,
}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for Stream {
        mode: RelativeMode<Monotonic>, field: self.timer
    }
}

impl Stream {
    /// A stream that takes its completions as `mode` says, until its "Polling Switch" control
    /// selects otherwise.
    pub(super) fn new(id: u32, info: PcmInfo, mode: Completions) -> Result<Arc<Self>> {
        let mut triggers = KVec::with_capacity(TRIGGER_MSGS, GFP_KERNEL)?;
        for _ in 0..TRIGGER_MSGS {
            triggers.push(Self::new_trigger_msg(id)?, GFP_KERNEL)?;
        }
        Arc::pin_init(
            try_pin_init!(Self {
                id,
                info,
                slot <- SubstreamSlot::new(),
                ctl <- new_mutex!(Ctl { params: None }),
                io <- new_spinlock_irq!(
                    Io {
                        dev_state: State::Idle,
                        asleep: None,
                        geo: None,
                        buffer: None,
                        msgs: KVec::new(),
                        free: KVec::new(),
                        periods: Periods::default(),
                        running: false,
                        unkicked: 0,
                        latency_bytes: 0,
                        triggers,
                        completions: mode,
                        selected: mode,
                        queue_user: None,
                        poller: None,
                        period_time: Delta::ZERO,
                        device_polls: false,
                        padded_underrun: false,
                        wants_room: false,
                        no_wakeup: false,
                        tick: Delta::ZERO,
                        watched: 0,
                        service_pending: false,
                        error_pending: false,
                        silence: KVec::new(),
                        xruns: 0,
                        io_errors: 0,
                    },
                    c"virtio_snd_rs:stream_io"
                ),
                timer <- HrTimer::new(),
            }? Error),
            GFP_KERNEL,
        )
    }

    fn is_capture(&self) -> bool {
        self.info.direction == Direction::Input
    }

    pub(super) fn queue_index(&self) -> usize {
        if self.is_capture() {
            wire::QUEUE_RX
        } else {
            wire::QUEUE_TX
        }
    }

    /// The slot through which the completion path reaches the open substream (the PCM
    /// adapter attaches it at `open`, and detaches it at `close`).
    pub(super) fn slot(&self) -> &SubstreamSlot {
        &self.slot
    }
}
