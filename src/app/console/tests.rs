use super::text::{cut, wrap};
use super::*;
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
