// SPDX-License-Identifier: GPL-2.0
//! The device's model, free of any virtqueue: configuration, stream directions, the PCM
//! command state machine and the answers to the INFO queries. Unit-tested here.

use crate::proto::*;

/// How stream directions are assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// 0 output, 1 input, 2 output, ...
    Alternate,
    /// QEMU's virtio-sound-pci: the first ceil(n/2) streams output, the rest input.
    Split,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub jacks: u32,
    pub streams: u32,
    pub chmaps: u32,
    pub layout: Layout,
    /// PCM features offered in PCM_INFO (1 << VIRTIO_SND_PCM_F_*).
    pub pcm_features: u32,
    /// Control elements (config space `controls`; VIRTIO_SND_F_CTLS if not 0).
    pub controls: u32,
}

impl Config {
    pub fn direction(&self, stream_id: u32) -> u8 {
        match self.layout {
            Layout::Alternate => (stream_id % 2) as u8,
            Layout::Split => {
                if stream_id < self.streams / 2 + (self.streams & 1) {
                    D_OUTPUT
                } else {
                    D_INPUT
                }
            }
        }
    }

    /// Jack j and channel map c belong to the direction of stream j (c), or alternate when
    /// there are more of them than streams.
    pub fn item_direction(&self, id: u32) -> u8 {
        if id < self.streams {
            self.direction(id)
        } else {
            (id % 2) as u8
        }
    }

    /// virtio_snd_config: jacks, streams, chmaps, controls.
    pub fn config_space(&self) -> [u8; CONFIG_SIZE] {
        let mut b = [0u8; CONFIG_SIZE];
        b[0..4].copy_from_slice(&self.jacks.to_le_bytes());
        b[4..8].copy_from_slice(&self.streams.to_le_bytes());
        b[8..12].copy_from_slice(&self.chmaps.to_le_bytes());
        b[12..16].copy_from_slice(&self.controls.to_le_bytes());
        b
    }

    /// Bytes [offset, offset + size) of the config space, zero beyond its end.
    pub fn read_config(&self, offset: u32, size: u32) -> Vec<u8> {
        let cs = self.config_space();
        (offset as usize..offset as usize + size as usize)
            .map(|i| cs.get(i).copied().unwrap_or(0))
            .collect()
    }
}

/// PCM stream states of the spec's command lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PcmState {
    /// No SET_PARAMS yet (after reset).
    Initial,
    ParamsSet,
    Prepared,
    Running,
    Stopped,
    Released,
}

/// The spec's valid transitions (virtio 1.3, PCM command lifecycle):
/// SET_PARAMS from (initial), SET_PARAMS, PREPARE, RELEASE;
/// PREPARE from SET_PARAMS, PREPARE, RELEASE; START from PREPARE, STOP;
/// STOP from START; RELEASE from PREPARE, STOP.
pub fn next_state(cur: PcmState, op: &PcmOp) -> Option<PcmState> {
    use PcmState::*;
    match (op, cur) {
        (PcmOp::SetParams(_), Initial | ParamsSet | Prepared | Released) => Some(ParamsSet),
        (PcmOp::Prepare, ParamsSet | Prepared | Released) => Some(Prepared),
        (PcmOp::Start, Prepared | Stopped) => Some(Running),
        (PcmOp::Stop, Running) => Some(Stopped),
        (PcmOp::Release, Prepared | Stopped) => Some(Released),
        _ => None,
    }
}

/// Checks SET_PARAMS values against what the stream offers: NOT_SUPP for a format, rate,
/// channel count or feature it does not offer; BAD_MSG for inconsistent sizes.
pub fn check_params(p: &Params, offered: u32) -> Result<(), u32> {
    if p.channels < CHANNELS_MIN || p.channels > CHANNELS_MAX {
        return Err(S_NOT_SUPP);
    }
    if p.format >= 64 || SUPPORTED_FORMATS & (1 << p.format) == 0 {
        return Err(S_NOT_SUPP);
    }
    if p.rate >= 64 || SUPPORTED_RATES & (1 << p.rate) == 0 {
        return Err(S_NOT_SUPP);
    }
    if p.features & !offered != 0 {
        return Err(S_NOT_SUPP);
    }
    if p.period_bytes == 0 || p.buffer_bytes == 0 || !p.buffer_bytes.is_multiple_of(p.period_bytes)
    {
        return Err(S_BAD_MSG);
    }
    Ok(())
}

/// Control state of one stream.
#[derive(Clone, Debug)]
pub struct StreamCtl {
    pub direction: u8,
    /// Features offered in PCM_INFO: SET_PARAMS may select these only.
    pub offered: u32,
    pub state: PcmState,
    pub params: Option<Params>,
}

impl StreamCtl {
    pub fn new(direction: u8, offered: u32) -> Self {
        StreamCtl {
            direction,
            offered,
            state: PcmState::Initial,
            params: None,
        }
    }

    /// Applies one command: the new state, or the error status (state unchanged).
    pub fn apply(&mut self, op: &PcmOp) -> Result<PcmState, u32> {
        let next = next_state(self.state, op).ok_or(S_BAD_MSG)?;
        if let PcmOp::SetParams(p) = op {
            check_params(p, self.offered)?;
            self.params = Some(*p);
        }
        self.state = next;
        Ok(next)
    }

    /// Whether I/O messages are accepted: between PREPARE and RELEASE.
    pub fn accepts_io(&self) -> bool {
        matches!(
            self.state,
            PcmState::Prepared | PcmState::Running | PcmState::Stopped
        )
    }
}

/// Answers JACK_INFO, PCM_INFO and CHMAP_INFO. `resp_cap` is the size of the device-writable
/// part of the message; `jack_connected` is the current state of each jack.
pub fn answer_query(
    cfg: &Config,
    jack_connected: &[bool],
    code: u32,
    start_id: u32,
    count: u32,
    size: u32,
    resp_cap: usize,
) -> CtlReply {
    let (items, item_size) = match code {
        R_PCM_INFO => (cfg.streams, PCM_INFO_SIZE),
        R_JACK_INFO => (cfg.jacks, JACK_INFO_SIZE),
        R_CHMAP_INFO => (cfg.chmaps, CHMAP_INFO_SIZE),
        _ => return CtlReply::status(S_NOT_SUPP),
    };
    // A device with no jacks (channel maps) does not support their requests.
    if code != R_PCM_INFO && items == 0 {
        return CtlReply::status(S_NOT_SUPP);
    }
    let end = u64::from(start_id) + u64::from(count);
    if end > u64::from(items) || (size as usize) < item_size {
        return CtlReply::status(S_BAD_MSG);
    }
    let need = HDR_SIZE as u64 + u64::from(count) * u64::from(size);
    if need > resp_cap as u64 {
        return CtlReply::status(S_BAD_MSG);
    }
    let mut payload = vec![0u8; (need as usize) - HDR_SIZE];
    for (i, id) in (start_id..start_id + count).enumerate() {
        let off = i * size as usize;
        let dir = cfg.item_direction(id);
        let dst = &mut payload[off..off + item_size];
        match code {
            R_PCM_INFO => {
                dst.copy_from_slice(&encode_pcm_info(cfg.direction(id), cfg.pcm_features))
            }
            R_JACK_INFO => dst.copy_from_slice(&encode_jack_info(
                dir,
                jack_connected.get(id as usize).copied().unwrap_or(true),
            )),
            _ => dst.copy_from_slice(&encode_chmap_info(dir)),
        }
    }
    CtlReply {
        status: S_OK,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(streams: u32) -> Config {
        Config {
            jacks: 0,
            streams,
            chmaps: 0,
            layout: Layout::Alternate,
            pcm_features: 0,
            controls: 0,
        }
    }

    fn params() -> Params {
        Params {
            buffer_bytes: 4 * 1920,
            period_bytes: 1920,
            features: 0,
            channels: 2,
            format: FMT_S16,
            rate: 7,
        }
    }

    #[test]
    fn directions() {
        let c = cfg(4);
        assert_eq!(
            (0..4).map(|i| c.direction(i)).collect::<Vec<_>>(),
            [0, 1, 0, 1]
        );
        let s = Config {
            layout: Layout::Split,
            ..cfg(5)
        };
        assert_eq!(
            (0..5).map(|i| s.direction(i)).collect::<Vec<_>>(),
            [0, 0, 0, 1, 1]
        );
        let s2 = Config {
            layout: Layout::Split,
            ..cfg(2)
        };
        assert_eq!((0..2).map(|i| s2.direction(i)).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn config_space() {
        let c = Config {
            jacks: 1,
            streams: 2,
            chmaps: 3,
            layout: Layout::Alternate,
            pcm_features: 0,
            controls: 0,
        };
        assert_eq!(
            c.read_config(0, 16),
            [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(c.read_config(4, 4), [2, 0, 0, 0]);
        assert_eq!(c.read_config(12, 8), [0; 8]);
        let c = Config { controls: 13, ..c };
        assert_eq!(c.read_config(12, 4), [13, 0, 0, 0]);
        assert_eq!(c.read_config(8, 8), [3, 0, 0, 0, 13, 0, 0, 0]);
        assert_eq!(c.read_config(16, 4), [0; 4]);
    }

    #[test]
    fn lifecycle_happy_path() {
        let mut s = StreamCtl::new(D_OUTPUT, 0);
        assert!(!s.accepts_io());
        assert_eq!(
            s.apply(&PcmOp::SetParams(params())),
            Ok(PcmState::ParamsSet)
        );
        assert_eq!(s.apply(&PcmOp::Prepare), Ok(PcmState::Prepared));
        assert!(s.accepts_io());
        assert_eq!(s.apply(&PcmOp::Start), Ok(PcmState::Running));
        assert_eq!(s.apply(&PcmOp::Stop), Ok(PcmState::Stopped));
        assert_eq!(s.apply(&PcmOp::Start), Ok(PcmState::Running));
        assert_eq!(s.apply(&PcmOp::Stop), Ok(PcmState::Stopped));
        assert_eq!(s.apply(&PcmOp::Release), Ok(PcmState::Released));
        assert!(!s.accepts_io());
        assert_eq!(s.apply(&PcmOp::Prepare), Ok(PcmState::Prepared));
        assert_eq!(s.apply(&PcmOp::Release), Ok(PcmState::Released));
        assert_eq!(
            s.apply(&PcmOp::SetParams(params())),
            Ok(PcmState::ParamsSet)
        );
        assert_eq!(
            s.apply(&PcmOp::SetParams(params())),
            Ok(PcmState::ParamsSet)
        );
    }

    #[test]
    fn lifecycle_invalid_transitions() {
        use PcmState::*;
        let all = [Initial, ParamsSet, Prepared, Running, Stopped, Released];
        let ops = [
            PcmOp::SetParams(params()),
            PcmOp::Prepare,
            PcmOp::Start,
            PcmOp::Stop,
            PcmOp::Release,
        ];
        let mut valid = 0;
        for st in all {
            for op in &ops {
                let mut s = StreamCtl {
                    direction: 0,
                    offered: 0,
                    state: st,
                    params: Some(params()),
                };
                match s.apply(op) {
                    Ok(_) => valid += 1,
                    Err(e) => {
                        assert_eq!(e, S_BAD_MSG, "{st:?} {op:?}");
                        assert_eq!(s.state, st, "state must not change on error");
                    }
                }
            }
        }
        // 4 + 3 + 2 + 1 + 2 valid pairs.
        assert_eq!(valid, 12);
        assert_eq!(next_state(Initial, &PcmOp::Prepare), None);
        assert_eq!(next_state(Running, &PcmOp::Release), None);
        assert_eq!(next_state(Running, &PcmOp::SetParams(params())), None);
        assert_eq!(next_state(Stopped, &PcmOp::Prepare), None);
        assert_eq!(next_state(Prepared, &PcmOp::Stop), None);
    }

    #[test]
    fn set_params_validation() {
        let ok = params();
        assert_eq!(check_params(&ok, 0), Ok(()));
        for (p, want) in [
            (Params { channels: 0, ..ok }, S_NOT_SUPP),
            (Params { channels: 3, ..ok }, S_NOT_SUPP),
            (Params { format: 3, ..ok }, S_NOT_SUPP), // S8
            (Params { format: 200, ..ok }, S_NOT_SUPP),
            (Params { rate: 0, ..ok }, S_NOT_SUPP),  // 5512
            (Params { rate: 13, ..ok }, S_NOT_SUPP), // 384000
            (Params { rate: 99, ..ok }, S_NOT_SUPP),
            (
                Params {
                    features: 1 << 2,
                    ..ok
                },
                S_NOT_SUPP,
            ),
            (
                Params {
                    period_bytes: 0,
                    ..ok
                },
                S_BAD_MSG,
            ),
            (
                Params {
                    buffer_bytes: 1000,
                    ..ok
                },
                S_BAD_MSG,
            ),
        ] {
            assert_eq!(check_params(&p, 0), Err(want), "{p:?}");
            let mut s = StreamCtl::new(0, 0);
            assert_eq!(s.apply(&PcmOp::SetParams(p)), Err(want));
            assert_eq!(s.state, PcmState::Initial);
            assert_eq!(s.params, None);
        }
        for f in [FMT_U8, FMT_S16, FMT_S32, FMT_FLOAT] {
            for r in 1..=12 {
                assert_eq!(
                    check_params(
                        &Params {
                            format: f,
                            rate: r,
                            channels: 1,
                            ..ok
                        },
                        0
                    ),
                    Ok(())
                );
            }
        }
    }

    #[test]
    fn offered_features() {
        let xr = Params {
            features: 1 << PCM_F_EVT_XRUNS,
            ..params()
        };
        assert_eq!(check_params(&xr, 0), Err(S_NOT_SUPP));
        assert_eq!(check_params(&xr, 1 << PCM_F_EVT_XRUNS), Ok(()));
        let both = 1 << PCM_F_EVT_XRUNS | 1 << PCM_F_MSG_POLLING;
        assert_eq!(
            check_params(
                &Params {
                    features: 1 << PCM_F_SHMEM_HOST,
                    ..params()
                },
                both
            ),
            Err(S_NOT_SUPP)
        );
        let c = Config {
            pcm_features: both,
            ..cfg(1)
        };
        let r = answer_query(&c, &[], R_PCM_INFO, 0, 1, 32, 36);
        assert_eq!(r.payload[4..8], [20, 0, 0, 0]);
    }

    #[test]
    fn pcm_info_query() {
        let c = cfg(3);
        let r = answer_query(&c, &[], R_PCM_INFO, 0, 3, 32, 4 + 96);
        assert_eq!(r.status, S_OK);
        assert_eq!(r.payload.len(), 96);
        assert_eq!(r.payload[24], D_OUTPUT);
        assert_eq!(r.payload[32 + 24], D_INPUT);
        assert_eq!(r.payload[64 + 24], D_OUTPUT);
        // start_id / count honoured.
        let r = answer_query(&c, &[], R_PCM_INFO, 1, 1, 32, 64);
        assert_eq!(
            (r.status, r.payload.len(), r.payload[24]),
            (S_OK, 32, D_INPUT)
        );
        // A larger item size: stride = size, zero padded.
        let r = answer_query(&c, &[], R_PCM_INFO, 0, 2, 40, 4 + 80);
        assert_eq!(
            (r.status, r.payload.len(), r.payload[40 + 24]),
            (S_OK, 80, D_INPUT)
        );
        assert_eq!(r.payload[32..40], [0; 8]);
        // Out of range, overflowing, too small a size, too small a response buffer.
        for (s, n, sz, cap) in [
            (0, 4, 32, 1000),
            (3, 1, 32, 1000),
            (u32::MAX, 2, 32, 1000),
            (0, 1, 16, 1000),
            (0, 3, 32, 99),
        ] {
            assert_eq!(
                answer_query(&c, &[], R_PCM_INFO, s, n, sz, cap).status,
                S_BAD_MSG,
                "{s} {n} {sz} {cap}"
            );
        }
        // count 0 is a valid, empty query.
        assert_eq!(
            answer_query(&c, &[], R_PCM_INFO, 0, 0, 32, 4),
            CtlReply::status(S_OK)
        );
        // No streams: any non-empty query is out of range.
        assert_eq!(
            answer_query(&cfg(0), &[], R_PCM_INFO, 0, 1, 32, 100).status,
            S_BAD_MSG
        );
    }

    #[test]
    fn jack_and_chmap_queries() {
        let c = cfg(2);
        assert_eq!(
            answer_query(&c, &[], R_JACK_INFO, 0, 1, 24, 100).status,
            S_NOT_SUPP
        );
        assert_eq!(
            answer_query(&c, &[], R_CHMAP_INFO, 0, 0, 24, 100).status,
            S_NOT_SUPP
        );
        let c = Config {
            jacks: 2,
            chmaps: 2,
            ..cfg(2)
        };
        let r = answer_query(&c, &[true, false], R_JACK_INFO, 0, 2, 24, 100);
        assert_eq!(
            (r.status, r.payload.len(), r.payload[16], r.payload[24 + 16]),
            (S_OK, 48, 1, 0)
        );
        assert_eq!(
            answer_query(&c, &[], R_JACK_INFO, 1, 2, 24, 100).status,
            S_BAD_MSG
        );
        let r = answer_query(&c, &[], R_CHMAP_INFO, 1, 1, 24, 100);
        assert_eq!((r.status, r.payload[4], r.payload[5]), (S_OK, D_INPUT, 2));
    }
}
