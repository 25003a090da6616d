// SPDX-License-Identifier: GPL-2.0

//! The virtio-snd wire format (virtio 1.3, "Sound Device"), as plain little-endian bytes.
//!
//! Requests are built with `to_bytes`; responses from the device are parsed with `parse`,
//! which never trusts a length or a value that came from the device.

/// Device ID of virtio-snd.
pub(crate) const VIRTIO_ID_SOUND: u32 = 25;

/// Index of the control queue.
pub(crate) const QUEUE_CONTROL: usize = 0;
/// Index of the event queue.
pub(crate) const QUEUE_EVENT: usize = 1;
/// Index of the transmit (playback) queue.
pub(crate) const QUEUE_TX: usize = 2;
/// Index of the receive (capture) queue.
pub(crate) const QUEUE_RX: usize = 3;
/// Number of virtqueues.
pub(crate) const QUEUE_COUNT: usize = 4;

/// Device feature bit: the device has controls.
pub(crate) const F_CTLS: u32 = 0;

/// Request and event codes.
pub(crate) mod code {
    pub(crate) const JACK_INFO: u32 = 1;
    pub(crate) const JACK_REMAP: u32 = 2;
    pub(crate) const PCM_INFO: u32 = 0x0100;
    pub(crate) const PCM_SET_PARAMS: u32 = 0x0101;
    pub(crate) const PCM_PREPARE: u32 = 0x0102;
    pub(crate) const PCM_RELEASE: u32 = 0x0103;
    pub(crate) const PCM_START: u32 = 0x0104;
    pub(crate) const PCM_STOP: u32 = 0x0105;
    pub(crate) const CHMAP_INFO: u32 = 0x0200;
    pub(crate) const CTL_INFO: u32 = 0x0300;
    pub(crate) const EVT_JACK_CONNECTED: u32 = 0x1000;
    pub(crate) const EVT_JACK_DISCONNECTED: u32 = 0x1001;
    pub(crate) const EVT_PCM_PERIOD_ELAPSED: u32 = 0x1100;
    pub(crate) const EVT_PCM_XRUN: u32 = 0x1101;
    pub(crate) const EVT_CTL_NOTIFY: u32 = 0x1200;
}

/// Status codes of a device answer.
pub(crate) mod status {
    pub(crate) const OK: u32 = 0x8000;
    pub(crate) const BAD_MSG: u32 = 0x8001;
    pub(crate) const NOT_SUPP: u32 = 0x8002;
    pub(crate) const IO_ERR: u32 = 0x8003;
}

/// PCM feature bits (`virtio_snd_pcm_info::features`, `set_params::features`).
pub(crate) mod pcm_feature {
    /// Placeholder of the spec; must not be selected.
    pub(crate) const SHMEM_HOST: u32 = 0;
    /// Placeholder of the spec; must not be selected.
    pub(crate) const SHMEM_GUEST: u32 = 1;
    pub(crate) const MSG_POLLING: u32 = 2;
    pub(crate) const EVT_SHMEM_PERIODS: u32 = 3;
    pub(crate) const EVT_XRUNS: u32 = 4;
    /// The features that the driver selects when the device offers them: the device
    /// polls the message queues, and reports xruns. (Period events are for shared memory,
    /// which the driver does not use.)
    pub(crate) const SELECTABLE: u32 = (1 << MSG_POLLING) | (1 << EVT_XRUNS);
}

/// Stream direction, as the device reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Playback (`VIRTIO_SND_D_OUTPUT`).
    Output,
    /// Capture (`VIRTIO_SND_D_INPUT`).
    Input,
}

impl Direction {
    fn from_wire(v: u8) -> Result<Self, WireError> {
        match v {
            0 => Ok(Self::Output),
            1 => Ok(Self::Input),
            _ => Err(WireError::BadValue),
        }
    }
}

/// Why bytes from the device were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireError {
    /// Fewer bytes than the structure needs.
    Short,
    /// A field holds a value that the spec does not allow.
    BadValue,
}

/// A device answer other than `VIRTIO_SND_S_OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeviceError {
    /// `VIRTIO_SND_S_BAD_MSG`: the request was malformed or not valid in this state.
    BadMsg,
    /// `VIRTIO_SND_S_NOT_SUPP`: the device does not support the request or its values.
    NotSupp,
    /// `VIRTIO_SND_S_IO_ERR`: the device failed.
    IoErr,
    /// A value that is no status code at all.
    Unknown(u32),
}

/// Checks the status code of a device answer.
pub(crate) fn check_status(code: u32) -> Result<(), DeviceError> {
    match code {
        status::OK => Ok(()),
        status::BAD_MSG => Err(DeviceError::BadMsg),
        status::NOT_SUPP => Err(DeviceError::NotSupp),
        status::IO_ERR => Err(DeviceError::IoErr),
        other => Err(DeviceError::Unknown(other)),
    }
}

/// The `u32` at `at`; `Short` if `b` ends before `at + 4`, also for an `at` so large that
/// `at + 4` overflows.
pub(crate) fn le32(b: &[u8], at: usize) -> Result<u32, WireError> {
    let end = at.checked_add(4).ok_or(WireError::Short)?;
    match b.get(at..end) {
        Some(&[a, b, c, d]) => Ok(u32::from_le_bytes([a, b, c, d])),
        _ => Err(WireError::Short),
    }
}

/// The `u64` at `at`; `Short` as [`le32`].
pub(crate) fn le64(b: &[u8], at: usize) -> Result<u64, WireError> {
    let lo = le32(b, at)?;
    let hi = le32(b, at.checked_add(4).ok_or(WireError::Short)?)?;
    Ok(u64::from(lo) | (u64::from(hi) << 32))
}

pub(crate) fn byte(b: &[u8], at: usize) -> Result<u8, WireError> {
    b.get(at).copied().ok_or(WireError::Short)
}

pub(crate) fn put32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Device configuration space (`struct virtio_snd_config`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) jacks: u32,
    pub(crate) streams: u32,
    pub(crate) chmaps: u32,
    pub(crate) controls: u32,
}

/// Byte offsets of the fields of `struct virtio_snd_config`.
pub(crate) mod config_offset {
    pub(crate) const JACKS: usize = 0;
    pub(crate) const STREAMS: usize = 4;
    pub(crate) const CHMAPS: usize = 8;
    pub(crate) const CONTROLS: usize = 12;
}

/// The most items of one kind that the driver accepts from a config space.
///
/// The spec sets no limit, but a device that claims millions of streams is broken or
/// hostile: the driver refuses it instead of allocating for it.
pub(crate) const MAX_ITEMS: u32 = 1024;

impl Config {
    /// Checks the counts of a config space that the device reported.
    pub(crate) fn validate(&self) -> Result<(), WireError> {
        let counts = [self.jacks, self.streams, self.chmaps, self.controls];
        if counts.iter().any(|&n| n > MAX_ITEMS) {
            return Err(WireError::BadValue);
        }
        Ok(())
    }
}

/// Size of `struct virtio_snd_hdr`.
pub(crate) const HDR_SIZE: usize = 4;
/// Size of `struct virtio_snd_query_info`.
pub(crate) const QUERY_INFO_SIZE: usize = 16;
/// Size of `struct virtio_snd_pcm_info`.
pub(crate) const PCM_INFO_SIZE: usize = 32;
/// Size of `struct virtio_snd_pcm_hdr`.
pub(crate) const PCM_HDR_SIZE: usize = 8;
/// Size of `struct virtio_snd_pcm_set_params`.
pub(crate) const PCM_SET_PARAMS_SIZE: usize = 24;
/// Size of `struct virtio_snd_pcm_xfer`.
pub(crate) const PCM_XFER_SIZE: usize = 4;
/// Size of `struct virtio_snd_pcm_status`.
pub(crate) const PCM_STATUS_SIZE: usize = 8;
/// Size of `struct virtio_snd_event`.
pub(crate) const EVENT_SIZE: usize = 8;

/// A `VIRTIO_SND_R_*_INFO` request (`struct virtio_snd_query_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QueryInfo {
    pub(crate) code: u32,
    pub(crate) start_id: u32,
    pub(crate) count: u32,
    pub(crate) size: u32,
}

impl QueryInfo {
    /// Serialises the request.
    pub(crate) fn to_bytes(self) -> [u8; QUERY_INFO_SIZE] {
        let mut out = [0u8; QUERY_INFO_SIZE];
        put32(&mut out, 0, self.code);
        put32(&mut out, 4, self.start_id);
        put32(&mut out, 8, self.count);
        put32(&mut out, 12, self.size);
        out
    }
}

/// One entry of a `VIRTIO_SND_R_PCM_INFO` answer (`struct virtio_snd_pcm_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PcmInfo {
    pub(crate) hda_fn_nid: u32,
    pub(crate) features: u32,
    pub(crate) formats: u64,
    pub(crate) rates: u64,
    pub(crate) direction: Direction,
    pub(crate) channels_min: u8,
    pub(crate) channels_max: u8,
}

impl PcmInfo {
    /// Parses and checks one entry.
    ///
    /// The entry must name at least one format and rate that this driver knows, and a
    /// non-empty channel range; otherwise the stream could never be opened.
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        if b.len() < PCM_INFO_SIZE {
            return Err(WireError::Short);
        }
        let info = Self {
            hda_fn_nid: le32(b, 0)?,
            features: le32(b, 4)?,
            formats: le64(b, 8)?,
            rates: le64(b, 16)?,
            direction: Direction::from_wire(byte(b, 24)?)?,
            channels_min: byte(b, 25)?,
            channels_max: byte(b, 26)?,
        };
        if info.channels_min == 0 || info.channels_min > info.channels_max {
            return Err(WireError::BadValue);
        }
        if info.formats & super::format::KNOWN_FORMATS == 0
            || info.rates & super::format::KNOWN_RATES == 0
        {
            return Err(WireError::BadValue);
        }
        Ok(info)
    }

    /// Serialises the entry (used by tests and by test devices).
    pub(crate) fn to_bytes(self) -> [u8; PCM_INFO_SIZE] {
        let mut out = [0u8; PCM_INFO_SIZE];
        put32(&mut out, 0, self.hda_fn_nid);
        put32(&mut out, 4, self.features);
        out[8..16].copy_from_slice(&self.formats.to_le_bytes());
        out[16..24].copy_from_slice(&self.rates.to_le_bytes());
        out[24] = match self.direction {
            Direction::Output => 0,
            Direction::Input => 1,
        };
        out[25] = self.channels_min;
        out[26] = self.channels_max;
        out
    }
}

/// A request that names one stream: `PREPARE`, `RELEASE`, `START`, `STOP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PcmHdr {
    pub(crate) code: u32,
    pub(crate) stream_id: u32,
}

impl PcmHdr {
    /// Serialises the request.
    pub(crate) fn to_bytes(self) -> [u8; PCM_HDR_SIZE] {
        let mut out = [0u8; PCM_HDR_SIZE];
        put32(&mut out, 0, self.code);
        put32(&mut out, 4, self.stream_id);
        out
    }
}

/// A `VIRTIO_SND_R_PCM_SET_PARAMS` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PcmSetParams {
    pub(crate) stream_id: u32,
    pub(crate) buffer_bytes: u32,
    pub(crate) period_bytes: u32,
    pub(crate) features: u32,
    pub(crate) channels: u8,
    /// Index into the spec's format table (`VIRTIO_SND_PCM_FMT_*`).
    pub(crate) format: u8,
    /// Index into the spec's rate table (`VIRTIO_SND_PCM_RATE_*`).
    pub(crate) rate: u8,
}

impl PcmSetParams {
    /// Serialises the request.
    pub(crate) fn to_bytes(self) -> [u8; PCM_SET_PARAMS_SIZE] {
        let mut out = [0u8; PCM_SET_PARAMS_SIZE];
        put32(&mut out, 0, code::PCM_SET_PARAMS);
        put32(&mut out, 4, self.stream_id);
        put32(&mut out, 8, self.buffer_bytes);
        put32(&mut out, 12, self.period_bytes);
        put32(&mut out, 16, self.features);
        out[20] = self.channels;
        out[21] = self.format;
        out[22] = self.rate;
        out
    }
}

/// The header of an I/O message (`struct virtio_snd_pcm_xfer`).
pub(crate) fn pcm_xfer(stream_id: u32) -> [u8; PCM_XFER_SIZE] {
    stream_id.to_le_bytes()
}

/// The trailer of an I/O message (`struct virtio_snd_pcm_status`), as the device wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PcmStatus {
    pub(crate) status: u32,
    pub(crate) latency_bytes: u32,
}

impl PcmStatus {
    /// Parses the trailer.
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        Ok(Self {
            status: le32(b, 0)?,
            latency_bytes: le32(b, 4)?,
        })
    }
}

/// An event from the event queue (`struct virtio_snd_event`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    JackConnected(u32),
    JackDisconnected(u32),
    PcmPeriodElapsed(u32),
    PcmXrun(u32),
    CtlNotify(u32),
}

impl Event {
    /// Parses an event. `len` is the length that the device reported as written.
    pub(crate) fn parse(b: &[u8]) -> Result<Self, WireError> {
        let data = le32(b, 4)?;
        match le32(b, 0)? {
            code::EVT_JACK_CONNECTED => Ok(Self::JackConnected(data)),
            code::EVT_JACK_DISCONNECTED => Ok(Self::JackDisconnected(data)),
            code::EVT_PCM_PERIOD_ELAPSED => Ok(Self::PcmPeriodElapsed(data)),
            code::EVT_PCM_XRUN => Ok(Self::PcmXrun(data)),
            code::EVT_CTL_NOTIFY => Ok(Self::CtlNotify(data)),
            _ => Err(WireError::BadValue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_info() -> PcmInfo {
        PcmInfo {
            hda_fn_nid: 7,
            features: 0,
            formats: 1 << 5,
            rates: 1 << 7,
            direction: Direction::Input,
            channels_min: 1,
            channels_max: 2,
        }
    }

    #[test]
    fn status_codes_map_to_errors() {
        assert_eq!(check_status(0x8000), Ok(()));
        assert_eq!(check_status(0x8001), Err(DeviceError::BadMsg));
        assert_eq!(check_status(0x8002), Err(DeviceError::NotSupp));
        assert_eq!(check_status(0x8003), Err(DeviceError::IoErr));
        assert_eq!(check_status(0), Err(DeviceError::Unknown(0)));
        assert_eq!(check_status(0x8004), Err(DeviceError::Unknown(0x8004)));
    }

    #[test]
    fn query_info_layout() {
        let q = QueryInfo {
            code: code::PCM_INFO,
            start_id: 1,
            count: 2,
            size: 32,
        };
        assert_eq!(
            q.to_bytes(),
            [0x00, 0x01, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 32, 0, 0, 0]
        );
    }

    #[test]
    fn set_params_layout() {
        let p = PcmSetParams {
            stream_id: 3,
            buffer_bytes: 0x1_0000,
            period_bytes: 0x4000,
            features: 0,
            channels: 2,
            format: 5,
            rate: 7,
        };
        let b = p.to_bytes();
        assert_eq!(&b[0..4], &[0x01, 0x01, 0, 0]);
        assert_eq!(&b[4..8], &[3, 0, 0, 0]);
        assert_eq!(&b[8..12], &[0, 0, 1, 0]);
        assert_eq!(&b[12..16], &[0, 0x40, 0, 0]);
        assert_eq!(&b[20..24], &[2, 5, 7, 0]);
    }

    #[test]
    fn pcm_info_round_trip() {
        let info = sample_info();
        assert_eq!(PcmInfo::parse(&info.to_bytes()), Ok(info));
    }

    #[test]
    fn pcm_info_refuses_short_and_bad_entries() {
        let good = sample_info().to_bytes();
        assert_eq!(PcmInfo::parse(&good[..31]), Err(WireError::Short));
        let mut bad_dir = good;
        bad_dir[24] = 2;
        assert_eq!(PcmInfo::parse(&bad_dir), Err(WireError::BadValue));
        let mut no_channels = good;
        no_channels[25] = 0;
        assert_eq!(PcmInfo::parse(&no_channels), Err(WireError::BadValue));
        let mut inverted = good;
        inverted[25] = 3;
        assert_eq!(PcmInfo::parse(&inverted), Err(WireError::BadValue));
        let mut no_format = good;
        no_format[8..16].fill(0);
        assert_eq!(PcmInfo::parse(&no_format), Err(WireError::BadValue));
        let mut unknown_rates_only = good;
        unknown_rates_only[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert_eq!(
            PcmInfo::parse(&unknown_rates_only),
            Err(WireError::BadValue)
        );
    }

    #[test]
    fn config_limits() {
        let mut c = Config {
            jacks: 0,
            streams: 2,
            chmaps: 0,
            controls: 0,
        };
        assert_eq!(c.validate(), Ok(()));
        c.streams = MAX_ITEMS + 1;
        assert_eq!(c.validate(), Err(WireError::BadValue));
    }

    #[test]
    fn events_parse() {
        let mut b = [0u8; 8];
        b[0..4].copy_from_slice(&code::EVT_PCM_XRUN.to_le_bytes());
        b[4..8].copy_from_slice(&9u32.to_le_bytes());
        assert_eq!(Event::parse(&b), Ok(Event::PcmXrun(9)));
        assert_eq!(Event::parse(&b[..7]), Err(WireError::Short));
        b[0] = 0x77;
        assert_eq!(Event::parse(&b), Err(WireError::BadValue));
    }

    #[test]
    fn reads_near_the_end_of_the_address_space_are_short() {
        // Found by the cargo-fuzz target `ctl_value` (`CtlValue::integer(usize::MAX / 4)`):
        // `at + 4` overflowed, a panic with overflow checks.
        let b = [0u8; 16];
        for at in [usize::MAX, usize::MAX - 3, usize::MAX - 4, usize::MAX - 7] {
            assert_eq!(le32(&b, at), Err(WireError::Short), "le32 at {at:#x}");
            assert_eq!(le64(&b, at), Err(WireError::Short), "le64 at {at:#x}");
        }
        assert_eq!(le32(&b, 12), Ok(0));
        assert_eq!(le64(&b, 8), Ok(0));
        assert_eq!(le64(&b, 9), Err(WireError::Short));
    }

    #[test]
    fn pcm_status_parse() {
        let b = [0x00, 0x80, 0, 0, 0x10, 0, 0, 0];
        assert_eq!(
            PcmStatus::parse(&b),
            Ok(PcmStatus {
                status: status::OK,
                latency_bytes: 16
            })
        );
        assert_eq!(PcmStatus::parse(&b[..5]), Err(WireError::Short));
    }
}
