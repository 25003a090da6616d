// SPDX-License-Identifier: GPL-2.0
//! Wire format of the virtio-snd device (virtio 1.3, "Sound Device"; the same values as the
//! kernel's `include/uapi/linux/virtio_snd.h`). Everything is little endian; the structs are
//! encoded and decoded by hand, so that no unsafe code is needed.

pub const QUEUE_CTL: usize = 0;
pub const QUEUE_EVENT: usize = 1;
pub const QUEUE_TX: usize = 2;
pub const QUEUE_RX: usize = 3;
pub const NUM_QUEUES: usize = 4;

// Request codes.
pub const R_JACK_INFO: u32 = 1;
pub const R_JACK_REMAP: u32 = 2;
pub const R_PCM_INFO: u32 = 0x0100;
pub const R_PCM_SET_PARAMS: u32 = 0x0101;
pub const R_PCM_PREPARE: u32 = 0x0102;
pub const R_PCM_RELEASE: u32 = 0x0103;
pub const R_PCM_START: u32 = 0x0104;
pub const R_PCM_STOP: u32 = 0x0105;
pub const R_CHMAP_INFO: u32 = 0x0200;
pub const R_CTL_INFO: u32 = 0x0300;
pub const R_CTL_ENUM_ITEMS: u32 = 0x0301;
pub const R_CTL_READ: u32 = 0x0302;
pub const R_CTL_WRITE: u32 = 0x0303;
pub const R_CTL_TLV_READ: u32 = 0x0304;
pub const R_CTL_TLV_WRITE: u32 = 0x0305;
pub const R_CTL_TLV_COMMAND: u32 = 0x0306;

/// Every request code, in the order of the spec.
pub const REQUEST_CODES: [u32; 16] = [
    R_JACK_INFO,
    R_JACK_REMAP,
    R_PCM_INFO,
    R_PCM_SET_PARAMS,
    R_PCM_PREPARE,
    R_PCM_RELEASE,
    R_PCM_START,
    R_PCM_STOP,
    R_CHMAP_INFO,
    R_CTL_INFO,
    R_CTL_ENUM_ITEMS,
    R_CTL_READ,
    R_CTL_WRITE,
    R_CTL_TLV_READ,
    R_CTL_TLV_WRITE,
    R_CTL_TLV_COMMAND,
];

// Event codes.
pub const EVT_JACK_CONNECTED: u32 = 0x1000;
pub const EVT_JACK_DISCONNECTED: u32 = 0x1001;
pub const EVT_PCM_PERIOD_ELAPSED: u32 = 0x1100;
pub const EVT_PCM_XRUN: u32 = 0x1101;
pub const EVT_CTL_NOTIFY: u32 = 0x1200;

// Status codes.
pub const S_OK: u32 = 0x8000;
pub const S_BAD_MSG: u32 = 0x8001;
pub const S_NOT_SUPP: u32 = 0x8002;
pub const S_IO_ERR: u32 = 0x8003;

// Sizes of the wire structs.
pub const HDR_SIZE: usize = 4; // virtio_snd_hdr
pub const QUERY_INFO_SIZE: usize = 16; // virtio_snd_query_info
pub const PCM_HDR_SIZE: usize = 8; // virtio_snd_pcm_hdr
pub const SET_PARAMS_SIZE: usize = 24; // virtio_snd_pcm_set_params
pub const PCM_INFO_SIZE: usize = 32; // virtio_snd_pcm_info
pub const JACK_INFO_SIZE: usize = 24; // virtio_snd_jack_info
pub const JACK_REMAP_SIZE: usize = 16; // virtio_snd_jack_remap
pub const CHMAP_INFO_SIZE: usize = 24; // virtio_snd_chmap_info
pub const XFER_SIZE: usize = 4; // virtio_snd_pcm_xfer
pub const STATUS_SIZE: usize = 8; // virtio_snd_pcm_status
pub const EVENT_SIZE: usize = 8; // virtio_snd_event
pub const CONFIG_SIZE: usize = 16; // virtio_snd_config (with `controls`)
pub const CTL_HDR_SIZE: usize = 8; // virtio_snd_ctl_hdr
/// virtio_snd_ctl_info as include/uapi/linux/virtio_snd.h lays it out on 64-bit machines:
/// the `value` union (it has le64 members) is aligned to 8, at offset 72, for 96 bytes. The
/// spec's listing would pack it at 68 (92 bytes); the C driver, and the Rust driver of this
/// project (src/spec/info.rs), use the header's layout.
pub const CTL_INFO_SIZE: usize = 96;
pub const CTL_INFO_VALUE_OFFSET: usize = 72;
pub const CTL_NAME_SIZE: usize = 44; // virtio_snd_ctl_info::name
pub const CTL_ENUM_ITEM_SIZE: usize = 64; // virtio_snd_ctl_enum_item
pub const CTL_VALUE_SIZE: usize = 512; // virtio_snd_ctl_value
pub const CTL_IEC958_SIZE: usize = 176; // virtio_snd_ctl_iec958
pub const CTL_TLV_HDR_SIZE: usize = 8; // virtio_snd_ctl_tlv: type, length
/// The largest TLV `value` the driver may send (spec: at most 65536 bytes).
pub const CTL_TLV_MAX: usize = 65536;

/// Device feature bit: the device has control elements.
pub const F_CTLS: u32 = 0;

/// Jack feature bit (virtio_snd_jack_info `features`): the jack supports JACK_REMAP.
pub const JACK_F_REMAP: u32 = 0;
/// HDA pin default configuration (`hda_reg_defconf`): default association (bits 7:4) and
/// sequence (bits 3:0); JACK_REMAP values must fit them.
pub const DEFCONF_ASSOC_SHIFT: u32 = 4;
pub const DEFCONF_SEQ_SHIFT: u32 = 0;
pub const DEFCONF_FIELD_MAX: u32 = 0xf;
/// Every jack's association and sequence until the driver remaps it (and after a reset).
pub const JACK_INITIAL_ASSOCIATION: u8 = 1;
pub const JACK_INITIAL_SEQUENCE: u8 = 0;

// Control element roles (VIRTIO_SND_CTL_ROLE_*); on the wire a defined role is
// `ROLE << 1 | VIRTIO_SND_D_*` (see `ctl_role`).
pub const CTL_ROLE_UNDEFINED: u32 = 0;
pub const CTL_ROLE_VOLUME: u32 = 1;
pub const CTL_ROLE_MUTE: u32 = 2;
pub const CTL_ROLE_GAIN: u32 = 3;

// Control element value types (VIRTIO_SND_CTL_TYPE_*).
pub const CTL_TYPE_BOOLEAN: u32 = 0;
pub const CTL_TYPE_INTEGER: u32 = 1;
pub const CTL_TYPE_INTEGER64: u32 = 2;
pub const CTL_TYPE_ENUMERATED: u32 = 3;
pub const CTL_TYPE_BYTES: u32 = 4;
pub const CTL_TYPE_IEC958: u32 = 5;

// Control element access bits (1 << VIRTIO_SND_CTL_ACCESS_*).
pub const CTL_ACCESS_READ: u32 = 1 << 0;
pub const CTL_ACCESS_WRITE: u32 = 1 << 1;
pub const CTL_ACCESS_VOLATILE: u32 = 1 << 2;
pub const CTL_ACCESS_INACTIVE: u32 = 1 << 3;
pub const CTL_ACCESS_TLV_READ: u32 = 1 << 4;
pub const CTL_ACCESS_TLV_WRITE: u32 = 1 << 5;
pub const CTL_ACCESS_TLV_COMMAND: u32 = 1 << 6;
/// Access bits and their names, for the test control.
pub const CTL_ACCESS_NAMES: [(u32, &str); 7] = [
    (CTL_ACCESS_READ, "read"),
    (CTL_ACCESS_WRITE, "write"),
    (CTL_ACCESS_VOLATILE, "volatile"),
    (CTL_ACCESS_INACTIVE, "inactive"),
    (CTL_ACCESS_TLV_READ, "tlv-read"),
    (CTL_ACCESS_TLV_WRITE, "tlv-write"),
    (CTL_ACCESS_TLV_COMMAND, "tlv-command"),
];

// Control notification reasons (1 << VIRTIO_SND_CTL_EVT_MASK_*).
pub const CTL_EVT_MASK_VALUE: u16 = 1 << 0;
pub const CTL_EVT_MASK_INFO: u16 = 1 << 1;
pub const CTL_EVT_MASK_TLV: u16 = 1 << 2;

// ALSA TLV types (include/uapi/sound/tlv.h).
pub const TLVT_DB_SCALE: u32 = 1;
pub const TLVT_DB_LINEAR: u32 = 2;
pub const TLVT_DB_MINMAX: u32 = 4;
pub const TLVT_DB_MINMAX_MUTE: u32 = 5;
/// SNDRV_CTL_TLVD_DB_SCALE_MUTE: the lowest value mutes.
pub const TLV_DB_SCALE_MUTE: u32 = 0x10000;

// Directions.
pub const D_OUTPUT: u8 = 0;
pub const D_INPUT: u8 = 1;

// Sample formats (VIRTIO_SND_PCM_FMT_*) this device can offer.
pub const FMT_S8: u8 = 3;
pub const FMT_U8: u8 = 4;
pub const FMT_S16: u8 = 5;
pub const FMT_U16: u8 = 6;
pub const FMT_S24_3: u8 = 11;
pub const FMT_S24: u8 = 15;
pub const FMT_S32: u8 = 17;
pub const FMT_U32: u8 = 18;
pub const FMT_FLOAT: u8 = 19;
pub const FMT_FLOAT64: u8 = 20;
/// Every format the device can offer, with its name (`--formats`), in PCM_INFO bit order.
pub const FORMATS: [(u8, &str); 10] = [
    (FMT_S8, "S8"),
    (FMT_U8, "U8"),
    (FMT_S16, "S16"),
    (FMT_U16, "U16"),
    (FMT_S24_3, "S24_3"),
    (FMT_S24, "S24"),
    (FMT_S32, "S32"),
    (FMT_U32, "U32"),
    (FMT_FLOAT, "FLOAT"),
    (FMT_FLOAT64, "FLOAT64"),
];
/// All of them (the default of `--formats`).
pub const SUPPORTED_FORMATS: u64 = 1 << FMT_S8
    | 1 << FMT_U8
    | 1 << FMT_S16
    | 1 << FMT_U16
    | 1 << FMT_S24_3
    | 1 << FMT_S24
    | 1 << FMT_S32
    | 1 << FMT_U32
    | 1 << FMT_FLOAT
    | 1 << FMT_FLOAT64;

/// How a sample is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleKind {
    /// Two's complement, `bits` significant bits, sign-extended to the container.
    Signed,
    /// Offset binary (silence 1 << (bits - 1)), zero-extended to the container.
    Unsigned,
    /// IEEE single (bits 32) or double (bits 64).
    Float,
}

/// A sample format: kind, significant bits, bytes of its little-endian container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleFormat {
    pub kind: SampleKind,
    pub bits: u32,
    pub bytes: usize,
}

impl SampleFormat {
    /// Stores the low `bytes` bytes of `raw` (a sign- or zero-extended value, or the bits
    /// of a float) little endian.
    pub fn store(&self, raw: u64, dst: &mut [u8]) {
        dst[..self.bytes].copy_from_slice(&raw.to_le_bytes()[..self.bytes]);
    }

    /// The container of a silent sample: 0, or 1 << (bits - 1) for unsigned formats.
    pub fn silence(&self) -> u64 {
        match self.kind {
            SampleKind::Unsigned => 1 << (self.bits - 1),
            SampleKind::Signed | SampleKind::Float => 0,
        }
    }

    /// Fills `dst` with silent samples (a last partial sample with their first bytes).
    pub fn fill_silence(&self, dst: &mut [u8]) {
        let s = self.silence().to_le_bytes();
        for (i, b) in dst.iter_mut().enumerate() {
            *b = s[i % self.bytes];
        }
    }
}

/// The encoding of a format this device can offer.
pub fn sample_format(format: u8) -> Option<SampleFormat> {
    use SampleKind::*;
    let (kind, bits, bytes) = match format {
        FMT_S8 => (Signed, 8, 1),
        FMT_U8 => (Unsigned, 8, 1),
        FMT_S16 => (Signed, 16, 2),
        FMT_U16 => (Unsigned, 16, 2),
        FMT_S24_3 => (Signed, 24, 3),
        FMT_S24 => (Signed, 24, 4),
        FMT_S32 => (Signed, 32, 4),
        FMT_U32 => (Unsigned, 32, 4),
        FMT_FLOAT => (Float, 32, 4),
        FMT_FLOAT64 => (Float, 64, 8),
        _ => return None,
    };
    Some(SampleFormat { kind, bits, bytes })
}

/// The name of a format (`S24_3`), or its number.
pub fn format_name(format: u8) -> String {
    FORMATS
        .iter()
        .find(|f| f.0 == format)
        .map_or_else(|| format.to_string(), |f| f.1.to_string())
}

/// Parses `--formats`: names separated by commas (case-insensitive), or `all`.
pub fn parse_formats(list: &str) -> Result<u64, String> {
    let mut bits = 0u64;
    for w in list.split(',') {
        if w.eq_ignore_ascii_case("all") {
            bits |= SUPPORTED_FORMATS;
            continue;
        }
        let f = FORMATS
            .iter()
            .find(|f| f.1.eq_ignore_ascii_case(w))
            .ok_or(format!("--formats: unknown format '{w}'"))?;
        bits |= 1 << f.0;
    }
    if bits == 0 {
        return Err("--formats: no format".into());
    }
    Ok(bits)
}

/// Frame rates by VIRTIO_SND_PCM_RATE_* index; virtio 1.4 appended 12000 and 24000 after
/// 384000.
pub const RATES_HZ: [u32; 16] = [
    5512, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000,
    384000, 12000, 24000,
];
/// 8000 (index 1) ... 192000 (index 12), and 12000 (14) and 24000 (15) of virtio 1.4.
pub const SUPPORTED_RATES: u64 = (((1 << 13) - 1) & !1) | (1 << 14) | (1 << 15);

// PCM stream features (VIRTIO_SND_PCM_F_*) this device can offer; SHMEM_HOST (0),
// SHMEM_GUEST (1) and EVT_SHMEM_PERIODS (3) it never offers.
#[cfg(test)]
pub const PCM_F_SHMEM_HOST: u32 = 0;
pub const PCM_F_MSG_POLLING: u32 = 2;
pub const PCM_F_EVT_XRUNS: u32 = 4;

/// Every stream offers channels_min 1 and channels_max `--channels-max` (default 2).
pub const CHANNELS_MIN: u8 = 1;
pub const DEFAULT_CHANNELS_MAX: u8 = 2;

// Channel positions (VIRTIO_SND_CHMAP_*; the same numbers as ALSA's SNDRV_CHMAP_*).
pub const CHMAP_MONO: u8 = 2;
pub const CHMAP_FL: u8 = 3;
pub const CHMAP_FR: u8 = 4;
pub const CHMAP_RL: u8 = 5;
pub const CHMAP_RR: u8 = 6;
pub const CHMAP_FC: u8 = 7;
pub const CHMAP_LFE: u8 = 8;
pub const CHMAP_SL: u8 = 9;
pub const CHMAP_SR: u8 = 10;
pub const CHMAP_RC: u8 = 11;
pub const CHMAP_FLC: u8 = 12;
pub const CHMAP_FRC: u8 = 13;
pub const CHMAP_RLC: u8 = 14;
pub const CHMAP_RRC: u8 = 15;
pub const CHMAP_FLW: u8 = 16;
pub const CHMAP_FRW: u8 = 17;
pub const CHMAP_FLH: u8 = 18;
pub const CHMAP_FCH: u8 = 19;
pub const CHMAP_FRH: u8 = 20;
/// VIRTIO_SND_CHMAP_MAX_SIZE: positions in one virtio_snd_chmap_info.
pub const CHMAP_MAX_SIZE: usize = 18;

/// Bytes of one sample of a supported format.
pub fn sample_bytes(format: u8) -> Option<u32> {
    sample_format(format).map(|f| f.bytes as u32)
}

pub fn rate_hz(rate: u8) -> Option<u32> {
    RATES_HZ.get(rate as usize).copied()
}

pub fn status_name(status: u32) -> &'static str {
    match status {
        S_OK => "OK",
        S_BAD_MSG => "BAD_MSG",
        S_NOT_SUPP => "NOT_SUPP",
        S_IO_ERR => "IO_ERR",
        _ => "?",
    }
}

pub fn code_name(code: u32) -> &'static str {
    match code {
        R_JACK_INFO => "JACK_INFO",
        R_JACK_REMAP => "JACK_REMAP",
        R_PCM_INFO => "PCM_INFO",
        R_PCM_SET_PARAMS => "PCM_SET_PARAMS",
        R_PCM_PREPARE => "PCM_PREPARE",
        R_PCM_RELEASE => "PCM_RELEASE",
        R_PCM_START => "PCM_START",
        R_PCM_STOP => "PCM_STOP",
        R_CHMAP_INFO => "CHMAP_INFO",
        R_CTL_INFO => "CTL_INFO",
        R_CTL_ENUM_ITEMS => "CTL_ENUM_ITEMS",
        R_CTL_READ => "CTL_READ",
        R_CTL_WRITE => "CTL_WRITE",
        R_CTL_TLV_READ => "CTL_TLV_READ",
        R_CTL_TLV_WRITE => "CTL_TLV_WRITE",
        R_CTL_TLV_COMMAND => "CTL_TLV_COMMAND",
        _ => "unknown",
    }
}

pub fn le32(buf: &[u8], off: usize) -> Option<u32> {
    let b = buf.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub fn le64(buf: &[u8], off: usize) -> Option<u64> {
    let b = buf.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// A control element role on the wire: `role << 1 | direction`, UNDEFINED as 0.
pub const fn ctl_role(role: u32, direction: u8) -> u32 {
    if role == CTL_ROLE_UNDEFINED {
        0
    } else {
        role << 1 | direction as u32
    }
}

/// virtio_snd_pcm_set_params, without its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub buffer_bytes: u32,
    pub period_bytes: u32,
    pub features: u32,
    pub channels: u8,
    pub format: u8,
    pub rate: u8,
}

impl Params {
    /// Bytes of one frame. Only for validated parameters.
    pub fn frame_bytes(&self) -> u32 {
        sample_bytes(self.format).unwrap_or(1) * u32::from(self.channels)
    }

    pub fn rate_hz(&self) -> u32 {
        rate_hz(self.rate).unwrap_or(48000)
    }

    pub fn bytes_per_sec(&self) -> u64 {
        u64::from(self.frame_bytes()) * u64::from(self.rate_hz())
    }

    /// Encodes a whole SET_PARAMS request (used by the tests).
    #[cfg(test)]
    pub fn encode_request(&self, stream_id: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity(SET_PARAMS_SIZE);
        v.extend_from_slice(&R_PCM_SET_PARAMS.to_le_bytes());
        v.extend_from_slice(&stream_id.to_le_bytes());
        v.extend_from_slice(&self.buffer_bytes.to_le_bytes());
        v.extend_from_slice(&self.period_bytes.to_le_bytes());
        v.extend_from_slice(&self.features.to_le_bytes());
        v.extend_from_slice(&[self.channels, self.format, self.rate, 0]);
        v
    }
}

/// One PCM command on a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcmOp {
    SetParams(Params),
    Prepare,
    Release,
    Start,
    Stop,
}

impl PcmOp {
    pub fn name(&self) -> &'static str {
        match self {
            PcmOp::SetParams(_) => "SET_PARAMS",
            PcmOp::Prepare => "PREPARE",
            PcmOp::Release => "RELEASE",
            PcmOp::Start => "START",
            PcmOp::Stop => "STOP",
        }
    }
}

/// A decoded control request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtlRequest {
    /// JACK_INFO, PCM_INFO or CHMAP_INFO.
    Query {
        code: u32,
        start_id: u32,
        count: u32,
        size: u32,
    },
    Pcm {
        stream_id: u32,
        op: PcmOp,
    },
    /// JACK_REMAP (virtio_snd_jack_remap); `association` and `sequence` unchecked.
    JackRemap {
        jack_id: u32,
        association: u32,
        sequence: u32,
    },
    /// CTL_ENUM_ITEMS, CTL_READ, CTL_WRITE, CTL_TLV_*: a virtio_snd_ctl_hdr; the payload of
    /// WRITE and TLV_WRITE / TLV_COMMAND follows it (at CTL_HDR_SIZE).
    Ctl {
        code: u32,
        control_id: u32,
    },
    /// An unknown request.
    Other {
        code: u32,
    },
    /// Shorter than its code needs (code 0 if not even the header is there).
    Short {
        code: u32,
        len: usize,
    },
}

/// Decodes the device-readable part of a control message.
pub fn parse_ctl(buf: &[u8]) -> CtlRequest {
    let Some(code) = le32(buf, 0) else {
        return CtlRequest::Short {
            code: 0,
            len: buf.len(),
        };
    };
    let short = CtlRequest::Short {
        code,
        len: buf.len(),
    };
    match code {
        R_JACK_INFO | R_PCM_INFO | R_CHMAP_INFO | R_CTL_INFO => {
            if buf.len() < QUERY_INFO_SIZE {
                return short;
            }
            CtlRequest::Query {
                code,
                start_id: le32(buf, 4).unwrap(),
                count: le32(buf, 8).unwrap(),
                size: le32(buf, 12).unwrap(),
            }
        }
        R_JACK_REMAP => {
            if buf.len() < JACK_REMAP_SIZE {
                return short;
            }
            let (Some(jack_id), Some(association), Some(sequence)) =
                (le32(buf, 4), le32(buf, 8), le32(buf, 12))
            else {
                return short;
            };
            CtlRequest::JackRemap {
                jack_id,
                association,
                sequence,
            }
        }
        R_PCM_SET_PARAMS => {
            if buf.len() < SET_PARAMS_SIZE {
                return short;
            }
            CtlRequest::Pcm {
                stream_id: le32(buf, 4).unwrap(),
                op: PcmOp::SetParams(Params {
                    buffer_bytes: le32(buf, 8).unwrap(),
                    period_bytes: le32(buf, 12).unwrap(),
                    features: le32(buf, 16).unwrap(),
                    channels: buf[20],
                    format: buf[21],
                    rate: buf[22],
                }),
            }
        }
        R_PCM_PREPARE | R_PCM_RELEASE | R_PCM_START | R_PCM_STOP => {
            if buf.len() < PCM_HDR_SIZE {
                return short;
            }
            let op = match code {
                R_PCM_PREPARE => PcmOp::Prepare,
                R_PCM_RELEASE => PcmOp::Release,
                R_PCM_START => PcmOp::Start,
                _ => PcmOp::Stop,
            };
            CtlRequest::Pcm {
                stream_id: le32(buf, 4).unwrap(),
                op,
            }
        }
        R_CTL_ENUM_ITEMS..=R_CTL_TLV_COMMAND => {
            if buf.len() < CTL_HDR_SIZE {
                return short;
            }
            CtlRequest::Ctl {
                code,
                control_id: le32(buf, 4).unwrap(),
            }
        }
        _ => CtlRequest::Other { code },
    }
}

/// A control response: the status header and the payload that follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtlReply {
    pub status: u32,
    pub payload: Vec<u8>,
}

impl CtlReply {
    pub fn status(status: u32) -> Self {
        CtlReply {
            status,
            payload: Vec::new(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HDR_SIZE + self.payload.len());
        v.extend_from_slice(&self.status.to_le_bytes());
        v.extend_from_slice(&self.payload);
        v
    }
}

/// virtio_snd_pcm_info.
pub fn encode_pcm_info(
    nid: u32,
    direction: u8,
    features: u32,
    formats: u64,
    channels_max: u8,
) -> [u8; PCM_INFO_SIZE] {
    let mut b = [0u8; PCM_INFO_SIZE];
    b[0..4].copy_from_slice(&nid.to_le_bytes());
    b[4..8].copy_from_slice(&features.to_le_bytes());
    b[8..16].copy_from_slice(&formats.to_le_bytes());
    b[16..24].copy_from_slice(&SUPPORTED_RATES.to_le_bytes());
    b[24] = direction;
    b[25] = CHANNELS_MIN;
    b[26] = channels_max;
    b
}

/// What JACK_INFO says about one jack besides its nid and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JackInfo {
    /// virtio_snd_jack_info `features` (1 << VIRTIO_SND_JACK_F_*).
    pub features: u32,
    pub connected: bool,
    /// Default association and sequence of `hda_reg_defconf` (4 bits each; higher bits
    /// are cut).
    pub association: u8,
    pub sequence: u8,
}

/// virtio_snd_jack_info: a line-out (output) or line-in (input) jack.
pub fn encode_jack_info(nid: u32, direction: u8, jack: &JackInfo) -> [u8; JACK_INFO_SIZE] {
    let mut b = [0u8; JACK_INFO_SIZE];
    b[0..4].copy_from_slice(&nid.to_le_bytes());
    b[4..8].copy_from_slice(&jack.features.to_le_bytes());
    // HDA pin default configuration (HDA spec 7.3.3.31): jack (31:30 = 0), external rear
    // (29:24 = 0x01), line out (23:20 = 0) or line in (8), 1/8" connector (19:16 = 1),
    // green (15:12 = 4) or blue (3), association (7:4; initially 1) and sequence (3:0;
    // initially 0) as the driver last remapped them.
    let (device, colour) = if direction == D_OUTPUT {
        (0x0u32, 0x4u32)
    } else {
        (0x8, 0x3)
    };
    let defconf = (0x01 << 24)
        | (device << 20)
        | (0x1 << 16)
        | (colour << 12)
        | ((u32::from(jack.association) & DEFCONF_FIELD_MAX) << DEFCONF_ASSOC_SHIFT)
        | ((u32::from(jack.sequence) & DEFCONF_FIELD_MAX) << DEFCONF_SEQ_SHIFT);
    // HDA pin capabilities: presence detect (bit 2), output (bit 4) or input (bit 5).
    let caps: u32 = (1 << 2)
        | if direction == D_OUTPUT {
            1 << 4
        } else {
            1 << 5
        };
    b[8..12].copy_from_slice(&defconf.to_le_bytes());
    b[12..16].copy_from_slice(&caps.to_le_bytes());
    b[16] = jack.connected as u8;
    b
}

/// virtio_snd_chmap_info: `positions` (at most CHMAP_MAX_SIZE; more are cut).
pub fn encode_chmap_info(nid: u32, direction: u8, positions: &[u8]) -> [u8; CHMAP_INFO_SIZE] {
    let mut b = [0u8; CHMAP_INFO_SIZE];
    let n = positions.len().min(CHMAP_MAX_SIZE);
    b[0..4].copy_from_slice(&nid.to_le_bytes());
    b[4] = direction;
    b[5] = n as u8;
    b[6..6 + n].copy_from_slice(&positions[..n]);
    b
}

/// virtio_snd_pcm_status.
pub fn encode_pcm_status(status: u32, latency_bytes: u32) -> [u8; STATUS_SIZE] {
    let mut b = [0u8; STATUS_SIZE];
    b[0..4].copy_from_slice(&status.to_le_bytes());
    b[4..8].copy_from_slice(&latency_bytes.to_le_bytes());
    b
}

/// The `data` of a CTL_NOTIFY virtio_snd_event: virtio_snd_ctl_event has le16 control_id
/// and le16 mask where virtio_snd_event has le32 data.
pub fn ctl_notify_data(control_id: u16, mask: u16) -> u32 {
    u32::from(control_id) | u32::from(mask) << 16
}

/// virtio_snd_event.
pub fn encode_event(code: u32, data: u32) -> [u8; EVENT_SIZE] {
    let mut b = [0u8; EVENT_SIZE];
    b[0..4].copy_from_slice(&code.to_le_bytes());
    b[4..8].copy_from_slice(&data.to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm_hdr(code: u32, sid: u32) -> Vec<u8> {
        let mut v = code.to_le_bytes().to_vec();
        v.extend_from_slice(&sid.to_le_bytes());
        v
    }

    #[test]
    fn parse_query() {
        let mut b = R_PCM_INFO.to_le_bytes().to_vec();
        for x in [1u32, 2, 32] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        assert_eq!(
            parse_ctl(&b),
            CtlRequest::Query {
                code: R_PCM_INFO,
                start_id: 1,
                count: 2,
                size: 32
            }
        );
        assert_eq!(
            parse_ctl(&b[..12]),
            CtlRequest::Short {
                code: R_PCM_INFO,
                len: 12
            }
        );
    }

    #[test]
    fn parse_set_params_roundtrip() {
        let p = Params {
            buffer_bytes: 19200,
            period_bytes: 4800,
            features: 0,
            channels: 2,
            format: FMT_S16,
            rate: 7,
        };
        assert_eq!(
            parse_ctl(&p.encode_request(3)),
            CtlRequest::Pcm {
                stream_id: 3,
                op: PcmOp::SetParams(p)
            }
        );
        assert_eq!(p.bytes_per_sec(), 192000);
        let short = &p.encode_request(3)[..20];
        assert_eq!(
            parse_ctl(short),
            CtlRequest::Short {
                code: R_PCM_SET_PARAMS,
                len: 20
            }
        );
    }

    #[test]
    fn parse_pcm_ops() {
        assert_eq!(
            parse_ctl(&pcm_hdr(R_PCM_START, 1)),
            CtlRequest::Pcm {
                stream_id: 1,
                op: PcmOp::Start
            }
        );
        assert_eq!(
            parse_ctl(&pcm_hdr(R_PCM_STOP, 0)),
            CtlRequest::Pcm {
                stream_id: 0,
                op: PcmOp::Stop
            }
        );
        assert_eq!(
            parse_ctl(&pcm_hdr(R_PCM_PREPARE, 0)),
            CtlRequest::Pcm {
                stream_id: 0,
                op: PcmOp::Prepare
            }
        );
        assert_eq!(
            parse_ctl(&pcm_hdr(R_PCM_RELEASE, 9)),
            CtlRequest::Pcm {
                stream_id: 9,
                op: PcmOp::Release
            }
        );
        assert_eq!(
            parse_ctl(&pcm_hdr(R_PCM_START, 1)[..6]),
            CtlRequest::Short {
                code: R_PCM_START,
                len: 6
            }
        );
        assert_eq!(parse_ctl(&[1, 0]), CtlRequest::Short { code: 0, len: 2 });
        assert_eq!(
            parse_ctl(&R_JACK_REMAP.to_le_bytes()),
            CtlRequest::Short {
                code: R_JACK_REMAP,
                len: 4
            }
        );
        assert_eq!(
            parse_ctl(&0x0307u32.to_le_bytes()),
            CtlRequest::Other { code: 0x307 }
        );
    }

    fn jack_remap_req(jack_id: u32, association: u32, sequence: u32) -> Vec<u8> {
        let mut v = pcm_hdr(R_JACK_REMAP, jack_id);
        v.extend_from_slice(&association.to_le_bytes());
        v.extend_from_slice(&sequence.to_le_bytes());
        v
    }

    #[test]
    fn parse_jack_remap() {
        let b = jack_remap_req(3, 0x0102_0304, 0xffff_fff5);
        assert_eq!(b.len(), JACK_REMAP_SIZE);
        // The values are taken as they are (checked by the device), little endian.
        assert_eq!(
            parse_ctl(&b),
            CtlRequest::JackRemap {
                jack_id: 3,
                association: 0x0102_0304,
                sequence: 0xffff_fff5
            }
        );
        // Bytes after the struct are ignored.
        let mut long = jack_remap_req(1, 2, 5);
        long.extend_from_slice(&[0xff; 8]);
        assert_eq!(
            parse_ctl(&long),
            CtlRequest::JackRemap {
                jack_id: 1,
                association: 2,
                sequence: 5
            }
        );
        // Anything shorter than the 16 bytes of virtio_snd_jack_remap: Short (BAD_MSG).
        for len in [4, 8, 12, 15] {
            assert_eq!(
                parse_ctl(&b[..len]),
                CtlRequest::Short {
                    code: R_JACK_REMAP,
                    len
                },
                "{len}"
            );
        }
    }

    #[test]
    fn jack_info_layout() {
        let j = JackInfo {
            features: 0,
            connected: true,
            association: JACK_INITIAL_ASSOCIATION,
            sequence: JACK_INITIAL_SEQUENCE,
        };
        let defconf = |b: &[u8; JACK_INFO_SIZE]| le32(b, 8).unwrap();
        // Line out, green: association 1, sequence 0; line in, blue.
        let out = encode_jack_info(2, D_OUTPUT, &j);
        assert_eq!(out[..8], [2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(defconf(&out), 0x0101_4010);
        assert_eq!(le32(&out, 12), Some(0x14));
        assert_eq!(out[16..], [1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(defconf(&encode_jack_info(0, D_INPUT, &j)), 0x0181_3010);
        // F_REMAP in features; a remap changes bits 7:4 and 3:0 only.
        let r = JackInfo {
            features: 1 << JACK_F_REMAP,
            connected: false,
            association: 2,
            sequence: 5,
        };
        let b = encode_jack_info(0, D_OUTPUT, &r);
        assert_eq!((le32(&b, 4), b[16]), (Some(1), 0));
        assert_eq!(defconf(&b), 0x0101_4025);
        let b = encode_jack_info(
            0,
            D_INPUT,
            &JackInfo {
                association: 15,
                sequence: 15,
                ..r
            },
        );
        assert_eq!(defconf(&b), 0x0181_30ff);
        let b = encode_jack_info(
            0,
            D_OUTPUT,
            &JackInfo {
                association: 0,
                sequence: 0,
                ..r
            },
        );
        assert_eq!(defconf(&b), 0x0101_4000);
    }

    #[test]
    fn parse_ctl_requests() {
        // CTL_INFO is a virtio_snd_query_info.
        let mut b = R_CTL_INFO.to_le_bytes().to_vec();
        for x in [0u32, 3, 96] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        assert_eq!(
            parse_ctl(&b),
            CtlRequest::Query {
                code: R_CTL_INFO,
                start_id: 0,
                count: 3,
                size: 96
            }
        );
        assert_eq!(
            parse_ctl(&b[..8]),
            CtlRequest::Short {
                code: R_CTL_INFO,
                len: 8
            }
        );
        // The others start with a virtio_snd_ctl_hdr; what follows is not parsed here.
        for code in R_CTL_ENUM_ITEMS..=R_CTL_TLV_COMMAND {
            let mut b = pcm_hdr(code, 7);
            assert_eq!(
                parse_ctl(&b),
                CtlRequest::Ctl {
                    code,
                    control_id: 7
                }
            );
            b.extend_from_slice(&[1; 20]);
            assert_eq!(
                parse_ctl(&b),
                CtlRequest::Ctl {
                    code,
                    control_id: 7
                }
            );
            assert_eq!(parse_ctl(&b[..7]), CtlRequest::Short { code, len: 7 });
            assert!(code_name(code).starts_with("CTL_"));
        }
        assert_eq!(ctl_role(CTL_ROLE_VOLUME, D_OUTPUT), 2);
        assert_eq!(ctl_role(CTL_ROLE_GAIN, D_INPUT), 7);
        assert_eq!(ctl_role(CTL_ROLE_UNDEFINED, D_INPUT), 0);
        assert_eq!(
            le64(&[1, 0, 0, 0, 0, 0, 0, 0x80], 0),
            Some(0x8000_0000_0000_0001)
        );
        assert_eq!(le64(&[0; 8], 1), None);
        assert_eq!(
            encode_event(EVT_CTL_NOTIFY, ctl_notify_data(0x0102, CTL_EVT_MASK_TLV)),
            [0x00, 0x12, 0, 0, 0x02, 0x01, 0x04, 0x00]
        );
        assert_eq!(le32(&[0; 8], usize::MAX), None);
    }

    #[test]
    fn info_layouts() {
        let i = encode_pcm_info(0, D_INPUT, 1 << PCM_F_EVT_XRUNS, SUPPORTED_FORMATS, 2);
        assert_eq!(i[0..8], [0, 0, 0, 0, 16, 0, 0, 0]);
        assert_eq!(
            u64::from_le_bytes(i[8..16].try_into().unwrap()),
            SUPPORTED_FORMATS
        );
        assert_eq!(i[24..27], [D_INPUT, 1, 2]);
        assert_eq!(i[27..], [0; 5]);
        // 8000 .. 192000: bits 1 to 12.
        assert_eq!(SUPPORTED_RATES, 0xdffe);
        assert_eq!(RATES_HZ[1], 8000);
        assert_eq!(RATES_HZ[12], 192000);
        assert_eq!((RATES_HZ[14], RATES_HZ[15]), (12000, 24000));
        // S8 U8 S16 U16 S24_3 S24 S32 U32 FLOAT FLOAT64.
        assert_eq!(SUPPORTED_FORMATS, 0x1e_8878);
        let i = encode_pcm_info(3, D_OUTPUT, 0, 1 << FMT_S16, 8);
        assert_eq!(i[8..16], [1 << FMT_S16, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            (&i[0..4], &i[24..27]),
            (&[3, 0, 0, 0][..], &[D_OUTPUT, 1, 8][..])
        );
        let j = JackInfo {
            features: 0,
            connected: false,
            association: 1,
            sequence: 0,
        };
        let on = JackInfo {
            connected: true,
            ..j
        };
        assert_eq!(encode_jack_info(0, D_OUTPUT, &on)[16], 1);
        assert_eq!(encode_jack_info(2, D_OUTPUT, &j)[..4], [2, 0, 0, 0]);
        assert_eq!(
            encode_chmap_info(0, D_OUTPUT, &[CHMAP_FL, CHMAP_FR])[..8],
            [0, 0, 0, 0, 0, 2, CHMAP_FL, CHMAP_FR]
        );
        let m = encode_chmap_info(1, D_INPUT, &[CHMAP_FL; 20]);
        assert_eq!((m[0], m[4], m[5], m[23]), (1, D_INPUT, 18, CHMAP_FL));
        assert_eq!(
            CtlReply::status(S_BAD_MSG).to_bytes(),
            0x8001u32.to_le_bytes()
        );
    }

    #[test]
    fn sample_formats() {
        let sf = |f| sample_format(f).unwrap();
        for (f, bytes, silence) in [
            (FMT_S8, 1, 0),
            (FMT_U8, 1, 0x80),
            (FMT_S16, 2, 0),
            (FMT_U16, 2, 0x8000),
            (FMT_S24_3, 3, 0),
            (FMT_S24, 4, 0),
            (FMT_S32, 4, 0),
            (FMT_U32, 4, 0x8000_0000),
            (FMT_FLOAT, 4, 0),
            (FMT_FLOAT64, 8, 0),
        ] {
            assert_eq!(
                (sample_bytes(f), sf(f).silence()),
                (Some(bytes), silence),
                "{}",
                format_name(f)
            );
        }
        assert_eq!(sample_bytes(13), None);
        assert_eq!((sf(FMT_S24).bits, sf(FMT_S24_3).bits), (24, 24));
        let mut b = [0u8; 7];
        sf(FMT_U16).fill_silence(&mut b);
        assert_eq!(b, [0, 0x80, 0, 0x80, 0, 0x80, 0]);
        sf(FMT_S24_3).store(-2i64 as u64, &mut b);
        assert_eq!(b[..4], [0xfe, 0xff, 0xff, 0x80]);
        assert_eq!(format_name(FMT_S24_3), "S24_3");
        assert_eq!(format_name(9), "9");
        assert_eq!(parse_formats("all"), Ok(SUPPORTED_FORMATS));
        assert_eq!(
            parse_formats("s16,FLOAT64,u8"),
            Ok(1 << FMT_S16 | 1 << FMT_FLOAT64 | 1 << FMT_U8)
        );
        for bad in ["", "S20", "S16,,U8", "s24-3"] {
            assert!(parse_formats(bad).is_err(), "{bad}");
        }
    }
}
