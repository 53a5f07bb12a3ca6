//! The names queries from elsewhere give the table: Athena's `cloudtrail_logs`, the console's
//! `cloudtrail_logs_<bucket>`, a database such as `"default".cloudtrail_logs`, and a CloudTrail
//! Lake event data store id (`FROM 0a1b2c3d-…`). All of them mean the lake's one table.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::error::Result;
use regex::Regex;

/// A schema whose tables are the session's own, and where any name starting with
/// `cloudtrail` that is not one of them is the lake's table.
#[derive(Debug)]
pub struct CloudTrailSchema {
    own: MemorySchemaProvider,
    lake: Arc<dyn TableProvider>,
}

impl CloudTrailSchema {
    /// A schema answering `cloudtrail*` names with `lake`.
    pub fn new(lake: Arc<dyn TableProvider>) -> Self {
        Self {
            own: MemorySchemaProvider::new(),
            lake,
        }
    }

    fn is_alias(name: &str) -> bool {
        name.to_ascii_lowercase().starts_with("cloudtrail")
    }
}

#[async_trait]
impl SchemaProvider for CloudTrailSchema {
    fn table_names(&self) -> Vec<String> {
        self.own.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        match self.own.table(name).await? {
            Some(t) => Ok(Some(t)),
            None if Self::is_alias(name) => Ok(Some(Arc::clone(&self.lake))),
            None => Ok(None),
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        self.own.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        self.own.deregister_table(name)
    }

    // Only the session's own tables exist for DDL, so `CREATE TABLE cloudtrail_x AS …` works;
    // a `cloudtrail*` name is still answered when a query reads it.
    fn table_exist(&self, name: &str) -> bool {
        self.own.table_exist(name)
    }
}

// ASCII classes (`-u`): keywords and ids are ASCII, and Unicode word boundaries compile slowly.
static EVENT_DATA_STORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u)\b(FROM|JOIN)(\s+)([0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12})\b",
    )
    .expect("valid pattern")
});

/// Replaces a CloudTrail Lake event data store id after FROM or JOIN by `cloudtrail`, before
/// parsing (an unquoted id is not an SQL identifier). Text inside quotes is left alone.
pub fn replace_event_data_store_ids(sql: &str) -> std::borrow::Cow<'_, str> {
    // Compiling the pattern costs a few milliseconds; most statements hold no id to replace.
    if !has_id_shape(sql) {
        return std::borrow::Cow::Borrowed(sql);
    }
    EVENT_DATA_STORE.replace_all(sql, |c: &regex::Captures<'_>| {
        let start = c.get(0).map_or(0, |m| m.start());
        let quoted = sql[..start].matches('\'').count() % 2 == 1;
        if quoted {
            c[0].to_string()
        } else {
            format!("{}{}cloudtrail", &c[1], &c[2])
        }
    })
}

/// Whether `sql` has hyphens spaced as in an event data store id (8-4-4-4-12 characters).
fn has_id_shape(sql: &str) -> bool {
    let b = sql.as_bytes();
    (8..b.len().saturating_sub(27))
        .any(|i| b[i] == b'-' && b[i + 5] == b'-' && b[i + 10] == b'-' && b[i + 15] == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_data_store_ids_become_the_table() {
        assert_eq!(
            replace_event_data_store_ids(
                "SELECT eventID FROM a1b2c3d4-5678-90ab-cdef-EXAMPLE11111 WHERE x = 1"
            ),
            "SELECT eventID FROM cloudtrail WHERE x = 1"
        );
        assert_eq!(
            replace_event_data_store_ids("select 1 from\n  0A1B2C3D-1234-5678-90AB-CDEF01234567 e"),
            "select 1 from\n  cloudtrail e"
        );
        let quoted =
            "SELECT 1 FROM cloudtrail WHERE m LIKE '%from 0a1b2c3d-1234-5678-90ab-cdef01234567%'";
        assert_eq!(replace_event_data_store_ids(quoted), quoted);
        let other =
            "SELECT * FROM cloudtrail WHERE eventid = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111'";
        assert_eq!(replace_event_data_store_ids(other), other);
        // The shortest statement that can hold an id, and one too short to.
        assert_eq!(
            replace_event_data_store_ids("FROM a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"),
            "FROM cloudtrail"
        );
        assert!(!has_id_shape("FROM a1b2c3d4-5678-90ab-cdef-EXAMPLE1111"));
    }
}
