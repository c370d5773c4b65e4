//! Maintenance: deleting samples (by matchers and time, or by age) and
//! compacting small chunks. Each runs as ordinary write commits, so readers
//! keep their snapshots throughout.

use super::writer::{Writer, CHUNK_POINTS};
use super::{codec, index, Storage};
use crate::error::Result;
use crate::model::Matcher;

/// Counts reported by [`Storage::compact`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CompactCounts {
    pub series_rewritten: u64,
    pub chunks_before: u64,
    pub chunks_after: u64,
}

/// Series compacted per commit, so writers are not held off for long.
const COMPACT_SERIES_PER_COMMIT: usize = 500;

impl Storage {
    /// Deletes the samples of matching series in `[mint, maxt]`; series left
    /// empty are removed. Returns the number of series that lost samples.
    pub(crate) fn delete_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<u64> {
        let mut w = self.writer()?;
        let heads = &self.shared.heads;
        w.maintenance(&self.shared, |w, flush| {
            let ids = index::resolve(&w.conn, matchers, &mut |id| Ok(w.series[&id].labels.clone()))?;
            let mut touched = 0;
            for id in ids {
                let head_hits =
                    heads.read().get(&id).is_some_and(|h| h.points.iter().any(|p| p.t >= mint && p.t <= maxt));
                if head_hits {
                    // Deleting from the head is done in chunks, where it is durable.
                    flush(w, id)?;
                }
                let histograms = w
                    .conn
                    .prepare_cached("DELETE FROM hsamples WHERE series_id = ?1 AND t >= ?2 AND t <= ?3")?
                    .execute(rusqlite::params![id, mint, maxt])?;
                w.conn
                    .prepare_cached("DELETE FROM stsamples WHERE series_id = ?1 AND t >= ?2 AND t <= ?3")?
                    .execute(rusqlite::params![id, mint, maxt])?;
                if delete_range(w, id, mint, maxt)? || histograms > 0 {
                    touched += 1;
                }
                if w.series.contains_key(&id) && w.series_is_empty(id)? {
                    w.remove_series(id)?;
                }
            }
            Ok(touched)
        })
    }

    /// Deletes every sample older than `min_t`. Returns the number of chunks
    /// removed or trimmed plus histogram samples removed.
    pub(crate) fn delete_before(&self, min_t: i64) -> Result<u64> {
        let mut w = self.writer()?;
        let heads = &self.shared.heads;
        w.maintenance(&self.shared, |w, flush| {
            let old_heads: Vec<i64> = heads
                .read()
                .iter()
                .filter(|(_, h)| h.points.first().is_some_and(|p| p.t < min_t))
                .map(|(id, _)| id)
                .collect();
            for id in old_heads {
                flush(w, id)?;
            }
            let affected: Vec<i64> = {
                let mut stmt = w.conn.prepare("SELECT DISTINCT series_id FROM chunks WHERE min_t < ?1")?;
                let ids = stmt.query_map([min_t], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
                ids
            };
            let mut removed = 0;
            for id in affected {
                removed += delete_range_counting(w, id, i64::MIN, min_t - 1)?;
            }
            let old_histograms: Vec<i64> = {
                let mut stmt = w.conn.prepare("SELECT DISTINCT series_id FROM hsamples WHERE t < ?1")?;
                let ids = stmt.query_map([min_t], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
                ids
            };
            removed += w.conn.prepare("DELETE FROM hsamples WHERE t < ?1")?.execute([min_t])? as u64;
            w.conn.prepare("DELETE FROM stsamples WHERE t < ?1")?.execute([min_t])?;
            for id in old_histograms {
                if w.series.contains_key(&id) && w.series_is_empty(id)? {
                    w.remove_series(id)?;
                }
            }
            Ok(removed)
        })
    }

    /// Merges runs of partial chunks into full ones.
    pub(crate) fn compact(&self) -> Result<CompactCounts> {
        let ids: Vec<i64> = {
            let w = self.writer()?;
            let mut stmt = w
                .conn
                .prepare("SELECT series_id FROM chunks GROUP BY series_id HAVING COUNT(*) > 1 ORDER BY series_id")?;
            let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        };
        let mut counts = CompactCounts::default();
        for group in ids.chunks(COMPACT_SERIES_PER_COMMIT) {
            let mut w = self.writer()?;
            let part = w.maintenance(&self.shared, |w, _| {
                let mut c = CompactCounts::default();
                for &id in group {
                    compact_series(w, id, &mut c)?;
                }
                Ok(c)
            })?;
            counts.series_rewritten += part.series_rewritten;
            counts.chunks_before += part.chunks_before;
            counts.chunks_after += part.chunks_after;
        }
        Ok(counts)
    }
}

/// Deletes samples of `id` in `[mint, maxt]` from its chunks; removes the series
/// if nothing is left. Returns whether any sample was deleted.
fn delete_range(w: &mut Writer, id: i64, mint: i64, maxt: i64) -> Result<bool> {
    Ok(delete_range_counting(w, id, mint, maxt)? > 0)
}

/// As [`delete_range`], returning the number of chunks removed or rewritten.
fn delete_range_counting(w: &mut Writer, id: i64, mint: i64, maxt: i64) -> Result<u64> {
    let (chunk_ids, points) = w.chunks_overlapping(id, mint, maxt)?;
    if chunk_ids.is_empty() {
        return Ok(0);
    }
    let kept: Vec<_> = points.iter().copied().filter(|p| p.t < mint || p.t > maxt).collect();
    if kept.len() == points.len() {
        return Ok(0);
    }
    w.replace_chunks(id, &chunk_ids, &kept)?;
    if w.series_is_empty(id)? {
        w.remove_series(id)?;
    }
    Ok(chunk_ids.len() as u64)
}

/// Rewrites runs of adjacent partial chunks of `id` into as few chunks as possible.
fn compact_series(w: &mut Writer, id: i64, counts: &mut CompactCounts) -> Result<()> {
    let chunks: Vec<(i64, i64, i64, usize)> = {
        let mut stmt =
            w.conn.prepare_cached("SELECT id, min_t, max_t, data FROM chunks WHERE series_id = ?1 ORDER BY max_t")?;
        let rows = stmt.query_map([id], |r| {
            let data: Vec<u8> = r.get(3)?;
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, data))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (cid, lo, hi, data) = row?;
            out.push((cid, lo, hi, codec::header(&data)?.0));
        }
        out
    };
    let mut i = 0;
    let mut rewritten = false;
    while i < chunks.len() {
        // A run: consecutive chunks where at least two are partial.
        let mut j = i;
        let mut total = 0;
        while j < chunks.len() && (j == i || chunks[j].3 < CHUNK_POINTS || chunks[j - 1].3 < CHUNK_POINTS) {
            total += chunks[j].3;
            j += 1;
        }
        let run = &chunks[i..j];
        let needed = total.div_ceil(CHUNK_POINTS);
        if run.len() > needed {
            let (lo, hi) = (run[0].1, run[run.len() - 1].2);
            let (ids, points) = w.chunks_overlapping(id, lo, hi)?;
            counts.chunks_before += ids.len() as u64;
            w.replace_chunks(id, &ids, &points)?;
            counts.chunks_after += points.len().div_ceil(CHUNK_POINTS) as u64;
            rewritten = true;
        }
        i = j;
    }
    if rewritten {
        counts.series_rewritten += 1;
    }
    Ok(())
}
