//! The run's one self-contained HTML report (CSS inline, each chart as inline SVG or a
//! base64 PNG, whichever is smaller): run facts, the findings, one table row per phase,
//! thresholds, failures by kind, the capacity steps, then the charts with a caption saying
//! what to look at. `charts_report.html` is kept as a pointer to it for old bookmarks.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::charts::{CHARTS, ChartSpec};
use super::plain::failures_by_kind;
use super::{CHARTS_DIR, ReportError};
use crate::analysis::Finding;
use crate::metrics::summary::{CapacityReport, PhaseSummary, RunSummary, ThresholdResult};

/// The run's one-page HTML summary, written in the run folder.
pub const SUMMARY_HTML_FILE: &str = "experiment_summary.html";
/// The seed's chart page name, kept so its links work: it points to `experiment_summary.html`, which holds the charts.
pub const CHARTS_REPORT_FILE: &str = "charts_report.html";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The report: findings and tables first, charts after.
    Summary,
    /// A pointer to the report, for bookmarks of the time when the charts had a page of
    /// their own.
    Charts,
}

/// The page's style, coloured from [`crate::palette`]: passes in the success green,
/// failures and problems in the one red, secondary text muted. Warnings are amber, a text
/// colour no chart series uses.
fn css() -> String {
    use crate::palette::{FAILURE, MUTED, P50, THROUGHPUT, hex};
    let (pass, fail, muted, info) = (hex(THROUGHPUT), hex(FAILURE), hex(MUTED), hex(P50));
    format!(
        "body{{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:1700px;color:#222;padding:0 1em}}\
h1{{font-size:1.6em}}h2{{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}}\
table{{border-collapse:collapse;margin:.5em 0;font-size:.9em}}\
th,td{{border:1px solid #ddd;padding:.3em .6em;text-align:right}}th{{background:#f3f3f3}}\
td.t,th.t{{text-align:left}}tr:nth-child(even) td{{background:#fafafa}}\
.pass{{color:{pass};font-weight:bold}}.fail{{color:{fail};font-weight:bold}}.muted{{color:{muted}}}\
figure{{margin:1.5em 0}}figure img,figure svg{{max-width:100%;height:auto;border:1px solid #ddd}}figcaption{{color:#555}}\
ul.findings li{{margin:.3em 0}}.sev{{display:inline-block;min-width:5.5em;font-weight:bold}}\
.sev-problem{{color:{fail}}}.sev-warning{{color:#b26a00}}.sev-info{{color:{info}}}\
details{{margin:.5em 0}}summary{{cursor:pointer}}"
    )
}

/// One chart as it goes into a report.
pub enum Embed {
    Png(Vec<u8>),
    /// A whole SVG document (no XML declaration), placed inline.
    Svg(String),
}

impl Embed {
    /// The smaller of the two as it would sit in the page (base64 grows a PNG by 4/3).
    pub fn smaller(png: Vec<u8>, svg: Option<String>) -> Self {
        match svg {
            Some(svg) if svg.len() < png.len().div_ceil(3) * 4 => Self::Svg(svg),
            _ => Self::Png(png),
        }
    }
}

/// Where a report's charts come from: drawn just now, or the PNGs already on disk.
pub enum Charts<'a> {
    Drawn(&'a [(&'static ChartSpec, Embed)]),
    OnDisk,
}

pub fn write(
    run_dir: &Path,
    summary: &RunSummary,
    findings: &[Finding],
    kind: Kind,
    charts: &Charts<'_>,
) -> Result<PathBuf, ReportError> {
    let file = match kind {
        Kind::Summary => SUMMARY_HTML_FILE,
        Kind::Charts => CHARTS_REPORT_FILE,
    };
    let path = run_dir.join(file);
    let page = match kind {
        Kind::Summary => render(run_dir, summary, findings, charts),
        Kind::Charts => pointer(summary),
    };
    // Temp file + rename: a reader never sees half a report.
    super::files::write_atomic(&path, page.as_bytes())
        .map_err(|e| ReportError::Write { path: e.path, source: e.source })?;
    Ok(path)
}

fn render(run_dir: &Path, s: &RunSummary, findings: &[Finding], drawn: &Charts<'_>) -> String {
    let title = format!("Experiment summary — {}", s.run_id);
    let mut out = String::with_capacity(64 * 1024);
    put!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        css(),
        esc(&title)
    );
    metadata(&mut out, s);
    findings_list(&mut out, findings);
    phases(&mut out, &s.experiments);
    generators(&mut out, s);
    validity_details(&mut out, s);
    thresholds(&mut out, s);
    failures(&mut out, &s.experiments);
    if let Some(capacity) = &s.capacity {
        capacity_table(&mut out, capacity);
    }
    charts(&mut out, run_dir, drawn);
    out.push_str("</body></html>\n");
    out
}

/// `charts_report.html`: the charts are in the report now; this page sends a reader there.
fn pointer(s: &RunSummary) -> String {
    let title = format!("Charts — {}", s.run_id);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta http-equiv=\"refresh\" content=\"0; url={SUMMARY_HTML_FILE}#charts\"><style>{css}</style></head><body>\n\
         <h1>{t}</h1>\n<p>The charts are part of the run's report: <a href=\"{SUMMARY_HTML_FILE}#charts\">{SUMMARY_HTML_FILE}</a>.</p>\n</body></html>\n",
        t = esc(&title),
        css = css()
    )
}

/// What the run showed, most serious first, each with the figures it rests on.
fn findings_list(out: &mut String, findings: &[Finding]) {
    out.push_str("<h2 id=\"findings\">Findings</h2>\n");
    if findings.is_empty() {
        out.push_str("<p class=\"muted\">Nothing stood out beyond the noise: no saturation, queueing, error onset or invalid phase was found.</p>\n");
        return;
    }
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out.push_str("<ul class=\"findings\">\n");
    for f in sorted {
        let label = f.severity.label();
        put!(
            out,
            "<li data-finding=\"{id}\"><span class=\"sev sev-{label}\">{label}</span> {text}",
            id = f.id,
            text = esc(&f.text)
        );
        if !f.evidence.is_empty() {
            let evidence: Vec<String> = f.evidence.iter().map(|e| esc(&e.describe())).collect();
            put!(out, " <span class=\"muted\">({})</span>", evidence.join("; "));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

/// Whether each phase's numbers can be trusted, in words, with the generator's own
/// figures folded away for those who want them.
fn validity_details(out: &mut String, s: &RunSummary) {
    let judged: Vec<&PhaseSummary> = s.experiments.iter().filter(|p| p.validity.is_some()).collect();
    if judged.is_empty() {
        return;
    }
    let bound: Vec<&str> = judged
        .iter()
        .filter(|p| p.validity.as_ref().is_some_and(|v| !v.is_valid()))
        .map(|p| p.name.as_str())
        .collect();
    out.push_str("<h2>Can these numbers be trusted?</h2>\n");
    if bound.is_empty() {
        out.push_str("<p class=\"pass\">Yes: the load generator kept up with its schedule in every phase, so the latencies above are the target's.</p>\n");
    } else {
        putln!(
            out,
            "<p class=\"fail\">Not for {}: the load generator fell behind its own schedule (busy CPU, late sends or dropped arrivals), so those phases' latencies say more about the generator than about the target.</p>",
            esc(&bound.join(", "))
        );
    }
    let details: Vec<String> = s
        .experiments
        .iter()
        .flat_map(|p| {
            p.validity_line()
                .into_iter()
                .chain(p.resilience_lines())
                .chain(p.detail_lines())
                .map(move |l| format!("{}: {l}", p.name))
        })
        .collect();
    if !details.is_empty() {
        out.push_str(
            "<details><summary>Details: validity, retries, faults and generators per phase</summary>\n<ul>",
        );
        for line in &details {
            put!(out, "<li>{}</li>", esc(line));
        }
        out.push_str("</ul></details>\n");
    }
}

/// What to look at in each chart, under it.
fn caption(file: &str) -> &'static str {
    match file {
        "throughput_timeline.png" => {
            "Requests and failures per second over the run, with users on the right axis: flat throughput while users grow means the target is saturated."
        }
        "latency_over_time.png" => {
            "p50, p95 and p99 second by second: a rising line within a phase is a queue building up."
        }
        "latency_percentiles.png" => {
            "Each phase's percentiles side by side: the gap between p50 and p99 is the tail."
        }
        "latency_distribution.png" => {
            "The whole latency distribution per phase: a second hump is a second population of requests (retries, timeouts, a cold path)."
        }
        "throughput_vs_latency.png" => {
            "Throughput against latency across phases: the knee is where more load buys latency instead of throughput."
        }
        "success_failure.png" => "Successes and failures per phase, by failure kind.",
        "latency_heatmap.png" => {
            "How many requests took how long, second by second: bands that climb are a queue; a blank column is a second without answers."
        }
        "server_view.png" => {
            "The client's view beside the server's own counters and latencies: a gap is time spent outside the server (network, generator, queues)."
        }
        "resources.png" => {
            "CPU and memory of the target's containers or threads: a flat 100 % is a CPU-bound target."
        }
        "comparison.png" => {
            "Success rate and p99 per phase, each against its own threshold (or the seed's 95 % reference)."
        }
        "recovery.png" => {
            "Around each fault window: how fast success rate and p99 came back, and how much retries amplified the load."
        }
        _ => "",
    }
}

fn metadata(out: &mut String, s: &RunSummary) {
    let verdict = if s.passed {
        "<span class=\"pass\">✓ passed</span>"
    } else {
        "<span class=\"fail\">✗ failed</span>"
    };
    let target =
        if s.target_url.is_empty() { s.target.clone() } else { format!("{} ({})", s.target, s.target_url) };
    let rows = [
        ("Profile", esc(&s.profile)),
        ("Description", esc(&s.description)),
        ("Target", esc(&target)),
        ("Seed", s.seed.to_string()),
        ("Time scale", format!("{}", s.time_scale)),
        ("Started", esc(&s.started_at)),
        ("Finished", esc(&s.finished_at)),
        ("Status", format!("{} — {verdict}", esc(&format!("{:?}", s.status).to_lowercase()))),
        ("Tool", esc(&format!("{} {}", s.tool, s.tool_version))),
        ("Connection", connection_text(s)),
        (
            "Target settings",
            esc(s.restore.as_ref().map_or(
                if s.connection.configure_target { "not changed" } else { "left alone (--no-configure)" },
                |r| r.message.as_str(),
            )),
        ),
    ];
    out.push_str("<h2>Run</h2>\n<table class=\"meta\">\n");
    for (k, v) in rows {
        putln!(out, "<tr><th class=\"t\">{k}</th><td class=\"t\">{v}</td></tr>");
    }
    out.push_str("</table>\n");
    let phase_notes: Vec<String> = s
        .experiments
        .iter()
        .flat_map(|p| p.settings_not_applied.iter().map(move |n| format!("phase {}: {n}", p.name)))
        .collect();
    if !s.notes.is_empty() || !phase_notes.is_empty() {
        out.push_str("<ul>");
        for n in &phase_notes {
            put!(out, "<li>{}</li>", esc(n));
        }
        for n in &s.notes {
            put!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>\n");
    }
}

/// TLS, timeouts and header names; `--insecure` stands out.
fn connection_text(s: &RunSummary) -> String {
    let c = &s.connection;
    if c.tls.is_empty() {
        return "<span class=\"muted\">not recorded</span>".into();
    }
    let tls = if c.insecure { format!("<span class=\"fail\">{}</span>", esc(&c.tls)) } else { esc(&c.tls) };
    let headers = if c.headers.is_empty() {
        String::new()
    } else {
        format!(" · headers {}", esc(&c.headers.join(", ")))
    };
    // Summaries from before the protocol was recorded were all HTTP/1.1.
    let protocol = if c.protocol.is_empty() { "HTTP/1.1" } else { c.protocol.as_str() };
    format!(
        "{tls} · {} · request timeout {:.1} s · connect timeout {:.1} s{headers}",
        esc(protocol),
        c.request_timeout_s,
        c.connect_timeout_s
    )
}

fn phases(out: &mut String, phases: &[PhaseSummary]) {
    out.push_str("<h2>Phases</h2>\n<table class=\"phases\">\n<tr><th>#</th><th class=\"t\">suite</th><th class=\"t\">phase</th><th class=\"t\">status</th><th>requests</th><th>failures</th><th>success</th><th>rps</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>dedup: dup sent / server hits</th><th class=\"t\">thresholds</th></tr>\n");
    for (i, p) in phases.iter().enumerate() {
        let hits = p.dedup.server_hits.map_or("—".to_string(), |h| h.to_string());
        let checks = if p.thresholds.is_empty() {
            "<span class=\"muted\">none</span>".to_string()
        } else {
            p.thresholds.iter().map(threshold_badge).collect::<Vec<_>>().join(" ")
        };
        putln!(
            out,
            "<tr class=\"phase\" data-phase=\"{name}\"><td>{n}</td><td class=\"t\">{suite}</td><td class=\"t\">{name}</td><td class=\"t\">{status}</td><td>{req}</td><td>{fail}</td><td>{success}</td><td>{rps:.2}</td><td>{p50:.1}</td><td>{p95:.1}</td><td>{p99:.1}</td><td>{max:.1}</td><td>{dup} / {hits}</td><td class=\"t\">{checks}</td></tr>",
            n = i + 1,
            suite = esc(&p.suite),
            name = esc(&p.name),
            status = esc(&format!("{:?}", p.status).to_lowercase()),
            req = p.summary.total_requests,
            fail = failures_cell(p),
            success = success_cell(p),
            rps = p.summary.requests_per_sec,
            p50 = p.latency_ms.p50,
            p95 = p.latency_ms.p95,
            p99 = p.latency_ms.p99,
            max = p.latency_ms.max,
            dup = p.dedup.duplicates_sent,
        );
    }
    out.push_str("</table>\n");
}

/// The success rate, red only when the phase's own `error_rate` limit failed; a phase
/// without one is marked when under the seed's 95 % reference, and says which it is.
fn success_cell(p: &PhaseSummary) -> String {
    let text = crate::metrics::summary::format_success_rate(p.success_rate_percent());
    if !p.success_shown_failed() {
        return text;
    }
    match p.thresholds.iter().find(|t| t.metric == "error_rate") {
        Some(t) => format!(
            "<span class=\"fail\" title=\"the phase's own error-rate limit was missed\">{text}</span> <span class=\"muted\">(error-rate limit {} missed)</span>",
            fmt(t.limit)
        ),
        None => format!(
            "<span class=\"fail\" title=\"no error-rate limit of its own: judged against the seed harness's 95 % success reference\">{text}</span> <span class=\"muted\">(&lt; seed's 95 % reference)</span>"
        ),
    }
}

/// The failed requests, plus the batch items that failed inside HTTP 200 answers when any did.
fn failures_cell(p: &PhaseSummary) -> String {
    if p.batch_items_failed == 0 {
        p.summary.failure_count.to_string()
    } else {
        format!(
            "{} <span class=\"muted\" title=\"items of /batch posts reported failed inside HTTP 200 answers\">+{} batch items</span>",
            p.summary.failure_count, p.batch_items_failed
        )
    }
}

fn threshold_badge(t: &ThresholdResult) -> String {
    let (class, mark) = if t.passed { ("pass", "✓") } else { ("fail", "✗") };
    format!(
        "<span class=\"{class}\">{mark} {} {} (limit {})</span>",
        esc(&t.metric),
        fmt(t.actual),
        fmt(t.limit)
    )
}

fn thresholds(out: &mut String, s: &RunSummary) {
    if s.thresholds.is_empty() {
        return;
    }
    out.push_str("<h2>Run thresholds</h2>\n<table><tr><th class=\"t\">metric</th><th>limit</th><th>actual</th><th class=\"t\">result</th></tr>\n");
    for t in &s.thresholds {
        let result = if t.passed {
            "<span class=\"pass\">✓ pass</span>"
        } else {
            "<span class=\"fail\">✗ fail</span>"
        };
        putln!(
            out,
            "<tr><td class=\"t\">{}</td><td>{}</td><td>{}</td><td class=\"t\">{result}</td></tr>",
            esc(&t.metric),
            fmt(t.limit),
            fmt(t.actual)
        );
    }
    out.push_str("</table>\n");
}

/// A distributed run's workers per phase (node, requests, p99, CPU, lost) and the network mode.
fn generators(out: &mut String, s: &RunSummary) {
    let Some(d) = &s.distributed else { return };
    let mode = if d.network.is_empty() { String::new() } else { format!(" on the {} network", d.network) };
    putln!(
        out,
        "<h2>Generators</h2>\n<p>{} worker task(s) of {}{}</p>\n<ul>",
        d.workers,
        esc(&d.service),
        esc(&mode)
    );
    for p in s.experiments.iter().filter(|p| !p.workers.is_empty()) {
        for w in &p.workers {
            putln!(out, "<li>{}: {}</li>", esc(&p.name), esc(&w.row()));
        }
    }
    out.push_str("</ul>\n");
}

fn failures(out: &mut String, phases: &[PhaseSummary]) {
    out.push_str("<h2>Failures by kind</h2>\n");
    if phases.iter().all(|p| failures_by_kind(p).is_empty()) {
        out.push_str("<p class=\"muted\">No failures in any phase.</p>\n");
        return;
    }
    out.push_str("<table class=\"failures\"><tr><th class=\"t\">phase</th><th class=\"t\">kind</th><th class=\"t\">request</th><th>count</th><th class=\"t\">first seen</th><th class=\"t\">last seen</th><th class=\"t\">example</th></tr>\n");
    for p in phases {
        for f in &p.failures {
            putln!(
                out,
                "<tr><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t\">{} {}</td><td>{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>",
                esc(&p.name),
                esc(&f.kind),
                esc(&f.method),
                esc(&f.name),
                f.count,
                esc(or_dash(&f.first_seen)),
                esc(or_dash(&f.last_seen)),
                esc(&shorten(&f.error, 160)),
            );
        }
    }
    out.push_str("</table>\n");
}

fn capacity_table(out: &mut String, c: &CapacityReport) {
    let knee = c
        .max_sustainable_rps
        .map_or("none: even the first step failed".to_string(), |r| format!("{r:.1} req/s"));
    putln!(
        out,
        "<h2>Capacity search</h2>\n<p>Limits: p99 ≤ {} ms, error rate ≤ {}. Maximum sustainable throughput: <b>{}</b>.</p>",
        fmt(c.p99_limit_ms),
        fmt(c.max_error_rate),
        esc(&knee)
    );
    out.push_str("<table class=\"capacity\"><tr><th class=\"t\">step</th><th>target rps</th><th>achieved rps</th><th>p99 ms</th><th>error rate</th><th>dropped</th><th class=\"t\">result</th></tr>\n");
    for s in &c.steps {
        let result =
            if s.passed { "<span class=\"pass\">✓</span>" } else { "<span class=\"fail\">✗</span>" };
        putln!(
            out,
            "<tr><td class=\"t\">{}</td><td>{:.1}</td><td>{:.2}</td><td>{:.1}</td><td>{:.4}</td><td>{}</td><td class=\"t\">{result}</td></tr>",
            esc(&s.phase),
            s.target_rps,
            s.achieved_rps,
            s.p99_ms,
            s.error_rate,
            s.dropped
        );
    }
    out.push_str("</table>\n");
}

fn charts(out: &mut String, run_dir: &Path, drawn: &Charts<'_>) {
    let dir = run_dir.join(CHARTS_DIR);
    let on_disk: Vec<(&'static ChartSpec, Embed)>;
    let present: &[(&'static ChartSpec, Embed)] = match drawn {
        Charts::Drawn(list) => list,
        Charts::OnDisk => {
            on_disk = CHARTS
                .iter()
                .filter_map(|c| {
                    crate::fsio::read_capped(&dir.join(c.file), crate::fsio::CHART_CAP, "the chart")
                        .ok()
                        .map(|bytes| (c, Embed::Png(bytes)))
                })
                .collect();
            &on_disk
        }
    };
    out.push_str("<h2 id=\"charts\">Charts</h2>\n");
    if present.is_empty() {
        out.push_str("<p class=\"muted\">No charts were rendered for this run; <code>terrafix-tui charts &lt;RUN_DIR&gt;</code> draws them.</p>\n");
        return;
    }
    for (chart, embed) in present {
        let title = esc(chart.title);
        match embed {
            Embed::Png(bytes) => {
                let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                put!(out, "<figure><img alt=\"{title}\" src=\"data:image/png;base64,{data}\">");
            }
            Embed::Svg(svg) => {
                put!(out, "<figure role=\"img\" aria-label=\"{title}\">{svg}");
            }
        }
        putln!(
            out,
            "<figcaption><b>{title}</b> ({file}). {what}</figcaption></figure>",
            file = chart.file,
            what = esc(caption(chart.file))
        );
    }
}

fn esc(text: &str) -> String {
    super::escape::xml(text)
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "—" } else { text }
}

fn shorten(text: &str, max: usize) -> String {
    super::charts::truncate(text, max)
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}").trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::esc("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }
}
