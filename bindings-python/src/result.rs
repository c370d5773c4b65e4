//! Query results as the Prometheus API's `data` object, in Python values:
//! `{"resultType": "vector", "result": [{"metric": {...}, "value": [t, v]}]}`
//! with `t` in Unix seconds and `v` as floats (the HTTP API's strings become floats).

use promlite::Value;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

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
                item.set_item("value", point(py, s.t, s.v)?)?;
                list.append(item)?;
            }
            list.into_any()
        }
        Value::Matrix(series) => {
            let list = PyList::empty(py);
            for s in series {
                let values = PyList::empty(py);
                for p in &s.points {
                    values.append(point(py, p.t, p.v)?)?;
                }
                let item = PyDict::new(py);
                item.set_item("metric", to_dict(py, &s.labels)?)?;
                item.set_item("values", values)?;
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

/// Milliseconds to float seconds.
fn seconds(t_ms: i64) -> f64 {
    t_ms as f64 / 1000.0
}
