// SPDX-License-Identifier: GPL-2.0
//! The integrity pattern of Documentation/integrity.rst: every frame carries its own
//! position, so that a lost, repeated, reordered, stale or corrupted frame is found and
//! located. [`Pattern`] generates it (the device's capture data when a stream is armed),
//! [`Verifier`] checks what the driver plays.
//!
//! Verification follows the specification. Where it leaves room, this implementation
//! decides so:
//! - A frame comes "again" when its position `p` is below the highest position received so
//!   far plus one (`high`), not only below `e`: after a jump back, the frames that follow
//!   in order are still repeats (a stale period shows as one run of repeated frames), and a
//!   jump forward to `p` counts as lost only the frames from `high` to `p - 1`. Without a
//!   jump back `high` is `e`, as in the specification.
//! - A frame that comes out of order is taken out of its gap (a second copy of it is
//!   repeated); the gap's frames stay counted as lost.
//! - The search takes the candidate nearest to `e`, `e + d` before `e - d`.
//! - A partial frame (the bytes after the last whole frame of a buffer) is a corrupt frame.
//!
//! Armed with `lead` (a sound server's stream: its sink plays silence until the player's
//! data comes), silence before the first frame that is not silence is counted apart
//! (`lead=N` in the report's first line), not as silence.

use std::fmt::Write as _;

use crate::proto::{sample_format, SampleFormat, SampleKind};

/// The search window: `e - WINDOW <= p < e + WINDOW`.
pub const WINDOW: u64 = 1 << 20;
/// Frames after a candidate, in the same buffer, that must match too.
pub const CONFIRM: usize = 4;
/// Events (runs) listed per kind.
pub const MAX_EVENTS: usize = 16;
/// Searches made by scanning the window before the verifier builds an index of it.
const INDEX_AFTER: u32 = 8;
/// An index covers the window of any `e` within this distance of the `e` it was built for.
const INDEX_MARGIN: u64 = 1 << 18;

pub fn splitmix64(z: u64) -> u64 {
    let z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `r`: the 32-bit value behind channel `c` of frame `f`.
pub fn pattern_r(seed: u32, f: u64, c: u32) -> u32 {
    let x = splitmix64((u64::from(seed) << 32) ^ f.wrapping_mul(256).wrapping_add(u64::from(c)));
    (x >> 32) as u32
}

/// The container of the sample made of `r` (sign- or zero-extended; a float's bits).
pub fn sample_raw(sf: &SampleFormat, r: u32) -> u64 {
    let b = sf.bits;
    match sf.kind {
        SampleKind::Signed => {
            let v = ((r >> (32 - b)) << (32 - b)) as i32 >> (32 - b);
            i64::from(if v == 0 { 1 } else { v }) as u64
        }
        SampleKind::Unsigned => {
            let u = r >> (32 - b);
            u64::from(if u == 1 << (b - 1) { u + 1 } else { u })
        }
        SampleKind::Float => {
            let v = (r >> 8) as i32 - (1 << 23);
            let v = if v == 0 { 1 } else { v };
            if b == 32 {
                u64::from((v as f32 / 8_388_608.0).to_bits())
            } else {
                (f64::from(v) / 8_388_608.0).to_bits()
            }
        }
    }
}

/// The pattern of one seed in one sample format and channel count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub seed: u32,
    pub format: SampleFormat,
    pub channels: usize,
}

impl Pattern {
    /// None for a format the device does not know or no channels.
    pub fn new(seed: u32, format: u8, channels: u8) -> Option<Pattern> {
        Some(Pattern {
            seed,
            format: sample_format(format)?,
            channels: usize::from(channels).checked_sub(1)? + 1,
        })
    }

    pub fn frame_bytes(&self) -> usize {
        self.format.bytes * self.channels
    }

    /// Channel `c` of frame `f`, as stored.
    fn sample(&self, f: u64, c: usize, dst: &mut [u8]) {
        self.format.store(
            sample_raw(&self.format, pattern_r(self.seed, f, c as u32)),
            dst,
        );
    }

    /// Frame `f` into `dst` (frame_bytes long).
    pub fn frame(&self, f: u64, dst: &mut [u8]) {
        for (c, s) in dst.chunks_exact_mut(self.format.bytes).enumerate() {
            self.sample(f, c, s);
        }
    }

    /// Whether `frame` is frame `f`.
    pub fn matches(&self, f: u64, frame: &[u8]) -> bool {
        let mut s = [0u8; 8];
        let sb = self.format.bytes;
        frame.chunks_exact(sb).enumerate().all(|(c, x)| {
            self.sample(f, c, &mut s);
            s[..sb] == *x
        })
    }

    /// Whether every sample of `frame` is the format's silence.
    pub fn is_silence(&self, frame: &[u8]) -> bool {
        let s = self.format.silence().to_le_bytes();
        frame
            .chunks_exact(self.format.bytes)
            .all(|x| *x == s[..self.format.bytes])
    }

    /// Channel 0 of frame `f`, folded to 32 bits (the index's key).
    fn key(&self, f: u64) -> u32 {
        fold(
            sample_raw(&self.format, pattern_r(self.seed, f, 0)),
            &self.format,
        )
    }

    /// Fills `out` with frames `*pos`, `*pos + 1`, ... and advances `*pos`; the bytes after
    /// the last whole frame are silence. Returns the frames written.
    pub fn fill(&self, pos: &mut u64, out: &mut [u8]) -> u64 {
        let fb = self.frame_bytes();
        let frames = out.len() / fb;
        for f in out.chunks_exact_mut(fb) {
            self.frame(*pos, f);
            *pos += 1;
        }
        self.format.fill_silence(&mut out[frames * fb..]);
        frames as u64
    }
}

/// A sample's container folded to 32 bits (exact for containers up to 4 bytes).
fn fold(raw: u64, sf: &SampleFormat) -> u32 {
    let mask = if sf.bytes >= 8 {
        u64::MAX
    } else {
        (1 << (8 * sf.bytes)) - 1
    };
    let k = raw & mask;
    (k ^ (k >> 32)) as u32
}

/// Channel 0 of a received frame, folded as [`Pattern::key`].
fn frame_key(sf: &SampleFormat, frame: &[u8]) -> u32 {
    let mut x = [0u8; 8];
    x[..sf.bytes].copy_from_slice(&frame[..sf.bytes]);
    fold(u64::from_le_bytes(x), sf)
}

/// The kinds of events, in the order of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lost,
    Silence,
    Repeated,
    Reordered,
    Corrupt,
}

pub const KINDS: [Kind; 5] = [
    Kind::Lost,
    Kind::Silence,
    Kind::Repeated,
    Kind::Reordered,
    Kind::Corrupt,
];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lost => "lost",
            Kind::Silence => "silence",
            Kind::Repeated => "repeated",
            Kind::Reordered => "reordered",
            Kind::Corrupt => "corrupt",
        }
    }
}

/// A run of events of one kind: `at` the expected position when it began (lost: the first
/// lost position), `pos` the position of the first frame that came again (repeated,
/// reordered), `len` frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub at: u64,
    pub pos: u64,
    pub len: u64,
}

/// Frames counted by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Frames received (a partial frame is one).
    pub frames: u64,
    pub good: u64,
    pub lost: u64,
    pub repeated: u64,
    pub reordered: u64,
    pub corrupt: u64,
    pub silence: u64,
}

/// The run the previous events extended.
#[derive(Clone, Copy, Debug)]
struct Open {
    kind: Kind,
    run: Run,
    /// The frame (count of frames received before it) of its last event.
    frame: u64,
    /// Whether it is listed (the last of its kind's list).
    listed: bool,
}

/// Channel-0 keys of every position in [lo, hi), sorted: `key << 32 | (p - lo)`.
struct Index {
    lo: u64,
    hi: u64,
    entries: Vec<u64>,
}

impl Index {
    fn build(pat: &Pattern, e: u64) -> Index {
        let lo = e.saturating_sub(WINDOW + INDEX_MARGIN);
        let hi = e + WINDOW + INDEX_MARGIN;
        let mut entries: Vec<u64> = (lo..hi)
            .map(|p| u64::from(pat.key(p)) << 32 | (p - lo))
            .collect();
        entries.sort_unstable();
        Index { lo, hi, entries }
    }

    fn covers(&self, e: u64) -> bool {
        self.lo <= e.saturating_sub(WINDOW) && e + WINDOW <= self.hi
    }

    fn positions(&self, key: u32) -> impl Iterator<Item = u64> + '_ {
        let first = self.entries.partition_point(|x| (x >> 32) < u64::from(key));
        self.entries[first..]
            .iter()
            .take_while(move |x| (*x >> 32) as u32 == key)
            .map(|x| self.lo + (x & 0xffff_ffff))
    }
}

/// Checks received frames against the pattern (playback: the device is the receiver).
pub struct Verifier {
    pat: Pattern,
    /// The expected position.
    e: u64,
    /// The highest position received (or passed by a corrupt frame) plus one.
    high: u64,
    counts: Counts,
    runs: [Vec<Run>; 5],
    /// Runs not listed, per kind.
    more: [u64; 5],
    open: Option<Open>,
    /// Lost positions [start, end), in order; frames that come out of order leave them.
    gaps: Vec<(u64, u64)>,
    searches: u32,
    index_after: u32,
    index: Option<Index>,
    /// Armed with `lead`: the silence frames received before any other frame (`None`
    /// without `lead`).
    lead: Option<u64>,
    /// Whether a frame that is not silence was received.
    started: bool,
}

/// Gaps remembered for telling out-of-order frames from repeated ones.
const MAX_GAPS: usize = 4096;

impl Verifier {
    pub fn new(pat: Pattern) -> Verifier {
        Verifier {
            pat,
            e: 0,
            high: 0,
            counts: Counts::default(),
            runs: Default::default(),
            more: [0; 5],
            open: None,
            gaps: Vec::new(),
            searches: 0,
            index_after: INDEX_AFTER,
            index: None,
            lead: None,
            started: false,
        }
    }

    /// Silence before the first frame that is not silence is counted apart (`lead`).
    pub fn with_lead(mut self, lead: bool) -> Verifier {
        self.lead = lead.then_some(0);
        self
    }

    /// Another sample format of the same frame size: positions and counts stay.
    pub fn set_pattern(&mut self, pat: Pattern) {
        if pat != self.pat {
            self.pat = pat;
            self.index = None;
            self.searches = 0;
        }
    }

    #[cfg(test)]
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The expected position.
    #[cfg(test)]
    pub fn end(&self) -> u64 {
        self.e
    }

    pub fn runs(&self, kind: Kind) -> &[Run] {
        &self.runs[kind as usize]
    }

    /// Checks one buffer (an I/O message's data): its whole frames, then a partial one.
    pub fn feed(&mut self, buf: &[u8]) {
        let fb = self.pat.frame_bytes();
        let n = buf.len() / fb;
        for i in 0..n {
            let next_end = (i + 1 + CONFIRM).min(n) * fb;
            self.frame(&buf[i * fb..(i + 1) * fb], &buf[(i + 1) * fb..next_end]);
        }
        if !buf.len().is_multiple_of(fb) {
            self.counts.frames += 1;
            self.started = true;
            self.corrupt();
        }
    }

    /// One frame; `next` holds the (up to CONFIRM) frames after it in the same buffer.
    fn frame(&mut self, frame: &[u8], next: &[u8]) {
        self.counts.frames += 1;
        if self.pat.matches(self.e, frame) {
            self.started = true;
            self.accept(self.e);
        } else if self.pat.is_silence(frame) {
            if let (Some(lead), false) = (self.lead.as_mut(), self.started) {
                *lead += 1;
                return;
            }
            self.counts.silence += 1;
            self.event(Kind::Silence, self.e, self.e, 1);
        } else if let Some(p) = self.search(frame, next) {
            self.started = true;
            self.accept(p);
        } else {
            self.started = true;
            self.corrupt();
        }
    }

    fn corrupt(&mut self) {
        self.counts.corrupt += 1;
        self.event(Kind::Corrupt, self.e, self.e, 1);
        self.e += 1;
        self.high = self.high.max(self.e);
    }

    /// The frame is the pattern at `p`.
    fn accept(&mut self, p: u64) {
        let at = self.e;
        if p >= self.high {
            if p > self.high {
                let h = self.high;
                self.counts.lost += p - h;
                self.event(Kind::Lost, h, h, p - h);
                if self.gaps.len() == MAX_GAPS {
                    self.gaps.remove(0);
                }
                self.gaps.push((h, p));
            }
            self.counts.good += 1;
        } else if self.take_from_gap(p) {
            self.counts.reordered += 1;
            self.event(Kind::Reordered, at, p, 1);
        } else {
            self.counts.repeated += 1;
            self.event(Kind::Repeated, at, p, 1);
        }
        self.e = p + 1;
        self.high = self.high.max(self.e);
    }

    /// Whether `p` lies in a gap; if so it leaves the gap.
    fn take_from_gap(&mut self, p: u64) -> bool {
        let i = self.gaps.partition_point(|g| g.1 <= p);
        match self.gaps.get(i).copied() {
            Some((s, end)) if s <= p => {
                match (s == p, p + 1 == end) {
                    (true, true) => {
                        self.gaps.remove(i);
                    }
                    (true, false) => self.gaps[i].0 = p + 1,
                    (false, true) => self.gaps[i].1 = p,
                    (false, false) => {
                        self.gaps[i].1 = p;
                        self.gaps.insert(i + 1, (p + 1, end));
                    }
                }
                true
            }
            _ => false,
        }
    }

    fn event(&mut self, kind: Kind, at: u64, pos: u64, len: u64) {
        let frame = self.counts.frames - 1;
        if let Some(o) = self.open.as_mut() {
            let joins = match kind {
                Kind::Silence => at == o.run.at,
                Kind::Corrupt | Kind::Lost => at == o.run.at + o.run.len,
                Kind::Repeated | Kind::Reordered => pos == o.run.pos + o.run.len,
            };
            if o.kind == kind && frame <= o.frame + 1 && joins {
                o.run.len += len;
                o.frame = frame;
                if o.listed {
                    *self.runs[kind as usize].last_mut().unwrap() = o.run;
                }
                return;
            }
        }
        let run = Run { at, pos, len };
        let list = &mut self.runs[kind as usize];
        let listed = list.len() < MAX_EVENTS;
        if listed {
            list.push(run);
        } else {
            self.more[kind as usize] += 1;
        }
        self.open = Some(Open {
            kind,
            run,
            frame,
            listed,
        });
    }

    /// The position whose pattern is `frame`, followed by `next`, in the window around `e`;
    /// the nearest to `e` (`e + d` before `e - d`).
    fn search(&mut self, frame: &[u8], next: &[u8]) -> Option<u64> {
        self.searches = self.searches.saturating_add(1);
        if self.searches > self.index_after {
            return self.search_index(frame, next);
        }
        let sf = self.pat.format;
        let key = frame_key(&sf, frame);
        let e = self.e;
        for d in 1..=WINDOW {
            if d < WINDOW && self.pat.key(e + d) == key && self.confirm(e + d, frame, next) {
                return Some(e + d);
            }
            if d <= e && self.pat.key(e - d) == key && self.confirm(e - d, frame, next) {
                return Some(e - d);
            }
        }
        None
    }

    fn search_index(&mut self, frame: &[u8], next: &[u8]) -> Option<u64> {
        let e = self.e;
        if !self.index.as_ref().is_some_and(|i| i.covers(e)) {
            self.index = Some(Index::build(&self.pat, e));
        }
        let key = frame_key(&self.pat.format, frame);
        let lo = e.saturating_sub(WINDOW);
        let mut cand: Vec<u64> = self
            .index
            .as_ref()
            .unwrap()
            .positions(key)
            .filter(|&p| p >= lo && p < e + WINDOW && p != e)
            .collect();
        cand.sort_unstable_by_key(|&p| (p.abs_diff(e), p < e));
        cand.into_iter().find(|&p| self.confirm(p, frame, next))
    }

    /// Whether `frame` is the pattern at `p` and `next` at `p + 1`, ...
    fn confirm(&self, p: u64, frame: &[u8], next: &[u8]) -> bool {
        self.pat.matches(p, frame)
            && next
                .chunks_exact(self.pat.frame_bytes())
                .enumerate()
                .all(|(i, f)| self.pat.matches(p + 1 + i as u64, f))
    }

    /// The report: the counts, then each kind's runs (and how many more there were).
    pub fn report(&self) -> String {
        let mut s = summary(&self.counts, self.e);
        if let Some(lead) = self.lead {
            s.insert_str(s.len() - 1, &format!(" lead={lead}"));
        }
        for k in KINDS {
            for r in self.runs(k) {
                let _ = match k {
                    Kind::Lost | Kind::Silence | Kind::Corrupt => {
                        writeln!(s, "{} at={} len={}", k.name(), r.at, r.len)
                    }
                    Kind::Repeated => {
                        writeln!(s, "repeated at={} from={} len={}", r.at, r.pos, r.len)
                    }
                    Kind::Reordered => {
                        writeln!(s, "reordered at={} pos={} len={}", r.at, r.pos, r.len)
                    }
                };
            }
            if self.more[k as usize] > 0 {
                let _ = writeln!(s, "truncated {}={}", k.name(), self.more[k as usize]);
            }
        }
        s
    }
}

/// The report's first line (with its newline).
pub fn summary(c: &Counts, end: u64) -> String {
    format!(
        "frames={} good={} lost={} repeated={} reordered={} corrupt={} silence={} end={}\n",
        c.frames, c.good, c.lost, c.repeated, c.reordered, c.corrupt, c.silence, end
    )
}

/// What an armed stream checks (playback) or produces (capture).
enum Role {
    Check(Box<Verifier>),
    /// The next position and the frames generated.
    Generate {
        pos: u64,
        frames: u64,
    },
}

/// The integrity state of an armed stream. The pattern's format and channels are taken
/// from the stream's parameters at each message: a different frame size starts again at
/// position 0 (as a new arm), another format of the same frame size goes on.
pub struct Integrity {
    seed: u32,
    playback: bool,
    /// Armed with `keep`: a driver reset leaves the stream armed, its position and counts
    /// as they were (a system sleep: the driver resets the device and sets the stream up
    /// again).
    keep: bool,
    /// Armed with `lead`: playback silence before the first frame of the pattern is
    /// counted apart (see [`Verifier::with_lead`]).
    lead: bool,
    pat: Option<Pattern>,
    role: Role,
}

impl Integrity {
    pub fn new(seed: u32, playback: bool) -> Integrity {
        Integrity {
            seed,
            playback,
            keep: false,
            lead: false,
            pat: None,
            role: Integrity::fresh(playback, None, false),
        }
    }

    fn fresh(playback: bool, pat: Option<Pattern>, lead: bool) -> Role {
        match (playback, pat) {
            (true, Some(p)) => Role::Check(Box::new(Verifier::new(p).with_lead(lead))),
            _ => Role::Generate { pos: 0, frames: 0 },
        }
    }

    pub fn seed(&self) -> u32 {
        self.seed
    }

    /// Kept armed across a driver reset (`integrity SID arm SEED keep`)?
    pub fn with_keep(mut self, keep: bool) -> Integrity {
        self.keep = keep;
        self
    }

    pub fn keep(&self) -> bool {
        self.keep
    }

    /// Playback silence before the first frame of the pattern counted apart
    /// (`integrity SID arm SEED lead`)? No effect on capture.
    pub fn with_lead(mut self, lead: bool) -> Integrity {
        self.lead = lead;
        self
    }

    /// Takes the stream's parameters; false if they make no pattern.
    fn params(&mut self, format: u8, channels: u8) -> bool {
        let Some(pat) = Pattern::new(self.seed, format, channels) else {
            return false;
        };
        match self.pat {
            Some(old) if old == pat => {}
            Some(old) if old.frame_bytes() == pat.frame_bytes() => {
                if let Role::Check(v) = &mut self.role {
                    v.set_pattern(pat);
                }
            }
            _ => self.role = Integrity::fresh(self.playback, Some(pat), self.lead),
        }
        self.pat = Some(pat);
        true
    }

    /// Playback: checks one message's data.
    pub fn check(&mut self, format: u8, channels: u8, data: &[u8]) {
        if self.params(format, channels) {
            if let Role::Check(v) = &mut self.role {
                v.feed(data);
            }
        }
    }

    /// Capture: fills one message's data with the pattern; false (nothing written) if the
    /// parameters make no pattern.
    pub fn fill(&mut self, format: u8, channels: u8, out: &mut [u8]) -> bool {
        if !self.params(format, channels) {
            return false;
        }
        match (&mut self.role, self.pat) {
            (Role::Generate { pos, frames }, Some(p)) => {
                *frames += p.fill(pos, out);
                true
            }
            _ => false,
        }
    }

    pub fn report(&self) -> String {
        match &self.role {
            Role::Check(v) => v.report(),
            Role::Generate { pos, frames } => summary(
                &Counts {
                    frames: *frames,
                    ..Counts::default()
                },
                *pos,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::*;

    fn pat(seed: u32, format: u8, channels: u8) -> Pattern {
        Pattern::new(seed, format, channels).unwrap()
    }

    /// Frames `range` of the pattern, as one buffer.
    fn frames(p: &Pattern, range: std::ops::Range<u64>) -> Vec<u8> {
        let mut pos = range.start;
        let mut v = vec![0u8; (range.end - range.start) as usize * p.frame_bytes()];
        p.fill(&mut pos, &mut v);
        v
    }

    fn silence(p: &Pattern, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n * p.frame_bytes()];
        p.format.fill_silence(&mut v);
        v
    }

    /// Feeds each buffer to a new verifier (and to one that searches its index from the
    /// start: they must agree); returns the report.
    fn verify(p: &Pattern, bufs: &[Vec<u8>]) -> String {
        let mut v = Verifier::new(*p);
        let mut w = Verifier::new(*p);
        w.index_after = 0;
        for b in bufs {
            v.feed(b);
            w.feed(b);
        }
        assert_eq!(v.report(), w.report());
        v.report()
    }

    #[test]
    fn reference_values() {
        // Documentation/integrity.rst, "Reference values".
        // splitmix64((1 << 32) ^ 0)
        assert_eq!(splitmix64(1 << 32), 0xC42C_5A1A_A382_0138);
        assert_eq!(pattern_r(1, 0, 0), 0xC42C_5A1A);
        assert_eq!(pattern_r(1, 0, 1), 0x2043_91A6);
        let p = pat(1, FMT_S16, 2);
        let mut f = [0u8; 4];
        p.frame(0, &mut f);
        let s = |c: usize| i16::from_le_bytes([f[2 * c], f[2 * c + 1]]);
        assert_eq!((s(0), s(1)), (-15316, 8259));
        assert_eq!(f, [0x2c, 0xc4, 0x43, 0x20]);
        // splitmix64(0) is the first output of SplitMix64 seeded with 0.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn sample_encodings() {
        let sf = |f| sample_format(f).unwrap();
        // r = 0x8000_0000 ... per kind; the special cases that would be silence.
        assert_eq!(sample_raw(&sf(FMT_S16), 0x1234_5678), 0x1234);
        assert_eq!(sample_raw(&sf(FMT_S16), 0xfedc_0000), 0xffff_ffff_ffff_fedc);
        assert_eq!(sample_raw(&sf(FMT_S16), 0x0000_ffff), 1);
        assert_eq!(sample_raw(&sf(FMT_S8), 0x00ff_ffff), 1);
        assert_eq!(sample_raw(&sf(FMT_S32), 0), 1);
        assert_eq!(sample_raw(&sf(FMT_S32), 0x8000_0000), 0xffff_ffff_8000_0000);
        assert_eq!(sample_raw(&sf(FMT_S24), 0x8000_00ff), 0xffff_ffff_ff80_0000);
        assert_eq!(sample_raw(&sf(FMT_S24_3), 0x1234_5678), 0x12_3456);
        assert_eq!(sample_raw(&sf(FMT_U8), 0x80ff_ffff), 0x81);
        assert_eq!(sample_raw(&sf(FMT_U8), 0x7fff_ffff), 0x7f);
        assert_eq!(sample_raw(&sf(FMT_U16), 0x8000_1234), 0x8001);
        assert_eq!(sample_raw(&sf(FMT_U32), 0x8000_0000), 0x8000_0001);
        assert_eq!(sample_raw(&sf(FMT_U32), 0xffff_ffff), 0xffff_ffff);
        // FLOAT: v = (r >> 8) - 2^23, v / 2^23.
        assert_eq!(
            sample_raw(&sf(FMT_FLOAT), 0x8000_0000),
            u64::from((1.0f32 / 8_388_608.0).to_bits())
        );
        assert_eq!(
            sample_raw(&sf(FMT_FLOAT), 0),
            u64::from((-1.0f32).to_bits())
        );
        assert_eq!(sample_raw(&sf(FMT_FLOAT64), 0xc000_0000), 0.5f64.to_bits());
        // Stored little endian in the container: S24 sign-extended to 4 bytes, S24_3 in 3.
        let mut b = [0u8; 4];
        sf(FMT_S24).store(sample_raw(&sf(FMT_S24), 0x8000_0000), &mut b);
        assert_eq!(b, [0x00, 0x00, 0x80, 0xff]);
        let p = pat(1, FMT_S24_3, 2);
        let mut f = [0u8; 6];
        p.frame(0, &mut f);
        assert_eq!(f[..3], [0x5a, 0x2c, 0xc4]);
        // Every format: a pattern frame is never silence.
        for &(format, name) in &FORMATS {
            let p = pat(7, format, 1);
            let mut f = vec![0u8; p.frame_bytes()];
            for pos in 0..5000 {
                p.frame(pos, &mut f);
                assert!(!p.is_silence(&f), "{name} at {pos}");
                assert!(p.matches(pos, &f));
            }
        }
    }

    #[test]
    fn fill_and_partial_frames() {
        let p = pat(3, FMT_U16, 2);
        let mut pos = 10;
        let mut out = vec![0u8; 4 * 3 + 3];
        assert_eq!(p.fill(&mut pos, &mut out), 3);
        assert_eq!(pos, 13);
        assert_eq!(out[12..], [0x00, 0x80, 0x00]);
        assert_eq!(out[..12], frames(&p, 10..13)[..]);
    }

    #[test]
    fn clean_streams() {
        for (format, channels) in [
            (FMT_U8, 1),
            (FMT_S16, 2),
            (FMT_S32, 2),
            (FMT_FLOAT, 2),
            (FMT_S16, 6),
            (FMT_S24_3, 2),
            (FMT_FLOAT64, 1),
        ] {
            let p = pat(0xdead_beef, format, channels);
            // Periods of 480 frames.
            let bufs: Vec<Vec<u8>> = (0..20)
                .map(|i| frames(&p, i * 480..(i + 1) * 480))
                .collect();
            let r = verify(&p, &bufs);
            assert_eq!(
                r,
                "frames=9600 good=9600 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 end=9600\n",
                "{} x {channels}",
                format_name(format)
            );
        }
    }

    #[test]
    fn lost_frames() {
        let p = pat(1, FMT_S16, 2);
        let r = verify(
            &p,
            &[frames(&p, 0..50), frames(&p, 60..100), frames(&p, 100..110)],
        );
        assert_eq!(
            r,
            "frames=100 good=100 lost=10 repeated=0 reordered=0 corrupt=0 silence=0 end=110\n\
             lost at=50 len=10\n"
        );
        // A gap inside a buffer.
        let mut b = frames(&p, 0..20);
        b.extend(frames(&p, 25..40));
        let r = verify(&p, &[b]);
        assert!(r.ends_with("end=40\nlost at=20 len=5\n"), "{r}");
    }

    #[test]
    fn stale_period() {
        // Period 2 (frames 50..99) is played again after it, as a stale buffer would be.
        let p = pat(1, FMT_S16, 2);
        let r = verify(
            &p,
            &[
                frames(&p, 0..50),
                frames(&p, 50..100),
                frames(&p, 50..100),
                frames(&p, 100..150),
            ],
        );
        assert_eq!(
            r,
            "frames=200 good=150 lost=0 repeated=50 reordered=0 corrupt=0 silence=0 end=150\n\
             repeated at=100 from=50 len=50\n"
        );
    }

    #[test]
    fn reordered_periods() {
        let p = pat(9, FMT_S16, 2);
        let r = verify(
            &p,
            &[
                frames(&p, 0..50),
                frames(&p, 100..150),
                frames(&p, 50..100),
                frames(&p, 150..200),
            ],
        );
        assert_eq!(
            r,
            "frames=200 good=150 lost=50 repeated=0 reordered=50 corrupt=0 silence=0 end=200\n\
             lost at=50 len=50\n\
             reordered at=150 pos=50 len=50\n"
        );
        // A frame that came out of order and comes once more is repeated.
        let r = verify(
            &p,
            &[
                frames(&p, 0..10),
                frames(&p, 20..30),
                frames(&p, 10..20),
                frames(&p, 15..16),
            ],
        );
        assert!(
            r.starts_with(
                "frames=31 good=20 lost=10 repeated=1 reordered=10 corrupt=0 silence=0 end=16\n"
            ),
            "{r}"
        );
        assert!(
            r.ends_with(
                "lost at=10 len=10\nrepeated at=20 from=15 len=1\nreordered at=30 pos=10 len=10\n"
            ),
            "{r}"
        );
    }

    #[test]
    fn corrupted_sample() {
        let p = pat(1, FMT_S16, 2);
        let mut b = frames(&p, 0..100);
        // Channel 1 of frame 30.
        b[30 * 4 + 2] ^= 0x01;
        let r = verify(&p, &[b]);
        assert_eq!(
            r,
            "frames=100 good=99 lost=0 repeated=0 reordered=0 corrupt=1 silence=0 end=100\n\
             corrupt at=30 len=1\n"
        );
        // A partial frame at the end of a buffer.
        let mut b = frames(&p, 0..10);
        b.truncate(b.len() - 2);
        let r = verify(&p, &[b, frames(&p, 10..20)]);
        assert_eq!(
            r,
            "frames=20 good=19 lost=0 repeated=0 reordered=0 corrupt=1 silence=0 end=20\n\
             corrupt at=9 len=1\n"
        );
    }

    #[test]
    fn silence_inside_and_at_the_end() {
        for (format, channels) in [(FMT_U8, 1), (FMT_S16, 2), (FMT_U32, 3)] {
            let p = pat(5, format, channels);
            let r = verify(
                &p,
                &[frames(&p, 0..50), silence(&p, 20), frames(&p, 50..100)],
            );
            assert_eq!(
                r,
                "frames=120 good=100 lost=0 repeated=0 reordered=0 corrupt=0 silence=20 end=100\n\
                 silence at=50 len=20\n",
                "{}",
                format_name(format)
            );
            let mut last = frames(&p, 64..100);
            last.extend(silence(&p, 30));
            let r = verify(&p, &[frames(&p, 0..64), last]);
            assert_eq!(
                r,
                "frames=130 good=100 lost=0 repeated=0 reordered=0 corrupt=0 silence=30 end=100\n\
                 silence at=100 len=30\n"
            );
        }
    }

    /// `lead`: silence before the first frame that is not silence is counted apart; after
    /// it, silence is silence again; without `lead`, leading silence is a silence run at 0.
    #[test]
    fn leading_silence() {
        let p = pat(3, FMT_S16, 2);
        let bufs = [
            silence(&p, 70),
            [silence(&p, 30), frames(&p, 0..40)].concat(),
            [frames(&p, 40..50), silence(&p, 5), frames(&p, 50..60)].concat(),
            silence(&p, 25),
        ];
        let mut v = Verifier::new(p).with_lead(true);
        let mut w = Verifier::new(p).with_lead(true);
        w.index_after = 0;
        for b in &bufs {
            v.feed(b);
            w.feed(b);
        }
        assert_eq!(v.report(), w.report());
        assert_eq!(
            v.report(),
            "frames=190 good=60 lost=0 repeated=0 reordered=0 corrupt=0 silence=30 end=60 lead=100\n\
             silence at=50 len=5\n\
             silence at=60 len=25\n"
        );
        assert_eq!(
            verify(&p, &bufs),
            "frames=190 good=60 lost=0 repeated=0 reordered=0 corrupt=0 silence=130 end=60\n\
             silence at=0 len=100\n\
             silence at=50 len=5\n\
             silence at=60 len=25\n"
        );
        // A frame that is not silence (here a corrupt one) ends the lead: the silence after
        // it is silence, and the pattern's first frame still counts from 0.
        let mut bad = frames(&p, 0..1);
        bad[0] ^= 1;
        let mut v = Verifier::new(p).with_lead(true);
        v.feed(&[silence(&p, 4), bad, silence(&p, 3), frames(&p, 1..10)].concat());
        assert_eq!(
            v.report(),
            "frames=17 good=9 lost=0 repeated=0 reordered=0 corrupt=1 silence=3 end=10 lead=4\n\
             silence at=1 len=3\n\
             corrupt at=0 len=1\n"
        );
        // Through Integrity (the device's arm): playback only.
        let mut i = Integrity::new(3, true).with_lead(true);
        i.check(FMT_S16, 2, &[silence(&p, 8), frames(&p, 0..8)].concat());
        assert_eq!(
            i.report(),
            "frames=16 good=8 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 end=8 lead=8\n"
        );
    }

    #[test]
    fn event_lists_are_cut_at_16() {
        let p = pat(2, FMT_S16, 2);
        // 20 gaps of 1 frame: 16 listed, 4 more; then 3 corrupt frames, one run.
        let mut bufs: Vec<Vec<u8>> = (0..20).map(|i| frames(&p, i * 10..i * 10 + 9)).collect();
        bufs.push(vec![0x5a; 3 * 4]);
        let mut v = Verifier::new(p);
        for b in &bufs {
            v.feed(b);
        }
        let r = v.report();
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(
            lines[0],
            "frames=183 good=180 lost=19 repeated=0 reordered=0 corrupt=3 silence=0 end=202"
        );
        assert_eq!(lines[1], "lost at=9 len=1");
        assert_eq!(lines[16], "lost at=159 len=1");
        assert_eq!(lines[17], "truncated lost=3");
        assert_eq!(lines[18], "corrupt at=199 len=3");
        assert_eq!(lines.len(), 19);
        assert_eq!(v.runs(Kind::Lost).len(), MAX_EVENTS);
        // A run that goes on past the 16th is merged into it, not counted as more.
        let mut v = Verifier::new(p);
        for i in 0..16 {
            v.feed(&frames(&p, i..i + 1));
            v.feed(&silence(&p, 3));
        }
        v.feed(&silence(&p, 2));
        assert_eq!(v.runs(Kind::Silence).len(), 16);
        assert_eq!(
            v.runs(Kind::Silence)[15],
            Run {
                at: 16,
                pos: 16,
                len: 5
            }
        );
        assert!(!v.report().contains("truncated"));
        v.feed(&frames(&p, 16..17));
        v.feed(&silence(&p, 1));
        assert!(v
            .report()
            .ends_with("silence at=16 len=5\ntruncated silence=1\n"));
    }

    #[test]
    fn window_and_confirmation() {
        let p = pat(4, FMT_S16, 2);
        let mut v = Verifier::new(p);
        v.feed(&frames(&p, 0..10));
        // Within the window: a gap; beyond it: corrupt.
        v.feed(&frames(&p, 10 + WINDOW - 1..10 + WINDOW));
        assert_eq!(v.end(), 10 + WINDOW);
        v.feed(&frames(&p, 10 + 3 * WINDOW..10 + 3 * WINDOW + 1));
        assert_eq!(v.counts().corrupt, 1);
        // A frame that matches alone but not with the frames after it is corrupt.
        let mut v = Verifier::new(p);
        let mut b = frames(&p, 0..10);
        b.extend(frames(&p, 500..501));
        b.extend(frames(&p, 11..13));
        v.feed(&b);
        assert_eq!(
            (
                v.counts().corrupt,
                v.counts().lost,
                v.counts().good,
                v.end()
            ),
            (1, 0, 12, 13)
        );
        // Alone (the last frame of a buffer) it is taken.
        v.feed(&frames(&p, 500..501));
        assert_eq!((v.counts().lost, v.end()), (487, 501));
    }

    #[test]
    fn integrity_reparams() {
        let mut i = Integrity::new(1, true);
        let p = pat(1, FMT_S16, 2);
        i.check(FMT_S16, 2, &frames(&p, 0..10));
        // Same frame size (U16 x 2): the position goes on.
        let q = pat(1, FMT_U16, 2);
        i.check(FMT_U16, 2, &frames(&q, 10..20));
        assert!(
            i.report().starts_with("frames=20 good=20"),
            "{}",
            i.report()
        );
        // Another frame size: again from 0.
        let q = pat(1, FMT_S16, 1);
        i.check(FMT_S16, 1, &frames(&q, 0..5));
        assert!(i.report().starts_with("frames=5 good=5"), "{}", i.report());
        // Capture: the generator.
        let mut i = Integrity::new(1, false);
        let mut out = vec![0u8; 4 * 10 + 1];
        assert!(i.fill(FMT_S16, 2, &mut out));
        assert_eq!(out[..40], frames(&p, 0..10)[..]);
        assert!(i.fill(FMT_S16, 2, &mut out));
        assert_eq!(out[..40], frames(&p, 10..20)[..]);
        assert_eq!(
            i.report(),
            "frames=20 good=0 lost=0 repeated=0 reordered=0 corrupt=0 silence=0 end=20\n"
        );
        assert!(!i.fill(0, 2, &mut out));
    }
}
