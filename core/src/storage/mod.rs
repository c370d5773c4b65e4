//! The storage engine: Prometheus series in one SQLite file. The only module
//! that touches rusqlite.

/// Placeholder until the storage engine lands.
pub(crate) struct Storage;
