//! Command-line definitions (clap derive) and nothing else. Doc comments here are the
//! `--help` text: keep them short and written for users.

#![deny(missing_docs)]

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "terrafix-tui",
    version,
    about = "Load-testing experiments against TerraFix's webhook API, with a live terminal dashboard",
    long_about = "Without a subcommand, opens the terminal UI. Headless runs: `terrafix-tui run smoke`."
)]
/// The command line: global options and, optionally, one subcommand.
pub struct Cli {
    /// Extra folder of profile YAML files (./profiles is always searched).
    #[arg(long, global = true, value_name = "DIR")]
    pub profiles: Option<PathBuf>,

    /// What to do; none opens the terminal UI.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up and moved into its command: the size of the biggest variant
// costs nothing, and boxing it would only add noise to every match.
/// The subcommands.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run a profile headless, with a progress line and an end-of-run table.
    Run(RunArgs),
    /// Serve the mock TerraFix API.
    Serve(ServeArgs),
    /// Manage the Docker environment (redis, terrafix-api, localstack).
    Env(EnvArgs),
    /// Check that a URL answers 2xx (exit 0 healthy, 1 not, 2 bad URL): the images'
    /// HEALTHCHECK, which a scratch image cannot run with curl.
    Health(HealthArgs),
    /// (Re)render PNG charts and the HTML reports of a results folder, or with --out,
    /// export chosen charts (PNG or SVG, any size, any phases) into a folder.
    Charts(ChartsArgs),
    /// Pack a run folder (HTML reports, CSVs, summary, hlogs, charts) into one .tar.gz.
    Export(ExportArgs),
    /// List, show or validate experiment profiles.
    Profiles(ProfilesArgs),
    /// Compare two runs phase by phase, with 95 % intervals and a verdict per metric.
    #[command(
        long_about = "Compare run B against run A, phase by phase: the change in req/s, p50, p95 and p99, each with a 95 % bootstrap interval over the runs' seconds, and a verdict (faster, slower, no detectable difference). A phase that was not valid (generator-bound) in either run gets `not comparable` for its latency rows, and differences of configuration are listed above the table. Exit 0, 1 when --fail-if-slower trips, 2 for bad input or a gate on a phase that was not valid (unless --allow-invalid)."
    )]
    Compare(CompareArgs),
    /// (Re)write experiment_report.md and experiment_summary.html of a run folder (or of a
    /// folder of the seed's Locust CSVs, into DIR/terrafix-charts) from what is on disk.
    Report(ReportArgs),
    /// Open the Run screen on a run started elsewhere with `run --control`: live charts,
    /// tables, steering keys, skip and abort through its control API; `q` detaches and
    /// leaves the run going.
    Attach(AttachArgs),
    /// Print a shell completion script to stdout (bash, zsh, fish or powershell).
    #[command(long_about = "Print a shell completion script to stdout.\n\n\
Install it, e.g.:\n  \
bash:        terrafix-tui completions bash > ~/.local/share/bash-completion/completions/terrafix-tui\n  \
zsh:         terrafix-tui completions zsh > ~/.zfunc/_terrafix-tui   (with fpath+=~/.zfunc before compinit)\n  \
fish:        terrafix-tui completions fish > ~/.config/fish/completions/terrafix-tui.fish\n  \
powershell:  terrafix-tui completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout, or with --out-dir write one page per command.
    Man(ManArgs),
    /// One generator of a distributed run (started by Docker Swarm, not by people).
    #[command(hide = true)]
    Worker(WorkerArgs),
}

/// Options of `completions`.
#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

/// The shells `completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShellArg {
    /// GNU bash (bash-completion).
    Bash,
    /// zsh (compinit).
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Powershell,
}

/// Options of `man`.
#[derive(Debug, Args, Clone)]
pub struct ManArgs {
    /// Write terrafix-tui.1 and a page per subcommand (terrafix-tui-run.1, …) into this
    /// folder instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Who a worker is: Swarm fills these from the service's environment.
#[derive(Debug, Args, Clone)]
pub struct WorkerArgs {
    /// The run's Redis, as the worker's container reaches it.
    #[arg(long, env = "TERRAFIX_REDIS_URL")]
    pub redis_url: String,
    /// The distributed run's id, shared by the coordinator and its workers.
    #[arg(long, env = "TERRAFIX_RUN_ID")]
    pub run_id: String,
    /// Swarm's task slot, 1-based (`{{.Task.Slot}}`).
    #[arg(long, env = "TERRAFIX_WORKER_SLOT")]
    pub slot: u32,
    /// Swarm's task id (`{{.Task.ID}}`): tells a restarted task from the one it replaced.
    #[arg(long, env = "TERRAFIX_TASK_ID", default_value = "local")]
    pub task_id: String,
}

#[derive(Debug, Args, Clone)]
#[command(
    long_about = "Run a profile headless, or with --behaviour one phase of a behaviour without writing a profile.\n\n\
Overrides and what they apply to:\n  \
--users, --spawn-rate        every phase with users (closed model); refused when none has\n  \
--duration                   every phase (before --time-scale)\n  \
--repo-size                  every phase\n  \
--server-latency-ms, --server-failure-rate   every phase's server settings (sent with /configure)\n  \
--time-scale                 every duration and pause, after the others\n  \
--phase NAME                 keeps only the named phases: the overrides then apply to those only\n  \
--arrival-rate, --max-in-flight   the quick run's phase (with --behaviour) only\n\n\
--dry-run prints the plan after all overrides and exits 0 without sending a request."
)]
/// Options of `run`.
pub struct RunArgs {
    /// A shipped profile name (`smoke`, `throughput`, `all`, …) or a YAML file. With
    /// --behaviour it may be left out, or name the profile that defines the behaviour.
    #[arg(required_unless_present = "behaviour")]
    pub profile: Option<String>,
    /// Quick run: one phase of this behaviour (built-in: throughput, burst, resilience,
    /// scalability, cascade, mixed; or one the named profile defines), suite `adhoc`.
    #[arg(long, value_name = "NAME")]
    pub behaviour: Option<String>,
    /// Users started per second in every closed-model phase (or the quick run).
    #[arg(long, value_name = "R", conflicts_with = "arrival_rate")]
    pub spawn_rate: Option<f64>,
    /// Quick run in the open model: arrivals per second (instead of --users).
    #[arg(long, value_name = "X", requires = "behaviour", conflicts_with = "users")]
    pub arrival_rate: Option<f64>,
    /// Quick run in the open model: most requests outstanding at once (default 1000).
    #[arg(long, value_name = "M", requires = "arrival_rate")]
    pub max_in_flight: Option<u32>,
    /// Repository size of every phase's failures: small, medium, large or mixed.
    #[arg(long, value_name = "SIZE")]
    pub repo_size: Option<String>,
    /// Server latency (ms) sent with /configure for every phase.
    #[arg(long, value_name = "MS")]
    pub server_latency_ms: Option<f64>,
    /// Server failure rate (0..1) sent with /configure for every phase.
    #[arg(long, value_name = "RATE")]
    pub server_failure_rate: Option<f64>,
    /// Print the plan after all overrides and exit without sending a single request.
    #[arg(long)]
    pub dry_run: bool,
    /// Run only these phases (repeatable), by name.
    #[arg(long = "phase", value_name = "NAME")]
    pub phases: Vec<String>,
    /// `embedded` (in-process mock), `docker`, or a URL such as http://127.0.0.1:8081.
    #[arg(long, env = "TERRAFIX_API_HOST", default_value = "embedded")]
    pub target: String,
    /// Results root; each run gets its own folder inside.
    #[arg(long, env = "TERRAFIX_OUTPUT_DIR", default_value = "experiment_results", value_name = "DIR")]
    pub output: PathBuf,
    /// Multiplies every duration and pause (0.1 turns 56 minutes into under 6).
    #[arg(long, value_name = "F")]
    pub time_scale: Option<f64>,
    /// Users in every closed-model phase.
    #[arg(long, value_name = "N")]
    pub users: Option<u32>,
    /// Duration of every phase, e.g. 30s, 5m, 1h30m.
    #[arg(long, value_name = "D")]
    pub duration: Option<String>,
    /// Seed of the request sequence (payloads, task choice, waits).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Do not render PNG charts at the end.
    #[arg(long)]
    pub no_charts: bool,
    /// Print only the final verdict line (warnings and errors still go to stderr).
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print the details after the summary: validity, like for like, connects,
    /// generators, retries, notes.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// With --target docker: also start LocalStack (an unhealthy one is only a warning).
    #[arg(long)]
    pub with_localstack: bool,
    /// Request timeout (from send to the whole answer), e.g. 30s; default 10s.
    #[arg(long, value_name = "D")]
    pub timeout: Option<String>,
    /// Connect (TCP + TLS handshake) timeout, e.g. 3s; default 5s.
    #[arg(long, value_name = "D")]
    pub connect_timeout: Option<String>,
    /// Extra request header, 'Name: value' (repeatable); ${VAR} reads the environment.
    /// Values are never written to results or logs.
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,
    /// Trust this PEM CA certificate (besides the public roots) for an https target.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the https target's certificate (said in the output and the reports).
    #[arg(long)]
    pub insecure: bool,
    /// Send neither /configure nor /stats/reset: the target is only loaded, never changed.
    #[arg(long)]
    pub no_configure: bool,
    /// Offer HTTP/2 in the TLS handshake (ALPN h2, then http/1.1) to an https target; a
    /// server that picks HTTP/1.1 is loaded over HTTP/1.1 and the run says so.
    #[arg(long)]
    pub http2: bool,
    /// Local address to connect from (repeatable, or comma-separated), taken in turn: one
    /// address holds about 28,000 connections to one target (the local port range), so
    /// 50,000 users on 127.0.0.1 need two, e.g. 127.0.0.1,127.0.0.2. Not with --distributed.
    #[arg(long = "source-address", value_name = "IP", value_delimiter = ',')]
    pub source_addrs: Vec<std::net::IpAddr>,
    /// Generate the load from N worker tasks on Docker Swarm (needs `docker swarm init`
    /// and --target docker or a URL the containers reach); results are merged exactly.
    #[arg(long, value_name = "N")]
    pub distributed: Option<u32>,
    /// How the workers of --distributed reach Redis and the target: `overlay` (an overlay
    /// network, container names) or `host` (each node's own network, addresses; needs a
    /// --target URL every node reaches; the run's Redis gets a generated password).
    #[arg(long, value_enum, value_name = "MODE", default_value = "overlay")]
    pub worker_network: crate::cluster::WorkerNetwork,
    /// Also write the results as JUnit XML (one testsuite per suite, one testcase per
    /// threshold and per validity verdict) for a CI system to show.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the report's head (verdict, findings, phase tables) as Markdown. When
    /// $GITHUB_STEP_SUMMARY is set, the head is appended there too, with or without this.
    #[arg(long, value_name = "FILE")]
    pub summary_md: Option<PathBuf>,
    /// Serve the run's live series at http://ADDR/metrics for Prometheus to scrape, e.g.
    /// 127.0.0.1:9464 (port 0 picks a free one and prints it). Loopback only unless
    /// --metrics-allow-public is given.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Let --metrics-listen bind a non-loopback address (anyone who reaches it reads the run's
    /// request names, rates and run id; there is no authentication).
    #[arg(long, requires = "metrics_listen")]
    pub metrics_allow_public: bool,
    /// How long /metrics and the control API stay up after the run ends, so the last
    /// scrape sees the final counts and the last GET /v1/run the verdict (0s to 60s;
    /// default 5s). Exit waits at most this long. Needs --metrics-listen or --control.
    #[arg(long, value_name = "D")]
    pub metrics_linger: Option<String>,
    /// Push the same series every second (and once at the end) to this Prometheus
    /// remote-write URL, e.g. http://127.0.0.1:9090/api/v1/write.
    #[arg(long, value_name = "URL")]
    pub prometheus_remote_write: Option<String>,
    /// Serve the control API (read, steer, skip, extend, abort, follow events) on this
    /// address while the run lasts, e.g. 127.0.0.1:7070; beyond loopback only with a token.
    #[arg(long, value_name = "ADDR")]
    pub control: Option<std::net::SocketAddr>,
    /// The bearer token the control API asks for (required to bind beyond loopback).
    /// Never printed or written to the results.
    #[arg(long, env = "TERRAFIX_CONTROL_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub control_token: Option<String>,
}

/// Options of `attach`.
#[derive(Debug, Args, Clone)]
pub struct AttachArgs {
    /// The control API of a run started with `run --control`, e.g. http://127.0.0.1:7070.
    pub url: String,
    /// The run's --control-token, when it has one.
    #[arg(long, env = "TERRAFIX_CONTROL_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
}

/// Options of `report`.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// A run folder of ours, or a folder of plain Locust CSVs (the seed harness's results).
    pub run_dir: PathBuf,
}

/// Options of `serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to bind (127.0.0.1 unless you mean to expose it).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on.
    #[arg(long, env = "TERRAFIX_API_PORT", default_value_t = 8081)]
    pub port: u16,
    /// Base simulated processing time per failure (also MOCK_LATENCY_MS).
    #[arg(long, env = "TERRAFIX_MOCK_LATENCY_MS")]
    pub latency_ms: Option<f64>,
    /// Share of requests answered with an injected failure, in [0, 1] (also MOCK_FAILURE_RATE).
    #[arg(long, env = "TERRAFIX_MOCK_FAILURE_RATE")]
    pub failure_rate: Option<f64>,
    /// error_500, throttle_429, rate_limit_403, unavailable_503 or hang.
    #[arg(long)]
    pub failure_mode: Option<String>,
    /// Dedup in Redis instead of memory, e.g. redis://127.0.0.1:6379/0.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Concurrent processing slots (requests past it queue); 0 = unlimited.
    #[arg(long)]
    pub workers: Option<u32>,
    /// Backpressure: concurrent work before answering 429; 0 = off.
    #[arg(long)]
    pub max_concurrent: Option<u32>,
    /// Simulated cost per Terraform resource of the failure's repository (default 0: the
    /// latency is the whole simulated time).
    #[arg(long)]
    pub per_resource_ms: Option<f64>,
    /// How long a failure hash counts as a duplicate (default 3600).
    #[arg(long)]
    pub dedup_ttl_s: Option<u64>,
    /// Serve https with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Most connections open at once; more are closed on accept (idle sockets cannot
    /// starve the server).
    /// Default: 10,000 or the file limit (`ulimit -n`) less 64, whichever is lower.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request head, on a new or kept-alive connection
    /// (over TLS also the handshake, and for HTTP/2 the connection preface).
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub header_timeout_s: f64,
    /// Seconds a client has to send a request's whole body once its head is in; past it the
    /// request is answered 408 and the connection closed.
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub body_timeout_s: f64,
}

/// Options of `env`.
#[derive(Debug, Args, Clone)]
pub struct EnvArgs {
    /// Environment id: `default` manages terrafix-network / terrafix-redis / terrafix-api;
    /// another id gets its own network, containers and volumes (terrafix-ID-…).
    #[arg(long, global = true, default_value = "default", value_name = "ID")]
    pub env_id: String,
    /// What to do with the environment.
    #[command(subcommand)]
    pub action: EnvAction,
}

/// The `env` subcommands.
#[derive(Debug, Subcommand, Clone)]
pub enum EnvAction {
    /// Create what is missing, start in order, wait for health.
    Up {
        /// Also start LocalStack (off by default: mock mode does not need it).
        #[arg(long)]
        with_localstack: bool,
        /// Host port of the mock API on 127.0.0.1 (0 = any free port).
        #[arg(long, default_value_t = 8081)]
        api_port: u16,
        /// Host port of Redis on 127.0.0.1 (0 = any free port).
        #[arg(long, default_value_t = 6379)]
        redis_port: u16,
        /// Host port of LocalStack on 127.0.0.1 (0 = any free port).
        #[arg(long, default_value_t = 4566)]
        localstack_port: u16,
        /// Executable to put in the terrafix-api image when it is built locally (default: this one).
        #[arg(long, value_name = "FILE")]
        api_binary: Option<PathBuf>,
        /// Seconds to wait for each service to answer its health check.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        health_timeout: u64,
        /// The API container's simulated latency (the seed's `start --latency MS`; also
        /// MOCK_LATENCY_MS / TERRAFIX_MOCK_LATENCY_MS, from the environment or .env).
        #[arg(long, env = "TERRAFIX_MOCK_LATENCY_MS", value_name = "MS")]
        latency_ms: Option<f64>,
        /// The API container's injected failure rate in [0, 1] (also MOCK_FAILURE_RATE /
        /// TERRAFIX_MOCK_FAILURE_RATE).
        #[arg(long, env = "TERRAFIX_MOCK_FAILURE_RATE", value_name = "RATE")]
        failure_rate: Option<f64>,
        /// Run this image as LocalStack instead of localstack/localstack:3.0.
        #[arg(long, env = "TERRAFIX_LOCALSTACK_IMAGE", value_name = "IMAGE")]
        localstack_image: Option<String>,
    },
    /// Stop and remove our containers and network.
    Down {
        /// Remove our volumes too (Redis data).
        #[arg(long)]
        volumes: bool,
    },
    /// State, health, ports, uptime, CPU and memory of each service.
    Status,
    /// Stream a service's logs.
    Logs {
        /// The service: redis, terrafix-api or localstack.
        service: String,
        /// Keep following new lines.
        #[arg(long, short)]
        follow: bool,
        /// How many earlier lines to show first.
        #[arg(long, default_value_t = 100, value_name = "N")]
        tail: usize,
    },
}

/// Options of `charts`.
#[derive(Debug, Args, Clone)]
pub struct ChartsArgs {
    /// A run folder of ours, or a folder of plain Locust CSVs (the seed harness's results).
    pub results_dir: PathBuf,
    /// Export into this folder instead of re-rendering the run's own charts and reports.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub out: Option<PathBuf>,
    /// Write the reports and charts/ here instead of the run folder (for a folder that is not
    /// one of our runs the default is DIR/terrafix-charts, so none of its files is touched).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// File format of the exported charts.
    #[arg(long, value_enum, default_value_t = ChartFormatArg::Png, requires = "out")]
    pub format: ChartFormatArg,
    /// Size of each exported chart, WIDTHxHEIGHT from 800x500 up to 3200x2000.
    #[arg(long, default_value = "1600x1000", value_name = "WxH", requires = "out")]
    pub size: String,
    /// Only these charts, comma-separated (e.g. latency_over_time,latency_percentiles).
    #[arg(long, value_delimiter = ',', value_name = "NAME,…", requires = "out")]
    pub only: Vec<String>,
    /// Only these phases (repeatable), by name or as suite/name.
    #[arg(long = "phase", value_name = "NAME", requires = "out")]
    pub phases: Vec<String>,
}

/// File format of exported charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChartFormatArg {
    /// Raster images of WIDTHxHEIGHT pixels.
    Png,
    /// Vector images; the size sets their nominal width and height.
    Svg,
}

/// Options of `export`.
#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// The run folder to pack.
    pub run_dir: PathBuf,
    /// The file to write, or a folder to write RUN_ID.tar.gz in (default: ./RUN_ID.tar.gz).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace an existing regular file at --out (never a file of a run folder, never a device).
    #[arg(long)]
    pub force: bool,
}

/// Options of `compare`.
#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// The baseline run folder (experiment_results/RUN_ID).
    pub run_a: PathBuf,
    /// The run compared against it.
    pub run_b: PathBuf,
    /// Compare only these phases (repeatable), by name; default: every phase both runs have.
    #[arg(long = "phase", value_name = "NAME")]
    pub phases: Vec<String>,
    /// Print the comparison as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw each phase's p99 with its interval, A beside B, as a PNG (e.g. compare.png).
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// Exit 1 when a phase's metric (--on) is detectably slower by more than this, e.g. 10%.
    #[arg(long, value_name = "PERCENT")]
    pub fail_if_slower: Option<String>,
    /// The metric --fail-if-slower looks at.
    #[arg(long, value_enum, default_value_t = GateMetric::P99)]
    pub on: GateMetric,
    /// Judge --fail-if-slower even on a phase that was not valid (generator-bound) in
    /// either run; without it such a gate exits 2, since it would judge the generator.
    #[arg(long, requires = "fail_if_slower")]
    pub allow_invalid: bool,
}

/// The latency percentile a compare gate judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateMetric {
    /// The 99th percentile latency.
    P99,
    /// The median latency.
    P50,
}

/// Options of `profiles`.
#[derive(Debug, Args, Clone)]
pub struct ProfilesArgs {
    /// What to do with the profiles.
    #[command(subcommand)]
    pub action: ProfilesAction,
}

/// The `profiles` subcommands.
#[derive(Debug, Subcommand, Clone)]
pub enum ProfilesAction {
    /// Shipped profiles and those in ./profiles (or --profiles DIR).
    List,
    /// A profile's phases and settings.
    Show {
        /// The profile's name (see `profiles list`) or a YAML file.
        name: String,
    },
    /// Check a profile file and say exactly what is wrong.
    Validate {
        /// The profile YAML file to check.
        file: PathBuf,
    },
    /// Print the JSON Schema of the profile format (assets/profile.schema.json), for editors.
    Schema,
}

/// Options of `health`.
#[derive(Debug, Args, Clone)]
pub struct HealthArgs {
    /// The URL to GET; a URL without a path gets /health.
    #[arg(default_value = "http://127.0.0.1:8081/health")]
    pub url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// PEM file of a CA (or of the server's own certificate, pinned) to trust for https.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca_cert: Option<PathBuf>,
    /// Do not check the server's certificate (https).
    #[arg(long)]
    pub insecure: bool,
}
