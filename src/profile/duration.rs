//! Human durations for profiles and flags: `30s`, `5m`, `1h30m`, `500ms`, `1.5s`.
//! Parsing and the matching compact display. No imports from the crate.

use std::time::Duration;

/// Parses a duration made of one or more `<number><unit>` parts (units `h`, `m`, `s`,
/// `ms`), such as `30s`, `5m`, `1h30m`, `500ms` or `0.5s`. Returns a sentence saying
/// what is wrong otherwise.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration; write it like 30s, 5m, 1h30m or 500ms".into());
    }
    let mut total_s = 0.0_f64;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!(
                "`{trimmed}`: expected a number at `{rest}`; write it like 30s, 5m, 1h30m or 500ms"
            ));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("`{trimmed}`: `{}` is not a number", &rest[..number_len]))?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit_s = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "" => {
                return Err(format!(
                    "`{trimmed}`: the number {number} has no unit; add one of h, m, s, ms (e.g. {number}s)"
                ));
            }
            other => {
                return Err(format!("`{trimmed}`: unknown unit `{other}`, expected one of h, m, s, ms"));
            }
        };
        total_s += number * unit_s;
        rest = &rest[unit_len..];
    }
    if !total_s.is_finite() || total_s > super::MAX_DURATION.as_secs_f64() {
        return Err(format!("`{trimmed}` is too long (at most a year)"));
    }
    Ok(Duration::from_secs_f64(total_s))
}

/// The compact form `parse_duration` reads back: `3m`, `1h30m`, `500ms`, `2.5s`, `0s`.
pub fn format_duration(duration: Duration) -> String {
    let total_ms = duration.as_millis();
    if total_ms == 0 {
        return "0s".into();
    }
    if total_ms < 1000 {
        return format!("{total_ms}ms");
    }
    if !total_ms.is_multiple_of(1000) {
        let secs = duration.as_secs_f64();
        return format!("{}s", (secs * 1000.0).round() / 1000.0);
    }
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_forms() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in ["", "30", "5 minutes", "m5", "1x", "1.2.3s", "-5s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
    }

    #[test]
    fn formats_round_trip() {
        for text in ["3m", "1h30m", "500ms", "2.5s", "10s", "0s", "1h"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(format_duration(d), text);
        }
    }
}
