// SPDX-License-Identifier: GPL-2.0

//! Pure virtio-snd logic: wire format, tables, parameter translation, ring arithmetic.
//!
//! Nothing in here touches the kernel: it depends on `core` only, so that the host can
//! unit-test and fuzz it with `cargo test` (see `host/lib.rs`). The driver and the
//! abstractions call into it; it never calls out.
//!
//! The `#[path]` attributes keep the submodules resolvable both from the kernel crate root
//! (`src/lib.rs`) and from the host crate root (`host/lib.rs`).

#[path = "spec/wire.rs"]
pub(crate) mod wire;

#[path = "spec/format.rs"]
pub(crate) mod format;

#[path = "spec/hw.rs"]
pub(crate) mod hw;

#[path = "spec/ring.rs"]
pub(crate) mod ring;

#[path = "spec/state.rs"]
pub(crate) mod state;

#[path = "spec/info.rs"]
pub(crate) mod info;
