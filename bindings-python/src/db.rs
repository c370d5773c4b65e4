//! `promlite.Db`: a thin handle over core's [`promlite::Db`]. Every storage or
//! query call runs with the GIL released, so Python threads share one `Db`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use parking_lot::RwLock;
use promlite::{Labels, Matcher, Point};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::batch::Batch;
use crate::error::to_py_err;
use crate::options::OpenOptions;
use crate::remote_write::{self, SenderOptions};
use crate::{histogram, labels, result, time};

/// A promlite database: Prometheus-style time series in one SQLite file.
/// Create one with `promlite.open(path)`. Safe to share between threads.
#[pyclass(module = "promlite", name = "Db", frozen)]
pub struct Db {
    /// `None` once closed. Calls hold the read lock while they run (without
    /// the GIL); `close()` takes the write lock, so it waits for them.
    inner: RwLock<Option<promlite::Db>>,
    path: String,
}

impl Db {
    /// Runs `f` on the open database with the GIL released.
    fn run<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&promlite::Db) -> promlite::Result<T> + Send) -> PyResult<T> {
        py.detach(|| {
            let guard = self.inner.read();
            f(guard.as_ref().ok_or(promlite::Error::Closed)?)
        })
        .map_err(to_py_err)
    }

    /// Writes a batch in one commit; shared by `Db.write` and `Batch.__exit__`.
    pub(crate) fn write_batch(&self, py: Python<'_>, batch: &promlite::Batch) -> PyResult<usize> {
        self.run(py, |db| db.write(batch))
    }
}

/// Opens (creating if needed) the database at `path` and returns a `Db`.
#[pyfunction]
#[pyo3(signature = (
    path, *, read_only = false, fsync_on_commit = true, retention = None, lookback_delta = None, max_samples = None,
    query_timeout = None, default_subquery_step = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn open(
    py: Python<'_>,
    path: PathBuf,
    read_only: bool,
    fsync_on_commit: bool,
    retention: Option<&Bound<'_, PyAny>>,
    lookback_delta: Option<&Bound<'_, PyAny>>,
    max_samples: Option<usize>,
    query_timeout: Option<&Bound<'_, PyAny>>,
    default_subquery_step: Option<&Bound<'_, PyAny>>,
) -> PyResult<Db> {
    let options = OpenOptions {
        read_only,
        fsync_on_commit,
        retention,
        lookback_delta,
        max_samples,
        query_timeout,
        default_subquery_step,
    }
    .to_core()?;
    let display = path.display().to_string();
    let db = py.detach(|| promlite::Db::open_with(&path, options)).map_err(to_py_err)?;
    Ok(Db { inner: RwLock::new(Some(db)), path: display })
}

#[pymethods]
impl Db {
    /// The path the database was opened with.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// Whether `close()` has been called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        // Without the GIL: a pending close() makes new readers wait for running calls.
        py.detach(|| self.inner.read().is_none())
    }

    /// Appends one sample and commits it. `series` is a selector-style string
    /// (`'up{job="api"}'`) or a dict of labels including `__name__`;
    /// `timestamp` is Unix seconds (int/float) or a datetime.
    fn append(
        &self,
        py: Python<'_>,
        series: &Bound<'_, PyAny>,
        timestamp: &Bound<'_, PyAny>,
        value: f64,
    ) -> PyResult<()> {
        let labels = labels::series(series)?;
        let t = time::timestamp_ms(timestamp)?;
        self.run(py, |db| db.append(&labels, t, value))
    }

    /// Appends many samples of one series in one commit; `timestamps` and
    /// `values` are equally long sequences or NumPy arrays. Returns the number written.
    fn append_many(
        &self,
        py: Python<'_>,
        series: &Bound<'_, PyAny>,
        timestamps: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let mut batch = promlite::Batch::new();
        batch.add_points(&labels::series(series)?, &points(timestamps, values)?);
        self.write_batch(py, &batch)
    }

    /// Appends one native-histogram sample and commits it. `histogram` is a
    /// dict of its fields (`schema`, `count`, `sum`, `zero_threshold`,
    /// `zero_count`, `positive_spans`, `positive_buckets`, `negative_spans`,
    /// `negative_buckets`, `custom_values`, `counter_reset_hint`) or the
    /// promqltest notation `"{{schema:0 count:3 sum:2 buckets:[1 2]}}"`.
    fn append_histogram(
        &self,
        py: Python<'_>,
        series: &Bound<'_, PyAny>,
        timestamp: &Bound<'_, PyAny>,
        histogram: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let mut batch = promlite::Batch::new();
        batch.add_histogram(&labels::series(series)?, time::timestamp_ms(timestamp)?, histogram::from_py(histogram)?);
        self.write_batch(py, &batch).map(|_| ())
    }

    /// A batch that is committed in one transaction when its `with` block
    /// ends without an exception: `with db.batch() as b: b.append(...)`.
    fn batch(slf: &Bound<'_, Self>) -> Batch {
        Batch::bound_to(slf.clone().unbind())
    }

    /// Writes a `promlite.Batch` in one atomic commit; returns the number of samples written.
    fn write(&self, py: Python<'_>, batch: PyRef<'_, Batch>) -> PyResult<usize> {
        self.write_batch(py, batch.inner())
    }

    /// Evaluates a PromQL expression at `time` (Unix seconds or datetime; default now).
    /// Returns the Prometheus API `data` object: `{"resultType": ..., "result": ...}`.
    #[pyo3(signature = (expr, time = None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        expr: &str,
        time: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let t = time::timestamp_ms_or_now(time)?;
        let value = self.run(py, |db| db.query(expr, t))?;
        result::to_py(py, &value)
    }

    /// Evaluates a PromQL expression from `start` to `end` (inclusive) every
    /// `step` (seconds or timedelta). Returns a `matrix` result.
    fn query_range<'py>(
        &self,
        py: Python<'py>,
        expr: &str,
        start: &Bound<'py, PyAny>,
        end: &Bound<'py, PyAny>,
        step: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (start, end) = (time::timestamp_ms(start)?, time::timestamp_ms(end)?);
        let step = time::duration_ms(step, "step")?;
        if step <= 0 {
            return Err(PyValueError::new_err("step must be positive"));
        }
        let value = self.run(py, |db| db.query_range(expr, start, end, step))?;
        result::to_py(py, &value)
    }

    /// Label sets (dicts) of series matching `match` — one selector string or
    /// a list of them — with samples between `start` and `end` (default: all time).
    #[pyo3(signature = (r#match, start = None, end = None))]
    fn series<'py>(
        &self,
        py: Python<'py>,
        r#match: &Bound<'py, PyAny>,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let scope = Scope::new(Some(r#match), start, end)?.require_selector("series")?;
        let found: Vec<Labels> = self.run(py, |db| scope.union(|m, mint, maxt| db.series(m, mint, maxt)))?;
        let list = PyList::empty(py);
        for l in &found {
            list.append(labels::to_dict(py, l)?)?;
        }
        Ok(list)
    }

    /// Sorted label names of series matching `match` (default: all series)
    /// with samples between `start` and `end`.
    #[pyo3(signature = (r#match = None, start = None, end = None))]
    fn label_names(
        &self,
        py: Python<'_>,
        r#match: Option<&Bound<'_, PyAny>>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<String>> {
        let scope = Scope::new(r#match, start, end)?;
        self.run(py, |db| scope.union(|m, mint, maxt| db.label_names(m, mint, maxt)))
    }

    /// Sorted values of label `name` over series matching `match` (default: all
    /// series) with samples between `start` and `end`.
    #[pyo3(signature = (name, r#match = None, start = None, end = None))]
    fn label_values(
        &self,
        py: Python<'_>,
        name: &str,
        r#match: Option<&Bound<'_, PyAny>>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<String>> {
        let scope = Scope::new(r#match, start, end)?;
        self.run(py, |db| scope.union(|m, mint, maxt| db.label_values(name, m, mint, maxt)))
    }

    /// Deletes the samples of series matching `match` (a selector or a list)
    /// between `start` and `end` (default: all time). Returns the number of
    /// series touched, counted once per selector.
    #[pyo3(signature = (r#match, start = None, end = None))]
    fn delete_series(
        &self,
        py: Python<'_>,
        r#match: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let scope = Scope::new(Some(r#match), start, end)?.require_selector("delete_series")?;
        self.run(py, |db| {
            scope.selectors.iter().try_fold(0, |n, m| Ok(n + db.delete_series(m, scope.mint, scope.maxt)?))
        })
    }

    /// Parses Prometheus text exposition format and writes it in one commit,
    /// with metadata. Samples without a timestamp get `timestamp` (default
    /// now). Returns the number of samples written.
    #[pyo3(signature = (text, timestamp = None))]
    fn ingest_exposition(&self, py: Python<'_>, text: &str, timestamp: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let t = time::timestamp_ms_or_now(timestamp)?;
        self.run(py, |db| db.ingest_exposition(text, t))
    }

    /// Collects a `prometheus_client` `CollectorRegistry` (default: the global
    /// `REGISTRY`) and writes its samples at `timestamp` (default now), as a
    /// Prometheus scrape would. Returns the number of samples written.
    #[pyo3(signature = (registry = None, timestamp = None))]
    fn ingest_registry(
        &self,
        py: Python<'_>,
        registry: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let client = py.import("prometheus_client").map_err(|e| {
            let err = pyo3::exceptions::PyImportError::new_err(
                "ingest_registry needs prometheus_client: pip install prometheus_client",
            );
            err.set_cause(py, Some(e));
            err
        })?;
        let registry = match registry.filter(|r| !r.is_none()) {
            Some(r) => r.clone(),
            None => client.getattr("REGISTRY")?,
        };
        let exposition: Vec<u8> = client.call_method1("generate_latest", (registry,))?.extract()?;
        let text = String::from_utf8(exposition)
            .map_err(|e| PyValueError::new_err(format!("registry output is not UTF-8: {e}")))?;
        self.ingest_exposition(py, &text, timestamp)
    }

    /// Deletes samples older than the `retention` given to `open()`, counted
    /// back from the newest stored sample. Returns the number of chunks removed
    /// (0 without a retention).
    fn apply_retention(&self, py: Python<'_>) -> PyResult<u64> {
        self.run(py, |db| db.apply_retention())
    }

    /// Merges small and overlapping chunks into full, ordered ones. Returns
    /// `{"series_rewritten": n, "chunks_before": n, "chunks_after": n}`.
    fn compact<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.run(py, |db| db.compact())?;
        let dict = PyDict::new(py);
        dict.set_item("series_rewritten", stats.series_rewritten)?;
        dict.set_item("chunks_before", stats.chunks_before)?;
        dict.set_item("chunks_after", stats.chunks_after)?;
        Ok(dict)
    }

    /// Moves buffered samples into compressed chunks and shrinks the file to
    /// its smallest size without closing it, e.g. before a backup.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |db| db.flush())
    }

    /// Starts remote-write sender `name`: from now on every committed sample
    /// is delivered to `url` (Prometheus remote write 1.0) by a background
    /// thread, from a queue kept in the database file, so nothing is lost
    /// across crashes and restarts. A name used before in this file resumes
    /// where that sender stopped; adding a running one again restarts it with
    /// the new settings. `keep`/`drop` take selector strings (or lists);
    /// `basic_auth` is a `(user, password)` pair; durations are seconds or
    /// timedelta. Senders run until `remote_write_remove` or `close()`.
    #[pyo3(signature = (
        name, url, *, bearer_token = None, basic_auth = None, headers = None, external_labels = None,
        keep = None, drop = None, batch_size = None, flush_interval = None, timeout = None,
        min_backoff = None, max_backoff = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn remote_write_add(
        &self,
        py: Python<'_>,
        name: &str,
        url: &str,
        bearer_token: Option<String>,
        basic_auth: Option<(String, String)>,
        headers: Option<&Bound<'_, PyDict>>,
        external_labels: Option<&Bound<'_, PyDict>>,
        keep: Option<&Bound<'_, PyAny>>,
        drop: Option<&Bound<'_, PyAny>>,
        batch_size: Option<usize>,
        flush_interval: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        min_backoff: Option<&Bound<'_, PyAny>>,
        max_backoff: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let options = SenderOptions {
            bearer_token,
            basic_auth,
            headers,
            external_labels,
            keep,
            drop,
            batch_size,
            flush_interval,
            timeout,
            min_backoff,
            max_backoff,
        };
        let config = options.to_core(name, url)?;
        self.run(py, |db| db.remote_write_add(config))
    }

    /// Stops sender `name` and drops what it has not sent; returns whether it existed.
    fn remote_write_remove(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        self.run(py, |db| db.remote_write_remove(name))
    }

    /// One dict per sender running here or registered in the file: `name`,
    /// `url`, `running`, `samples_sent`, `requests_sent`, `bytes_sent`,
    /// `samples_dropped`, `requests_dropped`, `requests_failed`, `retries`,
    /// `samples_skipped`, `pending_samples`, `lag_seconds`,
    /// `newest_sent_timestamp` (seconds or None), `last_error` (str or None).
    fn remote_write_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let all = self.run(py, |db| db.remote_write_stats())?;
        let list = PyList::empty(py);
        for s in &all {
            list.append(remote_write::stats_to_py(py, s)?)?;
        }
        Ok(list)
    }

    /// Sends the stored samples between `start` and `end` of every series the
    /// `keep`/`drop` selectors let through to `url` once, in this thread (with
    /// the GIL released); works on read-only databases. Takes the settings of
    /// `remote_write_add`. Returns `{"series", "samples_sent", "requests_sent",
    /// "samples_dropped"}`.
    #[pyo3(signature = (
        url, start, end, *, name = "backfill", bearer_token = None, basic_auth = None, headers = None,
        external_labels = None, keep = None, drop = None, batch_size = None, timeout = None,
        min_backoff = None, max_backoff = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn remote_write_backfill<'py>(
        &self,
        py: Python<'py>,
        url: &str,
        start: &Bound<'py, PyAny>,
        end: &Bound<'py, PyAny>,
        name: &str,
        bearer_token: Option<String>,
        basic_auth: Option<(String, String)>,
        headers: Option<&Bound<'py, PyDict>>,
        external_labels: Option<&Bound<'py, PyDict>>,
        keep: Option<&Bound<'py, PyAny>>,
        drop: Option<&Bound<'py, PyAny>>,
        batch_size: Option<usize>,
        timeout: Option<&Bound<'py, PyAny>>,
        min_backoff: Option<&Bound<'py, PyAny>>,
        max_backoff: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let options = SenderOptions {
            bearer_token,
            basic_auth,
            headers,
            external_labels,
            keep,
            drop,
            batch_size,
            flush_interval: None,
            timeout,
            min_backoff,
            max_backoff,
        };
        let config = options.to_core(name, url)?;
        let (start, end) = (time::timestamp_ms(start)?, time::timestamp_ms(end)?);
        let report = self.run(py, |db| db.remote_write_backfill(&config, start, end))?;
        remote_write::report_to_py(py, &report)
    }

    /// Size of the database file(s) in bytes.
    fn size_bytes(&self, py: Python<'_>) -> PyResult<u64> {
        self.run(py, |db| db.size_bytes())
    }

    /// Flushes and closes the database; waits for calls running in other
    /// threads. Later calls raise `StorageError("database is closed")`.
    /// Closing twice is allowed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let db = self.inner.write().take();
            db.map_or(Ok(()), promlite::Db::close)
        })
        .map_err(to_py_err)
    }

    fn __enter__<'py>(slf: &Bound<'py, Self>) -> Bound<'py, Self> {
        slf.clone()
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = if self.closed(py) { "closed" } else { "open" };
        format!("<promlite.Db {:?} ({state})>", self.path)
    }
}

/// Pairs timestamps with values, checking that both have the same length.
pub(crate) fn points(timestamps: &Bound<'_, PyAny>, values: &Bound<'_, PyAny>) -> PyResult<Vec<Point>> {
    let ts = time::timestamps_ms(timestamps)?;
    let vs = time::values(values)?;
    if ts.len() != vs.len() {
        return Err(PyValueError::new_err(format!(
            "timestamps and values differ in length ({} and {})",
            ts.len(),
            vs.len()
        )));
    }
    Ok(ts.into_iter().zip(vs).map(|(t, v)| Point::new(t, v)).collect())
}

/// The `match`, `start` and `end` arguments of the series and label calls:
/// selectors (none means all series) and an inclusive range in milliseconds,
/// open-ended where not given.
struct Scope {
    selectors: Vec<Vec<Matcher>>,
    mint: i64,
    maxt: i64,
}

impl Scope {
    fn new(
        r#match: Option<&Bound<'_, PyAny>>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Scope> {
        Ok(Scope {
            selectors: labels::selectors(r#match)?,
            mint: time::timestamp_ms_or(start, i64::MIN)?,
            maxt: time::timestamp_ms_or(end, i64::MAX)?,
        })
    }

    /// Rejects an empty selector list, for calls that must not apply to every series.
    fn require_selector(self, call: &str) -> PyResult<Scope> {
        if self.selectors.is_empty() {
            return Err(PyValueError::new_err(format!("{call}() needs at least one selector")));
        }
        Ok(self)
    }

    /// Runs `f` once per selector (once with no matchers if there are none)
    /// and returns the sorted union, as the Prometheus API does for repeated `match[]`.
    fn union<T: Ord>(
        &self,
        mut f: impl FnMut(&[Matcher], i64, i64) -> promlite::Result<Vec<T>>,
    ) -> promlite::Result<Vec<T>> {
        if self.selectors.is_empty() {
            return f(&[], self.mint, self.maxt);
        }
        let mut all = BTreeSet::new();
        for m in &self.selectors {
            all.extend(f(m, self.mint, self.maxt)?);
        }
        Ok(all.into_iter().collect())
    }
}
