// SPDX-License-Identifier: GPL-2.0

//! Jacks, channel maps and control elements (virtio 1.3, "Sound Device"), and their ALSA
//! equivalents.
//!
//! Like [`super::wire`], this module parses what the device wrote with `parse`, which never
//! trusts a length or a value from the device, and builds requests with `to_bytes`. It also
//! holds the translations to ALSA's values (`SND_JACK_*`, `SNDRV_CHMAP_*`, `SNDRV_CTL_*`),
//! which are uapi or long-stable kernel values and are defined here so that this module
//! stays on `core` only.
//!
//! One file per concern, each re-exported here so that the rest of the crate names every item
//! `info::Item`: `info/name.rs` (names from the device), `info/jack.rs`, `info/channel_map.rs`
//! and `info/control.rs`.

use super::wire::{
    Direction,
    WireError, //
};

#[path = "info/name.rs"]
mod name;

#[path = "info/jack.rs"]
mod jack;

#[path = "info/channel_map.rs"]
mod channel_map;

#[path = "info/control.rs"]
mod control;

pub(crate) use self::{
    channel_map::*,
    control::*,
    jack::*,
    name::*, //
};

/// Reads `N` bytes at `at`.
fn array<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], WireError> {
    let end = at.checked_add(N).ok_or(WireError::Short)?;
    b.get(at..end)
        .and_then(|s| s.try_into().ok())
        .ok_or(WireError::Short)
}

/// Parses a direction byte (`VIRTIO_SND_D_*`).
fn direction_from_wire(v: u8) -> Result<Direction, WireError> {
    match v {
        0 => Ok(Direction::Output),
        1 => Ok(Direction::Input),
        _ => Err(WireError::BadValue),
    }
}

fn direction_to_wire(d: Direction) -> u8 {
    match d {
        Direction::Output => 0,
        Direction::Input => 1,
    }
}

/// Every length below `size` is refused as short (for the tests of the submodules).
#[cfg(test)]
fn all_short<T: core::fmt::Debug>(
    good: &[u8],
    size: usize,
    parse: impl Fn(&[u8]) -> Result<T, WireError>,
) {
    for n in 0..size {
        assert_eq!(parse(&good[..n]).err(), Some(WireError::Short), "{n} bytes");
    }
}
