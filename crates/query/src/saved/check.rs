//! `trawl check`: every detection (a saved query with a severity) over one window, each row a
//! finding.

use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use super::catalog::{Catalog, SavedQuery};
use super::header::Severity;
use super::prepare::{PrepareError, Window, prepare};
use crate::QueryError;

/// The columns every detection returns; the rest of a row goes to a finding's details.
pub const FINDING_COLUMNS: [&str; 5] = [
    "eventid",
    "eventtime",
    "principal",
    "sourceipaddress",
    "awsregion",
];

/// One event a detection reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The detection's name.
    pub query: String,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// The controls it covers.
    pub controls: Vec<String>,
    /// The row: the [`FINDING_COLUMNS`] and whatever detail the detection adds.
    pub row: Map<String, Value>,
}

impl Finding {
    /// The row's value of `column` as text.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.row.get(column).and_then(Value::as_str)
    }

    /// One JSON object: query, severity, controls, the event's fields, and `details`.
    pub fn to_json(&self) -> Value {
        let details: Map<String, Value> = self
            .row
            .iter()
            .filter(|(k, _)| !FINDING_COLUMNS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        json!({
            "query": self.query,
            "title": self.title,
            "severity": self.severity.as_str(),
            "controls": self.controls,
            "eventid": self.row.get("eventid"),
            "eventtime": self.row.get("eventtime"),
            "principal": self.row.get("principal"),
            "sourceipaddress": self.row.get("sourceipaddress"),
            "region": self.row.get("awsregion"),
            "details": details,
        })
    }
}

/// What one detection gave.
#[derive(Debug)]
pub struct DetectionRun {
    /// The detection's name.
    pub query: String,
    /// Its severity.
    pub severity: Severity,
    /// Its findings, or why it could not run.
    pub result: Result<Vec<Finding>, String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// The whole check.
#[derive(Debug)]
pub struct CheckReport {
    /// The window every detection ran over.
    pub window: Window,
    /// One entry per detection run, by name.
    pub runs: Vec<DetectionRun>,
    /// Detections not run, with why (a parameter without a default).
    pub skipped: Vec<(String, String)>,
}

impl CheckReport {
    /// Every finding, in detection order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.runs
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .flatten()
    }

    /// Detections that failed, with the error.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &str)> {
        self.runs.iter().filter_map(|r| {
            r.result
                .as_ref()
                .err()
                .map(|e| (r.query.as_str(), e.as_str()))
        })
    }

    /// Whether some finding is at least as severe as `level`.
    pub fn any_at_or_above(&self, level: Severity) -> bool {
        self.findings().any(|f| f.severity >= level)
    }
}

/// Whether `query` is a detection `check` runs, or why not.
pub fn runnable(query: &SavedQuery) -> Result<Severity, String> {
    let severity = query.header.severity.ok_or("no severity")?;
    match query.header.params.iter().find(|p| p.default.is_none()) {
        Some(p) => Err(format!("parameter `{}` has no default", p.name)),
        None => Ok(severity),
    }
}

/// Runs every detection of `catalog` over `window`, calling `progress` after each.
pub async fn run_check(
    ctx: &SessionContext,
    catalog: &Catalog,
    window: Window,
    mut progress: impl FnMut(&DetectionRun),
) -> CheckReport {
    let mut report = CheckReport {
        window,
        runs: Vec::new(),
        skipped: Vec::new(),
    };
    let mut detections = Vec::new();
    for query in catalog.iter() {
        match runnable(query) {
            Ok(severity) => detections.push((query, severity)),
            Err(why) if query.header.severity.is_some() => {
                report.skipped.push((query.name.clone(), why));
            }
            Err(_) => {}
        }
    }
    // A few at a time: small detections leave cores idle on their own, and each holds at most
    // its findings in memory.
    let mut runs = futures::stream::iter(detections)
        .map(|(query, severity)| async move {
            let started = Instant::now();
            let result = detect(ctx, query, severity, window).await;
            DetectionRun {
                query: query.name.clone(),
                severity,
                result,
                elapsed: started.elapsed(),
            }
        })
        .buffered(CONCURRENT_DETECTIONS);
    while let Some(run) = runs.next().await {
        progress(&run);
        report.runs.push(run);
    }
    report
}

/// Detections run at once.
const CONCURRENT_DETECTIONS: usize = 4;

async fn detect(
    ctx: &SessionContext,
    query: &SavedQuery,
    severity: Severity,
    window: Window,
) -> Result<Vec<Finding>, String> {
    let statement = prepare(query, &[], window).map_err(|e| match e {
        PrepareError::Param(p) => p.message,
        PrepareError::Query { message, .. } => message,
    })?;
    let batches = collect(ctx, statement).await.map_err(|e| e.to_string())?;
    let rows = rows_as_json(&batches).map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|row| Finding {
            query: query.name.clone(),
            title: query.header.title.clone(),
            severity,
            controls: query.header.controls.clone(),
            row,
        })
        .collect())
}

/// Plans and runs a prepared statement to its batches.
pub async fn collect(
    ctx: &SessionContext,
    statement: datafusion::sql::parser::Statement,
) -> Result<Vec<RecordBatch>, QueryError> {
    let plan = ctx.state().statement_to_plan(statement).await?;
    Ok(ctx.execute_logical_plan(plan).await?.collect().await?)
}

/// Rows as JSON objects, nulls kept so every finding has the same keys.
fn rows_as_json(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, QueryError> {
    let mut buf = Vec::new();
    {
        let mut writer = arrow_json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow_json::writer::LineDelimited>(&mut buf);
        for batch in batches {
            writer
                .write(batch)
                .map_err(datafusion::error::DataFusionError::from)?;
        }
        writer
            .finish()
            .map_err(datafusion::error::DataFusionError::from)?;
    }
    buf.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            serde_json::from_slice(line).map_err(|e| QueryError::Io(std::io::Error::other(e)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saved::prepare::Window;

    /// Every built-in query plans against the table (over an empty lake), with its required
    /// parameters given; every detection returns the finding columns.
    #[tokio::test]
    async fn every_builtin_query_plans_and_detections_return_finding_columns() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = crate::open_session(&trawl_lake::Lake::new(dir.path()), &Default::default())
            .await
            .unwrap();
        let (catalog, errors) = Catalog::load(&[]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(catalog.iter().count() > 0);
        for query in catalog.iter() {
            let given: Vec<(String, String)> = query
                .header
                .params
                .iter()
                .filter(|p| p.default.is_none())
                .map(|p| {
                    let sample = match p.ty {
                        super::super::param::ParamType::Timestamp => "2024-03-01",
                        super::super::param::ParamType::Bool => "true",
                        super::super::param::ParamType::String => "x",
                        _ => "1",
                    };
                    (p.name.clone(), sample.to_string())
                })
                .collect();
            let statement = prepare(query, &given, Window::all())
                .unwrap_or_else(|e| panic!("{}: {e}", query.name));
            let plan = ctx
                .state()
                .statement_to_plan(statement)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", query.name));
            if query.header.severity.is_some() {
                let names: Vec<&str> = plan
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                for column in FINDING_COLUMNS {
                    assert!(
                        names.contains(&column),
                        "{} returns no `{column}` column: {names:?}",
                        query.name
                    );
                }
            }
            batches_of(&ctx, query, &given).await;
        }
    }

    async fn batches_of(ctx: &SessionContext, query: &SavedQuery, given: &[(String, String)]) {
        let statement = prepare(query, given, Window::all()).unwrap();
        collect(ctx, statement)
            .await
            .unwrap_or_else(|e| panic!("{} fails on an empty lake: {e}", query.name));
    }
}
