//! `terrafix-tui health URL`, the images' HEALTHCHECK: exit 0 for a 2xx answer, 1 for
//! anything else (another status, refused, silent), 2 for a URL it cannot use.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// `serve --port 0` with `extra` flags; returns the child and the base URL it logs.
fn serve(extra: &[&str]) -> (Child, String) {
    let mut server = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .args(extra)
        .env_remove("RUST_LOG")
        .env_remove("LOG_LEVEL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve logs its address").unwrap();
        if let Some(rest) = line.split("mock TerraFix API on ").nth(1) {
            break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    (server, url)
}

fn health(args: &[&str]) -> (i32, String) {
    let o = Command::new(BIN).arg("health").args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn exit_codes_follow_the_answer() {
    let (mut server, url) = serve(&[]);

    let (code, err) = health(&[&format!("{url}/health")]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "a healthy check prints nothing: {err}");
    // No path: /health.
    assert_eq!(health(&[&url]).0, 0);
    let (code, err) = health(&[&format!("{url}/no-such-path")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unhealthy") && err.contains("404"), "{err}");

    server.kill().unwrap();
    server.wait().unwrap();
    // Nothing listens there any more.
    let (code, err) = health(&[&format!("{url}/health"), "--timeout", "5"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unhealthy"), "{err}");
}

#[test]
fn a_silent_server_is_unhealthy_after_the_timeout() {
    // Accepts connections (the backlog) but never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    let started = std::time::Instant::now();
    let (code, err) = health(&[&url, "--timeout", "0.5"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no answer within 0.5 s"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    drop(listener);
}

#[test]
fn unusable_input_exits_2() {
    for args in [
        &["not a url"][..],
        &["ftp://127.0.0.1/"],
        &["http://127.0.0.1:1/", "--timeout", "0"],
        &["http://127.0.0.1:1/", "--timeout", "NaN"],
    ] {
        let (code, err) = health(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A CA and a leaf for `localhost` signed by it, as PEM files in `dir`: (ca, cert, key).
fn make_certs(dir: &std::path::Path) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "terrafix health test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let paths = [dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key")];
    std::fs::write(&paths[0], ca_cert.pem()).unwrap();
    std::fs::write(&paths[1], leaf.pem()).unwrap();
    std::fs::write(&paths[2], leaf_key.serialize_pem()).unwrap();
    let [ca, cert, key] = paths.map(|p| p.to_str().unwrap().to_string());
    (ca, cert, key)
}

#[test]
fn https_health_takes_ca_cert_or_insecure_and_says_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let (mut server, url) = serve(&["--tls-cert", &cert, "--tls-key", &key]);
    // The certificate names localhost, not 127.0.0.1.
    let url = url.replace("127.0.0.1", "localhost");
    assert!(url.starts_with("https://localhost:"), "{url}");

    let (code, err) = health(&[&url]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("certificate") && err.contains("unknown issuer") && err.contains("--ca-cert"),
        "the certificate problem is named, not just 'error sending request': {err}"
    );
    let (code, err) = health(&[&url, "--ca-cert", &ca]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = health(&[&url, "--insecure"]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = health(&[&url, "--ca-cert", "/no/such/ca.pem"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/no/such/ca.pem"), "{err}");

    server.kill().unwrap();
    server.wait().unwrap();
    let (code, err) = health(&[&url]);
    assert_eq!(code, 1, "{err}");
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
}
