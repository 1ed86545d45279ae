//! A quick run: one phase of a behaviour, described by flags or the TUI's form instead
//! of a YAML file. It is built as the loader's own `RawProfile`, written as YAML and loaded
//! through the same parser, so a quick run is checked like any profile, the YAML it writes
//! loads back identically, and a renamed key cannot drift between writing and reading.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use super::raw::{
    RawBehaviour, RawPhase, RawProfile, RawRecovery, RawRepoSize, RawServer, RawThresholds, RawValidity,
};
use super::types::{Profile, RepoSize, RepoSizeChoice};
use super::values::{
    BehaviourKey, BehaviourRef, Checked, Count, Millis, NonEmpty, PhaseName, PosDur, Positive, Probability,
    ProfileName, RawArrival, SuiteName,
};
use super::{BUILTIN_BEHAVIOURS, ProfileError, parse_str};

/// The suite (results folder) of a quick run.
pub const QUICK_SUITE: &str = "adhoc";
/// A quick run's duration when none is given.
pub const QUICK_DEFAULT_DURATION: Duration = Duration::from_secs(60);

/// How a quick run loads the target.
#[derive(Clone, Debug, PartialEq)]
pub enum QuickLoad {
    /// Closed model: users, started at `spawn_rate` per second (all at once when unset).
    Closed {
        /// The number of users.
        users: u32,
        /// Users started per second; `None`: all at once.
        spawn_rate: Option<f64>,
    },
    /// Open model: arrivals per second, at most `max_in_flight` outstanding (default 1000).
    Open {
        /// Arrivals per second.
        rate: f64,
        /// Most requests unanswered at once; `None`: 1000.
        max_in_flight: Option<u32>,
    },
}

/// Everything a quick run says; checked by [`QuickRun::to_yaml`].
#[derive(Clone, Debug, PartialEq)]
pub struct QuickRun {
    /// A built-in behaviour or one defined in `behaviours_yaml`.
    pub behaviour: String,
    /// Closed (users) or open (arrival rate) load.
    pub load: QuickLoad,
    /// How long the phase runs (before any `--time-scale`).
    pub duration: Duration,
    /// The repository size of the failures sent; `None`: the behaviour's default.
    pub repo_size: Option<RepoSizeChoice>,
    /// Sent with `/configure` before the phase (the server keeps what it has otherwise).
    pub server_latency_ms: Option<f64>,
    /// Share of failures the server answers with an injected error, in [0, 1]; `None`: not sent.
    pub server_failure_rate: Option<f64>,
}

impl QuickRun {
    /// A closed-model quick run of `behaviour` with defaults elsewhere.
    pub fn closed(behaviour: &str, users: u32) -> QuickRun {
        QuickRun {
            behaviour: behaviour.to_string(),
            load: QuickLoad::Closed { users, spawn_rate: None },
            duration: QUICK_DEFAULT_DURATION,
            repo_size: None,
            server_latency_ms: None,
            server_failure_rate: None,
        }
    }

    /// Checks every value and writes the profile YAML. `source` is the YAML text of a
    /// profile whose `behaviours:` may define `self.behaviour` (they are copied over).
    pub fn to_yaml(&self, source: Option<&str>) -> Result<String, ProfileError> {
        self.to_yaml_named(source, QUICK_SUITE)
    }

    /// [`QuickRun::to_yaml`] with the profile's `name:` set (a file written from the TUI).
    /// The profile is built as the loader's own `RawProfile` and serialised, so the keys
    /// written are the keys read.
    pub fn to_yaml_named(&self, source: Option<&str>, name: &str) -> Result<String, ProfileError> {
        let defined = source.map(defined_behaviours).transpose()?.unwrap_or_default();
        self.check_behaviour(&defined, source.is_none())?;
        if self.duration.is_zero() {
            return Err(ProfileError::new("--duration must be above zero, e.g. 30s"));
        }
        let profile = RawProfile {
            name: Some(ProfileName(name.to_string())),
            description: self.description(),
            pause_between_phases: None,
            lockstep_start: false,
            fail_on_request_errors: None,
            fail_on_invalid: false,
            validity: RawValidity::default(),
            recovery: RawRecovery::default(),
            thresholds: RawThresholds::default(),
            behaviours: defined,
            phases: Some(NonEmpty(vec![Checked(self.phase()?)])),
            capacity: None,
            headers: None,
            request_timeout: None,
            connect_timeout: None,
            configure_target: None,
        };
        let text = serde_yaml::to_string(&profile)
            .map_err(|e| ProfileError::new(format!("cannot write the quick run as YAML: {e}")))?;
        Ok(format!("# Written by terrafix-tui from a quick run; edit freely.\n{text}"))
    }

    fn description(&self) -> String {
        format!("Quick run of the {} behaviour.", self.behaviour)
    }

    /// The behaviour must be built in or defined by the named profile (`defined`).
    fn check_behaviour(
        &self,
        defined: &BTreeMap<BehaviourKey, RawBehaviour>,
        no_source: bool,
    ) -> Result<(), ProfileError> {
        let known_here = defined.keys().any(|k| k.0 == self.behaviour);
        if known_here || BUILTIN_BEHAVIOURS.contains(&self.behaviour.as_str()) {
            return Ok(());
        }
        let mut known: Vec<String> = BUILTIN_BEHAVIOURS.iter().map(|s| s.to_string()).collect();
        known.extend(defined.keys().map(|k| k.0.clone()));
        Err(ProfileError::new(format!(
            "--behaviour {:?}: no such behaviour; known: {}{}",
            self.behaviour,
            known.join(", "),
            if no_source { " (name a profile too to use the behaviours it defines)" } else { "" }
        )))
    }

    /// The one phase of the quick run.
    fn phase(&self) -> Result<RawPhase, ProfileError> {
        let mut phase = RawPhase {
            name: PhaseName(self.behaviour.clone()),
            suite: Some(SuiteName(QUICK_SUITE.to_string())),
            description: self.description(),
            behaviour: BehaviourRef(self.behaviour.clone()),
            users: None,
            spawn_rate: None,
            arrival_rate: None,
            max_in_flight: None,
            duration: PosDur(self.duration),
            repo_size: self.repo_size.map(raw_repo_size),
            server: self.server()?,
            thresholds: RawThresholds::default(),
            request_timeout: None,
            connect_timeout: None,
            faults: Vec::new(),
        };
        self.put_load(&mut phase)?;
        Ok(phase)
    }

    /// The load: users and spawn rate, or arrival rate and in-flight cap.
    fn put_load(&self, phase: &mut RawPhase) -> Result<(), ProfileError> {
        match self.load {
            QuickLoad::Closed { users, spawn_rate } => {
                let Some(users) = NonZeroU32::new(users) else {
                    return Err(ProfileError::new("--users 0: a phase needs at least one user"));
                };
                phase.users = Some(Count(users));
                if let Some(rate) = spawn_rate {
                    positive("--spawn-rate", rate, "users started per second, e.g. 5")?;
                    phase.spawn_rate = Some(Positive(rate));
                }
            }
            QuickLoad::Open { rate, max_in_flight } => {
                positive("--arrival-rate", rate, "requests per second, e.g. 100")?;
                phase.arrival_rate = Some(RawArrival { from: rate, to: rate });
                let Some(cap) = NonZeroU32::new(max_in_flight.unwrap_or(1000)) else {
                    return Err(ProfileError::new(
                        "--max-in-flight 0: allow at least one outstanding request",
                    ));
                };
                phase.max_in_flight = Some(Count(cap));
            }
        }
        Ok(())
    }

    /// The server settings, checked; empty when the quick run sets none.
    fn server(&self) -> Result<RawServer, ProfileError> {
        super::overrides::check_server_flags(self.server_latency_ms, self.server_failure_rate)?;
        Ok(RawServer {
            latency_ms: self.server_latency_ms.map(Millis),
            failure_rate: self.server_failure_rate.map(Probability),
            ..RawServer::default()
        })
    }

    /// The quick run as a validated profile.
    pub fn to_profile(&self, source: Option<&str>) -> Result<Profile, ProfileError> {
        let yaml = self.to_yaml(source)?;
        parse_str(&yaml, QUICK_SUITE, "quick run")
    }
}

fn positive(flag: &str, value: f64, example: &str) -> Result<(), ProfileError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ProfileError::new(format!("{flag} {value}: must be above zero ({example})")))
    }
}

/// The behaviours a profile's YAML defines (none when it has no `behaviours:`), read by the
/// loader's own types so they are written back in the form they are read.
fn defined_behaviours(text: &str) -> Result<BTreeMap<BehaviourKey, RawBehaviour>, ProfileError> {
    /// The one part of a profile a quick run takes from it; the rest is not read here.
    #[derive(serde::Deserialize)]
    struct Behaviours {
        #[serde(default)]
        behaviours: BTreeMap<BehaviourKey, RawBehaviour>,
    }
    let read: Behaviours = serde_yaml::from_str(text)
        .map_err(|e| ProfileError::new(format!("cannot read the profile's behaviours: {e}")))?;
    Ok(read.behaviours)
}

/// The loader's word for a repository size.
fn raw_repo_size(choice: RepoSizeChoice) -> RawRepoSize {
    match choice {
        RepoSizeChoice::Fixed(RepoSize::Small) => RawRepoSize::Small,
        RepoSizeChoice::Fixed(RepoSize::Medium) => RawRepoSize::Medium,
        RepoSizeChoice::Fixed(RepoSize::Large) => RawRepoSize::Large,
        RepoSizeChoice::Mixed => RawRepoSize::Mixed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::types::{Load, RepoSize};

    #[test]
    fn closed_quick_run_is_one_adhoc_phase() {
        let mut quick = QuickRun::closed("burst", 30);
        quick.load = QuickLoad::Closed { users: 30, spawn_rate: Some(5.0) };
        quick.duration = Duration::from_secs(600);
        quick.repo_size = Some(RepoSizeChoice::Fixed(RepoSize::Large));
        quick.server_latency_ms = Some(50.0);
        let profile = quick.to_profile(None).unwrap();
        assert_eq!(profile.name, "adhoc");
        assert_eq!(profile.phases.len(), 1);
        let phase = &profile.phases[0];
        assert_eq!((phase.name.as_str(), phase.suite.as_str()), ("burst", "adhoc"));
        assert_eq!(phase.behaviour.name, "burst");
        assert_eq!(phase.load, Load::Closed { users: 30.try_into().unwrap(), spawn_rate_per_s: 5.0 });
        assert_eq!(phase.duration, Duration::from_secs(600));
        assert_eq!(phase.repo_size, RepoSizeChoice::Fixed(RepoSize::Large));
        assert_eq!(phase.server.latency_ms, Some(50.0));
    }

    #[test]
    fn open_quick_run_and_profile_defined_behaviour() {
        let source = "behaviours:\n  pinger:\n    tasks:\n      - { kind: health, name: \"/health [p]\" }\nphases:\n  - { name: x, behaviour: pinger, users: 1, duration: 1s }\n";
        let quick = QuickRun {
            load: QuickLoad::Open { rate: 150.0, max_in_flight: Some(20) },
            ..QuickRun::closed("pinger", 1)
        };
        let profile = quick.to_profile(Some(source)).unwrap();
        let phase = &profile.phases[0];
        assert_eq!(phase.behaviour.tasks[0].name, "/health [p]");
        assert_eq!(
            phase.load,
            Load::Open {
                rate_from_per_s: 150.0,
                rate_to_per_s: 150.0,
                max_in_flight: 20.try_into().unwrap()
            }
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_named() {
        let unknown = QuickRun::closed("nope", 1).to_yaml(None).unwrap_err().to_string();
        assert!(unknown.contains("--behaviour") && unknown.contains("burst, resilience"), "{unknown}");
        let zero = QuickRun::closed("burst", 0).to_yaml(None).unwrap_err().to_string();
        assert!(zero.contains("--users 0"), "{zero}");
        let rate = QuickRun {
            load: QuickLoad::Open { rate: -1.0, max_in_flight: None },
            ..QuickRun::closed("burst", 1)
        };
        assert!(rate.to_yaml(None).unwrap_err().to_string().contains("--arrival-rate"));
        let spawn = QuickRun {
            load: QuickLoad::Closed { users: 2, spawn_rate: Some(f64::NAN) },
            ..QuickRun::closed("burst", 1)
        };
        assert!(spawn.to_yaml(None).unwrap_err().to_string().contains("--spawn-rate"));
        let failure = QuickRun { server_failure_rate: Some(1.5), ..QuickRun::closed("burst", 1) };
        assert!(failure.to_yaml(None).unwrap_err().to_string().contains("--server-failure-rate"));
    }

    #[test]
    fn written_yaml_loads_back_identically() {
        let quick = QuickRun {
            load: QuickLoad::Closed { users: 7, spawn_rate: Some(2.5) },
            duration: Duration::from_millis(90_500),
            repo_size: Some(RepoSizeChoice::Mixed),
            server_failure_rate: Some(0.1),
            ..QuickRun::closed("cascade", 7)
        };
        let yaml = quick.to_yaml(None).unwrap();
        let a = parse_str(&yaml, "adhoc", "a").unwrap();
        let again = parse_str(&yaml, "adhoc", "b").unwrap();
        assert_eq!(format!("{:?}", a.phases), format!("{:?}", again.phases));
        assert_eq!(a.phases[0].duration, Duration::from_millis(90_500));
        assert_eq!(a.phases[0].server.failure_rate, Some(0.1));
    }
    /// The YAML a quick run writes loads to the same profile as the same run typed by hand:
    /// every key the quick run sets is one the loader reads, with the meaning it reads.
    #[test]
    fn quick_yaml_round_trips_to_the_profile_written_by_hand() {
        let quick = QuickRun {
            load: QuickLoad::Closed { users: 7, spawn_rate: Some(2.5) },
            duration: Duration::from_millis(90_500),
            repo_size: Some(RepoSizeChoice::Mixed),
            server_latency_ms: Some(50.0),
            server_failure_rate: Some(0.1),
            ..QuickRun::closed("cascade", 7)
        };
        let by_hand = "name: adhoc\ndescription: Quick run of the cascade behaviour.\nphases:\n  - name: cascade\n    suite: adhoc\n    description: Quick run of the cascade behaviour.\n    behaviour: cascade\n    users: 7\n    spawn_rate: 2.5\n    duration: 1m30.5s\n    repo_size: mixed\n    server: { latency_ms: 50, failure_rate: 0.1 }\n";
        let expected = parse_str(by_hand, QUICK_SUITE, "quick run").unwrap();
        assert_eq!(format!("{:?}", quick.to_profile(None).unwrap()), format!("{expected:?}"));

        let open = QuickRun {
            load: QuickLoad::Open { rate: 40.0, max_in_flight: None },
            ..QuickRun::closed("burst", 1)
        };
        let by_hand = "name: adhoc\ndescription: Quick run of the burst behaviour.\nphases:\n  - { name: burst, suite: adhoc, description: Quick run of the burst behaviour., behaviour: burst, arrival_rate: 40, max_in_flight: 1000, duration: 1m }\n";
        let expected = parse_str(by_hand, QUICK_SUITE, "quick run").unwrap();
        assert_eq!(format!("{:?}", open.to_profile(None).unwrap()), format!("{expected:?}"));
    }

    /// A behaviour the quick run takes from a profile is written back in a form that loads
    /// to the same behaviour: waits, retries, batch ranges and task headers included.
    #[test]
    fn behaviours_taken_from_a_profile_load_back_the_same() {
        let source = "behaviours:\n  careful:\n    wait: { between: { min: 100ms, max: 300ms } }\n    retry: { max_attempts: 3, on: [429, 503, timeout], backoff: { base: 200ms, cap: 2s } }\n    tasks:\n      - { kind: batch, size: 2..=5, weight: 2, name: \"/batch[{n}]\" }\n      - { kind: webhook, headers: { X-Team: team-core } }\n  paced:\n    wait: { constant_throughput: 2 }\n    tasks: [{ kind: health }]\n  waves:\n    wait: cascade\n    tasks: [{ kind: batch, size: cascade }]\nphases:\n  - { name: a, behaviour: careful, users: 1, duration: 1s }\n  - { name: b, behaviour: paced, users: 1, duration: 1s }\n  - { name: c, behaviour: waves, users: 1, duration: 1s }\n";
        let original = parse_str(source, "src", "src").unwrap();
        for phase in &original.phases {
            let quick = QuickRun::closed(&phase.behaviour.name, 1);
            let written = quick.to_profile(Some(source)).unwrap();
            assert_eq!(format!("{:?}", written.phases[0].behaviour), format!("{:?}", phase.behaviour));
        }
    }
}
