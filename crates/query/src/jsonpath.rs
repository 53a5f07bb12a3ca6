//! The JSONPath subset Athena (Trino) queries use on CloudTrail's JSON columns: `$`, `.key`,
//! `["key"]`, `['key']` and `[index]`.

use serde_json::Value;

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
}
