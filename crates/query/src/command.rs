//! Meta-commands of the prompt (`\d`, `\timing`, …): parsed from a line, with help and a
//! suggestion for a typo.

use std::str::FromStr;

use crate::print::Format;

/// A meta-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `\q`: leave.
    Quit,
    /// `\?`: list meta-commands.
    Help,
    /// `\d`: list tables.
    ListTables,
    /// `\d NAME`: describe a table's columns, nested fields included.
    Describe(String),
    /// `\timing`: toggle printing of run times.
    Timing,
    /// `\format NAME`: set the output format.
    Format(Format),
    /// `\maxrows N`: rows the table format shows.
    MaxRows(usize),
    /// `\i FILE`: run the statements in a file.
    Include(String),
    /// `\o [FILE]`: send results to a file; no file sends them back to the terminal.
    Output(Option<String>),
    /// `\run NAME [k=v…]`: run a saved query.
    Run(String, Vec<(String, String)>),
}

/// The meta-commands with their arguments and what they do.
pub const HELP: &[(&str, &str)] = &[
    ("\\d", "list tables"),
    ("\\d NAME", "describe a table (nested fields too)"),
    (
        "\\format table|csv|tsv|json|ndjson",
        "set the output format",
    ),
    (
        "\\maxrows N",
        "rows the table format shows (others are counted)",
    ),
    ("\\timing", "toggle run times"),
    ("\\i FILE", "run the statements in FILE"),
    (
        "\\o [FILE]",
        "send results to FILE; \\o alone sends them back here",
    ),
    ("\\run NAME [k=v …]", "run a saved query"),
    ("\\?", "this help"),
    ("\\q", "quit (Ctrl-D too)"),
];

/// The names the prompt completes and suggests.
pub const NAMES: &[&str] = &[
    "\\d",
    "\\format",
    "\\maxrows",
    "\\timing",
    "\\i",
    "\\o",
    "\\run",
    "\\?",
    "\\q",
];

/// Why a line is not a meta-command that can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Not a known command.
    #[error("unknown command {given}{}", suggestion.as_ref().map(|s| format!(": did you mean {s}?")).unwrap_or_else(|| ": \\? lists the commands".into()))]
    Unknown {
        given: String,
        suggestion: Option<String>,
    },
    /// A known command with a bad argument.
    #[error("{0}")]
    BadArgument(String),
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The known command closest to `given`, if any is close.
pub fn suggest(given: &str) -> Option<String> {
    NAMES
        .iter()
        .map(|n| (edit_distance(given, n), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min()
        .map(|(_, n)| n.to_string())
}

impl FromStr for Command {
    type Err = CommandError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let line = line.trim().trim_end_matches(';').trim();
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or_default();
        let rest: Vec<&str> = words.collect();
        let bad = |m: &str| CommandError::BadArgument(m.to_string());
        Ok(match (name, rest.as_slice()) {
            ("\\q" | "\\quit", []) => Command::Quit,
            ("\\?" | "\\h" | "\\help", []) => Command::Help,
            ("\\d", []) => Command::ListTables,
            ("\\d", [table]) => Command::Describe(table.to_string()),
            ("\\timing", []) => Command::Timing,
            ("\\format", [f]) => Command::Format(f.parse().map_err(|e: String| bad(&e))?),
            ("\\format", _) => {
                return Err(bad("\\format takes one of table, csv, tsv, json, ndjson"));
            }
            ("\\maxrows", [n]) => {
                Command::MaxRows(n.parse().map_err(|_| bad("\\maxrows takes a number"))?)
            }
            ("\\i", [file]) => Command::Include(file.to_string()),
            ("\\o", []) => Command::Output(None),
            ("\\o", [file]) => Command::Output(Some(file.to_string())),
            ("\\run", [name, params @ ..]) => {
                let params = params
                    .iter()
                    .map(|p| {
                        p.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .ok_or_else(|| {
                                bad(&format!("\\run parameters are key=value, not `{p}`"))
                            })
                    })
                    .collect::<Result<_, _>>()?;
                Command::Run(name.to_string(), params)
            }
            (n, _) if NAMES.contains(&n) => {
                return Err(bad(&format!(
                    "wrong arguments for {n}: \\? shows how to use it"
                )));
            }
            (n, _) => {
                return Err(CommandError::Unknown {
                    given: n.to_string(),
                    suggestion: suggest(n),
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!("\\q".parse(), Ok(Command::Quit));
        assert_eq!(
            "\\d cloudtrail".parse(),
            Ok(Command::Describe("cloudtrail".into()))
        );
        assert_eq!("\\format csv".parse(), Ok(Command::Format(Format::Csv)));
        assert_eq!("\\maxrows 5;".parse(), Ok(Command::MaxRows(5)));
        assert_eq!(
            "\\run ir/access_key_activity key=AKIA1".parse(),
            Ok(Command::Run(
                "ir/access_key_activity".into(),
                vec![("key".into(), "AKIA1".into())]
            ))
        );
    }

    #[test]
    fn typos_get_a_suggestion() {
        let e = "\\timng".parse::<Command>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown command \\timing: did you mean \\timing?".replace("\\timing:", "\\timng:")
        );
        assert!(
            "\\zzzzzzzz"
                .parse::<Command>()
                .unwrap_err()
                .to_string()
                .contains("\\? lists")
        );
        assert!(
            "\\format xml"
                .parse::<Command>()
                .unwrap_err()
                .to_string()
                .contains("unknown format")
        );
    }
}
