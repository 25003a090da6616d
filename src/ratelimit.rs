// SPDX-License-Identifier: GPL-2.0

//! Rate limiting of log messages, over the kernel's `struct ratelimit_state`.
//!
//! C header: [`include/linux/ratelimit.h`](srctree/include/linux/ratelimit.h).
//!
//! The kernel crate of 7.2 has no `dev_warn_ratelimited!`. A device can make the driver
//! complain once per message it answers, so every message that a device (or an application
//! that keeps asking a lying device) can repeat at will goes through a [`Ratelimit`]: at
//! most [`BURST`] messages per [`INTERVAL_MS`], and when a new interval begins after
//! suppressed ones, the kernel itself logs "NAME: N callbacks suppressed".

use crate::sys;
use kernel::{
    prelude::*,
    types::Opaque, //
};

/// Messages allowed per interval (the kernel's `DEFAULT_RATELIMIT_BURST`).
pub(crate) const BURST: u32 = 10;
/// The interval, in ms (the kernel's `DEFAULT_RATELIMIT_INTERVAL`, 5 s).
pub(crate) const INTERVAL_MS: u32 = 5000;

/// A `struct ratelimit_state`: pinned, since it holds a raw spinlock.
#[pin_data]
pub(crate) struct Ratelimit {
    #[pin]
    state: Opaque<sys::ratelimit_state>,
}

// SAFETY: The state is only ever reached through `___ratelimit`, which serialises on the
// state's own raw spinlock; nothing in it is tied to the thread that created it.
unsafe impl Send for Ratelimit {}
// SAFETY: See above: concurrent `allow` calls from any context are serialised by the C side.
unsafe impl Sync for Ratelimit {}

impl Ratelimit {
    /// A rate limit of [`BURST`] messages per [`INTERVAL_MS`].
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes of a `ratelimit_state` and pinned; the helper
            // zeroes it, initialises its lock and sets the interval and burst.
            state <- Opaque::ffi_init(|slot: *mut sys::ratelimit_state| unsafe {
                sys::rsnd_ratelimit_init(slot, INTERVAL_MS, BURST)
            }),
        })
    }

    /// Whether a message may be logged now. Callable from any context but NMI.
    ///
    /// `name` prefixes the kernel's own "N callbacks suppressed" line.
    pub(crate) fn allow(&self, name: &'static CStr) -> bool {
        // SAFETY: `self.state` was initialised by `new` and is pinned for as long as `self`
        // lives; `___ratelimit` takes the state's raw spinlock (with interrupts off) before
        // it reads or writes the state. `name` is NUL-terminated and lives forever.
        unsafe { sys::___ratelimit(self.state.get(), name.as_char_ptr()) != 0 }
    }
}
