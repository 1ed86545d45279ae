//! Performing the TUI's commands: every task the UI starts is spawned here, off the UI loop,
//! owned by the `Worker` (quitting cancels or waits for it), and reports back as an
//! `Action` on one channel. Holds the active run's controls. By family: the active run in
//! `active_run`, Docker and the target in `environment`, files and results below.

mod active_run;
mod environment;
mod tasks;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

use super::bridges::{self, DockerHandle};
use super::news::News;
use super::scan;
use crate::experiment::RunControl;
use crate::metrics::Snapshot;
use crate::tui::state::{ChartsState, ProfileItem};
use crate::tui::{Action, Command};
use tasks::{JOBS_STOP_GRACE, Tasks};

/// How long quitting waits for an aborted run to write its partial results (a distributed
/// run also ends its workers and removes their Swarm service and network in this time:
/// the drain grace plus the service's removal, about 10 s, under load more).
pub const RUN_STOP_GRACE: Duration = Duration::from_secs(40);

/// How long quitting waits for cancelled Docker work to remove what it had started.
pub const DOCKER_CLEANUP_GRACE: Duration = Duration::from_secs(60);

struct ActiveRun {
    control: RunControl,
    snapshots: watch::Receiver<Snapshot>,
    task: JoinHandle<()>,
}

pub struct Worker {
    tx: News,
    profiles_dir: Option<PathBuf>,
    output_root: PathBuf,
    run: Option<ActiveRun>,
    docker: Arc<Mutex<Option<Arc<DockerHandle>>>>,
    /// Every Docker operation the UI started: quitting cancels them and waits (bounded)
    /// for their cleanup, so an interrupted `env up` leaves nothing behind.
    docker_tasks: Tasks,
    /// Every other job: listings, renders, exports, requests to the target, the opener,
    /// the followed log.
    jobs: Tasks,
    /// The followed log's job in `jobs`, to end it when another is followed.
    logs: Option<AbortHandle>,
}

/// Whether the loop goes on after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

impl Worker {
    pub fn new(tx: News, profiles_dir: Option<PathBuf>, output_root: PathBuf) -> Self {
        Self {
            docker_tasks: Tasks::new(tx.clone()),
            jobs: Tasks::new(tx.clone()),
            tx,
            profiles_dir,
            output_root,
            run: None,
            docker: Arc::default(),
            logs: None,
        }
    }

    /// The newest snapshot of the active run, if one arrived since the last call.
    pub fn latest_snapshot(&mut self) -> Option<Snapshot> {
        let run = self.run.as_mut()?;
        match run.snapshots.has_changed() {
            Ok(true) => Some(run.snapshots.borrow_and_update().clone()),
            _ => None,
        }
    }

    pub fn perform(&mut self, command: Command) -> Flow {
        match command {
            Command::Quit => return Flow::Quit,
            Command::Batch(commands) => {
                if commands.into_iter().any(|command| self.perform(command) == Flow::Quit) {
                    return Flow::Quit;
                }
            }
            Command::StartRun { request, metrics } => self.start_run(*request, metrics),
            Command::StartQuickRun(start) => self.start_quick_run(*start),
            // Both say false between phases: the key then does nothing, as the screen shows.
            Command::SkipPhase => self.with_run(|control| {
                control.skip.skip_current();
            }),
            Command::Steer(steer) => self.with_run(|control| {
                control.steer.send(steer);
            }),
            Command::ResetStats => self.with_run(|control| control.view_reset.reset()),
            Command::AbortRun => self.with_run(|control| control.cancel.cancel()),
            Command::LoadProfiles => self.load_profiles(),
            Command::LoadResults => self.load_results(),
            Command::WriteQuickProfile(choice) => self.write_quick_profile(*choice),
            Command::RenderCharts(dir) => self.render_charts(dir),
            Command::ExportCharts(request) => self.export_charts(request),
            Command::Bundle { run_id, run_dir, out } => self.bundle(run_id, run_dir, out),
            Command::OpenHtml(path) => self.open_html(path),
            Command::LoadRunDetail { run_id, dir } => self.load_run_detail(run_id, dir),
            Command::Compare { left, left_dir, right, right_dir } => {
                self.compare(left, left_dir, right, right_dir);
            }
            Command::Docker(op) => self.docker(op),
            Command::FollowLogs(service) => self.follow_logs(service),
            Command::StopLogs => self.stop_logs(),
            Command::Configure { base_url, body } => self.configure(base_url, body),
            Command::CheckHealth(base_url) => self.check_health(base_url),
        }
        Flow::Continue
    }

    /// Stops what is still going: ends log streams and other jobs (waiting, bounded, for
    /// those already writing), cancels Docker work, aborts an active run and waits
    /// (bounded) for its partial results.
    pub async fn shutdown(mut self) {
        self.stop_logs();
        if !self.jobs.stop().await {
            eprintln!(
                "terrafix-tui: a file being written (export, bundle, charts) did not finish within {}s",
                JOBS_STOP_GRACE.as_secs()
            );
        }
        self.stop_docker_work().await;
        if let Some(run) = self.run.take() {
            if run.task.is_finished() {
                return;
            }
            run.control.cancel.cancel();
            eprintln!("terrafix-tui: stopping the run and writing its partial results…");
            if tokio::time::timeout(RUN_STOP_GRACE, run.task).await.is_err() {
                eprintln!(
                    "terrafix-tui: the run did not stop within {}s; its results may be incomplete",
                    RUN_STOP_GRACE.as_secs()
                );
            }
        }
    }
}

/// Files and results: listings, the new-run form's profile, charts, exports, bundles,
/// a run's detail and comparisons; each on a blocking thread, each answered by its action.
impl Worker {
    fn load_profiles(&mut self) {
        let (dir, tx) = (self.profiles_dir.clone(), self.tx.clone());
        let job = move || {
            let items = crate::profile::list(dir.as_deref())
                .into_iter()
                .map(|e| ProfileItem {
                    name: e.name,
                    source: e.source,
                    profile: e.profile.map_err(|e| e.to_string()),
                })
                .collect();
            tx.tell_blocking(Action::ProfilesLoaded(items));
        };
        // The list has no error of its own: one item in place of the profiles says why.
        let failed = |why: String| {
            Action::ProfilesLoaded(vec![ProfileItem {
                name: "profiles".into(),
                source: "(not listed)".into(),
                profile: Err(format!("listing the profiles {why}")),
            }])
        };
        self.jobs.spawn_blocking(job, failed);
    }

    fn load_results(&mut self) {
        let (root, tx) = (self.output_root.clone(), self.tx.clone());
        self.jobs.spawn_blocking(
            move || tx.tell_blocking(Action::ResultsLoaded(scan::runs(&root))),
            |why| Action::ResultsLoaded(Err(format!("listing the results {why}"))),
        );
    }

    fn write_quick_profile(&mut self, choice: crate::tui::quick_form::QuickChoice) {
        let (extra, tx) = (self.profiles_dir.clone(), self.tx.clone());
        let job = move || {
            let written = crate::profile::write_quick(
                &choice.quick,
                choice.defined_in.as_deref(),
                extra.as_deref(),
                std::path::Path::new("profiles"),
            );
            tx.tell_blocking(Action::ProfileWritten(written.map_err(|e| e.to_string())));
        };
        self.jobs
            .spawn_blocking(job, |why| Action::ProfileWritten(Err(format!("writing the profile {why}"))));
    }

    fn render_charts(&mut self, dir: PathBuf) {
        let tx = self.tx.clone();
        let failed_dir = dir.clone();
        let job = move || {
            let outcome = match bridges::render_charts(&dir) {
                Ok(out) => {
                    ChartsState::Done { dir, charts: out.charts, html: out.html, warnings: out.warnings }
                }
                Err(error) => ChartsState::Failed { dir, error },
            };
            tx.tell_blocking(Action::ChartsRendered(outcome));
        };
        let failed = move |why| {
            let error = format!("rendering the charts {why}");
            Action::ChartsRendered(ChartsState::Failed { dir: failed_dir, error })
        };
        self.jobs.spawn_blocking(job, failed);
    }

    fn export_charts(&mut self, request: Box<crate::tui::state::ExportRequest>) {
        let tx = self.tx.clone();
        let job = move || {
            let progress = tx.clone();
            let on_written = move |path: &std::path::Path| {
                progress.tell_blocking(Action::ExportWritten(path.to_path_buf()));
            };
            let result = crate::app::export::charts_for_tui(&request, &on_written);
            tx.tell_blocking(Action::ExportFinished(result));
        };
        self.jobs.spawn_blocking(job, |why| Action::ExportFinished(Err(format!("the export {why}"))));
    }

    fn bundle(&mut self, run_id: String, run_dir: PathBuf, out: PathBuf) {
        let tx = self.tx.clone();
        let failed_id = run_id.clone();
        let job = move || {
            let result = crate::app::export::bundle_run(&run_dir, &out)
                .map(|bundled| bundled.path)
                .map_err(|e| e.to_string());
            tx.tell_blocking(Action::BundleFinished { run_id, result });
        };
        let failed =
            move |why| Action::BundleFinished { run_id: failed_id, result: Err(format!("the bundle {why}")) };
        self.jobs.spawn_blocking(job, failed);
    }

    fn load_run_detail(&mut self, run_id: String, dir: PathBuf) {
        let tx = self.tx.clone();
        let failed_id = run_id.clone();
        let failed_dir = dir.display().to_string();
        let job = move || {
            let result = super::detail::load(&dir);
            tx.tell_blocking(Action::RunDetailLoaded { run_id, result });
        };
        // A panic while reading a hostile folder must not leave the view loading.
        let failed = move |why| Action::RunDetailLoaded {
            run_id: failed_id,
            result: Err(format!("reading {failed_dir} {why}")),
        };
        self.jobs.spawn_blocking(job, failed);
    }

    fn compare(&mut self, left: String, left_dir: PathBuf, right: String, right_dir: PathBuf) {
        let tx = self.tx.clone();
        let (failed_left, failed_right) = (left.clone(), right.clone());
        let job = move || {
            let result = bridges::compare(&left_dir, &right_dir);
            tx.tell_blocking(Action::CompareDone { left, right, result });
        };
        let failed = move |why| Action::CompareDone {
            left: failed_left,
            right: failed_right,
            result: Err(format!("comparing the runs {why}")),
        };
        self.jobs.spawn_blocking(job, failed);
    }
}
