// SPDX-License-Identifier: GPL-2.0

//! The device-side life cycle of a PCM stream, and the requests that ALSA's callbacks need.
//!
//! The spec's state machine: `SET_PARAMS` → `PREPARE` → `START` ⇄ `STOP` → `RELEASE`, where
//! `SET_PARAMS` is also valid after `PREPARE` and `RELEASE`, and `PREPARE` after `RELEASE`.

/// Where a stream stands on the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum State {
    /// No parameters set yet (or the device was reset).
    #[default]
    Idle,
    ParamsSet,
    Prepared,
    Running,
    Stopped,
    Released,
}

/// A stream request (`VIRTIO_SND_R_PCM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    SetParams,
    Prepare,
    Start,
    Stop,
    Release,
}

impl Request {
    /// The request code on the wire.
    pub(crate) fn code(self) -> u32 {
        use super::wire::code;
        match self {
            Self::SetParams => code::PCM_SET_PARAMS,
            Self::Prepare => code::PCM_PREPARE,
            Self::Start => code::PCM_START,
            Self::Stop => code::PCM_STOP,
            Self::Release => code::PCM_RELEASE,
        }
    }
}

/// A request that the spec does not allow in the stream's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) state: State,
    pub(crate) request: Request,
}

impl State {
    /// The state after `request` succeeds, if the spec allows it now.
    pub(crate) fn apply(self, request: Request) -> Result<State, Invalid> {
        use Request as R;
        use State as S;
        let next = match (self, request) {
            (S::Idle | S::ParamsSet | S::Prepared | S::Released, R::SetParams) => S::ParamsSet,
            (S::ParamsSet | S::Prepared | S::Released, R::Prepare) => S::Prepared,
            (S::Prepared | S::Stopped, R::Start) => S::Running,
            (S::Running, R::Stop) => S::Stopped,
            (S::Prepared | S::Stopped, R::Release) => S::Released,
            (state, request) => return Err(Invalid { state, request }),
        };
        Ok(next)
    }

    /// Whether the device may hold I/O messages of the stream.
    pub(crate) fn may_hold_io(self) -> bool {
        matches!(self, Self::Prepared | Self::Running | Self::Stopped)
    }
}

/// Up to three requests, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    steps: [Option<Request>; 3],
}

impl Plan {
    fn of(steps: &[Request]) -> Self {
        let mut p = Self::default();
        for (slot, &r) in p.steps.iter_mut().zip(steps) {
            *slot = Some(r);
        }
        p
    }

    /// The requests, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Request> + '_ {
        self.steps.iter().flatten().copied()
    }
}

/// Requests for ALSA's `hw_params`: new parameters, releasing the old I/O first.
///
/// A stream that still runs on the device (its asynchronous STOP was lost) is stopped first.
pub(crate) fn plan_hw_params(state: State) -> Result<Plan, Invalid> {
    match state {
        State::Running => Ok(Plan::of(&[
            Request::Stop,
            Request::Release,
            Request::SetParams,
        ])),
        State::Stopped => Ok(Plan::of(&[Request::Release, Request::SetParams])),
        _ => Ok(Plan::of(&[Request::SetParams])),
    }
}

/// Requests for ALSA's `prepare`: a fresh start position, with no I/O left on the device.
///
/// ALSA only prepares a stream after `hw_params`: a stream that is `Idle` then lost its
/// parameters in a device reset (a system sleep), and they are sent again.
pub(crate) fn plan_prepare(state: State) -> Result<Plan, Invalid> {
    match state {
        State::Idle => Ok(Plan::of(&[Request::SetParams, Request::Prepare])),
        State::Running => Ok(Plan::of(&[
            Request::Stop,
            Request::Release,
            Request::Prepare,
        ])),
        State::Prepared | State::Stopped => Ok(Plan::of(&[Request::Release, Request::Prepare])),
        State::ParamsSet | State::Released => Ok(Plan::of(&[Request::Prepare])),
    }
}

/// Requests that bring a stream back to where it stood (`before`) when the device was reset
/// for a system sleep, now that the device is `Idle`: its parameters, and if it was
/// prepared (or ran since), a fresh `PREPARE`, so that ALSA's `RESUME` trigger can start it.
pub(crate) fn plan_resume(before: State) -> Plan {
    match before {
        State::Idle => Plan::default(),
        State::ParamsSet | State::Released => Plan::of(&[Request::SetParams]),
        State::Prepared | State::Running | State::Stopped => {
            Plan::of(&[Request::SetParams, Request::Prepare])
        }
    }
}

/// Requests for ALSA's `hw_free` and `sync_stop`: give back every I/O message.
pub(crate) fn plan_release(state: State) -> Plan {
    match state {
        State::Prepared | State::Stopped => Plan::of(&[Request::Release]),
        State::Running => Plan::of(&[Request::Stop, Request::Release]),
        _ => Plan::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Request as R;
    use State as S;

    const ALL_STATES: [State; 6] = [
        S::Idle,
        S::ParamsSet,
        S::Prepared,
        S::Running,
        S::Stopped,
        S::Released,
    ];

    /// Runs a plan on the spec's state machine; every step must be allowed.
    fn run(mut s: State, plan: Plan) -> State {
        for r in plan.iter() {
            s = s.apply(r).unwrap_or_else(|e| panic!("{e:?}"));
        }
        s
    }

    #[test]
    fn the_spec_lifecycle() {
        let mut s = S::Idle;
        for r in [
            R::SetParams,
            R::Prepare,
            R::Start,
            R::Stop,
            R::Start,
            R::Stop,
            R::Release,
        ] {
            s = s.apply(r).unwrap();
        }
        assert_eq!(s, S::Released);
        assert_eq!(
            S::Idle.apply(R::Start),
            Err(Invalid {
                state: S::Idle,
                request: R::Start
            })
        );
        assert!(S::Running.apply(R::Release).is_err());
        assert!(S::Running.apply(R::SetParams).is_err());
        assert!(S::Stopped.apply(R::Prepare).is_err());
    }

    #[test]
    fn plans_are_valid_from_every_state() {
        for s in ALL_STATES {
            let p = plan_hw_params(s).unwrap();
            assert_eq!(run(s, p), S::ParamsSet);
            assert_eq!(run(s, plan_prepare(s).unwrap()), S::Prepared);
            let after = run(s, plan_release(s));
            assert!(!after.may_hold_io(), "{s:?} -> {after:?} still holds I/O");
        }
    }

    #[test]
    fn resume_brings_back_what_the_reset_lost() {
        for before in ALL_STATES {
            // The device was reset: every stream starts from `Idle` again.
            let after = run(S::Idle, plan_resume(before));
            let expected = match before {
                S::Idle => S::Idle,
                S::ParamsSet | S::Released => S::ParamsSet,
                S::Prepared | S::Running | S::Stopped => S::Prepared,
            };
            assert_eq!(after, expected, "from {before:?}");
            // ALSA's next step is valid: RESUME (START) for a stream that was prepared,
            // `prepare` and `hw_params` for any.
            if before.may_hold_io() {
                assert!(after.apply(R::Start).is_ok());
            }
            assert!(plan_prepare(after).is_ok());
            assert!(plan_hw_params(after).is_ok());
        }
    }

    #[test]
    fn codes() {
        assert_eq!(R::SetParams.code(), 0x101);
        assert_eq!(R::Release.code(), 0x103);
        assert_eq!(R::Stop.code(), 0x105);
    }
}
