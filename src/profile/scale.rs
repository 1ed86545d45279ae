//! The time scale of a run: one checked factor that every duration and pause is
//! multiplied by. A leaf of `profile`.

use std::fmt;
use std::time::Duration;

/// The longest duration any phase, pause or step may reach (also `parse_duration`'s cap).
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// A factor in [`TimeScale::MIN`, `TimeScale::MAX`]; checked once when made.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct TimeScale(f64);

impl TimeScale {
    /// A thousand times faster: a 56-minute suite becomes about 3 s of load.
    pub const MIN: f64 = 1e-3;
    /// A thousand times slower: beyond that a phase outlasts any sensible run.
    pub const MAX: f64 = 1e3;
    /// No scaling: durations as written.
    pub const ONE: TimeScale = TimeScale(1.0);

    /// Reads a factor; the error is a sentence saying the accepted range.
    pub fn new(factor: f64) -> Result<TimeScale, String> {
        if factor.is_finite() && (TimeScale::MIN..=TimeScale::MAX).contains(&factor) {
            Ok(TimeScale(factor))
        } else {
            Err(format!(
                "time scale {factor}: must be a number from {} to {} (0.1 runs ten times faster)",
                TimeScale::MIN,
                TimeScale::MAX
            ))
        }
    }

    /// Parses text such as `0.1`; the error names what was typed.
    pub fn parse(text: &str) -> Result<TimeScale, String> {
        let trimmed = text.trim();
        let factor: f64 = trimmed
            .parse()
            .map_err(|_| format!("time scale {trimmed:?}: write a number such as 0.1 (ten times faster)"))?;
        TimeScale::new(factor)
    }

    /// The factor (1 = as written, 0.1 = ten times faster).
    pub fn get(self) -> f64 {
        self.0
    }

    /// `duration` scaled, or a sentence when the result would pass `MAX_DURATION`.
    pub fn apply(self, duration: Duration, what: &str) -> Result<Duration, String> {
        let seconds = duration.as_secs_f64() * self.0;
        if seconds > MAX_DURATION.as_secs_f64() {
            return Err(format!(
                "{what}: {:.0} s scaled by {} is longer than a year; use a smaller --time-scale",
                duration.as_secs_f64(),
                self.0
            ));
        }
        Ok(Duration::from_secs_f64(seconds))
    }
}

impl Default for TimeScale {
    fn default() -> TimeScale {
        TimeScale::ONE
    }
}

impl fmt::Display for TimeScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_range_and_refuses_the_rest() {
        for ok in [1e-3, 0.1, 1.0, 1e3] {
            assert_eq!(TimeScale::new(ok).map(TimeScale::get), Ok(ok));
        }
        for bad in [0.0, -1.0, 1e-300, 9e-4, 1000.5, 1e15, 1e20, 1e300, f64::NAN, f64::INFINITY] {
            let err = TimeScale::new(bad).unwrap_err();
            assert!(err.contains("from 0.001 to 1000"), "{bad}: {err}");
        }
        assert!(TimeScale::parse("abc").unwrap_err().contains("\"abc\""));
        assert_eq!(TimeScale::parse(" 0.5 ").map(TimeScale::get), Ok(0.5));
    }

    #[test]
    fn a_scaled_duration_past_a_year_is_refused() {
        let scale = TimeScale::new(1e3).unwrap();
        assert_eq!(scale.apply(Duration::from_secs(60), "x"), Ok(Duration::from_secs(60_000)));
        let err = scale.apply(Duration::from_secs(86_400), "phase p").unwrap_err();
        assert!(err.starts_with("phase p:"), "{err}");
    }
}
