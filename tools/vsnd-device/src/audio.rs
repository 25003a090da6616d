// SPDX-License-Identifier: GPL-2.0
//! Capture data: a sine (or silence) in any of the offered sample formats.

use crate::proto::*;

/// Fills `out` with whole frames of a sine of `freq` Hz (0: silence) at amplitude `amp`
/// (0..1 of full scale), the same on every channel. `phase` (0..1) carries over between calls.
/// Bytes after the last whole frame are silence.
pub fn fill(p: &Params, freq: f64, amp: f64, phase: &mut f64, out: &mut [u8]) {
    let sf = sample_format(p.format).unwrap_or(S16);
    let fb = sf.bytes * p.channels.max(1) as usize;
    let step = freq / f64::from(p.rate_hz());
    let frames = out.len() / fb;
    for f in 0..frames {
        let v = if freq > 0.0 {
            amp * (2.0 * std::f64::consts::PI * *phase).sin()
        } else {
            0.0
        };
        *phase += step;
        *phase -= phase.floor();
        let frame = &mut out[f * fb..(f + 1) * fb];
        for ch in frame.chunks_exact_mut(sf.bytes) {
            encode_sample(&sf, v, ch);
        }
    }
    sf.fill_silence(&mut out[frames * fb..]);
}

/// S16, for a format that is not offered (not reached: SET_PARAMS checks the format).
const S16: SampleFormat = SampleFormat {
    kind: SampleKind::Signed,
    bits: 16,
    bytes: 2,
};

/// One sample of value `v` (-1..1): integers scaled to +-(2^(bits-1) - 1) and rounded
/// (unsigned ones offset by 2^(bits-1)), floats as they are.
fn encode_sample(sf: &SampleFormat, v: f64, dst: &mut [u8]) {
    let v = v.clamp(-1.0, 1.0);
    let full = ((1u64 << (sf.bits - 1)) - 1) as f64;
    let raw = match (sf.kind, sf.bits) {
        (SampleKind::Float, 32) => u64::from((v as f32).to_bits()),
        (SampleKind::Float, _) => v.to_bits(),
        (SampleKind::Signed, _) => (v * full).round() as i64 as u64,
        (SampleKind::Unsigned, _) => ((v * full).round() as i64 + (1i64 << (sf.bits - 1))) as u64,
    };
    sf.store(raw, dst);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(format: u8, channels: u8) -> Params {
        Params {
            buffer_bytes: 0,
            period_bytes: 0,
            features: 0,
            channels,
            format,
            rate: 7,
        }
    }

    #[test]
    fn s16_stereo_sine() {
        let mut out = vec![0u8; 48 * 4 + 3];
        let mut ph = 0.0;
        // 1 kHz at 48 kHz: one period is 48 frames; frame 12 is the peak.
        fill(&p(FMT_S16, 2), 1000.0, 0.5, &mut ph, &mut out);
        let s = |i: usize| i16::from_le_bytes([out[i * 2], out[i * 2 + 1]]);
        assert_eq!(s(0), 0);
        assert_eq!(s(24), 16384);
        assert_eq!(s(25), 16384);
        assert!(s(72) < -16000);
        assert_eq!(out[192..], [0, 0, 0]);
        assert!(ph.abs() < 1e-9 || (ph - 1.0).abs() < 1e-9);
    }

    #[test]
    fn any_channel_count() {
        // 6 x S16: 12-byte frames, every channel the same sample; a partial frame is silence.
        let mut out = vec![0xaau8; 48 * 12 + 5];
        let mut ph = 0.0;
        fill(&p(FMT_S16, 6), 1000.0, 0.5, &mut ph, &mut out);
        for f in 0..48 {
            let fr = &out[f * 12..(f + 1) * 12];
            assert!(fr.chunks(2).all(|c| c == &fr[..2]), "frame {f}");
        }
        let s = |f: usize| i16::from_le_bytes([out[f * 12], out[f * 12 + 1]]);
        assert_eq!((s(0), s(12)), (0, 16384));
        assert!(s(36) < -16000);
        assert_eq!(out[576..], [0; 5]);
        assert!(ph.abs() < 1e-9 || (ph - 1.0).abs() < 1e-9);
        // The phase goes on where the previous call stopped, whatever the frame size.
        let mut a = vec![0u8; 8 * 32 * 10];
        let mut ph = 0.0;
        fill(&p(FMT_S32, 8), 1000.0, 0.5, &mut ph, &mut a);
        let mut b = vec![0u8; 8 * 32 * 10];
        let mut ph2 = 0.0;
        let (b1, b2) = b.split_at_mut(8 * 32 * 3);
        fill(&p(FMT_S32, 8), 1000.0, 0.5, &mut ph2, b1);
        fill(&p(FMT_S32, 8), 1000.0, 0.5, &mut ph2, b2);
        assert_eq!(a, b);
        // 255 channels of FLOAT.
        let mut out = vec![0u8; 255 * 4 * 13];
        let mut ph = 0.0;
        fill(&p(FMT_FLOAT, 255), 1000.0, 0.5, &mut ph, &mut out);
        let v = |f: usize, ch: usize| {
            let o = (f * 255 + ch) * 4;
            f32::from_le_bytes(out[o..o + 4].try_into().unwrap())
        };
        assert_eq!((v(12, 0), v(12, 254)), (0.5, 0.5));
        assert_eq!(v(0, 100), 0.0);
    }

    #[test]
    fn silence_and_u8() {
        let mut out = vec![1u8; 8];
        let mut ph = 0.0;
        fill(&p(FMT_U8, 1), 0.0, 0.5, &mut ph, &mut out);
        assert_eq!(out, [0x80; 8]);
        let mut out = vec![1u8; 8];
        fill(&p(FMT_FLOAT, 2), 0.0, 0.5, &mut ph, &mut out);
        assert_eq!(out, [0; 8]);
    }

    #[test]
    fn every_format() {
        // Frame 12 of a 1 kHz sine at 48 kHz is the peak (0.5), frame 36 the trough.
        for (format, peak) in [
            (FMT_S8, vec![64u8]),
            (FMT_U8, vec![0xc0]),
            (FMT_S16, vec![0x00, 0x40]),
            (FMT_U16, vec![0x00, 0xc0]),
            (FMT_S24_3, vec![0x00, 0x00, 0x40]),
            (FMT_S24, vec![0x00, 0x00, 0x40, 0x00]),
            (FMT_S32, vec![0x00, 0x00, 0x00, 0x40]),
            (FMT_U32, vec![0x00, 0x00, 0x00, 0xc0]),
            (FMT_FLOAT, 0.5f32.to_le_bytes().to_vec()),
            (FMT_FLOAT64, 0.5f64.to_le_bytes().to_vec()),
        ] {
            let sb = peak.len();
            let mut out = vec![0x55u8; 48 * sb + 1];
            let mut ph = 0.0;
            fill(&p(format, 1), 1000.0, 0.5, &mut ph, &mut out);
            let s = |f: usize| &out[f * sb..(f + 1) * sb];
            let name = format_name(format);
            let sf = sample_format(format).unwrap();
            assert_eq!(s(12), &peak[..], "{name}");
            // The trough: the peak mirrored about silence (within the rounding of one LSB).
            let v = |b: &[u8]| {
                let mut x = [0u8; 8];
                x[..sb].copy_from_slice(b);
                u64::from_le_bytes(x)
            };
            if sf.kind != SampleKind::Float {
                let (hi, lo, mid) = (v(s(12)), v(s(36)), sf.silence());
                let below = if sf.kind == SampleKind::Signed {
                    (1u128 << (sb * 8)) - lo as u128
                } else {
                    (mid - lo) as u128
                };
                assert_eq!(below, (hi - mid) as u128, "{name}");
            }
            let mut sil = [0u8; 8];
            sil[..sb].copy_from_slice(&sf.silence().to_le_bytes()[..sb]);
            assert_eq!(s(0), &sil[..sb], "{name}: sin(0) is silence");
            assert_eq!(out[48 * sb], sil[0], "{name}: partial frame");
        }
    }
}
