//! The prompt's editing help: completion of keywords, tables, columns (nested fields too),
//! functions, formats and meta-commands; keyword highlighting on colour terminals; and
//! multi-line input that ends at `;`.

use std::borrow::Cow;

use datafusion::arrow::datatypes::{DataType, Fields};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::command;
use crate::print::FORMAT_NAMES;

/// SQL keywords offered for completion and highlighted.
pub const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "HAVING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "OUTER",
    "CROSS",
    "ON",
    "UNNEST",
    "WITH",
    "DISTINCT",
    "COUNT",
    "INTERVAL",
    "DESC",
    "ASC",
    "UNION",
    "ALL",
    "EXPLAIN",
    "ANALYZE",
    "CAST",
    "TRUE",
    "FALSE",
    "SHOW",
    "TABLES",
    "COLUMNS",
    "DESCRIBE",
    "OVER",
    "PARTITION",
    "TIMESTAMP",
    "DATE",
];

/// The editor helper.
#[derive(Debug, Default)]
pub struct SqlHelper {
    words: Vec<String>,
    color: bool,
}

/// Each column and nested field of `fields` with its type, for `\d`: a struct's fields follow
/// it, dotted (`useridentity.sessioncontext.attributes.mfaauthenticated`), and a list of
/// structs' fields follow it as `resources[].arn`.
pub fn describe(prefix: &str, fields: &Fields, out: &mut Vec<(String, String)>) {
    for f in fields {
        let path = if prefix.is_empty() {
            f.name().clone()
        } else {
            format!("{prefix}.{}", f.name())
        };
        match f.data_type() {
            DataType::Struct(children) => {
                out.push((path.clone(), "struct".into()));
                describe(&path, children, out);
            }
            DataType::List(item) => match item.data_type() {
                DataType::Struct(children) => {
                    out.push((path.clone(), "list<struct>".into()));
                    describe(&format!("{path}[]"), children, out);
                }
                other => out.push((path, format!("list<{other}>"))),
            },
            other => out.push((path, other.to_string())),
        }
    }
}

/// Every column path of `fields`, nested ones dotted: `useridentity.sessioncontext.…`.
pub fn column_paths(prefix: &str, fields: &Fields, out: &mut Vec<String>) {
    for f in fields {
        let path = if prefix.is_empty() {
            f.name().clone()
        } else {
            format!("{prefix}.{}", f.name())
        };
        out.push(path.clone());
        match f.data_type() {
            DataType::Struct(children) => column_paths(&path, children, out),
            DataType::List(item) => {
                if let DataType::Struct(children) = item.data_type() {
                    column_paths(&path, children, out);
                }
            }
            _ => {}
        }
    }
}

impl SqlHelper {
    /// A helper completing `words` (tables, columns, functions, saved queries) besides the
    /// keywords and meta-commands.
    pub fn new(mut words: Vec<String>, color: bool) -> Self {
        words.extend(KEYWORDS.iter().map(|k| k.to_string()));
        words.extend(command::NAMES.iter().map(|k| k.to_string()));
        words.sort();
        words.dedup();
        Self { words, color }
    }

    /// Candidates for the word ending at `pos`.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '\\' | '/')))
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        if word.is_empty() {
            return (start, vec![]);
        }
        if line.trim_start().starts_with("\\format ") {
            let found = FORMAT_NAMES
                .iter()
                .filter(|f| f.starts_with(word))
                .map(|f| f.to_string());
            return (start, found.collect());
        }
        let lower = word.to_ascii_lowercase();
        let upper_case = word.chars().next().is_some_and(char::is_uppercase);
        let found = self
            .words
            .iter()
            .filter(|w| w.to_ascii_lowercase().starts_with(&lower))
            .map(|w| {
                if KEYWORDS.contains(&w.as_str()) && !upper_case {
                    w.to_ascii_lowercase()
                } else {
                    w.clone()
                }
            })
            .collect();
        (start, found)
    }
}

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = self.candidates(line, pos);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.trim_start().starts_with('\\') {
            return Cow::Borrowed(line);
        }
        let mut out = String::with_capacity(line.len() + 16);
        let mut in_string = false;
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if KEYWORDS.contains(&word.to_ascii_uppercase().as_str()) {
                out.push_str("\x1b[1;34m");
                out.push_str(word);
                out.push_str("\x1b[0m");
            } else {
                out.push_str(word);
            }
            word.clear();
        };
        for c in line.chars() {
            if in_string {
                out.push(c);
                if c == '\'' {
                    in_string = false;
                    out.push_str("\x1b[0m");
                }
            } else if c == '\'' {
                flush(&mut word, &mut out);
                in_string = true;
                out.push_str("\x1b[32m'");
            } else if c.is_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        if in_string {
            out.push_str("\x1b[0m");
        }
        Cow::Owned(out)
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// Whether the text typed so far is a whole input: a meta-command, or SQL ending with `;`.
pub fn is_complete(input: &str) -> bool {
    let t = input.trim();
    t.is_empty() || t.starts_with('\\') || t.ends_with(';')
}

impl Validator for SqlHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Helper for SqlHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_lists_nested_fields_with_their_types() {
        let mut lines = Vec::new();
        describe("", trawl_lake::schema::file_schema().fields(), &mut lines);
        let has = |p: &str, t: &str| {
            lines
                .iter()
                .any(|(path, ty)| path == p && ty.starts_with(t))
        };
        assert!(has("useridentity", "struct"));
        assert!(has(
            "useridentity.sessioncontext.attributes.mfaauthenticated",
            "Utf8"
        ));
        assert!(has("resources", "list<struct>"));
        assert!(has("resources[].arn", "Utf8"));
        assert!(has("eventtime", "Timestamp("));
    }

    #[test]
    fn completes_nested_fields_keywords_and_commands() {
        let mut cols = Vec::new();
        column_paths("", trawl_lake::schema::file_schema().fields(), &mut cols);
        let h = SqlHelper::new(cols, false);
        let line = "select useridentity.sessionc";
        let (start, found) = h.candidates(line, line.len());
        assert_eq!(start, 7);
        assert!(
            found.contains(&"useridentity.sessioncontext".to_string()),
            "{found:?}"
        );
        assert!(h.candidates("sel", 3).1.contains(&"select".to_string()));
        assert!(h.candidates("SEL", 3).1.contains(&"SELECT".to_string()));
        assert_eq!(h.candidates("\\tim", 4).1, vec!["\\timing".to_string()]);
        assert_eq!(
            h.candidates("\\format nd", 10).1,
            vec!["ndjson".to_string()]
        );
    }

    #[test]
    fn input_ends_at_semicolon_or_meta_command() {
        assert!(!is_complete("select 1"));
        assert!(is_complete("select 1\n from t;"));
        assert!(is_complete("\\d"));
    }
}
