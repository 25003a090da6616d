// SPDX-License-Identifier: GPL-2.0
//! Control elements (`VIRTIO_SND_F_CTLS`, virtio 1.3 "Sound Device", "Control Elements"):
//! the device's set of controls, their state, and the answers to the `CTL_*` requests. Free
//! of any virtqueue, like card.rs; unit-tested here.
//!
//! Wire rules this device follows (the spec leaves the device side of most of them open):
//! - CTL_INFO is a virtio_snd_query_info, answered like PCM_INFO; entries are the uapi
//!   header's 96-byte virtio_snd_ctl_info (`size` below 96: BAD_MSG).
//! - A control id out of range, a request the element's access bits do not allow (the spec
//!   forbids the driver to send it), a value outside min/max/step (boolean 0/1, enumerated
//!   below `items`), a request shorter than its structs or a response buffer too small for
//!   them: BAD_MSG, and nothing changes.
//! - A WRITE carries a whole virtio_snd_ctl_value (512 bytes after the header); a READ needs
//!   room for the status and a whole virtio_snd_ctl_value, and gets both (the members past
//!   `count` are 0). Members past `count` of a WRITE are ignored.
//! - INACTIVE does not refuse writes: the spec says such an element "does actually nothing,
//!   but may be updated" (ALSA does the same).
//! - TLV_READ needs room for the status and the TLV header; a longer TLV is cut to the
//!   buffer and answered OK (the spec's SHOULD). TLV_WRITE and TLV_COMMAND carry a TLV whose
//!   `length` is a multiple of 4, at most 65536, and present in full; TLV_WRITE replaces the
//!   element's TLV, TLV_COMMAND is only recorded.
//! - The driver's own requests never cause a CTL_NOTIFY; the test control's `ctl-*`
//!   commands do.

use crate::proto::*;

/// The value type of an element, with its limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Boolean,
    /// `step` 0: any step.
    Integer {
        min: i32,
        max: i32,
        step: i32,
    },
    Integer64 {
        min: i64,
        max: i64,
        step: i64,
    },
    Enumerated {
        items: Vec<String>,
    },
    Bytes,
    Iec958,
}

impl Kind {
    pub fn wire_type(&self) -> u32 {
        match self {
            Kind::Boolean => CTL_TYPE_BOOLEAN,
            Kind::Integer { .. } => CTL_TYPE_INTEGER,
            Kind::Integer64 { .. } => CTL_TYPE_INTEGER64,
            Kind::Enumerated { .. } => CTL_TYPE_ENUMERATED,
            Kind::Bytes => CTL_TYPE_BYTES,
            Kind::Iec958 => CTL_TYPE_IEC958,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Boolean => "BOOLEAN",
            Kind::Integer { .. } => "INTEGER",
            Kind::Integer64 { .. } => "INTEGER64",
            Kind::Enumerated { .. } => "ENUMERATED",
            Kind::Bytes => "BYTES",
            Kind::Iec958 => "IEC958",
        }
    }

    /// The spec's largest `count` for the type.
    pub fn max_count(&self) -> u32 {
        match self {
            Kind::Boolean | Kind::Integer { .. } | Kind::Enumerated { .. } => 128,
            Kind::Integer64 { .. } => 64,
            Kind::Bytes => 512,
            Kind::Iec958 => 1,
        }
    }

    /// Bytes of virtio_snd_ctl_value that one member takes.
    fn member_bytes(&self) -> usize {
        match self {
            Kind::Boolean | Kind::Integer { .. } | Kind::Enumerated { .. } => 4,
            Kind::Integer64 { .. } => 8,
            Kind::Bytes => 1,
            Kind::Iec958 => CTL_IEC958_SIZE,
        }
    }
}

/// One control element: its description (CTL_INFO), TLV and current value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    pub name: String,
    pub index: u32,
    /// On the wire: `ctl_role(ROLE, direction)`.
    pub role: u32,
    pub kind: Kind,
    pub count: u32,
    /// 1 << VIRTIO_SND_CTL_ACCESS_*.
    pub access: u32,
    /// The whole TLV (type, length, value), empty if the element has none.
    pub tlv: Vec<u8>,
    /// The first `value_bytes()` bytes of virtio_snd_ctl_value.
    pub value: Vec<u8>,
    /// An INTEGER element whose members advance by one step (wrapping) after every READ:
    /// its value changes without a notification, as VOLATILE allows.
    pub tick: bool,
    /// The last TLV_COMMAND the driver sent (the whole TLV).
    pub last_command: Option<Vec<u8>>,
    pub reads: u64,
    pub writes: u64,
}

/// Encodes a TLV from its type and value words.
pub fn tlv(ty: u32, words: &[u32]) -> Vec<u8> {
    let mut v = Vec::with_capacity(CTL_TLV_HDR_SIZE + 4 * words.len());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&((4 * words.len()) as u32).to_le_bytes());
    for w in words {
        v.extend_from_slice(&w.to_le_bytes());
    }
    v
}

/// SNDRV_CTL_TLVD_DB_SCALE_ITEM: `min` and `step` in 0.01 dB; `mute`: the lowest value mutes.
pub fn tlv_db_scale(min: i32, step: u32, mute: bool) -> Vec<u8> {
    let w = (step & 0xffff) | if mute { TLV_DB_SCALE_MUTE } else { 0 };
    tlv(TLVT_DB_SCALE, &[min as u32, w])
}

/// SNDRV_CTL_TLVD_DB_MINMAX_ITEM: `min` and `max` in 0.01 dB.
pub fn tlv_db_minmax(min: i32, max: i32) -> Vec<u8> {
    tlv(TLVT_DB_MINMAX, &[min as u32, max as u32])
}

/// A human-readable TLV: the dB types decoded, others as words.
pub fn tlv_text(t: &[u8]) -> String {
    let (Some(ty), Some(len)) = (le32(t, 0), le32(t, 4)) else {
        return "none".into();
    };
    let words: Vec<u32> = (0..len as usize / 4)
        .map_while(|i| le32(t, CTL_TLV_HDR_SIZE + 4 * i))
        .collect();
    let db = |v: u32| format!("{:.2}dB", f64::from(v as i32) / 100.0);
    match (ty, words.as_slice()) {
        (TLVT_DB_SCALE, [min, w]) => format!(
            "db-scale min {} step {}{}",
            db(*min),
            db(w & 0xffff),
            if w & TLV_DB_SCALE_MUTE != 0 {
                " mute"
            } else {
                ""
            }
        ),
        (TLVT_DB_MINMAX, [min, max]) => format!("db-minmax {}..{}", db(*min), db(*max)),
        (TLVT_DB_MINMAX_MUTE, [min, max]) => {
            format!("db-minmax-mute {}..{}", db(*min), db(*max))
        }
        (TLVT_DB_LINEAR, [min, max]) => format!("db-linear {}..{}", db(*min), db(*max)),
        _ => {
            let mut w: Vec<String> = words.iter().take(8).map(|w| format!("{w:#x}")).collect();
            if words.len() > 8 {
                w.push("...".into());
            }
            format!("type {ty:#x} length {len} [{}]", w.join(","))
        }
    }
}

fn access_text(access: u32) -> String {
    let v: Vec<&str> = CTL_ACCESS_NAMES
        .iter()
        .filter(|(b, _)| access & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}

fn role_text(role: u32) -> String {
    if role == 0 {
        return "undefined".into();
    }
    let dir = if role & 1 == u32::from(D_OUTPUT) {
        "out"
    } else {
        "in"
    };
    match role >> 1 {
        CTL_ROLE_VOLUME => format!("volume-{dir}"),
        CTL_ROLE_MUTE => format!("mute-{dir}"),
        CTL_ROLE_GAIN => format!("gain-{dir}"),
        _ => format!("{role:#x}"),
    }
}

/// Parses an integer: decimal (with a sign) or 0x hex.
fn parse_i128(s: &str) -> Result<i128, String> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = match digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        Some(h) => i128::from_str_radix(h, 16),
        None => digits.parse::<i128>(),
    }
    .map_err(|_| format!("bad number '{t}'"))?;
    Ok(if neg { -v } else { v })
}

/// Whether `v` is in min..=max and on the step grid from min.
fn in_range(v: i128, min: i128, max: i128, step: i128) -> bool {
    v >= min && v <= max && (step == 0 || (v - min) % step == 0)
}

impl Control {
    /// A control with a zero value and no TLV.
    pub fn new(name: &str, role: u32, kind: Kind, count: u32, access: u32) -> Self {
        let mut c = Control {
            name: name.into(),
            index: 0,
            role,
            kind,
            count,
            access,
            tlv: Vec::new(),
            value: Vec::new(),
            tick: false,
            last_command: None,
            reads: 0,
            writes: 0,
        };
        c.value = vec![0; c.value_bytes()];
        // Integers start at their minimum, so that the initial value is valid.
        match c.kind {
            Kind::Integer { min, .. } => c.set_members(&vec![i128::from(min); count as usize]),
            Kind::Integer64 { min, .. } => c.set_members(&vec![i128::from(min); count as usize]),
            _ => {}
        }
        c
    }

    fn with_tlv(mut self, t: Vec<u8>) -> Self {
        self.tlv = t;
        self
    }

    /// Sets the members (BOOLEAN, INTEGER, INTEGER64, ENUMERATED: numbers; BYTES, IEC958:
    /// bytes) without checking them.
    fn with(mut self, members: &[i128]) -> Self {
        self.set_members(members);
        self
    }

    fn set_members(&mut self, members: &[i128]) {
        let mb = match self.kind {
            Kind::Bytes | Kind::Iec958 => 1,
            Kind::Integer64 { .. } => 8,
            _ => 4,
        };
        for (i, m) in members.iter().enumerate() {
            let at = i * mb;
            if at + mb > self.value.len() {
                break;
            }
            self.value[at..at + mb].copy_from_slice(&m.to_le_bytes()[..mb]);
        }
    }

    /// The members of a value (see `with`).
    fn members(&self, value: &[u8]) -> Vec<i128> {
        let n = match self.kind {
            Kind::Iec958 => CTL_IEC958_SIZE,
            _ => self.count as usize,
        };
        (0..n)
            .map(|i| match self.kind {
                Kind::Integer64 { .. } => i128::from(le64(value, 8 * i).unwrap_or(0) as i64),
                Kind::Bytes | Kind::Iec958 => i128::from(value.get(i).copied().unwrap_or(0)),
                _ => i128::from(le32(value, 4 * i).unwrap_or(0) as i32),
            })
            .collect()
    }

    /// Bytes of virtio_snd_ctl_value that the value takes.
    pub fn value_bytes(&self) -> usize {
        match self.kind {
            Kind::Iec958 => CTL_IEC958_SIZE,
            _ => self.kind.member_bytes() * self.count as usize,
        }
    }

    /// Checks a value (its first `value_bytes()` bytes) against the element's limits.
    pub fn check_value(&self, value: &[u8]) -> Result<(), String> {
        if value.len() < self.value_bytes() {
            return Err(format!(
                "{} value bytes, {} needed",
                value.len(),
                self.value_bytes()
            ));
        }
        let members = self.members(value);
        let bad = |i: usize, v: i128, what: String| Err(format!("member {i} = {v}: {what}"));
        for (i, &v) in members.iter().enumerate() {
            match &self.kind {
                Kind::Boolean if v != 0 && v != 1 => return bad(i, v, "not 0 or 1".into()),
                Kind::Integer { min, max, step }
                    if !in_range(v, (*min).into(), (*max).into(), (*step).into()) =>
                {
                    return bad(i, v, format!("not in {min}..{max} step {step}"));
                }
                Kind::Integer64 { min, max, step }
                    if !in_range(v, (*min).into(), (*max).into(), (*step).into()) =>
                {
                    return bad(i, v, format!("not in {min}..{max} step {step}"));
                }
                Kind::Enumerated { items } if v < 0 || v as usize >= items.len() => {
                    return bad(
                        i,
                        v as u32 as i128,
                        format!("not below {} items", items.len()),
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// virtio_snd_ctl_info.
    pub fn encode_info(&self) -> [u8; CTL_INFO_SIZE] {
        let mut b = [0u8; CTL_INFO_SIZE];
        // hda_fn_nid 0.
        b[4..8].copy_from_slice(&self.role.to_le_bytes());
        b[8..12].copy_from_slice(&self.kind.wire_type().to_le_bytes());
        b[12..16].copy_from_slice(&self.access.to_le_bytes());
        b[16..20].copy_from_slice(&self.count.to_le_bytes());
        b[20..24].copy_from_slice(&self.index.to_le_bytes());
        let n = self.name.len().min(CTL_NAME_SIZE - 1);
        b[24..24 + n].copy_from_slice(&self.name.as_bytes()[..n]);
        let v = CTL_INFO_VALUE_OFFSET;
        match &self.kind {
            Kind::Integer { min, max, step } => {
                for (i, x) in [min, max, step].into_iter().enumerate() {
                    b[v + 4 * i..v + 4 * i + 4].copy_from_slice(&x.to_le_bytes());
                }
            }
            Kind::Integer64 { min, max, step } => {
                for (i, x) in [min, max, step].into_iter().enumerate() {
                    b[v + 8 * i..v + 8 * i + 8].copy_from_slice(&x.to_le_bytes());
                }
            }
            Kind::Enumerated { items } => {
                b[v..v + 4].copy_from_slice(&(items.len() as u32).to_le_bytes())
            }
            _ => {}
        }
        b
    }

    /// Checks the description against the spec's device requirements.
    pub fn check(&self) -> Result<(), String> {
        let n = &self.name;
        let ascii = |s: &str| !s.is_empty() && s.bytes().all(|c| (0x20..0x7f).contains(&c));
        if !ascii(n) || n.len() >= CTL_NAME_SIZE {
            return Err(format!(
                "'{n}': name must be 1..43 printable ASCII characters"
            ));
        }
        if self.count == 0 || self.count > self.kind.max_count() {
            return Err(format!(
                "'{n}': count {} not in 1..{}",
                self.count,
                self.kind.max_count()
            ));
        }
        let ok = match &self.kind {
            Kind::Integer { min, max, step } => min <= max && *step >= 0,
            Kind::Integer64 { min, max, step } => min <= max && *step >= 0,
            Kind::Enumerated { items } => {
                !items.is_empty()
                    && items
                        .iter()
                        .all(|i| ascii(i) && i.len() < CTL_ENUM_ITEM_SIZE)
            }
            _ => true,
        };
        if !ok {
            return Err(format!("'{n}': bad range or items"));
        }
        if self.access & !0x7f != 0 {
            return Err(format!("'{n}': undefined access bits"));
        }
        if self.access & CTL_ACCESS_TLV_READ != 0 && self.tlv.len() < CTL_TLV_HDR_SIZE {
            return Err(format!("'{n}': TLV_READ without a TLV"));
        }
        if self.tick && !matches!(self.kind, Kind::Integer { .. }) {
            return Err(format!("'{n}': only INTEGER elements tick"));
        }
        self.check_value(&self.value)
    }

    /// Parses the test control's value text: members separated by commas (BOOLEAN 0 1 on
    /// off; INTEGER and INTEGER64 numbers; ENUMERATED indexes or item names; BYTES numbers
    /// 0..255), exactly `count` of them or one for all members; IEC958 up to 176 bytes, the
    /// rest 0. Returns the checked value bytes.
    pub fn parse_value(&self, text: &str) -> Result<Vec<u8>, String> {
        let words: Vec<&str> = text.split(',').map(str::trim).collect();
        let mut members = Vec::with_capacity(words.len());
        for w in &words {
            let m = match &self.kind {
                Kind::Boolean => match w.to_ascii_lowercase().as_str() {
                    "on" | "true" => 1,
                    "off" | "false" => 0,
                    _ => parse_i128(w)?,
                },
                Kind::Enumerated { items } => match items.iter().position(|i| i == w) {
                    Some(p) => p as i128,
                    None => parse_i128(w)
                        .map_err(|_| format!("'{w}' is neither an item nor an index"))?,
                },
                Kind::Bytes | Kind::Iec958 => {
                    let b = parse_i128(w)?;
                    if !(0..=255).contains(&b) {
                        return Err(format!("byte {b} out of range"));
                    }
                    b
                }
                _ => parse_i128(w)?,
            };
            let fits = match self.kind {
                Kind::Integer64 { .. } => i64::try_from(m).is_ok(),
                _ => i32::try_from(m).is_ok() || u32::try_from(m).is_ok(),
            };
            if !fits {
                return Err(format!("{m} does not fit the type"));
            }
            members.push(m);
        }
        let n = self.count as usize;
        match self.kind {
            Kind::Iec958 if members.len() > CTL_IEC958_SIZE => {
                return Err(format!("at most {CTL_IEC958_SIZE} bytes"))
            }
            Kind::Iec958 => {}
            _ if members.len() == 1 => members = vec![members[0]; n],
            _ if members.len() != n => {
                return Err(format!("{} values, the element has {n}", members.len()))
            }
            _ => {}
        }
        let mut c = self.clone();
        c.value = vec![0; self.value_bytes()];
        c.set_members(&members);
        self.check_value(&c.value)?;
        Ok(c.value)
    }

    /// The value as the test control prints it (and `parse_value` reads it back): members
    /// separated by commas; IEC958 up to its last non-zero byte.
    pub fn value_text(&self) -> String {
        let mut m = self.members(&self.value);
        if let Kind::Iec958 = self.kind {
            let keep = m.iter().rposition(|&b| b != 0).map_or(1, |p| p + 1);
            m.truncate(keep);
        }
        let v: Vec<String> = m.iter().map(i128::to_string).collect();
        v.join(",")
    }

    /// One line for `ctl-list`.
    pub fn describe(&self, id: usize) -> String {
        let range = match &self.kind {
            Kind::Integer { min, max, step } => format!(" range {min}..{max} step {step}"),
            Kind::Integer64 { min, max, step } => format!(" range {min}..{max} step {step}"),
            Kind::Enumerated { items } => format!(" items {}", items.join("|")),
            _ => String::new(),
        };
        format!(
            "ctl {id} '{}' index {} {} count {}{range} role {} access {} tlv {}{} value {}",
            self.name,
            self.index,
            self.kind.type_name(),
            self.count,
            role_text(self.role),
            access_text(self.access),
            tlv_text(&self.tlv),
            if self.tick { " tick" } else { "" },
            self.value_text()
        )
    }

    /// Advances a ticking element by one step, wrapping to min after max.
    fn advance(&mut self) {
        let Kind::Integer { min, max, step } = self.kind else {
            return;
        };
        let step = i128::from(step.max(1));
        let members: Vec<i128> = self
            .members(&self.value)
            .into_iter()
            .map(|v| {
                if v + step > i128::from(max) {
                    i128::from(min)
                } else {
                    v + step
                }
            })
            .collect();
        self.set_members(&members);
    }
}

/// The result of a CTL_* request: the reply and what to log about it.
#[derive(Debug)]
pub struct Outcome {
    pub reply: CtlReply,
    pub note: String,
}

fn bad(note: String) -> Outcome {
    Outcome {
        reply: CtlReply::status(S_BAD_MSG),
        note,
    }
}

fn ok(payload: Vec<u8>, note: String) -> Outcome {
    Outcome {
        reply: CtlReply {
            status: S_OK,
            payload,
        },
        note,
    }
}

/// The device's control elements; control id = position.
#[derive(Clone, Debug, Default)]
pub struct Controls {
    pub list: Vec<Control>,
}

/// Which controls `--controls` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlSet {
    None,
    /// One of every type, with realistic names (see `default_set`).
    Default,
    /// N INTEGER controls "Test Control" with indexes 0..N.
    Count(u32),
}

/// The most controls `--controls N` makes.
pub const MAX_COUNT_CONTROLS: u32 = 1024;

impl ControlSet {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(ControlSet::None),
            "default" => Ok(ControlSet::Default),
            _ => match s.parse::<u32>() {
                Ok(0) => Ok(ControlSet::None),
                Ok(n) if n <= MAX_COUNT_CONTROLS => Ok(ControlSet::Count(n)),
                _ => Err(format!(
                    "--controls: '{s}' is not default, none or 0..{MAX_COUNT_CONTROLS}"
                )),
            },
        }
    }

    pub fn build(&self) -> Controls {
        Controls {
            list: match self {
                ControlSet::None => Vec::new(),
                ControlSet::Default => default_set(),
                ControlSet::Count(n) => count_set(*n),
            },
        }
    }
}

const RW: u32 = CTL_ACCESS_READ | CTL_ACCESS_WRITE;

/// One element of every type, named as ALSA drivers name them.
pub fn default_set() -> Vec<Control> {
    let int = |min, max, step| Kind::Integer { min, max, step };
    let vol_out = ctl_role(CTL_ROLE_VOLUME, D_OUTPUT);
    let vol_in = ctl_role(CTL_ROLE_VOLUME, D_INPUT);
    let mute_out = ctl_role(CTL_ROLE_MUTE, D_OUTPUT);
    let mute_in = ctl_role(CTL_ROLE_MUTE, D_INPUT);
    let gain_in = ctl_role(CTL_ROLE_GAIN, D_INPUT);
    let tlv_r = RW | CTL_ACCESS_TLV_READ;
    let items = |v: &[&str]| Kind::Enumerated {
        items: v.iter().map(|s| s.to_string()).collect(),
    };
    // Consumer, not copyrighted, PCM coder, original, 48 kHz.
    let mut iec = vec![0i128; CTL_IEC958_SIZE];
    iec[..4].copy_from_slice(&[0x04, 0x82, 0x00, 0x02]);
    // Professional, non-audio, not copyright, emphasis; category, original; sample rate.
    let mut iec_mask = vec![0i128; CTL_IEC958_SIZE];
    iec_mask[..4].copy_from_slice(&[0x3f, 0xff, 0x00, 0x8f]);
    vec![
        // 0: -48 dB .. 0 dB in 0.75 dB steps, 0 mutes.
        Control::new("Master Playback Volume", vol_out, int(0, 64, 1), 1, tlv_r)
            .with_tlv(tlv_db_scale(-4800, 75, true))
            .with(&[48]),
        Control::new("Master Playback Switch", mute_out, Kind::Boolean, 1, RW).with(&[1]),
        // 2: stereo, -51 dB .. 0 dB; its TLV may be rewritten.
        Control::new(
            "PCM Playback Volume",
            vol_out,
            int(0, 255, 1),
            2,
            tlv_r | CTL_ACCESS_TLV_WRITE,
        )
        .with_tlv(tlv_db_minmax(-5100, 0))
        .with(&[200, 200]),
        // 3: -12 dB .. +34.5 dB in 1.5 dB steps.
        Control::new("Capture Volume", vol_in, int(0, 31, 1), 2, tlv_r)
            .with_tlv(tlv_db_scale(-1200, 150, false))
            .with(&[8, 8]),
        Control::new("Capture Switch", mute_in, Kind::Boolean, 2, RW).with(&[1, 1]),
        Control::new(
            "Capture Source",
            0,
            items(&["Mic", "Line", "Internal Mic"]),
            1,
            RW,
        ),
        // 6: 0 .. +30 dB in 10 dB steps.
        Control::new("Mic Boost Volume", gain_in, int(0, 3, 1), 1, tlv_r)
            .with_tlv(tlv_db_scale(0, 1000, false)),
        // 7: a signed 64-bit range with a step (9 values: kselftest mixer-test writes every
        // one of them).
        Control::new(
            "Test Integer64",
            0,
            Kind::Integer64 {
                min: -1_000_000_000_000,
                max: 1_000_000_000_000,
                step: 250_000_000_000,
            },
            1,
            RW,
        )
        .with(&[0]),
        // 8: every TLV access; the TLV is of a device-defined type.
        Control::new(
            "Test Bytes",
            0,
            Kind::Bytes,
            16,
            RW | CTL_ACCESS_TLV_READ | CTL_ACCESS_TLV_WRITE | CTL_ACCESS_TLV_COMMAND,
        )
        .with_tlv(tlv(0x1000, &[1, 2, 3, 4]))
        .with(&(0..16).collect::<Vec<i128>>()),
        Control::new("IEC958 Playback Default", 0, Kind::Iec958, 1, RW).with(&iec),
        // 10: read only.
        Control::new(
            "IEC958 Playback Con Mask",
            0,
            Kind::Iec958,
            1,
            CTL_ACCESS_READ,
        )
        .with(&iec_mask),
        // 11: read only and volatile: +1 after every READ, 0 after 1000.
        Control {
            tick: true,
            ..Control::new(
                "Test Volatile",
                0,
                int(0, 1000, 1),
                1,
                CTL_ACCESS_READ | CTL_ACCESS_VOLATILE,
            )
        },
        Control::new(
            "Test Inactive Switch",
            0,
            Kind::Boolean,
            1,
            RW | CTL_ACCESS_INACTIVE,
        ),
    ]
}

/// `n` INTEGER elements "Test Control", indexes 0..n, range 0..100, element i at i % 101.
pub fn count_set(n: u32) -> Vec<Control> {
    (0..n)
        .map(|i| Control {
            index: i,
            ..Control::new(
                "Test Control",
                0,
                Kind::Integer {
                    min: 0,
                    max: 100,
                    step: 1,
                },
                1,
                RW,
            )
            .with(&[i128::from(i % 101)])
        })
        .collect()
}

impl Controls {
    pub fn len(&self) -> u32 {
        self.list.len() as u32
    }

    pub fn get(&self, id: u32) -> Result<&Control, String> {
        self.list.get(id as usize).ok_or(format!(
            "no control {id} (the device has {})",
            self.list.len()
        ))
    }

    pub fn get_mut(&mut self, id: u32) -> Result<&mut Control, String> {
        let n = self.list.len();
        self.list
            .get_mut(id as usize)
            .ok_or(format!("no control {id} (the device has {n})"))
    }

    /// Every element's value, in control id order: what [`Controls::restore_values`] puts
    /// back.
    pub fn values(&self) -> Vec<Vec<u8>> {
        self.list.iter().map(|c| c.value.clone()).collect()
    }

    /// Puts back the values `values` (from [`Controls::values`]) as a hardware reset would:
    /// the values only (TLVs, access bits and the read and write counts stay), and no
    /// notification (the caller sends none). An element with no saved value, or one of
    /// another size, is left alone. Returns how many elements changed.
    pub fn restore_values(&mut self, values: &[Vec<u8>]) -> usize {
        let mut changed = 0;
        for (c, v) in self.list.iter_mut().zip(values) {
            if c.value != *v && c.value.len() == v.len() {
                c.value.copy_from_slice(v);
                changed += 1;
            }
        }
        changed
    }

    /// CTL_INFO: a virtio_snd_query_info, answered like PCM_INFO.
    pub fn info(&self, start_id: u32, count: u32, size: u32, resp_cap: usize) -> CtlReply {
        let end = u64::from(start_id) + u64::from(count);
        if end > u64::from(self.len()) || (size as usize) < CTL_INFO_SIZE {
            return CtlReply::status(S_BAD_MSG);
        }
        let need = HDR_SIZE as u64 + u64::from(count) * u64::from(size);
        if need > resp_cap as u64 {
            return CtlReply::status(S_BAD_MSG);
        }
        let mut payload = vec![0u8; need as usize - HDR_SIZE];
        for (i, c) in self.list[start_id as usize..end as usize]
            .iter()
            .enumerate()
        {
            let off = i * size as usize;
            payload[off..off + CTL_INFO_SIZE].copy_from_slice(&c.encode_info());
        }
        CtlReply {
            status: S_OK,
            payload,
        }
    }

    /// CTL_ENUM_ITEMS, CTL_READ, CTL_WRITE, CTL_TLV_*. `payload`: what follows the
    /// virtio_snd_ctl_hdr in the device-readable part; `resp_cap`: size of the
    /// device-writable part.
    pub fn request(&mut self, code: u32, id: u32, payload: &[u8], resp_cap: usize) -> Outcome {
        let Ok(c) = self.get_mut(id) else {
            return bad(format!("control {id} out of range"));
        };
        let need_access = match code {
            R_CTL_READ => CTL_ACCESS_READ,
            R_CTL_WRITE => CTL_ACCESS_WRITE,
            R_CTL_TLV_READ => CTL_ACCESS_TLV_READ,
            R_CTL_TLV_WRITE => CTL_ACCESS_TLV_WRITE,
            R_CTL_TLV_COMMAND => CTL_ACCESS_TLV_COMMAND,
            _ => 0,
        };
        if c.access & need_access != need_access {
            return bad(format!(
                "'{}' has no {} access (access {})",
                c.name,
                access_text(need_access),
                access_text(c.access)
            ));
        }
        match code {
            R_CTL_ENUM_ITEMS => {
                let Kind::Enumerated { items } = &c.kind else {
                    return bad(format!("'{}' is not ENUMERATED", c.name));
                };
                let need = HDR_SIZE + items.len() * CTL_ENUM_ITEM_SIZE;
                if resp_cap < need {
                    return bad(format!("response buffer {resp_cap} bytes, {need} needed"));
                }
                let mut p = vec![0u8; items.len() * CTL_ENUM_ITEM_SIZE];
                for (i, it) in items.iter().enumerate() {
                    let n = it.len().min(CTL_ENUM_ITEM_SIZE - 1);
                    p[i * CTL_ENUM_ITEM_SIZE..i * CTL_ENUM_ITEM_SIZE + n]
                        .copy_from_slice(&it.as_bytes()[..n]);
                }
                ok(p, format!("'{}': {} items", c.name, items.len()))
            }
            R_CTL_READ => {
                let need = HDR_SIZE + CTL_VALUE_SIZE;
                if resp_cap < need {
                    return bad(format!("response buffer {resp_cap} bytes, {need} needed"));
                }
                let mut p = vec![0u8; CTL_VALUE_SIZE];
                p[..c.value.len()].copy_from_slice(&c.value);
                let note = format!("'{}' = {}", c.name, c.value_text());
                c.reads += 1;
                if c.tick {
                    c.advance();
                }
                ok(p, note)
            }
            R_CTL_WRITE => {
                if payload.len() < CTL_VALUE_SIZE {
                    return bad(format!(
                        "value of {} bytes, a virtio_snd_ctl_value has {CTL_VALUE_SIZE}",
                        payload.len()
                    ));
                }
                let v = &payload[..c.value_bytes()];
                if let Err(e) = c.check_value(v) {
                    return bad(format!("'{}': {e}", c.name));
                }
                c.value.copy_from_slice(v);
                c.writes += 1;
                ok(Vec::new(), format!("'{}' := {}", c.name, c.value_text()))
            }
            R_CTL_TLV_READ => {
                let need = HDR_SIZE + CTL_TLV_HDR_SIZE;
                if resp_cap < need {
                    return bad(format!("response buffer {resp_cap} bytes, {need} needed"));
                }
                let n = c.tlv.len().min(resp_cap - HDR_SIZE);
                let cut = if n < c.tlv.len() {
                    format!(" (cut to {n} of {} bytes)", c.tlv.len())
                } else {
                    String::new()
                };
                ok(
                    c.tlv[..n].to_vec(),
                    format!("'{}': {}{cut}", c.name, tlv_text(&c.tlv)),
                )
            }
            R_CTL_TLV_WRITE | R_CTL_TLV_COMMAND => {
                let t = match check_tlv(payload) {
                    Ok(t) => t,
                    Err(e) => return bad(format!("'{}': {e}", c.name)),
                };
                let text = tlv_text(t);
                if code == R_CTL_TLV_WRITE {
                    c.tlv = t.to_vec();
                    ok(Vec::new(), format!("'{}' TLV := {text}", c.name))
                } else {
                    c.last_command = Some(t.to_vec());
                    ok(Vec::new(), format!("'{}' TLV command {text}", c.name))
                }
            }
            _ => Outcome {
                reply: CtlReply::status(S_NOT_SUPP),
                note: "unknown request".into(),
            },
        }
    }
}

/// The TLV at the start of a TLV_WRITE / TLV_COMMAND payload: the header and `length`
/// bytes, `length` a multiple of 4 and at most CTL_TLV_MAX.
pub fn check_tlv(payload: &[u8]) -> Result<&[u8], String> {
    let (Some(_), Some(len)) = (le32(payload, 0), le32(payload, 4)) else {
        return Err(format!("{} bytes, no TLV header", payload.len()));
    };
    let len = len as usize;
    if !len.is_multiple_of(4) || len > CTL_TLV_MAX {
        return Err(format!(
            "TLV length {len} (a multiple of 4, at most {CTL_TLV_MAX})"
        ));
    }
    payload.get(..CTL_TLV_HDR_SIZE + len).ok_or(format!(
        "TLV length {len}, only {} bytes sent",
        payload.len() - 8
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Controls {
        ControlSet::Default.build()
    }

    fn id_of(c: &Controls, name: &str) -> u32 {
        c.list.iter().position(|x| x.name == name).unwrap() as u32
    }

    /// A WRITE payload (after the header): the members, zero padded to 512 bytes.
    fn value32(v: &[i32]) -> Vec<u8> {
        let mut p = vec![0u8; CTL_VALUE_SIZE];
        for (i, x) in v.iter().enumerate() {
            p[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
        }
        p
    }

    fn value64(v: &[i64]) -> Vec<u8> {
        let mut p = vec![0u8; CTL_VALUE_SIZE];
        for (i, x) in v.iter().enumerate() {
            p[8 * i..8 * i + 8].copy_from_slice(&x.to_le_bytes());
        }
        p
    }

    fn status(o: &Outcome) -> u32 {
        o.reply.status
    }

    const CAP: usize = HDR_SIZE + CTL_VALUE_SIZE;

    #[test]
    fn default_set_is_valid() {
        let c = set();
        assert_eq!(c.len(), 13);
        let mut names = std::collections::HashSet::new();
        for x in &c.list {
            x.check().unwrap();
            assert!(names.insert((x.name.clone(), x.index)), "{} twice", x.name);
        }
        // One of every type.
        for t in 0..=5 {
            assert!(c.list.iter().any(|x| x.kind.wire_type() == t), "type {t}");
        }
        for (name, ty) in [
            ("Master Playback Volume", CTL_TYPE_INTEGER),
            ("Master Playback Switch", CTL_TYPE_BOOLEAN),
            ("PCM Playback Volume", CTL_TYPE_INTEGER),
            ("Capture Volume", CTL_TYPE_INTEGER),
            ("Capture Source", CTL_TYPE_ENUMERATED),
            ("Test Integer64", CTL_TYPE_INTEGER64),
            ("Test Bytes", CTL_TYPE_BYTES),
            ("IEC958 Playback Default", CTL_TYPE_IEC958),
        ] {
            assert_eq!(c.get(id_of(&c, name)).unwrap().kind.wire_type(), ty);
        }
        assert_eq!(c.get(id_of(&c, "PCM Playback Volume")).unwrap().count, 2);
        assert_eq!(c.get(id_of(&c, "Test Bytes")).unwrap().count, 16);
        for n in count_set(300) {
            n.check().unwrap();
        }
        assert_eq!(count_set(300)[205].value_text(), "3");
        assert_eq!(count_set(300)[205].index, 205);
    }

    #[test]
    fn control_set_option() {
        assert_eq!(ControlSet::parse("default"), Ok(ControlSet::Default));
        assert_eq!(ControlSet::parse("none"), Ok(ControlSet::None));
        assert_eq!(ControlSet::parse("0"), Ok(ControlSet::None));
        assert_eq!(ControlSet::parse("5"), Ok(ControlSet::Count(5)));
        assert_eq!(ControlSet::parse("5").unwrap().build().len(), 5);
        assert_eq!(ControlSet::None.build().len(), 0);
        assert!(ControlSet::parse("1025").is_err());
        assert!(ControlSet::parse("-1").is_err());
        assert!(ControlSet::parse("all").is_err());
    }

    #[test]
    fn info_layout() {
        let c = set();
        let r = c.info(0, c.len(), CTL_INFO_SIZE as u32, 4 + 96 * 13);
        assert_eq!((r.status, r.payload.len()), (S_OK, 96 * 13));
        let e = |id: u32| &r.payload[id as usize * 96..id as usize * 96 + 96];
        // Master Playback Volume: role VOLUME output (1 << 1 | 0), INTEGER, R W TLV_READ.
        let m = e(0);
        assert_eq!(le32(m, 0), Some(0));
        assert_eq!(le32(m, 4), Some(2));
        assert_eq!(le32(m, 8), Some(CTL_TYPE_INTEGER));
        assert_eq!(le32(m, 12), Some(0b1_0011));
        assert_eq!(le32(m, 16), Some(1));
        assert_eq!(le32(m, 20), Some(0));
        assert_eq!(&m[24..24 + 22], b"Master Playback Volume");
        assert_eq!(m[24 + 22..68], [0; 22]);
        assert_eq!(m[68..72], [0; 4], "padding before the union");
        assert_eq!(
            [le32(m, 72), le32(m, 76), le32(m, 80)],
            [Some(0), Some(64), Some(1)]
        );
        assert_eq!(m[84..], [0; 12]);
        // Capture Volume: role VOLUME input.
        assert_eq!(le32(e(3), 4), Some(3));
        // Mic Boost: GAIN input.
        assert_eq!(le32(e(6), 4), Some(7));
        // Capture Source: 3 items.
        assert_eq!(le32(e(5), 8), Some(CTL_TYPE_ENUMERATED));
        assert_eq!(le32(e(5), 72), Some(3));
        // Test Integer64: le64 min, max, step at 72, 80, 88.
        let i = e(7);
        assert_eq!(le64(i, 72), Some(-1_000_000_000_000i64 as u64));
        assert_eq!(le64(i, 80), Some(1_000_000_000_000));
        assert_eq!(le64(i, 88), Some(250_000_000_000));
        // IEC958 Playback Con Mask: READ only.
        assert_eq!(le32(e(10), 12), Some(CTL_ACCESS_READ));
        assert_eq!(le32(e(10), 16), Some(1));
        // count_set: same name, indexes 0..n.
        let n = ControlSet::Count(3).build();
        let r = n.info(1, 2, 100, 4 + 200);
        assert_eq!((r.status, r.payload.len()), (S_OK, 200));
        assert_eq!(le32(&r.payload, 20), Some(1));
        assert_eq!(le32(&r.payload, 100 + 20), Some(2));
        assert_eq!(&r.payload[100 + 24..100 + 36], b"Test Control");
        assert_eq!(r.payload[96..100], [0; 4]);
    }

    #[test]
    fn info_bad_queries() {
        let c = set();
        for (s, n, sz, cap) in [
            (0, 14, 96, 10000),
            (13, 1, 96, 10000),
            (u32::MAX, 2, 96, 10000),
            (0, 1, 92, 10000), // the spec listing's packed size
            (0, 1, 32, 10000),
            (0, 2, 96, 4 + 191),
        ] {
            assert_eq!(
                c.info(s, n, sz, cap).status,
                S_BAD_MSG,
                "{s} {n} {sz} {cap}"
            );
        }
        assert_eq!(c.info(13, 0, 96, 4), CtlReply::status(S_OK));
    }

    #[test]
    fn enum_items() {
        let mut c = set();
        let src = id_of(&c, "Capture Source");
        let o = c.request(R_CTL_ENUM_ITEMS, src, &[], 4 + 3 * 64);
        assert_eq!((status(&o), o.reply.payload.len()), (S_OK, 192));
        assert_eq!(&o.reply.payload[..4], b"Mic\0");
        assert_eq!(&o.reply.payload[64..69], b"Line\0");
        assert_eq!(&o.reply.payload[128..141], b"Internal Mic\0");
        assert_eq!(o.reply.payload[141..192], [0; 51]);
        // Response buffer too small, not enumerated, out of range.
        assert_eq!(
            status(&c.request(R_CTL_ENUM_ITEMS, src, &[], 4 + 191)),
            S_BAD_MSG
        );
        assert_eq!(
            status(&c.request(R_CTL_ENUM_ITEMS, 0, &[], 1000)),
            S_BAD_MSG
        );
        assert_eq!(
            status(&c.request(R_CTL_ENUM_ITEMS, 13, &[], 1000)),
            S_BAD_MSG
        );
    }

    #[test]
    fn read_values() {
        let mut c = set();
        let o = c.request(R_CTL_READ, 2, &[], CAP);
        assert_eq!((status(&o), o.reply.payload.len()), (S_OK, 512));
        assert_eq!(le32(&o.reply.payload, 0), Some(200));
        assert_eq!(le32(&o.reply.payload, 4), Some(200));
        assert_eq!(o.reply.payload[8..], [0; 504]);
        let o = c.request(R_CTL_READ, 8, &[], CAP + 100);
        assert_eq!(o.reply.payload[..16], (0..16).collect::<Vec<u8>>()[..]);
        assert_eq!(o.reply.payload.len(), 512);
        let o = c.request(R_CTL_READ, 9, &[], CAP);
        assert_eq!(o.reply.payload[..4], [0x04, 0x82, 0x00, 0x02]);
        let o = c.request(R_CTL_READ, 7, &[], CAP);
        assert_eq!(le64(&o.reply.payload, 0), Some(0));
        // Too small a response buffer, out of range.
        assert_eq!(status(&c.request(R_CTL_READ, 0, &[], CAP - 1)), S_BAD_MSG);
        assert_eq!(status(&c.request(R_CTL_READ, 13, &[], CAP)), S_BAD_MSG);
        assert_eq!(
            status(&c.request(R_CTL_READ, u32::MAX, &[], CAP)),
            S_BAD_MSG
        );
        assert_eq!(c.list[0].reads, 0);
        // Without READ access.
        let mut wo = Controls {
            list: vec![Control::new(
                "Write Only",
                0,
                Kind::Boolean,
                1,
                CTL_ACCESS_WRITE,
            )],
        };
        assert_eq!(status(&wo.request(R_CTL_READ, 0, &[], CAP)), S_BAD_MSG);
    }

    #[test]
    fn volatile_ticks() {
        let mut c = set();
        let v = id_of(&c, "Test Volatile");
        let read = |c: &mut Controls| le32(&c.request(R_CTL_READ, v, &[], CAP).reply.payload, 0);
        assert_eq!(
            [read(&mut c), read(&mut c), read(&mut c)],
            [Some(0), Some(1), Some(2)]
        );
        assert_eq!(c.list[v as usize].reads, 3);
        c.list[v as usize].value = 1000u32.to_le_bytes().to_vec();
        assert_eq!([read(&mut c), read(&mut c)], [Some(1000), Some(0)]);
        // Read only.
        assert_eq!(
            status(&c.request(R_CTL_WRITE, v, &value32(&[5]), 4)),
            S_BAD_MSG
        );
    }

    #[test]
    fn write_values() {
        let mut c = set();
        // Good writes, then read back.
        for (id, v) in [
            (0u32, vec![64]),
            (0, vec![0]),
            (2, vec![0, 255]),
            (3, vec![31, 7]),
        ] {
            let o = c.request(R_CTL_WRITE, id, &value32(&v), 4);
            assert_eq!(status(&o), S_OK, "{id} {v:?}: {}", o.note);
            assert!(o.reply.payload.is_empty());
            let r = c.request(R_CTL_READ, id, &[], CAP);
            assert_eq!(r.reply.payload[..4 * v.len()], value32(&v)[..4 * v.len()]);
        }
        assert_eq!(c.list[0].writes, 2);
        // Members past count are ignored.
        assert_eq!(
            status(&c.request(R_CTL_WRITE, 1, &value32(&[0, 77]), 4)),
            S_OK
        );
        assert_eq!(c.list[1].value_text(), "0");
        // Out of range, negative, boolean 2, enumerated past the items: nothing changes.
        for (id, v) in [
            (0u32, vec![65]),
            (0, vec![-1]),
            (2, vec![0, 256]),
            (1, vec![2]),
            (4, vec![1, -1]),
            (5, vec![3]),
        ] {
            let before = c.list[id as usize].value.clone();
            let o = c.request(R_CTL_WRITE, id, &value32(&v), 4);
            assert_eq!(status(&o), S_BAD_MSG, "{id} {v:?}");
            assert_eq!(c.list[id as usize].value, before);
        }
        assert_eq!(status(&c.request(R_CTL_WRITE, 5, &value32(&[2]), 4)), S_OK);
        // Integer64: range and step.
        for (v, want) in [
            (-1_000_000_000_000i64, S_OK),
            (1_000_000_000_000, S_OK),
            (250_000_000_000, S_OK),
            (250_000_000_001, S_BAD_MSG),
            (1_250_000_000_000, S_BAD_MSG),
            (i64::MIN, S_BAD_MSG),
        ] {
            assert_eq!(
                status(&c.request(R_CTL_WRITE, 7, &value64(&[v]), 4)),
                want,
                "{v}"
            );
        }
        assert_eq!(c.list[7].value_text(), "250000000000");
        // Bytes and IEC958 take anything.
        let mut p = vec![0xffu8; CTL_VALUE_SIZE];
        assert_eq!(status(&c.request(R_CTL_WRITE, 8, &p, 4)), S_OK);
        assert_eq!(c.list[8].value, vec![0xff; 16]);
        p[..3].copy_from_slice(&[1, 2, 3]);
        assert_eq!(status(&c.request(R_CTL_WRITE, 9, &p, 4)), S_OK);
        assert_eq!(c.list[9].value.len(), CTL_IEC958_SIZE);
        assert_eq!(c.list[9].value[..4], [1, 2, 3, 0xff]);
        // Short value, read-only, out of range id.
        assert_eq!(
            status(&c.request(R_CTL_WRITE, 0, &value32(&[1])[..511], 4)),
            S_BAD_MSG
        );
        assert_eq!(status(&c.request(R_CTL_WRITE, 10, &p, 4)), S_BAD_MSG);
        assert_eq!(
            status(&c.request(R_CTL_WRITE, 13, &value32(&[0]), 4)),
            S_BAD_MSG
        );
        // INACTIVE elements may be updated (spec).
        let ina = id_of(&c, "Test Inactive Switch");
        assert_eq!(
            status(&c.request(R_CTL_WRITE, ina, &value32(&[1]), 4)),
            S_OK
        );
        // A step other than 1.
        let mut s = Controls {
            list: vec![Control::new(
                "Stepped",
                0,
                Kind::Integer {
                    min: -10,
                    max: 10,
                    step: 4,
                },
                1,
                RW,
            )],
        };
        for (v, want) in [
            (-10, S_OK),
            (-6, S_OK),
            (10, S_OK),
            (-8, S_BAD_MSG),
            (0, S_BAD_MSG),
        ] {
            assert_eq!(
                status(&s.request(R_CTL_WRITE, 0, &value32(&[v]), 4)),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn restore_values() {
        let mut c = set();
        let initial = c.values();
        assert_eq!(initial.len(), 13);
        assert_eq!(initial[2], value32(&[200, 200])[..8]);
        assert_eq!(c.restore_values(&initial), 0);
        // CTL_WRITEs: six elements change; a write of the initial value changes nothing.
        let mut bytes = vec![0xffu8; CTL_VALUE_SIZE];
        for (id, p) in [
            (0u32, value32(&[10])),
            (1, value32(&[1])),
            (2, value32(&[30, 40])),
            (5, value32(&[2])),
            (7, value64(&[-1_000_000_000_000])),
            (8, bytes.clone()),
            (9, {
                bytes[..4].copy_from_slice(&[0, 0, 0, 0]);
                bytes.clone()
            }),
        ] {
            assert_eq!(status(&c.request(R_CTL_WRITE, id, &p, 4)), S_OK, "{id}");
        }
        // A READ of the volatile element ticks it: a change too.
        assert_eq!(status(&c.request(R_CTL_READ, 11, &[], CAP)), S_OK);
        // A TLV change is no value change.
        let t = tlv_db_minmax(-6000, 600);
        assert_eq!(status(&c.request(R_CTL_TLV_WRITE, 2, &t, 4)), S_OK);
        assert_eq!(c.restore_values(&initial), 7);
        assert_eq!(c.values(), initial);
        for (id, text) in [
            (0, "48"),
            (1, "1"),
            (2, "200,200"),
            (5, "0"),
            (7, "0"),
            (8, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"),
            (9, "4,130,0,2"),
            (11, "0"),
        ] {
            assert_eq!(c.list[id].value_text(), text, "{id}");
        }
        for x in &c.list {
            x.check().unwrap();
        }
        // The rest stays: the TLV, the counts.
        assert_eq!(c.list[2].tlv, t);
        assert_eq!((c.list[0].writes, c.list[11].reads), (1, 1));
        assert_eq!(c.restore_values(&initial), 0);
        // Only the elements with a saved value of their size are restored.
        for id in [0, 2] {
            assert_eq!(
                status(&c.request(R_CTL_WRITE, id, &value32(&[5, 6]), 4)),
                S_OK
            );
        }
        let shorter: Vec<Vec<u8>> = initial.iter().map(|v| v[1..].to_vec()).collect();
        assert_eq!(c.restore_values(&shorter), 0);
        assert_eq!(c.restore_values(&initial[..1]), 1);
        assert_eq!(c.list[0].value_text(), "48");
        assert_eq!(c.list[2].value_text(), "5,6");
        assert_eq!(c.restore_values(&[]), 0);
        // `--controls N`: element i back at i % 101.
        let mut n = ControlSet::Count(150).build();
        let initial = n.values();
        for id in 0..150 {
            assert_eq!(
                status(&n.request(R_CTL_WRITE, id, &value32(&[50]), 4)),
                S_OK
            );
        }
        // Only element 50 was at 50 already.
        assert_eq!(n.restore_values(&initial), 149);
        assert_eq!(n.list[120].value_text(), "19");
        assert_eq!(n.list[50].value_text(), "50");
    }

    #[test]
    fn tlv_requests() {
        let mut c = set();
        // TLV_READ: the whole TLV, or as much as fits.
        let o = c.request(R_CTL_TLV_READ, 0, &[], 100);
        assert_eq!(status(&o), S_OK);
        assert_eq!(o.reply.payload, tlv_db_scale(-4800, 75, true));
        assert_eq!(
            o.reply.payload,
            [1, 0, 0, 0, 8, 0, 0, 0, 0x40, 0xed, 0xff, 0xff, 75, 0, 1, 0]
        );
        assert_eq!(
            tlv_text(&o.reply.payload),
            "db-scale min -48.00dB step 0.75dB mute"
        );
        let o = c.request(R_CTL_TLV_READ, 0, &[], 4 + 12);
        assert_eq!((status(&o), o.reply.payload.len()), (S_OK, 12));
        assert_eq!(status(&c.request(R_CTL_TLV_READ, 0, &[], 4 + 7)), S_BAD_MSG);
        assert_eq!(
            tlv_text(&c.request(R_CTL_TLV_READ, 2, &[], 100).reply.payload),
            "db-minmax -51.00dB..0.00dB"
        );
        // No TLV_READ access.
        assert_eq!(status(&c.request(R_CTL_TLV_READ, 1, &[], 100)), S_BAD_MSG);
        // TLV_WRITE replaces the TLV; only with TLV_WRITE access.
        let new = tlv_db_minmax(-6000, 600);
        assert_eq!(status(&c.request(R_CTL_TLV_WRITE, 2, &new, 4)), S_OK);
        assert_eq!(c.request(R_CTL_TLV_READ, 2, &[], 100).reply.payload, new);
        assert_eq!(status(&c.request(R_CTL_TLV_WRITE, 0, &new, 4)), S_BAD_MSG);
        assert_eq!(c.list[0].tlv, tlv_db_scale(-4800, 75, true));
        // Trailing bytes after the TLV are ignored.
        let mut long = tlv(7, &[1]);
        long.extend_from_slice(&[9; 8]);
        assert_eq!(status(&c.request(R_CTL_TLV_WRITE, 8, &long, 4)), S_OK);
        assert_eq!(c.list[8].tlv, tlv(7, &[1]));
        // Malformed TLVs.
        let mut odd = tlv(7, &[1, 2]);
        odd[4] = 6;
        let mut huge = tlv(7, &[]);
        huge[4..8].copy_from_slice(&(65540u32).to_le_bytes());
        for p in [
            &tlv(7, &[1, 2])[..12],
            &[1, 0, 0, 0, 0, 0, 0][..],
            &odd,
            &huge,
        ] {
            assert_eq!(
                status(&c.request(R_CTL_TLV_WRITE, 8, p, 4)),
                S_BAD_MSG,
                "{p:?}"
            );
            assert_eq!(status(&c.request(R_CTL_TLV_COMMAND, 8, p, 4)), S_BAD_MSG);
        }
        assert_eq!(c.list[8].tlv, tlv(7, &[1]));
        // The largest TLV is accepted; an empty one too.
        let max = tlv(9, &vec![0; CTL_TLV_MAX / 4]);
        assert_eq!(status(&c.request(R_CTL_TLV_WRITE, 8, &max, 4)), S_OK);
        assert_eq!(
            status(&c.request(R_CTL_TLV_WRITE, 8, &tlv(9, &[]), 4)),
            S_OK
        );
        // TLV_COMMAND is recorded, the TLV unchanged.
        assert_eq!(
            status(&c.request(R_CTL_TLV_COMMAND, 8, &tlv(0x42, &[5]), 4)),
            S_OK
        );
        assert_eq!(c.list[8].last_command, Some(tlv(0x42, &[5])));
        assert_eq!(c.list[8].tlv, tlv(9, &[]));
        assert_eq!(
            status(&c.request(R_CTL_TLV_COMMAND, 2, &tlv(0x42, &[5]), 4)),
            S_BAD_MSG
        );
        // Out of range.
        assert_eq!(status(&c.request(R_CTL_TLV_READ, 13, &[], 100)), S_BAD_MSG);
    }

    #[test]
    fn value_text_roundtrip() {
        let c = set();
        for (id, text, want) in [
            (0u32, "10", "10"),
            (2, "1,2", "1,2"),
            (2, "7", "7,7"),
            (1, "off", "0"),
            (4, "on,0", "1,0"),
            (5, "Internal Mic", "2"),
            (5, "1", "1"),
            (7, "-750000000000", "-750000000000"),
            (
                8,
                "0xff,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
                "255,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
            ),
            (9, "4,130,0,2", "4,130,0,2"),
            (9, "0", "0"),
        ] {
            let mut x = c.list[id as usize].clone();
            x.value = x
                .parse_value(text)
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(x.value_text(), want);
            assert_eq!(x.parse_value(&x.value_text()).unwrap(), x.value);
        }
        for (id, text) in [
            (0u32, "65"),
            (0, "x"),
            (2, "1,2,3"),
            (1, "2"),
            (5, "Speaker"),
            (5, "3"),
            (7, "1"),
            (7, "99999999999999999999"),
            (8, "256"),
            (8, "1,2"),
            (0, "4294967296"),
        ] {
            assert!(
                c.list[id as usize].parse_value(text).is_err(),
                "{id} {text}"
            );
        }
    }

    #[test]
    fn describe_lines() {
        let c = set();
        assert_eq!(
            c.list[0].describe(0),
            "ctl 0 'Master Playback Volume' index 0 INTEGER count 1 range 0..64 step 1 \
             role volume-out access read,write,tlv-read tlv db-scale min -48.00dB step 0.75dB \
             mute value 48"
        );
        assert!(c.list[5]
            .describe(5)
            .contains("items Mic|Line|Internal Mic"));
        assert!(c.list[11]
            .describe(11)
            .contains("access read,volatile tlv none tick"));
        assert!(c.list[8]
            .describe(8)
            .contains("tlv type 0x1000 length 16 [0x1,0x2,0x3,0x4]"));
        assert!(c.list[6].describe(6).contains("role gain-in"));
        assert_eq!(
            tlv_text(&tlv(3, &[1, 2, 3, 4, 5, 6, 7, 8, 9])),
            "type 0x3 length 36 [0x1,0x2,0x3,0x4,0x5,0x6,0x7,0x8,...]"
        );
        assert_eq!(tlv_text(&[1, 0, 0]), "none");
    }

    #[test]
    fn bad_definitions() {
        let ok = Control::new("Fine", 0, Kind::Boolean, 1, RW);
        ok.check().unwrap();
        for bad in [
            Control {
                name: String::new(),
                ..ok.clone()
            },
            Control {
                name: "x".repeat(44),
                ..ok.clone()
            },
            Control {
                name: "T\u{e9}st".into(),
                ..ok.clone()
            },
            Control {
                count: 0,
                ..ok.clone()
            },
            Control {
                count: 129,
                ..ok.clone()
            },
            Control {
                access: 1 << 7,
                ..ok.clone()
            },
            Control {
                access: CTL_ACCESS_TLV_READ,
                ..ok.clone()
            },
            Control {
                tick: true,
                ..ok.clone()
            },
            Control::new("E", 0, Kind::Enumerated { items: vec![] }, 1, RW),
            Control::new(
                "E",
                0,
                Kind::Enumerated {
                    items: vec!["y".repeat(64)],
                },
                1,
                RW,
            ),
            Control::new(
                "I",
                0,
                Kind::Integer {
                    min: 1,
                    max: 0,
                    step: 1,
                },
                1,
                RW,
            ),
            Control::new("I", 0, Kind::Iec958, 2, RW),
            Control::new("B", 0, Kind::Boolean, 1, RW).with(&[3]),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        assert!(Control {
            name: "x".repeat(43),
            ..ok
        }
        .check()
        .is_ok());
    }
}
