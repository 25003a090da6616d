// SPDX-License-Identifier: GPL-2.0

//! The spec's format and rate tables, and their ALSA equivalents.

/// One entry of the spec's format table (`VIRTIO_SND_PCM_FMT_*`, by index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Format {
    /// ALSA's `SNDRV_PCM_FORMAT_*` value (uapi, stable).
    pub(crate) alsa: u32,
    /// Bits one sample occupies in the buffer (ALSA's physical width).
    pub(crate) physical_bits: u32,
}

const fn f(alsa: u32, physical_bits: u32) -> Format {
    Format {
        alsa,
        physical_bits,
    }
}

/// The spec's formats, indexed by `VIRTIO_SND_PCM_FMT_*`.
pub(crate) const FORMATS: [Format; 25] = [
    f(22, 4),  // IMA_ADPCM
    f(20, 8),  // MU_LAW
    f(21, 8),  // A_LAW
    f(0, 8),   // S8
    f(1, 8),   // U8
    f(2, 16),  // S16 -> S16_LE
    f(4, 16),  // U16 -> U16_LE
    f(40, 24), // S18_3 -> S18_3LE
    f(42, 24), // U18_3 -> U18_3LE
    f(36, 24), // S20_3 -> S20_3LE
    f(38, 24), // U20_3 -> U20_3LE
    f(32, 24), // S24_3 -> S24_3LE
    f(34, 24), // U24_3 -> U24_3LE
    f(25, 32), // S20 -> S20_LE
    f(27, 32), // U20 -> U20_LE
    f(6, 32),  // S24 -> S24_LE
    f(8, 32),  // U24 -> U24_LE
    f(10, 32), // S32 -> S32_LE
    f(12, 32), // U32 -> U32_LE
    f(14, 32), // FLOAT -> FLOAT_LE
    f(16, 64), // FLOAT64 -> FLOAT64_LE
    f(48, 8),  // DSD_U8
    f(49, 16), // DSD_U16 -> DSD_U16_LE
    f(50, 32), // DSD_U32 -> DSD_U32_LE
    f(18, 32), // IEC958_SUBFRAME -> IEC958_SUBFRAME_LE
];

/// Mask of the spec's format bits that this driver knows.
pub(crate) const KNOWN_FORMATS: u64 = (1 << FORMATS.len()) - 1;

/// One entry of the spec's rate table (`VIRTIO_SND_PCM_RATE_*`, by index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rate {
    pub(crate) hz: u32,
    /// ALSA's `SNDRV_PCM_RATE_*` bit.
    pub(crate) alsa_bit: u32,
}

const fn r(hz: u32, bit: u32) -> Rate {
    Rate {
        hz,
        alsa_bit: 1 << bit,
    }
}

/// The spec's rates, indexed by `VIRTIO_SND_PCM_RATE_*`. Virtio 1.4 appended 12000 and 24000
/// after 384000 (ALSA's "extended" rate bits 17 and 18, after 768000).
pub(crate) const RATES: [Rate; 16] = [
    r(5512, 0),
    r(8000, 1),
    r(11025, 2),
    r(16000, 3),
    r(22050, 4),
    r(32000, 5),
    r(44100, 6),
    r(48000, 7),
    r(64000, 8),
    r(88200, 9),
    r(96000, 10),
    r(176400, 11),
    r(192000, 12),
    r(384000, 14),
    r(12000, 17),
    r(24000, 18),
];

/// Mask of the spec's rate bits that this driver knows.
pub(crate) const KNOWN_RATES: u64 = (1 << RATES.len()) - 1;

/// Whether bit `i` of `mask` is set (false beyond bit 63).
fn bit(mask: u64, i: usize) -> bool {
    u32::try_from(i)
        .ok()
        .and_then(|i| 1u64.checked_shl(i))
        .is_some_and(|b| mask & b != 0)
}

/// Finds the spec's index of an ALSA format, among those that `mask` allows.
pub(crate) fn format_index(alsa: u32, mask: u64) -> Option<u8> {
    FORMATS
        .iter()
        .enumerate()
        .find(|&(i, fmt)| fmt.alsa == alsa && bit(mask, i))
        .and_then(|(i, _)| u8::try_from(i).ok())
}

/// Finds the spec's index of a rate in Hz, among those that `mask` allows.
pub(crate) fn rate_index(hz: u32, mask: u64) -> Option<u8> {
    RATES
        .iter()
        .enumerate()
        .find(|&(i, rate)| rate.hz == hz && bit(mask, i))
        .and_then(|(i, _)| u8::try_from(i).ok())
}

/// Iterates over the table entries that a device bit mask selects.
pub(crate) fn selected<T: Copy>(table: &[T], mask: u64) -> impl Iterator<Item = T> + '_ {
    table
        .iter()
        .enumerate()
        .filter(move |&(i, _)| bit(mask, i))
        .map(|(_, &t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_consistent() {
        // Every ALSA format appears once, and the physical widths are whole bytes per
        // frame for two channels (IMA ADPCM, 4 bits, is the only sub-byte format).
        for (i, a) in FORMATS.iter().enumerate() {
            for b in &FORMATS[i + 1..] {
                assert_ne!(a.alsa, b.alsa);
            }
            assert!(a.physical_bits % 8 == 0 || a.physical_bits == 4);
        }
        // Rates up to 384000 are strictly increasing, and so are their ALSA bits; the rates
        // of virtio 1.4 come after them, as do their ALSA bits.
        for w in RATES.windows(2) {
            assert!(w[0].alsa_bit < w[1].alsa_bit);
        }
        for w in RATES[..14].windows(2) {
            assert!(w[0].hz < w[1].hz);
        }
        for (i, a) in RATES.iter().enumerate() {
            for b in &RATES[i + 1..] {
                assert_ne!(a.hz, b.hz);
            }
        }
        assert_eq!(
            (RATES[13].hz, RATES[14].hz, RATES[15].hz),
            (384_000, 12_000, 24_000)
        );
    }

    #[test]
    fn lookups_respect_the_mask() {
        // S16_LE is spec index 5.
        assert_eq!(format_index(2, 1 << 5), Some(5));
        assert_eq!(format_index(2, 1 << 4), None);
        assert_eq!(format_index(999, u64::MAX), None);
        // 48 kHz is spec index 7.
        assert_eq!(rate_index(48000, 1 << 7), Some(7));
        assert_eq!(rate_index(48000, 1 << 6), None);
        assert_eq!(rate_index(12345, u64::MAX), None);
        // The rates that virtio 1.4 appended.
        assert_eq!(rate_index(12000, u64::MAX), Some(14));
        assert_eq!(rate_index(24000, 1 << 15), Some(15));
    }

    #[test]
    fn selection_by_mask() {
        let hz: [u32; 3] = [0, 1, 2].map(|i| RATES[i].hz);
        let mut it = selected(&RATES, 0b101).map(|r| r.hz);
        assert_eq!(it.next(), Some(hz[0]));
        assert_eq!(it.next(), Some(hz[2]));
        assert_eq!(it.next(), None);
        // Bits beyond the table are ignored rather than indexing out of bounds.
        assert_eq!(selected(&RATES, 1 << 63).count(), 0);
    }
}
