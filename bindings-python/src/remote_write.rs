//! Remote write from Python: the keyword settings of `Db.remote_write_add`
//! and `Db.remote_write_backfill` into core's [`RemoteWriteConfig`], and the
//! stats and backfill report as dicts. Logic stays in core.

use promlite::{BackfillReport, RemoteWriteConfig, RemoteWriteStats};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::time::duration;

/// The keyword arguments of a sender; `None` keeps core's default.
pub struct SenderOptions<'a, 'py> {
    pub bearer_token: Option<String>,
    pub basic_auth: Option<(String, String)>,
    pub headers: Option<&'a Bound<'py, PyDict>>,
    pub external_labels: Option<&'a Bound<'py, PyDict>>,
    pub keep: Option<&'a Bound<'py, PyAny>>,
    pub drop: Option<&'a Bound<'py, PyAny>>,
    pub batch_size: Option<usize>,
    pub flush_interval: Option<&'a Bound<'py, PyAny>>,
    pub timeout: Option<&'a Bound<'py, PyAny>>,
    pub min_backoff: Option<&'a Bound<'py, PyAny>>,
    pub max_backoff: Option<&'a Bound<'py, PyAny>>,
}

impl SenderOptions<'_, '_> {
    /// Core's config for sender `name` posting to `url`; core checks the values.
    pub fn to_core(&self, name: &str, url: &str) -> PyResult<RemoteWriteConfig> {
        let mut c = RemoteWriteConfig::new(name, url);
        if self.bearer_token.is_some() && self.basic_auth.is_some() {
            return Err(PyTypeError::new_err("give bearer_token or basic_auth, not both"));
        }
        if let Some(token) = &self.bearer_token {
            c = c.bearer_token(token.clone());
        }
        if let Some((user, password)) = &self.basic_auth {
            c = c.basic_auth(user.clone(), password.clone());
        }
        c.headers = string_pairs(self.headers, "headers")?;
        c.external_labels = string_pairs(self.external_labels, "external_labels")?;
        c.keep = strings(self.keep, "keep")?;
        c.drop = strings(self.drop, "drop")?;
        if let Some(n) = self.batch_size {
            c.batch_size = n;
        }
        for (given, slot, what) in [
            (self.flush_interval, &mut c.flush_interval, "flush_interval"),
            (self.timeout, &mut c.timeout, "timeout"),
            (self.min_backoff, &mut c.min_backoff, "min_backoff"),
            (self.max_backoff, &mut c.max_backoff, "max_backoff"),
        ] {
            if let Some(d) = given.filter(|d| !d.is_none()) {
                *slot = duration(d, what)?;
            }
        }
        Ok(c)
    }
}

/// A `{name: value}` dict of strings, in the dict's order.
fn string_pairs(dict: Option<&Bound<'_, PyDict>>, what: &str) -> PyResult<Vec<(String, String)>> {
    let Some(dict) = dict else { return Ok(Vec::new()) };
    dict.iter()
        .map(|(k, v)| match (k.extract::<String>(), v.extract::<String>()) {
            (Ok(k), Ok(v)) => Ok((k, v)),
            _ => Err(PyTypeError::new_err(format!("{what} must map strings to strings"))),
        })
        .collect()
}

/// One selector string or a sequence of them.
fn strings(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(Vec::new()),
        Some(o) if o.is_instance_of::<PyString>() => Ok(vec![o.extract()?]),
        Some(o) => o
            .extract::<Vec<String>>()
            .map_err(|_| PyTypeError::new_err(format!("{what} must be a selector string or a list of them"))),
    }
}

/// A sender's stats as a dict; times as float seconds.
pub fn stats_to_py<'py>(py: Python<'py>, s: &RemoteWriteStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &s.name)?;
    d.set_item("url", &s.url)?;
    d.set_item("running", s.running)?;
    for (key, value) in [
        ("samples_sent", s.samples_sent),
        ("requests_sent", s.requests_sent),
        ("bytes_sent", s.bytes_sent),
        ("samples_dropped", s.samples_dropped),
        ("requests_dropped", s.requests_dropped),
        ("requests_failed", s.requests_failed),
        ("retries", s.retries),
        ("samples_skipped", s.samples_skipped),
        ("pending_samples", s.pending_samples),
    ] {
        d.set_item(key, value)?;
    }
    d.set_item("lag_seconds", s.lag_seconds)?;
    d.set_item("newest_sent_timestamp", s.newest_sent_timestamp_ms.map(|t| t as f64 / 1000.0))?;
    d.set_item("last_error", &s.last_error)?;
    Ok(d)
}

/// A backfill report as a dict.
pub fn report_to_py<'py>(py: Python<'py>, r: &BackfillReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("series", r.series)?;
    d.set_item("samples_sent", r.samples_sent)?;
    d.set_item("requests_sent", r.requests_sent)?;
    d.set_item("samples_dropped", r.samples_dropped)?;
    Ok(d)
}
