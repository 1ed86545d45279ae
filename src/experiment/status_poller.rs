//! The status poller of a run: polls the target's `/status` once a second for the live
//! server counters, notes outages, and sends the running phase's settings again to a
//! target that restarted. Imports `control` and `phase_run`'s held settings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::control::{ControlClient, server_counters};
use super::phase_run::ActiveSettings;
use crate::metrics::ServerCounters;
use crate::metrics::status::ServerStatus;
use crate::sys::clock::unix_now_s;

/// Polls `/status` once a second for the live server counters, and notes when the
/// target stops answering and when it is back (an outage leaves a trace in the summary).
/// A target that comes back from a restart (it answers again, or its uptime went down) runs
/// its own defaults: the running phase's settings are sent again and the lapse recorded.
pub(super) fn spawn(
    client: ControlClient,
    into: Arc<Mutex<Option<ServerCounters>>>,
    events: Arc<Mutex<Vec<String>>>,
    held: Arc<Mutex<Option<ActiveSettings>>>,
    run_start_unix_s: f64,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        let mut seen = Seen::default();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.cancelled() => break,
            }
            // A target that holds the answer cannot hold the poller past its stop.
            let status = tokio::select! {
                status = client.status() => status,
                _ = stop.cancelled() => break,
            };
            let (mut notes, restarted_at) = seen.observe(status.as_ref(), unix_now_s(), run_start_unix_s);
            if let Some(restarted_at) = restarted_at {
                notes.extend(resend_phase_settings(&client, &held, restarted_at, run_start_unix_s).await);
            }
            if let Ok(mut list) = events.lock() {
                list.extend(notes);
            }
            let counters = status.map(|s| server_counters(&s));
            if let Ok(mut slot) = into.lock() {
                *slot = counters;
            }
        }
    })
}

/// What the poller remembers from one poll to the next.
#[derive(Default)]
struct Seen {
    /// When (s into the run) the target stopped answering, while it does not answer.
    down_since: Option<f64>,
    /// Only a target that answered once can go away: one without /status never did.
    answered_once: bool,
    last_uptime_s: Option<f64>,
}

impl Seen {
    /// Takes one poll's answer (or none) at `now` (Unix s); returns the notes on outages and,
    /// when the target restarted, when it did (Unix s).
    fn observe(
        &mut self,
        status: Option<&Value>,
        now: f64,
        run_start_unix_s: f64,
    ) -> (Vec<String>, Option<f64>) {
        let at = now - run_start_unix_s;
        let uptime_s = status.and_then(|s| ServerStatus::from_value(s).stats.uptime_seconds);
        let mut notes = Vec::new();
        let mut back_after_outage = None;
        match (status, self.down_since, self.answered_once) {
            (Some(_), Some(since), _) => {
                self.down_since = None;
                back_after_outage = Some(since + run_start_unix_s);
                notes.push(format!(
                    "target answered /status again at +{at:.0} s, after {:.0} s without",
                    at - since
                ));
            }
            (None, None, true) => {
                self.down_since = Some(at);
                notes.push(format!("target stopped answering /status at +{at:.0} s"));
            }
            _ => {}
        }
        // A target that reports its uptime restarted only if the uptime went down (one that was
        // merely unreachable kept its settings); one that does not is taken to have
        // restarted when it went away.
        let restarted_at = match (uptime_s, back_after_outage) {
            (Some(u), _) if uptime_went_down(self.last_uptime_s, uptime_s) => Some(now - u),
            (None, Some(went_away)) => Some(went_away),
            _ => None,
        };
        let restarted_at = restarted_at.filter(|_| self.answered_once);
        self.answered_once |= status.is_some();
        if status.is_some() {
            self.last_uptime_s = uptime_s;
        }
        (notes, restarted_at)
    }
}

/// A restart shows as an uptime lower than the last one seen (a second earlier).
fn uptime_went_down(before: Option<f64>, now: Option<f64>) -> bool {
    matches!((before, now), (Some(b), Some(n)) if n < b)
}

/// Sends the running phase's settings again to a target that restarted at `restarted_at`
/// (Unix s), records the lapse, and says so in a note; nothing between phases (the next
/// phase sends its own).
async fn resend_phase_settings(
    client: &ControlClient,
    held: &Mutex<Option<ActiveSettings>>,
    restarted_at: f64,
    run_start_unix_s: f64,
) -> Option<String> {
    let settings = held.lock().ok()?.as_ref()?.settings.clone();
    let sent = client.configure(&serde_json::Value::Object(settings)).await;
    let now = unix_now_s();
    let mut slot = held.lock().ok()?;
    let active = slot.as_mut()?;
    let from = restarted_at.max(active.started_unix_s);
    let (rel_from, rel_now) = (from - run_start_unix_s, now - run_start_unix_s);
    Some(match sent {
        Ok(_) => {
            active.lapses.push((from, Some(now)));
            format!(
                "target restarted (at +{rel_from:.1} s) and ran its own settings until the phase's were sent again at +{rel_now:.1} s"
            )
        }
        Err(e) => {
            active.lapses.push((from, None));
            format!(
                "target restarted (at +{rel_from:.1} s); the phase's settings could not be sent again ({e}), so it ran its own from then on"
            )
        }
    })
}
