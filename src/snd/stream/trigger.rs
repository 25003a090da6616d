// SPDX-License-Identifier: GPL-2.0

//! The START/STOP of a stream: `trigger`, which sends them without waiting (atomic context),
//! their answers, and the waits for those answers (`sync_stop`, and before every request of
//! the sleeping side).

use super::{
    poll::Poller,
    Kick,
    Pad,
    Stream,
    TAG_SLOT_BITS,
    TAG_TRIGGER, //
};
use crate::{
    alsa::pcm::{
        self as alsa_pcm,
        Substream, //
    },
    errno::ebadfd,
    snd::{
        Completions,
        DeviceIo,
        Msg, //
    },
    spec::{
        state::Request,
        wire::{
            self,
            PcmHdr, //
        },
    },
    timer::ArcTimer,
    virtio::message::MessageError,
};
use kernel::{
    prelude::*,
    sync::Arc, //
};

impl Stream {
    /// Waits for the answers to START/STOP sent from `trigger`. A message that is not
    /// answered within the control timeout is left to the device and replaced, so that it
    /// costs one wait, once.
    ///
    /// Each message is waited for until the end of the trip it was on when this began: any
    /// number of callers may wait at once, and a message that `trigger` queues again meanwhile
    /// ends the wait for the earlier trip.
    pub(super) fn wait_triggers(&self, snd: &DeviceIo) {
        let triggers: KVec<(usize, Arc<Msg>, u32)> = {
            let io = self.io.lock();
            let mut v = KVec::new();
            for (i, t) in io.triggers.iter().enumerate() {
                if let Some(trip) = t.queued_trip() {
                    if v.push((i, t.clone(), trip), GFP_ATOMIC).is_err() {
                        break;
                    }
                }
            }
            v
        };
        for (i, t, trip) in triggers.iter() {
            if let Err(MessageError::TimedOut) = t.wait_trip(*trip, snd.timeout_ms()) {
                complain!(
                    dev_err,
                    snd,
                    Control,
                    "stream {}: START/STOP not answered within {} ms\n",
                    self.id,
                    snd.timeout_ms()
                );
                // If allocation fails, the old message stays and is waited for again.
                if let Ok(fresh) = self.trigger_msg() {
                    if let Some(slot) = self.io.lock().triggers.get_mut(*i) {
                        if Arc::ptr_eq(slot, t) {
                            *slot = fresh;
                        }
                    }
                }
            }
        }
    }

    /// A START/STOP message of this stream (the request is written at each use).
    fn trigger_msg(&self) -> Result<Arc<Msg>> {
        Self::new_trigger_msg(self.id)
    }

    pub(super) fn new_trigger_msg(id: u32) -> Result<Arc<Msg>> {
        Msg::new(
            &PcmHdr {
                code: 0,
                stream_id: id,
            }
            .to_bytes(),
            wire::HDR_SIZE,
            TAG_TRIGGER | (id << TAG_SLOT_BITS),
        )
    }

    /// `sync_stop`: waits until STOP was answered, and stops the poll timer.
    pub(in crate::snd) fn sync_stop(&self, snd: &DeviceIo) -> Result {
        self.wait_triggers(snd);
        self.stop_poller();
        Ok(())
    }

    /// `trigger` (atomic context, under the stream lock).
    pub(in crate::snd) fn trigger(
        this: &Arc<Self>,
        snd: &Arc<DeviceIo>,
        substream: &Substream<'_>,
        cmd: alsa_pcm::TriggerCmd,
    ) -> Result {
        use alsa_pcm::TriggerCmd as T;
        let mut io = this.io.lock();
        let start = match cmd {
            T::Start | T::PauseRelease | T::Resume => true,
            T::Stop | T::PausePush | T::Suspend => false,
            T::Drain => {
                // A running stream was switched to DRAINING: queue what is left, with the
                // last partial period padded, or a period of silence if the device has
                // nothing (after a RESET, or before the start tick), so that the position
                // moves and the drain ends (a capture drain has stopped the stream already).
                // A drain that starts a prepared stream does not get here (the core clears
                // `trigger_master` when it starts it): the start tick does it.
                if io.running && !this.is_capture() {
                    this.fill(snd, &mut io, substream, Kick::Now, Pad::Flush)?;
                    // The application now sleeps until the drain ends, which only a
                    // period wakeup tells: the watchdog of a stream without them harvests
                    // every period from now on.
                    if io.no_wakeup {
                        io.tick = io.period_time;
                        if let Some(p) = &io.poller {
                            p.timer.restart(io.tick);
                        }
                    }
                }
                return Ok(());
            }
        };
        let r = if start { Request::Start } else { Request::Stop };
        let next = io.dev_state.apply(r).map_err(|_| ebadfd())?;
        let msg = io
            .triggers
            .iter()
            .find(|m| !m.is_queued())
            .cloned()
            .ok_or(EBUSY)?;
        msg.set_request(
            &PcmHdr {
                code: r.code(),
                stream_id: this.id,
            }
            .to_bytes(),
        )?;
        if start {
            // A mode selected meanwhile applies from this start on (the stream is not
            // registered with its queue now: `set_running` below does it in this mode).
            io.no_wakeup = substream.no_period_wakeup();
            // An application that disabled period wakeups reads the position on its own
            // timer (`pointer` harvests): the device's interrupts would wake nobody.
            io.completions = if io.no_wakeup {
                Completions::Polling
            } else {
                io.selected
            };
            io.watched = io.periods.completed();
            io.tick = if io.no_wakeup {
                io.period_time * i64::from(io.geo.map_or(1, |g| g.periods()))
            } else {
                io.period_time
            };
            io.running = true;
            if let Err(e) = this.fill(snd, &mut io, substream, Kick::Start, Pad::No) {
                io.running = false;
                // ALSA's start from a write (the start threshold) drops the error: say it.
                complain!(
                    dev_err,
                    snd,
                    Io,
                    "stream {}: START failed: {:?}\n",
                    this.id,
                    e
                );
                return Err(e);
            }
            this.set_running(snd, &mut io, true);
            // Polling harvests once a period (the watchdog, once a buffer, starts with the
            // same first expiry); a playback stream with less than a period written gets its
            // start tick a period from now.
            let starved = !this.is_capture() && io.periods.in_flight() == 0;
            if io.completions == Completions::Polling || starved {
                let period = io.period_time;
                match &io.poller {
                    Some(p) => p.timer.restart(period),
                    None => {
                        io.poller = Some(Poller {
                            timer: ArcTimer::start(this.clone(), period),
                            snd: snd.clone(),
                        })
                    }
                }
            }
        } else {
            // The poll timer sees this and stops by itself.
            this.set_running(snd, &mut io, false);
            this.kick_pending(snd, &mut io)?;
        }
        let sent = {
            snd.queues()
                .lock(wire::QUEUE_CONTROL)
                .and_then(|mut q| q.add(msg).and_then(|()| q.kick()))
        };
        if let Err(e) = sent {
            if start {
                this.set_running(snd, &mut io, false);
            }
            return Err(e);
        }
        io.dev_state = next;
        Ok(())
    }

    /// Handles the answer to an asynchronous START or STOP (interrupt context).
    pub(in crate::snd) fn trigger_done(&self, snd: &DeviceIo, msg: Arc<Msg>, len: u32) {
        msg.complete(len);
        let mut hdr = [0u8; wire::HDR_SIZE];
        let n = msg.read_response(&mut hdr);
        let status = u32::from_le_bytes(hdr);
        if n == wire::HDR_SIZE && wire::check_status(status).is_ok() {
            return;
        }
        match wire::check_status(status) {
            Err(e) if n == wire::HDR_SIZE => complain!(
                dev_err,
                snd,
                Control,
                "stream {}: START/STOP failed: {:?}\n",
                self.id,
                e
            ),
            _ => complain!(
                dev_err,
                snd,
                Control,
                "stream {}: START/STOP failed: short answer ({} bytes)\n",
                self.id,
                n
            ),
        }
        self.set_running(snd, &mut self.io.lock(), false);
        if let Some(sub) = self.slot.get() {
            sub.stop_xrun();
        }
    }
}
