//! Label sets and selectors between Python and core.

use promlite::promql;
use promlite::{Labels, Matcher};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::error::to_py_err;

/// A series given as a selector-style string (`'up{job="api"}'`) or a dict of
/// labels including `__name__`.
pub fn series(obj: &Bound<'_, PyAny>) -> PyResult<Labels> {
    if let Ok(text) = obj.cast::<PyString>() {
        return Labels::parse(text.to_str()?).map_err(to_py_err);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(dict.len());
        for (name, value) in dict.iter() {
            pairs.push((name.extract::<String>()?, value.extract::<String>()?));
        }
        return Ok(Labels::from_pairs(pairs));
    }
    Err(PyTypeError::new_err(format!(
        "a series must be a selector string like 'up{{job=\"api\"}}' or a dict of labels, not {}",
        obj.get_type().name()?
    )))
}

/// One or more series selectors (`match[]` in the Prometheus API): a string,
/// or a list/tuple of strings. Each becomes the matchers of one selector.
/// `None` means no selector (all series), where the call allows it.
pub fn selectors(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Vec<Matcher>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(text) = obj.cast::<PyString>() {
        return Ok(vec![selector(text.to_str()?)?]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter().map_err(|_| selector_type_error(obj))? {
        let item = item?;
        let text = item.cast::<PyString>().map_err(|_| selector_type_error(&item))?;
        out.push(selector(text.to_str()?)?);
    }
    Ok(out)
}

fn selector_type_error(obj: &Bound<'_, PyAny>) -> PyErr {
    let type_name = obj.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    PyTypeError::new_err(format!("a selector must be a string or a list of strings, not {type_name}"))
}

/// Parses one series selector such as `up{job=~"api|web"}` into its matchers.
fn selector(text: &str) -> PyResult<Vec<Matcher>> {
    promql::parse_selector(text).map_err(|e| to_py_err(e.into()))
}

/// A label set as a dict of name to value.
pub fn to_dict<'py>(py: Python<'py>, labels: &Labels) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for l in labels {
        dict.set_item(&l.name, &l.value)?;
    }
    Ok(dict)
}
