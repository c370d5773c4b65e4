//! The sender threads: one per configured receiver. Each reads its durable
//! change feed (`Db::outbox_*`) in commit order, posts what it read, and
//! acknowledges it only after the receiver answered, so a crash or restart
//! resumes exactly after the last acknowledged batch.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};

use crate::db::{Batch, OutboxBatch};
use crate::error::{Error, Result};
use crate::remote::client::{Attempt, Backoff, Client};
use crate::remote::config::{Prepared, RemoteWriteConfig};
use crate::remote::request::{Request, RequestBuilder};
use crate::remote::stats::{Counters, RemoteWriteStats};
use crate::storage::{OutboxLimit, OutboxScan, Storage};

/// Key prefix of the stored sender descriptions (`remote_write/config/<name>`).
const CONFIG_PREFIX: &str = "remote_write/config/";
/// Key prefix of the in-flight records (see `InFlight`).
const IN_FLIGHT_PREFIX: &str = "remote_write/in_flight/";

/// How long closing the database waits for requests in flight to be
/// answered (and acknowledged) before leaving them behind.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The change feed of sender `name`.
fn feed_name(name: &str) -> String {
    format!("remote_write/{name}")
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A sender thread's way to the storage. Closing it makes sure the thread
/// never touches the database again, even a thread left behind while its
/// request was still in flight; and it drops the thread's only reference,
/// so the database can close.
struct Gate(RwLock<Option<Arc<Storage>>>);

impl Gate {
    /// Runs `f` on the storage, or returns `None` once closed.
    fn with<T>(&self, f: impl FnOnce(&Storage) -> Result<T>) -> Option<Result<T>> {
        self.0.read().as_deref().map(f)
    }

    fn close(&self) {
        *self.0.write() = None;
    }
}

/// Wakes sender threads when a commit lands or they are told to stop.
#[derive(Default)]
pub(crate) struct Wake {
    generation: Mutex<u64>,
    cv: Condvar,
}

impl Wake {
    fn generation(&self) -> u64 {
        *self.generation.lock()
    }

    fn notify(&self) {
        *self.generation.lock() += 1;
        self.cv.notify_all();
    }

    /// Sleeps until a notification after generation `seen`, or `deadline`.
    fn wait(&self, seen: u64, deadline: Instant) {
        let mut generation = self.generation.lock();
        while *generation == seen {
            if self.cv.wait_until(&mut generation, deadline).timed_out() {
                break;
            }
        }
    }
}

/// What one sender thread shares with the handle that controls it.
struct Shared {
    stop: AtomicBool,
    gate: Gate,
    counters: Counters,
    backlog: Mutex<Backlog>,
}

impl Shared {
    /// Adds commits since the last scan of `feed` to the backlog (also while
    /// a request is being retried, so the backlog and lag stay current).
    fn scan(&self, feed: &str) -> Result<(), Halt> {
        let mut backlog = self.backlog.lock();
        let from = backlog.scanned_to;
        let scan = self.gate.with(|s| s.outbox_scan(feed, from)).ok_or(Halt::Stopped)?.map_err(Halt::Storage)?;
        backlog.add(scan);
        backlog.publish(&self.counters);
        Ok(())
    }
}

struct Running {
    url: String,
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

/// The senders of one database handle.
#[derive(Default)]
pub(crate) struct Senders {
    running: Mutex<BTreeMap<String, Running>>,
    wake: Arc<Wake>,
    active: AtomicUsize,
}

impl Senders {
    /// Tells the sender threads that a commit landed (cheap when there are none).
    pub fn notify_commit(&self) {
        if self.active.load(Ordering::Relaxed) > 0 {
            self.wake.notify();
        }
    }

    /// Starts (or restarts with a new configuration) sender `config.name`.
    pub fn add(&self, storage: &Arc<Storage>, config: RemoteWriteConfig) -> Result<()> {
        let prepared = config.prepare()?;
        if storage.is_read_only() {
            return Err(Error::invalid("a read-only database cannot run remote-write senders"));
        }
        let name = config.name.clone();
        let mut running = self.running.lock();
        if let Some(old) = running.remove(&name) {
            self.stop(vec![old]);
        }
        let key = format!("{CONFIG_PREFIX}{name}");
        let earlier: Option<serde_json::Value> = storage.kv_get(&key)?.and_then(|v| serde_json::from_slice(&v).ok());
        let read_limit = earlier.and_then(|e| e["batch_size"].as_u64()).map_or(config.batch_size, |n| n as usize);
        let mut describe = Batch::new();
        let description = serde_json::json!({ "url": config.url, "batch_size": config.batch_size });
        describe.put_kv(key, Some(description.to_string().into_bytes()));
        storage.write(&describe)?;
        storage.outbox_subscribe(&feed_name(&name))?;
        let resume = storage.kv_get(&format!("{IN_FLIGHT_PREFIX}{name}"))?.and_then(|v| InFlight::parse(&v, &config));

        // The backlog left by earlier runs is counted before the thread starts,
        // so stats are right from the first call.
        let mut backlog = Backlog::default();
        backlog.add(storage.outbox_scan(&feed_name(&name), None)?);
        let counters = Counters::new();
        backlog.publish(&counters);
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            gate: Gate(RwLock::new(Some(storage.clone()))),
            counters,
            backlog: Mutex::new(backlog),
        });
        let worker = Worker {
            client: Client::new(&config),
            feed: feed_name(&name),
            prepared,
            shared: shared.clone(),
            wake: self.wake.clone(),
            resume,
            read_limit,
        };
        let thread = std::thread::Builder::new()
            .name(format!("promlite-remote-write-{name}"))
            .spawn(move || worker.run())
            .map_err(Error::Io)?;
        self.active.fetch_add(1, Ordering::Relaxed);
        running.insert(name, Running { url: config.url, shared, thread });
        Ok(())
    }

    /// Stops sender `name` and forgets it and its backlog. Returns whether it existed.
    pub fn remove(&self, storage: &Storage, name: &str) -> Result<bool> {
        let was_running = self.running.lock().remove(name).map(|r| self.stop(vec![r])).is_some();
        let key = format!("{CONFIG_PREFIX}{name}");
        let was_stored = storage.kv_get(&key)?.is_some();
        storage.outbox_unsubscribe(&feed_name(name))?;
        let mut forget = Batch::new();
        forget.put_kv(key, None);
        forget.put_kv(format!("{IN_FLIGHT_PREFIX}{name}"), None);
        storage.write(&forget)?;
        Ok(was_running || was_stored)
    }

    /// Stats of every sender stored in the file or running, by name.
    pub fn stats(&self, storage: &Storage) -> Result<Vec<RemoteWriteStats>> {
        let now = now_ms();
        let mut out: BTreeMap<String, RemoteWriteStats> = BTreeMap::new();
        for (key, value) in storage.kv_scan(CONFIG_PREFIX)? {
            let name = key[CONFIG_PREFIX.len()..].to_string();
            let url = serde_json::from_slice::<serde_json::Value>(&value)
                .ok()
                .and_then(|v| v["url"].as_str().map(str::to_string))
                .unwrap_or_default();
            let mut idle = Counters::new().snapshot(&name, &url, false, now);
            // Not running here: count the backlog straight from the feed.
            idle.pending_samples = storage.outbox_scan(&feed_name(&name), None).map_or(0, |s| s.samples);
            out.insert(name, idle);
        }
        for (name, r) in self.running.lock().iter() {
            out.insert(name.clone(), r.shared.counters.snapshot(name, &r.url, true, now));
        }
        Ok(out.into_values().collect())
    }

    /// Stops every sender (on close): requests in flight get [`SHUTDOWN_GRACE`] to finish.
    pub fn shutdown(&self) {
        let all: Vec<Running> = std::mem::take(&mut *self.running.lock()).into_values().collect();
        self.stop(all);
    }

    fn stop(&self, senders: Vec<Running>) {
        for s in &senders {
            s.shared.stop.store(true, Ordering::SeqCst);
        }
        self.wake.notify();
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while Instant::now() < deadline && senders.iter().any(|s| !s.thread.is_finished()) {
            std::thread::sleep(Duration::from_millis(5));
        }
        for s in senders {
            s.shared.gate.close();
            self.active.fetch_sub(1, Ordering::Relaxed);
            if s.thread.is_finished() {
                let _ = s.thread.join();
            } else {
                log::warn!("remote write: a request was still in flight at shutdown; it will be sent again");
            }
        }
    }
}

impl Drop for Senders {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Delivered,
    /// Refused for good (4xx other than 429): counted and logged.
    Dropped,
    /// `pause` gave up before it was delivered.
    GaveUp,
}

/// Posts `request` until it is delivered or refused for good, retrying
/// after `pause(delay)`, which returns `false` to give up (stop requested,
/// attempts exhausted). Updates `counters` as it goes.
pub(crate) fn deliver(
    client: &Client,
    name: &str,
    request: &Request,
    counters: &Counters,
    mut pause: impl FnMut(Duration) -> bool,
    backoff: &mut Backoff,
) -> Delivery {
    let mut failures = 0u64;
    loop {
        match client.post(&request.body) {
            Attempt::Delivered => {
                Counters::add(&counters.samples_sent, request.samples);
                Counters::add(&counters.requests_sent, 1);
                Counters::add(&counters.bytes_sent, request.body.len());
                counters.newest_sent_ms.fetch_max(request.newest_t, Ordering::Relaxed);
                if failures > 0 {
                    log::info!("remote write {name}: delivered after {failures} failed attempts");
                }
                backoff.reset();
                return Delivery::Delivered;
            }
            Attempt::Rejected { reason, .. } => {
                log::error!(
                    "remote write {name}: the receiver refused {} samples, which are dropped: {reason}",
                    request.samples
                );
                Counters::add(&counters.requests_failed, 1);
                Counters::add(&counters.samples_dropped, request.samples);
                Counters::add(&counters.requests_dropped, 1);
                counters.set_error(reason);
                return Delivery::Dropped;
            }
            Attempt::Retry { reason, retry_after } => {
                Counters::add(&counters.requests_failed, 1);
                failures += 1;
                let delay = retry_after.unwrap_or_else(|| backoff.next_delay());
                // Once per request: a receiver that is down for long does not flood the log.
                if failures == 1 {
                    log::warn!("remote write {name}: {reason}; retrying with backoff");
                }
                counters.set_error(reason);
                if !pause(delay) {
                    return Delivery::GaveUp;
                }
                Counters::add(&counters.retries, 1);
            }
        }
    }
}

/// The backlog of one feed: samples scanned but not yet acknowledged, and
/// when each scanned stretch of commits was first seen (for the lag).
#[derive(Default)]
struct Backlog {
    /// Where the next scan continues; `None` before the first.
    scanned_to: Option<u64>,
    pending: u64,
    /// `(end_seq, first seen at, wall ms)` of each scan that found samples.
    stretches: VecDeque<(u64, i64)>,
}

impl Backlog {
    fn add(&mut self, scan: OutboxScan) {
        if scan.samples > 0 {
            self.pending += scan.samples;
            self.stretches.push_back((scan.end_seq, now_ms()));
        }
        self.scanned_to = Some(scan.end_seq);
    }

    fn acknowledged(&mut self, samples: u64, next_seq: u64) {
        self.pending = self.pending.saturating_sub(samples);
        while self.stretches.front().is_some_and(|&(end, _)| end <= next_seq) {
            self.stretches.pop_front();
        }
    }

    fn publish(&self, counters: &Counters) {
        counters.pending_samples.store(self.pending, Ordering::Relaxed);
        let oldest = self.stretches.front().map_or(i64::MIN, |&(_, seen)| seen);
        counters.oldest_pending_seen_ms.store(oldest, Ordering::Relaxed);
    }
}

/// The batch a sender was sending when it last stopped: its end (the
/// `next_seq` to acknowledge) and how many of its requests were delivered.
/// Stored as JSON under `remote_write/in_flight/<name>` before each batch is
/// sent and after each of its requests.
#[derive(Debug, Clone, PartialEq)]
struct InFlight {
    next_seq: u64,
    requests_done: usize,
    /// Whether the batch is cut into the same requests now (batch size and
    /// selectors unchanged), so delivered requests can be skipped.
    same_split: bool,
}

impl InFlight {
    fn describe(c: &RemoteWriteConfig, next_seq: u64, requests_done: usize) -> serde_json::Value {
        serde_json::json!({
            "next_seq": next_seq, "requests_done": requests_done,
            "batch_size": c.batch_size, "keep": c.keep, "drop": c.drop,
        })
    }

    fn parse(stored: &[u8], current: &RemoteWriteConfig) -> Option<InFlight> {
        let v: serde_json::Value = serde_json::from_slice(stored).ok()?;
        let now = InFlight::describe(current, 0, 0);
        Some(InFlight {
            next_seq: v["next_seq"].as_u64()?,
            requests_done: v["requests_done"].as_u64()? as usize,
            same_split: ["batch_size", "keep", "drop"].iter().all(|k| v[k] == now[k]),
        })
    }
}

/// Why a round of the worker ends early.
enum Halt {
    /// Stop requested, or the database closed.
    Stopped,
    /// A storage error; the round is repeated later.
    Storage(Error),
}

/// One sender thread.
struct Worker {
    client: Client,
    feed: String,
    prepared: Prepared,
    shared: Arc<Shared>,
    wake: Arc<Wake>,
    /// What an earlier run was sending, until it is sent again.
    resume: Option<InFlight>,
    /// The read limit: the batch size an earlier run used until the first
    /// batch is sent (so a batch it was sending is read again the same), then ours.
    read_limit: usize,
}

impl Worker {
    fn name(&self) -> &str {
        &self.prepared.config.name
    }

    fn run(mut self) {
        let mut backoff = Backoff::new(self.prepared.config.min_backoff, self.prepared.config.max_backoff);
        let mut waiting_since: Option<Instant> = None;
        while !self.stopping() {
            let seen = self.wake.generation();
            match self.step(&mut waiting_since, &mut backoff) {
                Ok(Some(wait_until)) => self.wake.wait(seen, wait_until),
                Ok(None) => {}
                Err(Halt::Stopped) => break,
                Err(Halt::Storage(e)) => {
                    // Storage trouble (e.g. a full disk): report it and look again later.
                    log::error!("remote write {}: {e}", self.name());
                    self.shared.counters.set_error(e.to_string());
                    let delay = self.prepared.config.flush_interval.max(backoff.next_delay());
                    self.wake.wait(seen, Instant::now() + delay);
                }
            }
        }
    }

    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    /// One round: scan, maybe read and send. Returns when to look again
    /// (`None`: right away).
    fn step(&mut self, waiting_since: &mut Option<Instant>, backoff: &mut Backoff) -> Result<Option<Instant>, Halt> {
        let batch_size = self.prepared.config.batch_size;
        let flush = self.prepared.config.flush_interval;
        self.shared.scan(&self.feed)?;
        let pending = self.shared.backlog.lock().pending;
        if pending == 0 {
            *waiting_since = None;
            return Ok(Some(Instant::now() + flush));
        }
        let since = *waiting_since.get_or_insert_with(Instant::now);
        if self.resume.is_none() && pending < batch_size as u64 && since.elapsed() < flush {
            return Ok(Some(since + flush));
        }
        // A batch is read again after a restart with exactly the commits it
        // had, so its requests are the same: a receiver then holds a whole
        // request already or none of it (see docs/scaleout.md). The in-flight
        // record names the batch's end; without one, a batch the read limit
        // ended is found again by the same limit.
        let (batch, resumed) = match self.resume.take() {
            Some(r) => match self.read(OutboxLimit::AtMost(usize::MAX), Some(r.next_seq))? {
                (b, _) if b.samples > 0 => ((b, true), Some(r)),
                _ => (self.read(OutboxLimit::AtMost(self.read_limit), None)?, None),
            },
            None => (self.read(OutboxLimit::AtMost(self.read_limit), None)?, None),
        };
        let (batch, limited) = batch;
        // Commits that landed since the scan may be in the batch: count them first.
        self.shared.scan(&self.feed)?;
        if batch.samples > 0 {
            let done = match &resumed {
                Some(r) if r.next_seq == batch.next_seq && r.same_split => r.requests_done,
                _ => 0,
            };
            // Read with an earlier run's limit, a batch is delimited only for that run's settings.
            let delimited = limited && resumed.is_none() && self.read_limit == batch_size;
            self.send(&batch, delimited, done, backoff)?;
            self.read_limit = batch_size;
        }
        *waiting_since = None;
        Ok(None)
    }

    fn read(&self, limit: OutboxLimit, end_seq: Option<u64>) -> Result<(OutboxBatch, bool), Halt> {
        self.storage(|s| s.outbox_read(&self.feed, limit, end_seq))
    }

    /// Sends a batch, skipping the first `done` requests (delivered by an
    /// earlier run), and acknowledges it. Unless the batch is one request
    /// that the read limit alone delimits (`delimited`), the in-flight record
    /// names it before the first request; after each request but the last of
    /// a split batch, it notes the progress.
    fn send(&mut self, batch: &OutboxBatch, delimited: bool, done: usize, backoff: &mut Backoff) -> Result<(), Halt> {
        let mut builder = RequestBuilder::new(&self.prepared);
        for (labels, points) in &batch.series {
            builder.add_in_commit_order(labels, points);
        }
        for (labels, points) in &batch.histograms {
            builder.add_in_commit_order(labels, points);
        }
        let built = builder.take();
        Counters::add(&self.shared.counters.samples_skipped, built.skipped);
        let split = built.requests.len() > 1;
        if split || !delimited {
            self.record_in_flight(batch.next_seq, done)?;
        }
        for (i, request) in built.requests.iter().enumerate().skip(done) {
            let (shared, wake, feed) = (&self.shared, &self.wake, &self.feed);
            let pause = |delay: Duration| {
                let deadline = Instant::now() + delay;
                loop {
                    if shared.stop.load(Ordering::SeqCst) {
                        return false;
                    }
                    let seen = wake.generation();
                    // Transient storage errors only delay the backlog figures.
                    let _ = shared.scan(feed);
                    if Instant::now() >= deadline {
                        return true;
                    }
                    wake.wait(seen, deadline);
                }
            };
            if deliver(&self.client, self.name(), request, &self.shared.counters, pause, backoff) == Delivery::GaveUp {
                return Err(Halt::Stopped);
            }
            if split && i + 1 < built.requests.len() {
                self.record_in_flight(batch.next_seq, i + 1)?;
            }
        }
        let feed = self.feed.clone();
        // The record now names acknowledged commits, so it is ignored from here on.
        self.storage(|s| s.outbox_ack(&feed, batch.next_seq))?;
        let mut backlog = self.shared.backlog.lock();
        backlog.acknowledged(batch.samples as u64, batch.next_seq);
        backlog.publish(&self.shared.counters);
        Ok(())
    }

    /// Stores the in-flight record, in a commit of its own.
    fn record_in_flight(&self, next_seq: u64, requests_done: usize) -> Result<(), Halt> {
        let record = InFlight::describe(&self.prepared.config, next_seq, requests_done);
        let mut batch = Batch::new();
        batch.put_kv(format!("{IN_FLIGHT_PREFIX}{}", self.name()), Some(record.to_string().into_bytes()));
        self.storage(|s| s.write(&batch))
    }

    /// Runs `f` on the storage; a closed gate stops the worker.
    fn storage<T>(&self, f: impl FnOnce(&Storage) -> Result<T>) -> Result<T, Halt> {
        match self.shared.gate.with(f) {
            None => Err(Halt::Stopped),
            Some(result) => result.map_err(Halt::Storage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Labels;

    #[test]
    fn reads_up_to_the_limit_in_whole_commits_and_says_when_it_ended_them() {
        let storage = Storage::open_in_memory().unwrap();
        storage.outbox_subscribe("f").unwrap();
        let m = Labels::parse("m").unwrap();
        for (t, n) in [(0, 2), (10, 2), (20, 3), (30, 9)] {
            let mut b = Batch::new();
            for i in 0..n {
                b.add(&m, t + i, 1.0);
            }
            storage.write(&b).unwrap();
        }
        let read = |limit, end| {
            let (b, limited) = storage.outbox_read("f", limit, end).unwrap();
            (b.samples, limited, b.next_seq)
        };
        let (n, limited, after_two) = read(OutboxLimit::AtMost(5), None);
        assert_eq!((n, limited), (4, true), "the third commit would not fit");
        assert_eq!(read(OutboxLimit::AtMost(4), None), (4, true, after_two), "exactly full");
        assert_eq!(read(OutboxLimit::AtMost(1), None).0, 2, "one commit even when it exceeds the limit");
        let (n, limited, _) = read(OutboxLimit::AtMost(100), None);
        assert_eq!((n, limited), (16, false), "the feed ended the read");
        assert_eq!(read(OutboxLimit::AtMost(usize::MAX), Some(after_two)).0, 4, "bounded by end_seq");
        assert_eq!(read(OutboxLimit::AtLeast(3), None).0, 4);
        storage.outbox_ack("f", after_two).unwrap();
        assert_eq!(read(OutboxLimit::AtMost(3), None).0, 3);
        assert_eq!(
            read(OutboxLimit::AtMost(usize::MAX), Some(after_two)).0,
            0,
            "a bound behind the cursor reads nothing"
        );
    }
}
