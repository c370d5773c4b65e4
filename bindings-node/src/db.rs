//! `Database`: the native handle behind `open()`. Each method converts its
//! arguments, calls core, converts the result; the `*Async` variants run the
//! same work as an `AsyncTask` off the event loop.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use promlite::{Db, Error, Labels, Matcher};

use crate::batch::Batch;
use crate::convert::{labels, seconds_to_ms, selector, selectors, time_or_now, time_range, OpenOptions, SeriesArg};
use crate::error::{bad_data, guard, to_js, Result};
use crate::remote_write::{BackfillReport, RemoteWriteOptions, SenderStats};
use crate::result::{metric, Metric, QueryResult};
use crate::task::Job;

/// An open promlite database.
#[napi]
pub struct Database {
    // `None` once closed. Async jobs hold their own `Arc`, so closing while
    // one runs is safe: the file closes when the last job finishes.
    db: Mutex<Option<Arc<Db>>>,
}

#[napi]
impl Database {
    /// Opens (creating if needed) the database file at `path`.
    #[napi(factory)]
    pub fn open(path: String, options: Option<OpenOptions>) -> Result<Database> {
        guard(|| {
            let options = options.unwrap_or_default().to_core()?;
            let db = Db::open_with(&path, options).map_err(to_js)?;
            Ok(Database { db: Mutex::new(Some(Arc::new(db))) })
        })
    }

    /// Closes the database; later calls fail with "database is closed".
    /// Closing twice is allowed.
    #[napi]
    pub fn close(&self) -> Result<()> {
        guard(|| {
            let taken = self.db.lock().unwrap_or_else(PoisonError::into_inner).take();
            match taken.map(Arc::try_unwrap) {
                Some(Ok(db)) => db.close().map_err(to_js),
                // An async job still holds the Db; dropping its last Arc flushes and closes.
                Some(Err(_)) | None => Ok(()),
            }
        })
    }

    /// Whether `close()` has been called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.db.lock().unwrap_or_else(PoisonError::into_inner).is_none()
    }

    /// Appends one sample at `t` (Unix seconds) and commits it.
    #[napi]
    pub fn append(&self, series: SeriesArg, t: f64, v: f64) -> Result<()> {
        guard(|| {
            let labels = labels(series)?;
            let t = seconds_to_ms("timestamp", t)?;
            self.handle()?.append(&labels, t, v).map_err(to_js)
        })
    }

    /// Writes (and empties) a batch in one commit; returns the samples written.
    #[napi]
    pub fn write(&self, batch: &mut Batch) -> Result<i64> {
        guard(|| write(batch.take())(&*self.handle()?))
    }

    /// As `write`, off the event loop. The batch is emptied right away.
    #[napi]
    pub fn write_async(&self, batch: &mut Batch) -> Result<AsyncTask<Job<i64>>> {
        guard(|| Ok(AsyncTask::new(Job::new(self.handle()?, write(batch.take())))))
    }

    /// Stores Prometheus text exposition (or OpenMetrics) in one commit;
    /// samples without a timestamp get `time` (Unix seconds, default now).
    #[napi]
    pub fn ingest_exposition(&self, text: String, time: Option<f64>) -> Result<i64> {
        guard(|| {
            let t = time_or_now(time)?;
            Ok(self.handle()?.ingest_exposition(&text, t).map_err(to_js)? as i64)
        })
    }

    /// Evaluates `expr` at `time` (Unix seconds, default now).
    #[napi]
    pub fn query(&self, expr: String, time: Option<f64>) -> Result<QueryResult> {
        guard(|| instant(expr, time_or_now(time)?)(&*self.handle()?))
    }

    /// As `query`, off the event loop.
    #[napi]
    pub fn query_async(&self, expr: String, time: Option<f64>) -> Result<AsyncTask<Job<QueryResult>>> {
        guard(|| Ok(AsyncTask::new(Job::new(self.handle()?, instant(expr, time_or_now(time)?)))))
    }

    /// Evaluates `expr` from `start` to `end` every `step` (all seconds); a matrix.
    #[napi]
    pub fn query_range(&self, expr: String, start: f64, end: f64, step: f64) -> Result<QueryResult> {
        guard(|| range(expr, start, end, step)?(&*self.handle()?))
    }

    /// As `queryRange`, off the event loop.
    #[napi]
    pub fn query_range_async(
        &self,
        expr: String,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<AsyncTask<Job<QueryResult>>> {
        guard(|| Ok(AsyncTask::new(Job::new(self.handle()?, range(expr, start, end, step)?))))
    }

    /// Label sets of series matching any of the selectors, with samples in range.
    #[napi]
    pub fn series(&self, matches: Vec<String>, start: Option<f64>, end: Option<f64>) -> Result<Vec<Metric>> {
        guard(|| {
            if matches.is_empty() {
                return Err(bad_data("series() needs at least one selector"));
            }
            let (mint, maxt) = time_range(start, end)?;
            let db = self.handle()?;
            let found: Vec<Labels> = union(&selectors(&matches)?, |m| db.series(m, mint, maxt))?;
            Ok(found.iter().map(metric).collect())
        })
    }

    /// Sorted label names of series matching any selector (all series if none).
    #[napi]
    pub fn label_names(&self, matches: Vec<String>, start: Option<f64>, end: Option<f64>) -> Result<Vec<String>> {
        guard(|| {
            let (mint, maxt) = time_range(start, end)?;
            let db = self.handle()?;
            union(&selectors(&matches)?, |m| db.label_names(m, mint, maxt))
        })
    }

    /// Sorted values of label `name` over series matching any selector (all if none).
    #[napi]
    pub fn label_values(
        &self,
        name: String,
        matches: Vec<String>,
        start: Option<f64>,
        end: Option<f64>,
    ) -> Result<Vec<String>> {
        guard(|| {
            let (mint, maxt) = time_range(start, end)?;
            let db = self.handle()?;
            union(&selectors(&matches)?, |m| db.label_values(&name, m, mint, maxt))
        })
    }

    /// Drops samples older than the `retention` option (relative to the newest
    /// sample); returns the number of chunks removed.
    #[napi]
    pub fn apply_retention(&self) -> Result<i64> {
        guard(|| Ok(self.handle()?.apply_retention().map_err(to_js)? as i64))
    }

    /// Starts remote-write sender `name` posting every sample committed from
    /// now on to `url`, from a queue kept in the database file, on a core
    /// background thread (not the event loop). A name used before in this
    /// file resumes where that sender stopped.
    #[napi]
    pub fn remote_write_add(&self, name: String, url: String, options: Option<RemoteWriteOptions>) -> Result<()> {
        guard(|| {
            let config = options.unwrap_or_default().into_core(&name, &url)?;
            self.handle()?.remote_write_add(config).map_err(to_js)
        })
    }

    /// Stops sender `name` and drops what it has not sent; whether it existed.
    #[napi]
    pub fn remote_write_remove(&self, name: String) -> Result<bool> {
        guard(|| self.handle()?.remote_write_remove(&name).map_err(to_js))
    }

    /// Stats of the senders running here or registered in the file.
    #[napi]
    pub fn remote_write_stats(&self) -> Result<Vec<SenderStats>> {
        guard(|| Ok(self.handle()?.remote_write_stats().map_err(to_js)?.into_iter().map(SenderStats::from).collect()))
    }

    /// Sends the stored samples in `[start, end]` (seconds) to `url` once, off
    /// the event loop (it waits on the network).
    #[napi]
    pub fn remote_write_backfill_async(
        &self,
        url: String,
        start: f64,
        end: f64,
        options: Option<RemoteWriteOptions>,
    ) -> Result<AsyncTask<Job<BackfillReport>>> {
        guard(|| {
            let config = options.unwrap_or_default().into_core("backfill", &url)?;
            let (start, end) = (seconds_to_ms("start", start)?, seconds_to_ms("end", end)?);
            let work =
                move |db: &Db| db.remote_write_backfill(&config, start, end).map(BackfillReport::from).map_err(to_js);
            Ok(AsyncTask::new(Job::new(self.handle()?, work)))
        })
    }

    /// Deletes samples in range of series matching one selector, in one
    /// commit; returns the number of series touched.
    #[napi]
    pub fn delete_series(&self, matches: String, start: Option<f64>, end: Option<f64>) -> Result<i64> {
        guard(|| {
            let (mint, maxt) = time_range(start, end)?;
            let touched = self.handle()?.delete_series(&selector(&matches)?, mint, maxt).map_err(to_js)?;
            Ok(touched as i64)
        })
    }
}

impl Database {
    fn handle(&self) -> Result<Arc<Db>> {
        let db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        db.clone().ok_or_else(|| to_js(Error::Closed))
    }
}

fn write(batch: promlite::Batch) -> impl FnOnce(&Db) -> Result<i64> {
    move |db| db.write(&batch).map(|n| n as i64).map_err(to_js)
}

fn instant(expr: String, t: i64) -> impl FnOnce(&Db) -> Result<QueryResult> {
    move |db| db.query(&expr, t).map(QueryResult::from).map_err(to_js)
}

fn range(expr: String, start: f64, end: f64, step: f64) -> Result<impl FnOnce(&Db) -> Result<QueryResult>> {
    let (start, end) = (seconds_to_ms("start", start)?, seconds_to_ms("end", end)?);
    let step = seconds_to_ms("step", step)?;
    Ok(move |db: &Db| db.query_range(&expr, start, end, step).map(QueryResult::from).map_err(to_js))
}

/// Runs `lookup` once per selector (once with no matchers if there are none)
/// and merges the results sorted and without duplicates, as the Prometheus API
/// does for several `match[]`.
fn union<T: Ord>(
    sets: &[Vec<Matcher>],
    mut lookup: impl FnMut(&[Matcher]) -> promlite::Result<Vec<T>>,
) -> Result<Vec<T>> {
    if sets.is_empty() {
        return lookup(&[]).map_err(to_js);
    }
    let mut all = BTreeSet::new();
    for matchers in sets {
        all.extend(lookup(matchers).map_err(to_js)?);
    }
    Ok(all.into_iter().collect())
}
