//! Time conversions. Python callers use the Prometheus API's convention —
//! Unix seconds as `int`/`float`, or `datetime` — while core uses milliseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// Converts Unix seconds (`int`, `float`, anything with `__float__`) or a
/// `datetime` (anything with a `timestamp()` method, e.g. `pandas.Timestamp`)
/// to milliseconds. Naive datetimes are local time, as `datetime.timestamp()` has it.
pub fn timestamp_ms(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err("a timestamp must be a number or a datetime, not bool"));
    }
    if obj.is_instance_of::<PyInt>() {
        let out_of_range = || PyValueError::new_err(format!("timestamp {obj} is out of range"));
        let secs: i64 = obj.extract().map_err(|_| out_of_range())?;
        return secs.checked_mul(1000).ok_or_else(out_of_range);
    }
    if obj.hasattr("timestamp")? {
        return seconds_to_ms(obj.call_method0("timestamp")?.extract()?);
    }
    match obj.extract::<f64>() {
        Ok(secs) => seconds_to_ms(secs),
        Err(_) => Err(PyTypeError::new_err(format!(
            "a timestamp must be Unix seconds (int or float) or a datetime, not {}",
            obj.get_type().name()?
        ))),
    }
}

/// Like [`timestamp_ms`], with `None` meaning now.
pub fn timestamp_ms_or_now(obj: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
    match obj {
        Some(o) if !o.is_none() => timestamp_ms(o),
        _ => Ok(now_ms()),
    }
}

/// Like [`timestamp_ms`], with `None` meaning `default`.
pub fn timestamp_ms_or(obj: Option<&Bound<'_, PyAny>>, default: i64) -> PyResult<i64> {
    match obj {
        Some(o) if !o.is_none() => timestamp_ms(o),
        _ => Ok(default),
    }
}

/// Rounds float seconds to whole milliseconds.
fn seconds_to_ms(secs: f64) -> PyResult<i64> {
    let ms = (secs * 1000.0).round();
    // i64::MAX as f64 rounds up to 2^63, so the upper bound must be exclusive.
    if ms.is_finite() && ms >= i64::MIN as f64 && ms < i64::MAX as f64 {
        Ok(ms as i64)
    } else {
        Err(PyValueError::new_err(format!("timestamp {secs} is not a finite time in range")))
    }
}

/// Converts a sequence of timestamps to milliseconds. NumPy arrays (and
/// pandas objects) are read through the buffer protocol without a per-element
/// Python call: float and integer arrays hold Unix seconds, `datetime64`
/// arrays are converted to milliseconds by NumPy.
pub fn timestamps_ms(obj: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    let Some((array, kind)) = as_numpy(obj)? else {
        return obj.try_iter()?.map(|item| timestamp_ms(&item?)).collect();
    };
    match kind {
        'M' => {
            let ms = typed_column::<i64>(&array.call_method1("astype", ("datetime64[ms]",))?, "int64")?;
            // NumPy's NaT is i64::MIN.
            if ms.contains(&i64::MIN) {
                return Err(PyValueError::new_err("timestamps contain NaT"));
            }
            Ok(ms)
        }
        'i' | 'u' => typed_column::<i64>(&array, "int64")?
            .into_iter()
            .map(|s| s.checked_mul(1000).ok_or_else(|| PyValueError::new_err(format!("timestamp {s} is out of range"))))
            .collect(),
        'f' => typed_column::<f64>(&array, "float64")?.into_iter().map(seconds_to_ms).collect(),
        // Object arrays (e.g. of timezone-aware pandas Timestamps): one element at a time.
        _ => array.try_iter()?.map(|item| timestamp_ms(&item?)).collect(),
    }
}

/// Converts a sequence of sample values to floats; NumPy arrays (and pandas
/// objects) of any numeric dtype go through the buffer protocol.
pub fn values(obj: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    match as_numpy(obj)? {
        Some((array, 'f' | 'i' | 'u' | 'b')) => typed_column::<f64>(&array, "float64"),
        Some((array, _)) => array.try_iter()?.map(|item| item?.extract::<f64>()).collect(),
        None => obj.try_iter()?.map(|item| item?.extract::<f64>()).collect(),
    }
}

/// For an object with a `dtype` (NumPy array, pandas Series/Index), the
/// one-dimensional NumPy array of its data and the dtype kind (`'f'`, `'i'`,
/// `'M'`, …); `None` for plain sequences.
fn as_numpy<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<(Bound<'py, PyAny>, char)>> {
    if !obj.hasattr("dtype")? {
        return Ok(None);
    }
    let array = obj.py().import("numpy")?.call_method1("asarray", (obj,))?;
    let ndim: usize = array.getattr("ndim")?.extract()?;
    if ndim != 1 {
        return Err(PyValueError::new_err(format!("expected a one-dimensional array, got {ndim} dimensions")));
    }
    let kind: String = array.getattr("dtype")?.getattr("kind")?.extract()?;
    Ok(Some((array, kind.chars().next().unwrap_or('O'))))
}

/// Copies a one-dimensional NumPy array out as `T` (int64 or float64), letting
/// NumPy convert the dtype first when it differs.
fn typed_column<T: pyo3::buffer::Element + Copy>(array: &Bound<'_, PyAny>, dtype: &str) -> PyResult<Vec<T>> {
    let py = array.py();
    if let Ok(buf) = PyBuffer::<T>::get(array) {
        return buf.to_vec(py);
    }
    PyBuffer::<T>::get(&array.call_method1("astype", (dtype,))?)?.to_vec(py)
}

/// Converts a duration given as seconds (`int`/`float`) or a `timedelta` to a [`Duration`].
pub fn duration(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Duration> {
    let secs: f64 = if obj.hasattr("total_seconds")? {
        obj.call_method0("total_seconds")?.extract()?
    } else {
        obj.extract()
            .map_err(|_| PyTypeError::new_err(format!("{what} must be seconds (int or float) or a timedelta")))?
    };
    Duration::try_from_secs_f64(secs)
        .map_err(|_| PyValueError::new_err(format!("{what} must be a non-negative, finite duration, got {secs}")))
}

/// Converts a duration to whole milliseconds (rounded), for query steps.
pub fn duration_ms(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    let d = duration(obj, what)?;
    // Float-to-int `as` saturates, so absurd durations become i64::MAX rather than wrapping.
    Ok((d.as_secs_f64() * 1000.0).round() as i64)
}
