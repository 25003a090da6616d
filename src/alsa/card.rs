// SPDX-License-Identifier: GPL-2.0

//! ALSA sound cards (`struct snd_card`).

use super::{
    control::{
        Control,
        ControlOps,
        Controls,
        Elem, //
    },
    jack::Jacks, //
};
use crate::sys;
use core::ptr::{
    self,
    NonNull, //
};
use kernel::{
    device,
    error::to_result,
    prelude::*,
    sync::Arc,
    ThisModule, //
};

/// An ALSA sound card, freed (after its users are gone) when dropped.
///
/// # Invariants
///
/// - `ptr` is a card created by `snd_card_new` and not yet freed.
/// - `jacks` lists jacks of this card only; `controls` lists control elements of this card
///   only.
/// - `keep` holds memory that the card's devices point to (channel maps); it is freed
///   after the card.
pub(crate) struct Card {
    ptr: NonNull<sys::snd_card>,
    jacks: Arc<Jacks>,
    controls: Arc<Controls>,
    pub(super) keep: KVec<KVec<sys::snd_pcm_chmap_elem>>,
}

// SAFETY: The C card may be used and freed from any thread; ALSA serialises its state.
unsafe impl Send for Card {}
// SAFETY: The `&self` methods are thread safe in C (`snd_card_register` and
// `snd_card_disconnect` take the card's own locks).
unsafe impl Sync for Card {}

/// Copies `src` into a fixed-size C string field, truncating, always NUL-terminated.
fn set_cstr_field<const N: usize>(dst: &mut [u8; N], src: &[u8]) {
    let n = src.len().min(N.saturating_sub(1));
    dst[..n].copy_from_slice(&src[..n]);
    if let Some(rest) = dst.get_mut(n..) {
        rest.fill(0);
    }
}

impl Card {
    /// Creates a card for `parent`, with the given driver, short and long names.
    pub(crate) fn new(
        parent: &device::Device,
        module: &'static ThisModule,
        driver: &CStr,
        short_name: &[u8],
        long_name: &[u8],
    ) -> Result<Self> {
        let jacks = Jacks::new()?;
        let mut card: *mut sys::snd_card = ptr::null_mut();
        // CAST: `device::Device` is a transparent wrapper of `struct device`.
        let parent = ptr::from_ref(parent)
            .cast::<kernel::bindings::device>()
            .cast_mut();
        // SAFETY: `parent` is a valid device; `card` is a valid location for the result.
        to_result(unsafe {
            sys::snd_card_new(parent, -1, ptr::null(), module.as_ptr(), 0, &mut card)
        })?;
        let ptr = NonNull::new(card).ok_or(ENOMEM)?;
        let controls = match Controls::new(ptr) {
            Ok(c) => c,
            Err(e) => {
                // SAFETY: The card was just created and nothing uses it.
                unsafe { sys::snd_card_free(ptr.as_ptr()) };
                return Err(e);
            }
        };
        let c = ptr.as_ptr();
        // SAFETY: For each field: `c` is a valid card, and the card is not registered, so
        // nothing else reads or writes its name fields until `register` (ALSA reads them for
        // /proc and sysfs once registered). Only the fields are borrowed, never the card,
        // whose other members (locks, lists) the core may use meanwhile.
        unsafe {
            set_cstr_field(field_bytes(&raw mut (*c).driver), driver.to_bytes());
            set_cstr_field(field_bytes(&raw mut (*c).shortname), short_name);
            set_cstr_field(field_bytes(&raw mut (*c).longname), long_name);
        }
        // INVARIANT: `snd_card_new` succeeded; the jack and control lists are new and empty.
        Ok(Self {
            ptr,
            jacks,
            controls,
            keep: KVec::new(),
        })
    }

    /// Creates a jack of type `type_mask` (`SND_JACK_*`) named `name` (ALSA adds " Jack"
    /// and an index for repeated names), before the card is registered. Returns its index
    /// in [`Card::jacks`].
    pub(crate) fn add_jack(&self, name: &CStr, type_mask: u32) -> Result<usize> {
        // SAFETY: By the type invariants the card is live and `self.jacks` is its list.
        unsafe { self.jacks.add(self.as_raw(), name, type_mask) }
    }

    /// Adds a control element, with callbacks on `data`. Returns its position in the card's
    /// [`Controls`].
    pub(crate) fn add_control<T: ControlOps>(
        &self,
        elem: &Elem<'_>,
        data: Arc<T>,
    ) -> Result<usize> {
        let kctl = Control::<T>::new_element(elem, data)?;
        // SAFETY: By the type invariant the card is live; `snd_ctl_add` takes the element,
        // and frees it (through its `private_free`) on failure.
        to_result(unsafe { sys::snd_ctl_add(self.as_raw(), kctl.as_ptr()) })?;
        self.controls.push(kctl)
    }

    /// The card's control elements, to announce changes from any context.
    pub(crate) fn controls(&self) -> Arc<Controls> {
        self.controls.clone()
    }

    /// The card's jacks, to report plugging from any context.
    pub(crate) fn jacks(&self) -> Arc<Jacks> {
        self.jacks.clone()
    }

    pub(crate) fn as_raw(&self) -> *mut sys::snd_card {
        self.ptr.as_ptr()
    }

    /// Returns the card's index (`/proc/asound/cardN`).
    pub(crate) fn number(&self) -> i32 {
        // SAFETY: By the type invariant, the card is valid; `number` is set at creation.
        unsafe { (*self.as_raw()).number }
    }

    /// Registers the card and all its devices with userspace.
    pub(crate) fn register(&self) -> Result {
        // SAFETY: By the type invariant, the card is valid.
        to_result(unsafe { sys::snd_card_register(self.as_raw()) })
    }

    /// Disconnects the card: userspace sees it gone, and new operations fail with `ENODEV`.
    pub(crate) fn disconnect(&self) {
        // SAFETY: By the type invariant, the card is valid.
        unsafe { sys::snd_card_disconnect(self.as_raw()) };
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        // Reports from now on must not reach the jacks that `snd_card_free` frees.
        self.jacks.forget();
        self.controls.forget();
        // SAFETY: By the type invariant, the card is valid and freed only here. This sleeps
        // until every file of the card is closed.
        unsafe { sys::snd_card_free(self.as_raw()) };
    }
}

/// Views a `char` array field of a C struct as bytes.
///
/// # Safety
///
/// `field` is valid for reads and writes, and nothing else accesses it while the returned
/// reference lives.
unsafe fn field_bytes<'a, const N: usize>(field: *mut [kernel::ffi::c_char; N]) -> &'a mut [u8; N] {
    // SAFETY: `c_char` and `u8` have the same size and alignment, and every bit pattern is
    // valid for both; validity and exclusivity are the caller's promise.
    unsafe { &mut *field.cast::<[u8; N]>() }
}
