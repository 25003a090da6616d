// SPDX-License-Identifier: GPL-2.0

//! Jacks (`VIRTIO_SND_R_JACK_*`): the wire structures, the fields of HDA pin default
//! configurations, and ALSA's jack types and names.

use core::ffi::CStr;

use crate::spec::wire::{
    byte,
    code,
    le32,
    put32,
    WireError, //
};

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
    pub(crate) fn to_bytes(self) -> [u8; JACK_INFO_SIZE] {
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
    pub(crate) fn to_bytes(self) -> [u8; JACK_REMAP_SIZE] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::info::{
        all_short,
        sndrv_ctl, //
    };

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
}
