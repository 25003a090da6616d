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

/// What CHMAP_INFO describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChmapLayout {
    /// `--chmaps N`: N stereo (FL FR) maps. Map c has the direction and the nid of stream c;
    /// past the last stream, directions alternate and map c is on nid c % nids.
    Stereo,
    /// `--chmaps standard`: for every nid and direction that has streams, ALSA's standard
    /// maps (`snd_pcm_std_chmaps`) up to `channels_max` channels: MONO; FL FR; FL FR RL RR;
    /// 5.1 (FL FR RL RR FC LFE); 7.1 (5.1 SL SR); and past 8 channels one more map of
    /// min(channels_max, 18) channels (7.1 RC FLC FRC RLC RRC FLW FRW FLH FCH FRH).
    /// `chmaps` is the number of them ([`Config::standard_chmaps`]).
    Standard,
}

/// One channel map of CHMAP_INFO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chmap {
    pub nid: u32,
    pub direction: u8,
    pub positions: Vec<u8>,
}

const STD_MONO: [u8; 1] = [CHMAP_MONO];
const STD_STEREO: [u8; 2] = [CHMAP_FL, CHMAP_FR];
const STD_QUAD: [u8; 4] = [CHMAP_FL, CHMAP_FR, CHMAP_RL, CHMAP_RR];
const STD_51: [u8; 6] = [CHMAP_FL, CHMAP_FR, CHMAP_RL, CHMAP_RR, CHMAP_FC, CHMAP_LFE];
const STD_71: [u8; 8] = [
    CHMAP_FL, CHMAP_FR, CHMAP_RL, CHMAP_RR, CHMAP_FC, CHMAP_LFE, CHMAP_SL, CHMAP_SR,
];
/// Past 8 channels: 7.1, then the other positions of the spec up to its 18.
const WIDE: [u8; CHMAP_MAX_SIZE] = [
    CHMAP_FL, CHMAP_FR, CHMAP_RL, CHMAP_RR, CHMAP_FC, CHMAP_LFE, CHMAP_SL, CHMAP_SR, CHMAP_RC,
    CHMAP_FLC, CHMAP_FRC, CHMAP_RLC, CHMAP_RRC, CHMAP_FLW, CHMAP_FRW, CHMAP_FLH, CHMAP_FCH,
    CHMAP_FRH,
];

/// The standard maps of a stream of up to `channels_max` channels (see
/// [`ChmapLayout::Standard`]).
pub fn standard_positions(channels_max: u8) -> Vec<&'static [u8]> {
    let mut v: Vec<&'static [u8]> = [&STD_MONO[..], &STD_STEREO, &STD_QUAD, &STD_51, &STD_71]
        .into_iter()
        .filter(|m| m.len() <= usize::from(channels_max))
        .collect();
    if channels_max > 8 {
        v.push(&WIDE[..usize::from(channels_max).min(CHMAP_MAX_SIZE)]);
    }
    v
}

#[derive(Clone, Debug)]
pub struct Config {
    pub jacks: u32,
    /// `--jack-remap`: every jack offers VIRTIO_SND_JACK_F_REMAP (JACK_REMAP is answered).
    pub jack_remap: bool,
    pub streams: u32,
    pub chmaps: u32,
    pub layout: Layout,
    /// PCM features offered in PCM_INFO (1 << VIRTIO_SND_PCM_F_*).
    pub pcm_features: u32,
    /// Control elements (config space `controls`; VIRTIO_SND_F_CTLS if not 0).
    pub controls: u32,
    /// `--reset-controls`: a driver reset puts every control element's value back to its
    /// initial value (without it the values survive a reset).
    pub reset_controls: bool,
    /// HDA function nodes the streams are spread over (at least 1; see [`Config::nid`]).
    pub nids: u32,
    /// PCM_INFO channels_max of every stream (channels_min is 1).
    pub channels_max: u8,
    pub chmap_layout: ChmapLayout,
    /// Sample formats offered in PCM_INFO (1 << VIRTIO_SND_PCM_FMT_*; `--formats`).
    pub formats: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            jacks: 0,
            jack_remap: false,
            streams: 2,
            chmaps: 0,
            layout: Layout::Alternate,
            pcm_features: 0,
            controls: 0,
            reset_controls: false,
            nids: 1,
            channels_max: DEFAULT_CHANNELS_MAX,
            chmap_layout: ChmapLayout::Stereo,
            formats: SUPPORTED_FORMATS,
        }
    }
}

impl Config {
    /// The HDA function node of a stream: the streams are cut into `nids` contiguous blocks
    /// of nearly equal size, stream i on nid floor(i * nids / streams). With the alternate
    /// layout and an even number of streams per nid, every nid has both directions; nids
    /// are 0..nids-1 and increase with the stream id, so that the ALSA device numbers of
    /// the Rust driver (one per nid, in order of first appearance) and of the C driver (the
    /// nid itself) agree.
    pub fn nid(&self, stream_id: u32) -> u32 {
        if self.streams == 0 {
            return 0;
        }
        (u64::from(stream_id) * u64::from(self.nids.max(1)) / u64::from(self.streams)) as u32
    }

    /// Jack j and stereo channel map c belong to the nid of stream j (c), or to nid j % nids
    /// when there are more of them than streams.
    pub fn item_nid(&self, id: u32) -> u32 {
        if id < self.streams {
            self.nid(id)
        } else {
            id % self.nids.max(1)
        }
    }

    /// A jack as the device starts: connected, association 1, sequence 0, F_REMAP with
    /// `--jack-remap`.
    pub fn initial_jack(&self) -> JackInfo {
        JackInfo {
            features: if self.jack_remap {
                1 << JACK_F_REMAP
            } else {
                0
            },
            connected: true,
            association: JACK_INITIAL_ASSOCIATION,
            sequence: JACK_INITIAL_SEQUENCE,
        }
    }

    /// The state of every jack as the device starts.
    pub fn initial_jacks(&self) -> Vec<JackInfo> {
        vec![self.initial_jack(); self.jacks as usize]
    }

    /// The control state of a stream at reset.
    pub fn stream_ctl(&self, stream_id: u32) -> StreamCtl {
        StreamCtl {
            formats: self.formats,
            ..StreamCtl::new(
                self.direction(stream_id),
                self.pcm_features,
                self.channels_max,
            )
        }
    }

    /// The maps of [`ChmapLayout::Standard`]: nid by nid, output then input, the standard
    /// maps of each pair that has streams.
    pub fn standard_chmaps(&self) -> Vec<Chmap> {
        let mut out = Vec::new();
        for nid in 0..self.nids.max(1) {
            for direction in [D_OUTPUT, D_INPUT] {
                if !(0..self.streams).any(|s| self.nid(s) == nid && self.direction(s) == direction)
                {
                    continue;
                }
                for m in standard_positions(self.channels_max) {
                    out.push(Chmap {
                        nid,
                        direction,
                        positions: m.to_vec(),
                    });
                }
            }
        }
        out
    }

    /// The `chmaps` channel maps CHMAP_INFO describes.
    pub fn chmap_list(&self) -> Vec<Chmap> {
        let std = match self.chmap_layout {
            ChmapLayout::Standard => self.standard_chmaps(),
            ChmapLayout::Stereo => Vec::new(),
        };
        (0..self.chmaps)
            .map(|id| {
                std.get(id as usize).cloned().unwrap_or_else(|| Chmap {
                    nid: self.item_nid(id),
                    direction: self.item_direction(id),
                    positions: STD_STEREO.to_vec(),
                })
            })
            .collect()
    }

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
/// channel count or feature it does not offer (`formats`: the formats offered); BAD_MSG for
/// inconsistent sizes.
pub fn check_params(p: &Params, offered: u32, channels_max: u8, formats: u64) -> Result<(), u32> {
    if p.channels < CHANNELS_MIN || p.channels > channels_max {
        return Err(S_NOT_SUPP);
    }
    if p.format >= 64 || formats & SUPPORTED_FORMATS & (1 << p.format) == 0 {
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
    /// PCM_INFO channels_max: SET_PARAMS may select 1..=channels_max channels.
    pub channels_max: u8,
    /// Formats offered in PCM_INFO: SET_PARAMS may select these only.
    pub formats: u64,
    pub state: PcmState,
    pub params: Option<Params>,
}

impl StreamCtl {
    pub fn new(direction: u8, offered: u32, channels_max: u8) -> Self {
        StreamCtl {
            direction,
            offered,
            channels_max,
            formats: SUPPORTED_FORMATS,
            state: PcmState::Initial,
            params: None,
        }
    }

    /// Applies one command: the new state, or the error status (state unchanged).
    pub fn apply(&mut self, op: &PcmOp) -> Result<PcmState, u32> {
        let next = next_state(self.state, op).ok_or(S_BAD_MSG)?;
        if let PcmOp::SetParams(p) = op {
            check_params(p, self.offered, self.channels_max, self.formats)?;
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

/// Applies JACK_REMAP to `jacks` (the current state of each jack): NOT_SUPP if the device
/// has no jacks or the jack lacks VIRTIO_SND_JACK_F_REMAP, BAD_MSG for a jack out of range
/// or an association or sequence that does not fit its 4 bits of `hda_reg_defconf`. On
/// error nothing changes; the error comes with the reason, for the log.
pub fn remap_jack(
    cfg: &Config,
    jacks: &mut [JackInfo],
    jack_id: u32,
    association: u32,
    sequence: u32,
) -> Result<(), (u32, String)> {
    if cfg.jacks == 0 {
        return Err((S_NOT_SUPP, "the device has no jacks".into()));
    }
    let jack = match jacks.get_mut(jack_id as usize) {
        Some(j) if jack_id < cfg.jacks => j,
        _ => {
            return Err((
                S_BAD_MSG,
                format!("jack {jack_id} out of range ({} jacks)", cfg.jacks),
            ))
        }
    };
    if jack.features & (1 << JACK_F_REMAP) == 0 {
        return Err((
            S_NOT_SUPP,
            format!("jack {jack_id} lacks VIRTIO_SND_JACK_F_REMAP (no --jack-remap)"),
        ));
    }
    if association > DEFCONF_FIELD_MAX || sequence > DEFCONF_FIELD_MAX {
        return Err((
            S_BAD_MSG,
            format!(
                "association {association} / sequence {sequence} do not fit 4 bits (0..{DEFCONF_FIELD_MAX})"
            ),
        ));
    }
    // Both fit 4 bits: checked above.
    jack.association = association as u8;
    jack.sequence = sequence as u8;
    Ok(())
}

/// A driver reset: every jack gets its initial association and sequence back (it stays
/// connected or not). True if a jack had been remapped.
pub fn reset_jack_maps(jacks: &mut [JackInfo]) -> bool {
    let mut changed = false;
    for j in jacks {
        changed |= (j.association, j.sequence) != (JACK_INITIAL_ASSOCIATION, JACK_INITIAL_SEQUENCE);
        j.association = JACK_INITIAL_ASSOCIATION;
        j.sequence = JACK_INITIAL_SEQUENCE;
    }
    changed
}

/// Answers JACK_INFO, PCM_INFO and CHMAP_INFO. `resp_cap` is the size of the device-writable
/// part of the message; `jacks` is the current state of each jack (a missing one is taken
/// as it starts, [`Config::initial_jack`]).
pub fn answer_query(
    cfg: &Config,
    jacks: &[JackInfo],
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
    let maps = if code == R_CHMAP_INFO {
        cfg.chmap_list()
    } else {
        Vec::new()
    };
    for (i, id) in (start_id..start_id + count).enumerate() {
        let off = i * size as usize;
        let dst = &mut payload[off..off + item_size];
        match code {
            R_PCM_INFO => dst.copy_from_slice(&encode_pcm_info(
                cfg.nid(id),
                cfg.direction(id),
                cfg.pcm_features,
                cfg.formats,
                cfg.channels_max,
            )),
            R_JACK_INFO => dst.copy_from_slice(&encode_jack_info(
                cfg.item_nid(id),
                cfg.item_direction(id),
                &jacks
                    .get(id as usize)
                    .copied()
                    .unwrap_or_else(|| cfg.initial_jack()),
            )),
            _ => {
                let m = &maps[id as usize];
                dst.copy_from_slice(&encode_chmap_info(m.nid, m.direction, &m.positions))
            }
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
            streams,
            ..Config::default()
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
            ..Config::default()
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
        let mut s = StreamCtl::new(D_OUTPUT, 0, 2);
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
                    channels_max: 2,
                    formats: SUPPORTED_FORMATS,
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
        assert_eq!(check_params(&ok, 0, 2, SUPPORTED_FORMATS), Ok(()));
        for (p, want) in [
            (Params { channels: 0, ..ok }, S_NOT_SUPP),
            (Params { channels: 3, ..ok }, S_NOT_SUPP),
            (Params { format: 13, ..ok }, S_NOT_SUPP), // S20
            (Params { format: 21, ..ok }, S_NOT_SUPP), // DSD_U8
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
            assert_eq!(
                check_params(&p, 0, 2, SUPPORTED_FORMATS),
                Err(want),
                "{p:?}"
            );
            let mut s = StreamCtl::new(0, 0, 2);
            assert_eq!(s.apply(&PcmOp::SetParams(p)), Err(want));
            assert_eq!(s.state, PcmState::Initial);
            assert_eq!(s.params, None);
        }
        for &(f, _) in &FORMATS {
            for r in 1..=12 {
                assert_eq!(
                    check_params(
                        &Params {
                            format: f,
                            rate: r,
                            channels: 1,
                            ..ok
                        },
                        0,
                        2,
                        SUPPORTED_FORMATS
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
        assert_eq!(check_params(&xr, 0, 2, SUPPORTED_FORMATS), Err(S_NOT_SUPP));
        assert_eq!(
            check_params(&xr, 1 << PCM_F_EVT_XRUNS, 2, SUPPORTED_FORMATS),
            Ok(())
        );
        let both = 1 << PCM_F_EVT_XRUNS | 1 << PCM_F_MSG_POLLING;
        assert_eq!(
            check_params(
                &Params {
                    features: 1 << PCM_F_SHMEM_HOST,
                    ..params()
                },
                both,
                2,
                SUPPORTED_FORMATS
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
    fn offered_formats() {
        // Every format by default; `--formats` restricts PCM_INFO and SET_PARAMS.
        let r = answer_query(&cfg(1), &[], R_PCM_INFO, 0, 1, 32, 36);
        assert_eq!(le64(&r.payload, 8), Some(SUPPORTED_FORMATS));
        let c = Config {
            formats: 1 << FMT_S16 | 1 << FMT_S24_3,
            ..cfg(2)
        };
        let r = answer_query(&c, &[], R_PCM_INFO, 0, 2, 32, 68);
        assert_eq!(le64(&r.payload, 8), Some(c.formats));
        assert_eq!(le64(&r.payload, 40), Some(c.formats));
        for (format, want) in [
            (FMT_S16, Ok(PcmState::ParamsSet)),
            (FMT_S24_3, Ok(PcmState::ParamsSet)),
            (FMT_U8, Err(S_NOT_SUPP)),
            (FMT_FLOAT64, Err(S_NOT_SUPP)),
        ] {
            let mut s = c.stream_ctl(0);
            let p = Params { format, ..params() };
            assert_eq!(s.apply(&PcmOp::SetParams(p)), want, "{format}");
        }
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
        let mut jacks = c.initial_jacks();
        jacks[1].connected = false;
        let r = answer_query(&c, &jacks, R_JACK_INFO, 0, 2, 24, 100);
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
        // The defaults (one nid, `--chmaps 2`): a stereo FL FR map per direction, nid 0.
        let r = answer_query(&c, &[], R_CHMAP_INFO, 0, 2, 24, 100);
        assert_eq!(
            r.payload[..8],
            [0, 0, 0, 0, D_OUTPUT, 2, CHMAP_FL, CHMAP_FR]
        );
        assert_eq!(
            r.payload[24..32],
            [0, 0, 0, 0, D_INPUT, 2, CHMAP_FL, CHMAP_FR]
        );
        assert_eq!(r.payload[8..24], [0; 16]);
    }

    /// `hda_reg_defconf` of jack `id` in a JACK_INFO answer for every jack.
    fn defconfs(c: &Config, jacks: &[JackInfo]) -> Vec<u32> {
        let r = answer_query(
            c,
            jacks,
            R_JACK_INFO,
            0,
            c.jacks,
            24,
            4 + 24 * c.jacks as usize,
        );
        assert_eq!(r.status, S_OK);
        (0..c.jacks as usize)
            .map(|i| le32(&r.payload, i * 24 + 8).unwrap_or(0))
            .collect()
    }

    #[test]
    fn jack_features() {
        // Without --jack-remap: features 0 (as before), with it: F_REMAP on every jack.
        let c = Config { jacks: 3, ..cfg(2) };
        let r = answer_query(&c, &c.initial_jacks(), R_JACK_INFO, 0, 3, 24, 4 + 72);
        assert!((0..3).all(|i| r.payload[i * 24 + 4..i * 24 + 8] == [0; 4]));
        let c = Config {
            jack_remap: true,
            ..c
        };
        for jacks in [c.initial_jacks(), Vec::new()] {
            let r = answer_query(&c, &jacks, R_JACK_INFO, 0, 3, 24, 4 + 72);
            assert!(
                (0..3).all(|i| r.payload[i * 24 + 4..i * 24 + 8] == [1, 0, 0, 0]),
                "{jacks:?}"
            );
        }
        // Initial defconf: association 1, sequence 0.
        assert_eq!(
            defconfs(&c, &c.initial_jacks()),
            [0x0101_4010, 0x0181_3010, 0x0101_4010]
        );
    }

    #[test]
    fn jack_remap_errors() {
        let remap = Config {
            jacks: 2,
            jack_remap: true,
            ..cfg(2)
        };
        let plain = Config {
            jack_remap: false,
            ..remap.clone()
        };
        let none = Config {
            jacks: 0,
            ..remap.clone()
        };
        for (c, id, a, s, want) in [
            // No jacks: NOT_SUPP, whatever the jack id or values.
            (&none, 0, 1, 0, S_NOT_SUPP),
            (&none, 5, 99, 0, S_NOT_SUPP),
            // Jack out of range.
            (&remap, 2, 1, 0, S_BAD_MSG),
            (&remap, u32::MAX, 1, 0, S_BAD_MSG),
            (&plain, 2, 1, 0, S_BAD_MSG),
            // No F_REMAP (no --jack-remap): NOT_SUPP, even for values that would fit.
            (&plain, 0, 2, 5, S_NOT_SUPP),
            (&plain, 1, 16, 0, S_NOT_SUPP),
            // Association or sequence outside 4 bits.
            (&remap, 0, 16, 0, S_BAD_MSG),
            (&remap, 0, 0, 16, S_BAD_MSG),
            (&remap, 1, u32::MAX, 3, S_BAD_MSG),
            (&remap, 1, 3, 0x8000_0000, S_BAD_MSG),
        ] {
            let mut jacks = c.initial_jacks();
            let before = jacks.clone();
            let r = remap_jack(c, &mut jacks, id, a, s);
            assert_eq!(
                r.map_err(|e| e.0),
                Err(want),
                "jacks {} remap {} jack {id} assoc {a} seq {s}",
                c.jacks,
                c.jack_remap
            );
            assert_eq!(jacks, before, "nothing changes on error");
        }
        // A state vector shorter than the config (never in the device) does not panic.
        assert_eq!(
            remap_jack(&remap, &mut [], 0, 1, 1).map_err(|e| e.0),
            Err(S_BAD_MSG)
        );
    }

    #[test]
    fn jack_info_reflects_remap_until_reset() {
        let c = Config {
            jacks: 3,
            jack_remap: true,
            ..cfg(2)
        };
        let mut jacks = c.initial_jacks();
        jacks[2].connected = false;
        let initial = defconfs(&c, &jacks);
        assert_eq!(initial, [0x0101_4010, 0x0181_3010, 0x0101_4010]);
        assert_eq!(remap_jack(&c, &mut jacks, 1, 2, 5), Ok(()));
        assert_eq!((jacks[1].association, jacks[1].sequence), (2, 5));
        // Only jack 1's bits 7:4 and 3:0 change.
        assert_eq!(
            defconfs(&c, &jacks),
            [0x0101_4010, 0x0181_3025, 0x0101_4010]
        );
        // The limits, and 0.
        assert_eq!(remap_jack(&c, &mut jacks, 0, 15, 15), Ok(()));
        assert_eq!(remap_jack(&c, &mut jacks, 2, 0, 0), Ok(()));
        assert_eq!(
            defconfs(&c, &jacks),
            [0x0101_40ff, 0x0181_3025, 0x0101_4000]
        );
        // A bad remap leaves the earlier one in place.
        assert!(remap_jack(&c, &mut jacks, 1, 16, 1).is_err());
        assert_eq!(defconfs(&c, &jacks)[1], 0x0181_3025);
        // The rest of JACK_INFO is untouched: features, caps (output), connected.
        let r = answer_query(&c, &jacks, R_JACK_INFO, 2, 1, 24, 28);
        assert_eq!(r.payload[4..8], [1, 0, 0, 0]);
        assert_eq!(r.payload[12..17], [0x14, 0, 0, 0, 0]);
        // A reset restores association 1, sequence 0 and keeps the connection state.
        assert!(reset_jack_maps(&mut jacks));
        assert_eq!(defconfs(&c, &jacks), initial);
        assert!(!jacks[2].connected);
        assert!(!reset_jack_maps(&mut jacks));
    }

    #[test]
    fn nids_spread_in_blocks() {
        let nids = |streams, nids| {
            let c = Config {
                nids,
                ..cfg(streams)
            };
            (0..streams).map(|i| c.nid(i)).collect::<Vec<_>>()
        };
        assert_eq!(nids(4, 1), [0, 0, 0, 0]);
        assert_eq!(nids(4, 2), [0, 0, 1, 1]);
        assert_eq!(nids(6, 3), [0, 0, 1, 1, 2, 2]);
        // Uneven: every nid gets a stream, blocks differ by one at most.
        assert_eq!(nids(5, 4), [0, 0, 1, 2, 3]);
        assert_eq!(nids(5, 2), [0, 0, 0, 1, 1]);
        assert_eq!(nids(3, 3), [0, 1, 2]);
        assert_eq!(Config { nids: 2, ..cfg(0) }.nid(0), 0);
        // Jacks and stereo maps past the last stream: nid id % nids.
        let c = Config { nids: 2, ..cfg(4) };
        assert_eq!(
            (0..7).map(|i| c.item_nid(i)).collect::<Vec<_>>(),
            [0, 0, 1, 1, 0, 1, 0]
        );
    }

    #[test]
    fn pcm_info_nid_and_channels() {
        let c = Config {
            nids: 2,
            channels_max: 6,
            ..cfg(4)
        };
        let r = answer_query(&c, &[], R_PCM_INFO, 0, 4, 32, 4 + 128);
        assert_eq!(r.status, S_OK);
        for (i, (nid, dir)) in [(0, D_OUTPUT), (0, D_INPUT), (1, D_OUTPUT), (1, D_INPUT)]
            .into_iter()
            .enumerate()
        {
            let b = &r.payload[i * 32..(i + 1) * 32];
            assert_eq!(b[..4], [nid, 0, 0, 0], "stream {i}");
            assert_eq!(b[24..27], [dir, 1, 6], "stream {i}");
        }
        // Jacks follow the streams' nids.
        let c = Config { jacks: 4, ..c };
        let r = answer_query(&c, &[], R_JACK_INFO, 0, 4, 24, 4 + 96);
        assert_eq!(
            (0..4).map(|i| r.payload[i * 24]).collect::<Vec<_>>(),
            [0, 0, 1, 1]
        );
    }

    #[test]
    fn channels_max_params() {
        for cmax in [1u8, 2, 6, 8, 18, 255] {
            let c = Config {
                channels_max: cmax,
                ..cfg(2)
            };
            for ch in [0u8, 1, 2, 3, 6, 7, 8, 9, 255] {
                let mut s = c.stream_ctl(0);
                let p = Params {
                    channels: ch,
                    ..params()
                };
                let want = if (1..=cmax).contains(&ch) {
                    Ok(PcmState::ParamsSet)
                } else {
                    Err(S_NOT_SUPP)
                };
                assert_eq!(
                    s.apply(&PcmOp::SetParams(p)),
                    want,
                    "max {cmax} channels {ch}"
                );
            }
        }
        // The frame size follows the channels: 6 x S16 at 48 kHz is 576000 bytes/s.
        let p = Params {
            channels: 6,
            ..params()
        };
        assert_eq!((p.frame_bytes(), p.bytes_per_sec()), (12, 576000));
        let p = Params {
            channels: 255,
            format: FMT_S32,
            ..params()
        };
        assert_eq!(p.frame_bytes(), 1020);
    }

    #[test]
    fn standard_maps() {
        let n = |c| {
            standard_positions(c)
                .iter()
                .map(|m| m.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(n(1), [1]);
        assert_eq!(n(2), [1, 2]);
        assert_eq!(n(5), [1, 2, 4]);
        assert_eq!(n(6), [1, 2, 4, 6]);
        assert_eq!(n(8), [1, 2, 4, 6, 8]);
        assert_eq!(n(9), [1, 2, 4, 6, 8, 9]);
        assert_eq!(n(16), [1, 2, 4, 6, 8, 16]);
        assert_eq!(n(255), [1, 2, 4, 6, 8, 18]);
        let p = standard_positions(255);
        assert_eq!(p[0], [CHMAP_MONO]);
        assert_eq!(p[1], [CHMAP_FL, CHMAP_FR]);
        assert_eq!(p[2], [CHMAP_FL, CHMAP_FR, CHMAP_RL, CHMAP_RR]);
        // ALSA's numbers: FL=3 FR=4 RL=5 RR=6 FC=7 LFE=8 SL=9 SR=10.
        assert_eq!(p[3], [3, 4, 5, 6, 7, 8]);
        assert_eq!(p[4], [3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(p[5][8..], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        // Positions are never repeated within a map.
        for m in &p {
            let mut v = m.to_vec();
            v.sort();
            v.dedup();
            assert_eq!(v.len(), m.len());
        }
    }

    #[test]
    fn standard_chmaps_per_nid_and_direction() {
        let c = Config {
            nids: 2,
            channels_max: 6,
            chmap_layout: ChmapLayout::Standard,
            ..cfg(4)
        };
        let maps = c.standard_chmaps();
        assert_eq!(maps.len(), 16);
        let pairs: Vec<_> = maps.iter().map(|m| (m.nid, m.direction)).collect();
        for (k, want) in [(0, D_OUTPUT), (0, D_INPUT), (1, D_OUTPUT), (1, D_INPUT)]
            .into_iter()
            .enumerate()
        {
            assert_eq!(pairs[k * 4..k * 4 + 4], [want; 4]);
            assert_eq!(
                maps[k * 4..k * 4 + 4]
                    .iter()
                    .map(|m| m.positions.len())
                    .collect::<Vec<_>>(),
                [1, 2, 4, 6]
            );
        }
        // CHMAP_INFO with chmaps set as main does: the 5.1 map of nid 1, output (map 11).
        let c = Config { chmaps: 16, ..c };
        assert_eq!(c.chmap_list(), maps);
        let r = answer_query(&c, &[], R_CHMAP_INFO, 11, 1, 24, 100);
        assert_eq!(
            (r.status, &r.payload[..12]),
            (S_OK, &[1, 0, 0, 0, D_OUTPUT, 6, 3, 4, 5, 6, 7, 8][..])
        );
        assert_eq!(r.payload[12..24], [0; 12]);
        let r = answer_query(&c, &[], R_CHMAP_INFO, 0, 16, 24, 4 + 16 * 24);
        assert_eq!((r.status, r.payload.len()), (S_OK, 16 * 24));
        assert_eq!(
            answer_query(&c, &[], R_CHMAP_INFO, 0, 17, 24, 1000).status,
            S_BAD_MSG
        );
        // Only the pairs that have streams: split layout, nid 0 out, nid 1 in.
        let s = Config {
            layout: Layout::Split,
            channels_max: 2,
            ..c.clone()
        };
        let pairs: Vec<_> = s
            .standard_chmaps()
            .iter()
            .map(|m| (m.nid, m.direction, m.positions.len()))
            .collect();
        assert_eq!(
            pairs,
            [
                (0, D_OUTPUT, 1),
                (0, D_OUTPUT, 2),
                (1, D_INPUT, 1),
                (1, D_INPUT, 2)
            ]
        );
        // One output stream: mono and stereo, output only.
        let o = Config { nids: 1, ..cfg(1) };
        assert_eq!(o.standard_chmaps().len(), 2);
        assert!(o.standard_chmaps().iter().all(|m| m.direction == D_OUTPUT));
    }

    #[test]
    fn stereo_chmaps_follow_the_streams() {
        let c = Config {
            nids: 2,
            chmaps: 6,
            channels_max: 8,
            ..cfg(4)
        };
        let v: Vec<_> = c
            .chmap_list()
            .into_iter()
            .map(|m| (m.nid, m.direction, m.positions))
            .collect();
        let st = vec![CHMAP_FL, CHMAP_FR];
        assert_eq!(
            v,
            [
                (0, D_OUTPUT, st.clone()),
                (0, D_INPUT, st.clone()),
                (1, D_OUTPUT, st.clone()),
                (1, D_INPUT, st.clone()),
                (0, D_OUTPUT, st.clone()),
                (1, D_INPUT, st),
            ]
        );
    }
}
