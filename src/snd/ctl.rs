// SPDX-License-Identifier: GPL-2.0

//! Control requests: one [`Message`] per request on the control queue, with a timeout.

use super::{
    DeviceIo,
    Msg, //
};
use crate::{
    errno::eopnotsupp,
    spec::wire::{
        self,
        DeviceError, //
    },
    virtio::message::MessageError,
};

/// Tag of a synchronous control message (no stream).
pub(super) const CONTROL_TAG: u32 = u32::MAX;
use kernel::prelude::*;

/// Maps a device status other than OK to the errno that ALSA users expect.
pub(super) fn status_to_errno(e: DeviceError) -> Error {
    match e {
        DeviceError::BadMsg => EINVAL,
        DeviceError::NotSupp => eopnotsupp(),
        DeviceError::IoErr | DeviceError::Unknown(_) => EIO,
    }
}

fn request_code(request: &[u8]) -> u32 {
    match request.get(..4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

impl DeviceIo {
    /// Sends `request` and waits for its answer: a status header and `payload_len` bytes.
    ///
    /// Returns the payload bytes that the device wrote (possibly fewer than asked for: the
    /// caller checks). Fails with the device's status mapped to an errno, `ETIMEDOUT` if the
    /// device does not answer within `msg_timeout_ms`, `ERESTARTSYS` on a signal, and
    /// `ENODEV` once the device is gone.
    pub(super) fn ctl_request(&self, request: &[u8], payload_len: usize) -> Result<KVec<u8>> {
        let code = request_code(request);
        let msg = Msg::new(request, wire::HDR_SIZE + payload_len, CONTROL_TAG)?;
        {
            let mut q = self.queues.lock(wire::QUEUE_CONTROL)?;
            q.add(msg.clone())?;
            q.kick()?;
        }
        let written = msg.wait(self.timeout_ms).map_err(|e| match e {
            MessageError::TimedOut => {
                complain!(
                    dev_err,
                    self,
                    Control,
                    "control request {:#x} timed out after {} ms\n",
                    code,
                    self.timeout_ms
                );
                ETIMEDOUT
            }
            MessageError::Interrupted => ERESTARTSYS,
            MessageError::Cancelled => ENODEV,
        })?;

        let mut answer = KVec::from_elem(0u8, written, GFP_KERNEL)?;
        let n = msg.read_response(&mut answer);
        if n < wire::HDR_SIZE {
            complain!(
                dev_err,
                self,
                Control,
                "control request {:#x}: short answer ({} bytes)\n",
                code,
                n
            );
            return Err(EIO);
        }
        let status = u32::from_le_bytes([answer[0], answer[1], answer[2], answer[3]]);
        if let Err(e) = wire::check_status(status) {
            match e {
                DeviceError::Unknown(s) => complain!(
                    dev_err,
                    self,
                    Control,
                    "control request {:#x}: bad status {:#x}\n",
                    code,
                    s
                ),
                DeviceError::IoErr => complain!(
                    dev_err,
                    self,
                    Control,
                    "control request {:#x} failed: IO_ERR\n",
                    code
                ),
                // The device refused the request; the caller's errno says why.
                DeviceError::BadMsg => complain!(
                    dev_warn,
                    self,
                    Control,
                    "control request {:#x} refused: BAD_MSG\n",
                    code
                ),
                DeviceError::NotSupp => complain!(
                    dev_warn,
                    self,
                    Control,
                    "control request {:#x} refused: NOT_SUPP\n",
                    code
                ),
            }
            return Err(status_to_errno(e));
        }
        let mut payload = KVec::with_capacity(n - wire::HDR_SIZE, GFP_KERNEL)?;
        payload.extend_from_slice(&answer[wire::HDR_SIZE..n], GFP_KERNEL)?;
        Ok(payload)
    }

    /// Asks for the descriptions of all `count` items of a kind (`VIRTIO_SND_R_*_INFO`,
    /// `size` bytes each), and hands each one to `f` with its ID. `what` names the kind
    /// in messages.
    ///
    /// A short answer fails with `EIO`. The caller decides what an unusable item means.
    pub(super) fn query_info(
        &self,
        what: &str,
        code: u32,
        count: u32,
        size: usize,
        mut f: impl FnMut(u32, &[u8]) -> Result,
    ) -> Result {
        if count == 0 {
            return Ok(());
        }
        let request = wire::QueryInfo {
            code,
            start_id: 0,
            count,
            size: size as u32,
        }
        .to_bytes();
        let expected = count as usize * size;
        let payload = self.ctl_request(&request, expected)?;
        if payload.len() < expected {
            complain!(
                dev_err,
                self,
                Control,
                "{}: device answered {} of {} bytes\n",
                what,
                payload.len(),
                expected
            );
            return Err(EIO);
        }
        for (id, chunk) in (0u32..).zip(payload.chunks_exact(size)) {
            f(id, chunk)?;
        }
        Ok(())
    }
}
