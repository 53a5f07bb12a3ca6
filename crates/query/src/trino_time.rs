//! Trino's date and time functions that [`crate::functions`] does not have: parsing with
//! MySQL (`date_parse`) and Joda (`parse_datetime`) formats, printing (`format_datetime`,
//! `to_iso8601`), Unix time both ways, and the date-part functions (`year`, `hour`, …).
//!
//! Every time argument may be a timestamp, a date, or ISO-8601 text (see
//! [`crate::trino::Arg::Time`]), as queries written when Athena's `eventtime` was text pass it.

use std::sync::Arc;

use chrono::format::{Parsed, StrftimeItems};
use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, Float64Type};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::trino::{Arg, datetime, either, micros, simple, timestamps, utc_micros};
use crate::trino_joda;

/// The functions of this module.
pub(crate) fn udfs() -> Vec<ScalarUDF> {
    let mut udfs = vec![
        date_parse(),
        parse_datetime(),
        format_datetime(),
        to_iso8601(),
        to_unixtime(),
        from_unixtime(),
    ];
    udfs.extend(PARTS.iter().map(|(name, part)| part_udf(name, *part)));
    udfs
}

/// Parses `text` with a chrono `format` the way Joda does for Trino: fields the text does not
/// give keep their value in 1970-01-01T00:00:00 (so `%Y-%m-%d` gives midnight and `%H:%i` a
/// time on 1970-01-01), the whole text must match, and a parsed offset is applied. `None`
/// when the text does not match.
pub(crate) fn parse_with_defaults(text: &str, format: &str) -> Option<i64> {
    let mut p = Parsed::new();
    chrono::format::parse(&mut p, text, StrftimeItems::new(format)).ok()?;
    let week_date =
        p.isoweek().is_some() || p.week_from_mon().is_some() || p.week_from_sun().is_some();
    if p.year().is_none()
        && p.year_div_100().is_none()
        && p.year_mod_100().is_none()
        && p.isoyear().is_none()
    {
        p.set_year(1970).ok()?;
    }
    if week_date {
        if p.weekday().is_none() {
            p.set_weekday(Weekday::Mon).ok()?;
        }
    } else if p.ordinal().is_none() {
        if p.month().is_none() {
            p.set_month(1).ok()?;
        }
        if p.day().is_none() {
            p.set_day(1).ok()?;
        }
    }
    match (p.hour_div_12(), p.hour_mod_12()) {
        (None, None) => p.set_hour(0).ok()?,
        // `%h` without `%p`: Joda reads the morning.
        (None, Some(_)) => p.set_ampm(false).ok()?,
        (Some(_), None) => p.set_hour12(12).ok()?,
        (Some(_), Some(_)) => {}
    }
    if p.minute().is_none() {
        p.set_minute(0).ok()?;
    }
    if p.second().is_none() {
        p.set_second(0).ok()?;
    }
    let local = p.to_naive_date().ok()?.and_time(p.to_naive_time().ok()?);
    let utc = local.and_utc() - TimeDelta::seconds(i64::from(p.offset().unwrap_or(0)));
    Some(utc.timestamp_micros())
}

/// Parses column 0 with the formats of column 1, each translated once by `translate` (an
/// `Err` is a format Trino refuses).
fn parse_column(
    a: &[ArrayRef],
    name: &str,
    translate: fn(&str) -> std::result::Result<String, String>,
) -> Result<ArrayRef> {
    let (texts, formats) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
    // The format is nearly always one literal: translate it once, not once per row.
    let mut cached: Option<(String, String)> = None;
    let mut out = Vec::with_capacity(texts.len());
    for i in 0..texts.len() {
        if texts.is_null(i) || formats.is_null(i) {
            out.push(None);
            continue;
        }
        let format = formats.value(i);
        let chrono_format = match &cached {
            Some((f, c)) if f == format => c,
            _ => match translate(format) {
                Ok(c) => &cached.insert((format.to_string(), c)).1,
                Err(e) => return exec_err!("{name}: bad format {format:?}: {e}"),
            },
        };
        out.push(parse_with_defaults(texts.value(i), chrono_format));
    }
    Ok(timestamps(out))
}

/// `date_parse(text, format)`: MySQL specifiers (`%Y-%m-%d %H:%i:%s`), as `date_format`
/// prints them. A timestamp is parsed from CloudTrail's text of it, so Athena's
/// `date_parse(eventtime, '%Y-%m-%dT%H:%i:%sZ')` keeps working. Trino fails the query on text
/// that does not match; this gives NULL for that row, as `try(date_parse(…))` would: one odd
/// record should not end a query over a whole trail.
fn date_parse() -> ScalarUDF {
    simple("date_parse", &[Arg::Text, Arg::Text], utc_micros(), |a| {
        parse_column(a, "date_parse", |f| {
            Ok(crate::functions::mysql_to_chrono(f))
        })
    })
}

/// `parse_datetime(text, pattern)` with a Joda pattern (`yyyy-MM-dd'T'HH:mm:ss'Z'`). A bad
/// pattern is an error, as in Trino; text that does not match is NULL (Trino: an error),
/// as for `date_parse`.
fn parse_datetime() -> ScalarUDF {
    simple(
        "parse_datetime",
        &[Arg::Text, Arg::Text],
        utc_micros(),
        |a| {
            parse_column(a, "parse_datetime", |f| {
                Ok(trino_joda::to_chrono(&trino_joda::tokens(f)?))
            })
        },
    )
}

/// `format_datetime(time, pattern)` with a Joda pattern, in UTC.
fn format_datetime() -> ScalarUDF {
    simple(
        "format_datetime",
        &[Arg::Time, Arg::Text],
        DataType::Utf8,
        |a| {
            let (times, patterns) = (micros(&a[0])?, a[1].as_string::<i32>());
            let mut cached: Option<(String, Vec<trino_joda::Token>)> = None;
            let mut out = Vec::with_capacity(times.len());
            for (i, t) in times.into_iter().enumerate() {
                let Some(t) = t.and_then(datetime).filter(|_| patterns.is_valid(i)) else {
                    out.push(None);
                    continue;
                };
                let pattern = patterns.value(i);
                let tokens = match &cached {
                    Some((p, tokens)) if p == pattern => tokens,
                    _ => match trino_joda::tokens(pattern) {
                        Ok(tokens) => &cached.insert((pattern.to_string(), tokens)).1,
                        Err(e) => return exec_err!("format_datetime: bad pattern: {e}"),
                    },
                };
                out.push(Some(trino_joda::format(tokens, &t)));
            }
            Ok(Arc::new(StringArray::from(out)))
        },
    )
}

/// Trino's `to_iso8601` of a UTC instant: milliseconds always (`2024-03-01T08:01:00.000Z`, what
/// Athena prints for the `timestamp(3)` that `from_iso8601_timestamp(eventtime)` gives), and
/// microseconds only when the instant has them, so that nothing is lost.
fn iso8601(t: &DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros().is_multiple_of(1000) {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// `to_iso8601(time)`; a date gives `2024-03-01`.
fn to_iso8601() -> ScalarUDF {
    simple("to_iso8601", &[Arg::DateOrTime], DataType::Utf8, |a| {
        let out: StringArray = if a[0].data_type() == &DataType::Date32 {
            a[0].as_primitive::<Date32Type>()
                .iter()
                .map(|d| d.map(trawl_lake::eventtime::format_day))
                .collect()
        } else {
            micros(&a[0])?
                .into_iter()
                .map(|t| t.and_then(datetime).map(|t| iso8601(&t)))
                .collect()
        };
        Ok(Arc::new(out))
    })
}

fn is_time(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(_, _)
            | DataType::Date32
            | DataType::Date64
            | DataType::Null
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
    )
}

/// `to_unixtime(time)`: seconds since the epoch as a double, fraction included (Trino).
/// DataFusion's `to_unixtime` (whole seconds as a bigint) still answers its other forms: a
/// number, or text with chrono formats after it.
fn to_unixtime() -> ScalarUDF {
    let ours = simple("to_unixtime", &[Arg::Time], DataType::Float64, |a| {
        let out: Float64Array = micros(&a[0])?
            .into_iter()
            .map(|t| t.map(|t| t as f64 / 1e6))
            .collect();
        Ok(Arc::new(out))
    });
    let theirs = datafusion::functions::datetime::to_unixtime();
    either(
        ours,
        theirs.as_ref().clone(),
        |types| matches!(types, [t] if is_time(t)),
    )
}

/// `from_unixtime(seconds)`: a UTC timestamp, from a double as Trino takes it (DataFusion's
/// takes only whole seconds), to the microsecond, so that `from_unixtime(to_unixtime(t))` is
/// `t`. `from_unixtime(seconds, zone)` stays DataFusion's.
fn from_unixtime() -> ScalarUDF {
    let ours = simple("from_unixtime", &[Arg::Float], utc_micros(), |a| {
        let out = a[0]
            .as_primitive::<Float64Type>()
            .iter()
            .map(|s| {
                let us = (s? * 1e6).round();
                // Beyond chrono's range (or NaN) is no instant.
                (us.abs() < 8.2e18).then_some(us as i64)
            })
            .collect();
        Ok(timestamps(out))
    });
    let theirs = datafusion::functions::datetime::from_unixtime();
    either(ours, theirs.as_ref().clone(), |types| types.len() == 1)
}

/// What a date-part function returns.
#[derive(Debug, Clone, Copy)]
enum Part {
    Year,
    Quarter,
    Month,
    /// ISO week of the year, 1 to 53.
    Week,
    /// The year the ISO week belongs to.
    YearOfWeek,
    Day,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
}

/// Trino's date-part functions; `day_of_week`/`dow` are in [`crate::functions`]. None of these
/// names is a DataFusion 55 function (its `date_part`/`extract` stay as they are).
const PARTS: [(&str, Part); 15] = [
    ("year", Part::Year),
    ("quarter", Part::Quarter),
    ("month", Part::Month),
    ("week", Part::Week),
    ("week_of_year", Part::Week),
    ("year_of_week", Part::YearOfWeek),
    ("yow", Part::YearOfWeek),
    ("day", Part::Day),
    ("day_of_month", Part::Day),
    ("day_of_year", Part::DayOfYear),
    ("doy", Part::DayOfYear),
    ("hour", Part::Hour),
    ("minute", Part::Minute),
    ("second", Part::Second),
    ("millisecond", Part::Millisecond),
];

fn part_of(part: Part, t: &DateTime<Utc>) -> i64 {
    i64::from(match part {
        Part::Year => t.year(),
        Part::Quarter => (t.month0() / 3 + 1) as i32,
        Part::Month => t.month() as i32,
        Part::Week => t.iso_week().week() as i32,
        Part::YearOfWeek => t.iso_week().year(),
        Part::Day => t.day() as i32,
        Part::DayOfYear => t.ordinal() as i32,
        Part::Hour => t.hour() as i32,
        Part::Minute => t.minute() as i32,
        Part::Second => t.second() as i32,
        Part::Millisecond => (t.timestamp_subsec_millis() % 1000) as i32,
    })
}

/// A date-part function: bigint, of a timestamp, a date (its midnight) or ISO-8601 text.
fn part_udf(name: &'static str, part: Part) -> ScalarUDF {
    simple(name, &[Arg::Time], DataType::Int64, move |a| {
        let out: Int64Array = micros(&a[0])?
            .into_iter()
            .map(|t| t.and_then(datetime).map(|t| part_of(part, &t)))
            .collect();
        Ok(Arc::new(out))
    })
}

#[cfg(test)]
mod tests {
    use crate::trino::{column, error, one};

    // A table of two event times, as the lake holds them (microseconds, UTC), and as text.
    const T: &str = "(SELECT arrow_cast(column1, 'Timestamp(Microsecond, Some(\"UTC\"))') AS t, \
                     column1 AS s FROM (VALUES ('2024-03-01T08:01:00Z'), ('2024-12-30T23:59:59.250Z')))";

    #[tokio::test]
    async fn date_parse_follows_trino() {
        // Trino docs: date_parse('2022/10/20/05', '%Y/%m/%d/%H') → 2022-10-20 05:00:00.000.
        assert_eq!(
            one("SELECT date_parse('2022/10/20/05', '%Y/%m/%d/%H')").await,
            "2022-10-20T05:00:00Z"
        );
        // Missing fields keep 1970-01-01T00:00:00 (Joda's defaults).
        assert_eq!(
            one("SELECT date_parse('08:01', '%H:%i')").await,
            "1970-01-01T08:01:00Z"
        );
        assert_eq!(
            one("SELECT date_parse('Mar 5 2024 7:08 PM', '%b %e %Y %l:%i %p')").await,
            "2024-03-05T19:08:00Z"
        );
        // Athena's idiom on string eventtime works on the timestamp column too.
        assert_eq!(
            column(&format!(
                "SELECT date_parse(t, '%Y-%m-%dT%H:%i:%sZ') = t FROM {T}"
            ))
            .await,
            ["true", "NULL"]
        );
        assert_eq!(
            one("SELECT date_parse('2024-03-01T08:01:00Z', '%Y-%m-%dT%H:%i:%sZ')").await,
            "2024-03-01T08:01:00Z"
        );
        // Trino raises on text that does not match; we give NULL (see date_parse).
        assert_eq!(
            one("SELECT date_parse('2024-03-01', '%Y-%m-%d %H')").await,
            "NULL"
        );
    }

    #[tokio::test]
    async fn joda_functions_follow_trino() {
        // Trino: format_datetime(from_iso8601_timestamp('2024-03-01T08:01:00Z'),
        // 'yyyy-MM-dd''T''HH:mm:ss''Z''') → 2024-03-01T08:01:00Z.
        assert_eq!(
            column(&format!(
                "SELECT format_datetime(t, 'yyyy-MM-dd''T''HH:mm:ss''Z''') FROM {T}"
            ))
            .await,
            ["2024-03-01T08:01:00Z", "2024-12-30T23:59:59Z"]
        );
        assert_eq!(
            column(&format!(
                "SELECT format_datetime(s, 'EEE dd MMM yyyy HH:mm:ss.SSS') FROM {T}"
            ))
            .await,
            [
                "Fri 01 Mar 2024 08:01:00.000",
                "Mon 30 Dec 2024 23:59:59.250"
            ]
        );
        assert_eq!(
            one("SELECT parse_datetime('2024-03-01T08:01:00Z', 'yyyy-MM-dd''T''HH:mm:ss''Z''')")
                .await,
            "2024-03-01T08:01:00Z"
        );
        // An offset is applied: the same instant.
        assert_eq!(
            one(
                "SELECT parse_datetime('2024-03-01 09:01:00.5 +01:00', 'yyyy-MM-dd HH:mm:ss.SSS Z')"
            )
            .await,
            "2024-03-01T08:01:00.500Z"
        );
        assert_eq!(
            one("SELECT parse_datetime('2024-03-01', 'yyyy-MM-dd HH')").await,
            "NULL"
        );
        // Trino: "Illegal pattern component: q".
        let e = error("SELECT format_datetime(now(), 'yyyy-qq')").await;
        assert!(e.contains("Illegal pattern component"), "{e}");
    }

    #[tokio::test]
    async fn to_iso8601_prints_what_athena_prints() {
        // Athena: to_iso8601(from_iso8601_timestamp('2024-03-01T08:01:00Z'))
        // → 2024-03-01T08:01:00.000Z (timestamp(3) with time zone UTC prints Z).
        assert_eq!(
            column(&format!("SELECT to_iso8601(t) FROM {T}")).await,
            ["2024-03-01T08:01:00.000Z", "2024-12-30T23:59:59.250Z"]
        );
        assert_eq!(
            column(&format!("SELECT to_iso8601(s) FROM {T}")).await,
            ["2024-03-01T08:01:00.000Z", "2024-12-30T23:59:59.250Z"]
        );
        // Trino: to_iso8601(DATE '2024-03-01') → 2024-03-01.
        assert_eq!(
            one("SELECT to_iso8601(DATE '2024-03-01')").await,
            "2024-03-01"
        );
        assert_eq!(
            one("SELECT to_iso8601(arrow_cast('2024-03-01T08:01:00.000001Z', 'Timestamp(Microsecond, Some(\"UTC\"))'))")
                .await,
            "2024-03-01T08:01:00.000001Z"
        );
    }

    #[tokio::test]
    async fn unix_time_both_ways() {
        // Trino: to_unixtime(from_iso8601_timestamp('2024-03-01T08:01:00Z')) → 1.70928006E9.
        assert_eq!(
            column(&format!("SELECT to_unixtime(t) FROM {T}")).await,
            ["1709280060.0", "1735603199.25"]
        );
        assert_eq!(
            column(&format!(
                "SELECT from_unixtime(to_unixtime(t)) = t FROM {T}"
            ))
            .await,
            ["true", "true"]
        );
        // Trino: from_unixtime(1709280060.5) → 2024-03-01 08:01:00.500 UTC.
        assert_eq!(
            one("SELECT from_unixtime(1709280060.5)").await,
            "2024-03-01T08:01:00.500Z"
        );
        assert_eq!(
            column(&format!("SELECT t > from_unixtime(1709280000) FROM {T}")).await,
            ["true", "true"]
        );
        // DataFusion's other forms are untouched.
        assert_eq!(one("SELECT to_unixtime(5)").await, "5");
        assert_eq!(
            one("SELECT arrow_typeof(from_unixtime(0, 'UTC'))").await,
            "Timestamp(s, \"UTC\")"
        );
    }

    #[tokio::test]
    async fn date_parts_follow_trino() {
        let parts = "year(t), quarter(t), month(t), week(t), week_of_year(t), year_of_week(t), \
                     yow(t), day(t), day_of_month(t), day_of_year(t), doy(t), hour(t), minute(t), \
                     second(t), millisecond(t)";
        let row = |from: &str| {
            format!(
                "SELECT concat_ws(' ', {}) FROM {from}",
                parts.replace("(t)", "(x)")
            )
        };
        // 2024-12-30 is a Monday in ISO week 1 of 2025: Trino's week() is 1 and
        // year_of_week() 2025, while year() is 2024.
        let expected = [
            "2024 1 3 9 9 2024 2024 1 1 61 61 8 1 0 0",
            "2024 4 12 1 1 2025 2025 30 30 365 365 23 59 59 250",
        ];
        for x in ["t", "s"] {
            assert_eq!(
                column(&row(&format!("(SELECT {x} AS x FROM {T})"))).await,
                expected
            );
        }
        assert_eq!(
            one("SELECT concat_ws(' ', year(DATE '2024-03-01'), day_of_year(DATE '2024-03-01'), hour(DATE '2024-03-01'))")
                .await,
            "2024 61 0"
        );
        assert_eq!(one("SELECT hour('not a time')").await, "NULL");
        assert_eq!(one("SELECT arrow_typeof(year(now()))").await, "Int64");
    }
}
