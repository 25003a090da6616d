// SPDX-License-Identifier: GPL-2.0

//! ALSA control elements (`struct snd_kcontrol`).
//!
//! C header: [`include/sound/control.h`](srctree/include/sound/control.h).
//!
//! A group of elements shares one [`ControlOps`] implementation; each element carries its
//! index in the group, which the callbacks get back. The card owns the elements (it frees
//! them); [`Controls`] lists them so that changes can be announced from any context, and the
//! card forgets the list before it frees them.

use crate::{
    sync::{
        new_spinlock_irq,
        SpinLockIrq, //
    },
    sys,
};
use core::{
    marker::PhantomData,
    ptr::{
        self,
        NonNull, //
    },
};
use kernel::{
    error::{
        from_result,
        VTABLE_DEFAULT_ERROR, //
    },
    ffi::{
        c_char,
        c_int,
        c_long,
        c_uint,
        c_ulong, //
    },
    prelude::*,
    sync::Arc,
    types::ForeignOwnable,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// The interface of an element (`SNDRV_CTL_ELEM_IFACE_*`, which bindgen cannot evaluate:
/// a `__force` cast).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Iface {
    /// A mixer element (`SNDRV_CTL_ELEM_IFACE_MIXER`).
    Mixer,
    /// An element of PCM substream `subdevice` of PCM device `device`
    /// (`SNDRV_CTL_ELEM_IFACE_PCM`).
    Pcm { device: u32, subdevice: u32 },
}

impl Iface {
    fn raw(self) -> (sys::snd_ctl_elem_iface_t, u32, u32) {
        match self {
            Self::Mixer => (2, 0, 0),
            Self::Pcm { device, subdevice } => (3, device, subdevice),
        }
    }
}

/// What a TLV callback is asked to do (`SNDRV_CTL_TLV_OP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlvOp {
    Read,
    Write,
    Command,
}

/// The description of an element, filled by [`ControlOps::info`].
///
/// # Invariants
///
/// `ptr` is valid for the lifetime `'a`, and nothing else accesses it meanwhile.
pub(crate) struct ElemInfo<'a> {
    ptr: *mut sys::snd_ctl_elem_info,
    _p: PhantomData<&'a mut sys::snd_ctl_elem_info>,
}

impl ElemInfo<'_> {
    fn info(&mut self) -> &mut sys::snd_ctl_elem_info {
        // SAFETY: By the type invariant the pointer is valid and exclusively ours.
        unsafe { &mut *self.ptr }
    }

    /// Sets the value type (`SNDRV_CTL_ELEM_TYPE_*`) and the number of members.
    pub(crate) fn set_type(&mut self, ty: u32, count: u32) {
        let i = self.info();
        i.type_ = ty as sys::snd_ctl_elem_type_t;
        i.count = count;
    }

    /// Sets the limits of an integer element.
    pub(crate) fn set_integer(&mut self, min: i64, max: i64, step: i64) {
        // SAFETY: The union holds plain integers: any member may be written.
        let v = unsafe { self.info().value.integer.as_mut() };
        // `long` is 64 bits wide on the architectures this driver builds for.
        v.min = min as c_long;
        v.max = max as c_long;
        v.step = step as c_long;
    }

    /// Sets the limits of a 64-bit integer element.
    pub(crate) fn set_integer64(&mut self, min: i64, max: i64, step: i64) {
        // SAFETY: As in `set_integer`.
        let v = unsafe { self.info().value.integer64.as_mut() };
        v.min = min;
        v.max = max;
        v.step = step;
    }

    /// The option of an enumerated element that the caller asks the name of, clamped to
    /// the last of `items` options (as `snd_ctl_enum_info()` does).
    pub(crate) fn enum_item(&mut self, items: u32) -> u32 {
        // SAFETY: As in `set_integer`; ALSA set `item` before the call.
        let e = unsafe { self.info().value.enumerated.as_mut() };
        e.items = items;
        if e.item >= items {
            e.item = items.saturating_sub(1);
        }
        e.item
    }

    /// Sets the name of the option that [`ElemInfo::enum_item`] returned (truncated).
    pub(crate) fn set_enum_name(&mut self, name: &[u8]) {
        // SAFETY: As in `set_integer`.
        let dst = unsafe { &mut self.info().value.enumerated.as_mut().name };
        let n = name.len().min(dst.len().saturating_sub(1));
        for (d, s) in dst.iter_mut().zip(name.iter().take(n)) {
            *d = *s as c_char;
        }
        if let Some(rest) = dst.get_mut(n..) {
            rest.fill(0);
        }
    }
}

/// The value of an element, read by [`ControlOps::get`] or written by [`ControlOps::put`].
///
/// Member accessors take an index; an index beyond the union is ignored (`None`).
///
/// # Invariants
///
/// `ptr` is valid for the lifetime `'a`, and nothing else accesses it meanwhile.
pub(crate) struct ElemValue<'a> {
    ptr: *mut sys::snd_ctl_elem_value,
    _p: PhantomData<&'a mut sys::snd_ctl_elem_value>,
}

impl ElemValue<'_> {
    fn value(&self) -> &sys::snd_ctl_elem_value {
        // SAFETY: By the type invariant the pointer is valid.
        unsafe { &*self.ptr }
    }

    fn value_mut(&mut self) -> &mut sys::snd_ctl_elem_value {
        // SAFETY: By the type invariant the pointer is valid and exclusively ours.
        unsafe { &mut *self.ptr }
    }

    /// Member `i` of a boolean or integer value.
    pub(crate) fn integer(&self, i: usize) -> Option<i64> {
        // SAFETY: Every member of the union is plain integers; any bit pattern is valid.
        let v = unsafe { &self.value().value.integer.value };
        v.get(i).map(|&x| x as i64)
    }

    /// Sets member `i` of a boolean or integer value.
    pub(crate) fn set_integer(&mut self, i: usize, x: i64) {
        // SAFETY: As in `integer`; writing a member of a plain-data union is sound.
        let v = unsafe { &mut self.value_mut().value.integer.value };
        if let Some(d) = v.get_mut(i) {
            *d = x as c_long;
        }
    }

    /// Member `i` of a 64-bit integer value.
    pub(crate) fn integer64(&self, i: usize) -> Option<i64> {
        // SAFETY: As in `integer`.
        let v = unsafe { &self.value().value.integer64.value };
        v.get(i).copied()
    }

    /// Sets member `i` of a 64-bit integer value.
    pub(crate) fn set_integer64(&mut self, i: usize, x: i64) {
        // SAFETY: As in `set_integer`.
        let v = unsafe { &mut self.value_mut().value.integer64.value };
        if let Some(d) = v.get_mut(i) {
            *d = x;
        }
    }

    /// Member `i` of an enumerated value.
    pub(crate) fn enumerated(&self, i: usize) -> Option<u32> {
        // SAFETY: As in `integer`.
        let v = unsafe { &self.value().value.enumerated.item };
        v.get(i).copied()
    }

    /// Sets member `i` of an enumerated value.
    pub(crate) fn set_enumerated(&mut self, i: usize, x: u32) {
        // SAFETY: As in `set_integer`.
        let v = unsafe { &mut self.value_mut().value.enumerated.item };
        if let Some(d) = v.get_mut(i) {
            *d = x;
        }
    }

    /// The bytes of a bytes value.
    pub(crate) fn bytes(&self) -> &[u8; 512] {
        // SAFETY: As in `integer`.
        unsafe { &self.value().value.bytes.data }
    }

    /// The bytes of a bytes value, to fill.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8; 512] {
        // SAFETY: As in `set_integer`.
        unsafe { &mut self.value_mut().value.bytes.data }
    }

    /// The value of an IEC958 element (`struct snd_aes_iec958`) as its 176 bytes.
    pub(crate) fn iec958(&self) -> &[u8; IEC958_BYTES] {
        // SAFETY: As in `integer`.
        let v = unsafe { &self.value().value.iec958 };
        // SAFETY: `snd_aes_iec958` is four byte arrays of 24, 147, 1 and 4 bytes, with no
        // padding (alignment 1): 176 bytes, valid as a byte array.
        unsafe { &*ptr::from_ref(v).cast::<[u8; IEC958_BYTES]>() }
    }

    /// The value of an IEC958 element, to fill.
    pub(crate) fn iec958_mut(&mut self) -> &mut [u8; IEC958_BYTES] {
        // SAFETY: As in `set_integer`.
        let v = unsafe { &mut self.value_mut().value.iec958 };
        // SAFETY: As in `iec958`; every byte pattern is a valid `snd_aes_iec958`.
        unsafe { &mut *ptr::from_mut(v).cast::<[u8; IEC958_BYTES]>() }
    }
}

/// Size of `struct snd_aes_iec958`.
pub(crate) const IEC958_BYTES: usize = 176;
const _: () = assert!(core::mem::size_of::<sys::snd_aes_iec958>() == IEC958_BYTES);

/// The callbacks of a group of control elements. Each gets the index of its element in
/// the group. They run in process context and may sleep.
#[vtable]
pub(crate) trait ControlOps: Send + Sync + Sized + 'static {
    /// Describes element `index`: type, count and limits.
    fn info(this: &Self, index: usize, info: &mut ElemInfo<'_>) -> Result;
    /// Reads the value of element `index`.
    fn get(this: &Self, index: usize, value: &mut ElemValue<'_>) -> Result;
    /// Writes the value of element `index`; returns whether it changed.
    fn put(this: &Self, index: usize, value: &ElemValue<'_>) -> Result<bool>;
    /// Reads, writes or sends a command through the element's metadata (TLV), with the
    /// caller's buffer of `size` bytes (`[type, length, payload...]` in 32-bit words).
    fn tlv(this: &Self, index: usize, op: TlvOp, buf: UserSlice, size: usize) -> Result {
        let _ = (this, index, op, buf, size);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A control element to create.
pub(crate) struct Elem<'a> {
    /// The element's interface (and PCM substream).
    pub(crate) iface: Iface,
    /// The element's name; ALSA copies it.
    pub(crate) name: &'a CStr,
    /// ALSA's index, for names that are not unique.
    pub(crate) index: u32,
    /// `SNDRV_CTL_ELEM_ACCESS_*`.
    pub(crate) access: u32,
    /// The element's index in its group, given back to the callbacks.
    pub(crate) group_index: usize,
}

/// The control elements of a card, by the order of their creation.
///
/// # Invariants
///
/// Every entry of `list` is an element added to the card `card`, which is not freed yet: the
/// card empties the list ([`Controls::forget`]) before it frees its elements.
#[pin_data]
pub(crate) struct Controls {
    card: NonNull<sys::snd_card>,
    #[pin]
    list: SpinLockIrq<KVec<NonNull<sys::snd_kcontrol>>>,
}

// SAFETY: The pointers are only used with `snd_ctl_notify`, which may be called from any
// thread and any context, under the list's lock.
unsafe impl Send for Controls {}
// SAFETY: As for `Send`; all access to the list goes through its lock.
unsafe impl Sync for Controls {}

impl Controls {
    pub(super) fn new(card: NonNull<sys::snd_card>) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                card,
                list <- new_spinlock_irq!(KVec::new(), c"virtio_snd_rs:controls"),
            }),
            GFP_KERNEL,
        )
    }

    /// Announces that element `n` (in creation order) changed (`mask`: `SNDRV_CTL_EVENT_MASK_*` bits),
    /// from any context. Unknown elements, and all once the card is going away, are
    /// ignored; returns whether the element exists.
    pub(crate) fn notify(&self, n: usize, mask: u32) -> bool {
        let list = self.list.lock();
        let Some(kctl) = list.get(n) else {
            return false;
        };
        // SAFETY: By the type invariant the card and the element are alive while the element
        // is on the list, which is locked. `snd_ctl_notify` may be called in atomic context.
        unsafe { sys::snd_ctl_notify(self.card.as_ptr(), mask, &raw mut (*kctl.as_ptr()).id) };
        true
    }

    /// Empties the list: the card is about to free the elements.
    pub(super) fn forget(&self) {
        let old = core::mem::take(&mut *self.list.lock());
        drop(old);
    }

    pub(super) fn push(&self, kctl: NonNull<sys::snd_kcontrol>) -> Result<usize> {
        let mut list = self.list.lock();
        list.push(kctl, GFP_ATOMIC)?;
        Ok(list.len() - 1)
    }
}

/// Control elements whose callbacks go to `T`.
pub(crate) struct Control<T: ControlOps>(PhantomData<T>);

impl<T: ControlOps> Control<T> {
    /// Creates an element with callbacks on `data`, for [`Card::add_control`] to add.
    ///
    /// [`Card::add_control`]: super::card::Card::add_control
    pub(super) fn new_element(elem: &Elem<'_>, data: Arc<T>) -> Result<NonNull<sys::snd_kcontrol>> {
        let (iface, device, subdevice) = elem.iface.raw();
        let template = sys::snd_kcontrol_new {
            iface,
            device,
            subdevice,
            name: elem.name.as_char_ptr().cast(),
            index: elem.index,
            access: elem.access,
            count: 1,
            info: Some(Self::info_cb),
            get: Some(Self::get_cb),
            put: Some(Self::put_cb),
            tlv: sys::snd_kcontrol_new__bindgen_ty_1 {
                c: if T::HAS_TLV { Some(Self::tlv_cb) } else { None },
            },
            private_value: elem.group_index as c_ulong,
        };
        let data = data.into_foreign();
        // SAFETY: `template` is a valid description; ALSA copies it (and the name).
        let kctl = unsafe { sys::snd_ctl_new1(&template, data.cast()) };
        let Some(kctl) = NonNull::new(kctl) else {
            // SAFETY: `data` came from `into_foreign` above and was not handed out.
            drop(unsafe { <Arc<T> as ForeignOwnable>::from_foreign(data) });
            return Err(ENOMEM);
        };
        // SAFETY: `kctl` is a new element that nobody else uses yet.
        unsafe { (*kctl.as_ptr()).private_free = Some(Self::private_free) };
        Ok(kctl)
    }

    /// Runs `f` with the data and the group index of element `k`.
    ///
    /// # Safety
    ///
    /// `k` must be an element created by [`Control::new_element`], alive for the call.
    unsafe fn with<R>(k: *mut sys::snd_kcontrol, f: impl FnOnce(&T, usize) -> R) -> R {
        // SAFETY: `private_data` holds the `Arc<T>` of `add`, alive as long as the element.
        let data = unsafe { <Arc<T> as ForeignOwnable>::borrow((*k).private_data) };
        // SAFETY: The element is valid (function safety requirement).
        let index = unsafe { (*k).private_value };
        f(&data, index)
    }

    extern "C" fn info_cb(k: *mut sys::snd_kcontrol, i: *mut sys::snd_ctl_elem_info) -> c_int {
        // INVARIANT: ALSA passes a valid description, ours for the duration of the call.
        let mut info = ElemInfo {
            ptr: i,
            _p: PhantomData,
        };
        // SAFETY: ALSA calls the callbacks with a valid element of this group.
        from_result(|| unsafe { Self::with(k, |d, n| T::info(d, n, &mut info)) }.map(|()| 0))
    }

    extern "C" fn get_cb(k: *mut sys::snd_kcontrol, v: *mut sys::snd_ctl_elem_value) -> c_int {
        // INVARIANT: ALSA passes a valid value, ours for the duration of the call.
        let mut value = ElemValue {
            ptr: v,
            _p: PhantomData,
        };
        // SAFETY: ALSA calls the callbacks with a valid element of this group.
        from_result(|| unsafe { Self::with(k, |d, n| T::get(d, n, &mut value)) }.map(|()| 0))
    }

    extern "C" fn put_cb(k: *mut sys::snd_kcontrol, v: *mut sys::snd_ctl_elem_value) -> c_int {
        // INVARIANT: ALSA passes a valid value, ours for the duration of the call.
        let value = ElemValue {
            ptr: v,
            _p: PhantomData,
        };
        // SAFETY: ALSA calls the callbacks with a valid element of this group.
        from_result(|| unsafe { Self::with(k, |d, n| T::put(d, n, &value)) }.map(c_int::from))
    }

    extern "C" fn tlv_cb(
        k: *mut sys::snd_kcontrol,
        op: c_int,
        size: c_uint,
        buf: *mut c_uint,
    ) -> c_int {
        let op = match op {
            sys::SNDRV_CTL_TLV_OP_READ => TlvOp::Read,
            sys::SNDRV_CTL_TLV_OP_WRITE => TlvOp::Write,
            sys::SNDRV_CTL_TLV_OP_CMD => TlvOp::Command,
            _ => return EINVAL.to_errno(),
        };
        let slice = UserSlice::new(UserPtr::from_ptr(buf.cast()), size as usize);
        from_result(|| {
            // SAFETY: ALSA calls the callbacks with a valid element of this group.
            unsafe { Self::with(k, |d, n| T::tlv(d, n, op, slice, size as usize)) }.map(|()| 0)
        })
    }

    extern "C" fn private_free(k: *mut sys::snd_kcontrol) {
        // SAFETY: ALSA calls this once, with the element being freed.
        let data = unsafe { (*k).private_data };
        if !data.is_null() {
            // SAFETY: `private_data` holds the `Arc<T>` foreign pointer of `add`.
            drop(unsafe { <Arc<T> as ForeignOwnable>::from_foreign(data) });
        }
    }
}
