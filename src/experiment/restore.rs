//! Putting the target back at the end of a run: the settings it had at the start are sent
//! again and read back. Imports `phase_run`'s run context.

use super::phase_run::RunContext;
use crate::metrics::summary::RestoreReport;

/// Puts back the settings the target had at the start, and checks it took them.
pub(super) async fn restore_target(ctx: &RunContext) -> RestoreReport {
    let original = ctx.target_settings.original.clone();
    if !ctx.target_settings.reported {
        let left_at = ctx.control_client.settings().await.map(serde_json::Value::Object).unwrap_or_default();
        return RestoreReport {
            restored: false,
            original: serde_json::Value::Null,
            left_at,
            message: "the target did not report its settings at the start (no `config` in /status), so they \
                      could not be put back; it keeps what the last phase sent"
                .into(),
        };
    }
    let sent = if original.is_empty() {
        Ok(serde_json::Value::Null)
    } else {
        ctx.control_client.configure(&serde_json::Value::Object(original.clone())).await
    };
    let now = ctx.control_client.settings().await.unwrap_or_default();
    let matches = original.iter().all(|(k, v)| now.get(k).is_some_and(|n| same_setting(n, v)));
    let shown = |m: &serde_json::Map<String, serde_json::Value>| {
        m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    };
    let message = match (&sent, matches) {
        (Ok(_), true) => format!("target restored to its settings at the start ({})", shown(&original)),
        (Err(e), _) => {
            format!("could not restore the target's settings ({e}); it was left at {}", shown(&now))
        }
        (Ok(_), false) => format!(
            "the target did not take back its settings at the start ({}); it is at {}",
            shown(&original),
            shown(&now)
        ),
    };
    RestoreReport {
        restored: sent.is_ok() && matches,
        original: serde_json::Value::Object(original),
        left_at: serde_json::Value::Object(now),
        message,
    }
}

/// Numbers compare as numbers (`5` and `5.0` are the same setting).
fn same_setting(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}
