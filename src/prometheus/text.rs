//! The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then one
//! line per sample with its labels escaped.

use std::fmt::Write;

use super::series::Family;

/// The families as a `/metrics` body.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        // Writing into a String cannot fail.
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.word());
        for (name, labels, value) in &family.samples {
            out.push_str(name);
            if !labels.is_empty() {
                out.push('{');
                for (i, (key, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    // Writing into a String cannot fail.
                    let _ = write!(out, "{key}=\"{}\"", escape(v));
                }
                out.push('}');
            }
            // Writing into a String cannot fail.
            let _ = writeln!(out, " {}", number(*value));
        }
    }
    out
}

/// Label values escape `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{FailureKind, LatencyHistogram};
    use crate::prometheus::LiveSeries;

    #[test]
    fn labels_are_escaped_and_counters_print_whole() {
        let mut s = LiveSeries::default();
        s.start_run("20260101-smoke", "smoke");
        s.add_window("POST", "a \"quoted\"\\name\n", 2, &LatencyHistogram::new());
        s.add_failures("POST", "x", &FailureKind::Connection, 1);
        let text = render(&s.families());
        assert!(text.contains("# TYPE terrafix_requests_total counter\n"), "{text}");
        assert!(
            text.contains(
                r#"terrafix_requests_total{name="a \"quoted\"\\name\n",method="POST",status_class="2xx"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"terrafix_failures_total{name="x",method="POST",kind="connection"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"terrafix_run_info{run_id="20260101-smoke",profile="smoke",phase=""} 1"#),
            "{text}"
        );
    }
}
