//! Findings across the phases of one suite: where throughput stops following the load
//! (saturation), and phases meant to differ by one variable that do not (isolation).

use super::{
    Evidence, Finding, ISOLATION_EFFECT, PLATEAU_FACTOR, PhaseView, SATURATION_LOAD_GROWTH, Severity,
    range_text, trim_number,
};

/// The suites in run order, each with its phases in run order.
fn suites<'v, 'a>(phases: &'v [PhaseView<'a>]) -> Vec<(&'a str, Vec<&'v PhaseView<'a>>)> {
    let mut out: Vec<(&'a str, Vec<&'v PhaseView<'a>>)> = Vec::new();
    for view in phases {
        let suite = view.phase.suite.as_str();
        match out.iter_mut().find(|(s, _)| *s == suite) {
            Some((_, list)) => list.push(view),
            None => out.push((suite, vec![view])),
        }
    }
    out
}

fn suite_label(suite: &str) -> String {
    if suite.is_empty() { "the run".into() } else { format!("suite {suite}") }
}

/// Throughput levels off while the offered load and the p50 keep growing: name the knee.
pub(super) fn saturation(phases: &[PhaseView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (suite, list) in suites(phases) {
        let mut loaded: Vec<(&PhaseView<'_>, f64, &'static str)> = list
            .iter()
            .filter(|v| v.enough())
            .filter_map(|v| v.offered().map(|(load, unit)| (*v, load, unit)))
            .collect();
        let Some(unit) = loaded.first().map(|l| l.2) else { continue };
        loaded.retain(|l| l.2 == unit);
        loaded.sort_by(|a, b| a.1.total_cmp(&b.1));
        loaded.dedup_by(|a, b| a.1 == b.1);
        if loaded.len() < 3 {
            continue;
        }
        if let Some(knee) = knee(&loaded) {
            out.push(saturation_finding(suite, &loaded, knee, unit));
        }
    }
    out
}

/// The first phase from which throughput stays flat while load and p50 both grow.
fn knee(loaded: &[(&PhaseView<'_>, f64, &str)]) -> Option<usize> {
    let last = loaded.len() - 1;
    (0..last).find(|&k| {
        let tail = &loaded[k..];
        let (lo, hi) =
            tail.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), l| (lo.min(l.0.rps()), hi.max(l.0.rps())));
        // The p50 must keep rising past the knee (a dip of a tenth is noise, more is not).
        let rising = tail.windows(2).all(|w| w[1].0.p50_ms() >= 0.9 * w[0].0.p50_ms());
        lo > 0.0
            && hi / lo <= PLATEAU_FACTOR
            && loaded[last].1 >= SATURATION_LOAD_GROWTH * loaded[k].1
            && loaded[k].0.p50_ms() > 0.0
            && loaded[last].0.p50_ms() >= SATURATION_LOAD_GROWTH * loaded[k].0.p50_ms()
            && rising
    })
}

fn saturation_finding(suite: &str, loaded: &[(&PhaseView<'_>, f64, &str)], k: usize, unit: &str) -> Finding {
    let last = loaded.len() - 1;
    let plateau = &loaded[k..];
    let mean_rps = plateau.iter().map(|l| l.0.rps()).sum::<f64>() / plateau.len() as f64;
    let first_p50 = loaded[0].0.p50_ms();
    let text = format!(
        "{}: throughput levels off at ~{} req/s from {} {unit} on ({} → {} req/s) while the load grows {} → {} {unit} \
         and p50 grows {}: the target (or something in front of it) is the bottleneck, not the load — \
         the knee is {} ({} {unit})",
        suite_label(suite),
        trim_number(mean_rps),
        trim_number(loaded[k].1),
        trim_number(loaded[k].0.rps()),
        trim_number(loaded[last].0.rps()),
        trim_number(loaded[k].1),
        trim_number(loaded[last].1),
        range_text(first_p50, loaded[last].0.p50_ms(), " → "),
        loaded[k].0.name(),
        trim_number(loaded[k].1),
    );
    let evidence = loaded
        .iter()
        .flat_map(|(v, load, unit)| {
            [
                Evidence::new(v.name(), unit, *load, ""),
                Evidence::new(v.name(), "throughput", v.rps(), "req/s"),
                Evidence::new(v.name(), "p50", v.p50_ms(), "ms"),
            ]
        })
        .collect();
    Finding { id: "saturation", severity: Severity::Warning, text, evidence }
}

/// The one repository size a phase was meant to use: its config's, or (for the seed's CSV
/// folders, which carry no config) the seed's phase-name suffix. `mixed` is no one size, so
/// a phase of mixed sizes is never half of a size comparison.
fn repo_size(view: &PhaseView<'_>) -> Option<String> {
    if let Some(size) = &view.phase.config.repo_size {
        return (size != "mixed").then(|| size.clone());
    }
    ["small", "medium", "large"]
        .iter()
        .find(|s| view.name().ends_with(&format!("_{s}")))
        .map(|s| (*s).to_string())
}

/// Phases meant to differ by one variable (repository size at equal users, or users at
/// equal size) whose throughput and p50 differ by less than half their own spread.
pub(super) fn isolation(phases: &[PhaseView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (suite, list) in suites(phases) {
        let usable: Vec<&PhaseView<'_>> = list.into_iter().filter(|v| v.enough()).collect();
        // Repository size: the same users (or rate), different sizes.
        let mut groups: Vec<Vec<&PhaseView<'_>>> = Vec::new();
        for v in usable.iter().filter(|v| repo_size(v).is_some()) {
            match groups.iter_mut().find(|g| g[0].offered() == v.offered() && same_setup(g[0], v)) {
                Some(g) => g.push(v),
                None => groups.push(vec![v]),
            }
        }
        for group in groups {
            let mut sizes: Vec<String> = group.iter().filter_map(|v| repo_size(v)).collect();
            sizes.dedup();
            if group.len() >= 2 && sizes.len() == group.len() && indistinguishable(&group) {
                out.push(isolation_finding(
                    suite,
                    &group,
                    &format!("repository size ({})", sizes.join(", ")),
                    "the workload does not isolate the size — check that each request uses its phase's size",
                ));
            }
        }
        // Users: the same size (or none), at least twice the users from lightest to heaviest.
        let mut by_size: Vec<(Option<String>, Vec<&PhaseView<'_>>)> = Vec::new();
        for v in usable.iter().filter(|v| v.users.is_some()) {
            let size = repo_size(v);
            match by_size.iter_mut().find(|(s, g)| *s == size && same_setup(g[0], v)) {
                Some((_, g)) => g.push(v),
                None => by_size.push((size, vec![v])),
            }
        }
        for (_, group) in by_size {
            let users: Vec<u32> = group.iter().filter_map(|v| v.users).collect();
            let (lo, hi) =
                (users.iter().min().copied().unwrap_or(0), users.iter().max().copied().unwrap_or(0));
            if group.len() >= 2 && lo > 0 && hi >= 2 * lo && indistinguishable(&group) {
                out.push(isolation_finding(suite, &group, &format!("users ({lo} → {hi})"),
                    "the extra users did not reach the target — check the spawn rate, think time and the generator"));
            }
        }
    }
    out
}

/// Two phases differ in nothing but the variable under test: the same behaviour and the
/// same server settings (phases that also differ in, say, failure injection were not meant
/// to isolate one variable, so their likeness says nothing).
fn same_setup(a: &PhaseView<'_>, b: &PhaseView<'_>) -> bool {
    a.phase.config.behaviour == b.phase.config.behaviour
        && a.phase.config.server_settings == b.phase.config.server_settings
}

/// Standard deviation of a sample (n − 1), `None` under five values.
fn spread(values: &[f64]) -> Option<f64> {
    if values.len() < crate::metrics::compare::MIN_SECONDS {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    Some((values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

/// A phase's second-to-second spread of throughput: the history's, or Poisson's √rate.
fn rps_spread(v: &PhaseView<'_>) -> f64 {
    let rps: Vec<f64> = v.seconds.iter().map(|s| s.rps).collect();
    spread(&rps).unwrap_or_else(|| v.rps().sqrt())
}

/// The spread of its p50: the history's per-second p50s, or the request-to-request
/// spread read off the distribution ((p95 − p50) ÷ 1.645, as for a normal one).
fn p50_spread(v: &PhaseView<'_>) -> f64 {
    let p50: Vec<f64> = v.seconds.iter().filter_map(|s| s.p50_ms).collect();
    spread(&p50).unwrap_or_else(|| ((v.p95_ms() - v.p50_ms()) / 1.645).max(0.0))
}

/// Every pair differs by less than `ISOLATION_EFFECT` × their pooled spread, in both
/// throughput and p50.
fn indistinguishable(group: &[&PhaseView<'_>]) -> bool {
    let small = |a: f64, b: f64, sa: f64, sb: f64| {
        let pooled = ((sa * sa + sb * sb) / 2.0).sqrt();
        let diff = (a - b).abs();
        if pooled > 0.0 { diff / pooled < ISOLATION_EFFECT } else { diff == 0.0 }
    };
    group.iter().enumerate().all(|(i, a)| {
        group[i + 1..].iter().all(|b| {
            small(a.rps(), b.rps(), rps_spread(a), rps_spread(b))
                && small(a.p50_ms(), b.p50_ms(), p50_spread(a), p50_spread(b))
        })
    })
}

fn isolation_finding(suite: &str, group: &[&PhaseView<'_>], variable: &str, meaning: &str) -> Finding {
    let names: Vec<&str> = group.iter().map(|v| v.name()).collect();
    let range = |f: &dyn Fn(&PhaseView<'_>) -> f64| {
        group.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(f(v)), hi.max(f(v))))
    };
    let (rlo, rhi) = range(&|v| v.rps());
    let (plo, phi) = range(&|v| v.p50_ms());
    let text = format!(
        "{}: {} were meant to differ in {variable} but their throughput ({}–{} req/s) and p50 ({}) differ by \
         less than half their own spread: {meaning}",
        suite_label(suite),
        names.join(", "),
        trim_number(rlo),
        trim_number(rhi),
        range_text(plo, phi, "–"),
    );
    let evidence = group
        .iter()
        .flat_map(|v| {
            [
                Evidence::new(v.name(), "throughput", v.rps(), "req/s"),
                Evidence::new(v.name(), "throughput spread", rps_spread(v), "req/s"),
                Evidence::new(v.name(), "p50", v.p50_ms(), "ms"),
                Evidence::new(v.name(), "p50 spread", p50_spread(v), "ms"),
            ]
        })
        .collect();
    Finding { id: "no-isolation", severity: Severity::Warning, text, evidence }
}
