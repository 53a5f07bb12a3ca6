//! Where the lake is: `--lake`, else `$TRAWL_LAKE`, else `lake = "…"` in ./trawl.toml, else
//! ./lake.

use std::path::{Path, PathBuf};

use anyhow::Context;
use trawl_lake::Lake;

/// The settings file looked for in the working folder.
pub const CONFIG_FILE: &str = "trawl.toml";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    lake: Option<PathBuf>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    queries: Vec<PathBuf>,
}

/// Resolves the lake location.
pub fn lake(flag: Option<&Path>) -> anyhow::Result<Lake> {
    if let Some(p) = flag {
        return Ok(Lake::new(p));
    }
    if let Some(p) = std::env::var_os("TRAWL_LAKE").filter(|v| !v.is_empty()) {
        return Ok(Lake::new(PathBuf::from(p)));
    }
    if let Some(p) = read_config()?.lake {
        return Ok(Lake::new(p));
    }
    Ok(Lake::new("lake"))
}

/// Sources listed in ./trawl.toml, used when `trawl ingest` is given none.
pub fn configured_sources() -> anyhow::Result<Vec<String>> {
    Ok(read_config()?.sources)
}

/// Folders of the user's own saved queries: `queries = [...]` in ./trawl.toml, then each
/// `--queries DIR` (later folders win over earlier ones and over the built-in queries).
pub fn query_dirs(flags: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = read_config()?.queries;
    dirs.extend_from_slice(flags);
    Ok(dirs)
}

fn read_config() -> anyhow::Result<ConfigFile> {
    let path = Path::new(CONFIG_FILE);
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("reading {CONFIG_FILE}: fix the file or remove it")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
        Err(e) => Err(e).with_context(|| format!("reading {CONFIG_FILE}")),
    }
}
