// SPDX-License-Identifier: GPL-2.0

//! Property tests of the driver's pure logic: the host's stand-in for fuzzing.
//!
//! Every function that reads bytes or values from the device gets arbitrary input of arbitrary
//! length and must not panic; where a builder exists, `parse(to_bytes(x)) == x`; and the
//! ring arithmetic and the stream state machine keep their invariants over arbitrary sequences
//! of operations. See `Documentation/fuzzing.rst`.
//!
//! Most properties check the invariants of `host/checks.rs`, which the cargo-fuzz targets
//! (`host/fuzz_api.rs`) check too; those `assert!`, and proptest takes their panic for a
//! failure of the case (and shrinks it) as it takes a failed `prop_assert!`.
//!
//! The number of cases per property is proptest's default (256), or `PROPTEST_CASES`:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test --release prop
//! ```
//!
//! A plain `cargo test` (no `PROPTEST_CASES`) uses a fixed seed, so that every run, CI's
//! included, tries the same cases; a run with `PROPTEST_CASES` draws a new seed each time,
//! unless `PROPTEST_RNG_SEED` sets one. A failure is not saved to a regression file: it
//! becomes a plain unit test next to the function that failed.

use proptest::{
    collection::vec,
    prelude::*,
    test_runner::{
        Config,
        RngSeed, //
    },
};
use std::vec::Vec;

use crate::{
    checks::{
        self,
        AlsaOp, //
    },
    spec::{
        format::{
            FORMATS,
            RATES, //
        },
        hw::{
            self,
            Limits, //
        },
        info::{
            self,
            ChmapInfo,
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
        state::State,
        wire::{
            self,
            code,
            Config as DevConfig,
            Direction,
            Event,
            PcmInfo,
            WireError,
            MAX_ITEMS, //
        },
    },
};

/// The seed of a plain `cargo test`.
const DEFAULT_SEED: u64 = 0x7669_7274_696f_736e;

/// proptest's default configuration (which reads the `PROPTEST_*` variables), without
/// regression files, and with a fixed seed unless the run asks for more cases or a seed.
fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let env = |name| std::env::var_os(name).is_some();
    if !env("PROPTEST_CASES") && !env("PROPTEST_RNG_SEED") {
        config.rng_seed = RngSeed::Fixed(DEFAULT_SEED);
    }
    config
}

/// Arbitrary bytes, mostly around the size of the structure under test.
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(Direction::Output), Just(Direction::Input)]
}

/// Every `PcmInfo` that `PcmInfo::parse` accepts.
fn pcm_info() -> impl Strategy<Value = PcmInfo> {
    (
        any::<u32>(),
        any::<u32>(),
        (any::<u64>(), 0..FORMATS.len()),
        (any::<u64>(), 0..RATES.len()),
        direction(),
        (1..=u8::MAX).prop_flat_map(|min| (Just(min), min..=u8::MAX)),
    )
        .prop_map(
            |(hda_fn_nid, features, (formats, f), (rates, r), direction, (lo, hi))| PcmInfo {
                hda_fn_nid,
                features,
                formats: formats | (1 << f),
                rates: rates | (1 << r),
                direction,
                channels_min: lo,
                channels_max: hi,
            },
        )
}

/// Every valid `Limits`, plus some invalid parameter sets (which `Limits::new` refuses).
fn limits() -> impl Strategy<Value = (u32, u32, u32, u32, u32)> {
    prop_oneof![
        (
            0..=hw::MAX_BUFFER_MS + 1,
            0..=hw::MAX_PERIODS + 1,
            0..=hw::MAX_PERIODS + 1,
            0..=20_000_000u32,
            0..=hw::MAX_BUFFER_MS + 1,
        ),
        any::<(u32, u32, u32, u32, u32)>(),
    ]
}

fn ctl_name() -> impl Strategy<Value = CtlName> {
    "[ -~]{1,43}".prop_map(|s| CtlName::new(&s).unwrap_or_else(|e| panic!("{s:?}: {e:?}")))
}

fn ctl_value_info() -> impl Strategy<Value = CtlValueInfo> {
    prop_oneof![
        Just(CtlValueInfo::Boolean),
        (any::<i32>(), any::<i32>(), 0..=i32::MAX).prop_map(|(a, b, step)| {
            CtlValueInfo::Integer {
                min: a.min(b),
                max: a.max(b),
                step,
            }
        }),
        (any::<i64>(), any::<i64>(), 0..=i64::MAX).prop_map(|(a, b, step)| {
            CtlValueInfo::Integer64 {
                min: a.min(b),
                max: a.max(b),
                step,
            }
        }),
        (1..=info::CTL_MAX_ENUM_ITEMS).prop_map(|items| CtlValueInfo::Enumerated { items }),
        Just(CtlValueInfo::Bytes),
        Just(CtlValueInfo::Iec958),
    ]
}

/// Every `CtlInfo` that `CtlInfo::parse` accepts.
fn ctl_info() -> impl Strategy<Value = CtlInfo> {
    (
        any::<u32>(),
        any::<u32>(),
        ctl_value_info(),
        any::<u32>(),
        any::<u32>(),
        ctl_name(),
    )
        .prop_flat_map(|(nid, role, value, access, index, name)| {
            (1..=value.ty().max_count()).prop_map(move |count| {
                CtlInfo::new(
                    nid,
                    CtlRole::from_wire(role),
                    value,
                    access,
                    count,
                    index,
                    name,
                )
                .unwrap_or_else(|e| panic!("{e:?}"))
            })
        })
}

/// A valid stream geometry.
fn geometry() -> impl Strategy<Value = Geometry> {
    (1..=64u32, 1..=4096u32, 2..=MAX_RING_PERIODS).prop_filter_map(
        "too large for u32",
        |(frame, frames, periods)| {
            let period = frame.checked_mul(frames)?;
            let buffer = period.checked_mul(periods)?;
            Geometry::new(frame, period, buffer).ok()
        },
    )
}

/// What the driver does to a stream's period accounting.
#[derive(Clone, Copy, Debug)]
enum RingOp {
    /// Queue what `playback_ready` allows for `written` frames.
    Playback { written: u64, draining: bool },
    /// Queue what `capture_ready` allows.
    Capture,
    /// The application reads up to this many captured frames.
    Read(u64),
    /// One completion from the device (possibly one too many).
    Complete,
}

fn ring_op() -> impl Strategy<Value = RingOp> {
    prop_oneof![
        (any::<u64>(), any::<bool>())
            .prop_map(|(written, draining)| RingOp::Playback { written, draining }),
        (0..100_000u64, any::<bool>())
            .prop_map(|(written, draining)| RingOp::Playback { written, draining }),
        Just(RingOp::Capture),
        (0..10_000u64).prop_map(RingOp::Read),
        Just(RingOp::Complete),
        Just(RingOp::Complete),
    ]
}

fn alsa_op() -> impl Strategy<Value = AlsaOp> {
    prop_oneof![
        Just(AlsaOp::HwParams),
        Just(AlsaOp::Prepare),
        Just(AlsaOp::Start),
        Just(AlsaOp::Stop),
        Just(AlsaOp::Release),
        Just(AlsaOp::Sleep),
    ]
}

proptest! {
    #![proptest_config(config())]

    // --- wire.rs ---------------------------------------------------------------------------

    #[test]
    fn check_status_accepts_only_ok(c in any::<u32>()) {
        checks::check_status(c);
    }

    #[test]
    fn config_validate_bounds_every_count(c in any::<[u32; 4]>(), small in any::<[bool; 4]>()) {
        let c: [u32; 4] = core::array::from_fn(|i| if small[i] { c[i] % (MAX_ITEMS + 1) } else { c[i] });
        checks::config(&DevConfig { jacks: c[0], streams: c[1], chmaps: c[2], controls: c[3] });
    }

    #[test]
    fn pcm_info_parse_never_panics(b in bytes(64)) {
        checks::pcm_info_parse(&b);
    }

    #[test]
    fn pcm_info_round_trips(info in pcm_info()) {
        prop_assert_eq!(PcmInfo::parse(&info.to_bytes()), Ok(info));
    }

    #[test]
    fn pcm_info_field_mutations_never_panic(info in pcm_info(), at in 0..32usize, v in any::<u8>()) {
        let mut b = info.to_bytes();
        b[at] = v;
        let _ = PcmInfo::parse(&b);
    }

    #[test]
    fn hardware_translation_is_sane(info in pcm_info(), l in limits()) {
        // `Limits::new` never panics; with valid limits, the description is consistent.
        if let Ok(limits) = Limits::new(l.0, l.1, l.2, l.3, l.4) {
            checks::hardware(&hw::hardware(&info, &limits));
        }
    }

    #[test]
    fn format_lookups_never_panic(alsa in any::<u32>(), hz in any::<u32>(), mask in any::<u64>()) {
        checks::formats(mask, alsa);
        checks::rates(mask, hz);
    }

    #[test]
    fn pcm_status_parse(b in bytes(16)) {
        checks::pcm_status_parse(&b);
    }

    #[test]
    fn event_parse_never_panics(b in bytes(16)) {
        checks::event_parse(&b);
    }

    #[test]
    fn events_round_trip(i in 0..5usize, data in any::<u32>()) {
        let codes = [
            code::EVT_JACK_CONNECTED,
            code::EVT_JACK_DISCONNECTED,
            code::EVT_PCM_PERIOD_ELAPSED,
            code::EVT_PCM_XRUN,
            code::EVT_CTL_NOTIFY,
        ];
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&codes[i].to_le_bytes());
        b[4..].copy_from_slice(&data.to_le_bytes());
        prop_assert!(Event::parse(&b).is_ok());
        for n in 0..8 {
            prop_assert_eq!(Event::parse(&b[..n]), Err(WireError::Short));
        }
    }

    #[test]
    fn requests_lay_out_their_fields(a in any::<u32>(), b in any::<u32>(), c in any::<u32>(), d in any::<u32>()) {
        let q = wire::QueryInfo { code: a, start_id: b, count: c, size: d }.to_bytes();
        prop_assert_eq!([0, 4, 8, 12].map(|at| wire::le32(&q, at)), [Ok(a), Ok(b), Ok(c), Ok(d)]);
        let h = wire::PcmHdr { code: a, stream_id: b }.to_bytes();
        prop_assert_eq!([0, 4].map(|at| wire::le32(&h, at)), [Ok(a), Ok(b)]);
        prop_assert_eq!(wire::pcm_xfer(c), c.to_le_bytes());
    }

    // --- info.rs: jacks ----------------------------------------------------------------------

    #[test]
    fn jack_info_parse_never_panics(b in bytes(40)) {
        checks::jack_info_parse(&b);
    }

    #[test]
    fn jack_info_round_trips(
        nid in any::<u32>(), features in any::<u32>(), defconf in any::<u32>(),
        caps in any::<u32>(), connected in any::<bool>(),
    ) {
        let j = JackInfo { hda_fn_nid: nid, features, hda_reg_defconf: defconf, hda_reg_caps: caps, connected };
        prop_assert_eq!(JackInfo::parse(&j.to_bytes()), Ok(j));
    }

    #[test]
    fn jack_type_and_name_of_any_pin(defconf in any::<u32>()) {
        checks::jack_pin(info::jack_type(defconf), info::jack_name(defconf));
    }

    #[test]
    fn jack_remap_round_trips(jack_id in any::<u32>(), association in any::<u32>(), sequence in any::<u32>()) {
        let r = JackRemap { jack_id, association, sequence };
        prop_assert_eq!(JackRemap::parse(&r.to_bytes()), Ok(r));
    }

    #[test]
    fn jack_remap_parse_never_panics(b in bytes(24)) {
        checks::jack_remap_parse(&b);
    }

    // --- info.rs: channel maps ---------------------------------------------------------------

    #[test]
    fn chmap_info_parse_never_panics(b in bytes(40)) {
        checks::chmap_info_parse(&b);
    }

    #[test]
    fn chmap_info_round_trips(nid in any::<u32>(), d in direction(), pos in vec(any::<u8>(), 1..=18)) {
        let c = ChmapInfo::new(nid, d, &pos).unwrap_or_else(|e| panic!("{e:?}"));
        prop_assert_eq!(c.positions(), &pos[..]);
        prop_assert_eq!(ChmapInfo::parse(&c.to_bytes()), Ok(c));
    }

    #[test]
    fn alsa_position_of_any_byte(p in any::<u8>()) {
        checks::alsa_position(p);
    }

    // --- info.rs: control elements -----------------------------------------------------------

    #[test]
    fn validate_name_never_panics(b in bytes(70)) {
        checks::names_parse(&b);
    }

    #[test]
    fn names_from_any_string(s in ".{0,70}") {
        checks::names_from_str(&s);
    }

    #[test]
    fn ctl_info_parse_never_panics(b in bytes(120)) {
        checks::ctl_info_parse(&b);
    }

    #[test]
    fn ctl_info_round_trips(c in ctl_info()) {
        prop_assert_eq!(CtlInfo::parse(&c.to_bytes()), Ok(c));
    }

    #[test]
    fn ctl_info_mutations_never_panic(c in ctl_info(), flips in vec((0..info::CTL_INFO_SIZE, any::<u8>()), 1..8)) {
        // Random bytes rarely make a valid entry: mutate valid ones to reach the later checks.
        let mut b = c.to_bytes();
        for (at, v) in flips {
            b[at] = v;
        }
        checks::ctl_info_parse(&b);
    }

    #[test]
    fn ctl_values_never_panic(c in ctl_info(), b in bytes(600)) {
        checks::ctl_value_parse(&b, &c);
    }

    #[test]
    fn ctl_value_members_round_trip(i in any::<usize>(), small in 0..200usize, v in any::<i64>()) {
        for i in [i, small] {
            checks::members(&CtlValue::default(), i, v);
        }
    }

    #[test]
    fn values_written_in_range_pass_the_check(c in ctl_info(), seed in any::<u64>()) {
        // A value made of in-range members passes; pushing one member out of range fails.
        let mut v = CtlValue::default();
        let count = c.count() as usize;
        let pick = |i: usize, span: u64| (seed.rotate_left(i as u32 % 64)) % span.max(1);
        for i in 0..count {
            match c.value() {
                CtlValueInfo::Boolean => { v.set_integer(i, (pick(i, 2)) as i32); }
                // On a step from `min` (any value if `step` is 0).
                CtlValueInfo::Integer { min, max, step } => {
                    let step = i64::from(step).max(1);
                    let steps = (i64::from(max) - i64::from(min)) / step;
                    let k = pick(i, steps as u64 + 1) as i64;
                    v.set_integer(i, (i64::from(min) + k * step) as i32);
                }
                CtlValueInfo::Integer64 { min, max, step } => {
                    let step = i128::from(step.max(1));
                    let steps = ((i128::from(max) - i128::from(min)) / step) as u128;
                    let k = if steps >= u128::from(u64::MAX) {
                        u128::from(seed)
                    } else {
                        u128::from(pick(i, steps as u64 + 1))
                    };
                    v.set_integer64(i, (i128::from(min) + k as i128 * step) as i64);
                }
                CtlValueInfo::Enumerated { items } => {
                    v.set_enumerated(i, pick(i, u64::from(items)) as u32);
                }
                CtlValueInfo::Bytes | CtlValueInfo::Iec958 => {}
            }
        }
        prop_assert_eq!(c.check_value(&v), Ok(()));
        let last = count - 1;
        let bad = match c.value() {
            CtlValueInfo::Boolean => v.set_integer(last, 2),
            CtlValueInfo::Integer { max, .. } if max < i32::MAX => v.set_integer(last, max + 1),
            CtlValueInfo::Integer64 { max, .. } if max < i64::MAX => v.set_integer64(last, max + 1),
            CtlValueInfo::Enumerated { items } => v.set_enumerated(last, items),
            _ => false,
        };
        if bad {
            prop_assert_eq!(c.check_value(&v), Err(WireError::BadValue));
        }
    }

    #[test]
    fn enum_items_never_panic(payload in bytes(300), index in any::<u32>(), small in 0..6u32) {
        for i in [index, small] {
            checks::ctl_enum_item(&payload, i);
        }
    }

    #[test]
    fn tlv_never_panics(b in bytes(80), ty in any::<u32>(), len in any::<u32>()) {
        checks::ctl_tlv_parse(&b);
        match CtlTlv::new(ty, len) {
            Ok(t) => prop_assert_eq!((t.ty(), t.length()), (ty, len)),
            Err(_) => prop_assert!(len % 4 != 0 || len > info::CTL_TLV_MAX_BYTES),
        }
    }

    #[test]
    fn ctl_events_of_any_data(data in any::<u32>()) {
        checks::ctl_event(data);
    }

    // --- ring.rs -----------------------------------------------------------------------------

    #[test]
    fn geometry_new_never_panics(f in any::<u32>(), p in any::<u32>(), b in any::<u32>(), seq in any::<u64>()) {
        checks::geometry(f, p, b, seq);
    }

    #[test]
    fn frames_between_stays_on_the_ring(from in any::<u64>(), to in any::<u64>(), boundary in any::<u64>(), small in 0..5000u64) {
        for boundary in [boundary, small] {
            let d = ring::frames_between(from, to, boundary);
            if boundary == 0 {
                prop_assert_eq!(d, 0);
            } else {
                prop_assert!(d < boundary);
                // from + d == to on the ring.
                let sum = (u128::from(from % boundary) + u128::from(d)) % u128::from(boundary);
                prop_assert_eq!(sum, u128::from(to % boundary));
            }
            let buffer = boundary / 2;
            prop_assert!(ring::appl_ahead(from, to, boundary, buffer) <= buffer);
        }
    }

    #[test]
    fn ring_accounting_keeps_its_invariants(geo in geometry(), ops in vec(ring_op(), 0..200), boundary_mul in 1..=1024u64, announced in any::<u64>()) {
        let boundary = geo.buffer_frames() * boundary_mul;
        let mut p = Periods::default();
        let mut last_ptr = 0;
        // Frames the application has read since prepare (capture).
        let mut read = 0u64;
        for op in ops {
            match op {
                RingOp::Playback { written, draining } => {
                    checks::playback(&mut p, &geo, written, draining);
                }
                RingOp::Capture => {
                    // (Mixed with playback, only the bound holds: see
                    // `capture_never_hands_out_an_unread_slot` for capture alone.)
                    checks::capture(&mut p, &geo, read % boundary, boundary, None);
                }
                RingOp::Read(frames) => {
                    read += frames.min(p.completed() * geo.period_frames() - read);
                }
                RingOp::Complete => checks::complete(&mut p, &geo, &mut last_ptr),
            }
            checks::periods(&p, &geo, boundary, None);
            let _ = ring::must_kick(&geo, announced, p.in_flight());
        }
    }

    #[test]
    fn capture_never_hands_out_an_unread_slot(geo in geometry(), ops in vec((0..3u8, 0..10_000u64), 0..200), boundary_mul in 2..=1024u64) {
        let pf = geo.period_frames();
        let boundary = geo.buffer_frames() * boundary_mul;
        let mut p = Periods::default();
        let mut last_ptr = 0;
        // Frames the application has read since prepare.
        let mut read = 0u64;
        for (op, frames) in ops {
            match op {
                0 => checks::capture(&mut p, &geo, read % boundary, boundary, Some(read)),
                1 => read += frames.min(p.completed() * pf - read),
                _ => checks::complete(&mut p, &geo, &mut last_ptr),
            }
            checks::periods(&p, &geo, boundary, Some(read));
        }
    }

    #[test]
    fn reset_keeps_positions_in_their_slots(geo in geometry(), boundary_mul in 1..=1024u64, completed in 0..2000u64, in_flight_seed in any::<u64>(), lag_seed in any::<u64>()) {
        let periods = u64::from(geo.periods());
        let pf = geo.period_frames();
        let buffer = geo.buffer_frames();
        let boundary = buffer * boundary_mul;
        let in_flight = in_flight_seed % (periods + 1);
        // ALSA's hw_ptr may lag the completions by less than a buffer.
        let lag = (lag_seed % periods).min(completed);
        let mut p = Periods::default();
        p.queue(completed + in_flight);
        for _ in 0..completed {
            p.complete();
        }
        // SNDRV_PCM_IOCTL_RESET: hw_ptr %= buffer.
        let hw = ((completed - lag) * pf % boundary) % buffer;
        checks::rebase(&mut p, &geo, boundary, hw, lag);
        checks::periods(&p, &geo, boundary, None);
        prop_assert_eq!(p.in_flight(), in_flight);
        prop_assert_eq!(p.completed_pos(&geo, boundary) % buffer, completed * pf % buffer);
    }

    #[test]
    fn periods_with_unchecked_queueing_never_panic(geo in geometry(), ns in vec(0..=u64::from(u32::MAX), 0..50), written in any::<u64>()) {
        // A driver that queued more than the ring (a bug) must not make the accounting panic.
        let mut p = Periods::default();
        for n in ns {
            p.queue(n);
            let _ = p.complete();
            let _ = p.playback_ready(&geo, written, true);
            let _ = p.capture_ready(&geo, written, u64::MAX);
            let _ = p.capture_ready(&geo, written, 0);
            p.rebase(&geo, u64::MAX, written);
            p.rebase(&geo, 0, written);
            prop_assert!(p.hw_ptr(&geo) < geo.buffer_frames());
            let _ = p.queued_pos(&geo, 0);
            let _ = p.queued_pos(&geo, u64::MAX);
        }
    }

    // --- state.rs ----------------------------------------------------------------------------

    #[test]
    fn alsa_callbacks_follow_the_spec_state_machine(ops in vec((alsa_op(), vec(any::<bool>(), 3)), 0..60)) {
        // The device may fail any request.
        let mut s = State::default();
        for (op, fails) in ops {
            checks::alsa_callback(&mut s, op, |i| !fails.get(i).copied().unwrap_or(false));
        }
    }
}

/// Failures that proptest found in functions outside the files of the property tests'
/// author, kept here until the function's file is fixed (then they move next to it).
mod regressions {
    use super::*;

    /// `hw::hardware` gives `period_bytes_min > period_bytes_max` when the buffer split into
    /// `pcm_periods_min` periods is shorter than `pcm_period_us_min`, which `Limits::new`
    /// accepts: ALSA then cannot open the stream (no period size fits).
    #[test]
    fn hardware_period_min_above_max() {
        // S16 mono at 48 kHz; 160 ms buffer in at least 16 periods (10 ms each), but periods
        // of at least 20 ms.
        let info = PcmInfo {
            hda_fn_nid: 0,
            features: 0,
            formats: 1 << 5,
            rates: 1 << 7,
            direction: Direction::Output,
            channels_min: 1,
            channels_max: 1,
        };
        assert_eq!(
            Limits::new(160, 16, 16, 20_000, 80),
            Err(hw::LimitError::TooManyPeriods)
        );
        // `hardware` keeps the minimum in range for any limits, also ones that rounding
        // makes tight: 16 periods of exactly 10 ms.
        let limits = Limits::new(160, 16, 16, 10_000, 80).unwrap();
        let hw = hw::hardware(&info, &limits);
        assert!(hw.period_bytes_min <= hw.period_bytes_max, "{hw:?}");
    }
}
