//! The Profiles screen's "new run" form (`n`): one phase of a behaviour, without YAML.
//! Plain data and checks; the form's keys are in `update::quick`, its drawing in `view`.

use std::time::Duration;

use crate::experiment::Target;
use crate::profile::{
    BUILTIN_BEHAVIOURS, QUICK_DEFAULT_DURATION, QuickLoad, QuickRun, RepoSize, RepoSizeChoice,
    format_duration, parse_duration,
};

use super::state::TargetChoice;

/// A row of the form. Which rows show depends on the model and the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuickField {
    /// Which behaviour the phase runs (built-in or from a profile).
    Behaviour,
    /// Closed model (users) or open model (arrival rate).
    Model,
    /// Users of the closed model, a whole number.
    Users,
    /// Users started per second while ramping up.
    SpawnRate,
    /// Arrivals per second of the open model.
    ArrivalRate,
    /// The open model's cap on requests outstanding at once.
    MaxInFlight,
    /// The phase's length (`30s`, `5m`).
    Duration,
    /// Repository size of the failures sent (the behaviour's default, small, medium, large, mixed).
    RepoSize,
    /// The server's base latency in ms (empty: its current setting).
    ServerLatency,
    /// The server's injected failure rate in [0, 1] (empty: its current setting).
    FailureRate,
    /// Where the load goes (embedded, docker, URL).
    Target,
    /// The target's base URL, shown only when the target is URL.
    Url,
}

impl QuickField {
    /// The row's caption in the form.
    pub fn label(self) -> &'static str {
        match self {
            QuickField::Behaviour => "behaviour",
            QuickField::Model => "model",
            QuickField::Users => "users",
            QuickField::SpawnRate => "spawn rate /s",
            QuickField::ArrivalRate => "arrivals /s",
            QuickField::MaxInFlight => "max in flight",
            QuickField::Duration => "duration",
            QuickField::RepoSize => "repo size",
            QuickField::ServerLatency => "server latency ms",
            QuickField::FailureRate => "failure rate 0-1",
            QuickField::Target => "target",
            QuickField::Url => "URL",
        }
    }

    /// Cycled with ←→ / space rather than typed.
    pub fn is_choice(self) -> bool {
        matches!(self, QuickField::Behaviour | QuickField::Model | QuickField::RepoSize | QuickField::Target)
    }
}

/// A behaviour offered by the form; `defined_in` names the profile that defines it
/// (`None` for the built-in ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BehaviourChoice {
    /// The behaviour's name.
    pub name: String,
    /// The profile that defines it; `None` for a built-in one.
    pub defined_in: Option<String>,
}

/// Repository sizes in the order ←→ cycles them; `None` is the profile default (medium).
const REPO_SIZES: [Option<RepoSizeChoice>; 5] = [
    None,
    Some(RepoSizeChoice::Fixed(RepoSize::Small)),
    Some(RepoSizeChoice::Fixed(RepoSize::Medium)),
    Some(RepoSizeChoice::Fixed(RepoSize::Large)),
    Some(RepoSizeChoice::Mixed),
];

/// The new-run form as typed: text fields are checked on Enter or `w`, and the errors are shown beside their rows.
#[derive(Clone, Debug, PartialEq)]
pub struct QuickForm {
    /// Behaviours offered: the built-in ones, then those of the loaded profiles.
    pub behaviours: Vec<BehaviourChoice>,
    /// The chosen behaviour, an index into `behaviours`.
    pub behaviour: usize,
    /// Open model (arrival rate) instead of closed (users).
    pub open: bool,
    /// Users of the closed model (default 10).
    pub users: String,
    /// Users started per second (default 5).
    pub spawn_rate: String,
    /// Arrivals per second of the open model (default 50).
    pub arrival_rate: String,
    /// Cap on requests in flight in the open model (default 1000).
    pub max_in_flight: String,
    /// The phase's length (default `QUICK_DEFAULT_DURATION`).
    pub duration: String,
    repo_size: usize,
    /// Server latency in ms; empty leaves the server's setting.
    pub server_latency_ms: String,
    /// Failure rate in [0, 1]; empty leaves the server's setting.
    pub failure_rate: String,
    /// Where the load goes.
    pub target: TargetChoice,
    /// The target's base URL when the target is URL.
    pub url: String,
    /// Index into `fields()`.
    pub cursor: usize,
    /// The focused text field's cursor: each field starts selected when focused, so typing
    /// replaces its value (`8s` over `1m` is 8 s, never `1m8s`).
    pub caret: crate::tui::edit::Caret,
    /// Problems found by the last Enter or `w`, shown beside their fields.
    pub errors: Vec<(QuickField, String)>,
}

/// What the form asks for, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct QuickChoice {
    /// The one phase to run: behaviour, load and duration.
    pub quick: QuickRun,
    /// The profile defining the behaviour, read when the run starts; `None` for a built-in one.
    pub defined_in: Option<String>,
    /// Where the load goes, resolved.
    pub target: Target,
}

impl QuickForm {
    /// A form offering the built-in behaviours and `extra` (from the loaded profiles).
    pub fn new(extra: Vec<BehaviourChoice>, target: TargetChoice, url: &str) -> QuickForm {
        let mut behaviours: Vec<BehaviourChoice> = BUILTIN_BEHAVIOURS
            .iter()
            .map(|n| BehaviourChoice { name: n.to_string(), defined_in: None })
            .collect();
        for choice in extra {
            if !behaviours.iter().any(|b| b.name == choice.name) {
                behaviours.push(choice);
            }
        }
        QuickForm {
            behaviours,
            behaviour: 0,
            open: false,
            users: "10".into(),
            spawn_rate: "5".into(),
            arrival_rate: "50".into(),
            max_in_flight: "1000".into(),
            duration: format_duration(QUICK_DEFAULT_DURATION),
            repo_size: 0,
            server_latency_ms: String::new(),
            failure_rate: String::new(),
            target,
            url: url.to_string(),
            cursor: 0,
            caret: crate::tui::edit::Caret::prefilled(),
            errors: Vec::new(),
        }
    }

    /// The rows shown now, in order.
    pub fn fields(&self) -> Vec<QuickField> {
        use QuickField::*;
        let mut fields = vec![Behaviour, Model];
        if self.open {
            fields.extend([ArrivalRate, MaxInFlight]);
        } else {
            fields.extend([Users, SpawnRate]);
        }
        fields.extend([Duration, RepoSize, ServerLatency, FailureRate, Target]);
        if self.target == TargetChoice::Url {
            fields.push(Url);
        }
        fields
    }

    /// The row under the cursor (the last one if the cursor is past it).
    pub fn current(&self) -> QuickField {
        let fields = self.fields();
        fields[self.cursor.min(fields.len() - 1)]
    }

    /// What a row shows.
    pub fn text(&self, field: QuickField) -> String {
        match field {
            QuickField::Behaviour => {
                let b = &self.behaviours[self.behaviour.min(self.behaviours.len() - 1)];
                match &b.defined_in {
                    Some(profile) => format!("{} (from {profile})", b.name),
                    None => b.name.clone(),
                }
            }
            QuickField::Model => {
                if self.open {
                    "open (arrival rate)".into()
                } else {
                    "closed (users)".into()
                }
            }
            QuickField::RepoSize => {
                REPO_SIZES[self.repo_size].map_or("default (medium)".into(), |s| s.label().into())
            }
            QuickField::Target => self.target.label().into(),
            other => self.text_of(other).cloned().unwrap_or_default(),
        }
    }

    fn text_of(&self, field: QuickField) -> Option<&String> {
        Some(match field {
            QuickField::Users => &self.users,
            QuickField::SpawnRate => &self.spawn_rate,
            QuickField::ArrivalRate => &self.arrival_rate,
            QuickField::MaxInFlight => &self.max_in_flight,
            QuickField::Duration => &self.duration,
            QuickField::ServerLatency => &self.server_latency_ms,
            QuickField::FailureRate => &self.failure_rate,
            QuickField::Url => &self.url,
            _ => return None,
        })
    }

    /// The text of the focused row when it is typed into.
    pub fn typed_mut(&mut self) -> Option<&mut String> {
        Some(match self.current() {
            QuickField::Users => &mut self.users,
            QuickField::SpawnRate => &mut self.spawn_rate,
            QuickField::ArrivalRate => &mut self.arrival_rate,
            QuickField::MaxInFlight => &mut self.max_in_flight,
            QuickField::Duration => &mut self.duration,
            QuickField::ServerLatency => &mut self.server_latency_ms,
            QuickField::FailureRate => &mut self.failure_rate,
            QuickField::Url => &mut self.url,
            _ => return None,
        })
    }

    /// ←→ / space on a choice row: the next (`forward`) or previous choice.
    pub fn cycle(&mut self, forward: bool) {
        let step = |i: &mut usize, n: usize| *i = if forward { (*i + 1) % n } else { (*i + n - 1) % n };
        match self.current() {
            QuickField::Behaviour => step(&mut self.behaviour, self.behaviours.len()),
            QuickField::Model => self.open = !self.open,
            QuickField::RepoSize => step(&mut self.repo_size, REPO_SIZES.len()),
            QuickField::Target => {
                self.target = if forward { self.target.next() } else { self.target.next().next() }
            }
            _ => {}
        }
        self.cursor = self.cursor.min(self.fields().len() - 1);
    }

    /// The error shown beside `field`, if any.
    pub fn error(&self, field: QuickField) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, e)| e.as_str())
    }

    /// Checks every shown field; all problems at once, each beside its field.
    pub fn check(&self) -> Result<QuickChoice, Vec<(QuickField, String)>> {
        let mut errors = Vec::new();
        let mut number =
            |field: QuickField, text: &str, optional: bool, ok: &dyn Fn(f64) -> bool, hint: &str| {
                let text = text.trim();
                if text.is_empty() && optional {
                    return None;
                }
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() && ok(v) => Some(v),
                    _ => {
                        errors.push((field, hint.to_string()));
                        None
                    }
                }
            };
        let load = if self.open {
            let rate =
                number(QuickField::ArrivalRate, &self.arrival_rate, false, &|v| v > 0.0, "above 0, e.g. 50");
            let max = number(
                QuickField::MaxInFlight,
                &self.max_in_flight,
                true,
                &|v| v >= 1.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX),
                "a whole number ≥ 1",
            );
            QuickLoad::Open { rate: rate.unwrap_or(1.0), max_in_flight: max.map(|m| m as u32) }
        } else {
            let users = number(
                QuickField::Users,
                &self.users,
                false,
                &|v| v >= 1.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX),
                "a whole number ≥ 1",
            );
            let spawn =
                number(QuickField::SpawnRate, &self.spawn_rate, true, &|v| v > 0.0, "above 0, e.g. 5");
            QuickLoad::Closed { users: users.map_or(1, |u| u as u32), spawn_rate: spawn }
        };
        let latency = number(
            QuickField::ServerLatency,
            &self.server_latency_ms,
            true,
            &|v| v >= 0.0,
            "0 or more, e.g. 50",
        );
        let failure = number(
            QuickField::FailureRate,
            &self.failure_rate,
            true,
            &|v| (0.0..=1.0).contains(&v),
            "from 0 to 1",
        );
        let duration = match parse_duration(&self.duration) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                errors.push((QuickField::Duration, "above zero, e.g. 30s".into()));
                Duration::from_secs(1)
            }
            Err(e) => {
                errors.push((QuickField::Duration, e));
                Duration::from_secs(1)
            }
        };
        let target = match self.target {
            TargetChoice::Embedded => Target::Embedded,
            TargetChoice::Docker => Target::Docker,
            TargetChoice::Url => match Target::parse(self.url.trim()) {
                Ok(t) => t,
                Err(e) => {
                    errors.push((QuickField::Url, e.to_string()));
                    Target::Embedded
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let behaviour = &self.behaviours[self.behaviour.min(self.behaviours.len() - 1)];
        Ok(QuickChoice {
            quick: QuickRun {
                behaviour: behaviour.name.clone(),
                load,
                duration,
                repo_size: REPO_SIZES[self.repo_size],
                server_latency_ms: latency,
                server_failure_rate: failure,
            },
            defined_in: behaviour.defined_in.clone(),
            target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_follow_the_model_and_the_target() {
        let mut form = QuickForm::new(Vec::new(), TargetChoice::Embedded, "http://127.0.0.1:8081");
        assert!(form.fields().contains(&QuickField::Users));
        form.cursor = 1;
        form.cycle(true);
        assert!(form.open && form.fields().contains(&QuickField::ArrivalRate));
        assert!(!form.fields().contains(&QuickField::Url));
        form.target = TargetChoice::Url;
        assert_eq!(form.fields().last(), Some(&QuickField::Url));
    }

    #[test]
    fn every_problem_is_reported_beside_its_field() {
        let mut form = QuickForm::new(Vec::new(), TargetChoice::Url, "ftp://x");
        form.users = "0".into();
        form.spawn_rate = "-2".into();
        form.duration = "5x".into();
        form.failure_rate = "2".into();
        let errors = form.check().unwrap_err();
        let fields: Vec<QuickField> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                QuickField::Users,
                QuickField::SpawnRate,
                QuickField::FailureRate,
                QuickField::Duration,
                QuickField::Url
            ]
        );
    }

    #[test]
    fn a_valid_form_is_a_quick_run() {
        let extra = vec![BehaviourChoice { name: "smoke_mix".into(), defined_in: Some("smoke".into()) }];
        let mut form = QuickForm::new(extra, TargetChoice::Embedded, "");
        form.behaviour = form.behaviours.len() - 1;
        form.server_latency_ms = "25".into();
        let choice = form.check().unwrap();
        assert_eq!(choice.quick.behaviour, "smoke_mix");
        assert_eq!(choice.defined_in.as_deref(), Some("smoke"));
        assert_eq!(choice.quick.load, QuickLoad::Closed { users: 10, spawn_rate: Some(5.0) });
        assert_eq!(choice.quick.server_latency_ms, Some(25.0));
        assert_eq!(choice.quick.duration, QUICK_DEFAULT_DURATION);
    }
}
