//! Live steering of a running phase: what can be asked (`Steer`) and how the closed
//! population and the open schedule learn about it (a `watch` of the target each).
//! The phase loop receives requests, applies what fits the phase's model and records it.

use std::time::Duration;

use tokio::sync::broadcast;

use crate::metrics::summary::{ChangeSource, PhaseChange};

/// A change asked for while a phase runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Steer {
    /// Closed model: start or stop users (at the phase's spawn rate) until this many run.
    Users(u32),
    /// Open model: arrivals per second from now on.
    ArrivalRate(f64),
    /// Lengthens the current phase.
    Extend(Duration),
}

/// A steering request and who made it (recorded with the change).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SteerRequest {
    /// What to change.
    pub steer: Steer,
    /// Who asked: the TUI, a control API client or an attached TUI.
    pub source: ChangeSource,
}

impl From<Steer> for SteerRequest {
    /// A request from the TUI that runs the experiment (the default source).
    fn from(steer: Steer) -> SteerRequest {
        SteerRequest { steer, source: ChangeSource::default() }
    }
}

/// The receiving end a phase reads steering from. A broadcast, so each phase subscribes
/// when it starts and a request made between phases reaches none of them.
pub type SteerReceiver = broadcast::Receiver<SteerRequest>;

/// Why a steering request was not applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SteerRefused {
    /// A user count asked of an open-model phase.
    #[error("users can only be changed in a closed-model phase (this one has an arrival rate)")]
    UsersInOpenPhase,
    /// An arrival rate asked of a closed-model phase.
    #[error("the arrival rate can only be changed in an open-model phase (this one has users)")]
    RateInClosedPhase,
    /// Zero users asked.
    #[error("a phase needs at least one user")]
    NoUsers,
    /// A rate that is zero, negative or not a number.
    #[error("an arrival rate must be a positive number of requests per second")]
    BadRate,
    /// An extension of zero (or less).
    #[error("a phase can only be extended by a positive time")]
    NoTime,
}

/// The record of an applied change, `at` from the phase's start.
pub fn change_record(at: Duration, asked: SteerRequest) -> PhaseChange {
    let mut change = PhaseChange { at_s: at.as_secs_f64(), source: Some(asked.source), ..Default::default() };
    match asked.steer {
        Steer::Users(n) => change.users = Some(n),
        Steer::ArrivalRate(r) => change.arrival_rate = Some(r),
        Steer::Extend(d) => change.extended_by_s = Some(d.as_secs_f64()),
    }
    change
}
