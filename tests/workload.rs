//! Virtual users: reproducible sequences, task weights, waits, the cascade formula,
//! byte-identical duplicates, and the shape of every payload field.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use terrafix_tui::profile::{
    Behaviour, RepoSize, RepoSizeChoice, RequestKind, Task, WaitStrategy, builtin_behaviour,
};
use terrafix_tui::workload::{Method, PlannedRequest, VirtualUser, cascade_batch_size};

const MEDIUM: RepoSizeChoice = RepoSizeChoice::Fixed(RepoSize::Medium);

fn builtin(name: &str) -> Arc<Behaviour> {
    Arc::new(builtin_behaviour(name).expect("built-in behaviour"))
}

fn user(name: &str, repo: RepoSizeChoice, seed: u64) -> VirtualUser {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
    VirtualUser::new(builtin(name), repo, seed).with_phase_start(start)
}

fn tasks(user: &mut VirtualUser, count: usize) -> Vec<PlannedRequest> {
    (0..count).flat_map(|i| user.next_task(Duration::from_millis(i as u64 * 100))).collect()
}

fn signature(requests: &[PlannedRequest]) -> Vec<(String, Option<Vec<u8>>)> {
    requests.iter().map(|r| (r.name.clone(), r.body.as_ref().map(|b| b.to_vec()))).collect()
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("valid JSON body")
}

#[test]
fn a_seed_fixes_the_request_sequence() {
    for behaviour in ["throughput", "burst", "resilience", "mixed", "cascade"] {
        let a = signature(&tasks(&mut user(behaviour, RepoSizeChoice::Mixed, 7), 200));
        let b = signature(&tasks(&mut user(behaviour, RepoSizeChoice::Mixed, 7), 200));
        let c = signature(&tasks(&mut user(behaviour, RepoSizeChoice::Mixed, 8), 200));
        assert_eq!(a, b, "{behaviour}: same seed, same requests byte for byte");
        assert_ne!(a, c, "{behaviour}: another seed, other requests");
    }
    let waits = |seed| {
        let mut u = user("burst", MEDIUM, seed);
        (0..50).map(|_| u.next_wait(Duration::ZERO, Duration::ZERO)).collect::<Vec<_>>()
    };
    assert_eq!(waits(1), waits(1));
    assert_ne!(waits(1), waits(2));
}

fn name_counts(requests: &[PlannedRequest]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in requests {
        *counts.entry(r.name.clone()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn task_weights_are_honoured() {
    let n = 11_000;
    let counts = name_counts(&tasks(&mut user("throughput", MEDIUM, 1), n));
    let webhooks = counts["/webhook [throughput]"] as f64 / n as f64;
    assert!((0.88..0.94).contains(&webhooks), "10/11 expected, got {webhooks}");
    assert_eq!(counts["/webhook [throughput]"] + counts["/health [throughput]"], n);

    let n = 10_000;
    let mixed = tasks(&mut user("mixed", MEDIUM, 2), n);
    let counts = name_counts(&mixed);
    let share = |name: &str| counts.get(name).copied().unwrap_or(0) as f64 / n as f64;
    for (name, expected) in [
        ("/webhook [mixed-steady]", 0.60),
        ("/batch[3] [mixed]", 0.20),
        ("/batch[10] [mixed]", 0.10),
        ("/batch[25] [mixed]", 0.05),
        ("/health [mixed]", 0.05),
        ("/status [mixed]", 0.05),
    ] {
        assert!((share(name) - expected).abs() < 0.02, "{name}: {expected} expected, got {}", share(name));
    }
    let counts = name_counts(&tasks(&mut user("resilience", MEDIUM, 3), n));
    let dup = counts["/webhook [resilience-duplicate]"] as f64 / n as f64;
    assert!((0.17..0.23).contains(&dup), "20 % duplicates expected, got {dup}");
}

#[test]
fn health_and_status_is_two_gets_in_order() {
    let mixed = tasks(&mut user("mixed", MEDIUM, 4), 2_000);
    let at = mixed.iter().position(|r| r.path == "/health").expect("some health checks");
    assert_eq!((mixed[at].method, mixed[at].body.is_none()), (Method::Get, true));
    assert_eq!((mixed[at + 1].path, mixed[at + 1].name.as_str()), ("/status", "/status [mixed]"));
}

#[test]
fn batches_carry_their_size_in_name_and_body() {
    let burst = tasks(&mut user("burst", MEDIUM, 5), 2_000);
    let mut sizes = HashSet::new();
    for r in burst.iter().filter(|r| r.path == "/batch") {
        let items = json(r.body.as_ref().unwrap()).as_array().unwrap().len();
        assert_eq!(r.name, format!("/batch[{items}] [burst]"));
        assert!((5..=20).contains(&items));
        assert_eq!(r.duplicates, 0);
        sizes.insert(items);
    }
    assert_eq!(sizes.len(), 16, "every size from 5 to 20 appears");
}

#[test]
fn waits_stay_within_their_bounds() {
    let mut burst = user("burst", MEDIUM, 6);
    let waits: Vec<Duration> =
        (0..2_000).map(|_| burst.next_wait(Duration::ZERO, Duration::from_secs(9))).collect();
    assert!(waits.iter().all(|w| (Duration::from_millis(100)..=Duration::from_millis(500)).contains(w)));
    assert!(
        waits.iter().any(|w| *w < Duration::from_millis(150))
            && waits.iter().any(|w| *w > Duration::from_millis(450))
    );

    let mut pacing = user("throughput", MEDIUM, 7);
    assert_eq!(pacing.next_wait(Duration::ZERO, Duration::from_millis(300)), Duration::from_millis(700));
    assert_eq!(pacing.next_wait(Duration::ZERO, Duration::from_secs(2)), Duration::ZERO, "floors at zero");
    for _ in 0..500 {
        assert!(pacing.start_offset() < Duration::from_secs(1));
    }
    let offsets: Vec<Duration> = (0..500).map(|_| pacing.start_offset()).collect();
    assert!(
        offsets.iter().any(|o| *o < Duration::from_millis(200))
            && offsets.iter().any(|o| *o > Duration::from_millis(800))
    );

    let custom = |wait| {
        let task = Task {
            weight: NonZeroU32::MIN,
            kind: RequestKind::Health,
            name: "/health".into(),
            headers: Vec::new(),
        };
        VirtualUser::new(
            Arc::new(Behaviour { name: "c".into(), wait, tasks: vec![task], retry: None }),
            MEDIUM,
            1,
        )
    };
    let mut tput = custom(WaitStrategy::ConstantThroughput(4.0));
    assert_eq!(tput.next_wait(Duration::ZERO, Duration::from_millis(50)), Duration::from_millis(200));
    let mut constant = custom(WaitStrategy::Constant(Duration::from_millis(300)));
    assert_eq!(constant.next_wait(Duration::ZERO, Duration::from_secs(5)), Duration::from_millis(300));
    assert!(constant.start_offset() < Duration::from_millis(300));
}

#[test]
fn cascade_follows_the_seed_formula() {
    // f = 1 + elapsed/60 s; wait = max(0.1, 2/f) + U(0, 0.5); batch = min(floor(2f), 50).
    let mut cascade = user("cascade", MEDIUM, 8);
    for (elapsed_s, base) in [(0.0, 2.0), (60.0, 1.0), (120.0, 2.0 / 3.0), (3600.0, 0.1)] {
        let elapsed = Duration::from_secs_f64(elapsed_s);
        for _ in 0..200 {
            let w = cascade.next_wait(elapsed, Duration::ZERO).as_secs_f64();
            assert!(w >= base - 1e-9 && w < base + 0.5, "at {elapsed_s}s: {w} not in [{base}, {base}+0.5)");
        }
    }
    for (elapsed_s, size) in [(0, 2), (30, 3), (60, 4), (600, 22), (1440, 50), (3600, 50)] {
        assert_eq!(cascade_batch_size(Duration::from_secs(elapsed_s)), size, "at {elapsed_s}s");
    }
    let request = cascade.next_task(Duration::from_secs(60)).remove(0);
    assert_eq!((request.path, request.name.as_str()), ("/batch", "/batch [cascade-4]"));
    assert_eq!(json(request.body.as_ref().unwrap()).as_array().unwrap().len(), 4);
}

#[test]
fn duplicates_resend_earlier_bodies_byte_for_byte() {
    let mut resilience = user("resilience", MEDIUM, 9);
    let mut uniques: Vec<Vec<u8>> = Vec::new();
    let mut resent = 0;
    for i in 0..3_000 {
        for r in resilience.next_task(Duration::from_millis(i)) {
            let body = r.body.as_ref().unwrap().to_vec();
            if r.name == "/webhook [resilience-duplicate]" && r.duplicates == 1 {
                let recent = &uniques[uniques.len().saturating_sub(100)..];
                assert!(recent.contains(&body), "a duplicate must be one of the last 100 unique bodies");
                resent += 1;
            } else {
                assert_eq!(r.duplicates, 0);
                uniques.push(body);
            }
        }
    }
    assert!(resent > 400, "{resent}");
    let ids: HashSet<String> =
        uniques.iter().map(|b| json(b)["test_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), uniques.len(), "unique failures have unique test ids");

    // With nothing sent yet, a duplicate task sends a new failure and counts it as unique.
    let only_dups = Behaviour {
        name: "d".into(),
        wait: WaitStrategy::Constant(Duration::ZERO),
        tasks: vec![Task {
            weight: NonZeroU32::MIN,
            kind: RequestKind::Duplicate,
            name: "/webhook [d]".into(),
            headers: Vec::new(),
        }],
        retry: None,
    };
    let mut u = VirtualUser::new(Arc::new(only_dups), MEDIUM, 1);
    let first = u.next_task(Duration::ZERO).remove(0);
    let second = u.next_task(Duration::ZERO).remove(0);
    assert_eq!((first.duplicates, second.duplicates), (0, 1));
    assert_eq!(first.body, second.body);
}

#[test]
fn batch_items_can_be_resent_alone() {
    let behaviour = Behaviour {
        name: "b".into(),
        wait: WaitStrategy::Constant(Duration::ZERO),
        tasks: vec![
            Task {
                weight: NonZeroU32::MIN,
                kind: RequestKind::Batch(terrafix_tui::profile::BatchSize::Fixed(3)),
                name: "/batch[{n}] [b]".into(),
                headers: Vec::new(),
            },
            Task {
                weight: NonZeroU32::MIN,
                kind: RequestKind::Duplicate,
                name: "/webhook [b-dup]".into(),
                headers: Vec::new(),
            },
        ],
        retry: None,
    };
    let mut u = VirtualUser::new(Arc::new(behaviour), MEDIUM, 3);
    let mut items: Vec<Value> = Vec::new();
    for _ in 0..200 {
        for r in u.next_task(Duration::ZERO) {
            let body = json(r.body.as_ref().unwrap());
            if r.path == "/batch" {
                assert_eq!(r.name, "/batch[3] [b]");
                items.extend(body.as_array().unwrap().iter().cloned());
            } else if r.duplicates == 1 {
                assert!(items.contains(&body), "a resent failure is one sent in a batch");
            }
        }
    }
}

const FIELDS: [&str; 12] = [
    "test_id",
    "test_name",
    "resource_arn",
    "resource_type",
    "failure_reason",
    "severity",
    "framework",
    "failed_at",
    "current_state",
    "required_state",
    "resource_id",
    "resource_details",
];

fn is_id8(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
}

/// Checks the ARN against the template's resource type; returns the resource name.
fn check_arn(resource_type: &str, arn: &str) -> String {
    let regions = ["us-east-1", "us-west-2", "eu-west-1"];
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    assert_eq!(&parts[..2], ["arn", "aws"], "{arn}");
    match resource_type {
        "AWS::S3::Bucket" => {
            assert_eq!((parts[2], parts[3], parts[4]), ("s3", "", ""), "{arn}");
            let bucket = parts[5].strip_prefix("test-bucket-").expect(arn);
            assert!(is_id8(bucket), "{arn}");
            parts[5].to_string()
        }
        "AWS::IAM::Role" => {
            assert_eq!((parts[2], parts[3]), ("iam", ""), "{arn}");
            assert!(is_account(parts[4]), "{arn}");
            let role = parts[5].strip_prefix("role/test-role-").expect(arn);
            assert!(is_id8(role), "{arn}");
            parts[5].trim_start_matches("role/").to_string()
        }
        "AWS::EC2::SecurityGroup" => {
            assert_eq!(parts[2], "ec2", "{arn}");
            assert!(regions.contains(&parts[3]) && is_account(parts[4]), "{arn}");
            let sg = parts[5].strip_prefix("security-group/sg-").expect(arn);
            assert!(sg.len() == 8 && sg.bytes().all(|b| b.is_ascii_hexdigit()), "{arn}");
            format!("sg-{sg}")
        }
        "AWS::RDS::DBInstance" => {
            assert_eq!(parts[2], "rds", "{arn}");
            assert!(regions.contains(&parts[3]) && is_account(parts[4]), "{arn}");
            let db = parts[5].strip_prefix("db:db-").expect(arn);
            assert!(is_id8(db), "{arn}");
            format!("db-{db}")
        }
        other => panic!("unexpected resource type {other}"),
    }
}

#[test]
fn payloads_have_every_field_and_a_valid_arn() {
    let templates: HashMap<&str, (&str, &str)> = [
        ("s3-public-access-block", ("AWS::S3::Bucket", "SOC2")),
        ("s3-versioning-enabled", ("AWS::S3::Bucket", "SOC2")),
        ("s3-encryption-at-rest", ("AWS::S3::Bucket", "ISO27001")),
        ("iam-session-duration", ("AWS::IAM::Role", "SOC2")),
        ("iam-trust-policy", ("AWS::IAM::Role", "SOC2")),
        ("sg-open-ssh", ("AWS::EC2::SecurityGroup", "SOC2")),
        ("sg-open-rdp", ("AWS::EC2::SecurityGroup", "ISO27001")),
        ("rds-encryption", ("AWS::RDS::DBInstance", "SOC2")),
        ("rds-public-access", ("AWS::RDS::DBInstance", "SOC2")),
    ]
    .into_iter()
    .collect();
    let mut seen_templates = HashSet::new();
    let mut severities = HashSet::new();
    let mut u = user("throughput", RepoSizeChoice::Fixed(RepoSize::Large), 10);
    for r in tasks(&mut u, 3_000).iter().filter(|r| r.path == "/webhook") {
        let text = std::str::from_utf8(r.body.as_ref().unwrap()).unwrap();
        let positions: Vec<usize> =
            FIELDS.iter().map(|f| text.find(&format!("\"{f}\":")).expect("every field is present")).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "fields in the seed's order: {text}");
        let v = json(r.body.as_ref().unwrap());
        assert_eq!(v.as_object().unwrap().len(), FIELDS.len());
        let test_id = v["test_id"].as_str().unwrap();
        let (template, suffix) = test_id.rsplit_once('-').unwrap();
        assert!(is_id8(suffix), "{test_id}");
        let (resource_type, framework) = templates[template];
        seen_templates.insert(template.to_string());
        assert_eq!(v["resource_type"], resource_type);
        assert_eq!(v["framework"], framework);
        let name = check_arn(resource_type, v["resource_arn"].as_str().unwrap());
        assert_eq!(v["resource_details"]["name"], name.as_str());
        assert_eq!(v["resource_details"]["repo_size"], "large");
        let severity = v["severity"].as_str().unwrap().to_string();
        assert!(["critical", "high", "medium", "low"].contains(&severity.as_str()));
        severities.insert(severity);
        let res_id = v["resource_id"].as_str().unwrap();
        assert!(is_id8(res_id.strip_prefix("res-").unwrap()), "{res_id}");
        let failed_at = v["failed_at"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(failed_at).is_ok() && failed_at.ends_with("+00:00"),
            "{failed_at}"
        );
        assert!(v["current_state"].is_object() && v["required_state"].is_object());
        assert_ne!(v["current_state"], v["required_state"]);
    }
    assert_eq!(seen_templates.len(), 9);
    assert_eq!(severities.len(), 4);
}

#[test]
fn failed_at_follows_the_phase_clock_when_pinned() {
    let mut u = user("throughput", MEDIUM, 11);
    let at = |r: &PlannedRequest| json(r.body.as_ref().unwrap())["failed_at"].as_str().unwrap().to_string();
    let r = (0..20)
        .flat_map(|_| u.next_task(Duration::from_millis(1_500)))
        .find(|r| r.path == "/webhook")
        .unwrap();
    assert_eq!(at(&r), "2025-12-06T05:46:41.500000+00:00");
}

#[test]
fn scalability_names_carry_the_repo_size() {
    let fixed =
        name_counts(&tasks(&mut user("scalability", RepoSizeChoice::Fixed(RepoSize::Small), 12), 100));
    assert_eq!(fixed.keys().collect::<Vec<_>>(), ["/webhook [scalability-small]"]);
    let mixed = tasks(&mut user("scalability", RepoSizeChoice::Mixed, 12), 600);
    for r in &mixed {
        let size =
            json(r.body.as_ref().unwrap())["resource_details"]["repo_size"].as_str().unwrap().to_string();
        assert_eq!(r.name, format!("/webhook [scalability-{size}]"));
    }
    let counts = name_counts(&mixed);
    assert_eq!(counts.len(), 3);
    assert!(counts.values().all(|&c| c > 150), "{counts:?}");
}

#[test]
fn generating_a_webhook_is_cheap() {
    // The engine plans every request on its hot path. The aim is a few µs in release;
    // this debug-build bound only catches gross regressions.
    let mut u = VirtualUser::new(builtin("throughput"), MEDIUM, 13);
    let started = Instant::now();
    let mut bytes = 0;
    for i in 0..20_000 {
        for r in u.next_task(Duration::from_millis(i)) {
            bytes += r.body.map_or(0, |b| b.len());
        }
    }
    let per_task = started.elapsed() / 20_000;
    eprintln!("webhook planning: {per_task:?} per task, {} bytes per body", bytes / 20_000);
    assert!(bytes > 20_000 * 300);
    assert!(per_task < Duration::from_micros(200), "{per_task:?} per task");
}
