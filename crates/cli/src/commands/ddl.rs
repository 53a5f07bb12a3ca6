//! `trawl ddl`.

use std::io::Write;
use std::path::Path;

use trawl_lake::Lake;
use trawl_lake::ddl::{self, DdlOptions, Engine, Location};
use trawl_lake::layout::TABLE_DIR;

use crate::Outcome;
use crate::config;

/// Arguments of `trawl ddl`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The engine: athena, trino, spark or duckdb.
    #[arg(long, value_name = "ENGINE", value_parser = parse_engine)]
    pub engine: Engine,

    /// Where the engine finds the lake root (the folder holding `cloudtrail/`), e.g.
    /// s3://bucket/prefix. Default: the lake itself, as an absolute path.
    #[arg(long, value_name = "URL")]
    pub location: Option<String>,

    /// The table name (`name`, `schema.name` or `catalog.schema.name`).
    #[arg(long, value_name = "NAME", default_value = "cloudtrail")]
    pub table: String,
}

fn parse_engine(s: &str) -> Result<Engine, String> {
    s.parse().map_err(|e: ddl::DdlError| e.to_string())
}

/// Runs `trawl ddl`: prints the statements on stdout.
pub fn run(lake: Option<&Path>, args: Args) -> anyhow::Result<Outcome> {
    let lake = config::lake(lake)?;
    let location = match &args.location {
        Some(l) => Location::parse(l),
        None => default_location(&lake)?,
    };
    if args.engine.needs_object_store() && !location.is_object_store() {
        eprintln!(
            "warning: {} reads only s3:// locations; pass --location s3://BUCKET/PREFIX (the lake root)",
            args.engine
        );
    }
    let options = DdlOptions {
        engine: args.engine,
        location,
        table: args.table,
        regions: region_dirs(&lake),
    };
    let text = ddl::ddl(&options).map_err(|e| crate::UsageError(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Success)
}

/// The lake's own location: a URL passes through, a folder becomes absolute.
fn default_location(lake: &Lake) -> anyhow::Result<Location> {
    let root = lake.root();
    if let Some(text) = root.to_str().filter(|t| t.contains("://")) {
        return Ok(Location::parse(text));
    }
    let absolute = root.canonicalize().or_else(|_| std::path::absolute(root))?;
    Ok(Location::Local(absolute))
}

/// The region folder values in a local lake (as written in the path), for Athena's projection.
fn region_dirs(lake: &Lake) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(lake.root().join(TABLE_DIR)) else {
        return Vec::new();
    };
    let mut regions: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("region=").map(str::to_string)
        })
        .collect();
    regions.sort();
    regions
}
