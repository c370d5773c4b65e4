//! Python bindings for promlite: the native module `promlite._promlite`, wrapped
//! by the pure-Python package `promlite` (see `python/promlite/`).
//!
//! Each binding converts its arguments, calls core and converts the result;
//! logic stays in core. Modules: `db` (the `Db` class and `open`), `batch`,
//! `options` (keyword options of `open`), `remote_write` (sender settings,
//! stats), `labels`, `time` and `histogram` (argument conversion), `result`
//! (query values as Python data), `error` (exceptions).

mod batch;
mod db;
mod error;
mod histogram;
mod labels;
mod options;
mod remote_write;
mod result;
mod time;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Formats a label dict the way Prometheus prints a series: `up{job="api"}`.
#[pyfunction]
fn format_series(labels: &Bound<'_, PyDict>) -> PyResult<String> {
    Ok(labels::series(labels.as_any())?.to_string())
}

#[pymodule]
fn _promlite(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", promlite::VERSION)?;
    m.add_function(wrap_pyfunction!(db::open, m)?)?;
    m.add_function(wrap_pyfunction!(format_series, m)?)?;
    m.add_class::<db::Db>()?;
    m.add_class::<batch::Batch>()?;
    error::register(m)?;
    Ok(())
}
