// SPDX-License-Identifier: GPL-2.0

//! A request/response message for a virtqueue, with a timed wait for the answer.
//!
//! Besides its own request and response buffers, a message may lend the device a range of
//! a [`dma::Memory`] block (a PCM buffer): as the second device-readable part (playback) or
//! as the first device-writable part (capture). It keeps the block alive while queued.
//!
//! The request and the response live in two `kmalloc` buffers of their own, apart from the
//! bookkeeping that the CPU writes, so that no cache line is shared between device-written
//! and CPU-written data on non-coherent systems.

use super::queue::{
    Buffers,
    SgBuilder,
    SgTable, //
};
use crate::{
    dma,
    sync::{
        new_spinlock_irq,
        SpinLockIrq, //
    },
};
use core::ptr::NonNull;
use kernel::{
    new_condvar,
    prelude::*,
    sync::{
        atomic::{
            ordering::{
                Acquire,
                Relaxed,
                Release, //
            },
            Atomic,
        },
        Arc,
        CondVar,
        CondVarTimeoutResult, //
    },
    time::msecs_to_jiffies,
};

/// A `kmalloc` buffer that the device may read or write.
///
/// # Invariants
///
/// `ptr` points to `len` bytes allocated by `KVec::<u8>` with capacity `cap`, owned by
/// `self`. No Rust reference to those bytes exists outside of `&self`/`&mut self` methods
/// that the [`Message`] state allows.
struct DmaBuf {
    ptr: NonNull<u8>,
    len: usize,
    cap: usize,
}

// SAFETY: `DmaBuf` owns plain bytes; ownership can move between threads.
unsafe impl Send for DmaBuf {}
// SAFETY: Shared access only copies bytes out, under the `Message` state rules.
unsafe impl Sync for DmaBuf {}

impl DmaBuf {
    fn new(content: &[u8], len: usize) -> Result<Self> {
        let mut v = KVec::with_capacity(len.max(1), GFP_KERNEL)?;
        v.extend_from_slice(content, GFP_KERNEL)?;
        v.resize(len, 0, GFP_KERNEL)?;
        let (ptr, len, cap) = v.into_raw_parts();
        // INVARIANT: `ptr`, `len` and `cap` come from `into_raw_parts`.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
            len,
            cap,
        })
    }
}

impl Drop for DmaBuf {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, the parts come from `KVec::into_raw_parts`.
        drop(unsafe { KVec::from_raw_parts(self.ptr.as_ptr(), self.len, self.cap) });
    }
}

const IDLE: i8 = 0;
const QUEUED: i8 = 1;
const DONE: i8 = 2;
const CANCELLED: i8 = 3;

/// A range of a [`dma::Memory`] block that a message lends to the device.
///
/// # Invariants
///
/// `offset + len <= mem.len()` and `len > 0`.
struct DataPart<M: dma::Memory> {
    mem: Arc<M>,
    offset: usize,
    len: usize,
    device_writes: bool,
}

/// What the lock of a [`Message`] protects.
struct Shared<M: dma::Memory> {
    /// The memory lent with the next queueing.
    part: Option<DataPart<M>>,
    /// The scatter-gather list of `part`, built when the message is queued.
    sg: SgTable,
    /// The largest data part that `sg` can describe.
    part_max: usize,
    /// How many times the message was queued (wrapping): tells one trip from the next.
    trip: u32,
}

/// A message: a request that the device reads, and room for its response.
///
/// Any number of tasks may wait for the answer to one trip ([`Message::wait`],
/// [`Message::wait_trip`]); the message may be queued again meanwhile. A waiter checks the
/// state under `shared`'s lock, and [`Message::complete`] and [`Message::cancel`] change it
/// under the same lock before they notify `answered`, so no wakeup is lost.
///
/// # Invariants
///
/// `state` is `QUEUED` exactly while the message is on a virtqueue: the CPU then touches
/// neither buffer, and `shared.part` does not change. `state` only changes under `shared`'s
/// lock. `written` is only meaningful in state `DONE`.
#[pin_data]
pub(crate) struct Message<M: dma::Memory = dma::NoMemory> {
    request: DmaBuf,
    response: DmaBuf,
    written: Atomic<u32>,
    state: Atomic<i8>,
    tag: u32,
    #[pin]
    shared: SpinLockIrq<Shared<M>>,
    #[pin]
    answered: CondVar,
}

/// Why a message got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageError {
    /// The device did not answer in time.
    TimedOut,
    /// The waiting task got a signal.
    Interrupted,
    /// The queue was shut down (device removed).
    Cancelled,
}

impl<M: dma::Memory> Message<M> {
    /// Allocates a message with `request` as its request and `response_len` bytes of response.
    ///
    /// `tag` is the owner's to use, e.g. to find what a used message belongs to.
    pub(crate) fn new(request: &[u8], response_len: usize, tag: u32) -> Result<Arc<Self>> {
        Self::with_data(request, response_len, tag, 0)
    }

    /// As [`Message::new`], for a message that lends data parts of up to `part_max` bytes
    /// ([`Message::set_data`]).
    pub(crate) fn with_data(
        request: &[u8],
        response_len: usize,
        tag: u32,
        part_max: usize,
    ) -> Result<Arc<Self>> {
        let sg = SgTable::new(part_max)?;
        Arc::pin_init(
            try_pin_init!(Self {
                request: DmaBuf::new(request, request.len())?,
                response: DmaBuf::new(&[], response_len)?,
                written: Atomic::new(0),
                state: Atomic::new(IDLE),
                tag,
                shared <- new_spinlock_irq!(
                    Shared { part: None, sg, part_max, trip: 0 },
                    c"virtio_snd_rs:msg_data"
                ),
                answered <- new_condvar!("virtio_snd_rs:msg_answered"),
            }? Error),
            GFP_KERNEL,
        )
    }

    /// Whether the message is on a virtqueue now.
    pub(crate) fn is_queued(&self) -> bool {
        self.state.load(Acquire) == QUEUED
    }

    /// The owner's tag given to [`Message::new`].
    pub(crate) fn tag(&self) -> u32 {
        self.tag
    }

    /// Lends `len` bytes at `offset` of `mem` to the device, with the next queueing of this
    /// message: device-readable, or device-writable if `device_writes`.
    ///
    /// Fails with `EBUSY` while the message is queued, and `EINVAL` for a range outside
    /// `mem`, an empty one, or one longer than the message was made for.
    pub(crate) fn set_data(
        &self,
        mem: &Arc<M>,
        offset: usize,
        len: usize,
        device_writes: bool,
    ) -> Result {
        if len == 0 || offset.checked_add(len).is_none_or(|end| end > mem.len()) {
            return Err(EINVAL);
        }
        let mut shared = self.shared.lock();
        if self.state.load(Acquire) == QUEUED {
            return Err(EBUSY);
        }
        if len > shared.part_max {
            return Err(EINVAL);
        }
        // INVARIANT: the range was checked above.
        shared.part = Some(DataPart {
            mem: mem.clone(),
            offset,
            len,
            device_writes,
        });
        Ok(())
    }

    /// Rewrites the request of an unqueued message (same length).
    pub(crate) fn set_request(&self, request: &[u8]) -> Result {
        if request.len() != self.request.len {
            return Err(EINVAL);
        }
        let _shared = self.shared.lock();
        if self.state.load(Acquire) == QUEUED {
            return Err(EBUSY);
        }
        // SAFETY: The message is not queued, so the device does not read the request; the
        // lock serialises this with `describe`; the lengths match.
        unsafe {
            core::ptr::copy_nonoverlapping(
                request.as_ptr(),
                self.request.ptr.as_ptr(),
                request.len(),
            )
        };
        Ok(())
    }

    /// Zeroes the response of an unqueued message, so that a part that the device does not
    /// write next time cannot be mistaken for an answer (a stale status, say).
    pub(crate) fn clear_response(&self) -> Result {
        let _shared = self.shared.lock();
        if self.state.load(Acquire) == QUEUED {
            return Err(EBUSY);
        }
        // SAFETY: The message is not queued, so the device does not write the response; the
        // lock serialises this with `describe`; `len` bytes are allocated.
        unsafe { core::ptr::write_bytes(self.response.ptr.as_ptr(), 0, self.response.len) };
        Ok(())
    }

    /// Drops the data part (and the reference to its memory) of an unqueued message.
    pub(crate) fn clear_data(&self) {
        let mut shared = self.shared.lock();
        if self.state.load(Acquire) != QUEUED {
            shared.part = None;
        }
    }

    /// Records the device's answer and wakes every waiter. Called with the used length that
    /// the queue reported.
    pub(crate) fn complete(&self, written: u32) {
        self.finish(DONE, written);
    }

    /// Marks the message as never to be answered, and wakes every waiter.
    pub(crate) fn cancel(&self) {
        self.finish(CANCELLED, 0);
    }

    fn finish(&self, state: i8, written: u32) {
        {
            let _shared = self.shared.lock();
            self.written.store(written, Relaxed);
            self.state.store(state, Release);
        }
        self.answered.notify_all();
    }

    /// The trip of the message if it is queued now, for [`Message::wait_trip`].
    pub(crate) fn queued_trip(&self) -> Option<u32> {
        let shared = self.shared.lock();
        (self.state.load(Acquire) == QUEUED).then_some(shared.trip)
    }

    /// Waits at most `timeout_ms` for the end of trip `trip` (answered, cancelled, or the
    /// message already queued again).
    pub(crate) fn wait_trip(&self, trip: u32, timeout_ms: u32) -> Result<(), MessageError> {
        let mut left = msecs_to_jiffies(timeout_ms);
        let mut shared = self.shared.lock();
        while self.state.load(Acquire) == QUEUED && shared.trip == trip {
            match self.answered.wait_interruptible_timeout(&mut shared, left) {
                CondVarTimeoutResult::Timeout => return Err(MessageError::TimedOut),
                CondVarTimeoutResult::Signal { .. } => return Err(MessageError::Interrupted),
                CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
            }
        }
        Ok(())
    }

    /// Waits at most `timeout_ms` for the answer to the message's present trip, and returns
    /// the bytes written. Returns at once if it is not queued.
    pub(crate) fn wait(&self, timeout_ms: u32) -> Result<usize, MessageError> {
        if let Some(trip) = self.queued_trip() {
            self.wait_trip(trip, timeout_ms)?;
        }
        self.answered().ok_or(MessageError::Cancelled)
    }

    /// Returns the bytes written by the device, if it has answered.
    pub(crate) fn answered(&self) -> Option<usize> {
        (self.state.load(Acquire) == DONE)
            .then(|| (self.written.load(Relaxed) as usize).min(self.response.len))
    }

    /// Copies the answer into `dst`; returns the number of bytes copied (0 if unanswered).
    ///
    /// A device may report fewer bytes written than it should: the caller checks the count.
    pub(crate) fn read_response(&self, dst: &mut [u8]) -> usize {
        let Some(written) = self.answered() else {
            return 0;
        };
        let n = written.min(dst.len());
        // SAFETY: The state is `DONE`, so the device has handed the buffer back and the CPU
        // may read it; `n` is within both buffers; they do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(self.response.ptr.as_ptr(), dst.as_mut_ptr(), n) };
        n
    }
}

// SAFETY:
// - Both buffers are `kmalloc` memory owned by the message, which the `Arc` keeps alive at
//   least as long as the queue holds the token.
// - The data part's memory is a `dma::Memory` (linear-mapped or `vmalloc`, by its contract;
//   described page by page in `shared.sg`, which only `describe` changes), kept alive by
//   the `Arc<M>` in `shared.part`, which cannot change while the message is queued
//   (`set_data` and `clear_data` check the state under the same lock that `describe` takes).
// - `describe` moves the state to `QUEUED`; until `complete` or `cancel` moves it on, no
//   method of `Message` touches the buffers (`read_response` requires `DONE`).
unsafe impl<M: dma::Memory> Buffers for Arc<Message<M>> {
    fn describe(&self, sg: &mut SgBuilder) -> Result {
        let mut shared = self.shared.lock();
        if self.state.load(Acquire) == QUEUED {
            // Queued twice: the device would get the same memory twice.
            return Err(EBUSY);
        }
        let part = shared.part.as_ref().map(|d| {
            // SAFETY: By the `DataPart` invariant the range lies within `mem`.
            (
                unsafe { d.mem.as_ptr().add(d.offset) },
                d.len,
                d.device_writes,
            )
        });
        if let Some((ptr, len, _)) = part {
            // SAFETY: The range lies within `mem` (above), which is linear-mapped or
            // `vmalloc` memory by the `dma::Memory` contract, and kept alive by `part`.
            unsafe { shared.sg.fill(ptr, len) }?;
        }
        if self.request.len > 0 {
            sg.push_out(self.request.ptr.as_ptr(), self.request.len)?;
        }
        if let Some((_, _, false)) = part {
            sg.push_table_out(&mut shared.sg)?;
        }
        if let Some((_, _, true)) = part {
            sg.push_table_in(&mut shared.sg)?;
        }
        if self.response.len > 0 {
            sg.push_in(self.response.ptr.as_ptr(), self.response.len)?;
        }
        shared.trip = shared.trip.wrapping_add(1);
        self.state.store(QUEUED, Release);
        Ok(())
    }

    fn not_queued(&self) {
        let _shared = self.shared.lock();
        self.state.store(IDLE, Release);
    }
}
