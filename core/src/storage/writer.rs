//! The write path. One [`Writer`] per database (behind a mutex) owns the
//! read-write connection and everything that must change together with it.
//!
//! A commit: resolve (or create) series ids; samples at or before a series'
//! newest chunk are merged into its chunks; newer samples go to the series'
//! in-memory head and to this commit's single `head_log` row. A head that
//! reaches [`CHUNK_POINTS`] samples is cut into a chunk in the same commit, and
//! log rows no head needs any more are deleted. Heads change in memory only
//! after SQLite has committed, so a failed commit leaves nothing behind.

use std::borrow::Cow;
use std::collections::{BTreeSet, VecDeque};

use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;

use super::head::{self, Heads};
use super::index;
use super::log::{self, LogRecord, OutboxRecord};
use super::Shared;
use super::{codec, schema};
use crate::error::Result;
use crate::model::{Labels, Point};

/// Samples per full chunk.
pub(crate) const CHUNK_POINTS: usize = 240;

/// A head that has pinned the log for this many commits is cut early, so an
/// idle series cannot make the log (and reopening) grow without bound.
const LOG_MAX_COMMITS: u64 = 2048;

/// Writer-side state of one series.
#[derive(Debug, Clone)]
pub(crate) struct SeriesState {
    pub labels: Labels,
    /// Newest timestamp in chunks (`i64::MIN` without chunks). Samples at or
    /// before it are merged into chunks, newer ones go to the head.
    pub chunks_max_t: i64,
    /// Samples in the newest chunk; a partial newest chunk is merged at the next cut.
    pub last_chunk_len: usize,
    /// Log rows older than this hold nothing of this series that isn't in chunks.
    pub log_from_seq: u64,
    /// Samples in the head.
    pub head_len: usize,
    /// Newest timestamp in the head.
    pub head_last_t: i64,
    /// Commit whose log row holds the head's oldest sample (pins the log).
    pub head_first_seq: Option<u64>,
}

/// A change to one head, applied after commit.
enum HeadOp {
    /// Samples newer than the head: a range of [`Pending::appended`].
    Append(std::ops::Range<usize>),
    /// The head's complete new content.
    Replace(Vec<Point>),
}

/// Key prefix of change-feed consumers' cursors in `kv` (value: next seq, 8 bytes big endian).
pub(crate) const OUTBOX_PREFIX: &str = "outbox/";

/// What a commit does to memory once SQLite has committed it.
#[derive(Default)]
struct Pending {
    log: LogRecord,
    /// Every sample of the commit, for change-feed consumers.
    outbox: OutboxRecord,
    ops: Vec<(i64, HeadOp)>,
    /// Samples of all `Append` ops, back to back (one allocation per commit).
    appended: Vec<Point>,
}

impl Pending {
    fn append(&mut self, id: i64, points: &[Point]) {
        let start = self.appended.len();
        self.appended.extend_from_slice(points);
        self.ops.push((id, HeadOp::Append(start..self.appended.len())));
    }
}

pub(crate) struct Writer {
    pub conn: Connection,
    by_labels: FxHashMap<Labels, i64>,
    pub series: super::idmap::IdMap<SeriesState>,
    /// Sequence number the next commit gets.
    next_seq: u64,
    /// `(head_first_seq, series id)` of every non-empty head.
    pins: BTreeSet<(u64, i64)>,
    /// Lowest `head_log.seq` that may still exist.
    log_floor: u64,
    /// Series with shadowed head samples, by the commit that shadowed them.
    shadowed: VecDeque<(u64, Vec<i64>)>,
    /// Change-feed consumers and the first commit each has not acknowledged.
    outbox_cursors: std::collections::BTreeMap<String, u64>,
    /// Series whose newest chunk changed in the open transaction (their heads'
    /// `chunk_bound` is updated after commit).
    chunk_bounds_changed: Vec<i64>,
    /// Whether `stsamples` may hold rows: only then does a rewritten sample
    /// have an old start timestamp to clear (files without any skip that work).
    has_start_timestamps: bool,
}

/// A view of the heads for planning: the writer is their only mutator, so
/// reading them under the shared lock is consistent.
type HeadsView<'a> = &'a Heads;

impl Writer {
    /// Loads the writer state of an existing database and replays the head log into `heads`.
    pub(crate) fn load(conn: Connection, heads: &mut Heads) -> Result<Writer> {
        let mut w = Writer {
            conn,
            by_labels: FxHashMap::default(),
            series: Default::default(),
            next_seq: 0,
            pins: BTreeSet::new(),
            log_floor: 0,
            shadowed: VecDeque::new(),
            outbox_cursors: Default::default(),
            chunk_bounds_changed: Vec::new(),
            has_start_timestamps: false,
        };
        w.reload(heads)?;
        Ok(w)
    }

    /// Rebuilds all in-memory state from the database (at open, and after a
    /// failed commit so that memory matches what SQLite kept).
    pub(crate) fn reload(&mut self, heads: &mut Heads) -> Result<()> {
        self.by_labels.clear();
        self.series.clear();
        self.pins.clear();
        self.shadowed.clear();
        heads.clear();
        {
            let mut stmt = self.conn.prepare("SELECT id, labels, log_from_seq FROM series")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let labels = index::decode_labels(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?)?;
                let log_from_seq = row.get::<_, i64>(2)? as u64;
                self.by_labels.insert(labels.clone(), id);
                self.series.insert(
                    id,
                    SeriesState {
                        labels,
                        chunks_max_t: i64::MIN,
                        last_chunk_len: 0,
                        log_from_seq,
                        head_len: 0,
                        head_last_t: i64::MIN,
                        head_first_seq: None,
                    },
                );
            }
        }
        {
            let mut stmt = self.conn.prepare(
                "SELECT c.series_id, c.max_t, c.data FROM chunks c
                 JOIN (SELECT series_id, MAX(max_t) AS m FROM chunks GROUP BY series_id) newest
                   ON c.series_id = newest.series_id AND c.max_t = newest.m",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                if let Some(s) = self.series.get_mut(&id) {
                    s.chunks_max_t = row.get(1)?;
                    s.last_chunk_len = codec::header(row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?)?.0;
                }
            }
        }
        self.next_seq = schema::committed_seq(&self.conn)? + 1;
        self.has_start_timestamps = super::reader::has_rows(&self.conn, "stsamples")?;
        self.log_floor = 0;
        self.outbox_cursors.clear();
        {
            let mut stmt = self.conn.prepare("SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2")?;
            let mut rows = stmt.query([OUTBOX_PREFIX, "outbox0"])?;
            while let Some(row) = rows.next()? {
                let key: String = row.get(0)?;
                let value: Vec<u8> = row.get(1)?;
                let cursor = decode_cursor(&value)?;
                self.outbox_cursors.insert(key[OUTBOX_PREFIX.len()..].to_string(), cursor);
            }
        }
        // Replay the log: entries at or after a series' log_from_seq are its head.
        let mut replayed: FxHashMap<i64, Vec<Point>> = FxHashMap::default();
        let mut stmt = self.conn.prepare("SELECT seq, data FROM head_log ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let seq = row.get::<_, i64>(0)? as u64;
            let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            let series = &mut self.series;
            log::decode(data, |e| {
                let Some(s) = series.get_mut(&e.series_id) else { return };
                // Entries before log_from_seq are in chunks; so are entries of a
                // commit that also cut the head (their t is then ≤ chunks_max_t).
                if seq < s.log_from_seq || e.t <= s.chunks_max_t {
                    return;
                }
                head::upsert(replayed.entry(e.series_id).or_default(), Point::new(e.t, e.v));
                s.head_first_seq.get_or_insert(seq);
            })?;
        }
        // Replayed samples count as written by the last commit before this open.
        let committed = self.next_seq - 1;
        for (id, points) in replayed {
            heads.get_or_default(id).append(committed, &points);
        }
        self.chunk_bounds_changed.clear();
        for (id, s) in self.series.iter() {
            heads.get_or_default(id).chunk_bound = Some((committed, s.chunks_max_t));
        }
        for (id, h) in heads.iter() {
            let s = self.series.get_mut(&id).expect("heads only hold known series");
            s.head_len = h.points.len();
            s.head_last_t = h.points.last().map_or(i64::MIN, |p| p.t);
            if let Some(seq) = s.head_first_seq {
                self.pins.insert((seq, id));
            }
        }
        Ok(())
    }

    /// Sequence number of the last committed write.
    pub(crate) fn committed_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The id of the series with `labels`, creating it if needed (inside the open transaction).
    fn series_id(&mut self, labels: &Labels) -> Result<i64> {
        if let Some(id) = self.by_labels.get(labels) {
            return Ok(*id);
        }
        let mut stmt = self.conn.prepare_cached("INSERT INTO series (labels, log_from_seq) VALUES (?1, 0)")?;
        stmt.execute([index::encode_labels(labels)])?;
        let id = self.conn.last_insert_rowid();
        index::insert_postings(&self.conn, id, labels)?;
        self.by_labels.insert(labels.clone(), id);
        self.series.insert(
            id,
            SeriesState {
                labels: labels.clone(),
                chunks_max_t: i64::MIN,
                last_chunk_len: 0,
                log_from_seq: 0,
                head_len: 0,
                head_last_t: i64::MIN,
                head_first_seq: None,
            },
        );
        Ok(id)
    }

    /// Runs `body` in one write transaction and then applies its head changes.
    /// On any error the transaction is rolled back and memory is reloaded.
    fn transaction<T>(
        &mut self,
        shared: &Shared,
        body: impl FnOnce(&mut Self, HeadsView<'_>, u64, &mut Pending) -> Result<T>,
    ) -> Result<T> {
        let heads_lock = &shared.heads;
        let seq = self.next_seq;
        let mut pending = Pending::default();
        let outcome = (|| {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            let value = {
                let heads = heads_lock.read();
                let value = body(self, &heads, seq, &mut pending)?;
                self.cut_pinning_heads(&heads, seq, &mut pending)?;
                value
            };
            if !pending.log.is_empty() {
                self.conn
                    .prepare_cached("INSERT INTO head_log (seq, data) VALUES (?1, ?2)")?
                    .execute(params![seq as i64, pending.log.encode()])?;
            }
            if !pending.outbox.is_empty() && !self.outbox_cursors.is_empty() {
                self.conn
                    .prepare_cached("INSERT INTO outbox (seq, data) VALUES (?1, ?2)")?
                    .execute(params![seq as i64, pending.outbox.encode()])?;
            }
            self.conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'seq'")?.execute([seq as i64])?;
            let floor = self.pins.first().map_or(seq + 1, |(s, _)| *s);
            if floor > self.log_floor {
                self.conn.prepare_cached("DELETE FROM head_log WHERE seq < ?1")?.execute([floor as i64])?;
            }
            self.conn.execute_batch("COMMIT")?;
            self.log_floor = self.log_floor.max(floor);
            Ok(value)
        })();
        match outcome {
            Ok(value) => {
                self.next_seq += 1;
                self.apply(shared, seq, pending);
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                // Memory may hold changes SQLite did not keep: start over from disk.
                let mut heads = heads_lock.write();
                if let Err(reload) = self.reload(&mut heads) {
                    return Err(crate::Error::Corrupt(format!(
                        "{e}; reloading after the failed commit also failed: {reload}"
                    )));
                }
                // Everything reloaded counts as of the last commit.
                shared.applied_seq.store(self.committed_seq(), std::sync::atomic::Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Installs a committed transaction's head changes, then publishes `seq`
    /// as applied (readers whose snapshot is `seq` wait for that).
    fn apply(&mut self, shared: &Shared, seq: u64, pending: Pending) {
        let mut shadowed_ids = Vec::new();
        let mut heads = shared.heads.write();
        for id in self.chunk_bounds_changed.drain(..) {
            let bound = self.series.get(&id).map(|s| (seq, s.chunks_max_t));
            heads.get_or_default(id).chunk_bound = bound;
            if heads.get(&id).is_some_and(|h| h.is_empty()) {
                heads.remove(&id);
            }
        }
        for (id, op) in pending.ops {
            let h = heads.get_or_default(id);
            match op {
                HeadOp::Append(range) => h.append(seq, &pending.appended[range]),
                HeadOp::Replace(points) => {
                    h.replace(seq, points);
                    shadowed_ids.push(id);
                }
            }
            if h.is_empty() {
                heads.remove(&id);
            }
        }
        drop(heads);
        if !shadowed_ids.is_empty() {
            self.shadowed.push_back((seq, shadowed_ids));
        }
        shared.applied_seq.store(seq, std::sync::atomic::Ordering::SeqCst);
        self.prune_shadowed(shared, seq);
    }

    /// Drops shadowed head samples no reader can need: those removed at or
    /// before the oldest registered reader's snapshot (or the last commit, if
    /// no reader is active; later readers start from a newer snapshot).
    fn prune_shadowed(&mut self, shared: &Shared, committed: u64) {
        let bound = shared.readers.oldest().map_or(committed, |r| r.min(committed));
        if self.shadowed.front().is_none_or(|(seq, _)| *seq > bound) {
            return;
        }
        let mut heads = shared.heads.write();
        while let Some((seq, _)) = self.shadowed.front() {
            if *seq > bound {
                break;
            }
            let (_, ids) = self.shadowed.pop_front().expect("front exists");
            for id in ids {
                if let Some(h) = heads.get_mut(&id) {
                    h.prune(bound);
                    if h.is_empty() {
                        heads.remove(&id);
                    }
                }
            }
        }
    }

    /// Writes a batch of samples, metadata and key/value entries in one commit.
    /// Writes batches in one commit, as if committed one after the other.
    pub(crate) fn write(&mut self, shared: &Shared, batches: &[&crate::db::Batch]) -> Result<()> {
        self.transaction(shared, |w, heads, seq, pending| {
            // One entry per series: samples borrowed from the batch unless the
            // series repeats or its samples need sorting.
            let mut entries: Vec<(i64, Cow<'_, [Point]>)> = Vec::with_capacity(batches[0].series().len());
            let mut position: FxHashMap<i64, usize> = FxHashMap::default();
            for (labels, points) in batches.iter().flat_map(|b| b.series()) {
                if points.is_empty() {
                    continue;
                }
                let id = w.series_id(labels)?;
                match position.entry(id) {
                    std::collections::hash_map::Entry::Occupied(e) => {
                        entries[*e.get()].1.to_mut().extend_from_slice(points)
                    }
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(entries.len());
                        entries.push((id, Cow::Borrowed(points)));
                    }
                }
            }
            let feed = !w.outbox_cursors.is_empty();
            // Samples that may replace one with a start timestamp (only while
            // the file has any): floats not newer than their series' newest, and histograms.
            let mut rewritten: Vec<(i64, i64)> = Vec::new();
            for (id, mut points) in entries {
                if !points.windows(2).all(|p| p[0].t < p[1].t) {
                    head::sort_dedup_keep_last(points.to_mut());
                }
                if w.has_start_timestamps {
                    let state = &w.series[&id];
                    let newest = state.chunks_max_t.max(state.head_last_t);
                    rewritten.extend(points.iter().take_while(|p| p.t <= newest).map(|p| (id, p.t)));
                }
                if feed {
                    for p in points.iter() {
                        pending.outbox.push(id, p.t, p.v);
                    }
                }
                w.write_series(heads, seq, id, &points, pending)?;
            }
            for (labels, points) in batches.iter().flat_map(|b| b.histograms()) {
                let id = w.series_id(labels)?;
                let mut insert = w
                    .conn
                    .prepare_cached("INSERT OR REPLACE INTO hsamples (series_id, t, data) VALUES (?1, ?2, ?3)")?;
                for p in points {
                    let data = super::hcodec::encode(&p.h);
                    insert.execute(params![id, p.t, data])?;
                    if w.has_start_timestamps {
                        rewritten.push((id, p.t));
                    }
                    if feed {
                        pending.outbox.push_histogram(id, p.t, data);
                    }
                }
            }
            w.write_start_timestamps(&rewritten, batches)?;
            for m in batches.iter().flat_map(|b| b.metadata()) {
                w.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO metadata (metric, type, help, unit) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![m.metric, m.kind, m.help, m.unit])?;
            }
            for (key, value) in batches.iter().flat_map(|b| b.kv()) {
                match value {
                    Some(v) => w
                        .conn
                        .prepare_cached("INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)")?
                        .execute(params![key, v])?,
                    None => w.conn.prepare_cached("DELETE FROM kv WHERE key = ?1")?.execute([key])?,
                };
            }
            Ok(())
        })
    }

    /// Keeps `stsamples` in step with the samples of `batches` (already
    /// written): the `rewritten` samples `(series id, t)` lose the start
    /// timestamps they had, then the batches' start timestamps are stored.
    fn write_start_timestamps(&mut self, rewritten: &[(i64, i64)], batches: &[&crate::db::Batch]) -> Result<()> {
        if !rewritten.is_empty() {
            let mut clear = self.conn.prepare_cached("DELETE FROM stsamples WHERE series_id = ?1 AND t = ?2")?;
            for (id, t) in rewritten {
                clear.execute(params![id, t])?;
            }
        }
        for (labels, sts) in batches.iter().flat_map(|b| b.start_timestamps()) {
            let id = self.series_id(labels)?;
            let mut insert =
                self.conn.prepare_cached("INSERT OR REPLACE INTO stsamples (series_id, t, st) VALUES (?1, ?2, ?3)")?;
            for &(t, st) in sts {
                insert.execute(params![id, t, st])?;
            }
            self.has_start_timestamps = true;
        }
        Ok(())
    }

    /// Writes sorted, unique-timestamp `points` of series `id`.
    fn write_series(
        &mut self,
        heads: HeadsView<'_>,
        seq: u64,
        id: i64,
        points: &[Point],
        pending: &mut Pending,
    ) -> Result<()> {
        let state = &self.series[&id];
        let split = points.partition_point(|p| p.t <= state.chunks_max_t);
        let (old, fresh) = points.split_at(split);
        if !old.is_empty() {
            self.merge_into_chunks(id, old)?;
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let state = &self.series[&id];
        let head: &[Point] = heads.get(&id).map_or(&[], |h| &h.points);
        if fresh[0].t > state.head_last_t {
            // In order: the common case.
            if state.head_len + fresh.len() >= CHUNK_POINTS {
                let mut all = Vec::with_capacity(head.len() + fresh.len());
                all.extend_from_slice(head);
                all.extend_from_slice(fresh);
                return self.cut(id, all, seq, false, pending);
            }
            for p in fresh {
                pending.log.push(id, p.t, p.v);
            }
            pending.append(id, fresh);
            self.note_head(id, seq, state.head_len + fresh.len(), fresh[fresh.len() - 1].t);
            return Ok(());
        }
        // Out of order within the head: merge, log only what changed.
        let (merged, changed) = head::merge(head, fresh);
        if !changed {
            return Ok(());
        }
        if merged.len() >= CHUNK_POINTS {
            return self.cut(id, merged, seq, false, pending);
        }
        let mut probe = head.to_vec();
        for p in fresh {
            if head::upsert(&mut probe, *p) {
                pending.log.push(id, p.t, p.v);
            }
        }
        let (len, last) = (merged.len(), merged[merged.len() - 1].t);
        pending.ops.push((id, HeadOp::Replace(merged)));
        self.note_head(id, seq, len, last);
        Ok(())
    }

    /// Records a head's new size after logging samples to it in commit `seq`.
    fn note_head(&mut self, id: i64, seq: u64, len: usize, last_t: i64) {
        let s = self.series.get_mut(&id).expect("known series");
        s.head_len = len;
        s.head_last_t = last_t;
        if s.head_first_seq.is_none() {
            s.head_first_seq = Some(seq);
            self.pins.insert((seq, id));
        }
    }

    /// Moves head samples into chunks. `points` is the head's complete new
    /// content (sorted, all newer than the chunks). Without `force`, only
    /// whole chunks are cut and the rest stays in the head; with `force`,
    /// everything goes to chunks. A partial newest chunk is merged in first.
    fn cut(&mut self, id: i64, points: Vec<Point>, seq: u64, force: bool, pending: &mut Pending) -> Result<()> {
        let s = &self.series[&id];
        let mut all = points;
        if s.last_chunk_len > 0 && s.last_chunk_len < CHUNK_POINTS && !all.is_empty() {
            let newest: Option<(i64, Vec<u8>)> = self
                .conn
                .prepare_cached("SELECT id, data FROM chunks WHERE series_id = ?1 ORDER BY max_t DESC LIMIT 1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((chunk_id, data)) = newest {
                let mut merged = codec::decode(&data)?;
                merged.extend_from_slice(&all);
                all = merged;
                self.conn.prepare_cached("DELETE FROM chunks WHERE id = ?1")?.execute([chunk_id])?;
            }
        }
        let whole = if force { all.len() } else { all.len() / CHUNK_POINTS * CHUNK_POINTS };
        let last_len = self.insert_chunks(id, &all[..whole])?;
        let tail = all[whole..].to_vec();
        for p in &tail {
            pending.log.push(id, p.t, p.v);
        }
        self.conn
            .prepare_cached("UPDATE series SET log_from_seq = ?1 WHERE id = ?2")?
            .execute(params![seq as i64, id])?;
        let s = self.series.get_mut(&id).expect("known series");
        if whole > 0 {
            s.chunks_max_t = all[whole - 1].t;
            s.last_chunk_len = last_len;
            self.chunk_bounds_changed.push(id);
        }
        s.log_from_seq = seq;
        s.head_len = tail.len();
        s.head_last_t = tail.last().map_or(i64::MIN, |p| p.t);
        if let Some(old) = s.head_first_seq.take() {
            self.pins.remove(&(old, id));
        }
        if !tail.is_empty() {
            s.head_first_seq = Some(seq);
            self.pins.insert((seq, id));
        }
        pending.ops.push((id, HeadOp::Replace(tail)));
        Ok(())
    }

    /// Writes `points` (sorted) as chunks of up to [`CHUNK_POINTS`]; returns the
    /// size of the last chunk written (0 if none).
    pub(crate) fn insert_chunks(&self, id: i64, points: &[Point]) -> Result<usize> {
        let mut stmt =
            self.conn.prepare_cached("INSERT INTO chunks (series_id, min_t, max_t, data) VALUES (?1, ?2, ?3, ?4)")?;
        let mut last = 0;
        for piece in balanced_pieces(points) {
            stmt.execute(params![id, piece[0].t, piece[piece.len() - 1].t, codec::encode(piece)])?;
            last = piece.len();
        }
        Ok(last)
    }

    /// Merges samples at or before a series' newest chunk into its chunks.
    fn merge_into_chunks(&mut self, id: i64, points: &[Point]) -> Result<()> {
        let (lo, hi) = (points[0].t, points[points.len() - 1].t);
        let (ids, existing) = self.chunks_overlapping(id, lo, hi)?;
        let (merged, changed) = head::merge(&existing, points);
        if !changed {
            return Ok(());
        }
        self.replace_chunks(id, &ids, &merged)
    }

    /// Row ids and decoded samples of the chunks of `id` overlapping `[lo, hi]`.
    pub(crate) fn chunks_overlapping(&self, id: i64, lo: i64, hi: i64) -> Result<(Vec<i64>, Vec<Point>)> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, data FROM chunks WHERE series_id = ?1 AND max_t >= ?2 AND min_t <= ?3 ORDER BY max_t",
        )?;
        let mut rows = stmt.query(params![id, lo, hi])?;
        let mut ids = Vec::new();
        let mut points = Vec::new();
        while let Some(row) = rows.next()? {
            ids.push(row.get(0)?);
            codec::decode_into(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?, &mut points)?;
        }
        Ok((ids, points))
    }

    /// Replaces chunk rows `old_ids` of series `id` by chunks holding `points`
    /// and refreshes the series' newest-chunk bookkeeping.
    pub(crate) fn replace_chunks(&mut self, id: i64, old_ids: &[i64], points: &[Point]) -> Result<()> {
        let mut del = self.conn.prepare_cached("DELETE FROM chunks WHERE id = ?1")?;
        for chunk_id in old_ids {
            del.execute([chunk_id])?;
        }
        drop(del);
        self.insert_chunks(id, points)?;
        self.refresh_newest_chunk(id)
    }

    /// Re-reads which chunk of `id` is newest, after chunks were rewritten or deleted.
    pub(crate) fn refresh_newest_chunk(&mut self, id: i64) -> Result<()> {
        let newest: Option<(i64, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT max_t, data FROM chunks WHERE series_id = ?1 ORDER BY max_t DESC LIMIT 1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (max_t, len) = match newest {
            Some((t, data)) => (t, codec::header(&data)?.0),
            None => (i64::MIN, 0),
        };
        let s = self.series.get_mut(&id).expect("known series");
        s.chunks_max_t = max_t;
        s.last_chunk_len = len;
        self.chunk_bounds_changed.push(id);
        Ok(())
    }

    /// Cuts heads that have pinned the log for too long, so it stays short.
    fn cut_pinning_heads(&mut self, heads: HeadsView<'_>, seq: u64, pending: &mut Pending) -> Result<()> {
        let Some(&(oldest, _)) = self.pins.first() else { return Ok(()) };
        if seq.saturating_sub(oldest) < LOG_MAX_COMMITS {
            return Ok(());
        }
        let threshold = seq - LOG_MAX_COMMITS / 2;
        let stale: Vec<i64> = self.pins.iter().take_while(|(s, _)| *s < threshold).map(|(_, id)| *id).collect();
        for id in stale {
            self.flush_head(heads, id, seq, pending)?;
        }
        Ok(())
    }

    /// Moves all of a head into chunks (within the open transaction).
    fn flush_head(&mut self, heads: HeadsView<'_>, id: i64, seq: u64, pending: &mut Pending) -> Result<()> {
        // A head changed earlier in this transaction has its newest content in `pending`.
        let current = pending.ops.iter().rev().find(|(op_id, _)| *op_id == id).map(|(_, op)| match op {
            HeadOp::Replace(points) => points.clone(),
            HeadOp::Append(range) => {
                let mut p = heads.get(&id).map_or_else(Vec::new, |h| h.points.clone());
                p.extend_from_slice(&pending.appended[range.clone()]);
                p
            }
        });
        let points = current.unwrap_or_else(|| heads.get(&id).map_or_else(Vec::new, |h| h.points.clone()));
        if points.is_empty() {
            return Ok(());
        }
        self.cut(id, points, seq, true, pending)
    }

    /// Flushes every head into chunks in one commit (used when closing).
    pub(crate) fn flush_all(&mut self, shared: &Shared) -> Result<()> {
        if self.pins.is_empty() {
            return Ok(());
        }
        self.transaction(shared, |w, heads, seq, pending| {
            let ids: Vec<i64> = w.pins.iter().map(|(_, id)| *id).collect();
            for id in ids {
                w.flush_head(heads, id, seq, pending)?;
            }
            Ok(())
        })
    }

    /// Runs `body` as one commit with access to the heads (for maintenance).
    pub(crate) fn maintenance<T>(
        &mut self,
        shared: &Shared,
        body: impl FnOnce(&mut Self, &mut dyn FnMut(&mut Self, i64) -> Result<()>) -> Result<T>,
    ) -> Result<T> {
        self.transaction(shared, |w, heads, seq, pending| {
            let mut flush = |w: &mut Self, id: i64| w.flush_head(heads, id, seq, pending);
            body(w, &mut flush)
        })
    }

    /// Registers change-feed consumer `name` (if new) starting after the last commit.
    pub(crate) fn outbox_subscribe(&mut self, shared: &Shared, name: &str) -> Result<()> {
        if self.outbox_cursors.contains_key(name) {
            return Ok(());
        }
        self.transaction(shared, |w, _, seq, _| {
            w.set_cursor(name, seq + 1)?;
            Ok(())
        })?;
        self.outbox_cursors.insert(name.to_string(), self.next_seq);
        Ok(())
    }

    /// Moves consumer `name`'s cursor to `next_seq` and deletes rows no consumer needs.
    pub(crate) fn outbox_ack(&mut self, shared: &Shared, name: &str, next_seq: u64) -> Result<()> {
        let Some(&current) = self.outbox_cursors.get(name) else {
            return Err(crate::Error::invalid(format!("no change-feed consumer named {name:?}")));
        };
        if next_seq <= current {
            return Ok(());
        }
        let next_seq = next_seq.min(self.next_seq);
        self.transaction(shared, |w, _, _, _| {
            w.set_cursor(name, next_seq)?;
            let mut cursors = w.outbox_cursors.clone();
            cursors.insert(name.to_string(), next_seq);
            w.trim_outbox(&cursors)
        })?;
        self.outbox_cursors.insert(name.to_string(), next_seq);
        Ok(())
    }

    /// Removes consumer `name` (and the rows only it needed).
    pub(crate) fn outbox_unsubscribe(&mut self, shared: &Shared, name: &str) -> Result<()> {
        if !self.outbox_cursors.contains_key(name) {
            return Ok(());
        }
        self.transaction(shared, |w, _, _, _| {
            w.conn.prepare_cached("DELETE FROM kv WHERE key = ?1")?.execute([format!("{OUTBOX_PREFIX}{name}")])?;
            let mut cursors = w.outbox_cursors.clone();
            cursors.remove(name);
            w.trim_outbox(&cursors)
        })?;
        self.outbox_cursors.remove(name);
        Ok(())
    }

    fn set_cursor(&self, name: &str, next_seq: u64) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)")?
            .execute(params![format!("{OUTBOX_PREFIX}{name}"), next_seq.to_be_bytes().to_vec()])?;
        Ok(())
    }

    fn trim_outbox(&self, cursors: &std::collections::BTreeMap<String, u64>) -> Result<()> {
        let floor = cursors.values().min().copied().unwrap_or(u64::MAX).min(i64::MAX as u64);
        self.conn.prepare_cached("DELETE FROM outbox WHERE seq < ?1")?.execute([floor as i64])?;
        Ok(())
    }

    /// Whether series `id` has no samples left of either kind.
    pub(crate) fn series_is_empty(&self, id: i64) -> Result<bool> {
        let s = &self.series[&id];
        if s.chunks_max_t != i64::MIN || s.head_len > 0 {
            return Ok(false);
        }
        let has_histograms =
            self.conn.prepare_cached("SELECT 1 FROM hsamples WHERE series_id = ?1 LIMIT 1")?.exists([id])?;
        Ok(!has_histograms)
    }

    /// Forgets a series whose last sample was deleted (inside the open transaction).
    pub(crate) fn remove_series(&mut self, id: i64) -> Result<()> {
        let Some(s) = self.series.remove(&id) else { return Ok(()) };
        self.chunk_bounds_changed.push(id);
        self.conn.prepare_cached("DELETE FROM series WHERE id = ?1")?.execute([id])?;
        self.conn.prepare_cached("DELETE FROM stsamples WHERE series_id = ?1")?.execute([id])?;
        index::delete_postings(&self.conn, id, &s.labels)?;
        self.by_labels.remove(&s.labels);
        if let Some(seq) = s.head_first_seq {
            self.pins.remove(&(seq, id));
        }
        Ok(())
    }
}

/// Reads a change-feed cursor stored by `set_cursor`.
pub(crate) fn decode_cursor(value: &[u8]) -> Result<u64> {
    let bytes: [u8; 8] = value.try_into().map_err(|_| crate::Error::Corrupt("bad change-feed cursor".into()))?;
    Ok(u64::from_be_bytes(bytes))
}

/// Splits sorted points into chunks of at most [`CHUNK_POINTS`], none of them tiny:
/// full chunks first; a short remainder is only left when it is all there is.
fn balanced_pieces(points: &[Point]) -> impl Iterator<Item = &[Point]> {
    points.chunks(CHUNK_POINTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_full_chunks_then_a_remainder() {
        let pts: Vec<Point> = (0..(CHUNK_POINTS * 2 + 5) as i64).map(|t| Point::new(t, 0.0)).collect();
        let sizes: Vec<usize> = balanced_pieces(&pts).map(<[Point]>::len).collect();
        assert_eq!(sizes, vec![CHUNK_POINTS, CHUNK_POINTS, 5]);
        assert_eq!(balanced_pieces(&[]).count(), 0);
    }
}
