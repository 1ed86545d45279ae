//! Hostile targets met outside the load path, through the real binary where memory and
//! signals are the claim: control answers that never end (a body without end, a chunk size
//! of 15 hex digits, a head without end), a target that accepts and never answers while
//! Ctrl-C arrives, and self-signed certificates given to `--ca-cert`.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use terrafix_tui::engine::tls::TlsTrust;
use terrafix_tui::experiment::{RunControl, RunError, RunRequest, Target, TargetOptions};
use terrafix_tui::metrics::summary::RunSummary;
use terrafix_tui::mock::{self, MockConfig, ServeOptions, ServerTls};
use terrafix_tui::profile::WaitStrategy;
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// What the hostile target does to `/status`, `/configure` and `/stats/reset`.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// 200, no length, then bytes until the client goes away.
    EndlessBody,
    /// 200, chunked, one chunk announced as 0xfffffffffffffff bytes, then bytes without end.
    HugeChunk,
    /// A header line that never ends.
    EndlessHead,
}

/// A target on 127.0.0.1 that answers `/health` and the load path like the mock, and its
/// control paths the `kind` way. Each connection has its own thread; a thread ends when
/// the client closes.
fn hostile_target(kind: Hostile) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || serve_connection(stream, kind));
        }
    });
    port
}

fn serve_connection(stream: TcpStream, kind: Hostile) {
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answered = match path.as_str() {
            "/health" => answer(&mut out, r#"{"status":"healthy"}"#),
            p if p.starts_with("/status") || p.starts_with("/configure") || p.starts_with("/stats") => {
                misbehave(&mut out, kind);
                return;
            }
            _ => answer(&mut out, r#"{"success":true,"failure_hash":"h","message":"ok"}"#),
        };
        if !answered {
            return;
        }
    }
}

fn answer(out: &mut TcpStream, body: &str) -> bool {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    out.write_all(head.as_bytes()).and_then(|()| out.write_all(body.as_bytes())).is_ok()
}

/// Writes until the client stops reading (the write fails once it has closed).
fn misbehave(out: &mut TcpStream, kind: Hostile) {
    let head: &[u8] = match kind {
        Hostile::EndlessBody => b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n",
        Hostile::HugeChunk => {
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffff\r\n"
        }
        Hostile::EndlessHead => b"HTTP/1.1 200 OK\r\nx-endless: ",
    };
    let filler = [b'a'; 64 * 1024];
    if out.write_all(head).is_err() {
        return;
    }
    while out.write_all(&filler).is_ok() {}
}

fn write_profile(dir: &Path) -> PathBuf {
    let path = dir.join("hostile.yaml");
    let text = "name: hostile\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: { constant: 50ms }\n    tasks: [ { kind: webhook } ]\nphases:\n  - name: only\n    behaviour: b\n    users: 2\n    spawn_rate: 10\n    duration: 2s\n    server: { latency_ms: 5 }\n";
    std::fs::write(&path, text).unwrap();
    path
}

/// The resident set's high-water mark of a live process, in bytes.
fn peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Waits (bounded) for `child` to exit, reading its peak RSS all along; returns the exit
/// code and the highest peak seen.
fn wait_watching_memory(child: &mut Child, limit: Duration) -> (i32, u64) {
    let deadline = Instant::now() + limit;
    let mut peak = 0;
    loop {
        if let Some(bytes) = peak_rss_bytes(child.id()) {
            peak = peak.max(bytes);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code().unwrap_or(-1), peak);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not end within {limit:?} (peak RSS so far {} MB)", peak >> 20);
        }
        // Sampling interval of the memory watch, not a wait for an event.
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn only_summary(out: &Path) -> RunSummary {
    let dir = std::fs::read_dir(out).unwrap().next().expect("a run folder").unwrap().path();
    RunSummary::load(&dir.join("experiment_summary.json")).unwrap()
}

/// A short run against a hostile target: memory stays bounded, the run completes, and the
/// summary says why the server view is missing.
fn run_against(kind: Hostile) -> RunSummary {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path());
    let out = dir.path().join("results");
    let port = hostile_target(kind);
    let stderr = std::fs::File::create(dir.path().join("stderr.txt")).unwrap();
    let mut child = Command::new(BIN)
        .arg("run")
        .arg(&profile)
        .args(["--target", &format!("http://127.0.0.1:{port}")])
        .arg("--output")
        .arg(&out)
        .arg("--no-charts")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let (code, peak) = wait_watching_memory(&mut child, Duration::from_secs(90));
    let took = started.elapsed();
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert!(peak < 300 << 20, "{kind:?}: peak RSS {} MB", peak >> 20);
    assert_eq!(code, 0, "{kind:?}: the run completes: {stderr}");
    assert!(took < Duration::from_secs(20), "{kind:?}: took {took:?}");
    only_summary(&out)
}

fn phase_notes(summary: &RunSummary) -> String {
    summary.experiments.iter().flat_map(|p| p.notes.iter().cloned()).collect::<Vec<_>>().join(" | ")
}

#[test]
fn an_endless_status_body_is_cut_at_1_mib() {
    let summary = run_against(Hostile::EndlessBody);
    let notes = phase_notes(&summary);
    assert!(
        notes.contains("the target's /status answer exceeded 1 MiB; server view unavailable for this phase"),
        "{notes}"
    );
    assert!(summary.experiments[0].summary.total_requests > 0);
}

#[test]
fn a_chunk_of_15_hex_digits_is_cut_at_1_mib() {
    let notes = phase_notes(&run_against(Hostile::HugeChunk));
    assert!(notes.contains("/status answer exceeded 1 MiB"), "{notes}");
}

#[test]
fn an_endless_head_is_refused() {
    let notes = phase_notes(&run_against(Hostile::EndlessHead));
    assert!(notes.contains("/status") && notes.contains("server view unavailable"), "{notes}");
}

/// A listener that accepts and never answers; the receiver hears of each accepted connection.
fn silent_target() -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted_tx, accepted_rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Held open, never read or written, until the test process ends.
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
            if accepted_tx.send(()).is_err() {
                return;
            }
        }
    });
    (port, accepted_rx)
}

#[test]
fn ctrl_c_while_the_target_never_answers_stops_the_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path());
    // http: the wait for /health; https: the TLS handshake before it.
    for (scheme, extra) in [("http", &[][..]), ("https", &["--insecure"][..])] {
        let (port, accepted) = silent_target();
        let out = dir.path().join(scheme);
        let mut child = Command::new(BIN)
            .arg("run")
            .arg(&profile)
            .args(["--target", &format!("{scheme}://127.0.0.1:{port}")])
            .args(extra)
            .arg("--output")
            .arg(&out)
            .arg("--no-charts")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        accepted.recv_timeout(Duration::from_secs(30)).expect("the run connects to the target");
        // SAFETY: kill(2) on our own child's pid; no memory is touched.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        let signalled = Instant::now();
        let deadline = signalled + Duration::from_secs(60);
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            assert!(Instant::now() < deadline, "{scheme}: the run did not stop");
            std::thread::sleep(Duration::from_millis(20));
        };
        let took = signalled.elapsed();
        assert!(took < Duration::from_secs(5), "{scheme}: exited {took:?} after SIGINT");
        assert!(code.is_some_and(|c| c != 101), "{scheme}: exit {code:?}");
    }
}

/// A self-signed certificate for `localhost` marked as a CA (what `openssl req -x509` makes
/// with OpenSSL 3), or a leaf signed by `issuer` that is marked as a CA too.
fn ca_marked_cert(issuer: Option<&rcgen::Issuer<'static, rcgen::KeyPair>>) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    let cert = match issuer {
        None => params.self_signed(&key).unwrap(),
        Some(issuer) => params.signed_by(&key, issuer).unwrap(),
    };
    (cert.pem(), key.serialize_pem())
}

async fn tls_mock(dir: &Path, cert_pem: &str, key_pem: &str) -> (u16, CancellationToken) {
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let tls = ServerTls::from_pem_files(&cert, &key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = CancellationToken::new();
    let options = ServeOptions { tls: Some(tls), ..ServeOptions::default() };
    let config = MockConfig { latency_ms: 1.0, per_resource_ms: 0.0, ..MockConfig::default() };
    tokio::spawn(mock::serve_with(listener, config, options, stop.clone().cancelled_owned()));
    (port, stop)
}

fn tls_request(port: u16, out: &Path, ca_file: &Path) -> RunRequest {
    let b = webhook_only("pin", WaitStrategy::Constant(Duration::from_millis(20)));
    RunRequest {
        docker: Default::default(),
        profile: profile("pin", vec![closed_phase("pin", b, 2, 10.0, 1.0)]),
        target: Target::parse(&format!("https://localhost:{port}")).unwrap(),
        output_root: out.to_path_buf(),
        seed: 5,
        time_scale: 1.0,
        target_options: TargetOptions { tls: TlsTrust::WithCa(ca_file.to_path_buf()), ..Default::default() },
        distributed: None,
        worker_network: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_server_certificate_in_ca_cert_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_pem, key_pem) = ca_marked_cert(None);
    let (port, stop) = tls_mock(dir.path(), &cert_pem, &key_pem).await;
    let ca_file = dir.path().join("server.pem");
    let c = run_request(tls_request(port, dir.path(), &ca_file), RunControl::default())
        .await
        .expect("the server's own certificate in --ca-cert is trusted, as curl --cacert does");
    let p = &c.summary.experiments[0];
    assert!(p.summary.total_requests > 0);
    assert_eq!(p.summary.failure_count, 0, "{:?}", p.failures);
    assert!(p.server.is_some(), "the control calls trust it too");
    let notes = c.summary.notes.join(" | ");
    assert!(notes.contains("pinned"), "the run says it pinned the certificate: {notes}");

    // Another self-signed certificate in the file: still refused, and in words.
    let (other_pem, _) = ca_marked_cert(None);
    let other = dir.path().join("other.pem");
    std::fs::write(&other, other_pem).unwrap();
    let err = run_request(tls_request(port, dir.path(), &other), RunControl::default())
        .await
        .err()
        .expect("a certificate that is not in the file is refused");
    let text = err.to_string();
    assert!(matches!(err, RunError::Tls(_)), "{text}");
    assert!(text.contains("--ca-cert") && !text.contains("Other("), "{text}");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_marked_as_a_ca_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "terrafix test CA");
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    // Signed by the CA in the file, but itself marked CA:TRUE, and not in the file.
    let (cert_pem, key_pem) = ca_marked_cert(Some(&issuer));
    let (port, stop) = tls_mock(dir.path(), &cert_pem, &key_pem).await;
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let err = run_request(tls_request(port, dir.path(), &ca_file), RunControl::default())
        .await
        .err()
        .expect("a CA used as a server certificate is refused");
    let text = err.to_string();
    assert!(matches!(err, RunError::Tls(_)), "{text}");
    assert!(
        text.contains("marked as a CA (basicConstraints CA:TRUE)") && !text.contains("CaUsedAsEndEntity"),
        "{text}"
    );
    stop.cancel();
}
