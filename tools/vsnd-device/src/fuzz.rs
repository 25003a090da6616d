// SPDX-License-Identifier: GPL-2.0
//! Fuzz mode: a hostile device (issue 17). From a seed, the device lies in every way a
//! malicious device can through vhost-user, mixed with valid traffic so that the driver's
//! deeper paths are reached:
//!
//! - control responses: the status (the spec's codes, 0, unknown ones), the fields of the
//!   INFO replies (PCM_INFO, JACK_INFO, CHMAP_INFO, CTL_INFO, CTL_ENUM_ITEMS), the value of
//!   CTL_READ, the TLV of CTL_TLV_READ (its length too), strings without NUL, a response
//!   cut short (used length = what was written), a used length that lies (0, one short, one
//!   over, the buffer, huge), garbage past the response;
//! - I/O completions (tx, rx): the status, the latency, the used length (0, inside the
//!   status, over the buffer, huge), a short write, random capture data;
//! - completion order and timing, on both: late (so out of order; some after the driver's
//!   1000 ms timeout), never, twice (the same head on the used ring again, at once or later:
//!   virtio-queue does not track what it completed, as a hostile device would not), a head
//!   that was never made available, or a used-ring entry whose id is not a descriptor at
//!   all (at or past the queue size: the size, the size plus a few, the head plus 2^16,
//!   0x8000, 0xffff, 2^31, 2^32-1, random; virtio-queue's `add_used` refuses those, so the
//!   device writes that entry into the ring itself, see `WildId`);
//! - the device-readable buffers, before the completion ("scribbles", on both): the
//!   request the driver wrote (another request code, another stream / control / jack id,
//!   another value of a field it might read again: a query's start_id, count and size,
//!   SET_PARAMS' fields, JACK_REMAP's; random bytes), the xfer header's stream id, the
//!   playback data (random bytes or a constant, so this corrupts the audio while fuzzing
//!   is on). A driver that reads its request again after the completion is misled; a
//!   correct one is not;
//! - events, from a thread of their own while fuzzing is on: every code (jack
//!   connect / disconnect, period elapsed, xrun, control notify, unknown ones) with valid,
//!   out-of-range and random data, and sometimes a short or lying used length.
//!
//! What vhost-user does not let a backend do: set NEEDS_RESET (the device status belongs
//! to QEMU's frontend; VHOST_USER_SET_STATUS goes the other way), or signal a configuration
//! change (VHOST_USER_BACKEND_CONFIG_CHANGE_MSG needs the backend channel, which the vhost
//! crate's `Backend` cannot send it on, and QEMU's vhost-user-snd has no config notifier).
//! The config space itself (`jacks`, `streams`, `chmaps`, `controls`) is read once by QEMU
//! and not fuzzed here.
//!
//! Reproducibility: each target (control queue, I/O queues, events) has its own generator,
//! seeded from the seed (splitmix64), so a target's decisions depend only on the seed and on
//! how many of its messages came before: the n-th control response of a run with seed S is
//! mutated the same way every time. Every mutation is logged with the seed and its counter
//! (`fuzz: seed S ctl #N ...`). RATE is the percentage of messages mutated (default 25).

use std::collections::BTreeMap;

use crate::proto::*;

/// splitmix64: small, fast, good enough, and the same on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// 0..n (0 if n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with probability pct %.
    pub fn percent(&mut self, pct: u32) -> bool {
        self.below(100) < u64::from(pct)
    }

    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// Every mutation the fuzzer makes (for the log, the statistics and the tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    CtlStatus,
    CtlField,
    CtlString,
    CtlShort,
    CtlUsedLen,
    CtlExtend,
    CtlDelay,
    CtlDrop,
    CtlTwice,
    CtlBadHead,
    CtlWildId,
    CtlScribble,
    IoStatus,
    IoLatency,
    IoUsedLen,
    IoShort,
    IoGarbage,
    IoDelay,
    IoDrop,
    IoTwice,
    IoWildId,
    IoScribble,
    Event,
    EventBadLen,
}

#[cfg(test)]
pub const ALL_KINDS: [Kind; 24] = [
    Kind::CtlStatus,
    Kind::CtlField,
    Kind::CtlString,
    Kind::CtlShort,
    Kind::CtlUsedLen,
    Kind::CtlExtend,
    Kind::CtlDelay,
    Kind::CtlDrop,
    Kind::CtlTwice,
    Kind::CtlBadHead,
    Kind::CtlWildId,
    Kind::CtlScribble,
    Kind::IoStatus,
    Kind::IoLatency,
    Kind::IoUsedLen,
    Kind::IoShort,
    Kind::IoGarbage,
    Kind::IoDelay,
    Kind::IoDrop,
    Kind::IoTwice,
    Kind::IoWildId,
    Kind::IoScribble,
    Kind::Event,
    Kind::EventBadLen,
];

/// How a (possibly mutated) response is delivered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Write only this many bytes of the response (default: all).
    pub write: Option<usize>,
    /// Used length to report (default: the bytes written).
    pub used: Option<u32>,
    /// Put it on the used ring this many ms late.
    pub delay_ms: Option<u64>,
    /// Never put it on the used ring.
    pub drop: bool,
    /// Put it on the used ring a second time, this many ms after the first.
    pub twice_ms: Option<u64>,
    /// Put this head on the used ring too (one never made available, most likely).
    pub bad_head: Option<u16>,
    /// Put an entry with an id at or past the queue size on the used ring too.
    pub wild_id: Option<WildId>,
    /// Before completing, write these bytes at these offsets of the chain's
    /// device-readable buffers (the request, the xfer header, the playback data).
    pub scribble: Vec<(usize, Vec<u8>)>,
}

/// The id of a used-ring entry that names no descriptor: at or past the queue size, which
/// the fuzzer does not know (the device resolves it with `id`). The split ring's used
/// element id is 32 bits wide; the guest's virtio_ring says "id N out of range" and marks
/// the queue broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WildId {
    /// The queue size plus this (0: the size itself, 1, a few more).
    PastSize(u32),
    /// The completed head plus 2^16: that head again to a driver that keeps 16 bits of it.
    HeadPlus64k,
    /// This value (0x8000: past the ids of the largest split ring; 0xffff, 2^31, 2^32-1),
    /// or the size if it is below it.
    Fixed(u32),
    /// A random id at or past the size, made from this random number.
    Random(u32),
}

impl WildId {
    fn pick(r: &mut Rng) -> WildId {
        match r.below(8) {
            0 | 1 => WildId::PastSize(0),
            2 => WildId::PastSize(1),
            3 => WildId::PastSize(2 + r.below(62) as u32),
            4 => WildId::HeadPlus64k,
            5 => WildId::Fixed(r.pick(&[0x8000, 0xffff])),
            6 => WildId::Fixed(r.pick(&[0x8000_0000, u32::MAX])),
            _ => WildId::Random(r.next_u32()),
        }
    }

    /// The id for a queue of `size` entries, the device completing head `head`: never a
    /// descriptor's (always `size` or more).
    pub fn id(self, size: u16, head: u16) -> u32 {
        let size = u32::from(size);
        match self {
            WildId::PastSize(k) => size.saturating_add(k),
            WildId::HeadPlus64k => 0x1_0000 + u32::from(head),
            WildId::Fixed(v) => v.max(size),
            WildId::Random(v) => size + v % (u32::MAX - size),
        }
    }

    /// For the log.
    fn describe(self) -> String {
        match self {
            WildId::PastSize(0) => "the queue size".into(),
            WildId::PastSize(k) => format!("the queue size + {k}"),
            WildId::HeadPlus64k => "the head + 0x10000".into(),
            WildId::Fixed(v) => format!("{v:#x}"),
            WildId::Random(v) => format!("random (from {v:#x})"),
        }
    }
}

/// A field of an item of an INFO reply: offset, width in bytes.
type Field = (&'static str, usize, usize);

const PCM_FIELDS: [Field; 7] = [
    ("hda_fn_nid", 0, 4),
    ("features", 4, 4),
    ("formats", 8, 8),
    ("rates", 16, 8),
    ("direction", 24, 1),
    ("channels_min", 25, 1),
    ("channels_max", 26, 1),
];
const JACK_FIELDS: [Field; 5] = [
    ("hda_fn_nid", 0, 4),
    ("features", 4, 4),
    ("hda_reg_defconf", 8, 4),
    ("hda_reg_caps", 12, 4),
    ("connected", 16, 1),
];
const CHMAP_FIELDS: [Field; 6] = [
    ("hda_fn_nid", 0, 4),
    ("direction", 4, 1),
    ("channels", 5, 1),
    ("positions[0]", 6, 1),
    ("positions[1]", 7, 1),
    ("positions[17]", 23, 1),
];
const CTL_INFO_FIELDS: [Field; 11] = [
    ("hda_fn_nid", 0, 4),
    ("role", 4, 4),
    ("type", 8, 4),
    ("access", 12, 4),
    ("count", 16, 4),
    ("index", 20, 4),
    ("value.min/items", 72, 4),
    ("value.max", 76, 4),
    ("value.step", 80, 4),
    ("value.min64", 72, 8),
    ("value.max64", 80, 8),
];
const TLV_FIELDS: [Field; 3] = [("type", 0, 4), ("length", 4, 4), ("word0", 8, 4)];

/// The layout of a control reply's payload: item stride, fields, strings (offset, length).
fn layout(code: u32, req: &[u8]) -> (usize, &'static [Field], &'static [(usize, usize)]) {
    let size = le32(req, 12).unwrap_or(0) as usize;
    match code {
        R_PCM_INFO => (size.max(PCM_INFO_SIZE), &PCM_FIELDS, &[]),
        R_JACK_INFO => (size.max(JACK_INFO_SIZE), &JACK_FIELDS, &[]),
        R_CHMAP_INFO => (size.max(CHMAP_INFO_SIZE), &CHMAP_FIELDS, &[]),
        R_CTL_INFO => (
            size.max(CTL_INFO_SIZE),
            &CTL_INFO_FIELDS,
            &[(24, CTL_NAME_SIZE)],
        ),
        R_CTL_ENUM_ITEMS => (CTL_ENUM_ITEM_SIZE, &[], &[(0, CTL_ENUM_ITEM_SIZE)]),
        R_CTL_READ => (4, &[("value", 0, 4)], &[]),
        R_CTL_TLV_READ => (usize::MAX, &TLV_FIELDS, &[]),
        _ => (0, &[], &[]),
    }
}

/// A value for a field of `width` bytes that a driver must not trust.
fn nasty(rng: &mut Rng, width: usize) -> u64 {
    let max = if width >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * width)) - 1
    };
    let v = match rng.below(9) {
        0 => 0,
        1 => 1,
        2 => max,
        3 => max >> 1,
        4 => (max >> 1) + 1,
        5 => rng.below(8),
        6 => rng.below(300),
        7 => max - rng.below(4),
        _ => rng.next_u64(),
    };
    v & max
}

/// Another value for a field of `width` bytes that holds `old`: a neighbour (another id),
/// a small number, or a value a driver must not trust; never `old`.
fn lie(r: &mut Rng, old: u64, width: usize) -> u64 {
    let max = if width >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * width)) - 1
    };
    let v = match r.below(4) {
        0 => old ^ 1,
        1 => old.wrapping_add(1),
        2 => r.below(8),
        _ => nasty(r, width),
    } & max;
    if v == old {
        (old ^ 1) & max
    } else {
        v
    }
}

/// The little-endian value of `width` bytes at `off` (0 past the end).
fn load(buf: &[u8], off: usize, width: usize) -> u64 {
    let mut b = [0u8; 8];
    for (i, x) in b.iter_mut().take(width).enumerate() {
        *x = buf.get(off + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

const QUERY_FIELDS: [Field; 3] = [("start_id", 4, 4), ("count", 8, 4), ("size", 12, 4)];
const SET_PARAMS_FIELDS: [Field; 7] = [
    ("stream_id", 4, 4),
    ("buffer_bytes", 8, 4),
    ("period_bytes", 12, 4),
    ("features", 16, 4),
    ("channels", 20, 1),
    ("format", 21, 1),
    ("rate", 22, 1),
];
const PCM_FIELDS_REQ: [Field; 1] = [("stream_id", 4, 4)];
const JACK_REMAP_FIELDS: [Field; 3] = [
    ("jack_id", 4, 4),
    ("association", 8, 4),
    ("sequence", 12, 4),
];
const CTL_FIELDS_REQ: [Field; 1] = [("control_id", 4, 4)];

/// The fields of a request (after its code) that a driver might read again.
fn req_fields(code: u32) -> &'static [Field] {
    match code {
        R_JACK_INFO | R_PCM_INFO | R_CHMAP_INFO | R_CTL_INFO => &QUERY_FIELDS,
        R_PCM_SET_PARAMS => &SET_PARAMS_FIELDS,
        R_PCM_PREPARE | R_PCM_RELEASE | R_PCM_START | R_PCM_STOP => &PCM_FIELDS_REQ,
        R_JACK_REMAP => &JACK_REMAP_FIELDS,
        R_CTL_ENUM_ITEMS..=R_CTL_TLV_COMMAND => &CTL_FIELDS_REQ,
        _ => &[],
    }
}

/// `n` random bytes (1 to 64, within `len` bytes) at a random offset of `len` bytes, or
/// None if `len` is 0.
fn random_span(r: &mut Rng, len: usize) -> Option<(usize, Vec<u8>)> {
    if len == 0 {
        return None;
    }
    let off = r.below(len as u64) as usize;
    let n = 1 + r.below((len - off).min(64) as u64) as usize;
    Some((off, (0..n).map(|_| r.next_u32() as u8).collect()))
}

/// A scribble on the request `req` (code `code`) the driver wrote: another code, another
/// value of one of its fields, or random bytes; what to write where, and the log text.
fn scribble_req(r: &mut Rng, code: u32, req: &[u8]) -> Option<((usize, Vec<u8>), String)> {
    let fields: Vec<Field> = req_fields(code)
        .iter()
        .copied()
        .filter(|&(_, off, width)| off + width <= req.len())
        .collect();
    match r.below(8) {
        0..=2 if req.len() >= HDR_SIZE => {
            let mut c = if r.below(4) == 0 {
                r.next_u32()
            } else {
                r.pick(&REQUEST_CODES)
            };
            if c == code {
                c ^= 1;
            }
            Some((
                (0, c.to_le_bytes().to_vec()),
                format!("request code -> {c:#x} ({})", code_name(c)),
            ))
        }
        3..=5 if !fields.is_empty() => {
            let (name, off, width) = r.pick(&fields);
            let old = load(req, off, width);
            let v = lie(r, old, width);
            Some((
                (off, v.to_le_bytes()[..width].to_vec()),
                format!("request {name} {old:#x} -> {v:#x}"),
            ))
        }
        _ => {
            let (off, b) = random_span(r, req.len())?;
            let text = format!("{} random bytes at {off} of the request", b.len());
            Some(((off, b), text))
        }
    }
}

/// A scribble on an I/O message's device-readable bytes (`readable`: the xfer header, then
/// the playback data of a tx message) of stream `stream` (None: a bad message): another
/// stream id, playback data overwritten (random or a constant), or random bytes anywhere.
fn scribble_xfer(
    r: &mut Rng,
    rx: bool,
    stream: Option<u32>,
    readable: usize,
) -> Option<((usize, Vec<u8>), String)> {
    match r.below(4) {
        0 | 1 if readable >= XFER_SIZE => {
            let v = match stream {
                Some(s) => lie(r, u64::from(s), 4),
                None => nasty(r, 4),
            };
            Some((
                (0, (v as u32).to_le_bytes().to_vec()),
                format!(
                    "xfer stream_id {}-> {v:#x}",
                    stream.map_or(String::new(), |s| format!("{s} "))
                ),
            ))
        }
        2 if !rx && readable > XFER_SIZE => {
            let data = readable - XFER_SIZE;
            let off = r.below(data as u64) as usize;
            let n = if r.below(3) == 0 {
                data - off
            } else {
                1 + r.below((data - off).min(256) as u64) as usize
            };
            let (b, what): (Vec<u8>, String) = if r.below(2) == 0 {
                (
                    (0..n).map(|_| r.next_u32() as u8).collect(),
                    "random".into(),
                )
            } else {
                let c = r.pick(&[0x00, 0x7f, 0x80, 0xff]);
                (vec![c; n], format!("{c:#04x}"))
            };
            Some((
                (XFER_SIZE + off, b),
                format!("{n} bytes of playback data at {off} = {what}"),
            ))
        }
        _ => {
            let (off, b) = random_span(r, readable)?;
            let text = format!("{} random bytes at {off} of the readable buffers", b.len());
            Some(((off, b), text))
        }
    }
}

fn store(buf: &mut [u8], off: usize, width: usize, v: u64) {
    for (i, b) in v.to_le_bytes().into_iter().take(width).enumerate() {
        if let Some(x) = buf.get_mut(off + i) {
            *x = b;
        }
    }
}

const STATUSES: [u32; 8] = [
    S_OK,
    S_BAD_MSG,
    S_NOT_SUPP,
    S_IO_ERR,
    0,
    0x8004,
    0xffff_ffff,
    0x7fff,
];

/// One target's generator and counter.
#[derive(Clone, Debug)]
struct Stream {
    rng: Rng,
    n: u64,
}

impl Stream {
    fn new(seed: u64, salt: u64) -> Stream {
        let mut r = Rng::new(seed ^ salt);
        r.next_u64();
        Stream { rng: r, n: 0 }
    }
}

/// The fuzzer: its seed, its rate, a generator per target, what it did.
#[derive(Clone, Debug)]
pub struct Fuzzer {
    pub seed: u64,
    pub rate: u32,
    ctl: Stream,
    io: Stream,
    evt: Stream,
    pub counts: BTreeMap<Kind, u64>,
    /// Messages seen (control, I/O) and events sent.
    pub seen: [u64; 3],
}

impl Fuzzer {
    pub fn new(seed: u64, rate: u32) -> Fuzzer {
        Fuzzer {
            seed,
            rate: rate.min(100),
            ctl: Stream::new(seed, 0x6374_6c00),
            io: Stream::new(seed, 0x696f_0000),
            evt: Stream::new(seed, 0x6576_7400),
            counts: BTreeMap::new(),
            seen: [0; 3],
        }
    }

    fn note(&mut self, k: Kind) {
        *self.counts.entry(k).or_default() += 1;
    }

    /// The statistics line of `fuzz` and `fuzz off`.
    pub fn summary(&self) -> String {
        let kinds: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{k:?}={n}"))
            .collect();
        format!(
            "seed {} rate {}%: {} control responses, {} I/O completions, {} events; {}",
            self.seed,
            self.rate,
            self.seen[0],
            self.seen[1],
            self.seen[2],
            if kinds.is_empty() {
                "no mutation".into()
            } else {
                kinds.join(" ")
            }
        )
    }

    /// Mutates a control response (`resp`: status and payload, as the device would send it)
    /// to request `req` (its code `code`), whose device-writable buffer has `cap` bytes.
    /// Returns how to deliver it and what was done (for the log), or None: sent as it is.
    pub fn ctl(
        &mut self,
        code: u32,
        req: &[u8],
        resp: &mut Vec<u8>,
        cap: usize,
    ) -> Option<(Delivery, String)> {
        self.seen[0] += 1;
        self.ctl.n += 1;
        let n = self.ctl.n;
        if !self.ctl.rng.percent(self.rate) {
            return None;
        }
        let r = &mut self.ctl.rng;
        let mut d = Delivery::default();
        let mut what = Vec::new();
        let mut kinds = Vec::new();
        let (stride, fields, strings) = layout(code, req);
        let payload = resp.len().saturating_sub(HDR_SIZE);
        // One to three mutations; a mutated message is mostly still a plausible one.
        for _ in 0..1 + r.below(3) {
            let pick = r.below(100);
            match pick {
                0..=14 => {
                    let s = if r.below(4) == 0 {
                        r.next_u32()
                    } else {
                        r.pick(&STATUSES)
                    };
                    store(resp, 0, 4, u64::from(s));
                    what.push(format!("status {s:#x}"));
                    kinds.push(Kind::CtlStatus);
                }
                15..=54 if payload > 0 && !fields.is_empty() => {
                    let stride = stride.min(payload).max(1);
                    let items = payload.div_ceil(stride);
                    for _ in 0..1 + r.below(3) {
                        let item = r.below(items as u64) as usize;
                        let (name, off, width) = r.pick(fields);
                        let v = nasty(r, width);
                        let at = HDR_SIZE + item * stride + off;
                        if at + width <= resp.len() {
                            store(resp, at, width, v);
                            what.push(format!("{}[{item}].{name} = {v:#x}", code_name(code)));
                        }
                    }
                    kinds.push(Kind::CtlField);
                }
                55..=61 if payload > 0 && !strings.is_empty() => {
                    let stride = stride.min(payload).max(1);
                    let item = r.below(payload.div_ceil(stride) as u64) as usize;
                    let (off, len) = r.pick(strings);
                    let at = HDR_SIZE + item * stride + off;
                    for i in at..(at + len).min(resp.len()) {
                        // Printable, never NUL; sometimes high bytes (not ASCII).
                        resp[i] = if r.below(8) == 0 {
                            0x80 | r.below(0x80) as u8
                        } else {
                            b'A' + r.below(26) as u8
                        };
                    }
                    what.push(format!("{}[{item}] string without NUL", code_name(code)));
                    kinds.push(Kind::CtlString);
                }
                62..=69 => {
                    let w = r.below(resp.len() as u64 + 1) as usize;
                    d.write = Some(w);
                    d.used = Some(w as u32);
                    what.push(format!("short: {w} of {} bytes", resp.len()));
                    kinds.push(Kind::CtlShort);
                }
                70..=77 => {
                    let len = resp.len() as u32;
                    let u = match r.below(8) {
                        0 => 0,
                        1 => 1,
                        2 => len.saturating_sub(1),
                        3 => len + 1,
                        4 => cap as u32,
                        5 => cap as u32 + 1 + r.below(4096) as u32,
                        6 => u32::MAX,
                        _ => r.next_u32(),
                    };
                    d.used = Some(u);
                    what.push(format!("used length {u} (wrote {len})"));
                    kinds.push(Kind::CtlUsedLen);
                }
                78..=80 => {
                    let extra = r.below(64) as usize + 1;
                    for _ in 0..extra {
                        resp.push(r.next_u32() as u8);
                    }
                    what.push(format!("{extra} bytes of garbage after the response"));
                    kinds.push(Kind::CtlExtend);
                }
                81..=89 => {
                    let ms = if r.below(4) == 0 {
                        900 + r.below(1600)
                    } else {
                        1 + r.below(300)
                    };
                    d.delay_ms = Some(ms);
                    what.push(format!("{ms} ms late"));
                    kinds.push(Kind::CtlDelay);
                }
                90..=92 => {
                    d.drop = true;
                    what.push("never answered".into());
                    kinds.push(Kind::CtlDrop);
                }
                // A second completion, a head never made available or an id that is no
                // descriptor's breaks the virtqueue for good (the guest's virtio_ring marks
                // it broken): rare, so that the rest of the run reaches further.
                93..=94 => {
                    let ms = if r.below(2) == 0 { 0 } else { r.below(300) };
                    d.twice_ms = Some(ms);
                    what.push(format!("completed twice (again after {ms} ms)"));
                    kinds.push(Kind::CtlTwice);
                }
                95 => {
                    let h = r.below(64) as u16;
                    d.bad_head = Some(h);
                    what.push(format!("also completes head {h}"));
                    kinds.push(Kind::CtlBadHead);
                }
                96 => {
                    let w = WildId::pick(r);
                    d.wild_id = Some(w);
                    what.push(format!("used-ring entry with id {}", w.describe()));
                    kinds.push(Kind::CtlWildId);
                }
                // Write into the request the driver wrote, before the completion (rare:
                // only a driver that reads its request again afterwards is affected).
                97..=99 if !req.is_empty() => {
                    if let Some((s, text)) = scribble_req(r, code, req) {
                        d.scribble.push(s);
                        what.push(format!("scribbles: {text}"));
                        kinds.push(Kind::CtlScribble);
                    }
                }
                _ => {
                    let s = r.pick(&STATUSES);
                    store(resp, 0, 4, u64::from(s));
                    what.push(format!("status {s:#x}"));
                    kinds.push(Kind::CtlStatus);
                }
            }
        }
        for k in kinds {
            self.note(k);
        }
        Some((
            d,
            format!(
                "fuzz: seed {} ctl #{n} {}: {}",
                self.seed,
                code_name(code),
                what.join(", ")
            ),
        ))
    }

    /// Mutates an I/O completion: `resp` is the data (rx) then the status; `rx` says which
    /// queue; `stream` is the message's stream (None: a bad message); `readable` and `cap`
    /// are the chain's device-readable (xfer header, playback data) and device-writable
    /// sizes.
    pub fn io(
        &mut self,
        rx: bool,
        stream: Option<u32>,
        readable: usize,
        resp: &mut [u8],
        cap: usize,
    ) -> Option<(Delivery, String)> {
        self.seen[1] += 1;
        self.io.n += 1;
        let n = self.io.n;
        if !self.io.rng.percent(self.rate) {
            return None;
        }
        let r = &mut self.io.rng;
        let mut d = Delivery::default();
        let mut what = Vec::new();
        let mut kinds = Vec::new();
        let st = resp.len().saturating_sub(STATUS_SIZE);
        for _ in 0..1 + r.below(2) {
            match r.below(100) {
                0..=14 => {
                    let s = if r.below(4) == 0 {
                        r.next_u32()
                    } else {
                        r.pick(&STATUSES)
                    };
                    store(resp, st, 4, u64::from(s));
                    what.push(format!("status {s:#x}"));
                    kinds.push(Kind::IoStatus);
                }
                15..=24 => {
                    let l = nasty(r, 4);
                    store(resp, st + 4, 4, l);
                    what.push(format!("latency_bytes {l}"));
                    kinds.push(Kind::IoLatency);
                }
                25..=44 => {
                    let len = resp.len() as u32;
                    let u = match r.below(9) {
                        0 => 0,
                        1 => 1 + r.below(7) as u32,
                        2 => STATUS_SIZE as u32,
                        3 => len.saturating_sub(1),
                        4 => len + 1,
                        5 => cap as u32 + 1 + r.below(65536) as u32,
                        6 => u32::MAX,
                        7 => len.saturating_mul(2),
                        _ => r.next_u32(),
                    };
                    d.used = Some(u);
                    what.push(format!("used length {u} (wrote {len})"));
                    kinds.push(Kind::IoUsedLen);
                }
                45..=54 => {
                    let w = r.below(resp.len() as u64 + 1) as usize;
                    d.write = Some(w);
                    d.used = Some(w as u32);
                    what.push(format!("short: {w} of {} bytes", resp.len()));
                    kinds.push(Kind::IoShort);
                }
                55..=64 if rx && st > 0 => {
                    for b in &mut resp[..st] {
                        *b = r.next_u32() as u8;
                    }
                    what.push(format!("{st} bytes of random capture data"));
                    kinds.push(Kind::IoGarbage);
                }
                65..=84 => {
                    let ms = if r.below(5) == 0 {
                        900 + r.below(2000)
                    } else {
                        1 + r.below(200)
                    };
                    d.delay_ms = Some(ms);
                    what.push(format!("{ms} ms late"));
                    kinds.push(Kind::IoDelay);
                }
                85..=91 => {
                    d.drop = true;
                    what.push("never completed".into());
                    kinds.push(Kind::IoDrop);
                }
                // A second completion and an id that is no descriptor's (94) break the
                // queue for good (see `ctl`): rare.
                92..=93 => {
                    let ms = if r.below(2) == 0 { 0 } else { r.below(300) };
                    d.twice_ms = Some(ms);
                    what.push(format!("completed twice (again after {ms} ms)"));
                    kinds.push(Kind::IoTwice);
                }
                94 => {
                    let w = WildId::pick(r);
                    d.wild_id = Some(w);
                    what.push(format!("used-ring entry with id {}", w.describe()));
                    kinds.push(Kind::IoWildId);
                }
                // Write into the xfer header or the playback data, before the completion
                // (rare: only a driver that reads them again afterwards is affected; it
                // corrupts the audio, while fuzzing is on only).
                95..=97 if readable > 0 => {
                    if let Some((s, text)) = scribble_xfer(r, rx, stream, readable) {
                        d.scribble.push(s);
                        what.push(format!("scribbles: {text}"));
                        kinds.push(Kind::IoScribble);
                    }
                }
                _ => {
                    let s = r.pick(&STATUSES);
                    store(resp, st, 4, u64::from(s));
                    what.push(format!("status {s:#x}"));
                    kinds.push(Kind::IoStatus);
                }
            }
        }
        for k in kinds {
            self.note(k);
        }
        Some((
            d,
            format!(
                "fuzz: seed {} io #{n} {}: {}",
                self.seed,
                if rx { "rx" } else { "tx" },
                what.join(", ")
            ),
        ))
    }

    /// The next event: milliseconds to wait before it, code, data, used length (None: the
    /// event's 8 bytes), for a device of `jacks` jacks, `streams` streams and `controls`
    /// control elements.
    pub fn event(
        &mut self,
        jacks: u32,
        streams: u32,
        controls: u32,
    ) -> (u64, u32, u32, Option<u32>, String) {
        self.seen[2] += 1;
        self.evt.n += 1;
        let n = self.evt.n;
        let r = &mut self.evt.rng;
        // Fewer events at a low rate: about 1.5 per second at 30 %.
        let wait = 20 + r.below(40 + 30_000 / u64::from(self.rate.max(1)));
        let code = match r.below(12) {
            0 | 1 => EVT_JACK_CONNECTED,
            2 | 3 => EVT_JACK_DISCONNECTED,
            4 | 5 => EVT_PCM_PERIOD_ELAPSED,
            6 | 7 => EVT_PCM_XRUN,
            8 | 9 => EVT_CTL_NOTIFY,
            10 => r.pick(&[0, 0x1002, 0x1102, 0x1201, 0x2000, 0xffff_ffff]),
            _ => r.next_u32(),
        };
        let valid = match code {
            EVT_JACK_CONNECTED | EVT_JACK_DISCONNECTED => jacks,
            EVT_PCM_PERIOD_ELAPSED | EVT_PCM_XRUN => streams,
            EVT_CTL_NOTIFY => controls,
            _ => 0,
        };
        let id = match r.below(6) {
            0..=2 if valid > 0 => r.below(u64::from(valid)) as u32,
            3 => valid + r.below(4) as u32,
            4 => u32::MAX,
            _ => r.next_u32(),
        };
        let data = if code == EVT_CTL_NOTIFY {
            let mask = if r.below(3) == 0 {
                r.next_u32() as u16
            } else {
                1 + r.below(7) as u16
            };
            ctl_notify_data(id as u16, mask)
        } else {
            id
        };
        let used = match r.below(10) {
            0 => Some(r.below(EVENT_SIZE as u64) as u32),
            1 => Some(r.pick(&[9, 64, 4096, u32::MAX])),
            _ => None,
        };
        self.note(if used.is_some() {
            Kind::EventBadLen
        } else {
            Kind::Event
        });
        let text = format!(
            "fuzz: seed {} event #{n}: code {code:#x} data {data:#x}{}",
            self.seed,
            used.map_or(String::new(), |u| format!(" used length {u}"))
        );
        (wait, code, data, used, text)
    }
}

/// Parses "SEED[:RATE]" (`--fuzz`) or the words "SEED [RATE]" (`fuzz on`).
pub fn parse_seed_rate(seed: &str, rate: Option<&str>) -> Result<(u64, u32), String> {
    let num = |s: &str| -> Result<u64, String> {
        let r = match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => s.parse(),
        };
        r.map_err(|_| format!("bad number '{s}'"))
    };
    let (seed, rate) = match (seed.split_once(':'), rate) {
        (Some((s, r)), None) => (s, Some(r)),
        (Some(_), Some(_)) => return Err("SEED:RATE or SEED RATE, not both".into()),
        (None, r) => (seed, r),
    };
    let rate = rate.map_or(Ok(25), num)?;
    if rate > 100 {
        return Err(format!("rate {rate} is over 100 (%)"));
    }
    Ok((num(seed)?, rate as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm_info_req(count: u32) -> Vec<u8> {
        let mut q = R_PCM_INFO.to_le_bytes().to_vec();
        for x in [0, count, PCM_INFO_SIZE as u32] {
            q.extend_from_slice(&x.to_le_bytes());
        }
        q
    }

    /// Feeds a fuzzer a fixed sequence of messages; returns every log line and response.
    fn run(seed: u64, rate: u32, n: usize) -> (Vec<String>, Fuzzer) {
        let mut f = Fuzzer::new(seed, rate);
        let mut out = Vec::new();
        let codes = [
            R_PCM_INFO,
            R_JACK_INFO,
            R_CHMAP_INFO,
            R_CTL_INFO,
            R_CTL_ENUM_ITEMS,
            R_CTL_READ,
            R_CTL_TLV_READ,
            R_PCM_SET_PARAMS,
            R_PCM_START,
        ];
        for i in 0..n {
            let code = codes[i % codes.len()];
            let mut req = code.to_le_bytes().to_vec();
            let size = match code {
                R_PCM_INFO => PCM_INFO_SIZE,
                R_CTL_INFO => CTL_INFO_SIZE,
                _ => 24,
            };
            for x in [0u32, 2, size as u32] {
                req.extend_from_slice(&x.to_le_bytes());
            }
            let mut resp = S_OK.to_le_bytes().to_vec();
            resp.resize(HDR_SIZE + 2 * size, 0);
            let cap = resp.len();
            if let Some((d, line)) = f.ctl(code, &req, &mut resp, cap) {
                out.push(format!("{line} {d:?} {resp:?}"));
            }
            let rx = i % 2 == 1;
            let mut io = vec![0u8; if rx { 64 + STATUS_SIZE } else { STATUS_SIZE }];
            let cap = io.len();
            let readable = if rx { XFER_SIZE } else { XFER_SIZE + 64 };
            if let Some((d, line)) = f.io(rx, Some(i as u32 % 4), readable, &mut io, cap) {
                out.push(format!("{line} {d:?} {io:?}"));
            }
            if i % 4 == 0 {
                out.push(format!("{:?}", f.event(2, 4, 13)));
            }
        }
        (out, f)
    }

    #[test]
    fn rng_is_splitmix64() {
        // The reference values of splitmix64 from seed 0 (Vigna's splitmix64.c).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert!((0..1000).all(|_| r.below(7) < 7));
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn same_seed_same_mutations() {
        let (a, fa) = run(42, 30, 2000);
        let (b, fb) = run(42, 30, 2000);
        assert_eq!(a, b);
        assert_eq!(fa.counts, fb.counts);
        assert!(!a.is_empty());
        let (c, _) = run(43, 30, 2000);
        assert_ne!(a, c);
        // Each line names its seed and counter.
        assert!(
            a[0].starts_with("fuzz: seed 42 ") || a[0].starts_with('('),
            "{}",
            a[0]
        );
    }

    /// A target's decisions depend only on its own messages: control traffic does not shift
    /// the I/O mutations.
    #[test]
    fn targets_are_independent() {
        let mut f = Fuzzer::new(7, 50);
        let mut g = Fuzzer::new(7, 50);
        let req = pcm_info_req(1);
        for _ in 0..100 {
            let mut resp = vec![0u8; 36];
            f.ctl(R_PCM_INFO, &req, &mut resp, 36);
        }
        for _ in 0..500 {
            let (mut a, mut b) = (vec![0u8; 8], vec![0u8; 8]);
            assert_eq!(
                f.io(false, Some(0), 68, &mut a, 8),
                g.io(false, Some(0), 68, &mut b, 8)
            );
            assert_eq!(a, b);
        }
    }

    #[test]
    fn rate_zero_and_hundred() {
        let (a, f) = run(1, 0, 500);
        assert!(
            a.iter().all(|l| l.starts_with('(')),
            "only events at rate 0"
        );
        assert!(f
            .counts
            .keys()
            .all(|k| matches!(k, Kind::Event | Kind::EventBadLen)));
        let mut f = Fuzzer::new(1, 100);
        let req = pcm_info_req(1);
        for _ in 0..100 {
            let mut resp = vec![0u8; 36];
            assert!(f.ctl(R_PCM_INFO, &req, &mut resp, 36).is_some());
        }
    }

    #[test]
    fn every_kind_is_reachable() {
        let (_, f) = run(5, 60, 20000);
        for k in ALL_KINDS {
            assert!(
                f.counts.get(&k).copied().unwrap_or(0) > 0,
                "{k:?} never made"
            );
        }
    }

    /// The fields of an INFO reply are mutated in place: the response keeps its length,
    /// and every field of PCM_INFO gets hit.
    #[test]
    fn info_fields_hit() {
        let mut f = Fuzzer::new(9, 100);
        let req = pcm_info_req(2);
        let mut names = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            let mut resp = vec![0u8; HDR_SIZE + 2 * PCM_INFO_SIZE];
            if let Some((_, line)) =
                f.ctl(R_PCM_INFO, &req, &mut resp, HDR_SIZE + 2 * PCM_INFO_SIZE)
            {
                for (name, ..) in PCM_FIELDS {
                    if line.contains(&format!("].{name} = ")) {
                        names.insert(name);
                    }
                }
                assert!(resp.len() >= HDR_SIZE + 2 * PCM_INFO_SIZE);
            }
        }
        assert_eq!(names.len(), PCM_FIELDS.len(), "{names:?}");
    }

    #[test]
    fn strings_lose_their_nul() {
        let mut f = Fuzzer::new(11, 100);
        let mut req = R_CTL_INFO.to_le_bytes().to_vec();
        for x in [0u32, 1, CTL_INFO_SIZE as u32] {
            req.extend_from_slice(&x.to_le_bytes());
        }
        let mut seen = false;
        for _ in 0..500 {
            let mut resp = vec![0u8; HDR_SIZE + CTL_INFO_SIZE];
            if let Some((_, line)) = f.ctl(R_CTL_INFO, &req, &mut resp, HDR_SIZE + CTL_INFO_SIZE) {
                if line.contains("string without NUL") {
                    let name = &resp[HDR_SIZE + 24..HDR_SIZE + 24 + CTL_NAME_SIZE];
                    if !line.contains(" = ") {
                        assert!(!name.contains(&0), "{line}");
                    }
                    seen = true;
                }
            }
        }
        assert!(seen);
    }

    /// A wild id is never a descriptor's, whatever the queue size, and the fuzzer makes
    /// every sort of them.
    #[test]
    fn wild_ids_are_past_the_queue_size() {
        assert_eq!(WildId::PastSize(0).id(64, 3), 64);
        assert_eq!(WildId::PastSize(1).id(64, 3), 65);
        assert_eq!(WildId::HeadPlus64k.id(64, 3), 0x1_0003);
        assert_eq!(WildId::Fixed(0xffff).id(64, 0), 0xffff);
        assert_eq!(WildId::Fixed(0x8000).id(0xffff, 0), 0xffff);
        assert_eq!(WildId::Fixed(u32::MAX).id(8, 0), u32::MAX);
        assert!(WildId::Random(u32::MAX).id(1024, 0) >= 1024);
        let mut r = Rng::new(17);
        let mut sorts = std::collections::HashSet::new();
        for size in [1u16, 2, 8, 64, 256, 1024, 32768, 0xffff] {
            for _ in 0..2000 {
                let w = WildId::pick(&mut r);
                let head = r.below(u64::from(size)) as u16;
                let id = w.id(size, head);
                assert!(id >= u32::from(size), "{w:?} size {size} head {head}: {id}");
                sorts.insert(std::mem::discriminant(&w));
                if let WildId::Random(v) = w {
                    assert_eq!(WildId::Random(v).id(size, head), id);
                }
            }
        }
        assert_eq!(sorts.len(), 4);
    }

    /// The mutations that break a queue for good (twice, a head never made available, a
    /// wild id) stay rare, as do the scribbles: per mutation made, about 2 %, 1 %, 1 %
    /// and 3 % of the control ones, 2 %, 1 % and 3 % of the I/O ones.
    #[test]
    fn breaking_mutations_are_rare() {
        let (_, f) = run(23, 100, 30000);
        let n = |k: Kind| f.counts.get(&k).copied().unwrap_or(0) as f64;
        let ctl: f64 = ALL_KINDS
            .iter()
            .filter(|k| format!("{k:?}").starts_with("Ctl"))
            .map(|&k| n(k))
            .sum();
        let io: f64 = ALL_KINDS
            .iter()
            .filter(|k| format!("{k:?}").starts_with("Io"))
            .map(|&k| n(k))
            .sum();
        for (k, total, pct) in [
            (Kind::CtlTwice, ctl, 2.0),
            (Kind::CtlBadHead, ctl, 1.0),
            (Kind::CtlWildId, ctl, 1.0),
            (Kind::CtlScribble, ctl, 3.0),
            (Kind::IoTwice, io, 2.0),
            (Kind::IoWildId, io, 1.0),
            (Kind::IoScribble, io, 3.0),
        ] {
            let got = 100.0 * n(k) / total;
            assert!(
                (pct * 0.7..pct * 1.3).contains(&got),
                "{k:?}: {got:.2} % of {total} mutations, not about {pct} %"
            );
        }
    }

    fn req(code: u32, len: usize) -> Vec<u8> {
        let mut q = code.to_le_bytes().to_vec();
        q.extend((1..).take(len - HDR_SIZE).map(|i: u32| (i * 7) as u8));
        q
    }

    /// Scribbles on a request stay inside it (the bytes the device read), and a lie
    /// changes what it lies about: another code, another value of the field.
    #[test]
    fn request_scribbles() {
        let mut f = Fuzzer::new(29, 100);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..40000 {
            let (code, len) = [
                (R_PCM_INFO, QUERY_INFO_SIZE),
                (R_PCM_SET_PARAMS, SET_PARAMS_SIZE),
                (R_PCM_START, PCM_HDR_SIZE),
                (R_JACK_REMAP, JACK_REMAP_SIZE),
                (R_CTL_WRITE, CTL_HDR_SIZE + 4),
                (R_PCM_STOP, 6),
                (0x4242, 2),
            ][i % 7];
            let q = req(code, len.max(HDR_SIZE));
            let q = &q[..len];
            let mut resp = vec![0u8; HDR_SIZE];
            let Some((d, line)) = f.ctl(code, q, &mut resp, HDR_SIZE) else {
                continue;
            };
            assert_eq!(
                d.scribble.is_empty(),
                !line.contains("scribbles: "),
                "{line}"
            );
            for (off, b) in &d.scribble {
                assert!(!b.is_empty() && off + b.len() <= q.len(), "{line}: {off}");
            }
            if d.scribble.len() != 1 || line.matches("scribbles: ").count() != 1 {
                continue;
            }
            let (off, b) = &d.scribble[0];
            let mut after = q.to_vec();
            after[*off..off + b.len()].copy_from_slice(b);
            let text = line.split("scribbles: ").nth(1).unwrap();
            if text.starts_with("request code") {
                assert_ne!(le32(&after, 0), Some(code), "{line}");
                seen.insert("code".to_string());
            } else if let Some(name) = text.strip_prefix("request ") {
                assert_ne!(after, q, "{line}");
                let name = name.split(' ').next().unwrap();
                assert!(req_fields(code).iter().any(|fl| fl.0 == name), "{line}");
                seen.insert(format!("{}.{name}", code_name(code)));
            } else {
                assert!(text.contains("random bytes at"), "{line}");
                seen.insert("random".to_string());
            }
        }
        for want in [
            "code",
            "random",
            "PCM_INFO.start_id",
            "PCM_INFO.count",
            "PCM_INFO.size",
            "PCM_SET_PARAMS.stream_id",
            "PCM_SET_PARAMS.period_bytes",
            "PCM_SET_PARAMS.rate",
            "PCM_START.stream_id",
            "JACK_REMAP.sequence",
            "CTL_WRITE.control_id",
        ] {
            assert!(seen.contains(want), "{want} never scribbled: {seen:?}");
        }
        // A request too short for its fields gets its code or random bytes only.
        assert!(!seen.contains("PCM_STOP.stream_id"));
    }

    /// Scribbles on an I/O message stay inside its device-readable bytes: only the header
    /// of an rx message; a tx message's header and playback data.
    #[test]
    fn xfer_scribbles() {
        let mut f = Fuzzer::new(31, 100);
        let (mut header, mut data, mut rx_seen) = (0, 0, 0);
        for i in 0..40000 {
            let rx = i % 2 == 1;
            let readable = if rx { XFER_SIZE } else { XFER_SIZE + 1024 };
            let mut resp = vec![0u8; STATUS_SIZE];
            let Some((d, line)) = f.io(rx, Some(2), readable, &mut resp, STATUS_SIZE) else {
                continue;
            };
            for (off, b) in &d.scribble {
                assert!(!b.is_empty() && off + b.len() <= readable, "{line}");
                if line.contains("xfer stream_id") && *off == 0 && b.len() == 4 {
                    assert_ne!(le32(b, 0), Some(2), "{line}");
                    header += 1;
                }
                if *off >= XFER_SIZE {
                    assert!(!rx);
                    data += 1;
                }
                rx_seen += usize::from(rx);
            }
        }
        assert!(
            header > 0 && data > 0 && rx_seen > 0,
            "{header} {data} {rx_seen}"
        );
        // A message without device-readable bytes is never scribbled on.
        let mut f = Fuzzer::new(31, 100);
        for _ in 0..5000 {
            let mut resp = vec![0u8; STATUS_SIZE];
            let (d, _) = f.io(false, None, 0, &mut resp, STATUS_SIZE).unwrap();
            assert!(d.scribble.is_empty());
        }
    }

    #[test]
    fn events_cover_every_code() {
        let mut f = Fuzzer::new(3, 25);
        let mut codes = std::collections::BTreeSet::new();
        for _ in 0..2000 {
            let (wait, code, _, _, _) = f.event(1, 2, 3);
            assert!((20..20 + 40 + 30_000 / 25).contains(&wait));
            codes.insert(code);
        }
        for c in [
            EVT_JACK_CONNECTED,
            EVT_JACK_DISCONNECTED,
            EVT_PCM_PERIOD_ELAPSED,
            EVT_PCM_XRUN,
            EVT_CTL_NOTIFY,
            0,
        ] {
            assert!(codes.contains(&c), "{c:#x}");
        }
    }

    #[test]
    fn seed_and_rate() {
        assert_eq!(parse_seed_rate("42", None), Ok((42, 25)));
        assert_eq!(parse_seed_rate("42:60", None), Ok((42, 60)));
        assert_eq!(parse_seed_rate("0x10", Some("5")), Ok((16, 5)));
        assert!(parse_seed_rate("1:2", Some("3")).is_err());
        assert!(parse_seed_rate("1", Some("101")).is_err());
        assert!(parse_seed_rate("x", None).is_err());
    }
}
