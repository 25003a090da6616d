// SPDX-License-Identifier: GPL-2.0

//! Jacks: discovery with `JACK_INFO`, one ALSA jack per device jack, plug events, and
//! `JACK_REMAP`.
//!
//! Each jack gets a detection control ("Headphone Jack", ...) and an input device, typed
//! and named from its HDA pin default configuration. `VIRTIO_SND_EVT_JACK_*` events report
//! plugging from the event queue's callback.
//!
//! A jack that the device can remap (`VIRTIO_SND_JACK_F_REMAP`) also gets a mixer element
//! "NAME Jack Remap" of two integers, the HDA default association and sequence (0..15): a
//! read asks the device (`JACK_INFO`), a write sends `JACK_REMAP`. The driver keeps the
//! last remap written, and sends it again after a system sleep, whose reset made the
//! device forget it.

use super::{
    DeviceIo, //
};
use crate::{
    alsa::{
        card::Card,
        control::{
            ControlOps,
            Elem,
            ElemInfo,
            ElemValue,
            Iface, //
        },
        jack::Jacks, //
    },
    spec::{
        info::{
            defcfg,
            sndrv_ctl,
            JackInfo,
            JackRemap,
            JACK_INFO_SIZE, //
        },
        wire,
    },
};
use kernel::{
    new_mutex,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        Mutex, //
    },
};

/// The largest association or sequence (4-bit fields of the pin default configuration).
const REMAP_MAX: u32 = 0xf;

/// Read, write, volatile: the device holds the value.
const REMAP_ACCESS: u32 =
    sndrv_ctl::ACCESS_READ | sndrv_ctl::ACCESS_WRITE | sndrv_ctl::ACCESS_VOLATILE;

/// The remap elements: one per jack that the device can remap.
///
/// The card's elements and the [`JackMap`] hold it; it holds only the device's I/O handle.
#[pin_data]
pub(super) struct Remaps {
    io: Arc<DeviceIo>,
    /// Device jack ID, by element (group index).
    jack_ids: KVec<u32>,
    /// The last remap written, by element: sent again after a system sleep.
    #[pin]
    written: Mutex<KVec<Option<(u32, u32)>>>,
}

impl Remaps {
    /// Asks the device for the current association and sequence of jack `id`.
    fn read(&self, id: u32) -> Result<(u32, u32)> {
        let request = wire::QueryInfo {
            code: wire::code::JACK_INFO,
            start_id: id,
            count: 1,
            size: JACK_INFO_SIZE as u32,
        }
        .to_bytes();
        let payload = self.io.ctl_request(&request, JACK_INFO_SIZE)?;
        let info = JackInfo::parse(&payload).map_err(|e| {
            complain!(
                dev_err,
                self.io,
                Control,
                "jack {}: unusable JACK_INFO ({:?})\n",
                id,
                e
            );
            EIO
        })?;
        Ok((
            defcfg::association(info.hda_reg_defconf),
            defcfg::sequence(info.hda_reg_defconf),
        ))
    }

    fn send(&self, id: u32, association: u32, sequence: u32) -> Result {
        let request = JackRemap {
            jack_id: id,
            association,
            sequence,
        }
        .to_bytes();
        self.io.ctl_request(&request, 0).map(|_| ())
    }

    /// Sends every remap written so far again (after a system sleep).
    fn restore(&self) -> Result {
        let written = self.written.lock();
        for (&id, remap) in self.jack_ids.iter().zip(written.iter()) {
            if let Some((association, sequence)) = *remap {
                self.send(id, association, sequence)?;
            }
        }
        Ok(())
    }
}

#[vtable]
impl ControlOps for Remaps {
    fn info(_this: &Self, _index: usize, info: &mut ElemInfo<'_>) -> Result {
        info.set_type(sndrv_ctl::TYPE_INTEGER, 2);
        info.set_integer(0, i64::from(REMAP_MAX), 1);
        Ok(())
    }

    fn get(this: &Self, index: usize, value: &mut ElemValue<'_>) -> Result {
        let id = *this.jack_ids.get(index).ok_or(EINVAL)?;
        let (association, sequence) = this.read(id)?;
        value.set_integer(0, i64::from(association));
        value.set_integer(1, i64::from(sequence));
        Ok(())
    }

    fn put(this: &Self, index: usize, value: &ElemValue<'_>) -> Result<bool> {
        let id = *this.jack_ids.get(index).ok_or(EINVAL)?;
        let field = |i| {
            value
                .integer(i)
                .and_then(|x| u32::try_from(x).ok())
                .filter(|&x| x <= REMAP_MAX)
                .ok_or(EINVAL)
        };
        let (association, sequence) = (field(0)?, field(1)?);
        let mut written = this.written.lock();
        if this.read(id)? == (association, sequence) {
            return Ok(false);
        }
        this.send(id, association, sequence)?;
        if let Some(w) = written.get_mut(index) {
            *w = Some((association, sequence));
        }
        Ok(true)
    }
}

/// The card's jacks, and which of them each device jack ID is.
pub(super) struct JackMap {
    jacks: Arc<Jacks>,
    /// Index in `jacks` by device jack ID (`None`: unusable description).
    by_id: KVec<Option<usize>>,
    /// The remap elements, if a jack can be remapped.
    remaps: Option<Arc<Remaps>>,
}

impl JackMap {
    /// Reports device jack `id` plugged or unplugged (interrupt context).
    pub(super) fn report(&self, io: &DeviceIo, id: u32, plugged: bool) {
        match self.by_id.get(id as usize) {
            Some(Some(index)) => {
                self.jacks.report(*index, plugged);
            }
            Some(None) => {}
            None => complain!(
                dev_warn,
                io,
                Event,
                "jack event for jack {}, which does not exist\n",
                id
            ),
        }
    }
}

impl JackMap {
    /// After a system sleep: sends the remaps written before it again, reads the state of
    /// every jack and reports it (the sleep may have lost events); ALSA and the input core
    /// pass on only the changes.
    pub(super) fn refresh(&self, io: &DeviceIo) -> Result {
        if let Some(remaps) = &self.remaps {
            remaps.restore()?;
        }
        query_jacks(io, |id, chunk| {
            if let (Ok(info), Some(Some(index))) =
                (JackInfo::parse(chunk), self.by_id.get(id as usize))
            {
                self.jacks.report(*index, info.connected);
            }
            Ok(())
        })
    }
}

/// Asks the device for the description of all its jacks (`JACK_INFO`), handed to `f` one
/// at a time with the jack's ID.
fn query_jacks(io: &DeviceIo, f: impl FnMut(u32, &[u8]) -> Result) -> Result {
    io.query_info(
        "JACK_INFO",
        wire::code::JACK_INFO,
        io.config().jacks,
        JACK_INFO_SIZE,
        f,
    )
}

/// Asks the device for its jacks and creates them on `card` (before it is registered),
/// each with its current state.
pub(super) fn register(io: &Arc<DeviceIo>, card: &Card) -> Result<JackMap> {
    let mut by_id = KVec::new();
    let mut remappable: KVec<(u32, &'static CStr)> = KVec::new();
    let jacks = card.jacks();
    query_jacks(io, |id, chunk| {
        let index = match JackInfo::parse(chunk) {
            Ok(info) => {
                let index = card.add_jack(info.name(), info.jack_type())?;
                jacks.report(index, info.connected);
                if info.can_remap() {
                    remappable.push((id, info.name()), GFP_KERNEL)?;
                }
                Some(index)
            }
            Err(e) => {
                complain!(
                    dev_warn,
                    io,
                    Info,
                    "jack {}: unusable JACK_INFO ({:?}), skipped\n",
                    id,
                    e
                );
                None
            }
        };
        by_id.push(index, GFP_KERNEL)?;
        Ok(())
    })?;
    let remaps = add_remaps(io, card, &remappable)?;
    Ok(JackMap {
        jacks,
        by_id,
        remaps,
    })
}

/// Creates a remap element for each jack of `remappable` (device ID, name), on `card`
/// (before it is registered).
fn add_remaps(
    io: &Arc<DeviceIo>,
    card: &Card,
    remappable: &[(u32, &'static CStr)],
) -> Result<Option<Arc<Remaps>>> {
    if remappable.is_empty() {
        return Ok(None);
    }
    let mut jack_ids = KVec::with_capacity(remappable.len(), GFP_KERNEL)?;
    let mut written = KVec::with_capacity(remappable.len(), GFP_KERNEL)?;
    for &(id, _) in remappable {
        jack_ids.push(id, GFP_KERNEL)?;
        written.push(None, GFP_KERNEL)?;
    }
    let remaps = Arc::pin_init(
        pin_init!(Remaps {
            io: io.clone(),
            jack_ids,
            written <- new_mutex!(written),
        }),
        GFP_KERNEL,
    )?;
    for (n, &(_, name)) in remappable.iter().enumerate() {
        // Jacks of the same name get ALSA indexes 0, 1, ... as their detection controls do.
        let index = remappable[..n].iter().filter(|(_, m)| *m == name).count();
        let name = CString::try_from_fmt(fmt!("{} Jack Remap", name.to_str().unwrap_or("Misc")))?;
        card.add_control(
            &Elem {
                iface: Iface::Mixer,
                name: &name,
                index: u32::try_from(index)?,
                access: REMAP_ACCESS,
                group_index: n,
            },
            remaps.clone(),
        )?;
    }
    Ok(Some(remaps))
}
