//! Every input kept for a fuzz target, the seeds in `fuzz/corpus/<target>/` and the crashes
//! found in `fuzz/regressions/<target>/`, fed through the same entry functions the fuzzer
//! calls, so a crash once found stays tested without the fuzzer (docs/fuzzing.md).
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::{Path, PathBuf};

use terrafix_tui::fuzzing::{TARGETS, scratch_root};

fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(folder).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.is_file() && !is_note(p)).collect();
    files.sort();
    files
}

/// A regression folder may hold a README saying what each input found.
fn is_note(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
}

fn feed(target: &str, folder: &str) -> usize {
    let (_, run) = TARGETS.iter().find(|(name, _)| *name == target).unwrap();
    let files = inputs(folder, target);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        // A panic names the target and the input, which is all a failing run needs to say.
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} panicked", file.display());
    }
    let _ = std::fs::remove_dir_all(scratch_root());
    files.len()
}

#[test]
fn every_target_has_seeds_and_they_pass() {
    for (target, _) in TARGETS {
        let fed = feed(target, "corpus");
        assert!(fed >= 2, "{target}: only {fed} seeds in fuzz/corpus/{target}");
    }
}

#[test]
fn every_kept_crash_input_passes() {
    for (target, _) in TARGETS {
        feed(target, "regressions");
    }
}

#[test]
fn every_fuzz_target_has_an_entry_function() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut known: Vec<String> = TARGETS.iter().map(|(name, _)| name.to_string()).collect();
    known.sort();
    assert_eq!(names, known, "fuzz/fuzz_targets/ and fuzzing::TARGETS list different targets");
}
