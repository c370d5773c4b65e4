//! Native histograms between JS and core: written from an object of the
//! `FloatHistogram` fields (camelCase) or the promqltest notation, read back
//! in the Prometheus HTTP API's shape with numbers.

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use promlite::histogram::{BucketSpan, CounterResetHint};
use promlite::FloatHistogram;

use crate::error::{bad_data, to_js, Result};

/// One run of buckets: `offset` from the previous span (the first: the first index), `length` buckets.
#[napi(object)]
pub struct HistogramSpan {
    pub offset: i32,
    pub length: u32,
}

/// A histogram's fields; all optional (absent numbers are 0).
#[napi(object)]
#[derive(Default)]
pub struct HistogramInput {
    pub schema: Option<i32>,
    pub count: Option<f64>,
    pub sum: Option<f64>,
    pub zero_threshold: Option<f64>,
    pub zero_count: Option<f64>,
    pub positive_spans: Option<Vec<HistogramSpan>>,
    pub positive_buckets: Option<Vec<f64>>,
    pub negative_spans: Option<Vec<HistogramSpan>>,
    pub negative_buckets: Option<Vec<f64>>,
    pub custom_values: Option<Vec<f64>>,
    /// `unknown`, `reset`, `not_reset` or `gauge`.
    pub counter_reset_hint: Option<String>,
}

/// A histogram as JS passes it: the notation `'{{schema:0 count:3 buckets:[1 2]}}'` or a `HistogramInput`.
pub type HistogramArg = Either<String, HistogramInput>;

fn spans(spans: Option<Vec<HistogramSpan>>) -> Vec<BucketSpan> {
    spans.unwrap_or_default().into_iter().map(|s| BucketSpan { offset: s.offset, length: s.length }).collect()
}

/// The histogram of an argument, checked as storage checks it.
pub fn from_js(arg: HistogramArg) -> Result<FloatHistogram> {
    let h = match arg {
        Either::A(text) => FloatHistogram::parse_test_notation(&text).map_err(to_js)?,
        Either::B(input) => {
            let counter_reset_hint = match input.counter_reset_hint.as_deref() {
                None => CounterResetHint::Unknown,
                Some(name) => CounterResetHint::from_name(name).ok_or_else(|| {
                    bad_data(format!("counterResetHint must be unknown, reset, not_reset or gauge, got {name:?}"))
                })?,
            };
            FloatHistogram {
                counter_reset_hint,
                schema: input.schema.unwrap_or(0),
                zero_threshold: input.zero_threshold.unwrap_or(0.0),
                zero_count: input.zero_count.unwrap_or(0.0),
                count: input.count.unwrap_or(0.0),
                sum: input.sum.unwrap_or(0.0),
                positive_spans: spans(input.positive_spans),
                negative_spans: spans(input.negative_spans),
                positive_buckets: input.positive_buckets.unwrap_or_default(),
                negative_buckets: input.negative_buckets.unwrap_or_default(),
                custom_values: input.custom_values.unwrap_or_default(),
            }
        }
    };
    h.validate().map_err(to_js)?;
    Ok(h)
}

/// The HTTP API's histogram object with numbers: `buckets` are
/// `[boundaryRule, lower, upper, count]` (only buckets with observations,
/// lowest first; absent when there are none).
#[napi(object, object_from_js = false)]
pub struct HistogramValue {
    pub count: f64,
    pub sum: f64,
    pub buckets: Option<Vec<(u32, f64, f64, f64)>>,
}

impl From<&FloatHistogram> for HistogramValue {
    fn from(h: &FloatHistogram) -> Self {
        let buckets: Vec<(u32, f64, f64, f64)> =
            h.api_buckets().map(|b| (u32::from(b.boundary_rule), b.lower, b.upper, b.count)).collect();
        HistogramValue { count: h.count, sum: h.sum, buckets: (!buckets.is_empty()).then_some(buckets) }
    }
}
