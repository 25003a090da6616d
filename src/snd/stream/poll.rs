// SPDX-License-Identifier: GPL-2.0

//! How completions reach a running stream: its mode, and the poll timer.
//!
//! A running stream registers with its queue in the mode that it was started with
//! ([`Stream::set_running`]). Its timer harvests the queue once a period while the stream
//! polls, and gives a playback stream that started with nothing on the device its start tick,
//! in both modes.

use super::{
    Io,
    Kick,
    Pad,
    Stream, //
};
use crate::{
    alsa::pcm::State as AlsaState,
    snd::{
        Completions,
        DeviceIo, //
    },
    timer::ArcTimer,
};
use kernel::{
    prelude::*,
    sync::{
        Arc,
        ArcBorrow, //
    },
    time::hrtimer::{
        HrTimerCallback,
        HrTimerCallbackContext,
        HrTimerRestart, //
    },
};

/// The poll timer of a running stream, with what its callback needs.
///
/// It lives from a start (`trigger`) until `sync_stop`, `hw_free`, `close` or a system
/// sleep ([`Stream::stop_poller`]). Meanwhile it is the one reference from below back up
/// the ownership tree (the [`DeviceIo`] owns the stream): a cycle by design, which ends
/// at the latest when the substream is closed.
pub(super) struct Poller {
    /// Declared first: dropping it cancels the timer and waits for its callback, before
    /// `snd` goes.
    pub(super) timer: ArcTimer<Stream>,
    pub(super) snd: Arc<DeviceIo>,
}

impl HrTimerCallback for Stream {
    type Pointer<'a> = Arc<Self>;

    /// The poll timer (hard interrupt context): harvests the stream's queue once a period,
    /// or, if the application disabled period wakeups, once a buffer as a watchdog that
    /// every `pointer` with progress pushes back.
    ///
    /// Also, a period after a start that left a playback stream with nothing on the device,
    /// the start tick ([`Stream::start_tick`]), in both modes.
    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        let (snd, tick, polling) = {
            let io = this.io.lock();
            match &io.poller {
                Some(p) if io.running => (
                    p.snd.clone(),
                    io.tick,
                    io.queue_user == Some(Completions::Polling),
                ),
                _ => return HrTimerRestart::NoRestart,
            }
        };
        if polling {
            snd.io_done(this.queue_index());
        }
        // What a harvest in another stream's `pointer` took back for this one (`poke`).
        this.service(&snd);
        this.retry_fill(&snd);
        this.start_tick(&snd);
        if !polling {
            return HrTimerRestart::NoRestart;
        }
        ctx.forward_now(tick);
        HrTimerRestart::Restart
    }
}

impl Stream {
    /// Stops the poll timer, and waits for its callback (sleeping context, no lock held).
    ///
    /// The poller holds the stream (its timer) and the [`DeviceIo`], which owns the stream:
    /// this is what ends that cycle, at the latest at `close`.
    pub(in crate::snd) fn stop_poller(&self) {
        let poller = self.io.lock().poller.take();
        drop(poller);
    }

    /// Registers the stream as running on its queue, or unregisters it.
    pub(super) fn set_running(&self, snd: &DeviceIo, io: &mut Io, running: bool) {
        io.running = running;
        let user = if running { Some(io.completions) } else { None };
        if let Some(mode) = io.queue_user {
            snd.set_queue_user(self.queue_index(), mode, false);
        }
        if let Some(mode) = user {
            snd.set_queue_user(self.queue_index(), mode, true);
        }
        io.queue_user = user;
    }

    /// How the stream takes its completions from its next start on.
    pub(in crate::snd) fn selected_completions(&self) -> Completions {
        self.io.lock().selected
    }

    /// Selects how the stream takes its completions from its next start on (a running
    /// stream keeps its mode until it stops or pauses). Returns whether that changed.
    pub(in crate::snd) fn select_completions(&self, mode: Completions) -> bool {
        let mut io = self.io.lock();
        let changed = io.selected != mode;
        io.selected = mode;
        changed
    }

    /// A period after a playback start that left the device with nothing (timer context, no
    /// lock held): if the application has still not written a whole period, DMA hardware
    /// would have played what there is, and more. What was written goes to the device now,
    /// the partial period padded with silence (see `fill`). For a drain that started the
    /// stream, that is its end. A running stream has underrun: it stops with an xrun when
    /// the padded period is back, or at once if nothing was written.
    fn start_tick(&self, snd: &DeviceIo) {
        // The poll timer calls this every period: the common case (periods on the device)
        // costs one look, without the stream lock; the check is repeated under it below.
        if self.is_capture() || self.io.lock().periods.in_flight() > 0 {
            return;
        }
        let Some(sub) = self.slot.get() else {
            return;
        };
        let xrun = sub.with_stream_lock(|s| {
            let mut io = self.io.lock();
            if !io.running || io.periods.in_flight() > 0 {
                return false;
            }
            // What the application wrote goes to the device, the partial period padded;
            // if the stream runs (not drains), the frames that the application writes into
            // the padding now are lost: that is reported as an xrun when the period is back.
            let running = s.state() == AlsaState::Running;
            let pad = if running { Pad::Partial } else { Pad::Flush };
            match self.fill(snd, &mut io, s, Kick::Now, pad) {
                Ok(()) => io.padded_underrun = running && io.periods.in_flight() > 0,
                Err(e) => dev_dbg!(
                    snd.dev(),
                    "stream {}: start fill failed: {:?}\n",
                    self.id,
                    e
                ),
            }
            let starved = io.periods.in_flight() == 0 && running;
            if starved {
                io.xruns += 1;
            }
            starved
        });
        if xrun {
            sub.stop_xrun();
        }
    }
}
