//! The Prometheus remote-write 1.0 protobuf messages (`prometheus/prompb`),
//! written out with `prost` derives so no `protoc` is needed. Field numbers
//! follow `remote.proto` / `types.proto`; fields promlite does not use yet
//! are kept so a later sender or remote-read server can reuse these types.
//! [`encode_write_request`] produces a request body as a remote-write sender does.

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
    /// Native histograms, kept undecoded: promlite stores float samples only.
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub histograms: Vec<Vec<u8>>,
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

/// A remote-write request body: the protobuf encoding, snappy-compressed
/// (block format), ready to `POST` with `Content-Encoding: snappy`.
pub fn encode_write_request(request: &WriteRequest) -> Vec<u8> {
    let raw = prost::Message::encode_to_vec(request);
    // Compressing into a buffer of the right size cannot fail.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}
