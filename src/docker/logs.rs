//! Container logs as text lines (stdout and stderr interleaved): the last lines for error
//! messages, and a stream (tail, then follow) for `env logs` and the TUI. Imports bollard.

use bollard::Docker;
use bollard::query_parameters::LogsOptions;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use super::DockerError;

/// Log lines of `container`: the last `tail`, then new ones while `follow`.
pub fn stream_lines(
    docker: &Docker,
    container: &str,
    tail: usize,
    follow: bool,
) -> BoxStream<'static, Result<String, DockerError>> {
    let options =
        LogsOptions { follow, stdout: true, stderr: true, tail: tail.to_string(), ..Default::default() };
    let context = format!("reading the logs of {container}");
    // The client is a cheap handle; cloning it lets the stream outlive the borrow.
    let docker = docker.clone();
    let container = container.to_string();
    let chunks = futures::stream::once(async move {
        docker.logs(&container, Some(options)).map_err(move |e| DockerError::api(context.clone(), e))
    })
    .flatten();
    chunks
        .map_ok(|chunk| {
            let text = String::from_utf8_lossy(&chunk.into_bytes()).into_owned();
            futures::stream::iter(text.lines().map(|l| Ok(l.to_string())).collect::<Vec<_>>())
        })
        .try_flatten()
        .boxed()
}

/// The last `n` log lines of `container`; a failure to read them becomes one explaining line
/// (this only decorates another error, so it must not hide it).
pub async fn last_lines(docker: &Docker, container: &str, n: usize) -> Vec<String> {
    let lines: Result<Vec<String>, DockerError> =
        stream_lines(docker, container, n, false).try_collect().await;
    match lines {
        Ok(lines) => lines,
        Err(e) => vec![format!("(logs unavailable: {e})")],
    }
}
