//! `terrafix-tui compare RUN_A RUN_B`: compares the runs' shared phases with intervals,
//! prints a table (or JSON), draws `compare.png` when asked, and turns `--fail-if-slower`
//! into the exit code: 0 pass, 1 detectably slower past the limit, 2 bad input or a gate
//! that would judge a phase that was not valid (without `--allow-invalid`).

use std::process::ExitCode;

use crate::cli::{CompareArgs, GateMetric};
use crate::metrics::compare::{Comparison, GateBreach, Metric, Settings};
use crate::report::{self, RenderOptions};

use super::UsageError;

/// What `--json` prints: the comparison, and the gate's outcome when one was asked for.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    /// `null` without `--fail-if-slower`.
    gate: Option<&'a Gate>,
}

#[derive(serde::Serialize)]
struct Gate {
    metric: Metric,
    limit_pct: f64,
    passed: bool,
    breaches: Vec<GateBreach>,
    /// Phases whose gated row is not comparable, each with why; the gate is not judged on
    /// them unless `--allow-invalid` (then it is, and they are listed still).
    not_comparable: Vec<NotJudged>,
    /// `--allow-invalid`: the statistics' verdict was used for those phases.
    allow_invalid: bool,
}

#[derive(serde::Serialize)]
struct NotJudged {
    phase: String,
    reason: String,
}

pub async fn main(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let limit_pct = args.fail_if_slower.as_deref().map(parse_percent).transpose().map_err(UsageError)?;
    let metric = match args.on {
        GateMetric::P99 => Metric::P99,
        GateMetric::P50 => Metric::P50,
    };
    if let Some(path) = &args.chart {
        // Refused before the comparison is computed: a run's own file, a device, another file.
        crate::fsio::check_destination(path, report::compare_chart_policy())
            .map_err(|e| UsageError(e.to_string()))?;
    }
    let (a, b, phases) = (args.run_a.clone(), args.run_b.clone(), args.phases.clone());
    // Reading histograms and resampling are CPU-bound; keep them off the async workers.
    let computed = tokio::task::spawn_blocking(move || {
        let mut warnings = Vec::new();
        report::compare::compare_runs(&a, &b, &phases, &Settings::default(), &mut warnings)
            .map(|c| (c, warnings))
    })
    .await?;
    let (comparison, warnings) = computed.map_err(|e| UsageError(e.to_string()))?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let gate = limit_pct.map(|limit_pct| {
        let breaches = comparison.slower_than(metric, limit_pct, args.allow_invalid);
        let not_comparable = comparison
            .not_judged(metric)
            .into_iter()
            .map(|(phase, reason)| NotJudged { phase, reason })
            .collect::<Vec<_>>();
        let passed = breaches.is_empty() && (args.allow_invalid || not_comparable.is_empty());
        Gate { metric, limit_pct, passed, breaches, not_comparable, allow_invalid: args.allow_invalid }
    });
    // With --json, stdout holds the JSON document and nothing else.
    let say = |line: String| if args.json { eprintln!("{line}") } else { println!("{line}") };
    if args.json {
        let report = JsonReport { comparison: &comparison, gate: gate.as_ref() };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report::compare::table(&comparison));
    }
    if let Some(path) = &args.chart {
        // Exit 1 means "slower" to a CI job; a chart that cannot be written is the caller's path.
        report::render_compare_png(&comparison, path, &RenderOptions::default())
            .map_err(|e| UsageError(e.to_string()))?;
        say(format!("\nchart: {}", path.display()));
    }
    let Some(gate) = gate else { return Ok(ExitCode::SUCCESS) };
    let label = metric.label();
    if !gate.not_comparable.is_empty() {
        say(String::new());
    }
    for n in &gate.not_comparable {
        let what = if gate.allow_invalid { "judged anyway (--allow-invalid)" } else { "not judged" };
        say(format!("{}: {label} of phase {} is not comparable: {}", what, n.phase, n.reason));
    }
    if !gate.allow_invalid && !gate.not_comparable.is_empty() {
        // Neither pass nor slower: the gate would judge the generator, not the target.
        say(format!(
            "NOT JUDGED: --fail-if-slower on {label} needs phases that were valid in both runs; re-run on a \
             quieter machine, leave those phases out with --phase, or pass --allow-invalid to judge them anyway"
        ));
        return Ok(ExitCode::from(2));
    }
    if gate.passed {
        say(format!("\nPASS: no phase's {label} is detectably slower by more than {}%", gate.limit_pct));
        return Ok(ExitCode::SUCCESS);
    }
    say(String::new());
    for b in &gate.breaches {
        say(format!(
            "FAIL: {label} of phase {} is {:.1}% slower (95 % interval {:+.1}% to {:+.1}%), more than the {}% allowed",
            b.phase, b.slowdown_pct, b.interval_pct.low, b.interval_pct.high, gate.limit_pct
        ));
    }
    Ok(ExitCode::from(1))
}

/// `10%`, `10 %` or `10` → 10.0.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("--fail-if-slower expects a non-negative percentage such as 10% (got `{text}`)")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_percent;

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("10%"), Ok(10.0));
        assert_eq!(parse_percent(" 2.5 % "), Ok(2.5));
        assert_eq!(parse_percent("7"), Ok(7.0));
        assert!(parse_percent("-1%").is_err());
        assert!(parse_percent("ten").is_err());
        assert!(parse_percent("NaN").is_err());
    }
}
