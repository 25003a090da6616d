// SPDX-License-Identifier: GPL-2.0
//! Capture data: a sine (or silence) in any of the offered sample formats.

use crate::proto::*;

/// Fills `out` with whole frames of a sine of `freq` Hz (0: silence) at amplitude `amp`
/// (0..1 of full scale), the same on every channel. `phase` (0..1) carries over between calls.
/// Bytes after the last whole frame are silence.
pub fn fill(p: &Params, freq: f64, amp: f64, phase: &mut f64, out: &mut [u8]) {
    let sb = sample_bytes(p.format).unwrap_or(2) as usize;
    let fb = sb * p.channels.max(1) as usize;
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
        for ch in frame.chunks_exact_mut(sb) {
            encode_sample(p.format, v, ch);
        }
    }
    for b in &mut out[frames * fb..] {
        *b = if p.format == FMT_U8 { 0x80 } else { 0 };
    }
}

fn encode_sample(format: u8, v: f64, dst: &mut [u8]) {
    let v = v.clamp(-1.0, 1.0);
    match format {
        FMT_U8 => dst[0] = (128.0 + (v * 127.0).round()) as u8,
        FMT_S16 => dst.copy_from_slice(&((v * 32767.0).round() as i16).to_le_bytes()),
        FMT_S32 => dst.copy_from_slice(&((v * 2147483647.0).round() as i32).to_le_bytes()),
        FMT_FLOAT => dst.copy_from_slice(&(v as f32).to_le_bytes()),
        _ => dst.fill(0),
    }
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
}
