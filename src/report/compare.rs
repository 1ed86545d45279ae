//! `compare`'s input and text output: reads two run folders (summary through
//! `RunSummary::load`, per-second histograms from each phase's `.hlog`), hands the phases
//! they share to `metrics::compare`, and prints the result as a table.

use std::path::{Path, PathBuf};

use crate::metrics::compare::{
    self, Comparison, Interval, Metric, MetricChange, PhaseComparison, RunRef, SecondSample, Settings,
    Verdict,
};
use crate::metrics::hlog::visit_hlog;
use crate::metrics::summary::{PhaseSummary, RunSummary, SUMMARY_FILE, SummaryError};

use super::data::{phase_file, resolve};

/// Why two folders cannot be compared. Each names the folder and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The folder has no loadable `experiment_summary.json`.
    #[error("{dir}: not a run folder: {reason}")]
    NotARun {
        /// The folder as given.
        dir: PathBuf,
        /// Why the summary did not load.
        reason: String,
    },
    /// The summary's `schema_version` is not one this build reads.
    #[error("{dir}: unknown summary schema: {reason}")]
    UnknownSchema {
        /// The folder as given.
        dir: PathBuf,
        /// The version found and the ones read.
        reason: String,
    },
    /// The two runs share no phase name.
    #[error("{a} and {b} have no phase in common (A: {in_a}; B: {in_b}); compare runs of the same profile")]
    NoCommonPhase {
        /// Run A's folder.
        a: PathBuf,
        /// Run B's folder.
        b: PathBuf,
        /// Run A's phase names, comma-separated.
        in_a: String,
        /// Run B's phase names, comma-separated.
        in_b: String,
    },
    /// `--phase` named a phase that is not in both runs.
    #[error("phase `{name}` is not in both {a} and {b}; phases in both: {common}")]
    UnknownPhase {
        /// The name as given.
        name: String,
        /// Run A's folder.
        a: PathBuf,
        /// Run B's folder.
        b: PathBuf,
        /// The phases both runs have, comma-separated.
        common: String,
    },
}

/// A run folder as `compare` needs it.
struct LoadedRun {
    dir: PathBuf,
    summary: RunSummary,
}

fn load_run(dir: &Path) -> Result<LoadedRun, CompareError> {
    let not_a_run = |reason: String| CompareError::NotARun { dir: dir.to_path_buf(), reason };
    if !dir.is_dir() {
        return Err(not_a_run("no such folder".into()));
    }
    let path = dir.join(SUMMARY_FILE);
    if !path.is_file() {
        return Err(not_a_run(format!(
            "no {SUMMARY_FILE} in it; pass a folder that `terrafix-tui run` wrote (experiment_results/<run-id>)"
        )));
    }
    match RunSummary::load(&path) {
        Ok(summary) => Ok(LoadedRun { dir: dir.to_path_buf(), summary }),
        Err(e @ SummaryError::Version { .. }) => {
            Err(CompareError::UnknownSchema { dir: dir.to_path_buf(), reason: one_line(&e.to_string()) })
        }
        Err(e) => Err(not_a_run(one_line(&e.to_string()))),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The phase's per-second histograms, or why there are none (a warning, not an error:
/// the other phases can still be compared).
fn seconds_of(run: &LoadedRun, phase: &PhaseSummary) -> Result<Vec<SecondSample>, String> {
    let path = resolve(&run.dir, &phase.files.hlog, phase_file(phase, ".hlog"))?;
    if !path.exists() {
        return Err(format!(
            "{}: missing; phase {} has no per-second histograms",
            path.display(),
            phase.name
        ));
    }
    let mut seconds = Vec::new();
    visit_hlog(&path, |i| seconds.push(SecondSample::new(i.length_s, &i.histogram)))
        .map_err(|e| e.to_string())?;
    Ok(seconds)
}

fn names(s: &RunSummary) -> Vec<&str> {
    s.experiments.iter().map(|p| p.name.as_str()).collect()
}

/// Compares the phases of run B (`b_dir`) against run A (`a_dir`) that both have, or only
/// `phases` when some are named. Warnings (a phase without histograms) go to `warnings`.
pub fn compare_runs(
    a_dir: &Path,
    b_dir: &Path,
    phases: &[String],
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Result<Comparison, CompareError> {
    let (a, b) = (load_run(a_dir)?, load_run(b_dir)?);
    let (in_a, in_b) = (names(&a.summary), names(&b.summary));
    let common: Vec<&str> = in_a.iter().copied().filter(|n| in_b.contains(n)).collect();
    if common.is_empty() {
        let list = |v: &[&str]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        return Err(CompareError::NoCommonPhase {
            a: a.dir.clone(),
            b: b.dir.clone(),
            in_a: list(&in_a),
            in_b: list(&in_b),
        });
    }
    if let Some(name) = phases.iter().find(|n| !common.contains(&n.as_str())) {
        return Err(CompareError::UnknownPhase {
            name: name.clone(),
            a: a.dir.clone(),
            b: b.dir.clone(),
            common: common.join(", "),
        });
    }
    let chosen: Vec<&str> =
        common.iter().copied().filter(|n| phases.is_empty() || phases.iter().any(|p| p == n)).collect();
    let mut compared = Vec::with_capacity(chosen.len());
    let mut pairs = Vec::with_capacity(chosen.len());
    for name in &chosen {
        // Both exist: `common` holds names found in both summaries.
        let (Some(pa), Some(pb)) = (find(&a.summary, name), find(&b.summary, name)) else { continue };
        let (sa, sb) = (seconds_of(&a, pa), seconds_of(&b, pb));
        // Without histograms the phase is still listed; its note says why it has no verdict.
        let unreadable: Vec<String> = [&sa, &sb].iter().filter_map(|r| r.as_ref().err().cloned()).collect();
        let (sa, sb) = (sa.unwrap_or_default(), sb.unwrap_or_default());
        let mut phase = compare::compare_phase(name, &pa.suite, &sa, &sb, settings);
        phase.mark_invalid(
            compare::invalid_side("A", pa.validity.as_ref()),
            compare::invalid_side("B", pb.validity.as_ref()),
        );
        pairs.push((pa, pb));
        if !unreadable.is_empty() {
            phase.note = Some(unreadable.join("; "));
        }
        warnings.extend(unreadable);
        compared.push(phase);
    }
    let only = |mine: &[&str], theirs: &[&str]| {
        mine.iter().filter(|n| !theirs.contains(n)).map(|n| n.to_string()).collect()
    };
    Ok(Comparison {
        run_a: run_ref(&a),
        run_b: run_ref(&b),
        method: settings.method(),
        phases: compared,
        only_in_a: only(&in_a, &in_b),
        only_in_b: only(&in_b, &in_a),
        differs: compare::differences(&a.summary, &b.summary, &pairs),
    })
}

fn find<'a>(s: &'a RunSummary, name: &str) -> Option<&'a PhaseSummary> {
    s.experiments.iter().find(|p| p.name == name)
}

fn run_ref(run: &LoadedRun) -> RunRef {
    let run_id = if run.summary.run_id.is_empty() {
        run.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        run.summary.run_id.clone()
    };
    RunRef { run_id, dir: run.dir.display().to_string() }
}

/// A value of `metric` as the table shows it.
pub fn value(metric: Metric, v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if metric == Metric::Rps => format!("{v:.1}"),
        Some(v) if v >= 100.0 => format!("{v:.0} ms"),
        Some(v) => format!("{v:.1} ms"),
    }
}

/// A change in percent with its sign (`+3.2%`), or `-` when unknown.
pub fn percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:+.1}%"))
}

/// An interval of a change in percent (`[-1.0%, +4.5%]`), or `-` when there is none.
pub fn interval(i: Option<Interval>) -> String {
    i.map_or("-".into(), |i| format!("[{:+.1}%, {:+.1}%]", i.low, i.high))
}

/// Beside a value of a run whose phase was not valid: its latency is the generator's.
const INVALID_MARK: &str = " !";

fn row(phase: &PhaseComparison, first: bool, m: &MetricChange) -> [String; 7] {
    let latency = m.metric != Metric::Rps;
    let marked = |v: Option<f64>, invalid: bool| {
        let mark = if invalid && latency { INVALID_MARK } else { "" };
        format!("{}{mark}", value(m.metric, v))
    };
    let verdict = match (&m.verdict, &phase.not_comparable) {
        (Verdict::NotComparable, Some(why)) => format!("not comparable: {why}"),
        (v, _) => v.label().to_string(),
    };
    [
        if first { phase.name.clone() } else { String::new() },
        m.metric.label().to_string(),
        marked(m.a.value, phase.invalid_a),
        marked(m.b.value, phase.invalid_b),
        percent(m.change_pct),
        interval(m.change_interval_pct),
        verdict,
    ]
}

/// The comparison as a plain-text table, one row per phase and metric.
pub fn table(c: &Comparison) -> String {
    let mut out = String::new();
    putln!(out, "A  {}  ({})", c.run_a.run_id, c.run_a.dir);
    putln!(out, "B  {}  ({})", c.run_b.run_id, c.run_b.dir);
    putln!(
        out,
        "change = (B - A) / A; {:.0} % interval: expanded percentile bootstrap, {} resamples of each run's seconds (seed {})\n",
        c.method.confidence * 100.0,
        c.method.resamples,
        c.method.seed
    );
    if !c.differs.is_empty() {
        putln!(out, "differs: {}\n", c.differs.join("; "));
    }
    let header = ["phase", "metric", "A", "B", "change", "95 % interval", "verdict"].map(String::from);
    let mut rows = vec![header];
    for p in &c.phases {
        for (i, m) in p.metrics.iter().enumerate() {
            rows.push(row(p, i == 0, m));
        }
    }
    let widths: Vec<usize> =
        (0..7).map(|col| rows.iter().map(|r| r[col].chars().count()).max().unwrap_or(0)).collect();
    for r in &rows {
        let mut line = String::new();
        for (col, cell) in r.iter().enumerate() {
            let pad = widths[col].saturating_sub(cell.chars().count());
            // Numbers right-aligned, words left-aligned.
            if (2..=4).contains(&col) {
                put!(line, "{}{}  ", " ".repeat(pad), cell);
            } else {
                put!(line, "{}{}  ", cell, " ".repeat(pad));
            }
        }
        putln!(out, "{}", line.trim_end());
    }
    if c.phases.iter().any(|p| p.invalid_a || p.invalid_b) {
        putln!(
            out,
            "\n{} marks a run whose phase was not valid: its latency is the generator's limit, not the target's",
            INVALID_MARK.trim()
        );
    }
    for p in c.phases.iter().filter(|p| p.note.is_some()) {
        putln!(out, "\n{}: {}", p.name, p.note.as_deref().unwrap_or_default());
    }
    if !c.only_in_a.is_empty() || !c.only_in_b.is_empty() {
        putln!(
            out,
            "\nnot compared: only in A: {}; only in B: {}",
            list_or_none(&c.only_in_a),
            list_or_none(&c.only_in_b)
        );
    }
    out
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() { "none".into() } else { v.join(", ") }
}
