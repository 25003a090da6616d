// SPDX-License-Identifier: GPL-2.0
//! vsnd-device: a vhost-user virtio-snd device for the bench's tests. See README.md.

mod audio;
mod card;
mod control;
mod ctls;
mod device;
mod fuzz;
mod pattern;
mod proto;

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

use log::{debug, error, info, LevelFilter};
use vhost_user_backend::VhostUserDaemon;
use vm_memory::{GuestMemoryAtomic, GuestMemoryMmap};

use card::{ChmapLayout, Config, Layout};
use ctls::ControlSet;
use device::{Options, VsndBackend};

const USAGE: &str = "\
usage: vsnd-device --socket PATH [options]
       vsnd-device ctl CONTROL-SOCKET COMMAND...   (send one test-control command)
  --socket PATH        vhost-user socket to listen on (QEMU: -chardev socket,path=PATH)
  --jacks N            config space: jacks (default 0)
  --jack-remap         every jack offers VIRTIO_SND_JACK_F_REMAP: JACK_REMAP sets its
                       association and sequence (hda_reg_defconf bits 7:4, 3:0; a driver
                       reset restores 1, 0); without it JACK_REMAP is NOT_SUPP
  --streams N          config space: PCM streams (default 2; may be 0)
  --chmaps N|standard  channel maps: N stereo (FL FR) maps, map c with the direction and nid
                       of stream c (default 0); or `standard`: for every nid and direction
                       with streams, ALSA's standard maps up to --channels-max channels
                       (MONO, FL FR, FL FR RL RR, 5.1, 7.1; past 8 channels one more map of
                       up to 18 channels)
  --nids N             HDA function nodes (default 1): stream i is on nid i*N/streams
                       (contiguous blocks), so a driver makes N PCM devices; 1..=streams
  --channels-max C     PCM_INFO channels_max of every stream (default 2; 1..255);
                       channels_min is 1
  --layout L           stream directions: alternate (0 out, 1 in, 2 out, ...; default) or
                       split (QEMU's virtio-sound-pci: first half out, second half in)
  --formats LIST       sample formats offered in PCM_INFO, comma-separated (default all:
                       S8 U8 S16 U16 S24 S24_3 S32 U32 FLOAT FLOAT64; S24 is 24 bits in 4
                       bytes, S24_3 in 3)
  --capture-freq HZ    capture sine frequency (default 1000; 0 = silence)
  --capture-amp A      capture sine amplitude, 0..1 of full scale (default 0.5)
  --no-event-idx       do not offer VIRTIO_RING_F_EVENT_IDX
  --pcm-features LIST  PCM features offered in PCM_INFO, comma-separated: xruns
                       (EVT_XRUNS: the xrun command's events), polling (MSG_POLLING: the
                       device polls tx/rx every --poll-us, default 1000, for streams that
                       selected it); default none
  --controls SET       control elements (VIRTIO_SND_F_CTLS): default (one of every type:
                       Master Playback Volume, ..., `ctl PATH ctl-list`), N (N INTEGER
                       elements \"Test Control\" with indexes 0..N-1, N <= 1024) or none
                       (default). QEMU needs -device vhost-user-snd-pci,...,controls=on
  --reset-controls     a driver reset (GET_VRING_BASE of the control queue) puts every
                       control element's value back to its initial value, as hardware
                       losing its mixer state (no CTL_NOTIFY); without it values survive
  --persist            serve one connection after another (default: exit after the first)
  --control PATH       test-control socket (faults, events, stats; `ctl PATH help`)
  --exec COMMAND       run a test-control command at start, e.g. --exec 'fault ctl-drop on
                       START count 1' (repeatable)
  --fuzz SEED[:RATE]   fuzz mode from the start (test control `fuzz on SEED RATE`): the
                       device lies, from SEED, in RATE % of its answers (default 25) and
                       sends random events (src/fuzz.rs)
  -v, --verbose        debug log (each I/O message)
  -q, --quiet          warnings and errors only
Streams: channels 1..C, formats S8 U8 S16 U16 S24 S24_3 S32 U32 FLOAT FLOAT64 (--formats),
rates 8000..192000, and 12000 and 24000 (the rates that virtio 1.4 appended).
";

struct Args {
    socket: String,
    cfg: Config,
    opts: Options,
    persist: bool,
    level: LevelFilter,
    control: Option<String>,
    exec: Vec<String>,
    controls: ControlSet,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        socket: String::new(),
        cfg: Config::default(),
        opts: Options {
            capture_freq: 1000.0,
            capture_amp: 0.5,
            event_idx: true,
            poll_us: 1000,
        },
        persist: false,
        level: LevelFilter::Info,
        control: None,
        exec: Vec::new(),
        controls: ControlSet::None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse().map_err(|_| format!("{name}: bad value '{v}'"))
        }
        match arg.as_str() {
            "--socket" => a.socket = val(arg)?,
            "--jacks" => a.cfg.jacks = num(arg, val(arg)?)?,
            "--jack-remap" => a.cfg.jack_remap = true,
            "--streams" => a.cfg.streams = num(arg, val(arg)?)?,
            "--chmaps" => match val(arg)?.as_str() {
                "standard" | "std" => a.cfg.chmap_layout = ChmapLayout::Standard,
                v => {
                    a.cfg.chmap_layout = ChmapLayout::Stereo;
                    a.cfg.chmaps = num(arg, v.to_string())?;
                }
            },
            "--nids" => a.cfg.nids = num(arg, val(arg)?)?,
            "--channels-max" => a.cfg.channels_max = num(arg, val(arg)?)?,
            "--layout" => {
                a.cfg.layout = match val(arg)?.as_str() {
                    "alternate" => Layout::Alternate,
                    "split" => Layout::Split,
                    v => return Err(format!("--layout: '{v}' is neither alternate nor split")),
                }
            }
            "--formats" => a.cfg.formats = proto::parse_formats(&val(arg)?)?,
            "--capture-freq" => a.opts.capture_freq = num(arg, val(arg)?)?,
            "--capture-amp" => a.opts.capture_amp = num(arg, val(arg)?)?,
            "--no-event-idx" => a.opts.event_idx = false,
            "--pcm-features" => {
                for f in val(arg)?.split(',') {
                    a.cfg.pcm_features |= match f {
                        "polling" => 1 << proto::PCM_F_MSG_POLLING,
                        "xruns" => 1 << proto::PCM_F_EVT_XRUNS,
                        "none" => 0,
                        _ => return Err(format!("--pcm-features: '{f}' is not polling or xruns")),
                    }
                }
            }
            "--poll-us" => a.opts.poll_us = num(arg, val(arg)?)?,
            "--controls" => a.controls = ControlSet::parse(&val(arg)?)?,
            "--reset-controls" => a.cfg.reset_controls = true,
            "--persist" => a.persist = true,
            "--control" => a.control = Some(val(arg)?),
            "--exec" => a.exec.push(val(arg)?),
            "--fuzz" => {
                let (seed, rate) = fuzz::parse_seed_rate(&val(arg)?, None)?;
                a.exec.push(format!("fuzz on {seed} {rate}"));
            }
            "-v" | "--verbose" => a.level = LevelFilter::Debug,
            "-q" | "--quiet" => a.level = LevelFilter::Warn,
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("unknown argument '{arg}'")),
        }
    }
    if a.socket.is_empty() {
        return Err("--socket is required".into());
    }
    if a.cfg.streams > 64 || a.cfg.jacks > 64 || a.cfg.chmaps > 64 {
        return Err("at most 64 streams, jacks and channel maps".into());
    }
    if a.cfg.nids == 0 || a.cfg.nids > a.cfg.streams.max(1) {
        return Err("--nids wants 1..=streams".into());
    }
    if a.cfg.channels_max == 0 {
        return Err("--channels-max wants 1..255".into());
    }
    if a.cfg.chmap_layout == ChmapLayout::Standard {
        a.cfg.chmaps = a.cfg.standard_chmaps().len() as u32;
    }
    if !(0.0..=1.0).contains(&a.opts.capture_amp) || a.opts.capture_freq < 0.0 {
        return Err("--capture-amp wants 0..1, --capture-freq >= 0".into());
    }
    a.cfg.controls = a.controls.build().len();
    Ok(a)
}

/// Log lines on stderr: seconds since start, level, message.
struct Logger;
static START: OnceLock<Instant> = OnceLock::new();

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let t = START.get_or_init(Instant::now).elapsed().as_secs_f64();
            eprintln!("[{t:9.3}] {:5} {}", r.level(), r.args());
        }
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("ctl") {
        if argv.len() < 3 {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
        return match control::client(&argv[1], &argv[2..].join(" ")) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("vsnd-device ctl: {}: {e}", argv[1]);
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprint!("vsnd-device: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    START.get_or_init(Instant::now);
    log::set_logger(&Logger).expect("logger");
    log::set_max_level(args.level);
    let c = &args.cfg;
    info!(
        "vsnd-device {}: socket {}, jacks {}{} streams {} chmaps {} ({:?}) controls {}{}, layout {:?}, nids {}, channels 1..{}, formats {}",
        env!("CARGO_PKG_VERSION"),
        args.socket,
        c.jacks,
        if c.jack_remap { " (remap)" } else { "" },
        c.streams,
        c.chmaps,
        c.chmap_layout,
        c.controls,
        if c.reset_controls { " (reset)" } else { "" },
        c.layout,
        c.nids,
        c.channels_max,
        proto::FORMATS
            .iter()
            .filter(|f| c.formats & 1 << f.0 != 0)
            .map(|f| f.1)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for m in c.chmap_list() {
        debug!(
            "chmap: nid {} direction {} positions {:?}",
            m.nid, m.direction, m.positions
        );
    }
    let ctl = control::Control::with_controls(args.controls.build());
    for cmd in &args.exec {
        match ctl.execute(cmd) {
            Ok(s) => info!("exec '{cmd}': ok {s}"),
            Err(e) => {
                error!("exec '{cmd}': {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(path) = &args.control {
        if let Err(e) = control::serve(ctl.clone(), std::path::Path::new(path)) {
            error!("control socket {path}: {e}");
            return ExitCode::FAILURE;
        }
        info!("control socket {path}");
    }
    loop {
        let backend = match VsndBackend::new(args.cfg.clone(), args.opts.clone(), ctl.clone()) {
            Ok(b) => b,
            Err(e) => {
                error!("cannot start stream threads: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mem = GuestMemoryAtomic::new(GuestMemoryMmap::new());
        let mut daemon = match VhostUserDaemon::new("vsnd-device".into(), backend.clone(), mem) {
            Ok(d) => d,
            Err(e) => {
                error!("cannot create the vhost-user daemon: {e}");
                return ExitCode::FAILURE;
            }
        };
        info!("listening on {}", args.socket);
        let result = daemon.serve(&args.socket);
        let stats = backend.shutdown();
        for (sid, s) in stats.iter().enumerate() {
            info!(
                "stream {sid} ({}, nid {}): {} msgs, {} data bytes, {} frames, {} unaligned, {} flushed, {} bad",
                if c.direction(sid as u32) == proto::D_OUTPUT {
                    "output"
                } else {
                    "input"
                },
                c.nid(sid as u32),
                s.msgs,
                s.bytes,
                s.frames,
                s.unaligned,
                s.flushed,
                s.bad
            );
        }
        match result {
            Ok(()) => info!("frontend disconnected"),
            Err(e) => {
                error!("vhost-user connection failed: {e}");
                return ExitCode::FAILURE;
            }
        }
        if !args.persist {
            if let Some(path) = &args.control {
                let _ = std::fs::remove_file(path);
            }
            return ExitCode::SUCCESS;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Args, String> {
        parse_args(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn cli() {
        let a = parse("--socket s").unwrap();
        assert_eq!((a.cfg.jacks, a.cfg.streams, a.cfg.chmaps), (0, 2, 0));
        assert!(!a.cfg.jack_remap);
        assert_eq!(a.cfg.initial_jack().features, 0);
        let a = parse("--socket s --jacks 2 --jack-remap").unwrap();
        assert!(a.cfg.jack_remap);
        assert_eq!(
            a.cfg
                .initial_jacks()
                .iter()
                .map(|j| j.features)
                .collect::<Vec<_>>(),
            [1 << proto::JACK_F_REMAP; 2]
        );
        assert!(parse("--socket s --jack-remap 1").is_err());
        let a =
            parse("--socket s --jacks 1 --streams 0 --chmaps 3 --layout split --persist").unwrap();
        assert_eq!(
            (a.cfg.jacks, a.cfg.streams, a.cfg.chmaps, a.cfg.layout),
            (1, 0, 3, Layout::Split)
        );
        assert!(a.persist);
        assert!(parse("--jacks 1").is_err());
        assert!(parse("--socket s --streams").is_err());
        assert!(parse("--socket s --streams x").is_err());
        assert!(parse("--socket s --bogus").is_err());
        assert_eq!(a.cfg.controls, 0);
        let a = parse("--socket s --controls default").unwrap();
        assert_eq!(
            (a.controls.clone(), a.cfg.controls),
            (ControlSet::Default, 13)
        );
        assert_eq!(parse("--socket s --controls 40").unwrap().cfg.controls, 40);
        assert_eq!(parse("--socket s --controls none").unwrap().cfg.controls, 0);
        assert!(parse("--socket s --controls lots").is_err());
        assert!(parse("--socket s --controls 2000").is_err());
        // --reset-controls: off by default, a flag without a value, any position.
        assert!(
            !parse("--socket s --controls default")
                .unwrap()
                .cfg
                .reset_controls
        );
        let a = parse("--socket s --reset-controls --controls default").unwrap();
        assert!(a.cfg.reset_controls);
        assert_eq!(a.cfg.controls, 13);
        assert!(
            parse("--socket s --controls 3 --reset-controls")
                .unwrap()
                .cfg
                .reset_controls
        );
        assert!(parse("--socket s --reset-controls 1").is_err());
        assert!(parse("--socket s --reset-control").is_err());
        assert_eq!(parse("-h").err().unwrap(), "");
        // --formats: every format by default, or the list.
        assert_eq!(
            parse("--socket s").unwrap().cfg.formats,
            proto::SUPPORTED_FORMATS
        );
        assert_eq!(
            parse("--socket s --formats S16,s24_3").unwrap().cfg.formats,
            1 << proto::FMT_S16 | 1 << proto::FMT_S24_3
        );
        for bad in ["--formats", "--formats S20", "--formats ,"] {
            assert!(parse(&format!("--socket s {bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_nids_channels_chmaps() {
        let a = parse("--socket s").unwrap();
        assert_eq!(
            (a.cfg.nids, a.cfg.channels_max, a.cfg.chmap_layout),
            (1, 2, ChmapLayout::Stereo)
        );
        let a =
            parse("--socket s --streams 4 --nids 2 --channels-max 6 --chmaps standard").unwrap();
        assert_eq!((a.cfg.nids, a.cfg.channels_max), (2, 6));
        assert_eq!(
            (a.cfg.chmap_layout, a.cfg.chmaps),
            (ChmapLayout::Standard, 16)
        );
        // The order of the options does not matter: the count is made at the end.
        let a = parse("--socket s --chmaps std --channels-max 8 --streams 2").unwrap();
        assert_eq!(a.cfg.chmaps, 10);
        let a = parse("--socket s --chmaps standard --chmaps 2").unwrap();
        assert_eq!((a.cfg.chmap_layout, a.cfg.chmaps), (ChmapLayout::Stereo, 2));
        assert_eq!(
            parse("--socket s --channels-max 255")
                .unwrap()
                .cfg
                .channels_max,
            255
        );
        assert_eq!(
            parse("--socket s --streams 0 --nids 1").unwrap().cfg.nids,
            1
        );
        for bad in [
            "--nids 0",
            "--nids 3",
            "--streams 0 --nids 2",
            "--channels-max 0",
            "--channels-max 256",
            "--channels-max x",
            "--chmaps stereo",
            "--chmaps 65",
        ] {
            assert!(parse(&format!("--socket s {bad}")).is_err(), "{bad}");
        }
    }
}
