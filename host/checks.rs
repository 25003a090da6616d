// SPDX-License-Identifier: GPL-2.0

//! The invariants of the driver's pure logic, checked by both the property tests
//! (`host/prop.rs`) and the cargo-fuzz targets (`host/fuzz_api.rs`): each function takes what
//! the test made of its input, runs the function under test where it is its subject, and
//! `assert!`s. A violated invariant panics: proptest catches the panic, shrinks the case and
//! reports it as a failure; for the fuzzer it is a crash. See `Documentation/fuzzing.rst`.

use core::ffi::CStr;

use crate::spec::{
    format::{
        self,
        FORMATS,
        KNOWN_FORMATS,
        KNOWN_RATES,
        RATES, //
    },
    hw::Hardware,
    info::{
        self,
        sndrv_ctl,
        CtlEnumItem,
        CtlInfo,
        CtlName,
        CtlValue,
        CtlValueInfo, //
    },
    ring::{
        self,
        Geometry,
        Periods,
        MAX_RING_PERIODS, //
    },
    state::{
        self,
        State, //
    },
    wire::{
        self,
        code,
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

// --- wire.rs, hw.rs, format.rs ---------------------------------------------------------------

/// ALSA's description of a stream is consistent.
pub(crate) fn hardware(hw: &Hardware) {
    assert!(hw.formats != 0 && hw.rates != 0, "{hw:?}");
    assert!(hw.rate_min <= hw.rate_max, "{hw:?}");
    assert!(hw.channels_min <= hw.channels_max, "{hw:?}");
    assert!(hw.period_bytes_min >= 1, "{hw:?}");
    assert!(hw.period_bytes_min <= hw.period_bytes_max, "{hw:?}");
    assert!(hw.period_bytes_max <= hw.buffer_bytes_max, "{hw:?}");
    assert!(hw.periods_min <= hw.periods_max, "{hw:?}");
}

/// `PcmInfo::parse` of bytes of any length (an entry of a `PCM_INFO` answer); the entry if
/// it was accepted.
pub(crate) fn pcm_info_parse(data: &[u8]) -> Option<PcmInfo> {
    let info = match PcmInfo::parse(data) {
        Ok(info) => info,
        Err(WireError::Short) => {
            assert!(data.len() < wire::PCM_INFO_SIZE);
            return None;
        }
        Err(WireError::BadValue) => {
            assert!(data.len() >= wire::PCM_INFO_SIZE);
            return None;
        }
    };
    assert!(data.len() >= wire::PCM_INFO_SIZE);
    assert!(info.channels_min >= 1 && info.channels_min <= info.channels_max);
    assert!(info.formats & KNOWN_FORMATS != 0 && info.rates & KNOWN_RATES != 0);
    // Only the first 32 bytes count, and the padding is not part of the value.
    assert_eq!(PcmInfo::parse(&info.to_bytes()), Ok(info));
    assert_eq!(PcmInfo::parse(&data[..wire::PCM_INFO_SIZE]), Ok(info));
    Some(info)
}

/// The look-ups in a mask of `table`'s entries (`known`: the mask of them all), by `key`
/// with `index`: each entry of the mask is found at its bit, and the entry found for any
/// `asked` key is the one asked for, in the mask.
fn lookups<T: Copy>(
    (table, known): (&[T], u64),
    key: fn(&T) -> u32,
    index: fn(u32, u64) -> Option<u8>,
    mask: u64,
    asked: u32,
) {
    assert_eq!(
        format::selected(table, mask).count() as u32,
        (mask & known).count_ones()
    );
    for e in format::selected(table, mask) {
        assert!(index(key(&e), mask).is_some_and(|i| key(&table[usize::from(i)]) == key(&e)));
    }
    if let Some(i) = index(asked, mask) {
        assert!(key(&table[usize::from(i)]) == asked && mask & (1 << i) != 0);
    }
}

/// The format look-ups in a mask of formats, of the formats of the mask and of `alsa`.
pub(crate) fn formats(mask: u64, alsa: u32) {
    let table = (&FORMATS[..], KNOWN_FORMATS);
    lookups(table, |f| f.alsa, format::format_index, mask, alsa);
}

/// The rate look-ups in a mask of rates, of the rates of the mask and of `hz`.
pub(crate) fn rates(mask: u64, hz: u32) {
    let table = (&RATES[..], KNOWN_RATES);
    lookups(table, |r| r.hz, format::rate_index, mask, hz);
}

/// `Event::parse` of bytes of any length (an event buffer and its used length), and
/// [`ctl_event`] of the data of any event.
pub(crate) fn event_parse(data: &[u8]) {
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
        ctl_event(d);
    }
}

/// `CtlEvent::from_data` of the data of a control event.
pub(crate) fn ctl_event(d: u32) {
    match info::CtlEvent::from_data(d) {
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

/// `check_status` of any code: only `OK` passes.
pub(crate) fn check_status(c: u32) {
    match wire::check_status(c) {
        Ok(()) => assert_eq!(c, status::OK),
        Err(DeviceError::Unknown(u)) => {
            assert_eq!(u, c);
            assert!(!(status::OK..=status::IO_ERR).contains(&c));
        }
        Err(_) => assert!((status::BAD_MSG..=status::IO_ERR).contains(&c)),
    }
}

/// `PcmStatus::parse` of bytes of any length (the status trailer of an I/O message).
pub(crate) fn pcm_status_parse(data: &[u8]) {
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

/// `Config::validate` bounds every count.
pub(crate) fn config(c: &Config) {
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

/// `JackInfo::parse` of bytes of any length, and everything the driver derives from an entry.
pub(crate) fn jack_info_parse(data: &[u8]) {
    match info::JackInfo::parse(data) {
        Ok(jack) => {
            assert!(data.len() >= info::JACK_INFO_SIZE);
            assert_eq!(info::JackInfo::parse(&jack.to_bytes()), Ok(jack));
            let t = jack.jack_type();
            jack_pin(t, jack.name());
            assert_eq!(jack.report(), if jack.connected { t } else { 0 });
            assert_eq!(jack.can_remap(), jack.features & 1 != 0);
            let d = jack.hda_reg_defconf;
            let _ = (info::defcfg::association(d), info::defcfg::sequence(d));
        }
        Err(WireError::Short) => assert!(data.len() < info::JACK_INFO_SIZE),
        Err(WireError::BadValue) => assert!(data.len() >= info::JACK_INFO_SIZE && data[16] > 1),
    }
}

/// The type and the name of a jack (of any pin configuration).
pub(crate) fn jack_pin(t: u32, name: &CStr) {
    use info::snd_jack as j;
    assert!([j::LINEOUT, j::HEADPHONE, j::AVOUT, j::MICROPHONE, j::LINEIN].contains(&t));
    let name = name.to_bytes();
    assert!(!name.is_empty());
    assert!(name.len() + " Jack".len() < sndrv_ctl::NAME_MAXLEN);
    assert!(name.iter().all(|c| (0x20..=0x7e).contains(c)));
}

/// `JackRemap::parse` of bytes of any length.
pub(crate) fn jack_remap_parse(data: &[u8]) {
    if let Ok(r) = info::JackRemap::parse(data) {
        assert_eq!(&r.to_bytes()[..], &data[..info::JACK_REMAP_SIZE]);
    }
}

/// `ChmapInfo::parse` of bytes of any length, and the translation to ALSA's map.
pub(crate) fn chmap_info_parse(data: &[u8]) {
    match info::ChmapInfo::parse(data) {
        Ok(c) => {
            assert!(data.len() >= info::CHMAP_INFO_SIZE);
            let n = usize::from(c.channels());
            assert!((1..=info::VIRTIO_SND_CHMAP_MAX_SIZE).contains(&n));
            assert_eq!(c.positions(), &data[6..6 + n]);
            assert_eq!(Ok(c.hda_fn_nid()), wire::le32(data, 0));
            assert_eq!(u8::from(c.direction() == Direction::Input), data[4]);
            for &v in c.positions() {
                alsa_position(v);
            }
            assert_eq!(info::ChmapInfo::parse(&c.to_bytes()), Ok(c));
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

/// ALSA's position of a virtio channel position.
pub(crate) fn alsa_position(v: u8) {
    match info::alsa_position(v) {
        Some(a) => assert!(v <= info::chmap::BRC && a == u32::from(v)),
        None => assert!(v > info::chmap::BRC),
    }
}

/// `validate_name`, `CtlName::parse` and `CtlEnumItem::parse` of bytes of any length.
pub(crate) fn names_parse(data: &[u8]) {
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
}

/// `CtlName::new` and `CtlEnumItem::new` of any string.
pub(crate) fn names_from_str(s: &str) {
    if let Ok(n) = CtlName::new(s) {
        assert_eq!(n.as_str(), s);
    }
    if let Ok(n) = CtlEnumItem::new(s) {
        assert_eq!(n.as_str(), s);
    }
}

// --- info/control.rs -------------------------------------------------------------------------

/// Everything the driver derives from a parsed `CtlInfo`.
pub(crate) fn ctl_info(c: &CtlInfo) {
    assert!(c.count() >= 1 && c.count() <= c.ty().max_count());
    assert!(c.value_bytes() <= info::CTL_VALUE_SIZE);
    assert!(c.enum_items_bytes() <= 65536);
    assert_eq!(CtlInfo::parse(&c.to_bytes()), Ok(*c));
    assert_eq!(info::CtlRole::from_wire(c.role().to_wire()), c.role());
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

/// `CtlInfo::parse` of bytes of any length (an entry of a `CTL_INFO` answer); the entry if it
/// was accepted.
pub(crate) fn ctl_info_parse(data: &[u8]) -> Option<CtlInfo> {
    match CtlInfo::parse(data) {
        Ok(c) => {
            assert!(data.len() >= info::CTL_INFO_SIZE);
            ctl_info(&c);
            Some(c)
        }
        Err(WireError::Short) => {
            assert!(data.len() < info::CTL_INFO_SIZE);
            None
        }
        Err(WireError::BadValue) => {
            assert!(data.len() >= info::CTL_INFO_SIZE);
            None
        }
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
pub(crate) fn members(v: &CtlValue, i: usize, x: i64) {
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

/// `CtlValue::parse` of a `CTL_READ` answer payload of any length for element `c`,
/// `check_value` (against [`member_ok`]), and the IEC958 view and write request of the value.
pub(crate) fn ctl_value_parse(data: &[u8], c: &CtlInfo) -> Option<CtlValue> {
    let n = c.value_bytes();
    let v = match CtlValue::parse(data, c) {
        Ok(v) => v,
        Err(e) => {
            assert_eq!(e, WireError::Short);
            assert!(data.len() < n);
            return None;
        }
    };
    assert!(data.len() >= n);
    assert_eq!(&v.as_bytes()[..n], &data[..n]);
    assert!(v.as_bytes()[n..].iter().all(|&b| b == 0));
    let all_ok = (0..c.count() as usize).all(|m| member_ok(c, &v, m));
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
    Some(v)
}

/// `ctl_enum_item` of a `CTL_ENUM_ITEMS` answer payload of any length, at index `i`.
pub(crate) fn ctl_enum_item(payload: &[u8], i: u32) {
    let size = info::CTL_ENUM_ITEM_SIZE;
    let at = i as usize * size;
    match info::ctl_enum_item(payload, i) {
        Ok(item) => {
            let n = item.as_bytes().len();
            assert!(at + size <= payload.len());
            assert_eq!(item.as_bytes(), &payload[at..at + n]);
            assert_eq!(payload[at + n], 0);
        }
        Err(WireError::Short) => assert!((i as usize) >= payload.len() / size),
        Err(WireError::BadValue) => {
            assert!(info::validate_name(&payload[at..at + size]).is_err());
        }
    }
}

/// `CtlTlv::parse` of a `CTL_TLV_READ` answer payload of any length, and its value.
pub(crate) fn ctl_tlv_parse(data: &[u8]) {
    match info::CtlTlv::parse(data) {
        Ok(t) => {
            assert!(t.length() % 4 == 0 && t.length() <= info::CTL_TLV_MAX_BYTES);
            assert_eq!(Ok(t.ty()), wire::le32(data, 0));
            assert_eq!(info::CtlTlv::parse(&t.to_bytes()), Ok(t));
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
            let len = wire::le32(data, 4).unwrap_or(0);
            assert!(!len.is_multiple_of(4) || len > info::CTL_TLV_MAX_BYTES);
        }
    }
}

// --- ring.rs ---------------------------------------------------------------------------------

/// `Geometry::new` of any sizes: an accepted geometry is consistent, at any period `seq`.
pub(crate) fn geometry(frame: u32, period: u32, buffer: u32, seq: u64) -> Option<Geometry> {
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

/// The driver queues what `playback_ready` allows for `written` frames.
pub(crate) fn playback(p: &mut Periods, geo: &Geometry, written: u64, draining: bool) {
    let n = p.playback_ready(geo, written, draining);
    assert!(n <= u64::from(geo.periods()) - p.in_flight());
    // Never more than was written, except the padded last period of a drain.
    let pf = geo.period_frames();
    assert!(n * pf <= written || (draining && (n - 1) * pf < written));
    p.queue(n);
}

/// The driver queues what `capture_ready` allows with the application's pointer at `appl`.
/// With `read`, the frames that the application has read since prepare on a stream that
/// only captures: no slot that the application has not read is handed out, and none that it
/// has read is held back.
pub(crate) fn capture(
    p: &mut Periods,
    geo: &Geometry,
    appl: u64,
    boundary: u64,
    read: Option<u64>,
) {
    let periods = u64::from(geo.periods());
    let pf = geo.period_frames();
    let n = p.capture_ready(geo, appl, boundary);
    assert!(n <= periods - p.in_flight());
    if let Some(read) = read {
        // The slot of the last new period was last filled by period `seq - periods`: the
        // application has read all of it.
        if let Some(last) = (p.queued() + n).checked_sub(periods) {
            assert!(
                read >= last * pf,
                "slot of period {} unread",
                last + periods - 1
            );
        }
        let unread = (p.completed() * pf - read).div_ceil(pf);
        assert_eq!(n, periods - p.in_flight() - unread);
    }
    p.queue(n);
}

/// One completion from the device (possibly one more than it got): one period of progress
/// from `last_ptr`, the pointer of the last completion, also across the end of the buffer.
pub(crate) fn complete(p: &mut Periods, geo: &Geometry, last_ptr: &mut u64) {
    let before = *p;
    if p.complete() {
        let ptr = p.hw_ptr(geo);
        assert_eq!((*last_ptr + geo.period_frames()) % geo.buffer_frames(), ptr);
        *last_ptr = ptr;
    } else {
        assert_eq!(before.in_flight(), 0);
        assert_eq!(*p, before);
    }
}

/// `SNDRV_PCM_IOCTL_RESET` with ALSA's `hw_ptr` at `hw` (`lag` periods behind the completed
/// position, on the buffer): the positions keep their slots and their distance.
pub(crate) fn rebase(p: &mut Periods, geo: &Geometry, boundary: u64, hw: u64, lag: u64) {
    let bf = geo.buffer_frames();
    let (cp, qp) = (p.completed_pos(geo, boundary), p.queued_pos(geo, boundary));
    p.rebase(geo, boundary, hw);
    let (cp2, qp2) = (p.completed_pos(geo, boundary), p.queued_pos(geo, boundary));
    assert_eq!(
        ring::frames_between(hw, cp2, boundary),
        lag * geo.period_frames()
    );
    assert_eq!(
        ring::frames_between(cp2, qp2, boundary),
        ring::frames_between(cp, qp, boundary)
    );
    assert_eq!(cp2 % bf, cp % bf);
    assert_eq!(qp2 % bf, qp % bf);
}

/// The invariants of the period accounting after any step. With `read` (as in [`capture`]),
/// the completed frames that the application has not read fit in the buffer.
pub(crate) fn periods(p: &Periods, geo: &Geometry, boundary: u64, read: Option<u64>) {
    let periods = u64::from(geo.periods());
    let pf = geo.period_frames();
    assert!(p.completed() <= p.queued());
    assert!(p.in_flight() <= periods);
    assert!(p.hw_ptr(geo) < geo.buffer_frames());
    assert_eq!(p.hw_ptr(geo), p.completed() * pf % geo.buffer_frames());
    assert!(p.queued_pos(geo, boundary) < boundary);
    assert!(p.completed_pos(geo, boundary) < boundary);
    assert_eq!(
        ring::frames_between(
            p.completed_pos(geo, boundary),
            p.queued_pos(geo, boundary),
            boundary
        ),
        p.in_flight() * pf % boundary
    );
    assert_eq!(p.next_seq(), p.queued());
    let off = geo.period_offset(p.next_seq()) as u64;
    assert!(off < u64::from(geo.period_bytes()) * periods);
    if let Some(read) = read {
        assert!(p.completed() * pf - read <= geo.buffer_frames());
    }
}

// --- state.rs --------------------------------------------------------------------------------

/// What ALSA asks of a stream, as the driver runs it on the state machine.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub(crate) enum AlsaOp {
    HwParams,
    Prepare,
    Start,
    Stop,
    Release,
    /// A system sleep: the device was reset, then the driver's resume ran.
    Sleep,
}

/// The driver runs ALSA's callback `op` on the state machine, one request at a time;
/// `accepted(i)`: whether the device accepts the callback's request `i`. A refused request
/// leaves the state where it was and ends the callback. Every request that the driver sends
/// is allowed in the state it is sent in, and a callback that the device lets complete
/// leaves the stream where it should.
pub(crate) fn alsa_callback(s: &mut State, op: AlsaOp, accepted: impl Fn(usize) -> bool) {
    let plan = match op {
        AlsaOp::HwParams => state::plan_hw_params(*s).ok(),
        AlsaOp::Prepare => {
            let p = state::plan_prepare(*s);
            assert!(p.is_ok(), "prepare refused in {s:?}");
            p.ok()
        }
        AlsaOp::Release => Some(state::plan_release(*s)),
        AlsaOp::Sleep => {
            let plan = state::plan_resume(*s);
            *s = State::Idle;
            Some(plan)
        }
        AlsaOp::Start | AlsaOp::Stop => {
            // `trigger` checks with `apply` and sends only what the spec allows.
            let r = if matches!(op, AlsaOp::Start) {
                state::Request::Start
            } else {
                state::Request::Stop
            };
            if let Ok(next) = s.apply(r) {
                assert!(next.may_hold_io());
                assert!([0x104, 0x105].contains(&r.code()));
                if accepted(0) {
                    *s = next;
                }
            }
            None
        }
    };
    let Some(plan) = plan else { return };
    for (i, r) in plan.iter().enumerate() {
        let next = s.apply(r);
        assert!(next.is_ok(), "{r:?} in {s:?}");
        assert!([0x101, 0x102, 0x103, 0x104, 0x105].contains(&r.code()));
        if !accepted(i) {
            return;
        }
        *s = next.unwrap_or(*s);
    }
    match op {
        AlsaOp::HwParams => assert_eq!(*s, State::ParamsSet),
        AlsaOp::Prepare => assert_eq!(*s, State::Prepared),
        AlsaOp::Release => assert!(!s.may_hold_io()),
        AlsaOp::Sleep => assert!(!matches!(s, State::Running | State::Stopped)),
        AlsaOp::Start | AlsaOp::Stop => {}
    }
}
