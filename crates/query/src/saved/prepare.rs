//! Turning a saved query, the user's `k=v` parameters and a time window into one statement
//! ready to plan.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use datafusion::sql::parser::Statement;

use super::catalog::SavedQuery;
use super::param::{ParamValue, bind};

/// The `[since, until)` window every saved query is bound to as `$since` and `$until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First instant included.
    pub since: DateTime<Utc>,
    /// First instant excluded.
    pub until: DateTime<Utc>,
}

impl Window {
    /// Everything: for a query run without `--since`/`--until`.
    pub fn all() -> Window {
        Window {
            since: DateTime::UNIX_EPOCH,
            until: "9999-12-31T00:00:00Z".parse().expect("a valid instant"),
        }
    }
}

/// A parameter problem: the user's to fix, so a usage error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{query}: {message}\n{usage}")]
pub struct ParamError {
    /// The saved query's name.
    pub query: String,
    /// What is wrong.
    pub message: String,
    /// What the query takes.
    pub usage: String,
}

/// Why a saved query cannot be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The user's parameters do not fit.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The query itself is broken (not one statement, a syntax error, an undeclared `$x`).
    #[error("{query}: {message}")]
    Query { query: String, message: String },
}

/// The parameters `query` takes, one per line, for error messages.
pub fn usage(query: &SavedQuery) -> String {
    let mut lines = vec![format!(
        "{} takes: --since and --until (the window){}",
        query.name,
        if query.header.params.is_empty() {
            ", nothing else"
        } else {
            ", and"
        }
    )];
    lines.extend(query.header.params.iter().map(|p| format!("  --param {p}")));
    lines.join("\n")
}

/// Binds `given` (`name`, `value` text) and `window` into `query`'s statement.
pub fn prepare(
    query: &SavedQuery,
    given: &[(String, String)],
    window: Window,
) -> Result<Statement, PrepareError> {
    let param_error = |message: String| ParamError {
        query: query.name.clone(),
        message,
        usage: usage(query),
    };
    let mut values = BTreeMap::new();
    values.insert("since".to_string(), ParamValue::Timestamp(window.since));
    values.insert("until".to_string(), ParamValue::Timestamp(window.until));
    for (name, text) in given {
        if matches!(name.as_str(), "since" | "until") {
            return Err(param_error(format!(
                "give the window with --since/--until, not --param {name}"
            ))
            .into());
        }
        let Some(spec) = query.header.params.iter().find(|p| &p.name == name) else {
            return Err(param_error(format!("no parameter `{name}`")).into());
        };
        let value = spec
            .ty
            .parse_value(text)
            .map_err(|e| param_error(format!("parameter `{name}` ({}): {e}", spec.ty)))?;
        values.insert(name.clone(), value);
    }
    for spec in &query.header.params {
        if !values.contains_key(&spec.name) {
            match &spec.default {
                Some(d) => {
                    values.insert(spec.name.clone(), d.clone());
                }
                None => {
                    return Err(param_error(format!(
                        "parameter `{}` is required: add --param {}=…",
                        spec.name, spec.name
                    ))
                    .into());
                }
            }
        }
    }
    let broken = |message: String| PrepareError::Query {
        query: query.name.clone(),
        message,
    };
    let mut statements =
        crate::exec::split_statements(&query.sql).map_err(|e| broken(e.to_string()))?;
    if statements.len() != 1 {
        return Err(broken(format!(
            "a saved query holds one statement, this one has {}",
            statements.len()
        )));
    }
    let mut statement = statements.remove(0);
    bind(&mut statement, &values).map_err(broken)?;
    Ok(statement)
}

/// Splits `k=v` command-line words.
pub fn parse_assignments(words: &[String]) -> Result<Vec<(String, String)>, String> {
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("`{w}` is not name=value"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saved::catalog::Origin;
    use crate::saved::header::Header;

    fn query(sql: &str) -> SavedQuery {
        SavedQuery {
            name: "ir/key".into(),
            origin: Origin::Builtin,
            header: Header::parse(sql).unwrap(),
            sql: sql.into(),
        }
    }

    const KEY: &str = "-- title: Key activity\n-- param: key string — an access key\n\
                       -- param: n int = 5 — at least\n\
                       SELECT * FROM t WHERE k = $key AND n >= $n AND e >= $since AND e < $until";

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn binds_given_defaults_and_window() {
        let s = prepare(&query(KEY), &given(&[("key", "AKIA1")]), Window::all()).unwrap();
        let text = s.to_string();
        assert!(text.contains("k = 'AKIA1'"), "{text}");
        assert!(text.contains("CAST('5' AS BIGINT)"), "{text}");
        assert!(
            text.contains("CAST('1970-01-01T00:00:00Z' AS TIMESTAMP(6) WITH TIME ZONE)"),
            "{text}"
        );
    }

    #[test]
    fn parameter_errors_list_what_the_query_takes() {
        let q = query(KEY);
        for (pairs, expected) in [
            (given(&[]), "parameter `key` is required"),
            (
                given(&[("key", "a"), ("n", "x")]),
                "parameter `n` (int): `x` is not a whole number",
            ),
            (given(&[("key", "a"), ("m", "1")]), "no parameter `m`"),
            (given(&[("key", "a"), ("since", "1d")]), "--since"),
        ] {
            let Err(PrepareError::Param(e)) = prepare(&q, &pairs, Window::all()) else {
                panic!("{pairs:?} accepted");
            };
            let text = e.to_string();
            assert!(text.contains(expected), "{text}");
            assert!(
                text.contains("--param key (string, required): an access key"),
                "{text}"
            );
            assert!(text.contains("--param n (int, default 5)"), "{text}");
        }
    }

    #[test]
    fn a_broken_query_is_not_a_usage_error() {
        let q = query("-- title: T\nSELECT $undeclared");
        assert!(matches!(
            prepare(&q, &[], Window::all()),
            Err(PrepareError::Query { .. })
        ));
        let q = query("-- title: T\nSELECT 1; SELECT 2");
        assert!(matches!(
            prepare(&q, &[], Window::all()),
            Err(PrepareError::Query { .. })
        ));
    }
}
