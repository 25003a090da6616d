// SPDX-License-Identifier: GPL-2.0

//! Jacks: discovery with `JACK_INFO`, one ALSA jack per device jack, and plug events.
//!
//! Each jack gets a detection control ("Headphone Jack", ...) and an input device, typed
//! and named from its HDA pin default configuration. `VIRTIO_SND_EVT_JACK_*` events report
//! plugging from the event queue's callback.

use super::VirtioSnd;
use crate::{
    alsa::{
        card::Card,
        jack::Jacks, //
    },
    spec::{
        info::{
            JackInfo,
            JACK_INFO_SIZE, //
        },
        wire,
    },
};
use kernel::{
    prelude::*,
    sync::Arc, //
};

/// The card's jacks, and which of them each device jack ID is.
pub(super) struct JackMap {
    jacks: Arc<Jacks>,
    /// Index in `jacks` by device jack ID (`None`: unusable description).
    by_id: KVec<Option<usize>>,
}

impl JackMap {
    /// Reports device jack `id` plugged or unplugged (interrupt context).
    pub(super) fn report(&self, snd: &VirtioSnd, id: u32, plugged: bool) {
        match self.by_id.get(id as usize) {
            Some(Some(index)) => {
                self.jacks.report(*index, plugged);
            }
            Some(None) => {}
            None => dev_warn!(
                snd.dev.as_ref(),
                "jack event for jack {}, which does not exist\n",
                id
            ),
        }
    }
}

/// Asks the device for its jacks and creates them on `card` (before it is registered),
/// each with its current state.
pub(super) fn register(snd: &VirtioSnd, card: &Card) -> Result<JackMap> {
    let mut by_id = KVec::new();
    let jacks = card.jacks();
    snd.query_info(
        "JACK_INFO",
        wire::code::JACK_INFO,
        snd.config.jacks,
        JACK_INFO_SIZE,
        |id, chunk| {
            let index = match JackInfo::parse(chunk) {
                Ok(info) => {
                    let index = card.add_jack(info.name(), info.jack_type())?;
                    jacks.report(index, info.connected);
                    Some(index)
                }
                Err(e) => {
                    dev_warn!(
                        snd.dev.as_ref(),
                        "jack {}: unusable JACK_INFO ({:?}), skipped\n",
                        id,
                        e
                    );
                    None
                }
            };
            by_id.push(index, GFP_KERNEL)?;
            Ok(())
        },
    )?;
    Ok(JackMap { jacks, by_id })
}
