//! The Docker environment against the machine's real Docker Engine: up → healthy → dedup in
//! Redis → down leaves nothing; Redis killed → the API fails open; foreign containers are
//! untouched; crashed leftovers and interrupted `up`s are cleaned; a held port is named.
//! Without an engine these tests fail unless TERRAFIX_SKIP_DOCKER=1.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::ContainerCreateBody as Config;
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, ListNetworksOptions, ListVolumesOptions,
    RemoveContainerOptions,
};
use futures::TryStreamExt;
use serde_json::{Value, json};
use terrafix_tui::docker::{
    DockerEnv, DockerError, Endpoints, Health, LABEL_ENV, LABEL_MANAGED_BY, LABEL_SERVICE, ServiceState,
    UpOptions,
};
use tokio::sync::mpsc;

fn unique_env_id(tag: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("t-{tag}-{}-{}", std::process::id() % 100_000, nanos % 100_000)
}

/// Connects for a fresh environment id, or returns None when skipping is asked for.
async fn connect(env_id: &str) -> Option<DockerEnv> {
    match DockerEnv::connect_with_id(env_id).await {
        Ok(env) => Some(env),
        Err(e) if std::env::var("TERRAFIX_SKIP_DOCKER").as_deref() == Ok("1") => {
            eprintln!("skipped: no Docker Engine ({e}) and TERRAFIX_SKIP_DOCKER=1");
            None
        }
        Err(e) => panic!(
            "these tests need a running Docker Engine and none answered: {e}\n(set TERRAFIX_SKIP_DOCKER=1 to skip them)"
        ),
    }
}

async fn raw_docker() -> Docker {
    Docker::connect_with_local_defaults().unwrap().negotiate_version().await.unwrap()
}

/// Removes the environment (volumes too) and any foreign containers a test made, even when
/// the test fails: Drop runs the async cleanup on a runtime of its own.
struct Cleanup {
    env_id: String,
    foreign_containers: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let env_id = self.env_id.clone();
        let foreign = std::mem::take(&mut self.foreign_containers);
        let joined = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                if let Ok(env) = DockerEnv::connect_with_id(&env_id).await
                    && let Err(e) = env.down(true).await
                {
                    eprintln!("cleanup of {env_id} failed: {e}");
                }
                let docker = raw_docker().await;
                for name in foreign {
                    let options = RemoveContainerOptions { force: true, ..Default::default() };
                    let _ = docker.remove_container(&name, Some(options)).await;
                }
            });
        })
        .join();
        if joined.is_err() {
            eprintln!("cleanup thread panicked");
        }
    }
}

fn options() -> UpOptions {
    UpOptions {
        api_port: 0,
        redis_port: 0,
        localstack_port: 0,
        api_binary: Some(env!("CARGO_BIN_EXE_terrafix-tui").into()),
        health_timeout: Duration::from_secs(90),
        ..UpOptions::default()
    }
}

/// A progress channel whose lines go to the test's stderr.
fn progress(env_id: &str) -> mpsc::Sender<String> {
    let (tx, mut rx) = mpsc::channel::<String>(256);
    let tag = env_id.to_string();
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            eprintln!("[{tag}] {line}");
        }
    });
    tx
}

async fn up(env: &DockerEnv) -> Endpoints {
    match env.up(&options(), &progress(env.env_id())).await {
        Ok(endpoints) => endpoints,
        Err(e) => panic!("env up failed: {e}"),
    }
}

fn failure(test_id: &str) -> Value {
    json!({
        "test_id": test_id,
        "test_name": "s3-bucket-encryption",
        "resource_arn": "arn:aws:s3:::terrafix-docker-test",
        "resource_type": "AWS::S3::Bucket",
        "failure_reason": "bucket is not encrypted",
        "severity": "high",
        "framework": "SOC2",
        "failed_at": "2025-01-01T00:00:00Z",
        "current_state": {},
        "required_state": {}
    })
}

async fn post_webhook(api: &url::Url, body: &Value) -> (u16, Value) {
    terrafix_tui::engine::tls::install_provider();
    let response = reqwest::Client::new().post(api.join("webhook").unwrap()).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_json(api: &url::Url, path: &str) -> (u16, Value) {
    terrafix_tui::engine::tls::install_provider();
    let response = reqwest::get(api.join(path).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Names of every container, network and volume labelled for `env_id`.
async fn labelled_leftovers(env_id: &str) -> Vec<String> {
    let docker = raw_docker().await;
    let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_ENV}={env_id}")])]);
    let mut names = Vec::new();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .unwrap();
    names.extend(containers.into_iter().map(|c| format!("container {:?}", c.names)));
    let networks =
        docker.list_networks(Some(ListNetworksOptions { filters: Some(filters.clone()) })).await.unwrap();
    names.extend(networks.into_iter().map(|n| format!("network {:?}", n.name)));
    let volumes = docker.list_volumes(Some(ListVolumesOptions { filters: Some(filters) })).await.unwrap();
    names.extend(volumes.volumes.unwrap_or_default().into_iter().map(|v| format!("volume {}", v.name)));
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_dedup_in_redis_and_down_leaves_nothing() {
    let env_id = unique_env_id("dedup");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let endpoints = up(&env).await;

    let rows = env.status().await.unwrap();
    for service in ["redis", "terrafix-api"] {
        let row =
            rows.iter().find(|r| r.name == service).unwrap_or_else(|| panic!("{service} missing: {rows:?}"));
        assert_eq!((row.state.as_str(), row.health.as_str()), ("running", "healthy"), "{row:?}");
        assert!(row.ports.len() == 1 && row.ports[0].starts_with("127.0.0.1:"), "{row:?}");
        assert!(row.uptime.is_some() && row.memory_bytes.is_some_and(|m| m > 0), "{row:?}");
    }
    let api_port = endpoints.api_url.port().unwrap();
    let api_row = rows.iter().find(|r| r.name == "terrafix-api").unwrap();
    assert_eq!(api_row.ports[0], format!("127.0.0.1:{api_port}->8081/tcp"));

    let body = failure(&format!("dedup-{env_id}"));
    let (first_status, first) = post_webhook(&endpoints.api_url, &body).await;
    assert_eq!(first_status, 200, "{first}");
    assert_eq!(first["success"], true, "{first}");
    assert_ne!(first["duplicate"], true, "first post must not be a duplicate: {first}");
    let (second_status, second) = post_webhook(&endpoints.api_url, &body).await;
    assert_eq!(second_status, 200, "{second}");
    assert_eq!(second["duplicate"], true, "second post must be a duplicate: {second}");
    let (_, status) = get_json(&endpoints.api_url, "status").await;
    assert_eq!(status["stats"]["dedup_hits"], 1, "{status}");

    // The dedup key lives in the containerised Redis, reachable on its published port.
    let client = redis::Client::open(endpoints.redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg("terrafix:failure:*").query_async(&mut conn).await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");

    let samples = env.sample_stats().await.unwrap();
    let mut services: Vec<&str> = samples.iter().map(|s| s.service.as_str()).collect();
    services.sort();
    assert_eq!(services, ["redis", "terrafix-api"], "{samples:?}");

    let redis_logs: Vec<String> = env.logs("redis", 50, false).await.unwrap().try_collect().await.unwrap();
    assert!(redis_logs.iter().any(|l| l.contains("Ready to accept connections")), "{redis_logs:?}");

    env.down(true).await.unwrap();
    assert_eq!(labelled_leftovers(&env_id).await, Vec::<String>::new());
    let rows = env.status().await.unwrap();
    assert!(rows.iter().all(|r| r.state == ServiceState::Missing), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_killed_the_api_fails_open() {
    let env_id = unique_env_id("kill");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let endpoints = up(&env).await;
    assert_eq!(get_json(&endpoints.api_url, "ready").await.0, 200);

    env.kill_service("redis").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ready = 200;
    while Instant::now() < deadline {
        ready = get_json(&endpoints.api_url, "ready").await.0;
        if ready == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready, 503, "/ready must say 503 once Redis is gone");
    let (status, answer) = post_webhook(&endpoints.api_url, &failure(&format!("open-{env_id}"))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
    let (_, stats) = get_json(&endpoints.api_url, "status").await;
    assert!(stats["stats"]["dedup_errors"].as_u64().is_some_and(|n| n >= 1), "{stats}");

    let rows = env.status().await.unwrap();
    let redis = rows.iter().find(|r| r.name == "redis").unwrap();
    assert_eq!((&redis.state, &redis.health), (&ServiceState::Exited, &Health::NotChecked), "{redis:?}");

    env.down(true).await.unwrap();
    assert_eq!(labelled_leftovers(&env_id).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_leaves_an_unlabelled_container_of_the_same_image_alone() {
    let env_id = unique_env_id("foreign");
    let Some(env) = connect(&env_id).await else { return };
    let foreign = format!("{env_id}-foreign");
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![foreign.clone()] };
    up(&env).await;
    let image = env.status().await.unwrap().into_iter().find(|r| r.name == "redis").unwrap().image;

    let docker = raw_docker().await;
    let config = Config {
        image: Some(image.clone()),
        cmd: Some(vec!["redis-server".to_string(), "--port".to_string(), "6390".to_string()]),
        ..Default::default()
    };
    let options = CreateContainerOptions { name: Some(foreign.clone()), platform: String::new() };
    docker.create_container(Some(options), config).await.unwrap();
    docker.start_container(&foreign, None).await.unwrap();

    env.down(true).await.unwrap();
    let info =
        docker.inspect_container(&foreign, None).await.expect("the foreign container must survive down");
    assert_eq!(info.state.and_then(|s| s.running), Some(true));
    assert_eq!(labelled_leftovers(&env_id).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_cleans_the_leftovers_of_a_crashed_run() {
    let env_id = unique_env_id("crash");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    up(&env).await;
    let image = env.status().await.unwrap().into_iter().find(|r| r.name == "redis").unwrap().image;

    // A crashed run: the API died and a stray labelled container was left behind.
    env.kill_service("terrafix-api").await.unwrap();
    let docker = raw_docker().await;
    let stray = format!("terrafix-{env_id}-stray");
    let labels = HashMap::from([
        (LABEL_MANAGED_BY.to_string(), "terrafix-tui".to_string()),
        (LABEL_ENV.to_string(), env_id.clone()),
        (LABEL_SERVICE.to_string(), "redis".to_string()),
    ]);
    let config = Config { image: Some(image), labels: Some(labels), ..Default::default() };
    let options = CreateContainerOptions { name: Some(stray.clone()), platform: String::new() };
    docker.create_container(Some(options), config).await.unwrap();

    let endpoints = up(&env).await;
    assert_eq!(get_json(&endpoints.api_url, "health").await.1["status"], "healthy");
    let gone = docker.inspect_container(&stray, None).await;
    assert!(gone.is_err(), "the stray labelled container must be removed by up");
    let rows = env.status().await.unwrap();
    assert!(rows.iter().all(|r| r.health == Health::Healthy), "{rows:?}");

    env.down(true).await.unwrap();
    assert_eq!(labelled_leftovers(&env_id).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_up_removes_what_it_started() {
    let env_id = unique_env_id("cancel");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let (tx, mut rx) = mpsc::channel::<String>(256);
    let opts = options();
    let interrupted = tokio::select! {
        result = env.up(&opts, &tx) => panic!("up finished before redis was healthy was seen: {:?}", result.map(|e| e.api_url)),
        seen = async {
            while let Some(line) = rx.recv().await {
                if line == "redis: healthy" { return true; }
            }
            false
        } => seen,
    };
    assert!(interrupted, "progress never said redis was healthy");
    env.wait_cleanup().await;
    let leftovers: Vec<String> =
        labelled_leftovers(&env_id).await.into_iter().filter(|n| !n.starts_with("volume")).collect();
    assert_eq!(leftovers, Vec::<String>::new(), "containers and network must be gone after the interruption");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_port_is_named_with_its_holder() {
    let env_id = unique_env_id("port");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let opts = UpOptions { redis_port: port, ..options() };
    let err = env.up(&opts, &progress(&env_id)).await.unwrap_err();
    assert!(matches!(err, DockerError::PortInUse { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&port.to_string()) && text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    let containers: Vec<String> =
        labelled_leftovers(&env_id).await.into_iter().filter(|n| n.starts_with("container")).collect();
    assert_eq!(containers, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_of_an_empty_environment_are_reported_missing() {
    let env_id = unique_env_id("empty");
    let Some(env) = connect(&env_id).await else { return };
    let err = env.kill_service("redis").await.unwrap_err();
    assert!(matches!(err, DockerError::ServiceMissing { .. }), "{err}");
    assert!(err.to_string().contains("env up"), "{err}");
    let err = match env.logs("postgres", 10, false).await {
        Err(e) => e,
        Ok(_) => panic!("logs of an unknown service must fail"),
    };
    assert!(matches!(err, DockerError::UnknownService { .. }), "{err}");
    let rows = env.status().await.unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["redis", "terrafix-api"]);
    assert!(rows.iter().all(|r| r.state == ServiceState::Missing && r.health == Health::NotChecked));
}

/// The engine's own view of a container's health (`docker inspect --format
/// '{{.State.Health.Status}}'`), waited for until `want` or `within` passes.
async fn engine_health(container: &str, want: &str, within: Duration) -> String {
    let docker = raw_docker().await;
    let deadline = Instant::now() + within;
    loop {
        let info = docker.inspect_container(container, None).await.unwrap();
        let status = info
            .state
            .and_then(|s| s.health)
            .and_then(|h| h.status)
            .map_or("none".to_string(), |s| s.to_string());
        if status == want || Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `env up --latency-ms --failure-rate` reach the API container; the engine reads the
/// images' health checks as healthy; a LocalStack that never becomes healthy (one of our own
/// images standing in for it: nothing answers on 4566) is a warning and the rest stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_settings_engine_health_and_an_unhealthy_localstack_is_only_a_warning() {
    let env_id = unique_env_id("health");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let opts = UpOptions { api_latency_ms: Some(7.0), api_failure_rate: Some(0.25), ..options() };
    let endpoints = env.up(&opts, &progress(&env_id)).await.unwrap();
    assert!(endpoints.warnings.is_empty(), "{:?}", endpoints.warnings);
    let (_, status) = get_json(&endpoints.api_url, "status").await;
    assert_eq!(status["config"]["latency_ms"], 7.0, "{status}");
    assert_eq!(status["config"]["failure_rate"], 0.25, "{status}");
    let api = env.container_name("terrafix-api").unwrap();
    let redis = env.container_name("redis").unwrap();
    // Checks run every 5 s after a 10 s start period: generous room on a busy machine.
    assert_eq!(engine_health(&api, "healthy", Duration::from_secs(90)).await, "healthy");
    assert_eq!(engine_health(&redis, "healthy", Duration::from_secs(90)).await, "healthy");

    // Asking again with the same settings reuses the environment; other settings restart it.
    let again = env.up(&opts, &progress(&env_id)).await.unwrap();
    assert_eq!(again.api_url, endpoints.api_url);
    let stand_in = env.status().await.unwrap().into_iter().find(|r| r.name == "terrafix-api").unwrap().image;
    let opts = UpOptions {
        with_localstack: true,
        localstack_image: Some(stand_in),
        health_timeout: Duration::from_secs(25),
        api_latency_ms: Some(9.0),
        api_failure_rate: None,
        ..options()
    };
    let endpoints =
        env.up(&opts, &progress(&env_id)).await.expect("an unhealthy LocalStack does not fail up");
    assert_eq!(endpoints.localstack_url, None);
    assert_eq!(endpoints.warnings.len(), 1, "{:?}", endpoints.warnings);
    let warning = &endpoints.warnings[0];
    assert!(warning.contains("localstack is not healthy") && warning.contains("stays up"), "{warning}");
    assert!(warning.contains("25"), "the reason names the wait: {warning}");
    let (code, status) = get_json(&endpoints.api_url, "status").await;
    assert_eq!(code, 200);
    assert_eq!(status["config"]["latency_ms"], 9.0, "{status}");
    assert_eq!(status["config"]["failure_rate"], 0.0, "back to the default: {status}");
    let rows = env.status().await.unwrap();
    for service in ["redis", "terrafix-api", "localstack"] {
        let row = rows.iter().find(|r| r.name == service).unwrap();
        assert_eq!(row.state, ServiceState::Running, "{row:?}");
    }
    env.down(true).await.unwrap();
    assert_eq!(labelled_leftovers(&env_id).await, Vec::<String>::new());
}

/// An unlabelled network with our name (the seed's own compose made one) is refused with the
/// command that removes it, not a bare "name taken".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_network_with_our_name_says_how_to_remove_it() {
    let env_id = unique_env_id("taken");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let docker = raw_docker().await;
    let name = env.network_name();
    docker
        .create_network(bollard::models::NetworkCreateRequest { name: name.clone(), ..Default::default() })
        .await
        .unwrap();
    let result = env.up(&options(), &progress(&env_id)).await;
    let _ = docker.remove_network(&name).await;
    let err = result.expect_err("a foreign network must stop up").to_string();
    assert!(err.contains(&format!("docker network rm {name}")), "{err}");
    assert!(err.contains("seed harness"), "{err}");
}

/// `up` returns once Docker itself reports each service healthy (its HEALTHCHECK, not only our
/// probe), points `terrafix-tui:latest` (the compose file's default) at the API image it runs,
/// and gives the compose command for the same services on the same ports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_waits_for_dockers_health_check_tags_latest_and_gives_the_compose_line() {
    let env_id = unique_env_id("health");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let endpoints = up(&env).await;
    let docker = raw_docker().await;
    let mut images = HashMap::new();
    for service in ["redis", "api"] {
        let name = format!("terrafix-{env_id}-{service}");
        let info = docker.inspect_container(&name, None).await.unwrap();
        let health = info.state.and_then(|s| s.health).and_then(|h| h.status).map(|s| s.to_string());
        assert_eq!(
            health.as_deref(),
            Some("healthy"),
            "{name}: `up` returned before Docker's own check said healthy"
        );
        images.insert(
            service,
            (info.image.unwrap_or_default(), info.config.and_then(|c| c.image).unwrap_or_default()),
        );
    }
    let latest = docker.inspect_image(terrafix_tui::docker::API_COMPOSE_IMAGE).await.unwrap();
    assert_eq!(
        latest.id.as_deref(),
        Some(images["api"].0.as_str()),
        "terrafix-tui:latest is not the API's image"
    );

    let line = &endpoints.compose_up;
    assert!(line.ends_with("docker-compose -f docker-compose.localstack.yml up -d"), "{line}");
    let api_port = endpoints.api_url.port().unwrap();
    let redis_port: u16 =
        endpoints.redis_url.rsplit(':').next().unwrap().trim_end_matches("/0").parse().unwrap();
    assert!(line.contains(&format!("TERRAFIX_API_PORT={api_port} ")), "{line}");
    assert!(line.contains(&format!("REDIS_PORT={redis_port} ")), "{line}");
    assert!(
        !line.contains("TERRAFIX_API_IMAGE"),
        "the latest tag makes the API image variable needless: {line}"
    );
    let redis_image = &images["redis"].1;
    assert_eq!(
        line.contains(&format!("TERRAFIX_REDIS_IMAGE={redis_image} ")),
        redis_image != "redis:7-alpine",
        "{line}"
    );
    env.down(true).await.unwrap();
}

/// The API image built from the release binary (what `cargo install` and CI's
/// `cargo build --release` make) stays within 30 MB: no debug info, no symbol table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_image_from_the_release_binary_is_at_most_30_mb() {
    let release = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/terrafix-tui");
    if !release.is_file() {
        // scripts/test.sh builds it before the tests; a bare `cargo test` may not have.
        eprintln!("skipped: no {} (cargo build --release --bin terrafix-tui)", release.display());
        return;
    }
    let env_id = unique_env_id("size");
    let Some(env) = connect(&env_id).await else { return };
    let _cleanup = Cleanup { env_id: env_id.clone(), foreign_containers: vec![] };
    let opts = UpOptions { api_binary: Some(release), ..options() };
    if let Err(e) = env.up(&opts, &progress(&env_id)).await {
        panic!("env up failed: {e}");
    }
    let docker = raw_docker().await;
    let info = docker.inspect_container(&format!("terrafix-{env_id}-api"), None).await.unwrap();
    let image = docker.inspect_image(&info.image.unwrap_or_default()).await.unwrap();
    let size = image.size.unwrap_or(i64::MAX);
    assert!(size <= 30_000_000, "the API image is {size} bytes, over 30 MB");
    env.down(true).await.unwrap();
}
