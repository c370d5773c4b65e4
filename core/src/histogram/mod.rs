//! Native histograms: Prometheus's sparse histograms with exponential buckets
//! (schemas -4 to 8) and histograms with custom bucket bounds (schema -53,
//! "NHCB"), held as float histograms (bucket counts are absolute, not deltas).
//!
//! The math PromQL needs lives in submodules, one concern each: bucket bounds
//! and iteration (`buckets`), the promqltest notation (`notation`), the HTTP
//! API's JSON form (`json`), arithmetic, resets and equality (`ops`), compensated
//! sums (`kahan`), quantiles and other statistics (`stats`), the trim
//! operators `</` and `>/` (`trim`), the checks before storing (`validate`).
//!
//! ```
//! use promlite::FloatHistogram;
//!
//! let mut h = FloatHistogram::parse_test_notation("{{schema:0 count:4 sum:5 buckets:[1 2 1]}}")?;
//! let (median, _) = h.quantile(0.5); // inside (1,2], interpolated exponentially
//! assert!((median - 2f64.sqrt()).abs() < 1e-12);
//! // Schema 1 bucket 2, (√2,2], joins schema 0 bucket 1, (1,2].
//! h.add(&FloatHistogram::parse_test_notation("{{schema:1 count:1 sum:3 offset:2 buckets:[1]}}")?)?;
//! assert_eq!(h.to_string(), "{{schema:0 count:5 sum:8 buckets:[1 3 1]}}");
//! assert_eq!(h.to_api_json(), r#"{"count":"5","sum":"8","buckets":[[0,"0.5","1","1"],[0,"1","2","3"],[0,"2","4","1"]]}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod buckets;
mod json;
mod kahan;
mod notation;
mod ops;
mod stats;
mod trim;
mod validate;

#[cfg(test)]
mod properties;

pub use buckets::{
    bucket_bound, exponential_bound, index_in_schema, is_exponential_schema, Bucket, LayoutBuilder, SpanIter,
    MAX_EXPONENTIAL_SCHEMA, MIN_EXPONENTIAL_SCHEMA,
};
pub use json::ApiBucket;
pub use kahan::kahan_inc;
pub(crate) use ops::almost_equal;
pub use ops::{custom_bounds_match, CombineNotes, MixedSchemasError};
pub use stats::QuantileNaNNote;

/// Schema number of histograms with custom bucket bounds.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// A run of `length` consecutive buckets starting `offset` buckets after the
/// end of the previous span (for the first span: after bucket index 0, i.e.
/// the first bucket has index `offset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketSpan {
    /// Gap to the previous span (may be negative for the first span).
    pub offset: i32,
    /// Number of buckets in the span.
    pub length: u32,
}

/// What the producer said about counter resets between this histogram and the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterResetHint {
    /// Nothing known: detect resets by comparing.
    #[default]
    Unknown,
    /// A counter reset happened right before this histogram.
    CounterReset,
    /// No counter reset happened.
    NotCounterReset,
    /// The histogram is a gauge histogram: resets don't apply.
    Gauge,
}

impl CounterResetHint {
    /// The hint's name as the promqltest notation writes it: `unknown`,
    /// `reset`, `not_reset` or `gauge`.
    pub fn name(self) -> &'static str {
        match self {
            CounterResetHint::Unknown => "unknown",
            CounterResetHint::CounterReset => "reset",
            CounterResetHint::NotCounterReset => "not_reset",
            CounterResetHint::Gauge => "gauge",
        }
    }

    /// The hint called `name` (see [`CounterResetHint::name`]).
    pub fn from_name(name: &str) -> Option<CounterResetHint> {
        [
            CounterResetHint::Unknown,
            CounterResetHint::CounterReset,
            CounterResetHint::NotCounterReset,
            CounterResetHint::Gauge,
        ]
        .into_iter()
        .find(|h| h.name() == name)
    }
}

/// A native histogram sample with float counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// Counter-reset information from the producer.
    pub counter_reset_hint: CounterResetHint,
    /// Bucket resolution: bucket `i` covers `(base^(i-1), base^i]` with
    /// `base = 2^(2^-schema)`; or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Observations with `|x| <= zero_threshold` go to the zero bucket.
    pub zero_threshold: f64,
    /// Count of the zero bucket.
    pub zero_count: f64,
    /// Total number of observations.
    pub count: f64,
    /// Sum of all observations.
    pub sum: f64,
    /// Spans of the positive buckets.
    pub positive_spans: Vec<BucketSpan>,
    /// Spans of the negative buckets.
    pub negative_spans: Vec<BucketSpan>,
    /// Absolute counts of the positive buckets, in span order.
    pub positive_buckets: Vec<f64>,
    /// Absolute counts of the negative buckets, in span order.
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the buckets for [`CUSTOM_BUCKETS_SCHEMA`] (the last
    /// bucket, up to +Inf, has no entry).
    pub custom_values: Vec<f64>,
}

impl FloatHistogram {
    /// Whether this is a histogram with custom bucket bounds.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }
}

/// Prometheus's promqltest files, for the tests that check this module
/// against them: `$PROMQL_TESTDATA`, `testdata/promql` or
/// `../shared/promql-testdata` (as the conformance runner looks them up).
#[cfg(test)]
fn promql_testdata_dir() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut candidates: Vec<std::path::PathBuf> =
        std::env::var_os("PROMQL_TESTDATA").map(Into::into).into_iter().collect();
    candidates
        .extend(["testdata/promql", "../shared/promql-testdata", "../../shared/promql-testdata"].map(|p| root.join(p)));
    candidates
        .into_iter()
        .find(|p| p.join("literals.test").is_file())
        .expect("promqltest files not found; set PROMQL_TESTDATA")
}
