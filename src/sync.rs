// SPDX-License-Identifier: GPL-2.0

//! Synchronisation primitives that the kernel crate of 7.2 lacks.
//!
//! An interrupt-safe spinlock, as a backend of [`kernel::sync::lock::Lock`].
//!
//! The kernel crate's `SpinLock` takes a plain `spin_lock`, which deadlocks when the same
//! lock is taken from a virtqueue callback (hard interrupt context) on the same CPU. This
//! backend uses `spin_lock_irqsave`/`spin_unlock_irqrestore` and keeps the saved flags in
//! the guard, so a [`SpinLockIrq`] may be shared between process and interrupt context.

use crate::sys;
use kernel::{
    ffi::c_ulong,
    sync::lock::{
        Backend,
        Lock, //
    },
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
