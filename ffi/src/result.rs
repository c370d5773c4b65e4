//! `promlite_result`: a query value (or a series listing) converted once into
//! C-readable form, and its accessors.

use std::ffi::{c_char, c_int};

use promlite::{FloatHistogram, Labels, Point, QueryResult, Series, Value};

use crate::args::{self, nth, out, out_text, CText};
use crate::error::{guard, run};
use crate::histogram::{promlite_histogram_bucket, result_buckets};

// What a `promlite_result` holds, as `promlite_result_type` reports it. Stable numbers.

/// Result type: one number, i.e. one series without labels, with one sample.
pub const PROMLITE_RESULT_SCALAR: c_int = 1;
/// Result type: a string; no series, read it with `promlite_result_string`.
pub const PROMLITE_RESULT_STRING: c_int = 2;
/// Result type: an instant vector; each series has exactly one sample: a
/// float sample or a native-histogram sample (`promlite_result_histogram`).
pub const PROMLITE_RESULT_VECTOR: c_int = 3;
/// Result type: a range vector, a range query or `promlite_select`; each
/// series has its float samples and its native-histogram samples, each in time order.
pub const PROMLITE_RESULT_MATRIX: c_int = 4;
/// Result type: from `promlite_series`; label sets only, every series has zero samples.
pub const PROMLITE_RESULT_SERIES: c_int = 5;

/// The result of a query or a series listing: zero or more series, each with
/// labels and samples, plus any warnings/infos. Every pointer an accessor
/// hands out is owned by the result and valid until `promlite_result_free`.
///
/// Threads: immutable once returned, so any number of threads may read it at
/// once; free it after the last reader is done.
pub struct promlite_result {
    kind: c_int,
    series: Vec<ResultSeries>,
    string: Option<CText>,
    warnings: Vec<CText>,
    infos: Vec<CText>,
}

struct ResultSeries {
    /// The label set written out, e.g. `up{job="api"}` (`{}` when empty).
    text: CText,
    labels: Vec<(CText, CText)>,
    timestamps: Vec<i64>,
    values: Vec<f64>,
    histograms: Vec<ResultHistogram>,
}

/// A native-histogram sample in the form the HTTP API shows.
struct ResultHistogram {
    t: i64,
    count: f64,
    sum: f64,
    buckets: Vec<promlite_histogram_bucket>,
}

impl ResultSeries {
    fn new<'h>(
        labels: &Labels,
        points: impl IntoIterator<Item = Point>,
        histograms: impl IntoIterator<Item = (i64, &'h FloatHistogram)>,
    ) -> ResultSeries {
        let (timestamps, values) = points.into_iter().map(|p| (p.t, p.v)).unzip();
        ResultSeries {
            text: CText::new(&labels.to_string()),
            labels: labels.iter().map(|l| (CText::new(&l.name), CText::new(&l.value))).collect(),
            timestamps,
            values,
            histograms: histograms
                .into_iter()
                .map(|(t, h)| ResultHistogram { t, count: h.count, sum: h.sum, buckets: result_buckets(h) })
                .collect(),
        }
    }
}

fn matrix_series(series: &[Series]) -> Vec<ResultSeries> {
    series
        .iter()
        .map(|s| ResultSeries::new(&s.labels, s.points.iter().copied(), s.histograms.iter().map(|p| (p.t, &*p.h))))
        .collect()
}

impl promlite_result {
    /// Converts a query's value, warnings and infos.
    pub(crate) fn from_query(q: &QueryResult) -> promlite_result {
        let mut string = None;
        let (kind, series) = match &q.value {
            Value::Scalar(p) => (PROMLITE_RESULT_SCALAR, vec![ResultSeries::new(&Labels::new(), [*p], [])]),
            Value::String { value, .. } => {
                string = Some(CText::new(value));
                (PROMLITE_RESULT_STRING, Vec::new())
            }
            Value::Vector(samples) => (
                PROMLITE_RESULT_VECTOR,
                samples
                    .iter()
                    .map(|s| match &s.h {
                        Some(h) => ResultSeries::new(&s.labels, [], [(s.t, &**h)]),
                        None => ResultSeries::new(&s.labels, [Point::new(s.t, s.v)], []),
                    })
                    .collect(),
            ),
            Value::Matrix(matrix) => (PROMLITE_RESULT_MATRIX, matrix_series(matrix)),
        };
        promlite_result {
            kind,
            series,
            string,
            warnings: q.warnings.iter().map(|w| CText::new(w)).collect(),
            infos: q.infos.iter().map(|i| CText::new(i)).collect(),
        }
    }

    /// Series with their samples, as `promlite_select` returns them.
    pub(crate) fn from_series(series: &[Series]) -> promlite_result {
        promlite_result {
            kind: PROMLITE_RESULT_MATRIX,
            series: matrix_series(series),
            string: None,
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }

    /// Label sets without samples, as `promlite_series` returns them.
    pub(crate) fn from_label_sets(sets: Vec<Labels>) -> promlite_result {
        promlite_result {
            kind: PROMLITE_RESULT_SERIES,
            series: sets.iter().map(|l| ResultSeries::new(l, [], [])).collect(),
            string: None,
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }

    pub(crate) fn into_raw(self) -> *mut promlite_result {
        Box::into_raw(Box::new(self))
    }

    fn series(&self, i: usize) -> Result<&ResultSeries, crate::error::Failure> {
        nth(&self.series, i, "series")
    }
}

/// Frees a result and everything its accessors handed out. NULL is a no-op.
#[no_mangle]
pub extern "C" fn promlite_result_free(result: *mut promlite_result) {
    if !result.is_null() {
        // SAFETY: a non-NULL result came from this library and is freed once.
        guard((), || drop(unsafe { Box::from_raw(result) }));
    }
}

/// On success `*result_type` is one of the `PROMLITE_RESULT_*` constants.
#[no_mangle]
pub extern "C" fn promlite_result_type(result: *const promlite_result, result_type: *mut c_int) -> c_int {
    run(None, || {
        let r = args::handle(result, "result")?;
        out(result_type, "result_type")?.set(r.kind);
        Ok(())
    })
}

/// On success `*count` is the number of series (1 for a scalar, 0 for a string).
#[no_mangle]
pub extern "C" fn promlite_result_series_count(result: *const promlite_result, count: *mut usize) -> c_int {
    run(None, || {
        let r = args::handle(result, "result")?;
        out(count, "count")?.set(r.series.len());
        Ok(())
    })
}

/// On success `*text`/`*len` is series `i`'s label set written the
/// Prometheus way, e.g. `http_requests_total{code="200", job="api"}`
/// (`{}` for no labels). NUL-terminated; owned by the result.
/// `PROMLITE_RANGE` if `i` >= the series count.
#[no_mangle]
pub extern "C" fn promlite_result_metric(
    result: *const promlite_result,
    i: usize,
    text: *mut *const c_char,
    len: *mut usize,
) -> c_int {
    run(None, || {
        let s = args::handle(result, "result")?.series(i)?;
        out_text(text, "text", len, "len")?.set(&s.text);
        Ok(())
    })
}

/// On success `*count` is the number of labels of series `i` (including `__name__`).
#[no_mangle]
pub extern "C" fn promlite_result_label_count(result: *const promlite_result, i: usize, count: *mut usize) -> c_int {
    run(None, || {
        let s = args::handle(result, "result")?.series(i)?;
        out(count, "count")?.set(s.labels.len());
        Ok(())
    })
}

/// On success, label `j` (labels are sorted by name) of series `i`: its name
/// and value, each NUL-terminated with its length in bytes (a value may
/// contain NUL bytes; trust the length). Owned by the result.
/// `PROMLITE_RANGE` if `i` or `j` is out of range.
#[no_mangle]
pub extern "C" fn promlite_result_label(
    result: *const promlite_result,
    i: usize,
    j: usize,
    name: *mut *const c_char,
    name_len: *mut usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> c_int {
    run(None, || {
        let (n, v) = nth(&args::handle(result, "result")?.series(i)?.labels, j, "label")?;
        let name = out_text(name, "name", name_len, "name_len")?;
        let value = out_text(value, "value", value_len, "value_len")?;
        name.set(n);
        value.set(v);
        Ok(())
    })
}

/// On success `*timestamps` and `*values` point to `*count` float samples
/// of series `i` in time order (milliseconds since the epoch; values may be NaN
/// or ±Inf); native-histogram samples are read with `promlite_result_histogram`. Owned by the result; `*count` may be 0 (then the pointers must
/// not be read). `PROMLITE_RANGE` if `i` >= the series count.
#[no_mangle]
pub extern "C" fn promlite_result_samples(
    result: *const promlite_result,
    i: usize,
    timestamps: *mut *const i64,
    values: *mut *const f64,
    count: *mut usize,
) -> c_int {
    run(None, || {
        let s = args::handle(result, "result")?.series(i)?;
        let (t, v, n) = (out(timestamps, "timestamps")?, out(values, "values")?, out(count, "count")?);
        t.set(s.timestamps.as_ptr());
        v.set(s.values.as_ptr());
        n.set(s.timestamps.len());
        Ok(())
    })
}

/// On success `*count` is the number of native-histogram samples of series
/// `i` (0 for series with float samples only; in a vector, 1 for a series
/// whose sample is a histogram). `PROMLITE_RANGE` if `i` >= the series count.
#[no_mangle]
pub extern "C" fn promlite_result_histogram_count(
    result: *const promlite_result,
    i: usize,
    count: *mut usize,
) -> c_int {
    run(None, || {
        let s = args::handle(result, "result")?.series(i)?;
        out(count, "count")?.set(s.histograms.len());
        Ok(())
    })
}

/// On success, native-histogram sample `j` (in time order) of series `i`:
/// `*ts_ms`, its number of observations `*count` and their `*sum`, and
/// `*buckets` pointing to `*n_buckets` buckets with observations, lowest
/// first, as the Prometheus HTTP API lists them (owned by the result; do not
/// read them when `*n_buckets` is 0). `PROMLITE_RANGE` if `i` or `j` is out of range.
#[no_mangle]
pub extern "C" fn promlite_result_histogram(
    result: *const promlite_result,
    i: usize,
    j: usize,
    ts_ms: *mut i64,
    count: *mut f64,
    sum: *mut f64,
    buckets: *mut *const promlite_histogram_bucket,
    n_buckets: *mut usize,
) -> c_int {
    run(None, || {
        let h = nth(&args::handle(result, "result")?.series(i)?.histograms, j, "histogram sample")?;
        let (t, c, s, b, n) = (
            out(ts_ms, "ts_ms")?,
            out(count, "count")?,
            out(sum, "sum")?,
            out(buckets, "buckets")?,
            out(n_buckets, "n_buckets")?,
        );
        t.set(h.t);
        c.set(h.count);
        s.set(h.sum);
        b.set(h.buckets.as_ptr());
        n.set(h.buckets.len());
        Ok(())
    })
}

/// On success `*text`/`*len` is the value of a `PROMLITE_RESULT_STRING`
/// result, NUL-terminated and owned by the result. `PROMLITE_MISUSE` for
/// other result types.
#[no_mangle]
pub extern "C" fn promlite_result_string(
    result: *const promlite_result,
    text: *mut *const c_char,
    len: *mut usize,
) -> c_int {
    run(None, || {
        let r = args::handle(result, "result")?;
        let out = out_text(text, "text", len, "len")?;
        let s = r.string.as_ref().ok_or_else(|| {
            crate::error::Failure::Misuse("promlite_result_string called on a result that is not a string".into())
        })?;
        out.set(s);
        Ok(())
    })
}

/// On success `*count` is the number of warnings the query produced (e.g.
/// "metric might not be a counter"), as Prometheus returns in `warnings`.
#[no_mangle]
pub extern "C" fn promlite_result_warning_count(result: *const promlite_result, count: *mut usize) -> c_int {
    annotation_count(result, count, |r| &r.warnings)
}

/// On success `*text`/`*len` is warning `i`, NUL-terminated and owned by the result.
#[no_mangle]
pub extern "C" fn promlite_result_warning(
    result: *const promlite_result,
    i: usize,
    text: *mut *const c_char,
    len: *mut usize,
) -> c_int {
    annotation(result, (i, "warning"), text, len, |r| &r.warnings)
}

/// On success `*count` is the number of infos (Prometheus `infos`) the query produced.
#[no_mangle]
pub extern "C" fn promlite_result_info_count(result: *const promlite_result, count: *mut usize) -> c_int {
    annotation_count(result, count, |r| &r.infos)
}

/// On success `*text`/`*len` is info `i`, NUL-terminated and owned by the result.
#[no_mangle]
pub extern "C" fn promlite_result_info(
    result: *const promlite_result,
    i: usize,
    text: *mut *const c_char,
    len: *mut usize,
) -> c_int {
    annotation(result, (i, "info"), text, len, |r| &r.infos)
}

type Annotations = fn(&promlite_result) -> &Vec<CText>;

fn annotation_count(result: *const promlite_result, count: *mut usize, which: Annotations) -> c_int {
    run(None, || {
        out(count, "count")?.set(which(args::handle(result, "result")?).len());
        Ok(())
    })
}

fn annotation(
    result: *const promlite_result,
    (i, what): (usize, &str),
    text: *mut *const c_char,
    len: *mut usize,
    which: Annotations,
) -> c_int {
    run(None, || {
        let a = nth(which(args::handle(result, "result")?), i, what)?;
        out_text(text, "text", len, "len")?.set(a);
        Ok(())
    })
}
