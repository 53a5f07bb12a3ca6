//! Joda-Time patterns, the format language of Trino's `format_datetime` and `parse_datetime`
//! (`yyyy-MM-dd'T'HH:mm:ss'Z'`): read into tokens, printed as Joda prints them, and
//! translated to a chrono format for parsing.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Text printed and matched as is (quoted text, punctuation, spaces).
    Literal(String),
    /// A run of one pattern letter: the letter and how many times it is repeated.
    Field(char, usize),
}

/// The letters Joda knows (`DateTimeFormat`): any other ASCII letter is an error in Joda.
const LETTERS: &str = "GCYxwyeEDMdaKhHkmsSzZ";

/// Reads a Joda pattern; `Err` names the first letter Joda would refuse.
pub(crate) fn tokens(pattern: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // `''` is a quote; otherwise quoted text runs to the next lone quote.
            if chars.peek() == Some(&'\'') {
                chars.next();
                literal.push('\'');
                continue;
            }
            while let Some(q) = chars.next() {
                if q == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                        literal.push('\'');
                    } else {
                        break;
                    }
                } else {
                    literal.push(q);
                }
            }
        } else if c.is_ascii_alphabetic() {
            if !LETTERS.contains(c) {
                return Err(format!("Illegal pattern component: {c}"));
            }
            let mut n = 1;
            while chars.peek() == Some(&c) {
                chars.next();
                n += 1;
            }
            if !literal.is_empty() {
                out.push(Token::Literal(std::mem::take(&mut literal)));
            }
            out.push(Token::Field(c, n));
        } else {
            literal.push(c);
        }
    }
    if !literal.is_empty() {
        out.push(Token::Literal(literal));
    }
    Ok(out)
}

fn padded(out: &mut String, value: i64, width: usize) {
    if value < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", value.unsigned_abs()));
}

/// Prints `t` (UTC) as Joda does: a numeric field zero-padded to the letter count, `yy` the
/// last two digits of the year, text fields (`MMM`, `E`) short below four letters and full
/// from four, `Z` `+0000`, `ZZ` `+00:00`, `ZZZ` and `z` `UTC`.
pub(crate) fn format(tokens: &[Token], t: &DateTime<Utc>) -> String {
    let mut out = String::new();
    for token in tokens {
        let (c, n) = match token {
            Token::Literal(s) => {
                out.push_str(s);
                continue;
            }
            Token::Field(c, n) => (*c, *n),
        };
        let hour = i64::from(t.hour());
        match c {
            'G' => out.push_str(if t.year() > 0 { "AD" } else { "BC" }),
            'C' => padded(&mut out, i64::from(t.year()) / 100, n),
            'y' | 'Y' | 'x' => {
                let year = i64::from(if c == 'x' {
                    t.iso_week().year()
                } else {
                    t.year()
                });
                if n == 2 {
                    padded(&mut out, year.rem_euclid(100), 2);
                } else {
                    padded(&mut out, year, n);
                }
            }
            'w' => padded(&mut out, i64::from(t.iso_week().week()), n),
            'e' => padded(&mut out, i64::from(t.weekday().number_from_monday()), n),
            'E' => out.push_str(&t.format(if n >= 4 { "%A" } else { "%a" }).to_string()),
            'D' => padded(&mut out, i64::from(t.ordinal()), n),
            'M' if n >= 4 => out.push_str(&t.format("%B").to_string()),
            'M' if n == 3 => out.push_str(&t.format("%b").to_string()),
            'M' => padded(&mut out, i64::from(t.month()), n),
            'd' => padded(&mut out, i64::from(t.day()), n),
            'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
            'K' => padded(&mut out, hour % 12, n),
            'h' => padded(&mut out, (hour + 11) % 12 + 1, n),
            'H' => padded(&mut out, hour, n),
            'k' => padded(&mut out, if hour == 0 { 24 } else { hour }, n),
            'm' => padded(&mut out, i64::from(t.minute()), n),
            's' => padded(&mut out, i64::from(t.second()), n),
            'S' => {
                let digits = format!("{:09}", t.nanosecond() % 1_000_000_000);
                out.push_str(&digits[..n.min(9)]);
                out.extend(std::iter::repeat_n('0', n.saturating_sub(9)));
            }
            'Z' if n == 1 => out.push_str("+0000"),
            'Z' if n == 2 => out.push_str("+00:00"),
            _ => out.push_str("UTC"),
        }
    }
    out
}

/// A chrono format that parses what `tokens` describe. Joda parses numbers leniently and so
/// does chrono; where chrono has no equivalent the nearest is used (`K` and `k` as `h` and
/// `H`), and `.` followed by `S…` takes one to nine digits as Joda does.
pub(crate) fn to_chrono(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        let (c, n) = match token {
            Token::Literal(s) => {
                out.push_str(&s.replace('%', "%%"));
                continue;
            }
            Token::Field(c, n) => (*c, *n),
        };
        let piece = match c {
            'G' => "AD",
            'C' => "%C",
            'y' | 'Y' if n == 2 => "%y",
            'y' | 'Y' => "%Y",
            'x' if n == 2 => "%g",
            'x' => "%G",
            'w' => "%V",
            'e' => "%u",
            // chrono reads a short or a full name for either.
            'E' => "%A",
            'D' => "%j",
            'M' if n >= 3 => "%B",
            'M' => "%m",
            'd' => "%d",
            'a' => "%p",
            'K' | 'h' => "%I",
            'H' | 'k' => "%H",
            'm' => "%M",
            's' => "%S",
            'S' if out.ends_with('.') => {
                out.pop();
                "%.f"
            }
            'S' if n <= 3 => "%3f",
            'S' if n <= 6 => "%6f",
            'S' => "%9f",
            // `Z` reads `Z`, `+00`, `+0000` and `+00:00`.
            'Z' if n <= 2 => "%#z",
            _ => "UTC",
        };
        out.push_str(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn f(pattern: &str, at: &str) -> String {
        format(&tokens(pattern).unwrap(), &t(at))
    }

    #[test]
    fn reads_quotes_and_runs() {
        assert_eq!(
            tokens("yyyy-MM-dd'T'HH:mm:ss'Z'").unwrap(),
            vec![
                Token::Field('y', 4),
                Token::Literal("-".into()),
                Token::Field('M', 2),
                Token::Literal("-".into()),
                Token::Field('d', 2),
                Token::Literal("T".into()),
                Token::Field('H', 2),
                Token::Literal(":".into()),
                Token::Field('m', 2),
                Token::Literal(":".into()),
                Token::Field('s', 2),
                Token::Literal("Z".into()),
            ]
        );
        assert_eq!(
            tokens("h 'o''clock' ''").unwrap(),
            vec![Token::Field('h', 1), Token::Literal(" o'clock '".into()),]
        );
        // Joda: "Illegal pattern component: q".
        assert!(tokens("yyyy-qq").is_err());
    }

    #[test]
    fn prints_like_joda() {
        let at = "2024-03-05T07:08:09.123456Z";
        assert_eq!(f("yyyy-MM-dd'T'HH:mm:ss'Z'", at), "2024-03-05T07:08:09Z");
        assert_eq!(f("yyyy-MM-dd HH:mm:ss.SSS", at), "2024-03-05 07:08:09.123");
        assert_eq!(f("yy/M/d H:m:s", at), "24/3/5 7:8:9");
        assert_eq!(f("EEE, d MMM yyyy", at), "Tue, 5 Mar 2024");
        assert_eq!(f("EEEE MMMM", at), "Tuesday March");
        assert_eq!(f("h:mm a", "2024-03-05T19:08:09Z"), "7:08 PM");
        assert_eq!(f("hh a, k", "2024-03-05T00:08:09Z"), "12 AM, 24");
        assert_eq!(f("D DDD e w xxxx", at), "65 065 2 10 2024");
        // 2024-12-30 is in ISO week 1 of 2025.
        assert_eq!(f("xxxx-'W'ww-e", "2024-12-30T00:00:00Z"), "2025-W01-1");
        assert_eq!(f("Z ZZ ZZZ z", at), "+0000 +00:00 UTC UTC");
    }

    #[test]
    fn translates_for_parsing() {
        let c = |p: &str| to_chrono(&tokens(p).unwrap());
        assert_eq!(c("yyyy-MM-dd'T'HH:mm:ss'Z'"), "%Y-%m-%dT%H:%M:%SZ");
        assert_eq!(c("yyyy-MM-dd HH:mm:ss.SSS"), "%Y-%m-%d %H:%M:%S%.f");
        assert_eq!(c("dd MMM yyyy hh:mm a Z"), "%d %B %Y %I:%M %p %#z");
        assert_eq!(c("'100%' yy"), "100%% %y");
    }
}
