//! The JSONPath subset Athena (Trino) queries use on CloudTrail's JSON columns: `$`, `.key`,
//! `["key"]`, `['key']` and `[index]`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

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
/// `doc` is not JSON.
pub fn select_raw<'a>(doc: &'a str, steps: &[Step]) -> Option<&'a RawValue> {
    let Some((first, rest)) = steps.split_first() else {
        return serde_json::from_str(doc).ok();
    };
    let mut de = serde_json::Deserializer::from_str(doc);
    let found = Find(first).deserialize(&mut de).ok()?;
    de.end().ok()?;
    rest.iter().try_fold(found?, |raw, step| {
        let mut de = serde_json::Deserializer::from_str(raw.get());
        Find(step).deserialize(&mut de).ok().flatten()
    })
}

/// [`scalar_text`] of JSON text; a string without escapes is borrowed, not copied.
pub fn raw_scalar_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    match text.as_bytes().first()? {
        b'"' if !text.contains('\\') => Some(Cow::Borrowed(&text[1..text.len() - 1])),
        b'"' => serde_json::from_str(text).ok().map(Cow::Owned),
        b'{' | b'[' | b'n' => None,
        _ => scalar_text(&serde_json::from_str(text).ok()?).map(Cow::Owned),
    }
}

/// Finds one step's value in the JSON value being read, passing over the rest.
struct Find<'s>(&'s Step);

impl<'de> DeserializeSeed<'de> for Find<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Find<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(is_key) = map.next_key_seed(KeyIs(self.0))? {
            if is_key {
                // The last of repeated keys wins, as when the document is built.
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let wanted = match self.0 {
            Step::Index(i) => Some(*i),
            Step::Key(_) => None,
        };
        let mut found = None;
        let mut i = 0;
        loop {
            if Some(i) == wanted {
                match seq.next_element::<&'de RawValue>()? {
                    Some(v) => found = Some(v),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(found)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Whether an object key read is the step's key (compared without copying it when it has no
/// escapes).
struct KeyIs<'s>(&'s Step);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(matches!(self.0, Step::Key(k) if k == key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
                raw.map(|r| serde_json::from_str::<Value>(r.get()).unwrap()),
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
}
