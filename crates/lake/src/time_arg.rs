//! The time arguments every command takes (`--since`, `--until`, query parameters): a day
//! (`2024-03-11`), a date and time (RFC 3339, or `2024-03-11 08:00:00` read as UTC), a span
//! back from now (`90m`, `24h`, `7d`, `2w`), or `now`.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// Which end of a window a bare day marks: `--since 2024-03-11` starts at that day's first
/// instant, `--until 2024-03-11` takes the whole day in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Start,
    End,
}

/// Reads `text` as an instant, relative spans counted back from `now`.
pub fn parse_instant(text: &str, now: DateTime<Utc>, edge: Edge) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(span) = parse_span(t) {
        return now
            .checked_sub_signed(span)
            .ok_or_else(|| format!("`{text}` reaches too far back"));
    }
    if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let day = match edge {
            Edge::Start => day,
            Edge::End => day.succ_opt().unwrap_or(day),
        };
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    crate::eventtime::parse(t)
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| {
            format!(
                "`{text}` is not a time: write a day (2024-03-11), a date and time \
                 (2024-03-11T08:00:00Z), or a span back from now (90m, 24h, 7d, 2w)"
            )
        })
}

/// `90m`, `24h`, `7d`, `2w`, `30s`.
fn parse_span(t: &str) -> Option<TimeDelta> {
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().ok()?;
    if n < 0 {
        return None;
    }
    match unit {
        's' => TimeDelta::try_seconds(n),
        'm' => TimeDelta::try_minutes(n),
        'h' => TimeDelta::try_hours(n),
        'd' => TimeDelta::try_days(n),
        'w' => TimeDelta::try_weeks(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2024-03-11T12:00:00Z".parse().unwrap()
    }

    fn at(text: &str, edge: Edge) -> String {
        parse_instant(text, now(), edge).unwrap().to_rfc3339()
    }

    #[test]
    fn reads_every_form() {
        assert_eq!(at("2024-03-01", Edge::Start), "2024-03-01T00:00:00+00:00");
        assert_eq!(at("2024-03-01", Edge::End), "2024-03-02T00:00:00+00:00");
        assert_eq!(
            at("2024-03-01T08:00:00+02:00", Edge::End),
            "2024-03-01T06:00:00+00:00"
        );
        assert_eq!(
            at("2024-03-01 08:00:00", Edge::Start),
            "2024-03-01T08:00:00+00:00"
        );
        assert_eq!(at("24h", Edge::Start), "2024-03-10T12:00:00+00:00");
        assert_eq!(at("7d", Edge::Start), "2024-03-04T12:00:00+00:00");
        assert_eq!(at("90m", Edge::Start), "2024-03-11T10:30:00+00:00");
        assert_eq!(at("2w", Edge::Start), "2024-02-26T12:00:00+00:00");
        assert_eq!(at("now", Edge::End), "2024-03-11T12:00:00+00:00");
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in ["yesterday", "-3d", "3x", "", "2024-13-01", "d"] {
            let e = parse_instant(bad, now(), Edge::Start).unwrap_err();
            assert!(e.contains("24h"), "{bad}: {e}");
        }
    }
}
