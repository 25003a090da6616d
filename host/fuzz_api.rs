// SPDX-License-Identifier: GPL-2.0

//! Entry points of the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`), built only with the
//! `fuzzing` feature (`Cargo.toml`); see `Documentation/fuzzing.rst`.
//!
//! The items of `src/spec` are `pub(crate)` for the kernel crate, and stay so: this module is
//! the fuzz crate's whole view of them. Each `pub fn` takes the fuzzer's bytes, feeds them to
//! the functions that read device data, and checks the same invariants as the property tests
//! of `host/prop.rs` with `assert!`: a violated invariant is a crash, as a panic is.
//!
//! The ring and the state machine targets read their input as a sequence of operations
//! (`arbitrary`'s derive): the device's completions, answers and resets, ALSA's callbacks
//! and the application's pointer moves.

use arbitrary::{
    Arbitrary,
    Unstructured, //
};

use crate::spec::{
    format::{
        self,
        FORMATS,
        KNOWN_FORMATS,
        KNOWN_RATES,
        RATES, //
    },
    hw::{
        self,
        Hardware,
        Limits, //
    },
    info::{
        self,
        sndrv_ctl,
        ChmapInfo,
        CtlEnumItem,
        CtlEvent,
        CtlInfo,
        CtlName,
        CtlRole,
        CtlTlv,
        CtlValue,
        CtlValueInfo,
        JackInfo,
        JackRemap, //
    },
    ring::{
        self,
        Geometry,
        Periods,
        MAX_RING_PERIODS, //
    },
    state::{
        self,
        Request,
        State, //
    },
    wire::{
        self,
        code,
        config_offset,
        status,
        Config,
        DeviceError,
        Direction,
        Event,
        PcmInfo,
        PcmStatus,
        WireError,
        MAX_ITEMS, //
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

/// ALSA's description of a stream is consistent (as `hardware_translation_is_sane`).
fn check_hardware(hw: &Hardware) {
    assert!(hw.formats != 0 && hw.rates != 0, "{hw:?}");
    assert!(hw.rate_min <= hw.rate_max, "{hw:?}");
    assert!(hw.channels_min <= hw.channels_max, "{hw:?}");
    assert!(hw.period_bytes_min >= 1, "{hw:?}");
    assert!(hw.period_bytes_min <= hw.period_bytes_max, "{hw:?}");
    assert!(hw.period_bytes_max <= hw.buffer_bytes_max, "{hw:?}");
    assert!(hw.periods_min <= hw.periods_max, "{hw:?}");
}

/// `PcmInfo::parse` on bytes of any length (an entry of a `PCM_INFO` answer), then the
/// translation to ALSA's hardware description with the default module parameters and with
/// parameters from the bytes after the entry, and the format and rate look-ups.
pub fn pcm_info(data: &[u8]) {
    let info = match PcmInfo::parse(data) {
        Ok(info) => info,
        Err(WireError::Short) => return assert!(data.len() < wire::PCM_INFO_SIZE),
        Err(WireError::BadValue) => return assert!(data.len() >= wire::PCM_INFO_SIZE),
    };
    assert!(data.len() >= wire::PCM_INFO_SIZE);
    assert!(info.channels_min >= 1 && info.channels_min <= info.channels_max);
    assert!(info.formats & KNOWN_FORMATS != 0 && info.rates & KNOWN_RATES != 0);
    assert_eq!(PcmInfo::parse(&info.to_bytes()), Ok(info));
    assert_eq!(PcmInfo::parse(&data[..wire::PCM_INFO_SIZE]), Ok(info));

    let tail = &data[wire::PCM_INFO_SIZE..];
    let hw = hw::hardware(&info, &Limits::default());
    check_hardware(&hw);
    let fit = hw.fit_ring(u32_at(tail, 20), 4096);
    assert!(fit.period_bytes_min <= fit.period_bytes_max);
    let p = [0, 4, 8, 12, 16].map(|at| u32_at(tail, at));
    if let Ok(limits) = Limits::new(p[0], p[1], p[2], p[3], p[4]) {
        check_hardware(&hw::hardware(&info, &limits));
    }
    for f in format::selected(&FORMATS, info.formats) {
        let i = format::format_index(f.alsa, info.formats);
        assert!(i.is_some_and(|i| FORMATS[usize::from(i)].alsa == f.alsa));
    }
    for r in format::selected(&RATES, info.rates) {
        let i = format::rate_index(r.hz, info.rates);
        assert!(i.is_some_and(|i| RATES[usize::from(i)].hz == r.hz));
    }
    let (alsa, hz) = (u32_at(tail, 24), u32_at(tail, 28));
    if let Some(i) = format::format_index(alsa, info.formats) {
        assert!(FORMATS[usize::from(i)].alsa == alsa && info.formats & (1 << i) != 0);
    }
    if let Some(i) = format::rate_index(hz, info.rates) {
        assert!(RATES[usize::from(i)].hz == hz && info.rates & (1 << i) != 0);
    }
}

/// `Event::parse` on bytes of any length (an event buffer and its used length), and
/// `CtlEvent::from_data` of the data of any event.
pub fn event(data: &[u8]) {
    let raw_data = wire::le32(data, 4);
    match Event::parse(data) {
        Ok(ev) => {
            assert!(data.len() >= wire::EVENT_SIZE);
            let d = raw_data.unwrap_or(!0);
            let expected = match wire::le32(data, 0).unwrap_or(0) {
                code::EVT_JACK_CONNECTED => Event::JackConnected(d),
                code::EVT_JACK_DISCONNECTED => Event::JackDisconnected(d),
                code::EVT_PCM_PERIOD_ELAPSED => Event::PcmPeriodElapsed(d),
                code::EVT_PCM_XRUN => Event::PcmXrun(d),
                code::EVT_CTL_NOTIFY => Event::CtlNotify(d),
                other => panic!("event code {other:#x} accepted"),
            };
            assert_eq!(ev, expected);
        }
        Err(WireError::Short) => assert!(data.len() < wire::EVENT_SIZE),
        Err(WireError::BadValue) => assert!(data.len() >= wire::EVENT_SIZE),
    }
    if let Ok(d) = raw_data {
        match CtlEvent::from_data(d) {
            Ok(e) => {
                assert_eq!(e.to_data(), d);
                assert_eq!(e.alsa_mask() & !0b1011, 0);
                assert_eq!(e.alsa_mask().count_ones(), u32::from(e.mask).count_ones());
            }
            Err(e) => {
                assert_eq!(e, WireError::BadValue);
                assert!(d >> 16 & !0b111 != 0);
            }
        }
    }
}

/// `check_status` of any code, and `PcmStatus::parse` on bytes of any length (the status
/// trailer of an I/O message).
pub fn status(data: &[u8]) {
    if let Ok(c) = wire::le32(data, 0) {
        match wire::check_status(c) {
            Ok(()) => assert_eq!(c, status::OK),
            Err(DeviceError::Unknown(u)) => {
                assert_eq!(u, c);
                assert!(!(status::OK..=status::IO_ERR).contains(&c));
            }
            Err(_) => assert!((status::BAD_MSG..=status::IO_ERR).contains(&c)),
        }
    }
    match PcmStatus::parse(data) {
        Ok(s) => {
            assert!(data.len() >= wire::PCM_STATUS_SIZE);
            assert_eq!(Ok(s.status), wire::le32(data, 0));
            assert_eq!(Ok(s.latency_bytes), wire::le32(data, 4));
        }
        Err(e) => {
            assert_eq!(e, WireError::Short);
            assert!(data.len() < wire::PCM_STATUS_SIZE);
        }
    }
}

/// `Config::validate` of a configuration space read field by field.
pub fn config(data: &[u8]) {
    let c = Config {
        jacks: u32_at(data, config_offset::JACKS),
        streams: u32_at(data, config_offset::STREAMS),
        chmaps: u32_at(data, config_offset::CHMAPS),
        controls: u32_at(data, config_offset::CONTROLS),
    };
    let counts = [c.jacks, c.streams, c.chmaps, c.controls];
    match c.validate() {
        Ok(()) => assert!(counts.iter().all(|&n| n <= MAX_ITEMS)),
        Err(e) => {
            assert_eq!(e, WireError::BadValue);
            assert!(counts.iter().any(|&n| n > MAX_ITEMS));
        }
    }
}

// --- info/jack.rs, info/channel_map.rs, info/name.rs --------------------------------------

/// `JackInfo::parse` and everything the driver derives from an entry, and `JackRemap::parse`.
pub fn jack_info(data: &[u8]) {
    use info::snd_jack as j;
    match JackInfo::parse(data) {
        Ok(jack) => {
            assert!(data.len() >= info::JACK_INFO_SIZE);
            assert_eq!(JackInfo::parse(&jack.to_bytes()), Ok(jack));
            let t = jack.jack_type();
            assert!([j::LINEOUT, j::HEADPHONE, j::AVOUT, j::MICROPHONE, j::LINEIN].contains(&t));
            assert_eq!(jack.report(), if jack.connected { t } else { 0 });
            assert_eq!(jack.can_remap(), jack.features & 1 != 0);
            let name = jack.name().to_bytes();
            assert!(!name.is_empty());
            assert!(name.len() + " Jack".len() < sndrv_ctl::NAME_MAXLEN);
            assert!(name.iter().all(|c| (0x20..=0x7e).contains(c)));
            let d = jack.hda_reg_defconf;
            let _ = (info::defcfg::association(d), info::defcfg::sequence(d));
        }
        Err(WireError::Short) => assert!(data.len() < info::JACK_INFO_SIZE),
        Err(WireError::BadValue) => assert!(data.len() >= info::JACK_INFO_SIZE && data[16] > 1),
    }
    if let Ok(r) = JackRemap::parse(data) {
        assert_eq!(&r.to_bytes()[..], &data[..info::JACK_REMAP_SIZE]);
    }
}

/// `ChmapInfo::parse` and the translation to ALSA's map.
pub fn chmap_info(data: &[u8]) {
    match ChmapInfo::parse(data) {
        Ok(c) => {
            assert!(data.len() >= info::CHMAP_INFO_SIZE);
            let n = usize::from(c.channels());
            assert!((1..=info::VIRTIO_SND_CHMAP_MAX_SIZE).contains(&n));
            assert_eq!(c.positions(), &data[6..6 + n]);
            assert_eq!(Ok(c.hda_fn_nid()), wire::le32(data, 0));
            assert_eq!(u8::from(c.direction() == Direction::Input), data[4]);
            for &v in c.positions() {
                match info::alsa_position(v) {
                    Some(a) => assert!(v <= info::chmap::BRC && a == u32::from(v)),
                    None => assert!(v > info::chmap::BRC),
                }
            }
            assert_eq!(ChmapInfo::parse(&c.to_bytes()), Ok(c));
            match c.to_alsa() {
                Some(a) => {
                    assert_eq!(a.channels, c.channels());
                    for (i, &p) in a.map.iter().enumerate() {
                        let expected = match c.positions().get(i) {
                            Some(&v) => info::alsa_position(v).unwrap_or(0),
                            None => 0,
                        };
                        assert_eq!(u32::from(p), expected);
                        assert!(u32::from(p) <= info::sndrv_chmap::LAST);
                    }
                }
                None => assert!(n > info::ALSA_CHMAP_MAX_SIZE),
            }
        }
        Err(WireError::Short) => assert!(data.len() < info::CHMAP_INFO_SIZE),
        Err(WireError::BadValue) => assert!(data.len() >= info::CHMAP_INFO_SIZE),
    }
}

/// `validate_name`, and `Name` of both sizes from the wire and from strings.
pub fn name(data: &[u8]) {
    if let Ok(len) = info::validate_name(data) {
        assert!(len >= 1 && len < data.len() && data[len] == 0);
        assert!(data[..len].iter().all(|c| (0x20..=0x7e).contains(c)));
    }
    match CtlName::parse(data) {
        Ok(n) => {
            let len = n.as_bytes().len();
            assert!((1..info::CTL_NAME_SIZE).contains(&len));
            assert_eq!(n.as_bytes(), &data[..len]);
            assert_eq!(n.as_cstr().to_bytes(), n.as_bytes());
            assert_eq!(n.as_str().as_bytes(), n.as_bytes());
            assert!(n.to_bytes()[len..].iter().all(|&c| c == 0));
            assert_eq!(CtlName::parse(&n.to_bytes()), Ok(n));
        }
        Err(WireError::Short) => assert!(data.len() < info::CTL_NAME_SIZE),
        Err(WireError::BadValue) => {
            assert!(info::validate_name(&data[..info::CTL_NAME_SIZE]).is_err());
        }
    }
    if let Ok(n) = CtlEnumItem::parse(data) {
        assert_eq!(CtlEnumItem::parse(&n.to_bytes()), Ok(n));
        assert_eq!(n.as_cstr().to_bytes(), n.as_bytes());
    }
    if let Ok(s) = core::str::from_utf8(data) {
        if let Ok(n) = CtlName::new(s) {
            assert_eq!(n.as_str(), s);
        }
        if let Ok(n) = CtlEnumItem::new(s) {
            assert_eq!(n.as_str(), s);
        }
    }
}

// --- info/control.rs -------------------------------------------------------------------------

/// Everything the driver derives from a parsed `CtlInfo`.
fn check_ctl_info(c: &CtlInfo) {
    assert!(c.count() >= 1 && c.count() <= c.ty().max_count());
    assert!(c.value_bytes() <= info::CTL_VALUE_SIZE);
    assert!(c.enum_items_bytes() <= 65536);
    assert_eq!(CtlInfo::parse(&c.to_bytes()), Ok(*c));
    assert_eq!(CtlRole::from_wire(c.role().to_wire()), c.role());
    assert!((1..=6).contains(&c.ty().alsa()));
    let defined = sndrv_ctl::ACCESS_READ
        | sndrv_ctl::ACCESS_WRITE
        | sndrv_ctl::ACCESS_VOLATILE
        | sndrv_ctl::ACCESS_INACTIVE
        | sndrv_ctl::ACCESS_TLV_READ
        | sndrv_ctl::ACCESS_TLV_WRITE
        | sndrv_ctl::ACCESS_TLV_COMMAND
        | sndrv_ctl::ACCESS_TLV_CALLBACK;
    assert_eq!(c.alsa_access() & !defined, 0);
    for bit in [0, 3, 6, 7, 31, 32, 33, u32::MAX] {
        assert_eq!(c.has_access(bit), bit < 32 && c.access() & (1 << bit) != 0);
    }
    match c.value() {
        CtlValueInfo::Integer { min, max, step } => assert!(min <= max && step >= 0),
        CtlValueInfo::Integer64 { min, max, step } => assert!(min <= max && step >= 0),
        CtlValueInfo::Enumerated { items } => {
            assert!((1..=info::CTL_MAX_ENUM_ITEMS).contains(&items))
        }
        CtlValueInfo::Boolean | CtlValueInfo::Bytes | CtlValueInfo::Iec958 => {}
    }
    let _ = (c.hda_fn_nid(), c.index(), c.name().as_cstr());
}

/// `CtlInfo::parse` on bytes of any length (an entry of a `CTL_INFO` answer).
pub fn ctl_info(data: &[u8]) {
    match CtlInfo::parse(data) {
        Ok(c) => {
            assert!(data.len() >= info::CTL_INFO_SIZE);
            check_ctl_info(&c);
        }
        Err(WireError::Short) => assert!(data.len() < info::CTL_INFO_SIZE),
        Err(WireError::BadValue) => assert!(data.len() >= info::CTL_INFO_SIZE),
    }
}

/// Whether member `i` of `v` is within `c`'s limits, computed independently of
/// `CtlInfo::check_value` (in 128 bits).
fn member_ok(c: &CtlInfo, v: &CtlValue, i: usize) -> bool {
    let on_step = |v: i128, min: i128, step: i128| step == 0 || (v - min) % step == 0;
    match c.value() {
        CtlValueInfo::Boolean => v.integer(i).is_some_and(|x| x == 0 || x == 1),
        CtlValueInfo::Integer { min, max, step } => v.integer(i).is_some_and(|x| {
            (min..=max).contains(&x) && on_step(x.into(), min.into(), step.into())
        }),
        CtlValueInfo::Integer64 { min, max, step } => v.integer64(i).is_some_and(|x| {
            (min..=max).contains(&x) && on_step(x.into(), min.into(), step.into())
        }),
        CtlValueInfo::Enumerated { items } => v.enumerated(i).is_some_and(|x| x < items),
        CtlValueInfo::Bytes | CtlValueInfo::Iec958 => true,
    }
}

/// Member accessors of a value at index `i`: `Some`/`true` exactly inside the union.
fn check_members(v: &CtlValue, i: usize, x: i64) {
    let in32 = i < info::CTL_VALUE_SIZE / 4;
    let in64 = i < info::CTL_VALUE_SIZE / 8;
    assert_eq!(v.integer(i).is_some(), in32, "integer({i})");
    assert_eq!(v.enumerated(i).is_some(), in32, "enumerated({i})");
    assert_eq!(v.integer64(i).is_some(), in64, "integer64({i})");
    let mut w = *v;
    assert_eq!(w.set_integer(i, x as i32), in32, "set_integer({i})");
    assert_eq!(w.integer(i), in32.then_some(x as i32));
    let mut w = *v;
    assert_eq!(w.set_enumerated(i, x as u32), in32, "set_enumerated({i})");
    assert_eq!(w.enumerated(i), in32.then_some(x as u32));
    let mut w = *v;
    assert_eq!(w.set_integer64(i, x), in64, "set_integer64({i})");
    assert_eq!(w.integer64(i), in64.then_some(x));
    if !in64 {
        assert_eq!(w, *v, "set_integer64({i}) out of range changed the value");
    }
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
    let n = c.value_bytes();
    let v = match CtlValue::parse(rest, &c) {
        Ok(v) => v,
        Err(e) => {
            assert_eq!(e, WireError::Short);
            assert!(rest.len() < n);
            return;
        }
    };
    assert!(rest.len() >= n);
    assert_eq!(&v.as_bytes()[..n], &rest[..n]);
    assert!(v.as_bytes()[n..].iter().all(|&b| b == 0));
    let all_ok = (0..c.count() as usize).all(|m| member_ok(&c, &v, m));
    assert_eq!(c.check_value(&v).is_ok(), all_ok);
    let iec = v.iec958();
    let mut w = CtlValue::default();
    w.set_iec958(&iec);
    assert_eq!(
        &w.as_bytes()[..info::CTL_IEC958_SIZE],
        &v.as_bytes()[..info::CTL_IEC958_SIZE]
    );
    let req = v.write_request(c.hda_fn_nid());
    assert_eq!(&req[info::CTL_HDR_SIZE..], &v.as_bytes()[..]);
    check_members(&v, i, x);
}

/// `ctl_enum_item` on a `CTL_ENUM_ITEMS` answer payload of any length, at any index, and
/// every item in turn as the driver reads them.
pub fn ctl_enum_item(data: &[u8]) {
    let index = u32_at(data, 0);
    let payload = data.get(4..).unwrap_or(&[]);
    let size = info::CTL_ENUM_ITEM_SIZE;
    let count = payload.len() / size;
    for i in [index, index % 8, index % 1025, u32::MAX] {
        let at = i as usize * size;
        match info::ctl_enum_item(payload, i) {
            Ok(item) => {
                let n = item.as_bytes().len();
                assert!(at + size <= payload.len());
                assert_eq!(item.as_bytes(), &payload[at..at + n]);
                assert_eq!(payload[at + n], 0);
            }
            Err(WireError::Short) => assert!((i as usize) >= count),
            Err(WireError::BadValue) => {
                assert!(info::validate_name(&payload[at..at + size]).is_err());
            }
        }
    }
    for i in 0..count.min(info::CTL_MAX_ENUM_ITEMS as usize) {
        let _ = info::ctl_enum_item(payload, i as u32);
    }
}

/// `CtlTlv::parse` of a `CTL_TLV_READ` answer payload of any length, its value, and
/// `CtlTlv::new`.
pub fn ctl_tlv(data: &[u8]) {
    match CtlTlv::parse(data) {
        Ok(t) => {
            assert!(t.length() % 4 == 0 && t.length() <= info::CTL_TLV_MAX_BYTES);
            assert_eq!(Ok(t.ty()), wire::le32(data, 0));
            assert_eq!(CtlTlv::parse(&t.to_bytes()), Ok(t));
            let whole = info::CTL_TLV_HDR_SIZE + t.length() as usize;
            match t.value(data) {
                Ok(v) => {
                    assert_eq!(v.len(), t.length() as usize);
                    assert!(data.len() >= whole);
                }
                Err(e) => assert!(e == WireError::Short && data.len() < whole),
            }
        }
        Err(WireError::Short) => assert!(data.len() < info::CTL_TLV_HDR_SIZE),
        Err(WireError::BadValue) => {
            let len = u32_at(data, 4);
            assert!(!len.is_multiple_of(4) || len > info::CTL_TLV_MAX_BYTES);
        }
    }
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

/// `Geometry::new` on any sizes: an accepted geometry is consistent.
fn check_geometry(frame: u32, period: u32, buffer: u32, seq: u64) -> Option<Geometry> {
    let g = Geometry::new(frame, period, buffer).ok()?;
    assert!((2..=MAX_RING_PERIODS).contains(&g.periods()));
    assert_eq!(g.period_bytes() % g.frame_bytes(), 0);
    assert_eq!(
        u64::from(g.period_bytes()) * u64::from(g.periods()),
        u64::from(buffer)
    );
    assert_eq!(
        g.buffer_frames() * u64::from(g.frame_bytes()),
        u64::from(buffer)
    );
    let off = g.period_offset(seq) as u64;
    assert!(off + u64::from(g.period_bytes()) <= u64::from(buffer));
    assert_eq!(off % u64::from(g.period_bytes()), 0);
    Some(g)
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
    let _ = check_geometry(input.raw.0, input.raw.1, input.raw.2, seq);
    let frame = u32::from(input.frame_bytes % 64) + 1;
    let Some(period) = frame.checked_mul(u32::from(input.period_frames % 4096) + 1) else {
        return;
    };
    let Some(buffer) = period.checked_mul(u32::from(input.periods % (MAX_RING_PERIODS as u16 + 2)))
    else {
        return;
    };
    let Some(geo) = check_geometry(frame, period, buffer, seq) else {
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
                let n = p.playback_ready(&geo, written, draining);
                assert!(n <= periods - p.in_flight());
                assert!(n * pf <= written || (draining && (n - 1) * pf < written));
                p.queue(n);
            }
            RingOp::PlaybackSmall { written, draining } => {
                let written = u64::from(written);
                let n = p.playback_ready(&geo, written, draining);
                assert!(n <= periods - p.in_flight());
                assert!(n * pf <= written || (draining && (n - 1) * pf < written));
                p.queue(n);
            }
            RingOp::Capture => {
                let n = p.capture_ready(&geo, appl(&p, read), boundary);
                assert!(n <= periods - p.in_flight());
                if capture_mode {
                    // The slot of the last new period was last filled by period
                    // `seq - periods`: the application has read all of it.
                    if let Some(last) = (p.queued() + n).checked_sub(periods) {
                        assert!(
                            read >= last * pf,
                            "slot of period {} unread",
                            last + periods - 1
                        );
                    }
                    // And no slot that has been read is held back.
                    let unread = (p.completed() * pf - read).div_ceil(pf);
                    assert_eq!(n, periods - p.in_flight() - unread);
                }
                p.queue(n);
            }
            RingOp::Read(frames) => read += u64::from(frames).min(p.completed() * pf - read),
            RingOp::Complete | RingOp::Burst(_) => {
                let times = if let RingOp::Burst(n) = op { n } else { 1 };
                for _ in 0..times {
                    let before = p;
                    if p.complete() {
                        // One period of progress, also across the end of the buffer.
                        let ptr = p.hw_ptr(&geo);
                        assert_eq!((last_ptr + pf) % bf, ptr);
                        last_ptr = ptr;
                    } else {
                        assert_eq!(before.in_flight(), 0);
                        assert_eq!(p, before);
                    }
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
                let (cp, qp) = (
                    p.completed_pos(&geo, boundary),
                    p.queued_pos(&geo, boundary),
                );
                let hw_alsa = (u128::from(cp) + u128::from(boundary) - u128::from(lag * pf))
                    % u128::from(boundary);
                let hw = (hw_alsa as u64) % bf;
                p.rebase(&geo, boundary, hw);
                let (cp2, qp2) = (
                    p.completed_pos(&geo, boundary),
                    p.queued_pos(&geo, boundary),
                );
                assert_eq!(ring::frames_between(hw, cp2, boundary), lag * pf);
                assert_eq!(
                    ring::frames_between(cp2, qp2, boundary),
                    ring::frames_between(cp, qp, boundary)
                );
                assert_eq!(cp2 % bf, cp % bf);
                assert_eq!(qp2 % bf, qp % bf);
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
        assert!(p.completed() <= p.queued());
        assert!(p.in_flight() <= periods);
        assert!(p.hw_ptr(&geo) < bf);
        assert_eq!(p.hw_ptr(&geo), p.completed() * pf % bf);
        assert!(p.queued_pos(&geo, boundary) < boundary);
        assert!(p.completed_pos(&geo, boundary) < boundary);
        assert_eq!(
            ring::frames_between(
                p.completed_pos(&geo, boundary),
                p.queued_pos(&geo, boundary),
                boundary
            ),
            p.in_flight() * pf % boundary
        );
        assert_eq!(p.next_seq(), p.queued());
        let off = geo.period_offset(p.next_seq()) as u64;
        assert!(off < u64::from(geo.period_bytes()) * periods);
        if capture_mode {
            assert!(p.completed() * pf - read <= bf);
        }
        let queued_pos = p.queued_pos(&geo, boundary);
        assert!(ring::appl_ahead(queued_pos, appl(&p, read), boundary, bf) <= bf);
    }
}

// --- state.rs --------------------------------------------------------------------------------

/// What ALSA asks of a stream, as the driver runs it on the state machine.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum AlsaOp {
    HwParams,
    Prepare,
    Start,
    Stop,
    Release,
    /// A system sleep: the device was reset, then the driver's resume ran.
    Sleep,
}

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
    for step in u
        .arbitrary_iter::<(AlsaOp, [Answer; 3])>()
        .into_iter()
        .flatten()
        .flatten()
        .take(1000)
    {
        let (op, answers) = step;
        let plan = match op {
            AlsaOp::HwParams => state::plan_hw_params(s).ok(),
            AlsaOp::Prepare => {
                let p = state::plan_prepare(s);
                assert!(p.is_ok(), "prepare refused in {s:?}");
                p.ok()
            }
            AlsaOp::Release => Some(state::plan_release(s)),
            AlsaOp::Sleep => {
                let plan = state::plan_resume(s);
                s = State::Idle;
                Some(plan)
            }
            AlsaOp::Start | AlsaOp::Stop => {
                // `trigger` checks with `apply` and sends only what the spec allows.
                let r = if matches!(op, AlsaOp::Start) {
                    Request::Start
                } else {
                    Request::Stop
                };
                if let Ok(next) = s.apply(r) {
                    assert!(next.may_hold_io());
                    assert!([0x104, 0x105].contains(&r.code()));
                    if answers[0].accepted() {
                        s = next;
                    }
                }
                None
            }
        };
        let Some(plan) = plan else { continue };
        let mut all_ok = true;
        for (i, r) in plan.iter().enumerate() {
            let next = s.apply(r);
            assert!(next.is_ok(), "{r:?} in {s:?}");
            assert!([0x101, 0x102, 0x103, 0x104, 0x105].contains(&r.code()));
            if !answers[i].accepted() {
                all_ok = false;
                break;
            }
            s = next.unwrap_or(s);
        }
        if all_ok {
            match op {
                AlsaOp::HwParams => assert_eq!(s, State::ParamsSet),
                AlsaOp::Prepare => assert_eq!(s, State::Prepared),
                AlsaOp::Release => assert!(!s.may_hold_io()),
                AlsaOp::Sleep => assert!(!matches!(s, State::Running | State::Stopped)),
                AlsaOp::Start | AlsaOp::Stop => {}
            }
        }
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
        info::{
            chmap,
            ctl_access,
            defcfg,
            CtlValueInfo,
            VIRTIO_SND_JACK_F_REMAP, //
        },
        wire::Direction,
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
