//! Decoded chunks recently read, so that queries repeated over the same data
//! (a dashboard refreshing) skip decoding, which is most of the cost of a
//! small query. Like SQLite's page cache it is a bounded amount of memory per
//! database handle and changes no result.
//!
//! An entry is found by (series id, chunk `max_t`) and used only if the
//! chunk's bytes equal the cached copy's, so a chunk rewritten by compaction
//! or an out-of-order merge is never served stale, whatever snapshot reads it.
//! Each read keeps at most the newest chunk it read of each series: the one
//! that recent-data queries share, while a scan over history cannot flush
//! everything else out.

use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;

use super::codec;
use crate::error::Result;
use crate::model::Point;

/// Shards, so concurrent readers rarely wait for one another.
const SHARDS: usize = 16;

/// Bookkeeping bytes counted per entry besides its data and samples.
const ENTRY_OVERHEAD: usize = 64;

/// Default budget ([`crate::Options::chunk_cache_bytes`]).
pub(crate) const DEFAULT_BYTES: usize = 32 << 20;

struct Entry {
    /// The encoded chunk, to check a hit against the row read.
    data: Box<[u8]>,
    points: Arc<[Point]>,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.data.len() + self.points.len() * std::mem::size_of::<Point>() + ENTRY_OVERHEAD
    }
}

struct Shard {
    entries: LruCache<(i64, i64), Entry>,
    bytes: usize,
}

pub(crate) struct ChunkCache {
    shards: Vec<Mutex<Shard>>,
    shard_budget: usize,
}

/// What a read remembers of the last chunk it decoded without the cache, so
/// that it can keep it once it knows that chunk was the series' newest.
#[derive(Default)]
pub(crate) struct Pending {
    key: Option<(i64, i64)>,
    data: Vec<u8>,
    /// Where the chunk's samples start in the read's output.
    start: usize,
}

impl ChunkCache {
    /// A cache holding at most about `budget` bytes; 0 turns it off.
    pub(crate) fn new(budget: usize) -> ChunkCache {
        let shards = if budget == 0 { 0 } else { SHARDS };
        ChunkCache {
            shards: (0..shards).map(|_| Mutex::new(Shard { entries: LruCache::unbounded(), bytes: 0 })).collect(),
            shard_budget: budget / SHARDS,
        }
    }

    fn shard(&self, id: i64) -> &Mutex<Shard> {
        &self.shards[(id as u64 % SHARDS as u64) as usize]
    }

    /// Appends the samples of chunk `data` (series `id`, ending at `max_t`) to
    /// `out`: from the cache when it holds exactly these bytes, else decoded,
    /// remembered in `pending` for [`ChunkCache::keep`].
    pub(crate) fn decode_into(
        &self,
        id: i64,
        max_t: i64,
        data: &[u8],
        out: &mut Vec<Point>,
        pending: &mut Pending,
    ) -> Result<()> {
        pending.key = None;
        if self.shards.is_empty() {
            return codec::decode_into(data, out);
        }
        if let Some(entry) = self.shard(id).lock().entries.get(&(id, max_t)) {
            if *entry.data == *data {
                out.extend_from_slice(&entry.points);
                return Ok(());
            }
        }
        let start = out.len();
        codec::decode_into(data, out)?;
        pending.key = Some((id, max_t));
        pending.data.clear();
        pending.data.extend_from_slice(data);
        pending.start = start;
        Ok(())
    }

    /// Keeps the chunk `pending` remembers (the last one read of a series),
    /// whose samples are `out[pending.start..end]`.
    pub(crate) fn keep(&self, pending: &mut Pending, out: &[Point], end: usize) {
        let Some(key) = pending.key.take() else { return };
        let entry = Entry { data: pending.data.as_slice().into(), points: out[pending.start..end].into() };
        let size = entry.bytes();
        if size > self.shard_budget {
            return;
        }
        let mut shard = self.shard(key.0).lock();
        if let Some(old) = shard.entries.put(key, entry) {
            shard.bytes -= old.bytes();
        }
        shard.bytes += size;
        while shard.bytes > self.shard_budget {
            match shard.entries.pop_lru() {
                Some((_, old)) => shard.bytes -= old.bytes(),
                None => break,
            }
        }
    }

    /// Bytes held, for tests.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.shards.iter().map(|s| s.lock().bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(points: &[(i64, f64)]) -> Vec<u8> {
        let pts: Vec<Point> = points.iter().map(|&(t, v)| Point::new(t, v)).collect();
        codec::encode(&pts)
    }

    fn read(cache: &ChunkCache, id: i64, max_t: i64, data: &[u8]) -> Vec<Point> {
        let (mut out, mut pending) = (Vec::new(), Pending::default());
        cache.decode_into(id, max_t, data, &mut out, &mut pending).unwrap();
        let end = out.len();
        cache.keep(&mut pending, &out, end);
        out
    }

    #[test]
    fn a_hit_needs_the_same_bytes() {
        let cache = ChunkCache::new(1 << 20);
        let a = chunk(&[(1, 1.0), (2, 2.0)]);
        let b = chunk(&[(1, 1.0), (2, 5.0)]); // same series and max_t, rewritten
        assert_eq!(read(&cache, 7, 2, &a), read(&ChunkCache::new(0), 7, 2, &a));
        assert_eq!(read(&cache, 7, 2, &a)[1].v, 2.0, "cached");
        assert_eq!(read(&cache, 7, 2, &b)[1].v, 5.0, "a rewritten chunk is decoded, not served from the cache");
        assert_eq!(read(&cache, 7, 2, &a)[1].v, 2.0);
        assert_eq!(read(&cache, 8, 2, &b)[1].v, 5.0, "other series");
    }

    #[test]
    fn stays_within_its_budget() {
        let cache = ChunkCache::new(SHARDS * 2_000);
        for id in 0..200 {
            let data = chunk(&(0..40).map(|i| (i * 1000, (id * i) as f64)).collect::<Vec<_>>());
            let out = read(&cache, id, 39_000, &data);
            assert_eq!(out.len(), 40);
            assert!(cache.bytes() <= SHARDS * 2_000, "{} bytes", cache.bytes());
        }
        assert!(cache.bytes() > 0);
    }

    #[test]
    fn only_kept_chunks_are_cached_and_a_zero_budget_caches_nothing() {
        let cache = ChunkCache::new(1 << 20);
        let data = chunk(&[(1, 1.0)]);
        let (mut out, mut pending) = (Vec::new(), Pending::default());
        cache.decode_into(1, 1, &data, &mut out, &mut pending).unwrap();
        assert_eq!(cache.bytes(), 0, "decoding alone keeps nothing");
        let off = ChunkCache::new(0);
        assert_eq!(read(&off, 1, 1, &data).len(), 1);
        assert_eq!(off.bytes(), 0);
    }
}
