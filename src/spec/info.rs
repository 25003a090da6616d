// SPDX-License-Identifier: GPL-2.0

//! Jacks, channel maps and control elements (virtio 1.3, "Sound Device"), and their ALSA
//! equivalents.
//!
//! Like [`super::wire`], this module parses what the device wrote with `parse`, which never
//! trusts a length or a value from the device, and builds requests with `to_bytes`. It also
//! holds the translations to ALSA's values (`SND_JACK_*`, `SNDRV_CHMAP_*`, `SNDRV_CTL_*`),
//! which are uapi or long-stable kernel values and are defined here so that this module
//! stays on `core` only.

use core::ffi::CStr;

use super::wire::{
    byte,
    code,
    le32,
    le64,
    put32,
    Direction,
    WireError, //
};

/// Reads `N` bytes at `at`.
fn array<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], WireError> {
    let end = at.checked_add(N).ok_or(WireError::Short)?;
    b.get(at..end)
        .and_then(|s| s.try_into().ok())
        .ok_or(WireError::Short)
}

/// Parses a direction byte (`VIRTIO_SND_D_*`).
fn direction_from_wire(v: u8) -> Result<Direction, WireError> {
    match v {
        0 => Ok(Direction::Output),
        1 => Ok(Direction::Input),
        _ => Err(WireError::BadValue),
    }
}

fn direction_to_wire(d: Direction) -> u8 {
    match d {
        Direction::Output => 0,
        Direction::Input => 1,
    }
}

fn put64(out: &mut [u8; CTL_INFO_SIZE], at: usize, v: u64) {
    put32(out, at, v as u32);
    put32(out, at + 4, (v >> 32) as u32);
}

// ---------------------------------------------------------------------------------------------
// Names.

/// Checks a fixed-size name field from the device and returns the length of the name.
///
/// The spec wants "a non-empty 0-terminated ASCII string": the field must hold a NUL, and
/// the bytes before it must be printable ASCII (`0x20..=0x7e`), at least one of them. Bytes
/// after the NUL are ignored.
pub(crate) fn validate_name(field: &[u8]) -> Result<usize, WireError> {
    let len = field
        .iter()
        .position(|&c| c == 0)
        .ok_or(WireError::BadValue)?;
    let name = field.get(..len).ok_or(WireError::BadValue)?;
    if name.is_empty() || !name.iter().all(|c| (0x20..=0x7e).contains(c)) {
        return Err(WireError::BadValue);
    }
    Ok(len)
}

/// A name from the device in a field of `N` bytes.
///
/// # Invariants
///
/// `0 < len < N`, `bytes[..len]` is printable ASCII and `bytes[len..]` is all zeros (the
/// bytes that followed the NUL on the wire are dropped, so that equal names compare equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Name<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Name<N> {
    /// Parses and checks a name field (see [`validate_name`]).
    pub(crate) fn parse(field: &[u8]) -> Result<Self, WireError> {
        let len = validate_name(field.get(..N).ok_or(WireError::Short)?)?;
        let mut bytes = [0u8; N];
        let src = field.get(..len).ok_or(WireError::Short)?;
        let dst = bytes.get_mut(..len).ok_or(WireError::Short)?;
        dst.copy_from_slice(src);
        // INVARIANT: `validate_name` checked the name; the tail of `bytes` is zero.
        Ok(Self { bytes, len })
    }

    /// A name from a string (for requests, tests and test devices).
    ///
    /// Fails if `s` is empty, too long for the field with its NUL, or not printable ASCII.
    pub(crate) fn new(s: &str) -> Result<Self, WireError> {
        // An embedded NUL would cut the name short instead of failing.
        if s.bytes().any(|c| c == 0) {
            return Err(WireError::BadValue);
        }
        let mut bytes = [0u8; N];
        let dst = bytes.get_mut(..s.len()).ok_or(WireError::BadValue)?;
        dst.copy_from_slice(s.as_bytes());
        Self::parse(&bytes)
    }

    /// The name, without its NUL.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// The name as a string (printable ASCII, so always valid UTF-8).
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The name as a C string, for ALSA.
    pub(crate) fn as_cstr(&self) -> &CStr {
        self.bytes
            .get(..=self.len)
            .and_then(|b| CStr::from_bytes_with_nul(b).ok())
            .unwrap_or_default()
    }

    /// The wire field: the name, then zeros.
    pub(crate) fn to_bytes(&self) -> [u8; N] {
        self.bytes
    }
}

// ---------------------------------------------------------------------------------------------
// Jacks.

/// Jack feature bit (`virtio_snd_jack_info::features`): the jack can be remapped.
pub(crate) const VIRTIO_SND_JACK_F_REMAP: u32 = 0;

/// Size of `struct virtio_snd_jack_hdr`.
pub(crate) const JACK_HDR_SIZE: usize = 8;
/// Size of `struct virtio_snd_jack_info`.
pub(crate) const JACK_INFO_SIZE: usize = 24;
/// Size of `struct virtio_snd_jack_remap`.
pub(crate) const JACK_REMAP_SIZE: usize = 16;

/// ALSA's jack types (`enum snd_jack_types`, `include/sound/jack.h`), a bit mask.
pub(crate) mod snd_jack {
    pub(crate) const HEADPHONE: u32 = 0x0001;
    pub(crate) const MICROPHONE: u32 = 0x0002;
    pub(crate) const HEADSET: u32 = HEADPHONE | MICROPHONE;
    pub(crate) const LINEOUT: u32 = 0x0004;
    pub(crate) const MECHANICAL: u32 = 0x0008;
    pub(crate) const VIDEOOUT: u32 = 0x0010;
    pub(crate) const AVOUT: u32 = LINEOUT | VIDEOOUT;
    pub(crate) const LINEIN: u32 = 0x0020;
    pub(crate) const USB: u32 = 0x0040;
    pub(crate) const BTN_0: u32 = 0x4000;
    pub(crate) const BTN_1: u32 = 0x2000;
    pub(crate) const BTN_2: u32 = 0x1000;
    pub(crate) const BTN_3: u32 = 0x0800;
    pub(crate) const BTN_4: u32 = 0x0400;
    pub(crate) const BTN_5: u32 = 0x0200;
}

/// Fields of an HDA pin default configuration (HDA spec 7.3.3.31, `AC_DEFCFG_*`).
pub(crate) mod defcfg {
    /// Default device (`AC_JACK_*`), bits 20..24.
    pub(crate) fn device(defconf: u32) -> u32 {
        (defconf >> 20) & 0xf
    }

    /// Location (`AC_JACK_LOC_*`), bits 24..30: gross location in bits 4..6, geometric
    /// location in bits 0..4.
    pub(crate) fn location(defconf: u32) -> u32 {
        (defconf >> 24) & 0x3f
    }

    /// Port connectivity (`AC_JACK_PORT_*`), bits 30..32.
    pub(crate) fn port_connectivity(defconf: u32) -> u32 {
        defconf >> 30
    }

    /// Default association, bits 4..8.
    pub(crate) fn association(defconf: u32) -> u32 {
        (defconf >> 4) & 0xf
    }

    /// Sequence, bits 0..4.
    pub(crate) fn sequence(defconf: u32) -> u32 {
        defconf & 0xf
    }

    // Default devices (`AC_JACK_*`).
    pub(crate) const LINE_OUT: u32 = 0x0;
    pub(crate) const SPEAKER: u32 = 0x1;
    pub(crate) const HP_OUT: u32 = 0x2;
    pub(crate) const CD: u32 = 0x3;
    pub(crate) const SPDIF_OUT: u32 = 0x4;
    pub(crate) const DIG_OTHER_OUT: u32 = 0x5;
    pub(crate) const MODEM_LINE_SIDE: u32 = 0x6;
    pub(crate) const MODEM_HAND_SIDE: u32 = 0x7;
    pub(crate) const LINE_IN: u32 = 0x8;
    pub(crate) const AUX: u32 = 0x9;
    pub(crate) const MIC_IN: u32 = 0xa;
    pub(crate) const TELEPHONY: u32 = 0xb;
    pub(crate) const SPDIF_IN: u32 = 0xc;
    pub(crate) const DIG_OTHER_IN: u32 = 0xd;
    pub(crate) const OTHER: u32 = 0xf;

    // Locations (`AC_JACK_LOC_*`).
    pub(crate) const LOC_REAR: u32 = 0x01;
    pub(crate) const LOC_FRONT: u32 = 0x02;
    pub(crate) const LOC_INTERNAL: u32 = 0x10;
    pub(crate) const LOC_SEPARATE: u32 = 0x20;
    pub(crate) const LOC_HDMI: u32 = 0x18;

    // Port connectivity (`AC_JACK_PORT_*`).
    pub(crate) const PORT_COMPLEX: u32 = 0;
    pub(crate) const PORT_NONE: u32 = 1;
    pub(crate) const PORT_FIXED: u32 = 2;
    pub(crate) const PORT_BOTH: u32 = 3;
}

/// The ALSA jack type (`SND_JACK_*` mask) of a pin default configuration.
///
/// Follows the C driver (`virtsnd_jack_get_type()`): line outs and speakers are line outs,
/// digital outputs are audio/video outs, and every input other than a microphone is a line
/// in.
pub(crate) fn jack_type(defconf: u32) -> u32 {
    match defcfg::device(defconf) {
        defcfg::LINE_OUT | defcfg::SPEAKER => snd_jack::LINEOUT,
        defcfg::HP_OUT => snd_jack::HEADPHONE,
        defcfg::SPDIF_OUT | defcfg::DIG_OTHER_OUT => snd_jack::AVOUT,
        defcfg::MIC_IN => snd_jack::MICROPHONE,
        _ => snd_jack::LINEIN,
    }
}

/// Where a pin sits, as HDA's `snd_hda_get_input_pin_attr()` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PinPlace {
    /// Not connected (port connectivity "none").
    Unused,
    /// Built in (fixed function, or an internal location).
    Internal,
    /// On a docking station (separate chassis).
    Dock,
    /// On the front panel.
    Front,
    /// Anywhere else (rear panel, sides, top, ...).
    Normal,
}

fn pin_place(defconf: u32) -> PinPlace {
    let loc = defcfg::location(defconf);
    match defcfg::port_connectivity(defconf) {
        defcfg::PORT_NONE => return PinPlace::Unused,
        defcfg::PORT_FIXED | defcfg::PORT_BOTH => return PinPlace::Internal,
        _ => {}
    }
    match loc & 0x30 {
        defcfg::LOC_INTERNAL => PinPlace::Internal,
        defcfg::LOC_SEPARATE => PinPlace::Dock,
        _ if loc == defcfg::LOC_FRONT => PinPlace::Front,
        _ => PinPlace::Normal,
    }
}

/// A human name for a jack, from its pin default configuration.
///
/// The device gives the base name, as in the C driver (`virtsnd_jack_get_label()`); the
/// location adds a prefix where HDA codecs add one (`snd_hda_get_pin_label()`): "Front" and
/// "Dock" for outputs and microphones, "Internal" for built-in microphones, and a fixed
/// (built-in) line out is a "Speaker". Rear and unspecified locations add nothing, so the
/// common single jacks read "Headphone", "Line Out", "Mic" and "Line". ALSA appends " Jack"
/// to the control it creates.
pub(crate) fn jack_name(defconf: u32) -> &'static CStr {
    let place = pin_place(defconf);
    match (defcfg::device(defconf), place) {
        (defcfg::LINE_OUT, PinPlace::Internal) => c"Speaker",
        (defcfg::LINE_OUT, PinPlace::Front) => c"Front Line Out",
        (defcfg::LINE_OUT, PinPlace::Dock) => c"Dock Line Out",
        (defcfg::LINE_OUT, _) => c"Line Out",
        (defcfg::SPEAKER, PinPlace::Front) => c"Front Speaker",
        (defcfg::SPEAKER, PinPlace::Dock) => c"Dock Speaker",
        (defcfg::SPEAKER, _) => c"Speaker",
        (defcfg::HP_OUT, PinPlace::Front) => c"Front Headphone",
        (defcfg::HP_OUT, PinPlace::Dock) => c"Dock Headphone",
        (defcfg::HP_OUT, _) => c"Headphone",
        (defcfg::CD, _) => c"CD",
        (defcfg::SPDIF_OUT | defcfg::DIG_OTHER_OUT, _) => {
            if defcfg::location(defconf) == defcfg::LOC_HDMI {
                c"HDMI Out"
            } else {
                c"SPDIF Out"
            }
        }
        (defcfg::LINE_IN, PinPlace::Dock) => c"Dock Line",
        (defcfg::LINE_IN, _) => c"Line",
        (defcfg::AUX, _) => c"Aux",
        (defcfg::MIC_IN, PinPlace::Internal) => c"Internal Mic",
        (defcfg::MIC_IN, PinPlace::Dock) => c"Dock Mic",
        (defcfg::MIC_IN, PinPlace::Front) => c"Front Mic",
        (defcfg::MIC_IN, _) => c"Mic",
        (defcfg::SPDIF_IN, _) => c"SPDIF In",
        (defcfg::DIG_OTHER_IN, _) => c"Digital In",
        _ => c"Misc",
    }
}

/// One entry of a `VIRTIO_SND_R_JACK_INFO` answer (`struct virtio_snd_jack_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JackInfo {
    pub(crate) hda_fn_nid: u32,
    /// `1 << VIRTIO_SND_JACK_F_*`; bits the driver does not know are kept, and ignored.
    pub(crate) features: u32,
    /// HDA pin default configuration.
    pub(crate) hda_reg_defconf: u32,
    /// HDA pin capabilities.
    pub(crate) hda_reg_caps: u32,
    pub(crate) connected: bool,
}

impl JackInfo {
    /// Parses and checks one entry.
    ///
    /// `connected` must be 0 or 1. The padding is not checked.
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        if b.len() < JACK_INFO_SIZE {
            return Err(WireError::Short);
        }
        Ok(Self {
            hda_fn_nid: le32(b, 0)?,
            features: le32(b, 4)?,
            hda_reg_defconf: le32(b, 8)?,
            hda_reg_caps: le32(b, 12)?,
            connected: match byte(b, 16)? {
                0 => false,
                1 => true,
                _ => return Err(WireError::BadValue),
            },
        })
    }

    /// Serialises the entry (used by tests and by test devices).
    pub(crate) fn to_bytes(&self) -> [u8; JACK_INFO_SIZE] {
        let mut out = [0u8; JACK_INFO_SIZE];
        put32(&mut out, 0, self.hda_fn_nid);
        put32(&mut out, 4, self.features);
        put32(&mut out, 8, self.hda_reg_defconf);
        put32(&mut out, 12, self.hda_reg_caps);
        out[16] = u8::from(self.connected);
        out
    }

    /// Whether the device accepts `VIRTIO_SND_R_JACK_REMAP` for this jack.
    pub(crate) fn can_remap(&self) -> bool {
        self.features & (1 << VIRTIO_SND_JACK_F_REMAP) != 0
    }

    /// The ALSA jack type (see [`jack_type`]).
    pub(crate) fn jack_type(&self) -> u32 {
        jack_type(self.hda_reg_defconf)
    }

    /// The jack's name (see [`jack_name`]).
    pub(crate) fn name(&self) -> &'static CStr {
        jack_name(self.hda_reg_defconf)
    }

    /// The status to report to ALSA (`snd_jack_report()`): the type if connected, else 0.
    pub(crate) fn report(&self) -> u32 {
        if self.connected {
            self.jack_type()
        } else {
            0
        }
    }
}

/// A `VIRTIO_SND_R_JACK_REMAP` request (`struct virtio_snd_jack_remap`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JackRemap {
    pub(crate) jack_id: u32,
    pub(crate) association: u32,
    pub(crate) sequence: u32,
}

impl JackRemap {
    /// Serialises the request.
    pub(crate) fn to_bytes(&self) -> [u8; JACK_REMAP_SIZE] {
        let mut out = [0u8; JACK_REMAP_SIZE];
        put32(&mut out, 0, code::JACK_REMAP);
        put32(&mut out, 4, self.jack_id);
        put32(&mut out, 8, self.association);
        put32(&mut out, 12, self.sequence);
        out
    }

    /// Parses a request (used by tests and by test devices).
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        if le32(b, 0)? != code::JACK_REMAP {
            return Err(WireError::BadValue);
        }
        Ok(Self {
            jack_id: le32(b, 4)?,
            association: le32(b, 8)?,
            sequence: le32(b, 12)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Channel maps.

/// The most channels one channel map of the device may have.
pub(crate) const VIRTIO_SND_CHMAP_MAX_SIZE: usize = 18;
/// The most channels an ALSA channel map may have (`struct snd_pcm_chmap_elem::map`).
pub(crate) const ALSA_CHMAP_MAX_SIZE: usize = 15;
/// Size of `struct virtio_snd_chmap_info`.
pub(crate) const CHMAP_INFO_SIZE: usize = 24;

/// Channel positions of the device (`VIRTIO_SND_CHMAP_*`).
pub(crate) mod chmap {
    pub(crate) const NONE: u8 = 0;
    pub(crate) const NA: u8 = 1;
    pub(crate) const MONO: u8 = 2;
    pub(crate) const FL: u8 = 3;
    pub(crate) const FR: u8 = 4;
    pub(crate) const RL: u8 = 5;
    pub(crate) const RR: u8 = 6;
    pub(crate) const FC: u8 = 7;
    pub(crate) const LFE: u8 = 8;
    pub(crate) const SL: u8 = 9;
    pub(crate) const SR: u8 = 10;
    pub(crate) const RC: u8 = 11;
    pub(crate) const FLC: u8 = 12;
    pub(crate) const FRC: u8 = 13;
    pub(crate) const RLC: u8 = 14;
    pub(crate) const RRC: u8 = 15;
    pub(crate) const FLW: u8 = 16;
    pub(crate) const FRW: u8 = 17;
    pub(crate) const FLH: u8 = 18;
    pub(crate) const FCH: u8 = 19;
    pub(crate) const FRH: u8 = 20;
    pub(crate) const TC: u8 = 21;
    pub(crate) const TFL: u8 = 22;
    pub(crate) const TFR: u8 = 23;
    pub(crate) const TFC: u8 = 24;
    pub(crate) const TRL: u8 = 25;
    pub(crate) const TRR: u8 = 26;
    pub(crate) const TRC: u8 = 27;
    pub(crate) const TFLC: u8 = 28;
    pub(crate) const TFRC: u8 = 29;
    pub(crate) const TSL: u8 = 30;
    pub(crate) const TSR: u8 = 31;
    pub(crate) const LLFE: u8 = 32;
    pub(crate) const RLFE: u8 = 33;
    pub(crate) const BC: u8 = 34;
    pub(crate) const BLC: u8 = 35;
    pub(crate) const BRC: u8 = 36;
}

/// ALSA's channel positions (`SNDRV_CHMAP_*`, `include/uapi/sound/asound.h`).
pub(crate) mod sndrv_chmap {
    pub(crate) const UNKNOWN: u32 = 0;
    pub(crate) const NA: u32 = 1;
    pub(crate) const MONO: u32 = 2;
    pub(crate) const FL: u32 = 3;
    pub(crate) const FR: u32 = 4;
    pub(crate) const RL: u32 = 5;
    pub(crate) const RR: u32 = 6;
    pub(crate) const FC: u32 = 7;
    pub(crate) const LFE: u32 = 8;
    pub(crate) const SL: u32 = 9;
    pub(crate) const SR: u32 = 10;
    pub(crate) const RC: u32 = 11;
    pub(crate) const FLC: u32 = 12;
    pub(crate) const FRC: u32 = 13;
    pub(crate) const RLC: u32 = 14;
    pub(crate) const RRC: u32 = 15;
    pub(crate) const FLW: u32 = 16;
    pub(crate) const FRW: u32 = 17;
    pub(crate) const FLH: u32 = 18;
    pub(crate) const FCH: u32 = 19;
    pub(crate) const FRH: u32 = 20;
    pub(crate) const TC: u32 = 21;
    pub(crate) const TFL: u32 = 22;
    pub(crate) const TFR: u32 = 23;
    pub(crate) const TFC: u32 = 24;
    pub(crate) const TRL: u32 = 25;
    pub(crate) const TRR: u32 = 26;
    pub(crate) const TRC: u32 = 27;
    pub(crate) const TFLC: u32 = 28;
    pub(crate) const TFRC: u32 = 29;
    pub(crate) const TSL: u32 = 30;
    pub(crate) const TSR: u32 = 31;
    pub(crate) const LLFE: u32 = 32;
    pub(crate) const RLFE: u32 = 33;
    pub(crate) const BC: u32 = 34;
    pub(crate) const BLC: u32 = 35;
    pub(crate) const BRC: u32 = 36;
    pub(crate) const LAST: u32 = BRC;
}

/// The ALSA position (`SNDRV_CHMAP_*`) of a device position (`VIRTIO_SND_CHMAP_*`).
///
/// `None` for a value that the spec does not define: the caller reports
/// `SNDRV_CHMAP_UNKNOWN`.
pub(crate) fn alsa_position(virtio_pos: u8) -> Option<u32> {
    use chmap as v;
    use sndrv_chmap as a;
    Some(match virtio_pos {
        v::NONE => a::UNKNOWN,
        v::NA => a::NA,
        v::MONO => a::MONO,
        v::FL => a::FL,
        v::FR => a::FR,
        v::RL => a::RL,
        v::RR => a::RR,
        v::FC => a::FC,
        v::LFE => a::LFE,
        v::SL => a::SL,
        v::SR => a::SR,
        v::RC => a::RC,
        v::FLC => a::FLC,
        v::FRC => a::FRC,
        v::RLC => a::RLC,
        v::RRC => a::RRC,
        v::FLW => a::FLW,
        v::FRW => a::FRW,
        v::FLH => a::FLH,
        v::FCH => a::FCH,
        v::FRH => a::FRH,
        v::TC => a::TC,
        v::TFL => a::TFL,
        v::TFR => a::TFR,
        v::TFC => a::TFC,
        v::TRL => a::TRL,
        v::TRR => a::TRR,
        v::TRC => a::TRC,
        v::TFLC => a::TFLC,
        v::TFRC => a::TFRC,
        v::TSL => a::TSL,
        v::TSR => a::TSR,
        v::LLFE => a::LLFE,
        v::RLFE => a::RLFE,
        v::BC => a::BC,
        v::BLC => a::BLC,
        v::BRC => a::BRC,
        _ => return None,
    })
}

/// One entry of a `VIRTIO_SND_R_CHMAP_INFO` answer (`struct virtio_snd_chmap_info`).
///
/// # Invariants
///
/// `1 <= channels <= VIRTIO_SND_CHMAP_MAX_SIZE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChmapInfo {
    hda_fn_nid: u32,
    direction: Direction,
    channels: u8,
    /// All the positions on the wire; only the first `channels` ones are valid.
    positions: [u8; VIRTIO_SND_CHMAP_MAX_SIZE],
}

/// A channel map in ALSA's terms (`struct snd_pcm_chmap_elem`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AlsaChmap {
    pub(crate) channels: u8,
    pub(crate) map: [u8; ALSA_CHMAP_MAX_SIZE],
}

impl ChmapInfo {
    /// A channel map with the positions `positions` (for tests and test devices).
    ///
    /// Fails if there are no positions or more than [`VIRTIO_SND_CHMAP_MAX_SIZE`].
    pub(crate) fn new(
        hda_fn_nid: u32,
        direction: Direction,
        positions: &[u8],
    ) -> Result<Self, WireError> {
        let channels = u8::try_from(positions.len()).map_err(|_| WireError::BadValue)?;
        if channels == 0 || usize::from(channels) > VIRTIO_SND_CHMAP_MAX_SIZE {
            return Err(WireError::BadValue);
        }
        let mut all = [0u8; VIRTIO_SND_CHMAP_MAX_SIZE];
        all.get_mut(..positions.len())
            .ok_or(WireError::BadValue)?
            .copy_from_slice(positions);
        // INVARIANT: `channels` was checked above.
        Ok(Self {
            hda_fn_nid,
            direction,
            channels,
            positions: all,
        })
    }

    /// Parses and checks one entry.
    ///
    /// The direction must be defined and `channels` in `1..=18`. Positions that the spec
    /// does not define are kept: [`alsa_position`] reports them as unknown.
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        if b.len() < CHMAP_INFO_SIZE {
            return Err(WireError::Short);
        }
        let hda_fn_nid = le32(b, 0)?;
        let direction = direction_from_wire(byte(b, 4)?)?;
        let channels = byte(b, 5)?;
        if channels == 0 || usize::from(channels) > VIRTIO_SND_CHMAP_MAX_SIZE {
            return Err(WireError::BadValue);
        }
        // INVARIANT: `channels` was checked above.
        Ok(Self {
            hda_fn_nid,
            direction,
            channels,
            positions: array(b, 6)?,
        })
    }

    /// Serialises the entry (used by tests and by test devices).
    pub(crate) fn to_bytes(&self) -> [u8; CHMAP_INFO_SIZE] {
        let mut out = [0u8; CHMAP_INFO_SIZE];
        put32(&mut out, 0, self.hda_fn_nid);
        out[4] = direction_to_wire(self.direction);
        out[5] = self.channels;
        out[6..].copy_from_slice(&self.positions);
        out
    }

    pub(crate) fn hda_fn_nid(&self) -> u32 {
        self.hda_fn_nid
    }

    pub(crate) fn direction(&self) -> Direction {
        self.direction
    }

    /// Number of channels, in `1..=VIRTIO_SND_CHMAP_MAX_SIZE`.
    pub(crate) fn channels(&self) -> u8 {
        self.channels
    }

    /// The device positions (`VIRTIO_SND_CHMAP_*`) of the channels.
    pub(crate) fn positions(&self) -> &[u8] {
        // `channels <= VIRTIO_SND_CHMAP_MAX_SIZE` (type invariant): never empty by mistake.
        self.positions
            .get(..usize::from(self.channels))
            .unwrap_or(&[])
    }

    /// The map in ALSA's terms, unknown positions as `SNDRV_CHMAP_UNKNOWN`.
    ///
    /// ALSA maps have at most [`ALSA_CHMAP_MAX_SIZE`] channels: a longer map gives `None`
    /// (the driver leaves it out), since a map cut short would describe another stream. The
    /// C driver cuts it.
    pub(crate) fn to_alsa(&self) -> Option<AlsaChmap> {
        if usize::from(self.channels) > ALSA_CHMAP_MAX_SIZE {
            return None;
        }
        let mut elem = AlsaChmap {
            channels: self.channels,
            ..AlsaChmap::default()
        };
        for (slot, &pos) in elem.map.iter_mut().zip(self.positions()) {
            // SNDRV_CHMAP_LAST (36) fits a byte.
            *slot = alsa_position(pos).unwrap_or(sndrv_chmap::UNKNOWN) as u8;
        }
        Some(elem)
    }
}

// ---------------------------------------------------------------------------------------------
// Control elements.

/// Device feature bit: the device has control elements (same as [`super::wire::F_CTLS`]).
pub(crate) const VIRTIO_SND_F_CTLS: u32 = super::wire::F_CTLS;

/// Control element request codes (`VIRTIO_SND_R_CTL_*`) beyond `CTL_INFO`.
pub(crate) mod ctl_code {
    pub(crate) const INFO: u32 = super::code::CTL_INFO;
    pub(crate) const ENUM_ITEMS: u32 = 0x0301;
    pub(crate) const READ: u32 = 0x0302;
    pub(crate) const WRITE: u32 = 0x0303;
    pub(crate) const TLV_READ: u32 = 0x0304;
    pub(crate) const TLV_WRITE: u32 = 0x0305;
    pub(crate) const TLV_COMMAND: u32 = 0x0306;
}

/// Control element roles (`VIRTIO_SND_CTL_ROLE_*`).
pub(crate) mod ctl_role {
    pub(crate) const UNDEFINED: u32 = 0;
    pub(crate) const VOLUME: u32 = 1;
    pub(crate) const MUTE: u32 = 2;
    pub(crate) const GAIN: u32 = 3;
}

/// Control element value types (`VIRTIO_SND_CTL_TYPE_*`).
pub(crate) mod ctl_type {
    pub(crate) const BOOLEAN: u32 = 0;
    pub(crate) const INTEGER: u32 = 1;
    pub(crate) const INTEGER64: u32 = 2;
    pub(crate) const ENUMERATED: u32 = 3;
    pub(crate) const BYTES: u32 = 4;
    pub(crate) const IEC958: u32 = 5;
}

/// Control element access bits (`VIRTIO_SND_CTL_ACCESS_*`, bit numbers).
pub(crate) mod ctl_access {
    pub(crate) const READ: u32 = 0;
    pub(crate) const WRITE: u32 = 1;
    pub(crate) const VOLATILE: u32 = 2;
    pub(crate) const INACTIVE: u32 = 3;
    pub(crate) const TLV_READ: u32 = 4;
    pub(crate) const TLV_WRITE: u32 = 5;
    pub(crate) const TLV_COMMAND: u32 = 6;
}

/// Control event reasons (`VIRTIO_SND_CTL_EVT_MASK_*`, bit numbers).
pub(crate) mod ctl_evt_mask {
    pub(crate) const VALUE: u32 = 0;
    pub(crate) const INFO: u32 = 1;
    pub(crate) const TLV: u32 = 2;
}

/// ALSA's control values (`include/uapi/sound/asound.h`).
pub(crate) mod sndrv_ctl {
    pub(crate) const TYPE_BOOLEAN: u32 = 1;
    pub(crate) const TYPE_INTEGER: u32 = 2;
    pub(crate) const TYPE_ENUMERATED: u32 = 3;
    pub(crate) const TYPE_BYTES: u32 = 4;
    pub(crate) const TYPE_IEC958: u32 = 5;
    pub(crate) const TYPE_INTEGER64: u32 = 6;

    pub(crate) const ACCESS_READ: u32 = 1 << 0;
    pub(crate) const ACCESS_WRITE: u32 = 1 << 1;
    pub(crate) const ACCESS_VOLATILE: u32 = 1 << 2;
    pub(crate) const ACCESS_TLV_READ: u32 = 1 << 4;
    pub(crate) const ACCESS_TLV_WRITE: u32 = 1 << 5;
    pub(crate) const ACCESS_TLV_COMMAND: u32 = 1 << 6;
    pub(crate) const ACCESS_INACTIVE: u32 = 1 << 8;
    pub(crate) const ACCESS_TLV_CALLBACK: u32 = 1 << 28;

    pub(crate) const EVENT_MASK_VALUE: u32 = 1 << 0;
    pub(crate) const EVENT_MASK_INFO: u32 = 1 << 1;
    pub(crate) const EVENT_MASK_TLV: u32 = 1 << 3;

    /// `SNDRV_CTL_ELEM_ID_NAME_MAXLEN`, with the NUL.
    pub(crate) const NAME_MAXLEN: usize = 44;
}

/// Size of `struct virtio_snd_ctl_hdr`.
pub(crate) const CTL_HDR_SIZE: usize = 8;
/// Size of the `name` field of `struct virtio_snd_ctl_info`.
pub(crate) const CTL_NAME_SIZE: usize = 44;
/// Size of `struct virtio_snd_ctl_info`, as the Linux uapi header lays it out on 64-bit
/// machines.
///
/// The spec's listing packs the `value` union right after `name`, at offset 68, for 92
/// bytes. C compilers align the union (it holds `le64` members) to 8 on 64-bit machines:
/// `include/uapi/linux/virtio_snd.h` puts it at offset 72, for 96 bytes, and so do the C
/// driver and devices built from that header (crosvm's `repr(C)` layout too). This driver
/// follows them, and asks for 96-byte entries in `VIRTIO_SND_R_CTL_INFO`.
pub(crate) const CTL_INFO_SIZE: usize = 96;
/// Offset of the `value` union in `struct virtio_snd_ctl_info` (see [`CTL_INFO_SIZE`]).
pub(crate) const CTL_INFO_VALUE_OFFSET: usize = 72;
/// Size of `struct virtio_snd_ctl_enum_item`.
pub(crate) const CTL_ENUM_ITEM_SIZE: usize = 64;
/// Size of `struct virtio_snd_ctl_value`.
pub(crate) const CTL_VALUE_SIZE: usize = 512;
/// Size of `struct virtio_snd_ctl_iec958` (same layout as ALSA's `struct snd_aes_iec958`).
pub(crate) const CTL_IEC958_SIZE: usize = 176;
/// Size of the header of `struct virtio_snd_ctl_tlv` (`type`, `length`).
pub(crate) const CTL_TLV_HDR_SIZE: usize = 8;
/// The largest TLV `value` that the driver may send (the spec's limit), in bytes.
pub(crate) const CTL_TLV_MAX_BYTES: u32 = 65536;
/// The most items that the driver accepts for an enumerated element.
///
/// The spec sets no limit; 1024 items of 64 bytes are 64 KiB, as much as ALSA allows for the
/// names of an enumerated user element.
pub(crate) const CTL_MAX_ENUM_ITEMS: u32 = 1024;

/// Name of a control element (`virtio_snd_ctl_info::name`).
pub(crate) type CtlName = Name<CTL_NAME_SIZE>;
/// Name of an option of an enumerated element (`struct virtio_snd_ctl_enum_item`).
pub(crate) type CtlEnumItem = Name<CTL_ENUM_ITEM_SIZE>;

/// A control element value type (`VIRTIO_SND_CTL_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CtlType {
    Boolean,
    Integer,
    Integer64,
    Enumerated,
    Bytes,
    Iec958,
}

impl CtlType {
    /// Parses a type; unknown types are refused.
    pub(crate) fn from_wire(v: u32) -> Result<Self, WireError> {
        Ok(match v {
            ctl_type::BOOLEAN => Self::Boolean,
            ctl_type::INTEGER => Self::Integer,
            ctl_type::INTEGER64 => Self::Integer64,
            ctl_type::ENUMERATED => Self::Enumerated,
            ctl_type::BYTES => Self::Bytes,
            ctl_type::IEC958 => Self::Iec958,
            _ => return Err(WireError::BadValue),
        })
    }

    /// The type on the wire.
    pub(crate) fn to_wire(self) -> u32 {
        match self {
            Self::Boolean => ctl_type::BOOLEAN,
            Self::Integer => ctl_type::INTEGER,
            Self::Integer64 => ctl_type::INTEGER64,
            Self::Enumerated => ctl_type::ENUMERATED,
            Self::Bytes => ctl_type::BYTES,
            Self::Iec958 => ctl_type::IEC958,
        }
    }

    /// The largest `count` of the type (the spec's limits, which are ALSA's).
    pub(crate) fn max_count(self) -> u32 {
        match self {
            Self::Boolean | Self::Integer | Self::Enumerated => 128,
            Self::Integer64 => 64,
            Self::Bytes => 512,
            Self::Iec958 => 1,
        }
    }

    /// Bytes of `struct virtio_snd_ctl_value` that one member takes.
    fn member_bytes(self) -> usize {
        match self {
            Self::Boolean | Self::Integer | Self::Enumerated => 4,
            Self::Integer64 => 8,
            Self::Bytes => 1,
            Self::Iec958 => CTL_IEC958_SIZE,
        }
    }

    /// ALSA's type (`SNDRV_CTL_ELEM_TYPE_*`).
    pub(crate) fn alsa(self) -> u32 {
        match self {
            Self::Boolean => sndrv_ctl::TYPE_BOOLEAN,
            Self::Integer => sndrv_ctl::TYPE_INTEGER,
            Self::Integer64 => sndrv_ctl::TYPE_INTEGER64,
            Self::Enumerated => sndrv_ctl::TYPE_ENUMERATED,
            Self::Bytes => sndrv_ctl::TYPE_BYTES,
            Self::Iec958 => sndrv_ctl::TYPE_IEC958,
        }
    }
}

/// The role of a control element (`virtio_snd_ctl_info::role`).
///
/// The spec encodes a defined role as `VIRTIO_SND_CTL_ROLE_* << 1 | VIRTIO_SND_D_*`. The uapi
/// header's comment reads the field as a plain `VIRTIO_SND_CTL_ROLE_*`, and the C driver
/// ignores it; so a value that does not decode is kept as `Unknown` rather than refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CtlRole {
    Undefined,
    Volume(Direction),
    Mute(Direction),
    Gain(Direction),
    Unknown(u32),
}

impl CtlRole {
    /// Decodes the role field.
    pub(crate) fn from_wire(v: u32) -> Self {
        if v == ctl_role::UNDEFINED {
            return Self::Undefined;
        }
        let direction = if v & 1 == 0 {
            Direction::Output
        } else {
            Direction::Input
        };
        match v >> 1 {
            ctl_role::VOLUME => Self::Volume(direction),
            ctl_role::MUTE => Self::Mute(direction),
            ctl_role::GAIN => Self::Gain(direction),
            _ => Self::Unknown(v),
        }
    }

    /// The role field on the wire.
    pub(crate) fn to_wire(self) -> u32 {
        let enc = |role: u32, d: Direction| (role << 1) | u32::from(direction_to_wire(d));
        match self {
            Self::Undefined => ctl_role::UNDEFINED,
            Self::Volume(d) => enc(ctl_role::VOLUME, d),
            Self::Mute(d) => enc(ctl_role::MUTE, d),
            Self::Gain(d) => enc(ctl_role::GAIN, d),
            Self::Unknown(v) => v,
        }
    }
}

/// The type of a control element's value, with its type-specific limits
/// (`virtio_snd_ctl_info::type` and `value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CtlValueInfo {
    Boolean,
    /// 32-bit values in `min..=max`; `step` 0 means any step.
    Integer {
        min: i32,
        max: i32,
        step: i32,
    },
    /// 64-bit values in `min..=max`; `step` 0 means any step.
    Integer64 {
        min: i64,
        max: i64,
        step: i64,
    },
    /// Indexes into `items` options.
    Enumerated {
        items: u32,
    },
    Bytes,
    Iec958,
}

impl CtlValueInfo {
    /// The value type.
    pub(crate) fn ty(&self) -> CtlType {
        match self {
            Self::Boolean => CtlType::Boolean,
            Self::Integer { .. } => CtlType::Integer,
            Self::Integer64 { .. } => CtlType::Integer64,
            Self::Enumerated { .. } => CtlType::Enumerated,
            Self::Bytes => CtlType::Bytes,
            Self::Iec958 => CtlType::Iec958,
        }
    }

    fn check(&self) -> Result<(), WireError> {
        let ok = match *self {
            Self::Integer { min, max, step } => min <= max && step >= 0,
            Self::Integer64 { min, max, step } => min <= max && step >= 0,
            Self::Enumerated { items } => (1..=CTL_MAX_ENUM_ITEMS).contains(&items),
            Self::Boolean | Self::Bytes | Self::Iec958 => true,
        };
        if ok {
            Ok(())
        } else {
            Err(WireError::BadValue)
        }
    }
}

/// One entry of a `VIRTIO_SND_R_CTL_INFO` answer (`struct virtio_snd_ctl_info`).
///
/// # Invariants
///
/// `1 <= count <= value.ty().max_count()`; `value` passed [`CtlValueInfo::check`]: integer
/// ranges are not empty, steps are not negative, and an enumerated element has
/// `1..=CTL_MAX_ENUM_ITEMS` items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CtlInfo {
    hda_fn_nid: u32,
    role: CtlRole,
    value: CtlValueInfo,
    access: u32,
    count: u32,
    index: u32,
    name: CtlName,
}

impl CtlInfo {
    /// Checks and assembles an entry (used by `parse`, tests and test devices).
    pub(crate) fn new(
        hda_fn_nid: u32,
        role: CtlRole,
        value: CtlValueInfo,
        access: u32,
        count: u32,
        index: u32,
        name: CtlName,
    ) -> Result<Self, WireError> {
        if count == 0 || count > value.ty().max_count() {
            return Err(WireError::BadValue);
        }
        value.check()?;
        // INVARIANT: `count` and `value` were checked above.
        Ok(Self {
            hda_fn_nid,
            role,
            value,
            access,
            count,
            index,
            name,
        })
    }

    /// Parses and checks one entry of [`CTL_INFO_SIZE`] bytes.
    ///
    /// Refused: an unknown type, a `count` of 0 or above the type's limit, a name that is
    /// not a non-empty NUL-terminated printable ASCII string, an empty integer range or a
    /// negative step, an enumerated element with no items or more than
    /// [`CTL_MAX_ENUM_ITEMS`]. Integers are signed, as ALSA's. Access bits that the spec
    /// does not define are kept but never reach ALSA ([`CtlInfo::alsa_access`]); the role is
    /// only decoded ([`CtlRole`]).
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        if b.len() < CTL_INFO_SIZE {
            return Err(WireError::Short);
        }
        let v = CTL_INFO_VALUE_OFFSET;
        let value = match CtlType::from_wire(le32(b, 8)?)? {
            CtlType::Boolean => CtlValueInfo::Boolean,
            CtlType::Integer => CtlValueInfo::Integer {
                min: le32(b, v)? as i32,
                max: le32(b, v + 4)? as i32,
                step: le32(b, v + 8)? as i32,
            },
            CtlType::Integer64 => CtlValueInfo::Integer64 {
                min: le64(b, v)? as i64,
                max: le64(b, v + 8)? as i64,
                step: le64(b, v + 16)? as i64,
            },
            CtlType::Enumerated => CtlValueInfo::Enumerated { items: le32(b, v)? },
            CtlType::Bytes => CtlValueInfo::Bytes,
            CtlType::Iec958 => CtlValueInfo::Iec958,
        };
        let name = CtlName::parse(b.get(24..24 + CTL_NAME_SIZE).ok_or(WireError::Short)?)?;
        Self::new(
            le32(b, 0)?,
            CtlRole::from_wire(le32(b, 4)?),
            value,
            le32(b, 12)?,
            le32(b, 16)?,
            le32(b, 20)?,
            name,
        )
    }

    /// Serialises the entry (used by tests and by test devices).
    pub(crate) fn to_bytes(&self) -> [u8; CTL_INFO_SIZE] {
        let mut out = [0u8; CTL_INFO_SIZE];
        put32(&mut out, 0, self.hda_fn_nid);
        put32(&mut out, 4, self.role.to_wire());
        put32(&mut out, 8, self.value.ty().to_wire());
        put32(&mut out, 12, self.access);
        put32(&mut out, 16, self.count);
        put32(&mut out, 20, self.index);
        out[24..24 + CTL_NAME_SIZE].copy_from_slice(&self.name.to_bytes());
        let v = CTL_INFO_VALUE_OFFSET;
        match self.value {
            CtlValueInfo::Integer { min, max, step } => {
                put32(&mut out, v, min as u32);
                put32(&mut out, v + 4, max as u32);
                put32(&mut out, v + 8, step as u32);
            }
            CtlValueInfo::Integer64 { min, max, step } => {
                put64(&mut out, v, min as u64);
                put64(&mut out, v + 8, max as u64);
                put64(&mut out, v + 16, step as u64);
            }
            CtlValueInfo::Enumerated { items } => put32(&mut out, v, items),
            CtlValueInfo::Boolean | CtlValueInfo::Bytes | CtlValueInfo::Iec958 => {}
        }
        out
    }

    pub(crate) fn hda_fn_nid(&self) -> u32 {
        self.hda_fn_nid
    }

    pub(crate) fn role(&self) -> CtlRole {
        self.role
    }

    /// The value type and its limits.
    pub(crate) fn value(&self) -> CtlValueInfo {
        self.value
    }

    pub(crate) fn ty(&self) -> CtlType {
        self.value.ty()
    }

    /// Access bits as the device sent them (`1 << VIRTIO_SND_CTL_ACCESS_*`).
    pub(crate) fn access(&self) -> u32 {
        self.access
    }

    /// Whether the element has access bit `bit` (`VIRTIO_SND_CTL_ACCESS_*`).
    pub(crate) fn has_access(&self, bit: u32) -> bool {
        1u32.checked_shl(bit)
            .is_some_and(|mask| self.access & mask != 0)
    }

    /// Number of members of the value, in `1..=ty().max_count()`.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// ALSA's index of the element, for names that are not unique.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    pub(crate) fn name(&self) -> &CtlName {
        &self.name
    }

    /// Number of options of an enumerated element, 0 for other types.
    pub(crate) fn enum_items(&self) -> u32 {
        match self.value {
            CtlValueInfo::Enumerated { items } => items,
            _ => 0,
        }
    }

    /// Size of the answer payload of `VIRTIO_SND_R_CTL_ENUM_ITEMS` (after the status), at
    /// most 64 KiB.
    pub(crate) fn enum_items_bytes(&self) -> usize {
        // `items <= CTL_MAX_ENUM_ITEMS` (type invariant): no overflow.
        self.enum_items() as usize * CTL_ENUM_ITEM_SIZE
    }

    /// Bytes of `struct virtio_snd_ctl_value` that the value occupies, at most
    /// [`CTL_VALUE_SIZE`].
    pub(crate) fn value_bytes(&self) -> usize {
        match self.ty() {
            CtlType::Iec958 => CTL_IEC958_SIZE,
            // `count <= max_count()` (type invariant): at most 512 bytes.
            ty => ty.member_bytes() * self.count as usize,
        }
    }

    /// ALSA's access bits (`SNDRV_CTL_ELEM_ACCESS_*`).
    ///
    /// Bits that the spec does not define are dropped. An element with any TLV access gets
    /// `SNDRV_CTL_ELEM_ACCESS_TLV_CALLBACK`: the driver serves TLV requests with a callback.
    pub(crate) fn alsa_access(&self) -> u32 {
        const MAP: [(u32, u32); 7] = [
            (ctl_access::READ, sndrv_ctl::ACCESS_READ),
            (ctl_access::WRITE, sndrv_ctl::ACCESS_WRITE),
            (ctl_access::VOLATILE, sndrv_ctl::ACCESS_VOLATILE),
            (ctl_access::INACTIVE, sndrv_ctl::ACCESS_INACTIVE),
            (ctl_access::TLV_READ, sndrv_ctl::ACCESS_TLV_READ),
            (ctl_access::TLV_WRITE, sndrv_ctl::ACCESS_TLV_WRITE),
            (ctl_access::TLV_COMMAND, sndrv_ctl::ACCESS_TLV_COMMAND),
        ];
        let mut alsa = 0;
        for (bit, flag) in MAP {
            if self.has_access(bit) {
                alsa |= flag;
            }
        }
        let tlv = sndrv_ctl::ACCESS_TLV_READ
            | sndrv_ctl::ACCESS_TLV_WRITE
            | sndrv_ctl::ACCESS_TLV_COMMAND;
        if alsa & tlv != 0 {
            alsa |= sndrv_ctl::ACCESS_TLV_CALLBACK;
        }
        alsa
    }

    /// Checks the first `count` members of a value against the element's limits.
    ///
    /// Booleans must be 0 or 1, integers within `min..=max` and on a step from `min` (if
    /// `step` is not 0), and enumerated values below `items`. For a value that the device read back, or one that
    /// the user wants to write.
    pub(crate) fn check_value(&self, value: &CtlValue) -> Result<(), WireError> {
        let ok = |good: bool| {
            if good {
                Ok(())
            } else {
                Err(WireError::BadValue)
            }
        };
        for i in 0..self.count as usize {
            match self.value {
                CtlValueInfo::Boolean => ok(value.integer(i).is_some_and(|v| v == 0 || v == 1))?,
                CtlValueInfo::Integer { min, max, step } => {
                    ok(value.integer(i).is_some_and(|v| {
                        (min..=max).contains(&v) && on_step(v.into(), min.into(), step.into())
                    }))?
                }
                CtlValueInfo::Integer64 { min, max, step } => ok(value
                    .integer64(i)
                    .is_some_and(|v| (min..=max).contains(&v) && on_step(v, min, step)))?,
                CtlValueInfo::Enumerated { items } => {
                    ok(value.enumerated(i).is_some_and(|v| v < items))?
                }
                CtlValueInfo::Bytes | CtlValueInfo::Iec958 => {}
            }
        }
        Ok(())
    }
}

/// Whether `v` (at least `min`) is a whole number of `step`s above `min` (any `v` if `step`
/// is 0).
fn on_step(v: i64, min: i64, step: i64) -> bool {
    // `v >= min`, so the distance fits in 64 unsigned bits (128-bit division is not
    // available in the kernel); `step` is not negative (type invariant of `CtlInfo`), and
    // `checked_rem` returns `None` for 0.
    (v.wrapping_sub(min) as u64)
        .checked_rem(step as u64)
        .is_none_or(|r| r == 0)
}

/// Parses entry `index` of a `VIRTIO_SND_R_CTL_ENUM_ITEMS` answer payload (after the
/// status).
pub(crate) fn ctl_enum_item(payload: &[u8], index: u32) -> Result<CtlEnumItem, WireError> {
    let at = (index as usize)
        .checked_mul(CTL_ENUM_ITEM_SIZE)
        .ok_or(WireError::Short)?;
    let end = at.checked_add(CTL_ENUM_ITEM_SIZE).ok_or(WireError::Short)?;
    CtlEnumItem::parse(payload.get(at..end).ok_or(WireError::Short)?)
}

/// A control request that carries no payload, or the header of one that does
/// (`struct virtio_snd_ctl_hdr`): `ENUM_ITEMS`, `READ`, `TLV_READ`, and the first part of
/// `WRITE`, `TLV_WRITE` and `TLV_COMMAND`.
pub(crate) fn ctl_hdr(code: u32, control_id: u32) -> [u8; CTL_HDR_SIZE] {
    let mut out = [0u8; CTL_HDR_SIZE];
    put32(&mut out, 0, code);
    put32(&mut out, 4, control_id);
    out
}

/// Size of a `VIRTIO_SND_R_CTL_WRITE` request.
pub(crate) const CTL_WRITE_SIZE: usize = CTL_HDR_SIZE + CTL_VALUE_SIZE;

/// The value of a control element (`struct virtio_snd_ctl_value`), as raw wire bytes.
///
/// Members are read and written by index; an index beyond the union gives `None` or
/// `false`, never a panic. The type and count that apply come from the element's
/// [`CtlInfo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CtlValue {
    raw: [u8; CTL_VALUE_SIZE],
}

impl Default for CtlValue {
    fn default() -> Self {
        Self {
            raw: [0; CTL_VALUE_SIZE],
        }
    }
}

/// The value of an IEC958 element (`struct virtio_snd_ctl_iec958`, ALSA's
/// `struct snd_aes_iec958`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Iec958 {
    pub(crate) status: [u8; 24],
    pub(crate) subcode: [u8; 147],
    pub(crate) pad: u8,
    pub(crate) dig_subframe: [u8; 4],
}

impl Default for Iec958 {
    fn default() -> Self {
        Self {
            status: [0; 24],
            subcode: [0; 147],
            pad: 0,
            dig_subframe: [0; 4],
        }
    }
}

impl CtlValue {
    /// Parses the value that the device wrote for `info`'s element (the payload of a
    /// `VIRTIO_SND_R_CTL_READ` answer, after the status).
    ///
    /// Only the bytes that the value occupies ([`CtlInfo::value_bytes`]) must be there;
    /// the rest of the union reads as zeros. The members are not checked against the
    /// element's limits: see [`CtlInfo::check_value`].
    pub(crate) fn parse(b: &[u8], info: &CtlInfo) -> Result<Self, WireError> {
        let n = info.value_bytes();
        let src = b.get(..n).ok_or(WireError::Short)?;
        let mut v = Self::default();
        v.raw
            .get_mut(..n)
            .ok_or(WireError::Short)?
            .copy_from_slice(src);
        Ok(v)
    }

    /// The union as raw bytes.
    pub(crate) fn as_bytes(&self) -> &[u8; CTL_VALUE_SIZE] {
        &self.raw
    }

    /// The union as raw bytes, for a `BYTES` element.
    pub(crate) fn as_bytes_mut(&mut self) -> &mut [u8; CTL_VALUE_SIZE] {
        &mut self.raw
    }

    fn get32(&self, i: usize) -> Option<u32> {
        le32(&self.raw, i.checked_mul(4)?).ok()
    }

    fn set32(&mut self, i: usize, v: u32) -> bool {
        let Some(at) = i.checked_mul(4) else {
            return false;
        };
        let Some(end) = at.checked_add(4) else {
            return false;
        };
        match self.raw.get_mut(at..end) {
            Some(dst) => {
                dst.copy_from_slice(&v.to_le_bytes());
                true
            }
            None => false,
        }
    }

    /// Member `i` of a `BOOLEAN` or `INTEGER` value.
    pub(crate) fn integer(&self, i: usize) -> Option<i32> {
        self.get32(i).map(|v| v as i32)
    }

    /// Sets member `i` of a `BOOLEAN` or `INTEGER` value; false if `i` is out of range.
    pub(crate) fn set_integer(&mut self, i: usize, v: i32) -> bool {
        self.set32(i, v as u32)
    }

    /// Member `i` of an `INTEGER64` value.
    pub(crate) fn integer64(&self, i: usize) -> Option<i64> {
        le64(&self.raw, i.checked_mul(8)?).ok().map(|v| v as i64)
    }

    /// Sets member `i` of an `INTEGER64` value; false if `i` is out of range.
    pub(crate) fn set_integer64(&mut self, i: usize, v: i64) -> bool {
        let Some(lo) = i.checked_mul(2) else {
            return false;
        };
        let Some(hi) = lo.checked_add(1) else {
            return false;
        };
        // Check both halves before writing either.
        hi < CTL_VALUE_SIZE / 4 && self.set32(lo, v as u32) && self.set32(hi, (v >> 32) as u32)
    }

    /// Member `i` (an option index) of an `ENUMERATED` value.
    pub(crate) fn enumerated(&self, i: usize) -> Option<u32> {
        self.get32(i)
    }

    /// Sets member `i` of an `ENUMERATED` value; false if `i` is out of range.
    pub(crate) fn set_enumerated(&mut self, i: usize, v: u32) -> bool {
        self.set32(i, v)
    }

    /// The value of an `IEC958` element.
    pub(crate) fn iec958(&self) -> Iec958 {
        let mut v = Iec958::default();
        v.status.copy_from_slice(&self.raw[0..24]);
        v.subcode.copy_from_slice(&self.raw[24..171]);
        v.pad = self.raw[171];
        v.dig_subframe.copy_from_slice(&self.raw[172..176]);
        v
    }

    /// Sets the value of an `IEC958` element.
    pub(crate) fn set_iec958(&mut self, v: &Iec958) {
        self.raw[0..24].copy_from_slice(&v.status);
        self.raw[24..171].copy_from_slice(&v.subcode);
        self.raw[171] = v.pad;
        self.raw[172..176].copy_from_slice(&v.dig_subframe);
    }

    /// A `VIRTIO_SND_R_CTL_WRITE` request that sets element `control_id` to this value.
    pub(crate) fn write_request(&self, control_id: u32) -> [u8; CTL_WRITE_SIZE] {
        let mut out = [0u8; CTL_WRITE_SIZE];
        out[..CTL_HDR_SIZE].copy_from_slice(&ctl_hdr(ctl_code::WRITE, control_id));
        out[CTL_HDR_SIZE..].copy_from_slice(&self.raw);
        out
    }
}

/// The header of control element metadata (`struct virtio_snd_ctl_tlv`, ALSA's TLV
/// format).
///
/// # Invariants
///
/// `length` is a multiple of 4 and at most [`CTL_TLV_MAX_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CtlTlv {
    ty: u32,
    length: u32,
}

impl CtlTlv {
    /// A header for `length` bytes of metadata of type `ty`.
    ///
    /// Fails if `length` is not a multiple of 4 or above [`CTL_TLV_MAX_BYTES`].
    pub(crate) fn new(ty: u32, length: u32) -> Result<Self, WireError> {
        if length % 4 != 0 || length > CTL_TLV_MAX_BYTES {
            return Err(WireError::BadValue);
        }
        // INVARIANT: checked above.
        Ok(Self { ty, length })
    }

    /// Parses the header at the start of `b` (the payload of a `VIRTIO_SND_R_CTL_TLV_READ`
    /// answer, after the status).
    ///
    /// The value may be cut short: the spec lets the device write as much as fits. Use
    /// [`CtlTlv::value`] to get the part that is there.
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        Self::new(le32(b, 0)?, le32(b, 4)?)
    }

    /// Serialises the header (the first part of a `TLV_WRITE` or `TLV_COMMAND` payload).
    pub(crate) fn to_bytes(&self) -> [u8; CTL_TLV_HDR_SIZE] {
        let mut out = [0u8; CTL_TLV_HDR_SIZE];
        put32(&mut out, 0, self.ty);
        put32(&mut out, 4, self.length);
        out
    }

    /// Metadata type (`SNDRV_CTL_TLVT_*` or the device's own).
    pub(crate) fn ty(&self) -> u32 {
        self.ty
    }

    /// Length of the value in bytes, a multiple of 4.
    pub(crate) fn length(&self) -> u32 {
        self.length
    }

    /// The whole value, which follows the header in `b`; `Short` if `b` holds less.
    pub(crate) fn value<'a>(&self, b: &'a [u8]) -> Result<&'a [u8], WireError> {
        // `length <= CTL_TLV_MAX_BYTES` (type invariant): no overflow.
        let end = CTL_TLV_HDR_SIZE + self.length as usize;
        b.get(CTL_TLV_HDR_SIZE..end).ok_or(WireError::Short)
    }
}

/// A `VIRTIO_SND_EVT_CTL_NOTIFY` event (`struct virtio_snd_ctl_event`).
///
/// [`super::wire::Event::CtlNotify`] holds the event's last four bytes, which this
/// struct splits into the element and the reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CtlEvent {
    pub(crate) control_id: u16,
    /// `1 << VIRTIO_SND_CTL_EVT_MASK_*`.
    pub(crate) mask: u16,
}

impl CtlEvent {
    /// The mask bits that the spec defines.
    const KNOWN_MASK: u16 =
        (1 << ctl_evt_mask::VALUE) | (1 << ctl_evt_mask::INFO) | (1 << ctl_evt_mask::TLV);

    /// Splits the data of a `CTL_NOTIFY` event; undefined reasons are refused.
    pub(crate) fn from_data(data: u32) -> Result<Self, WireError> {
        let ev = Self {
            control_id: data as u16,
            mask: (data >> 16) as u16,
        };
        if ev.mask & !Self::KNOWN_MASK != 0 {
            return Err(WireError::BadValue);
        }
        Ok(ev)
    }

    /// The event data (`le32` at offset 4 of the event), for tests and test devices.
    pub(crate) fn to_data(&self) -> u32 {
        u32::from(self.control_id) | (u32::from(self.mask) << 16)
    }

    /// ALSA's event mask (`SNDRV_CTL_EVENT_MASK_*`) for `snd_ctl_notify()`.
    pub(crate) fn alsa_mask(&self) -> u32 {
        let mut alsa = 0;
        if self.mask & (1 << ctl_evt_mask::VALUE) != 0 {
            alsa |= sndrv_ctl::EVENT_MASK_VALUE;
        }
        if self.mask & (1 << ctl_evt_mask::INFO) != 0 {
            alsa |= sndrv_ctl::EVENT_MASK_INFO;
        }
        if self.mask & (1 << ctl_evt_mask::TLV) != 0 {
            alsa |= sndrv_ctl::EVENT_MASK_TLV;
        }
        alsa
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length below `size` is refused as short.
    fn all_short<T: core::fmt::Debug>(
        good: &[u8],
        size: usize,
        parse: impl Fn(&[u8]) -> Result<T, WireError>,
    ) {
        for n in 0..size {
            assert_eq!(parse(&good[..n]).err(), Some(WireError::Short), "{n} bytes");
        }
    }

    // Pin default configurations: connectivity << 30 | location << 24 | device << 20.
    fn pin(conn: u32, loc: u32, device: u32) -> u32 {
        (conn << 30) | (loc << 24) | (device << 20)
    }

    fn sample_jack() -> JackInfo {
        JackInfo {
            hda_fn_nid: 3,
            features: 1 << VIRTIO_SND_JACK_F_REMAP,
            hda_reg_defconf: pin(0, 1, defcfg::HP_OUT) | 0x1f,
            hda_reg_caps: 0x10,
            connected: true,
        }
    }

    #[test]
    fn jack_info_layout_and_round_trip() {
        let j = sample_jack();
        let b = j.to_bytes();
        assert_eq!(&b[0..4], &[3, 0, 0, 0]);
        assert_eq!(&b[4..8], &[1, 0, 0, 0]);
        assert_eq!(&b[8..12], &0x0120_001fu32.to_le_bytes());
        assert_eq!(&b[12..16], &[0x10, 0, 0, 0]);
        assert_eq!(&b[16..24], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(JackInfo::parse(&b), Ok(j));
        assert!(j.can_remap());
        assert_eq!(j.jack_type(), snd_jack::HEADPHONE);
        assert_eq!(j.report(), snd_jack::HEADPHONE);
        assert_eq!(j.name(), c"Headphone");
        // Longer buffers (the next entry) are fine.
        let mut long = [0xffu8; 40];
        long[..24].copy_from_slice(&b);
        assert_eq!(JackInfo::parse(&long), Ok(j));
    }

    #[test]
    fn jack_info_boundaries() {
        let max = JackInfo {
            hda_fn_nid: u32::MAX,
            features: u32::MAX,
            hda_reg_defconf: u32::MAX,
            hda_reg_caps: u32::MAX,
            connected: false,
        };
        assert_eq!(JackInfo::parse(&max.to_bytes()), Ok(max));
        assert!(max.can_remap());
        assert_eq!(max.report(), 0);
        let mut b = max.to_bytes();
        b[17..24].fill(0xaa); // padding is not checked
        assert_eq!(JackInfo::parse(&b), Ok(max));
    }

    #[test]
    fn jack_info_refuses_short_and_bad_entries() {
        let good = sample_jack().to_bytes();
        all_short(&good, JACK_INFO_SIZE, JackInfo::parse);
        for c in 2..=255u8 {
            let mut bad = good;
            bad[16] = c;
            assert_eq!(JackInfo::parse(&bad), Err(WireError::BadValue));
        }
    }

    #[test]
    fn jack_remap_layout() {
        let r = JackRemap {
            jack_id: 2,
            association: 5,
            sequence: 15,
        };
        let b = r.to_bytes();
        assert_eq!(b, [2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 15, 0, 0, 0]);
        assert_eq!(JackRemap::parse(&b), Ok(r));
        all_short(&b, JACK_REMAP_SIZE, JackRemap::parse);
        let mut other = b;
        other[0] = 1; // JACK_INFO
        assert_eq!(JackRemap::parse(&other), Err(WireError::BadValue));
    }

    #[test]
    fn jack_types_follow_the_c_driver() {
        use defcfg as d;
        let ty = |dev| jack_type(pin(0, 1, dev));
        assert_eq!(ty(d::LINE_OUT), snd_jack::LINEOUT);
        assert_eq!(ty(d::SPEAKER), snd_jack::LINEOUT);
        assert_eq!(ty(d::HP_OUT), snd_jack::HEADPHONE);
        assert_eq!(ty(d::SPDIF_OUT), snd_jack::AVOUT);
        assert_eq!(ty(d::DIG_OTHER_OUT), snd_jack::AVOUT);
        assert_eq!(ty(d::MIC_IN), snd_jack::MICROPHONE);
        for dev in [
            d::CD,
            d::MODEM_LINE_SIDE,
            d::MODEM_HAND_SIDE,
            d::LINE_IN,
            d::AUX,
            d::TELEPHONY,
            d::SPDIF_IN,
            d::DIG_OTHER_IN,
            0xe,
            d::OTHER,
        ] {
            assert_eq!(ty(dev), snd_jack::LINEIN, "device {dev}");
        }
        // Only the device field counts.
        assert_eq!(
            jack_type(!(0xf << 20) | (d::HP_OUT << 20)),
            snd_jack::HEADPHONE
        );
        assert_eq!(snd_jack::HEADSET, 3);
        assert_eq!(snd_jack::AVOUT, 0x14);
    }

    #[test]
    fn jack_names_follow_hda_conventions() {
        use defcfg as d;
        let jack = d::PORT_COMPLEX;
        let name = |conn, loc, dev| jack_name(pin(conn, loc, dev)).to_str().unwrap_or("?");
        assert_eq!(name(jack, d::LOC_REAR, d::HP_OUT), "Headphone");
        assert_eq!(name(jack, d::LOC_FRONT, d::HP_OUT), "Front Headphone");
        assert_eq!(name(jack, d::LOC_SEPARATE | 1, d::HP_OUT), "Dock Headphone");
        assert_eq!(name(jack, d::LOC_REAR, d::LINE_OUT), "Line Out");
        assert_eq!(name(jack, d::LOC_FRONT, d::LINE_OUT), "Front Line Out");
        assert_eq!(name(jack, d::LOC_SEPARATE, d::LINE_OUT), "Dock Line Out");
        assert_eq!(name(d::PORT_FIXED, 0, d::LINE_OUT), "Speaker");
        assert_eq!(name(jack, d::LOC_INTERNAL, d::LINE_OUT), "Speaker");
        assert_eq!(name(d::PORT_FIXED, 0, d::SPEAKER), "Speaker");
        assert_eq!(name(jack, d::LOC_FRONT, d::SPEAKER), "Front Speaker");
        assert_eq!(name(jack, d::LOC_SEPARATE, d::SPEAKER), "Dock Speaker");
        assert_eq!(name(jack, 0, d::MIC_IN), "Mic");
        assert_eq!(name(jack, d::LOC_REAR, d::MIC_IN), "Mic");
        assert_eq!(name(jack, d::LOC_FRONT, d::MIC_IN), "Front Mic");
        assert_eq!(name(d::PORT_BOTH, d::LOC_FRONT, d::MIC_IN), "Internal Mic");
        assert_eq!(name(jack, d::LOC_INTERNAL, d::MIC_IN), "Internal Mic");
        assert_eq!(name(jack, d::LOC_SEPARATE | 2, d::MIC_IN), "Dock Mic");
        assert_eq!(name(jack, d::LOC_REAR, d::LINE_IN), "Line");
        assert_eq!(name(jack, d::LOC_SEPARATE, d::LINE_IN), "Dock Line");
        assert_eq!(name(jack, d::LOC_HDMI, d::DIG_OTHER_OUT), "HDMI Out");
        assert_eq!(name(jack, d::LOC_HDMI, d::SPDIF_OUT), "HDMI Out");
        assert_eq!(name(jack, d::LOC_REAR, d::SPDIF_OUT), "SPDIF Out");
        assert_eq!(name(jack, 0, d::CD), "CD");
        assert_eq!(name(jack, 0, d::AUX), "Aux");
        assert_eq!(name(jack, 0, d::SPDIF_IN), "SPDIF In");
        assert_eq!(name(jack, 0, d::DIG_OTHER_IN), "Digital In");
        assert_eq!(name(jack, 0, d::TELEPHONY), "Misc");
        assert_eq!(name(jack, 0, d::OTHER), "Misc");
        // An unconnected port still gets its plain name.
        assert_eq!(name(d::PORT_NONE, d::LOC_FRONT, d::MIC_IN), "Mic");
        // Every name fits ALSA's control name with " Jack" appended.
        for defconf in (0..=u32::MAX).step_by(1 << 20) {
            let n = jack_name(defconf).to_bytes().len();
            assert!(n > 0 && n + " Jack".len() < sndrv_ctl::NAME_MAXLEN);
        }
    }

    #[test]
    fn defconf_fields() {
        // Connectivity 0b10, location 0b01_0010, device 0xa, 0x12 (connection, colour),
        // misc 0x3, association 0x4, sequence 0x5.
        let v = (0b10 << 30) | (0b01_0010 << 24) | (0xa << 20) | 0x1_2345;
        assert_eq!(defcfg::port_connectivity(v), 0b10);
        assert_eq!(defcfg::location(v), 0b010010);
        assert_eq!(defcfg::device(v), 0b1010);
        assert_eq!(defcfg::association(v), 0b0100);
        assert_eq!(defcfg::sequence(v), 0b0101);
    }

    fn stereo() -> ChmapInfo {
        ChmapInfo::new(0, Direction::Output, &[chmap::FL, chmap::FR]).unwrap()
    }

    #[test]
    fn chmap_info_layout_and_round_trip() {
        let c = stereo();
        let b = c.to_bytes();
        assert_eq!(&b[..8], &[0, 0, 0, 0, 0, 2, 3, 4]);
        assert!(b[8..].iter().all(|&x| x == 0));
        assert_eq!(ChmapInfo::parse(&b), Ok(c));
        assert_eq!(c.positions(), &[chmap::FL, chmap::FR]);
        assert_eq!(
            (c.hda_fn_nid(), c.direction(), c.channels()),
            (0, Direction::Output, 2)
        );
        let mut tail = b;
        tail[10] = 0x99; // beyond `channels`: kept, but not a position
        let p = ChmapInfo::parse(&tail).unwrap();
        assert_eq!(p.positions(), &[chmap::FL, chmap::FR]);
        assert_eq!(ChmapInfo::parse(&p.to_bytes()), Ok(p));
    }

    #[test]
    fn chmap_info_boundaries() {
        let one = ChmapInfo::new(u32::MAX, Direction::Input, &[chmap::MONO]).unwrap();
        assert_eq!(ChmapInfo::parse(&one.to_bytes()), Ok(one));
        let all: [u8; 18] = core::array::from_fn(|i| i as u8 + chmap::FL);
        let full = ChmapInfo::new(1, Direction::Output, &all).unwrap();
        assert_eq!(ChmapInfo::parse(&full.to_bytes()), Ok(full));
        assert_eq!(full.positions(), &all);
        assert_eq!(
            ChmapInfo::new(1, Direction::Output, &[]),
            Err(WireError::BadValue)
        );
        assert_eq!(
            ChmapInfo::new(1, Direction::Output, &[0; 19]),
            Err(WireError::BadValue)
        );
        assert_eq!(
            ChmapInfo::new(1, Direction::Output, &[0; 300]),
            Err(WireError::BadValue)
        );
    }

    #[test]
    fn chmap_info_refuses_short_and_bad_entries() {
        let good = stereo().to_bytes();
        all_short(&good, CHMAP_INFO_SIZE, ChmapInfo::parse);
        for d in 2..=255u8 {
            let mut bad = good;
            bad[4] = d;
            assert_eq!(ChmapInfo::parse(&bad), Err(WireError::BadValue));
        }
        for ch in [0u8, 19, 20, 255] {
            let mut bad = good;
            bad[5] = ch;
            assert_eq!(ChmapInfo::parse(&bad), Err(WireError::BadValue), "{ch}");
        }
        let mut max = good;
        max[5] = 18;
        assert!(ChmapInfo::parse(&max).is_ok());
    }

    #[test]
    fn every_position_maps_to_alsa() {
        // The spec's and ALSA's enums are in the same order today; check each by name
        // anyway, so that a change on either side shows.
        let pairs = [
            (chmap::NONE, sndrv_chmap::UNKNOWN),
            (chmap::NA, sndrv_chmap::NA),
            (chmap::MONO, sndrv_chmap::MONO),
            (chmap::FL, sndrv_chmap::FL),
            (chmap::FR, sndrv_chmap::FR),
            (chmap::RL, sndrv_chmap::RL),
            (chmap::RR, sndrv_chmap::RR),
            (chmap::FC, sndrv_chmap::FC),
            (chmap::LFE, sndrv_chmap::LFE),
            (chmap::SL, sndrv_chmap::SL),
            (chmap::SR, sndrv_chmap::SR),
            (chmap::RC, sndrv_chmap::RC),
            (chmap::FLC, sndrv_chmap::FLC),
            (chmap::FRC, sndrv_chmap::FRC),
            (chmap::RLC, sndrv_chmap::RLC),
            (chmap::RRC, sndrv_chmap::RRC),
            (chmap::FLW, sndrv_chmap::FLW),
            (chmap::FRW, sndrv_chmap::FRW),
            (chmap::FLH, sndrv_chmap::FLH),
            (chmap::FCH, sndrv_chmap::FCH),
            (chmap::FRH, sndrv_chmap::FRH),
            (chmap::TC, sndrv_chmap::TC),
            (chmap::TFL, sndrv_chmap::TFL),
            (chmap::TFR, sndrv_chmap::TFR),
            (chmap::TFC, sndrv_chmap::TFC),
            (chmap::TRL, sndrv_chmap::TRL),
            (chmap::TRR, sndrv_chmap::TRR),
            (chmap::TRC, sndrv_chmap::TRC),
            (chmap::TFLC, sndrv_chmap::TFLC),
            (chmap::TFRC, sndrv_chmap::TFRC),
            (chmap::TSL, sndrv_chmap::TSL),
            (chmap::TSR, sndrv_chmap::TSR),
            (chmap::LLFE, sndrv_chmap::LLFE),
            (chmap::RLFE, sndrv_chmap::RLFE),
            (chmap::BC, sndrv_chmap::BC),
            (chmap::BLC, sndrv_chmap::BLC),
            (chmap::BRC, sndrv_chmap::BRC),
        ];
        for (i, (v, a)) in pairs.into_iter().enumerate() {
            assert_eq!(usize::from(v), i);
            assert_eq!(alsa_position(v), Some(a));
        }
        assert_eq!(sndrv_chmap::LAST, 36);
        for v in 37..=255u8 {
            assert_eq!(alsa_position(v), None);
        }
    }

    #[test]
    fn chmap_to_alsa() {
        let c = ChmapInfo::new(0, Direction::Output, &[chmap::FL, chmap::FR, 200]).unwrap();
        let a = c.to_alsa().unwrap();
        assert_eq!(a.channels, 3);
        assert_eq!(&a.map[..4], &[3, 4, 0, 0]);
        let fifteen = ChmapInfo::new(0, Direction::Output, &[chmap::BRC; 15]).unwrap();
        assert_eq!(fifteen.to_alsa().map(|a| a.map), Some([36; 15]));
        let sixteen = ChmapInfo::new(0, Direction::Output, &[chmap::FL; 16]).unwrap();
        assert_eq!(sixteen.to_alsa(), None);
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(validate_name(b"Master\0"), Ok(6));
        assert_eq!(validate_name(b"A\0\xff\xff"), Ok(1));
        assert_eq!(validate_name(b" ~\0"), Ok(2));
        assert_eq!(validate_name(b"\0Master"), Err(WireError::BadValue));
        assert_eq!(validate_name(b"Master"), Err(WireError::BadValue));
        assert_eq!(validate_name(b""), Err(WireError::BadValue));
        assert_eq!(validate_name(b"Tab\there\0"), Err(WireError::BadValue));
        assert_eq!(validate_name(b"Del\x7f\0"), Err(WireError::BadValue));
        assert_eq!(validate_name(b"caf\xc3\xa9\0"), Err(WireError::BadValue));
        assert_eq!(validate_name(b"\x1f\0"), Err(WireError::BadValue));

        let n = CtlName::new("PCM Playback Volume").unwrap();
        assert_eq!(n.as_str(), "PCM Playback Volume");
        assert_eq!(n.as_cstr(), c"PCM Playback Volume");
        assert_eq!(n.as_bytes().len(), 19);
        assert_eq!(CtlName::parse(&n.to_bytes()), Ok(n));
        // 43 characters fit 44 bytes with the NUL; 44 do not.
        let longest = "x".repeat(43);
        assert_eq!(CtlName::new(&longest).map(|n| n.as_bytes().len()), Ok(43));
        assert_eq!(CtlName::new(&"x".repeat(44)), Err(WireError::BadValue));
        assert_eq!(CtlName::new(""), Err(WireError::BadValue));
        assert_eq!(CtlName::new("a\0b"), Err(WireError::BadValue));
        assert_eq!(
            CtlEnumItem::new(&"y".repeat(63)).map(|n| n.as_bytes().len()),
            Ok(63)
        );
        assert_eq!(CtlEnumItem::new(&"y".repeat(64)), Err(WireError::BadValue));
        // A field shorter than the name size is short.
        assert_eq!(CtlName::parse(b"abc\0"), Err(WireError::Short));
        // Garbage after the NUL is dropped, so that equal names compare equal.
        let mut field = [0x55u8; 44];
        field[..3].copy_from_slice(b"ab\0");
        assert_eq!(CtlName::parse(&field), CtlName::new("ab"));
    }

    fn volume() -> CtlInfo {
        CtlInfo::new(
            0,
            CtlRole::Volume(Direction::Output),
            CtlValueInfo::Integer {
                min: -100,
                max: 0,
                step: 1,
            },
            (1 << ctl_access::READ) | (1 << ctl_access::WRITE) | (1 << ctl_access::TLV_READ),
            2,
            0,
            CtlName::new("Master Playback Volume").unwrap(),
        )
        .unwrap()
    }

    fn ctl(value: CtlValueInfo, count: u32) -> Result<CtlInfo, WireError> {
        CtlInfo::new(
            7,
            CtlRole::Undefined,
            value,
            1,
            count,
            3,
            CtlName::new("Test").unwrap(),
        )
    }

    #[test]
    fn ctl_info_layout_and_round_trip() {
        let c = volume();
        let b = c.to_bytes();
        assert_eq!(&b[0..4], &[0, 0, 0, 0]);
        assert_eq!(&b[4..8], &[2, 0, 0, 0]); // VOLUME << 1 | OUTPUT
        assert_eq!(&b[8..12], &[1, 0, 0, 0]); // INTEGER
        assert_eq!(&b[12..16], &[0x13, 0, 0, 0]);
        assert_eq!(&b[16..20], &[2, 0, 0, 0]);
        assert_eq!(&b[20..24], &[0, 0, 0, 0]);
        assert_eq!(&b[24..47], b"Master Playback Volume\0");
        assert_eq!(&b[68..72], &[0, 0, 0, 0]); // alignment padding
        assert_eq!(&b[72..76], &(-100i32).to_le_bytes());
        assert_eq!(&b[76..80], &[0, 0, 0, 0]);
        assert_eq!(&b[80..84], &[1, 0, 0, 0]);
        assert_eq!(CtlInfo::parse(&b), Ok(c));
        assert_eq!(c.value_bytes(), 8);
        assert_eq!(c.ty().alsa(), sndrv_ctl::TYPE_INTEGER);
        assert_eq!(
            c.alsa_access(),
            sndrv_ctl::ACCESS_READ
                | sndrv_ctl::ACCESS_WRITE
                | sndrv_ctl::ACCESS_TLV_READ
                | sndrv_ctl::ACCESS_TLV_CALLBACK
        );
        assert!(c.has_access(ctl_access::WRITE) && !c.has_access(ctl_access::VOLATILE));
        assert!(!c.has_access(32));

        let e = ctl(CtlValueInfo::Enumerated { items: 3 }, 1).unwrap();
        let b = e.to_bytes();
        assert_eq!(&b[8..12], &[3, 0, 0, 0]);
        assert_eq!(&b[72..76], &[3, 0, 0, 0]);
        assert_eq!(CtlInfo::parse(&b), Ok(e));
        assert_eq!((e.enum_items(), e.enum_items_bytes()), (3, 192));

        let w = ctl(
            CtlValueInfo::Integer64 {
                min: i64::MIN,
                max: i64::MAX,
                step: 0x1_0000_0001,
            },
            64,
        )
        .unwrap();
        let b = w.to_bytes();
        assert_eq!(&b[72..80], &i64::MIN.to_le_bytes());
        assert_eq!(&b[80..88], &i64::MAX.to_le_bytes());
        assert_eq!(&b[88..96], &0x1_0000_0001u64.to_le_bytes());
        assert_eq!(CtlInfo::parse(&b), Ok(w));
        assert_eq!(w.value_bytes(), 512);
    }

    #[test]
    fn ctl_info_counts_at_their_limits() {
        let types = [
            (CtlValueInfo::Boolean, 128, 512),
            (
                CtlValueInfo::Integer {
                    min: 0,
                    max: 1,
                    step: 0,
                },
                128,
                512,
            ),
            (
                CtlValueInfo::Integer64 {
                    min: 0,
                    max: 1,
                    step: 0,
                },
                64,
                512,
            ),
            (CtlValueInfo::Enumerated { items: 1 }, 128, 512),
            (CtlValueInfo::Bytes, 512, 512),
            (CtlValueInfo::Iec958, 1, 176),
        ];
        for (value, max, bytes) in types {
            let c = ctl(value, max).unwrap();
            assert_eq!(CtlInfo::parse(&c.to_bytes()), Ok(c));
            assert_eq!(c.value_bytes(), bytes);
            assert!(c.value_bytes() <= CTL_VALUE_SIZE);
            assert_eq!(c.ty().max_count(), max);
            assert_eq!(CtlType::from_wire(c.ty().to_wire()), Ok(c.ty()));
            assert_eq!(ctl(value, 1).map(|c| c.count()), Ok(1));
            assert_eq!(ctl(value, 0), Err(WireError::BadValue));
            assert_eq!(ctl(value, max + 1), Err(WireError::BadValue));
            assert_eq!(ctl(value, u32::MAX), Err(WireError::BadValue));
            let mut b = c.to_bytes();
            b[16..20].copy_from_slice(&(max + 1).to_le_bytes());
            assert_eq!(CtlInfo::parse(&b), Err(WireError::BadValue));
        }
    }

    #[test]
    fn ctl_info_value_limits() {
        use CtlValueInfo as V;
        let i = |min, max, step| ctl(V::Integer { min, max, step }, 1).map(|_| ());
        assert_eq!(i(5, 5, 0), Ok(()));
        assert_eq!(i(i32::MIN, i32::MAX, i32::MAX), Ok(()));
        assert_eq!(i(6, 5, 0), Err(WireError::BadValue));
        assert_eq!(i(0, 5, -1), Err(WireError::BadValue));
        let l = |min, max, step| ctl(V::Integer64 { min, max, step }, 1).map(|_| ());
        assert_eq!(l(i64::MIN, i64::MIN, 0), Ok(()));
        assert_eq!(l(1, 0, 0), Err(WireError::BadValue));
        assert_eq!(l(0, 1, i64::MIN), Err(WireError::BadValue));
        let e = |items| ctl(V::Enumerated { items }, 1).map(|_| ());
        assert_eq!(e(1), Ok(()));
        assert_eq!(e(CTL_MAX_ENUM_ITEMS), Ok(()));
        assert_eq!(e(0), Err(WireError::BadValue));
        assert_eq!(e(CTL_MAX_ENUM_ITEMS + 1), Err(WireError::BadValue));
        assert_eq!(e(u32::MAX), Err(WireError::BadValue));
        assert_eq!(
            ctl(
                V::Enumerated {
                    items: CTL_MAX_ENUM_ITEMS
                },
                1
            )
            .map(|c| c.enum_items_bytes()),
            Ok(65536)
        );
    }

    #[test]
    fn ctl_info_refuses_short_and_bad_entries() {
        let good = volume().to_bytes();
        all_short(&good, CTL_INFO_SIZE, CtlInfo::parse);
        for ty in [6u32, 7, 0x100, u32::MAX] {
            let mut bad = good;
            bad[8..12].copy_from_slice(&ty.to_le_bytes());
            assert_eq!(CtlInfo::parse(&bad), Err(WireError::BadValue));
        }
        let mut no_nul = good;
        no_nul[24..68].fill(b'a');
        assert_eq!(CtlInfo::parse(&no_nul), Err(WireError::BadValue));
        let mut empty = good;
        empty[24] = 0;
        assert_eq!(CtlInfo::parse(&empty), Err(WireError::BadValue));
        let mut control_char = good;
        control_char[25] = b'\n';
        assert_eq!(CtlInfo::parse(&control_char), Err(WireError::BadValue));
        let mut inverted = good;
        inverted[72..76].copy_from_slice(&1i32.to_le_bytes());
        assert_eq!(CtlInfo::parse(&inverted), Err(WireError::BadValue));
        // Unused union bytes and the alignment padding are ignored.
        let mut boolean = ctl(CtlValueInfo::Boolean, 1).unwrap().to_bytes();
        boolean[68..96].fill(0xee);
        assert!(CtlInfo::parse(&boolean).is_ok());
    }

    #[test]
    fn ctl_roles() {
        use Direction::{Input, Output};
        assert_eq!(CtlRole::from_wire(0), CtlRole::Undefined);
        assert_eq!(CtlRole::from_wire(2), CtlRole::Volume(Output));
        assert_eq!(CtlRole::from_wire(3), CtlRole::Volume(Input));
        assert_eq!(CtlRole::from_wire(4), CtlRole::Mute(Output));
        assert_eq!(CtlRole::from_wire(5), CtlRole::Mute(Input));
        assert_eq!(CtlRole::from_wire(6), CtlRole::Gain(Output));
        assert_eq!(CtlRole::from_wire(7), CtlRole::Gain(Input));
        for v in [1u32, 8, 9, u32::MAX] {
            assert_eq!(CtlRole::from_wire(v), CtlRole::Unknown(v));
        }
        for v in 0..16u32 {
            assert_eq!(CtlRole::from_wire(v).to_wire(), v);
        }
        // An unknown role does not make the element unusable.
        let mut b = volume().to_bytes();
        b[4..8].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(
            CtlInfo::parse(&b).map(|c| c.role()),
            Ok(CtlRole::Unknown(1))
        );
    }

    #[test]
    fn ctl_access_to_alsa() {
        let with = |access| {
            CtlInfo::new(
                0,
                CtlRole::Undefined,
                CtlValueInfo::Boolean,
                access,
                1,
                0,
                CtlName::new("x").unwrap(),
            )
            .unwrap()
            .alsa_access()
        };
        assert_eq!(with(0), 0);
        assert_eq!(with(1 << ctl_access::VOLATILE), sndrv_ctl::ACCESS_VOLATILE);
        assert_eq!(with(1 << ctl_access::INACTIVE), sndrv_ctl::ACCESS_INACTIVE);
        assert_eq!(
            with(1 << ctl_access::TLV_COMMAND),
            sndrv_ctl::ACCESS_TLV_COMMAND | sndrv_ctl::ACCESS_TLV_CALLBACK
        );
        assert_eq!(
            with(1 << ctl_access::TLV_WRITE),
            sndrv_ctl::ACCESS_TLV_WRITE | sndrv_ctl::ACCESS_TLV_CALLBACK
        );
        assert_eq!(with(0x7f), 0x1000_0177);
        // Undefined bits are dropped.
        assert_eq!(with(!0x7f), 0);
    }

    #[test]
    fn ctl_types_to_alsa() {
        let all = [
            (CtlType::Boolean, 1),
            (CtlType::Integer, 2),
            (CtlType::Enumerated, 3),
            (CtlType::Bytes, 4),
            (CtlType::Iec958, 5),
            (CtlType::Integer64, 6),
        ];
        for (t, alsa) in all {
            assert_eq!(t.alsa(), alsa);
        }
        for v in 0..6 {
            assert_eq!(CtlType::from_wire(v).map(CtlType::to_wire), Ok(v));
        }
    }

    #[test]
    fn enum_items() {
        let mut payload = [0u8; 3 * 64];
        payload[..4].copy_from_slice(b"Off\0");
        payload[64..67].copy_from_slice(b"On\0");
        payload[128..191].fill(b'z');
        assert_eq!(
            ctl_enum_item(&payload, 0).map(|n| n.as_bytes().len()),
            Ok(3)
        );
        assert_eq!(ctl_enum_item(&payload, 1), CtlEnumItem::new("On"));
        // The third item fills its field to the last byte, which is its NUL.
        assert_eq!(
            ctl_enum_item(&payload, 2).map(|n| n.as_bytes().len()),
            Ok(63)
        );
        assert_eq!(ctl_enum_item(&payload, 3), Err(WireError::Short));
        assert_eq!(ctl_enum_item(&payload, u32::MAX), Err(WireError::Short));
        assert_eq!(ctl_enum_item(&payload[..191], 2), Err(WireError::Short));
        payload[191] = b'z';
        assert_eq!(ctl_enum_item(&payload, 2), Err(WireError::BadValue));
        payload[64] = 0;
        assert_eq!(ctl_enum_item(&payload, 1), Err(WireError::BadValue));
    }

    #[test]
    fn ctl_requests() {
        assert_eq!(ctl_hdr(ctl_code::READ, 9), [0x02, 0x03, 0, 0, 9, 0, 0, 0]);
        assert_eq!(ctl_code::INFO, 0x0300);
        assert_eq!(ctl_code::ENUM_ITEMS, 0x0301);
        assert_eq!(ctl_code::TLV_COMMAND, 0x0306);
        let mut v = CtlValue::default();
        assert!(v.set_integer(0, -1));
        assert!(v.set_integer(127, 7));
        assert!(!v.set_integer(128, 7));
        assert!(!v.set_integer(usize::MAX, 7));
        let req = v.write_request(4);
        assert_eq!(req.len(), 520);
        assert_eq!(&req[..8], &[0x03, 0x03, 0, 0, 4, 0, 0, 0]);
        assert_eq!(&req[8..12], &[0xff; 4]);
        assert_eq!(&req[516..520], &[7, 0, 0, 0]);
    }

    #[test]
    fn ctl_value_members() {
        let mut v = CtlValue::default();
        assert!(v.set_integer64(0, -2));
        assert!(v.set_integer64(63, i64::MAX));
        assert!(!v.set_integer64(64, 1));
        assert!(!v.set_integer64(usize::MAX, 1));
        assert!(!v.set_integer64(usize::MAX / 2, 1));
        assert_eq!(v.integer64(0), Some(-2));
        assert_eq!(v.integer64(63), Some(i64::MAX));
        assert_eq!(v.integer64(64), None);
        assert_eq!(v.integer64(usize::MAX), None);
        // Little-endian halves in 32-bit members.
        assert_eq!(v.integer(0), Some(-2));
        assert_eq!(v.integer(1), Some(-1));
        assert!(v.set_enumerated(127, u32::MAX));
        assert_eq!(v.enumerated(127), Some(u32::MAX));
        assert_eq!(v.enumerated(128), None);
        assert_eq!(v.integer(usize::MAX), None);
        v.as_bytes_mut()[511] = 9;
        assert_eq!(v.as_bytes()[511], 9);

        let mut iec = Iec958::default();
        iec.status[0] = 1;
        iec.subcode[146] = 2;
        iec.pad = 3;
        iec.dig_subframe[3] = 4;
        let mut v = CtlValue::default();
        v.set_iec958(&iec);
        assert_eq!(v.as_bytes()[0], 1);
        assert_eq!(v.as_bytes()[170], 2);
        assert_eq!(v.as_bytes()[171], 3);
        assert_eq!(v.as_bytes()[175], 4);
        assert_eq!(v.iec958(), iec);
    }

    #[test]
    fn ctl_value_parse_needs_only_the_members() {
        let info = volume(); // 2 x INTEGER: 8 bytes
        let mut b = [0xffu8; 16];
        b[..4].copy_from_slice(&(-5i32).to_le_bytes());
        let v = CtlValue::parse(&b[..8], &info).unwrap();
        assert_eq!(
            (v.integer(0), v.integer(1), v.integer(2)),
            (Some(-5), Some(-1), Some(0))
        );
        all_short(&b, 8, |s| CtlValue::parse(s, &info));
        let iec = ctl(CtlValueInfo::Iec958, 1).unwrap();
        assert_eq!(CtlValue::parse(&[0; 175], &iec), Err(WireError::Short));
        assert!(CtlValue::parse(&[0; 176], &iec).is_ok());
    }

    #[test]
    fn ctl_values_must_be_on_a_step() {
        let i = ctl(
            CtlValueInfo::Integer {
                min: -10,
                max: 10,
                step: 5,
            },
            1,
        )
        .unwrap();
        let mut v = CtlValue::default();
        for (x, good) in [
            (-10, true),
            (-5, true),
            (0, true),
            (10, true),
            (1, false),
            (-9, false),
        ] {
            v.set_integer(0, x);
            assert_eq!(i.check_value(&v).is_ok(), good, "{x}");
        }
        let l = ctl(
            CtlValueInfo::Integer64 {
                min: i64::MIN,
                max: i64::MAX,
                step: 1 << 62,
            },
            1,
        )
        .unwrap();
        let mut v = CtlValue::default();
        // `v - min` does not fit in 64 bits here; it must not overflow.
        for (x, good) in [
            (i64::MIN, true),
            (0, true),
            (1 << 62, true),
            (i64::MAX, false),
            (1, false),
        ] {
            v.set_integer64(0, x);
            assert_eq!(l.check_value(&v).is_ok(), good, "{x}");
        }
    }

    #[test]
    fn ctl_values_are_checked_against_the_element() {
        let info = volume(); // -100..=0, 2 members
        let mut v = CtlValue::default();
        assert_eq!(info.check_value(&v), Ok(()));
        v.set_integer(1, -100);
        assert_eq!(info.check_value(&v), Ok(()));
        v.set_integer(1, -101);
        assert_eq!(info.check_value(&v), Err(WireError::BadValue));
        v.set_integer(1, 0);
        v.set_integer(2, 99); // beyond `count`: not checked
        assert_eq!(info.check_value(&v), Ok(()));
        v.set_integer(0, 1);
        assert_eq!(info.check_value(&v), Err(WireError::BadValue));

        let b = ctl(CtlValueInfo::Boolean, 128).unwrap();
        let mut v = CtlValue::default();
        v.set_integer(127, 1);
        assert_eq!(b.check_value(&v), Ok(()));
        v.set_integer(127, 2);
        assert_eq!(b.check_value(&v), Err(WireError::BadValue));
        v.set_integer(127, -1);
        assert_eq!(b.check_value(&v), Err(WireError::BadValue));

        let e = ctl(CtlValueInfo::Enumerated { items: 2 }, 1).unwrap();
        let mut v = CtlValue::default();
        v.set_enumerated(0, 1);
        assert_eq!(e.check_value(&v), Ok(()));
        v.set_enumerated(0, 2);
        assert_eq!(e.check_value(&v), Err(WireError::BadValue));

        let l = ctl(
            CtlValueInfo::Integer64 {
                min: -1,
                max: 1 << 40,
                step: 0,
            },
            64,
        )
        .unwrap();
        let mut v = CtlValue::default();
        v.set_integer64(63, 1 << 40);
        assert_eq!(l.check_value(&v), Ok(()));
        v.set_integer64(63, (1 << 40) + 1);
        assert_eq!(l.check_value(&v), Err(WireError::BadValue));

        let bytes = ctl(CtlValueInfo::Bytes, 512).unwrap();
        assert_eq!(bytes.check_value(&CtlValue { raw: [0xff; 512] }), Ok(()));
    }

    #[test]
    fn tlv_headers() {
        let t = CtlTlv::new(1, 8).unwrap();
        assert_eq!(t.to_bytes(), [1, 0, 0, 0, 8, 0, 0, 0]);
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&t.to_bytes());
        b[8..].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let p = CtlTlv::parse(&b).unwrap();
        assert_eq!(p, t);
        assert_eq!((p.ty(), p.length()), (1, 8));
        assert_eq!(p.value(&b), Ok(&b[8..16]));
        assert_eq!(p.value(&b[..15]), Err(WireError::Short));
        all_short(&b, CTL_TLV_HDR_SIZE, CtlTlv::parse);
        assert_eq!(CtlTlv::new(0, 0).map(|t| t.length()), Ok(0));
        assert_eq!(
            CtlTlv::new(0, CTL_TLV_MAX_BYTES).map(|t| t.length()),
            Ok(65536)
        );
        assert_eq!(
            CtlTlv::new(0, CTL_TLV_MAX_BYTES + 4),
            Err(WireError::BadValue)
        );
        assert_eq!(CtlTlv::new(0, 6), Err(WireError::BadValue));
        assert_eq!(CtlTlv::new(0, u32::MAX), Err(WireError::BadValue));
        let huge = CtlTlv::new(0, 65536).unwrap();
        assert_eq!(huge.value(&b), Err(WireError::Short));
    }

    #[test]
    fn ctl_events() {
        let e = CtlEvent::from_data(0x0005_0003).unwrap();
        assert_eq!(
            e,
            CtlEvent {
                control_id: 3,
                mask: 5
            }
        );
        assert_eq!(e.to_data(), 0x0005_0003);
        assert_eq!(
            e.alsa_mask(),
            sndrv_ctl::EVENT_MASK_VALUE | sndrv_ctl::EVENT_MASK_TLV
        );
        assert_eq!(
            CtlEvent::from_data(0x0002_ffff).map(|e| e.alsa_mask()),
            Ok(2)
        );
        assert_eq!(CtlEvent::from_data(0).map(|e| e.alsa_mask()), Ok(0));
        assert_eq!(CtlEvent::from_data(0x0008_0000), Err(WireError::BadValue));
        assert_eq!(CtlEvent::from_data(0x8000_0000), Err(WireError::BadValue));
        // The event queue hands the data over as `Event::CtlNotify`.
        let mut raw = [0u8; 8];
        raw[..4].copy_from_slice(&code::EVT_CTL_NOTIFY.to_le_bytes());
        raw[4..6].copy_from_slice(&3u16.to_le_bytes());
        raw[6..8].copy_from_slice(&1u16.to_le_bytes());
        match super::super::wire::Event::parse(&raw) {
            Ok(super::super::wire::Event::CtlNotify(data)) => assert_eq!(
                CtlEvent::from_data(data),
                Ok(CtlEvent {
                    control_id: 3,
                    mask: 1
                })
            ),
            other => panic!("{other:?}"),
        }
    }
}
