//! The Prometheus remote-write 1.0 and remote-read protobuf messages
//! (`prometheus/prompb`), written out with `prost` derives so no `protoc` is
//! needed. Field numbers follow `remote.proto` / `types.proto`.
//! [`encode_write_request`] produces a request body as a remote-write sender does;
//! [`snappy_compress`] / [`snappy_decompress`] frame any message the same way.

/// `prometheus.WriteRequest`
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series and their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metric family metadata (Prometheus sends it in separate requests).
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// The series' labels, including `__name__`.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Float samples in time order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars (not stored by promlite).
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native-histogram samples in time order (converted with
    /// [`Histogram::from_float_histogram`] / [`Histogram::to_float_histogram`]).
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Histogram`: one native-histogram sample. Integer histograms
/// carry `count_int`, `zero_count_int` and delta-encoded bucket counts
/// (`*_deltas`: each bucket's count minus the previous one's); float histograms
/// carry `count_float`, `zero_count_float` and absolute counts (`*_counts`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Number of observations, integer or float.
    #[prost(oneof = "HistogramCount", tags = "1, 2")]
    pub count: Option<HistogramCount>,
    /// Sum of the observations (the stale marker NaN marks a stale histogram).
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// -4..=8 exponential, -53 custom bucket bounds.
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// Width of the zero bucket.
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// Observations in the zero bucket, integer or float.
    #[prost(oneof = "HistogramZeroCount", tags = "6, 7")]
    pub zero_count: Option<HistogramZeroCount>,
    /// Spans of the negative buckets.
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    /// Negative bucket counts as deltas (integer histograms).
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    /// Absolute negative bucket counts (float histograms).
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    /// Spans of the positive buckets.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Positive bucket counts as deltas (integer histograms).
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// Absolute positive bucket counts (float histograms).
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    /// `ResetHint`: `UNKNOWN` = 0, `YES` = 1, `NO` = 2, `GAUGE` = 3.
    #[prost(int32, tag = "14")]
    pub reset_hint: i32,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
    /// Upper bounds of the custom buckets (schema -53).
    #[prost(double, repeated, tag = "16")]
    pub custom_values: Vec<f64>,
}

/// The `count` of a [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramCount {
    /// Integer histogram.
    #[prost(uint64, tag = "1")]
    CountInt(u64),
    /// Float histogram.
    #[prost(double, tag = "2")]
    CountFloat(f64),
}

/// The `zero_count` of a [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramZeroCount {
    /// Integer histogram.
    #[prost(uint64, tag = "6")]
    ZeroCountInt(u64),
    /// Float histogram.
    #[prost(double, tag = "7")]
    ZeroCountFloat(f64),
}

/// `prometheus.BucketSpan`
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct BucketSpan {
    /// Gap to the previous span (for the first span: the first bucket's index).
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Number of consecutive buckets.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// `prometheus.Label`
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

impl From<&crate::model::Label> for Label {
    fn from(l: &crate::model::Label) -> Self {
        Label { name: l.name.clone(), value: l.value.clone() }
    }
}

/// `prometheus.Sample`
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// The value (the stale marker is a NaN with a special bit pattern).
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Exemplar labels (e.g. a trace id).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Exemplar value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// `MetricMetadata.MetricType` (see [`metric_type_name`]).
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The family name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// HELP text.
    #[prost(string, tag = "4")]
    pub help: String,
    /// Unit, or empty.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// The name of a `MetricMetadata.MetricType` value, as the metadata API prints it.
pub fn metric_type_name(t: i32) -> &'static str {
    match t {
        1 => "counter",
        2 => "gauge",
        3 => "histogram",
        4 => "gaugehistogram",
        5 => "summary",
        6 => "info",
        7 => "stateset",
        _ => "unknown",
    }
}

/// `prometheus.ReadRequest`: one or more queries of a remote-read call.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadRequest {
    /// The queries, answered in order.
    #[prost(message, repeated, tag = "1")]
    pub queries: Vec<Query>,
    /// Response types the client accepts, in order of preference
    /// ([`RESPONSE_TYPE_SAMPLES`], [`RESPONSE_TYPE_STREAMED_XOR_CHUNKS`]);
    /// empty means samples.
    #[prost(int32, repeated, tag = "2")]
    pub accepted_response_types: Vec<i32>,
}

/// `ReadRequest.ResponseType.SAMPLES`: one `ReadResponse` with raw samples.
pub const RESPONSE_TYPE_SAMPLES: i32 = 0;
/// `ReadRequest.ResponseType.STREAMED_XOR_CHUNKS` (not served by promlite).
pub const RESPONSE_TYPE_STREAMED_XOR_CHUNKS: i32 = 1;

/// `prometheus.Query`: the series matching all matchers, samples in a time range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Query {
    /// Start of the range, ms, inclusive.
    #[prost(int64, tag = "1")]
    pub start_timestamp_ms: i64,
    /// End of the range, ms, inclusive.
    #[prost(int64, tag = "2")]
    pub end_timestamp_ms: i64,
    /// Label matchers, all of which must match.
    #[prost(message, repeated, tag = "3")]
    pub matchers: Vec<LabelMatcher>,
    /// What the querying engine will do with the data (promlite ignores it).
    #[prost(message, optional, tag = "4")]
    pub hints: Option<ReadHints>,
}

/// `prometheus.LabelMatcher`
#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelMatcher {
    /// `EQ` = 0, `NEQ` = 1, `RE` = 2, `NRE` = 3.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// Label name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Value or regular expression.
    #[prost(string, tag = "3")]
    pub value: String,
}

/// `prometheus.ReadHints`
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadHints {
    /// Query step, ms.
    #[prost(int64, tag = "1")]
    pub step_ms: i64,
    /// The function applied to the data, if any.
    #[prost(string, tag = "2")]
    pub func: String,
    /// Start of the data needed, ms.
    #[prost(int64, tag = "3")]
    pub start_ms: i64,
    /// End of the data needed, ms.
    #[prost(int64, tag = "4")]
    pub end_ms: i64,
    /// Labels of an enclosing aggregation.
    #[prost(string, repeated, tag = "5")]
    pub grouping: Vec<String>,
    /// Whether `grouping` is `by` (else `without`).
    #[prost(bool, tag = "6")]
    pub by: bool,
    /// Range of a range selector, ms.
    #[prost(int64, tag = "7")]
    pub range_ms: i64,
}

/// `prometheus.ReadResponse` (response type `SAMPLES`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadResponse {
    /// One result per query, in request order.
    #[prost(message, repeated, tag = "1")]
    pub results: Vec<QueryResult>,
}

/// `prometheus.QueryResult`
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryResult {
    /// Matching series with their samples in time order.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// A remote-write request body: the protobuf encoding, snappy-compressed
/// (block format), ready to `POST` with `Content-Encoding: snappy`.
pub fn encode_write_request(request: &WriteRequest) -> Vec<u8> {
    snappy_compress(&prost::Message::encode_to_vec(request))
}

/// Snappy block-format compression, as remote write and remote read frame their bodies.
pub fn snappy_compress(raw: &[u8]) -> Vec<u8> {
    // Compressing into a buffer of the right size cannot fail.
    snap::raw::Encoder::new().compress_vec(raw).unwrap_or_default()
}

/// Undoes [`snappy_compress`], refusing output larger than `max_len` bytes
/// (checked from the header before decompressing).
///
/// # Errors
/// A message for a body that is not snappy or decompresses to more than `max_len`.
pub fn snappy_decompress(body: &[u8], max_len: usize) -> Result<Vec<u8>, SnappyError> {
    let len = snap::raw::decompress_len(body).map_err(|e| SnappyError::Invalid(e.to_string()))?;
    if len > max_len {
        return Err(SnappyError::TooLarge { len, max_len });
    }
    snap::raw::Decoder::new().decompress_vec(body).map_err(|e| SnappyError::Invalid(e.to_string()))
}

/// Why [`snappy_decompress`] refused a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnappyError {
    /// Not valid snappy block format.
    Invalid(String),
    /// The decompressed size exceeds the limit.
    TooLarge {
        /// Decompressed size announced by the body.
        len: usize,
        /// The limit.
        max_len: usize,
    },
}

impl std::fmt::Display for SnappyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnappyError::Invalid(e) => write!(f, "invalid snappy-compressed body: {e}"),
            SnappyError::TooLarge { len, max_len } => {
                write!(f, "decompressed body of {len} bytes exceeds the limit of {max_len} bytes")
            }
        }
    }
}

impl std::error::Error for SnappyError {}
