// SPDX-License-Identifier: GPL-2.0
//! Test control: fault injection, device events and triggers, driven by text commands from
//! the control socket (`--control PATH`, one command a line) or from `--exec CMD`.
//!
//! Every reply ends with a line "ok[: text]" or "error: text"; `stats`, `faults` and
//! `integrity SID report` print their lines before it. See README.md for the commands.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use log::{info, warn};

use crate::ctls::{tlv, tlv_db_scale, tlv_text, Controls};
use crate::device::Shared;
use crate::fuzz::{parse_seed_rate, Delivery, Fuzzer};
use crate::proto::*;

/// What a fault does to the message it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer `ms` milliseconds late.
    Delay(u64),
    /// Never answer.
    Drop,
    /// Answer with this status (the request is processed as usual).
    Status(u32),
    /// Write only the first n bytes of the response; used length n.
    Short(u32),
    /// Report used length n, whatever was written.
    UsedLen(u32),
    /// I/O only: report latency_bytes n.
    Latency(u32),
    /// Answer, then put the same head on the used ring once more, at once: the guest's
    /// ring finds a head that it no longer has, and breaks the queue.
    Twice,
    /// Process the request, but put on the used ring an id equal to the queue size instead
    /// of the head: the guest's ring finds an id out of range and breaks the queue, with no
    /// completion before it.
    Wild,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Ctl,
    Io,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub id: u64,
    pub target: Target,
    pub kind: FaultKind,
    /// Control request code it applies to (ctl only).
    pub code: Option<u32>,
    /// Stream it applies to: I/O messages of the stream, PCM requests naming it.
    pub stream: Option<u32>,
    /// Control element it applies to: CTL requests naming it (not CTL_INFO).
    pub control: Option<u32>,
    /// Messages left to hit; None: until cleared.
    pub count: Option<u64>,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let t = if self.target == Target::Ctl {
            "ctl"
        } else {
            "io"
        };
        match self.kind {
            FaultKind::Delay(ms) => write!(f, "{t}-delay {ms}")?,
            FaultKind::Drop => write!(f, "{t}-drop")?,
            FaultKind::Status(s) => write!(f, "{t}-status {s:#x}")?,
            FaultKind::Short(n) => write!(f, "{t}-short {n}")?,
            FaultKind::UsedLen(n) => write!(f, "{t}-used-len {n}")?,
            FaultKind::Latency(n) => write!(f, "{t}-latency {n}")?,
            FaultKind::Twice => write!(f, "{t}-twice")?,
            FaultKind::Wild => write!(f, "{t}-wild")?,
        }
        if let Some(c) = self.code {
            write!(f, " on {}", code_name(c))?;
        }
        if let Some(s) = self.stream {
            write!(f, " stream {s}")?;
        }
        if let Some(c) = self.control {
            write!(f, " control {c}")?;
        }
        if let Some(n) = self.count {
            write!(f, " count {n}")?;
        }
        Ok(())
    }
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let r = if let Some(h) = s.strip_prefix("0x") {
        u32::from_str_radix(h, 16)
    } else {
        s.parse()
    };
    r.map_err(|_| format!("bad number '{s}'"))
}

/// A status: OK, BAD_MSG, NOT_SUPP, IO_ERR or a number.
pub fn parse_status(s: &str) -> Result<u32, String> {
    match s.to_ascii_uppercase().as_str() {
        "OK" => Ok(S_OK),
        "BAD_MSG" => Ok(S_BAD_MSG),
        "NOT_SUPP" => Ok(S_NOT_SUPP),
        "IO_ERR" => Ok(S_IO_ERR),
        _ => parse_u32(s),
    }
}

/// A control request code: PCM_START (or START), JACK_INFO, ... or a number.
pub fn parse_code(s: &str) -> Result<u32, String> {
    let u = s.to_ascii_uppercase();
    let u = u.strip_prefix("VIRTIO_SND_R_").unwrap_or(&u);
    for c in REQUEST_CODES {
        let n = code_name(c);
        if u == n || n.strip_prefix("PCM_") == Some(u) {
            return Ok(c);
        }
    }
    parse_u32(s)
}

/// Parses "KIND [ARG] [on CODE] [stream N] [control N] [count N]".
pub fn parse_fault(words: &[&str]) -> Result<Fault, String> {
    let kind_word = *words.first().ok_or("fault needs a kind")?;
    let (target, kind) = kind_word
        .split_once('-')
        .ok_or(format!("unknown fault '{kind_word}'"))?;
    let target = match target {
        "ctl" => Target::Ctl,
        "io" => Target::Io,
        _ => return Err(format!("unknown fault '{kind_word}'")),
    };
    let mut rest = &words[1..];
    let mut arg = || -> Result<&str, String> {
        let (a, r) = rest
            .split_first()
            .ok_or(format!("{kind_word} needs a value"))?;
        rest = r;
        Ok(a)
    };
    let kind = match kind {
        "delay" => FaultKind::Delay(u64::from(parse_u32(arg()?)?)),
        "drop" => FaultKind::Drop,
        "twice" => FaultKind::Twice,
        "wild" => FaultKind::Wild,
        "status" => FaultKind::Status(parse_status(arg()?)?),
        "short" => FaultKind::Short(parse_u32(arg()?)?),
        "used-len" => FaultKind::UsedLen(parse_u32(arg()?)?),
        "latency" if target == Target::Io => FaultKind::Latency(parse_u32(arg()?)?),
        _ => return Err(format!("unknown fault '{kind_word}'")),
    };
    let mut f = Fault {
        id: 0,
        target,
        kind,
        code: None,
        stream: None,
        control: None,
        count: None,
    };
    while let Some((w, r)) = rest.split_first() {
        let v = r.first().ok_or(format!("'{w}' needs a value"))?;
        match *w {
            "on" if target == Target::Ctl => f.code = Some(parse_code(v)?),
            "stream" => f.stream = Some(parse_u32(v)?),
            "control" if target == Target::Ctl => f.control = Some(parse_u32(v)?),
            "count" => f.count = Some(u64::from(parse_u32(v)?)),
            _ => return Err(format!("unexpected '{w}'")),
        }
        rest = &r[1..];
    }
    if f.count == Some(0) {
        return Err("count 0 would never hit".into());
    }
    Ok(f)
}

/// Takes the first fault matching a message: decrements its count, removes it at 0.
pub fn take_fault(
    faults: &mut Vec<Fault>,
    target: Target,
    code: Option<u32>,
    stream: Option<u32>,
    control: Option<u32>,
) -> Option<FaultKind> {
    let i = faults.iter().position(|f| {
        f.target == target
            && (f.code.is_none() || f.code == code)
            && (f.stream.is_none() || f.stream == stream)
            && (f.control.is_none() || f.control == control)
    })?;
    let kind = faults[i].kind;
    if let Some(n) = faults[i].count.as_mut() {
        *n -= 1;
        if *n == 0 {
            faults.remove(i);
        }
    }
    Some(kind)
}

/// Runs a command some time after a PCM command on a stream.
#[derive(Clone, Debug)]
struct Trigger {
    code: u32,
    stream: u32,
    delay_ms: u64,
    cmd: String,
}

pub struct Control {
    /// The device's control elements: here rather than in the device, so that they keep
    /// their values from one connection to the next and `--exec` can set them.
    controls: Mutex<Controls>,
    /// Each element's value as the device started (the set as built, before `--exec` and
    /// any `ctl-set`): what a driver reset restores with `--reset-controls`.
    initial_values: Vec<Vec<u8>>,
    faults: Mutex<Vec<Fault>>,
    triggers: Mutex<Vec<Trigger>>,
    current: Mutex<Weak<Shared>>,
    next_id: AtomicU64,
    /// Fuzz mode (`fuzz on SEED [RATE]`, src/fuzz.rs), and its generation: a `fuzz on` or
    /// `fuzz off` ends the event thread of the previous `fuzz on`.
    fuzz: Mutex<Option<Fuzzer>>,
    fuzz_gen: AtomicU64,
}

impl Control {
    #[cfg(test)]
    pub fn new() -> Arc<Self> {
        Self::with_controls(Controls::default())
    }

    pub fn with_controls(controls: Controls) -> Arc<Self> {
        Arc::new(Control {
            initial_values: controls.values(),
            controls: Mutex::new(controls),
            faults: Mutex::new(Vec::new()),
            triggers: Mutex::new(Vec::new()),
            current: Mutex::new(Weak::new()),
            next_id: AtomicU64::new(1),
            fuzz: Mutex::new(None),
            fuzz_gen: AtomicU64::new(0),
        })
    }

    /// The device that events and stats refer to (the current connection's).
    pub fn set_device(&self, dev: &Arc<Shared>) {
        *self.current.lock().unwrap() = Arc::downgrade(dev);
    }

    fn device(&self) -> Result<Arc<Shared>, String> {
        self.current
            .lock()
            .unwrap()
            .upgrade()
            .ok_or("no device".into())
    }

    pub fn controls(&self) -> MutexGuard<'_, Controls> {
        self.controls.lock().unwrap()
    }

    /// A driver reset with `--reset-controls`: every control element's value back to its
    /// initial value, as hardware that loses its mixer state would. Sends no CTL_NOTIFY
    /// (the driver's queues are being torn down). Returns how many elements changed.
    pub fn reset_values(&self) -> usize {
        self.controls().restore_values(&self.initial_values)
    }

    /// Sends CTL_NOTIFY for a change made here; the change stands if it cannot be sent.
    fn notify(&self, id: u32, mask: u16) -> String {
        match self
            .device()
            .and_then(|d| d.send_ctl_notify(id as u16, mask))
        {
            Ok(s) => s,
            Err(e) => format!("no CTL_NOTIFY: {e}"),
        }
    }

    /// The `ctl-*` commands.
    fn ctl_command(&self, cmd: &str, args: &[&str]) -> Result<String, String> {
        let id = || -> Result<u32, String> {
            parse_u32(args.first().ok_or(format!("usage: {cmd} ID ..."))?)
        };
        match cmd {
            "ctl-list" => {
                let c = self.controls();
                let lines: Vec<String> = c
                    .list
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        format!("{} reads {} writes {}", x.describe(i), x.reads, x.writes)
                    })
                    .collect();
                Ok(lines.join("\n"))
            }
            "ctl-get" => Ok(self.controls().get(id()?)?.value_text()),
            "ctl-set" => {
                let id = id()?;
                if args.len() < 2 {
                    return Err("usage: ctl-set ID VALUE[,VALUE...]".into());
                }
                let text = {
                    let mut c = self.controls();
                    let x = c.get_mut(id)?;
                    x.value = x.parse_value(&args[1..].join(" "))?;
                    format!("'{}' = {}", x.name, x.value_text())
                };
                info!("ctl {id}: {text} (test control)");
                Ok(format!("{text}; {}", self.notify(id, CTL_EVT_MASK_VALUE)))
            }
            "ctl-notify" => {
                let id = id()?;
                let id16 = u16::try_from(id).map_err(|_| format!("control {id} > 65535"))?;
                let mut mask = 0u16;
                for m in args.get(1).copied().unwrap_or("value").split(',') {
                    mask |= match m {
                        "value" => CTL_EVT_MASK_VALUE,
                        "info" => CTL_EVT_MASK_INFO,
                        "tlv" => CTL_EVT_MASK_TLV,
                        _ => u16::try_from(parse_u32(m)?).map_err(|_| "mask > 0xffff")?,
                    };
                }
                self.device()?.send_ctl_notify(id16, mask)
            }
            "ctl-access" => {
                let id = id()?;
                if args.len() < 2 {
                    return Err("usage: ctl-access ID +FLAG|-FLAG...".into());
                }
                let text = {
                    let mut c = self.controls();
                    let x = c.get_mut(id)?;
                    let mut y = x.clone();
                    for a in &args[1..] {
                        let (on, name) = match a.split_at_checked(1) {
                            Some(("+", n)) => (true, n),
                            Some(("-", n)) => (false, n),
                            _ => return Err(format!("'{a}': +FLAG or -FLAG")),
                        };
                        let bit = CTL_ACCESS_NAMES
                            .iter()
                            .find(|(_, n)| *n == name)
                            .ok_or(format!("unknown access flag '{name}'"))?
                            .0;
                        if on {
                            y.access |= bit;
                        } else {
                            y.access &= !bit;
                        }
                    }
                    y.check()?;
                    *x = y;
                    x.describe(id as usize)
                };
                info!("{text} (test control)");
                Ok(format!("{text}; {}", self.notify(id, CTL_EVT_MASK_INFO)))
            }
            "ctl-tlv" => {
                let id = id()?;
                let Some(ty) = args.get(1) else {
                    let c = self.controls();
                    let x = c.get(id)?;
                    let cmd = x.last_command.as_deref().map_or("none".into(), tlv_text);
                    return Ok(format!("tlv {}\nlast command {cmd}", tlv_text(&x.tlv)));
                };
                let mut words = Vec::new();
                let mut mute = false;
                for w in &args[2..] {
                    if *w == "mute" {
                        mute = true;
                        continue;
                    }
                    let v = w.strip_prefix('-').map_or_else(
                        || parse_u32(w),
                        |n| parse_u32(n).map(|v| (v as i32).wrapping_neg() as u32),
                    )?;
                    words.push(v);
                }
                let t = match (*ty, words.as_slice()) {
                    ("db-scale", [min, step]) => tlv_db_scale(*min as i32, *step, mute),
                    ("db-scale", _) => return Err("db-scale MIN STEP [mute] (0.01 dB)".into()),
                    ("db-minmax", _) => tlv(TLVT_DB_MINMAX, &words),
                    ("db-minmax-mute", _) => tlv(TLVT_DB_MINMAX_MUTE, &words),
                    ("db-linear", _) => tlv(TLVT_DB_LINEAR, &words),
                    (n, _) => tlv(parse_u32(n)?, &words),
                };
                let text = {
                    let mut c = self.controls();
                    let x = c.get_mut(id)?;
                    x.tlv = t;
                    format!("'{}' tlv {}", x.name, tlv_text(&x.tlv))
                };
                info!("ctl {id}: {text} (test control)");
                Ok(format!("{text}; {}", self.notify(id, CTL_EVT_MASK_TLV)))
            }
            _ => Err(format!("unknown command '{cmd}' (try help)")),
        }
    }

    pub fn take(
        &self,
        target: Target,
        code: Option<u32>,
        stream: Option<u32>,
        control: Option<u32>,
    ) -> Option<FaultKind> {
        let mut faults = self.faults.lock().unwrap();
        if faults.is_empty() {
            return None;
        }
        let k = take_fault(&mut faults, target, code, stream, control);
        if let Some(k) = k {
            info!("fault: {k:?} hits {target:?} (code {code:?}, stream {stream:?})");
        }
        k
    }

    /// Fuzz mode: mutates a control response (see `Fuzzer::ctl`); logs what it did.
    pub fn fuzz_ctl(
        &self,
        code: u32,
        req: &[u8],
        resp: &mut Vec<u8>,
        cap: usize,
    ) -> Option<Delivery> {
        let (d, line) = self
            .fuzz
            .lock()
            .unwrap()
            .as_mut()?
            .ctl(code, req, resp, cap)?;
        info!("{line}");
        Some(d)
    }

    /// Fuzz mode: mutates an I/O completion (see `Fuzzer::io`); logs what it did.
    pub fn fuzz_io(
        &self,
        rx: bool,
        stream: Option<u32>,
        readable: usize,
        resp: &mut [u8],
        cap: usize,
    ) -> Option<Delivery> {
        let (d, line) = self
            .fuzz
            .lock()
            .unwrap()
            .as_mut()?
            .io(rx, stream, readable, resp, cap)?;
        info!("{line}");
        Some(d)
    }

    /// `fuzz on SEED [RATE]`, `fuzz off`, `fuzz` (the statistics).
    fn fuzz_command(self: &Arc<Self>, args: &[&str]) -> Result<String, String> {
        match args {
            [] => Ok(self
                .fuzz
                .lock()
                .unwrap()
                .as_ref()
                .map_or("fuzz off".into(), |f| format!("fuzz on: {}", f.summary()))),
            ["off"] => {
                self.fuzz_gen.fetch_add(1, Ordering::Relaxed);
                let was = self.fuzz.lock().unwrap().take();
                let s = was.map_or("fuzz off (was off)".into(), |f| {
                    format!("fuzz off: {}", f.summary())
                });
                info!("{s}");
                Ok(s)
            }
            ["on", seed, rest @ ..] if rest.len() <= 1 => {
                let (seed, rate) = parse_seed_rate(seed, rest.first().copied())?;
                let g = self.fuzz_gen.fetch_add(1, Ordering::Relaxed) + 1;
                *self.fuzz.lock().unwrap() = Some(Fuzzer::new(seed, rate));
                let me = self.clone();
                std::thread::Builder::new()
                    .name("vsnd-fuzz-events".into())
                    .spawn(move || me.fuzz_events(g))
                    .map_err(|e| format!("cannot start the event thread: {e}"))?;
                let s = format!("fuzz on: seed {seed} rate {rate}%");
                info!("{s}");
                Ok(s)
            }
            _ => Err("usage: fuzz on SEED [RATE] | fuzz off | fuzz".into()),
        }
    }

    /// The event thread of fuzz generation `g`: random events at random times, while the
    /// fuzz mode of `g` is on (without a device or an event buffer, the event is skipped).
    fn fuzz_events(&self, g: u64) {
        loop {
            let dev = self.device().ok();
            let (jacks, streams, controls) = dev
                .as_ref()
                .map_or((0, 0, 0), |d| (d.cfg.jacks, d.cfg.streams, d.cfg.controls));
            drop(dev);
            let ev = match self.fuzz.lock().unwrap().as_mut() {
                Some(f) if self.fuzz_gen.load(Ordering::Relaxed) == g => {
                    f.event(jacks, streams, controls)
                }
                _ => return,
            };
            let (wait, code, data, used, line) = ev;
            std::thread::sleep(Duration::from_millis(wait));
            if self.fuzz_gen.load(Ordering::Relaxed) != g {
                return;
            }
            match self
                .device()
                .and_then(|d| d.send_event_raw(code, data, used))
            {
                Ok(_) => info!("{line}"),
                Err(e) => info!("{line}: not sent ({e})"),
            }
        }
    }

    /// Called after a PCM command on `stream` was answered: starts the matching triggers.
    pub fn pcm_command_done(self: &Arc<Self>, code: u32, stream: u32) {
        let fired: Vec<Trigger> = {
            let mut t = self.triggers.lock().unwrap();
            let (hit, keep) = t
                .drain(..)
                .partition(|x: &Trigger| x.code == code && x.stream == stream);
            *t = keep;
            hit
        };
        for t in fired {
            let me = self.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(t.delay_ms));
                match me.execute(&t.cmd) {
                    Ok(s) => info!("trigger '{}': ok {s}", t.cmd),
                    Err(e) => warn!("trigger '{}': {e}", t.cmd),
                }
            });
        }
    }

    /// Executes one command; the reply's body (lines) or the error text.
    pub fn execute(self: &Arc<Self>, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((&cmd, args)) = words.split_first() else {
            return Ok(String::new());
        };
        let num = |i: usize| -> Result<u32, String> {
            parse_u32(args.get(i).ok_or(format!("{cmd} needs more arguments"))?)
        };
        match cmd {
            "help" => Ok(HELP.trim_end().to_string()),
            "stats" => Ok(self.device()?.stats_text()),
            "fault" if args.first() == Some(&"clear") => {
                self.faults.lock().unwrap().clear();
                self.triggers.lock().unwrap().clear();
                Ok("faults and triggers cleared".into())
            }
            "fault" => {
                let mut f = parse_fault(args)?;
                f.id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let s = format!("fault {}: {f}", f.id);
                info!("{s}");
                self.faults.lock().unwrap().push(f);
                Ok(s)
            }
            "faults" => {
                let f = self.faults.lock().unwrap();
                let t = self.triggers.lock().unwrap();
                let mut lines: Vec<String> =
                    f.iter().map(|f| format!("fault {}: {f}", f.id)).collect();
                lines.extend(t.iter().map(|t| {
                    format!(
                        "trigger: {} stream {} +{} ms: {}",
                        code_name(t.code),
                        t.stream,
                        t.delay_ms,
                        t.cmd
                    )
                }));
                Ok(lines.join("\n"))
            }
            "trigger" => {
                if args.len() < 4 {
                    return Err("usage: trigger PCM-CODE STREAM MS COMMAND...".into());
                }
                let code = parse_code(args[0])?;
                let t = Trigger {
                    code,
                    stream: num(1)?,
                    delay_ms: u64::from(num(2)?),
                    cmd: args[3..].join(" "),
                };
                let s = format!(
                    "trigger: {} stream {} +{} ms: {}",
                    code_name(code),
                    t.stream,
                    t.delay_ms,
                    t.cmd
                );
                self.triggers.lock().unwrap().push(t);
                Ok(s)
            }
            "jack" => {
                let id = num(0)?;
                let connected = match args.get(1).copied() {
                    Some("connect") => true,
                    Some("disconnect") => false,
                    _ => return Err("usage: jack ID connect|disconnect".into()),
                };
                let dev = self.device()?;
                dev.set_jack(id, connected);
                let code = if connected {
                    EVT_JACK_CONNECTED
                } else {
                    EVT_JACK_DISCONNECTED
                };
                dev.send_event(code, id)
            }
            "xrun" => self.device()?.send_event(EVT_PCM_XRUN, num(0)?),
            "period" => self.device()?.send_event(EVT_PCM_PERIOD_ELAPSED, num(0)?),
            "event" => {
                let code = match args.first().copied() {
                    Some("jack-connected") => EVT_JACK_CONNECTED,
                    Some("jack-disconnected") => EVT_JACK_DISCONNECTED,
                    Some("period") => EVT_PCM_PERIOD_ELAPSED,
                    Some("xrun") => EVT_PCM_XRUN,
                    Some("ctl-notify") => EVT_CTL_NOTIFY,
                    _ => num(0)?,
                };
                self.device()?.send_event(code, num(1)?)
            }
            "integrity" => {
                let dev = self.device()?;
                let sid = num(0)?;
                match (args.get(1).copied(), args.len()) {
                    (Some("arm"), 3..=5) => {
                        let (mut keep, mut lead) = (false, false);
                        for w in &args[3..] {
                            match *w {
                                "keep" if !keep => keep = true,
                                "lead" if !lead => lead = true,
                                _ => return Err(format!("integrity arm: unknown word '{w}'")),
                            }
                        }
                        dev.integrity_arm(sid, num(2)?, keep, lead)
                    }
                    (Some("off"), 2) => dev.integrity_off(sid),
                    (Some("report"), 2) => dev.integrity_report(sid),
                    _ => Err(
                        "usage: integrity SID arm SEED [keep] [lead] | integrity SID off | \
                              integrity SID report"
                            .into(),
                    ),
                }
            }
            "fuzz" => self.fuzz_command(args),
            c if c.starts_with("ctl-") => self.ctl_command(c, args),
            _ => Err(format!("unknown command '{cmd}' (try help)")),
        }
    }
}

const HELP: &str = "\
commands:
  stats                          per stream: state, params, messages, bytes; per jack:
                                 connected, association, sequence
  fault KIND [ARG] [on CODE] [stream N] [control N] [count N]
        ctl-delay MS | ctl-drop | ctl-status STATUS | ctl-short N | ctl-used-len N | ctl-twice
        io-delay MS  | io-drop  | io-status STATUS  | io-short N  | io-used-len N | io-latency N
        io-twice | io-wild | ctl-wild
  fault clear                    remove every fault and trigger
  faults                         list faults and triggers
  jack ID connect|disconnect     set a jack and send its event
  xrun SID | period SID          PCM_XRUN / PCM_PERIOD_ELAPSED event (any SID)
  event CODE DATA                raw event (CODE: number, jack-connected, xrun, ...)
  trigger PCM-CODE SID MS CMD... run CMD MS ms after PCM-CODE (START...) on stream SID
  ctl-list                       every control element: description, TLV, value
  ctl-get ID                     its value (members separated by commas)
  ctl-set ID VALUE[,VALUE...]    set it (as a knob would) and send CTL_NOTIFY (value)
  ctl-access ID +FLAG|-FLAG...   change access (read write volatile inactive tlv-read
                                 tlv-write tlv-command) and send CTL_NOTIFY (info)
  ctl-tlv ID [TYPE WORD...]      print, or set and send CTL_NOTIFY (tlv); TYPE: a number,
                                 db-scale MIN STEP [mute], db-minmax MIN MAX, ... (0.01 dB)
  ctl-notify ID [MASK]           send CTL_NOTIFY only (MASK: value,info,tlv or a number)
  integrity SID arm SEED [keep] [lead]
                                 check stream SID's playback data against the pattern of
                                 SEED (Documentation/integrity.rst), or fill its capture
                                 data with it, from position 0; replaces an earlier arm;
                                 keep: stays armed across driver resets (position, counts);
                                 lead: playback silence before the first frame that is not
                                 silence is counted apart (lead=N), not as silence
  integrity SID off              back to plain playback / the capture sine
  fuzz on SEED [RATE]            fuzz mode (src/fuzz.rs): RATE % (default 25) of the control
                                 responses and I/O completions mutated from SEED, random
                                 events; `fuzz off` ends it, `fuzz` prints what it did
  integrity SID report           frames=N good=N lost=N repeated=N reordered=N corrupt=N
                                 silence=N end=E [lead=N], then the first 16 runs of each
                                 kind
";

/// Serves the control socket: one command a line, replies as described above.
pub fn serve(control: Arc<Control>, path: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::thread::Builder::new()
        .name("vsnd-control".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let c = control.clone();
                std::thread::spawn(move || {
                    let _ = handle_conn(&c, conn);
                });
            }
        })?;
    Ok(())
}

fn handle_conn(control: &Arc<Control>, conn: UnixStream) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    for line in BufReader::new(conn).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        info!("control: {line}");
        match control.execute(&line) {
            // A body ending with a newline is sent as lines even if it is only one.
            Ok(body) if body.contains('\n') => {
                writeln!(out, "{}\nok", body.trim_end_matches('\n'))?
            }
            Ok(body) if body.is_empty() => writeln!(out, "ok")?,
            Ok(body) => writeln!(out, "ok: {body}")?,
            Err(e) => writeln!(out, "error: {e}")?,
        }
    }
    Ok(())
}

/// Client side (`vsnd-device ctl PATH COMMAND...`): sends one command, prints the reply;
/// true if it ends with "ok".
pub fn client(path: &str, cmd: &str) -> std::io::Result<bool> {
    let mut conn = UnixStream::connect(path)?;
    writeln!(conn, "{cmd}")?;
    conn.shutdown(std::net::Shutdown::Write)?;
    let mut ok = false;
    for line in BufReader::new(conn).lines() {
        let line = line?;
        println!("{line}");
        if line == "ok" || line.starts_with("ok: ") {
            ok = true;
        }
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Result<Fault, String> {
        parse_fault(&s.split_whitespace().collect::<Vec<_>>())
    }

    #[test]
    fn fuzz_commands() {
        let c = Control::new();
        assert_eq!(c.execute("fuzz").unwrap(), "fuzz off");
        assert!(c.fuzz_io(false, Some(0), 68, &mut [0u8; 8], 8).is_none());
        assert_eq!(
            c.execute("fuzz on 5 100").unwrap(),
            "fuzz on: seed 5 rate 100%"
        );
        let mut resp = S_OK.to_le_bytes().to_vec();
        assert!(c.fuzz_ctl(R_PCM_START, &[], &mut resp, 4).is_some());
        assert!(c.fuzz_io(true, Some(1), 4, &mut [0u8; 72], 72).is_some());
        let s = c.execute("fuzz").unwrap();
        assert!(
            s.starts_with("fuzz on: seed 5 rate 100%: 1 control responses, 1 I/O completions"),
            "{s}"
        );
        assert!(c
            .execute("fuzz off")
            .unwrap()
            .starts_with("fuzz off: seed 5 "));
        assert_eq!(c.execute("fuzz off").unwrap(), "fuzz off (was off)");
        assert!(c.fuzz_io(false, Some(0), 68, &mut [0u8; 8], 8).is_none());
        for bad in [
            "fuzz on",
            "fuzz on 1 101",
            "fuzz on x",
            "fuzz sideways",
            "fuzz on 1 2 3",
        ] {
            assert!(c.execute(bad).is_err(), "{bad}");
        }
        assert_eq!(
            c.execute("fuzz on 0x10:7").unwrap(),
            "fuzz on: seed 16 rate 7%"
        );
        c.execute("fuzz off").unwrap();
    }

    #[test]
    fn parse_faults() {
        let x = f("ctl-delay 1500 on START stream 1 count 2").unwrap();
        assert_eq!(
            (x.target, x.kind, x.code, x.stream, x.count),
            (
                Target::Ctl,
                FaultKind::Delay(1500),
                Some(R_PCM_START),
                Some(1),
                Some(2)
            )
        );
        assert_eq!(
            f("ctl-status IO_ERR").unwrap().kind,
            FaultKind::Status(S_IO_ERR)
        );
        assert_eq!(
            f("ctl-status 0x1234").unwrap().kind,
            FaultKind::Status(0x1234)
        );
        assert_eq!(f("io-drop stream 0").unwrap().kind, FaultKind::Drop);
        assert_eq!(f("io-twice stream 0").unwrap().kind, FaultKind::Twice);
        assert_eq!(f("io-wild stream 3 count 1").unwrap().kind, FaultKind::Wild);
        assert_eq!(
            f("ctl-twice on START count 1").unwrap().to_string(),
            "ctl-twice on PCM_START count 1"
        );
        assert_eq!(
            f("io-used-len 99999").unwrap().kind,
            FaultKind::UsedLen(99999)
        );
        assert_eq!(f("ctl-short 2 on pcm_info").unwrap().code, Some(R_PCM_INFO));
        assert_eq!(f("io-latency 480").unwrap().kind, FaultKind::Latency(480));
        assert_eq!(f("ctl-drop on 0x105").unwrap().code, Some(R_PCM_STOP));
        let x = f("ctl-status IO_ERR on CTL_WRITE control 2 count 1").unwrap();
        assert_eq!(
            (x.kind, x.code, x.control, x.count),
            (
                FaultKind::Status(S_IO_ERR),
                Some(R_CTL_WRITE),
                Some(2),
                Some(1)
            )
        );
        assert_eq!(
            x.to_string(),
            "ctl-status 0x8003 on CTL_WRITE control 2 count 1"
        );
        assert_eq!(
            f("ctl-drop on ctl_tlv_read").unwrap().code,
            Some(R_CTL_TLV_READ)
        );
        assert_eq!(
            f("ctl-drop on VIRTIO_SND_R_CTL_INFO").unwrap().code,
            Some(R_CTL_INFO)
        );
        for bad in [
            "",
            "ctl",
            "ctl-foo",
            "xx-delay 1",
            "ctl-delay",
            "ctl-delay x",
            "io-drop on START",
            "ctl-drop count 0",
            "ctl-drop count",
            "ctl-latency 4",
            "ctl-drop bogus 1",
            "io-drop control 1",
            "ctl-drop control",
        ] {
            assert!(f(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fault_matching_and_counts() {
        let mut v = vec![
            Fault {
                id: 1,
                ..f("ctl-delay 10 on START count 1").unwrap()
            },
            Fault {
                id: 2,
                ..f("io-status IO_ERR stream 1 count 2").unwrap()
            },
            Fault {
                id: 3,
                ..f("ctl-status BAD_MSG").unwrap()
            },
        ];
        assert_eq!(take_fault(&mut v, Target::Io, None, Some(0), None), None);
        assert_eq!(
            take_fault(&mut v, Target::Ctl, Some(R_PCM_INFO), None, None),
            Some(FaultKind::Status(S_BAD_MSG))
        );
        assert_eq!(
            take_fault(&mut v, Target::Ctl, Some(R_PCM_START), Some(0), None),
            Some(FaultKind::Delay(10))
        );
        // count 1 used up: START now falls through to the unlimited fault 3.
        assert_eq!(
            take_fault(&mut v, Target::Ctl, Some(R_PCM_START), Some(0), None),
            Some(FaultKind::Status(S_BAD_MSG))
        );
        assert_eq!(
            take_fault(&mut v, Target::Io, None, Some(1), None),
            Some(FaultKind::Status(S_IO_ERR))
        );
        assert_eq!(
            take_fault(&mut v, Target::Io, None, Some(1), None),
            Some(FaultKind::Status(S_IO_ERR))
        );
        assert_eq!(take_fault(&mut v, Target::Io, None, Some(1), None), None);
        assert_eq!(v.len(), 1);
        // control N narrows to CTL requests naming the element.
        let mut v = vec![Fault {
            id: 1,
            ..f("ctl-status NOT_SUPP on CTL_WRITE control 2").unwrap()
        }];
        assert_eq!(
            take_fault(&mut v, Target::Ctl, Some(R_CTL_WRITE), None, Some(1)),
            None
        );
        assert_eq!(
            take_fault(&mut v, Target::Ctl, Some(R_CTL_READ), None, Some(2)),
            None
        );
        assert_eq!(
            take_fault(&mut v, Target::Ctl, Some(R_CTL_WRITE), None, Some(2)),
            Some(FaultKind::Status(S_NOT_SUPP))
        );
    }

    #[test]
    fn ctl_commands_without_device() {
        let c = Control::with_controls(crate::ctls::ControlSet::Default.build());
        let list = c.execute("ctl-list").unwrap();
        assert_eq!(list.lines().count(), 13);
        assert!(list.starts_with("ctl 0 'Master Playback Volume' index 0 INTEGER"));
        assert!(list.contains("reads 0 writes 0"));
        assert_eq!(c.execute("ctl-get 2").unwrap(), "200,200");
        // The value changes even though no CTL_NOTIFY can be sent.
        let s = c.execute("ctl-set 2 100,101").unwrap();
        assert!(
            s.contains("'PCM Playback Volume' = 100,101; no CTL_NOTIFY: no device"),
            "{s}"
        );
        assert_eq!(c.execute("ctl-get 2").unwrap(), "100,101");
        c.execute("ctl-set 5 Internal Mic").unwrap();
        assert_eq!(c.execute("ctl-get 5").unwrap(), "2");
        c.execute("ctl-set 0x7 -500000000000").unwrap();
        assert_eq!(c.execute("ctl-get 7").unwrap(), "-500000000000");
        for bad in [
            "ctl-set 2 256,0",
            "ctl-set 2",
            "ctl-set 13 0",
            "ctl-get 13",
            "ctl-get",
            "ctl-get x",
            "ctl-frob 1",
            "ctl-access 0 +bogus",
            "ctl-access 0 write",
            "ctl-access 1 +tlv-read",
            "ctl-tlv 0 db-scale 1",
            "ctl-notify 70000",
        ] {
            assert!(c.execute(bad).is_err(), "{bad}");
        }
        assert_eq!(c.execute("ctl-get 2").unwrap(), "100,101");
        // Access and TLV changes.
        let s = c.execute("ctl-access 12 -inactive -write").unwrap();
        assert!(s.contains("access read tlv none"), "{s}");
        assert_eq!(c.controls().list[12].access, CTL_ACCESS_READ);
        c.execute("ctl-tlv 0 db-scale -6000 100 mute").unwrap();
        assert_eq!(c.controls().list[0].tlv, tlv_db_scale(-6000, 100, true));
        c.execute("ctl-tlv 8 0x77 1 -1").unwrap();
        assert_eq!(c.controls().list[8].tlv, tlv(0x77, &[1, u32::MAX]));
        assert_eq!(
            c.execute("ctl-tlv 2").unwrap(),
            "tlv db-minmax -51.00dB..0.00dB\nlast command none"
        );
        assert!(c
            .execute("ctl-notify 1 info")
            .unwrap_err()
            .contains("no device"));
        // No controls at all.
        let n = Control::new();
        assert_eq!(n.execute("ctl-list").unwrap(), "");
        assert!(n.execute("ctl-get 0").is_err());
    }

    #[test]
    fn reset_values_restores_the_built_set() {
        let c = Control::with_controls(crate::ctls::ControlSet::Default.build());
        assert_eq!(c.reset_values(), 0);
        // Changes of the test control (as `--exec` makes them before a connection) are no
        // initial values: a reset undoes them too. One of them sets the initial value.
        for cmd in [
            "ctl-set 0 10",
            "ctl-set 2 1,2",
            "ctl-set 4 0",
            "ctl-set 1 on",
        ] {
            c.execute(cmd).unwrap();
        }
        c.execute("ctl-tlv 0 db-scale -6000 100").unwrap();
        c.execute("ctl-access 12 -inactive").unwrap();
        assert_eq!(c.reset_values(), 3);
        for (id, want) in [(0, "48"), (1, "1"), (2, "200,200"), (4, "1,1")] {
            assert_eq!(c.execute(&format!("ctl-get {id}")).unwrap(), want, "{id}");
        }
        // Only the values: TLV and access stay as the test control set them.
        assert_eq!(c.controls().list[0].tlv, tlv_db_scale(-6000, 100, false));
        assert_eq!(
            c.controls().list[12].access,
            CTL_ACCESS_READ | CTL_ACCESS_WRITE
        );
        assert_eq!(c.reset_values(), 0);
        // No controls: nothing to reset.
        assert_eq!(Control::new().reset_values(), 0);
    }

    #[test]
    fn commands_without_device() {
        let c = Control::new();
        assert!(c
            .execute("fault ctl-drop on STOP count 1")
            .unwrap()
            .contains("ctl-drop on PCM_STOP count 1"));
        assert!(c.execute("trigger START 0 100 xrun 0").is_ok());
        let l = c.execute("faults").unwrap();
        assert!(
            l.contains("fault 1: ctl-drop")
                && l.contains("trigger: PCM_START stream 0 +100 ms: xrun 0"),
            "{l}"
        );
        assert!(c.execute("xrun 0").unwrap_err().contains("no device"));
        assert!(c.execute("jack 0 sideways").is_err());
        assert!(c.execute("bogus").is_err());
        assert_eq!(c.execute("").unwrap(), "");
        c.execute("fault clear").unwrap();
        assert_eq!(c.execute("faults").unwrap(), "");
    }
}
