//! Secrets stay secret through the real binary: a password in the target URL and a header's
//! value appear in no output and no file of the run, the URL's credentials go as
//! `Authorization: Basic` only when no `Authorization` header is given, and a malformed
//! `--header` error names no value.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod mock_support;
mod tui_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use mock_support::Server;
use terrafix_tui::mock::MockConfig;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");
const PASSWORD: &str = "SECRETpw-7d1c";
const TOKEN: &str = "TOKENbearer-91fa";

/// (path, Authorization) of every request the target saw.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

#[derive(Clone)]
struct Proxy {
    mock: String,
    client: reqwest::Client,
    seen: Seen,
}

/// Records each request's path and Authorization header, then passes it to the real mock.
async fn record_and_forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let auth = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    proxy.seen.lock().unwrap().push((parts.uri.path().to_string(), auth));
    let body: Bytes = axum::body::to_bytes(body, 2 << 20).await.unwrap();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let forwarded = proxy
        .client
        .request(parts.method.clone(), format!("{}{path}", proxy.mock))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = forwarded.status();
    let bytes = forwarded.bytes().await.unwrap();
    (status, [("content-type", "application/json")], bytes).into_response()
}

/// The mock behind a recording proxy; returns the proxy's port and what it saw.
async fn recording_target() -> (Server, u16, Seen) {
    let mock =
        Server::start(MockConfig { latency_ms: 1.0, per_resource_ms: 0.0, ..MockConfig::default() }).await;
    let seen = Seen::default();
    let proxy = Proxy { mock: mock.base.clone(), client: mock.client.clone(), seen: seen.clone() };
    let app = Router::new().fallback(record_and_forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Ends with the test's runtime.
    tokio::spawn(async move { axum::serve(listener, app).await });
    (mock, port, seen)
}

fn write_profile(dir: &Path) -> PathBuf {
    let path = dir.join("secrets.yaml");
    let text = "name: secrets\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: { constant: 50ms }\n    \
                tasks: [ { kind: webhook } ]\nphases:\n  - name: only\n    behaviour: b\n    users: 2\n    \
                spawn_rate: 10\n    duration: 1s\n    server: { latency_ms: 1 }\n";
    std::fs::write(&path, text).unwrap();
    path
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run_binary(args: &[String]) -> Outcome {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(BIN).args(args).kill_on_drop(true).output(),
    )
    .await
    .expect("the run finished within 60 s")
    .unwrap();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn run_args(profile: &Path, out: &Path, target: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["run".into(), profile.display().to_string()];
    args.extend(["--target".into(), target.to_string(), "--output".into(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn every_file(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(every_file(&path)) } else { out.push(path) }
    }
    out
}

fn assert_nowhere(secret: &str, outcome: &Outcome, out: &Path) {
    assert!(!outcome.stdout.contains(secret), "stdout shows {secret}:\n{}", outcome.stdout);
    assert!(!outcome.stderr.contains(secret), "stderr shows {secret}:\n{}", outcome.stderr);
    let files = every_file(out);
    assert!(!files.is_empty(), "the run wrote nothing under {}", out.display());
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(secret), "{} holds {secret}", file.display());
    }
}

fn auth_on(seen: &Seen, wanted: impl Fn(&str) -> bool) -> Vec<(String, Option<String>)> {
    seen.lock().unwrap().iter().filter(|(path, _)| wanted(path)).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_credentials_and_a_bearer_header_appear_nowhere_and_the_header_wins() {
    let (mock, port, seen) = recording_target().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path());
    let out = dir.path().join("results");
    let target = format!("http://user:{PASSWORD}@127.0.0.1:{port}");
    let bearer = format!("Authorization: Bearer {TOKEN}");

    let dry = run_binary(&run_args(&profile, &out, &target, &["--header", &bearer, "--dry-run"])).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.contains("Authorization"), "the plan names the header:\n{}", dry.stdout);
    for secret in [PASSWORD, TOKEN] {
        assert!(!dry.stdout.contains(secret) && !dry.stderr.contains(secret), "dry run shows {secret}");
    }
    assert!(seen.lock().unwrap().is_empty(), "a dry run sent a request");

    // --no-charts: PNGs take half a minute in a debug build. charts_report.html writes the
    // target through the same `metadata` as experiment_summary.html, checked here.
    let run = run_binary(&run_args(&profile, &out, &target, &["--header", &bearer, "--no-charts"])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_nowhere(PASSWORD, &run, &out);
    assert_nowhere(TOKEN, &run, &out);
    assert!(
        every_file(&out).iter().any(|f| f.ends_with("experiment_summary.html")),
        "the run wrote its HTML summary"
    );

    let expected = Some(format!("Bearer {TOKEN}"));
    let load = auth_on(&seen, |p| p == "/webhook");
    assert!(!load.is_empty(), "no /webhook request reached the target");
    assert!(load.iter().all(|(_, auth)| *auth == expected), "load requests carried {load:?}");
    let control = auth_on(&seen, |p| p == "/configure" || p == "/status" || p == "/stats/reset");
    assert!(!control.is_empty(), "no control call reached the target");
    assert!(control.iter().all(|(_, auth)| *auth == expected), "control calls carried {control:?}");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_credentials_without_a_header_go_as_basic_auth() {
    let (mock, port, seen) = recording_target().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path());
    let out = dir.path().join("results");
    let target = format!("http://user:{PASSWORD}@127.0.0.1:{port}");

    let run = run_binary(&run_args(&profile, &out, &target, &["--no-charts"])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_nowhere(PASSWORD, &run, &out);

    let basic = base64::engine::general_purpose::STANDARD.encode(format!("user:{PASSWORD}"));
    let expected = Some(format!("Basic {basic}"));
    let load = auth_on(&seen, |p| p == "/webhook");
    assert!(!load.is_empty(), "no /webhook request reached the target");
    assert!(load.iter().all(|(_, auth)| *auth == expected), "load requests carried {load:?}");
    let control = auth_on(&seen, |p| p == "/configure" || p == "/status" || p == "/stats/reset");
    assert!(!control.is_empty(), "no control call reached the target");
    assert!(control.iter().all(|(_, auth)| *auth == expected), "control calls carried {control:?}");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_header_or_target_is_refused_without_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path());
    let out = dir.path().join("results");
    let cases: [(&str, &[&str]); 4] = [
        ("SECRETVAL", &["--target", "embedded", "--header", "X-Key SECRETVAL"]),
        ("SECRETVAL", &["--target", "embedded", "--header", "X Key: SECRETVAL"]),
        ("SECRETVAL", &["--target", "embedded", "--header", "X-Key: ${SECRETVAL"]),
        // Not a URL (the port is out of range): the error still hides the password.
        (PASSWORD, &["--target", &format!("http://user:{PASSWORD}@127.0.0.1:99999")]),
    ];
    for (secret, extra) in cases {
        let mut args = vec!["run".to_string(), profile.display().to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["--output".into(), out.display().to_string(), "--dry-run".into()]);
        let outcome = run_binary(&args).await;
        assert_eq!(outcome.code, 2, "{extra:?}: {}", outcome.stderr);
        assert!(!outcome.stderr.trim().is_empty(), "{extra:?}: no message");
        assert!(!outcome.stderr.contains(secret), "{extra:?} echoed its secret: {}", outcome.stderr);
        assert!(!outcome.stdout.contains(secret), "{extra:?} echoed its secret: {}", outcome.stdout);
    }
}

/// In the TUI: the run settings show the URL with `***` for its password, and the run they
/// start holds a URL without it and the credentials as Basic auth.
#[test]
fn the_tui_shows_and_starts_a_url_target_without_its_password() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use terrafix_tui::experiment::Target;
    use terrafix_tui::tui::{Command, handle_key, update};

    let mut state = tui_support::app();
    state.profiles.settings.target = terrafix_tui::tui::state::TargetChoice::Url;
    state.profiles.settings.url = format!("http://user:{PASSWORD}@127.0.0.1:8081");
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    terminal.draw(|frame| frame.render_widget(&state, frame.area())).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("user:***@127.0.0.1:8081"), "{screen}");
    assert!(!screen.contains(PASSWORD), "{screen}");

    let action = handle_key(&state, KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)).unwrap();
    let Some(Command::StartRun { request, .. }) = update(&mut state, action) else {
        panic!("no run started")
    };
    let Target::Url(url) = &request.target else { panic!("target {:?}", request.target) };
    assert_eq!(url.as_str(), "http://127.0.0.1:8081/");
    assert!(!format!("{request:?}").contains(PASSWORD));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("user:{PASSWORD}"));
    let auth: Vec<_> = request.target_options.headers.iter().filter(|(n, _)| n == "Authorization").collect();
    assert_eq!(auth, [&("Authorization".to_string(), format!("Basic {basic}"))]);
}

/// A one-shot HTTP/1.1 server on a raw listener: answers `status` to the first request and
/// hands back the request's head as it arrived.
fn one_request_server(status: &str) -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let status = status.to_string();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        let _ = stream.write_all(answer.as_bytes());
        String::from_utf8_lossy(&head).into_owned()
    });
    (port, handle)
}

fn health_binary(url: &str) -> (i32, String) {
    let o = std::process::Command::new(BIN)
        .args(["health", url, "--timeout", "5"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text)
}

#[test]
fn health_sends_url_credentials_as_basic_and_never_prints_them() {
    let basic =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("user:{PASSWORD}")));

    let (port, request) = one_request_server("200 OK");
    let (code, output) = health_binary(&format!("http://user:{PASSWORD}@127.0.0.1:{port}/health"));
    let head = request.join().unwrap();
    assert_eq!(code, 0, "{output}");
    assert!(
        head.lines().any(|l| l.to_ascii_lowercase().starts_with("authorization:") && l.ends_with(&basic)),
        "the request carries Basic auth: {head}"
    );
    assert!(!output.contains(PASSWORD), "{output}");

    // An answer that is not 2xx: the failure names the URL, without the password.
    let (port, request) = one_request_server("503 Service Unavailable");
    let (code, output) = health_binary(&format!("http://user:{PASSWORD}@127.0.0.1:{port}/health"));
    request.join().unwrap();
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("503") && output.contains(&format!("127.0.0.1:{port}/health")), "{output}");
    assert!(!output.contains(PASSWORD), "{output}");

    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, output) = health_binary(&format!("http://user:{PASSWORD}@127.0.0.1:{closed}/health"));
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("unhealthy"), "{output}");
    assert!(!output.contains(PASSWORD), "{output}");

    // A URL it cannot use: a usage error that quotes it redacted.
    for bad in
        [format!("ftp://user:{PASSWORD}@127.0.0.1/"), format!("http://user:{PASSWORD}@127.0.0.1:99999/")]
    {
        let (code, output) = health_binary(&bad);
        assert_eq!(code, 2, "{bad}: {output}");
        assert!(!output.contains(PASSWORD), "{output}");
    }
}

#[test]
fn the_environment_screen_shows_the_target_url_redacted() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use terrafix_tui::tui::env_state::EnvTarget;
    use terrafix_tui::tui::{Action, Screen, update};

    let mut state = tui_support::app();
    update(&mut state, Action::Show(Screen::Environment));
    state.env.target = EnvTarget::Url;
    state.env.form.url = format!("http://user:{PASSWORD}@127.0.0.1:9");
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    terminal.draw(|frame| frame.render_widget(&state, frame.area())).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("http://user:***@127.0.0.1:9"), "{screen}");
    assert!(!screen.contains(PASSWORD), "{screen}");
}
