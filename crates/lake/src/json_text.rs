//! Small, exact operations on JSON text that keep every character of every value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// An object key, borrowed from the input unless it had escapes to undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The members of a JSON object in source order, each value as its JSON text.
pub type Entries<'a> = Vec<(Key<'a>, &'a RawValue)>;

/// Splits the JSON object `text` into its members without parsing their values.
///
/// Fails if `text` is not one valid JSON object.
pub fn object_entries(text: &str) -> Result<Entries<'_>, serde_json::Error> {
    struct EntriesVisitor;
    impl<'de> Visitor<'de> for EntriesVisitor {
        type Value = Entries<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(24));
            while let Some(key) = map.next_key::<Key<'de>>()? {
                out.push((key, map.next_value::<&'de RawValue>()?));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = (&mut de).deserialize_map(EntriesVisitor)?;
    de.end()?;
    Ok(entries)
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

/// The offset of the first white space outside a string in `raw` (valid JSON), if any.
///
/// String bodies are skipped with a vectorised search for the closing quote, so long values
/// cost little.
fn first_insignificant_space(raw: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'"' => {
                i += 1;
                loop {
                    let j = memchr::memchr2(b'"', b'\\', raw.get(i..)?)?;
                    if raw[i + j] == b'\\' {
                        i += j + 2;
                    } else {
                        i += j + 1;
                        break;
                    }
                }
            }
            c if is_space(c) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Appends `raw` (valid JSON) to `out` with the insignificant white space removed.
///
/// Strings, numbers and escapes are copied byte for byte, so `1.10` stays `1.10` and large
/// integers keep every digit, which a round trip through a parsed value would not promise.
pub fn minify_into(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(i) = first_insignificant_space(rest.as_bytes()) {
        out.push_str(&rest[..i]);
        let skip = rest.as_bytes()[i..]
            .iter()
            .take_while(|c| is_space(**c))
            .count();
        rest = &rest[i + skip..];
    }
    out.push_str(rest);
}

/// `raw` with insignificant white space removed; borrows when there is none to remove.
pub fn minify(raw: &str) -> Cow<'_, str> {
    match first_insignificant_space(raw.as_bytes()) {
        None => Cow::Borrowed(raw),
        Some(i) => {
            let mut out = String::with_capacity(raw.len());
            out.push_str(&raw[..i]);
            minify_into(&raw[i..], &mut out);
            Cow::Owned(out)
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn push_string(s: &str, out: &mut String) {
    out.push('"');
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(escape);
        }
        run_start = i + c.len_utf8();
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings_and_numbers_exact() {
        let raw =
            "{ \"a b\" : [ 1.10 , 123456789012345678901234567890 ],\n \"c\\\" d\": \"x\\ty\" }";
        let m = minify(raw);
        assert_eq!(
            m,
            "{\"a b\":[1.10,123456789012345678901234567890],\"c\\\" d\":\"x\\ty\"}"
        );
        let a: serde_json::Value = serde_json::from_str(raw).unwrap();
        let b: serde_json::Value = serde_json::from_str(&m).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn push_string_round_trips_through_a_parser() {
        for s in [
            "plain",
            "quote \" back \\ slash",
            "ctl \u{1} \n \t",
            "ünï €",
        ] {
            let mut out = String::new();
            push_string(s, &mut out);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
        }
    }
}
