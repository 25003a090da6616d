// SPDX-License-Identifier: GPL-2.0

//! Module-local FFI: bindgen output for the virtio and sound headers, and the C helpers.
//!
//! The only users are the safe abstractions in [`crate::virtio`], [`crate::alsa`],
//! [`crate::sync`] and [`crate::ratelimit`]; the driver itself never reaches in here.
//!
//! Types that `kernel::bindings` already has (`device`, `scatterlist`, `spinlock_t`, ...)
//! resolve to the kernel crate's definitions through the glob import, thanks to
//! `--no-recursive-allowlist` in `sys/bindgen_parameters`.

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    unreachable_pub,
    dead_code,
    missing_docs,
    clippy::all,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks,
    improper_ctypes,
    unsafe_op_in_unsafe_fn
)]

#[allow(unused_imports)]
pub(crate) use kernel::bindings::*;
use kernel::ffi;

include!("sys/bindings_generated.rs");
