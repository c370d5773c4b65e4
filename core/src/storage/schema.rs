//! The SQLite schema, file identification and connection settings.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, Result};

/// Format version written to `PRAGMA user_version`. Bump it (and add a
/// migration) whenever the layout below changes incompatibly.
pub(crate) const FORMAT_VERSION: i64 = 3;

/// `PRAGMA application_id` of promlite files ("PmLt"): tells them apart from
/// other SQLite databases without reading any table.
pub(crate) const APPLICATION_ID: i64 = 0x506d_4c74;

/// Page size for new files. Chunk rows stay far below a page, so they never
/// spill to overflow pages.
const PAGE_SIZE: u32 = 4096;

const SCHEMA: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value ANY
) WITHOUT ROWID, STRICT;

-- One row per series. Ids are never reused (AUTOINCREMENT), so caches keyed
-- by id stay valid. Head log entries older than log_from_seq are already in chunks.
CREATE TABLE series (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    labels       BLOB NOT NULL,
    log_from_seq INTEGER NOT NULL
) STRICT;

-- The inverted index: label name/value -> series.
CREATE TABLE postings (
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    series_id INTEGER NOT NULL,
    PRIMARY KEY (name, value, series_id)
) WITHOUT ROWID, STRICT;

-- Compressed, non-overlapping runs of samples of one series.
CREATE TABLE chunks (
    id        INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL,
    min_t     INTEGER NOT NULL,
    max_t     INTEGER NOT NULL,
    data      BLOB NOT NULL
) STRICT;
CREATE INDEX chunks_by_series ON chunks (series_id, max_t);


-- Samples not yet in chunks, one row per commit (the in-memory heads' journal).
CREATE TABLE head_log (
    seq  INTEGER PRIMARY KEY,
    data BLOB NOT NULL
) STRICT;


CREATE TABLE metadata (
    metric TEXT PRIMARY KEY,
    type   TEXT NOT NULL,
    help   TEXT NOT NULL,
    unit   TEXT NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID, STRICT;
";

/// Tables added by format 2 (created by [`create`], and by [`migrate`] in
/// format-1 files).
const ADDED_IN_V2: &str = "
-- Native-histogram samples, one row each (large and rare next to floats).
CREATE TABLE IF NOT EXISTS hsamples (
    series_id INTEGER NOT NULL,
    t         INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID, STRICT;

-- Every sample of every commit, kept while a change-feed consumer (such as a
-- remote-write sender) has not acknowledged it. Written only while one exists.
CREATE TABLE IF NOT EXISTS outbox (
    seq  INTEGER PRIMARY KEY,
    data BLOB NOT NULL
) STRICT;
";

/// Tables added by format 3 (created by [`create`], and by [`migrate`] in
/// older files).
const ADDED_IN_V3: &str = "
-- Start timestamps (OpenTelemetry/created timestamps) of the samples that have
-- one, float or histogram; most samples have none, so they live apart.
CREATE TABLE IF NOT EXISTS stsamples (
    series_id INTEGER NOT NULL,
    t         INTEGER NOT NULL,
    st        INTEGER NOT NULL,
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID, STRICT;
";

/// What [`inspect`] found at a path.
pub(crate) enum FileState {
    /// No file, or an empty one: a new database is created there.
    New,
    /// A promlite database of a format this build reads (perhaps after [`migrate`]).
    Existing {
        /// Its format version.
        version: i64,
    },
}

/// Checks what is at `path` without modifying it: foreign files and newer
/// formats are refused here, before anything opens them for writing.
pub(crate) fn inspect(path: &Path) -> Result<FileState> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::New),
        Err(e) => return Err(e.into()),
        Ok(m) if m.is_dir() => return Err(Error::NotADatabase(format!("{} is a directory", path.display()))),
        Ok(m) if m.len() == 0 => return Ok(FileState::New),
        Ok(_) => {}
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| not_a_database(path, e))?;
    let ids = conn
        .query_row("SELECT * FROM pragma_application_id, pragma_user_version", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(|e| not_a_database(path, e))?;
    let (app_id, version) = ids;
    if app_id != APPLICATION_ID {
        return Err(Error::NotADatabase(format!(
            "{} is an SQLite database of another application (application_id {app_id:#x})",
            path.display()
        )));
    }
    if !(1..=FORMAT_VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    Ok(FileState::Existing { version })
}

/// Brings a file of an older format up to [`FORMAT_VERSION`], in one transaction.
pub(crate) fn migrate(conn: &Connection, from: i64) -> Result<()> {
    if from >= FORMAT_VERSION {
        return Ok(());
    }
    // 1 → 2: native-histogram samples and the change feed; 2 → 3: start
    // timestamps. Every step only adds tables, so one transaction does all.
    let mut steps = String::new();
    if from < 2 {
        steps.push_str(ADDED_IN_V2);
    }
    steps.push_str(ADDED_IN_V3);
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {steps} PRAGMA user_version = {FORMAT_VERSION}; COMMIT;"))?;
    Ok(())
}

fn not_a_database(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            Error::NotADatabase(format!("{} is not an SQLite database", path.display()))
        }
        _ => Error::Sqlite(e),
    }
}

/// Creates the schema in a new, empty database. Runs before WAL is enabled so
/// that the identifying header fields land in the main file at once.
pub(crate) fn create(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA page_size = {PAGE_SIZE};
         PRAGMA auto_vacuum = INCREMENTAL;
         BEGIN;
         {SCHEMA}
         {ADDED_IN_V2}
         {ADDED_IN_V3}
         INSERT INTO meta (key, value) VALUES ('seq', 0);
         INSERT INTO meta (key, value) VALUES ('created_by', 'promlite {}');
         PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = {FORMAT_VERSION};
         COMMIT;",
        crate::VERSION
    ))?;
    Ok(())
}

/// Settings every connection gets.
pub(crate) fn configure(conn: &Connection, synchronous_full: bool, read_only: bool) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if !read_only {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(Error::Corrupt(format!("could not switch to WAL mode (journal mode is {mode})")));
        }
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {};
         PRAGMA cache_size = -16384;
         PRAGMA temp_store = MEMORY;",
        if synchronous_full { "FULL" } else { "NORMAL" }
    ))?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = 1")?;
    }
    Ok(())
}

/// The sequence number of the last committed write, as seen by `conn`'s snapshot.
pub(crate) fn committed_seq(conn: &Connection) -> Result<u64> {
    let seq: Option<i64> = conn.query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0)).optional()?;
    Ok(seq.unwrap_or(0) as u64)
}

/// Returns free pages to the file system and folds the WAL into the main
/// file, leaving it as small as it can be.
pub(crate) fn shrink(conn: &Connection) -> Result<()> {
    // incremental_vacuum frees one page per step: run it to completion.
    let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    drop(rows);
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}
