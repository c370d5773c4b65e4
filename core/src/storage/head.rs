//! In-memory heads: the newest samples of each series, not yet cut into
//! chunks (they are durable in `head_log`), tagged with the commit that wrote
//! them so that every reader sees exactly its SQLite snapshot.
//!
//! A reader whose snapshot is at commit `S` takes the head samples written at
//! or before `S`, plus samples that a later commit replaced or moved into
//! chunks (kept as *shadowed* samples). Shadowed samples are dropped once no
//! registered reader's snapshot predates their removal.

use std::collections::BTreeMap;

use parking_lot::Mutex;

use crate::model::Point;

/// Samples of one series that are newer than its chunks.
#[derive(Debug, Default)]
pub(crate) struct Head {
    /// Sorted by timestamp, unique timestamps.
    pub points: Vec<Point>,
    /// The commit that wrote each of `points`.
    seqs: Vec<u64>,
    /// `(removed at, written at, sample)`: samples replaced or moved to chunks.
    shadowed: Vec<(u64, u64, Point)>,
    /// `(since commit, t)`: from that commit on, no chunk of the series holds
    /// a sample newer than `t`. Lets readers of recent data skip the chunk
    /// lookup. `None`: unknown, look.
    pub chunk_bound: Option<(u64, i64)>,
}

impl Head {
    /// Appends samples written by commit `seq` (all newer than the head).
    pub(crate) fn append(&mut self, seq: u64, points: &[Point]) {
        self.points.extend_from_slice(points);
        self.seqs.resize(self.points.len(), seq);
    }

    /// Replaces the content by `points` at commit `seq`: samples kept
    /// unchanged keep their commit, the others are shadowed.
    pub(crate) fn replace(&mut self, seq: u64, points: Vec<Point>) {
        let mut seqs = Vec::with_capacity(points.len());
        let (mut i, old) = (0, &self.points);
        for p in &points {
            while i < old.len() && old[i].t < p.t {
                self.shadowed.push((seq, self.seqs[i], old[i]));
                i += 1;
            }
            if i < old.len() && old[i].t == p.t {
                if old[i].v.to_bits() == p.v.to_bits() {
                    seqs.push(self.seqs[i]);
                } else {
                    self.shadowed.push((seq, self.seqs[i], old[i]));
                    seqs.push(seq);
                }
                i += 1;
            } else {
                seqs.push(seq);
            }
        }
        for (written, p) in self.seqs[i..].iter().zip(&old[i..]) {
            self.shadowed.push((seq, *written, *p));
        }
        self.points = points;
        self.seqs = seqs;
    }

    /// Drops shadowed samples removed at or before `bound`.
    pub(crate) fn prune(&mut self, bound: u64) {
        self.shadowed.retain(|(removed, _, _)| *removed > bound);
        // Heads outlive their samples (they keep `chunk_bound`): give back the
        // room a chunk's worth of shadowed samples took, or every series would
        // hold it for good.
        if self.shadowed.is_empty() {
            self.shadowed = Vec::new();
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty() && self.shadowed.is_empty() && self.chunk_bound.is_none()
    }

    /// Whether chunks (as of commit `snapshot_seq`) may hold samples at or after `mint`.
    pub(crate) fn chunks_may_reach(&self, snapshot_seq: u64, mint: i64) -> bool {
        match self.chunk_bound {
            Some((since, newest)) if since <= snapshot_seq => newest >= mint,
            _ => true,
        }
    }

    /// Appends to `out` the samples in `[mint, maxt]` that the head held as
    /// of commit `snapshot_seq` (unsorted when shadowed samples are involved).
    pub(crate) fn copy_range(&self, snapshot_seq: u64, mint: i64, maxt: i64, out: &mut Vec<Point>) {
        for (removed, written, p) in &self.shadowed {
            if *written <= snapshot_seq && *removed > snapshot_seq && p.t >= mint && p.t <= maxt {
                out.push(*p);
            }
        }
        let start = self.points.partition_point(|p| p.t < mint);
        let end = self.points.partition_point(|p| p.t <= maxt);
        for i in start..end.max(start) {
            if self.seqs[i] <= snapshot_seq {
                out.push(self.points[i]);
            }
        }
    }
}

/// The part of sorted `points` within `[mint, maxt]`.
pub(crate) fn in_range(points: &[Point], mint: i64, maxt: i64) -> &[Point] {
    let start = points.partition_point(|p| p.t < mint);
    let end = points.partition_point(|p| p.t <= maxt);
    if start >= end {
        &[]
    } else {
        &points[start..end]
    }
}

/// Inserts `p` into sorted `points`, replacing a sample at the same timestamp.
/// Returns false when an identical sample (same bits) was already there.
pub(crate) fn upsert(points: &mut Vec<Point>, p: Point) -> bool {
    match points.last() {
        None => {
            points.push(p);
            return true;
        }
        Some(last) if last.t < p.t => {
            points.push(p);
            return true;
        }
        _ => {}
    }
    match points.binary_search_by_key(&p.t, |q| q.t) {
        Ok(i) if points[i].v.to_bits() == p.v.to_bits() => false,
        Ok(i) => {
            points[i] = p;
            true
        }
        Err(i) => {
            points.insert(i, p);
            true
        }
    }
}

/// Merges sorted `newer` into sorted `older`; on equal timestamps the newer
/// sample wins. Returns the merged points and whether anything changed.
pub(crate) fn merge(older: &[Point], newer: &[Point]) -> (Vec<Point>, bool) {
    let mut out = Vec::with_capacity(older.len() + newer.len());
    let (mut i, mut j) = (0, 0);
    let mut changed = false;
    while i < older.len() && j < newer.len() {
        let (a, b) = (older[i], newer[j]);
        if a.t < b.t {
            out.push(a);
            i += 1;
        } else if b.t < a.t {
            out.push(b);
            j += 1;
            changed = true;
        } else {
            changed |= a.v.to_bits() != b.v.to_bits();
            out.push(b);
            i += 1;
            j += 1;
        }
    }
    out.extend_from_slice(&older[i..]);
    changed |= j < newer.len();
    out.extend_from_slice(&newer[j..]);
    (out, changed)
}

/// Sorts points by time and keeps the last of equal timestamps (callers pass
/// points in the order they were written, so "last" is "newest write").
pub(crate) fn sort_dedup_keep_last(points: &mut Vec<Point>) {
    if points.windows(2).all(|w| w[0].t < w[1].t) {
        return;
    }
    points.sort_by_key(|p| p.t);
    let mut out: Vec<Point> = Vec::with_capacity(points.len());
    for p in points.drain(..) {
        match out.last_mut() {
            Some(last) if last.t == p.t => *last = p,
            _ => out.push(p),
        }
    }
    *points = out;
}

/// Heads of all series with samples newer than their chunks, by series id.
pub(crate) type Heads = super::idmap::IdMap<Head>;

/// Snapshots of active readers: lower bounds of their snapshot sequence numbers.
#[derive(Default)]
pub(crate) struct ReaderRegistry {
    active: Mutex<BTreeMap<u64, usize>>,
}

impl ReaderRegistry {
    /// Registers a reader whose snapshot will be at or after `seq`.
    pub(crate) fn register(&self, seq_source: impl FnOnce() -> u64) -> ReaderGuard<'_> {
        let mut active = self.active.lock();
        // Read the committed seq under the lock so the writer cannot prune
        // between the read and the registration.
        let seq = seq_source();
        *active.entry(seq).or_insert(0) += 1;
        ReaderGuard { registry: self, seq }
    }

    /// The oldest snapshot any active reader may hold, if any reader is active.
    pub(crate) fn oldest(&self) -> Option<u64> {
        self.active.lock().keys().next().copied()
    }
}

/// Unregisters a reader when dropped.
pub(crate) struct ReaderGuard<'a> {
    registry: &'a ReaderRegistry,
    seq: u64,
}

impl Drop for ReaderGuard<'_> {
    fn drop(&mut self) {
        let mut active = self.registry.active.lock();
        if let Some(n) = active.get_mut(&self.seq) {
            *n -= 1;
            if *n == 0 {
                active.remove(&self.seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<Point> {
        v.iter().map(|&(t, v)| Point::new(t, v)).collect()
    }

    #[test]
    fn merge_prefers_newer_and_reports_changes() {
        let older = pts(&[(1, 1.0), (3, 3.0), (5, 5.0)]);
        let (m, changed) = merge(&older, &pts(&[(3, 3.0)]));
        assert_eq!((m, changed), (older.clone(), false));
        let (m, changed) = merge(&older, &pts(&[(0, 0.0), (3, 9.0), (6, 6.0)]));
        assert!(changed);
        assert_eq!(m, pts(&[(0, 0.0), (1, 1.0), (3, 9.0), (5, 5.0), (6, 6.0)]));
    }

    #[test]
    fn upsert_and_dedup() {
        let mut p = pts(&[(1, 1.0), (5, 5.0)]);
        assert!(upsert(&mut p, Point::new(3, 3.0)));
        assert!(!upsert(&mut p, Point::new(3, 3.0)));
        assert!(upsert(&mut p, Point::new(3, 4.0)));
        assert!(upsert(&mut p, Point::new(9, 9.0)));
        assert_eq!(p, pts(&[(1, 1.0), (3, 4.0), (5, 5.0), (9, 9.0)]));
        let mut q = pts(&[(5, 1.0), (1, 2.0), (5, 3.0)]);
        sort_dedup_keep_last(&mut q);
        assert_eq!(q, pts(&[(1, 2.0), (5, 3.0)]));
        assert_eq!(in_range(&p, 2, 5), &pts(&[(3, 4.0), (5, 5.0)])[..]);
        assert!(in_range(&p, 6, 8).is_empty());
    }

    #[test]
    fn readers_see_the_head_as_of_their_snapshot() {
        let mut h = Head::default();
        h.append(1, &pts(&[(1, 1.0), (2, 2.0)]));
        h.append(2, &pts(&[(3, 3.0)]));
        // Commit 3 replaces t=2 and cuts t=1 out of the head (into a chunk).
        h.replace(3, pts(&[(2, 20.0), (3, 3.0), (4, 4.0)]));
        fn at(h: &Head, seq: u64) -> Vec<Point> {
            let mut out = Vec::new();
            h.copy_range(seq, i64::MIN, i64::MAX, &mut out);
            sort_dedup_keep_last(&mut out);
            out
        }
        assert_eq!(at(&h, 0), vec![]);
        assert_eq!(at(&h, 1), pts(&[(1, 1.0), (2, 2.0)]));
        assert_eq!(at(&h, 2), pts(&[(1, 1.0), (2, 2.0), (3, 3.0)]));
        assert_eq!(at(&h, 3), pts(&[(2, 20.0), (3, 3.0), (4, 4.0)]));
        h.prune(3);
        assert_eq!(at(&h, 3), pts(&[(2, 20.0), (3, 3.0), (4, 4.0)]));
        assert_eq!(at(&h, 2), pts(&[(3, 3.0)]), "history before the prune bound is gone");
        h.replace(4, Vec::new());
        assert!(!h.is_empty());
        h.prune(4);
        assert!(h.is_empty());
    }

    #[test]
    fn chunk_bound_only_answers_for_snapshots_it_covers() {
        let mut h = Head::default();
        assert!(h.chunks_may_reach(10, 1_000), "unknown bound: must look");
        h.chunk_bound = Some((5, 900));
        assert!(!h.chunks_may_reach(5, 1_000));
        assert!(!h.chunks_may_reach(9, 901));
        assert!(h.chunks_may_reach(9, 900), "a chunk may end exactly at mint");
        assert!(h.chunks_may_reach(4, 1_000), "older snapshots predate the bound");
        assert!(!h.is_empty(), "a head that only knows its bound is kept");
    }

    #[test]
    fn heads_cut_into_chunks_give_their_memory_back() {
        let mut h = Head::default();
        let samples: Vec<(i64, f64)> = (0..240).map(|t| (t, t as f64)).collect();
        h.append(1, &pts(&samples));
        h.replace(2, Vec::new()); // every sample moved to a chunk at commit 2
        h.chunk_bound = Some((2, 239));
        h.prune(2);
        assert!(!h.is_empty(), "kept for its chunk bound");
        assert_eq!((h.points.capacity(), h.seqs.capacity(), h.shadowed.capacity()), (0, 0, 0));
    }

    #[test]
    fn registry_tracks_oldest_reader() {
        let r = ReaderRegistry::default();
        assert_eq!(r.oldest(), None);
        let a = r.register(|| 5);
        let b = r.register(|| 9);
        assert_eq!(r.oldest(), Some(5));
        drop(a);
        assert_eq!(r.oldest(), Some(9));
        drop(b);
        assert_eq!(r.oldest(), None);
    }
}
