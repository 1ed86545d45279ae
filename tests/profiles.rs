//! Profile loading: shipped profiles against the seed's table, overrides, and the
//! located error message of every kind of bad profile.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::num::NonZeroU32;
use std::time::Duration;

use terrafix_tui::profile::{
    self, BatchSize, Load, Overrides, Profile, RepoSize, RepoSizeChoice, RequestKind, TimeScale,
    WaitStrategy, parse_duration,
};

fn mins(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

/// (phase, behaviour, users, spawn/s, duration, repo size, failure rate)
type Row = (&'static str, &'static str, u32, f64, Duration, RepoSizeChoice, f64);

fn assert_matches_seed(profile: &Profile, suite: &str, rows: &[Row]) {
    assert_eq!(profile.phases.len(), rows.len(), "{suite}: phase count");
    assert_eq!(profile.pause_between_phases, Duration::from_secs(10), "{suite}: pause");
    assert!(!profile.lockstep_start);
    for (phase, &(name, behaviour, users, spawn, duration, repo, failure_rate)) in
        profile.phases.iter().zip(rows)
    {
        assert_eq!(phase.name, name);
        assert_eq!(phase.suite, suite, "{name}");
        assert_eq!(phase.behaviour.name, behaviour, "{name}");
        assert_eq!(
            phase.load,
            Load::Closed { users: NonZeroU32::new(users).unwrap(), spawn_rate_per_s: spawn },
            "{name}"
        );
        assert_eq!(phase.duration, duration, "{name}");
        assert_eq!(phase.repo_size, repo, "{name}");
        assert_eq!(phase.server.latency_ms, Some(50.0), "{name}: the seed's mock latency");
        assert_eq!(phase.server.failure_rate, Some(failure_rate), "{name}");
    }
}

const MEDIUM: RepoSizeChoice = RepoSizeChoice::Fixed(RepoSize::Medium);

#[test]
fn throughput_matches_the_seed() {
    let p = profile::load("throughput", None).unwrap();
    assert_matches_seed(
        &p,
        "throughput",
        &[
            ("throughput_baseline", "throughput", 5, 1.0, mins(3), MEDIUM, 0.0),
            ("throughput_medium", "throughput", 20, 2.0, mins(5), MEDIUM, 0.0),
            ("throughput_high", "throughput", 50, 5.0, mins(5), MEDIUM, 0.0),
            ("throughput_max", "throughput", 100, 10.0, mins(5), MEDIUM, 0.0),
        ],
    );
}

#[test]
fn resilience_matches_the_seed() {
    let p = profile::load("resilience", None).unwrap();
    assert_matches_seed(
        &p,
        "resilience",
        &[
            ("resilience_steady", "resilience", 10, 2.0, mins(5), MEDIUM, 0.0),
            ("resilience_burst", "burst", 30, 10.0, mins(5), MEDIUM, 0.0),
            ("resilience_cascade", "cascade", 50, 5.0, mins(10), MEDIUM, 0.0),
            ("resilience_failures", "mixed", 20, 4.0, mins(5), MEDIUM, 0.1),
            ("resilience_recovery", "resilience_retrying", 10, 2.0, mins(3), MEDIUM, 0.0),
        ],
    );
    let recovery = &p.phases[4];
    assert!(recovery.behaviour.retry.is_some(), "retries on");
    assert_eq!(recovery.faults.len(), 2);
    assert!(matches!(
        &recovery.faults[1].kind,
        terrafix_tui::profile::FaultKind::Service { service, optional: true, .. } if service == "redis"
    ));
}

#[test]
fn scalability_matches_the_seed_with_sizes_fixed_per_phase() {
    let p = profile::load("scalability", None).unwrap();
    let fixed = RepoSizeChoice::Fixed;
    assert_matches_seed(
        &p,
        "scalability",
        &[
            ("scalability_small", "scalability", 10, 2.0, mins(3), fixed(RepoSize::Small), 0.0),
            ("scalability_medium", "scalability", 10, 2.0, mins(3), fixed(RepoSize::Medium), 0.0),
            ("scalability_large", "scalability", 10, 2.0, mins(3), fixed(RepoSize::Large), 0.0),
            ("scalability_mixed", "scalability", 15, 3.0, mins(5), RepoSizeChoice::Mixed, 0.0),
        ],
    );
    // The mock's default per-resource cost is 0, so the sizes only differ because the
    // profile asks for a cost per resource.
    for phase in &p.phases {
        assert_eq!(phase.server.per_resource_ms, Some(0.5), "{}", phase.name);
    }
}

#[test]
fn builtin_behaviours_are_the_seed_user_classes() {
    let p = profile::load("all", None).unwrap();
    let by_name = |n: &str| p.phases.iter().find(|ph| ph.behaviour.name == n).unwrap().behaviour.clone();
    let throughput = by_name("throughput");
    assert_eq!(throughput.wait, WaitStrategy::ConstantPacing(Duration::from_secs(1)));
    let weights: Vec<(u32, &str)> =
        throughput.tasks.iter().map(|t| (t.weight.get(), t.name.as_str())).collect();
    assert_eq!(weights, [(10, "/webhook [throughput]"), (1, "/health [throughput]")]);
    let burst = by_name("burst");
    assert_eq!(burst.wait, WaitStrategy::Between(Duration::from_millis(100), Duration::from_millis(500)));
    assert_eq!(burst.tasks[1].kind, RequestKind::Batch(BatchSize::Range(5, 20)));
    assert_eq!(burst.tasks[1].weight.get(), 7);
    let resilience = by_name("resilience");
    assert_eq!(resilience.tasks[1].kind, RequestKind::Duplicate);
    assert_eq!(resilience.tasks.iter().map(|t| t.weight.get()).collect::<Vec<_>>(), [8, 2]);
    assert_eq!(by_name("cascade").wait, WaitStrategy::Cascade);
    let mixed = by_name("mixed");
    assert_eq!(mixed.wait, WaitStrategy::Between(Duration::from_millis(500), Duration::from_secs(5)));
    assert_eq!(mixed.tasks.iter().map(|t| t.weight.get()).collect::<Vec<_>>(), [60, 20, 10, 5, 5]);
    assert_eq!(mixed.tasks[4].kind, RequestKind::HealthAndStatus);
    assert_eq!(
        by_name("scalability").wait,
        WaitStrategy::Between(Duration::from_secs(1), Duration::from_secs(3))
    );
}

#[test]
fn all_is_the_three_suites_in_order() {
    let p = profile::load("all", None).unwrap();
    let names: Vec<&str> = p.phases.iter().map(|ph| ph.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "throughput_baseline",
            "throughput_medium",
            "throughput_high",
            "throughput_max",
            "resilience_steady",
            "resilience_burst",
            "resilience_cascade",
            "resilience_failures",
            "resilience_recovery",
            "scalability_small",
            "scalability_medium",
            "scalability_large",
            "scalability_mixed",
        ]
    );
}

#[test]
fn smoke_is_short_and_exercises_every_kind() {
    let p = profile::load("smoke", None).unwrap();
    assert!(p.planned_duration() < Duration::from_secs(30), "{:?}", p.planned_duration());
    assert!((2..=3).contains(&p.phases.len()));
    let kinds: Vec<&RequestKind> =
        p.phases.iter().flat_map(|ph| ph.behaviour.tasks.iter().map(|t| &t.kind)).collect();
    assert!(kinds.iter().any(|k| matches!(k, RequestKind::Webhook)));
    assert!(kinds.iter().any(|k| matches!(k, RequestKind::Duplicate)));
    assert!(kinds.iter().any(|k| matches!(k, RequestKind::Batch(_))));
    assert!(p.phases.iter().all(|ph| ph.suite == "smoke" && !ph.server.is_empty()));
    assert!(p.phases.iter().any(|ph| matches!(ph.load, Load::Open { .. })));
}

#[test]
fn capacity_searches_the_mock_with_four_workers() {
    let p = profile::load("capacity", None).unwrap();
    let c = p.capacity.expect("capacity section");
    assert_eq!(c.server.workers, Some(4));
    assert_eq!(c.server.latency_ms, Some(50.0));
    assert_eq!((c.start_rps, c.step_rps, c.max_rps), (20.0, 20.0, 200.0));
    assert_eq!(c.step_duration, Duration::from_secs(5));
    assert_eq!((c.p99_limit_ms, c.max_error_rate, c.refine_steps), (500.0, 0.01, 3));
    assert!(c.behaviour.tasks.iter().all(|t| t.kind == RequestKind::Webhook));
}

#[test]
fn time_scale_shrinks_all_to_six_and_a_half_minutes() {
    let p = profile::load("all", None).unwrap();
    assert!(p.planned_duration() > Duration::from_secs(55 * 60));
    let scaled = p
        .with_overrides(&Overrides { time_scale: Some(TimeScale::new(0.1).unwrap()), ..Default::default() })
        .unwrap();
    // The seed's 12 phases take under 6 minutes; resilience_recovery adds 19 s.
    assert!(scaled.planned_duration() < Duration::from_secs(390), "{:?}", scaled.planned_duration());
    assert_eq!(scaled.pause_between_phases, Duration::from_secs(1));
    assert_eq!(scaled.phases[0].duration, Duration::from_secs(18));
}

#[test]
fn users_duration_and_phase_overrides() {
    let overrides = Overrides {
        users: NonZeroU32::new(3),
        duration: Some(Duration::from_secs(20)),
        time_scale: Some(TimeScale::new(0.5).unwrap()),
        phases: vec!["throughput_max".into(), "throughput_baseline".into()],
        spawn_rate: Some(1.5),
        repo_size: Some(RepoSizeChoice::Mixed),
        server_latency_ms: Some(7.0),
        server_failure_rate: Some(0.25),
    };
    let p = profile::load("throughput", None).unwrap().with_overrides(&overrides).unwrap();
    for phase in &p.phases {
        assert!(matches!(phase.load, Load::Closed { spawn_rate_per_s, .. } if spawn_rate_per_s == 1.5));
        assert_eq!(phase.repo_size, RepoSizeChoice::Mixed);
        assert_eq!((phase.server.latency_ms, phase.server.failure_rate), (Some(7.0), Some(0.25)));
    }
    let names: Vec<&str> = p.phases.iter().map(|ph| ph.name.as_str()).collect();
    assert_eq!(names, ["throughput_baseline", "throughput_max"], "profile order is kept");
    for phase in &p.phases {
        assert!(matches!(phase.load, Load::Closed { users, .. } if users.get() == 3));
        assert_eq!(phase.duration, Duration::from_secs(10), "duration replaced, then scaled");
    }
    // Only the open-model phase chosen: a spawn rate has nothing to apply to.
    let open_only =
        Overrides { phases: vec!["smoke_open".into()], spawn_rate: Some(2.0), ..Default::default() };
    let err = profile::load("smoke", None).unwrap().with_overrides(&open_only).unwrap_err().to_string();
    assert!(err.contains("--spawn-rate") && err.contains("arrival rate"), "{err}");
    let smoke = profile::load("smoke", None).unwrap();
    let open_before = smoke.phases[2].load.clone();
    let smoke = smoke.with_overrides(&Overrides { users: NonZeroU32::new(9), ..Default::default() }).unwrap();
    assert_eq!(smoke.phases[2].load, open_before, "users leaves open-model phases alone");
}

#[test]
fn unknown_phase_override_lists_valid_names() {
    let err = profile::load("throughput", None)
        .unwrap()
        .with_overrides(&Overrides { phases: vec!["throughput_huge".into()], ..Default::default() })
        .unwrap_err();
    assert!(err.message.contains("throughput_huge"), "{err}");
    assert!(err.message.contains("throughput_baseline, throughput_medium"), "{err}");
    let err = profile::load("throughput", None)
        .unwrap()
        .with_overrides(&Overrides { time_scale: Some(TimeScale::new(1e3).unwrap()), ..Default::default() })
        .and_then(|p| {
            p.with_overrides(&Overrides {
                time_scale: Some(TimeScale::new(1e3).unwrap()),
                ..Default::default()
            })
        })
        .unwrap_err();
    assert!(err.message.contains("longer than a year"), "{err}");
}

#[test]
fn custom_behaviours_and_open_phases_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.yaml");
    std::fs::write(
        &path,
        r#"
name: custom
pause_between_phases: 0s
lockstep_start: true
fail_on_request_errors: true
thresholds: { p95_ms: 200, p99_ms: 400, error_rate: 0.01, min_rps: 5 }
behaviours:
  poller:
    wait: { constant_throughput: 2.5 }
    tasks:
      - { kind: status, weight: 3 }
      - { kind: batch, size: 4..8, name: "/batch[{n}] [poll]" }
      - { kind: health_and_status }
phases:
  - name: ramp
    behaviour: poller
    arrival_rate: { from: 5, to: 50 }
    max_in_flight: 20
    duration: 1m30s
    repo_size: large
    server: { jitter: exponential, jitter_ms: 5, failure_mode: throttle_429, max_concurrent: 8 }
"#,
    )
    .unwrap();
    let p = profile::load(path.to_str().unwrap(), None).unwrap();
    assert_eq!(p.name, "custom");
    assert!(
        p.lockstep_start && p.fail_on_request_errors == terrafix_tui::profile::RequestErrorPolicy::AnyFailure
    );
    assert_eq!(p.thresholds.min_rps, Some(5.0));
    let phase = &p.phases[0];
    assert_eq!(phase.suite, "custom", "suite defaults to the profile name");
    assert_eq!(
        phase.load,
        Load::Open { rate_from_per_s: 5.0, rate_to_per_s: 50.0, max_in_flight: NonZeroU32::new(20).unwrap() }
    );
    assert_eq!(phase.duration, Duration::from_secs(90));
    assert_eq!(phase.behaviour.wait, WaitStrategy::ConstantThroughput(2.5));
    assert_eq!(phase.behaviour.tasks[0].name, "/status [poller]");
    assert_eq!(phase.behaviour.tasks[2].name, "{endpoint} [poller]");
    assert_eq!(phase.server.failure_mode, Some(terrafix_tui::profile::FailureMode::Throttle429));
    assert_eq!(phase.server.jitter, Some(terrafix_tui::profile::Jitter::Exponential));
    // Found by name in an extra folder, and listed from it.
    let by_name = profile::load("custom", Some(dir.path())).unwrap();
    assert_eq!(by_name.phases.len(), 1);
    std::fs::write(dir.path().join("broken.yaml"), "phases: []\n").unwrap();
    let listed = profile::list(Some(dir.path()));
    assert_eq!(listed[0].name, "smoke", "shipped profiles come first");
    let broken = listed.iter().find(|e| e.name == "broken").unwrap();
    assert!(broken.profile.as_ref().unwrap_err().message.contains("broken.yaml:1:9"));
    assert!(listed.iter().any(|e| e.name == "custom" && e.profile.is_ok()));
}

/// Writes `yaml` to a file and returns the error message of loading it.
fn error_of(yaml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, yaml).unwrap();
    let err = profile::load(path.to_str().unwrap(), None).expect_err("the profile should be refused");
    err.message.replace(&path.display().to_string(), "bad.yaml")
}

const PHASE_HEAD: &str = "phases:\n  - name: a\n    behaviour: throughput\n";

#[test]
fn unknown_field_names_file_line_column_and_the_expected_fields() {
    let msg = error_of(&format!("{PHASE_HEAD}    userz: 5\n    duration: 30s\n"));
    assert!(msg.starts_with("bad.yaml:4:5: phases[0]: unknown field `userz`, expected one of"), "{msg}");
    assert!(msg.contains("`users`") && msg.contains("`spawn_rate`"), "{msg}");
    let msg = error_of("nmae: x\nphases: []\n");
    assert!(msg.starts_with("bad.yaml:1:1: unknown field `nmae`"), "{msg}");
}

#[test]
fn unknown_behaviour_lists_the_known_ones() {
    let msg = error_of("phases:\n  - name: a\n    behaviour: thruput\n    users: 5\n    duration: 30s\n");
    assert!(msg.starts_with("bad.yaml:3:16: phases[0].behaviour: unknown behaviour `thruput`"), "{msg}");
    assert!(msg.contains("throughput, burst, resilience, scalability, cascade, mixed"), "{msg}");
    // A behaviour defined later in the same file is known.
    let ok = "phases:\n  - {name: a, behaviour: mine, users: 1, duration: 1s}\nbehaviours:\n  mine:\n    tasks: [{kind: health}]\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.yaml");
    std::fs::write(&path, ok).unwrap();
    assert!(profile::load(path.to_str().unwrap(), None).is_ok());
}

#[test]
fn zero_or_negative_counts_and_rates_are_refused() {
    let msg = error_of(&format!("{PHASE_HEAD}    users: 0\n    duration: 30s\n"));
    assert!(msg.starts_with("bad.yaml:4:12: phases[0].users: must be at least 1, got 0"), "{msg}");
    let msg = error_of(&format!("{PHASE_HEAD}    users: 2\n    spawn_rate: -1\n    duration: 30s\n"));
    assert!(msg.starts_with("bad.yaml:5:17: phases[0].spawn_rate: must be above 0, got -1"), "{msg}");
    let msg = error_of(&format!("{PHASE_HEAD}    arrival_rate: 0\n    duration: 30s\n"));
    assert!(msg.starts_with("bad.yaml:4:19: phases[0].arrival_rate: arrival rate must be above 0"), "{msg}");
    let msg = error_of(&format!("{PHASE_HEAD}    arrival_rate: {{from: 5, to: -5}}\n    duration: 30s\n"));
    assert!(msg.contains("bad.yaml:4:") && msg.contains("arrival_rate.to: must be above 0"), "{msg}");
    let msg = error_of(&format!("{PHASE_HEAD}    users: 2.5\n    duration: 30s\n"));
    assert!(msg.contains("phases[0].users: expected a whole number"), "{msg}");
}

#[test]
fn unparsable_durations_are_refused() {
    let msg = error_of(&format!("{PHASE_HEAD}    users: 1\n    duration: 30 seconds\n"));
    assert!(msg.starts_with("bad.yaml:5:15: phases[0].duration: invalid duration"), "{msg}");
    assert!(msg.contains("unknown unit"), "{msg}");
    let msg = error_of(&format!("{PHASE_HEAD}    users: 1\n    duration: 30\n"));
    assert!(msg.starts_with("bad.yaml:5:15: phases[0].duration: invalid duration"), "{msg}");
    assert!(msg.contains("has no unit; add one of h, m, s, ms (e.g. 30s)"), "{msg}");
    let msg = error_of(&format!("pause_between_phases: 5mins\n{PHASE_HEAD}    users: 1\n    duration: 1s\n"));
    assert!(msg.starts_with("bad.yaml:1:23: pause_between_phases: invalid duration"), "{msg}");
    let msg = error_of(&format!("{PHASE_HEAD}    users: 1\n    duration: 0s\n"));
    assert!(msg.contains("phases[0].duration: `0s` is zero"), "{msg}");
}

#[test]
fn failure_rate_outside_zero_one_is_refused() {
    let msg = error_of(&format!(
        "{PHASE_HEAD}    users: 1\n    duration: 1s\n    server:\n      failure_rate: 1.5\n"
    ));
    assert!(
        msg.starts_with("bad.yaml:7:21: phases[0].server.failure_rate: must be between 0 and 1"),
        "{msg}"
    );
    let msg = error_of(&format!(
        "{PHASE_HEAD}    users: 1\n    duration: 1s\n    thresholds: {{error_rate: -0.1}}\n"
    ));
    assert!(msg.contains("phases[0].thresholds.error_rate: must be between 0 and 1"), "{msg}");
    let msg = error_of(&format!(
        "{PHASE_HEAD}    users: 1\n    duration: 1s\n    server: {{failure_mode: explode}}\n"
    ));
    assert!(msg.contains("phases[0].server.failure_mode: unknown variant `explode`"), "{msg}");
    assert!(msg.contains("error_500") && msg.contains("unavailable_503"), "{msg}");
}

#[test]
fn empty_and_missing_phase_lists_are_refused() {
    let msg = error_of("name: x\nphases: []\n");
    assert!(msg.starts_with("bad.yaml:2:9: phases: the list is empty"), "{msg}");
    let msg = error_of("name: x\n");
    assert!(msg.starts_with("bad.yaml:1:1: no `phases:`"), "{msg}");
}

#[test]
fn duplicate_phase_names_are_refused() {
    let msg = error_of(&format!(
        "{PHASE_HEAD}    users: 1\n    duration: 1s\n  - name: a\n    behaviour: burst\n    users: 1\n    duration: 1s\n"
    ));
    assert!(msg.starts_with("bad.yaml:6:11: phases[1].name: duplicate phase name `a`"), "{msg}");
}

#[test]
fn cross_field_mistakes_point_at_their_mapping() {
    let msg = error_of(&format!("{PHASE_HEAD}    users: 1\n    arrival_rate: 5\n    duration: 1s\n"));
    assert!(msg.starts_with("bad.yaml:2:5: phases[0]: phase `a` sets both `users`"), "{msg}");
    let msg = error_of(&format!("{PHASE_HEAD}    duration: 1s\n"));
    assert!(msg.contains("phases[0]: phase `a` needs `users:`"), "{msg}");
    let bad_task = "behaviours:\n  b:\n    tasks:\n      - {kind: batch}\nphases:\n  - {name: a, behaviour: b, users: 1, duration: 1s}\n";
    let msg = error_of(bad_task);
    assert!(msg.starts_with("bad.yaml:4:9: behaviours.b.tasks[0]: a batch task needs `size:`"), "{msg}");
    let bad_wait = "behaviours:\n  b:\n    wait: {pacing: 1s}\n    tasks: [{kind: webhook}]\nphases:\n  - {name: a, behaviour: b, users: 1, duration: 1s}\n";
    let msg = error_of(bad_wait);
    assert!(
        msg.contains("behaviours.b.wait: unknown wait strategy `pacing`, expected one of constant"),
        "{msg}"
    );
    let clash = "behaviours:\n  burst:\n    tasks: [{kind: webhook}]\nphases:\n  - {name: a, behaviour: burst, users: 1, duration: 1s}\n";
    let msg = error_of(clash);
    assert!(msg.starts_with("bad.yaml:2:3:") && msg.contains("`burst` is built in"), "{msg}");
}

#[test]
fn missing_profiles_say_what_exists() {
    let err = profile::load("nope", None).unwrap_err();
    assert!(err.message.contains("smoke, throughput, resilience, scalability, capacity, all"), "{err}");
    let err = profile::load("/definitely/not/here.yaml", None).unwrap_err();
    assert!(err.message.starts_with("/definitely/not/here.yaml: cannot read"), "{err}");
}

#[test]
fn duration_flag_helper_reads_the_documented_forms() {
    assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert!(parse_duration("soon").is_err());
}

#[test]
fn huge_or_deeply_nested_files_are_refused_before_parsing() {
    let started = std::time::Instant::now();
    let err = profile::parse_str(&"[".repeat(100_000), "x", "deep.yaml").unwrap_err();
    assert!(err.message.starts_with("deep.yaml:1:33: brackets nested deeper than 32"), "{err}");
    let big = format!("name: big\ndescription: \"{}\"\n", "a".repeat(300 << 10));
    let err = profile::parse_str(&big, "x", "big.yaml").unwrap_err();
    assert!(err.message.contains("over the limit of 256 kB"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    // Apostrophes and brackets inside strings or comments are not nesting.
    let fine = "name: ok # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\ndescription: the harness's \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\nphases: []\n";
    let err = profile::parse_str(fine, "x", "fine.yaml").err().map(|e| e.message).unwrap_or_default();
    assert!(!err.contains("nested"), "{err}");
    for name in ["smoke", "all", "throughput", "resilience", "scalability", "capacity"] {
        profile::load(name, None).unwrap();
    }
}

#[test]
fn target_settings_and_phase_timeouts_load_and_bad_ones_are_located() {
    // SAFETY: a variable name no other test uses, set before any reader.
    unsafe { std::env::set_var("TERRAFIX_PROFILE_TEST_TOKEN", "t0k") };
    let yaml = "name: t\nheaders:\n  Authorization: Bearer ${TERRAFIX_PROFILE_TEST_TOKEN}\n  X-Team: sre\nrequest_timeout: 30s\nconnect_timeout: 2s\nconfigure_target: false\nphases:\n  - name: p\n    behaviour: throughput\n    users: 1\n    duration: 5s\n    request_timeout: 1s\n";
    let p = profile::parse_str(yaml, "t", "t.yaml").unwrap();
    assert_eq!(
        p.target.headers,
        [("Authorization".to_string(), "Bearer t0k".to_string()), ("X-Team".to_string(), "sre".to_string())]
    );
    assert_eq!(p.target.request_timeout, Some(Duration::from_secs(30)));
    assert_eq!(p.target.connect_timeout, Some(Duration::from_secs(2)));
    assert!(!p.target.configure_target);
    assert_eq!(p.phases[0].timeouts.request, Some(Duration::from_secs(1)));
    let defaults = profile::parse_str(
        "name: d\nphases:\n  - {name: p, behaviour: throughput, users: 1, duration: 5s}\n",
        "d",
        "d.yaml",
    )
    .unwrap();
    assert!(defaults.target.configure_target, "profiles configure their target unless told not to");

    let bad_name = yaml.replace("X-Team", "X Team");
    let err = profile::parse_str(&bad_name, "t", "t.yaml").unwrap_err();
    assert!(err.message.starts_with("t.yaml:"), "{err}");
    assert!(err.message.contains("X Team"), "{err}");
    let unset = yaml.replace("TERRAFIX_PROFILE_TEST_TOKEN", "TERRAFIX_PROFILE_SURELY_UNSET");
    let err = profile::parse_str(&unset, "t", "t.yaml").unwrap_err();
    assert!(err.message.contains("TERRAFIX_PROFILE_SURELY_UNSET is not set"), "{err}");
    let zero = yaml.replace("request_timeout: 1s", "request_timeout: 0s");
    assert!(profile::parse_str(&zero, "t", "t.yaml").unwrap_err().message.contains("zero"));
}

#[test]
fn a_tasks_own_headers_load_and_bad_ones_are_located() {
    // SAFETY: a variable name no other test uses, set before any reader.
    unsafe { std::env::set_var("TERRAFIX_PROFILE_TASK_TOKEN", "tk") };
    let yaml = "name: t\nbehaviours:\n  b:\n    tasks:\n      - { kind: webhook, headers: { X-Task: \"a-${TERRAFIX_PROFILE_TASK_TOKEN}\" } }\n      - { kind: health }\nphases:\n  - { name: p, behaviour: b, users: 1, duration: 1s }\n";
    let p = profile::parse_str(yaml, "t", "t.yaml").unwrap();
    let tasks = &p.phases[0].behaviour.tasks;
    assert_eq!(tasks[0].headers, [("X-Task".to_string(), "a-tk".to_string())]);
    assert!(tasks[1].headers.is_empty());
    let bad = error_of(&yaml.replace("X-Task", "X Task"));
    assert!(bad.starts_with("bad.yaml:5:9:") && bad.contains("tasks[0]") && bad.contains("X Task"), "{bad}");
    let unset = error_of(&yaml.replace("TERRAFIX_PROFILE_TASK_TOKEN", "TERRAFIX_PROFILE_TASK_SURELY_UNSET"));
    assert!(unset.contains("TERRAFIX_PROFILE_TASK_SURELY_UNSET is not set"), "{unset}");
}
