//! Experiment profiles: YAML → `RawProfile` (serde, deny_unknown_fields) → validated
//! `Profile` (types.rs). Shipped profiles are compiled in from `profiles/`.
//! A leaf: imports nothing from the rest of the crate.

#![deny(missing_docs)]

pub mod bounds;
mod builtin;
mod convert;
mod duration;
mod headers;
mod overrides;
mod quick;
mod raw;
mod scale;
mod schema;
mod types;
mod values;

use std::path::{Path, PathBuf};

pub use builtin::{BUILTIN_BEHAVIOURS, builtin_behaviour};
pub use convert::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_PAUSE, REPO_SIZE_VAR, default_task_name, repo_size_from_env,
};
pub use duration::{format_duration, parse_duration};
pub use headers::{
    Secret, check_name as check_header_name, debug_names as debug_header_names, expand_env, parse_header,
    shown_value as shown_header,
};
pub use quick::{QUICK_DEFAULT_DURATION, QUICK_SUITE, QuickLoad, QuickRun};
pub use scale::{MAX_DURATION, TimeScale};
pub use schema::{SCHEMA_MODELINE, SCHEMA_PATH, profile_schema_json};
pub use types::*;

use raw::RawProfile;
use values::{Checked, ContextGuard};

/// A profile that could not be loaded or is invalid. Always names the file and, when
/// known, the line and column, the field, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProfileError {
    /// The whole message: file, line and column when known, the field, what was expected.
    pub message: String,
}

impl ProfileError {
    fn new(message: impl Into<String>) -> ProfileError {
        ProfileError { message: message.into() }
    }
}

/// A shipped or discovered profile, with its validation result.
#[derive(Debug)]
pub struct ProfileEntry {
    /// The profile's name (the `load` argument that selects it).
    pub name: String,
    /// Where it came from: `builtin:NAME` or the file's path.
    pub source: String,
    /// The loaded profile, or why it does not load.
    pub profile: Result<Profile, ProfileError>,
}

/// Names `load` accepts without a path: the shipped profiles and `all`.
pub fn shipped_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = builtin::SHIPPED.iter().map(|(n, _)| *n).collect();
    names.push("all");
    names
}

/// Loads a shipped profile by name (`smoke`, `all`, …), a profile in `extra_dir` or
/// `./profiles` by name, or a YAML file by path.
pub fn load(name_or_path: &str, extra_dir: Option<&Path>) -> Result<Profile, ProfileError> {
    if name_or_path == "all" {
        return load_all();
    }
    let (text, name, source) = locate(name_or_path, extra_dir)?;
    parse_str(&text, &name, &source)
}

/// A quick run of a behaviour, taking custom behaviours from the profile `defined_in`
/// names (as `load` finds it) when given.
pub fn load_quick(
    quick: &QuickRun,
    defined_in: Option<&str>,
    extra_dir: Option<&Path>,
) -> Result<Profile, ProfileError> {
    quick.to_profile(quick_source(defined_in, extra_dir)?.as_deref())
}

/// Writes a quick run as a profile file in `dir` (named after its behaviour, never over
/// an existing file), checks that it loads back to the same phases, and returns its path.
pub fn write_quick(
    quick: &QuickRun,
    defined_in: Option<&str>,
    extra_dir: Option<&Path>,
    dir: &Path,
) -> Result<PathBuf, ProfileError> {
    let source = quick_source(defined_in, extra_dir)?;
    let fail = |what: &str, path: &Path, e: std::io::Error| {
        ProfileError::new(format!("{what} {}: {e}; check that the folder is writable", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("cannot create", dir, e))?;
    let stem = format!("{}-quick", quick.behaviour);
    let path = (1..1000)
        .map(|n| if n == 1 { dir.join(format!("{stem}.yaml")) } else { dir.join(format!("{stem}-{n}.yaml")) })
        .find(|p| !p.exists())
        .ok_or_else(|| {
            ProfileError::new(format!("{}: too many {stem}-N.yaml files already", dir.display()))
        })?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or(&stem).to_string();
    let yaml = quick.to_yaml_named(source.as_deref(), &name)?;
    std::fs::write(&path, yaml).map_err(|e| fail("cannot write", &path, e))?;
    let written = load_file(&path)?;
    let wanted = quick.to_profile(source.as_deref())?;
    if format!("{:?}", written.phases) != format!("{:?}", wanted.phases) {
        return Err(ProfileError::new(format!(
            "{}: the written profile does not load back to the same phases (a bug; please report it)",
            path.display()
        )));
    }
    Ok(path)
}

/// The YAML of the profile that defines a quick run's behaviour, when one is named.
fn quick_source(defined_in: Option<&str>, extra_dir: Option<&Path>) -> Result<Option<String>, ProfileError> {
    Ok(match defined_in {
        Some("all") | None => None,
        Some(name) => Some(locate(name, extra_dir)?.0),
    })
}

/// The YAML text of a profile named as `load` takes it, with its default name and source.
fn locate(name_or_path: &str, extra_dir: Option<&Path>) -> Result<(String, String, String), ProfileError> {
    let as_path = Path::new(name_or_path);
    let looks_like_path = name_or_path.contains(['/', '\\'])
        || name_or_path.ends_with(".yaml")
        || name_or_path.ends_with(".yml");
    if looks_like_path {
        return read_file(as_path);
    }
    let shipped = builtin::SHIPPED.iter().find(|(n, _)| *n == name_or_path);
    // A local file shadows a shipped profile of the same name (the list shows it once, as
    // "local"), so an edited ./profiles/smoke.yaml is the smoke that runs. A file identical
    // to the shipped one (the repository's own copy) is the shipped profile.
    let mut searched = Vec::new();
    for dir in extra_dir.into_iter().chain(std::iter::once(Path::new("profiles"))) {
        for ext in ["yaml", "yml"] {
            let candidate = dir.join(format!("{name_or_path}.{ext}"));
            if candidate.is_file() {
                let found = read_file(&candidate)?;
                if shipped.is_none_or(|(_, text)| *text != found.0) {
                    return Ok(found);
                }
            }
        }
        searched.push(dir.display().to_string());
    }
    if let Some((name, text)) = shipped {
        return Ok((text.to_string(), name.to_string(), format!("builtin:{name}")));
    }
    Err(ProfileError::new(format!(
        "no profile named `{name_or_path}`: it is not shipped ({}) and there is no {name_or_path}.yaml in {}; \
         pass a file path or see `terrafix-tui profiles list`",
        shipped_names().join(", "),
        searched.join(" or ")
    )))
}

fn read_file(path: &Path) -> Result<(String, String, String), ProfileError> {
    // Capped and regular-file only: a FIFO or /dev/zero named as a profile is refused, not read.
    let text =
        crate::fsio::read_capped_string(path, MAX_PROFILE_BYTES as u64, "the profile").map_err(|e| {
            ProfileError::new(format!(
                "{}: cannot read the profile: {}; check the path",
                path.display(),
                e.reason()
            ))
        })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("profile");
    Ok((text, stem.to_string(), path.display().to_string()))
}

/// Reads and validates one YAML file.
pub fn load_file(path: &Path) -> Result<Profile, ProfileError> {
    let (text, name, source) = read_file(path)?;
    parse_str(&text, &name, &source)
}

/// Parses and validates profile YAML. `source` names it in messages (a path or
/// `builtin:NAME`); `default_name` is used when the YAML has no `name:`.
pub fn parse_str(text: &str, default_name: &str, source: &str) -> Result<Profile, ProfileError> {
    precheck(text, source)?;
    repo_size_from_env().map_err(ProfileError::new)?;
    // First pass: the custom behaviour names, so phases can be checked against them
    // (with the exact location of a bad reference) in the second pass.
    let mut known: Vec<String> = BUILTIN_BEHAVIOURS.iter().map(|s| s.to_string()).collect();
    if let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(text)
        && let Some(map) = value.get("behaviours").and_then(|b| b.as_mapping())
    {
        known.extend(map.keys().filter_map(|k| k.as_str()).map(str::to_string));
    }
    let parsed = {
        let _context = ContextGuard::enter(Some(known));
        serde_yaml::from_str::<Checked<RawProfile>>(text)
    };
    let raw = parsed.map_err(|e| yaml_error(source, text, &e))?;
    Ok(convert::to_profile(raw.0, default_name, source))
}

/// The largest profile file read (the shipped `all` profile is under 10 kB).
pub const MAX_PROFILE_BYTES: usize = 256 << 10;
/// The deepest `[`/`{` nesting read; real profiles stay under 6.
pub const MAX_PROFILE_NESTING: usize = 32;

/// Refuses what the YAML parser would take seconds over (its flow collections parse in
/// quadratic time), before parsing it.
fn precheck(text: &str, source: &str) -> Result<(), ProfileError> {
    if text.len() > MAX_PROFILE_BYTES {
        return Err(ProfileError::new(format!(
            "{source}: the profile is {} kB, over the limit of {} kB; a profile describes phases, \
             so it should be a few kB (is this the right file?)",
            text.len() / 1024,
            MAX_PROFILE_BYTES / 1024
        )));
    }
    let mut depth = 0usize;
    for (line_no, line) in text.lines().enumerate() {
        // Quotes open only where a YAML scalar can start (so `harness's` is no quote) and
        // are taken to close on their line: enough to find runaway brackets.
        let (mut quote, mut prev) = (None::<char>, ' ');
        for (col, c) in line.chars().enumerate() {
            let at_start = matches!(prev, ' ' | '\t' | ':' | '[' | '{' | ',' | '-');
            prev = c;
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '#') if at_start => break,
                (None, '"' | '\'') if at_start => quote = Some(c),
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_PROFILE_NESTING {
                        return Err(ProfileError::new(format!(
                            "{source}:{}:{}: brackets nested deeper than {MAX_PROFILE_NESTING} levels; \
                             profiles need only a few (check for an unclosed `[` or `{{`)",
                            line_no + 1,
                            col + 1
                        )));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// `file:line:col: path: message` from serde_yaml's error, plus where to look.
fn yaml_error(source: &str, text: &str, err: &serde_yaml::Error) -> ProfileError {
    let full = err.to_string();
    let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
    // serde_yaml appends " at line L column C" (or " at position N"); we lead with it.
    let message = match full.rfind(" at line ").or_else(|| full.rfind(" at position ")) {
        Some(cut) => &full[..cut],
        None => full.as_str(),
    };
    let hint = if message.contains("unknown field") || message.contains("unknown variant") {
        " (check the spelling; the format is in README.md, section Profiles)"
    } else if text.trim().is_empty() {
        " (the file is empty)"
    } else {
        ""
    };
    ProfileError::new(format!("{source}:{line}:{column}: {message}{hint}"))
}

/// `all`: the throughput, resilience and scalability suites, one after another.
fn load_all() -> Result<Profile, ProfileError> {
    let mut suites = Vec::new();
    for name in builtin::ALL_SUITES {
        suites.push(load(name, None)?);
    }
    let mut phases = Vec::new();
    for suite in &suites {
        phases.extend(suite.phases.iter().cloned());
    }
    let first = &suites[0];
    Ok(Profile {
        name: "all".into(),
        description: "The seed harness's three experiments in order: throughput, resilience, scalability."
            .into(),
        source: "builtin:all".into(),
        pause_between_phases: first.pause_between_phases,
        lockstep_start: first.lockstep_start,
        fail_on_request_errors: RequestErrorPolicy::default(),
        fail_on_invalid: false,
        validity: ValidityLimits::default(),
        recovery: RecoveryLimits::default(),
        phases,
        thresholds: Thresholds::default(),
        capacity: None,
        target: first.target.clone(),
    })
}

/// Every profile we know of: shipped, then `./profiles`, then `extra_dir`. Files in
/// `./profiles` identical to a shipped profile (the repository's own copies) are skipped;
/// a different file with a shipped profile's name takes its place (it is what `load` runs).
pub fn list(extra_dir: Option<&Path>) -> Vec<ProfileEntry> {
    let mut entries: Vec<ProfileEntry> = shipped_names()
        .into_iter()
        .map(|name| ProfileEntry {
            name: name.to_string(),
            source: "shipped".into(),
            profile: load(name, None),
        })
        .collect();
    let mut dirs = vec![PathBuf::from("profiles")];
    if let Some(extra) = extra_dir
        && extra != Path::new("profiles")
    {
        dirs.push(extra.to_path_buf());
    }
    for dir in dirs {
        for path in yaml_files(&dir) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("profile").to_string();
            if builtin::SHIPPED.iter().any(|(n, t)| *n == stem && *t == text) {
                continue;
            }
            let entry =
                ProfileEntry { name: stem, source: path.display().to_string(), profile: load_file(&path) };
            // A local file shadows the shipped profile of its name: listed once, in its place.
            match entries.iter_mut().find(|e| e.name == entry.name && e.source == "shipped") {
                Some(shadowed) => *shadowed = entry,
                None => entries.push(entry),
            }
        }
    }
    entries
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod shadowing_tests {
    use super::*;

    /// An edited copy of a shipped profile in the profiles folder is the one that runs
    /// (`run smoke` and the TUI load through `load`), and the list shows it once.
    #[test]
    fn a_local_profile_shadows_the_shipped_one_of_its_name() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let shipped = builtin::SHIPPED.iter().find(|(n, _)| *n == "smoke").expect("smoke is shipped").1;
        let edited = shipped.replacen("description: ", "description: EDITED LOCALLY. ", 1);
        assert_ne!(edited, shipped);
        std::fs::write(dir.path().join("smoke.yaml"), &edited).expect("written");

        let loaded = load("smoke", Some(dir.path())).expect("loads");
        assert!(loaded.description.contains("EDITED LOCALLY"), "the local copy runs: {}", loaded.description);
        assert!(loaded.source.ends_with("smoke.yaml"), "{}", loaded.source);

        let listed: Vec<ProfileEntry> =
            list(Some(dir.path())).into_iter().filter(|e| e.name == "smoke").collect();
        assert_eq!(listed.len(), 1, "listed once: {listed:?}");
        assert!(listed[0].source.ends_with("smoke.yaml"), "{}", listed[0].source);

        // An identical copy is the shipped profile.
        std::fs::write(dir.path().join("smoke.yaml"), shipped).expect("written");
        assert_eq!(load("smoke", Some(dir.path())).expect("loads").source, "builtin:smoke");
    }
}
