//! JUnit XML for CI systems (GitHub, GitLab, Jenkins read it): one `<testsuite>` per suite
//! of the run (and one called `run` for run-wide thresholds and the verdict), one
//! `<testcase>` per threshold and per phase validity verdict, each failure carrying the
//! figures. The common schema (Jenkins' junit-10.xsd, which GitLab and junitparser follow).

use crate::metrics::summary::{PhaseSummary, RunSummary, ThresholdResult};

use super::escape::xml;

struct Case {
    classname: String,
    name: String,
    time_s: f64,
    /// (message, details) when it failed.
    failure: Option<(String, String)>,
}

/// `≥` for a floor (`min_rps`), `≤` for the ceilings.
fn comparator(metric: &str) -> &'static str {
    if metric.starts_with("min_") { "≥" } else { "≤" }
}

fn threshold_case(classname: &str, t: &ThresholdResult) -> Case {
    let cmp = comparator(&t.metric);
    let name = format!("{} {} {cmp} {}", t.scope, t.metric, t.limit);
    let untrusted =
        if t.untrustworthy { " (the phase was generator-bound: the figure is the generator's)" } else { "" };
    let failure = (!t.passed).then(|| {
        (
            format!("{} {} = {:.3}, limit {cmp} {}", t.scope, t.metric, t.actual, t.limit),
            format!("threshold {} {cmp} {} failed: actual {:.3}{untrusted}", t.metric, t.limit, t.actual),
        )
    });
    Case { classname: classname.to_string(), name, time_s: 0.0, failure }
}

fn validity_case(classname: &str, p: &PhaseSummary) -> Option<Case> {
    let v = p.validity.as_ref()?;
    let failure = (!v.is_valid()).then(|| {
        (
            format!("{}: generator-bound — the figures measure the generator, not the target", p.name),
            format!(
                "{}\ngenerator CPU {:.0} % of {} cores, worst stall {:.0} ms",
                v.reasons.join("\n"),
                v.generator_cpu_share * 100.0,
                v.cores,
                v.worst_stall_ms
            ),
        )
    });
    Some(Case {
        classname: classname.to_string(),
        name: format!("{} validity", p.name),
        time_s: p.duration_s,
        failure,
    })
}

fn suite_xml(out: &mut String, name: &str, cases: &[Case], timestamp: &str) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let time: f64 = cases.iter().map(|c| c.time_s).sum();
    putln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\"{}>",
        xml(name),
        cases.len(),
        if timestamp.is_empty() { String::new() } else { format!(" timestamp=\"{}\"", xml(timestamp)) }
    );
    for c in cases {
        let head = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            xml(&c.classname),
            xml(&c.name),
            c.time_s
        );
        match &c.failure {
            None => {
                putln!(out, "{head}/>");
            }
            Some((message, details)) => {
                putln!(
                    out,
                    "{head}>\n      <failure message=\"{}\" type=\"threshold\">{}</failure>\n    </testcase>",
                    xml(message),
                    xml(details)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// The whole document.
pub fn render(s: &RunSummary) -> String {
    // Suites in run order, each with its phases' thresholds and validity verdicts.
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    for p in &s.experiments {
        let suite = if p.suite.is_empty() { "phases".to_string() } else { p.suite.clone() };
        let classname = format!("terrafix.{suite}.{}", p.name);
        let mut cases: Vec<Case> = p.thresholds.iter().map(|t| threshold_case(&classname, t)).collect();
        cases.extend(validity_case(&classname, p));
        match suites.iter_mut().find(|(n, _)| *n == suite) {
            Some((_, list)) => list.extend(cases),
            None => suites.push((suite, cases)),
        }
    }
    let mut run_cases: Vec<Case> = s.thresholds.iter().map(|t| threshold_case("terrafix.run", t)).collect();
    // The exit status as a test, so a failure policy that tripped without a threshold shows too.
    run_cases.push(Case {
        classname: "terrafix.run".into(),
        name: "run verdict".into(),
        time_s: 0.0,
        failure: (!s.passed).then(|| {
            let failed = s.thresholds.iter().chain(s.experiments.iter().flat_map(|p| &p.thresholds));
            (
                format!(
                    "run {} failed ({} threshold(s) failed)",
                    s.run_id,
                    failed.filter(|t| !t.passed).count()
                ),
                format!("status {:?}; see experiment_report.md in the run folder", s.status).to_lowercase(),
            )
        }),
    });
    suites.push(("run".into(), run_cases));
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites.iter().flat_map(|(_, c)| c).filter(|c| c.failure.is_some()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    putln!(
        out,
        "<testsuites name=\"terrafix-tui {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        xml(&s.run_id)
    );
    // The schema's timestamp is a local ISO 8601 time without a zone: `2026-12-07T01:02:03`.
    let timestamp = s.started_at.get(..19).filter(|t| t.as_bytes().get(10) == Some(&b'T')).unwrap_or("");
    for (name, cases) in &suites {
        suite_xml(&mut out, name, cases, timestamp);
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(xml("a<b & \"c\"\u{1}'"), "a&lt;b &amp; &quot;c&quot;&apos;");
    }
}
