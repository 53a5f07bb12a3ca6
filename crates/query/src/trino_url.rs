//! Trino's URL functions (`url_extract_host`, `url_extract_parameter`, …), for the URLs in
//! CloudTrail's JSON and user agents. Trino splits a URL with `java.net.URI`; [`parse`]
//! follows that parser's rules (RFC 2396 with Java's deviations), so that the same text gives
//! the same parts: NULL for text `java.net.URI` refuses, `''` for a part the URL lacks, a
//! host only when it is a valid host name or address.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int64Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::ScalarUDF;

use crate::trino::{Arg, simple};

/// The functions of this module.
pub(crate) fn udfs() -> Vec<ScalarUDF> {
    vec![
        part("url_extract_protocol", |u| {
            Some(u.scheme.unwrap_or("").into())
        }),
        part("url_extract_host", |u| Some(u.host.unwrap_or("").into())),
        part("url_extract_path", |u| decode(u.path.unwrap_or(""), false)),
        part("url_extract_query", |u| {
            decode(u.query.unwrap_or(""), false)
        }),
        part("url_extract_fragment", |u| {
            decode(u.fragment.unwrap_or(""), false)
        }),
        url_extract_port(),
        url_extract_parameter(),
        simple("url_decode", &[Arg::Text], DataType::Utf8, |a| {
            let out: StringArray = a[0]
                .as_string::<i32>()
                .iter()
                .map(|s| decode(s?, true))
                .collect();
            Ok(Arc::new(out))
        }),
        simple("url_encode", &[Arg::Text], DataType::Utf8, |a| {
            let out: StringArray = a[0]
                .as_string::<i32>()
                .iter()
                .map(|s| s.map(encode))
                .collect();
            Ok(Arc::new(out))
        }),
    ]
}

/// The parts of a URL as `java.net.URI` splits them, raw (still %-encoded); `None` where the
/// URL has no such part.
#[derive(Debug, Default, PartialEq, Eq)]
struct Url<'a> {
    scheme: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<i64>,
    path: Option<&'a str>,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

const UNRESERVED: &str = "-_.!~*'()";
/// What may follow `?` and `#` besides unreserved characters (RFC 2396 `uric`).
const URIC: &str = ";/?:@&=+$,[]";
const PATH: &str = ":@&=+$,;/";
const USERINFO: &str = ";:&=+$,";
const SERVER: &str = ";:&=+$,.@[]";
const REG_NAME: &str = "$,;:@&=+";

/// Whether every character of `s` is legal: letters, digits, unreserved marks, `extra`,
/// `%` with two hex digits, and any non-ASCII character that is neither a space nor a
/// control character (Java's "other" category).
fn legal(s: &str, extra: &str) -> bool {
    let b = s.as_bytes();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        let ok = if c == '%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if hex(i + 1) && hex(i + 2) {
                chars.next();
                chars.next();
                true
            } else {
                false
            }
        } else if c.is_ascii() {
            c.is_ascii_alphanumeric() || UNRESERVED.contains(c) || extra.contains(c)
        } else {
            !c.is_whitespace() && !c.is_control()
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Splits `s` as `java.net.URI` does; `None` when Java refuses it.
fn parse(s: &str) -> Option<Url<'_>> {
    let mut url = Url::default();
    let rest = match s.find(['/', '?', '#', ':']) {
        Some(p) if s.as_bytes()[p] == b':' => {
            let scheme = &s[..p];
            let mut chars = scheme.chars();
            if !chars.next()?.is_ascii_alphabetic()
                || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                return None;
            }
            url.scheme = Some(scheme);
            let rest = &s[p + 1..];
            if rest.starts_with('/') {
                hierarchical(rest, &mut url)?
            } else {
                // Opaque (`mailto:…`): no host, path or query.
                let end = rest.find('#').unwrap_or(rest.len());
                if end == 0 || !legal(&rest[..end], URIC) {
                    return None;
                }
                &rest[end..]
            }
        }
        _ => hierarchical(s, &mut url)?,
    };
    if let Some(fragment) = rest.strip_prefix('#') {
        if !legal(fragment, URIC) {
            return None;
        }
        url.fragment = Some(fragment);
    } else if !rest.is_empty() {
        return None;
    }
    Some(url)
}

/// `[//authority]path[?query]`; returns what follows (empty or from `#`).
fn hierarchical<'a>(s: &'a str, url: &mut Url<'a>) -> Option<&'a str> {
    let mut rest = s;
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        if end > 0 {
            authority(&after[..end], url)?;
        } else if after.is_empty() {
            return None;
        }
        rest = &after[end..];
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    if !legal(&rest[..end], PATH) {
        return None;
    }
    url.path = Some(&rest[..end]);
    rest = &rest[end..];
    if let Some(after) = rest.strip_prefix('?') {
        let end = after.find('#').unwrap_or(after.len());
        if !legal(&after[..end], URIC) {
            return None;
        }
        url.query = Some(&after[..end]);
        rest = &after[end..];
    }
    Some(rest)
}

/// A server authority (`user@host:port`) sets host and port; an authority that is only a
/// legal registry name (`my_host`, `host:http`) leaves them unset, as in Java.
fn authority<'a>(a: &'a str, url: &mut Url<'a>) -> Option<()> {
    let (server_chars, reg_chars) = (legal(a, SERVER), legal(a, REG_NAME));
    if server_chars && let Some((host, port)) = server(a) {
        url.host = Some(host);
        url.port = port;
        return Some(());
    }
    reg_chars.then_some(())
}

fn server(a: &str) -> Option<(&str, Option<i64>)> {
    let mut rest = a;
    if let Some(at) = rest.find('@') {
        if !legal(&rest[..at], USERINFO) {
            return None;
        }
        rest = &rest[at + 1..];
    }
    let host_len = if rest.starts_with('[') {
        let close = rest.find(']')?;
        let inner = &rest[1..close];
        let ipv6 = inner.contains(':')
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !ipv6 {
            return None;
        }
        close + 1
    } else {
        ipv4_len(rest).or_else(|| hostname_len(rest))?
    };
    let (host, after) = rest.split_at(host_len);
    let port = match after.strip_prefix(':') {
        None if after.is_empty() => None,
        Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(i64::from(digits.parse::<i32>().ok()?))
        }
        _ => return None,
    };
    Some((host, port))
}

/// The length of a dotted-quad IPv4 address at the start of `s` (up to a `:`).
fn ipv4_len(s: &str) -> Option<usize> {
    let end = s.find(':').unwrap_or(s.len());
    let octets: Vec<_> = s[..end].split('.').collect();
    let ok = octets.len() == 4
        && octets.iter().all(|o| {
            (1..=3).contains(&o.len())
                && o.bytes().all(|b| b.is_ascii_digit())
                && o.parse::<u16>().is_ok_and(|n| n <= 255)
        });
    ok.then_some(end)
}

/// The length of a host name at the start of `s`: labels of letters, digits and inner
/// hyphens, separated by dots (one trailing dot allowed), the last label starting with a
/// letter when there are several; followed by nothing or `:`.
fn hostname_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut p = 0;
    let mut last_label = None;
    while p < b.len() && b[p].is_ascii_alphanumeric() {
        last_label = Some(p);
        while p < b.len() && (b[p].is_ascii_alphanumeric() || b[p] == b'-') {
            p += 1;
        }
        if b[p - 1] == b'-' {
            return None;
        }
        if b.get(p) == Some(&b'.') {
            p += 1;
        } else {
            break;
        }
    }
    if p < b.len() && b[p] != b':' {
        return None;
    }
    let last = last_label?;
    (last == 0 || b[last].is_ascii_alphabetic()).then_some(p)
}

/// %-decoding as UTF-8 (malformed UTF-8 becomes U+FFFD, as in Java); `plus` also reads `+`
/// as a space (`URLDecoder`). `None` on a `%` without two hex digits, where Trino's
/// `URLDecoder` raises an error.
fn decode(s: &str, plus: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Guava's form-parameter escaping, as Trino's `url_encode`: letters, digits and `-_.*`
/// kept, a space as `+`, everything else %-encoded UTF-8 in upper-case hex.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_.*".contains(&b) => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A `url_extract_*` function giving text: NULL for text that is not a URL.
fn part(name: &'static str, f: fn(&Url<'_>) -> Option<String>) -> ScalarUDF {
    simple(name, &[Arg::Text], DataType::Utf8, move |a| {
        let out: StringArray = a[0]
            .as_string::<i32>()
            .iter()
            .map(|s| f(&parse(s?)?))
            .collect();
        Ok(Arc::new(out))
    })
}

/// `url_extract_port(url)`: NULL when the URL names no port.
fn url_extract_port() -> ScalarUDF {
    simple("url_extract_port", &[Arg::Text], DataType::Int64, |a| {
        let out: Int64Array = a[0]
            .as_string::<i32>()
            .iter()
            .map(|s| parse(s?)?.port)
            .collect();
        Ok(Arc::new(out))
    })
}

/// `url_extract_parameter(url, name)`: the first `name=value` of the raw query, the value
/// decoded; `''` for a bare `name`; NULL when the name is absent or there is no query.
fn url_extract_parameter() -> ScalarUDF {
    simple(
        "url_extract_parameter",
        &[Arg::Text, Arg::Text],
        DataType::Utf8,
        |a| {
            let (urls, names) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
            let out: StringArray = (0..urls.len())
                .map(|i| {
                    if urls.is_null(i) || names.is_null(i) {
                        return None;
                    }
                    let query = parse(urls.value(i))?.query?;
                    query.split('&').find_map(|arg| match arg.split_once('=') {
                        Some((k, v)) if k == names.value(i) => decode(v, true),
                        None if arg == names.value(i) => Some(String::new()),
                        _ => None,
                    })
                })
                .collect();
            Ok(Arc::new(out))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trino::one;

    /// Trino's `TestUrlFunctions.validateUrlExtract`: protocol, host, port, path, query and
    /// fragment (`None`: NULL).
    type Expected<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );

    async fn extract(url: &str) -> Expected<'static> {
        let leak = |s: String| -> Option<&'static str> {
            (s != "NULL").then(|| &*Box::leak(s.into_boxed_str()))
        };
        let mut parts = Vec::new();
        for f in ["protocol", "host", "port", "path", "query", "fragment"] {
            parts.push(leak(one(&format!("SELECT url_extract_{f}('{url}')")).await));
        }
        (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5])
    }

    #[tokio::test]
    async fn extracts_like_trino() {
        // The cases of Trino's TestUrlFunctions.testUrlExtract, with its expected values.
        let cases: [(&str, Expected<'_>); 9] = [
            (
                "http://example.com/path1/p.php?k1=v1&k2=v2#Ref1",
                (
                    Some("http"),
                    Some("example.com"),
                    None,
                    Some("/path1/p.php"),
                    Some("k1=v1&k2=v2"),
                    Some("Ref1"),
                ),
            ),
            (
                "http://example.com/path1/p.php?",
                (
                    Some("http"),
                    Some("example.com"),
                    None,
                    Some("/path1/p.php"),
                    Some(""),
                    Some(""),
                ),
            ),
            (
                "http://example.com/path1/p.php",
                (
                    Some("http"),
                    Some("example.com"),
                    None,
                    Some("/path1/p.php"),
                    Some(""),
                    Some(""),
                ),
            ),
            (
                "http://example.com:8080/path1/p.php?k1=v1&k2=v2#Ref1",
                (
                    Some("http"),
                    Some("example.com"),
                    Some("8080"),
                    Some("/path1/p.php"),
                    Some("k1=v1&k2=v2"),
                    Some("Ref1"),
                ),
            ),
            (
                "https://username@example.com",
                (
                    Some("https"),
                    Some("example.com"),
                    None,
                    Some(""),
                    Some(""),
                    Some(""),
                ),
            ),
            (
                "https://username:password@example.com",
                (
                    Some("https"),
                    Some("example.com"),
                    None,
                    Some(""),
                    Some(""),
                    Some(""),
                ),
            ),
            (
                "mailto:test@example.com",
                (Some("mailto"), Some(""), None, Some(""), Some(""), Some("")),
            ),
            (
                "foo",
                (Some(""), Some(""), None, Some("foo"), Some(""), Some("")),
            ),
            ("http://example.com/^", (None, None, None, None, None, None)),
        ];
        for (url, expected) in cases {
            assert_eq!(extract(url).await, expected, "{url}");
        }
    }

    #[tokio::test]
    async fn extracts_parameters_like_trino() {
        // Trino's TestUrlFunctions.testUrlExtractParameter.
        let p = |url: &'static str, name: &'static str| async move {
            one(&format!("SELECT url_extract_parameter('{url}', '{name}')")).await
        };
        let u = "http://example.com/path1/p.php?k1=v1&k2=v2&k3&k4#Ref1";
        assert_eq!(p(u, "k1").await, "v1");
        assert_eq!(p(u, "k2").await, "v2");
        assert_eq!(p(u, "k3").await, "");
        assert_eq!(p(u, "k4").await, "");
        assert_eq!(p(u, "k5").await, "NULL");
        assert_eq!(
            p(
                "http://example.com/path1/p.php?k1=v1&k1=v2&k1&k1#Ref1",
                "k1"
            )
            .await,
            "v1"
        );
        assert_eq!(
            p("http://example.com/path1/p.php?k1&k1=v1&k1&k1#Ref1", "k1").await,
            ""
        );
        assert_eq!(
            p("http://example.com/path1/p.php?k=a=b=c&x=y#Ref1", "k").await,
            "a=b=c"
        );
        assert_eq!(
            p(
                "http://example.com/path1/p.php?k1=a%26k2%3Db&k2=c#Ref1",
                "k2"
            )
            .await,
            "c"
        );
        assert_eq!(p("foo", "k1").await, "NULL");
        // The value is decoded as URLDecoder does.
        assert_eq!(p("https://x.test/?q=a+b%2Fc", "q").await, "a b/c");
    }

    #[tokio::test]
    async fn encodes_and_decodes_like_trino() {
        // Trino's TestUrlFunctions.testUrlEncode / testUrlDecode pairs.
        for (encoded, plain) in [
            ("http%3A%2F%2Ftest", "http://test"),
            ("http%3A%2F%2Ftest%3Fa%3Db%26c%3Dd", "http://test?a=b&c=d"),
            ("http%3A%2F%2F%E3%83%86%E3%82%B9%E3%83%88", "http://テスト"),
            ("%7E%40%3A.-*_%2B+%E2%98%83", "~@:.-*_+ ☃"),
            ("test", "test"),
        ] {
            assert_eq!(one(&format!("SELECT url_encode('{plain}')")).await, encoded);
            assert_eq!(one(&format!("SELECT url_decode('{encoded}')")).await, plain);
        }
        // Trino raises on a broken escape; NULL here.
        assert_eq!(one("SELECT url_decode('100%')").await, "NULL");
    }

    #[test]
    fn hosts_follow_java() {
        fn host(s: &str) -> Option<&str> {
            parse(s).and_then(|u| u.host)
        }
        assert_eq!(
            host("https://bucket.s3.us-east-1.amazonaws.com/k"),
            Some("bucket.s3.us-east-1.amazonaws.com")
        );
        assert_eq!(host("http://10.0.0.1:8080/"), Some("10.0.0.1"));
        assert_eq!(host("http://[::1]:80/"), Some("[::1]"));
        assert_eq!(host("http://localhost/"), Some("localhost"));
        // Java reads these as registry names: no host.
        assert_eq!(host("http://my_host/"), None);
        assert_eq!(host("http://example.123/"), None);
        assert!(parse("http://my_host/").is_some());
        // Illegal characters make no URL at all.
        assert!(parse("http://exa mple.com/").is_none());
        assert!(parse("http://example.com/a b").is_none());
        assert!(parse("http://example.com/%zz").is_none());
        assert!(parse("1http://example.com/").is_none());
        assert_eq!(
            parse("HTTPS://Example.com/%41?a=%42#%43").map(|u| (u.scheme, u.path)),
            Some((Some("HTTPS"), Some("/%41")))
        );
    }
}
