//! Native histograms between Python and core: written from a dict of the
//! `FloatHistogram` fields or the promqltest notation, read back in the
//! Prometheus HTTP API's shape with floats.

use promlite::histogram::{BucketSpan, CounterResetHint};
use promlite::FloatHistogram;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::error::to_py_err;

/// The keys a histogram dict may have.
const FIELDS: [&str; 11] = [
    "schema",
    "count",
    "sum",
    "zero_threshold",
    "zero_count",
    "positive_spans",
    "positive_buckets",
    "negative_spans",
    "negative_buckets",
    "custom_values",
    "counter_reset_hint",
];

/// A histogram given as the promqltest notation (`"{{schema:0 count:3 sum:2
/// buckets:[1 2]}}"`) or as a dict of `FloatHistogram` fields: `schema`,
/// `count`, `sum`, `zero_threshold`, `zero_count`, `positive_spans` /
/// `negative_spans` (lists of `(offset, length)`), `positive_buckets` /
/// `negative_buckets` (absolute counts), `custom_values`,
/// `counter_reset_hint` (`"unknown"`, `"reset"`, `"not_reset"`, `"gauge"`);
/// all optional. It is checked when written.
pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<FloatHistogram> {
    if let Ok(text) = obj.cast::<PyString>() {
        return FloatHistogram::parse_test_notation(text.to_str()?).map_err(to_py_err);
    }
    let dict = obj.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "a histogram must be a dict of its fields or a '{{{{…}}}}' notation string, not {}",
            obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    let mut h = FloatHistogram::default();
    for (key, value) in dict.iter() {
        let key: String = key.extract()?;
        let field = |e: PyErr| PyValueError::new_err(format!("histogram field {key:?}: {e}"));
        match key.as_str() {
            "schema" => h.schema = value.extract().map_err(field)?,
            "count" => h.count = value.extract().map_err(field)?,
            "sum" => h.sum = value.extract().map_err(field)?,
            "zero_threshold" => h.zero_threshold = value.extract().map_err(field)?,
            "zero_count" => h.zero_count = value.extract().map_err(field)?,
            "positive_spans" => h.positive_spans = spans(&value).map_err(field)?,
            "negative_spans" => h.negative_spans = spans(&value).map_err(field)?,
            "positive_buckets" => h.positive_buckets = value.extract().map_err(field)?,
            "negative_buckets" => h.negative_buckets = value.extract().map_err(field)?,
            "custom_values" => h.custom_values = value.extract().map_err(field)?,
            "counter_reset_hint" => {
                let name: String = value.extract().map_err(field)?;
                h.counter_reset_hint = CounterResetHint::from_name(&name).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "histogram field \"counter_reset_hint\" must be unknown, reset, not_reset or gauge, not {name:?}"
                    ))
                })?;
            }
            _ => {
                return Err(PyValueError::new_err(format!(
                    "unknown histogram field {key:?} (the fields are {})",
                    FIELDS.join(", ")
                )))
            }
        }
    }
    Ok(h)
}

/// `[(offset, length), …]` into spans.
fn spans(value: &Bound<'_, PyAny>) -> PyResult<Vec<BucketSpan>> {
    let pairs: Vec<(i32, u32)> = value.extract()?;
    Ok(pairs.into_iter().map(|(offset, length)| BucketSpan { offset, length }).collect())
}

/// The HTTP API's histogram object with floats: `{"count": …, "sum": …,
/// "buckets": [[boundary_rule, lower, upper, count], …]}` (buckets with
/// observations only, from the lowest up; the key is left out when there are none).
pub fn to_py<'py>(py: Python<'py>, h: &FloatHistogram) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("count", h.count)?;
    dict.set_item("sum", h.sum)?;
    let buckets = PyList::empty(py);
    for b in h.api_buckets() {
        buckets.append((b.boundary_rule, b.lower, b.upper, b.count).into_pyobject(py)?.to_list())?;
    }
    if !buckets.is_empty() {
        dict.set_item("buckets", buckets)?;
    }
    Ok(dict)
}
