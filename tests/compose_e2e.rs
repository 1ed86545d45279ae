//! The repository's docker-compose.localstack.yml, run the way the seed guide runs it
//! (`docker-compose -f … up -d`, Compose v1 as installed on this machine) with the images
//! `env up` builds offline: both services report healthy to the engine, `smoke` runs against
//! the API, `env status` sees the containers (same labels), and `down -v` leaves nothing.
//! The copy under test differs only in its names (an environment id of its own, so it cannot
//! meet a real environment on this machine), its ports (free ones, through the file's own
//! variables) and an absolute `build:` path. Without an engine or docker-compose this fails
//! unless TERRAFIX_SKIP_DOCKER=1.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use terrafix_tui::docker::{DockerEnv, UpOptions};
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

fn skipping() -> bool {
    std::env::var("TERRAFIX_SKIP_DOCKER").as_deref() == Ok("1")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The compose file with this test's environment id in every name and label.
fn compose_copy(dir: &Path, env_id: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("docker-compose.localstack.yml")).unwrap();
    let renamed: Vec<String> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("container_name: terrafix-") || trimmed.starts_with("name: terrafix-") {
                line.replacen("terrafix-", &format!("terrafix-{env_id}-"), 1)
            } else if trimmed == "io.terrafix.env: default" {
                line.replace("default", env_id)
            } else if trimmed == "build: ." {
                line.replace('.', &repo.display().to_string())
            } else {
                line.to_string()
            }
        })
        .collect();
    let path = dir.join("docker-compose.localstack.yml");
    std::fs::write(&path, renamed.join("\n") + "\n").unwrap();
    path
}

struct Compose {
    file: PathBuf,
    project: String,
    env: Vec<(String, String)>,
}

impl Compose {
    fn run(&self, args: &[&str]) -> (bool, String) {
        let mut c = Command::new("docker-compose");
        c.arg("-f").arg(&self.file).arg("-p").arg(&self.project).args(args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        match c.output() {
            Ok(o) => (
                o.status.success(),
                format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
            ),
            Err(e) => (false, format!("docker-compose did not start: {e}")),
        }
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        let (ok, out) = self.run(&["down", "-v"]);
        if !ok {
            eprintln!("docker-compose down -v failed: {out}");
        }
    }
}

fn engine_health(container: &str) -> String {
    let o = Command::new("docker")
        .args([
            "inspect",
            container,
            "--format",
            "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_file_comes_up_healthy_serves_smoke_and_goes_down() {
    if Command::new("docker-compose").arg("version").output().is_err() {
        assert!(
            skipping(),
            "docker-compose is needed (apt-get install docker-compose), or TERRAFIX_SKIP_DOCKER=1"
        );
        return;
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let env_id = format!("t-compose-{}-{}", std::process::id() % 100_000, nanos % 100_000);
    let env = match DockerEnv::connect_with_id(&env_id).await {
        Ok(env) => env,
        Err(e) if skipping() => return eprintln!("skipped: no Docker Engine ({e})"),
        Err(e) => panic!("this test needs a Docker Engine: {e} (TERRAFIX_SKIP_DOCKER=1 skips it)"),
    };

    // The images, as the tool builds them offline (or finds them).
    let (tx, mut rx) = mpsc::channel::<String>(256);
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            eprintln!("[env up] {line}");
        }
    });
    let opts = UpOptions {
        api_port: 0,
        redis_port: 0,
        api_binary: Some(BIN.into()),
        health_timeout: Duration::from_secs(90),
        ..UpOptions::default()
    };
    env.up(&opts, &tx).await.expect("env up builds the images");
    let rows = env.status().await.unwrap();
    let image_of = |service: &str| rows.iter().find(|r| r.name == service).unwrap().image.clone();
    let (api_image, redis_image) = (image_of("terrafix-api"), image_of("redis"));
    env.down(true).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let api_port = free_port();
    let compose = Compose {
        file: compose_copy(dir.path(), &env_id),
        project: env_id.clone(),
        env: vec![
            ("TERRAFIX_API_IMAGE".into(), api_image),
            ("TERRAFIX_REDIS_IMAGE".into(), redis_image),
            ("TERRAFIX_API_PORT".into(), api_port.to_string()),
            ("REDIS_PORT".into(), free_port().to_string()),
            ("MOCK_LATENCY_MS".into(), "5".into()),
        ],
    };
    let (ok, out) = compose.run(&["config", "-q"]);
    assert!(ok, "the file does not parse: {out}");
    let (ok, out) = compose.run(&["up", "-d"]);
    assert!(ok, "docker-compose up -d failed: {out}");

    let api = format!("terrafix-{env_id}-api");
    let redis = format!("terrafix-{env_id}-redis");
    let deadline = Instant::now() + Duration::from_secs(120);
    let healthy = loop {
        let states = (engine_health(&api), engine_health(&redis));
        if states == ("healthy".into(), "healthy".into()) || Instant::now() >= deadline {
            break states;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(healthy, ("healthy".to_string(), "healthy".to_string()), "engine health (api, redis)");

    // The tool sees compose's containers as its own environment.
    let rows = env.status().await.unwrap();
    for service in ["redis", "terrafix-api"] {
        let row = rows.iter().find(|r| r.name == service).unwrap();
        assert_eq!((row.state.as_str(), row.health.as_str()), ("running", "healthy"), "{row:?}");
    }

    // The seed's variable reached the container, and smoke runs against it.
    terrafix_tui::engine::tls::install_provider();
    let base = format!("http://127.0.0.1:{api_port}");
    let status: serde_json::Value =
        reqwest::get(format!("{base}/status")).await.unwrap().json().await.unwrap();
    assert_eq!(status["config"]["latency_ms"], 5.0, "{status}");
    let results = dir.path().join("results");
    let o = Command::new(BIN)
        .args(["run", "smoke", "--phase", "smoke_mix", "--duration", "2s", "--no-charts", "--target", &base])
        .arg("--output")
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));

    let (ok, out) = compose.run(&["down", "-v"]);
    assert!(ok, "docker-compose down -v failed: {out}");
    let left = Command::new("docker")
        .args(["ps", "-a", "--filter", &format!("name=terrafix-{env_id}-"), "--format", "{{.Names}}"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "", "containers left after down -v");
    let volumes = Command::new("docker")
        .args(["volume", "ls", "--filter", &format!("name=terrafix-{env_id}-"), "--format", "{{.Name}}"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&volumes.stdout).trim(), "", "volumes left after down -v");
}
