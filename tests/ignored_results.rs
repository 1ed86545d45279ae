//! Every ignored result in `src/` says why it may be ignored.
//!
//! The rule this test enforces, kept simple so that a reader can apply it by eye:
//!
//! - it looks at every line of `src/**/*.rs` whose code contains `let _ =`;
//! - files named `tests.rs` are skipped, and so is everything from an unindented
//!   `#[cfg(test)]` line to the end of a file (the unit-test module);
//! - such a line is explained when it has a `//` comment of its own (at its end), or
//!   when the nearest non-blank line above it, after stepping over the consecutive
//!   `let _ =` lines directly above it (a run of them, blank lines allowed between),
//!   is a `//` comment line. One comment above a run thus covers the whole run.
//!
//! A failure lists `path:line` of each unexplained `let _ =`: either handle the result
//! (propagate it, or record it where the user sees warnings) or add the one-line reason.

use std::path::{Path, PathBuf};

/// The marker of an ignored result.
const IGNORED: &str = "let _ =";

/// Every `.rs` file under `dir`, sorted so that the failure lists are stable.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// True when the line starts (after indentation) with the marker.
fn starts_ignored(line: &str) -> bool {
    line.trim_start().starts_with(IGNORED)
}

/// True when the line is a `//` comment line.
fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with("//")
}

/// The 1-based numbers of the unexplained `let _ =` lines of one file's text.
fn unexplained(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().take_while(|line| *line != "#[cfg(test)]").collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if !line.contains(IGNORED) {
            continue;
        }
        // Before the marker a `//` makes it a comment, not code; after it, the
        // comment at the end of the line is the reason.
        if line.contains("//") {
            continue;
        }
        let above = lines[..index].iter().rev().find(|l| !l.trim().is_empty() && !starts_ignored(l));
        if !above.is_some_and(|l| is_comment(l)) {
            found.push(index + 1);
        }
    }
    found
}

#[test]
fn every_ignored_result_in_src_says_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut offenders = Vec::new();
    for path in files {
        if path.file_name().is_some_and(|name| name == "tests.rs") {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        for line in unexplained(&text) {
            offenders.push(format!("{shown}:{line}"));
        }
    }
    assert!(
        offenders.is_empty(),
        "{} `let _ =` without a `//` reason (on the line, or directly above its run of \
         `let _ =` lines); handle the result or say in one line why ignoring it is right:\n{}",
        offenders.len(),
        offenders.join("\n")
    );
}

#[test]
fn the_rule_reads_a_run_and_its_comment() {
    let text = "\
fn f() {
    // the receiver left: nobody reads progress
    let _ = a.send(1);

    let _ = b.send(2);
    call();
    let _ = c.send(3);
    let _ = d.send(4); // d is best effort
    /* not a line comment */
    let _ = e.send(5);
}
#[cfg(test)]
mod tests {
    let _ = ignored();
}
";
    assert_eq!(unexplained(text), vec![7, 10]);
}
