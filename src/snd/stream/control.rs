// SPDX-License-Identifier: GPL-2.0

//! The sleeping callbacks of a stream, and its part in a system sleep.
//!
//! `close`, `hw_params`, `hw_free`, `prepare`, `suspend`, `device_lost` and `resume` run in
//! process context: they send their requests on the control queue one at a time, under
//! [`Stream::ctl`], and wait for each answer.

use super::{
    period_tag,
    Asleep,
    Ctl,
    Stream, //
};
use crate::{
    alsa::pcm::{
        DmaBuffer,
        HwParams,
        Substream, //
    },
    errno::ebadfd,
    snd::{
        DeviceIo,
        Msg, //
    },
    spec::{
        format,
        ring::{
            Geometry,
            Periods, //
        },
        state::{
            self,
            Request,
            State, //
        },
        wire::{
            self,
            PcmHdr,
            PcmSetParams, //
        },
    },
};
use kernel::{
    prelude::*,
    time::{
        delay::fsleep,
        Delta, //
    },
};

impl Stream {
    /// `close` (the substream is detached already).
    pub(in crate::snd) fn close(&self) {
        self.stop_poller();
    }

    /// Sends one stream request and waits for the answer; updates the device state.
    fn request_locked(&self, snd: &DeviceIo, ctl: &Ctl, r: Request) -> Result {
        if matches!(r, Request::Stop | Request::Release) {
            // The device gives back at RELEASE only the messages that it knows of.
            self.kick_pending(snd, &mut self.io.lock())?;
        }
        let bytes = match r {
            Request::SetParams => match ctl.params {
                Some(p) => {
                    let b = p.to_bytes();
                    snd.ctl_request(&b, 0)
                }
                None => return Err(EINVAL),
            },
            _ => snd.ctl_request(
                &PcmHdr {
                    code: r.code(),
                    stream_id: self.id,
                }
                .to_bytes(),
                0,
            ),
        };
        let result = bytes.map(|_| ());
        let mut io = self.io.lock();
        // A STOP or RELEASE whose answer is wrong or lost most likely took effect (the
        // device stops and releases what it can): the next plan goes on from there, instead
        // of repeating a request that the device would refuse from now on.
        if result.is_ok() || matches!(r, Request::Stop | Request::Release) {
            io.dev_state = io.dev_state.apply(r).unwrap_or(io.dev_state);
        }
        result
    }

    /// Waits until the device has given back every period message (after RELEASE), for at
    /// most the control timeout (not at all on a broken queue). Messages that it keeps are
    /// replaced, so that a late answer cannot be mistaken for a new one.
    fn drain_io(&self, snd: &DeviceIo) -> Result {
        let mut waited = 0;
        loop {
            // With polling, the device's notifications may still be off, or a used buffer
            // slipped past the moment they were enabled again: take what is there.
            snd.io_done(self.queue_index());
            let in_flight = self.io.lock().periods.in_flight();
            if in_flight == 0 {
                return Ok(());
            }
            // A broken queue gives nothing back any more (said when it broke).
            let broken = snd.queue_broken(self.queue_index());
            if waited >= snd.timeout_ms() || broken {
                if !broken {
                    complain!(
                        dev_err,
                        snd,
                        Io,
                        "stream {}: device kept {} period buffer(s) after RELEASE\n",
                        self.id,
                        in_flight
                    );
                }
                let geo = self.io.lock().geo;
                if let Some(geo) = geo {
                    self.replace_msgs(&geo)?;
                }
                return Err(EIO);
            }
            fsleep(Delta::from_millis(1));
            waited += 1;
        }
    }

    /// Allocates fresh period messages, one per period of `geo`, and resets the period
    /// accounting.
    fn replace_msgs(&self, geo: &Geometry) -> Result {
        let n = geo.periods() as usize;
        let mut msgs = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut free = KVec::with_capacity(n, GFP_KERNEL)?;
        let silence = KVec::with_capacity(n, GFP_KERNEL)?;
        let xfer = wire::pcm_xfer(self.id);
        for slot in (0..n).rev() {
            msgs.push(
                Msg::with_data(
                    &xfer,
                    wire::PCM_STATUS_SIZE,
                    period_tag(self.id, slot),
                    geo.period_bytes() as usize,
                )?,
                GFP_KERNEL,
            )?;
            free.push(slot, GFP_KERNEL)?;
        }
        msgs.reverse();
        let mut io = self.io.lock();
        io.msgs = msgs;
        io.free = free;
        io.silence = silence;
        io.clear_pending();
        io.periods = Periods::default();
        io.running = false;
        io.unkicked = 0;
        io.latency_bytes = 0;
        Ok(())
    }

    /// `hw_params`: sends SET_PARAMS and sets up the buffer and the period messages.
    pub(in crate::snd) fn hw_params(
        &self,
        snd: &DeviceIo,
        substream: &Substream<'_>,
        params: &HwParams<'_>,
    ) -> Result {
        let format = format::format_index(params.format(), self.info.formats).ok_or(EINVAL)?;
        let rate = format::rate_index(params.rate(), self.info.rates).ok_or(EINVAL)?;
        let channels = u8::try_from(params.channels()).map_err(|_| EINVAL)?;
        let frame_bytes = params.frame_bytes();
        let geo = Geometry::new(frame_bytes, params.period_bytes(), params.buffer_bytes())
            .map_err(|_| EINVAL)?;
        let period_ns = geo
            .period_frames()
            .saturating_mul(1_000_000_000)
            .checked_div(u64::from(params.rate()))
            .ok_or(EINVAL)?;
        let features = self.info.features & wire::pcm_feature::SELECTABLE;
        let set = PcmSetParams {
            stream_id: self.id,
            buffer_bytes: params.buffer_bytes(),
            period_bytes: params.period_bytes(),
            features,
            channels,
            format,
            rate,
        };

        self.wait_triggers(snd);
        let mut ctl = self.ctl.lock();
        let dev_state = self.io.lock().dev_state;
        let plan = state::plan_hw_params(dev_state).map_err(|_| EBUSY)?;
        ctl.params = Some(set);
        for r in plan.iter() {
            self.request_locked(snd, &ctl, r)?;
            if r == Request::Release {
                self.drain_io(snd)?;
            }
        }
        drop(ctl);

        // A virtual device may lag behind real time when its host is busy: let blocking
        // reads and writes wait as long as a control request may take, and at least 1.1
        // buffers, before ALSA gives up with EIO.
        let buffer_ms = geo
            .buffer_frames()
            .saturating_mul(1100)
            .checked_div(u64::from(params.rate()))
            .unwrap_or(0);
        substream.set_wait_time(
            snd.timeout_ms()
                .max(u32::try_from(buffer_ms).unwrap_or(u32::MAX)),
        );
        let buffer = DmaBuffer::new(params.buffer_bytes() as usize)?;
        substream.set_buffer(&buffer, params.buffer_bytes() as usize)?;
        self.replace_msgs(&geo)?;
        let mut io = self.io.lock();
        io.geo = Some(geo);
        io.buffer = Some(buffer);
        io.period_time = Delta::from_nanos(i64::try_from(period_ns).map_err(|_| EINVAL)?);
        io.device_polls = features & (1 << wire::pcm_feature::MSG_POLLING) != 0;
        Ok(())
    }

    /// `hw_free`: gives back every message, and drops the buffer.
    pub(in crate::snd) fn hw_free(&self, snd: &DeviceIo, substream: &Substream<'_>) -> Result {
        self.wait_triggers(snd);
        self.stop_poller();
        let mut result = Ok(());
        {
            let ctl = self.ctl.lock();
            let dev_state = self.io.lock().dev_state;
            for r in state::plan_release(dev_state).iter() {
                if let Err(e) = self.request_locked(snd, &ctl, r) {
                    result = Err(e);
                    break;
                }
            }
        }
        if let Err(e) = self.drain_io(snd) {
            result = result.and(Err(e));
        }
        substream.clear_buffer();
        let buffer = {
            let mut io = self.io.lock();
            io.geo = None;
            io.buffer.take()
        };
        // Messages still on a broken device keep their own reference to the buffer.
        drop(buffer);
        for msg in self.io.lock().msgs.iter() {
            msg.clear_data();
        }
        result
    }

    /// `prepare`: a fresh start, with no I/O left on the device.
    pub(in crate::snd) fn prepare(&self, snd: &DeviceIo) -> Result {
        // The device broke the stream's virtqueue (logged then): no period would come back.
        if snd.queue_broken(self.queue_index()) {
            return Err(EIO);
        }
        self.wait_triggers(snd);
        let ctl = self.ctl.lock();
        let dev_state = self.io.lock().dev_state;
        let plan = state::plan_prepare(dev_state).map_err(|_| ebadfd())?;
        for r in plan.iter() {
            self.request_locked(snd, &ctl, r)?;
            if r == Request::Release {
                self.drain_io(snd)?;
            }
        }
        let mut io = self.io.lock();
        io.free_every_slot()?;
        io.periods = Periods::default();
        self.set_running(snd, &mut io, false);
        io.unkicked = 0;
        io.latency_bytes = 0;
        io.padded_underrun = false;
        io.clear_pending();
        Ok(())
    }

    /// A system sleep begins, before the device is reset (process context, no lock held;
    /// ALSA has suspended the substream already: a running one got STOP).
    ///
    /// The stream remembers where it stood, and gives the device's I/O back with RELEASE
    /// while the virtqueues still exist: a device that kept buffers across its reset would
    /// hand them back on the new virtqueues (QEMU's device does). Best effort: the reset
    /// that follows takes back whatever the device keeps.
    pub(in crate::snd) fn suspend(&self, snd: &DeviceIo) {
        self.wait_triggers(snd);
        self.stop_poller();
        let ctl = self.ctl.lock();
        let state = {
            let mut io = self.io.lock();
            io.asleep = Some(Asleep {
                state: io.dev_state,
                periods: io.periods,
            });
            io.dev_state
        };
        for r in state::plan_release(state).iter() {
            if let Err(e) = self.request_locked(snd, &ctl, r) {
                dev_dbg!(
                    snd.dev(),
                    "stream {}: {:?} before sleep failed: {:?}\n",
                    self.id,
                    r,
                    e
                );
                return;
            }
        }
        if state.may_hold_io() {
            // On a timeout the messages are replaced (and logged); the reset takes them.
            let _ = self.drain_io(snd);
        }
    }

    /// The device was reset for a system sleep, and every message came back cancelled
    /// (process context, no lock held).
    ///
    /// The stream forgets its periods in flight: they go again from where the device had
    /// not played (written) them, after [`Stream::resume`].
    pub(in crate::snd) fn device_lost(&self, snd: &DeviceIo) {
        self.stop_poller();
        let _ctl = self.ctl.lock();
        let mut io = self.io.lock();
        if io.running {
            // ALSA suspends every running substream before the device's freeze.
            dev_warn!(snd.dev(), "stream {}: still running at suspend\n", self.id);
        }
        self.set_running(snd, &mut io, false);
        io.dev_state = State::Idle;
        if let Some(asleep) = io.asleep {
            // The release completed the periods in flight, which the device did not play.
            io.periods = asleep.periods;
        }
        io.periods.forget_in_flight();
        // Cannot fail: see `free_every_slot`.
        let _ = io.free_every_slot();
        io.unkicked = 0;
        io.latency_bytes = 0;
        io.padded_underrun = false;
    }

    /// After a system sleep: sends the parameters again and, if the stream was prepared,
    /// `PREPARE`, so that ALSA's `RESUME` trigger starts it where it stopped. On error the
    /// stream stays as the reset left it; the next `prepare` sends what is missing.
    pub(in crate::snd) fn resume(&self, snd: &DeviceIo) -> Result {
        let ctl = self.ctl.lock();
        let before = self
            .io
            .lock()
            .asleep
            .take()
            .map_or(State::Idle, |a| a.state);
        for r in state::plan_resume(before).iter() {
            self.request_locked(snd, &ctl, r)?;
        }
        Ok(())
    }
}
