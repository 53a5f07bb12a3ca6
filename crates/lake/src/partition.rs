//! Partition paths: `region=<awsRegion>/date=<YYYY-MM-DD>`.
//!
//! A region value comes from the record, so it is untrusted: anything but the characters of
//! real region names is percent-escaped the way Hive escapes partition values, which keeps every
//! value inside one path component and lets Hive-aware engines decode it.

use std::borrow::Cow;
use std::fmt;

use crate::eventtime;

/// The partition value Hive and its heirs read as NULL, used for records without a region.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Where a record is stored: its region and the UTC day of its `eventTime`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    /// The region as written in the path: escaped, never empty.
    pub region_dir: String,
    /// Days since 1970-01-01.
    pub day: i32,
}

impl PartitionKey {
    /// The key of a record with this `awsRegion` (if any) and `eventTime` in microseconds.
    pub fn new(aws_region: Option<&str>, event_time_micros: i64) -> Self {
        let region_dir = match aws_region {
            Some(r) if !r.is_empty() => escape_value(r).into_owned(),
            _ => DEFAULT_PARTITION.to_string(),
        };
        Self {
            region_dir,
            day: eventtime::epoch_day(event_time_micros),
        }
    }

    /// The folder below the table root, `region=…/date=…`.
    pub fn relative_dir(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "region={}/date={}",
            self.region_dir,
            eventtime::format_day(self.day)
        )
    }
}

fn is_plain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')
}

/// Escapes a partition value so that it is exactly one safe path component.
///
/// Every byte outside `[A-Za-z0-9._-]` becomes `%XX`; `.` and `..` are escaped too, although
/// behind `region=` they could not climb out of the table.
pub fn escape_value(value: &str) -> Cow<'_, str> {
    if value.bytes().all(is_plain) && value != "." && value != ".." {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() * 3);
    for &c in value.as_bytes() {
        if is_plain(c) && c != b'.' {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    Cow::Owned(out)
}

/// Reverses [`escape_value`].
pub fn unescape_value(value: &str) -> String {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_regions_stay_readable() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-northwest-1",
        ] {
            assert_eq!(escape_value(r), r);
        }
    }

    #[test]
    fn hostile_regions_become_one_component() {
        for r in [
            "../../../x",
            "a/b=c",
            "..",
            ".",
            "%2F",
            "a\\b",
            "x\0y",
            "ü",
            " ",
        ] {
            let e = escape_value(r);
            assert!(
                !e.contains('/') && !e.contains('\\') && !e.contains('='),
                "{r} -> {e}"
            );
            assert!(e != "." && e != "..", "{r} -> {e}");
            assert_eq!(unescape_value(&e), r);
        }
    }

    #[test]
    fn missing_region_uses_hive_default() {
        let k = PartitionKey::new(None, 0);
        assert_eq!(
            k.relative_dir(),
            "region=__HIVE_DEFAULT_PARTITION__/date=1970-01-01"
        );
        assert_eq!(PartitionKey::new(Some(""), 0).region_dir, DEFAULT_PARTITION);
    }
}
