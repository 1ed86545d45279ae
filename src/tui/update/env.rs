//! Environment screen: Docker services and their logs, target health, live server settings.

use super::{PAGE, flash, flash_error, step};
use crate::tui::action::{Action, Command, DockerOp};
use crate::tui::edit::{EditOutcome, SHORT_FIELD_CHARS, edit_text};
use crate::tui::env_state::{
    DOCKER_API_URL, DockerAvail, EnvFocus, EnvState, EnvTarget, FAILURE_MODES, LOG_CAP, LogPane, ServerField,
};
use crate::tui::state::{AppState, EditBuffer, TargetChoice, push_bounded};

/// The screen was shown: connect to Docker the first time, check the target each time.
pub(super) fn entered(state: &mut AppState) -> Option<Command> {
    let health = check_health(&mut state.env);
    if state.env.docker == DockerAvail::Unknown {
        state.env.docker = DockerAvail::Connecting;
        return Some(Command::Batch(
            [Some(Command::Docker(DockerOp::Connect)), health].into_iter().flatten().collect(),
        ));
    }
    health
}

/// Asks the chosen target for its health, unless there is nothing to ask: an embedded
/// target outside its run is shown as such, a Docker environment that is not up as not up,
/// never as a red "no answer" from a URL nobody chose.
fn check_health(env: &mut EnvState) -> Option<Command> {
    if !env.should_probe() {
        env.health = None;
        return None;
    }
    Some(Command::CheckHealth(env.form.url.clone()))
}

/// The run settings' target changed (Profiles screen): the screen follows it, unless a run
/// is going (the screen then shows the run's target until it ends).
pub(super) fn follow_settings(state: &mut AppState) -> Option<Command> {
    if state.run.is_active() {
        return None;
    }
    let settings = &state.profiles.settings;
    let (target, url) = match settings.target {
        TargetChoice::Embedded => (EnvTarget::Embedded { running: false }, String::new()),
        TargetChoice::Docker => (EnvTarget::Docker, DOCKER_API_URL.to_string()),
        TargetChoice::Url => (EnvTarget::Url, settings.url.clone()),
    };
    state.env.form.url = url;
    follow(state, target, None)
}

/// The target the screen follows changed (a run started or ended, `u` brought the API up).
pub(super) fn follow(state: &mut AppState, target: EnvTarget, url: Option<&str>) -> Option<Command> {
    let env = &mut state.env;
    env.target = target;
    if let Some(url) = url {
        env.form.url = url.trim_end_matches('/').to_string();
    }
    env.health = None;
    if state.screen != crate::tui::Screen::Environment {
        return None;
    }
    check_health(env)
}

pub(super) fn back(state: &mut AppState) -> Option<Option<Command>> {
    let env = &mut state.env;
    if env.form.edit.take().is_some() {
        return Some(None);
    }
    if env.logs.take().is_some() {
        return Some(Some(Command::StopLogs));
    }
    if env.focus != EnvFocus::Services {
        env.focus = EnvFocus::Services;
        return Some(None);
    }
    None
}

pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    if state.env.form.edit.is_some() {
        return edit_key(state, action);
    }
    let env = &mut state.env;
    match action {
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            let delta = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -PAGE,
                Action::PageDown => PAGE,
                Action::Top => -isize::MAX / 2,
                _ => isize::MAX / 2,
            };
            match env.focus {
                EnvFocus::Services => step(&mut env.selected, env.services.len(), delta),
                EnvFocus::Settings => step(&mut env.form.cursor, ServerField::ALL.len(), delta),
            }
            None
        }
        Action::FocusNext | Action::FocusPrev => {
            env.focus = match env.focus {
                EnvFocus::Services => EnvFocus::Settings,
                EnvFocus::Settings => EnvFocus::Services,
            };
            None
        }
        Action::Enter | Action::Toggle if env.focus == EnvFocus::Settings => {
            let form = &mut env.form;
            match form.field() {
                ServerField::FailureMode => form.failure_mode = (form.failure_mode + 1) % FAILURE_MODES.len(),
                field if matches!(action, Action::Enter) => {
                    form.edit = Some(EditBuffer::prefilled(form.text(field)))
                }
                _ => {}
            }
            None
        }
        Action::Enter | Action::FollowLogs => follow_logs(state),
        Action::EnvUp => {
            let op = DockerOp::Up { with_localstack: state.env.with_localstack };
            docker_op(state, op, "bringing the environment up (build, start, wait for health)")
        }
        Action::ToggleLocalStack => {
            state.env.with_localstack = !state.env.with_localstack;
            let text = if state.env.with_localstack {
                "LocalStack on: u and docker runs start it too (unhealthy is only a warning)"
            } else {
                "LocalStack off"
            };
            state.env.last_result = Some(Ok(text.into()));
            None
        }
        Action::EnvDown => {
            state.env.api_up = false;
            docker_op(state, DockerOp::Down, "taking the environment down")
        }
        Action::ServiceStart | Action::ServiceStop | Action::ServiceRestart => service_op(state, action),
        Action::ApplySettings => apply(state),
        Action::Refresh => {
            state.env.ticks_since_poll = 0;
            let health = check_health(&mut state.env);
            let docker = match state.env.docker {
                DockerAvail::Available => DockerOp::Status,
                _ => {
                    state.env.docker = DockerAvail::Connecting;
                    DockerOp::Connect
                }
            };
            Some(Command::Batch([Some(Command::Docker(docker)), health].into_iter().flatten().collect()))
        }
        _ => None,
    }
}

fn edit_key(state: &mut AppState, action: Action) -> Option<Command> {
    let env = &mut state.env;
    let form = &mut env.form;
    let field = form.field();
    let edit = form.edit.as_mut()?;
    if edit_text(&mut edit.text, &mut edit.caret, &action, SHORT_FIELD_CHARS) != EditOutcome::Enter {
        return None;
    }
    let text = edit.text.trim().to_string();
    match field {
        ServerField::Url => {
            form.edit = None;
            if text.is_empty() {
                // No URL: back to the run settings' target.
                return follow_settings(state);
            }
            match crate::experiment::Target::parse(&text) {
                Ok(crate::experiment::Target::Url(_)) => {}
                Ok(_) => {
                    return flash_error(
                        state,
                        "target URL: write an http(s) URL, e.g. http://127.0.0.1:8081",
                    );
                }
                Err(problem) => return flash_error(state, problem.to_string()),
            }
            form.url = text;
            // A URL typed here is the target from now on: follow it at once.
            env.target = EnvTarget::Url;
            env.health = None;
            return check_health(env);
        }
        ServerField::LatencyMs => form.latency_ms = text,
        ServerField::FailureRate => form.failure_rate = text,
        ServerField::MaxConcurrent => form.max_concurrent = text,
        ServerField::Workers => form.workers = text,
        ServerField::FailureMode => {}
    }
    form.edit = None;
    None
}

fn docker_ready(state: &mut AppState) -> Result<(), Option<Command>> {
    match &state.env.docker {
        DockerAvail::Available => {}
        DockerAvail::Unavailable(reason) => {
            let text = format!("Docker is unavailable: {reason}");
            return Err(flash_error(state, text));
        }
        DockerAvail::Unknown | DockerAvail::Connecting => {
            return Err(flash(state, "still connecting to Docker…"));
        }
    }
    if let Some(busy) = &state.env.busy {
        let text = format!("wait: {busy}");
        return Err(flash(state, text));
    }
    Ok(())
}

fn docker_op(state: &mut AppState, op: DockerOp, doing: &str) -> Option<Command> {
    if let Err(command) = docker_ready(state) {
        return command;
    }
    state.env.busy = Some(doing.to_string());
    Some(Command::Docker(op))
}

fn service_op(state: &mut AppState, action: Action) -> Option<Command> {
    let Some(name) = state.env.services.get(state.env.selected).map(|s| s.name.clone()) else {
        return flash_error(state, "no service selected (bring the environment up with u)");
    };
    let (op, doing) = match action {
        Action::ServiceStart => (DockerOp::Start(name.clone()), "starting"),
        Action::ServiceStop => (DockerOp::Stop(name.clone()), "stopping"),
        _ => (DockerOp::Restart(name.clone()), "restarting"),
    };
    docker_op(state, op, &format!("{doing} {name}"))
}

fn follow_logs(state: &mut AppState) -> Option<Command> {
    if let Err(command) = docker_ready(state) {
        return command;
    }
    let Some(name) = state.env.services.get(state.env.selected).map(|s| s.name.clone()) else {
        return flash_error(state, "no service selected");
    };
    state.env.logs = Some(LogPane { service: name.clone(), lines: Default::default(), following: true });
    Some(Command::FollowLogs(name))
}

fn apply(state: &mut AppState) -> Option<Command> {
    if state.env.target == (EnvTarget::Embedded { running: false }) || state.env.form.url.is_empty() {
        return flash_error(
            state,
            "no target to configure: the embedded one exists only during a run; type a target URL \
             (Enter on it) or bring the Docker environment up with u",
        );
    }
    let form = &mut state.env.form;
    match form.body() {
        Ok(body) => {
            form.sending = true;
            Some(Command::Configure { base_url: form.url.clone(), body })
        }
        Err(problem) => {
            form.last_reply = Some(Err(problem.clone()));
            flash_error(state, problem)
        }
    }
}

/// Results of Docker calls, log streams, `/configure` and health checks.
pub(super) fn news(state: &mut AppState, action: Action) -> Option<Command> {
    let env = &mut state.env;
    match action {
        Action::DockerConnected(Ok(())) => {
            env.docker = DockerAvail::Available;
            return Some(Command::Docker(DockerOp::Status));
        }
        Action::DockerConnected(Err(reason)) => env.docker = DockerAvail::Unavailable(reason),
        Action::DockerStatus(Ok(rows)) => {
            let was_up = env.docker_up();
            env.services = rows;
            env.selected = env.selected.min(env.services.len().saturating_sub(1));
            // A chosen Docker target is checked once its services run.
            if !was_up && env.docker_up() && env.target == EnvTarget::Docker && env.health.is_none() {
                return check_health(env);
            }
        }
        Action::DockerStatus(Err(reason)) => env.last_result = Some(Err(reason)),
        Action::DockerDone(result) => {
            env.busy = None;
            env.last_result = Some(result);
            // Up, down or a restart changes whether the target answers: check it again too.
            let health = check_health(env);
            return Some(Command::Batch(
                [Some(Command::Docker(DockerOp::Status)), health].into_iter().flatten().collect(),
            ));
        }
        Action::DockerProgress(line) if env.busy.is_some() => env.busy = Some(line),
        Action::LogLine(line) => {
            if let Some(logs) = &mut env.logs {
                push_bounded(&mut logs.lines, line, LOG_CAP);
            }
        }
        Action::LogsEnded(reason) => {
            if let Some(logs) = &mut env.logs {
                logs.following = false;
                let line =
                    format!("── log stream ended{}", reason.map(|r| format!(": {r}")).unwrap_or_default());
                push_bounded(&mut logs.lines, line, LOG_CAP);
            }
        }
        Action::ConfigureReply(reply) => {
            env.form.sending = false;
            env.form.last_reply = Some(reply);
        }
        // A reply for a target the screen no longer follows would be stale.
        Action::HealthReply(_) if !env.should_probe() => {}
        Action::HealthReply(reply) => env.health = Some(reply),
        Action::EnvApiUp(url) => {
            env.api_up = true;
            return follow(state, EnvTarget::Docker, Some(&url));
        }
        _ => {}
    }
    None
}
