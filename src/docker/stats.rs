//! Resource figures of a container: CPU % and memory from one Engine stats sample,
//! computed the way `docker stats` does. Imports bollard.

use bollard::Docker;
use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptions;
use futures::StreamExt;

use super::DockerError;

/// CPU % (100 = one full core) and memory in bytes (page cache excluded).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage {
    pub cpu_percent: f64,
    pub memory_bytes: u64,
}

/// One sample of `container`. The engine measures over about a second to give a CPU delta.
pub async fn sample(docker: &Docker, container: &str) -> Result<Usage, DockerError> {
    let options = StatsOptions { stream: false, one_shot: false };
    let mut stream = docker.stats(container, Some(options));
    match stream.next().await {
        Some(Ok(stats)) => Ok(usage(&stats)),
        Some(Err(e)) => Err(DockerError::api(format!("reading the stats of {container}"), e)),
        None => Err(DockerError::InvalidOption(format!("the engine sent no stats for {container}"))),
    }
}

fn usage(stats: &ContainerStatsResponse) -> Usage {
    let default_cpu = Default::default();
    let cpu = stats.cpu_stats.as_ref().unwrap_or(&default_cpu);
    let pre = stats.precpu_stats.as_ref().unwrap_or(&default_cpu);
    let total = |c: &bollard::models::ContainerCpuStats| {
        c.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0)
    };
    let cpu_delta = total(cpu).saturating_sub(total(pre)) as f64;
    let system_delta =
        cpu.system_cpu_usage.unwrap_or(0).saturating_sub(pre.system_cpu_usage.unwrap_or(0)) as f64;
    let cpus = cpu
        .online_cpus
        .map(u64::from)
        .or_else(|| cpu.cpu_usage.as_ref()?.percpu_usage.as_ref().map(|v| v.len() as u64))
        .unwrap_or(1)
        .max(1) as f64;
    let cpu_percent = if system_delta > 0.0 { cpu_delta / system_delta * cpus * 100.0 } else { 0.0 };
    let Some(mem) = stats.memory_stats.as_ref() else { return Usage { cpu_percent, memory_bytes: 0 } };
    // cgroup v1 names the page cache `total_inactive_file`, v2 `inactive_file`.
    let inactive_file = mem
        .stats
        .as_ref()
        .and_then(|s| s.get("total_inactive_file").or_else(|| s.get("inactive_file")).copied())
        .unwrap_or(0);
    Usage { cpu_percent, memory_bytes: mem.usage.unwrap_or(0).saturating_sub(inactive_file) }
}
