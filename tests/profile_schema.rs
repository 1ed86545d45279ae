//! The profile format's JSON Schema (assets/profile.schema.json): it is what the profile
//! types generate, the shipped profiles point editors at it, and its verdict (checked with the
//! `jsonschema` crate) and the loader's agree on every shipped and test profile.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::{Path, PathBuf};

use serde_json::Value;
use terrafix_tui::profile;

const REGENERATE: &str = "cargo run -- profiles schema > assets/profile.schema.json";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml_files(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no profiles in {folder}");
    files
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo(profile::SCHEMA_PATH)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// The schema's verdict on a YAML file: Ok, or the first errors with where they are.
fn schema_verdict(validator: &jsonschema::Validator, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap();
    let instance: Value = serde_yaml::from_str(&text).map_err(|e| format!("not YAML: {e}"))?;
    let errors: Vec<String> =
        validator.iter_errors(&instance).take(3).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

fn loader_verdict(path: &Path) -> Result<(), String> {
    profile::load_file(path).map(|_| ()).map_err(|e| e.message)
}

#[test]
fn the_schema_in_the_repo_is_the_one_the_profile_types_generate() {
    let kept = std::fs::read_to_string(repo(profile::SCHEMA_PATH)).unwrap_or_default();
    assert!(
        kept == profile::profile_schema_json(),
        "{} differs from the schema the profile types generate; regenerate it with `{REGENERATE}` and commit it",
        profile::SCHEMA_PATH
    );
}

#[test]
fn profiles_schema_prints_the_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["profiles", "schema"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), profile::profile_schema_json());
}

#[test]
fn shipped_profiles_name_the_schema_on_their_first_line() {
    for path in yaml_files("profiles") {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next(), Some(profile::SCHEMA_MODELINE), "{}", path.display());
    }
    // The modeline's relative path leads from profiles/ to the schema.
    let relative = profile::SCHEMA_MODELINE.rsplit('=').next().unwrap();
    assert!(repo("profiles").join(relative).is_file(), "{relative}");
}

#[test]
fn schema_and_loader_agree_on_every_shipped_and_test_profile() {
    let validator = validator();
    let mut checked = 0;
    for path in yaml_files("profiles").into_iter().chain(yaml_files("tests/fixtures/profiles")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let schema = schema_verdict(&validator, &path);
        let loader = loader_verdict(&path);
        assert_eq!(
            schema.is_ok(),
            loader.is_ok(),
            "{name}: the schema says {schema:?}, the loader {loader:?}; fix the schema (src/profile/schema.rs) \
             and run `{REGENERATE}`"
        );
        // The fixtures say in their names which verdict is right, so agreeing is not enough.
        if name.starts_with("bad-") {
            assert!(loader.is_err(), "{name} should be refused");
        } else {
            assert!(loader.is_ok(), "{name} should load: {loader:?}");
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} profiles checked");
}

/// What a schema cannot say (a repeated name, an undefined behaviour, one value against
/// another, the environment): the loader alone refuses these, and docs/install-and-shell.md
/// lists them. Each fixture is otherwise valid, so the schema accepts it.
#[test]
fn checks_only_the_loader_makes_are_the_documented_ones() {
    let validator = validator();
    let files = yaml_files("tests/fixtures/profiles/loader-only");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(schema_verdict(&validator, path), Ok(()), "{name}");
        assert!(loader_verdict(path).is_err(), "{name} should be refused by the loader");
    }
    let doc = std::fs::read_to_string(repo("docs/install-and-shell.md")).unwrap();
    for path in &files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(doc.contains(&format!("`{stem}`")), "docs/install-and-shell.md does not list `{stem}`");
    }
}
