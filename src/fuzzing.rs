//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_regressions.rs`: one
//! function per target, taking the fuzzer's bytes and handing them to the real parser. A
//! parser's `Err` is an answer, not a finding; a panic (or a broken invariant checked here)
//! is. Not part of the tool's interface: it exists so that a crash the fuzzer finds stays a
//! plain `cargo test` once its input is saved under `fuzz/regressions/<target>/`.
//!
//! The readers that take a path (summary, hlog, CSVs) are fed through a scratch file, so
//! they are tested as `charts` and `compare` call them, size checks and all.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::metrics::LatencyHistogram;
use crate::metrics::summary::{RunSummary, SUMMARY_FILE};

/// What a target does with the fuzzer's bytes.
pub type Entry = fn(&[u8]);

/// The targets, by the names `fuzz/fuzz_targets/` and `fuzz/corpus/` use.
pub const TARGETS: [(&str, Entry); 6] = [
    ("h1_answer", h1_answer),
    ("profile", profile),
    ("summary", summary),
    ("hlog", hlog),
    ("locust_csv", locust_csv),
    ("dotenv", dotenv),
];

/// At most this many answers are read from one input (more only repeats the same states).
const MOST_ANSWERS: usize = 4;

/// An HTTP/1.1 answer read by the load client's own parser, in pieces. The first byte's low
/// four bits say how many piece sizes follow (0: the whole answer at once); the sizes are
/// used in turn (0 counts as 1) until the answer is used up; the rest is the server's bytes.
pub fn h1_answer(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    let count = usize::from(first & 0x0f).min(rest.len());
    let (sizes, answer) = rest.split_at(count);
    let stream = Pieces { answer, sizes, next: 0 };
    let read = futures::executor::block_on(crate::engine::http::h1::read_answers(stream, MOST_ANSWERS));
    let fed = answer.len() as u64;
    for (status, body_len, kept) in read {
        assert!(body_len <= fed, "status {status}: a body of {body_len} bytes out of {fed} fed");
        assert!(kept as u64 <= body_len, "status {status}: kept {kept} bytes of a {body_len}-byte body");
    }
}

/// The server's side of `h1_answer`: each read gets the next piece, writes go nowhere.
struct Pieces<'a> {
    answer: &'a [u8],
    sizes: &'a [u8],
    next: usize,
}

impl AsyncRead for Pieces<'_> {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let size = match this.sizes {
            [] => this.answer.len(),
            sizes => usize::from(sizes[this.next % sizes.len()]).max(1),
        };
        this.next += 1;
        let n = size.min(this.answer.len()).min(buf.remaining());
        buf.put_slice(&this.answer[..n]);
        this.answer = &this.answer[n..];
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Pieces<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A profile's YAML through the loader (parse, validate), then what listings and the run's
/// plan compute from a valid one.
pub fn profile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(profile) = crate::profile::parse_str(text, "fuzz", "fuzz.yaml") else { return };
    // These three only have to run without panicking; their values are not the test.
    let _ = profile.planned_duration();
    let _ = profile.outline();
    let _ = profile.with_overrides(&crate::profile::Overrides::default());
}

/// A summary file through `RunSummary::load` (schema 1 and 2), what `compare` and the HTML
/// print of it, a write and read back (what we write must read back the same), and the run
/// folder reader `charts` uses.
pub fn summary(data: &[u8]) {
    let Some(dir) = scratch("summary") else { return };
    let path = dir.join(SUMMARY_FILE);
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(summary) = RunSummary::load(&path) else { return };
    for phase in &summary.experiments {
        // The printers only have to run without panicking; their text is not the test.
        let _ = phase.detail_lines();
        let _ = phase.validity_line();
        let _ = phase.resilience_lines();
        let _ = phase.success_rate_percent();
        let _ = crate::metrics::summary::format_success_rate(phase.success_rate_percent());
        let _ = phase.dedup.exactly_once_line();
    }
    let written = match serde_json::to_string(&summary) {
        Ok(written) => written,
        Err(e) => panic!("a summary that was read cannot be written: {e}"),
    };
    match serde_json::from_str::<RunSummary>(&written) {
        Ok(mut again) => {
            // What is written is this build's schema whatever was read; all else must hold.
            assert_eq!(again.schema_version, crate::metrics::summary::SUMMARY_SCHEMA_VERSION);
            again.schema_version = summary.schema_version;
            assert!(again == summary, "a summary written and read back differs:\n{written}");
        }
        Err(e) => panic!("a summary we wrote does not read back: {e}\n{written}"),
    }
    // The folder reader follows the paths a summary names; those that leave the folder are
    // left out here (they would read whatever the machine holds there).
    if stays_inside(&summary) {
        let mut warnings = Vec::new();
        if let Ok(mut data) = crate::report::data::load(&dir, &mut warnings) {
            // It only has to run without panicking on what the summary named.
            let _ = data.run_length_s();
            let first: Vec<String> = data.phase_names().into_iter().take(1).collect();
            data.keep_phases(&first);
        }
    }
}

/// Every file `report::data::load` would read for this summary is inside its folder.
fn stays_inside(summary: &RunSummary) -> bool {
    let relative = |p: &str| Path::new(p).components().all(|c| matches!(c, Component::Normal(_)));
    let plain = |p: &str| !p.contains(['/', '\\']) && p != ".." && p != ".";
    summary.experiments.iter().all(|phase| {
        relative(&phase.files.history_csv)
            && relative(&phase.files.hlog)
            && plain(&phase.suite)
            && plain(&phase.name)
    })
}

/// An interval log through the hlog reader, then what the charts compute from it.
pub fn hlog(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        // A decode error is an answer; only a panic is a finding.
        let _ = crate::metrics::hlog::decode_histogram(text.trim());
    }
    let Some(dir) = scratch("hlog") else { return };
    let path = dir.join("phase.hlog");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(intervals) = crate::metrics::hlog::read_hlog(&path) else { return };
    let mut all = LatencyHistogram::new();
    for interval in &intervals {
        // The charts' rate division must not panic; its value is not the test.
        let _ = interval.histogram.count() as f64 / interval.length_s.max(1e-3);
        all.merge(&interval.histogram);
    }
    for q in [0.0, 0.5, 0.99, 0.99999, 1.0] {
        // Any quantile, at the edges too, must not panic; its value is not the test.
        let _ = all.quantile_ms(q);
    }
    // As above: the maximum only has to be computable.
    let _ = all.max_ms();
}

/// The same bytes as a Locust stats, history, failures and resources CSV, then as a folder
/// of plain Locust CSVs the way `charts` reads one.
pub fn locust_csv(data: &[u8]) {
    use crate::report::locust;
    let Some(dir) = scratch("locust") else { return };
    let stats = dir.join("phase_stats.csv");
    let history = dir.join("phase_stats_history.csv");
    if std::fs::write(&stats, data).is_err() || std::fs::write(&history, data).is_err() {
        return;
    }
    let mut warnings = Vec::new();
    // Each reader only has to run without panicking; rows and warnings are not the test.
    let _ = locust::read_stats(&stats, &mut warnings);
    let _ = locust::read_history(&history, &mut warnings);
    for failure in locust::read_failures(&stats, &mut warnings) {
        // Classifying any error text must not panic; the class is not the test.
        let _ = locust::classify_error(&failure.error);
    }
    // As the readers above: only a panic would be a finding.
    let _ = locust::read_resources(&stats, &mut warnings);
    if let Ok(data) = crate::report::data::load(&dir, &mut warnings) {
        // It only has to run without panicking on what the CSVs held.
        let _ = data.run_length_s();
    }
}

/// A `.env` file's bytes through `parse_env`: names are unique, and a warning names a line
/// that exists and never repeats the line.
pub fn dotenv(data: &[u8]) {
    let (vars, warnings) = crate::app::environment::parse_env(data);
    for (i, (name, _)) in vars.iter().enumerate() {
        assert!(!name.is_empty(), "an empty variable name");
        assert!(vars[..i].iter().all(|(known, _)| known != name), "{name} twice");
    }
    let lines = data.split(|&b| b == b'\n').count();
    for warning in &warnings {
        let line: usize = warning
            .split("line ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!((1..=lines).contains(&line), "{warning:?} names no line of {lines}");
    }
}

/// This thread's scratch folder for `kind` (under the temporary folder; the fuzz script
/// points `TMPDIR` into `fuzz/target`). Threads do not share one, so tests can run in parallel.
fn scratch(kind: &str) -> Option<PathBuf> {
    let dir = scratch_root().join(kind);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// The scratch folders of this thread, for a caller that wants them gone.
pub fn scratch_root() -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    std::env::temp_dir().join(format!("terrafix-fuzz-{}-{thread}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::environment::parse_env;

    fn answers(data: &[u8]) -> Vec<(u16, u64, usize)> {
        let (&first, rest) = data.split_first().unwrap();
        let (sizes, answer) = rest.split_at(usize::from(first & 0x0f));
        futures::executor::block_on(crate::engine::http::h1::read_answers(
            Pieces { answer, sizes, next: 0 },
            MOST_ANSWERS,
        ))
    }

    #[test]
    fn an_answer_reads_the_same_whole_and_in_pieces_of_any_size() {
        let answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\n\
                       HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        let whole = answers(&[&[0u8][..], answer].concat());
        assert_eq!(whole, vec![(200, 4, 4), (201, 2, 2)]);
        for sizes in [&[1u8][..], &[0], &[2, 9], &[3, 1, 200]] {
            let input = [&[sizes.len() as u8][..], sizes, answer].concat();
            assert_eq!(answers(&input), whole, "pieces of {sizes:?}");
        }
    }

    #[test]
    fn env_files_give_their_variables_and_warnings_without_values() {
        let (vars, warnings) = parse_env(b"\xEF\xBB\xBFA=1\r\n# note\nB=\"two\nlines\"\nA=again\n");
        assert_eq!(vars, vec![("A".into(), "1".into()), ("B".into(), "two\nlines".into())]);
        assert!(warnings.is_empty(), "{warnings:?}");

        let (vars, warnings) = parse_env(b"TOKEN=ok\n\nBearer SECRETENV1\nAFTER=1\n");
        assert_eq!(vars, vec![("TOKEN".into(), "ok".into())]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("line 3 "), "{}", warnings[0]);
        assert!(!warnings[0].contains("SECRET"), "{}", warnings[0]);

        let (_, warnings) = parse_env(b"A=1\nKEY=\"secret never closed\nmore\n");
        assert!(warnings[0].contains("line 2 ") && warnings[0].contains("KEY"), "{}", warnings[0]);
        assert!(!warnings[0].contains("never closed"), "{}", warnings[0]);

        let (_, warnings) = parse_env(b"A=1\nB=\xff\n");
        assert!(warnings[0].contains("line 2 "), "{}", warnings[0]);
    }
}
