//! Native histograms: Prometheus's sparse histograms with exponential buckets
//! (schemas -4 to 8) and histograms with custom bucket bounds (schema -53,
//! "NHCB"), held as float histograms (bucket counts are absolute, not deltas).

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
