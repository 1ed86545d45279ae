use super::text::{cut, wrap};
use super::*;
use crate::metrics::summary::RunSummary;
use unicode_width::UnicodeWidthStr;

fn console(terminal: bool, verbosity: Verbosity) -> Console<Vec<u8>, Vec<u8>> {
    Console::new(Vec::new(), Vec::new(), Mode { terminal, width: Some(40), verbosity })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cut_keeps_within_the_width_and_marks_the_cut() {
    assert_eq!(cut("short", 10), "short");
    let c = cut("[1/3 smoke ✔ 00:04/00:06] users 5 | 28.0 req/s", 20);
    assert!(c.width() <= 20 && c.ends_with('…'), "{c:?}");
    assert_eq!(cut("abc", 0), "");
}

#[test]
fn wrap_breaks_at_spaces_keeps_the_indent_and_cuts_long_words() {
    let long = format!("  ! {} then {}", "word ".repeat(20), "x".repeat(90));
    let lines = wrap(&long, 40);
    assert!(lines.len() > 3, "{lines:?}");
    assert!(lines[0].starts_with("  ! "), "{lines:?}");
    for l in &lines {
        assert!(l.width() < 40, "{l:?} in {lines:?}");
    }
    assert!(lines[1].starts_with("      "), "continuations are indented: {lines:?}");
    let joined: String = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    assert_eq!(joined.replace(' ', ""), long.replace(' ', ""), "nothing is lost");
}

#[test]
fn a_terminal_gets_events_on_their_own_lines_above_the_progress_line() {
    let mut c = console(true, Verbosity::Normal);
    c.progress("[1/1 p 00:01/00:05] users 5 | 28.0 req/s | 7.0 fail/s | p50 2.0 p95 6.0 p99 10.3 ms".into());
    c.line("  ! 1 × HTTP 500 on POST /webhook");
    c.progress("[1/1 p 00:02/00:05] users 5".into());
    c.end_progress();
    let out = text(&c.out);
    // What the terminal keeps of each row is what follows its last `\r`.
    for row in out.split('\n') {
        let shown = row.rsplit('\r').next().unwrap_or_default().replace("\x1b[K", "");
        assert!(shown.width() < 40, "{shown:?} in {out:?}");
        assert!(!(shown.contains('!') && shown.contains("[1/1")), "glued: {shown:?}");
    }
    assert!(out.contains("\r\x1b[K  ! 1 × HTTP 500"), "the progress line is cleared first: {out:?}");
    assert!(out.ends_with("\r\x1b[K"), "the progress line is taken down at the end: {out:?}");
}

#[test]
fn plain_output_has_no_control_characters_and_at_most_a_progress_line_a_second() {
    let mut c = console(false, Verbosity::Normal);
    for n in 0..5 {
        c.progress(format!("[1/1 p] {n} {}", "x".repeat(60)));
    }
    c.line("✔ p: 10 requests");
    let out = text(&c.out);
    assert!(!out.contains('\r') && !out.contains('\x1b'), "{out:?}");
    assert_eq!(out.lines().filter(|l| l.starts_with("[1/1")).count(), 1, "{out:?}");
    assert!(out.contains(&"x".repeat(60)), "a pipe's lines are not cut: {out:?}");
}

#[test]
fn quiet_prints_the_verdict_and_warnings_only() {
    let mut c = console(true, Verbosity::Quiet);
    c.progress("[1/1 p] users 5".into());
    c.line("▶ phase 1 p (00:05)");
    c.warn("warning: the target went away");
    c.verdict("PASS: p");
    assert_eq!(text(&c.out), "PASS: p\n");
    assert_eq!(text(&c.err), "warning: the target went away\n");
}

#[test]
fn request_errors_show_the_first_few_then_say_where_the_rest_are() {
    let mut c = console(false, Verbosity::Normal);
    for _ in 0..9 {
        c.event(&Event::RequestError("1 × HTTP 500 on POST /webhook".into()));
    }
    let out = text(&c.out);
    assert_eq!(out.lines().count(), REQUEST_ERRORS_SHOWN + 1, "{out}");
    assert!(out.lines().last().is_some_and(|l| l.contains("more errors")), "{out}");
}

fn golden() -> RunSummary {
    serde_json::from_str(include_str!("../../../tests/fixtures/summary_v2_golden.json"))
        .expect("the golden summary")
}

#[test]
fn the_end_summary_fits_80_columns_and_widens_from_120() {
    let mut run = golden();
    run.experiments[0].name = "a_phase_name_much_longer_than_any_column_gives_it".into();
    let printed = HashSet::new();
    let narrow = summary::lines(&summary::View { run: &run, width: 80, verbose: true }, &printed);
    let table: Vec<&String> = narrow.iter().skip(1).take(run.experiments.len() + 1).collect();
    for line in &table {
        assert!(line.width() < 80, "{line:?}");
        assert!(!line.contains("p95") && !line.contains("dedup"), "narrow drops whole columns: {line:?}");
    }
    assert!(table[1].contains('…'), "a long name is cut, marked: {:?}", table[1]);
    let wide = summary::lines(&summary::View { run: &run, width: 160, verbose: false }, &printed);
    assert!(wide[1].contains("p95 ms") && wide[1].contains("dedup"), "{:?}", wide[1]);
    assert!(wide.iter().all(|l| l.width() < 160), "{wide:#?}");
}

#[test]
fn details_and_messages_already_printed_are_left_out() {
    let mut run = golden();
    run.notes = vec!["the target restarted".into(), "a note nobody saw".into()];
    let mut printed = HashSet::new();
    printed.insert("the target restarted".to_string());
    let normal = summary::lines(&summary::View { run: &run, width: 80, verbose: false }, &printed);
    assert!(normal.iter().any(|l| l.starts_with("1 note(s)")), "{normal:#?}");
    let verbose = summary::lines(&summary::View { run: &run, width: 80, verbose: true }, &printed);
    assert!(verbose.contains(&"note: a note nobody saw".to_string()), "{verbose:#?}");
    assert!(!verbose.iter().any(|l| l.contains("the target restarted")), "printed once: {verbose:#?}");
}

#[test]
fn the_verdict_says_pass_or_every_reason_it_failed() {
    let mut run = golden();
    assert!(verdict_line(&run).starts_with("PASS: "), "{}", verdict_line(&run));
    assert!(verdict_line(&run).ends_with(&format!("seed {}", run.seed)));
    run.passed = false;
    run.fail_reasons = vec!["every request of phase x failed".into()];
    run.status = crate::metrics::summary::RunStatus::Aborted;
    run.experiments[0].status = crate::metrics::summary::PhaseStatus::Aborted;
    let line = verdict_line(&run);
    assert!(line.starts_with("FAILED: every request of phase x failed; "), "{line}");
    assert!(line.contains(&format!("aborted in phase {} after", run.experiments[0].name)), "{line}");
}

#[test]
fn a_phase_cut_short_is_not_marked_done() {
    let mut c = console(false, Verbosity::Normal);
    let mut phase = golden().experiments.remove(0);
    c.event(&Event::PhaseFinished { index: 0, summary: Box::new(phase.clone()) });
    phase.status = crate::metrics::summary::PhaseStatus::Aborted;
    c.event(&Event::PhaseFinished { index: 0, summary: Box::new(phase) });
    let out = text(&c.out);
    let marks: Vec<&str> = out.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(marks, ["✔", "✗"], "{out}");
}
