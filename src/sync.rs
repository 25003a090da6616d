// SPDX-License-Identifier: GPL-2.0

//! Synchronisation primitives that the kernel crate of 7.2 lacks.
//!
//! An interrupt-safe spinlock, as a backend of [`kernel::sync::lock::Lock`].
//!
//! The kernel crate's `SpinLock` takes a plain `spin_lock`, which deadlocks when the same
//! lock is taken from a virtqueue callback (hard interrupt context) on the same CPU. This
//! backend uses `spin_lock_irqsave`/`spin_unlock_irqrestore` and keeps the saved flags in
//! the guard, so a [`SpinLockIrq`] may be shared between process and interrupt context.
//!
//! [`TimedCompletion`] is a completion with a timed, interruptible wait.

use crate::sys;
use kernel::{
    ffi::c_ulong,
    prelude::*,
    sync::lock::{
        Backend,
        Lock, //
    },
    types::Opaque,
};

/// A spinlock that disables local interrupts while held.
pub(crate) type SpinLockIrq<T> = Lock<T, SpinLockIrqBackend>;

/// Creates a [`SpinLockIrq`] initialiser with a lockdep class of its own.
macro_rules! new_spinlock_irq {
    ($inner:expr, $name:literal $(,)?) => {
        $crate::sync::SpinLockIrq::new($inner, $name, ::kernel::sync::static_lock_class!())
    };
}
pub(crate) use new_spinlock_irq;

/// The `spin_lock_irqsave` backend of [`SpinLockIrq`].
pub(crate) struct SpinLockIrqBackend;

// SAFETY:
// - `lock` and `try_lock` return only once the lock is held, and `unlock` releases it:
//   `spin_lock_irqsave` and `spin_trylock_irqsave` give mutual exclusion.
// - The guard state is the flags word that `spin_lock_irqsave` saved; `unlock` restores
//   exactly that word, and `relock` (the default) stores a fresh one.
unsafe impl Backend for SpinLockIrqBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = c_ulong;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: The caller guarantees that `ptr` is valid for writes, and that `name` and
        // `key` stay valid for reads indefinitely.
        unsafe { sys::rsnd_spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees that `ptr` points to a lock that `init` initialised.
        unsafe { sys::rsnd_spin_lock_irqsave(ptr) }
    }

    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        let mut flags: c_ulong = 0;
        // SAFETY: The caller guarantees that `ptr` points to a lock that `init` initialised;
        // `flags` is a valid local to write to.
        if unsafe { sys::rsnd_spin_trylock_irqsave(ptr, &mut flags) } {
            Some(flags)
        } else {
            None
        }
    }

    unsafe fn unlock(ptr: *mut Self::State, guard_state: &Self::GuardState) {
        // SAFETY: The caller is the owner of the lock, and `guard_state` holds the flags that
        // its `lock` or `try_lock` saved.
        unsafe { sys::rsnd_spin_unlock_irqrestore(ptr, *guard_state) }
    }

    unsafe fn assert_is_held(ptr: *mut Self::State) {
        // SAFETY: The caller guarantees that `ptr` points to a lock that `init` initialised.
        unsafe { kernel::bindings::spin_assert_is_held(ptr) }
    }
}

/// A `struct completion` that can be waited on with a timeout.
///
/// The kernel crate's `Completion` has no timed wait; a device that never answers must not
/// hang the caller, so this one has.
///
/// # Invariants
///
/// `inner` was initialised by `init_completion`.
#[pin_data]
pub(crate) struct TimedCompletion {
    #[pin]
    inner: Opaque<kernel::bindings::completion>,
}

// SAFETY: `complete` and the waits may be called from any thread; the C completion
// serialises them with its own lock.
unsafe impl Send for TimedCompletion {}
// SAFETY: As for `Send`: every operation goes through the C completion's own locking.
unsafe impl Sync for TimedCompletion {}

/// Why a timed wait ended without completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitError {
    /// The timeout elapsed.
    TimedOut,
    /// A signal is pending for the waiting task.
    Interrupted,
}

impl TimedCompletion {
    /// Creates an initialiser of an incomplete completion.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; `init_completion` initialises all of it.
            // INVARIANT: `init_completion` was called.
            inner <- Opaque::ffi_init(|slot| unsafe { sys::rsnd_init_completion(slot) }),
        })
    }

    /// Wakes one waiter, or lets the next wait return at once. Callable in interrupt context.
    pub(crate) fn complete(&self) {
        // SAFETY: By the type invariant, `inner` is an initialised completion.
        unsafe { sys::complete(self.inner.get()) }
    }

    /// Makes the completion incomplete again, for reuse.
    ///
    /// The caller makes sure that nobody completes or waits concurrently.
    pub(crate) fn reinit(&self) {
        // SAFETY: By the type invariant, `inner` is an initialised completion.
        unsafe { sys::rsnd_reinit_completion(self.inner.get()) }
    }

    /// Sleeps until completion, a signal, or `timeout_ms` milliseconds.
    pub(crate) fn wait_interruptible_timeout(&self, timeout_ms: u32) -> Result<(), WaitError> {
        // SAFETY: `rsnd_msecs_to_jiffies` is a pure conversion.
        let jiffies = unsafe { sys::rsnd_msecs_to_jiffies(timeout_ms) };
        // SAFETY: By the type invariant, `inner` is an initialised completion; this function
        // is only reachable from process context, where sleeping is allowed.
        let ret =
            unsafe { sys::wait_for_completion_interruptible_timeout(self.inner.get(), jiffies) };
        match ret {
            0 => Err(WaitError::TimedOut),
            r if r < 0 => Err(WaitError::Interrupted),
            _ => Ok(()),
        }
    }
}
