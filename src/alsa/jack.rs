// SPDX-License-Identifier: GPL-2.0

//! ALSA jacks (`struct snd_jack`).
//!
//! C header: [`include/sound/jack.h`](srctree/include/sound/jack.h).
//!
//! A jack belongs to its card: the card frees it. [`Jacks`] is the list of a card's jacks,
//! reportable from any context (a virtqueue callback included); the card forgets the list
//! before it frees the jacks, so a late report finds nothing instead of a freed jack.

use crate::{
    sync::{
        new_spinlock_irq,
        SpinLockIrq, //
    },
    sys,
};
use core::ptr::{
    self,
    NonNull, //
};
use kernel::{
    error::to_result,
    ffi::c_int,
    prelude::*,
    sync::Arc, //
};

/// One jack: the C object and the `SND_JACK_*` mask it reports when plugged.
struct Entry {
    ptr: NonNull<sys::snd_jack>,
    type_mask: u32,
}

// SAFETY: `snd_jack_report` may be called from any thread and any context; the pointer is
// only used through it.
unsafe impl Send for Entry {}

/// The jacks of one card, by index.
///
/// # Invariants
///
/// Every entry of `list` is a jack that `snd_jack_new` created on the owning card, which
/// is not freed yet: the card empties the list ([`Jacks::forget`]) before it frees them.
#[pin_data]
pub(crate) struct Jacks {
    #[pin]
    list: SpinLockIrq<KVec<Entry>>,
}

impl Jacks {
    pub(super) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                list <- new_spinlock_irq!(KVec::new(), c"virtio_snd_rs:jacks"),
            }),
            GFP_KERNEL,
        )
    }

    /// Creates a jack of type `type_mask` (`SND_JACK_*`) named `name` on `card`, whose
    /// list this is, with its detection control and input device. Returns its index.
    ///
    /// # Safety
    ///
    /// `card` must be a live card that owns this list.
    pub(super) unsafe fn add(
        &self,
        card: *mut sys::snd_card,
        name: &CStr,
        type_mask: u32,
    ) -> Result<usize> {
        let mut jack: *mut sys::snd_jack = ptr::null_mut();
        // SAFETY: `card` is live (safety requirement); `name` is NUL-terminated and copied;
        // `jack` is a valid location for the result.
        to_result(unsafe {
            sys::snd_jack_new(
                card,
                name.as_char_ptr(),
                c_int::try_from(type_mask)?,
                &mut jack,
                true,
                false,
            )
        })?;
        let ptr = NonNull::new(jack).ok_or(ENOMEM)?;
        let mut list = self.list.lock();
        // INVARIANT: the jack was just created on `card`, which owns this list.
        list.push(Entry { ptr, type_mask }, GFP_ATOMIC)?;
        Ok(list.len() - 1)
    }

    /// Reports jack `index` plugged or unplugged (any context). Unknown indices, and every
    /// jack once the card is going away, are ignored; returns whether the jack exists.
    pub(crate) fn report(&self, index: usize, plugged: bool) -> bool {
        let list = self.list.lock();
        let Some(e) = list.get(index) else {
            return false;
        };
        let status = if plugged { e.type_mask } else { 0 };
        // SAFETY: By the type invariant the jack is alive while it is on the list, and the
        // list is locked. `snd_jack_report` may be called in atomic context.
        unsafe { sys::snd_jack_report(e.ptr.as_ptr(), status as c_int) };
        true
    }

    /// Empties the list: the card is about to free the jacks.
    pub(super) fn forget(&self) {
        let old = core::mem::take(&mut *self.list.lock());
        drop(old);
    }
}
