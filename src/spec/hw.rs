// SPDX-License-Identifier: GPL-2.0

//! Translation of a device's `PCM_INFO` into the hardware description that ALSA wants.

use super::format::{self, FORMATS, RATES};
use super::wire::PcmInfo;

/// Buffer and period limits, as set by the module parameters.
///
/// # Invariants
///
/// `2 <= periods_min <= periods_max <= MAX_PERIODS`, `1 <= buffer_ms <= MAX_BUFFER_MS`,
/// `1 <= period_us_min <= period_ms_max * 1000`, `period_ms_max <= buffer_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    buffer_ms: u32,
    periods_min: u32,
    periods_max: u32,
    period_us_min: u32,
    period_ms_max: u32,
}

/// The largest buffer, in milliseconds of audio, that the parameters may ask for.
pub(crate) const MAX_BUFFER_MS: u32 = 10_000;
/// The most periods per buffer that the parameters may ask for.
pub(crate) const MAX_PERIODS: u32 = 1024;

/// A module parameter value that makes no sense, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LimitError {
    /// `pcm_buffer_ms` is 0 or above [`MAX_BUFFER_MS`].
    BufferMs,
    /// `pcm_periods_min` or `pcm_periods_max` is out of `2..=MAX_PERIODS`, or min > max.
    Periods,
    /// `pcm_period_us_min` is 0, or above `pcm_period_ms_max`.
    PeriodMin,
    /// `pcm_period_ms_max` is 0, or above `pcm_buffer_ms`.
    PeriodMax,
    /// `pcm_periods_min` periods of `pcm_period_us_min` do not fit in `pcm_buffer_ms`.
    TooManyPeriods,
}

impl LimitError {
    /// A sentence that tells the user what to fix.
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Self::BufferMs => "pcm_buffer_ms must be between 1 and 10000",
            Self::Periods => "pcm_periods_min/max must satisfy 2 <= min <= max <= 1024",
            Self::PeriodMin => "pcm_period_us_min must be between 1 and pcm_period_ms_max * 1000",
            Self::PeriodMax => "pcm_period_ms_max must be between 1 and pcm_buffer_ms",
            Self::TooManyPeriods => {
                "pcm_periods_min * pcm_period_us_min must not exceed pcm_buffer_ms * 1000"
            }
        }
    }
}

impl Limits {
    /// Default `pcm_buffer_ms` (as the C driver).
    pub(crate) const DEFAULT_BUFFER_MS: u32 = 160;
    /// Default `pcm_periods_min` (as the C driver).
    pub(crate) const DEFAULT_PERIODS_MIN: u32 = 2;
    /// Default `pcm_periods_max` (as the C driver).
    pub(crate) const DEFAULT_PERIODS_MAX: u32 = 16;
    /// Default `pcm_period_us_min`: 1 ms, ten times lower than the C driver's 10 ms, for
    /// low-latency clients.
    pub(crate) const DEFAULT_PERIOD_US_MIN: u32 = 1000;
    /// Default `pcm_period_ms_max` (as the C driver).
    pub(crate) const DEFAULT_PERIOD_MS_MAX: u32 = 80;

    /// Checks module parameter values.
    pub(crate) fn new(
        buffer_ms: u32,
        periods_min: u32,
        periods_max: u32,
        period_us_min: u32,
        period_ms_max: u32,
    ) -> Result<Self, LimitError> {
        if buffer_ms == 0 || buffer_ms > MAX_BUFFER_MS {
            return Err(LimitError::BufferMs);
        }
        if periods_min < 2 || periods_min > periods_max || periods_max > MAX_PERIODS {
            return Err(LimitError::Periods);
        }
        if period_ms_max == 0 || period_ms_max > buffer_ms {
            return Err(LimitError::PeriodMax);
        }
        if period_us_min == 0 || u64::from(period_us_min) > u64::from(period_ms_max) * 1000 {
            return Err(LimitError::PeriodMin);
        }
        // The fewest periods of the shortest length must fit in the largest buffer.
        if u64::from(period_us_min) * u64::from(periods_min) > u64::from(buffer_ms) * 1000 {
            return Err(LimitError::TooManyPeriods);
        }
        // INVARIANT: every bound of the type invariant was checked above.
        Ok(Self {
            buffer_ms,
            periods_min,
            periods_max,
            period_us_min,
            period_ms_max,
        })
    }
}

impl Default for Limits {
    fn default() -> Self {
        // INVARIANT: the defaults satisfy the invariant (checked by a unit test).
        Self {
            buffer_ms: Self::DEFAULT_BUFFER_MS,
            periods_min: Self::DEFAULT_PERIODS_MIN,
            periods_max: Self::DEFAULT_PERIODS_MAX,
            period_us_min: Self::DEFAULT_PERIOD_US_MIN,
            period_ms_max: Self::DEFAULT_PERIOD_MS_MAX,
        }
    }
}

/// What a stream can do, in ALSA's terms (the fields of `struct snd_pcm_hardware`).
///
/// The one description of a substream's hardware: [`hardware`] derives it from the
/// device's `PCM_INFO`, and the PCM abstraction (`crate::alsa::pcm`) installs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Hardware {
    /// `SNDRV_PCM_INFO_*` flags (the driver's choice: [`hardware`] leaves them 0).
    pub(crate) info: u32,
    /// Bit mask of `SNDRV_PCM_FORMAT_*` values (bit `n` for format `n`).
    pub(crate) formats: u64,
    /// Bit mask of `SNDRV_PCM_RATE_*`.
    pub(crate) rates: u32,
    pub(crate) rate_min: u32,
    pub(crate) rate_max: u32,
    pub(crate) channels_min: u32,
    pub(crate) channels_max: u32,
    pub(crate) buffer_bytes_max: usize,
    pub(crate) period_bytes_min: usize,
    pub(crate) period_bytes_max: usize,
    pub(crate) periods_min: u32,
    pub(crate) periods_max: u32,
}

impl Hardware {
    /// Limits periods to what one message may lend the device on a virtqueue of `ring`
    /// entries, with buffers of `page`-byte pages: a period message is a chain of the
    /// header, one descriptor per page of the period (one more when it starts inside a
    /// page) and the status, and the virtio spec forbids a chain longer than the queue
    /// (with indirect descriptors too). Never below `period_bytes_min`.
    pub(crate) fn fit_ring(self, ring: u32, page: usize) -> Self {
        let pages = (ring as usize).saturating_sub(3);
        let max = pages.saturating_mul(page).max(self.period_bytes_min);
        Self {
            period_bytes_max: self.period_bytes_max.min(max),
            ..self
        }
    }
}

/// Bytes per second of a stream, rounded up.
fn byte_rate(channels: u32, bits: u32, rate: u32) -> u64 {
    (u64::from(channels) * u64::from(bits) * u64::from(rate)).div_ceil(8)
}

/// Rounds `n` up to a multiple of `to` (a power of two).
fn align_up(n: u64, to: u64) -> u64 {
    (n + to - 1) & !(to - 1)
}

/// Allocation granule for the buffer size limit.
const PAGE_SIZE: u64 = 4096;

/// The largest PCM buffer. The buffer is `vmalloc` memory, so the allocator does not set
/// this limit any more (it did when the buffer was physically contiguous:
/// `PAGE_SIZE << MAX_PAGE_ORDER`, 4 MiB); it stays, as the largest buffer that anything
/// asked for (`pcm_buffer_ms` still sets the usual one).
pub(crate) const MAX_BUFFER_BYTES: u64 = 4 << 20;

/// Translates `PCM_INFO` into ALSA's hardware description.
///
/// Formats and rates that the driver does not know are left out. `info` has passed
/// [`PcmInfo::parse`], so at least one known format and rate remain.
pub(crate) fn hardware(info: &PcmInfo, limits: &Limits) -> Hardware {
    let mut hw = Hardware {
        channels_min: u32::from(info.channels_min),
        channels_max: u32::from(info.channels_max),
        periods_min: limits.periods_min,
        periods_max: limits.periods_max,
        rate_min: u32::MAX,
        ..Hardware::default()
    };
    let (mut bits_min, mut bits_max) = (u32::MAX, 0);
    for fmt in format::selected(&FORMATS, info.formats) {
        hw.formats |= 1u64.checked_shl(fmt.alsa).unwrap_or(0);
        bits_min = bits_min.min(fmt.physical_bits);
        bits_max = bits_max.max(fmt.physical_bits);
    }
    for rate in format::selected(&RATES, info.rates) {
        hw.rates |= rate.alsa_bit;
        hw.rate_min = hw.rate_min.min(rate.hz);
        hw.rate_max = hw.rate_max.max(rate.hz);
    }
    if hw.formats == 0 || hw.rates == 0 {
        // Unreachable for parsed input; keep the description empty rather than absurd.
        return Hardware::default();
    }

    let max_rate = byte_rate(hw.channels_max, bits_max, hw.rate_max);
    let min_rate = byte_rate(hw.channels_min, bits_min, hw.rate_min);
    // The smallest possible frame, so that a period is never below one frame.
    let min_frame = u64::from(hw.channels_min * bits_min).div_ceil(8);

    let buffer_max =
        align_up(max_rate * u64::from(limits.buffer_ms) / 1000, PAGE_SIZE).min(MAX_BUFFER_BYTES);
    let period_max = max_rate * u64::from(limits.period_ms_max) / 1000;
    let period_min = (min_rate * u64::from(limits.period_us_min) / 1_000_000).max(min_frame);

    let clamp = |v: u64| usize::try_from(v.min(u64::from(u32::MAX))).unwrap_or(usize::MAX);
    hw.buffer_bytes_max = clamp(buffer_max);
    let per_period = buffer_max
        .checked_div(u64::from(limits.periods_min))
        .unwrap_or(0);
    hw.period_bytes_max = clamp(period_max.min(per_period));
    // Never above the maximum, or no period size would fit.
    hw.period_bytes_min = clamp(period_min.min(period_max).min(per_period));
    hw
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::wire::Direction;

    #[test]
    fn periods_fit_the_ring() {
        let hw = Hardware {
            period_bytes_min: 64,
            period_bytes_max: 983_040,
            ..Hardware::default()
        };
        // QEMU's 64 entries: header, status, and 61 pages at most.
        assert_eq!(hw.fit_ring(64, 4096).period_bytes_max, 61 * 4096);
        // A chain of 64 descriptors for the largest period that starts inside a page.
        let max = hw.fit_ring(64, 4096).period_bytes_max;
        assert!(max.div_ceil(4096) + 1 + 2 <= 64);
        // A period that fits stays; a tiny ring never goes below the minimum.
        assert_eq!(hw.fit_ring(1024, 4096).period_bytes_max, 983_040);
        assert_eq!(hw.fit_ring(2, 4096).period_bytes_max, 64);
    }

    fn qemu_like() -> PcmInfo {
        // QEMU 10.0: U8, S16, S32, FLOAT; 8 kHz ... 192 kHz; stereo only in practice.
        PcmInfo {
            hda_fn_nid: 0,
            features: 0,
            formats: (1 << 4) | (1 << 5) | (1 << 17) | (1 << 19),
            rates: (1 << 1)
                | (1 << 2)
                | (1 << 3)
                | (1 << 4)
                | (1 << 5)
                | (1 << 6)
                | (1 << 7)
                | (1 << 8)
                | (1 << 9)
                | (1 << 10)
                | (1 << 11)
                | (1 << 12),
            direction: Direction::Output,
            channels_min: 1,
            channels_max: 2,
        }
    }

    #[test]
    fn defaults_are_valid() {
        let d = Limits::default();
        assert_eq!(
            Limits::new(
                d.buffer_ms,
                d.periods_min,
                d.periods_max,
                d.period_us_min,
                d.period_ms_max
            ),
            Ok(d)
        );
    }

    #[test]
    fn nonsense_limits_are_refused() {
        assert_eq!(Limits::new(0, 2, 16, 1000, 80), Err(LimitError::BufferMs));
        assert_eq!(
            Limits::new(10_001, 2, 16, 1000, 80),
            Err(LimitError::BufferMs)
        );
        assert_eq!(Limits::new(160, 1, 16, 1000, 80), Err(LimitError::Periods));
        assert_eq!(Limits::new(160, 8, 4, 1000, 80), Err(LimitError::Periods));
        assert_eq!(
            Limits::new(160, 2, 1025, 1000, 80),
            Err(LimitError::Periods)
        );
        assert_eq!(Limits::new(160, 2, 16, 0, 80), Err(LimitError::PeriodMin));
        assert_eq!(
            Limits::new(160, 2, 16, 80_001, 80),
            Err(LimitError::PeriodMin)
        );
        assert_eq!(Limits::new(160, 2, 16, 1000, 0), Err(LimitError::PeriodMax));
        assert_eq!(
            Limits::new(160, 2, 16, 1000, 161),
            Err(LimitError::PeriodMax)
        );
        assert_eq!(
            Limits::new(u32::MAX, u32::MAX, u32::MAX, u32::MAX, u32::MAX),
            Err(LimitError::BufferMs)
        );
    }

    #[test]
    fn qemu_device_translates_honestly() {
        let hw = hardware(&qemu_like(), &Limits::default());
        // U8 = 1, S16_LE = 2, S32_LE = 10, FLOAT_LE = 14.
        assert_eq!(hw.formats, (1 << 1) | (1 << 2) | (1 << 10) | (1 << 14));
        assert_eq!((hw.rate_min, hw.rate_max), (8000, 192_000));
        assert_eq!(hw.rates, 0x1ffe);
        assert_eq!((hw.channels_min, hw.channels_max), (1, 2));
        // 192 kHz * 2 ch * 4 bytes * 160 ms = 245760 bytes, page aligned.
        assert_eq!(hw.buffer_bytes_max, 245_760);
        // 8 kHz * 1 ch * 1 byte * 1 ms = 8 bytes.
        assert_eq!(hw.period_bytes_min, 8);
        // 192 kHz * 2 ch * 4 bytes * 80 ms = 122880 bytes = buffer / 2.
        assert_eq!(hw.period_bytes_max, 122_880);
        assert_eq!((hw.periods_min, hw.periods_max), (2, 16));
    }

    #[test]
    fn buffers_fit_one_contiguous_allocation() {
        // 255 channels of S32 at 192 kHz: 160 ms would be 31 MB.
        let mut info = qemu_like();
        info.channels_max = 255;
        let hw = hardware(&info, &Limits::default());
        assert_eq!(hw.buffer_bytes_max as u64, MAX_BUFFER_BYTES);
        assert!(hw.period_bytes_max <= hw.buffer_bytes_max / 2);
        assert!(hw.period_bytes_min <= hw.period_bytes_max);
    }

    #[test]
    fn period_is_never_below_one_frame() {
        let mut info = qemu_like();
        info.formats = 1 << 20; // FLOAT64 only: 8-byte samples
        info.rates = 1 << 0; // 5512 Hz
        info.channels_min = 8;
        info.channels_max = 8;
        let limits = Limits::new(160, 2, 16, 1, 80).unwrap();
        let hw = hardware(&info, &limits);
        assert_eq!(hw.period_bytes_min, 64);
    }

    #[test]
    fn unknown_bits_are_left_out() {
        let mut info = qemu_like();
        info.formats |= 1 << 60;
        info.rates |= 1 << 50;
        let hw = hardware(&info, &Limits::default());
        assert_eq!(hw, hardware(&qemu_like(), &Limits::default()));
    }
}
