// SPDX-License-Identifier: GPL-2.0

//! A high-resolution timer owned through an [`Arc`], that can be restarted from atomic
//! context.
//!
//! C header: [`include/linux/hrtimer.h`](srctree/include/linux/hrtimer.h).
//!
//! The kernel crate's [`HrTimerPointer::start`] hands out one [`ArcHrTimerHandle`] per
//! start, and dropping any handle cancels the timer. A periodic timer that a PCM trigger
//! (atomic context, stream lock held) starts and restarts needs one handle for its whole
//! life instead, and a restart that neither allocates nor waits. [`ArcTimer`] is that
//! handle: [`ArcTimer::restart`] re-queues the same timer, and dropping the [`ArcTimer`]
//! cancels it and waits for a running callback.

use kernel::{
    sync::Arc,
    time::{
        hrtimer::{
            ArcHrTimerHandle,
            HasHrTimer,
            HrTimerCallback,
            HrTimerPointer,
            RelativeMode, //
        },
        Delta,
        Monotonic, //
    },
};

/// A started timer of a `T`, relative to the monotonic clock.
///
/// Dropping it cancels the timer and waits until a running callback has returned: it must
/// not be dropped where that callback could wait for the dropper (for example, under a
/// lock that the callback takes).
///
/// # Invariants
///
/// `handle` was returned by starting the timer of `target`: while `self` lives, `target`
/// is alive, and the timer is cancelled before the last reference to `target` can go.
pub(crate) struct ArcTimer<T>
where
    T: HasHrTimer<T> + 'static,
{
    target: Arc<T>,
    _handle: ArcHrTimerHandle<T>,
}

impl<T> ArcTimer<T>
where
    T: HasHrTimer<T, TimerMode = RelativeMode<Monotonic>> + Send + Sync + 'static,
    T: for<'a> HrTimerCallback<Pointer<'a> = Arc<T>>,
{
    /// Starts the timer of `target`, to expire after `delay`.
    pub(crate) fn start(target: Arc<T>, delay: Delta) -> Self {
        let handle = target.clone().start(delay);
        // INVARIANT: `handle` comes from starting the timer of `target`.
        Self {
            target,
            _handle: handle,
        }
    }

    /// Re-queues the timer to expire after `delay`, whether it is queued, running its
    /// callback (then the callback's own restart decision is overridden), or stopped.
    ///
    /// Neither allocates nor sleeps: callable from any context.
    pub(crate) fn restart(&self, delay: Delta) {
        // SAFETY:
        // - `self.target` is a live `Arc<T>`, so the pointer is valid.
        // - By the type invariant, `self._handle` cancels this very timer when `self` is
        //   dropped, and `self.target` keeps the `T` alive until then: the `T` outlives the
        //   timer.
        unsafe { <T as HasHrTimer<T>>::start(Arc::as_ptr(&self.target), delay) };
    }
}
