//! The one colour palette every view of a run uses: the live TUI charts, the PNG charts
//! and the HTML report. A colour means one thing everywhere: p50/p95/p99 are fixed,
//! failures are red and nothing else is red, steering changes and phase boundaries are
//! marked in colours no series uses.
//!
//! Values are plain sRGB triples so that this module depends on no drawing crate;
//! `report::style` turns them into plotters colours and the TUI into `Color::Rgb`.

/// An sRGB colour as (red, green, blue).
pub type Rgb = (u8, u8, u8);

/// Median latency: blue.
pub const P50: Rgb = (31, 119, 180);
/// 95th percentile latency: orange.
pub const P95: Rgb = (255, 127, 14);
/// 99th percentile latency: purple (never red: red means failure).
pub const P99: Rgb = (148, 103, 189);
/// Successful requests and throughput: green.
pub const THROUGHPUT: Rgb = (44, 160, 44);
/// Failures, failed thresholds and failed verdicts: the only red.
pub const FAILURE: Rgb = (214, 39, 40);
/// Live steering changes (users, rate) marked on time axes: cyan.
pub const CHANGE: Rgb = (23, 190, 207);
/// Injected faults shaded on time axes: pink, distinct from failures.
pub const FAULT: Rgb = (227, 119, 194);
/// Users / offered load: dark grey.
pub const USERS: Rgb = (90, 90, 90);
/// Secondary text, phase boundaries and grid lines.
pub const MUTED: Rgb = (110, 110, 110);

/// `#rrggbb` for HTML and SVG.
pub fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failure_is_red_and_roles_are_distinct() {
        let roles = [P50, P95, P99, THROUGHPUT, FAILURE, CHANGE, FAULT, USERS, MUTED];
        for (i, a) in roles.iter().enumerate() {
            for b in &roles[i + 1..] {
                assert_ne!(a, b, "two roles share a colour");
            }
        }
        let reddish = |c: Rgb| c.0 > 180 && c.1 < 80 && c.2 < 80;
        let red: Vec<_> = roles.iter().filter(|c| reddish(**c)).collect();
        assert_eq!(red, vec![&FAILURE]);
        assert_eq!(hex(P50), "#1f77b4");
    }
}
