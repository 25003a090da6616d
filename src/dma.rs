// SPDX-License-Identifier: GPL-2.0

//! Memory that a device may access directly, shared between the ALSA and virtio layers.
//!
//! ALSA owns a PCM buffer; virtio messages lend ranges of it to the device. This trait is the
//! contract between the two, so that neither abstraction depends on the other.

/// A block of kernel memory that a device may read and write.
///
/// # Safety
///
/// `as_ptr()` points to `len()` bytes of kernel memory that is either in the linear mapping
/// (page allocator or `kmalloc`) or all `vmalloc` memory (not the stack), valid and at a
/// fixed address for as long as the implementing value lives.
pub(crate) unsafe trait Memory: Send + Sync + 'static {
    /// The start of the block.
    fn as_ptr(&self) -> *mut u8;
    /// The size of the block in bytes.
    fn len(&self) -> usize;
}

/// No memory: for messages that carry no data part.
pub(crate) enum NoMemory {}

// SAFETY: `NoMemory` has no values, so the methods can never be called.
unsafe impl Memory for NoMemory {
    fn as_ptr(&self) -> *mut u8 {
        match *self {}
    }

    fn len(&self) -> usize {
        match *self {}
    }
}
