//! Command-line overrides applied to a validated profile, and the planned length of a
//! run (for listings and progress displays).

use std::time::Duration;

use super::types::{Load, Overrides, Profile};
use super::{ProfileError, format_duration};

impl Profile {
    /// Applies command-line overrides (time scale, users, duration, phase filter).
    /// `--users` without `--spawn-rate` scales each phase's spawn rate with its users (the
    /// ramp takes as long as the profile planned); `--spawn-rate` replaces it.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Result<Profile, ProfileError> {
        if !overrides.phases.is_empty() {
            let valid: Vec<&str> = self.phases.iter().map(|p| p.name.as_str()).collect();
            if let Some(unknown) = overrides.phases.iter().find(|w| !valid.contains(&w.as_str())) {
                return Err(ProfileError::new(format!(
                    "--phase {unknown}: profile `{}` has no such phase; valid names: {}",
                    self.name,
                    if valid.is_empty() {
                        "(none: it is a capacity search)".to_string()
                    } else {
                        valid.join(", ")
                    }
                )));
            }
            self.phases.retain(|p| overrides.phases.contains(&p.name));
        }
        let closed = self.phases.iter().filter(|p| matches!(p.load, Load::Closed { .. })).count();
        for (flag, given) in
            [("--users", overrides.users.is_some()), ("--spawn-rate", overrides.spawn_rate.is_some())]
        {
            if given && closed == 0 {
                return Err(ProfileError::new(format!(
                    "{flag} applies to phases with users, and every phase chosen here has an arrival rate \
                     (open model); leave {flag} out"
                )));
            }
        }
        if let Some(rate) = overrides.spawn_rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(ProfileError::new(format!(
                "--spawn-rate {rate}: must be above zero (users started per second, e.g. 5)"
            )));
        }
        for phase in &mut self.phases {
            if let Load::Closed { users, spawn_rate_per_s } = &mut phase.load {
                if let Some(n) = overrides.users {
                    // Without --spawn-rate the phase keeps its ramp time: its rate scales with
                    // the users, so a phase without `spawn_rate` (all users within the first
                    // second) still starts them all at once, and a 5 s ramp stays a 5 s ramp.
                    *spawn_rate_per_s *= f64::from(n.get()) / f64::from(users.get());
                    *users = n;
                }
                if let Some(rate) = overrides.spawn_rate {
                    *spawn_rate_per_s = rate;
                }
            }
            if let Some(size) = overrides.repo_size {
                phase.repo_size = size;
            }
            if let Some(ms) = overrides.server_latency_ms {
                phase.server.latency_ms = Some(ms);
            }
            if let Some(rate) = overrides.server_failure_rate {
                phase.server.failure_rate = Some(rate);
            }
        }
        check_server_flags(overrides.server_latency_ms, overrides.server_failure_rate)?;
        if let Some(duration) = overrides.duration {
            if duration.is_zero() {
                return Err(ProfileError::new("--duration must be above zero, e.g. 30s"));
            }
            for phase in &mut self.phases {
                phase.duration = duration;
                // Fault windows stay inside the shorter phase: later ones go, the last is cut.
                phase.faults.retain(|f| f.at < duration);
                for fault in &mut phase.faults {
                    fault.duration = fault.duration.min(duration - fault.at);
                }
            }
        }
        if let Some(scale) = overrides.time_scale {
            for phase in &mut self.phases {
                phase.duration = scale
                    .apply(phase.duration, &format!("phase {}", phase.name))
                    .map_err(ProfileError::new)?;
                for fault in &mut phase.faults {
                    let what = format!("a fault of phase {}", phase.name);
                    fault.at = scale.apply(fault.at, &what).map_err(ProfileError::new)?;
                    fault.duration = scale.apply(fault.duration, &what).map_err(ProfileError::new)?;
                }
            }
            self.pause_between_phases = scale
                .apply(self.pause_between_phases, "the pause between phases")
                .map_err(ProfileError::new)?;
            if let Some(capacity) = &mut self.capacity {
                capacity.step_duration =
                    scale.apply(capacity.step_duration, "the capacity step").map_err(ProfileError::new)?;
            }
        }
        Ok(self)
    }

    /// Phases plus the pauses between them; for a capacity search, its longest course
    /// (every coarse step up to `max_rps`, then every refinement).
    pub fn planned_duration(&self) -> Duration {
        let phases: Duration = self.phases.iter().map(|p| p.duration).sum();
        let pauses = self.pause_between_phases * (self.phases.len().saturating_sub(1) as u32);
        let search = self.capacity.as_ref().map_or(Duration::ZERO, |c| {
            let coarse = ((c.max_rps - c.start_rps) / c.step_rps).floor() as u32 + 1;
            c.step_duration * (coarse + c.refine_steps)
        });
        phases + pauses + search
    }

    /// One line for listings: `4 phases, 18m30s`.
    pub fn outline(&self) -> String {
        let what = match (&self.capacity, self.phases.len()) {
            (Some(_), 0) => "capacity search".to_string(),
            (Some(_), n) => format!("{n} phases + capacity search"),
            (None, 1) => "1 phase".to_string(),
            (None, n) => format!("{n} phases"),
        };
        format!("{what}, {}", format_duration(self.planned_duration()))
    }
}

/// `--server-latency-ms` and `--server-failure-rate` within the bounds the mock enforces
/// (`profile::bounds`), refused before anything starts.
pub(crate) fn check_server_flags(
    latency_ms: Option<f64>,
    failure_rate: Option<f64>,
) -> Result<(), ProfileError> {
    if let Some(ms) = latency_ms {
        super::bounds::check_millis(ms).map_err(|allowed| {
            ProfileError::new(format!(
                "--server-latency-ms {}: out of range; write {allowed}, e.g. 50",
                super::bounds::shown(ms)
            ))
        })?;
    }
    if let Some(rate) = failure_rate {
        super::bounds::check_ratio(rate).map_err(|allowed| {
            ProfileError::new(format!(
                "--server-failure-rate {}: out of range; write a share, {allowed}, e.g. 0.1",
                super::bounds::shown(rate)
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn two_phases() -> Profile {
        let text = "name: t\nbehaviours:\n  b:\n    wait: { constant: 1s }\n    tasks: [ { kind: webhook } ]\n\
                    phases:\n  - { name: at_once, behaviour: b, users: 2, duration: 3s }\n  \
                    - { name: ramped, behaviour: b, users: 5, spawn_rate: 1, duration: 10s }\n";
        crate::profile::parse_str(text, "t", "test").unwrap()
    }

    fn closed(profile: &Profile, index: usize) -> (u32, f64) {
        match profile.phases[index].load {
            Load::Closed { users, spawn_rate_per_s } => (users.get(), spawn_rate_per_s),
            Load::Open { .. } => panic!("closed model expected"),
        }
    }

    #[test]
    fn users_without_a_spawn_rate_keep_each_phases_ramp_time() {
        let overrides = Overrides { users: NonZeroU32::new(30), ..Default::default() };
        let p = two_phases().with_overrides(&overrides).unwrap();
        // No spawn_rate in the profile: every user starts within the first second, as before.
        assert_eq!(closed(&p, 0), (30, 30.0));
        // spawn_rate 1 for 5 users was a 5 s ramp; 30 users ramp over the same 5 s.
        assert_eq!(closed(&p, 1), (30, 6.0));
    }

    #[test]
    fn an_explicit_spawn_rate_wins_over_the_scaling() {
        let overrides = Overrides { users: NonZeroU32::new(30), spawn_rate: Some(3.0), ..Default::default() };
        let p = two_phases().with_overrides(&overrides).unwrap();
        assert_eq!(closed(&p, 0), (30, 3.0));
        assert_eq!(closed(&p, 1), (30, 3.0));
    }
}
