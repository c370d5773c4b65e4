//! The Python exception classes and the one place promlite errors become them.
//!
//! Mapping is by error variant (and so by Prometheus `errorType`), never by
//! message text. Every exception carries `error_type` (the Prometheus
//! `errorType` string); query parse errors also carry where the problem is.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    promlite,
    Error,
    PyException,
    "Base class of every error promlite raises. `error_type` holds the Prometheus errorType \
     (bad_data, execution, timeout, canceled, internal)."
);
create_exception!(
    promlite,
    QueryError,
    Error,
    "A PromQL expression or series selector failed to parse, or a query failed while running. \
     Parse errors have `query`, `position` (character offset), `line` and `column` (1-based)."
);
create_exception!(
    promlite,
    InvalidInputError,
    Error,
    "An argument or input is invalid: a series without a metric name, a bad exposition line, \
     a bad regular expression."
);
create_exception!(
    promlite,
    StorageError,
    Error,
    "The database file could not be read or written, is not a promlite database, or is closed."
);

/// Converts a promlite error into the matching Python exception.
pub fn to_py_err(err: promlite::Error) -> PyErr {
    Python::attach(|py| {
        let py_err = match &err {
            promlite::Error::Parse(_)
            | promlite::Error::Execution(_)
            | promlite::Error::TooManySamples(_)
            | promlite::Error::Timeout(_)
            | promlite::Error::Canceled(_) => QueryError::new_err(err.to_string()),
            promlite::Error::InvalidInput(_) => InvalidInputError::new_err(err.to_string()),
            promlite::Error::NotADatabase(_)
            | promlite::Error::UnsupportedVersion { .. }
            | promlite::Error::Closed
            | promlite::Error::Sqlite(_)
            | promlite::Error::Io(_)
            | promlite::Error::Corrupt(_) => StorageError::new_err(err.to_string()),
            // Variants added to core later: classify by their errorType.
            _ => match err.kind() {
                promlite::ErrorKind::Internal => StorageError::new_err(err.to_string()),
                promlite::ErrorKind::BadData => InvalidInputError::new_err(err.to_string()),
                _ => QueryError::new_err(err.to_string()),
            },
        };
        // Setting attributes on a fresh exception object cannot fail in practice;
        // if it did, the exception is still raised, just without the extras.
        let _ = annotate(py, &py_err, &err);
        py_err
    })
}

/// Adds `error_type`, and for parse errors the query and position, to the exception.
fn annotate(py: Python<'_>, py_err: &PyErr, err: &promlite::Error) -> PyResult<()> {
    let value = py_err.value(py);
    value.setattr("error_type", err.kind().error_type())?;
    if let promlite::Error::Parse(pe) = err {
        let (line, column) = pe.line_col();
        let start = pe.span.start.min(pe.query.len());
        let position = pe.query.char_indices().take_while(|(i, _)| *i < start).count();
        value.setattr("query", pe.query.as_str())?;
        value.setattr("position", position)?;
        value.setattr("line", line)?;
        value.setattr("column", column)?;
    }
    Ok(())
}

/// Registers the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("QueryError", py.get_type::<QueryError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    Ok(())
}
