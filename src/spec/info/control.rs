// SPDX-License-Identifier: GPL-2.0

//! Control elements (`VIRTIO_SND_F_CTLS`, `VIRTIO_SND_R_CTL_*`): element info, values, TLV
//! metadata and events, and their ALSA equivalents.

use super::{
    direction_to_wire,
    Name, //
};
use crate::spec::wire::{
    code,
    le32,
    le64,
    put32,
    Direction,
    WireError, //
};

fn put64(out: &mut [u8; CTL_INFO_SIZE], at: usize, v: u64) {
    put32(out, at, v as u32);
    put32(out, at + 4, (v >> 32) as u32);
}

/// Device feature bit: the device has control elements (same as [`crate::spec::wire::F_CTLS`]).
pub(crate) const VIRTIO_SND_F_CTLS: u32 = crate::spec::wire::F_CTLS;

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
    pub(crate) fn to_bytes(self) -> [u8; CTL_INFO_SIZE] {
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
    pub(crate) fn to_bytes(self) -> [u8; CTL_TLV_HDR_SIZE] {
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
/// [`crate::spec::wire::Event::CtlNotify`] holds the event's last four bytes, which this
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
    pub(crate) fn to_data(self) -> u32 {
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
    use crate::spec::info::all_short;

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
        // Found by the cargo-fuzz target `ctl_value`: the largest indices whose byte offset
        // does not overflow made `le32`'s `at + 4` overflow (a panic with overflow checks).
        for i in [usize::MAX / 4, usize::MAX / 8] {
            assert_eq!(v.integer(i), None);
            assert_eq!(v.enumerated(i), None);
            assert_eq!(v.integer64(i), None);
            assert!(!v.set_integer(i, 1));
            assert!(!v.set_integer64(i, 1));
        }
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
        match crate::spec::wire::Event::parse(&raw) {
            Ok(crate::spec::wire::Event::CtlNotify(data)) => assert_eq!(
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
