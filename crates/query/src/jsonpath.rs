//! The JSONPath subset Athena (Trino) queries use on CloudTrail's JSON columns: `$`, `.key`,
//! `["key"]`, `['key']` and `[index]`.

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;
use trawl_lake::json_scan::{ARRAY, OBJECT, Scanner, SyntaxError};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An object member.
    Key(String),
    /// An array element, from 0.
    Index(usize),
}

/// Parses a JSONPath; `None` if it is not of the supported form.
pub fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return None;
            }
            let key = key
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .unwrap_or(key);
            steps.push(Step::Key(key.to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            let quoted = inner
                .strip_prefix('"')
                .and_then(|k| k.strip_suffix('"'))
                .or_else(|| inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')));
            match quoted {
                Some(key) => steps.push(Step::Key(key.to_string())),
                None => steps.push(Step::Index(inner.parse().ok()?)),
            }
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// The value at `steps` inside `value`.
pub fn select<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |v, step| match (step, v) {
        (Step::Key(k), Value::Object(m)) => m.get(k),
        (Step::Index(i), Value::Array(a)) => a.get(*i),
        _ => None,
    })
}

/// Trino's `json_extract_scalar`: a string's text, a number's or boolean's text; `None` for
/// objects, arrays, null and missing values.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The JSON text at `steps` inside the JSON text `doc`, found without building the document:
/// members and elements passed over are checked, not kept. `None` when nothing is there or
/// `doc` is not JSON. `scratch` is kept between calls so that skipping nested values does not
/// allocate.
pub fn select_text<'a>(doc: &'a str, steps: &[Step], scratch: &mut Vec<u8>) -> Option<&'a str> {
    let mut s = Scanner::new(doc.as_bytes(), scratch);
    s.skip_ws();
    let found = find(&mut s, steps).ok()?;
    s.finish().ok()?;
    found.map(|range| &doc[range])
}

/// Scans the value at the scanner's position and returns where the value at `steps` inside it
/// is. Every byte of the value is checked, found or not.
fn find(s: &mut Scanner<'_, '_>, steps: &[Step]) -> Result<Option<Range<usize>>, SyntaxError> {
    let start = s.pos;
    let Some((step, rest)) = steps.split_first() else {
        s.value()?;
        return Ok(Some(start..s.pos));
    };
    let close = match (step, s.peek()) {
        (Step::Key(_), Some(b'{')) => OBJECT,
        (Step::Index(_), Some(b'[')) => ARRAY,
        _ => {
            s.value()?;
            return Ok(None);
        }
    };
    s.pos += 1;
    if s.empty_container(close) {
        return Ok(None);
    }
    let mut found = None;
    for index in 0.. {
        let on_path = match step {
            Step::Key(wanted) => {
                let (literal, escaped) = s.key()?;
                key_is(s.slice(literal), escaped, wanted)
                    .ok_or_else(|| s.error("a key that cannot be decoded"))?
            }
            Step::Index(wanted) => {
                s.skip_ws();
                index == *wanted
            }
        };
        if on_path {
            // The last of repeated keys wins, as when the document is built.
            found = find(s, rest)?;
        } else {
            s.value()?;
        }
        if !s.next_or_close(close)? {
            break;
        }
    }
    Ok(found)
}

/// Whether an object key's literal (quotes included) names `wanted`; `None` for a key that
/// cannot be decoded (a lone surrogate escape), which makes the document unreadable, as it
/// does when the document is built.
fn key_is(literal: &[u8], escaped: bool, wanted: &str) -> Option<bool> {
    if !escaped {
        return Some(&literal[1..literal.len() - 1] == wanted.as_bytes());
    }
    let key: String = serde_json::from_str(std::str::from_utf8(literal).ok()?).ok()?;
    Some(key == wanted)
}

/// [`scalar_text`] of JSON text; a string without escapes is borrowed, not copied.
pub fn raw_scalar_text(text: &str) -> Option<Cow<'_, str>> {
    match text.as_bytes().first()? {
        b'"' if !text.contains('\\') => Some(Cow::Borrowed(&text[1..text.len() - 1])),
        b'"' => serde_json::from_str(text).ok().map(Cow::Owned),
        b'{' | b'[' | b'n' => None,
        _ => scalar_text(&serde_json::from_str(text).ok()?).map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn select_raw<'a>(doc: &'a str, steps: &[Step]) -> Option<&'a str> {
        select_text(doc, steps, &mut Vec::new())
    }

    #[test]
    fn parses_the_forms_athena_queries_use() {
        assert_eq!(parse("$").unwrap(), vec![]);
        assert_eq!(
            parse("$.bucketName").unwrap(),
            vec![Step::Key("bucketName".into())]
        );
        assert_eq!(
            parse("$.a[0]['b c'][\"d\"]").unwrap(),
            vec![
                Step::Key("a".into()),
                Step::Index(0),
                Step::Key("b c".into()),
                Step::Key("d".into())
            ]
        );
        assert!(parse("bucketName").is_none());
        assert!(parse("$..a").is_none());
    }

    #[test]
    fn selects_like_trino() {
        let v = json!({"a": {"b": [10, {"c": "x"}]}, "t": true, "n": null});
        let get = |p: &str| select(&v, &parse(p).unwrap()).cloned();
        assert_eq!(get("$.a.b[0]"), Some(json!(10)));
        assert_eq!(
            get("$.a.b[1].c").as_ref().and_then(scalar_text),
            Some("x".into())
        );
        assert_eq!(
            get("$.t").as_ref().and_then(scalar_text),
            Some("true".into())
        );
        assert_eq!(get("$.a").as_ref().and_then(scalar_text), None);
        assert_eq!(get("$.n").as_ref().and_then(scalar_text), None);
        assert_eq!(get("$.missing"), None);
    }

    #[test]
    fn selects_from_text_as_from_the_built_document() {
        let doc = r#"{"a": {"b": [10, {"c": "x\"y"}], "b\u0020c": 1.50}, "t": true, "n": null,
                      "k": "first", "k": "last", "e": [], "s": "\u00e9"}"#;
        let built: Value = serde_json::from_str(doc).unwrap();
        for path in [
            "$",
            "$.a",
            "$.a.b",
            "$.a.b[0]",
            "$.a.b[1].c",
            "$.a.b[2]",
            "$.a['b c']",
            "$.t",
            "$.n",
            "$.k",
            "$.e[0]",
            "$.s",
            "$.missing",
            "$.t.x",
            "$[0]",
        ] {
            let steps = parse(path).unwrap();
            let raw = select_raw(doc, &steps);
            let want = select(&built, &steps);
            assert_eq!(
                raw.map(|r| serde_json::from_str::<Value>(r).unwrap()),
                want.cloned(),
                "{path}"
            );
            assert_eq!(
                raw.and_then(raw_scalar_text).map(String::from),
                want.and_then(scalar_text),
                "{path}"
            );
        }
        assert!(
            select_raw("[1, 2", &parse("$[0]").unwrap()).is_none(),
            "not JSON"
        );
        assert!(select_raw("{\"a\": 1} x", &parse("$.a").unwrap()).is_none());
        // What serde_json builds is the reference: the last of repeated keys wins even when
        // the path goes on inside it, and text that is not JSON selects nothing.
        for (doc, path) in [
            (r#"{"k": {"x": 1}, "k": {"y": 2}}"#, "$.k.x"),
            (r#"{"k": {"x": 1}, "k": {"x": 2}}"#, "$.k.x"),
            (" {\"a\": [1, 2]}\n", "$.a[1]"),
            ("{\"a\": \"x\ty\"}", "$.a"),
            (r#"{"a": "\ud800"}"#, "$.a"),
            (r#"{"a": 1, "b": 01}"#, "$.a"),
            (r#"{"a": 1,}"#, "$.a"),
            (r#"{"a": 1e400}"#, "$.a"),
            (r#"{"a": 123456789012345678901234567890}"#, "$.a"),
            (r#"{"\ud800": 1, "a": 2}"#, "$.a"),
            (r#"{"\u0061": 1, "a": 2, "\u0061": 3}"#, "$.a"),
            (r#"{"a": [1, {"b": 2}], "a": [0, {"b": 4}]}"#, "$.a[1].b"),
            (r#"{"a": [1, {"b": 2}], "a": 3}"#, "$.a[1].b"),
            ("[ 1 ,\n 2 ]", "$[1]"),
            (r#"{"a": 1, "b": "#, "$.a"),
            (r#"{"a": {"b": [}}"#, "$.a.c"),
        ] {
            let steps = parse(path).unwrap();
            let built = serde_json::from_str::<Value>(doc).ok();
            let want = built.as_ref().and_then(|b| select(b, &steps));
            let raw = select_raw(doc, &steps);
            assert_eq!(
                raw.and_then(raw_scalar_text).map(String::from),
                want.and_then(scalar_text),
                "{doc}"
            );
        }
    }

    #[test]
    fn every_cut_of_a_document_selects_as_the_built_document_does() {
        let doc = r#"{"bucketName": "b\"1", "key": {"k": [1, 2.5, {"x": null}]}, "n": -3e2}"#;
        for end in 0..=doc.len() {
            let cut = &doc[..end];
            let built = serde_json::from_str::<Value>(cut).ok();
            for path in [
                "$",
                "$.bucketName",
                "$.key.k[1]",
                "$.key.k[2].x",
                "$.n",
                "$.z",
            ] {
                let steps = parse(path).unwrap();
                let want = built.as_ref().and_then(|b| select(b, &steps));
                assert_eq!(
                    select_raw(cut, &steps).map(|r| serde_json::from_str::<Value>(r).unwrap()),
                    want.cloned(),
                    "{cut:?} {path}"
                );
            }
        }
    }
}
