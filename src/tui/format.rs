//! Number, duration and size formatting shared by every screen, plus "nice" axis bounds
//! so charts keep round, readable labels as values grow. Pure functions only.

/// `950`, `12.3k`, `4.56M`.
pub fn count(value: u64) -> String {
    let v = value as f64;
    if v < 1_000.0 {
        format!("{value}")
    } else if v < 1_000_000.0 {
        format!("{:.1}k", v / 1_000.0)
    } else {
        format!("{:.2}M", v / 1_000_000.0)
    }
}

/// A rate or other real quantity in at most ~5 characters: `0.5`, `12.3`, `1.2k`.
pub fn real(value: f64) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    let a = value.abs();
    if a >= 1_000_000.0 {
        format!("{:.1}M", value / 1_000_000.0)
    } else if a >= 10_000.0 {
        format!("{:.0}k", value / 1_000.0)
    } else if a >= 1_000.0 {
        format!("{:.1}k", value / 1_000.0)
    } else if a >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Milliseconds in the unit a reader expects: `850µs`, `12.3ms`, `245ms`, `1.25s`.
pub fn ms(value: f64) -> String {
    if !value.is_finite() || value < 0.0 {
        "-".into()
    } else if value == 0.0 {
        "0".into()
    } else if value < 1.0 {
        format!("{:.0}µs", value * 1_000.0)
    } else if value < 100.0 {
        format!("{value:.1}ms")
    } else if value < 1_000.0 {
        format!("{value:.0}ms")
    } else {
        format!("{:.2}s", value / 1_000.0)
    }
}

/// Seconds as `42s`, `3m05s`, `1h02m`.
pub fn secs(value: f64) -> String {
    let total = if value.is_finite() && value > 0.0 { value.round() as u64 } else { 0 };
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Clock style for chart axes: `0:00`, `12:34`, `1:02:03`.
pub fn clock(value: f64) -> String {
    let total = if value.is_finite() && value > 0.0 { value.round() as u64 } else { 0 };
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// `512B`, `12.0MiB`, `1.50GiB`.
pub fn bytes(value: u64) -> String {
    let v = value as f64;
    if v < 1024.0 {
        format!("{value}B")
    } else if v < 1024.0 * 1024.0 {
        format!("{:.1}KiB", v / 1024.0)
    } else if v < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1}MiB", v / (1024.0 * 1024.0))
    } else {
        format!("{:.2}GiB", v / (1024.0 * 1024.0 * 1024.0))
    }
}

/// A share in [0, 1] as a percentage: `12.5%`.
pub fn percent(share: f64) -> String {
    if share.is_finite() { format!("{:.1}%", share * 100.0) } else { "-".into() }
}

/// The smallest "round" number (1, 2, 2.5, 5 × 10ⁿ) at or above `value`; at least `floor`.
/// Axis maxima jump between round values instead of creeping, so labels stay legible.
pub fn nice_ceiling(value: f64, floor: f64) -> f64 {
    let v = if value.is_finite() { value.max(floor) } else { floor };
    if v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        let candidate = step * magnitude;
        if candidate >= v * 0.999_999 {
            return candidate;
        }
    }
    10.0 * magnitude
}

/// The run form's duration: a bare number is seconds, anything else is read by
/// `profile::parse_duration` (the same format as `run --duration`); zero is refused.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<u64>() {
        Ok(seconds) => std::time::Duration::from_secs(seconds),
        Err(_) => crate::profile::parse_duration(text)?,
    };
    if duration.is_zero() {
        return Err(format!("{text:?}: a phase needs a duration above zero"));
    }
    Ok(duration)
}

/// Shortens `text` to `width` characters, ending in `…` when cut.
pub fn clip_text(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceiling_rounds_up_to_round_steps() {
        assert_eq!(nice_ceiling(0.0, 10.0), 10.0);
        assert_eq!(nice_ceiling(11.0, 1.0), 20.0);
        assert_eq!(nice_ceiling(230.0, 1.0), 250.0);
        assert_eq!(nice_ceiling(251.0, 1.0), 500.0);
        assert_eq!(nice_ceiling(1000.0, 1.0), 1000.0);
    }

    #[test]
    fn durations_parse_in_all_forms() {
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("2m5s").unwrap().as_secs(), 125);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("12m3").is_err());
    }

    #[test]
    fn units_are_chosen_by_magnitude() {
        assert_eq!(ms(0.25), "250µs");
        assert_eq!(ms(12.34), "12.3ms");
        assert_eq!(ms(1250.0), "1.25s");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(secs(185.0), "3m05s");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0MiB");
    }
}
