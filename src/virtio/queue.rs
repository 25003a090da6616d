// SPDX-License-Identifier: GPL-2.0

//! The virtqueues of one device, each behind an interrupt-safe lock of its own.
//!
//! C header: [`include/linux/virtio.h`](srctree/include/linux/virtio.h).
//!
//! A buffer is queued together with a token that owns (or borrows, for its whole time on the
//! queue) the memory it describes; see [`Buffers`]. The token comes back from
//! [`QueuesGuard::get_buf`] once the device has used the buffer, or from
//! [`Virtqueues::shutdown`] if it never will.

use super::Device;
use crate::{
    sync::{
        new_spinlock_irq,
        SpinLockIrq,
        SpinLockIrqBackend, //
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
    error::to_result,
    page::PAGE_SIZE,
    prelude::*,
    sync::{
        aref::ARef,
        lock::Guard, //
    },
    types::ForeignOwnable,
};

/// The most scatter-gather parts one token may describe.
pub(crate) const MAX_PARTS: usize = 4;

/// The list of memory parts that a token lends to the device.
///
/// Device-readable ("out") parts come first, device-writable ("in") parts after them. A
/// part is one linear-mapped range, or the scatter-gather list of an [`SgTable`].
pub(crate) struct SgBuilder {
    sg: [kernel::bindings::scatterlist; MAX_PARTS],
    /// Per part: the list of an [`SgTable`], or NULL for the entry in `sg`.
    tables: [*mut kernel::bindings::scatterlist; MAX_PARTS],
    out: usize,
    inp: usize,
}

impl SgBuilder {
    fn new() -> Self {
        Self {
            sg: pin_init::zeroed(),
            tables: [ptr::null_mut(); MAX_PARTS],
            out: 0,
            inp: 0,
        }
    }

    fn push(&mut self, ptr: *const u8, len: usize) -> Result {
        let n = self.out + self.inp;
        let slot = self.sg.get_mut(n).ok_or(EINVAL)?;
        let len = u32::try_from(len)?;
        if len == 0 {
            return Err(EINVAL);
        }
        // SAFETY: `slot` is a valid scatterlist entry; `sg_init_one` only records the address
        // and length. Validity of the memory is the token's promise (see `Buffers`).
        unsafe { sys::sg_init_one(slot, ptr.cast(), len) };
        Ok(())
    }

    fn push_table(&mut self, table: &mut SgTable) -> Result {
        let n = self.out + self.inp;
        if table.len == 0 || n >= MAX_PARTS {
            return Err(EINVAL);
        }
        self.tables[n] = table.entries.as_mut_ptr();
        Ok(())
    }

    /// Adds a part that the device reads.
    pub(crate) fn push_out(&mut self, ptr: *const u8, len: usize) -> Result {
        if self.inp != 0 {
            return Err(EINVAL);
        }
        self.push(ptr, len)?;
        self.out += 1;
        Ok(())
    }

    /// Adds a part that the device writes.
    pub(crate) fn push_in(&mut self, ptr: *mut u8, len: usize) -> Result {
        self.push(ptr, len)?;
        self.inp += 1;
        Ok(())
    }

    /// Adds the memory that `table` describes (see [`SgTable::fill`]), which the device
    /// reads. The table must not change until the token is handed back.
    pub(crate) fn push_table_out(&mut self, table: &mut SgTable) -> Result {
        if self.inp != 0 {
            return Err(EINVAL);
        }
        self.push_table(table)?;
        self.out += 1;
        Ok(())
    }

    /// Adds the memory that `table` describes, which the device writes. The table must not
    /// change until the token is handed back.
    pub(crate) fn push_table_in(&mut self, table: &mut SgTable) -> Result {
        self.push_table(table)?;
        self.inp += 1;
        Ok(())
    }
}

/// A scatter-gather list for one range of memory that is virtually contiguous but maybe
/// not physically: one entry per page of `vmalloc` memory, or one entry for linear-mapped
/// memory. Its entries are allocated up front (process context); filling it allocates
/// nothing, so it can be done in atomic context.
///
/// # Invariants
///
/// `entries[..len]` is an initialised, end-marked list (`len <= entries.len()`), or `len`
/// is 0.
pub(crate) struct SgTable {
    entries: KVec<kernel::bindings::scatterlist>,
    len: usize,
}

// SAFETY: The entries are plain descriptions of memory (page links, offsets, lengths), valid
// on any thread.
unsafe impl Send for SgTable {}

impl SgTable {
    /// A table for ranges of up to `max_bytes` bytes at any offset.
    pub(crate) fn new(max_bytes: usize) -> Result<Self> {
        let n = if max_bytes == 0 {
            0
        } else {
            max_bytes.div_ceil(PAGE_SIZE) + 1
        };
        let mut entries = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            entries.push(pin_init::zeroed(), GFP_KERNEL)?;
        }
        // INVARIANT: `len` is 0.
        Ok(Self { entries, len: 0 })
    }

    /// Describes `len` bytes at `ptr`: linear-mapped memory (`kmalloc`, the page allocator)
    /// or `vmalloc` memory. Fails with `EINVAL` if the range needs more entries than the
    /// table has, or is empty.
    ///
    /// # Safety
    ///
    /// `ptr..ptr + len` is allocated memory of one of those kinds.
    pub(crate) unsafe fn fill(&mut self, ptr: *mut u8, len: usize) -> Result {
        self.len = 0;
        let total = u32::try_from(len)?;
        if total == 0 {
            return Err(EINVAL);
        }
        // SAFETY: `is_vmalloc_addr` only compares the address with the vmalloc range.
        if !unsafe { sys::rsnd_is_vmalloc_addr(ptr.cast()) } {
            let first = self.entries.first_mut().ok_or(EINVAL)?;
            // SAFETY: `first` is a valid entry; `sg_init_one` initialises it as a one-entry,
            // end-marked list of the linear-mapped range (the caller's promise).
            unsafe { sys::sg_init_one(first, ptr.cast(), total) };
            // INVARIANT: one initialised, end-marked entry.
            self.len = 1;
            return Ok(());
        }
        let offset = ptr as usize % PAGE_SIZE;
        let n = (offset + len).div_ceil(PAGE_SIZE);
        if n > self.entries.len() {
            return Err(EINVAL);
        }
        let list = self.entries.as_mut_ptr();
        // SAFETY: `list` has at least `n` entries (checked above); `sg_init_table` zeroes
        // them and marks entry `n - 1` as the end.
        unsafe { sys::sg_init_table(list, n as u32) };
        let (mut at, mut left) = (ptr, len);
        for i in 0..n {
            let part = left.min(PAGE_SIZE - at as usize % PAGE_SIZE);
            // SAFETY: `i < n` entries exist. `at` lies in the caller's `vmalloc` range, as do
            // the `part` bytes from it (they stay within its page); `vmalloc_to_page` finds
            // the page, and `sg_set_page` keeps the end mark.
            unsafe { sys::rsnd_sg_set_vmalloc_page(list.add(i), at.cast(), part as u32) };
            // The last step may point just past the range; it is not used.
            at = at.wrapping_add(part);
            left -= part;
        }
        // INVARIANT: `sg_init_table` and `sg_set_page` initialised `n` entries, end-marked.
        self.len = n;
        Ok(())
    }
}

/// A token that lends memory to the device while it is queued.
///
/// # Safety
///
/// The parts that [`Buffers::describe`] pushes must be in the kernel's linear mapping
/// (`kmalloc` or the page allocator: not the stack), or `vmalloc` memory described page by
/// page by an [`SgTable`] that the token owns and does not change meanwhile; they must stay
/// allocated
/// from the moment the token is queued until it is handed back (by `get_buf`, or by
/// `shutdown`).
///
/// The device may read the "out" parts and write the "in" parts at any time meanwhile, so
/// no Rust reference to them may exist then, and no Rust code may rely on their contents
/// until the token is back. Other accesses are allowed only to memory that Rust code never
/// reads as typed data: a PCM buffer, which userspace may map and access while the device
/// plays or records it, holds plain samples that nothing in the kernel interprets (the
/// device reading a sample while the application writes it gets either value, as with DMA
/// hardware). The driver's own request and response buffers are not accessed at all while
/// queued (see [`crate::virtio::message`]).
pub(crate) unsafe trait Buffers: ForeignOwnable + Send + 'static {
    /// Pushes the parts of this token, out parts first. From a successful call on, the
    /// token counts as queued, until it is handed back or [`Buffers::not_queued`] is called.
    fn describe(&self, sg: &mut SgBuilder) -> Result;

    /// Tells the token that the queue refused it after [`Buffers::describe`].
    fn not_queued(&self) {}
}

/// One virtqueue, behind its lock.
struct Vq<Q> {
    /// NULL once the virtqueues were deleted.
    vq: *mut sys::virtqueue,
    _tokens: PhantomData<fn() -> Q>,
}

// SAFETY: The raw virtqueue pointer may be used from any thread (under the lock); the tokens
// it holds are `Send`.
unsafe impl<Q: Buffers> Send for Vq<Q> {}

/// The `N` virtqueues of a device, each behind a lock of its own.
///
/// # Invariants
///
/// While `vqs[i].vq` is non-null, it is the valid virtqueue `i` that `virtio_find_vqs`
/// returned for `dev`, and every token on it is a `Q` turned into a foreign pointer by
/// [`QueuesGuard::add`]. The queues are found and deleted together: all are null, or none.
#[pin_data(PinnedDrop)]
pub(crate) struct Virtqueues<Q: Buffers, const N: usize> {
    dev: ARef<Device>,
    /// What `virtio_find_vqs` needs to find the queues again ([`Virtqueues::restart`]).
    names: [&'static CStr; N],
    callback: extern "C" fn(*mut sys::virtqueue),
    #[pin]
    vqs: [SpinLockIrq<Vq<Q>>; N],
}

impl<Q: Buffers, const N: usize> Virtqueues<Q, N> {
    pub(super) fn new(
        dev: ARef<Device>,
        names: [&'static CStr; N],
        callback: extern "C" fn(*mut sys::virtqueue),
    ) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(move || {
            // SAFETY: `dev` is a valid device being probed, with no virtqueues yet.
            let found = unsafe { find_vqs(&dev, &names, callback) }?;
            // INVARIANT: `found` are the queues just found, and none holds a token yet.
            Ok(try_pin_init!(Self {
                dev,
                names,
                callback,
                vqs <- pin_init::pin_init_array_from_fn(|i| {
                    new_spinlock_irq!(
                        Vq { vq: found[i], _tokens: PhantomData },
                        c"virtio_snd_rs:vq"
                    )
                }),
            }? Error))
        })
    }

    /// Locks queue `index` (`EINVAL` if there is none).
    pub(crate) fn lock(&self, index: usize) -> Result<QueuesGuard<'_, Q>> {
        Ok(QueuesGuard(self.vqs.get(index).ok_or(EINVAL)?.lock()))
    }

    fn live(&self) -> bool {
        self.vqs.iter().any(|q| !q.lock().vq.is_null())
    }

    /// Resets the device, hands every token back to `cancel` (with its queue's index), and
    /// deletes the queues.
    ///
    /// Afterwards every operation fails with `ENODEV`, until [`Virtqueues::restart`]. Must be
    /// called in process context; calling it again does nothing.
    pub(crate) fn shutdown(&self, mut cancel: impl FnMut(usize, Q)) {
        if !self.live() {
            return;
        }
        // The reset waits for running callbacks, and stops the device from using buffers.
        self.dev.reset_raw();
        let mut deleted = false;
        for (i, q) in self.vqs.iter().enumerate() {
            let mut q = q.lock();
            // Not `mem::take`: raw pointers implement `Default` only from Rust 1.88, and Debian
            // 13's kernels are built by rustc 1.85.1.
            let vq = q.vq;
            q.vq = core::ptr::null_mut();
            if !vq.is_null() {
                // SAFETY: The queue is still valid (deleted below), and the device is reset.
                unsafe { drain::<Q>(vq, |t| cancel(i, t)) };
                deleted = true;
            }
        }
        if deleted {
            // SAFETY: The queues were found for `dev`, and no token is left on them.
            unsafe { sys::rsnd_virtio_del_vqs(self.dev.as_raw()) };
        }
    }

    /// Finds the queues again after a [`Virtqueues::shutdown`] (a resume from system sleep);
    /// the device is not ready yet. Does nothing if the queues are live.
    ///
    /// Must be called in process context, serialised with `shutdown` (the driver core does:
    /// both run under the device lock, from `freeze`/`restore` or `remove`).
    pub(crate) fn restart(&self) -> Result {
        if self.live() {
            return Ok(());
        }
        // SAFETY: `dev` is a valid device whose queues were deleted by `shutdown` (not live),
        // and the caller serialises this with `shutdown`, so no queue exists.
        let found = unsafe { find_vqs(&self.dev, &self.names, self.callback) }?;
        for (q, vq) in self.vqs.iter().zip(found) {
            // INVARIANT: `vq` is the queue just found, and holds no token yet.
            q.lock().vq = vq;
        }
        Ok(())
    }
}

/// Finds the `N` queues of `dev`, with `callback` for each.
///
/// # Safety
///
/// `dev` is a valid device that has no virtqueues, in probe or restore.
unsafe fn find_vqs<const N: usize>(
    dev: &Device,
    names: &[&'static CStr; N],
    callback: extern "C" fn(*mut sys::virtqueue),
) -> Result<[*mut sys::virtqueue; N]> {
    let mut vqs = [ptr::null_mut(); N];
    let mut infos: [sys::virtqueue_info; N] = core::array::from_fn(|i| sys::virtqueue_info {
        name: names[i].as_char_ptr(),
        callback: Some(callback),
        ctx: false,
    });
    // SAFETY: `dev` is valid and has no queues (the safety requirements); both arrays hold
    // `N` entries, and the names are `'static`.
    to_result(unsafe {
        sys::rsnd_virtio_find_vqs(
            dev.as_raw(),
            u32::try_from(N)?,
            vqs.as_mut_ptr(),
            infos.as_mut_ptr(),
        )
    })?;
    Ok(vqs)
}

/// Hands every token of `vq` back to `f`: used ones first, then unused ones.
///
/// # Safety
///
/// `vq` is a valid virtqueue of a reset device, whose tokens are all `Q` foreign pointers.
unsafe fn drain<Q: Buffers>(vq: *mut sys::virtqueue, mut f: impl FnMut(Q)) {
    let mut len = 0u32;
    loop {
        // SAFETY: By the safety requirements `vq` is valid.
        let t = unsafe { sys::virtqueue_get_buf(vq, &mut len) };
        if t.is_null() {
            break;
        }
        // SAFETY: Every token on the queue is a `Q` foreign pointer.
        f(unsafe { Q::from_foreign(t.cast()) });
    }
    loop {
        // SAFETY: By the safety requirements `vq` is valid and the device is reset.
        let t = unsafe { sys::virtqueue_detach_unused_buf(vq) };
        if t.is_null() {
            break;
        }
        // SAFETY: Every token on the queue is a `Q` foreign pointer.
        f(unsafe { Q::from_foreign(t.cast()) });
    }
}

#[pinned_drop]
impl<Q: Buffers, const N: usize> PinnedDrop for Virtqueues<Q, N> {
    fn drop(self: Pin<&mut Self>) {
        self.shutdown(|_, token| drop(token));
    }
}

/// One locked queue of a [`Virtqueues`].
pub(crate) struct QueuesGuard<'a, Q: Buffers>(Guard<'a, Vq<Q>, SpinLockIrqBackend>);

impl<Q: Buffers> QueuesGuard<'_, Q> {
    fn vq(&self) -> Result<NonNull<sys::virtqueue>> {
        NonNull::new(self.0.vq).ok_or(ENODEV)
    }

    /// The number of entries of the queue's ring: the longest descriptor chain that it may
    /// be given.
    pub(crate) fn ring_size(&self) -> Result<u32> {
        let vq = self.vq()?;
        // SAFETY: `vq` is valid, and serialised by the lock.
        Ok(unsafe { sys::virtqueue_get_vring_size(vq.as_ptr()) })
    }

    /// Queues the buffers of `token`. Does not notify the device.
    pub(crate) fn add(&mut self, token: Q) -> Result {
        let vq = self.vq()?;
        let mut sg = SgBuilder::new();
        token.describe(&mut sg)?;
        let (out, inp) = (sg.out, sg.inp);
        let base = sg.sg.as_mut_ptr();
        // Each part is its own list: a one-entry list in `sg.sg` (`sg_init_one` marks the
        // end), or the list of an `SgTable` that the token owns.
        let mut lists: [*mut kernel::bindings::scatterlist; MAX_PARTS] =
            core::array::from_fn(|i| match sg.tables[i] {
                // SAFETY: `i < MAX_PARTS`, so `base.add(i)` stays within `sg.sg`.
                t if t.is_null() => unsafe { base.add(i) },
                t => t,
            });
        let data = token.into_foreign();
        // SAFETY: `vq` is valid (checked by `vq()` under the lock, which serialises all queue
        // operations). `lists` holds `out + inp` initialised entries. By the `Buffers`
        // contract the described memory stays valid until the token is handed back.
        let ret = unsafe {
            sys::virtqueue_add_sgs(
                vq.as_ptr(),
                lists.as_mut_ptr(),
                out as u32,
                inp as u32,
                data.cast(),
                kernel::bindings::GFP_ATOMIC,
            )
        };
        if ret < 0 {
            // SAFETY: The queue refused the token, so we still own it.
            let token = unsafe { Q::from_foreign(data) };
            token.not_queued();
            return Err(Error::from_errno(ret));
        }
        Ok(())
    }

    /// Takes back one used token, with the number of bytes the device wrote.
    pub(crate) fn get_buf(&mut self) -> Option<(Q, u32)> {
        let vq = self.vq().ok()?;
        let mut len = 0u32;
        // SAFETY: `vq` is valid, and serialised by the lock.
        let t = unsafe { sys::virtqueue_get_buf(vq.as_ptr(), &mut len) };
        // SAFETY: Every token on the queue is a `Q` foreign pointer (type invariant).
        NonNull::new(t).map(|t| (unsafe { Q::from_foreign(t.as_ptr().cast()) }, len))
    }

    /// Notifies the device of new buffers, if it asked to be notified.
    ///
    /// Returns whether a notification was sent.
    pub(crate) fn kick(&mut self) -> Result<bool> {
        let vq = self.vq()?;
        // SAFETY: `vq` is valid, and serialised by the lock.
        if unsafe { sys::virtqueue_kick_prepare(vq.as_ptr()) } {
            // SAFETY: `vq` is valid.
            if !unsafe { sys::virtqueue_notify(vq.as_ptr()) } {
                return Err(EIO);
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Whether the queue is broken: the device broke the ring's rules (it used a buffer that
    /// it was not given, for example), or the device went away. A broken queue takes no
    /// more buffers (`add` fails with `EIO`) and hands none back, until the device is reset.
    pub(crate) fn is_broken(&self) -> bool {
        let Ok(vq) = self.vq() else {
            return false;
        };
        // SAFETY: `vq` is valid, and serialised by the lock.
        unsafe { sys::virtqueue_is_broken(vq.as_ptr()) }
    }

    /// Asks the device not to interrupt for the queue (a hint only).
    pub(crate) fn disable_cb(&mut self) -> Result {
        let vq = self.vq()?;
        // SAFETY: `vq` is valid, and serialised by the lock.
        unsafe { sys::virtqueue_disable_cb(vq.as_ptr()) };
        Ok(())
    }

    /// Re-enables interrupts for the queue.
    ///
    /// Returns false if buffers were used in the meantime: the caller should poll again.
    pub(crate) fn enable_cb(&mut self) -> Result<bool> {
        let vq = self.vq()?;
        // SAFETY: `vq` is valid, and serialised by the lock.
        Ok(unsafe { sys::virtqueue_enable_cb(vq.as_ptr()) })
    }
}
