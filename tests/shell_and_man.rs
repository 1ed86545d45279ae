//! `completions` and `man`: scripts for every shell, a bash script that really completes (run in
//! a real bash), and man pages that `man -l` renders without a warning (groff from Debian).
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::process::{Command, Output};

fn tool(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_terrafix-tui")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn completions_generate_for_each_shell() {
    // A line each script holds when it is the real thing for its shell.
    let marks = [
        ("bash", "complete -F _terrafix__tui"),
        ("zsh", "#compdef terrafix-tui"),
        ("fish", "complete -c terrafix-tui"),
        ("powershell", "Register-ArgumentCompleter"),
    ];
    for (shell, mark) in marks {
        let script = String::from_utf8(tool(&["completions", shell]).stdout).unwrap();
        assert!(script.contains(mark), "{shell}: no `{mark}` in:\n{}", &script[..script.len().min(400)]);
        assert!(script.contains("--target"), "{shell}: `run --target` is not offered");
        assert!(!script.contains("One generator of a distributed run"), "{shell}: the hidden worker leaked");
        assert!(!script.contains("task-id"), "{shell}: the hidden worker's flags leaked");
    }
    let bad =
        Command::new(env!("CARGO_BIN_EXE_terrafix-tui")).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values: bash, zsh, fish, powershell"));
}

/// Runs the bash script's completion function on `words` (the cursor on the last one) and
/// returns what it offers.
fn bash_completes(script: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source \"$1\"\n\
         spec=$(complete -p terrafix-tui) || exit 3\n\
         completer=${{spec#*-F }}\n\
         completer=${{completer%% *}}\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         \"$completer\" terrafix-tui \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len() - 1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terrafix-tui.bash");
    std::fs::write(&path, script).unwrap();
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program, "bash"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_bash_script_completes_run_flags_and_subcommands() {
    let script = String::from_utf8(tool(&["completions", "bash"]).stdout).unwrap();
    assert_eq!(bash_completes(&script, &["terrafix-tui", "run", "--ta"]), vec!["--target".to_string()]);
    let offered = bash_completes(&script, &["terrafix-tui", "com"]);
    assert!(
        offered.contains(&"compare".to_string()) && offered.contains(&"completions".to_string()),
        "{offered:?}"
    );
    assert!(bash_completes(&script, &["terrafix-tui", "wor"]).is_empty(), "the hidden worker is offered");
    let up = bash_completes(&script, &["terrafix-tui", "env", "up", "--api-p"]);
    assert_eq!(up, vec!["--api-port".to_string()], "a flag two subcommands deep");
    let shells = bash_completes(&script, &["terrafix-tui", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.iter().any(|s| s == shell), "{shell} not offered: {shells:?}");
    }
}

/// `man -l` renders `page` at 80 columns; groff's warnings (all of them, -ww) come back.
fn render(page: &std::path::Path) -> (String, String) {
    let out = Command::new("man")
        .args(["--warnings=w", "-l"])
        .arg(page)
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "0")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    assert!(out.status.success(), "man -l {}: {}", page.display(), String::from_utf8_lossy(&out.stderr));
    (plain(&String::from_utf8_lossy(&out.stdout)), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The text without grotty's overstrikes (`N\bN` for bold, `_\bx` for underline).
fn plain(rendered: &str) -> String {
    let mut text = String::with_capacity(rendered.len());
    for c in rendered.chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    text
}

#[test]
fn the_man_pages_render_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let main_page = dir.path().join("stdout.1");
    std::fs::write(&main_page, tool(&["man"]).stdout).unwrap();
    let (text, warnings) = render(&main_page);
    assert_eq!(warnings, "", "groff warned about the main page");
    assert!(text.contains("terrafix-tui") && text.contains("completions"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "a line is wider than MANWIDTH=80:\n{text}");

    let pages = dir.path().join("man1");
    std::fs::create_dir(&pages).unwrap();
    tool(&["man", "--out-dir", pages.to_str().unwrap()]);
    let mut names: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for wanted in
        ["terrafix-tui.1", "terrafix-tui-run.1", "terrafix-tui-env-up.1", "terrafix-tui-profiles-schema.1"]
    {
        assert!(names.iter().any(|n| n == wanted), "{wanted} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("worker")), "the hidden worker got a page: {names:?}");
    for name in &names {
        let (text, warnings) = render(&pages.join(name));
        assert_eq!(warnings, "", "groff warned about {name}");
        assert!(!text.trim().is_empty(), "{name} rendered empty");
    }
    let (run_page, _) = render(&pages.join("terrafix-tui-run.1"));
    assert!(run_page.contains("--target"), "{run_page}");
    // Run again: our own pages are replaced, not refused.
    tool(&["man", "--out-dir", pages.to_str().unwrap()]);
}
