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

use super::{
    Completions,
    DeviceIo,
    Msg, //
};
use crate::{
    alsa::pcm::{
        self as alsa_pcm,
        DmaBuffer,
        HwParams,
        LockedSubstream,
        State as AlsaState,
        Substream,
        SubstreamSlot, //
    },
    errno::ebadfd,
    spec::{
        format,
        ring::{
            self,
            Geometry,
            Periods, //
        },
        state::{
            self,
            Request,
            State, //
        },
        wire::{
            self,
            Direction,
            PcmHdr,
            PcmInfo,
            PcmSetParams,
            PcmStatus, //
        },
    },
    sync::{
        new_spinlock_irq,
        SpinLockIrq, //
    },
    timer::ArcTimer,
    virtio::message::MessageError,
};
use kernel::{
    impl_has_hr_timer, new_mutex,
    prelude::*,
    sync::{
        Arc,
        ArcBorrow,
        Mutex, //
    },
    time::{
        delay::fsleep,
        hrtimer::{
            HrTimer,
            HrTimerCallback,
            HrTimerCallbackContext,
            HrTimerRestart,
            RelativeMode, //
        },
        Delta,
        Monotonic, //
    },
};

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

/// The poll timer of a running stream, with what its callback needs.
///
/// It lives from a start (`trigger`) until `sync_stop`, `hw_free`, `close` or a system
/// sleep ([`Stream::stop_poller`]). Meanwhile it is the one reference from below back up
/// the ownership tree (the [`DeviceIo`] owns the stream): a cycle by design, which ends
/// at the latest when the substream is closed.
struct Poller {
    /// Declared first: dropping it cancels the timer and waits for its callback, before
    /// `snd` goes.
    timer: ArcTimer<Stream>,
    snd: Arc<DeviceIo>,
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
    xruns: u64,
    io_errors: u64,
}

impl Io {
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

impl HrTimerCallback for Stream {
    type Pointer<'a> = Arc<Self>;

    /// The poll timer (hard interrupt context): harvests the stream's queue once a period.
    ///
    /// Also, a period after a start that left a playback stream with nothing on the device,
    /// the start tick ([`Stream::start_tick`]), in both modes.
    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        let (snd, period, polling) = {
            let io = this.io.lock();
            match &io.poller {
                Some(p) if io.running => (
                    p.snd.clone(),
                    io.period_time,
                    io.queue_user == Some(Completions::Polling),
                ),
                _ => return HrTimerRestart::NoRestart,
            }
        };
        if polling {
            snd.io_done(this.queue_index());
        }
        this.start_tick(&snd);
        if !polling {
            return HrTimerRestart::NoRestart;
        }
        ctx.forward_now(period);
        HrTimerRestart::Restart
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

    /// `close` (the substream is detached already).
    pub(super) fn close(&self) {
        self.stop_poller();
    }

    /// Stops the poll timer, and waits for its callback (sleeping context, no lock held).
    ///
    /// The poller holds the stream (its timer) and the [`DeviceIo`], which owns the stream:
    /// this is what ends that cycle, at the latest at `close`.
    pub(super) fn stop_poller(&self) {
        let poller = self.io.lock().poller.take();
        drop(poller);
    }

    /// Registers the stream as running on its queue, or unregisters it.
    fn set_running(&self, snd: &DeviceIo, io: &mut Io, running: bool) {
        io.running = running;
        let user = if running { Some(io.completions) } else { None };
        if let Some(mode) = io.queue_user {
            snd.set_queue_user(self.queue_index(), mode, false);
        }
        if let Some(mode) = user {
            snd.set_queue_user(self.queue_index(), mode, true);
        }
        io.queue_user = user;
    }

    /// Sends one stream request and waits for the answer; updates the device state.
    fn request_locked(&self, snd: &DeviceIo, ctl: &Ctl, r: Request) -> Result {
        if matches!(r, Request::Stop | Request::Release) {
            // The device gives back at RELEASE only the messages that it knows of.
            self.kick_pending(snd, &mut self.io.lock())?;
        }
        let bytes = match r {
            Request::SetParams => match ctl.params {
                Some(p) => {
                    let b = p.to_bytes();
                    snd.ctl_request(&b, 0)
                }
                None => return Err(EINVAL),
            },
            _ => snd.ctl_request(
                &PcmHdr {
                    code: r.code(),
                    stream_id: self.id,
                }
                .to_bytes(),
                0,
            ),
        };
        let result = bytes.map(|_| ());
        let mut io = self.io.lock();
        // A STOP or RELEASE whose answer is wrong or lost most likely took effect (the
        // device stops and releases what it can): the next plan goes on from there, instead
        // of repeating a request that the device would refuse from now on.
        if result.is_ok() || matches!(r, Request::Stop | Request::Release) {
            io.dev_state = io.dev_state.apply(r).unwrap_or(io.dev_state);
        }
        result
    }

    /// Waits until the device has given back every period message (after RELEASE), for at
    /// most the control timeout. Messages that it keeps are replaced, so that a late answer
    /// cannot be mistaken for a new one.
    fn drain_io(&self, snd: &DeviceIo) -> Result {
        let mut waited = 0;
        loop {
            // With polling, the device's notifications may still be off, or a used buffer
            // slipped past the moment they were enabled again: take what is there.
            snd.io_done(self.queue_index());
            let in_flight = self.io.lock().periods.in_flight();
            if in_flight == 0 {
                return Ok(());
            }
            if waited >= snd.timeout_ms {
                dev_err!(
                    snd.dev.as_ref(),
                    "stream {}: device kept {} period buffer(s) after RELEASE\n",
                    self.id,
                    in_flight
                );
                let periods = self.io.lock().geo.map_or(0, |g| g.periods());
                self.replace_msgs(periods as usize)?;
                return Err(EIO);
            }
            fsleep(Delta::from_millis(1));
            waited += 1;
        }
    }

    /// Allocates `n` fresh period messages, and resets the period accounting.
    fn replace_msgs(&self, n: usize) -> Result {
        let mut msgs = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut free = KVec::with_capacity(n, GFP_KERNEL)?;
        let xfer = wire::pcm_xfer(self.id);
        for slot in (0..n).rev() {
            msgs.push(
                Msg::new(&xfer, wire::PCM_STATUS_SIZE, period_tag(self.id, slot))?,
                GFP_KERNEL,
            )?;
            free.push(slot, GFP_KERNEL)?;
        }
        msgs.reverse();
        let mut io = self.io.lock();
        io.msgs = msgs;
        io.free = free;
        io.periods = Periods::default();
        io.running = false;
        io.unkicked = 0;
        io.latency_bytes = 0;
        Ok(())
    }

    /// Waits for the answers to START/STOP sent from `trigger`. A message that is not
    /// answered within the control timeout is left to the device and replaced, so that it
    /// costs one wait, once.
    ///
    /// Each message is waited for until the end of the trip it was on when this began: any
    /// number of callers may wait at once, and a message that `trigger` queues again meanwhile
    /// ends the wait for the earlier trip.
    fn wait_triggers(&self, snd: &DeviceIo) {
        let triggers: KVec<(usize, Arc<Msg>, u32)> = {
            let io = self.io.lock();
            let mut v = KVec::new();
            for (i, t) in io.triggers.iter().enumerate() {
                if let Some(trip) = t.queued_trip() {
                    if v.push((i, t.clone(), trip), GFP_ATOMIC).is_err() {
                        break;
                    }
                }
            }
            v
        };
        for (i, t, trip) in triggers.iter() {
            if let Err(MessageError::TimedOut) = t.wait_trip(*trip, snd.timeout_ms) {
                dev_err!(
                    snd.dev.as_ref(),
                    "stream {}: START/STOP not answered within {} ms\n",
                    self.id,
                    snd.timeout_ms
                );
                // If allocation fails, the old message stays and is waited for again.
                if let Ok(fresh) = self.trigger_msg() {
                    if let Some(slot) = self.io.lock().triggers.get_mut(*i) {
                        if Arc::ptr_eq(slot, t) {
                            *slot = fresh;
                        }
                    }
                }
            }
        }
    }

    /// A START/STOP message of this stream (the request is written at each use).
    fn trigger_msg(&self) -> Result<Arc<Msg>> {
        Self::new_trigger_msg(self.id)
    }

    fn new_trigger_msg(id: u32) -> Result<Arc<Msg>> {
        Msg::new(
            &PcmHdr {
                code: 0,
                stream_id: id,
            }
            .to_bytes(),
            wire::HDR_SIZE,
            TAG_TRIGGER | (id << TAG_SLOT_BITS),
        )
    }

    /// `hw_params`: sends SET_PARAMS and sets up the buffer and the period messages.
    pub(super) fn hw_params(
        &self,
        snd: &DeviceIo,
        substream: &Substream<'_>,
        params: &HwParams<'_>,
    ) -> Result {
        let format = format::format_index(params.format(), self.info.formats).ok_or(EINVAL)?;
        let rate = format::rate_index(params.rate(), self.info.rates).ok_or(EINVAL)?;
        let channels = u8::try_from(params.channels()).map_err(|_| EINVAL)?;
        let frame_bytes = params.frame_bytes();
        let geo = Geometry::new(frame_bytes, params.period_bytes(), params.buffer_bytes())
            .map_err(|_| EINVAL)?;
        let period_ns = u64::from(geo.period_frames())
            .saturating_mul(1_000_000_000)
            .checked_div(u64::from(params.rate()))
            .ok_or(EINVAL)?;
        let features = self.info.features & wire::pcm_feature::SELECTABLE;
        let set = PcmSetParams {
            stream_id: self.id,
            buffer_bytes: params.buffer_bytes(),
            period_bytes: params.period_bytes(),
            features,
            channels,
            format,
            rate,
        };

        self.wait_triggers(snd);
        let mut ctl = self.ctl.lock();
        let dev_state = self.io.lock().dev_state;
        let plan = state::plan_hw_params(dev_state).map_err(|_| EBUSY)?;
        ctl.params = Some(set);
        for r in plan.iter() {
            self.request_locked(snd, &ctl, r)?;
            if r == Request::Release {
                self.drain_io(snd)?;
            }
        }
        drop(ctl);

        // A virtual device may lag behind real time when its host is busy: let blocking
        // reads and writes wait as long as a control request may take, and at least 1.1
        // buffers, before ALSA gives up with EIO.
        let buffer_ms = geo
            .buffer_frames()
            .saturating_mul(1100)
            .checked_div(u64::from(params.rate()))
            .unwrap_or(0);
        substream.set_wait_time(
            snd.timeout_ms
                .max(u32::try_from(buffer_ms).unwrap_or(u32::MAX)),
        );
        let buffer = DmaBuffer::new(params.buffer_bytes() as usize)?;
        substream.set_buffer(&buffer, params.buffer_bytes() as usize)?;
        self.replace_msgs(geo.periods() as usize)?;
        let mut io = self.io.lock();
        io.geo = Some(geo);
        io.buffer = Some(buffer);
        io.period_time = Delta::from_nanos(i64::try_from(period_ns).map_err(|_| EINVAL)?);
        io.device_polls = features & (1 << wire::pcm_feature::MSG_POLLING) != 0;
        Ok(())
    }

    /// `hw_free`: gives back every message, and drops the buffer.
    pub(super) fn hw_free(&self, snd: &DeviceIo, substream: &Substream<'_>) -> Result {
        self.wait_triggers(snd);
        self.stop_poller();
        let mut result = Ok(());
        {
            let ctl = self.ctl.lock();
            let dev_state = self.io.lock().dev_state;
            for r in state::plan_release(dev_state).iter() {
                if let Err(e) = self.request_locked(snd, &ctl, r) {
                    result = Err(e);
                    break;
                }
            }
        }
        if let Err(e) = self.drain_io(snd) {
            result = result.and(Err(e));
        }
        substream.clear_buffer();
        let buffer = {
            let mut io = self.io.lock();
            io.geo = None;
            io.buffer.take()
        };
        // Messages still on a broken device keep their own reference to the buffer.
        drop(buffer);
        for msg in self.io.lock().msgs.iter() {
            msg.clear_data();
        }
        result
    }

    /// `prepare`: a fresh start, with no I/O left on the device.
    pub(super) fn prepare(&self, snd: &DeviceIo) -> Result {
        self.wait_triggers(snd);
        let ctl = self.ctl.lock();
        let dev_state = self.io.lock().dev_state;
        let plan = state::plan_prepare(dev_state).map_err(|_| ebadfd())?;
        for r in plan.iter() {
            self.request_locked(snd, &ctl, r)?;
            if r == Request::Release {
                self.drain_io(snd)?;
            }
        }
        let mut io = self.io.lock();
        io.free_every_slot()?;
        io.periods = Periods::default();
        self.set_running(snd, &mut io, false);
        io.unkicked = 0;
        io.latency_bytes = 0;
        io.padded_underrun = false;
        Ok(())
    }

    /// A system sleep begins, before the device is reset (process context, no lock held;
    /// ALSA has suspended the substream already: a running one got STOP).
    ///
    /// The stream remembers where it stood, and gives the device's I/O back with RELEASE
    /// while the virtqueues still exist: a device that kept buffers across its reset would
    /// hand them back on the new virtqueues (QEMU's device does). Best effort: the reset
    /// that follows takes back whatever the device keeps.
    pub(super) fn suspend(&self, snd: &DeviceIo) {
        self.wait_triggers(snd);
        self.stop_poller();
        let ctl = self.ctl.lock();
        let state = {
            let mut io = self.io.lock();
            io.asleep = Some(Asleep {
                state: io.dev_state,
                periods: io.periods,
            });
            io.dev_state
        };
        for r in state::plan_release(state).iter() {
            if let Err(e) = self.request_locked(snd, &ctl, r) {
                dev_dbg!(
                    snd.dev.as_ref(),
                    "stream {}: {:?} before sleep failed: {:?}\n",
                    self.id,
                    r,
                    e
                );
                return;
            }
        }
        if state.may_hold_io() {
            // On a timeout the messages are replaced (and logged); the reset takes them.
            let _ = self.drain_io(snd);
        }
    }

    /// The device was reset for a system sleep, and every message came back cancelled
    /// (process context, no lock held).
    ///
    /// The stream forgets its periods in flight: they go again from where the device had
    /// not played (written) them, after [`Stream::resume`].
    pub(super) fn device_lost(&self, snd: &DeviceIo) {
        self.stop_poller();
        let _ctl = self.ctl.lock();
        let mut io = self.io.lock();
        if io.running {
            // ALSA suspends every running substream before the device's freeze.
            dev_warn!(
                snd.dev.as_ref(),
                "stream {}: still running at suspend\n",
                self.id
            );
        }
        self.set_running(snd, &mut io, false);
        io.dev_state = State::Idle;
        if let Some(asleep) = io.asleep {
            // The release completed the periods in flight, which the device did not play.
            io.periods = asleep.periods;
        }
        io.periods.forget_in_flight();
        // Cannot fail: see `free_every_slot`.
        let _ = io.free_every_slot();
        io.unkicked = 0;
        io.latency_bytes = 0;
        io.padded_underrun = false;
    }

    /// After a system sleep: sends the parameters again and, if the stream was prepared,
    /// `PREPARE`, so that ALSA's `RESUME` trigger starts it where it stopped. On error the
    /// stream stays as the reset left it; the next `prepare` sends what is missing.
    pub(super) fn resume(&self, snd: &DeviceIo) -> Result {
        let ctl = self.ctl.lock();
        let before = self
            .io
            .lock()
            .asleep
            .take()
            .map_or(State::Idle, |a| a.state);
        for r in state::plan_resume(before).iter() {
            self.request_locked(snd, &ctl, r)?;
        }
        Ok(())
    }

    /// How the stream takes its completions from its next start on.
    pub(super) fn selected_completions(&self) -> Completions {
        self.io.lock().selected
    }

    /// Selects how the stream takes its completions from its next start on (a running
    /// stream keeps its mode until it stops or pauses). Returns whether that changed.
    pub(super) fn select_completions(&self, mode: Completions) -> bool {
        let mut io = self.io.lock();
        let changed = io.selected != mode;
        io.selected = mode;
        changed
    }

    /// `sync_stop`: waits until STOP was answered, and stops the poll timer.
    pub(super) fn sync_stop(&self, snd: &DeviceIo) -> Result {
        self.wait_triggers(snd);
        self.stop_poller();
        Ok(())
    }

    /// `trigger` (atomic context, under the stream lock).
    pub(super) fn trigger(
        this: &Arc<Self>,
        snd: &Arc<DeviceIo>,
        substream: &Substream<'_>,
        cmd: alsa_pcm::TriggerCmd,
    ) -> Result {
        use alsa_pcm::TriggerCmd as T;
        let mut io = this.io.lock();
        let start = match cmd {
            T::Start | T::PauseRelease | T::Resume => true,
            T::Stop | T::PausePush | T::Suspend => false,
            T::Drain => {
                // A running stream was switched to DRAINING: queue what is left, with the
                // last partial period padded, or a period of silence if the device has
                // nothing (after a RESET, or before the start tick), so that the position
                // moves and the drain ends (a capture drain has stopped the stream already).
                // A drain that starts a prepared stream does not get here (the core clears
                // `trigger_master` when it starts it): the start tick does it.
                if io.running && !this.is_capture() {
                    this.fill(snd, &mut io, substream, Kick::Now, Pad::Flush)?;
                }
                return Ok(());
            }
        };
        let r = if start { Request::Start } else { Request::Stop };
        let next = io.dev_state.apply(r).map_err(|_| ebadfd())?;
        let msg = io
            .triggers
            .iter()
            .find(|m| !m.is_queued())
            .cloned()
            .ok_or(EBUSY)?;
        msg.set_request(
            &PcmHdr {
                code: r.code(),
                stream_id: this.id,
            }
            .to_bytes(),
        )?;
        if start {
            // A mode selected meanwhile applies from this start on (the stream is not
            // registered with its queue now: `set_running` below does it in this mode).
            io.completions = io.selected;
            io.running = true;
            if let Err(e) = this.fill(snd, &mut io, substream, Kick::Start, Pad::No) {
                io.running = false;
                return Err(e);
            }
            this.set_running(snd, &mut io, true);
            // Polling harvests once a period; a playback stream with less than a period
            // written gets its start tick a period from now.
            let starved = !this.is_capture() && io.periods.in_flight() == 0;
            if io.completions == Completions::Polling || starved {
                let period = io.period_time;
                match &io.poller {
                    Some(p) => p.timer.restart(period),
                    None => {
                        io.poller = Some(Poller {
                            timer: ArcTimer::start(this.clone(), period),
                            snd: snd.clone(),
                        })
                    }
                }
            }
        } else {
            // The poll timer sees this and stops by itself.
            this.set_running(snd, &mut io, false);
            this.kick_pending(snd, &mut io)?;
        }
        let sent = {
            let mut q = snd.queues.lock();
            q.add(wire::QUEUE_CONTROL, msg)
                .and_then(|()| q.kick(wire::QUEUE_CONTROL))
        };
        if let Err(e) = sent {
            if start {
                this.set_running(snd, &mut io, false);
            }
            return Err(e);
        }
        io.dev_state = next;
        Ok(())
    }

    /// Handles an xrun event of the device (interrupt context): the stream stops with an
    /// xrun, as if the device had run dry in front of the driver's eyes.
    pub(super) fn xrun_event(&self, snd: &DeviceIo) {
        let running = {
            let mut io = self.io.lock();
            if io.running {
                io.xruns += 1;
            }
            io.running
        };
        if !running {
            dev_dbg!(
                snd.dev.as_ref(),
                "stream {}: xrun event while stopped\n",
                self.id
            );
            return;
        }
        dev_dbg!(
            snd.dev.as_ref(),
            "stream {}: xrun reported by the device\n",
            self.id
        );
        if let Some(sub) = self.slot.get() {
            sub.stop_xrun();
        }
    }

    /// A period after a playback start that left the device with nothing (timer context, no
    /// lock held): if the application has still not written a whole period, DMA hardware
    /// would have played what there is, and more. What was written goes to the device now,
    /// the partial period padded with silence (see `fill`). For a drain that started the
    /// stream, that is its end. A running stream has underrun: it stops with an xrun when
    /// the padded period is back, or at once if nothing was written.
    fn start_tick(&self, snd: &DeviceIo) {
        // The poll timer calls this every period: the common case (periods on the device)
        // costs one look, without the stream lock; the check is repeated under it below.
        if self.is_capture() || self.io.lock().periods.in_flight() > 0 {
            return;
        }
        let Some(sub) = self.slot.get() else {
            return;
        };
        let xrun = sub.with_stream_lock(|s| {
            let mut io = self.io.lock();
            if !io.running || io.periods.in_flight() > 0 {
                return false;
            }
            // What the application wrote goes to the device, the partial period padded;
            // if the stream runs (not drains), the frames that the application writes into
            // the padding now are lost: that is reported as an xrun when the period is back.
            let running = s.state() == AlsaState::Running;
            let pad = if running { Pad::Partial } else { Pad::Flush };
            match self.fill(snd, &mut io, s, Kick::Now, pad) {
                Ok(()) => io.padded_underrun = running && io.periods.in_flight() > 0,
                Err(e) => dev_dbg!(
                    snd.dev.as_ref(),
                    "stream {}: start fill failed: {:?}\n",
                    self.id,
                    e
                ),
            }
            let starved = io.periods.in_flight() == 0 && running;
            if starved {
                io.xruns += 1;
            }
            starved
        });
        if xrun {
            sub.stop_xrun();
        }
    }

    /// `pointer` (atomic context): the position of the last completed period.
    pub(super) fn pointer(&self, substream: &LockedSubstream<'_>) -> usize {
        let io = self.io.lock();
        let Some(geo) = io.geo else {
            return 0;
        };
        let frames = io.latency_bytes.checked_div(geo.frame_bytes()).unwrap_or(0);
        substream.set_delay(u64::from(frames));
        io.periods.hw_ptr(&geo) as usize
    }

    /// `ack` (atomic context): the application wrote more (playback: queue the periods it
    /// completed), or read more (capture: give the device the periods it has read).
    pub(super) fn ack(&self, snd: &DeviceIo, substream: &Substream<'_>) -> Result {
        let mut io = self.io.lock();
        if io.running {
            self.fill(snd, &mut io, substream, Self::refill_kick(snd), Pad::No)?;
        }
        Ok(())
    }

    /// Before the ALSA core resets the positions (no lock held): a polling stream takes the
    /// periods that the device has used since the last tick, so that the position that the
    /// core keeps is the device's. Otherwise the core would put the application pointer up
    /// to a period behind the device, into a period that the device has played already, and
    /// the first period written after the reset would never be heard.
    pub(super) fn sync_position(&self, snd: &DeviceIo) {
        let polling = {
            let io = self.io.lock();
            io.running && io.completions == Completions::Polling
        };
        if polling {
            snd.io_done(self.queue_index());
        }
    }

    /// The ALSA core reset the positions (under the stream lock): the queued periods keep
    /// their buffer slots, and their positions move back with ALSA's.
    pub(super) fn reset(&self, substream: &Substream<'_>) {
        let mut io = self.io.lock();
        if let Some(geo) = io.geo {
            io.periods
                .rebase(&geo, substream.boundary(), substream.hw_ptr());
        }
    }

    /// How a refill (not a start) notifies the device.
    fn refill_kick(snd: &DeviceIo) -> Kick {
        if snd.defer_kicks {
            Kick::IfNeeded
        } else {
            Kick::Now
        }
    }

    /// Announces the periods queued but not announced yet.
    fn kick_pending(&self, snd: &DeviceIo, io: &mut Io) -> Result {
        if io.unkicked > 0 {
            io.unkicked = 0;
            snd.queues.lock().kick(self.queue_index())?;
        }
        Ok(())
    }

    /// Queues every period that may go to the device now, and notifies it as `kick` says.
    /// `pad` says what becomes of playback frames short of a whole period.
    fn fill(
        &self,
        snd: &DeviceIo,
        io: &mut Io,
        substream: &Substream<'_>,
        kick: Kick,
        pad: Pad,
    ) -> Result {
        let (Some(geo), Some(buffer)) = (io.geo, io.buffer.clone()) else {
            return Ok(());
        };
        let pf = geo.period_frames();
        let boundary = substream.boundary();
        let (n, mut written) = if self.is_capture() {
            (
                io.periods
                    .capture_ready(&geo, substream.appl_ptr(), boundary),
                0,
            )
        } else {
            let queued = io.periods.queued_pos(&geo, boundary);
            let written =
                ring::appl_ahead(queued, substream.appl_ptr(), boundary, geo.buffer_frames());
            let partial = pad != Pad::No || substream.state() == AlsaState::Draining;
            let n = io.periods.playback_ready(&geo, written, partial);
            let silence = pad == Pad::Flush && n == 0 && io.periods.in_flight() == 0;
            (if silence { 1 } else { n }, written)
        };
        let mut q = snd.queues.lock();
        for _ in 0..n {
            let Some(slot) = io.free.pop() else {
                break;
            };
            let seq = io.periods.next_seq();
            let offset = geo.period_offset(seq);
            if !self.is_capture() && written < pf {
                // The last, partial period of a drain: pad it with silence.
                let fb = geo.frame_bytes() as usize;
                let have = written as usize * fb;
                substream.fill_silence(offset + have, geo.period_bytes() as usize - have)?;
            }
            written = written.saturating_sub(pf);
            let Some(msg) = io.msgs.get(slot).cloned() else {
                break;
            };
            // A status that the device does not write must not be the previous trip's.
            let queued = msg
                .clear_response()
                .and_then(|()| {
                    msg.set_data(
                        &buffer,
                        offset,
                        geo.period_bytes() as usize,
                        self.is_capture(),
                    )
                })
                .and_then(|()| q.add(self.queue_index(), msg));
            if let Err(e) = queued {
                // Keep the slot; the next fill retries.
                let _ = io.free.push(slot, GFP_ATOMIC);
                if e != ENOSPC {
                    return Err(e);
                }
                // The virtqueue is full (the streams sharing it hold every descriptor): the
                // period goes when a completion on the queue makes room. Noted under the
                // queue lock, which every `get_buf` (the only way to make room) takes too, so
                // the harvest that frees room sees it.
                io.wants_room = true;
                snd.wants_room(self.queue_index());
                break;
            }
            io.periods.queue(1);
            io.unkicked += 1;
        }
        // The device may have picked up unannounced periods by itself (it reads the whole
        // available ring when it runs): never count more pending than in flight.
        io.unkicked = io.unkicked.min(io.periods.in_flight());
        let announced = io.periods.in_flight() - io.unkicked;
        let notify = match kick {
            Kick::Start => io.unkicked > 0,
            // A device that polls finds the buffers by itself.
            _ if io.device_polls => false,
            Kick::Now => io.unkicked > 0,
            Kick::IfNeeded => ring::must_kick(&geo, announced, io.unkicked),
        };
        if notify {
            io.unkicked = 0;
            q.kick(self.queue_index())?;
        }
        Ok(())
    }

    /// Queues the periods that `fill` left for want of room in the virtqueue (interrupt
    /// context, no lock held: after a harvest of the queue made room).
    pub(super) fn retry_fill(&self, snd: &DeviceIo) {
        if !self.io.lock().wants_room {
            return;
        }
        let Some(sub) = self.slot.get() else {
            return;
        };
        sub.with_stream_lock(|s| {
            let mut io = self.io.lock();
            // `fill` notes it again if there is still no room.
            io.wants_room = false;
            if !io.running {
                return;
            }
            if let Err(e) = self.fill(snd, &mut io, s, Self::refill_kick(snd), Pad::No) {
                dev_dbg!(
                    snd.dev.as_ref(),
                    "stream {}: refill failed: {:?}\n",
                    self.id,
                    e
                );
            }
        });
    }

    /// Handles a used period message (interrupt context, no lock held).
    pub(super) fn period_done(&self, snd: &DeviceIo, msg: Arc<Msg>, slot: usize, len: u32) {
        msg.complete(len);
        let mut status = [0u8; wire::PCM_STATUS_SIZE];
        let written = msg.answered().unwrap_or(0);
        msg.read_response(&mut status);

        let outcome = {
            let mut io = self.io.lock();
            if !io.msgs.get(slot).is_some_and(|m| Arc::ptr_eq(m, &msg)) {
                // A message of an earlier configuration that a late device gave back.
                return;
            }
            let _ = io.free.push(slot, GFP_ATOMIC);
            if !io.periods.complete() {
                return;
            }
            let Some(geo) = io.geo else {
                return;
            };
            let period = geo.period_bytes() as usize;
            // The status trailer comes last: a capture message carries `len - 8` data bytes.
            let used = len as usize;
            let status_ok = used >= wire::PCM_STATUS_SIZE
                && written >= wire::PCM_STATUS_SIZE
                && PcmStatus::parse(&status).is_ok_and(|s| {
                    io.latency_bytes = s.latency_bytes;
                    s.status == wire::status::OK
                });
            if !status_ok {
                io.io_errors += 1;
            }
            let short = if self.is_capture() && status_ok {
                let data = used - wire::PCM_STATUS_SIZE;
                let seq = io.periods.completed() - 1;
                (data < period).then(|| (geo.period_offset(seq) + data, period - data))
            } else {
                None
            };
            (io.running, status_ok, short)
        };
        let (running, status_ok, short) = outcome;
        if !running {
            return;
        }
        let Some(sub) = self.slot.get() else {
            return;
        };
        if !status_ok {
            dev_warn!(
                snd.dev.as_ref(),
                "stream {}: I/O error from the device\n",
                self.id
            );
            sub.stop_xrun();
            return;
        }
        if let Some((offset, bytes)) = short {
            // The device wrote less than a period: the rest must not be stale audio.
            sub.with_stream_lock(|s| s.fill_silence(offset, bytes)).ok();
        }
        sub.period_elapsed();
        let starved = sub.with_stream_lock(|s| {
            let mut io = self.io.lock();
            if !io.running {
                return false;
            }
            if let Err(e) = self.fill(snd, &mut io, s, Self::refill_kick(snd), Pad::No) {
                dev_dbg!(
                    snd.dev.as_ref(),
                    "stream {}: refill failed: {:?}\n",
                    self.id,
                    e
                );
            }
            // Playback: the application did not write in time (or wrote into a period
            // padded at start). Capture: it did not read in time, and the device has nowhere
            // left to write.
            let padded = core::mem::take(&mut io.padded_underrun);
            let starved =
                (io.periods.in_flight() == 0 || padded) && s.state() == AlsaState::Running;
            if starved {
                io.xruns += 1;
            }
            starved
        });
        if starved {
            // Like DMA hardware that ran past the application pointer.
            sub.stop_xrun();
        }
    }

    /// Handles the answer to an asynchronous START or STOP (interrupt context).
    pub(super) fn trigger_done(&self, snd: &DeviceIo, msg: Arc<Msg>, len: u32) {
        msg.complete(len);
        let mut hdr = [0u8; wire::HDR_SIZE];
        let n = msg.read_response(&mut hdr);
        let status = u32::from_le_bytes(hdr);
        if n == wire::HDR_SIZE && wire::check_status(status).is_ok() {
            return;
        }
        match wire::check_status(status) {
            Err(e) if n == wire::HDR_SIZE => dev_err!(
                snd.dev.as_ref(),
                "stream {}: START/STOP failed: {:?}\n",
                self.id,
                e
            ),
            _ => dev_err!(
                snd.dev.as_ref(),
                "stream {}: START/STOP failed: short answer ({} bytes)\n",
                self.id,
                n
            ),
        }
        self.set_running(snd, &mut self.io.lock(), false);
        if let Some(sub) = self.slot.get() {
            sub.stop_xrun();
        }
    }
}
