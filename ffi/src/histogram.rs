//! Native histograms in C: `promlite_histogram` to write one (its fields,
//! as storage keeps them), `promlite_histogram_bucket` to read the buckets
//! of a query result (as the Prometheus HTTP API lists them).

use std::ffi::{c_char, c_int};

use promlite::histogram::{BucketSpan, CounterResetHint};
use promlite::FloatHistogram;

use crate::args;
use crate::batch::{promlite_batch, with_batch};
use crate::db::{promlite_db, with_db};
use crate::error::Failure;

// Counter-reset hints of `promlite_histogram.counter_reset_hint`. Stable numbers
// (those of the remote-write protocol).

/// Nothing known about counter resets.
pub const PROMLITE_HISTOGRAM_HINT_UNKNOWN: c_int = 0;
/// A counter reset happened right before this histogram.
pub const PROMLITE_HISTOGRAM_HINT_RESET: c_int = 1;
/// No counter reset happened.
pub const PROMLITE_HISTOGRAM_HINT_NOT_RESET: c_int = 2;
/// A gauge histogram (counter resets do not apply).
pub const PROMLITE_HISTOGRAM_HINT_GAUGE: c_int = 3;

/// A run of `length` consecutive buckets starting `offset` buckets after the
/// previous span (for the first span: the index of its first bucket).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct promlite_bucket_span {
    /// Gap to the previous span; only the first span's offset may be negative.
    pub offset: i32,
    /// Number of buckets in the span.
    pub length: u32,
}

/// A native histogram to write (see `promlite_batch_add_histogram`). Bucket
/// counts are absolute (not deltas), in span order. Exponential schemas are
/// -4..8 (bucket `i` covers `(2^((i-1)/2^schema), 2^(i/2^schema)]`); schema -53
/// has custom bucket bounds `custom_values` (the +Inf bucket is implied; no
/// zero bucket, no negative buckets). Array pointers may be NULL when their
/// count is 0; everything is only borrowed during the call.
#[repr(C)]
pub struct promlite_histogram {
    /// -4..8, or -53 for custom bucket bounds.
    pub schema: i32,
    /// One of the `PROMLITE_HISTOGRAM_HINT_*` constants.
    pub counter_reset_hint: c_int,
    /// Observations with `|x| <= zero_threshold` are in the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Number of observations.
    pub count: f64,
    /// Sum of the observations.
    pub sum: f64,
    /// Spans of the positive buckets.
    pub positive_spans: *const promlite_bucket_span,
    /// Number of `positive_spans`.
    pub n_positive_spans: usize,
    /// Positive bucket counts.
    pub positive_buckets: *const f64,
    /// Number of `positive_buckets` (the span lengths must add up to it).
    pub n_positive_buckets: usize,
    /// Spans of the negative buckets.
    pub negative_spans: *const promlite_bucket_span,
    /// Number of `negative_spans`.
    pub n_negative_spans: usize,
    /// Negative bucket counts (the bucket of index `i` covers the negated range of positive bucket `i`).
    pub negative_buckets: *const f64,
    /// Number of `negative_buckets`.
    pub n_negative_buckets: usize,
    /// Upper bounds of the custom buckets, strictly increasing (schema -53 only).
    pub custom_values: *const f64,
    /// Number of `custom_values`.
    pub n_custom_values: usize,
}

/// One bucket of a histogram sample in a query result, as the Prometheus
/// HTTP API lists it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct promlite_histogram_bucket {
    /// 0: `(lower, upper]`, 1: `[lower, upper)`, 2: `(lower, upper)`, 3: `[lower, upper]`.
    pub boundary_rule: c_int,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Observations in the bucket.
    pub count: f64,
}

/// `n` elements at `p`, named `name` in errors; NULL is fine when `n` is 0.
fn slice<'a, T>(p: *const T, n: usize, name: &str) -> Result<&'a [T], Failure> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: the caller promises `p` points to `n` readable elements during the call.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

impl promlite_histogram {
    /// The histogram these fields describe, checked as storage checks it.
    fn to_core(&self) -> Result<FloatHistogram, Failure> {
        let spans = |p, n, name| -> Result<Vec<BucketSpan>, Failure> {
            Ok(slice::<promlite_bucket_span>(p, n, name)?
                .iter()
                .map(|s| BucketSpan { offset: s.offset, length: s.length })
                .collect())
        };
        let counter_reset_hint = match self.counter_reset_hint {
            PROMLITE_HISTOGRAM_HINT_UNKNOWN => CounterResetHint::Unknown,
            PROMLITE_HISTOGRAM_HINT_RESET => CounterResetHint::CounterReset,
            PROMLITE_HISTOGRAM_HINT_NOT_RESET => CounterResetHint::NotCounterReset,
            PROMLITE_HISTOGRAM_HINT_GAUGE => CounterResetHint::Gauge,
            other => {
                return Err(promlite::Error::invalid(format!(
                    "histogram counter_reset_hint {other} is not one of the PROMLITE_HISTOGRAM_HINT_* constants"
                ))
                .into())
            }
        };
        let h = FloatHistogram {
            counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count,
            count: self.count,
            sum: self.sum,
            positive_spans: spans(self.positive_spans, self.n_positive_spans, "histogram->positive_spans")?,
            negative_spans: spans(self.negative_spans, self.n_negative_spans, "histogram->negative_spans")?,
            positive_buckets: slice(self.positive_buckets, self.n_positive_buckets, "histogram->positive_buckets")?
                .to_vec(),
            negative_buckets: slice(self.negative_buckets, self.n_negative_buckets, "histogram->negative_buckets")?
                .to_vec(),
            custom_values: slice(self.custom_values, self.n_custom_values, "histogram->custom_values")?.to_vec(),
        };
        h.validate()?;
        Ok(h)
    }
}

/// The histogram behind the C pointer `histogram`.
fn histogram_arg(histogram: *const promlite_histogram) -> Result<FloatHistogram, Failure> {
    args::handle(histogram, "histogram")?.to_core()
}

/// The buckets of `h` for a query result.
pub(crate) fn result_buckets(h: &FloatHistogram) -> Vec<promlite_histogram_bucket> {
    h.api_buckets()
        .map(|b| promlite_histogram_bucket {
            boundary_rule: c_int::from(b.boundary_rule),
            lower: b.lower,
            upper: b.upper,
            count: b.count,
        })
        .collect()
}

/// Adds one native-histogram sample of `series` (written like a selector,
/// see `promlite_batch_add`) at `ts_ms`. The histogram is checked now:
/// `PROMLITE_INVALID_INPUT` (see `promlite_batch_errmsg`) for spans that do
/// not match the bucket counts, negative counts, a bad schema, custom
/// bounds that do not increase, an unknown hint; `PROMLITE_MISUSE` for a
/// NULL array with a non-zero count. The batch is unchanged on failure.
#[no_mangle]
pub extern "C" fn promlite_batch_add_histogram(
    batch: *mut promlite_batch,
    series: *const c_char,
    ts_ms: i64,
    histogram: *const promlite_histogram,
) -> c_int {
    with_batch(batch, |b| {
        let labels = args::series_labels(series, "series")?;
        b.add_histogram(&labels, ts_ms, histogram_arg(histogram)?);
        Ok(())
    })
}

/// Appends one native-histogram sample and commits it; arguments and errors
/// as `promlite_batch_add_histogram`, storage codes otherwise. Nothing is
/// written on failure.
#[no_mangle]
pub extern "C" fn promlite_append_histogram(
    db: *mut promlite_db,
    series: *const c_char,
    ts_ms: i64,
    histogram: *const promlite_histogram,
) -> c_int {
    with_db(db, |db| {
        let mut batch = promlite::Batch::new();
        batch.add_histogram(&args::series_labels(series, "series")?, ts_ms, histogram_arg(histogram)?);
        db.write(&batch)?;
        Ok(())
    })
}
