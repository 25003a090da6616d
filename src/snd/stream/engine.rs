// SPDX-License-Identifier: GPL-2.0

//! The data path of a stream: period messages queued to the device, their completions, and
//! the position that ALSA reads.
//!
//! [`Stream::fill`] queues periods (from `trigger`, `ack`, the completion path and the start
//! tick), [`Stream::period_done`] takes a completed one back, and `pointer`, `ack`, `reset`
//! and `sync_position` are ALSA's view of the ring.

use super::{
    Io,
    Kick,
    Pad,
    Stream, //
};
use crate::{
    alsa::pcm::{
        LockedSubstream,
        Position,
        State as AlsaState,
        Substream, //
    },
    snd::{
        Completions,
        DeviceIo,
        Msg, //
    },
    spec::{
        ring,
        wire::{
            self,
            PcmStatus, //
        },
    },
};
use kernel::{
    prelude::*,
    sync::Arc,
    time::Delta, //
};

impl Stream {
    /// Handles an xrun event of the device (interrupt context): the stream stops with an
    /// xrun, as if the device had run dry in front of the driver's eyes.
    pub(in crate::snd) fn xrun_event(&self, snd: &DeviceIo) {
        let running = {
            let mut io = self.io.lock();
            if io.running {
                io.xruns += 1;
            }
            io.running
        };
        if !running {
            dev_dbg!(snd.dev(), "stream {}: xrun event while stopped\n", self.id);
            return;
        }
        dev_dbg!(
            snd.dev(),
            "stream {}: xrun reported by the device\n",
            self.id
        );
        if let Some(sub) = self.slot.get() {
            sub.stop_xrun();
        }
    }

    /// The stream's virtqueue broke (no lock held): a running stream stops with an xrun,
    /// as if the device had run dry, so that its application does not wait for periods that
    /// will never come back.
    pub(in crate::snd) fn queue_lost(&self) {
        if !self.io.lock().running {
            return;
        }
        if let Some(sub) = self.slot.get() {
            sub.stop_xrun();
        }
    }

    /// `pointer` (atomic context): the position of the last completed period.
    ///
    /// A stream whose application disabled period wakeups takes its completions here: the
    /// application (a sound server) asks for the position on its own timer, and nothing
    /// else tells the driver of the device's progress until the watchdog expires.
    pub(in crate::snd) fn pointer(
        &self,
        snd: &DeviceIo,
        substream: &LockedSubstream<'_>,
    ) -> Position {
        let harvest = {
            let io = self.io.lock();
            io.running && io.no_wakeup && io.queue_user == Some(Completions::Polling)
        };
        if harvest {
            if !snd.io_done_locked(self, substream) {
                return Position::Xrun;
            }
            let mut io = self.io.lock();
            let completed = io.periods.completed();
            if completed != io.watched {
                // The device makes progress, and the application looks: the watchdog waits
                // another buffer.
                io.watched = completed;
                if let Some(p) = &io.poller {
                    p.timer.restart(io.tick);
                }
            }
        }
        let io = self.io.lock();
        let Some(geo) = io.geo else {
            return Position::Frames(0);
        };
        let frames = io.latency_bytes.checked_div(geo.frame_bytes()).unwrap_or(0);
        substream.set_delay(u64::from(frames));
        Position::Frames(io.periods.hw_ptr(&geo) as usize)
    }

    /// `ack` (atomic context): the application wrote more (playback: queue the periods it
    /// completed), or read more (capture: give the device the periods it has read).
    pub(in crate::snd) fn ack(&self, snd: &DeviceIo, substream: &Substream<'_>) -> Result {
        let mut io = self.io.lock();
        if io.running {
            self.fill(snd, &mut io, substream, Self::refill_kick(snd), Pad::No)?;
        }
        Ok(())
    }

    /// Before the ALSA core resets the positions (no lock held): a polling stream takes the
    /// periods that the device has used since the last tick, so that the position that the
    /// core keeps is the device's. Otherwise the core would put the application pointer up
    /// to a period behind the device, into a period that the device has played already, and
    /// the first period written after the reset would never be heard.
    pub(in crate::snd) fn sync_position(&self, snd: &DeviceIo) {
        let polling = {
            let io = self.io.lock();
            io.running && io.completions == Completions::Polling
        };
        if polling {
            snd.io_done(self.queue_index());
        }
    }

    /// The ALSA core reset the positions (under the stream lock): the queued periods keep
    /// their buffer slots, and their positions move back with ALSA's.
    pub(in crate::snd) fn reset(&self, substream: &Substream<'_>) {
        let mut io = self.io.lock();
        if let Some(geo) = io.geo {
            io.periods
                .rebase(&geo, substream.boundary(), substream.hw_ptr());
        }
    }

    /// How a refill (not a start) notifies the device.
    fn refill_kick(snd: &DeviceIo) -> Kick {
        if snd.defer_kicks() {
            Kick::IfNeeded
        } else {
            Kick::Now
        }
    }

    /// Announces the periods queued but not announced yet.
    pub(super) fn kick_pending(&self, snd: &DeviceIo, io: &mut Io) -> Result {
        if io.unkicked > 0 {
            io.unkicked = 0;
            snd.queues().lock(self.queue_index())?.kick()?;
        }
        Ok(())
    }

    /// Queues every period that may go to the device now, and notifies it as `kick` says.
    /// `pad` says what becomes of playback frames short of a whole period.
    pub(super) fn fill(
        &self,
        snd: &DeviceIo,
        io: &mut Io,
        substream: &Substream<'_>,
        kick: Kick,
        pad: Pad,
    ) -> Result {
        let (Some(geo), Some(buffer)) = (io.geo, io.buffer.clone()) else {
            return Ok(());
        };
        let pf = geo.period_frames();
        let boundary = substream.boundary();
        let (n, mut written) = if self.is_capture() {
            (
                io.periods
                    .capture_ready(&geo, substream.appl_ptr(), boundary),
                0,
            )
        } else {
            let queued = io.periods.queued_pos(&geo, boundary);
            let written =
                ring::appl_ahead(queued, substream.appl_ptr(), boundary, geo.buffer_frames());
            let partial = pad != Pad::No || substream.state() == AlsaState::Draining;
            let n = io.periods.playback_ready(&geo, written, partial);
            let silence = pad == Pad::Flush && n == 0 && io.periods.in_flight() == 0;
            (if silence { 1 } else { n }, written)
        };
        let mut q = snd.queues().lock(self.queue_index())?;
        for _ in 0..n {
            let Some(slot) = io.free.pop() else {
                break;
            };
            let seq = io.periods.next_seq();
            let offset = geo.period_offset(seq);
            if !self.is_capture() && written < pf {
                // The last, partial period of a drain: pad it with silence.
                let fb = geo.frame_bytes() as usize;
                let have = written as usize * fb;
                substream.fill_silence(offset + have, geo.period_bytes() as usize - have)?;
            }
            written = written.saturating_sub(pf);
            let Some(msg) = io.msgs.get(slot).cloned() else {
                break;
            };
            // A status that the device does not write must not be the previous trip's.
            let queued = msg
                .clear_response()
                .and_then(|()| {
                    msg.set_data(
                        &buffer,
                        offset,
                        geo.period_bytes() as usize,
                        self.is_capture(),
                    )
                })
                .and_then(|()| q.add(msg));
            if let Err(e) = queued {
                // Keep the slot; the next fill retries.
                let _ = io.free.push(slot, GFP_ATOMIC);
                if e != ENOSPC {
                    return Err(e);
                }
                // The virtqueue is full (the streams sharing it hold every descriptor): the
                // period goes when a completion on the queue makes room. Noted under the
                // queue lock, which every `get_buf` (the only way to make room) takes too, so
                // the harvest that frees room sees it.
                io.wants_room = true;
                snd.wants_room(self.queue_index());
                break;
            }
            io.periods.queue(1);
            io.unkicked += 1;
        }
        // The device may have picked up unannounced periods by itself (it reads the whole
        // available ring when it runs): never count more pending than in flight.
        io.unkicked = io.unkicked.min(io.periods.in_flight());
        let announced = io.periods.in_flight() - io.unkicked;
        let notify = match kick {
            Kick::Start => io.unkicked > 0,
            // A device that polls finds the buffers by itself.
            _ if io.device_polls => false,
            Kick::Now => io.unkicked > 0,
            Kick::IfNeeded => ring::must_kick(&geo, announced, io.unkicked),
        };
        if notify {
            io.unkicked = 0;
            q.kick()?;
        }
        Ok(())
    }

    /// Queues the periods that `fill` left for want of room in the virtqueue (interrupt
    /// context, no lock held: after a harvest of the queue made room).
    pub(in crate::snd) fn retry_fill(&self, snd: &DeviceIo) {
        if !self.io.lock().wants_room {
            return;
        }
        let Some(sub) = self.slot.get() else {
            return;
        };
        sub.with_stream_lock(|s| {
            let mut io = self.io.lock();
            // `fill` notes it again if there is still no room.
            io.wants_room = false;
            if !io.running {
                return;
            }
            if let Err(e) = self.fill(snd, &mut io, s, Self::refill_kick(snd), Pad::No) {
                dev_dbg!(snd.dev(), "stream {}: refill failed: {:?}\n", self.id, e);
            }
        });
    }

    /// Handles a used period message (interrupt context, no lock held).
    pub(in crate::snd) fn period_done(&self, snd: &DeviceIo, msg: Arc<Msg>, slot: usize, len: u32) {
        if self.account(msg, slot, len) {
            self.service(snd);
        }
    }

    /// Takes a used period message back (any context; takes the I/O lock only). Returns
    /// whether the stream now has work for [`Stream::service`].
    pub(in crate::snd) fn account(&self, msg: Arc<Msg>, slot: usize, len: u32) -> bool {
        msg.complete(len);
        let mut status = [0u8; wire::PCM_STATUS_SIZE];
        let written = msg.answered().unwrap_or(0);
        msg.read_response(&mut status);

        let mut io = self.io.lock();
        if !io.msgs.get(slot).is_some_and(|m| Arc::ptr_eq(m, &msg)) {
            // A message of an earlier configuration that a late device gave back.
            return false;
        }
        let _ = io.free.push(slot, GFP_ATOMIC);
        if !io.periods.complete() {
            return false;
        }
        let Some(geo) = io.geo else {
            return false;
        };
        let period = geo.period_bytes() as usize;
        // The status trailer comes last: a capture message carries `len - 8` data bytes.
        let used = len as usize;
        let status_ok = used >= wire::PCM_STATUS_SIZE
            && written >= wire::PCM_STATUS_SIZE
            && PcmStatus::parse(&status).is_ok_and(|s| {
                io.latency_bytes = s.latency_bytes;
                s.status == wire::status::OK
            });
        if !status_ok {
            io.io_errors += 1;
        }
        if self.is_capture() && status_ok {
            let data = used - wire::PCM_STATUS_SIZE;
            let seq = io.periods.completed() - 1;
            if data < period {
                // The device wrote less than a period: the rest must not be stale audio.
                // Capacity is one per slot, and every entry is a completed slot's.
                let _ = io
                    .silence
                    .push((geo.period_offset(seq) + data, period - data), GFP_ATOMIC);
            }
        }
        if !io.running {
            return false;
        }
        io.error_pending |= !status_ok;
        io.service_pending = true;
        true
    }

    /// Tells ALSA of the completions taken back since the last time, and refills (interrupt
    /// context, no lock held).
    pub(in crate::snd) fn service(&self, snd: &DeviceIo) {
        let Some(sub) = self.slot.get() else {
            return;
        };
        let error = {
            let mut io = self.io.lock();
            if !core::mem::take(&mut io.service_pending) {
                return;
            }
            core::mem::take(&mut io.error_pending)
        };
        sub.with_stream_lock(|s| self.silence_short(snd, s));
        if error {
            self.io_error(snd);
            sub.stop_xrun();
            return;
        }
        sub.period_elapsed();
        if sub.with_stream_lock(|s| self.refill(snd, s)) {
            // Like DMA hardware that ran past the application pointer.
            sub.stop_xrun();
        }
    }

    /// Says that the device reported a failed period (the stream stops with an xrun).
    fn io_error(&self, snd: &DeviceIo) {
        complain!(
            dev_warn,
            snd,
            Io,
            "stream {}: I/O error from the device\n",
            self.id
        );
    }

    /// [`Stream::service`] for `pointer`, which holds the stream lock and is ALSA reading
    /// the position already (no `period_elapsed`). Returns `false` on an xrun.
    pub(in crate::snd) fn service_locked(&self, snd: &DeviceIo, s: &LockedSubstream<'_>) -> bool {
        let (pending, error) = {
            let mut io = self.io.lock();
            (
                core::mem::take(&mut io.service_pending),
                core::mem::take(&mut io.error_pending),
            )
        };
        self.silence_short(snd, s);
        if error {
            self.io_error(snd);
            return false;
        }
        // A full virtqueue that the harvest emptied lets the stream queue again, even if
        // none of its own periods came back.
        let room = core::mem::take(&mut self.io.lock().wants_room);
        if !pending && !room {
            return true;
        }
        !self.refill(snd, s)
    }

    /// Silences what short capture periods left unwritten (stream lock held).
    fn silence_short(&self, snd: &DeviceIo, s: &Substream<'_>) {
        let mut io = self.io.lock();
        while let Some((offset, bytes)) = io.silence.pop() {
            if let Err(e) = s.fill_silence(offset, bytes) {
                dev_dbg!(snd.dev(), "stream {}: silence failed: {:?}\n", self.id, e);
            }
        }
    }

    /// Queues what may go to the device after completions (stream lock held). Returns
    /// whether the stream starved: the device has nothing left although ALSA runs it.
    fn refill(&self, snd: &DeviceIo, s: &Substream<'_>) -> bool {
        let mut io = self.io.lock();
        if !io.running {
            return false;
        }
        if let Err(e) = self.fill(snd, &mut io, s, Self::refill_kick(snd), Pad::No) {
            dev_dbg!(snd.dev(), "stream {}: refill failed: {:?}\n", self.id, e);
        }
        // Playback: the application did not write in time (or wrote into a period padded at
        // start). Capture: it did not read in time, and the device has nowhere left to write.
        let padded = core::mem::take(&mut io.padded_underrun);
        let starved = (io.periods.in_flight() == 0 || padded) && s.state() == AlsaState::Running;
        if starved {
            io.xruns += 1;
        }
        starved
    }

    /// Lets the poll timer do what a harvest in another stream's `pointer` left to this
    /// stream (atomic context): the timer runs at once.
    pub(in crate::snd) fn poke(&self) {
        if let Some(p) = &self.io.lock().poller {
            p.timer.restart(Delta::ZERO);
        }
    }
}
