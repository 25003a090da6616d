// SPDX-License-Identifier: GPL-2.0

//! Channel maps (`VIRTIO_SND_R_CHMAP_INFO`): the wire structure and the translation of the
//! device's channel positions to ALSA's.

use super::{
    array,
    direction_from_wire,
    direction_to_wire, //
};
use crate::spec::wire::{
    byte,
    le32,
    put32,
    Direction,
    WireError, //
};

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
    pub(crate) fn to_bytes(self) -> [u8; CHMAP_INFO_SIZE] {
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
    pub(crate) fn to_alsa(self) -> Option<AlsaChmap> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::info::all_short;

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
}
