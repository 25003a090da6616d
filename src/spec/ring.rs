// SPDX-License-Identifier: GPL-2.0

//! Ring and period arithmetic of a running stream.
//!
//! The driver runs a stream like DMA hardware: the buffer is a ring of `periods` periods,
//! and each period travels to the device as one I/O message. Positions are counted
//! monotonically (in periods handed out and periods completed), so that a burst of
//! completions that covers the whole ring is still seen as progress: the position that ALSA
//! reads advances one period per completion, never by a full wrap.

/// Why a stream geometry was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GeometryError {
    /// A size is zero.
    Zero,
    /// The period is not a whole number of frames.
    PeriodNotFrames,
    /// The buffer is not a whole number of periods.
    BufferNotPeriods,
    /// Fewer than two periods, or too many to count.
    Periods,
}

/// The byte layout of a configured stream.
///
/// # Invariants
///
/// `frame_bytes > 0`, `period_bytes` is a multiple of `frame_bytes`,
/// `2 <= periods <= MAX_RING_PERIODS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    frame_bytes: u32,
    period_bytes: u32,
    periods: u32,
}

/// The most periods one ring may have.
pub(crate) const MAX_RING_PERIODS: u32 = 1024;

impl Geometry {
    /// Checks a stream's sizes.
    pub(crate) fn new(
        frame_bytes: u32,
        period_bytes: u32,
        buffer_bytes: u32,
    ) -> Result<Self, GeometryError> {
        if frame_bytes == 0 || period_bytes == 0 || buffer_bytes == 0 {
            return Err(GeometryError::Zero);
        }
        if period_bytes % frame_bytes != 0 {
            return Err(GeometryError::PeriodNotFrames);
        }
        if buffer_bytes % period_bytes != 0 {
            return Err(GeometryError::BufferNotPeriods);
        }
        let periods = buffer_bytes / period_bytes;
        if !(2..=MAX_RING_PERIODS).contains(&periods) {
            return Err(GeometryError::Periods);
        }
        // INVARIANT: checked above.
        Ok(Self {
            frame_bytes,
            period_bytes,
            periods,
        })
    }

    pub(crate) fn frame_bytes(&self) -> u32 {
        self.frame_bytes
    }

    pub(crate) fn period_bytes(&self) -> u32 {
        self.period_bytes
    }

    pub(crate) fn periods(&self) -> u32 {
        self.periods
    }

    pub(crate) fn period_frames(&self) -> u64 {
        u64::from(self.period_bytes.checked_div(self.frame_bytes).unwrap_or(0))
    }

    pub(crate) fn buffer_frames(&self) -> u64 {
        self.period_frames() * u64::from(self.periods)
    }

    /// Byte offset in the buffer of the period with sequence number `seq`.
    pub(crate) fn period_offset(&self, seq: u64) -> usize {
        // `periods >= 2` (type invariant): `checked_rem` never fails, and never panics.
        let slot = seq.checked_rem(u64::from(self.periods)).unwrap_or(0);
        (slot * u64::from(self.period_bytes)) as usize
    }
}

/// Frames from `from` to `to` on ALSA's position ring, which wraps at `boundary`.
///
/// Both positions are in `0..boundary`; the result is in `0..boundary`.
pub(crate) fn frames_between(from: u64, to: u64, boundary: u64) -> u64 {
    let (Some(from), Some(to)) = (from.checked_rem(boundary), to.checked_rem(boundary)) else {
        return 0;
    };
    if to >= from {
        to - from
    } else {
        boundary - from + to
    }
}

/// Frames that the application has written beyond the queued position.
///
/// `queued_pos` may run ahead of `appl_ptr` by less than a period after a drain padded the
/// last period with silence; a distance larger than the buffer means exactly that (or a
/// rewind), and counts as nothing written.
pub(crate) fn appl_ahead(queued_pos: u64, appl_ptr: u64, boundary: u64, buffer_frames: u64) -> u64 {
    let d = frames_between(queued_pos, appl_ptr, boundary);
    if d > buffer_frames {
        0
    } else {
        d
    }
}

/// Whether periods queued but not yet announced to the device must be announced (kicked)
/// now.
///
/// A kick is a VM exit. Pending periods are announced in batches of half the ring, so that
/// a device that asks to be notified of every buffer (QEMU's) gets one kick per half ring
/// instead of one per period. Until a batch is complete, they wait as long as the device
/// knows of more than a quarter of the ring (at least one period) that it has not
/// completed: then everything pending goes with one kick, before the device can starve.
pub(crate) fn must_kick(geo: &Geometry, announced: u64, pending: u64) -> bool {
    let periods = u64::from(geo.periods);
    let batch = periods.div_ceil(2);
    let low = (periods / 4).max(1);
    pending > 0 && (pending >= batch || announced <= low)
}

/// The period accounting of a running stream.
///
/// `queued` periods were handed to the device since the stream was prepared, and
/// `completed` of them came back. Both only grow. Period `seq` starts at frame
/// `base + seq * period_frames` of ALSA's position ring; `base` is a multiple of the
/// buffer size, and only moves when ALSA resets the position ([`Periods::rebase`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Periods {
    queued: u64,
    completed: u64,
    base: u64,
}

impl Periods {
    /// Periods on the device now.
    pub(crate) fn in_flight(&self) -> u64 {
        self.queued - self.completed
    }

    pub(crate) fn queued(&self) -> u64 {
        self.queued
    }

    pub(crate) fn completed(&self) -> u64 {
        self.completed
    }

    /// Sequence number of the next period to hand out.
    pub(crate) fn next_seq(&self) -> u64 {
        self.queued
    }

    /// How many more periods of a playback stream may go to the device.
    ///
    /// `written` is how many frames the application has written beyond the first period not
    /// yet queued (`frames_between(queued position, appl_ptr)`). Only whole periods go, so the
    /// device never reads data that the application has not written, and at most the whole
    /// ring is in flight. When `draining`, a last partial period goes too (the driver fills
    /// its tail with silence).
    pub(crate) fn playback_ready(&self, geo: &Geometry, written: u64, draining: bool) -> u64 {
        let room = u64::from(geo.periods).saturating_sub(self.in_flight());
        let pf = geo.period_frames();
        let mut whole = written.checked_div(pf).unwrap_or(0);
        if draining && written.checked_rem(pf).unwrap_or(0) != 0 {
            whole += 1;
        }
        whole.min(room)
    }

    /// How many more periods of a capture stream may go to the device.
    ///
    /// Only periods that the application has read: a period that the device writes must
    /// never be one that the application is still reading. `appl_ptr` is the application's
    /// position on ALSA's ring of size `boundary`. The device holds at most the ring minus the
    /// periods with unread frames (a period partly read counts as unread).
    pub(crate) fn capture_ready(&self, geo: &Geometry, appl_ptr: u64, boundary: u64) -> u64 {
        let buffer = geo.buffer_frames();
        let behind = frames_between(appl_ptr, self.completed_pos(geo, boundary), boundary);
        let unread = if behind <= buffer {
            behind
        } else if boundary - behind <= buffer {
            // The application is ahead of the completed position (it cannot read ahead of
            // it; only a reset race gets here): nothing is unread.
            0
        } else {
            // More than a buffer behind: an overrun that ALSA has not seen yet.
            buffer
        };
        let unread_periods = unread.div_ceil(geo.period_frames().max(1));
        u64::from(geo.periods)
            .saturating_sub(self.in_flight())
            .saturating_sub(unread_periods)
    }

    /// Records `n` periods handed to the device.
    pub(crate) fn queue(&mut self, n: u64) {
        self.queued += n;
    }

    /// Records one completed period. Returns false (and changes nothing) if none was in
    /// flight: a device that completes more than it got.
    pub(crate) fn complete(&mut self) -> bool {
        if self.completed == self.queued {
            return false;
        }
        self.completed += 1;
        true
    }

    /// The hardware position that ALSA reads: frames into the buffer, in
    /// `0..buffer_frames`.
    pub(crate) fn hw_ptr(&self, geo: &Geometry) -> u64 {
        (self.completed.wrapping_mul(geo.period_frames()))
            .checked_rem(geo.buffer_frames())
            .unwrap_or(0)
    }

    /// Where period `seq` starts, on ALSA's position ring of size `boundary`.
    fn pos(&self, geo: &Geometry, boundary: u64, seq: u64) -> u64 {
        let (Some(base), Some(off)) = (
            self.base.checked_rem(boundary),
            seq.wrapping_mul(geo.period_frames()).checked_rem(boundary),
        ) else {
            return 0;
        };
        // `(base + off) mod boundary`, without overflow: both are below `boundary`.
        let room = boundary - base;
        if off >= room {
            off - room
        } else {
            base + off
        }
    }

    /// The end of the queued periods, on ALSA's position ring of size `boundary`.
    pub(crate) fn queued_pos(&self, geo: &Geometry, boundary: u64) -> u64 {
        self.pos(geo, boundary, self.queued)
    }

    /// The end of the completed periods (ALSA's hardware position), on ALSA's position ring
    /// of size `boundary`.
    pub(crate) fn completed_pos(&self, geo: &Geometry, boundary: u64) -> u64 {
        self.pos(geo, boundary, self.completed)
    }

    /// Forgets the periods in flight, which the device lost in a reset (a system sleep):
    /// the next period handed out is the first one not completed. Playback sends again what
    /// the device had not played (the application cannot have overwritten it: ALSA's
    /// position did not pass it), and capture has the device write again where it had not.
    pub(crate) fn forget_in_flight(&mut self) {
        self.queued = self.completed;
    }

    /// Follows a reset of ALSA's positions (`SNDRV_PCM_IOCTL_RESET`): the core moved its
    /// hardware position back by whole buffers, to `hw_ptr`, and the application pointer with
    /// it. The periods keep their buffer slots; their positions move back by as many whole
    /// buffers.
    ///
    /// `hw_ptr` may lag the completed position by less than a buffer (a completion whose
    /// `period_elapsed` has not run yet); that lag is not a move.
    pub(crate) fn rebase(&mut self, geo: &Geometry, boundary: u64, hw_ptr: u64) {
        let buffer = geo.buffer_frames();
        let (Some(back), Some(base)) = (
            frames_between(hw_ptr, self.completed_pos(geo, boundary), boundary).checked_div(buffer),
            self.base.checked_rem(boundary),
        ) else {
            return;
        };
        // `shift <= frames_between(..) < boundary`; `(base - shift) mod boundary`.
        let shift = back * buffer;
        self.base = if base >= shift {
            base - shift
        } else {
            base + (boundary - shift)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geo() -> Geometry {
        // S16 stereo, 256-frame periods, 4 periods.
        Geometry::new(4, 1024, 4096).unwrap()
    }

    #[test]
    fn geometry_checks() {
        assert_eq!(Geometry::new(0, 4, 8), Err(GeometryError::Zero));
        assert_eq!(Geometry::new(4, 6, 12), Err(GeometryError::PeriodNotFrames));
        assert_eq!(
            Geometry::new(4, 8, 12),
            Err(GeometryError::BufferNotPeriods)
        );
        assert_eq!(Geometry::new(4, 8, 8), Err(GeometryError::Periods));
        assert_eq!(Geometry::new(1, 1, 2048), Err(GeometryError::Periods));
        let g = geo();
        assert_eq!(
            (g.periods(), g.period_frames(), g.buffer_frames()),
            (4, 256, 1024)
        );
        assert_eq!(g.period_offset(0), 0);
        assert_eq!(g.period_offset(5), 1024);
        assert_eq!(g.period_offset(u64::MAX), ((u64::MAX % 4) * 1024) as usize);
    }

    #[test]
    fn ring_distance_wraps_at_boundary() {
        assert_eq!(frames_between(10, 30, 1000), 20);
        assert_eq!(frames_between(990, 10, 1000), 20);
        assert_eq!(frames_between(5, 5, 1000), 0);
        assert_eq!(frames_between(5, 5, 0), 0);
    }

    #[test]
    fn kicks_wait_while_the_device_has_work() {
        let g = geo(); // 4 periods: batches of 2, wait while the device knows of 2 or more
        assert!(!must_kick(&g, 0, 0));
        assert!(must_kick(&g, 0, 1));
        assert!(must_kick(&g, 1, 1));
        assert!(!must_kick(&g, 2, 1));
        assert!(!must_kick(&g, 3, 1));
        assert!(must_kick(&g, 2, 2));
        let two = Geometry::new(4, 1024, 2048).unwrap();
        assert!(must_kick(&two, 1, 1));
        assert!(!must_kick(&two, 2, 0));
        let odd = Geometry::new(4, 1024, 3 * 1024).unwrap();
        assert!(must_kick(&odd, 1, 1));
        assert!(!must_kick(&odd, 2, 1));
        assert!(must_kick(&odd, 1, 2));
        let eight = Geometry::new(4, 1024, 8 * 1024).unwrap();
        assert!(!must_kick(&eight, 3, 3));
        assert!(must_kick(&eight, 2, 1));
        assert!(must_kick(&eight, 4, 4));
    }

    #[test]
    fn steady_playback_kicks_once_per_half_ring() {
        // The application writes one period after each completion; the device completes
        // one period at a time and never starves.
        let g = geo();
        let (mut announced, mut pending, mut kicks) = (4u64, 0u64, 0u32);
        for _ in 0..100 {
            announced -= 1; // a completion
            if must_kick(&g, announced, pending) {
                announced += pending;
                pending = 0;
                kicks += 1;
            }
            pending += 1; // the application's write
            if must_kick(&g, announced, pending) {
                announced += pending;
                pending = 0;
                kicks += 1;
            }
            assert!(announced >= 2, "the device holds at least half the ring");
        }
        assert_eq!(kicks, 50);
    }

    #[test]
    fn must_kick_of_a_huge_count_does_not_overflow() {
        // Found by `prop::ring_accounting_keeps_its_invariants`: `announced * 2` overflowed
        // (a panic with overflow checks) for `announced > u64::MAX / 2`.
        let g = geo();
        assert!(!must_kick(&g, u64::MAX / 2 + 1, 1));
        assert!(!must_kick(&g, u64::MAX, 1));
    }

    #[test]
    fn application_behind_the_queue_has_written_nothing() {
        assert_eq!(appl_ahead(100, 300, 4096, 1024), 200);
        assert_eq!(appl_ahead(4000, 100, 4096, 1024), 196);
        // The queue ran ahead (drain padding): nothing to send, not a huge amount.
        assert_eq!(appl_ahead(300, 250, 4096, 1024), 0);
        assert_eq!(appl_ahead(0, 2000, 4096, 1024), 0);
    }

    #[test]
    fn playback_never_queues_unwritten_data() {
        let g = geo();
        let mut p = Periods::default();
        assert_eq!(p.playback_ready(&g, 255, false), 0);
        assert_eq!(p.playback_ready(&g, 256, false), 1);
        assert_eq!(p.playback_ready(&g, 1000, false), 3);
        // Draining sends the partial last period too.
        assert_eq!(p.playback_ready(&g, 255, true), 1);
        assert_eq!(p.playback_ready(&g, 0, true), 0);
        // Never more than the ring.
        assert_eq!(p.playback_ready(&g, 1 << 20, false), 4);
        p.queue(3);
        assert_eq!(p.playback_ready(&g, 1 << 20, false), 1);
    }

    #[test]
    fn a_burst_over_the_whole_ring_is_progress() {
        let g = geo();
        let mut p = Periods::default();
        p.queue(4);
        // The device completes the whole ring at once: each completion moves the pointer by
        // one period, so ALSA never sees a full wrap as "no progress".
        let mut seen = [0u64; 4];
        for s in &mut seen {
            assert!(p.complete());
            *s = p.hw_ptr(&g);
        }
        assert_eq!(seen, [256, 512, 768, 0]);
        assert_eq!(p.in_flight(), 0);
        assert!(!p.complete(), "more completions than periods queued");
        assert_eq!(p.completed(), 4);
    }

    #[test]
    fn capture_gives_the_device_only_periods_already_read() {
        let g = geo(); // 4 periods of 256 frames
        let b = 1 << 20;
        let mut p = Periods::default();
        assert_eq!(p.capture_ready(&g, 0, b), 4);
        p.queue(4);
        assert_eq!(p.capture_ready(&g, 0, b), 0);
        p.complete();
        // The first period is complete but unread: its slot stays with the application.
        assert_eq!(p.capture_ready(&g, 0, b), 0);
        // Partly read is still unread.
        assert_eq!(p.capture_ready(&g, 255, b), 0);
        assert_eq!(p.capture_ready(&g, 256, b), 1);
        p.queue(1);
        assert_eq!(p.next_seq(), 5);
        assert_eq!(g.period_offset(4), 0);
        // Across the end of ALSA's ring.
        let mut w = Periods::default();
        w.queue(20);
        for _ in 0..17 {
            w.complete();
        }
        assert_eq!(w.completed_pos(&g, 4096), 256);
        assert_eq!(w.capture_ready(&g, 4096 - 1, 4096), 0);
        assert_eq!(w.capture_ready(&g, 0, 4096), 0);
        assert_eq!(w.capture_ready(&g, 256, 4096), 1);
        // More than a buffer behind (an overrun ALSA has not seen yet): nothing to give.
        assert_eq!(w.capture_ready(&g, 2560, 4096), 0);
        // Ahead of the completed position (only a reset race): nothing unread.
        assert_eq!(w.capture_ready(&g, 266, 4096), 1);
    }

    #[test]
    fn a_device_reset_resends_from_the_hardware_position() {
        let g = geo();
        let boundary = 1 << 20;
        let mut p = Periods::default();
        p.queue(4);
        assert!(p.complete());
        let hw = p.completed_pos(&g, boundary);
        p.forget_in_flight();
        assert_eq!(p.in_flight(), 0);
        assert_eq!(p.completed_pos(&g, boundary), hw);
        // The next period starts where the device stopped: frame 256, whose data ALSA still
        // holds (the application has written up to 1024 and cannot pass the position).
        assert_eq!(p.queued_pos(&g, boundary), 256);
        assert_eq!(p.playback_ready(&g, 1024 - 256, false), 3);
        // Capture: three periods were read; the device gets them all back.
        assert_eq!(p.capture_ready(&g, 256, boundary), 4);
        // Nothing completes that was not queued again.
        assert!(!p.complete());
    }

    #[test]
    fn reset_moves_positions_back_by_whole_buffers() {
        let g = geo(); // buffer 1024 frames
        let b = 1 << 20;
        let mut p = Periods::default();
        p.queue(13);
        for _ in 0..9 {
            p.complete();
        }
        assert_eq!((p.completed_pos(&g, b), p.queued_pos(&g, b)), (2304, 3328));
        // ALSA's reset: hw_ptr %= buffer, appl_ptr = hw_ptr.
        let mut q = p;
        q.rebase(&g, b, 2304 % 1024);
        assert_eq!((q.completed_pos(&g, b), q.queued_pos(&g, b)), (256, 1280));
        // ALSA's hw_ptr lagged a period (the completion's period_elapsed had not run): the
        // lag is kept, the move is still two buffers.
        let mut q = p;
        q.rebase(&g, b, 2048 % 1024);
        assert_eq!((q.completed_pos(&g, b), q.queued_pos(&g, b)), (256, 1280));
        // A reset with nothing played moves nothing.
        let mut z = Periods::default();
        z.rebase(&g, b, 0);
        assert_eq!(z, Periods::default());
        // A reset while paused puts hw_ptr at 0: positions keep their place in the buffer.
        let mut q = p;
        q.rebase(&g, b, 0);
        assert_eq!(q.completed_pos(&g, b), 256);
        // Zero boundaries do not panic.
        q.rebase(&g, 0, 0);
        assert_eq!(q.queued_pos(&g, 0), 0);
    }

    #[test]
    fn queued_position_follows_alsa_boundary() {
        let g = geo();
        let mut p = Periods::default();
        p.queue(5);
        assert_eq!(p.queued_pos(&g, 4096), 1280);
        assert_eq!(p.queued_pos(&g, 1024), 256);
        assert_eq!(p.queued_pos(&g, 0), 0);
    }
}
