//! Profiles screen: choose a profile and its phases, adjust the run, start it.

use std::net::SocketAddr;

use super::{PAGE, flash_error, step};
use crate::experiment::settings::{self, SettingError, SettingKey};
use crate::experiment::{RunRequest, Target};
use crate::profile::Overrides;
use crate::tui::action::{Action, Command};
use crate::tui::edit::{EditOutcome, edit_text};
use crate::tui::state::{
    AppState, EditBuffer, ProfileItem, ProfilesFocus, ProfilesState, RunField, RunPhase, RunSettings,
    RunState, Screen, TargetChoice,
};

pub(super) fn loaded(state: &mut AppState, items: Vec<ProfileItem>) -> Option<Command> {
    let p = &mut state.profiles;
    p.items = items;
    p.loading = false;
    p.selected = p.selected.min(p.visible().len().saturating_sub(1));
    reset_phases(p);
    None
}

fn reset_phases(p: &mut ProfilesState) {
    let count = match p.current() {
        Some(ProfileItem { profile: Ok(profile), .. }) => profile.phases.len(),
        _ => 0,
    };
    p.phase_enabled = vec![true; count];
    p.phase_cursor = 0;
}

/// Closes the filter, the field editor or the inner pane; `None` when nothing was open.
pub(super) fn back(state: &mut AppState) -> Option<Option<Command>> {
    let p = &mut state.profiles;
    if p.quick.take().is_some() {
        return Some(None);
    }
    if p.edit.take().is_some() {
        return Some(None);
    }
    if p.filter.cancel(&mut p.selected) {
        reset_phases(p);
        return Some(None);
    }
    if p.focus != ProfilesFocus::List {
        p.focus = ProfilesFocus::List;
        return Some(None);
    }
    None
}

pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    let chosen = (state.profiles.settings.target, state.profiles.settings.url.clone());
    let command = screen_key(state, action);
    // The Environment screen shows (and checks) the target chosen here.
    if (state.profiles.settings.target, &state.profiles.settings.url) != (chosen.0, &chosen.1) {
        let follow = super::env::follow_settings(state);
        let commands: Vec<Command> = command.into_iter().chain(follow).collect();
        return if commands.is_empty() { None } else { Some(Command::Batch(commands)) };
    }
    command
}

fn screen_key(state: &mut AppState, action: Action) -> Option<Command> {
    if state.profiles.quick.is_some() {
        return super::quick::key(state, action);
    }
    if matches!(action, Action::NewRun) {
        return super::quick::open(state);
    }
    if matches!(action, Action::Refresh) && state.profiles.edit.is_none() && !state.profiles.filter.editing {
        state.profiles.loading = true;
        super::flash(state, "reloading the profiles folder…");
        return Some(Command::LoadProfiles);
    }
    if state.profiles.edit.is_some() {
        return edit_key(state, action);
    }
    let p = &mut state.profiles;
    if p.filter.editing {
        let names = p.items.iter().map(|item| item.name.as_str());
        if p.filter.key(&action, names, &mut p.selected) {
            // The selected profile may be another one now; its phases start all included.
            reset_phases(p);
        }
        return None;
    }
    match action {
        Action::Up => move_cursor(p, -1),
        Action::Down => move_cursor(p, 1),
        Action::PageUp => move_cursor(p, -PAGE),
        Action::PageDown => move_cursor(p, PAGE),
        Action::Top => move_cursor(p, -isize::MAX / 2),
        Action::Bottom => move_cursor(p, isize::MAX / 2),
        Action::FocusNext | Action::FocusPrev => {
            let order = [ProfilesFocus::List, ProfilesFocus::Phases, ProfilesFocus::Settings];
            let at = order.iter().position(|f| *f == p.focus).unwrap_or(0);
            let delta = if matches!(action, Action::FocusNext) { 1 } else { 2 };
            p.focus = order[(at + delta) % 3];
        }
        Action::StartFilter => {
            p.filter.editing = true;
            p.focus = ProfilesFocus::List;
        }
        Action::Toggle => toggle(p),
        Action::ToggleAll => {
            let all = p.phase_enabled.iter().all(|on| *on);
            p.phase_enabled.iter_mut().for_each(|on| *on = !all);
        }
        Action::Enter if p.focus == ProfilesFocus::Settings => begin_edit(p),
        Action::Enter | Action::RunSelected => return start_run(state),
        _ => {}
    }
    None
}

fn move_cursor(p: &mut ProfilesState, delta: isize) {
    match p.focus {
        ProfilesFocus::List => {
            let before = p.selected;
            {
                let len = p.visible().len();
                step(&mut p.selected, len, delta)
            };
            if before != p.selected {
                reset_phases(p);
            }
        }
        ProfilesFocus::Phases => step(&mut p.phase_cursor, p.phase_enabled.len(), delta),
        ProfilesFocus::Settings => step(&mut p.field_cursor, RunField::ALL.len(), delta),
    }
}

fn toggle(p: &mut ProfilesState) {
    match p.focus {
        ProfilesFocus::Phases => {
            if let Some(on) = p.phase_enabled.get_mut(p.phase_cursor) {
                *on = !*on;
            }
        }
        ProfilesFocus::Settings if p.current_field().is_toggle() => cycle_setting(p),
        _ => {}
    }
}

/// The next value of a toggled setting (target, insecure, configure).
fn cycle_setting(p: &mut ProfilesState) {
    let field = p.current_field();
    let s = &mut p.settings;
    match field {
        RunField::Target => s.target = s.target.next(),
        RunField::Insecure => s.insecure = !s.insecure,
        RunField::Configure => s.configure = !s.configure,
        _ => {}
    }
}

fn begin_edit(p: &mut ProfilesState) {
    match p.current_field() {
        field if field.is_toggle() => cycle_setting(p),
        // Header values may be secrets: they are typed again rather than shown.
        RunField::Headers => p.edit = Some(EditBuffer::prefilled(String::new())),
        field => p.edit = Some(EditBuffer::prefilled(p.settings.text(field))),
    }
}

fn edit_key(state: &mut AppState, action: Action) -> Option<Command> {
    let p = &mut state.profiles;
    let field = p.current_field();
    let edit = p.edit.as_mut()?;
    if edit_text(&mut edit.text, &mut edit.caret, &action, field.max_chars()) != EditOutcome::Enter {
        return None;
    }
    let text = edit.text.trim().to_string();
    if let Err(problem) = check_field(field, &text) {
        return flash_error(state, problem);
    }
    let s = &mut p.settings;
    match field {
        RunField::Target | RunField::Insecure | RunField::Configure => {}
        RunField::Timeout => s.timeout = text,
        RunField::CaCert => s.ca_cert = text,
        RunField::Url => s.url = text,
        RunField::TimeScale => s.time_scale = text,
        RunField::Users => s.users = text,
        RunField::SpawnRate => s.spawn_rate = text,
        RunField::Duration => s.duration = text,
        RunField::Seed => s.seed = text,
        RunField::Generators => s.generators = text,
        RunField::Headers => s.set_headers(text),
        RunField::Metrics => s.metrics = text,
    }
    p.edit = None;
    state.flash = None;
    None
}

/// Checks one field's text with the translator `run` uses; empty means "the profile's own
/// value" (except URL and seed).
fn check_field(field: RunField, text: &str) -> Result<(), String> {
    if text.is_empty() && !matches!(field, RunField::Url | RunField::Seed) {
        return Ok(());
    }
    let checked = match field {
        RunField::Url => return Target::parse(text).map(|_| ()).map_err(|e| e.to_string()),
        RunField::Headers => return headers(text).map(|_| ()),
        RunField::TimeScale => settings::time_scale(text).map(|_| ()),
        RunField::Users => settings::users(text).map(|_| ()),
        RunField::SpawnRate => settings::spawn_rate(text).map(|_| ()),
        RunField::Duration => settings::duration(text).map(|_| ()),
        RunField::Timeout => settings::timeout(SettingKey::Timeout, text).map(|_| ()),
        RunField::Seed => settings::seed(text).map(|_| ()),
        RunField::Generators => settings::generators(text).map(|_| ()),
        // Read when the run starts: a bad file then fails the run with the reason.
        RunField::Metrics => return metrics_address(text).map(|_| ()),
        RunField::Target | RunField::CaCert | RunField::Insecure | RunField::Configure => Ok(()),
    };
    checked.map_err(|e| e.to_string())
}

/// The headers setting, `Name: value; Name: value`; the values are not echoed (secrets).
fn headers(text: &str) -> Result<Vec<(String, String)>, String> {
    crate::tui::state::split_headers(text)
        .map(|h| {
            crate::profile::parse_header(h)
                .map_err(|e| format!("headers: {e}; write Name: value; Name: value"))
        })
        .collect()
}

/// The `metrics` setting: where `/metrics` is served while the run lasts, or nowhere
/// (empty). Loopback only: `/metrics` has no authentication, and the TUI has no
/// `--metrics-allow-public`.
pub(super) fn metrics_address(text: &str) -> Result<Option<SocketAddr>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let addr: SocketAddr = text.parse().map_err(|_| {
        format!("metrics {text:?}: write a loopback address with a port, e.g. 127.0.0.1:9464 (empty: off)")
    })?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "metrics {addr}: /metrics has no authentication, so the TUI serves it on loopback only; \
             use 127.0.0.1:{} (or `run --metrics-allow-public`)",
            addr.port()
        ));
    }
    Ok(Some(addr))
}

/// The seed setting: a whole number, or `random` (or nothing) for a new one each run, as
/// `run` without `--seed`.
pub(super) fn seed_of(text: &str) -> Result<u64, String> {
    settings::seed(text).map_err(|e| e.to_string())
}

/// What the settings say, as overrides, target and seed; the first problem otherwise.
fn overrides(settings: &RunSettings, phases: Vec<String>) -> Result<(Overrides, Target, u64), String> {
    let text = |e: SettingError| e.to_string();
    let overrides = Overrides {
        time_scale: settings::optional(&settings.time_scale, settings::time_scale).map_err(text)?,
        users: settings::optional(&settings.users, settings::users).map_err(text)?,
        duration: settings::optional(&settings.duration, settings::duration).map_err(text)?,
        spawn_rate: settings::optional(&settings.spawn_rate, settings::spawn_rate).map_err(text)?,
        phases,
        ..Overrides::default()
    };
    let target = match settings.target {
        TargetChoice::Embedded => Target::Embedded,
        TargetChoice::Docker => Target::Docker,
        TargetChoice::Url => Target::parse(settings.url.trim()).map_err(|e| e.to_string())?,
    };
    let seed = seed_of(&settings.seed)?;
    Ok((overrides, target, seed))
}

/// The profile's way of talking to the target, with the run settings' timeout, CA,
/// `insecure` and `configure` on top (as `run --timeout --ca-cert --insecure --no-configure`);
/// the first bad setting otherwise.
pub(super) fn target_options(
    settings: &RunSettings,
    from_profile: &crate::profile::TargetSettings,
) -> Result<crate::experiment::TargetOptions, String> {
    use crate::engine::tls::TlsTrust;
    let mut options = crate::experiment::TargetOptions::from_profile(from_profile);
    let timeout = |t: &str| settings::timeout(SettingKey::Timeout, t);
    if let Some(d) = settings::optional(&settings.timeout, timeout).map_err(|e| e.to_string())? {
        options.request_timeout = d;
    }
    let ca = settings.ca_cert.trim();
    options.tls = match (ca.is_empty(), settings.insecure) {
        (false, _) => TlsTrust::WithCa(ca.into()),
        (true, true) => TlsTrust::Insecure,
        (true, false) => TlsTrust::PublicRoots,
    };
    if !settings.configure {
        options.configure_target = false;
    }
    for (name, value) in headers(&settings.headers)? {
        options.set_header(name, value);
    }
    if settings.target == TargetChoice::Url
        && let Ok((_, credentials)) = Target::parse_with_auth(settings.url.trim())
    {
        options.add_url_credentials(credentials);
    }
    Ok(options)
}

fn start_run(state: &mut AppState) -> Option<Command> {
    if state.run.is_active() {
        return flash_error(state, "a run is already going: watch it on tab 3, or abort it there with x");
    }
    let p = &state.profiles;
    let profile = match p.current() {
        None => return flash_error(state, "no profile selected (clear the filter with Esc?)"),
        Some(ProfileItem { profile: Err(_), name, .. }) => {
            return flash_error(
                state,
                format!("profile {name} has errors (shown on the right); fix its file first"),
            );
        }
        Some(ProfileItem { profile: Ok(profile), .. }) => profile.clone(),
    };
    let phases: Vec<String> = if p.phase_enabled.iter().all(|on| *on) {
        Vec::new()
    } else {
        profile
            .phases
            .iter()
            .zip(&p.phase_enabled)
            .filter(|(_, on)| **on)
            .map(|(ph, _)| ph.name.clone())
            .collect()
    };
    if !profile.phases.is_empty() && p.phase_enabled.iter().all(|on| !on) {
        return flash_error(state, "no phase chosen: include at least one with space (or all with a)");
    }
    let (overrides, target, seed) = match overrides(&p.settings, phases) {
        Ok(parts) => parts,
        Err(problem) => return flash_error(state, problem),
    };
    let time_scale = overrides.time_scale.unwrap_or_default().get();
    let name = profile.name.clone();
    let profile = match profile.with_overrides(&overrides) {
        Ok(profile) => profile,
        Err(err) => return flash_error(state, err.to_string()),
    };
    let target_options = match target_options(&state.profiles.settings, &profile.target) {
        Ok(options) => options,
        Err(problem) => return flash_error(state, problem),
    };
    let docker = crate::experiment::DockerTarget {
        env_id: None,
        options: (state.env.with_localstack && target == crate::experiment::Target::Docker)
            .then(|| crate::docker::UpOptions { with_localstack: true, ..Default::default() }),
    };
    let distributed = match settings::optional(&state.profiles.settings.generators, settings::generators) {
        Ok(distributed) => distributed,
        Err(problem) => return flash_error(state, problem.to_string()),
    };
    let planned = profile.planned_duration();
    let request = Box::new(RunRequest {
        docker,
        target_options,
        distributed,
        worker_network: Default::default(),
        profile,
        target,
        output_root: state.output_root.clone(),
        seed,
        time_scale,
    });
    if planned > crate::tui::state::CONFIRM_RUNS_LONGER_THAN {
        state.profiles.pending_start = Some(crate::tui::state::PendingStart::Profile(request));
        state.overlay = Some(crate::tui::state::Overlay::ConfirmStart {
            name,
            planned: crate::profile::format_duration(planned),
        });
        return None;
    }
    launch(state, request)
}

/// Starts `request` now (after its confirmation, for a long one).
pub(super) fn launch(state: &mut AppState, request: Box<RunRequest>) -> Option<Command> {
    if state.run.is_active() {
        return flash_error(state, "a run is already going: watch it on tab 3, or abort it there with x");
    }
    state.run = RunState {
        phase: RunPhase::Starting,
        profile: request.profile.name.clone(),
        target: request.target.label(),
        // The axis asked for with `L` stays for the next run.
        latency_log: state.run.latency_log,
        ..RunState::default()
    };
    state.screen = Screen::Run;
    state.flash = None;
    // Checked with the other settings before the run was asked for.
    let metrics = metrics_address(&state.profiles.settings.metrics).ok().flatten();
    Some(Command::StartRun { request, metrics })
}
