//! Counters a sender (or a backfill) updates as it works, and the snapshot
//! of them the API hands out.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;

/// Progress and trouble of one remote-write sender, from
/// [`crate::Db::remote_write_stats`]. Counters start at zero when the
/// sender starts in this process.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct RemoteWriteStats {
    /// The sender's name.
    pub name: String,
    /// Where it sends.
    pub url: String,
    /// Whether its thread runs in this process (a sender registered in the
    /// file but not added since opening it keeps its backlog but sends nothing).
    pub running: bool,
    /// Samples the receiver accepted.
    pub samples_sent: u64,
    /// Requests the receiver accepted.
    pub requests_sent: u64,
    /// Compressed bytes of the accepted requests.
    pub bytes_sent: u64,
    /// Samples given up because the receiver refused their request with a
    /// 4xx other than 429 (logged as an error).
    pub samples_dropped: u64,
    /// Requests given up that way.
    pub requests_dropped: u64,
    /// Attempts that did not deliver: network errors and any non-2xx answer.
    pub requests_failed: u64,
    /// Attempts repeated after a 5xx, 429 or network error.
    pub retries: u64,
    /// Samples not sent by design: left out by the keep/drop selectors, or
    /// overwritten by a later write of the same series and timestamp.
    pub samples_skipped: u64,
    /// Samples committed but not yet acknowledged (sent, dropped or skipped).
    pub pending_samples: u64,
    /// How long the oldest pending sample has been waiting, in seconds (0 when none is).
    pub lag_seconds: f64,
    /// The newest sample timestamp (ms) the receiver has accepted.
    pub newest_sent_timestamp_ms: Option<i64>,
    /// The last failure, if any: network error or the receiver's answer.
    pub last_error: Option<String>,
}

/// The live counters behind [`RemoteWriteStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub samples_sent: AtomicU64,
    pub requests_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub samples_dropped: AtomicU64,
    pub requests_dropped: AtomicU64,
    pub requests_failed: AtomicU64,
    pub retries: AtomicU64,
    pub samples_skipped: AtomicU64,
    pub pending_samples: AtomicU64,
    /// Wall-clock ms when the oldest pending commit was first seen; `i64::MIN` if none.
    pub oldest_pending_seen_ms: AtomicI64,
    /// `i64::MIN` until something is sent.
    pub newest_sent_ms: AtomicI64,
    pub last_error: Mutex<Option<String>>,
}

impl Counters {
    pub fn new() -> Counters {
        Counters {
            oldest_pending_seen_ms: AtomicI64::new(i64::MIN),
            newest_sent_ms: AtomicI64::new(i64::MIN),
            ..Counters::default()
        }
    }

    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn set_error(&self, message: String) {
        *self.last_error.lock() = Some(message);
    }

    /// A snapshot; `now_ms` is the wall clock for the lag.
    pub fn snapshot(&self, name: &str, url: &str, running: bool, now_ms: i64) -> RemoteWriteStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let pending = get(&self.pending_samples);
        let oldest = self.oldest_pending_seen_ms.load(Ordering::Relaxed);
        let lag_seconds =
            if pending > 0 && oldest != i64::MIN { (now_ms - oldest).max(0) as f64 / 1000.0 } else { 0.0 };
        let newest_sent = self.newest_sent_ms.load(Ordering::Relaxed);
        RemoteWriteStats {
            name: name.to_string(),
            url: url.to_string(),
            running,
            samples_sent: get(&self.samples_sent),
            requests_sent: get(&self.requests_sent),
            bytes_sent: get(&self.bytes_sent),
            samples_dropped: get(&self.samples_dropped),
            requests_dropped: get(&self.requests_dropped),
            requests_failed: get(&self.requests_failed),
            retries: get(&self.retries),
            samples_skipped: get(&self.samples_skipped),
            pending_samples: pending,
            lag_seconds,
            newest_sent_timestamp_ms: (newest_sent != i64::MIN).then_some(newest_sent),
            last_error: self.last_error.lock().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_only_while_samples_wait() {
        let c = Counters::new();
        c.oldest_pending_seen_ms.store(10_000, Ordering::Relaxed);
        assert_eq!(c.snapshot("a", "u", true, 12_500).lag_seconds, 0.0, "nothing pending");
        c.pending_samples.store(3, Ordering::Relaxed);
        let s = c.snapshot("a", "u", true, 12_500);
        assert_eq!((s.lag_seconds, s.pending_samples, s.newest_sent_timestamp_ms), (2.5, 3, None));
    }
}
