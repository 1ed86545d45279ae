//! `terrafix-tui profiles list|show|validate|schema`: prints profiles as tables, or the
//! profile format's JSON Schema. A bad profile
//! is returned as a `ProfileError`, which `main` turns into exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{ProfilesAction, ProfilesArgs};
use crate::profile::{self, Load, Phase, Profile, ServerSettings, Thresholds, format_duration};

pub fn main(args: ProfilesArgs, profiles_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    match args.action {
        ProfilesAction::List => {
            print!("{}", list_table(profiles_dir.as_deref()));
            Ok(ExitCode::SUCCESS)
        }
        ProfilesAction::Show { name } => {
            let profile = profile::load(&name, profiles_dir.as_deref())?;
            print!("{}", show(&profile));
            Ok(ExitCode::SUCCESS)
        }
        ProfilesAction::Validate { file } => {
            let profile = profile::load_file(&file)?;
            println!("OK: {} — profile `{}`, {}", file.display(), profile.name, profile.outline());
            Ok(ExitCode::SUCCESS)
        }
        ProfilesAction::Schema => {
            print!("{}", profile::profile_schema_json());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list_table(extra_dir: Option<&std::path::Path>) -> String {
    let rows: Vec<[String; 4]> = profile::list(extra_dir)
        .into_iter()
        .map(|entry| match entry.profile {
            Ok(p) => {
                let phases = if p.capacity.is_some() && p.phases.is_empty() {
                    "search".to_string()
                } else {
                    p.phases.len().to_string()
                };
                [entry.name, phases, format_duration(p.planned_duration()), entry.source]
            }
            Err(e) => [entry.name, "-".into(), "-".into(), format!("{}  ERROR: {e}", entry.source)],
        })
        .collect();
    table(&["NAME", "PHASES", "DURATION", "SOURCE"], &rows)
}

pub(super) fn show(p: &Profile) -> String {
    let mut out = format!("{} ({})\n", p.name, p.source);
    if !p.description.is_empty() {
        out.push_str(&format!("{}\n", p.description));
    }
    out.push_str(&format!(
        "pause between phases {}, lockstep start {}, request errors fail the run {}, total {}\n",
        format_duration(p.pause_between_phases),
        if p.lockstep_start { "on" } else { "off" },
        p.fail_on_request_errors.describe(),
        format_duration(p.planned_duration()),
    ));
    if !p.thresholds.is_empty() {
        out.push_str(&format!("thresholds: {}\n", thresholds(&p.thresholds)));
    }
    if !p.phases.is_empty() {
        let rows: Vec<[String; 8]> = p.phases.iter().map(phase_row).collect();
        out.push('\n');
        out.push_str(&table(
            &["PHASE", "SUITE", "BEHAVIOUR", "LOAD", "DURATION", "REPO", "SERVER", "THRESHOLDS"],
            &rows,
        ));
    }
    if let Some(c) = &p.capacity {
        out.push_str(&format!(
            "\ncapacity search: behaviour {}, {}→{} req/s in steps of {} ({} each, {} refinements), \
             max in flight {}, stop when p99 > {} ms or errors > {} %, repo {}, server {}\n",
            c.behaviour.name,
            c.start_rps,
            c.max_rps,
            c.step_rps,
            format_duration(c.step_duration),
            c.refine_steps,
            c.max_in_flight,
            c.p99_limit_ms,
            c.max_error_rate * 100.0,
            c.repo_size.label(),
            server(&c.server),
        ));
    }
    out
}

fn phase_row(phase: &Phase) -> [String; 8] {
    let load = match &phase.load {
        Load::Closed { users, spawn_rate_per_s } => format!("{users} users @ {spawn_rate_per_s}/s"),
        Load::Open { rate_from_per_s, rate_to_per_s, max_in_flight } if rate_from_per_s == rate_to_per_s => {
            format!("{rate_from_per_s} req/s (≤{max_in_flight} in flight)")
        }
        Load::Open { rate_from_per_s, rate_to_per_s, max_in_flight } => {
            format!("{rate_from_per_s}→{rate_to_per_s} req/s (≤{max_in_flight} in flight)")
        }
    };
    [
        phase.name.clone(),
        phase.suite.clone(),
        phase.behaviour.name.clone(),
        load,
        format_duration(phase.duration),
        phase.repo_size.label().to_string(),
        server(&phase.server),
        thresholds(&phase.thresholds),
    ]
}

fn server(s: &ServerSettings) -> String {
    if s.is_empty() {
        return "-".into();
    }
    let json = s.to_json();
    let Some(map) = json.as_object() else { return "-".into() };
    map.iter().map(|(k, v)| format!("{k}={}", v.to_string().trim_matches('"'))).collect::<Vec<_>>().join(" ")
}

fn thresholds(t: &Thresholds) -> String {
    let mut parts = Vec::new();
    if let Some(v) = t.p95_ms {
        parts.push(format!("p95≤{v}ms"));
    }
    if let Some(v) = t.p99_ms {
        parts.push(format!("p99≤{v}ms"));
    }
    if let Some(v) = t.error_rate {
        parts.push(format!("errors≤{}%", v * 100.0));
    }
    if let Some(v) = t.min_rps {
        parts.push(format!("rps≥{v}"));
    }
    if parts.is_empty() { "-".into() } else { parts.join(" ") }
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
