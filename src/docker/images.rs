//! Finding the image of each service: present locally → used; missing → pulled with
//! per-layer progress summed; pull impossible → built offline from host executables.
//! Imports bollard, `build`, `services` and `labels`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{CreateImageOptions, TagImageOptions};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::DockerError;
use super::build::{ScratchImage, build_scratch_image, sha256_file};
use super::error::is_not_found;
use super::labels::{LABEL_MANAGED_BY, LABEL_SERVICE, MANAGED_BY_VALUE};
use super::services::{
    API_BINARY_PATH, API_IMAGE_REPO, LOCALSTACK_IMAGE, REDIS_HOST_IMAGE, REDIS_IMAGE, Service,
};

/// True when the engine has an image by that name or id.
pub async fn image_exists(docker: &Docker, image: &str) -> Result<bool, DockerError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(DockerError::api(format!("inspecting image {image}"), e)),
    }
}

/// The image to run `service` from, pulling or building it when missing.
pub async fn ensure_image(
    docker: &Docker,
    service: Service,
    api_binary: Option<&Path>,
    progress: &mpsc::Sender<String>,
) -> Result<String, DockerError> {
    match service {
        Service::Redis => ensure_redis(docker, progress).await,
        Service::Api => {
            let image = ensure_api(docker, api_binary, progress).await?;
            tag_for_compose(docker, &image).await?;
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ = progress.try_send(format!(
                "terrafix-api: {image} is also tagged {API_COMPOSE_IMAGE} (the compose file's default)"
            ));
            Ok(image)
        }
        Service::LocalStack => ensure_localstack(docker, progress).await,
    }
}

/// The API image the compose file runs unless told otherwise
/// (`${TERRAFIX_API_IMAGE:-terrafix-tui:latest}`).
pub const API_COMPOSE_IMAGE: &str = "terrafix-tui:latest";

/// Points `terrafix-tui:latest` at `image`, so the compose file finds the same API offline.
async fn tag_for_compose(docker: &Docker, image: &str) -> Result<(), DockerError> {
    let (repo, tag) = API_COMPOSE_IMAGE.split_once(':').unwrap_or((API_COMPOSE_IMAGE, "latest"));
    let options = TagImageOptions { repo: Some(repo.to_string()), tag: Some(tag.to_string()) };
    docker
        .tag_image(image, Some(options))
        .await
        .map_err(|e| DockerError::api(format!("tagging {image} as {API_COMPOSE_IMAGE}"), e))
}

async fn ensure_redis(docker: &Docker, progress: &mpsc::Sender<String>) -> Result<String, DockerError> {
    for image in [REDIS_IMAGE, REDIS_HOST_IMAGE] {
        if image_exists(docker, image).await? {
            return Ok(image.to_string());
        }
    }
    let pull_error = match pull(docker, REDIS_IMAGE, progress).await {
        Ok(()) => return Ok(REDIS_IMAGE.to_string()),
        Err(detail) => detail,
    };
    let remedy = "install redis-server on this host (`sudo apt-get install -y redis-server`) so an image can be built from it, or `docker pull redis:7-alpine` on a machine with a registry, `docker save` it and `docker load` it here";
    let Some(server) = find_on_path("redis-server") else {
        return Err(DockerError::ImageMissingOffline {
            image: REDIS_IMAGE.into(),
            detail: pull_error,
            remedy: remedy.into(),
        });
    };
    // a progress line is for the user's eyes only: the outcome travels in the return value
    let _ = progress.try_send(format!(
        "{REDIS_IMAGE} is not present and cannot be pulled ({pull_error}); building {REDIS_HOST_IMAGE} from this host's {}",
        server.display()
    ));
    let mut executables = vec![(server, "/usr/bin/redis-server".to_string())];
    // redis-cli serves the container's own health check (`docker ps` shows it).
    if let Some(cli) = find_on_path("redis-cli") {
        executables.push((cli, "/usr/bin/redis-cli".to_string()));
    }
    let image = ScratchImage {
        tag: REDIS_HOST_IMAGE.into(),
        executables,
        dockerfile_tail: "ENV PATH=/usr/local/bin:/usr/bin:/bin\nEXPOSE 6379\nCMD [\"redis-server\"]\n\
                          HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 CMD [\"redis-cli\", \"ping\"]"
            .into(),
        labels: image_labels(Service::Redis, "host-redis-server"),
        directories: vec!["/tmp".into(), "/data".into()],
        remedy: remedy.into(),
    };
    build_scratch_image(docker, &image, progress).await?;
    Ok(REDIS_HOST_IMAGE.to_string())
}

/// The API image checks itself with its own binary: `FROM scratch` has no shell or curl.
const API_HEALTHCHECK: &str = "HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 \
     CMD [\"/usr/local/bin/terrafix-tui\", \"health\", \"--timeout\", \"3\", \"http://127.0.0.1:8081/health\"]";

async fn ensure_api(
    docker: &Docker,
    api_binary: Option<&Path>,
    progress: &mpsc::Sender<String>,
) -> Result<String, DockerError> {
    let binary = match api_binary {
        Some(path) => path.to_path_buf(),
        None => std::env::current_exe()
            .map_err(|e| DockerError::io("finding the running executable for the terrafix-api image", e))?,
    };
    // Hashing a 200 MB debug binary takes a second: off the async threads.
    let hash = {
        let binary = binary.clone();
        tokio::task::spawn_blocking(move || sha256_file(&binary))
            .await
            .map_err(|e| DockerError::io("hashing the executable", std::io::Error::other(e)))??
    };
    // One tag per executable content: a rebuilt binary gets a new image, an unchanged one reuses it.
    let tag = format!("{API_IMAGE_REPO}:{}", &hash[..12]);
    if image_exists(docker, &tag).await? {
        return Ok(tag);
    }
    // a progress line is for the user's eyes only: the outcome travels in the return value
    let _ = progress.try_send(format!(
        "terrafix-api image {tag} is not present (no registry image exists for it): building it from {}",
        binary.display()
    ));
    let stripped = stripped_copy(&binary, &hash).await;
    let executable = stripped.clone().unwrap_or(binary);
    let image = ScratchImage {
        tag: tag.clone(),
        executables: vec![(executable, API_BINARY_PATH.to_string())],
        dockerfile_tail: format!(
            "ENTRYPOINT [\"{API_BINARY_PATH}\"]\nCMD [\"serve\", \"--bind\", \"0.0.0.0\", \"--port\", \"8081\"]\nEXPOSE 8081\n{API_HEALTHCHECK}"
        ),
        labels: image_labels(Service::Api, &hash),
        directories: vec!["/tmp".into()],
        remedy: "build it from the repository instead: `docker build -t terrafix-tui .`".into(),
    };
    let built = build_scratch_image(docker, &image, progress).await;
    if let Some(copy) = stripped {
        // A temp copy; a failed removal leaves one file in the temp folder, nothing more.
        let _ = std::fs::remove_file(copy);
    }
    built?;
    Ok(tag)
}

/// A copy of `binary` without debug info or symbol table (`objcopy --strip-all`, binutils)
/// in the temp folder, so the image stays small whichever build runs `env up`: a debug
/// build's line tables are most of its 80 MB, a release build's symbol table 7 of its 27 MB.
/// A panic in the container still prints its message and source location. None when objcopy
/// is missing or fails: the image then carries the binary as it is.
async fn stripped_copy(binary: &Path, hash: &str) -> Option<PathBuf> {
    let objcopy = find_on_path("objcopy")?;
    let copy = std::env::temp_dir().join(format!("terrafix-api-{}-{}", &hash[..12], std::process::id()));
    let status = tokio::process::Command::new(objcopy)
        .arg("--strip-all")
        .arg(binary)
        .arg(&copy)
        .status()
        .await
        .ok()?;
    if status.success() {
        Some(copy)
    } else {
        // a temp copy left behind costs one file in the temp folder, nothing the run needs
        let _ = std::fs::remove_file(&copy);
        None
    }
}

async fn ensure_localstack(docker: &Docker, progress: &mpsc::Sender<String>) -> Result<String, DockerError> {
    if image_exists(docker, LOCALSTACK_IMAGE).await? {
        return Ok(LOCALSTACK_IMAGE.to_string());
    }
    match pull(docker, LOCALSTACK_IMAGE, progress).await {
        Ok(()) => Ok(LOCALSTACK_IMAGE.to_string()),
        Err(detail) => Err(DockerError::ImageMissingOffline {
            image: LOCALSTACK_IMAGE.into(),
            detail,
            remedy: "it cannot be built offline: `docker pull localstack/localstack:3.0` on a machine with a registry, `docker save` it, `docker load` it here, or leave out --with-localstack".into(),
        }),
    }
}

fn image_labels(service: Service, source: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (LABEL_SERVICE.to_string(), service.name().to_string()),
        ("io.terrafix.source".to_string(), source.to_string()),
    ])
}

/// Pulls `image`, sending a summed progress line at most every 500 ms. Err = the reason.
async fn pull(docker: &Docker, image: &str, progress: &mpsc::Sender<String>) -> Result<(), String> {
    // a progress line is for the user's eyes only: the outcome travels in the return value
    let _ = progress.try_send(format!("pulling {image}"));
    let options = CreateImageOptions { from_image: Some(image.to_string()), ..Default::default() };
    let mut stream = docker.create_image(Some(options), None, None);
    let mut layers: HashMap<String, (u64, u64)> = HashMap::new();
    let mut last_report = Instant::now();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| e.to_string())?;
        if let Some(err) = info.error_detail.and_then(|d| d.message) {
            return Err(err);
        }
        if let (Some(id), Some(detail)) = (info.id, info.progress_detail) {
            let entry = layers.entry(id).or_default();
            if let Some(current) = detail.current {
                entry.0 = entry.0.max(u64::try_from(current).unwrap_or(0));
            }
            if let Some(total) = detail.total {
                entry.1 = entry.1.max(u64::try_from(total).unwrap_or(0));
            }
        }
        if last_report.elapsed() >= Duration::from_millis(500) && !layers.is_empty() {
            last_report = Instant::now();
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ = progress.try_send(pull_line(image, &layers));
        }
    }
    // a progress line is for the user's eyes only: the outcome travels in the return value
    let _ = progress.try_send(format!("pulled {image}"));
    Ok(())
}

fn pull_line(image: &str, layers: &HashMap<String, (u64, u64)>) -> String {
    let current: u64 = layers.values().map(|l| l.0).sum();
    let total: u64 = layers.values().map(|l| l.1).sum();
    format!("  {image}: {:.1} / {:.1} MB ({} layers)", current as f64 / 1e6, total as f64 / 1e6, layers.len())
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_progress_sums_layers() {
        let layers = HashMap::from([
            ("a".to_string(), (1_000_000, 3_000_000)),
            ("b".to_string(), (500_000, 1_000_000)),
        ]);
        assert_eq!(pull_line("redis:7-alpine", &layers), "  redis:7-alpine: 1.5 / 4.0 MB (2 layers)");
    }
}
