//! `terrafix-tui health URL`, the images' HEALTHCHECK: exit 0 for a 2xx answer, 1 for
//! anything else (another status, refused, silent), 2 for a URL it cannot use.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

fn health(args: &[&str]) -> (i32, String) {
    let o = Command::new(BIN).arg("health").args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn exit_codes_follow_the_answer() {
    let mut server = Command::new(BIN)
        .args(["serve", "--port", "0"])
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
