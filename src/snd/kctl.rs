// SPDX-License-Identifier: GPL-2.0

//! Control elements (`VIRTIO_SND_F_CTLS`): discovery with `CTL_INFO` and `CTL_ENUM_ITEMS`,
//! one ALSA mixer element per device element, whose callbacks read and write the device,
//! and `CTL_NOTIFY` events.
//!
//! Values go to the device as they are: the device owns them. The driver checks a value
//! that the user writes against the element's limits (`EINVAL`), and one that the device
//! reads back (`EIO`), so that applications never see a value outside the range that the
//! element announces.

use super::{
    DeviceIo, //
};
use crate::{
    alsa::{
        card::Card,
        control::{
            ControlOps,
            Controls,
            Elem,
            ElemInfo,
            ElemValue,
            Iface,
            TlvOp, //
        },
    },
    spec::info::{
        ctl_access,
        ctl_code,
        ctl_enum_item,
        ctl_hdr,
        CtlEnumItem,
        CtlEvent,
        CtlInfo,
        CtlTlv,
        CtlType,
        CtlValue,
        CtlValueInfo,
        CTL_HDR_SIZE,
        CTL_INFO_SIZE,
        CTL_TLV_HDR_SIZE,
        CTL_TLV_MAX_BYTES,
        CTL_VALUE_SIZE, //
    },
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    uaccess::UserSlice, //
};

/// One element of the device.
struct Element {
    /// The device's ID of the element.
    id: u32,
    info: CtlInfo,
    /// The names of the options of an enumerated element.
    items: KVec<CtlEnumItem>,
}

/// The device's elements, in the order of the card's mixer elements.
///
/// The card's elements and the [`KctlMap`] hold it; it holds only the device's I/O handle.
#[pin_data]
pub(super) struct Kctls {
    io: Arc<DeviceIo>,
    elems: KVec<Element>,
    /// Values read when a system sleep began, by element, to write back after it.
    #[pin]
    saved: Mutex<KVVec<Option<CtlValue>>>,
}

/// The card's elements, and which of them each device element ID is.
pub(super) struct KctlMap {
    controls: Arc<Controls>,
    /// Position in `controls` by device element ID (`None`: not created).
    by_id: KVec<Option<usize>>,
    kctls: Arc<Kctls>,
}

impl KctlMap {
    /// A system sleep begins (process context): reads the value of every element that the
    /// user can write and that does not change by itself (not volatile), to write it back
    /// after the device's reset ([`KctlMap::restore`]). An element that cannot be read now
    /// is not written back.
    pub(super) fn save(&self) {
        let k = &self.kctls;
        let mut saved = k.saved.lock();
        saved.clear();
        for e in k.elems.iter() {
            let keep =
                e.info.has_access(ctl_access::WRITE) && !e.info.has_access(ctl_access::VOLATILE);
            let value = if keep { k.read(e).ok() } else { None };
            if saved.push(value, GFP_KERNEL).is_err() {
                break;
            }
        }
    }

    /// After a system sleep: writes back the values that [`KctlMap::save`] read (the reset
    /// may have taken the device's back to their defaults). Returns the first error; the
    /// other elements are written all the same.
    pub(super) fn restore(&self) -> Result {
        let k = &self.kctls;
        let saved = core::mem::take(&mut *k.saved.lock());
        let mut result = Ok(());
        for (e, value) in k.elems.iter().zip(saved.iter()) {
            if let Some(value) = value {
                if let Err(err) = k.io.ctl_request(&value.write_request(e.id), 0) {
                    result = result.and(Err(err));
                }
            }
        }
        result
    }

    /// Announces a `CTL_NOTIFY` event to ALSA (interrupt context).
    pub(super) fn notify(&self, io: &DeviceIo, data: u32) {
        let event = match CtlEvent::from_data(data) {
            Ok(e) => e,
            Err(e) => {
                complain!(
                    dev_warn,
                    io,
                    Event,
                    "malformed control event {:#x} ({:?})\n",
                    data,
                    e
                );
                return;
            }
        };
        match self.by_id.get(usize::from(event.control_id)) {
            Some(Some(n)) => {
                self.controls.notify(*n, event.alsa_mask());
            }
            Some(None) => {}
            None => complain!(
                dev_warn,
                io,
                Event,
                "control event for element {}, which does not exist\n",
                event.control_id
            ),
        }
    }
}

/// Reads the names of the options of enumerated element `id`.
fn enum_items(io: &DeviceIo, id: u32, info: &CtlInfo) -> Result<KVec<CtlEnumItem>> {
    let mut items = KVec::new();
    if info.ty() != CtlType::Enumerated {
        return Ok(items);
    }
    let payload = io.ctl_request(&ctl_hdr(ctl_code::ENUM_ITEMS, id), info.enum_items_bytes())?;
    for i in 0..info.enum_items() {
        items.push(ctl_enum_item(&payload, i).map_err(|_| EIO)?, GFP_KERNEL)?;
    }
    Ok(items)
}

/// Asks the device for its control elements and creates them on `card` (before it is
/// registered). An element that cannot be described or created is skipped with a warning.
pub(super) fn register(io: &Arc<DeviceIo>, card: &Card) -> Result<KctlMap> {
    let count = io.config().controls;
    let mut described = KVec::new();
    io.query_info(
        "CTL_INFO",
        ctl_code::INFO,
        count,
        CTL_INFO_SIZE,
        |id, chunk| {
            match CtlInfo::parse(chunk) {
                Ok(info) => described.push((id, info), GFP_KERNEL)?,
                Err(e) => complain!(
                    dev_warn,
                    io,
                    Info,
                    "control {}: unusable CTL_INFO ({:?}), skipped\n",
                    id,
                    e
                ),
            }
            Ok(())
        },
    )?;
    let mut elems = KVec::new();
    for (id, info) in described {
        match enum_items(io, id, &info) {
            Ok(items) => elems.push(Element { id, info, items }, GFP_KERNEL)?,
            Err(e) => complain!(
                dev_warn,
                io,
                Info,
                "control {}: no option names ({:?}), skipped\n",
                id,
                e
            ),
        }
    }
    let mut by_id = KVec::from_elem(None, count as usize, GFP_KERNEL)?;
    let kctls = Arc::pin_init(
        pin_init!(Kctls {
            io: io.clone(),
            elems,
            saved <- new_mutex!(KVVec::new()),
        }),
        GFP_KERNEL,
    )?;
    for (n, e) in kctls.elems.iter().enumerate() {
        let elem = Elem {
            iface: Iface::Mixer,
            name: e.info.name().as_cstr(),
            index: e.info.index(),
            access: e.info.alsa_access(),
            group_index: n,
        };
        match card.add_control(&elem, kctls.clone()) {
            Ok(position) => {
                if let Some(slot) = by_id.get_mut(e.id as usize) {
                    *slot = Some(position);
                }
            }
            Err(err) => complain!(
                dev_warn,
                io,
                Info,
                "control {} ({}): not created ({:?})\n",
                e.id,
                e.info.name().as_str(),
                err
            ),
        }
    }
    Ok(KctlMap {
        controls: card.controls(),
        by_id,
        kctls,
    })
}

impl Kctls {
    fn elem(&self, index: usize) -> Result<&Element> {
        self.elems.get(index).ok_or(EINVAL)
    }

    /// Reads the value of `e` from the device, and checks it.
    fn read(&self, e: &Element) -> Result<CtlValue> {
        let payload = self
            .io
            .ctl_request(&ctl_hdr(ctl_code::READ, e.id), CTL_VALUE_SIZE)?;
        let value = CtlValue::parse(&payload, &e.info).map_err(|_| {
            complain!(
                dev_err,
                self.io,
                Control,
                "control {}: short value ({} bytes)\n",
                e.id,
                payload.len()
            );
            EIO
        })?;
        if e.info.check_value(&value).is_err() {
            complain!(
                dev_err,
                self.io,
                Control,
                "control {}: device value out of the element's range\n",
                e.id
            );
            return Err(EIO);
        }
        Ok(value)
    }
}

#[vtable]
impl ControlOps for Kctls {
    fn info(this: &Self, index: usize, info: &mut ElemInfo<'_>) -> Result {
        let e = this.elem(index)?;
        info.set_type(e.info.ty().alsa(), e.info.count());
        match e.info.value() {
            CtlValueInfo::Boolean => info.set_integer(0, 1, 1),
            CtlValueInfo::Integer { min, max, step } => {
                info.set_integer(i64::from(min), i64::from(max), i64::from(step))
            }
            CtlValueInfo::Integer64 { min, max, step } => info.set_integer64(min, max, step),
            CtlValueInfo::Enumerated { items } => {
                let item = info.enum_item(items);
                let name = e.items.get(item as usize).map_or(&[][..], |n| n.as_bytes());
                info.set_enum_name(name);
            }
            CtlValueInfo::Bytes | CtlValueInfo::Iec958 => {}
        }
        Ok(())
    }

    fn get(this: &Self, index: usize, out: &mut ElemValue<'_>) -> Result {
        let e = this.elem(index)?;
        let value = this.read(e)?;
        let n = e.info.count() as usize;
        match e.info.ty() {
            CtlType::Boolean | CtlType::Integer => {
                for i in 0..n {
                    out.set_integer(i, i64::from(value.integer(i).ok_or(EIO)?));
                }
            }
            CtlType::Integer64 => {
                for i in 0..n {
                    out.set_integer64(i, value.integer64(i).ok_or(EIO)?);
                }
            }
            CtlType::Enumerated => {
                for i in 0..n {
                    out.set_enumerated(i, value.enumerated(i).ok_or(EIO)?);
                }
            }
            CtlType::Bytes => {
                let src = value.as_bytes().get(..n).ok_or(EIO)?;
                out.bytes_mut()
                    .get_mut(..n)
                    .ok_or(EIO)?
                    .copy_from_slice(src);
            }
            CtlType::Iec958 => {
                let dst = out.iec958_mut();
                let src = value.as_bytes().get(..dst.len()).ok_or(EIO)?;
                dst.copy_from_slice(src);
            }
        }
        Ok(())
    }

    fn put(this: &Self, index: usize, input: &ElemValue<'_>) -> Result<bool> {
        let e = this.elem(index)?;
        let n = e.info.count() as usize;
        let mut value = CtlValue::default();
        let narrow = |v: Option<i64>| v.and_then(|v| i32::try_from(v).ok()).ok_or(EINVAL);
        let set = match e.info.ty() {
            CtlType::Boolean | CtlType::Integer => (0..n).try_fold(true, |ok, i| {
                Ok::<_, Error>(ok && value.set_integer(i, narrow(input.integer(i))?))
            })?,
            CtlType::Integer64 => (0..n).try_fold(true, |ok, i| {
                Ok::<_, Error>(ok && value.set_integer64(i, input.integer64(i).ok_or(EINVAL)?))
            })?,
            CtlType::Enumerated => (0..n).try_fold(true, |ok, i| {
                Ok::<_, Error>(ok && value.set_enumerated(i, input.enumerated(i).ok_or(EINVAL)?))
            })?,
            CtlType::Bytes => {
                let src = input.bytes().get(..n).ok_or(EINVAL)?;
                value
                    .as_bytes_mut()
                    .get_mut(..n)
                    .ok_or(EINVAL)?
                    .copy_from_slice(src);
                true
            }
            CtlType::Iec958 => {
                let src = input.iec958();
                value
                    .as_bytes_mut()
                    .get_mut(..src.len())
                    .ok_or(EINVAL)?
                    .copy_from_slice(src);
                true
            }
        };
        if !set || e.info.check_value(&value).is_err() {
            return Err(EINVAL);
        }
        // ALSA reports a change only when the value changes.
        let bytes = e.info.value_bytes();
        let current = this.read(e)?;
        if current.as_bytes().get(..bytes) == value.as_bytes().get(..bytes) {
            return Ok(false);
        }
        this.io.ctl_request(&value.write_request(e.id), 0)?;
        Ok(true)
    }

    fn tlv(this: &Self, index: usize, op: TlvOp, buf: UserSlice, size: usize) -> Result {
        let e = this.elem(index)?;
        let code = match op {
            TlvOp::Read => {
                let want = size.min(CTL_TLV_HDR_SIZE + CTL_TLV_MAX_BYTES as usize);
                let payload = this
                    .io
                    .ctl_request(&ctl_hdr(ctl_code::TLV_READ, e.id), want)?;
                let tlv = CtlTlv::parse(&payload).map_err(|_| EIO)?;
                let value = tlv.value(&payload).map_err(|_| {
                    // The caller's buffer is too small for the whole metadata.
                    ENOMEM
                })?;
                let mut w = buf.writer();
                w.write_slice(&tlv.to_bytes())?;
                return w.write_slice(value);
            }
            TlvOp::Write => ctl_code::TLV_WRITE,
            TlvOp::Command => ctl_code::TLV_COMMAND,
        };
        if !(CTL_TLV_HDR_SIZE..=CTL_TLV_HDR_SIZE + CTL_TLV_MAX_BYTES as usize).contains(&size) {
            return Err(EINVAL);
        }
        let mut request = KVec::with_capacity(CTL_HDR_SIZE + size, GFP_KERNEL)?;
        request.extend_from_slice(&ctl_hdr(code, e.id), GFP_KERNEL)?;
        buf.read_all(&mut request, GFP_KERNEL)?;
        let tlv = request.get(CTL_HDR_SIZE..).ok_or(EINVAL)?;
        let header = CtlTlv::parse(tlv).map_err(|_| EINVAL)?;
        let end = CTL_HDR_SIZE + header.value(tlv).map_err(|_| EINVAL)?.len() + CTL_TLV_HDR_SIZE;
        request.truncate(end);
        this.io.ctl_request(&request, 0)?;
        Ok(())
    }
}
