//! Prometheus text exposition format (0.0.4) and OpenMetrics text parsing.

use crate::db::Db;
use crate::error::Result;

/// Parses `text` and writes its samples and metadata to `db` in one commit.
pub(crate) fn ingest(db: &Db, text: &str, default_t: i64) -> Result<usize> {
    let _ = (db, text, default_t);
    todo!("exposition parser")
}
