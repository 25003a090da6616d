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
//!   virtio-queue does not track what it completed, as a hostile device would not), or a
//!   head that was never made available;
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
    IoStatus,
    IoLatency,
    IoUsedLen,
    IoShort,
    IoGarbage,
    IoDelay,
    IoDrop,
    IoTwice,
    Event,
    EventBadLen,
}

#[cfg(test)]
pub const ALL_KINDS: [Kind; 20] = [
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
    Kind::IoStatus,
    Kind::IoLatency,
    Kind::IoUsedLen,
    Kind::IoShort,
    Kind::IoGarbage,
    Kind::IoDelay,
    Kind::IoDrop,
    Kind::IoTwice,
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
                // A second completion or a head never made available breaks the virtqueue
                // for good (the guest's virtio_ring marks it broken): rare, so that the
                // rest of the run reaches further.
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
    /// queue; `cap` is the chain's device-writable size.
    pub fn io(&mut self, rx: bool, resp: &mut [u8], cap: usize) -> Option<(Delivery, String)> {
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
                92..=93 => {
                    let ms = if r.below(2) == 0 { 0 } else { r.below(300) };
                    d.twice_ms = Some(ms);
                    what.push(format!("completed twice (again after {ms} ms)"));
                    kinds.push(Kind::IoTwice);
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
            if let Some((d, line)) = f.io(rx, &mut io, cap) {
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
            assert_eq!(f.io(false, &mut a, 8), g.io(false, &mut b, 8));
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
