// SPDX-License-Identifier: GPL-2.0

//! Abstractions for virtio devices and drivers.
//!
//! C headers: [`include/linux/virtio.h`](srctree/include/linux/virtio.h),
//! [`include/linux/virtio_config.h`](srctree/include/linux/virtio_config.h).
//!
//! The adapter follows `rust/kernel/auxiliary.rs`: a [`Driver`] implementation is registered
//! through [`kernel::driver::Registration`], and [`module_virtio_driver!`] declares the module.
//! Virtqueue callbacks reach the driver through `virtio_device::priv`, which holds a
//! reference of the driver's data from just before the device is made ready until after it
//! has been reset and its running callbacks have finished ([`Device::reset`]: a reset alone
//! does not wait for them on every transport). `priv` is written and read with
//! `WRITE_ONCE`/`READ_ONCE` semantics (volatile accesses).

pub(crate) mod message;
pub(crate) mod queue;

use crate::sys;
use core::{
    marker::PhantomData,
    mem::{
        offset_of,
        size_of, //
    },
    ptr::{
        self,
        NonNull, //
    },
};
use kernel::{
    device,
    device_id::RawDeviceId,
    driver,
    error::{
        from_result,
        to_result, //
    },
    prelude::*,
    sync::{
        aref::AlwaysRefCounted,
        Arc, //
    },
    types::{
        ForeignOwnable,
        Opaque, //
    },
    ThisModule,
};

pub(crate) use queue::Virtqueues;

/// The device feature bit `VIRTIO_F_VERSION_1`.
pub(crate) const F_VERSION_1: u32 = 32;

/// The layout of `struct virtio_device_id` (bindgen cannot derive `Copy` for it here).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RawDeviceIdEntry {
    device: u32,
    vendor: u32,
}

const _: () = {
    assert!(size_of::<RawDeviceIdEntry>() == size_of::<sys::virtio_device_id>());
    assert!(offset_of!(RawDeviceIdEntry, device) == offset_of!(sys::virtio_device_id, device));
    assert!(offset_of!(RawDeviceIdEntry, vendor) == offset_of!(sys::virtio_device_id, vendor));
};

/// A virtio device ID (`struct virtio_device_id`), matching any vendor.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct DeviceId(RawDeviceIdEntry);

impl DeviceId {
    /// Matches devices of the virtio device type `device`, from any vendor.
    pub(crate) const fn new(device: u32) -> Self {
        Self(RawDeviceIdEntry {
            device,
            vendor: sys::VIRTIO_DEV_ANY_ID,
        })
    }
}

// SAFETY: `DeviceId` is a `#[repr(transparent)]` wrapper of `RawDeviceIdEntry`, which has the
// layout of `struct virtio_device_id` (checked above), and adds no invariant.
unsafe impl RawDeviceId for DeviceId {
    type RawType = RawDeviceIdEntry;
}

/// The ID table of a virtio driver.
pub(crate) type IdTable<T> = &'static dyn kernel::device_id::IdTable<DeviceId, T>;

/// Creates a virtio ID table, with its alias for modpost (`virtio:dNNNNNNNNv*`).
macro_rules! virtio_device_table {
    ($table_name:ident, $module_table_name:ident, $id_info_type:ty,
     [$(($id:expr, $info:expr)),* $(,)?]) => {
        $crate::compat::device_table!(
            "virtio",
            $crate::virtio::DeviceId,
            $table_name,
            $module_table_name,
            $id_info_type,
            [$(($id, $info)),*]
        );
    };
}
pub(crate) use virtio_device_table;

/// Declares a kernel module that exposes a single virtio driver.
macro_rules! module_virtio_driver {
    ($($f:tt)*) => {
        ::kernel::module_driver!(<T>, $crate::virtio::Adapter<T>, { $($f)* });
    };
}
pub(crate) use module_virtio_driver;

/// A virtio driver.
///
/// The implementing type is the driver's per-device data. It is shared (`Arc`) between the
/// driver core, the virtqueue callbacks and whatever else the driver registers.
pub(crate) trait Driver: Send + Sync + Sized + 'static {
    /// The devices that the driver binds to.
    const ID_TABLE: IdTable<()>;

    /// The feature bits that the driver accepts, if the device offers them.
    const FEATURES: &'static [u32];

    /// Returns the initialiser of the driver data, which finds the virtqueues.
    ///
    /// The device is not ready yet: no request may be sent.
    fn probe<'a>(dev: &'a Device<device::Core<'_>>) -> impl PinInit<Self, Error> + 'a;

    /// Talks to the device, now ready, and registers what the device has.
    ///
    /// Probing is split in two because the virtio protocol is: the virtqueues must exist
    /// before the device is made ready (`DRIVER_OK`), no request may be sent before, and the
    /// answers arrive in virtqueue callbacks, which need the driver data, constructed, to
    /// dispatch to. The adapter allocates the data from [`Driver::probe`], makes it the
    /// callbacks' target, makes the device ready, then calls this.
    ///
    /// On error the adapter resets the device, and the driver data is dropped.
    fn start(dev: &Device<device::Core<'_>>, this: &Arc<Self>) -> Result;

    /// Handles used buffers of virtqueue `index`. Called in interrupt context.
    fn vq_done(&self, index: usize);

    /// Unregisters everything that [`Driver::start`] registered and stops all I/O.
    ///
    /// The adapter resets the device afterwards (if the driver has not already).
    fn remove(dev: &Device<device::Core<'_>>, this: &Arc<Self>);

    /// Stops all I/O for a system sleep: the driver resets the device and deletes its
    /// virtqueues (see [`Virtqueues::shutdown`]). The device's state is lost.
    ///
    /// On error the system does not go to sleep, and the device must be as before.
    fn freeze(dev: &Device<device::Core<'_>>, this: &Arc<Self>) -> Result;

    /// Finds the virtqueues again after [`Driver::freeze`] (see [`Virtqueues::restart`]).
    ///
    /// The device is not ready yet: no request may be sent.
    fn restore(dev: &Device<device::Core<'_>>, this: &Arc<Self>) -> Result;

    /// Talks to the device, ready again after [`Driver::restore`], to bring back what it
    /// lost in the reset.
    ///
    /// On error the virtio core marks the device as failed.
    fn resume(dev: &Device<device::Core<'_>>, this: &Arc<Self>) -> Result;
}

/// An adapter for the registration of virtio drivers.
pub(crate) struct Adapter<T: Driver>(PhantomData<T>);

// SAFETY:
// - `sys::virtio_driver` is a C type, `repr(C)`.
// - `DriverData` is the type that `probe_callback` stores with `set_drvdata`.
// - `DEVICE_DRIVER_OFFSET` is the offset of the embedded `struct device_driver`.
unsafe impl<T: Driver> driver::DriverLayout for Adapter<T> {
    type DriverType = sys::virtio_driver;
    type DriverData<'bound> = Arc<T>;
    const DEVICE_DRIVER_OFFSET: usize = offset_of!(sys::virtio_driver, driver);
}

// SAFETY: `unregister` is only called for a driver that `register` registered successfully.
unsafe impl<T: Driver> driver::RegistrationOps for Adapter<T> {
    unsafe fn register(
        vdrv: &Opaque<Self::DriverType>,
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> Result {
        let features = u32::try_from(T::FEATURES.len())?;
        // SAFETY: It is safe to set the fields of `struct virtio_driver` before registration;
        // the ID table and the feature table are `'static`.
        unsafe {
            let d = vdrv.get();
            (*d).driver.name = name.as_char_ptr();
            // CAST: `RawDeviceIdEntry` has the layout of `struct virtio_device_id`.
            (*d).id_table = T::ID_TABLE.as_ptr().cast();
            (*d).feature_table = T::FEATURES.as_ptr();
            (*d).feature_table_size = features;
            (*d).probe = Some(Self::probe_callback);
            (*d).remove = Some(Self::remove_callback);
            #[cfg(CONFIG_PM_SLEEP)]
            {
                (*d).freeze = Some(Self::freeze_callback);
                (*d).restore = Some(Self::restore_callback);
            }
        }
        // SAFETY: `vdrv` is a valid `struct virtio_driver`, pinned until `unregister`.
        to_result(unsafe { sys::__register_virtio_driver(vdrv.get(), module.as_ptr()) })
    }

    unsafe fn unregister(vdrv: &Opaque<Self::DriverType>) {
        // SAFETY: `vdrv` was registered by `register`.
        unsafe { sys::unregister_virtio_driver(vdrv.get()) }
    }
}

impl<T: Driver> Adapter<T> {
    extern "C" fn probe_callback(vdev: *mut sys::virtio_device) -> c_int {
        // SAFETY: The virtio core only calls `probe` with a valid device.
        //
        // INVARIANT: `vdev` is valid for the duration of `probe_callback()`.
        let dev = unsafe { &*vdev.cast::<Device<device::CoreInternal<'_>>>() };

        from_result(|| {
            if !dev.has_feature(F_VERSION_1) {
                dev_err!(dev.as_ref(), "device is not VIRTIO_F_VERSION_1 compliant\n");
                return Err(ENODEV);
            }
            let data = Arc::pin_init(T::probe(dev), GFP_KERNEL)?;
            dev.as_ref().set_drvdata(Ok::<_, Error>(data.clone()))?;
            // From here on, virtqueue callbacks reach `data`.
            dev.set_callback_target(data.clone());
            dev.ready();
            if let Err(e) = T::start(dev, &data) {
                dev.reset();
                dev.clear_callback_target::<T>();
                // The driver core drops the driver data on this error path.
                return Err(e);
            }
            Ok(0)
        })
    }

    extern "C" fn remove_callback(vdev: *mut sys::virtio_device) {
        // SAFETY: The virtio core only calls `remove` with a valid device.
        //
        // INVARIANT: `vdev` is valid for the duration of `remove_callback()`.
        let dev = unsafe { &*vdev.cast::<Device<device::CoreInternal<'_>>>() };

        // SAFETY: `remove` is only called after a successful `probe`, which stored an
        // `Arc<T>` with `set_drvdata`.
        let data = unsafe { dev.as_ref().drvdata_borrow::<Arc<T>>() };
        T::remove(dev, &data);
        // The virtio core requires a reset device after `remove`; `reset` also waits for
        // running virtqueue callbacks, so the callback target can go.
        dev.reset();
        dev.clear_callback_target::<T>();
    }

    /// `freeze` of `struct virtio_driver`: the virtio core calls it on suspend and
    /// hibernation, under the device lock, after the devices below (the ALSA card's) were
    /// suspended.
    // Without `CONFIG_PM_SLEEP`, `struct virtio_driver` has no `freeze`/`restore`.
    #[cfg_attr(not(CONFIG_PM_SLEEP), expect(dead_code))]
    extern "C" fn freeze_callback(vdev: *mut sys::virtio_device) -> c_int {
        // SAFETY: The virtio core only calls `freeze` with a valid, bound device, under its
        // device lock.
        //
        // INVARIANT: `vdev` is valid for the duration of `freeze_callback()`.
        let dev = unsafe { &*vdev.cast::<Device<device::CoreInternal<'_>>>() };
        // SAFETY: `freeze` is only called for a bound device, whose `probe` stored an
        // `Arc<T>` with `set_drvdata`.
        let data = unsafe { dev.as_ref().drvdata_borrow::<Arc<T>>() };
        from_result(|| T::freeze(dev, &data).map(|()| 0))
    }

    /// `restore` of `struct virtio_driver`: the virtio core calls it on resume, under the
    /// device lock, with the device reset and its features negotiated again. If this leaves
    /// the device not ready, the core makes it ready.
    // Without `CONFIG_PM_SLEEP`, `struct virtio_driver` has no `freeze`/`restore`.
    #[cfg_attr(not(CONFIG_PM_SLEEP), expect(dead_code))]
    extern "C" fn restore_callback(vdev: *mut sys::virtio_device) -> c_int {
        // SAFETY: The virtio core only calls `restore` with a valid, bound device, under its
        // device lock.
        //
        // INVARIANT: `vdev` is valid for the duration of `restore_callback()`.
        let dev = unsafe { &*vdev.cast::<Device<device::CoreInternal<'_>>>() };
        // SAFETY: As in `freeze_callback`.
        let data = unsafe { dev.as_ref().drvdata_borrow::<Arc<T>>() };
        from_result(|| {
            T::restore(dev, &data)?;
            dev.ready();
            T::resume(dev, &data).map(|()| 0)
        })
    }

    extern "C" fn vq_callback(vq: *mut sys::virtqueue) {
        // SAFETY: The virtio core calls this with a valid virtqueue of a valid device.
        let (vdev, index) = unsafe { ((*vq).vdev, (*vq).index) };
        // SAFETY: `vdev` is valid, see above. `priv` is read once (`READ_ONCE`): it is either
        // NULL or an `Arc<T>` that `set_callback_target` stored before the device was made
        // ready (the status write that makes it ready orders the store before any callback).
        let target = unsafe { ptr::read_volatile(&raw const (*vdev).priv_) };
        if target.is_null() {
            return;
        }
        // SAFETY: `clear_callback_target` releases the `Arc<T>` only after `Device::reset`,
        // which waits for running callbacks (`virtio_synchronize_cbs`) and after which no
        // callback starts: the `Arc<T>` outlives this borrow.
        let data = unsafe { <Arc<T> as ForeignOwnable>::borrow(target.cast()) };
        if let Ok(index) = usize::try_from(index) {
            data.vq_done(index);
        }
    }
}

/// A virtio device (`struct virtio_device`).
///
/// # Invariants
///
/// A [`Device`] instance represents a valid `struct virtio_device` created by the C portion of
/// the kernel.
#[repr(transparent)]
pub(crate) struct Device<Ctx: device::DeviceContext = device::Normal>(
    Opaque<sys::virtio_device>,
    PhantomData<Ctx>,
);

impl<Ctx: device::DeviceContext> Device<Ctx> {
    fn as_raw(&self) -> *mut sys::virtio_device {
        self.0.get()
    }

    /// Returns whether feature `bit` was negotiated.
    pub(crate) fn has_feature(&self, bit: u32) -> bool {
        // SAFETY: By the type invariant, `as_raw()` is a valid device.
        unsafe { sys::rsnd_virtio_has_feature(self.as_raw(), bit) }
    }

    /// Reads a little-endian 32-bit field of the device's configuration space.
    pub(crate) fn config_le32(&self, offset: usize) -> Result<u32> {
        let offset = u32::try_from(offset)?;
        // SAFETY: By the type invariant, `as_raw()` is a valid device; the transport checks
        // the offset against the size of the configuration space.
        Ok(unsafe { sys::rsnd_virtio_cread_le32(self.as_raw(), offset) })
    }

    /// Resets the device, and waits for the virtqueue callbacks that were running: afterwards
    /// none runs, and the device neither uses buffers nor interrupts until it is made ready
    /// again.
    ///
    /// `virtio_reset_device` alone waits for callbacks only with
    /// `CONFIG_VIRTIO_HARDEN_NOTIFICATION`; on virtio-pci the reset happens to synchronise the
    /// interrupt vectors, on virtio-mmio it is a register write. `virtio_synchronize_cbs`
    /// (the transport's `synchronize_cbs`, or an RCU grace period) covers every transport.
    fn reset_raw(&self) {
        // SAFETY: By the type invariant, `as_raw()` is a valid device.
        unsafe { sys::virtio_reset_device(self.as_raw()) };
        // SAFETY: As above; the device is reset, so no new callback starts, and this may
        // sleep: every caller is in process context (probe, remove, freeze, or
        // `Virtqueues::shutdown`, whose callers are).
        unsafe { sys::rsnd_virtio_synchronize_cbs(self.as_raw()) };
    }
}

impl<'a> Device<device::Core<'a>> {
    /// Finds the `N` virtqueues of the device, with callbacks routed to [`Driver::vq_done`].
    pub(crate) fn find_vqs<T: Driver, Q: queue::Buffers, const N: usize>(
        &self,
        names: [&'static CStr; N],
    ) -> impl PinInit<Virtqueues<Q, N>, Error> + '_ {
        Virtqueues::new(self.into(), names, Adapter::<T>::vq_callback)
    }

    /// Resets the device (see [`Device::reset_raw`]).
    pub(crate) fn reset(&self) {
        self.reset_raw();
    }
}

impl<'a> Device<device::CoreInternal<'a>> {
    fn ready(&self) {
        // SAFETY: By the type invariant, `as_raw()` is a valid device, in probe.
        unsafe { sys::rsnd_virtio_device_ready(self.as_raw()) }
    }

    fn set_callback_target<T: Driver>(&self, data: Arc<T>) {
        // SAFETY: By the type invariant, `as_raw()` is a valid device; `priv` belongs to the
        // bound driver, which is us. No callback runs before the device is made ready, which
        // orders this store before them; the store is a single volatile write
        // (`WRITE_ONCE`).
        unsafe { ptr::write_volatile(&raw mut (*self.as_raw()).priv_, data.into_foreign().cast()) };
    }

    /// Drops the callback target. Only called after [`Device::reset`].
    fn clear_callback_target<T: Driver>(&self) {
        // SAFETY: By the type invariant, `as_raw()` is a valid device. The device was reset and
        // its running callbacks waited for (`Device::reset`), so no callback reads `priv`
        // now or later: nothing races these accesses.
        let target = unsafe { ptr::read_volatile(&raw const (*self.as_raw()).priv_) };
        // SAFETY: As above.
        unsafe { ptr::write_volatile(&raw mut (*self.as_raw()).priv_, ptr::null_mut()) };
        if !target.is_null() {
            // SAFETY: `target` came from `into_foreign` in `set_callback_target`.
            drop(unsafe { <Arc<T> as ForeignOwnable>::from_foreign(target.cast()) });
        }
    }
}

// SAFETY: `Device` is a transparent wrapper of a type that doesn't depend on `Device`'s generic
// argument.
kernel::impl_device_context_deref!(unsafe { Device });
kernel::impl_device_context_into_aref!(Device);

// SAFETY: Instances of `Device` are always reference-counted.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference guarantees that the refcount is non-zero.
        unsafe { kernel::bindings::get_device(&raw mut (*self.as_raw()).dev) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        let vdev: *mut sys::virtio_device = obj.cast().as_ptr();
        // SAFETY: The safety requirements guarantee that the refcount is non-zero, and `vdev`
        // is a valid device by the type invariant.
        unsafe { kernel::bindings::put_device(&raw mut (*vdev).dev) }
    }
}

impl<Ctx: device::DeviceContext> AsRef<device::Device<Ctx>> for Device<Ctx> {
    fn as_ref(&self) -> &device::Device<Ctx> {
        // SAFETY: By the type invariant of `Self`, `self.as_raw()` is a valid device.
        let dev = unsafe { &raw mut (*self.as_raw()).dev };
        // SAFETY: `dev` points to the valid `struct device` embedded in the virtio device.
        unsafe { device::Device::from_raw(dev) }
    }
}

// SAFETY: A `Device` is always reference-counted and can be released from any thread.
unsafe impl Send for Device {}

// SAFETY: The methods of `Device<Normal>` are thread safe: they read feature bits and the
// configuration space, or reset the device, which the C core serialises.
unsafe impl Sync for Device {}
