// SPDX-License-Identifier: GPL-2.0

//! Entry points of the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`), built only with the
//! `fuzzing` feature (`Cargo.toml`); see `Documentation/fuzzing.rst`.
//!
//! The items of `src/spec` are `pub(crate)` for the kernel crate, and stay so: this module is
//! the fuzz crate's whole view of them. Each `pub fn` takes the fuzzer's bytes, feeds them to
//! the functions that read device data, and checks their invariants with `assert!`, mostly
//! those of `host/checks.rs` that the property tests of `host/prop.rs` check too: a violated
//! invariant is a crash, as a panic is.
//!
//! The ring and the state machine targets read their input as a sequence of operations
//! (`arbitrary`'s derive): the device's completions, answers and resets, ALSA's callbacks
//! and the application's pointer moves.

use arbitrary::{
    Arbitrary,
    Unstructured, //
};

use crate::{
    checks::{
        self,
        AlsaOp, //
    },
    spec::{
        hw::{
            self,
            Limits, //
        },
        info::{
            self,
            CtlInfo, //
        },
        ring::{
            self,
            Periods,
            MAX_RING_PERIODS, //
        },
        state::State,
        wire::{
            self,
            config_offset,
            status,
            Config, //
        },
    },
};

/// The targets, by name (the files of `fuzz/fuzz_targets/`).
pub const TARGETS: [&str; 13] = [
    "pcm_info",
    "jack_info",
    "chmap_info",
    "name",
    "ctl_info",
    "ctl_value",
    "ctl_enum_item",
    "ctl_tlv",
    "event",
    "status",
    "config",
    "ring",
    "state",
];

/// Little-endian `u32` at `at`, 0 where the input is too short (for values that are not the
/// subject of the test: limits, indices).
fn u32_at(data: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    for (i, slot) in b.iter_mut().enumerate() {
        *slot = data.get(at + i).copied().unwrap_or(0);
    }
    u32::from_le_bytes(b)
}

/// An index for the member and item accessors: small ones, arbitrary ones, and the ones just
/// below where `index * size` (and `+ size`) overflow, which random bytes do not find.
fn index(u: &mut Unstructured<'_>) -> usize {
    let small = usize::from(u.arbitrary::<u16>().unwrap_or(0));
    match u.arbitrary::<u8>().unwrap_or(0) % 8 {
        0 => u.arbitrary::<usize>().unwrap_or(0),
        1 => usize::MAX - small,
        2 => usize::MAX / 4 - small % 16,
        3 => usize::MAX / 8 - small % 16,
        4 => usize::MAX / 64 - small % 16,
        5 => usize::MAX / 2 - small % 16,
        _ => small % 600,
    }
}

// --- wire.rs ---------------------------------------------------------------------------------

/// `PcmInfo::parse` on bytes of any length (an entry of a `PCM_INFO` answer), then the
/// translation to ALSA's hardware description with the default module parameters and with
/// parameters from the bytes after the entry, and the format and rate look-ups.
pub fn pcm_info(data: &[u8]) {
    let Some(info) = checks::pcm_info_parse(data) else {
        return;
    };
    let tail = &data[wire::PCM_INFO_SIZE..];
    let hw = hw::hardware(&info, &Limits::default());
    checks::hardware(&hw);
    let fit = hw.fit_ring(u32_at(tail, 20), 4096);
    assert!(fit.period_bytes_min <= fit.period_bytes_max);
    let p = [0, 4, 8, 12, 16].map(|at| u32_at(tail, at));
    if let Ok(limits) = Limits::new(p[0], p[1], p[2], p[3], p[4]) {
        checks::hardware(&hw::hardware(&info, &limits));
    }
    checks::formats(info.formats, u32_at(tail, 24));
    checks::rates(info.rates, u32_at(tail, 28));
}

/// `Event::parse` on bytes of any length (an event buffer and its used length), and
/// `CtlEvent::from_data` of the data of any event.
pub fn event(data: &[u8]) {
    checks::event_parse(data);
}

/// `check_status` of any code, and `PcmStatus::parse` on bytes of any length (the status
/// trailer of an I/O message).
pub fn status(data: &[u8]) {
    if let Ok(c) = wire::le32(data, 0) {
        checks::check_status(c);
    }
    checks::pcm_status_parse(data);
}

/// `Config::validate` of a configuration space read field by field.
pub fn config(data: &[u8]) {
    checks::config(&Config {
        jacks: u32_at(data, config_offset::JACKS),
        streams: u32_at(data, config_offset::STREAMS),
        chmaps: u32_at(data, config_offset::CHMAPS),
        controls: u32_at(data, config_offset::CONTROLS),
    });
}

// --- info/jack.rs, info/channel_map.rs, info/name.rs --------------------------------------

/// `JackInfo::parse` and everything the driver derives from an entry, and `JackRemap::parse`.
pub fn jack_info(data: &[u8]) {
    checks::jack_info_parse(data);
    checks::jack_remap_parse(data);
}

/// `ChmapInfo::parse` and the translation to ALSA's map.
pub fn chmap_info(data: &[u8]) {
    checks::chmap_info_parse(data);
}

/// `validate_name`, and `Name` of both sizes from the wire and from strings.
pub fn name(data: &[u8]) {
    checks::names_parse(data);
    if let Ok(s) = core::str::from_utf8(data) {
        checks::names_from_str(s);
    }
}

// --- info/control.rs -------------------------------------------------------------------------

/// `CtlInfo::parse` on bytes of any length (an entry of a `CTL_INFO` answer).
pub fn ctl_info(data: &[u8]) {
    checks::ctl_info_parse(data);
}

/// `CtlValue::parse` of a `CTL_READ` answer (bytes after the first 96) for the element that
/// the first 96 bytes describe, `check_value`, and the member accessors at any index.
pub fn ctl_value(data: &[u8]) {
    let Some((head, rest)) = data.split_at_checked(info::CTL_INFO_SIZE) else {
        return;
    };
    let Ok(c) = CtlInfo::parse(head) else {
        return;
    };
    // The last 10 bytes choose an index and a member value (they are part of the value too).
    let mut u = Unstructured::new(rest.get(rest.len().saturating_sub(10)..).unwrap_or(&[]));
    let (i, x) = (index(&mut u), u.arbitrary::<i64>().unwrap_or(0));
    if let Some(v) = checks::ctl_value_parse(rest, &c) {
        checks::members(&v, i, x);
    }
}

/// `ctl_enum_item` on a `CTL_ENUM_ITEMS` answer payload of any length, at any index, and
/// every item in turn as the driver reads them.
pub fn ctl_enum_item(data: &[u8]) {
    let index = u32_at(data, 0);
    let payload = data.get(4..).unwrap_or(&[]);
    for i in [index, index % 8, index % 1025, u32::MAX] {
        checks::ctl_enum_item(payload, i);
    }
    let count = payload.len() / info::CTL_ENUM_ITEM_SIZE;
    for i in 0..count.min(info::CTL_MAX_ENUM_ITEMS as usize) {
        let _ = info::ctl_enum_item(payload, i as u32);
    }
}

/// `CtlTlv::parse` of a `CTL_TLV_READ` answer payload of any length, its value, and
/// `CtlTlv::new`.
pub fn ctl_tlv(data: &[u8]) {
    checks::ctl_tlv_parse(data);
}

// --- ring.rs ---------------------------------------------------------------------------------

/// How the stream's application uses the ring.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Mode {
    /// Playback: periods go when the application has written them.
    Playback,
    /// Capture: periods go when the application has read their slot; the strict capture
    /// invariants are checked.
    Capture,
    /// Both kinds of steps mixed (a driver bug): only the bounds must hold.
    Mixed,
}

/// ALSA's position ring.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Boundary {
    /// `buffer * (n + 1)`, or `buffer * (n + 2)` for capture.
    Times(u16),
    /// As ALSA computes it on 64-bit machines: the largest `buffer * 2^k` with
    /// `2 * boundary <= LONG_MAX - buffer`.
    Alsa,
}

/// One step of the stream: from the device, ALSA or the application.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum RingOp {
    /// The application wrote `written` frames beyond the queued position; the driver queues
    /// what `playback_ready` allows.
    Playback { written: u64, draining: bool },
    /// The same, with a small count.
    PlaybackSmall { written: u16, draining: bool },
    /// The driver queues what `capture_ready` allows.
    Capture,
    /// The application reads up to this many captured frames.
    Read(u16),
    /// The device completes one period (possibly one more than it got).
    Complete,
    /// The device completes up to this many periods at once.
    Burst(u8),
    /// The device was reset (system sleep): the periods in flight are lost.
    DeviceReset,
    /// `SNDRV_PCM_IOCTL_RESET`, with ALSA's `hw_ptr` lagging the completions by
    /// `lag % periods` periods.
    AlsaReset { lag: u16 },
    /// The driver asks whether to kick, with a count that the device may or may not know.
    Kick { announced: u64, pending: u64 },
    /// A capture pointer `ahead` frames past the completed position (a reset race).
    CaptureAhead { ahead: u16 },
    /// Every position function with an arbitrary pointer on degenerate rings (0, 1,
    /// `u64::MAX`): no panic, results in range.
    Degenerate { ptr: u64 },
}

#[derive(Arbitrary, Debug)]
struct RingInput {
    frame_bytes: u8,
    period_frames: u16,
    periods: u16,
    /// Check `Geometry::new` on these raw sizes too.
    raw: (u32, u32, u32),
    mode: Mode,
    boundary: Boundary,
}

/// The period accounting of a stream under a sequence of device completions and resets,
/// ALSA resets and application moves: the invariants of `ring_accounting_keeps_its_invariants`,
/// `capture_never_hands_out_an_unread_slot` and `reset_keeps_positions_in_their_slots`.
pub fn ring(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = RingInput::arbitrary(&mut u) else {
        return;
    };
    let seq = u64::from(input.raw.0) << 32 | u64::from(input.raw.1);
    let _ = checks::geometry(input.raw.0, input.raw.1, input.raw.2, seq);
    let frame = u32::from(input.frame_bytes % 64) + 1;
    let Some(period) = frame.checked_mul(u32::from(input.period_frames % 4096) + 1) else {
        return;
    };
    let Some(buffer) = period.checked_mul(u32::from(input.periods % (MAX_RING_PERIODS as u16 + 2)))
    else {
        return;
    };
    let Some(geo) = checks::geometry(frame, period, buffer, seq) else {
        return;
    };
    let periods = u64::from(geo.periods());
    let pf = geo.period_frames();
    let bf = geo.buffer_frames();
    let boundary = match input.boundary {
        // A capture stream cannot tell a full buffer of unread frames from an empty one on a
        // ring of one buffer: ALSA's ring holds at least two (as in `prop.rs`).
        Boundary::Times(n) if matches!(input.mode, Mode::Capture) => bf * (u64::from(n) + 2),
        Boundary::Times(n) => bf * (u64::from(n) + 1),
        Boundary::Alsa => {
            let mut b = bf;
            while b * 2 <= i64::MAX as u64 - bf {
                b *= 2;
            }
            b
        }
    };
    assert!(ring::appl_ahead(seq, seq.rotate_left(7), boundary, bf) <= bf);

    let mut p = Periods::default();
    let mut last_ptr = 0;
    // Frames that the application has read since prepare (capture), as a sequence position.
    let mut read = 0u64;
    // The application's pointer on ALSA's ring: `read`, relative to the completed position
    // (whose base moves in a reset).
    let appl = |p: &Periods, read: u64| {
        let cp = u128::from(p.completed_pos(&geo, boundary));
        let back = u128::from(p.completed() * pf - read) % u128::from(boundary);
        ((cp + u128::from(boundary) - back) % u128::from(boundary)) as u64
    };
    let capture_mode = matches!(input.mode, Mode::Capture);
    for op in u
        .arbitrary_iter::<RingOp>()
        .into_iter()
        .flatten()
        .flatten()
        .take(2000)
    {
        let op = match (input.mode, op) {
            (Mode::Capture, RingOp::Playback { .. } | RingOp::PlaybackSmall { .. }) => {
                RingOp::Capture
            }
            (Mode::Playback, RingOp::Capture) => RingOp::PlaybackSmall {
                written: u16::MAX,
                draining: false,
            },
            (_, op) => op,
        };
        match op {
            RingOp::Playback { written, draining } => {
                checks::playback(&mut p, &geo, written, draining);
            }
            RingOp::PlaybackSmall { written, draining } => {
                checks::playback(&mut p, &geo, u64::from(written), draining);
            }
            RingOp::Capture => {
                let (ptr, strict) = (appl(&p, read), capture_mode.then_some(read));
                checks::capture(&mut p, &geo, ptr, boundary, strict);
            }
            RingOp::Read(frames) => read += u64::from(frames).min(p.completed() * pf - read),
            RingOp::Complete | RingOp::Burst(_) => {
                let times = if let RingOp::Burst(n) = op { n } else { 1 };
                for _ in 0..times {
                    checks::complete(&mut p, &geo, &mut last_ptr);
                }
            }
            RingOp::DeviceReset => {
                let (cp, done) = (p.completed_pos(&geo, boundary), p.completed());
                p.forget_in_flight();
                assert_eq!((p.in_flight(), p.completed()), (0, done));
                assert_eq!(p.completed_pos(&geo, boundary), cp);
                assert_eq!(p.queued_pos(&geo, boundary), cp);
            }
            RingOp::AlsaReset { lag } => {
                // ALSA's hw_ptr lags by less than a buffer, never behind what the application
                // read; the reset puts it at `hw_ptr % buffer`, and the application with it.
                let mut lag = u64::from(lag) % periods;
                lag = lag.min(p.completed());
                if !matches!(input.mode, Mode::Playback) {
                    lag = lag.min((p.completed() * pf - read) / pf);
                }
                let cp = p.completed_pos(&geo, boundary);
                let hw_alsa = (u128::from(cp) + u128::from(boundary) - u128::from(lag * pf))
                    % u128::from(boundary);
                checks::rebase(&mut p, &geo, boundary, (hw_alsa as u64) % bf, lag);
                read = p.completed() * pf - lag * pf;
            }
            RingOp::Kick { announced, pending } => {
                let k = ring::must_kick(&geo, announced, pending);
                if pending == 0 {
                    assert!(!k);
                } else if pending >= periods.div_ceil(2) || announced == 0 {
                    assert!(k);
                }
                let _ = ring::must_kick(&geo, p.in_flight(), pending);
            }
            RingOp::CaptureAhead { ahead } => {
                let ahead = u64::from(ahead) % bf + 1;
                let cp = p.completed_pos(&geo, boundary);
                let appl = ((u128::from(cp) + u128::from(ahead)) % u128::from(boundary)) as u64;
                let n = p.capture_ready(&geo, appl, boundary);
                assert!(n <= periods - p.in_flight());
                if boundary - ahead > bf {
                    // Nothing is unread.
                    assert_eq!(n, periods - p.in_flight());
                }
            }
            RingOp::Degenerate { ptr } => {
                for b in [0, 1, u64::MAX] {
                    let _ = p.capture_ready(&geo, ptr, b);
                    let _ = p.playback_ready(&geo, ptr, true);
                    assert!(b == 0 || p.queued_pos(&geo, b) < b);
                    assert!(b == 0 || p.completed_pos(&geo, b) < b);
                    assert!(ring::frames_between(ptr, ptr / 3, b) < b.max(1));
                    let mut q = p;
                    q.rebase(&geo, b, ptr);
                    assert_eq!((q.queued(), q.completed()), (p.queued(), p.completed()));
                }
            }
        }
        checks::periods(&p, &geo, boundary, capture_mode.then_some(read));
        let queued_pos = p.queued_pos(&geo, boundary);
        assert!(ring::appl_ahead(queued_pos, appl(&p, read), boundary, bf) <= bf);
    }
}

// --- state.rs --------------------------------------------------------------------------------

/// The device's answer to one request.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Answer {
    Ok,
    BadMsg,
    NotSupp,
    IoErr,
    Other(u32),
}

impl Answer {
    fn accepted(self) -> bool {
        let code = match self {
            Self::Ok => status::OK,
            Self::BadMsg => status::BAD_MSG,
            Self::NotSupp => status::NOT_SUPP,
            Self::IoErr => status::IO_ERR,
            Self::Other(c) => c,
        };
        wire::check_status(code).is_ok()
    }
}

/// The stream state machine under ALSA's callbacks and the device's answers, as
/// `alsa_callbacks_follow_the_spec_state_machine`: every request that the driver sends is
/// allowed in the state it is sent in, and a plan that the device completes leaves the
/// stream where it should.
pub fn state(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut s = State::default();
    for (op, answers) in u
        .arbitrary_iter::<(AlsaOp, [Answer; 3])>()
        .into_iter()
        .flatten()
        .flatten()
        .take(1000)
    {
        checks::alsa_callback(&mut s, op, |i| answers[i].accepted());
    }
}

/// Runs target `name` on `data`; false for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    let f: fn(&[u8]) = match name {
        "pcm_info" => pcm_info,
        "jack_info" => jack_info,
        "chmap_info" => chmap_info,
        "name" => self::name,
        "ctl_info" => ctl_info,
        "ctl_value" => ctl_value,
        "ctl_enum_item" => ctl_enum_item,
        "ctl_tlv" => ctl_tlv,
        "event" => event,
        "status" => status,
        "config" => config,
        "ring" => ring,
        "state" => state,
        _ => return false,
    };
    f(data);
    true
}

#[cfg(test)]
mod tests {
    use std::{
        fs,
        path::Path,
        vec::Vec, //
    };

    use super::*;
    use crate::spec::{
        info::*,
        wire::*, //
    };

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn le(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// The seeds of the targets that read wire structures, from the builders.
    fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
        let pcm = |direction, formats, rates, lo, hi| {
            PcmInfo {
                hda_fn_nid: 0,
                features: 1 << wire::pcm_feature::MSG_POLLING,
                formats,
                rates,
                direction,
                channels_min: lo,
                channels_max: hi,
            }
            .to_bytes()
        };
        // QEMU 10.0: U8, S16, S32, FLOAT; 8 kHz ... 192 kHz.
        let qemu = pcm(Direction::Output, 0b1010_0000_0000_0011_0000, 0x3ffe, 1, 2);
        let limits = le(&[160, 2, 16, 1000, 80, 64, 2, 48000]);
        let jack = |defconf, features, connected| {
            JackInfo {
                hda_fn_nid: 1,
                features,
                hda_reg_defconf: defconf,
                hda_reg_caps: 0x10,
                connected,
            }
            .to_bytes()
        };
        let ctl = |value, access, count, name| {
            CtlInfo::new(
                0,
                CtlRole::Undefined,
                value,
                access,
                count,
                0,
                CtlName::new(name).unwrap(),
            )
            .unwrap()
            .to_bytes()
        };
        let rw = (1 << ctl_access::READ) | (1 << ctl_access::WRITE);
        let volume = CtlValueInfo::Integer {
            min: -100,
            max: 0,
            step: 2,
        };
        let vol = CtlInfo::new(
            0,
            CtlRole::Volume(Direction::Output),
            volume,
            rw | (1 << ctl_access::TLV_READ),
            2,
            0,
            CtlName::new("Master Playback Volume").unwrap(),
        )
        .unwrap()
        .to_bytes();
        let mute = ctl(CtlValueInfo::Boolean, rw, 2, "Master Playback Switch");
        let big = ctl(
            CtlValueInfo::Integer64 {
                min: -(1 << 40),
                max: 1 << 40,
                step: 0,
            },
            rw,
            1,
            "Gain",
        );
        let source = ctl(
            CtlValueInfo::Enumerated { items: 3 },
            rw,
            1,
            "Capture Source",
        );
        let bytes = ctl(CtlValueInfo::Bytes, 1, 4, "Bytes");
        let iec = ctl(CtlValueInfo::Iec958, 1, 1, "IEC958 Playback Default");
        let item = |s| CtlEnumItem::new(s).unwrap().to_bytes();
        let event = |c, d| le(&[c, d]);
        std::vec![
            ("pcm_info", "qemu-playback", cat(&[&qemu, &limits])),
            (
                "pcm_info",
                "capture-s16-48k",
                pcm(Direction::Input, 1 << 5, 1 << 7, 2, 2).to_vec()
            ),
            (
                "pcm_info",
                "surround",
                pcm(Direction::Output, u64::MAX, u64::MAX, 1, 8).to_vec()
            ),
            (
                "jack_info",
                "headphone",
                jack(
                    1 << 24 | defcfg::HP_OUT << 20,
                    1 << VIRTIO_SND_JACK_F_REMAP,
                    true
                )
                .to_vec(),
            ),
            (
                "jack_info",
                "front-mic",
                jack(2 << 24 | defcfg::MIC_IN << 20, 0, false).to_vec()
            ),
            (
                "jack_info",
                "front-line-out",
                jack(2 << 24 | defcfg::LINE_OUT << 20, 0, true).to_vec()
            ),
            (
                "jack_info",
                "front-speaker",
                jack(2 << 24 | defcfg::SPEAKER << 20, 0, true).to_vec()
            ),
            (
                "jack_info",
                "front-headphone",
                jack(2 << 24 | defcfg::HP_OUT << 20, 0, true).to_vec()
            ),
            (
                "jack_info",
                "hdmi",
                jack(0x18 << 24 | defcfg::DIG_OTHER_OUT << 20, 0, true).to_vec()
            ),
            (
                "jack_info",
                "remap",
                JackRemap {
                    jack_id: 1,
                    association: 2,
                    sequence: 3
                }
                .to_bytes()
                .to_vec()
            ),
            (
                "chmap_info",
                "stereo",
                ChmapInfo::new(0, Direction::Output, &[chmap::FL, chmap::FR])
                    .unwrap()
                    .to_bytes()
                    .to_vec(),
            ),
            (
                "chmap_info",
                "5.1",
                ChmapInfo::new(0, Direction::Output, &[3, 4, 7, 8, 5, 6])
                    .unwrap()
                    .to_bytes()
                    .to_vec(),
            ),
            (
                "chmap_info",
                "positions-0-14",
                ChmapInfo::new(
                    1,
                    Direction::Input,
                    &core::array::from_fn::<u8, 15, _>(|i| i as u8)
                )
                .unwrap()
                .to_bytes()
                .to_vec(),
            ),
            (
                "chmap_info",
                "positions-15-29",
                ChmapInfo::new(
                    2,
                    Direction::Output,
                    &core::array::from_fn::<u8, 15, _>(|i| i as u8 + 15)
                )
                .unwrap()
                .to_bytes()
                .to_vec(),
            ),
            (
                "chmap_info",
                "positions-30-36-and-unknown",
                ChmapInfo::new(
                    3,
                    Direction::Output,
                    &[30, 31, 32, 33, 34, 35, 36, 37, 200, 255]
                )
                .unwrap()
                .to_bytes()
                .to_vec(),
            ),
            (
                "chmap_info",
                "18-channels",
                ChmapInfo::new(0, Direction::Input, &[2; 18])
                    .unwrap()
                    .to_bytes()
                    .to_vec(),
            ),
            (
                "name",
                "ctl-name",
                CtlName::new("PCM Playback Volume")
                    .unwrap()
                    .to_bytes()
                    .to_vec()
            ),
            ("name", "enum-item", item("Line").to_vec()),
            ("ctl_info", "volume", vol.to_vec()),
            ("ctl_info", "mute", mute.to_vec()),
            ("ctl_info", "integer64", big.to_vec()),
            ("ctl_info", "enumerated", source.to_vec()),
            ("ctl_info", "bytes", bytes.to_vec()),
            ("ctl_info", "iec958", iec.to_vec()),
            (
                "ctl_value",
                "volume",
                cat(&[&vol, &le(&[-50i32 as u32, -2i32 as u32])])
            ),
            ("ctl_value", "mute", cat(&[&mute, &le(&[1, 0])])),
            ("ctl_value", "integer64", cat(&[&big, &le(&[5, 0])])),
            ("ctl_value", "enumerated", cat(&[&source, &le(&[2])])),
            ("ctl_value", "bytes", cat(&[&bytes, &[1, 2, 3, 4]])),
            ("ctl_value", "iec958", cat(&[&iec, &[4; 176]])),
            (
                "ctl_enum_item",
                "three-items",
                cat(&[&le(&[1]), &item("Mic"), &item("Line"), &item("CD")])
            ),
            ("ctl_tlv", "db-scale", le(&[1, 8, -9600i32 as u32, 100])),
            ("ctl_tlv", "db-range-short", le(&[3, 32, 0, 1])),
            (
                "event",
                "jack-connected",
                event(code::EVT_JACK_CONNECTED, 0)
            ),
            (
                "event",
                "jack-disconnected",
                event(code::EVT_JACK_DISCONNECTED, 1)
            ),
            (
                "event",
                "period-elapsed",
                event(code::EVT_PCM_PERIOD_ELAPSED, 0)
            ),
            ("event", "xrun", event(code::EVT_PCM_XRUN, 1)),
            (
                "event",
                "ctl-notify",
                event(code::EVT_CTL_NOTIFY, 0b11 << 16 | 4)
            ),
            ("status", "ok", le(&[status::OK, 1024])),
            ("status", "io-err", le(&[status::IO_ERR, 0])),
            ("config", "qemu", le(&[0, 2, 0, 0])),
            ("config", "full", le(&[2, 4, 4, 8])),
        ]
    }

    /// Writes the seeds of the wire targets into `fuzz/corpus/` (the `ring` and `state` seeds
    /// are inputs that the fuzzer found). Run after a change of a wire structure:
    /// `cargo test --features fuzzing write_seeds -- --ignored`.
    #[test]
    #[ignore]
    fn write_seeds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (target, name, data) in seeds() {
            let dir = root.join(target);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(name), data).unwrap();
        }
    }

    /// The seeds are valid: each parses.
    #[test]
    fn seeds_are_valid() {
        for (target, name, data) in seeds() {
            let ok = match target {
                "pcm_info" => PcmInfo::parse(&data).is_ok(),
                "jack_info" => JackInfo::parse(&data).is_ok() || JackRemap::parse(&data).is_ok(),
                "chmap_info" => ChmapInfo::parse(&data).is_ok(),
                "name" => info::validate_name(&data).is_ok(),
                "ctl_info" => CtlInfo::parse(&data).is_ok(),
                "ctl_value" => CtlInfo::parse(&data)
                    .and_then(|c| CtlValue::parse(&data[info::CTL_INFO_SIZE..], &c).map(|v| (c, v)))
                    .is_ok_and(|(c, v)| c.check_value(&v).is_ok()),
                "ctl_enum_item" => info::ctl_enum_item(&data[4..], 2).is_ok(),
                "ctl_tlv" => CtlTlv::parse(&data).is_ok(),
                "event" => Event::parse(&data).is_ok(),
                "status" => PcmStatus::parse(&data).is_ok(),
                "config" => u32_at(&data, 4) > 0,
                _ => false,
            };
            assert!(ok, "{target}/{name}");
            assert!(run(target, &data));
        }
    }

    /// Every input of the committed corpora (`fuzz/corpus/TARGET/`) passes its target, as
    /// part of `cargo test --features fuzzing`: the seeds, and the inputs of crashes found.
    /// `FUZZ_REPLAY=TARGET:FILE` replays one file instead.
    #[test]
    fn corpora_pass() {
        if let Some(spec) = std::env::var_os("FUZZ_REPLAY") {
            let spec = spec.to_string_lossy().into_owned();
            let (target, file) = spec.split_once(':').expect("FUZZ_REPLAY=TARGET:FILE");
            let data = fs::read(file).expect("FUZZ_REPLAY file");
            assert!(super::run(target, &data), "unknown target {target}");
            return;
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut inputs = 0;
        for target in super::TARGETS {
            let dir = root.join(target);
            let Ok(entries) = fs::read_dir(&dir) else {
                panic!("no corpus in {}", dir.display());
            };
            for entry in entries {
                let path = entry.expect("corpus entry").path();
                let data = fs::read(&path).expect("corpus file");
                std::eprintln!("{target}: {}", path.display());
                assert!(super::run(target, &data));
                inputs += 1;
            }
        }
        assert!(inputs >= super::TARGETS.len());
    }
}
