// SPDX-License-Identifier: GPL-2.0

//! Host build of the driver's pure logic (`src/spec.rs`), for `cargo test` and fuzzing.
//!
//! The kernel module compiles the very same files as `crate::spec`; this crate root only
//! gives them a `no_std` home on the host.

#![no_std]
// The items are `pub(crate)` for the kernel crate; here only the tests use them.
#![allow(dead_code)]
// Nor do they use `spec::info`'s re-exports of its submodules' items; the kernel build and
// `cargo test` still check those.
#![cfg_attr(not(test), expect(unused_imports))]

#[cfg(test)]
extern crate std;

#[path = "../src/spec.rs"]
pub mod spec;

#[cfg(test)]
mod prop;
