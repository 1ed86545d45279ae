//! A quick run: one phase of a behaviour, described by flags or the TUI's form instead
//! of a YAML file. It is turned into profile YAML and loaded through the same parser, so
//! a quick run is checked like any profile and the YAML it writes loads back identically.

use std::time::Duration;

use super::types::{Profile, RepoSizeChoice};
use super::{BUILTIN_BEHAVIOURS, ProfileError, format_duration, parse_str};

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
    pub fn to_yaml_named(&self, source: Option<&str>, name: &str) -> Result<String, ProfileError> {
        let defined = source.map(defined_behaviours).transpose()?.unwrap_or_default();
        self.check_behaviour(&defined, source.is_none())?;
        if self.duration.is_zero() {
            return Err(ProfileError::new("--duration must be above zero, e.g. 30s"));
        }
        let phase = self.phase_yaml()?;
        let mut profile = serde_yaml::Mapping::new();
        profile.insert("name".into(), name.into());
        profile
            .insert("description".into(), format!("Quick run of the {} behaviour.", self.behaviour).into());
        if !defined.is_empty() {
            profile.insert("behaviours".into(), serde_yaml::Value::Mapping(defined));
        }
        profile.insert("phases".into(), vec![serde_yaml::Value::Mapping(phase)].into());
        let text = serde_yaml::to_string(&profile)
            .map_err(|e| ProfileError::new(format!("cannot write the quick run as YAML: {e}")))?;
        Ok(format!("# Written by terrafix-tui from a quick run; edit freely.\n{text}"))
    }

    /// The behaviour must be built in or defined by the named profile (`defined`).
    fn check_behaviour(&self, defined: &serde_yaml::Mapping, no_source: bool) -> Result<(), ProfileError> {
        let known_here = defined.iter().any(|(k, _)| k.as_str() == Some(self.behaviour.as_str()));
        if known_here || BUILTIN_BEHAVIOURS.contains(&self.behaviour.as_str()) {
            return Ok(());
        }
        let mut known: Vec<String> = BUILTIN_BEHAVIOURS.iter().map(|s| s.to_string()).collect();
        known.extend(defined.iter().filter_map(|(k, _)| k.as_str().map(str::to_string)));
        Err(ProfileError::new(format!(
            "--behaviour {:?}: no such behaviour; known: {}{}",
            self.behaviour,
            known.join(", "),
            if no_source { " (name a profile too to use the behaviours it defines)" } else { "" }
        )))
    }

    /// The one phase of the quick run, its keys in the order a profile file writes them.
    fn phase_yaml(&self) -> Result<serde_yaml::Mapping, ProfileError> {
        let mut phase = serde_yaml::Mapping::new();
        phase.insert("name".into(), self.behaviour.clone().into());
        phase.insert("suite".into(), QUICK_SUITE.into());
        phase.insert("description".into(), format!("Quick run of the {} behaviour.", self.behaviour).into());
        phase.insert("behaviour".into(), self.behaviour.clone().into());
        self.put_load(&mut phase)?;
        phase.insert("duration".into(), format_duration(self.duration).into());
        if let Some(size) = self.repo_size {
            phase.insert("repo_size".into(), size.label().into());
        }
        if let Some(server) = self.server_yaml()? {
            phase.insert("server".into(), server.into());
        }
        Ok(phase)
    }

    /// The load keys: users and spawn rate, or arrival rate and in-flight cap.
    fn put_load(&self, phase: &mut serde_yaml::Mapping) -> Result<(), ProfileError> {
        match self.load {
            QuickLoad::Closed { users, spawn_rate } => {
                if users == 0 {
                    return Err(ProfileError::new("--users 0: a phase needs at least one user"));
                }
                phase.insert("users".into(), users.into());
                if let Some(rate) = spawn_rate {
                    positive("--spawn-rate", rate, "users started per second, e.g. 5")?;
                    phase.insert("spawn_rate".into(), rate.into());
                }
            }
            QuickLoad::Open { rate, max_in_flight } => {
                positive("--arrival-rate", rate, "requests per second, e.g. 100")?;
                phase.insert("arrival_rate".into(), rate.into());
                let cap = match max_in_flight {
                    Some(0) => {
                        return Err(ProfileError::new(
                            "--max-in-flight 0: allow at least one outstanding request",
                        ));
                    }
                    Some(m) => m,
                    None => 1000,
                };
                phase.insert("max_in_flight".into(), cap.into());
            }
        }
        Ok(())
    }

    /// The server settings, checked; `None` when the quick run sets none.
    fn server_yaml(&self) -> Result<Option<serde_yaml::Mapping>, ProfileError> {
        super::overrides::check_server_flags(self.server_latency_ms, self.server_failure_rate)?;
        let mut server = serde_yaml::Mapping::new();
        if let Some(ms) = self.server_latency_ms {
            server.insert("latency_ms".into(), ms.into());
        }
        if let Some(rate) = self.server_failure_rate {
            server.insert("failure_rate".into(), rate.into());
        }
        Ok((!server.is_empty()).then_some(server))
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

/// The `behaviours:` mapping of a profile's YAML (empty when it has none).
fn defined_behaviours(text: &str) -> Result<serde_yaml::Mapping, ProfileError> {
    let value: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|e| ProfileError::new(format!("cannot read the profile's behaviours: {e}")))?;
    Ok(value.get("behaviours").and_then(|b| b.as_mapping()).cloned().unwrap_or_default())
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
}
