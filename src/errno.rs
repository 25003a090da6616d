// SPDX-License-Identifier: GPL-2.0

//! Error codes that the kernel crate of 7.2 does not name (`kernel::error::code`), for the
//! errnos that ALSA users expect.

use kernel::prelude::*;

/// `EOPNOTSUPP` (the kernel crate's `ENOTSUPP` is kernel-internal and must not reach
/// userspace).
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32))
}

/// `EBADFD`: a request in the wrong stream state.
pub(crate) fn ebadfd() -> Error {
    Error::from_errno(-(kernel::bindings::EBADFD as i32))
}
