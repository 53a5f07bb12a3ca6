//! Typed parameters of saved queries and their binding into a parsed statement.
//!
//! A value is put into the statement's syntax tree as a literal node of its type, after the SQL
//! text was parsed: it is never spliced into SQL text, so no value can change the query.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::ControlFlow;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, CastKind, DataType, Expr, TimezoneInfo, Value, visit_expressions_mut,
};

use trawl_lake::time_arg::{self, Edge};

/// The type a parameter's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Int,
    Float,
    Bool,
    Timestamp,
}

impl ParamType {
    fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Timestamp => "timestamp",
        }
    }

    /// Reads `text` as a value of this type.
    pub fn parse_value(self, text: &str) -> Result<ParamValue, String> {
        let t = text.trim();
        match self {
            ParamType::String => Ok(ParamValue::String(text.to_string())),
            ParamType::Int => t
                .parse()
                .map(ParamValue::Int)
                .map_err(|_| format!("`{text}` is not a whole number")),
            ParamType::Float => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(ParamValue::Float)
                .ok_or_else(|| format!("`{text}` is not a number")),
            ParamType::Bool => match t.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(ParamValue::Bool(true)),
                "false" | "no" | "0" => Ok(ParamValue::Bool(false)),
                _ => Err(format!("`{text}` is not true or false")),
            },
            ParamType::Timestamp => {
                time_arg::parse_instant(t, Utc::now(), Edge::Start).map(ParamValue::Timestamp)
            }
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ParamType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            ParamType::String,
            ParamType::Int,
            ParamType::Float,
            ParamType::Bool,
            ParamType::Timestamp,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| {
            format!("unknown parameter type `{s}`: use string, int, float, bool or timestamp")
        })
    }
}

/// A typed parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(DateTime<Utc>),
}

impl ParamValue {
    /// The value as a literal node of the syntax tree.
    fn to_expr(&self) -> Expr {
        let text = |s: String| Expr::Value(Value::SingleQuotedString(s).into());
        let cast = |s: String, data_type| Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(text(s)),
            data_type,
            array: false,
            format: None,
        };
        match self {
            ParamValue::String(s) => text(s.clone()),
            ParamValue::Int(i) => cast(i.to_string(), DataType::BigInt(None)),
            ParamValue::Float(f) => {
                cast(f.to_string(), DataType::Double(ast::ExactNumberInfo::None))
            }
            ParamValue::Bool(b) => Expr::Value(Value::Boolean(*b).into()),
            ParamValue::Timestamp(t) => cast(
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                DataType::Timestamp(Some(6), TimezoneInfo::WithTimeZone),
            ),
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::String(s) => f.write_str(s),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Timestamp(t) => {
                f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
        }
    }
}

/// A `-- param: name type [= default] — description` header line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Used as `$name` in the SQL and `--param name=value` on the command line.
    pub name: String,
    /// What values must look like.
    pub ty: ParamType,
    /// The value when none is given; a parameter without one is required.
    pub default: Option<ParamValue>,
    /// What the parameter means.
    pub description: String,
}

impl fmt::Display for ParamSpec {
    /// `name (type, default 20): description`, for error messages and listings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.name, self.ty)?;
        match &self.default {
            Some(d) => write!(f, ", default {d})")?,
            None => write!(f, ", required)")?,
        }
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        Ok(())
    }
}

impl FromStr for ParamSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (decl, description) = match s.split_once('—').or_else(|| s.split_once(" - ")) {
            Some((d, rest)) => (d.trim(), rest.trim().to_string()),
            None => (s.trim(), String::new()),
        };
        let (decl, default) = match decl.split_once('=') {
            Some((d, v)) => (d.trim(), Some(v.trim())),
            None => (decl, None),
        };
        let usage = || format!("write `param: name type [= default] — description`, not `{s}`");
        let mut words = decl.split_whitespace();
        let (Some(name), Some(ty), None) = (words.next(), words.next(), words.next()) else {
            return Err(usage());
        };
        if !is_identifier(name) || matches!(name, "since" | "until") {
            return Err(format!(
                "`{name}` cannot name a parameter: use letters, digits and _ (since and until \
                 are given to every query)"
            ));
        }
        let ty: ParamType = ty.parse()?;
        let default = default
            .map(|v| {
                let v = v.trim_matches('\'');
                ty.parse_value(v)
                    .map_err(|e| format!("default of `{name}`: {e}"))
            })
            .transpose()?;
        Ok(ParamSpec {
            name: name.to_string(),
            ty,
            default,
            description,
        })
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces every `$name` placeholder in `statement` with its value. A placeholder without a
/// value is an error naming it.
pub fn bind(
    statement: &mut Statement,
    values: &BTreeMap<String, ParamValue>,
) -> Result<(), String> {
    let s = match statement {
        Statement::Statement(s) => s,
        Statement::Explain(e) => return bind(&mut e.statement, values),
        _ => return Err("a saved query must be a query (SELECT, WITH, EXPLAIN …)".into()),
    };
    let flow = visit_expressions_mut(s.as_mut(), |expr| {
        if let Expr::Value(v) = expr
            && let Value::Placeholder(p) = &v.value
        {
            let name = p.trim_start_matches(['$', ':', '@']);
            match values.get(name) {
                Some(value) => *expr = value.to_expr(),
                None => return ControlFlow::Break(p.clone()),
            }
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(p) => Err(format!(
            "the query uses `{p}`, which is neither $since, $until nor a declared parameter"
        )),
        ControlFlow::Continue(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_specs() {
        let p: ParamSpec = "threshold int = 20 — calls per hour".parse().unwrap();
        assert_eq!(p.name, "threshold");
        assert_eq!(p.ty, ParamType::Int);
        assert_eq!(p.default, Some(ParamValue::Int(20)));
        assert_eq!(p.description, "calls per hour");
        let p: ParamSpec = "access_key_id string".parse().unwrap();
        assert_eq!(p.default, None);
        let p: ParamSpec = "who string = 'arn:aws:iam::1:root' - a principal"
            .parse()
            .unwrap();
        assert_eq!(
            p.default,
            Some(ParamValue::String("arn:aws:iam::1:root".into()))
        );
        assert!("x integer".parse::<ParamSpec>().is_err());
        assert!("since timestamp".parse::<ParamSpec>().is_err());
        assert!(
            "n int = many"
                .parse::<ParamSpec>()
                .unwrap_err()
                .contains("default of `n`")
        );
        assert!("a b c".parse::<ParamSpec>().is_err());
    }

    #[test]
    fn values_are_typed() {
        assert_eq!(ParamType::Int.parse_value(" 7 "), Ok(ParamValue::Int(7)));
        assert!(ParamType::Int.parse_value("7.5").is_err());
        assert!(ParamType::Float.parse_value("NaN").is_err());
        assert_eq!(
            ParamType::Bool.parse_value("No"),
            Ok(ParamValue::Bool(false))
        );
        assert_eq!(
            ParamType::String.parse_value(" x' OR '1'='1"),
            Ok(ParamValue::String(" x' OR '1'='1".into()))
        );
        let ParamValue::Timestamp(t) = ParamType::Timestamp.parse_value("2024-03-01").unwrap()
        else {
            panic!()
        };
        assert_eq!(t.to_rfc3339(), "2024-03-01T00:00:00+00:00");
    }

    fn bound(sql: &str, values: &[(&str, ParamValue)]) -> Result<String, String> {
        let mut statement = crate::exec::split_statements(sql).unwrap().remove(0);
        let values = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        bind(&mut statement, &values)?;
        Ok(statement.to_string())
    }

    #[test]
    fn binds_literals_into_the_tree() {
        let sql = bound(
            "SELECT * FROM t WHERE k = $key AND n > $n AND e >= $since",
            &[
                ("key", ParamValue::String("it's".into())),
                ("n", ParamValue::Int(-3)),
                (
                    "since",
                    ParamValue::Timestamp("2024-03-01T00:00:00Z".parse().unwrap()),
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT * FROM t WHERE k = 'it''s' AND n > CAST('-3' AS BIGINT) \
             AND e >= CAST('2024-03-01T00:00:00Z' AS TIMESTAMP(6) WITH TIME ZONE)"
        );
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let e = bound("SELECT $nope", &[]).unwrap_err();
        assert!(e.contains("$nope"), "{e}");
    }
}
