// SPDX-License-Identifier: GPL-2.0
//! The vhost-user backend: virtqueue handling, one clock thread per PCM stream.
//!
//! Threads:
//! - the vhost-user request thread of `vhost-user-backend` (config, memory, vring setup);
//! - its epoll thread, which calls `handle_event` on a kick: control requests are answered
//!   there, I/O messages are parsed and queued on their stream;
//! - one worker per stream, which completes the stream's queued I/O messages at the stream's
//!   real rate while it is running (see `worker`).
//!
//! Lock order: a stream's mutex, then a vring's lock. Control requests and I/O messages are
//! handled on the same epoll thread, so they never race each other.

use std::collections::VecDeque;
use std::io;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use vhost::vhost_user::message::{VhostUserProtocolFeatures, VhostUserVirtioFeatures};
use vhost_user_backend::{VhostUserBackend, VringRwLock, VringT};
use virtio_bindings::virtio_config::VIRTIO_F_VERSION_1;
use virtio_bindings::virtio_ring::{VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC};
use virtio_queue::{DescriptorChain, QueueT};
use vm_memory::{
    Address, Bytes, GuestAddress, GuestAddressSpace, GuestMemory, GuestMemoryAtomic,
    GuestMemoryMmap,
};
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::event::{
    new_event_consumer_and_notifier, EventConsumer, EventFlag, EventNotifier,
};

use crate::audio;
use crate::card::{
    answer_query, next_state, remap_jack, reset_jack_maps, Config, PcmState, StreamCtl,
};
use crate::control::{Control, FaultKind, Target};
use crate::ctls::Controls;
use crate::fuzz::{Delivery, WildId};
use crate::pattern::Integrity;
use crate::proto::*;

pub type GM = GuestMemoryAtomic<GuestMemoryMmap>;
pub type Vring = VringRwLock<GM>;

/// Largest control request read from the guest: a CTL_TLV_WRITE of the largest TLV.
const MAX_CTL_REQUEST: usize = CTL_HDR_SIZE + CTL_TLV_HDR_SIZE + CTL_TLV_MAX;

/// Options that are not part of the config space.
#[derive(Clone, Debug)]
pub struct Options {
    /// Capture sine frequency in Hz; 0 gives silence.
    pub capture_freq: f64,
    /// Capture sine amplitude, 0..1 of full scale.
    pub capture_amp: f64,
    /// Offer VIRTIO_RING_F_EVENT_IDX.
    pub event_idx: bool,
    /// Polling period for streams with VIRTIO_SND_PCM_F_MSG_POLLING.
    pub poll_us: u64,
}

/// A popped descriptor chain, reduced to its guest buffers.
#[derive(Debug)]
pub struct Chain {
    pub head: u16,
    readable: Vec<(GuestAddress, usize)>,
    writable: Vec<(GuestAddress, usize)>,
}

impl Chain {
    fn new<M>(dc: DescriptorChain<M>) -> Chain
    where
        M: Deref,
        M::Target: GuestMemory,
    {
        let head = dc.head_index();
        let (mut readable, mut writable) = (Vec::new(), Vec::new());
        for d in dc {
            let seg = (d.addr(), d.len() as usize);
            if d.is_write_only() {
                writable.push(seg);
            } else {
                readable.push(seg);
            }
        }
        Chain {
            head,
            readable,
            writable,
        }
    }

    pub fn readable_len(&self) -> usize {
        self.readable.iter().map(|s| s.1).sum()
    }

    pub fn writable_len(&self) -> usize {
        self.writable.iter().map(|s| s.1).sum()
    }

    /// Reads from the device-readable buffers at `off`; returns the bytes read.
    pub fn read(&self, mem: &GuestMemoryMmap, off: usize, buf: &mut [u8]) -> usize {
        let mut done = 0;
        for_segments(&self.readable, off, buf.len(), |addr, pos, n| {
            if mem.read_slice(&mut buf[pos..pos + n], addr).is_err() {
                return false;
            }
            done = pos + n;
            true
        });
        done
    }

    /// Writes to the device-writable buffers at `off`; returns the bytes written.
    pub fn write(&self, mem: &GuestMemoryMmap, off: usize, data: &[u8]) -> usize {
        write_segments(&self.writable, mem, off, data)
    }

    /// Writes into the device-readable buffers at `off` (fuzz mode: what the driver wrote
    /// is not the device's to change; a hostile device does it anyway); returns the bytes
    /// written.
    pub fn scribble(&self, mem: &GuestMemoryMmap, off: usize, data: &[u8]) -> usize {
        write_segments(&self.readable, mem, off, data)
    }
}

/// Writes `data` at `off` of a scatter list; returns the bytes written.
fn write_segments(
    segs: &[(GuestAddress, usize)],
    mem: &GuestMemoryMmap,
    off: usize,
    data: &[u8],
) -> usize {
    let mut done = 0;
    for_segments(segs, off, data.len(), |addr, pos, n| {
        if mem.write_slice(&data[pos..pos + n], addr).is_err() {
            return false;
        }
        done = pos + n;
        true
    });
    done
}

/// Calls `f(guest address, position in the caller's buffer, length)` for each piece of the
/// byte range [off, off + len) of a scatter list, in order, until `f` returns false.
fn for_segments(
    segs: &[(GuestAddress, usize)],
    mut off: usize,
    len: usize,
    mut f: impl FnMut(GuestAddress, usize, usize) -> bool,
) {
    let mut pos = 0;
    for &(addr, slen) in segs {
        if pos >= len {
            break;
        }
        if off >= slen {
            off -= slen;
            continue;
        }
        let n = (slen - off).min(len - pos);
        if !f(addr.unchecked_add(off as u64), pos, n) {
            return;
        }
        pos += n;
        off = 0;
    }
}

/// An I/O message waiting on its stream.
#[derive(Debug)]
struct IoMsg {
    chain: Chain,
    /// Data bytes: after the header (tx), before the status (rx).
    payload: usize,
    /// When it was taken from the virtqueue.
    arrived: Instant,
}

/// The stream's clock: the device has consumed (produced) `bytes` since `epoch`.
#[derive(Clone, Copy, Debug)]
struct Clock {
    epoch: Instant,
    bytes: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// I/O messages completed with OK after consuming (producing) their data.
    pub msgs: u64,
    /// Data bytes consumed (tx) or produced (rx); no header or status bytes.
    pub bytes: u64,
    /// Whole frames in those bytes (frame = channels x sample bytes of the parameters then).
    pub frames: u64,
    /// Completed messages whose data was not a whole number of frames.
    pub unaligned: u64,
    /// Messages returned unprocessed by RELEASE (or a vring stop).
    pub flushed: u64,
    /// Messages completed with BAD_MSG.
    pub bad: u64,
}

struct StreamInner {
    ctl: StreamCtl,
    pending: VecDeque<IoMsg>,
    clock: Option<Clock>,
    phase: f64,
    stats: Stats,
    /// `stats` at the last PREPARE: RELEASE logs what this run did.
    run_start: Stats,
    /// Armed by the test control (`integrity SID arm SEED`): playback data is checked
    /// against the pattern, capture data is the pattern.
    integrity: Option<Integrity>,
    quit: bool,
}

struct Stream {
    id: u32,
    inner: Mutex<StreamInner>,
    cv: Condvar,
}

/// State shared by the backend and its stream workers.
pub struct Shared {
    pub cfg: Config,
    opts: Options,
    streams: Vec<Stream>,
    /// Each jack's state: connected (test control), association and sequence (JACK_REMAP).
    jacks: Mutex<Vec<JackInfo>>,
    vrings: OnceLock<Vec<Vring>>,
    mem: RwLock<Option<GM>>,
    event_idx: AtomicBool,
    /// Virtio features the driver acked (SET_FEATURES).
    acked: AtomicU64,
    /// Warned that QEMU's config space is too short for `controls`.
    config_warned: AtomicBool,
    control: Arc<Control>,
    /// Serialises the routing of tx (rx) messages between the epoll thread and the poller.
    io_lock: [Mutex<()>; 2],
    quit: AtomicBool,
    /// Counts queue stops and resets: a completion that fuzz mode holds back is not put on
    /// a ring that was stopped meanwhile (it would write into memory the guest took back).
    generation: AtomicU64,
}

impl Shared {
    fn memory(&self) -> Option<vm_memory::GuestMemoryLoadGuard<GuestMemoryMmap>> {
        self.mem.read().unwrap().as_ref().map(|m| m.memory())
    }

    fn vring(&self, q: usize) -> Option<&Vring> {
        self.vrings.get().and_then(|v| v.get(q))
    }

    /// Puts a chain on the used ring and notifies the driver if it wants it.
    fn push_used(&self, q: usize, head: u16, len: u32) {
        let Some(vring) = self.vring(q) else { return };
        if let Err(e) = vring.add_used(head, len) {
            warn!("queue {q}: add_used({head}, {len}) failed: {e:?}");
            return;
        }
        if vring.needs_notification().unwrap_or(true) {
            if let Err(e) = vring.signal_used_queue() {
                warn!("queue {q}: signal failed: {e}");
            }
        }
    }

    /// Fuzz mode: puts an entry whose id names no descriptor (`w`: at or past the queue
    /// size) on the used ring, after the entries already there, with used length `len`,
    /// and notifies the driver. virtio-queue's `add_used` refuses such an id, so this
    /// writes the entry and the used index as `add_used` does (element, then the index
    /// with release ordering), under the vring's lock. Not on a queue that is not ready
    /// (stopped: the guest took the ring back). Always notifies: the entry is not counted
    /// for EVENT_IDX's suppression, and a spurious interrupt does no harm.
    fn push_wild(&self, q: usize, w: WildId, head: u16, len: u32) {
        let (Some(vring), Some(mem)) = (self.vring(q), self.memory()) else {
            return;
        };
        let mut state = vring.get_mut();
        let queue = state.get_queue_mut();
        if !queue.ready() || queue.size() == 0 {
            return;
        }
        let size = queue.size();
        let id = w.id(size, head);
        let next = queue.next_used();
        let ring = GuestAddress(queue.used_ring());
        let mut elem = [0u8; 8];
        elem[..4].copy_from_slice(&id.to_le_bytes());
        elem[4..].copy_from_slice(&len.to_le_bytes());
        let at = ring.checked_add(4 + 8 * u64::from(next % size));
        let written = at.is_some_and(|a| mem.write_slice(&elem, a).is_ok())
            && ring.checked_add(2).is_some_and(|a| {
                mem.store(u16::to_le(next.wrapping_add(1)), a, Ordering::Release)
                    .is_ok()
            });
        if !written {
            warn!("queue {q}: used-ring entry with id {id} not written");
            return;
        }
        queue.set_next_used(next.wrapping_add(1));
        info!("queue {q}: used-ring entry with id {id} (queue size {size}, length {len})");
        if let Err(e) = state.signal_used_queue() {
            warn!("queue {q}: signal failed: {e}");
        }
    }

    /// Pops every available chain of queue `q`.
    fn pop_all(&self, q: usize) -> Vec<Chain> {
        let (Some(vring), Some(mem)) = (self.vring(q), self.memory()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut state = vring.get_mut();
        let queue = state.get_queue_mut();
        while let Some(dc) = queue.pop_descriptor_chain(mem.clone()) {
            out.push(Chain::new(dc));
        }
        out
    }

    /// Writes a response into a chain's device-writable buffers and puts the chain on the
    /// used ring, as a fault (if any) says: drop it, shorten it, lie about its used length,
    /// or push it late. Status and latency faults are applied by the caller.
    fn respond(self: &Arc<Self>, q: usize, chain: &Chain, resp: &[u8], fault: Option<FaultKind>) {
        let Some(mem) = self.memory() else { return };
        let n = match fault {
            Some(FaultKind::Short(n)) => resp.len().min(n as usize),
            _ => resp.len(),
        };
        let written = chain.write(&mem, 0, &resp[..n]) as u32;
        let used = match fault {
            Some(FaultKind::UsedLen(u)) => u,
            _ => written,
        };
        match fault {
            Some(FaultKind::Drop) => {
                info!("queue {q}: head {} dropped (never completed)", chain.head)
            }
            Some(FaultKind::Delay(ms)) => {
                let (me, head) = (self.clone(), chain.head);
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(ms));
                    me.push_used(q, head, used);
                });
            }
            Some(FaultKind::Wild) => {
                info!(
                    "queue {q}: head {} answered with an id out of range",
                    chain.head
                );
                self.push_wild(q, WildId::PastSize(0), chain.head, used);
            }
            Some(FaultKind::Twice) => {
                info!("queue {q}: head {} completed twice", chain.head);
                self.push_used(q, chain.head, used);
                self.push_used(q, chain.head, used);
            }
            _ => self.push_used(q, chain.head, used),
        }
    }

    /// Fuzz mode: writes a mutated response and puts the chain on the used ring as the
    /// fuzzer says: after scribbling on its device-readable buffers, cut short, with a
    /// lying used length, late, never, twice, with a head that was not made available or
    /// with an id past the queue size. A late or second completion is dropped if the
    /// queue was stopped or the device reset meanwhile; the scribbles and the extra
    /// entries (bad head, wild id) are made at once, on the ring the chain came from.
    fn deliver(self: &Arc<Self>, q: usize, chain: &Chain, resp: &[u8], d: Delivery) {
        let Some(mem) = self.memory() else { return };
        for (off, bytes) in &d.scribble {
            chain.scribble(&mem, *off, bytes);
        }
        let n = d.write.unwrap_or(resp.len()).min(resp.len());
        let written = chain.write(&mem, 0, &resp[..n]) as u32;
        let used = d.used.unwrap_or(written);
        let head = chain.head;
        let gen = self.generation.load(Ordering::SeqCst);
        let later = |me: Arc<Self>, ms: u64, h: u16| {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(ms));
                if me.generation.load(Ordering::SeqCst) == gen {
                    me.push_used(q, h, used);
                }
            });
        };
        if !d.drop {
            match d.delay_ms {
                Some(ms) => later(self.clone(), ms, head),
                None => self.push_used(q, head, used),
            }
        }
        if let Some(ms) = d.twice_ms {
            let first = if d.drop { 0 } else { d.delay_ms.unwrap_or(0) };
            later(self.clone(), first + ms, head);
        }
        if let Some(h) = d.bad_head {
            self.push_used(q, h, used);
        }
        if let Some(w) = d.wild_id {
            self.push_wild(q, w, head, used);
        }
    }

    /// Completes an I/O message: for rx, `data` goes before the status. The used length
    /// counts the data and the status, never the header. Faults on `stream` apply.
    fn complete_io(
        self: &Arc<Self>,
        q: usize,
        stream: Option<u32>,
        chain: &Chain,
        status: u32,
        data: &[u8],
    ) {
        let fault = stream.and_then(|sid| self.control.take(Target::Io, None, Some(sid), None));
        let (status, latency) = match fault {
            Some(FaultKind::Status(s)) => (s, 0),
            Some(FaultKind::Latency(l)) => (status, l),
            _ => (status, 0),
        };
        let mut resp = Vec::with_capacity(data.len() + STATUS_SIZE);
        if chain.writable_len() >= data.len() + STATUS_SIZE {
            resp.extend_from_slice(data);
        }
        resp.extend_from_slice(&encode_pcm_status(status, latency));
        if chain.writable_len() < STATUS_SIZE {
            resp.clear();
        }
        if fault.is_none() {
            let cap = chain.writable_len();
            let readable = chain.readable_len();
            if let Some(d) = self
                .control
                .fuzz_io(q == QUEUE_RX, stream, readable, &mut resp, cap)
            {
                self.deliver(q, chain, &resp, d);
                return;
            }
        }
        self.respond(q, chain, &resp, fault);
    }

    fn queue_of(&self, stream_id: u32) -> usize {
        if self.cfg.direction(stream_id) == D_OUTPUT {
            QUEUE_TX
        } else {
            QUEUE_RX
        }
    }

    /// Completes a message whose time has come: consumes (tx) or fills (rx) its data.
    fn finish_io(self: &Arc<Self>, st: &Stream, g: &mut StreamInner, msg: IoMsg) {
        let q = self.queue_of(st.id);
        if let Some(p) = g.ctl.params {
            let fb = p.frame_bytes().max(1) as usize;
            g.stats.frames += (msg.payload / fb) as u64;
            if !msg.payload.is_multiple_of(fb) {
                g.stats.unaligned += 1;
                if g.stats.unaligned == g.run_start.unaligned + 1 {
                    warn!(
                        "stream {}: {} data bytes are not whole frames of {fb} bytes ({} channels); \
                         further ones are only counted",
                        st.id, msg.payload, p.channels
                    );
                }
            }
        }
        if q == QUEUE_RX {
            let mut data = vec![0u8; msg.payload];
            if let Some(p) = g.ctl.params {
                let pattern = g
                    .integrity
                    .as_mut()
                    .is_some_and(|i| i.fill(p.format, p.channels, &mut data));
                if !pattern {
                    audio::fill(
                        &p,
                        self.opts.capture_freq,
                        self.opts.capture_amp,
                        &mut g.phase,
                        &mut data,
                    );
                }
            }
            self.complete_io(q, Some(st.id), &msg.chain, S_OK, &data);
        } else {
            if let (Some(i), Some(p)) = (g.integrity.as_mut(), g.ctl.params) {
                // The data is played now: check it (whole frames; a partial one is corrupt).
                let mut data = vec![0u8; msg.payload];
                let n = self
                    .memory()
                    .map_or(0, |m| msg.chain.read(&m, XFER_SIZE, &mut data));
                if n < data.len() {
                    warn!(
                        "stream {}: integrity: read {n} of {} data bytes from guest memory",
                        st.id,
                        data.len()
                    );
                    data.truncate(n);
                }
                i.check(p.format, p.channels, &data);
            }
            self.complete_io(q, Some(st.id), &msg.chain, S_OK, &[]);
        }
        g.stats.msgs += 1;
        g.stats.bytes += msg.payload as u64;
    }

    /// Returns every pending message of a stream with OK and no data (RELEASE).
    fn flush(self: &Arc<Self>, st: &Stream, g: &mut StreamInner) {
        let q = self.queue_of(st.id);
        while let Some(msg) = g.pending.pop_front() {
            self.complete_io(q, Some(st.id), &msg.chain, S_OK, &[]);
            g.stats.flushed += 1;
        }
        g.clock = None;
    }

    /// The device's control elements (kept by the test control, so that they outlive a
    /// connection and `--exec` can set them before one).
    pub fn ctls(&self) -> MutexGuard<'_, Controls> {
        self.control.controls()
    }

    /// Why CTL_* requests are not supported, if they are not: the device has no controls, or
    /// the driver did not negotiate VIRTIO_SND_F_CTLS.
    fn ctls_unavailable(&self) -> Option<&'static str> {
        if self.cfg.controls == 0 {
            Some("the device has no controls")
        } else if self.acked.load(Ordering::Relaxed) & (1 << F_CTLS) == 0 {
            Some("VIRTIO_SND_F_CTLS not negotiated")
        } else {
            None
        }
    }

    /// Handles one control request: the reply, the request code, the stream of a PCM
    /// request, the control of a CTL request.
    fn handle_ctl(
        self: &Arc<Self>,
        req: &[u8],
        resp_cap: usize,
    ) -> (CtlReply, u32, Option<u32>, Option<u32>) {
        match parse_ctl(req) {
            CtlRequest::Query {
                code,
                start_id,
                count,
                size,
            } => {
                let r = if code == R_CTL_INFO {
                    match self.ctls_unavailable() {
                        Some(why) => {
                            info!("ctl: CTL_INFO: {why} -> NOT_SUPP");
                            CtlReply::status(S_NOT_SUPP)
                        }
                        None => self.ctls().info(start_id, count, size, resp_cap),
                    }
                } else {
                    let jacks = self.jacks.lock().unwrap().clone();
                    answer_query(&self.cfg, &jacks, code, start_id, count, size, resp_cap)
                };
                info!(
                    "ctl: {} start {start_id} count {count} size {size} -> {}",
                    code_name(code),
                    status_name(r.status)
                );
                (r, code, None, None)
            }
            CtlRequest::Ctl { code, control_id } => {
                if let Some(why) = self.ctls_unavailable() {
                    info!(
                        "ctl: {} control {control_id}: {why} -> NOT_SUPP",
                        code_name(code)
                    );
                    return (CtlReply::status(S_NOT_SUPP), code, None, Some(control_id));
                }
                let o = self
                    .ctls()
                    .request(code, control_id, &req[CTL_HDR_SIZE..], resp_cap);
                let line = format!(
                    "ctl: {} control {control_id}: {} -> {}",
                    code_name(code),
                    o.note,
                    status_name(o.reply.status)
                );
                if o.reply.status == S_OK {
                    info!("{line}");
                } else {
                    warn!("{line}");
                }
                (o.reply, code, None, Some(control_id))
            }
            CtlRequest::Pcm { stream_id, op } => {
                let status = self.pcm_command(stream_id, &op);
                let extra = match op {
                    PcmOp::SetParams(p) => format!(
                        " (buffer {} period {} ch {} fmt {} ({}) rate {} feat {:#x})",
                        p.buffer_bytes,
                        p.period_bytes,
                        p.channels,
                        p.format,
                        format_name(p.format),
                        p.rate,
                        p.features
                    ),
                    _ => String::new(),
                };
                info!(
                    "ctl: {} stream {stream_id}{extra} -> {}",
                    op.name(),
                    status_name(status)
                );
                (
                    CtlReply::status(status),
                    op_code(&op),
                    Some(stream_id),
                    None,
                )
            }
            CtlRequest::JackRemap {
                jack_id,
                association,
                sequence,
            } => {
                let r = remap_jack(
                    &self.cfg,
                    &mut self.jacks.lock().unwrap(),
                    jack_id,
                    association,
                    sequence,
                );
                let status = match r {
                    Ok(()) => {
                        info!(
                            "jack {jack_id} remapped: association {association}, sequence {sequence}"
                        );
                        S_OK
                    }
                    Err((status, why)) => {
                        warn!(
                            "ctl: JACK_REMAP jack {jack_id} association {association} sequence {sequence}: {why} -> {}",
                            status_name(status)
                        );
                        status
                    }
                };
                (CtlReply::status(status), R_JACK_REMAP, None, None)
            }
            CtlRequest::Other { code } => {
                info!("ctl: {} ({code:#x}) -> NOT_SUPP", code_name(code));
                (CtlReply::status(S_NOT_SUPP), code, None, None)
            }
            CtlRequest::Short { code, len } => {
                warn!(
                    "ctl: {} ({code:#x}) too short ({len} bytes) -> BAD_MSG",
                    code_name(code)
                );
                (CtlReply::status(S_BAD_MSG), code, None, None)
            }
        }
    }

    fn pcm_command(self: &Arc<Self>, stream_id: u32, op: &PcmOp) -> u32 {
        let Some(st) = self.streams.get(stream_id as usize) else {
            return S_BAD_MSG;
        };
        let mut g = st.inner.lock().unwrap();
        let before = g.ctl.state;
        match g.ctl.apply(op) {
            Err(status) => {
                if status == S_BAD_MSG && next_state(before, op).is_none() {
                    warn!(
                        "stream {stream_id}: {} invalid in state {before:?}",
                        op.name()
                    );
                }
                status
            }
            Ok(state) => {
                if let PcmOp::SetParams(p) = op {
                    let fb = p.frame_bytes();
                    if !p.period_bytes.is_multiple_of(fb) || !p.buffer_bytes.is_multiple_of(fb) {
                        warn!(
                            "stream {stream_id}: period {} / buffer {} bytes are not whole frames of {fb} bytes ({} channels)",
                            p.period_bytes, p.buffer_bytes, p.channels
                        );
                    }
                }
                match state {
                    PcmState::Running | PcmState::Stopped => g.clock = None,
                    PcmState::Prepared => g.run_start = g.stats,
                    PcmState::Released => {
                        self.flush(st, &mut g);
                        if let Some(i) = &g.integrity {
                            info!(
                                "stream {stream_id}: integrity (seed {}): {}",
                                i.seed(),
                                i.report().lines().next().unwrap_or_default()
                            );
                        }
                        let (s, r) = (g.stats, g.run_start);
                        info!(
                            "stream {stream_id}: released; since PREPARE {} msgs, {} data bytes, {} frames, {} unaligned, {} flushed, {} bad",
                            s.msgs - r.msgs,
                            s.bytes - r.bytes,
                            s.frames - r.frames,
                            s.unaligned - r.unaligned,
                            s.flushed - r.flushed,
                            s.bad - r.bad
                        );
                    }
                    _ => {}
                }
                st.cv.notify_all();
                S_OK
            }
        }
    }

    fn process_ctl(self: &Arc<Self>) {
        let chains = self.pop_all(QUEUE_CTL);
        let Some(mem) = self.memory() else { return };
        for c in chains {
            let mut req = vec![0u8; c.readable_len().min(MAX_CTL_REQUEST)];
            let n = c.read(&mem, 0, &mut req);
            req.truncate(n);
            let (reply, code, stream, ctl) = self.handle_ctl(&req, c.writable_len());
            let fault = self.control.take(Target::Ctl, Some(code), stream, ctl);
            let mut bytes = reply.to_bytes();
            if let Some(FaultKind::Status(s)) = fault {
                bytes[0..4].copy_from_slice(&s.to_le_bytes());
            }
            let fuzzed = match fault {
                None => self
                    .control
                    .fuzz_ctl(code, &req, &mut bytes, c.writable_len()),
                Some(_) => None,
            };
            match fuzzed {
                Some(d) => self.deliver(QUEUE_CTL, &c, &bytes, d),
                None => self.respond(QUEUE_CTL, &c, &bytes, fault),
            }
            if let (Some(sid), S_OK) = (stream, reply.status) {
                self.control.pcm_command_done(code, sid);
            }
        }
    }

    fn process_io(self: &Arc<Self>, q: usize) {
        let _routing = self.io_lock[q - QUEUE_TX].lock().unwrap();
        let chains = self.pop_all(q);
        let Some(mem) = self.memory() else { return };
        let want_dir = if q == QUEUE_TX { D_OUTPUT } else { D_INPUT };
        for c in chains {
            let mut hdr = [0u8; XFER_SIZE];
            let got = c.read(&mem, 0, &mut hdr);
            let sid = u32::from_le_bytes(hdr);
            let payload = if q == QUEUE_TX {
                c.readable_len().saturating_sub(XFER_SIZE)
            } else {
                c.writable_len().saturating_sub(STATUS_SIZE)
            };
            let why = if got != XFER_SIZE {
                Some(format!("header of {got} bytes"))
            } else if c.writable_len() < STATUS_SIZE {
                Some(format!("{} device-writable bytes", c.writable_len()))
            } else if sid >= self.cfg.streams {
                Some(format!("stream {sid} out of range"))
            } else if self.cfg.direction(sid) != want_dir {
                Some(format!("stream {sid} has the other direction"))
            } else {
                None
            };
            if let Some(why) = why {
                warn!("queue {q}: bad I/O message ({why}) -> BAD_MSG");
                if let Some(st) = self.streams.get(sid as usize) {
                    st.inner.lock().unwrap().stats.bad += 1;
                }
                self.complete_io(q, None, &c, S_BAD_MSG, &[]);
                continue;
            }
            let st = &self.streams[sid as usize];
            let mut g = st.inner.lock().unwrap();
            if !g.ctl.accepts_io() {
                warn!(
                    "stream {sid}: I/O message in state {:?} -> BAD_MSG",
                    g.ctl.state
                );
                g.stats.bad += 1;
                drop(g);
                self.complete_io(q, None, &c, S_BAD_MSG, &[]);
                continue;
            }
            debug!("stream {sid}: queued msg head {} payload {payload}", c.head);
            g.pending.push_back(IoMsg {
                chain: c,
                payload,
                arrived: Instant::now(),
            });
            st.cv.notify_all();
        }
    }

    /// Forgets the I/O messages of the streams on queue `q` (the vring is being stopped:
    /// they must not be completed any more), or resets every stream, the jacks'
    /// association and sequence and, with `--reset-controls`, the control elements' values
    /// (`q` = control queue: a driver reset; no CTL_NOTIFY for those).
    fn stop_queue(&self, q: usize) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if q == QUEUE_CTL && reset_jack_maps(&mut self.jacks.lock().unwrap()) {
            info!("reset: jacks back to association {JACK_INITIAL_ASSOCIATION}, sequence {JACK_INITIAL_SEQUENCE}");
        }
        if q == QUEUE_CTL && self.cfg.reset_controls {
            let changed = self.control.reset_values();
            if changed > 0 {
                info!("reset: control values back to their initial values ({changed} changed)");
            }
        }
        for st in &self.streams {
            let mut g = st.inner.lock().unwrap();
            if q == QUEUE_CTL {
                g.ctl = self.cfg.stream_ctl(st.id);
                match &g.integrity {
                    Some(i) if i.keep() => info!(
                        "reset: stream {}: integrity kept armed (seed {}): {}",
                        st.id,
                        i.seed(),
                        i.report().lines().next().unwrap_or_default()
                    ),
                    Some(_) => {
                        g.integrity = None;
                        info!("reset: stream {}: integrity disarmed", st.id);
                    }
                    None => {}
                }
            }
            if q == QUEUE_CTL || self.queue_of(st.id) == q {
                g.stats.flushed += g.pending.len() as u64;
                g.pending.clear();
                g.clock = None;
            }
            st.cv.notify_all();
        }
    }

    fn stream(&self, sid: u32) -> Result<&Stream, String> {
        self.streams.get(sid as usize).ok_or(format!(
            "no stream {sid} (the device has {})",
            self.streams.len()
        ))
    }

    /// `integrity SID arm SEED [keep] [lead]`: from now on the stream's playback data is
    /// checked against the pattern of `seed` from position 0 (the next data played), or its
    /// capture data is the pattern from position 0 (the next message filled). Replaces an
    /// earlier arm. A driver reset disarms the stream, unless `keep`: then the stream stays
    /// armed across resets, its position, counts and capture generator going on where they
    /// were (a system sleep: the driver releases the streams, resets the device, and sets
    /// the streams up again on resume). `lead` (playback): silence before the first frame
    /// that is not silence is counted apart, not as silence (a sound server's sink plays
    /// silence until the player's data comes).
    pub fn integrity_arm(
        &self,
        sid: u32,
        seed: u32,
        keep: bool,
        lead: bool,
    ) -> Result<String, String> {
        let st = self.stream(sid)?;
        let playback = self.cfg.direction(sid) == D_OUTPUT;
        st.inner.lock().unwrap().integrity = Some(
            Integrity::new(seed, playback)
                .with_keep(keep)
                .with_lead(lead),
        );
        let what = if playback {
            "playback data checked against"
        } else {
            "capture data filled with"
        };
        let kept = match (keep, lead && playback) {
            (true, true) => ", kept across driver resets, leading silence apart",
            (true, false) => ", kept across driver resets",
            (false, true) => ", leading silence apart",
            (false, false) => "",
        };
        info!("stream {sid}: integrity armed: {what} the pattern of seed {seed}{kept}");
        Ok(format!(
            "stream {sid} armed: {what} the pattern of seed {seed}{kept}"
        ))
    }

    /// `integrity SID off`.
    pub fn integrity_off(&self, sid: u32) -> Result<String, String> {
        let was = self.stream(sid)?.inner.lock().unwrap().integrity.take();
        info!("stream {sid}: integrity off");
        Ok(format!(
            "stream {sid} integrity off{}",
            if was.is_some() {
                ""
            } else {
                " (was not armed)"
            }
        ))
    }

    /// `integrity SID report`: the report's lines, each ending with a newline.
    pub fn integrity_report(&self, sid: u32) -> Result<String, String> {
        let g = self.stream(sid)?.inner.lock().unwrap();
        let i = g
            .integrity
            .as_ref()
            .ok_or(format!("stream {sid} is not armed"))?;
        Ok(i.report())
    }

    pub fn set_jack(&self, id: u32, connected: bool) {
        if let Some(j) = self.jacks.lock().unwrap().get_mut(id as usize) {
            j.connected = connected;
        }
    }

    /// Sends one event on the event queue, in a buffer the driver made available.
    pub fn send_event(self: &Arc<Self>, code: u32, data: u32) -> Result<String, String> {
        self.send_event_raw(code, data, None)
    }

    /// Sends one event; `used`: the used length to report instead of the bytes written
    /// (fuzz mode).
    pub fn send_event_raw(
        self: &Arc<Self>,
        code: u32,
        data: u32,
        used: Option<u32>,
    ) -> Result<String, String> {
        let vring = self
            .vring(QUEUE_EVENT)
            .ok_or("the driver has not started the queues")?;
        let mem = self.memory().ok_or("no guest memory")?;
        let chain = {
            let mut state = vring.get_mut();
            state
                .get_queue_mut()
                .pop_descriptor_chain(mem.clone())
                .map(Chain::new)
        };
        let chain = chain.ok_or("no event buffer available")?;
        let written = chain.write(&mem, 0, &encode_event(code, data));
        self.push_used(QUEUE_EVENT, chain.head, used.unwrap_or(written as u32));
        info!("event {code:#x} data {data:#x} sent ({written} bytes)");
        Ok(format!("event {code:#x} data {data:#x} sent"))
    }

    /// Sends VIRTIO_SND_EVT_CTL_NOTIFY (virtio_snd_ctl_event: le16 control_id, le16 mask).
    pub fn send_ctl_notify(self: &Arc<Self>, control_id: u16, mask: u16) -> Result<String, String> {
        self.send_event(EVT_CTL_NOTIFY, ctl_notify_data(control_id, mask))
            .map(|_| format!("CTL_NOTIFY control {control_id} mask {mask:#x} sent"))
    }

    /// One line per stream and jack, for the `stats` command.
    pub fn stats_text(&self) -> String {
        let mut out = Vec::new();
        for st in &self.streams {
            let g = st.inner.lock().unwrap();
            let s = g.stats;
            let p = g.ctl.params.map_or(String::new(), |p| {
                format!(
                    " rate {} format {} channels {} buffer {} period {}",
                    p.rate_hz(),
                    p.format,
                    p.channels,
                    p.buffer_bytes,
                    p.period_bytes
                )
            });
            out.push(format!(
                "stream {} {} nid {} {:?}{p} msgs {} bytes {} frames {} unaligned {} flushed {} bad {} pending {}",
                st.id,
                if g.ctl.direction == D_OUTPUT {
                    "output"
                } else {
                    "input"
                },
                self.cfg.nid(st.id),
                g.ctl.state,
                s.msgs,
                s.bytes,
                s.frames,
                s.unaligned,
                s.flushed,
                s.bad,
                g.pending.len()
            ));
        }
        for (i, j) in self.jacks.lock().unwrap().iter().enumerate() {
            out.push(format!(
                "jack {i} {} association {} sequence {}",
                if j.connected {
                    "connected"
                } else {
                    "disconnected"
                },
                j.association,
                j.sequence
            ));
        }
        out.join("\n")
    }
}

fn op_code(op: &PcmOp) -> u32 {
    match op {
        PcmOp::SetParams(_) => R_PCM_SET_PARAMS,
        PcmOp::Prepare => R_PCM_PREPARE,
        PcmOp::Release => R_PCM_RELEASE,
        PcmOp::Start => R_PCM_START,
        PcmOp::Stop => R_PCM_STOP,
    }
}

fn bytes_to_duration(bytes: u64, bytes_per_sec: u64) -> Duration {
    let ns = u128::from(bytes) * 1_000_000_000 / u128::from(bytes_per_sec.max(1));
    Duration::from_nanos(ns.min(u128::from(u64::MAX)) as u64)
}

/// A stream's clock thread. While the stream runs, the message at the head of its queue is
/// completed once the stream's clock has advanced by its payload: the clock starts at START
/// (or when the first message arrives after the queue ran dry) and runs at
/// rate x frame size bytes per second. STOP freezes it; the pending messages stay queued.
fn worker(shared: Arc<Shared>, sid: usize) {
    let st = &shared.streams[sid];
    let mut g = st.inner.lock().unwrap();
    loop {
        if g.quit {
            return;
        }
        if g.ctl.state != PcmState::Running || g.pending.is_empty() {
            g = st.cv.wait(g).unwrap();
            continue;
        }
        let bps = g.ctl.params.map(|p| p.bytes_per_sec()).unwrap_or(1);
        let now = Instant::now();
        let (arrived, payload) = (g.pending[0].arrived, g.pending[0].payload as u64);
        let clock = g.clock.get_or_insert(Clock {
            epoch: now,
            bytes: 0,
        });
        if arrived > clock.epoch + bytes_to_duration(clock.bytes, bps) {
            // The device ran dry before this message came: restart the clock at its arrival.
            *clock = Clock {
                epoch: arrived,
                bytes: 0,
            };
        }
        let deadline = clock.epoch + bytes_to_duration(clock.bytes + payload, bps);
        if now < deadline {
            g = st.cv.wait_timeout(g, deadline - now).unwrap().0;
            continue;
        }
        clock.bytes += payload;
        let msg = g.pending.pop_front().unwrap();
        shared.finish_io(st, &mut g, msg);
    }
}

/// Polls tx and rx for the streams that selected VIRTIO_SND_PCM_F_MSG_POLLING (their driver
/// does not kick those queues).
fn poller(shared: Arc<Shared>) {
    let period = Duration::from_micros(shared.opts.poll_us.max(100));
    while !shared.quit.load(Ordering::Relaxed) {
        std::thread::sleep(period);
        for q in [QUEUE_TX, QUEUE_RX] {
            let polled = shared.streams.iter().any(|st| {
                let g = st.inner.lock().unwrap();
                shared.queue_of(st.id) == q
                    && g.ctl.accepts_io()
                    && g.ctl
                        .params
                        .is_some_and(|p| p.features & (1 << PCM_F_MSG_POLLING) != 0)
            });
            if polled {
                shared.process_io(q);
            }
        }
    }
}

pub struct VsndBackend {
    pub shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl VsndBackend {
    pub fn new(cfg: Config, opts: Options, control: Arc<Control>) -> io::Result<Arc<Self>> {
        let streams = (0..cfg.streams)
            .map(|id| Stream {
                id,
                inner: Mutex::new(StreamInner {
                    ctl: cfg.stream_ctl(id),
                    pending: VecDeque::new(),
                    clock: None,
                    phase: 0.0,
                    stats: Stats::default(),
                    run_start: Stats::default(),
                    integrity: None,
                    quit: false,
                }),
                cv: Condvar::new(),
            })
            .collect();
        let jacks = Mutex::new(cfg.initial_jacks());
        let shared = Arc::new(Shared {
            cfg,
            opts,
            streams,
            jacks,
            vrings: OnceLock::new(),
            mem: RwLock::new(None),
            event_idx: AtomicBool::new(false),
            acked: AtomicU64::new(0),
            config_warned: AtomicBool::new(false),
            control: control.clone(),
            io_lock: [Mutex::new(()), Mutex::new(())],
            quit: AtomicBool::new(false),
            generation: AtomicU64::new(0),
        });
        control.set_device(&shared);
        let mut workers = Vec::new();
        for sid in 0..shared.streams.len() {
            let sh = shared.clone();
            workers.push(
                std::thread::Builder::new()
                    .name(format!("vsnd-stream{sid}"))
                    .spawn(move || worker(sh, sid))?,
            );
        }
        if shared.cfg.pcm_features & (1 << PCM_F_MSG_POLLING) != 0 {
            let sh = shared.clone();
            workers.push(
                std::thread::Builder::new()
                    .name("vsnd-poller".into())
                    .spawn(move || poller(sh))?,
            );
        }
        Ok(Arc::new(VsndBackend {
            shared,
            workers: Mutex::new(workers),
        }))
    }

    /// Stops the stream workers; returns each stream's statistics.
    pub fn shutdown(&self) -> Vec<Stats> {
        self.shared.quit.store(true, Ordering::Relaxed);
        for st in &self.shared.streams {
            st.inner.lock().unwrap().quit = true;
            st.cv.notify_all();
        }
        for w in self.workers.lock().unwrap().drain(..) {
            let _ = w.join();
        }
        self.shared
            .streams
            .iter()
            .map(|s| s.inner.lock().unwrap().stats)
            .collect()
    }
}

impl VhostUserBackend for VsndBackend {
    type Bitmap = ();
    type Vring = Vring;

    fn num_queues(&self) -> usize {
        NUM_QUEUES
    }

    fn max_queue_size(&self) -> usize {
        1024
    }

    fn features(&self) -> u64 {
        let mut f = 1 << VIRTIO_F_VERSION_1
            | 1 << VIRTIO_RING_F_INDIRECT_DESC
            | VhostUserVirtioFeatures::PROTOCOL_FEATURES.bits();
        if self.shared.opts.event_idx {
            f |= 1 << VIRTIO_RING_F_EVENT_IDX;
        }
        if self.shared.cfg.controls > 0 {
            f |= 1 << F_CTLS;
        }
        f
    }

    fn acked_features(&self, features: u64) {
        info!("vhost-user: features acked {features:#x}");
        self.shared.acked.store(features, Ordering::Relaxed);
    }

    fn protocol_features(&self) -> VhostUserProtocolFeatures {
        VhostUserProtocolFeatures::CONFIG | VhostUserProtocolFeatures::MQ
    }

    fn set_event_idx(&self, enabled: bool) {
        self.shared.event_idx.store(enabled, Ordering::Relaxed);
    }

    fn get_config(&self, offset: u32, size: u32) -> Vec<u8> {
        debug!("vhost-user: GET_CONFIG offset {offset} size {size}");
        if self.shared.cfg.controls > 0
            && u64::from(offset) + u64::from(size) < CONFIG_SIZE as u64
            && !self.shared.config_warned.swap(true, Ordering::Relaxed)
        {
            warn!(
                "vhost-user: QEMU's config space has {} bytes, without `controls`: the guest \
                 cannot read it (QEMU: -device vhost-user-snd-pci,...,controls=on)",
                u64::from(offset) + u64::from(size)
            );
        }
        self.shared.cfg.read_config(offset, size)
    }

    fn update_memory(&self, mem: GM) -> io::Result<()> {
        *self.shared.mem.write().unwrap() = Some(mem);
        Ok(())
    }

    fn reset_device(&self) {
        info!("vhost-user: device reset");
        self.shared.stop_queue(QUEUE_CTL);
    }

    fn stop_vring(&self, queue_index: u32) -> io::Result<()> {
        debug!("vhost-user: stop vring {queue_index}");
        self.shared.stop_queue(queue_index as usize);
        Ok(())
    }

    fn exit_event(&self, _thread_index: usize) -> Option<(EventConsumer, EventNotifier)> {
        new_event_consumer_and_notifier(EventFlag::NONBLOCK).ok()
    }

    fn handle_event(
        &self,
        device_event: u16,
        evset: EventSet,
        vrings: &[Vring],
        _thread_id: usize,
    ) -> io::Result<()> {
        if evset != EventSet::IN {
            return Err(io::Error::other(format!("unexpected event set {evset:?}")));
        }
        let _ = self.shared.vrings.set(vrings.to_vec());
        let q = device_event as usize;
        if q == QUEUE_EVENT || q >= NUM_QUEUES {
            // Event buffers stay available until there is an event to send.
            return Ok(());
        }
        let vring = &vrings[q];
        loop {
            let event_idx = self.shared.event_idx.load(Ordering::Relaxed);
            if event_idx {
                let _ = vring.disable_notification();
            }
            match q {
                QUEUE_CTL => self.shared.process_ctl(),
                _ => self.shared.process_io(q),
            }
            if !event_idx || !vring.enable_notification().unwrap_or(false) {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctls::ControlSet;

    #[test]
    fn segments() {
        let segs = [
            (GuestAddress(0x1000), 4),
            (GuestAddress(0x2000), 8),
            (GuestAddress(0x3000), 8),
        ];
        let mut got = Vec::new();
        for_segments(&segs, 2, 12, |a, pos, n| {
            got.push((a.0, pos, n));
            true
        });
        assert_eq!(got, [(0x1002, 0, 2), (0x2000, 2, 8), (0x3000, 10, 2)]);
        got.clear();
        for_segments(&segs, 12, 100, |a, pos, n| {
            got.push((a.0, pos, n));
            true
        });
        assert_eq!(got, [(0x3000, 0, 8)]);
    }

    #[test]
    fn chain_read_write() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x10000)]).unwrap();
        let c = Chain {
            head: 0,
            readable: vec![(GuestAddress(0x100), 3), (GuestAddress(0x200), 5)],
            writable: vec![(GuestAddress(0x300), 2), (GuestAddress(0x400), 10)],
        };
        mem.write_slice(&[1, 2, 3], GuestAddress(0x100)).unwrap();
        mem.write_slice(&[4, 5, 6, 7, 8], GuestAddress(0x200))
            .unwrap();
        let mut b = [0u8; 4];
        assert_eq!(c.read(&mem, 1, &mut b), 4);
        assert_eq!(b, [2, 3, 4, 5]);
        let mut b = [0u8; 10];
        assert_eq!(c.read(&mem, 0, &mut b), 8);
        assert_eq!(c.write(&mem, 0, &[9; 12]), 12);
        assert_eq!(c.write(&mem, 10, &[7; 5]), 2);
        let mut w = [0u8; 10];
        mem.read_slice(&mut w, GuestAddress(0x400)).unwrap();
        assert_eq!(w, [9, 9, 9, 9, 9, 9, 9, 9, 7, 7]);
        assert_eq!((c.readable_len(), c.writable_len()), (8, 12));
    }

    fn backend(controls: ControlSet) -> (Arc<VsndBackend>, Arc<Control>) {
        ctl_backend(controls, false)
    }

    /// A device with no streams and the control elements `controls`, `--reset-controls` as
    /// `reset` says.
    fn ctl_backend(controls: ControlSet, reset: bool) -> (Arc<VsndBackend>, Arc<Control>) {
        let built = controls.build();
        let cfg = Config {
            streams: 0,
            controls: built.len(),
            reset_controls: reset,
            ..Config::default()
        };
        let opts = Options {
            capture_freq: 0.0,
            capture_amp: 0.0,
            event_idx: false,
            poll_us: 1000,
        };
        let control = Control::with_controls(built);
        let b = VsndBackend::new(cfg, opts, control.clone()).unwrap();
        (b, control)
    }

    fn ctl_req(code: u32, id: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = code.to_le_bytes().to_vec();
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn ctl_requests_through_the_device() {
        let (b, control) = backend(ControlSet::Default);
        let sh = &b.shared;
        assert_ne!(b.features() & 1 << F_CTLS, 0);
        assert_eq!(sh.cfg.read_config(12, 4), [13, 0, 0, 0]);
        let read = ctl_req(R_CTL_READ, 2, &[]);
        // Not negotiated: NOT_SUPP, for CTL_INFO too.
        let (r, code, stream, ctl) = sh.handle_ctl(&read, 516);
        assert_eq!(
            (r.status, code, stream, ctl),
            (S_NOT_SUPP, R_CTL_READ, None, Some(2))
        );
        let mut info = R_CTL_INFO.to_le_bytes().to_vec();
        for x in [0u32, 13, 96] {
            info.extend_from_slice(&x.to_le_bytes());
        }
        assert_eq!(sh.handle_ctl(&info, 4 + 13 * 96).0.status, S_NOT_SUPP);
        b.acked_features(1 << F_CTLS | 1 << VIRTIO_F_VERSION_1);
        let r = sh.handle_ctl(&info, 4 + 13 * 96).0;
        assert_eq!((r.status, r.payload.len()), (S_OK, 13 * 96));
        let (r, ..) = sh.handle_ctl(&read, 516);
        assert_eq!(
            (r.status, &r.payload[..8]),
            (S_OK, &[200, 0, 0, 0, 200, 0, 0, 0][..])
        );
        // A write, seen by the test control.
        let mut v = vec![0u8; CTL_VALUE_SIZE];
        v[..8].copy_from_slice(&[10, 0, 0, 0, 20, 0, 0, 0]);
        let (r, ..) = sh.handle_ctl(&ctl_req(R_CTL_WRITE, 2, &v), 4);
        assert_eq!(r, CtlReply::status(S_OK));
        assert_eq!(control.execute("ctl-get 2").unwrap(), "10,20");
        // Short: the header, the value.
        let (r, code, ..) = sh.handle_ctl(&read[..7], 516);
        assert_eq!((r.status, code), (S_BAD_MSG, R_CTL_READ));
        let (r, ..) = sh.handle_ctl(&ctl_req(R_CTL_WRITE, 2, &v[..500]), 4);
        assert_eq!(r.status, S_BAD_MSG);
        assert_eq!(control.execute("ctl-get 2").unwrap(), "10,20");
        // The test control's change is what the driver reads; no event queue yet.
        let s = control.execute("ctl-set 2 30,40").unwrap();
        assert!(s.contains("no CTL_NOTIFY"), "{s}");
        let (r, ..) = sh.handle_ctl(&read, 516);
        assert_eq!(r.payload[..8], [30, 0, 0, 0, 40, 0, 0, 0]);
        assert!(control.execute("ctl-notify 2").is_err());
        // TLV through the device: a write-only TLV request carries the TLV after the header.
        let t = crate::ctls::tlv_db_minmax(-100, 0);
        let (r, ..) = sh.handle_ctl(&ctl_req(R_CTL_TLV_WRITE, 2, &t), 4);
        assert_eq!(r.status, S_OK);
        let (r, ..) = sh.handle_ctl(&ctl_req(R_CTL_TLV_READ, 2, &[]), 100);
        assert_eq!(r.payload, t);
        // A device without controls: NOT_SUPP whatever the driver acks.
        let (b, _) = backend(ControlSet::None);
        assert_eq!(b.features() & 1 << F_CTLS, 0);
        b.acked_features(1 << F_CTLS);
        assert_eq!(b.shared.handle_ctl(&read, 516).0.status, S_NOT_SUPP);
    }

    /// CTL_WRITE through the device of 32-bit members (BOOLEAN, INTEGER, ENUMERATED): the
    /// status.
    fn ctl_write(sh: &Arc<Shared>, id: u32, members: &[i32]) -> u32 {
        let mut v = vec![0u8; CTL_VALUE_SIZE];
        for (i, m) in members.iter().enumerate() {
            v[4 * i..4 * i + 4].copy_from_slice(&m.to_le_bytes());
        }
        sh.handle_ctl(&ctl_req(R_CTL_WRITE, id, &v), 4).0.status
    }

    /// CTL_READ through the device: the first `n` 32-bit members.
    fn ctl_read(sh: &Arc<Shared>, id: u32, n: usize) -> Vec<i32> {
        let r = sh
            .handle_ctl(&ctl_req(R_CTL_READ, id, &[]), HDR_SIZE + CTL_VALUE_SIZE)
            .0;
        assert_eq!(r.status, S_OK, "CTL_READ {id}");
        (0..n)
            .map(|i| le32(&r.payload, 4 * i).unwrap_or(0) as i32)
            .collect()
    }

    /// What a driver sets on the default set: Master Playback Volume 10, PCM Playback
    /// Volume 30,40, Capture Switch 0,1, Capture Source Line (elements 0, 2, 4, 5).
    fn write_mixer(sh: &Arc<Shared>) {
        for (id, v) in [(0, &[10][..]), (2, &[30, 40]), (4, &[0, 1]), (5, &[1])] {
            assert_eq!(ctl_write(sh, id, v), S_OK, "CTL_WRITE {id}");
        }
    }

    /// Elements 0, 2, 4, 5 of the default set, read by the driver.
    fn mixer(sh: &Arc<Shared>) -> Vec<Vec<i32>> {
        vec![
            ctl_read(sh, 0, 1),
            ctl_read(sh, 2, 2),
            ctl_read(sh, 4, 2),
            ctl_read(sh, 5, 1),
        ]
    }

    const MIXER_INITIAL: [&[i32]; 4] = [&[48], &[200, 200], &[1, 1], &[0]];
    const MIXER_WRITTEN: [&[i32]; 4] = [&[10], &[30, 40], &[0, 1], &[1]];

    #[test]
    fn reset_controls_through_the_device() {
        let (b, control) = ctl_backend(ControlSet::Default, true);
        let sh = &b.shared;
        b.acked_features(1 << F_CTLS | 1 << VIRTIO_F_VERSION_1);
        assert_eq!(mixer(sh), MIXER_INITIAL);
        write_mixer(sh);
        assert_eq!(mixer(sh), MIXER_WRITTEN);
        // Stopping the event queue or an I/O queue is no reset.
        for q in [QUEUE_EVENT, QUEUE_TX, QUEUE_RX] {
            b.stop_vring(q as u32).unwrap();
            assert_eq!(mixer(sh), MIXER_WRITTEN, "stop of queue {q}");
        }
        // A driver reset (GET_VRING_BASE of the control queue): every value back to its
        // initial value, nothing left to reset.
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        assert_eq!(mixer(sh), MIXER_INITIAL);
        assert_eq!(control.execute("ctl-get 2").unwrap(), "200,200");
        assert_eq!(control.reset_values(), 0);
        // The driver writes its values back: they stand (until the next reset).
        write_mixer(sh);
        assert_eq!(mixer(sh), MIXER_WRITTEN);
        // VHOST_USER_RESET_DEVICE resets them too, and values set by the test control.
        control.execute("ctl-set 3 1,2").unwrap();
        control.execute("ctl-set 8 7").unwrap();
        b.reset_device();
        assert_eq!(mixer(sh), MIXER_INITIAL);
        assert_eq!(control.execute("ctl-get 3").unwrap(), "8,8");
        assert_eq!(
            control.execute("ctl-get 8").unwrap(),
            "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"
        );
        // The values only: a TLV the driver wrote stays, and so do the write counts.
        let t = crate::ctls::tlv_db_minmax(-100, 0);
        let (r, ..) = sh.handle_ctl(&ctl_req(R_CTL_TLV_WRITE, 2, &t), 4);
        assert_eq!(r.status, S_OK);
        write_mixer(sh);
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        assert_eq!(mixer(sh), MIXER_INITIAL);
        let (r, ..) = sh.handle_ctl(&ctl_req(R_CTL_TLV_READ, 2, &[]), 100);
        assert_eq!(r.payload, t);
        assert_eq!(control.controls().list[0].writes, 3);

        // Without --reset-controls the values survive either reset, as before.
        let (b, control) = ctl_backend(ControlSet::Default, false);
        let sh = &b.shared;
        b.acked_features(1 << F_CTLS | 1 << VIRTIO_F_VERSION_1);
        write_mixer(sh);
        control.execute("ctl-set 3 1,2").unwrap();
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        b.reset_device();
        assert_eq!(mixer(sh), MIXER_WRITTEN);
        assert_eq!(control.execute("ctl-get 3").unwrap(), "1,2");

        // `--controls N`: element i back at i % 101.
        let (b, control) = ctl_backend(ControlSet::Count(120), true);
        let sh = &b.shared;
        b.acked_features(1 << F_CTLS | 1 << VIRTIO_F_VERSION_1);
        for id in [0, 7, 101, 119] {
            assert_eq!(ctl_write(sh, id, &[100]), S_OK);
        }
        b.stop_vring(QUEUE_TX as u32).unwrap();
        assert_eq!(ctl_read(sh, 119, 1), [100]);
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        for (id, want) in [(0, 0), (7, 7), (100, 100), (101, 0), (119, 18)] {
            assert_eq!(ctl_read(sh, id, 1), [want], "control {id}");
        }
        assert_eq!(control.reset_values(), 0);
    }

    const EVQ_DESC: u64 = 0x1000;
    const EVQ_AVAIL: u64 = 0x2000;
    const EVQ_USED: u64 = 0x3000;
    const EVQ_BUFS: u64 = 0x4000;

    /// Gives the device guest memory and an event queue whose 8 buffers (8 device-writable
    /// bytes each, at EVQ_BUFS + 0x100 * i) the driver made available, as after DRIVER_OK.
    fn event_queue(b: &VsndBackend) -> GM {
        const SIZE: u16 = 8;
        let gm: GM = GuestMemoryAtomic::new(
            GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x10000)]).unwrap(),
        );
        let m = gm.memory();
        for i in 0..SIZE {
            let d = EVQ_DESC + 16 * u64::from(i);
            m.write_obj(EVQ_BUFS + 0x100 * u64::from(i), GuestAddress(d))
                .unwrap();
            m.write_obj(EVENT_SIZE as u32, GuestAddress(d + 8)).unwrap();
            // VRING_DESC_F_WRITE, no next.
            m.write_obj(2u16, GuestAddress(d + 12)).unwrap();
            m.write_obj(i, GuestAddress(EVQ_AVAIL + 4 + 2 * u64::from(i)))
                .unwrap();
        }
        m.write_obj(SIZE, GuestAddress(EVQ_AVAIL + 2)).unwrap();
        let vrings: Vec<Vring> = (0..NUM_QUEUES)
            .map(|_| Vring::new(gm.clone(), SIZE).unwrap())
            .collect();
        let ev = &vrings[QUEUE_EVENT];
        ev.set_queue_size(SIZE);
        ev.set_queue_info(EVQ_DESC, EVQ_AVAIL, EVQ_USED).unwrap();
        ev.set_queue_ready(true);
        b.update_memory(gm.clone()).unwrap();
        assert!(b.shared.vrings.set(vrings).is_ok());
        gm
    }

    #[test]
    fn control_reset_sends_no_ctl_notify() {
        let (b, control) = ctl_backend(ControlSet::Default, true);
        let sh = &b.shared;
        b.acked_features(1 << F_CTLS | 1 << VIRTIO_F_VERSION_1);
        let gm = event_queue(&b);
        let used_idx = || {
            gm.memory()
                .read_obj::<u16>(GuestAddress(EVQ_USED + 2))
                .unwrap()
        };
        let event = |i: u64| {
            gm.memory()
                .read_obj::<[u8; EVENT_SIZE]>(GuestAddress(EVQ_BUFS + 0x100 * i))
                .unwrap()
        };
        // The test control's change is notified: one buffer used, CTL_NOTIFY VALUE of 0.
        let s = control.execute("ctl-set 0 10").unwrap();
        assert!(s.contains("CTL_NOTIFY control 0 mask 0x1 sent"), "{s}");
        assert_eq!(used_idx(), 1);
        assert_eq!(
            event(0),
            encode_event(EVT_CTL_NOTIFY, ctl_notify_data(0, CTL_EVT_MASK_VALUE))
        );
        // The driver's own write is not notified.
        assert_eq!(ctl_write(sh, 2, &[1, 2]), S_OK);
        assert_eq!(used_idx(), 1);
        // A driver reset changes both back without any event (the event queue is still
        // usable here: an event would have taken a buffer).
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        assert_eq!(mixer(sh)[..2], MIXER_INITIAL[..2]);
        assert_eq!(used_idx(), 1);
        b.reset_device();
        assert_eq!(used_idx(), 1);
        // The next change of the test control takes the next buffer.
        control.execute("ctl-set 0 11").unwrap();
        assert_eq!(used_idx(), 2);
    }

    /// Fuzz mode's scribbles and wild ids through a real ring: the scribble lands in the
    /// device-readable buffers before the completion; the wild entry follows the
    /// completion on the used ring, with its id past the queue size, and the next
    /// completion goes after it; a queue that is not ready gets none.
    #[test]
    fn scribble_and_wild_id_through_the_ring() {
        let (b, _) = backend(ControlSet::None);
        let sh = &b.shared;
        let gm = event_queue(&b);
        let m = gm.memory();
        let used = |i: u64| {
            let e = m
                .read_obj::<[u32; 2]>(GuestAddress(EVQ_USED + 4 + 8 * i))
                .unwrap();
            (u32::from_le(e[0]), u32::from_le(e[1]))
        };
        let used_idx = || m.read_obj::<u16>(GuestAddress(EVQ_USED + 2)).unwrap();
        let chain = Chain {
            head: 5,
            readable: vec![(GuestAddress(0x8000), 3), (GuestAddress(0x8100), 5)],
            writable: vec![(GuestAddress(0x9000), 8)],
        };
        m.write_slice(&[1, 2, 3], GuestAddress(0x8000)).unwrap();
        m.write_slice(&[4, 5, 6, 7, 8], GuestAddress(0x8100))
            .unwrap();
        let d = Delivery {
            scribble: vec![(2, vec![0xaa, 0xbb]), (7, vec![0xcc, 0xdd])],
            wild_id: Some(WildId::PastSize(1)),
            ..Delivery::default()
        };
        sh.deliver(QUEUE_EVENT, &chain, &[9, 9, 9, 9], d);
        let mut r = [0u8; 8];
        assert_eq!(chain.read(&m, 0, &mut r), 8);
        // The second scribble is cut at the end of the buffers.
        assert_eq!(r, [1, 2, 0xaa, 0xbb, 5, 6, 7, 0xcc]);
        assert_eq!(m.read_obj::<[u8; 4]>(GuestAddress(0x9000)).unwrap(), [9; 4]);
        assert_eq!(used_idx(), 2);
        assert_eq!(used(0), (5, 4));
        assert_eq!(used(1), (8 + 1, 4));
        // Never made available, not even by a wild id: the head plus 2^16, and u32::MAX.
        let d = |w| Delivery {
            drop: true,
            wild_id: Some(w),
            ..Delivery::default()
        };
        sh.deliver(QUEUE_EVENT, &chain, &[], d(WildId::HeadPlus64k));
        sh.deliver(QUEUE_EVENT, &chain, &[], d(WildId::Fixed(u32::MAX)));
        assert_eq!(used_idx(), 4);
        assert_eq!(used(2), (0x1_0005, 0));
        assert_eq!(used(3), (u32::MAX, 0));
        // virtio-queue's next completion goes after them (its used index followed).
        sh.push_used(QUEUE_EVENT, 1, 8);
        assert_eq!(used_idx(), 5);
        assert_eq!(used(4), (1, 8));
        // The ring wraps (8 entries): the 9th entry is at slot 0.
        for _ in 0..4 {
            sh.deliver(QUEUE_EVENT, &chain, &[], d(WildId::PastSize(0)));
        }
        assert_eq!(used_idx(), 9);
        assert_eq!(used(0), (8, 0));
        // A stopped queue: no entry.
        sh.vring(QUEUE_EVENT).unwrap().set_queue_ready(false);
        sh.deliver(QUEUE_EVENT, &chain, &[], d(WildId::PastSize(0)));
        assert_eq!(used_idx(), 9);
    }

    fn pcm_req(code: u32, sid: u32) -> Vec<u8> {
        ctl_req(code, sid, &[])
    }

    #[test]
    fn six_channels_through_the_device() {
        let cfg = Config {
            streams: 4,
            nids: 2,
            channels_max: 6,
            ..Config::default()
        };
        let opts = Options {
            capture_freq: 1000.0,
            capture_amp: 0.5,
            event_idx: false,
            poll_us: 1000,
        };
        let b =
            VsndBackend::new(cfg, opts, Control::with_controls(ControlSet::None.build())).unwrap();
        let sh = &b.shared;
        let p = |channels| Params {
            buffer_bytes: 4 * 57600,
            period_bytes: 57600,
            features: 0,
            channels,
            format: FMT_S16,
            rate: 7,
        };
        // 7 channels is more than the stream offers; 6 is fine.
        let (r, ..) = sh.handle_ctl(&p(7).encode_request(2), 4);
        assert_eq!(r.status, S_NOT_SUPP);
        for req in [
            p(6).encode_request(2),
            pcm_req(R_PCM_PREPARE, 2),
            pcm_req(R_PCM_START, 2),
        ] {
            assert_eq!(sh.handle_ctl(&req, 4).0.status, S_OK);
        }
        assert!(sh.stats_text().contains("stream 2 output nid 1 Running"));
        // Two messages of 100 ms each at 6 x 2 x 48000 bytes/s, then a partial frame.
        let t0 = Instant::now();
        {
            let st = &sh.streams[2];
            let mut g = st.inner.lock().unwrap();
            for payload in [57600, 57600, 13] {
                g.pending.push_back(IoMsg {
                    chain: Chain {
                        head: 0,
                        readable: Vec::new(),
                        writable: Vec::new(),
                    },
                    payload,
                    arrived: t0,
                });
            }
            st.cv.notify_all();
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(sh.streams[2].inner.lock().unwrap().stats.msgs, 0);
        let stats = loop {
            let s = sh.streams[2].inner.lock().unwrap().stats;
            if s.msgs == 3 || t0.elapsed() > Duration::from_secs(10) {
                break s;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(
            t0.elapsed() >= Duration::from_millis(200),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(
            (stats.msgs, stats.bytes, stats.frames, stats.unaligned),
            (3, 115213, 9601, 1)
        );
        let text = sh.stats_text();
        assert!(
            text.contains(
                "channels 6 buffer 230400 period 57600 msgs 3 bytes 115213 frames 9601 unaligned 1"
            ),
            "{text}"
        );
        b.shutdown();
    }

    /// Queues an I/O message on stream `sid` as `process_io` would.
    fn push_io(sh: &Arc<Shared>, sid: usize, chain: Chain, payload: usize) {
        let st = &sh.streams[sid];
        let mut g = st.inner.lock().unwrap();
        g.pending.push_back(IoMsg {
            chain,
            payload,
            arrived: Instant::now(),
        });
        st.cv.notify_all();
    }

    /// Waits until stream `sid` has completed `msgs` messages.
    fn wait_msgs(sh: &Arc<Shared>, sid: usize, msgs: u64) {
        let t0 = Instant::now();
        while sh.streams[sid].inner.lock().unwrap().stats.msgs < msgs {
            assert!(t0.elapsed() < Duration::from_secs(10), "stream {sid} stuck");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn integrity_through_the_device() {
        use crate::pattern::Pattern;
        let opts = Options {
            capture_freq: 1000.0,
            capture_amp: 0.5,
            event_idx: false,
            poll_us: 1000,
        };
        let control = Control::with_controls(ControlSet::None.build());
        let b = VsndBackend::new(Config::default(), opts, control.clone()).unwrap();
        let sh = &b.shared;
        let gm: GM = GuestMemoryAtomic::new(
            GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x40000)]).unwrap(),
        );
        b.update_memory(gm.clone()).unwrap();
        let mem = gm.memory();
        // Not armed, or no such stream: errors.
        assert!(control
            .execute("integrity 0 report")
            .unwrap_err()
            .contains("not armed"));
        assert!(control.execute("integrity 2 arm 1").is_err());
        assert!(control.execute("integrity 0 arm").is_err());
        // Stream 0 (playback) S16 stereo, stream 1 (capture) S24_3 stereo, 192 kHz.
        let p = |format| Params {
            buffer_bytes: 4 * 1536,
            period_bytes: 1536,
            features: 0,
            channels: 2,
            format,
            rate: 12,
        };
        for (sid, format) in [(0, FMT_S16), (1, FMT_S24_3)] {
            for req in [
                p(format).encode_request(sid),
                pcm_req(R_PCM_PREPARE, sid),
                pcm_req(R_PCM_START, sid),
            ] {
                assert_eq!(sh.handle_ctl(&req, 4).0.status, S_OK);
            }
        }
        // The words after the seed: keep and lead, each once, in any order.
        let s = control.execute("integrity 0 arm 7 lead").unwrap();
        assert!(s.ends_with("seed 7, leading silence apart"), "{s}");
        let s = control.execute("integrity 0 arm 7 lead keep").unwrap();
        assert!(
            s.ends_with("kept across driver resets, leading silence apart"),
            "{s}"
        );
        assert!(control.execute("integrity 0 arm 7 lead lead").is_err());
        assert!(control.execute("integrity 0 arm 7 keep lead x").is_err());
        let s = control.execute("integrity 0 arm 7").unwrap();
        assert!(s.contains("stream 0 armed"), "{s}");
        // An earlier arm is replaced.
        control.execute("integrity 1 arm 1").unwrap();
        control.execute("integrity 1 arm 9").unwrap();

        // Playback: frames 0..384, then 400..500 (16 lost) with a corrupt sample in frame
        // 450, then half a frame; each message at 0x1000 * (i + 1), its status after it.
        let tx = Pattern::new(7, FMT_S16, 2).unwrap();
        let mut msgs = Vec::new();
        for range in [0..384u64, 400..500] {
            let mut pos = range.start;
            let mut data = vec![0u8; 4 * (range.end - range.start) as usize];
            tx.fill(&mut pos, &mut data);
            msgs.push(data);
        }
        msgs[1][50 * 4 + 1] ^= 0x40;
        msgs.push(vec![1, 2]);
        for (i, data) in msgs.iter().enumerate() {
            let at = 0x1000 * (i as u64 + 1);
            mem.write_slice(&0u32.to_le_bytes(), GuestAddress(at))
                .unwrap();
            // The data in two descriptors, the header in the first.
            mem.write_slice(data, GuestAddress(at + 4)).unwrap();
            let split = 4 + data.len() / 2;
            let chain = Chain {
                head: i as u16,
                readable: vec![
                    (GuestAddress(at), split),
                    (GuestAddress(at + split as u64), 4 + data.len() - split),
                ],
                writable: vec![(GuestAddress(at + 0xf00), STATUS_SIZE)],
            };
            push_io(sh, 0, chain, data.len());
        }
        wait_msgs(sh, 0, 3);
        let r = control.execute("integrity 0 report").unwrap();
        assert_eq!(
            r,
            "frames=485 good=483 lost=16 repeated=0 reordered=0 corrupt=2 silence=0 end=501\n\
             lost at=384 len=16\n\
             corrupt at=450 len=1\n\
             corrupt at=500 len=1\n"
        );

        // Capture: two messages of 100 frames and a partial frame, at 0x10000 and 0x11000.
        let rx = Pattern::new(9, FMT_S24_3, 2).unwrap();
        for i in 0..2u64 {
            let at = 0x10000 + 0x1000 * i;
            let chain = Chain {
                head: i as u16,
                readable: vec![(GuestAddress(at), XFER_SIZE)],
                writable: vec![(GuestAddress(at + 0x10), 600 + 2 + STATUS_SIZE)],
            };
            push_io(sh, 1, chain, 602);
        }
        wait_msgs(sh, 1, 2);
        let mut pos = 0;
        for i in 0..2u64 {
            let mut got = vec![0u8; 602 + 4];
            mem.read_slice(&mut got, GuestAddress(0x10010 + 0x1000 * i))
                .unwrap();
            let mut want = vec![0u8; 602];
            rx.fill(&mut pos, &mut want);
            assert_eq!(got[..602], want[..], "message {i}");
            assert_eq!(got[600..606], [0, 0, 0x00, 0x80, 0, 0], "silence, then OK");
        }
        assert_eq!(
            control.execute("integrity 1 report").unwrap(),
            "frames=200 good=0 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 end=200\n"
        );

        // Arming survives STOP, RELEASE, SET_PARAMS of the same frame size, PREPARE, START.
        for req in [
            pcm_req(R_PCM_STOP, 0),
            pcm_req(R_PCM_RELEASE, 0),
            p(FMT_U16).encode_request(0),
            pcm_req(R_PCM_PREPARE, 0),
            pcm_req(R_PCM_START, 0),
        ] {
            assert_eq!(sh.handle_ctl(&req, 4).0.status, S_OK);
        }
        let u16p = Pattern::new(7, FMT_U16, 2).unwrap();
        let mut data = vec![0u8; 4 * 10];
        u16p.fill(&mut 501, &mut data);
        mem.write_slice(&data, GuestAddress(0x5004)).unwrap();
        let chain = Chain {
            head: 9,
            readable: vec![(GuestAddress(0x5000), 4 + data.len())],
            writable: vec![(GuestAddress(0x5f00), STATUS_SIZE)],
        };
        push_io(sh, 0, chain, data.len());
        wait_msgs(sh, 0, 4);
        let r = control.execute("integrity 0 report").unwrap();
        assert!(r.starts_with("frames=495 good=493 "), "{r}");
        assert!(r.contains(" end=511\n"), "{r}");
        // Off: the capture sine again (1 kHz at 192 kHz: frame 0 is 0, frame 48 the peak).
        assert_eq!(
            control.execute("integrity 1 off").unwrap(),
            "stream 1 integrity off"
        );
        let chain = Chain {
            head: 5,
            readable: vec![(GuestAddress(0x12000), XFER_SIZE)],
            writable: vec![(GuestAddress(0x12010), 6 * 49 + STATUS_SIZE)],
        };
        push_io(sh, 1, chain, 6 * 49);
        wait_msgs(sh, 1, 3);
        let mut got = vec![0u8; 6 * 49];
        mem.read_slice(&mut got, GuestAddress(0x12010)).unwrap();
        assert_eq!(got[..6], [0; 6]);
        assert_eq!(got[6 * 48..], [0, 0, 0x40, 0, 0, 0x40]);
        // A driver reset disarms; stopping an I/O queue does not.
        b.stop_vring(QUEUE_TX as u32).unwrap();
        assert!(control.execute("integrity 0 report").is_ok());
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        assert!(control.execute("integrity 0 report").is_err());
        b.shutdown();
    }

    /// `integrity SID arm SEED keep`: a driver reset (a system sleep) leaves the stream
    /// armed. The playback messages that RELEASE hands back unplayed are not checked; when
    /// the driver sends them again after the reset, they are checked for the first time.
    /// The capture generator goes on from its position. An arm without `keep` is disarmed.
    #[test]
    fn integrity_kept_across_a_driver_reset() {
        use crate::pattern::Pattern;
        let opts = Options {
            capture_freq: 1000.0,
            capture_amp: 0.5,
            event_idx: false,
            poll_us: 1000,
        };
        let control = Control::with_controls(ControlSet::None.build());
        let b = VsndBackend::new(Config::default(), opts, control.clone()).unwrap();
        let sh = &b.shared;
        let gm: GM = GuestMemoryAtomic::new(
            GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x40000)]).unwrap(),
        );
        b.update_memory(gm.clone()).unwrap();
        let mem = gm.memory();
        let setup = |sid: u32| {
            let p = Params {
                buffer_bytes: 4 * 1536,
                period_bytes: 1536,
                features: 0,
                channels: 2,
                format: FMT_S16,
                rate: 12,
            };
            for req in [
                p.encode_request(sid),
                pcm_req(R_PCM_PREPARE, sid),
                pcm_req(R_PCM_START, sid),
            ] {
                assert_eq!(sh.handle_ctl(&req, 4).0.status, S_OK);
            }
        };
        setup(0);
        setup(1);
        assert!(control.execute("integrity 0 arm 7 kept").is_err());
        assert!(control
            .execute("integrity 0 arm 7 keep")
            .unwrap()
            .contains("kept across driver resets"));
        control.execute("integrity 1 arm 9 keep").unwrap();

        let tx = Pattern::new(7, FMT_S16, 2).unwrap();
        let play = |head: u16, frames: std::ops::Range<u64>| {
            let at = 0x1000 * (u64::from(head) + 1);
            let mut data = vec![0u8; 4 * (frames.end - frames.start) as usize];
            tx.fill(&mut frames.start.clone(), &mut data);
            mem.write_slice(&0u32.to_le_bytes(), GuestAddress(at))
                .unwrap();
            mem.write_slice(&data, GuestAddress(at + 4)).unwrap();
            let chain = Chain {
                head,
                readable: vec![(GuestAddress(at), 4 + data.len())],
                writable: vec![(GuestAddress(at + 0xf00), STATUS_SIZE)],
            };
            push_io(sh, 0, chain, data.len());
        };
        let rx = Pattern::new(9, FMT_S16, 2).unwrap();
        let capture = |head: u16, frames: std::ops::Range<u64>| {
            let at = 0x20000 + 0x1000 * u64::from(head);
            let n = 4 * (frames.end - frames.start) as usize;
            let chain = Chain {
                head,
                readable: vec![(GuestAddress(at), XFER_SIZE)],
                writable: vec![(GuestAddress(at + 0x10), n + STATUS_SIZE)],
            };
            push_io(sh, 1, chain, n);
            let msgs = sh.streams[1].inner.lock().unwrap().stats.msgs;
            wait_msgs(sh, 1, msgs + 1);
            let mut got = vec![0u8; n];
            mem.read_slice(&mut got, GuestAddress(at + 0x10)).unwrap();
            let mut want = vec![0u8; n];
            rx.fill(&mut frames.start.clone(), &mut want);
            assert_eq!(got, want, "capture of frames {frames:?}");
        };

        play(0, 0..100);
        wait_msgs(sh, 0, 1);
        capture(0, 0..100);
        // The system sleep: STOP; a period queued but not played; RELEASE hands it back
        // unplayed (not checked); the driver resets the device.
        assert_eq!(sh.handle_ctl(&pcm_req(R_PCM_STOP, 0), 4).0.status, S_OK);
        play(1, 100..200);
        for sid in [0, 1] {
            if sid == 1 {
                assert_eq!(sh.handle_ctl(&pcm_req(R_PCM_STOP, 1), 4).0.status, S_OK);
            }
            assert_eq!(
                sh.handle_ctl(&pcm_req(R_PCM_RELEASE, sid), 4).0.status,
                S_OK
            );
        }
        assert_eq!(sh.streams[0].inner.lock().unwrap().stats.flushed, 1);
        b.reset_device();
        assert_eq!(
            control.execute("integrity 0 report").unwrap(),
            "frames=100 good=100 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 end=100\n"
        );
        // The resume: set up again; the period handed back comes again, then the next one.
        setup(0);
        setup(1);
        play(2, 100..200);
        play(3, 200..300);
        wait_msgs(sh, 0, 3);
        assert_eq!(
            control.execute("integrity 0 report").unwrap(),
            "frames=300 good=300 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 end=300\n"
        );
        capture(1, 100..200);
        assert_eq!(
            control.execute("integrity 1 report").unwrap(),
            "frames=200 good=0 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 end=200\n"
        );
        // Arming again without keep: the next reset disarms.
        control.execute("integrity 1 arm 9").unwrap();
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        assert!(control.execute("integrity 1 report").is_err());
        assert!(control.execute("integrity 0 report").is_ok());
        control.execute("integrity 0 off").unwrap();
        b.shutdown();
    }

    /// A device with no streams (jacks alternate output, input) and `jacks` jacks, F_REMAP
    /// as `remap` says.
    fn jack_backend(jacks: u32, remap: bool) -> (Arc<VsndBackend>, Arc<Control>) {
        let cfg = Config {
            jacks,
            jack_remap: remap,
            streams: 0,
            ..Config::default()
        };
        let opts = Options {
            capture_freq: 0.0,
            capture_amp: 0.0,
            event_idx: false,
            poll_us: 1000,
        };
        let control = Control::with_controls(ControlSet::None.build());
        let b = VsndBackend::new(cfg, opts, control.clone()).unwrap();
        (b, control)
    }

    fn jack_remap_req(jack_id: u32, association: u32, sequence: u32) -> Vec<u8> {
        let mut v = association.to_le_bytes().to_vec();
        v.extend_from_slice(&sequence.to_le_bytes());
        ctl_req(R_JACK_REMAP, jack_id, &v)
    }

    /// JACK_INFO of every jack through the device: (features, hda_reg_defconf) of each.
    fn jack_info(sh: &Arc<Shared>) -> Vec<(u32, u32)> {
        let n = sh.cfg.jacks;
        let mut q = R_JACK_INFO.to_le_bytes().to_vec();
        for x in [0, n, 24] {
            q.extend_from_slice(&x.to_le_bytes());
        }
        let r = sh.handle_ctl(&q, 4 + 24 * n as usize).0;
        assert_eq!(r.status, S_OK);
        (0..n as usize)
            .map(|i| {
                let b = &r.payload[i * 24..];
                (le32(b, 4).unwrap_or(0), le32(b, 8).unwrap_or(0))
            })
            .collect()
    }

    #[test]
    fn jack_remap_through_the_device() {
        let (b, control) = jack_backend(2, true);
        let sh = &b.shared;
        assert_eq!(jack_info(sh), [(1, 0x0101_4010), (1, 0x0181_3010)]);
        let (r, code, stream, ctl) = sh.handle_ctl(&jack_remap_req(1, 2, 5), 4);
        assert_eq!(
            (r, code, stream, ctl),
            (CtlReply::status(S_OK), R_JACK_REMAP, None, None)
        );
        assert_eq!(jack_info(sh), [(1, 0x0101_4010), (1, 0x0181_3025)]);
        let stats = control.execute("stats").unwrap();
        assert!(
            stats.contains("jack 0 connected association 1 sequence 0\njack 1 connected association 2 sequence 5"),
            "{stats}"
        );
        // Errors: short, out of range, too large; nothing changes.
        for (req, want) in [
            (jack_remap_req(0, 3, 3)[..15].to_vec(), S_BAD_MSG),
            (R_JACK_REMAP.to_le_bytes().to_vec(), S_BAD_MSG),
            (jack_remap_req(2, 3, 3), S_BAD_MSG),
            (jack_remap_req(0, 16, 3), S_BAD_MSG),
            (jack_remap_req(0, 3, 16), S_BAD_MSG),
        ] {
            let (r, code, ..) = sh.handle_ctl(&req, 4);
            assert_eq!((r.status, code), (want, R_JACK_REMAP), "{req:?}");
        }
        assert_eq!(jack_info(sh), [(1, 0x0101_4010), (1, 0x0181_3025)]);
        // The connection state is the test control's; a driver reset (GET_VRING_BASE of
        // the control queue) restores the mapping only.
        sh.set_jack(1, false);
        b.stop_vring(QUEUE_CTL as u32).unwrap();
        assert_eq!(jack_info(sh), [(1, 0x0101_4010), (1, 0x0181_3010)]);
        let stats = control.execute("stats").unwrap();
        assert!(
            stats.ends_with("jack 1 disconnected association 1 sequence 0"),
            "{stats}"
        );
        // Stopping an I/O queue is no reset.
        sh.handle_ctl(&jack_remap_req(0, 4, 1), 4);
        b.stop_vring(QUEUE_TX as u32).unwrap();
        assert_eq!(jack_info(sh)[0], (1, 0x0101_4041));
        b.reset_device();
        assert_eq!(jack_info(sh)[0], (1, 0x0101_4010));

        // Without --jack-remap: features 0, JACK_REMAP NOT_SUPP (BAD_MSG if short or out
        // of range), JACK_INFO as before.
        let (b, _) = jack_backend(2, false);
        let sh = &b.shared;
        assert_eq!(jack_info(sh), [(0, 0x0101_4010), (0, 0x0181_3010)]);
        for (req, want) in [
            (jack_remap_req(0, 2, 5), S_NOT_SUPP),
            (jack_remap_req(1, 0, 0), S_NOT_SUPP),
            (jack_remap_req(2, 2, 5), S_BAD_MSG),
            (jack_remap_req(0, 2, 5)[..12].to_vec(), S_BAD_MSG),
        ] {
            assert_eq!(sh.handle_ctl(&req, 4).0.status, want, "{req:?}");
        }
        assert_eq!(jack_info(sh), [(0, 0x0101_4010), (0, 0x0181_3010)]);
        // No jacks: NOT_SUPP, as JACK_INFO.
        let (b, _) = jack_backend(0, true);
        let r = b.shared.handle_ctl(&jack_remap_req(0, 2, 5), 4).0;
        assert_eq!(r.status, S_NOT_SUPP);
    }

    #[test]
    fn durations() {
        assert_eq!(bytes_to_duration(192000, 192000), Duration::from_secs(1));
        assert_eq!(bytes_to_duration(1920, 192000), Duration::from_millis(10));
    }
}
