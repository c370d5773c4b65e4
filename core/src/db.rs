//! [`Db`], the handle users hold: storage plus queries in one object.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::eval::{self, Querier, QueryOptions};
use crate::histogram::FloatHistogram;
use crate::model::{HPoint, Labels, Matcher, Point};
use crate::storage::{OpenMode, Storage};
use crate::value::{QueryResult, Series, Value};

/// Options for opening a database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Drop samples older than this (relative to the newest sample) when
    /// [`Db::apply_retention`] runs; `None` keeps everything.
    pub retention: Option<Duration>,
    /// Query engine settings used by [`Db::query`] and [`Db::query_range`].
    pub query: QueryOptions,
    /// Open read-only: writes fail, and the file is never modified. Any number
    /// of read-only handles (in any process) may read while one handle writes.
    pub read_only: bool,
    /// `true` (default): every commit is fsynced, so it survives power loss.
    /// `false`: commits survive a crash of the process but not of the machine
    /// (SQLite's `synchronous = NORMAL` in WAL mode), and writing is faster.
    pub fsync_on_commit: bool,
    /// Memory for decoded chunks kept for reuse (default 32 MiB; 0 turns it
    /// off): repeated queries over the same recent data skip decoding it.
    pub chunk_cache_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention: None,
            query: QueryOptions::default(),
            read_only: false,
            fsync_on_commit: true,
            chunk_cache_bytes: crate::storage::DEFAULT_CHUNK_CACHE_BYTES,
        }
    }
}

impl Options {
    /// Sets [`Options::read_only`].
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Sets [`Options::retention`].
    pub fn retention(mut self, retention: Option<Duration>) -> Self {
        self.retention = retention;
        self
    }

    /// Sets [`Options::chunk_cache_bytes`].
    pub fn chunk_cache_bytes(mut self, bytes: usize) -> Self {
        self.chunk_cache_bytes = bytes;
        self
    }

    /// Sets [`Options::fsync_on_commit`].
    pub fn fsync_on_commit(mut self, fsync: bool) -> Self {
        self.fsync_on_commit = fsync;
        self
    }

    /// Sets [`Options::query`].
    pub fn query(mut self, query: QueryOptions) -> Self {
        self.query = query;
        self
    }
}

/// Metadata of a metric family, as pushed with `# HELP` / `# TYPE` / `# UNIT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricMetadata {
    /// Metric family name.
    pub metric: String,
    /// `counter`, `gauge`, `histogram`, `summary`, `untyped`, … .
    pub kind: String,
    /// The HELP text.
    pub help: String,
    /// The unit (OpenMetrics), or empty.
    pub unit: String,
}

/// Samples for many series, written by [`Db::write`] in one atomic commit,
/// together with metric metadata and key/value entries that must change in
/// the same commit (e.g. Pushgateway group membership, a sender's cursor).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    series: Vec<(Labels, Vec<Point>)>,
    histograms: Vec<(Labels, Vec<HPoint>)>,
    /// `(t, start timestamp)` of the samples added with one, by series.
    start_timestamps: Vec<(Labels, Vec<(i64, i64)>)>,
    samples: usize,
    metadata: Vec<MetricMetadata>,
    kv: Vec<(String, Option<Vec<u8>>)>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Adds one sample.
    pub fn add(&mut self, labels: &Labels, t: i64, v: f64) {
        self.add_points(labels, &[Point::new(t, v)]);
    }

    /// Adds many samples of one series.
    pub fn add_points(&mut self, labels: &Labels, points: &[Point]) {
        // Consecutive adds to the same series share one entry.
        match self.series.last_mut() {
            Some((l, pts)) if l == labels => pts.extend_from_slice(points),
            _ => self.series.push((labels.clone(), points.to_vec())),
        }
        self.samples += points.len();
    }

    /// Adds one native-histogram sample. A series may hold float and
    /// histogram samples, at different timestamps.
    pub fn add_histogram(&mut self, labels: &Labels, t: i64, h: FloatHistogram) {
        let point = HPoint::new(t, h);
        match self.histograms.last_mut() {
            Some((l, pts)) if l == labels => pts.push(point),
            _ => self.histograms.push((labels.clone(), vec![point])),
        }
        self.samples += 1;
    }

    /// Adds one float sample with its start timestamp `st` (ms): when the
    /// counter it belongs to started counting, as OpenTelemetry and
    /// Prometheus's created timestamps give it. PromQL's `rate`, `increase`,
    /// `irate` and `resets` use it to see resets; `start_timestamp()` returns it.
    /// A start timestamp of 0 means none.
    pub fn add_with_start(&mut self, labels: &Labels, t: i64, st: i64, v: f64) {
        self.add(labels, t, v);
        self.note_start(labels, t, st);
    }

    /// Adds one native-histogram sample with its start timestamp (see [`Batch::add_with_start`]).
    pub fn add_histogram_with_start(&mut self, labels: &Labels, t: i64, st: i64, h: FloatHistogram) {
        self.add_histogram(labels, t, h);
        self.note_start(labels, t, st);
    }

    fn note_start(&mut self, labels: &Labels, t: i64, st: i64) {
        if st == 0 {
            return;
        }
        match self.start_timestamps.last_mut() {
            Some((l, sts)) if l == labels => sts.push((t, st)),
            _ => self.start_timestamps.push((labels.clone(), vec![(t, st)])),
        }
    }

    /// `(t, start timestamp)` of the samples added with one, by series in
    /// insertion order (a series may repeat).
    pub fn start_timestamps(&self) -> &[(Labels, Vec<(i64, i64)>)] {
        &self.start_timestamps
    }

    /// The native-histogram samples, by series in insertion order.
    pub fn histograms(&self) -> &[(Labels, Vec<HPoint>)] {
        &self.histograms
    }

    /// Number of samples (float and histogram) in the batch.
    pub fn len(&self) -> usize {
        self.samples
    }

    /// Whether the batch holds no samples.
    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }

    /// The series and their samples, in insertion order (a series may repeat).
    pub fn series(&self) -> &[(Labels, Vec<Point>)] {
        &self.series
    }

    /// Stores metric metadata in the same commit (replacing earlier entries for that metric).
    pub fn add_metadata(&mut self, m: MetricMetadata) {
        self.metadata.push(m);
    }

    /// Metadata added with [`Batch::add_metadata`].
    pub fn metadata(&self) -> &[MetricMetadata] {
        &self.metadata
    }

    /// Sets (`Some`) or deletes (`None`) a key/value entry in the same commit.
    /// Keys are free-form; by convention they start with the owning module
    /// (`push/…`, `remote_write/…`). Read them back with [`Db::kv_get`].
    pub fn put_kv(&mut self, key: impl Into<String>, value: Option<Vec<u8>>) {
        self.kv.push((key.into(), value));
    }

    /// Key/value changes added with [`Batch::put_kv`], in order.
    pub fn kv(&self) -> &[(String, Option<Vec<u8>>)] {
        &self.kv
    }
}

/// Samples read from a change feed by [`Db::outbox_read`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxBatch {
    /// Series with their float samples, each in commit order (not necessarily time order).
    pub series: Vec<(Labels, Vec<Point>)>,
    /// Series with their native-histogram samples, each in commit order.
    pub histograms: Vec<(Labels, Vec<HPoint>)>,
    /// Total number of samples (float and histogram).
    pub samples: usize,
    /// Pass to [`Db::outbox_ack`] once these samples are safely delivered.
    pub next_seq: u64,
}

/// What [`Db::verify`] checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyStats {
    /// Series with chunks.
    pub series: u64,
    /// Chunks decoded.
    pub chunks: u64,
    /// Samples in chunks.
    pub samples: u64,
    /// Native-histogram samples.
    pub histogram_samples: u64,
    /// Samples buffered in memory (and in the head log), not yet in chunks.
    pub head_samples: u64,
    /// Time spent decoding chunks.
    pub decode_time: Duration,
    /// Time the whole chunk scan took (reading and decoding).
    pub elapsed: Duration,
}

/// Counts reported by [`Db::compact`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactStats {
    /// Series whose chunks were rewritten.
    pub series_rewritten: u64,
    /// Chunks before compaction, over the rewritten series.
    pub chunks_before: u64,
    /// Chunks after compaction, over the rewritten series.
    pub chunks_after: u64,
}

/// A promlite database: one SQLite file of series. `Send + Sync`: share it
/// between threads (e.g. in an `Arc`); many threads may read while one writes.
pub struct Db {
    /// Declared first so it drops first: sender threads stop before storage closes.
    #[cfg(feature = "remote-write")]
    pub(crate) remote: crate::remote::Senders,
    /// Shared with running remote-write senders (see `remote/sender.rs`).
    pub(crate) storage: Arc<Storage>,
    options: Options,
}

impl Db {
    /// Opens (creating if needed) the database at `path`. One handle per file
    /// may write (share it between threads); more handles, also in other
    /// processes, can read with [`Options::read_only`].
    ///
    /// # Errors
    /// [`crate::Error::NotADatabase`] / [`crate::Error::UnsupportedVersion`] for
    /// a foreign or newer file (left untouched); [`crate::Error::InvalidInput`]
    /// if another handle or process is already writing the file; SQLite/I/O errors.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Db::open_with(path, Options::default())
    }

    /// Opens the database at `path` with `options`.
    ///
    /// # Errors
    /// As [`Db::open`].
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Db> {
        let mode = OpenMode {
            read_only: options.read_only,
            fsync_on_commit: options.fsync_on_commit,
            chunk_cache_bytes: options.chunk_cache_bytes,
        };
        let storage = Storage::open(path.as_ref(), mode)?;
        Ok(Db::assemble(storage, options))
    }

    /// Opens a private in-memory database.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn open_in_memory() -> Result<Db> {
        Ok(Db::assemble(Storage::open_in_memory()?, Options::default()))
    }

    fn assemble(storage: Storage, options: Options) -> Db {
        Db {
            #[cfg(feature = "remote-write")]
            remote: Default::default(),
            storage: Arc::new(storage),
            options,
        }
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Appends one sample and commits it.
    ///
    /// # Errors
    /// Invalid labels (no metric name), SQLite errors.
    pub fn append(&self, labels: &Labels, t: i64, v: f64) -> Result<()> {
        let mut b = Batch::new();
        b.add(labels, t, v);
        self.write(&b).map(|_| ())
    }

    /// Writes a batch in one atomic, durable commit; returns the number of samples written.
    ///
    /// # Errors
    /// Invalid labels or a malformed native histogram (see
    /// [`FloatHistogram::validate`]; nothing is written), SQLite errors
    /// (nothing is written).
    pub fn write(&self, batch: &Batch) -> Result<usize> {
        for labels in batch.series().iter().map(|(l, _)| l).chain(batch.histograms().iter().map(|(l, _)| l)) {
            labels.validate_for_storage()?;
        }
        for (labels, points) in batch.histograms() {
            for p in points {
                p.h.validate().map_err(|e| Error::invalid(format!("series {labels}, sample at {}: {e}", p.t)))?;
            }
        }
        for m in batch.metadata() {
            if m.metric.is_empty() {
                return Err(Error::invalid("metadata needs a metric name"));
            }
        }
        if let Some((key, _)) = batch.kv().iter().find(|(k, _)| k.starts_with("outbox/")) {
            return Err(Error::invalid(format!(
                "key {key:?}: the prefix \"outbox/\" is reserved for change-feed cursors"
            )));
        }
        self.storage.write(batch)?;
        #[cfg(feature = "remote-write")]
        self.remote.notify_commit();
        Ok(batch.len())
    }

    /// Series matching all `matchers`, with samples in `[mint, maxt]` (ms,
    /// inclusive), each in time order. Series with no samples in range are omitted.
    ///
    /// # Errors
    /// SQLite errors or corrupt chunks.
    pub fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>> {
        self.storage.select(matchers, mint, maxt)
    }

    /// Streams the series [`Db::select`] would return, one at a time in label
    /// order, all from one consistent snapshot; only one series is decoded at
    /// a time. An error returned by `f` stops the scan and is passed on.
    ///
    /// # Errors
    /// SQLite errors, corrupt chunks, or `f`'s error.
    pub fn for_each_series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        mut f: impl FnMut(Series) -> Result<()>,
    ) -> Result<()> {
        self.storage.for_each_series(matchers, mint, maxt, &mut f)
    }

    /// Label sets of series matching `matchers` with samples in `[mint, maxt]`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Labels>> {
        self.storage.series(matchers, mint, maxt)
    }

    /// Sorted label names of series matching `matchers` (all series if empty) with samples in range.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        self.storage.label_names(matchers, mint, maxt)
    }

    /// Sorted values of label `name` over series matching `matchers` with samples in range.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        self.storage.label_values(name, matchers, mint, maxt)
    }

    /// Deletes samples of series matching `matchers` in `[mint, maxt]`; series left
    /// without samples are removed. Returns the number of series touched.
    ///
    /// # Errors
    /// SQLite errors (nothing is deleted).
    pub fn delete_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<u64> {
        self.storage.delete_series(matchers, mint, maxt)
    }

    /// Deletes all samples older than `min_t` (ms). Returns samples-bearing chunks removed.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn delete_before(&self, min_t: i64) -> Result<u64> {
        self.storage.delete_before(min_t)
    }

    /// Applies [`Options::retention`] relative to the newest stored sample.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn apply_retention(&self) -> Result<u64> {
        let Some(retention) = self.options.retention else { return Ok(0) };
        let Some(newest) = self.storage.newest_timestamp()? else { return Ok(0) };
        let keep_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        self.delete_before(newest.saturating_sub(keep_ms))
    }

    /// Merges small and overlapping chunks into full, ordered ones.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn compact(&self) -> Result<CompactStats> {
        let c = self.storage.compact()?;
        Ok(CompactStats {
            series_rewritten: c.series_rewritten,
            chunks_before: c.chunks_before,
            chunks_after: c.chunks_after,
        })
    }

    /// Decodes every stored chunk and checks that chunks are well-formed, in
    /// order and non-overlapping, plus SQLite's `PRAGMA quick_check`; reads
    /// one snapshot, so it can run while the database is written.
    ///
    /// # Errors
    /// [`crate::Error::Corrupt`] naming the first problem found, SQLite errors.
    pub fn verify(&self) -> Result<VerifyStats> {
        self.storage.verify()
    }

    /// Stores metric metadata (replacing earlier entries for the same metric).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn put_metadata(&self, items: &[MetricMetadata]) -> Result<()> {
        let mut batch = Batch::new();
        for m in items {
            batch.add_metadata(m.clone());
        }
        self.write(&batch).map(|_| ())
    }

    /// Stored metadata, for one metric or all.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn metadata(&self, metric: Option<&str>) -> Result<Vec<MetricMetadata>> {
        self.storage.metadata(metric)
    }

    /// The value stored under `key` by a [`Batch::put_kv`], if any.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.storage.kv_get(key)
    }

    /// Every key/value entry whose key starts with `prefix`, sorted by key.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn kv_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.storage.kv_scan(prefix)
    }

    /// Registers a durable change feed named `name`: every sample committed
    /// from now on is kept (in the database file) until this consumer
    /// acknowledges it, so a sender can deliver everything exactly once across
    /// crashes and restarts. Subscribing again keeps the existing position.
    ///
    /// # Errors
    /// Read-only databases, SQLite errors.
    pub fn outbox_subscribe(&self, name: &str) -> Result<()> {
        self.storage.outbox_subscribe(name)
    }

    /// Reads the oldest unacknowledged commits of feed `name`, whole commits
    /// until at least `max_samples` samples (at least one commit if any).
    /// Reading does not advance the feed: call [`Db::outbox_ack`].
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] for an unknown feed, SQLite errors.
    pub fn outbox_read(&self, name: &str, max_samples: usize) -> Result<OutboxBatch> {
        Ok(self.storage.outbox_read(name, crate::storage::OutboxLimit::AtLeast(max_samples), None)?.0)
    }

    /// Marks everything before `next_seq` (from [`OutboxBatch::next_seq`]) as
    /// delivered; rows no feed needs any more are deleted.
    ///
    /// # Errors
    /// Unknown feed, SQLite errors.
    pub fn outbox_ack(&self, name: &str, next_seq: u64) -> Result<()> {
        self.storage.outbox_ack(name, next_seq)
    }

    /// Removes feed `name` and what only it was keeping.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn outbox_unsubscribe(&self, name: &str) -> Result<()> {
        self.storage.outbox_unsubscribe(name)
    }

    /// Parses Prometheus text exposition (or OpenMetrics text) and writes it in
    /// one commit, with metadata. Samples without a timestamp get `default_t` (ms).
    /// Returns the number of samples written.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] naming the bad line (nothing is written).
    pub fn ingest_exposition(&self, text: &str, default_t: i64) -> Result<usize> {
        crate::exposition::ingest(self, text, default_t)
    }

    /// Size of the database file(s) in bytes.
    ///
    /// # Errors
    /// I/O errors.
    pub fn size_bytes(&self) -> Result<u64> {
        self.storage.size_bytes()
    }

    /// Evaluates a PromQL expression at `t` (ms) and returns its value.
    ///
    /// # Errors
    /// [`crate::Error::Parse`] with position, execution errors, limits.
    pub fn query(&self, expr: &str, t: i64) -> Result<Value> {
        Ok(eval::instant_query(self, expr, t, &self.options.query)?.value)
    }

    /// Evaluates a PromQL expression from `start` to `end` every `step` (all ms); returns a matrix.
    ///
    /// # Errors
    /// As [`Db::query`]; also a non-positive step.
    pub fn query_range(&self, expr: &str, start: i64, end: i64, step: i64) -> Result<Value> {
        Ok(eval::range_query(self, expr, start, end, step, &self.options.query)?.value)
    }

    /// Instant query with explicit options, returning warnings and infos too.
    ///
    /// # Errors
    /// As [`Db::query`].
    pub fn query_with(&self, expr: &str, t: i64, opts: &QueryOptions) -> Result<QueryResult> {
        eval::instant_query(self, expr, t, opts)
    }

    /// Range query with explicit options, returning warnings and infos too.
    ///
    /// # Errors
    /// As [`Db::query_range`].
    pub fn query_range_with(
        &self,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult> {
        eval::range_query(self, expr, start, end, step, opts)
    }

    /// Moves every sample still buffered in memory (and journalled in the
    /// head log) into compressed chunks, checkpoints the WAL into the main file
    /// and returns free pages to the file system: the file is then as small as
    /// it gets, e.g. before a backup. [`Db::close`] does this too.
    ///
    /// # Errors
    /// Read-only databases, SQLite errors.
    pub fn flush(&self) -> Result<()> {
        self.storage.flush()
    }

    /// Flushes everything and closes the file (dropping the `Db` does the same).
    ///
    /// # Errors
    /// SQLite errors during the final checkpoint.
    pub fn close(mut self) -> Result<()> {
        #[cfg(feature = "remote-write")]
        self.remote.shutdown();
        match Arc::get_mut(&mut self.storage) {
            Some(storage) => storage.close(),
            // Unreachable: stopped senders hold no reference; dropping closes anyway.
            None => Ok(()),
        }
    }
}

impl Querier for Db {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>> {
        Db::select(self, matchers, mint, maxt)
    }

    fn for_each_series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        f: &mut dyn FnMut(Series) -> Result<()>,
    ) -> Result<()> {
        Db::for_each_series(self, matchers, mint, maxt, f)
    }
}
