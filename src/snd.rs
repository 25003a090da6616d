// SPDX-License-Identifier: GPL-2.0

//! The virtio-snd driver: device setup and teardown, and virtqueue dispatch.
//!
//! One [`VirtioSnd`] exists per bound device. Ownership points one way, down: no object
//! holds a reference to one above it (Documentation/design.rst, "Ownership and teardown"):
//!
//! - [`VirtioSnd`] owns the ALSA card, the jack and control-element maps, and the
//!   [`DeviceIo`];
//! - [`DeviceIo`] owns the virtqueues and the streams, and is the only handle on the device
//!   that the card's callbacks (PCM devices, control elements) and the streams' poll timers
//!   hold: it sends control requests and dispatches completions, and owns nothing of the
//!   card.
//!
//! [`VirtioSnd::teardown`] frees the card, then shuts the virtqueues down, both on remove
//! and when `start` fails; the last reference (the driver data) then frees everything.

/// Logs with `$level` (`dev_warn`, `dev_err`) through the [`DeviceIo`] `$io`, within the
/// device's rate limit for complaints of kind `$kind` ([`Complaint`]): for every message
/// that the device (or an application that keeps asking a lying device) can provoke at
/// will, so that a hostile device cannot flood the kernel log.
macro_rules! complain {
    ($level:ident, $io:expr, $kind:ident, $($arg:tt)+) => {
        if $io.may_complain($crate::snd::Complaint::$kind) {
            $level!($io.dev(), $($arg)+)
        }
    };
}

mod ctl;
mod jack;
mod kctl;
mod pcm;
mod stream;

use crate::{
    alsa::card::Card,
    alsa::pcm::{
        DmaBuffer,
        LockedSubstream, //
    },
    compat,
    ratelimit::Ratelimit,
    spec::{
        hw::Limits,
        wire::{
            self,
            config_offset,
            Config,
            Event, //
        },
    },
    sync::{
        new_spinlock_irq,
        SpinLockIrq, //
    },
    virtio::{
        self,
        message::Message,
        Virtqueues, //
    },
};
use kernel::{
    device, new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            ordering,
            Atomic, //
        },
        Arc,
        Mutex,
        SetOnce, //
    },
};
use stream::Stream;

/// A message on a virtio-snd queue; period messages lend part of a PCM buffer.
pub(crate) type Msg = Message<DmaBuffer>;

/// The virtqueues of a virtio-snd device, whose tokens are messages.
pub(crate) type Queues = Virtqueues<Arc<Msg>, { wire::QUEUE_COUNT }>;

/// Number of event buffers kept on the event queue.
const EVENT_BUFFERS: usize = 16;

/// The names of the virtqueues, by index.
const QUEUE_NAMES: [&CStr; wire::QUEUE_COUNT] = [
    c"virtsnd-ctl",
    c"virtsnd-event",
    c"virtsnd-tx",
    c"virtsnd-rx",
];

/// Largest accepted `msg_timeout_ms`.
const MAX_TIMEOUT_MS: u32 = 60_000;

virtio::virtio_device_table!(
    VIRTIO_TABLE,
    MODULE_VIRTIO_TABLE,
    (),
    [(virtio::DeviceId::new(wire::VIRTIO_ID_SOUND), ())]
);

/// How the completions of a running stream reach the driver (module parameter `poll`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completions {
    /// The device interrupts for every used buffer.
    Interrupts,
    /// Device interrupts are suppressed while the stream runs; a timer harvests the used
    /// ring at the period rate.
    Polling,
}

/// The running streams of the tx or rx queue, by how their completions arrive.
///
/// The device's used-buffer notifications for the queue are suppressed while at least one
/// stream polls and none relies on interrupts.
#[derive(Clone, Copy, Default)]
struct QueueUsers {
    polling: u32,
    interrupts: u32,
}

impl QueueUsers {
    fn suppressed(&self) -> bool {
        self.polling > 0 && self.interrupts == 0
    }
}

/// What a complaint about the device is about ([`complain!`]). Each kind has a rate limit
/// of its own, so that a flood of one kind (events, say) does not hide the others.
#[derive(Clone, Copy)]
pub(crate) enum Complaint {
    /// An event that makes no sense.
    Event,
    /// A tx or rx completion, or a period message, that makes no sense.
    Io,
    /// A control request that failed or got a useless answer.
    Control,
    /// An item of an INFO answer that cannot be used (at probe).
    Info,
}

/// The rate limits of the complaints about a device, one per [`Complaint`].
#[pin_data]
struct Complaints {
    #[pin]
    event: Ratelimit,
    #[pin]
    io: Ratelimit,
    #[pin]
    control: Ratelimit,
    #[pin]
    info: Ratelimit,
}

impl Complaints {
    fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            event <- Ratelimit::new(),
            io <- Ratelimit::new(),
            control <- Ratelimit::new(),
            info <- Ratelimit::new(),
        })
    }

    fn of(&self, kind: Complaint) -> &Ratelimit {
        match kind {
            Complaint::Event => &self.event,
            Complaint::Io => &self.io,
            Complaint::Control => &self.control,
            Complaint::Info => &self.info,
        }
    }
}

/// What `start` registers, and [`VirtioSnd::teardown`] frees.
struct Registered {
    card: Option<Card>,
}

/// The I/O side of a bound device: the virtqueues, control requests, and the dispatch of
/// completions to the streams.
///
/// This is the handle that the children of [`VirtioSnd`] hold (`Arc<DeviceIo>`): the PCM
/// devices, the control elements and the streams' poll timers. It owns the streams, and
/// nothing that holds an `Arc<DeviceIo>` except, while it runs, a stream's poll timer (see
/// [`VirtioSnd::teardown`]).
#[pin_data]
pub(crate) struct DeviceIo {
    dev: ARef<virtio::Device>,
    /// What the device has (its configuration space, read at probe).
    config: Config,
    #[pin]
    queues: Queues,
    timeout_ms: u32,
    /// Playback periods written by the application wait for the next completion to be
    /// announced, unless the device could starve (module parameter `defer_kicks`).
    defer_kicks: bool,
    /// Users of the tx and rx queues (index `QUEUE_TX`, `QUEUE_RX` minus `QUEUE_TX`).
    #[pin]
    io_users: SpinLockIrq<[QueueUsers; 2]>,
    /// Per queue: a context is taking used buffers off it (see [`DeviceIo::harvest`]).
    harvesting: [Atomic<bool>; wire::QUEUE_COUNT],
    /// Per queue: a stream found it full, and waits for a completion to make room.
    room_wanted: [Atomic<bool>; wire::QUEUE_COUNT],
    /// The streams, by stream ID (set once, in `start`).
    streams: SetOnce<KVec<Option<Arc<Stream>>>>,
    /// Per queue: the virtqueue was found broken (the device used a buffer that it was not
    /// given, see [`DeviceIo::harvest`]); set once, until the device is bound again or
    /// restored after a system sleep (new virtqueues).
    broken: [Atomic<bool>; wire::QUEUE_COUNT],
    /// The rate limits of the complaints about the device ([`complain!`]).
    #[pin]
    complaints: Complaints,
}

/// A bound virtio-snd device: the driver data.
///
/// The driver core (driver data) and the virtqueue callbacks (`virtio_device::priv`) hold
/// it; nothing that it owns holds it back.
#[pin_data]
pub(crate) struct VirtioSnd {
    io: Arc<DeviceIo>,
    limits: Limits,
    /// How running streams take their completions (module parameter `poll`).
    completions: Completions,
    /// The jacks (set once, in `start`).
    jacks: SetOnce<jack::JackMap>,
    /// The control elements (set once, in `start`).
    kctls: SetOnce<kctl::KctlMap>,
    #[pin]
    registered: Mutex<Registered>,
}

/// Reads and checks the module parameters.
fn parameters(dev: &device::Device) -> Result<(u32, Limits)> {
    use crate::module_parameters as p;
    let timeout_ms = compat::param(&p::msg_timeout_ms);
    if timeout_ms == 0 || timeout_ms > MAX_TIMEOUT_MS {
        dev_err!(
            dev,
            "msg_timeout_ms must be between 1 and {}\n",
            MAX_TIMEOUT_MS
        );
        return Err(EINVAL);
    }
    let limits = Limits::new(
        compat::param(&p::pcm_buffer_ms),
        compat::param(&p::pcm_periods_min),
        compat::param(&p::pcm_periods_max),
        compat::param(&p::pcm_period_us_min),
        compat::param(&p::pcm_period_ms_max),
    )
    .inspect_err(|e| dev_err!(dev, "invalid module parameter: {}\n", e.explain()))
    .map_err(|_| EINVAL)?;
    Ok((timeout_ms, limits))
}

fn read_config(dev: &virtio::Device<device::Core<'_>>) -> Result<Config> {
    let config = Config {
        jacks: dev.config_le32(config_offset::JACKS)?,
        streams: dev.config_le32(config_offset::STREAMS)?,
        chmaps: dev.config_le32(config_offset::CHMAPS)?,
        // Valid only with `VIRTIO_SND_F_CTLS`.
        controls: if dev.has_feature(wire::F_CTLS) {
            dev.config_le32(config_offset::CONTROLS)?
        } else {
            0
        },
    };
    if config.validate().is_err() {
        dev_err!(
            dev.as_ref(),
            "absurd configuration: {} jacks, {} streams, {} chmaps, {} controls (limit {})\n",
            config.jacks,
            config.streams,
            config.chmaps,
            config.controls,
            wire::MAX_ITEMS
        );
        return Err(EINVAL);
    }
    Ok(config)
}

impl VirtioSnd {
    /// Reads the parameters and the configuration, and finds the queues: the initialiser of
    /// the driver data (see [`virtio::Driver::probe`]).
    fn new(dev: &virtio::Device<device::Core<'_>>) -> Result<impl PinInit<Self, Error>> {
        let (timeout_ms, limits) = parameters(dev.as_ref())?;
        let defer_kicks = match compat::param(&crate::module_parameters::defer_kicks) {
            0 => false,
            1 => true,
            _ => {
                dev_err!(dev.as_ref(), "defer_kicks must be 0 or 1\n");
                return Err(EINVAL);
            }
        };
        let completions = match compat::param(&crate::module_parameters::poll) {
            0 => Completions::Interrupts,
            1 => Completions::Polling,
            _ => {
                dev_err!(dev.as_ref(), "poll must be 0 or 1\n");
                return Err(EINVAL);
            }
        };
        let config = read_config(dev)?;
        let queues = dev.find_vqs::<Self, _, { wire::QUEUE_COUNT }>(QUEUE_NAMES);
        let aref: ARef<virtio::Device> = dev.into();
        let io = Arc::pin_init(
            try_pin_init!(DeviceIo {
                dev: aref,
                config,
                queues <- queues,
                timeout_ms,
                defer_kicks,
                io_users <- new_spinlock_irq!(
                    [QueueUsers::default(); 2],
                    c"virtio_snd_rs:io_users"
                ),
                harvesting: [const { Atomic::new(false) }; wire::QUEUE_COUNT],
                room_wanted: [const { Atomic::new(false) }; wire::QUEUE_COUNT],
                streams: SetOnce::new(),
                broken: [const { Atomic::new(false) }; wire::QUEUE_COUNT],
                complaints <- Complaints::new(),
            }? Error),
            GFP_KERNEL,
        )?;
        Ok(try_pin_init!(Self {
            io,
            limits,
            completions,
            jacks: SetOnce::new(),
            kctls: SetOnce::new(),
            registered <- new_mutex!(Registered { card: None }),
        }? Error))
    }
}

impl virtio::Driver for VirtioSnd {
    const ID_TABLE: virtio::IdTable<()> = &VIRTIO_TABLE;
    const FEATURES: &'static [u32] = &[wire::F_CTLS];

    fn probe<'a>(dev: &'a virtio::Device<device::Core<'_>>) -> impl PinInit<Self, Error> + 'a {
        pin_init::pin_init_scope(move || Self::new(dev))
    }

    fn start(dev: &virtio::Device<device::Core<'_>>, this: &Arc<Self>) -> Result {
        // On error, a card that `register` created was freed on its way out; the queues
        // still hold the event buffers, and must be deleted before the driver data goes.
        this.register(dev).inspect_err(|_| this.teardown())
    }

    fn vq_done(&self, index: usize) {
        match index {
            wire::QUEUE_CONTROL => self.io.control_done(),
            wire::QUEUE_EVENT => self.events_done(),
            wire::QUEUE_TX | wire::QUEUE_RX => self.io.io_done(index),
            _ => {}
        }
    }

    fn remove(_dev: &virtio::Device<device::Core<'_>>, this: &Arc<Self>) {
        this.teardown();
    }

    fn freeze(_dev: &virtio::Device<device::Core<'_>>, this: &Arc<Self>) -> Result {
        // The PCM devices were suspended before (children first): running substreams were
        // stopped with ALSA's SUSPEND trigger. The streams give their I/O back, then the
        // reset: messages still in flight come back cancelled.
        for s in this.io.streams() {
            s.suspend(&this.io);
        }
        // The reset may take the device's control values back to their defaults.
        if let Some(kctls) = this.kctls.as_ref() {
            kctls.save();
        }
        this.io.queues.shutdown(|_, msg| msg.cancel());
        for s in this.io.streams() {
            s.device_lost(&this.io);
        }
        Ok(())
    }

    fn restore(_dev: &virtio::Device<device::Core<'_>>, this: &Arc<Self>) -> Result {
        this.io.queues.restart()?;
        // The reset device has new virtqueues: none of them is broken.
        for b in this.io.broken.iter() {
            b.store(false, ordering::Relaxed);
        }
        Ok(())
    }

    fn resume(dev: &virtio::Device<device::Core<'_>>, this: &Arc<Self>) -> Result {
        this.io.fill_event_queue()?;
        for s in this.io.streams() {
            if let Err(e) = s.resume(&this.io) {
                dev_warn!(
                    dev.as_ref(),
                    "stream {}: not set up again after resume ({:?}); the next prepare retries\n",
                    s.id,
                    e
                );
            }
        }
        if let Some(kctls) = this.kctls.as_ref() {
            if let Err(e) = kctls.restore() {
                dev_warn!(
                    dev.as_ref(),
                    "control values not all written back after resume: {:?}\n",
                    e
                );
            }
        }
        if let Some(jacks) = this.jacks.as_ref() {
            if let Err(e) = jacks.refresh(&this.io) {
                dev_warn!(
                    dev.as_ref(),
                    "jack states not read again after resume: {:?}\n",
                    e
                );
            }
        }
        Ok(())
    }
}

impl VirtioSnd {
    /// Asks the device what it has, and registers the card (`start`).
    ///
    /// On error, what was created so far is dropped on the way out, the card (not
    /// registered) included; the caller tears the rest down.
    fn register(&self, dev: &virtio::Device<device::Core<'_>>) -> Result {
        self.io.fill_event_queue()?;
        let c = self.io.config();
        if c.streams == 0 && c.jacks == 0 && c.controls == 0 {
            dev_err!(
                dev.as_ref(),
                "device has no streams, jacks or controls: nothing to drive\n"
            );
            return Err(ENODEV);
        }
        if c.streams == 0 {
            dev_warn!(
                dev.as_ref(),
                "device has no PCM streams; registering no PCM device\n"
            );
        }
        let streams = pcm::query_streams(&self.io, self.completions)?;
        let mut by_id = KVec::new();
        for _ in 0..c.streams {
            by_id.push(None, GFP_KERNEL)?;
        }
        for s in streams.iter() {
            if let Some(slot) = by_id.get_mut(s.id as usize) {
                *slot = Some(s.clone());
            }
        }
        self.io.streams.populate(by_id);
        let chmaps = pcm::query_chmaps(&self.io)?;
        let mut card = Card::new(
            dev.as_ref(),
            compat::this_module(),
            c"virtio_snd_rs",
            b"VirtIO SoundCard",
            b"VirtIO SoundCard (Rust driver)",
        )?;
        let pcms = pcm::register(&self.io, self.limits, &mut card, &streams, &chmaps)?;
        self.jacks.populate(jack::register(&self.io, &card)?);
        self.kctls.populate(kctl::register(&self.io, &card)?);
        card.register()?;
        dev_info!(
            dev.as_ref(),
            "card {}: {} PCM device(s), {} stream(s), {} jack(s), {} chmap(s), {} control(s)\n",
            card.number(),
            pcms,
            streams.len(),
            c.jacks,
            c.chmaps,
            c.controls
        );
        self.registered.lock().card = Some(card);
        Ok(())
    }

    /// Tears the device down (`remove`, or a failed `start`; process context), in this
    /// order:
    ///
    /// 1. The card is freed: `snd_card_free` waits until every file of the card is closed,
    ///    so no ALSA callback runs any more, every substream was closed (which stopped its
    ///    poll timer), and the card's references to the children (PCM devices, control
    ///    elements) are dropped.
    /// 2. The streams' poll timers are stopped, should one still run: a running timer is
    ///    the only reference from below back to the [`DeviceIo`] (its stream's poller).
    ///    After 1 this finds none; it makes the tree independent of ALSA's close.
    /// 3. The virtqueues are shut down: the device is reset (which waits for running
    ///    virtqueue callbacks), every message still queued is handed back cancelled
    ///    (waiters get `ENODEV`), and the queues are deleted (`del_vqs`).
    ///
    /// Then nothing holds an `Arc<DeviceIo>` but `self` and the maps it owns. The adapter
    /// resets the device and drops the callback target, the driver core the driver data:
    /// the last reference, which frees the maps, the streams, the [`DeviceIo`] and its
    /// reference of the `virtio_device`. Calling it again does nothing.
    fn teardown(&self) {
        let card = self.registered.lock().card.take();
        if let Some(card) = &card {
            card.disconnect();
        }
        drop(card);
        for s in self.io.streams() {
            s.stop_poller();
        }
        self.io.queues.shutdown(|_, msg| msg.cancel());
    }

    /// Handles used event buffers and puts them back (interrupt context).
    fn events_done(&self) {
        self.io.harvest(wire::QUEUE_EVENT, |msg, len| {
            msg.complete(len);
            let mut raw = [0u8; wire::EVENT_SIZE];
            let n = msg.read_response(&mut raw);
            match Event::parse(&raw[..n]) {
                Ok(event) => self.handle_event(event),
                Err(e) => dev_dbg!(self.io.dev.as_ref(), "ignoring malformed event: {:?}\n", e),
            }
            let Ok(mut q) = self.io.queues.lock(wire::QUEUE_EVENT) else {
                return;
            };
            if let Err(e) = q.add(msg) {
                complain!(dev_warn, self.io, Event, "lost an event buffer: {:?}\n", e);
            }
            let _ = q.kick();
        });
    }

    fn handle_event(&self, event: Event) {
        let io = &*self.io;
        dev_dbg!(io.dev.as_ref(), "event {:?}\n", event);
        match event {
            Event::PcmXrun(id) => match io.stream(id) {
                Some(s) => s.xrun_event(io),
                None => self.bad_event_id("xrun", id),
            },
            // Meant for shared-memory streams; for message streams it says that the
            // device used a buffer: take it now (a polling stream would wait for its timer).
            Event::PcmPeriodElapsed(id) => match io.stream(id) {
                Some(s) => io.io_done(s.queue_index()),
                None => self.bad_event_id("period", id),
            },
            Event::JackConnected(id) | Event::JackDisconnected(id) => {
                if let Some(jacks) = self.jacks.as_ref() {
                    jacks.report(&self.io, id, matches!(event, Event::JackConnected(_)));
                }
            }
            Event::CtlNotify(data) => {
                if let Some(kctls) = self.kctls.as_ref() {
                    kctls.notify(&self.io, data);
                }
            }
        }
    }

    fn bad_event_id(&self, what: &str, id: u32) {
        complain!(
            dev_warn,
            self.io,
            Event,
            "{} event for stream {}, which does not exist\n",
            what,
            id
        );
    }
}

impl DeviceIo {
    /// The device, for log messages.
    fn dev(&self) -> &kernel::device::Device {
        self.dev.as_ref()
    }

    /// What the device has (its configuration space).
    fn config(&self) -> &Config {
        &self.config
    }

    /// The virtqueues.
    fn queues(&self) -> &Queues {
        &self.queues
    }

    /// How long a control request waits for its answer (module parameter
    /// `msg_timeout_ms`).
    fn timeout_ms(&self) -> u32 {
        self.timeout_ms
    }

    /// Whether refills announce new periods in batches (module parameter `defer_kicks`).
    fn defer_kicks(&self) -> bool {
        self.defer_kicks
    }

    /// Whether a complaint of kind `kind` about the device may be logged now
    /// ([`complain!`]).
    fn may_complain(&self, kind: Complaint) -> bool {
        self.complaints.of(kind).allow(c"virtio_snd_rs")
    }

    /// Whether virtqueue `index` was found broken: nothing queued on it comes back, and
    /// nothing can be queued on it any more, until the device is bound again.
    fn queue_broken(&self, index: usize) -> bool {
        self.broken
            .get(index)
            .is_some_and(|b| b.load(ordering::Relaxed))
    }
}

impl DeviceIo {
    /// Puts [`EVENT_BUFFERS`] buffers on the event queue.
    fn fill_event_queue(&self) -> Result {
        let mut bufs = KVec::with_capacity(EVENT_BUFFERS, GFP_KERNEL)?;
        for _ in 0..EVENT_BUFFERS {
            bufs.push(
                Msg::new(&[], wire::EVENT_SIZE, ctl::CONTROL_TAG)?,
                GFP_KERNEL,
            )?;
        }
        let mut q = self.queues.lock(wire::QUEUE_EVENT)?;
        for msg in bufs {
            q.add(msg)?;
        }
        q.kick()?;
        Ok(())
    }

    /// The streams that the device described.
    fn streams(&self) -> impl Iterator<Item = &Arc<Stream>> {
        self.streams.as_ref().into_iter().flatten().flatten()
    }

    fn stream(&self, id: u32) -> Option<&Arc<Stream>> {
        self.streams.as_ref()?.get(id as usize)?.as_ref()
    }

    /// Takes the used buffers of queue `index` one at a time, and hands each to `f` with
    /// the queue unlocked (interrupt context: the virtqueue callback or a poll timer).
    ///
    /// One context at a time harvests a queue, so that completions are handled in the
    /// order the device used them; a context that finds the queue busy leaves it to the
    /// other. Unless the queue's notifications are suppressed ([`QueueUsers`]), they are
    /// enabled again on the way out, with no used buffer left behind.
    fn harvest(&self, index: usize, mut f: impl FnMut(Arc<Msg>, u32)) {
        let Some(busy) = self.harvesting.get(index) else {
            return;
        };
        loop {
            if busy.xchg(true, ordering::Acquire) {
                return;
            }
            let _ = self.queues.lock(index).and_then(|mut q| q.disable_cb());
            let mut broken = false;
            loop {
                // A statement of its own: the queue lock must not be held while `f` runs.
                // The `get_buf` that finds a lie of the device breaks the queue, and a
                // broken queue interrupts no more: this is where it is seen.
                let used = self.queues.lock(index).ok().and_then(|mut q| {
                    let used = q.get_buf();
                    broken = used.is_none() && q.is_broken();
                    used
                });
                let Some((msg, len)) = used else {
                    break;
                };
                f(msg, len);
            }
            if broken {
                self.queue_broke(index);
            }
            busy.store(false, ordering::Release);
            if self.suppressed(index) {
                return;
            }
            // A buffer used after the last `get_buf`, whose notification found the queue
            // busy, makes `enable_cb` fail: take it too.
            if self
                .queues
                .lock(index)
                .and_then(|mut q| q.enable_cb())
                .unwrap_or(true)
            {
                return;
            }
        }
    }

    /// Notes that queue `index` is broken, and says so once: the device used a buffer that
    /// it was not given or used one twice (the ring's code logged which), and the queue is
    /// lost until the device is bound again.
    fn queue_broke(&self, index: usize) {
        if let Some(flag) = self.broken.get(index) {
            if !flag.xchg(true, ordering::Relaxed) {
                dev_err!(
                    self.dev(),
                    "{}: virtqueue broken by the device; its requests and streams fail with EIO until the device is bound again\n",
                    QUEUE_NAMES.get(index).copied().unwrap_or(c"virtsnd")
                );
            }
        }
    }

    /// Stops the running streams of queue `index` with an xrun if the queue is broken
    /// (no stream lock held): nothing they queued comes back, and their applications wait
    /// for it otherwise. The recovery (`prepare`) fails with `EIO`.
    fn stop_if_broken(&self, index: usize) {
        if !self.queue_broken(index) {
            return;
        }
        for s in self.streams().filter(|s| s.queue_index() == index) {
            s.queue_lost();
        }
    }

    /// Whether the device's notifications for queue `index` are suppressed.
    fn suppressed(&self, index: usize) -> bool {
        let users = self.io_users.lock();
        index
            .checked_sub(wire::QUEUE_TX)
            .and_then(|i| users.get(i))
            .is_some_and(QueueUsers::suppressed)
    }

    /// A stream on queue `index` starts (`running`) or stops running with `mode`:
    /// suppresses or enables the queue's notifications accordingly.
    fn set_queue_user(&self, index: usize, mode: Completions, running: bool) {
        let mut users = self.io_users.lock();
        let Some(u) = index
            .checked_sub(wire::QUEUE_TX)
            .and_then(|i| users.get_mut(i))
        else {
            return;
        };
        let count = match mode {
            Completions::Polling => &mut u.polling,
            Completions::Interrupts => &mut u.interrupts,
        };
        *count = if running {
            count.saturating_add(1)
        } else {
            count.saturating_sub(1)
        };
        let suppress = u.suppressed();
        let Ok(mut q) = self.queues.lock(index) else {
            return;
        };
        // Buffers used meanwhile are taken by the next harvest: the stream's poll timer,
        // or `drain_io` once nothing runs.
        let _ = if suppress {
            q.disable_cb()
        } else {
            q.enable_cb().map(|_| ())
        };
    }

    /// Completes used control messages (interrupt context).
    fn control_done(&self) {
        self.harvest(wire::QUEUE_CONTROL, |msg, len| {
            if msg.tag() == ctl::CONTROL_TAG {
                msg.complete(len);
                return;
            }
            let (id, _) = stream::split_tag(msg.tag());
            match self.stream(id) {
                Some(s) => s.trigger_done(self, msg, len),
                None => msg.complete(len),
            }
        });
    }

    /// Handles used period messages of the tx or rx queue (interrupt context: the
    /// virtqueue callback or a stream's poll timer; or a stream waiting for its buffers).
    fn io_done(&self, index: usize) {
        self.harvest(index, |msg, len| {
            let (id, slot) = stream::split_tag(msg.tag());
            match (self.stream(id), slot) {
                (Some(s), Some(slot)) => s.period_done(self, msg, slot, len),
                _ => {
                    complain!(dev_warn, self, Io, "unexpected buffer on queue {}\n", index);
                    msg.complete(len);
                }
            }
        });
        // The harvest made room: the streams that found the queue full queue their periods.
        for s in self.room_made(index) {
            s.retry_fill(self);
        }
        self.stop_if_broken(index);
    }

    /// The streams of queue `index` to retry their refill, if one found the queue full
    /// since the last call (a harvest just made room).
    fn room_made(&self, index: usize) -> impl Iterator<Item = &Arc<Stream>> {
        let wanted = self
            .room_wanted
            .get(index)
            .is_some_and(|w| w.xchg(false, ordering::Relaxed));
        self.streams()
            .filter(move |s| wanted && s.queue_index() == index)
    }

    /// Harvests the queue of `own` from its `pointer` (atomic context, `own`'s stream lock
    /// held): `own`'s completions take effect here; another stream's are taken back, and its
    /// poll timer does the rest (the stream lock of one substream is never taken under
    /// another's). Returns `false` if `own` ran into an xrun.
    ///
    /// A queue whose notifications are on (an interrupt-driven stream shares it) is left to
    /// the interrupt, which brings `own` its completions too.
    fn io_done_locked(&self, own: &Stream, substream: &LockedSubstream<'_>) -> bool {
        let index = own.queue_index();
        if !self.suppressed(index) {
            return own.service_locked(self, substream);
        }
        self.harvest(index, |msg, len| {
            let (id, slot) = stream::split_tag(msg.tag());
            match (self.stream(id), slot) {
                (Some(s), Some(slot)) if s.id == own.id => {
                    s.account(msg, slot, len);
                }
                (Some(s), Some(slot)) => {
                    if s.account(msg, slot, len) {
                        s.poke();
                    }
                }
                _ => {
                    complain!(dev_warn, self, Io, "unexpected buffer on queue {}\n", index);
                    msg.complete(len);
                }
            }
        });
        // `own` refills in `service_locked`; the others, in their timer.
        for s in self.room_made(index).filter(|s| s.id != own.id) {
            s.poke();
        }
        if self.queue_broken(index) {
            // The others' timers stop them (`io_done`); `own` stops here, with an xrun.
            for s in self
                .streams()
                .filter(|s| s.queue_index() == index && s.id != own.id)
            {
                s.poke();
            }
            return false;
        }
        own.service_locked(self, substream)
    }

    /// A stream found queue `index` full (called under the queue lock): the next harvest of
    /// the queue lets it retry.
    fn wants_room(&self, index: usize) {
        if let Some(w) = self.room_wanted.get(index) {
            w.store(true, ordering::Relaxed);
        }
    }
}
