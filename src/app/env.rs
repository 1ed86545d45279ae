//! `terrafix-tui env up|down|status|logs`: the Docker environment from the command line.
//! Wires a progress channel to stdout and Ctrl-C to cleanup; all Docker work is in `docker`.

use std::process::ExitCode;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::cli::{EnvAction, EnvArgs};
use crate::docker::{DockerEnv, ServiceStatus, UpOptions};

pub async fn main(args: EnvArgs) -> anyhow::Result<ExitCode> {
    let id = args.env_id.as_str();
    match args.action {
        EnvAction::Up {
            with_localstack,
            api_port,
            redis_port,
            localstack_port,
            api_binary,
            health_timeout,
            latency_ms,
            failure_rate,
            localstack_image,
        } => {
            let opts = UpOptions {
                with_localstack,
                api_port,
                redis_port,
                localstack_port,
                api_binary,
                health_timeout: Duration::from_secs(health_timeout),
                api_latency_ms: latency_ms,
                api_failure_rate: failure_rate,
                localstack_image,
            };
            // A bad value is the user's to fix (exit 2) before Docker is asked anything.
            opts.check().map_err(|e| super::UsageError(e.to_string()))?;
            up(&DockerEnv::connect_with_id(id).await?, &opts).await
        }
        EnvAction::Down { volumes } => {
            let env = DockerEnv::connect_with_id(id).await?;
            env.down(volumes).await?;
            let what = if volumes { "containers, network and volumes" } else { "containers and network" };
            println!("environment {}: {what} removed", env.env_id());
            Ok(ExitCode::SUCCESS)
        }
        EnvAction::Status => {
            let rows = DockerEnv::connect_with_id(id).await?.status().await?;
            print!("{}", status_table(&rows));
            Ok(ExitCode::SUCCESS)
        }
        EnvAction::Logs { service, follow, tail } => {
            logs(&DockerEnv::connect_with_id(id).await?, &service, tail, follow).await
        }
    }
}

async fn up(env: &DockerEnv, opts: &UpOptions) -> anyhow::Result<ExitCode> {
    let (progress_tx, mut progress_rx) = mpsc::channel::<String>(256);
    let printer = tokio::spawn(async move {
        while let Some(line) = progress_rx.recv().await {
            println!("{line}");
        }
    });
    let outcome = tokio::select! {
        result = env.up(opts, &progress_tx) => Some(result),
        _ = super::signals::stop_requested() => None,
    };
    drop(progress_tx);
    // The printer ends once the sender is gone; a panic in it only loses progress lines.
    let _ = printer.await;
    match outcome {
        Some(Ok(endpoints)) => {
            println!("environment {} is up:", env.env_id());
            println!("  terrafix-api  {}", endpoints.api_url);
            println!("  redis         {}", endpoints.redis_url);
            if let Some(localstack) = &endpoints.localstack_url {
                println!("  localstack    {localstack}");
                println!("  (check it: aws --endpoint-url {localstack} s3 mb s3://test-bucket)");
            }
            println!("the same environment with compose, offline (from the repository's root):");
            println!("  {}", endpoints.compose_up);
            if env.env_id() != "default" {
                println!("  (compose uses the default environment's names: terrafix-redis, terrafix-api)");
            }
            for warning in &endpoints.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Err(err)) => Err(err.into()),
        None => {
            eprintln!("interrupted: removing the containers this `env up` started…");
            env.wait_cleanup().await;
            eprintln!("cleaned up");
            Ok(ExitCode::from(130))
        }
    }
}

async fn logs(env: &DockerEnv, service: &str, tail: usize, follow: bool) -> anyhow::Result<ExitCode> {
    let mut lines = env.logs(service, tail, follow).await?;
    loop {
        tokio::select! {
            next = lines.next() => match next {
                Some(line) => println!("{}", line?),
                None => break,
            },
            _ = super::signals::stop_requested() => break,
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `env status` table: one row per service.
pub fn status_table(rows: &[ServiceStatus]) -> String {
    let header = ["SERVICE", "STATE", "HEALTH", "PORTS", "UPTIME", "CPU %", "MEMORY"].map(String::from);
    let mut table = vec![header.to_vec()];
    for row in rows {
        table.push(vec![
            row.name.clone(),
            row.state.to_string(),
            row.health.to_string(),
            if row.ports.is_empty() { "-".into() } else { row.ports.join(", ") },
            row.uptime.map_or("-".into(), format_uptime),
            row.cpu_percent.map_or("-".into(), |c| format!("{c:.1}")),
            row.memory_bytes.map_or("-".into(), format_bytes),
        ]);
    }
    let widths: Vec<usize> =
        (0..7).map(|i| table.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in table {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn format_uptime(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86400, secs % 86400 / 3600),
    }
}

fn format_bytes(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let mib = bytes as f64 / MIB;
    if mib >= 1024.0 { format!("{:.2} GiB", mib / 1024.0) } else { format!("{mib:.1} MiB") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::{Health, ServiceState};

    #[test]
    fn the_status_table_lines_up_columns() {
        let rows = vec![
            ServiceStatus {
                name: "redis".into(),
                image: "redis:7-alpine".into(),
                state: ServiceState::Running,
                health: Health::Healthy,
                ports: vec!["127.0.0.1:6379->6379/tcp".into()],
                uptime: Some(Duration::from_secs(125)),
                cpu_percent: Some(12.34),
                memory_bytes: Some(3 * 1024 * 1024),
            },
            ServiceStatus {
                name: "terrafix-api".into(),
                image: String::new(),
                state: ServiceState::Missing,
                health: Health::NotChecked,
                ports: vec![],
                uptime: None,
                cpu_percent: None,
                memory_bytes: None,
            },
        ];
        let table = status_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains("127.0.0.1:6379->6379/tcp") && lines[1].contains("2m05s"), "{table}");
        assert!(lines[1].contains("12.3") && lines[1].contains("3.0 MiB"), "{table}");
        let state_col = lines[0].find("STATE").unwrap();
        assert_eq!(&lines[2][state_col..state_col + 7], "missing");
    }

    #[test]
    fn uptimes_and_sizes_read_naturally() {
        assert_eq!(format_uptime(Duration::from_secs(59)), "59s");
        assert_eq!(format_uptime(Duration::from_secs(3 * 3600 + 120)), "3h02m");
        assert_eq!(format_uptime(Duration::from_secs(2 * 86400 + 3600)), "2d01h");
        assert_eq!(format_bytes(5 * 1024 * 1024 * 1024), "5.00 GiB");
    }
}
