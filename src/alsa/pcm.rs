// SPDX-License-Identifier: GPL-2.0

//! ALSA PCM devices: registration, callbacks, substreams, runtimes and hardware parameters.
//!
//! C header: [`include/sound/pcm.h`](srctree/include/sound/pcm.h).

use super::card::Card;
use crate::{
    dma,
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
        to_result,
        VTABLE_DEFAULT_ERROR, //
    },
    new_condvar,
    prelude::*,
    sync::{
        Arc,
        CondVar, //
    },
    types::{
        ForeignOwnable,
        Opaque, //
    },
};

/// `SNDRV_PCM_INFO_*` flags.
pub(crate) mod info {
    use crate::sys;
    pub(crate) const MMAP: u32 = sys::SNDRV_PCM_INFO_MMAP;
    pub(crate) const MMAP_VALID: u32 = sys::SNDRV_PCM_INFO_MMAP_VALID;
    pub(crate) const INTERLEAVED: u32 = sys::SNDRV_PCM_INFO_INTERLEAVED;
    pub(crate) const BLOCK_TRANSFER: u32 = sys::SNDRV_PCM_INFO_BLOCK_TRANSFER;
    pub(crate) const BATCH: u32 = sys::SNDRV_PCM_INFO_BATCH;
    pub(crate) const PAUSE: u32 = sys::SNDRV_PCM_INFO_PAUSE;
    pub(crate) const NO_REWINDS: u32 = sys::SNDRV_PCM_INFO_NO_REWINDS;
    pub(crate) const SYNC_APPLPTR: u32 = sys::SNDRV_PCM_INFO_SYNC_APPLPTR;
    pub(crate) const DRAIN_TRIGGER: u32 = sys::SNDRV_PCM_INFO_DRAIN_TRIGGER;
    pub(crate) const RESUME: u32 = sys::SNDRV_PCM_INFO_RESUME;
    pub(crate) const NO_PERIOD_WAKEUP: u32 = sys::SNDRV_PCM_INFO_NO_PERIOD_WAKEUP;
}

/// What `pointer` tells the ALSA core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    /// The hardware position, in frames, in `0..buffer_size`.
    Frames(usize),
    /// The hardware ran past the application (`SNDRV_PCM_POS_XRUN`): the core stops the
    /// substream with an xrun.
    Xrun,
}

/// The ALSA state of a substream (`SNDRV_PCM_STATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Open,
    Setup,
    Prepared,
    Running,
    Xrun,
    Draining,
    Paused,
    Suspended,
    Disconnected,
}

impl State {
    /// Decodes `snd_pcm_state_t`. The values are uapi (`include/uapi/sound/asound.h`); bindgen
    /// cannot evaluate their `__force` casts, so they are spelled out here.
    fn from_raw(v: c_int) -> Self {
        match v {
            0 => Self::Open,
            1 => Self::Setup,
            2 => Self::Prepared,
            3 => Self::Running,
            4 => Self::Xrun,
            5 => Self::Draining,
            6 => Self::Paused,
            7 => Self::Suspended,
            _ => Self::Disconnected,
        }
    }
}

/// A PCM buffer of `vmalloc` memory (`SNDRV_DMA_TYPE_VMALLOC`): single pages, so that it
/// allocates on a guest whose memory is fragmented (a physically contiguous buffer of 1 MiB
/// failed there; Documentation/design.rst), and ALSA maps it to userspace page by page.
///
/// It can be installed as a substream's runtime buffer, and lent to a device through
/// [`dma::Memory`]; it is freed when the last reference goes, so a device that is late to
/// give a buffer back never writes into freed memory.
///
/// # Invariants
///
/// `dmab` was filled by a successful `snd_dma_alloc_dir_pages`.
#[pin_data(PinnedDrop)]
pub(crate) struct DmaBuffer {
    #[pin]
    dmab: Opaque<sys::snd_dma_buffer>,
}

// SAFETY: The buffer is plain memory; its descriptor is only written at allocation.
unsafe impl Send for DmaBuffer {}
// SAFETY: Shared access only reads the descriptor; the memory's users synchronise themselves.
unsafe impl Sync for DmaBuffer {}

impl DmaBuffer {
    /// Allocates `bytes` bytes (rounded up to whole pages).
    pub(crate) fn new(bytes: usize) -> Result<Arc<Self>> {
        if bytes == 0 {
            return Err(EINVAL);
        }
        Arc::pin_init(
            try_pin_init!(Self {
                // INVARIANT: the allocation succeeded, or the initialiser fails.
                dmab <- Opaque::try_ffi_init(|slot: *mut sys::snd_dma_buffer| {
                    // SAFETY: `slot` is valid for writes; the helper fills the whole
                    // descriptor on success.
                    to_result(unsafe { sys::rsnd_dma_alloc_vmalloc(bytes, slot) })?;
                    // `vmalloc` does not zero, and userspace may map the buffer (ALSA
                    // clears it too, after `hw_params`).
                    // SAFETY: On success `area` points to `bytes` allocated bytes (the
                    // descriptor's size), which nothing else uses yet.
                    unsafe { ptr::write_bytes((*slot).area.cast::<u8>(), 0, (*slot).bytes) };
                    Ok::<(), Error>(())
                }),
            }? Error),
            GFP_KERNEL,
        )
    }
}

#[pinned_drop]
impl PinnedDrop for DmaBuffer {
    fn drop(self: Pin<&mut Self>) {
        // The last reference may go in any context: with a lock held (`hw_free` clearing a
        // message's data part), or in a completion of a late message. `vfree` may sleep,
        // and takes locks that are not interrupt-safe; `kvfree_atomic` defers it to a worker.
        // SAFETY: By the type invariant the buffer was allocated by `rsnd_dma_alloc_vmalloc`;
        // it is freed once, here, and nothing uses it any more (this is the last reference).
        unsafe { sys::rsnd_dma_free_vmalloc(self.dmab.get()) };
    }
}

// SAFETY: `SNDRV_DMA_TYPE_VMALLOC` memory is all `vmalloc` memory, stays at its address, and
// lives until `drop`.
unsafe impl dma::Memory for DmaBuffer {
    fn as_ptr(&self) -> *mut u8 {
        // SAFETY: By the type invariant the descriptor is initialised.
        unsafe { (*self.dmab.get()).area }
    }

    fn len(&self) -> usize {
        // SAFETY: By the type invariant the descriptor is initialised.
        unsafe { (*self.dmab.get()).bytes }
    }
}

/// The direction of a substream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `SNDRV_PCM_STREAM_PLAYBACK`.
    Playback,
    /// `SNDRV_PCM_STREAM_CAPTURE`.
    Capture,
}

impl Direction {
    fn raw(self) -> c_int {
        match self {
            Self::Playback => sys::SNDRV_PCM_STREAM_PLAYBACK as c_int,
            Self::Capture => sys::SNDRV_PCM_STREAM_CAPTURE as c_int,
        }
    }
}

/// A trigger command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TriggerCmd {
    Start,
    Stop,
    PausePush,
    PauseRelease,
    Suspend,
    Resume,
    Drain,
}

impl TriggerCmd {
    fn from_raw(cmd: c_int) -> Option<Self> {
        let cmd = u32::try_from(cmd).ok()?;
        Some(match cmd {
            sys::SNDRV_PCM_TRIGGER_START => Self::Start,
            sys::SNDRV_PCM_TRIGGER_STOP => Self::Stop,
            sys::SNDRV_PCM_TRIGGER_PAUSE_PUSH => Self::PausePush,
            sys::SNDRV_PCM_TRIGGER_PAUSE_RELEASE => Self::PauseRelease,
            sys::SNDRV_PCM_TRIGGER_SUSPEND => Self::Suspend,
            sys::SNDRV_PCM_TRIGGER_RESUME => Self::Resume,
            sys::SNDRV_PCM_TRIGGER_DRAIN => Self::Drain,
            _ => return None,
        })
    }
}

/// What a substream can do (the fields of `struct snd_pcm_hardware`): the pure description
/// that the driver's logic computes.
pub(crate) use crate::spec::hw::Hardware;

/// The callbacks of a PCM device, for both directions.
///
/// `Self` is the data shared by all substreams of the device; each callback gets the
/// substream it is about. Unless the PCM is atomic, every callback runs in process context.
#[vtable]
pub(crate) trait PcmOps: Send + Sync + Sized + 'static {
    /// Opens a substream: sets `runtime.hw` and constraints.
    fn open(this: &Self, substream: &OpeningSubstream<'_>) -> Result;
    /// Closes a substream.
    fn close(this: &Self, substream: &Substream<'_>) -> Result;
    /// The slot through which other contexts reach `substream` while it is open, if the
    /// driver has one for it.
    ///
    /// The adapter attaches the substream to it before [`PcmOps::open`], and detaches it
    /// (waiting for every [`SlotRef`]) before [`PcmOps::close`]. A slot holds one substream
    /// at a time: the open of a second substream with the same slot fails with `EBUSY`.
    fn slot<'a>(this: &'a Self, substream: &Substream<'_>) -> Option<&'a SubstreamSlot> {
        let _ = (this, substream);
        None
    }
    /// Applies hardware parameters (the buffer is already allocated).
    fn hw_params(this: &Self, substream: &Substream<'_>, params: &HwParams<'_>) -> Result {
        let _ = (this, substream, params);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Releases what `hw_params` set up.
    fn hw_free(this: &Self, substream: &Substream<'_>) -> Result {
        let _ = (this, substream);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Prepares the substream for start.
    fn prepare(this: &Self, substream: &Substream<'_>) -> Result {
        let _ = (this, substream);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Starts, stops, pauses or resumes the substream.
    fn trigger(this: &Self, substream: &LockedSubstream<'_>, cmd: TriggerCmd) -> Result {
        let _ = (this, substream, cmd);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Waits for the end of the I/O of a stopped substream.
    fn sync_stop(this: &Self, substream: &Substream<'_>) -> Result {
        let _ = (this, substream);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Returns the hardware position.
    fn pointer(this: &Self, substream: &LockedSubstream<'_>) -> Position {
        let _ = (this, substream);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Tells the driver that the application pointer moved.
    fn ack(this: &Self, substream: &LockedSubstream<'_>) -> Result {
        let _ = (this, substream);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Brings the hardware position up to date before the ALSA core resets the positions
    /// (`SNDRV_PCM_IOCTL_RESET`), which reads it: a driver that learns of its hardware's
    /// progress late (by polling) catches up here. Called without the stream lock.
    fn sync_position(this: &Self, substream: &Substream<'_>) {
        let _ = (this, substream);
    }
    /// Tells the driver that the ALSA core reset the positions (`SNDRV_PCM_IOCTL_RESET`):
    /// the hardware position moved back by whole buffers (to 0 unless the substream runs),
    /// and the application pointer will follow it. Called under the stream lock, after the
    /// core's own reset.
    fn reset(this: &Self, substream: &LockedSubstream<'_>) {
        let _ = (this, substream);
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A channel map (`struct snd_pcm_chmap_elem`): `SNDRV_CHMAP_*` positions of `channels`
/// channels.
#[derive(Clone, Copy, Default)]
pub(crate) struct Chmap {
    pub(crate) channels: u8,
    pub(crate) map: [u8; CHMAP_MAX],
}

/// The most channels of a channel map (`SNDRV_CHMAP_*` positions of a
/// `struct snd_pcm_chmap_elem`).
pub(crate) const CHMAP_MAX: usize = 15;

/// A PCM device just created by [`Pcm::new`], whose card is not registered yet.
///
/// # Invariants
///
/// `ptr` is a PCM of `card`.
pub(crate) struct NewPcm<'a> {
    card: &'a mut Card,
    ptr: NonNull<sys::snd_pcm>,
}

impl NewPcm<'_> {
    /// Adds the "Playback/Capture Channel Map" control of `direction`, offering `maps`
    /// (one per channel count, at most 15 channels each).
    pub(crate) fn add_chmaps(&mut self, direction: Direction, maps: &[Chmap]) -> Result {
        // The control's value has one member per channel of the widest map: never more than
        // a map holds (ALSA clears that many `long`s of a 128-member value).
        let Some(max_channels) = maps.iter().map(|m| m.channels).max() else {
            return Ok(());
        };
        if usize::from(max_channels) > CHMAP_MAX {
            return Err(EINVAL);
        }
        // The list ends with an element of zero channels.
        let mut elems = KVec::with_capacity(maps.len() + 1, GFP_KERNEL)?;
        for m in Iterator::chain(maps.iter(), core::iter::once(&Chmap::default())) {
            elems.push(
                sys::snd_pcm_chmap_elem {
                    channels: m.channels,
                    map: m.map,
                },
                GFP_KERNEL,
            )?;
        }
        let table = elems.as_ptr();
        // The control points into `elems` until the card is freed: the card keeps it (the
        // heap block does not move when `keep` grows).
        self.card.keep.push(elems, GFP_KERNEL)?;
        let mut info: *mut sys::snd_pcm_chmap = ptr::null_mut();
        // SAFETY: By the type invariant `ptr` is a live PCM of an unregistered card; `table`
        // is a zero-terminated array that lives as long as the card; `info` is a valid
        // location.
        to_result(unsafe {
            sys::snd_pcm_add_chmap_ctls(
                self.ptr.as_ptr(),
                direction.raw(),
                table,
                c_int::from(max_channels),
                0,
                &mut info,
            )
        })
    }
}

/// PCM devices whose callbacks go to `T`.
///
/// A PCM is owned by its card. Its `private_data` is an `Arc<T>` foreign pointer, dropped by
/// `private_free` when the card frees the PCM.
pub(crate) struct Pcm<T: PcmOps>(PhantomData<T>);

impl<T: PcmOps> Pcm<T> {
    /// Creates PCM device number `device` on `card`, with `name` as its id and name.
    ///
    /// `nonatomic` lets the callbacks sleep (trigger and pointer included).
    ///
    /// Returns the PCM under construction, to which channel maps may be added before the
    /// card is registered.
    #[expect(clippy::new_ret_no_self)]
    pub(crate) fn new<'a>(
        card: &'a mut Card,
        device: u32,
        name: &CStr,
        playback: u32,
        capture: u32,
        nonatomic: bool,
        data: Arc<T>,
    ) -> Result<NewPcm<'a>> {
        let mut pcm: *mut sys::snd_pcm = ptr::null_mut();
        // SAFETY: The card is valid (type invariant of `Card`); `pcm` is a valid location.
        to_result(unsafe {
            sys::snd_pcm_new(
                card.as_raw(),
                name.as_char_ptr(),
                c_int::try_from(device)?,
                c_int::try_from(playback)?,
                c_int::try_from(capture)?,
                &mut pcm,
            )
        })?;
        let ptr = NonNull::new(pcm).ok_or(ENOMEM)?;
        // SAFETY: The PCM was just created and is not registered yet: nothing else uses it.
        unsafe {
            let p = ptr.as_ptr();
            (*p).private_data = data.into_foreign().cast();
            (*p).private_free = Some(Self::private_free);
            (*p).nonatomic = nonatomic;
            let bytes = name.to_bytes();
            let n = bytes.len().min((*p).name.len() - 1);
            for (d, s) in (*p).name.iter_mut().zip(&bytes[..n]) {
                *d = *s as kernel::ffi::c_char;
            }
            if playback > 0 {
                sys::snd_pcm_set_ops(p, Direction::Playback.raw(), &Self::OPS);
            }
            if capture > 0 {
                sys::snd_pcm_set_ops(p, Direction::Capture.raw(), &Self::OPS);
            }
        }
        // INVARIANT: `ptr` was created on `card`.
        Ok(NewPcm { card, ptr })
    }

    extern "C" fn private_free(pcm: *mut sys::snd_pcm) {
        // SAFETY: ALSA calls this once, with the PCM being freed.
        let data = unsafe { (*pcm).private_data };
        if !data.is_null() {
            // SAFETY: `private_data` holds an `Arc<T>` foreign pointer (type invariant).
            drop(unsafe { <Arc<T> as ForeignOwnable>::from_foreign(data) });
        }
    }

    const OPS: sys::snd_pcm_ops = sys::snd_pcm_ops {
        open: Some(Self::open_cb),
        close: Some(Self::close_cb),
        ioctl: if T::HAS_RESET {
            Some(Self::ioctl_cb)
        } else {
            None
        },
        hw_params: if T::HAS_HW_PARAMS {
            Some(Self::hw_params_cb)
        } else {
            None
        },
        hw_free: if T::HAS_HW_FREE {
            Some(Self::hw_free_cb)
        } else {
            None
        },
        prepare: if T::HAS_PREPARE {
            Some(Self::prepare_cb)
        } else {
            None
        },
        trigger: if T::HAS_TRIGGER {
            Some(Self::trigger_cb)
        } else {
            None
        },
        sync_stop: if T::HAS_SYNC_STOP {
            Some(Self::sync_stop_cb)
        } else {
            None
        },
        pointer: if T::HAS_POINTER {
            Some(Self::pointer_cb)
        } else {
            None
        },
        get_time_info: None,
        fill_silence: None,
        copy: None,
        page: None,
        mmap: None,
        ack: if T::HAS_ACK { Some(Self::ack_cb) } else { None },
    };

    /// Calls `f` with the substream and the PCM's data.
    ///
    /// # Safety
    ///
    /// `s` is a substream of a PCM created by [`Pcm::new`] with data type `T`, valid for the
    /// duration of the call.
    unsafe fn with<R>(
        s: *mut sys::snd_pcm_substream,
        f: impl FnOnce(&T, &Substream<'_>) -> R,
    ) -> R {
        // SAFETY: By the safety requirements, `s` is valid, and its `private_data` is the PCM's
        // (ALSA copies it at open), an `Arc<T>` that lives until the PCM is freed.
        let data = unsafe { <Arc<T> as ForeignOwnable>::borrow(sys::rsnd_pcm_substream_chip(s)) };
        // INVARIANT: `s` is valid for the duration of the callback.
        let sub = Substream {
            ptr: s,
            _p: PhantomData,
        };
        f(&data, &sub)
    }

    /// As [`Self::with`], for a callback that ALSA calls under the stream lock.
    ///
    /// # Safety
    ///
    /// As for [`Self::with`]; and the caller holds the stream lock of `s`.
    unsafe fn with_locked<R>(
        s: *mut sys::snd_pcm_substream,
        f: impl FnOnce(&T, &LockedSubstream<'_>) -> R,
    ) -> R {
        // SAFETY: The safety requirements are those of `with`.
        unsafe {
            Self::with(s, |d, s| {
                // INVARIANT: the caller holds the stream lock.
                f(
                    d,
                    &LockedSubstream(Substream {
                        ptr: s.ptr,
                        _p: PhantomData,
                    }),
                )
            })
        }
    }

    extern "C" fn open_cb(s: *mut sys::snd_pcm_substream) -> c_int {
        let open = |d: &T, s: &Substream<'_>| {
            let slot = T::slot(d, s);
            if let Some(slot) = slot {
                // SAFETY: ALSA calls `open` with a substream that stays open until `close`,
                // which detaches it (`close_cb`), or until this `open` fails (below).
                unsafe { slot.attach(s.ptr) }?;
            }
            // INVARIANT: this is ALSA's `open` of the substream.
            let r = T::open(
                d,
                &OpeningSubstream(Substream {
                    ptr: s.ptr,
                    _p: PhantomData,
                }),
            );
            if let (Err(_), Some(slot)) = (&r, slot) {
                slot.detach();
            }
            r
        };
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM.
        from_result(|| unsafe { Self::with(s, open) }.map(|()| 0))
    }

    extern "C" fn close_cb(s: *mut sys::snd_pcm_substream) -> c_int {
        let close = |d: &T, s: &Substream<'_>| {
            if let Some(slot) = T::slot(d, s) {
                slot.detach();
            }
            T::close(d, s)
        };
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM.
        from_result(|| unsafe { Self::with(s, close) }.map(|()| 0))
    }

    extern "C" fn hw_params_cb(
        s: *mut sys::snd_pcm_substream,
        p: *mut sys::snd_pcm_hw_params,
    ) -> c_int {
        // INVARIANT: ALSA passes valid, refined parameters for the duration of the call.
        let params = HwParams {
            ptr: p,
            _p: PhantomData,
        };
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM.
        from_result(|| unsafe { Self::with(s, |d, s| T::hw_params(d, s, &params)) }.map(|()| 0))
    }

    extern "C" fn hw_free_cb(s: *mut sys::snd_pcm_substream) -> c_int {
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM.
        from_result(|| unsafe { Self::with(s, |d, s| T::hw_free(d, s)) }.map(|()| 0))
    }

    extern "C" fn prepare_cb(s: *mut sys::snd_pcm_substream) -> c_int {
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM.
        from_result(|| unsafe { Self::with(s, |d, s| T::prepare(d, s)) }.map(|()| 0))
    }

    extern "C" fn trigger_cb(s: *mut sys::snd_pcm_substream, cmd: c_int) -> c_int {
        from_result(|| {
            let cmd = TriggerCmd::from_raw(cmd).ok_or(EINVAL)?;
            // SAFETY: ALSA calls the callbacks with a valid substream of this PCM, and
            // `trigger` under the stream lock.
            unsafe { Self::with_locked(s, |d, s| T::trigger(d, s, cmd)) }.map(|()| 0)
        })
    }

    extern "C" fn sync_stop_cb(s: *mut sys::snd_pcm_substream) -> c_int {
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM.
        from_result(|| unsafe { Self::with(s, |d, s| T::sync_stop(d, s)) }.map(|()| 0))
    }

    extern "C" fn pointer_cb(s: *mut sys::snd_pcm_substream) -> sys::snd_pcm_uframes_t {
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM, and `pointer`
        // under the stream lock.
        match unsafe { Self::with_locked(s, |d, s| T::pointer(d, s)) } {
            Position::Frames(frames) => frames as sys::snd_pcm_uframes_t,
            // `SNDRV_PCM_POS_XRUN`, a macro that bindgen does not translate.
            Position::Xrun => sys::snd_pcm_uframes_t::MAX,
        }
    }

    extern "C" fn ioctl_cb(
        s: *mut sys::snd_pcm_substream,
        cmd: kernel::ffi::c_uint,
        arg: *mut kernel::ffi::c_void,
    ) -> c_int {
        if cmd == sys::SNDRV_PCM_IOCTL1_RESET {
            // SAFETY: ALSA calls the callbacks with a valid substream of this PCM; the core
            // calls the reset ioctl without the stream lock held.
            unsafe { Self::with(s, |d, sub| T::sync_position(d, sub)) };
        }
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM, and `cmd` and
        // `arg` as it would pass them to its own handler.
        let ret = unsafe { sys::snd_pcm_lib_ioctl(s, cmd, arg) };
        if ret == 0 && cmd == sys::SNDRV_PCM_IOCTL1_RESET {
            // SAFETY: As above. The core calls the reset ioctl without the stream lock held,
            // so `with_stream_lock` may take it.
            unsafe {
                Self::with(s, |d, sub| {
                    sub.with_stream_lock(|sub| T::reset(d, sub));
                })
            };
        }
        ret
    }

    extern "C" fn ack_cb(s: *mut sys::snd_pcm_substream) -> c_int {
        // SAFETY: ALSA calls the callbacks with a valid substream of this PCM, and `ack` under
        // the stream lock (the PCM is atomic).
        from_result(|| unsafe { Self::with_locked(s, |d, s| T::ack(d, s)) }.map(|()| 0))
    }
}

/// A PCM substream, borrowed for the duration of a callback.
///
/// # Invariants
///
/// `ptr` is a valid substream for `'a`.
pub(crate) struct Substream<'a> {
    ptr: *mut sys::snd_pcm_substream,
    _p: PhantomData<&'a ()>,
}

impl Substream<'_> {
    /// Returns the index of the substream within its direction.
    pub(crate) fn number(&self) -> u32 {
        // SAFETY: By the type invariant, the substream is valid.
        let n = unsafe { (*self.ptr).number };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Returns the direction of the substream.
    pub(crate) fn direction(&self) -> Direction {
        // SAFETY: By the type invariant, the substream is valid.
        if unsafe { (*self.ptr).stream } == sys::SNDRV_PCM_STREAM_CAPTURE as c_int {
            Direction::Capture
        } else {
            Direction::Playback
        }
    }

    /// The runtime. Other CPUs write it (ALSA's core, under the stream lock or in
    /// ioctls): it is only ever accessed field by field through this raw pointer, never
    /// through a Rust reference.
    fn runtime(&self) -> *mut sys::snd_pcm_runtime {
        // SAFETY: By the type invariant the substream is valid.
        unsafe { (*self.ptr).runtime }
    }

    /// The ALSA state.
    pub(crate) fn state(&self) -> State {
        // SAFETY: Between open and close (the only time a `Substream` exists) the runtime is
        // allocated. ALSA changes the state under the stream lock; it is read once, volatile.
        let state = unsafe { ptr::read_volatile(&raw const (*self.runtime()).state) };
        State::from_raw(state as c_int)
    }

    /// Where positions wrap (a multiple of the buffer size).
    pub(crate) fn boundary(&self) -> u64 {
        // SAFETY: The runtime is allocated (as in `state`); the boundary only changes in
        // `hw_params`, which does not run concurrently with the callbacks that read it.
        unsafe { (*self.runtime()).boundary as u64 }
    }

    /// The hardware position that ALSA last recorded, in frames on the boundary ring.
    pub(crate) fn hw_ptr(&self) -> u64 {
        // SAFETY: The runtime is allocated (as in `state`), and `status` with it. ALSA updates
        // the field under the stream lock, which callers hold when it matters; it is read
        // once, volatile.
        unsafe { ptr::read_volatile(&raw const (*(*self.runtime()).status).hw_ptr) as u64 }
    }

    /// Runs `f` under the stream lock (as ALSA's own callbacks do). The caller must not hold
    /// it.
    fn with_stream_lock<R>(&self, f: impl FnOnce(&LockedSubstream<'_>) -> R) -> R {
        // SAFETY: By the type invariant the substream is valid.
        let flags = unsafe { sys::_snd_pcm_stream_lock_irqsave(self.ptr) };
        // INVARIANT: the stream lock is held until after `f` returns.
        let r = f(&LockedSubstream(Substream {
            ptr: self.ptr,
            _p: PhantomData,
        }));
        // SAFETY: The lock was taken above, with these flags.
        unsafe { sys::snd_pcm_stream_unlock_irqrestore(self.ptr, flags) };
        r
    }

    /// Whether the application disabled period wakeups (`SNDRV_PCM_HW_PARAMS_NO_PERIOD_WAKEUP`,
    /// allowed when the hardware declares `NO_PERIOD_WAKEUP`): it then finds the position
    /// on its own timer, and `snd_pcm_period_elapsed` wakes nobody.
    pub(crate) fn no_period_wakeup(&self) -> bool {
        // SAFETY: By the type invariant the substream is valid, and it is open, so its runtime
        // is allocated. The flag is set in `hw_params`, which does not run concurrently with
        // the callbacks that read it.
        unsafe { sys::rsnd_pcm_no_period_wakeup(self.ptr) }
    }

    /// The application position, in frames on the boundary ring.
    pub(crate) fn appl_ptr(&self) -> u64 {
        // SAFETY: The runtime is allocated (as in `state`), and `control` with it. The field
        // may change concurrently (ALSA updates it under the stream lock, which callers hold
        // when it matters), so it is read once, volatile.
        unsafe { ptr::read_volatile(&raw const (*(*self.runtime()).control).appl_ptr) as u64 }
    }

    /// Sets how long a blocking read or write waits for the hardware to make room or data
    /// before it fails with `EIO` (`substream->wait_time`; ALSA's default is 100 ms, or 1.1
    /// buffers if that is longer).
    pub(crate) fn set_wait_time(&self, ms: u32) {
        // SAFETY: By the type invariant the substream is valid; `wait_time` is read by the
        // read/write paths, which cannot run during the sleeping callbacks that call this.
        unsafe { (*self.ptr).wait_time = ms as c_long };
    }

    /// Installs `buf` as the runtime buffer (the caller keeps `buf` alive until
    /// [`Substream::clear_buffer`]), or fails if it is smaller than `bytes`.
    pub(crate) fn set_buffer(&self, buf: &Arc<DmaBuffer>, bytes: usize) -> Result {
        if dma::Memory::len(&**buf) < bytes {
            return Err(EINVAL);
        }
        // SAFETY: The substream is valid; `buf.dmab` is an allocated buffer that the caller
        // keeps alive until `clear_buffer`, which `hw_free` calls before ALSA forgets it.
        unsafe {
            sys::rsnd_pcm_set_runtime_buffer(self.ptr, buf.dmab.get());
            (*self.runtime()).dma_bytes = bytes;
        }
        Ok(())
    }

    /// Uninstalls the runtime buffer.
    pub(crate) fn clear_buffer(&self) {
        // SAFETY: The substream is valid; a NULL buffer is allowed.
        unsafe { sys::rsnd_pcm_set_runtime_buffer(self.ptr, ptr::null_mut()) };
    }

    /// Fills `bytes` bytes of the runtime buffer at `offset` with silence.
    pub(crate) fn fill_silence(&self, offset: usize, bytes: usize) -> Result {
        let rt = self.runtime();
        // SAFETY: The runtime is allocated (as in `state`). The buffer and the format are set
        // in `hw_params` and cleared in `hw_free`, which do not run concurrently with the
        // callbacks that fill silence.
        let (dma_area, dma_bytes, format) =
            unsafe { ((*rt).dma_area, (*rt).dma_bytes, (*rt).format) };
        let end = offset.checked_add(bytes).ok_or(EINVAL)?;
        if dma_area.is_null() || end > dma_bytes {
            return Err(EINVAL);
        }
        // SAFETY: `format` is the runtime's format, a valid `snd_pcm_format_t`.
        let width = unsafe { sys::snd_pcm_format_physical_width(format) };
        let width = usize::try_from(width).map_err(|_| EINVAL)?;
        if width == 0 {
            return Err(EINVAL);
        }
        let samples = u32::try_from(bytes * 8 / width)?;
        // SAFETY: `offset..end` lies within the runtime buffer (checked above).
        to_result(unsafe {
            sys::snd_pcm_format_set_silence(format, dma_area.add(offset).cast(), samples)
        })
    }
}

/// A substream in its `open` callback, where ALSA lets the driver say what it can do.
///
/// # Invariants
///
/// The substream is in ALSA's `open` callback, for `'a`.
#[repr(transparent)]
pub(crate) struct OpeningSubstream<'a>(Substream<'a>);

impl<'a> core::ops::Deref for OpeningSubstream<'a> {
    type Target = Substream<'a>;

    fn deref(&self) -> &Substream<'a> {
        &self.0
    }
}

impl OpeningSubstream<'_> {
    /// Sets what the substream can do.
    pub(crate) fn set_hardware(&self, hw: &Hardware) {
        // SAFETY: By the type invariant of `OpeningSubstream`, this is `open`: ALSA has
        // allocated the runtime, and nothing else accesses `runtime.hw` until `open`
        // returns. The fields are written through the raw pointer, with no reference to the
        // runtime.
        unsafe {
            let rt = self.0.runtime();
            (*rt).hw.info = hw.info;
            (*rt).hw.formats = hw.formats;
            (*rt).hw.rates = hw.rates;
            (*rt).hw.rate_min = hw.rate_min;
            (*rt).hw.rate_max = hw.rate_max;
            (*rt).hw.channels_min = hw.channels_min;
            (*rt).hw.channels_max = hw.channels_max;
            (*rt).hw.buffer_bytes_max = hw.buffer_bytes_max;
            (*rt).hw.period_bytes_min = hw.period_bytes_min;
            (*rt).hw.period_bytes_max = hw.period_bytes_max;
            (*rt).hw.periods_min = hw.periods_min;
            (*rt).hw.periods_max = hw.periods_max;
            (*rt).hw.fifo_size = 0;
        }
    }

    /// Requires an integer number of periods per buffer.
    pub(crate) fn constrain_integer_periods(&self) -> Result {
        // SAFETY: By the type invariant, this is `open`: the runtime is allocated, and
        // constraints may be added.
        to_result(unsafe {
            sys::snd_pcm_hw_constraint_integer(
                self.0.runtime(),
                sys::SNDRV_PCM_HW_PARAM_PERIODS as c_int,
            )
        })
    }
}

/// A substream whose stream lock is held, for `'a`: in the callbacks that ALSA calls under
/// it (`trigger`, `pointer`, `ack`), and in [`SlotRef::with_stream_lock`].
///
/// # Invariants
///
/// The stream lock of the substream is held for `'a`.
#[repr(transparent)]
pub(crate) struct LockedSubstream<'a>(Substream<'a>);

impl<'a> core::ops::Deref for LockedSubstream<'a> {
    type Target = Substream<'a>;

    fn deref(&self) -> &Substream<'a> {
        &self.0
    }
}

impl LockedSubstream<'_> {
    /// Sets the delay (frames between the hardware position and what is audible).
    pub(crate) fn set_delay(&self, frames: u64) {
        // SAFETY: The runtime is allocated (the substream is open). ALSA reads the delay under
        // the stream lock, which the type invariant says is held: no access races this write.
        unsafe {
            (*self.0.runtime()).delay = frames.min(i64::MAX as u64) as sys::snd_pcm_sframes_t
        };
    }
}

/// Hardware parameters, as refined by ALSA for `hw_params`.
///
/// # Invariants
///
/// `ptr` is a valid, fully refined parameter set for `'a`.
pub(crate) struct HwParams<'a> {
    ptr: *mut sys::snd_pcm_hw_params,
    _p: PhantomData<&'a ()>,
}

impl HwParams<'_> {
    fn interval(&self, var: u32) -> u32 {
        // SAFETY: By the type invariant, the parameters are valid; `var` is an interval
        // parameter (callers pass `SNDRV_PCM_HW_PARAM_*` interval constants).
        unsafe { sys::rsnd_params_interval_min(self.ptr, var as c_int) }
    }

    /// The sample format (`SNDRV_PCM_FORMAT_*`).
    pub(crate) fn format(&self) -> u32 {
        // SAFETY: By the type invariant, the parameters are valid.
        let f = unsafe { sys::rsnd_params_format(self.ptr) };
        u32::try_from(f).unwrap_or(u32::MAX)
    }

    /// Frames per second.
    pub(crate) fn rate(&self) -> u32 {
        self.interval(sys::SNDRV_PCM_HW_PARAM_RATE)
    }

    /// Channels per frame.
    pub(crate) fn channels(&self) -> u32 {
        self.interval(sys::SNDRV_PCM_HW_PARAM_CHANNELS)
    }

    /// Bytes per frame.
    pub(crate) fn frame_bytes(&self) -> u32 {
        self.interval(sys::SNDRV_PCM_HW_PARAM_FRAME_BITS) / 8
    }

    /// Bytes per period.
    pub(crate) fn period_bytes(&self) -> u32 {
        self.interval(sys::SNDRV_PCM_HW_PARAM_PERIOD_BYTES)
    }

    /// Bytes per buffer.
    pub(crate) fn buffer_bytes(&self) -> u32 {
        self.interval(sys::SNDRV_PCM_HW_PARAM_BUFFER_BYTES)
    }
}

/// A reference to an open substream that other contexts (interrupts, timers) may use.
///
/// The PCM adapter attaches the substream in `open` and detaches it in `close` (see
/// [`PcmOps::slot`]); `detach` sleeps until no [`SlotRef`] is left.
///
/// # Invariants
///
/// While `inner.ptr` is non-null, it is an open substream, and it stays open while
/// `inner.users > 0`.
#[pin_data]
pub(crate) struct SubstreamSlot {
    #[pin]
    inner: SpinLockIrq<SlotInner>,
    /// Notified when the last [`SlotRef`] of a detached substream goes.
    #[pin]
    released: CondVar,
}

struct SlotInner {
    ptr: *mut sys::snd_pcm_substream,
    users: u32,
}

// SAFETY: The pointer is only dereferenced under the slot rules, from any thread.
unsafe impl Send for SlotInner {}

impl SubstreamSlot {
    /// Creates an empty slot.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            inner <- new_spinlock_irq!(
                SlotInner { ptr: ptr::null_mut(), users: 0 },
                c"virtio_snd_rs:substream_slot"
            ),
            released <- new_condvar!("virtio_snd_rs:substream_released"),
        })
    }

    /// Makes `substream` reachable. Fails with `EBUSY` if the slot holds one already.
    ///
    /// # Safety
    ///
    /// `substream` is open, and stays open until [`SubstreamSlot::detach`] returns.
    unsafe fn attach(&self, substream: *mut sys::snd_pcm_substream) -> Result {
        let mut inner = self.inner.lock();
        if !inner.ptr.is_null() {
            return Err(EBUSY);
        }
        // INVARIANT: the caller keeps the substream open until `detach` has returned.
        inner.ptr = substream;
        Ok(())
    }

    /// Makes the substream unreachable, and sleeps until no reference is left (process
    /// context).
    ///
    /// References are only held for the span of one ALSA call from a completion or a timer,
    /// so the wait is short; sleeping rather than spinning lets a preempted holder run, even
    /// when the closing task has the higher priority (threaded interrupts, PREEMPT_RT).
    fn detach(&self) {
        let mut inner = self.inner.lock();
        inner.ptr = ptr::null_mut();
        while inner.users != 0 {
            self.released.wait(&mut inner);
        }
    }

    /// Returns a reference to the substream, if one is attached.
    pub(crate) fn get(&self) -> Option<SlotRef<'_>> {
        let mut inner = self.inner.lock();
        if inner.ptr.is_null() {
            return None;
        }
        inner.users += 1;
        Some(SlotRef {
            slot: self,
            ptr: inner.ptr,
        })
    }
}

/// A counted reference to an attached substream.
///
/// # Invariants
///
/// `ptr` is an open substream while `self` lives (`users` counts `self`).
pub(crate) struct SlotRef<'a> {
    slot: &'a SubstreamSlot,
    ptr: *mut sys::snd_pcm_substream,
}

impl SlotRef<'_> {
    /// Tells ALSA that a period has elapsed. Takes the stream lock: the caller must not
    /// hold it, nor any lock that the PCM callbacks take.
    pub(crate) fn period_elapsed(&self) {
        // SAFETY: By the type invariant the substream is open.
        unsafe { sys::snd_pcm_period_elapsed(self.ptr) };
    }

    /// Stops the substream with an xrun (applications see `EPIPE`). Same locking rules as
    /// [`SlotRef::period_elapsed`].
    pub(crate) fn stop_xrun(&self) {
        // SAFETY: By the type invariant the substream is open.
        unsafe { sys::snd_pcm_stop_xrun(self.ptr) };
    }

    /// Runs `f` under the stream lock (as ALSA's own callbacks do).
    pub(crate) fn with_stream_lock<R>(&self, f: impl FnOnce(&LockedSubstream<'_>) -> R) -> R {
        // INVARIANT: By the type invariant the substream is open while `self` lives.
        Substream {
            ptr: self.ptr,
            _p: PhantomData,
        }
        .with_stream_lock(f)
    }
}

impl Drop for SlotRef<'_> {
    fn drop(&mut self) {
        let last = {
            let mut inner = self.slot.inner.lock();
            inner.users -= 1;
            inner.users == 0 && inner.ptr.is_null()
        };
        if last {
            // `detach` checks `users` under the lock before it sleeps: no wakeup is lost.
            self.slot.released.notify_all();
        }
    }
}
