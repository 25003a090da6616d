// SPDX-License-Identifier: GPL-2.0

//! Names from the device: fixed-size fields that hold a NUL-terminated printable ASCII string.

use core::ffi::CStr;

use crate::spec::wire::WireError;

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
    pub(crate) fn to_bytes(self) -> [u8; N] {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::info::{
        CtlEnumItem,
        CtlName, //
    };

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
}
