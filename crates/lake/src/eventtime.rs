//! Reading and writing `eventTime`.
//!
//! CloudTrail writes `2024-03-11T08:15:02Z`; other feeds carry fractional seconds, offsets,
//! a space instead of `T`, or no zone at all (read as UTC). Every form becomes microseconds
//! since the epoch in UTC. [`format_canonical`] gives CloudTrail's own form back; a source
//! value that differs from it is kept in the `unmapped` column by the writer.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Parses an `eventTime` text into microseconds since the epoch, UTC.
///
/// Returns `None` for anything that is not a date and time of day (with optional fraction and
/// zone) between the years 0 and 9999.
pub fn parse(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    // Leap seconds (`:60`) are not representable; CloudTrail does not emit them.
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    let mut rest = &b[19..];

    let mut micros = 0i64;
    if let [b'.' | b',', tail @ ..] = rest {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, c) in tail[..n].iter().enumerate().take(6) {
            micros += i64::from(c - b'0') * 10i64.pow(5 - i as u32);
        }
        rest = &tail[n..];
    }

    let offset_seconds: i64 = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let (h, m) = match tz {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let s = i64::from(h * 3600 + m * 60);
            if *sign == b'+' { s } else { -s }
        }
        _ => return None,
    };

    let naive = NaiveDateTime::new(date, time);
    let seconds = naive.and_utc().timestamp() - offset_seconds;
    seconds.checked_mul(MICROS_PER_SECOND)?.checked_add(micros)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// CloudTrail's own form of an instant: `YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` only when the
/// instant has a fraction of a second.
pub fn format_canonical(micros: i64) -> String {
    let Some(t) = DateTime::from_timestamp_micros(micros) else {
        return micros.to_string();
    };
    if micros.rem_euclid(MICROS_PER_SECOND) == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// Whether `text`, already read by [`parse`], is in the form [`format_canonical`] gives for a
/// whole second (`YYYY-MM-DDTHH:MM:SSZ`); cheaper than formatting and comparing.
pub fn is_canonical_whole_second(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20 && b[10] == b'T' && b[19] == b'Z'
}

/// Days since 1970-01-01 of an instant, the `date` partition.
pub fn epoch_day(micros: i64) -> i32 {
    micros.div_euclid(MICROS_PER_DAY) as i32
}

/// `YYYY-MM-DD` of a day since the epoch.
pub fn format_day(day: i32) -> String {
    let date = NaiveDate::default() + TimeDelta::days(i64::from(day));
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> i64 {
        parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn reads_the_forms_real_feeds_carry() {
        let base = p("2024-03-11T08:15:02Z");
        assert_eq!(format_canonical(base), "2024-03-11T08:15:02Z");
        assert_eq!(p("2024-03-11 08:15:02"), base);
        assert_eq!(p("2024-03-11 08:15:02Z"), base);
        assert_eq!(p("2024-03-11T10:15:02+02:00"), base);
        assert_eq!(p("2024-03-11T03:15:02-0500"), base);
        assert_eq!(p("2024-03-11T08:15:02.123Z"), base + 123_000);
        assert_eq!(p("2024-03-11 08:15:02.123456789"), base + 123_456);
    }

    #[test]
    fn rejects_what_is_not_an_instant() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-03-11T25:00:00Z",
            "2024-03-11T08:15:02Q",
            "2024-03-11T08:15:02.Z",
            "2024-03-11T08:15:02+5",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_form_round_trips() {
        for s in [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2024-03-11T08:15:02.500000Z",
        ] {
            assert_eq!(format_canonical(p(s)), s);
        }
    }

    #[test]
    fn canonical_shape_matches_formatting() {
        for s in [
            "2024-03-11T08:15:02Z",
            "2024-03-11 08:15:02Z",
            "2024-03-11T08:15:02.5Z",
            "2024-03-11T08:15:02+00:00",
        ] {
            assert_eq!(
                is_canonical_whole_second(s),
                format_canonical(p(s)) == s,
                "{s}"
            );
        }
    }

    #[test]
    fn days_split_at_utc_midnight() {
        assert_eq!(
            format_day(epoch_day(p("2024-03-11T23:59:59Z"))),
            "2024-03-11"
        );
        assert_eq!(
            format_day(epoch_day(p("2024-03-12T00:30:00+01:00"))),
            "2024-03-11"
        );
        assert_eq!(
            format_day(epoch_day(p("1969-12-31T23:00:00Z"))),
            "1969-12-31"
        );
    }
}
