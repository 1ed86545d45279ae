//! `terrafix-tui completions SHELL` and `terrafix-tui man`: what a shell and `man` need,
//! generated from the clap definitions in `cli` so they never drift from the flags.
//! clap_complete and clap_mangen stay in this file.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs, ManArgs, ShellArg};
use crate::fsio::{self, WritePolicy};

/// The name the scripts complete and the pages are titled with.
const BIN_NAME: &str = "terrafix-tui";

/// How every page clap_mangen renders begins: lets `man --out-dir` replace its own pages
/// (and nothing else) when run again.
const ROFF_SIGNATURE: &[u8] = b".ie \\n(.g";

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let shell = match args.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Powershell => Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut visible_command(), BIN_NAME, &mut script);
    if shell == Shell::Bash {
        script = bash_hyphen_fix(&script).into_bytes();
    }
    write_stdout(&script)
}

/// The command line without its hidden subcommands (`worker`): clap_complete offers hidden
/// subcommands too, and nobody types `worker` (Swarm starts it).
fn visible_command() -> clap::Command {
    let full = Cli::command();
    let mut visible = clap::Command::new(BIN_NAME)
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        visible = visible.about(about.clone());
    }
    visible
}

/// clap_complete's bash script spells a subcommand's state one way where it is set
/// (`terrafix__tui__subcmd__run`) and another in the `case` arm that completes it
/// (`terrafix__subcmd__tui__subcmd__run`) when the binary's name has a hyphen (clap issue
/// 6421), so nothing after a subcommand completed. Spell the arms as the loop does; when a
/// fixed clap_complete spells them alike, this replaces nothing.
fn bash_hyphen_fix(script: &[u8]) -> String {
    String::from_utf8_lossy(script).replace("terrafix__subcmd__tui", "terrafix__tui")
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let pages = pages()?;
    let Some(dir) = args.out_dir else {
        // The first page is the top-level one.
        let main_page = pages.into_iter().next().map(|(_, roff)| roff).unwrap_or_default();
        return write_stdout(&main_page);
    };
    write_pages(&dir, &pages)?;
    println!("wrote {} man pages into {}", pages.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Every page as (file name, roff): `terrafix-tui.1`, then one per visible subcommand at
/// any depth (`terrafix-tui-env-up.1`), as `man terrafix-tui-env-up` expects.
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect_pages(&cmd, &mut pages)?;
    Ok(pages)
}

fn collect_pages(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut roff = Vec::new();
    man.render(&mut roff)?;
    pages.push((man.get_filename(), roff));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect_pages(sub, pages)?;
    }
    Ok(())
}

fn write_pages(dir: &Path, pages: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Err(super::UsageError(format!(
            "--out-dir {}: not a folder; create it first (mkdir -p {})",
            dir.display(),
            dir.display()
        ))
        .into());
    }
    for (name, roff) in pages {
        let policy = WritePolicy::UserNamed { force: false, ours: Some(ROFF_SIGNATURE) };
        fsio::write_atomic(&dir.join(name), roff, policy)?;
    }
    Ok(())
}

/// Writes to stdout; a closed pipe (`… | head`) is not an error worth a message.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(anyhow::anyhow!("writing to stdout: {e}")),
    }
}
