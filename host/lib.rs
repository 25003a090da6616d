// SPDX-License-Identifier: GPL-2.0

//! Host build of the driver's pure logic (`src/spec.rs`), for `cargo test` and fuzzing.
//!
//! The kernel module compiles the very same files as `crate::spec`; this crate root only
//! gives them a `no_std` home on the host.

#![no_std]
// The items are `pub(crate)` for the kernel crate; here only the tests (and the fuzz targets'
// entry points, `fuzz_api`) use them.
#![allow(dead_code)]
// Nor do they use `spec::info`'s re-exports of its submodules' items; the kernel build and
// `cargo test` still check those.
#![cfg_attr(not(any(test, feature = "fuzzing")), expect(unused_imports))]
#![cfg_attr(all(not(test), feature = "fuzzing"), allow(unused_imports))]

// `arbitrary`'s derive names `::std`.
#[cfg(any(test, feature = "fuzzing"))]
extern crate std;

#[path = "../src/spec.rs"]
pub mod spec;

/// The invariants that the property tests and the fuzz targets check.
#[cfg(any(test, feature = "fuzzing"))]
mod checks;

#[cfg(test)]
mod prop;

/// The cargo-fuzz targets' view of `spec` (`fuzz/`, `Documentation/fuzzing.rst`).
#[cfg(feature = "fuzzing")]
pub mod fuzz_api;
