//! `trawl queries`.

use std::io::Write;
use std::path::PathBuf;

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::json;
use trawl_query::saved::{SavedQuery, prepare::usage};

use crate::{Outcome, UsageError};

/// Arguments of `trawl queries`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show this query in full: description, parameters and SQL.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// Output format: table or json (one object per query and line).
    #[arg(long, value_name = "F", default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

/// Runs `trawl queries`.
pub fn run(query_dirs: &[PathBuf], args: Args) -> anyhow::Result<Outcome> {
    let (catalog, _) = super::catalog(query_dirs)?;
    let mut out = std::io::stdout().lock();
    if let Some(name) = &args.name {
        let q = catalog.get(name).map_err(UsageError)?;
        if args.format == "json" {
            writeln!(out, "{}", as_json(q))?;
        } else {
            write!(out, "{}", describe(q))?;
        }
        return Ok(Outcome::Success);
    }
    if args.format == "json" {
        for q in catalog.iter() {
            writeln!(out, "{}", as_json(q))?;
        }
        return Ok(Outcome::Success);
    }
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["name", "severity", "title", "controls"]);
    for q in catalog.iter() {
        table.add_row([
            q.name.clone(),
            q.header
                .severity
                .map_or_else(|| "-".to_string(), |s| s.to_string()),
            q.header.title.clone(),
            q.header.controls.join("; "),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "{} queries. `trawl queries NAME` shows one; `trawl query NAME` runs it; `trawl check` \
         runs those with a severity.",
        catalog.iter().count()
    )?;
    Ok(Outcome::Success)
}

fn describe(q: &SavedQuery) -> String {
    let h = &q.header;
    let mut text = format!("{}\n  {}\n", q.name, h.title);
    if let Some(s) = h.severity {
        text += &format!("  severity: {s}\n");
    }
    if !h.controls.is_empty() {
        text += &format!("  controls: {}\n", h.controls.join("; "));
    }
    if !h.description.is_empty() {
        text += &format!("  {}\n", h.description);
    }
    text += &format!(
        "  from: {}\n\n{}\n\n{}\n",
        q.origin,
        usage(q),
        q.sql.trim_end()
    );
    text
}

fn as_json(q: &SavedQuery) -> serde_json::Value {
    let h = &q.header;
    json!({
        "name": q.name,
        "title": h.title,
        "severity": h.severity.map(|s| s.as_str()),
        "controls": h.controls,
        "description": h.description,
        "params": h.params.iter().map(|p| json!({
            "name": p.name,
            "type": p.ty.to_string(),
            "default": p.default.as_ref().map(ToString::to_string),
            "description": p.description,
        })).collect::<Vec<_>>(),
        "origin": q.origin.to_string(),
    })
}
