//! The storage engine: Prometheus series in one SQLite file. The only module
//! that touches rusqlite. The format is described in `docs/storage.md`.
//!
//! - `schema`: tables, file identification, connection settings.
//! - `codec`, `bits`: the compressed chunk format.
//! - `log`, `head`: the newest samples, in memory and journalled per commit.
//! - `index`: label sets and matcher resolution over the postings table.
//! - `writer`: the write path; `reader`: selects and label queries;
//!   `maintenance`: retention, deletion, compaction.

mod bits;
mod chunk_cache;
mod codec;
mod group;
mod hcodec;
mod head;
mod idmap;
mod index;
mod log;
mod maintenance;
mod reader;
mod schema;
mod writer;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use parking_lot::{Mutex, RwLock};
use rusqlite::{Connection, OpenFlags};

pub(crate) use self::head::Heads;
use self::head::ReaderRegistry;
pub(crate) use self::reader::OutboxLimit;
#[cfg(feature = "remote-write")]
pub(crate) use self::reader::OutboxScan;
use self::writer::Writer;
use crate::error::{Error, Result};

pub(crate) use chunk_cache::DEFAULT_BYTES as DEFAULT_CHUNK_CACHE_BYTES;

/// How an engine was opened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenMode {
    pub read_only: bool,
    pub fsync_on_commit: bool,
    /// Budget of the decoded-chunk cache in bytes (0: none).
    pub chunk_cache_bytes: usize,
}

/// State shared between the writer and readers.
pub(crate) struct Shared {
    pub heads: RwLock<Heads>,
    pub readers: ReaderRegistry,
    /// The last commit whose changes the heads reflect.
    pub applied_seq: AtomicU64,
}

/// An open database.
pub(crate) struct Storage {
    path: Option<PathBuf>,
    mode: OpenMode,
    shared: Shared,
    /// The read-write connection and write-side state; `None` when read-only.
    writer: Option<Mutex<Writer>>,
    /// Idle read connections (file databases only; in-memory ones read
    /// through the writer's connection).
    read_pool: Mutex<Vec<Connection>>,
    labels_cache: RwLock<rustc_hash::FxHashMap<i64, crate::model::Labels>>,
    chunk_cache: chunk_cache::ChunkCache,
    group: group::GroupCommit,
    /// Holds this process's claim on the file as its writer.
    _claim: Option<WriterClaim>,
    closed: bool,
}

impl Storage {
    /// Opens or creates the database at `path`.
    pub(crate) fn open(path: &Path, mode: OpenMode) -> Result<Storage> {
        let state = schema::inspect(path)?;
        if mode.read_only {
            match state {
                schema::FileState::New => {
                    return Err(Error::invalid(format!(
                        "{} does not exist (read-only open does not create it)",
                        path.display()
                    )))
                }
                schema::FileState::Existing { version } if version < schema::FORMAT_VERSION => {
                    return Err(Error::invalid(format!(
                        "{} has promlite format {version}; open it once for writing to upgrade it to format {}",
                        path.display(),
                        schema::FORMAT_VERSION
                    )))
                }
                schema::FileState::Existing { .. } => {}
            }
            let storage = Storage::assemble(Some(path.to_path_buf()), mode, None, None);
            storage.with_reader(|conn| {
                storage.shared.applied_seq.store(schema::committed_seq(conn)?, Ordering::SeqCst);
                Ok(())
            })?;
            return Ok(storage);
        }
        let claim = WriterClaim::acquire(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        match state {
            schema::FileState::New => schema::create(&conn)?,
            schema::FileState::Existing { version } => schema::migrate(&conn, version)?,
        }
        schema::configure(&conn, mode.fsync_on_commit, false)?;
        claim.record_in(&conn)?;
        Storage::with_writer(Some(path.to_path_buf()), mode, conn, Some(claim))
    }

    /// Opens a private in-memory database.
    pub(crate) fn open_in_memory() -> Result<Storage> {
        let conn = Connection::open_in_memory()?;
        schema::create(&conn)?;
        let mode = OpenMode { read_only: false, fsync_on_commit: false, chunk_cache_bytes: chunk_cache::DEFAULT_BYTES };
        Storage::with_writer(None, mode, conn, None)
    }

    fn with_writer(
        path: Option<PathBuf>,
        mode: OpenMode,
        conn: Connection,
        claim: Option<WriterClaim>,
    ) -> Result<Storage> {
        let mut heads = Heads::default();
        let writer = Writer::load(conn, &mut heads)?;
        let storage = Storage::assemble(path, mode, Some(writer), claim);
        *storage.shared.heads.write() = heads;
        let seq = storage.writer.as_ref().map_or(0, |w| w.lock().committed_seq());
        storage.shared.applied_seq.store(seq, Ordering::SeqCst);
        Ok(storage)
    }

    fn assemble(path: Option<PathBuf>, mode: OpenMode, writer: Option<Writer>, claim: Option<WriterClaim>) -> Storage {
        Storage {
            path,
            mode,
            shared: Shared {
                heads: RwLock::new(Heads::default()),
                readers: ReaderRegistry::default(),
                applied_seq: AtomicU64::new(0),
            },
            writer: writer.map(Mutex::new),
            read_pool: Mutex::new(Vec::new()),
            labels_cache: RwLock::new(Default::default()),
            chunk_cache: chunk_cache::ChunkCache::new(mode.chunk_cache_bytes),
            group: Default::default(),
            _claim: claim,
            closed: false,
        }
    }

    pub(crate) fn is_read_only(&self) -> bool {
        self.writer.is_none()
    }

    fn writer(&self) -> Result<parking_lot::MutexGuard<'_, Writer>> {
        match &self.writer {
            Some(w) => Ok(w.lock()),
            None => Err(Error::invalid("the database was opened read-only")),
        }
    }

    /// Runs `f` with a read connection: a pooled one for files, the writer's
    /// for in-memory databases.
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let Some(path) = &self.path else {
            let w = self.writer()?;
            return f(&w.conn);
        };
        let conn = match self.read_pool.lock().pop() {
            Some(c) => c,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let c = Connection::open_with_flags(path, flags)?;
                schema::configure(&c, self.mode.fsync_on_commit, true)?;
                c
            }
        };
        let result = f(&conn);
        if conn.is_autocommit() {
            self.read_pool.lock().push(conn);
        }
        result
    }

    /// Writes a batch in one commit. Batches written concurrently by other
    /// threads while a commit is under way are committed together next
    /// (group commit: one fsync for several batches); each caller still gets
    /// its own batch's outcome.
    pub(crate) fn write(&self, batch: &crate::db::Batch) -> Result<()> {
        let writer = self.writer.as_ref().ok_or_else(|| Error::invalid("the database was opened read-only"))?;
        self.group.write(batch, |batches| writer.lock().write(&self.shared, batches))
    }

    /// Registers a change-feed consumer (see [`crate::Db::outbox_subscribe`]).
    pub(crate) fn outbox_subscribe(&self, name: &str) -> Result<()> {
        self.writer()?.outbox_subscribe(&self.shared, name)
    }

    /// Acknowledges a consumer's commits before `next_seq`.
    pub(crate) fn outbox_ack(&self, name: &str, next_seq: u64) -> Result<()> {
        self.writer()?.outbox_ack(&self.shared, name, next_seq)
    }

    /// Removes a consumer.
    pub(crate) fn outbox_unsubscribe(&self, name: &str) -> Result<()> {
        self.writer()?.outbox_unsubscribe(&self.shared, name)
    }

    /// Size of the database file plus its WAL, in bytes (0 in memory).
    pub(crate) fn size_bytes(&self) -> Result<u64> {
        let Some(path) = &self.path else { return Ok(0) };
        let mut total = std::fs::metadata(path)?.len();
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        if let Ok(m) = std::fs::metadata(PathBuf::from(wal)) {
            total += m.len();
        }
        Ok(total)
    }

    /// Moves all head samples into chunks, empties the log, checkpoints the
    /// WAL and returns free pages to the file system.
    pub(crate) fn flush(&self) -> Result<()> {
        let mut w = self.writer()?;
        w.flush_all(&self.shared)?;
        schema::shrink(&w.conn)
    }

    /// Flushes and gives up the writer claim; later calls do nothing.
    pub(crate) fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.read_pool.lock().clear();
        if let Some(w) = &self.writer {
            let mut w = w.lock();
            w.flush_all(&self.shared)?;
            schema::shrink(&w.conn)?;
            if let Some(claim) = &self._claim {
                claim.release_in(&w.conn)?;
            }
        }
        Ok(())
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        // Best effort: everything is already durable, closing only tidies up.
        let _ = self.close();
    }
}

/// This process's claim to be the only writer of a file. In-process it is a
/// registry of paths; across processes, a `writer` row in `meta` naming the
/// process id (a row left by a process that died is taken over).
struct WriterClaim {
    path: PathBuf,
}

fn open_for_writing() -> &'static Mutex<HashSet<PathBuf>> {
    static OPEN: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

impl WriterClaim {
    fn acquire(path: &Path) -> Result<WriterClaim> {
        let key = canonical(path);
        if !open_for_writing().lock().insert(key.clone()) {
            return Err(Error::invalid(format!(
                "{} is already open for writing in this process; share that handle (it is Send + Sync)",
                path.display()
            )));
        }
        Ok(WriterClaim { path: key })
    }

    /// Checks no other live process writes the file and records this one.
    fn record_in(&self, conn: &Connection) -> Result<()> {
        let me = std::process::id() as i64;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = (|| {
            let other: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
                "SELECT value FROM meta WHERE key = 'writer_pid'",
                [],
                |r| r.get(0),
            ))?;
            if let Some(pid) = other {
                if pid != me && process_alive(pid) {
                    return Err(Error::invalid(format!(
                        "{} is open for writing by process {pid}; open it read-only instead",
                        self.path.display()
                    )));
                }
            }
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('writer_pid', ?1)", [me])?;
            Ok(())
        })();
        match result {
            Ok(()) => conn.execute_batch("COMMIT").map_err(Error::from),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn release_in(&self, conn: &Connection) -> Result<()> {
        conn.execute("DELETE FROM meta WHERE key = 'writer_pid' AND value = ?1", [std::process::id() as i64])?;
        Ok(())
    }
}

impl Drop for WriterClaim {
    fn drop(&mut self) {
        open_for_writing().lock().remove(&self.path);
    }
}

fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    // A file about to be created: canonicalize its directory.
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            dir.canonicalize().map(|d| d.join(name)).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn process_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Without a portable check, assume the other writer is alive.
        true
    }
}
