//! Keyword options of `promlite.open()` into core's [`promlite::Options`].

use promlite::Options;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::time::duration;

/// The keyword arguments of `promlite.open()`; `None` keeps core's default.
pub struct OpenOptions<'a, 'py> {
    pub read_only: bool,
    pub fsync_on_commit: bool,
    pub retention: Option<&'a Bound<'py, PyAny>>,
    pub lookback_delta: Option<&'a Bound<'py, PyAny>>,
    pub max_samples: Option<usize>,
    pub query_timeout: Option<&'a Bound<'py, PyAny>>,
    pub default_subquery_step: Option<&'a Bound<'py, PyAny>>,
}

impl OpenOptions<'_, '_> {
    /// Core options with every given value applied over the defaults.
    pub fn to_core(&self) -> PyResult<Options> {
        let mut o = Options::default();
        o.read_only = self.read_only;
        o.fsync_on_commit = self.fsync_on_commit;
        if let Some(r) = given(self.retention) {
            o.retention = Some(duration(r, "retention")?);
        }
        if let Some(d) = given(self.lookback_delta) {
            o.query.lookback_delta = positive(duration(d, "lookback_delta")?, "lookback_delta")?;
        }
        if let Some(n) = self.max_samples {
            o.query.max_samples = n;
        }
        if let Some(t) = given(self.query_timeout) {
            o.query.timeout = Some(positive(duration(t, "query_timeout")?, "query_timeout")?);
        }
        if let Some(s) = given(self.default_subquery_step) {
            o.query.default_subquery_step = positive(duration(s, "default_subquery_step")?, "default_subquery_step")?;
        }
        Ok(o)
    }
}

fn given<'a, 'py>(obj: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    obj.filter(|o| !o.is_none())
}

fn positive(d: std::time::Duration, what: &str) -> PyResult<std::time::Duration> {
    if d.is_zero() {
        Err(PyValueError::new_err(format!("{what} must be positive")))
    } else {
        Ok(d)
    }
}
