//! Reads: series selection with samples, series and label listings.
//!
//! Every read runs in one SQLite read transaction (a consistent snapshot of
//! chunks and the index) and adds the samples still in heads: from memory in
//! the writing process, or by replaying `head_log` from the same snapshot in a
//! read-only handle.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use rusqlite::{params, Connection};
use rustc_hash::FxHashMap;

use super::head::{self, in_range};
use super::{codec, index, log, schema, Storage};
use crate::error::{Error, Result};
use crate::model::{HPoint, Labels, Matcher, Point};
use crate::value::Series;

/// How much [`Storage::outbox_read`] reads: always whole commits, and at
/// least one if there is any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboxLimit {
    /// Commits until at least this many samples are read.
    AtLeast(usize),
    /// The commits that together hold at most this many samples (a single
    /// commit may hold more; it is then read alone).
    #[cfg_attr(not(feature = "remote-write"), allow(dead_code))]
    AtMost(usize),
}

/// What [`Storage::outbox_scan`] counted.
#[cfg(feature = "remote-write")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutboxScan {
    /// Samples in the commits counted.
    pub samples: u64,
    /// Commits (with samples) counted.
    pub commits: u64,
    /// The sequence number after the last commit counted: where to continue.
    pub end_seq: u64,
}

/// One read: a snapshot and the matching view of the heads.
struct ReadCtx<'a> {
    conn: &'a Connection,
    snapshot_seq: u64,
    /// Heads rebuilt from the log (on first use), for handles without a writer.
    replayed: Option<std::cell::OnceCell<FxHashMap<i64, Vec<Point>>>>,
}

impl ReadCtx<'_> {
    fn replayed(&self) -> Result<Option<&FxHashMap<i64, Vec<Point>>>> {
        let Some(cell) = &self.replayed else { return Ok(None) };
        if cell.get().is_none() {
            let _ = cell.set(replay_log(self.conn)?);
        }
        Ok(cell.get())
    }
}

impl Storage {
    /// Runs `f` inside a read snapshot.
    fn read<T>(&self, f: impl FnOnce(&Storage, &mut ReadCtx<'_>) -> Result<T>) -> Result<T> {
        // Registered with a lower bound of the snapshot about to be taken, so
        // the writer keeps the shadowed head samples this reader may need.
        let _registration = self.shared.readers.register(|| self.shared.applied_seq.load(Ordering::SeqCst));
        self.with_reader(|conn| {
            let tx = conn.unchecked_transaction()?;
            // The first read fixes the snapshot.
            let snapshot_seq = schema::committed_seq(conn)?;
            let replayed = if self.is_read_only() {
                Some(std::cell::OnceCell::new())
            } else {
                self.wait_for_heads(snapshot_seq)?;
                None
            };
            let mut ctx = ReadCtx { conn, snapshot_seq, replayed };
            let value = f(self, &mut ctx)?;
            tx.commit()?;
            Ok(value)
        })
    }

    /// Waits until the writer has installed the head changes of commit `seq`
    /// (it does so right after SQLite commits, so this is a short wait).
    fn wait_for_heads(&self, seq: u64) -> Result<()> {
        let start = std::time::Instant::now();
        while self.shared.applied_seq.load(Ordering::SeqCst) < seq {
            if start.elapsed() > std::time::Duration::from_secs(10) {
                return Err(Error::Corrupt(format!("in-memory heads did not catch up with commit {seq}")));
            }
            std::thread::yield_now();
        }
        Ok(())
    }

    /// Appends the head samples of `id` in `[mint, maxt]` for this snapshot.
    fn head_points(&self, ctx: &ReadCtx<'_>, id: i64, mint: i64, maxt: i64, out: &mut Vec<Point>) -> Result<()> {
        match ctx.replayed()? {
            Some(map) => {
                if let Some(points) = map.get(&id) {
                    out.extend_from_slice(in_range(points, mint, maxt));
                }
            }
            None => {
                if let Some(h) = self.shared.heads.read().get(&id) {
                    h.copy_range(ctx.snapshot_seq, mint, maxt, out);
                }
            }
        }
        Ok(())
    }

    /// Whether series `id`'s chunks may hold samples at or after `mint` in this
    /// snapshot (false lets recent-data reads skip the chunk lookup).
    fn chunks_may_reach(&self, ctx: &ReadCtx<'_>, id: i64, mint: i64) -> bool {
        if ctx.replayed.is_some() {
            return true;
        }
        self.shared.heads.read().get(&id).is_none_or(|h| h.chunks_may_reach(ctx.snapshot_seq, mint))
    }

    fn has_head_points(&self, ctx: &ReadCtx<'_>, id: i64, mint: i64, maxt: i64) -> Result<bool> {
        let mut tmp = Vec::new();
        self.head_points(ctx, id, mint, maxt, &mut tmp)?;
        Ok(!tmp.is_empty())
    }

    /// The label set of series `id` (cached: ids are never reused).
    fn labels_of(&self, conn: &Connection, id: i64) -> Result<Labels> {
        if let Some(l) = self.labels_cache.read().get(&id) {
            return Ok(l.clone());
        }
        let mut stmt = conn.prepare_cached("SELECT labels FROM series WHERE id = ?1")?;
        let bytes: Vec<u8> = stmt.query_row([id], |r| r.get(0))?;
        let labels = index::decode_labels(&bytes)?;
        self.labels_cache.write().insert(id, labels.clone());
        Ok(labels)
    }

    /// Series matching `matchers` with their samples in `[mint, maxt]`, sorted by labels.
    pub(crate) fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>> {
        let mut out = Vec::new();
        self.for_each_series(matchers, mint, maxt, &mut |s| {
            out.push(s);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with each series matching `matchers` that has samples in
    /// `[mint, maxt]`, in label order, decoding one series at a time (all from
    /// one snapshot). An error from `f` stops the scan and is returned.
    pub(crate) fn for_each_series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        f: &mut dyn FnMut(Series) -> Result<()>,
    ) -> Result<()> {
        self.read(|s, ctx| {
            let ids = index::resolve(ctx.conn, matchers, &mut |id| s.labels_of(ctx.conn, id))?;
            let mut targets =
                ids.into_iter().map(|id| Ok((s.labels_of(ctx.conn, id)?, id))).collect::<Result<Vec<_>>>()?;
            targets.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut stmt = ctx.conn.prepare_cached(
                "SELECT max_t, data FROM chunks WHERE series_id = ?1 AND max_t >= ?2 AND min_t <= ?3 ORDER BY max_t",
            )?;
            let mut pending = super::chunk_cache::Pending::default();
            // Most files hold no native histograms or no start timestamps: then
            // no series looks for any (a lookup per series costs as much as a small read).
            let any_histograms = has_rows(ctx.conn, "hsamples")?;
            let any_start_timestamps = has_rows(ctx.conn, "stsamples")?;
            for (labels, id) in targets {
                let mut points = Vec::new();
                if s.chunks_may_reach(ctx, id, mint) {
                    let mut rows = stmt.query(params![id, mint, maxt])?;
                    while let Some(row) = rows.next()? {
                        let max_t: i64 = row.get(0)?;
                        let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                        s.chunk_cache.decode_into(id, max_t, data, &mut points, &mut pending)?;
                    }
                    // Keep the series' newest chunk of this read: recent-data queries share it.
                    s.chunk_cache.keep(&mut pending, &points, points.len());
                    trim_to_range(&mut points, mint, maxt);
                }
                s.head_points(ctx, id, mint, maxt, &mut points)?;
                let histograms =
                    if any_histograms { histograms_in_range(ctx.conn, id, mint, maxt)? } else { Vec::new() };
                if points.is_empty() && histograms.is_empty() {
                    continue;
                }
                head::sort_dedup_keep_last(&mut points);
                let start_timestamps = if any_start_timestamps {
                    start_timestamps_in_range(ctx.conn, id, mint, maxt)?
                } else {
                    Vec::new()
                };
                f(Series { labels, points, histograms, start_timestamps })?;
            }
            Ok(())
        })
    }

    /// Ids of series matching `matchers` that have samples in `[mint, maxt]`.
    fn ids_in_range(&self, ctx: &ReadCtx<'_>, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<i64>> {
        let ids = index::resolve(ctx.conn, matchers, &mut |id| self.labels_of(ctx.conn, id))?;
        if mint == i64::MIN && maxt == i64::MAX {
            return Ok(ids);
        }
        let mut stmt = ctx
            .conn
            .prepare_cached("SELECT 1 FROM chunks WHERE series_id = ?1 AND max_t >= ?2 AND min_t <= ?3 LIMIT 1")?;
        let mut hist =
            ctx.conn.prepare_cached("SELECT 1 FROM hsamples WHERE series_id = ?1 AND t >= ?2 AND t <= ?3 LIMIT 1")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if stmt.exists(params![id, mint, maxt])?
                || self.has_head_points(ctx, id, mint, maxt)?
                || hist.exists(params![id, mint, maxt])?
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Label sets of the series matching `matchers` with samples in range, sorted.
    pub(crate) fn series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Labels>> {
        self.read(|s, ctx| {
            let ids = s.ids_in_range(ctx, matchers, mint, maxt)?;
            let mut out = ids.into_iter().map(|id| s.labels_of(ctx.conn, id)).collect::<Result<Vec<_>>>()?;
            out.sort();
            Ok(out)
        })
    }

    /// Sorted label names over matching series.
    pub(crate) fn label_names(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        self.read(|s, ctx| {
            if matchers.is_empty() && mint == i64::MIN && maxt == i64::MAX {
                let mut stmt = ctx.conn.prepare_cached("SELECT DISTINCT name FROM postings ORDER BY name")?;
                let names = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
                return Ok(names);
            }
            let mut names = BTreeSet::new();
            for id in s.ids_in_range(ctx, matchers, mint, maxt)? {
                for l in &s.labels_of(ctx.conn, id)? {
                    if !names.contains(&l.name) {
                        names.insert(l.name.clone());
                    }
                }
            }
            Ok(names.into_iter().collect())
        })
    }

    /// Sorted values of label `name` over matching series.
    pub(crate) fn label_values(&self, name: &str, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>> {
        self.read(|s, ctx| {
            if matchers.is_empty() && mint == i64::MIN && maxt == i64::MAX {
                let mut stmt =
                    ctx.conn.prepare_cached("SELECT DISTINCT value FROM postings WHERE name = ?1 ORDER BY value")?;
                let values = stmt.query_map([name], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
                return Ok(values);
            }
            let mut values = BTreeSet::new();
            for id in s.ids_in_range(ctx, matchers, mint, maxt)? {
                if let Some(v) = s.labels_of(ctx.conn, id)?.get(name) {
                    if !values.contains(v) {
                        values.insert(v.to_string());
                    }
                }
            }
            Ok(values.into_iter().collect())
        })
    }

    /// Stored metadata, for one metric or all, sorted by metric.
    pub(crate) fn metadata(&self, metric: Option<&str>) -> Result<Vec<crate::db::MetricMetadata>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT metric, type, help, unit FROM metadata WHERE ?1 IS NULL OR metric = ?1 ORDER BY metric",
            )?;
            let rows = stmt.query_map([metric], |r| {
                Ok(crate::db::MetricMetadata { metric: r.get(0)?, kind: r.get(1)?, help: r.get(2)?, unit: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The value stored under `key`.
    pub(crate) fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached("SELECT value FROM kv WHERE key = ?1")?;
            Ok(rusqlite::OptionalExtension::optional(stmt.query_row([key], |r| r.get(0)))?)
        })
    }

    /// Entries whose key starts with `prefix`, sorted by key.
    pub(crate) fn kv_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached("SELECT key, value FROM kv WHERE key >= ?1 ORDER BY key")?;
            let mut rows = stmt.query([prefix])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let key: String = row.get(0)?;
                if !key.starts_with(prefix) {
                    break;
                }
                out.push((key, row.get(1)?));
            }
            Ok(out)
        })
    }

    /// Samples committed since change-feed consumer `name`'s cursor: whole
    /// commits, oldest first, as much as `limit` allows, and only commits
    /// before `end_seq` when given. Also returns whether the limit ended the
    /// read (rather than the feed or `end_seq`): then the same cursor and
    /// limit always give the same commits.
    pub(crate) fn outbox_read(
        &self,
        name: &str,
        limit: OutboxLimit,
        end_seq: Option<u64>,
    ) -> Result<(crate::db::OutboxBatch, bool)> {
        self.read(|s, ctx| {
            let mut next_seq = outbox_cursor(ctx.conn, name)?;
            // Series in order of first appearance, with their float and histogram samples.
            let mut order: Vec<i64> = Vec::new();
            let mut by_series: FxHashMap<i64, (Vec<Point>, Vec<HPoint>)> = FxHashMap::default();
            let mut samples = 0;
            let mut limited = false;
            let mut stmt =
                ctx.conn.prepare_cached("SELECT seq, data FROM outbox WHERE seq >= ?1 AND seq < ?2 ORDER BY seq")?;
            let end = end_seq.map_or(i64::MAX, |e| e.min(i64::MAX as u64) as i64);
            let mut rows = stmt.query([next_seq as i64, end])?;
            while let Some(row) = rows.next()? {
                let seq = row.get::<_, i64>(0)? as u64;
                let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                if let OutboxLimit::AtMost(n) = limit {
                    if samples > 0 && samples + log::outbox_count(data)? as usize > n {
                        limited = true;
                        break;
                    }
                }
                let mut histograms = Vec::new();
                log::decode_outbox(
                    data,
                    |e| feed_entry(&mut by_series, &mut order, e.series_id).0.push(Point::new(e.t, e.v)),
                    |id, t, h| histograms.push((id, HPoint::new(t, h))),
                )?;
                for (id, p) in histograms {
                    feed_entry(&mut by_series, &mut order, id).1.push(p);
                }
                samples += log::outbox_count(data)? as usize;
                next_seq = seq + 1;
                let (OutboxLimit::AtLeast(n) | OutboxLimit::AtMost(n)) = limit;
                if samples >= n.max(1) {
                    limited = true;
                    break;
                }
            }
            let (mut series, mut histograms) = (Vec::with_capacity(order.len()), Vec::new());
            for id in order {
                let (points, hpoints) = by_series.remove(&id).expect("collected above");
                let labels = s.labels_of(ctx.conn, id)?;
                if !hpoints.is_empty() {
                    histograms.push((labels.clone(), hpoints));
                }
                if !points.is_empty() {
                    series.push((labels, points));
                }
            }
            Ok((crate::db::OutboxBatch { series, histograms, samples, next_seq }, limited))
        })
    }

    /// Counts what change-feed consumer `name` has not acknowledged, from
    /// commit `from_seq` on (its cursor when `None`), reading only each
    /// commit's sample count: lets a sender report its backlog without
    /// decoding it.
    #[cfg(feature = "remote-write")]
    pub(crate) fn outbox_scan(&self, name: &str, from_seq: Option<u64>) -> Result<OutboxScan> {
        self.with_reader(|conn| {
            let cursor = outbox_cursor(conn, name)?;
            let mut scan = OutboxScan { samples: 0, commits: 0, end_seq: from_seq.unwrap_or(cursor).max(cursor) };
            let mut stmt = conn.prepare_cached("SELECT seq, data FROM outbox WHERE seq >= ?1 ORDER BY seq")?;
            let mut rows = stmt.query([scan.end_seq as i64])?;
            while let Some(row) = rows.next()? {
                let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                scan.samples += log::outbox_count(data)?;
                scan.commits += 1;
                scan.end_seq = row.get::<_, i64>(0)? as u64 + 1;
            }
            Ok(scan)
        })
    }

    /// Decodes every chunk and checks the invariants the engine relies on.
    pub(crate) fn verify(&self) -> Result<crate::db::VerifyStats> {
        self.read(|s, ctx| {
            let mut stats = crate::db::VerifyStats::default();
            let mut stmt =
                ctx.conn.prepare("SELECT series_id, min_t, max_t, data FROM chunks ORDER BY series_id, max_t")?;
            let mut rows = stmt.query([])?;
            let mut points = Vec::with_capacity(1024);
            let (mut last_series, mut last_max) = (i64::MIN, i64::MIN);
            let started = std::time::Instant::now();
            while let Some(row) = rows.next()? {
                let (id, min_t, max_t): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
                let data = row.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?;
                points.clear();
                let decode_start = std::time::Instant::now();
                codec::decode_into(data, &mut points)?;
                stats.decode_time += decode_start.elapsed();
                let bad = |what: &str| Err(Error::Corrupt(format!("series {id}, chunk ending at {max_t}: {what}")));
                if points.first().map(|p| p.t) != Some(min_t) || points.last().map(|p| p.t) != Some(max_t) {
                    return bad("time range does not match its samples");
                }
                if !points.windows(2).all(|w| w[0].t < w[1].t) {
                    return bad("samples out of order");
                }
                if id == last_series && min_t <= last_max {
                    return bad("overlaps the previous chunk");
                }
                if id != last_series {
                    stats.series += 1;
                }
                (last_series, last_max) = (id, max_t);
                stats.chunks += 1;
                stats.samples += points.len() as u64;
            }
            stats.elapsed = started.elapsed();
            let mut stmt = ctx.conn.prepare("SELECT data FROM hsamples")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                super::hcodec::decode(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?)?;
                stats.histogram_samples += 1;
            }
            let ids: Vec<i64> = s.shared.heads.read().keys().collect();
            for id in ids {
                let mut head = Vec::new();
                s.head_points(ctx, id, i64::MIN, i64::MAX, &mut head)?;
                stats.head_samples += head.len() as u64;
            }
            let check: String = ctx.conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
            if check != "ok" {
                return Err(Error::Corrupt(format!("SQLite quick_check: {check}")));
            }
            Ok(stats)
        })
    }

    /// The newest sample timestamp in the database, if any.
    pub(crate) fn newest_timestamp(&self) -> Result<Option<i64>> {
        self.read(|s, ctx| {
            let chunks: Option<i64> = ctx.conn.query_row(
                "SELECT MAX(t) FROM (SELECT MAX(max_t) AS t FROM chunks UNION ALL SELECT MAX(t) FROM hsamples)",
                [],
                |r| r.get(0),
            )?;
            let heads = match ctx.replayed()? {
                Some(map) => map.values().filter_map(|p| p.last().map(|p| p.t)).max(),
                None => {
                    let mut newest = None;
                    let ids: Vec<i64> = s.shared.heads.read().keys().collect();
                    for id in ids {
                        let mut pts = Vec::new();
                        s.head_points(ctx, id, i64::MIN, i64::MAX, &mut pts)?;
                        newest = newest.max(pts.iter().map(|p| p.t).max());
                    }
                    newest
                }
            };
            Ok(chunks.max(heads))
        })
    }
}

/// The samples gathered for series `id` from a change feed, noting the order of first appearance.
fn feed_entry<'m>(
    by_series: &'m mut FxHashMap<i64, (Vec<Point>, Vec<HPoint>)>,
    order: &mut Vec<i64>,
    id: i64,
) -> &'m mut (Vec<Point>, Vec<HPoint>) {
    by_series.entry(id).or_insert_with(|| {
        order.push(id);
        Default::default()
    })
}

/// The first commit change-feed consumer `name` has not acknowledged.
fn outbox_cursor(conn: &Connection, name: &str) -> Result<u64> {
    let key = format!("{}{name}", super::writer::OUTBOX_PREFIX);
    let cursor: Option<Vec<u8>> =
        rusqlite::OptionalExtension::optional(
            conn.query_row("SELECT value FROM kv WHERE key = ?1", [&key], |r| r.get(0)),
        )?;
    match cursor {
        Some(c) => super::writer::decode_cursor(&c),
        None => Err(Error::invalid(format!("no change-feed consumer named {name:?}"))),
    }
}

/// The native-histogram samples of series `id` in `[mint, maxt]`, in time order.
/// Whether `table` holds any row (in this read's snapshot).
pub(crate) fn has_rows(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn.prepare_cached(&format!("SELECT 1 FROM {table} LIMIT 1"))?.exists([])?)
}

fn histograms_in_range(conn: &Connection, id: i64, mint: i64, maxt: i64) -> Result<Vec<crate::model::HPoint>> {
    let mut stmt =
        conn.prepare_cached("SELECT t, data FROM hsamples WHERE series_id = ?1 AND t >= ?2 AND t <= ?3 ORDER BY t")?;
    let mut rows = stmt.query(params![id, mint, maxt])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let h = super::hcodec::decode(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?)?;
        out.push(crate::model::HPoint { t: row.get(0)?, h: std::sync::Arc::new(h) });
    }
    Ok(out)
}

/// `(t, start timestamp)` of the samples of series `id` in `[mint, maxt]` that have one, in time order.
fn start_timestamps_in_range(conn: &Connection, id: i64, mint: i64, maxt: i64) -> Result<Vec<(i64, i64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT t, st FROM stsamples WHERE series_id = ?1 AND t >= ?2 AND t <= ?3 ORDER BY t")?;
    let rows = stmt.query_map(params![id, mint, maxt], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<(i64, i64)>>>()?)
}

/// Keeps the points within `[mint, maxt]` of sorted `points`.
fn trim_to_range(points: &mut Vec<Point>, mint: i64, maxt: i64) {
    let end = points.partition_point(|p| p.t <= maxt);
    points.truncate(end);
    let start = points.partition_point(|p| p.t < mint);
    if start > 0 {
        points.drain(..start);
    }
}

/// Rebuilds every series' head from `head_log` as of `conn`'s snapshot.
fn replay_log(conn: &Connection) -> Result<FxHashMap<i64, Vec<Point>>> {
    let mut heads: FxHashMap<i64, Vec<Point>> = FxHashMap::default();
    let mut stmt = conn.prepare_cached("SELECT seq, data FROM head_log ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    // Per series: (log_from_seq, newest chunk timestamp), looked up once.
    let mut bounds: FxHashMap<i64, Option<(u64, i64)>> = FxHashMap::default();
    let mut lookup = conn.prepare_cached(
        "SELECT log_from_seq, (SELECT MAX(max_t) FROM chunks WHERE series_id = ?1) FROM series WHERE id = ?1",
    )?;
    while let Some(row) = rows.next()? {
        let seq = row.get::<_, i64>(0)? as u64;
        let data = row.get_ref(1)?.as_blob().map_err(|e| Error::Corrupt(e.to_string()))?;
        let mut failure = None;
        log::decode(data, |e| {
            let bound = bounds.entry(e.series_id).or_insert_with(|| {
                match rusqlite::OptionalExtension::optional(lookup.query_row([e.series_id], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<i64>>(1)?.unwrap_or(i64::MIN)))
                })) {
                    Ok(b) => b,
                    Err(err) => {
                        failure = Some(err);
                        None
                    }
                }
            });
            // Same rule as the writer's replay (see writer::Writer::reload).
            if let Some((log_from, chunks_max_t)) = *bound {
                if seq >= log_from && e.t > chunks_max_t {
                    head::upsert(heads.entry(e.series_id).or_default(), Point::new(e.t, e.v));
                }
            }
        })?;
        if let Some(err) = failure {
            return Err(err.into());
        }
    }
    Ok(heads)
}
