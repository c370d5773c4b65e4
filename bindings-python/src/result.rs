//! Query results as the Prometheus API's `data` object, in Python values:
//! `{"resultType": "vector", "result": [{"metric": {...}, "value": [t, v]}]}`
//! with `t` in Unix seconds and `v` as floats (the HTTP API's strings become
//! floats). Native-histogram samples are `"histogram": [t, {...}]` in a
//! vector and `"histograms": [[t, {...}], ...]` in a matrix, as in the API.

use promlite::Value;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::histogram;
use crate::labels::to_dict;

/// Converts a query value into the API `data` dict.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyDict>> {
    let data = PyDict::new(py);
    data.set_item("resultType", value.result_type())?;
    let result: Bound<'py, PyAny> = match value {
        Value::Scalar(p) => point(py, p.t, p.v)?.into_any(),
        Value::String { t, value } => {
            let pair = PyList::empty(py);
            pair.append(seconds(*t))?;
            pair.append(value)?;
            pair.into_any()
        }
        Value::Vector(samples) => {
            let list = PyList::empty(py);
            for s in samples {
                let item = PyDict::new(py);
                item.set_item("metric", to_dict(py, &s.labels)?)?;
                match &s.h {
                    Some(h) => item.set_item("histogram", histogram_point(py, s.t, h)?)?,
                    None => item.set_item("value", point(py, s.t, s.v)?)?,
                }
                list.append(item)?;
            }
            list.into_any()
        }
        Value::Matrix(series) => {
            let list = PyList::empty(py);
            for s in series {
                let item = PyDict::new(py);
                item.set_item("metric", to_dict(py, &s.labels)?)?;
                // As in the API: each key when the series has samples of that kind.
                if !s.points.is_empty() || s.histograms.is_empty() {
                    let values = PyList::empty(py);
                    for p in &s.points {
                        values.append(point(py, p.t, p.v)?)?;
                    }
                    item.set_item("values", values)?;
                }
                if !s.histograms.is_empty() {
                    let histograms = PyList::empty(py);
                    for p in &s.histograms {
                        histograms.append(histogram_point(py, p.t, &p.h)?)?;
                    }
                    item.set_item("histograms", histograms)?;
                }
                list.append(item)?;
            }
            list.into_any()
        }
    };
    data.set_item("result", result)?;
    Ok(data)
}

/// `[t, v]` with `t` in seconds.
fn point(py: Python<'_>, t: i64, v: f64) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, [seconds(t), v])
}

/// `[t, {"count": …, "sum": …, "buckets": […]}]` with `t` in seconds.
fn histogram_point<'py>(py: Python<'py>, t: i64, h: &promlite::FloatHistogram) -> PyResult<Bound<'py, PyList>> {
    let pair = PyList::empty(py);
    pair.append(seconds(t))?;
    pair.append(histogram::to_py(py, h)?)?;
    Ok(pair)
}

/// Milliseconds to float seconds.
fn seconds(t_ms: i64) -> f64 {
    t_ms as f64 / 1000.0
}
