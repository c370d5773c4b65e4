//! `POST /api/v1/write`: the Prometheus remote-write 1.0 receiver.
//!
//! The body is a snappy-compressed (block format) protobuf `WriteRequest`.
//! The whole request becomes one [`Batch`] written in one commit, so a request
//! that fails to decode or validate stores nothing. Stale markers are ordinary
//! samples with the stale NaN bit pattern and are stored as sent. Native
//! histograms (integer or float, exponential or custom buckets) are checked
//! and stored as float histograms.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use prost::Message;

use super::prompb::{self, WriteRequest};
use super::response::TextError;
use super::run_blocking;
use super::telemetry::Source;
use crate::db::{Batch, MetricMetadata};
use crate::model::{Labels, Point};

pub(crate) async fn handler(State(state): State<super::State>, body: Body) -> Result<StatusCode, TextError> {
    let body = super::read_body(body, state.config.max_body_bytes).await?;
    let batch = decode(&body, state.config.max_decoded_bytes)?;
    let samples = batch.len();
    let db = state.db.clone();
    run_blocking(move || db.write(&batch)).await?;
    state.telemetry.add_samples(Source::RemoteWrite, samples);
    Ok(StatusCode::NO_CONTENT)
}

/// Decodes and validates a request body into a batch.
pub(crate) fn decode(body: &[u8], max_decoded_bytes: usize) -> Result<Batch, TextError> {
    let raw = decompress(body, max_decoded_bytes)?;
    let request = WriteRequest::decode(raw.as_slice())
        .map_err(|e| TextError::bad_request(format!("invalid protobuf WriteRequest: {e}")))?;

    let mut batch = Batch::new();
    for ts in &request.timeseries {
        let labels = series_labels(&ts.labels)?;
        let points: Vec<Point> = ts.samples.iter().map(|s| Point::new(s.timestamp, s.value)).collect();
        batch.add_points(&labels, &points);
        for wire in &ts.histograms {
            let h = wire
                .to_float_histogram()
                .map_err(|e| TextError::bad_request(format!("series {labels}, sample at {}: {e}", wire.timestamp)))?;
            batch.add_histogram(&labels, wire.timestamp, h);
        }
    }
    for m in request.metadata {
        batch.add_metadata(MetricMetadata {
            kind: prompb::metric_type_name(m.r#type).to_string(),
            metric: m.metric_family_name,
            help: m.help,
            unit: m.unit,
        });
    }
    Ok(batch)
}

/// A snappy body decompressed: 400 if it is not snappy, 413 beyond the limit
/// (also used by remote read).
pub(crate) fn decompress(body: &[u8], max_decoded_bytes: usize) -> Result<Vec<u8>, TextError> {
    prompb::snappy_decompress(body, max_decoded_bytes).map_err(|e| {
        let status = match e {
            prompb::SnappyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            prompb::SnappyError::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        TextError::new(status, e.to_string())
    })
}

/// The label set of a series, refusing empty or repeated names and a missing metric name.
fn series_labels(pairs: &[prompb::Label]) -> Result<Labels, TextError> {
    let labels = Labels::from_pairs(pairs.iter().map(|l| (l.name.as_str(), l.value.as_str())));
    let mut names: Vec<&str> = pairs.iter().map(|l| l.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(TextError::bad_request(format!("series {labels} has the label {:?} twice", w[0])));
    }
    labels.validate_for_storage()?;
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{is_stale_nan, stale_nan};

    fn label(n: &str, v: &str) -> prompb::Label {
        prompb::Label { name: n.into(), value: v.into() }
    }

    fn encode(req: &WriteRequest) -> Vec<u8> {
        snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).unwrap()
    }

    fn series(labels: Vec<prompb::Label>, samples: &[(i64, f64)]) -> prompb::TimeSeries {
        prompb::TimeSeries {
            labels,
            samples: samples.iter().map(|&(timestamp, value)| prompb::Sample { value, timestamp }).collect(),
            exemplars: vec![],
            histograms: vec![],
        }
    }

    #[test]
    fn decodes_series_samples_stale_markers_and_metadata() {
        let req = WriteRequest {
            timeseries: vec![series(
                vec![label("__name__", "up"), label("job", "node"), label("empty", "")],
                &[(1000, 1.0), (2000, stale_nan())],
            )],
            metadata: vec![prompb::MetricMetadata {
                r#type: 1,
                metric_family_name: "http_requests_total".into(),
                help: "Requests.".into(),
                unit: String::new(),
            }],
        };
        let batch = decode(&encode(&req), 1 << 20).unwrap();
        assert_eq!(batch.len(), 2);
        let (labels, points) = &batch.series()[0];
        assert_eq!(labels.to_string(), r#"up{job="node"}"#);
        assert_eq!(points[0], Point::new(1000, 1.0));
        assert!(is_stale_nan(points[1].v));
        assert_eq!(batch.metadata()[0].kind, "counter");
    }

    #[test]
    fn decodes_integer_and_float_native_histograms() {
        let mut ts = series(vec![label("__name__", "h"), label("job", "x")], &[(500, 2.0)]);
        ts.histograms = vec![
            prompb::Histogram {
                count: Some(prompb::HistogramCount::CountInt(5)),
                sum: 12.5,
                schema: 0,
                zero_threshold: 0.001,
                zero_count: Some(prompb::HistogramZeroCount::ZeroCountInt(1)),
                positive_spans: vec![prompb::BucketSpan { offset: 1, length: 2 }],
                positive_deltas: vec![3, -2],
                reset_hint: 2,
                timestamp: 1000,
                ..Default::default()
            },
            prompb::Histogram {
                count: Some(prompb::HistogramCount::CountFloat(2.5)),
                sum: 4.0,
                schema: -53,
                positive_spans: vec![prompb::BucketSpan { offset: 0, length: 2 }],
                positive_counts: vec![0.5, 2.0],
                custom_values: vec![1.0],
                reset_hint: 3,
                timestamp: 2000,
                ..Default::default()
            },
        ];
        let req = WriteRequest { timeseries: vec![ts], metadata: vec![] };
        let batch = decode(&encode(&req), 1 << 20).unwrap();
        assert_eq!(batch.len(), 3, "one float and two histogram samples");
        let (labels, hs) = &batch.histograms()[0];
        assert_eq!(labels.to_string(), r#"h{job="x"}"#);
        assert_eq!(hs[0].t, 1000);
        assert_eq!(
            hs[0].h.to_string(),
            "{{schema:0 count:5 sum:12.5 z_bucket:1 z_bucket_w:0.001 counter_reset_hint:not_reset offset:1 buckets:[3 1]}}"
        );
        assert_eq!(hs[1].t, 2000);
        assert_eq!(
            hs[1].h.to_string(),
            "{{schema:-53 count:2.5 sum:4 custom_values:[1] counter_reset_hint:gauge buckets:[0.5 2]}}"
        );
    }

    #[test]
    fn rejects_malformed_requests() {
        let status = |body: &[u8]| decode(body, 1 << 20).unwrap_err();
        let e = status(b"definitely not snappy");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("snappy"), "{}", e.message);
        let garbage = snap::raw::Encoder::new().compress_vec(&[0xff, 0xff, 0xff]).unwrap();
        assert!(status(&garbage).message.contains("invalid protobuf WriteRequest"));
        let no_name = WriteRequest { timeseries: vec![series(vec![label("job", "x")], &[(1, 1.0)])], metadata: vec![] };
        assert!(status(&encode(&no_name)).message.contains("has no metric name"));
        let twice = WriteRequest {
            timeseries: vec![series(vec![label("__name__", "a"), label("x", "1"), label("x", "2")], &[(1, 1.0)])],
            metadata: vec![],
        };
        assert!(status(&encode(&twice)).message.contains("the label \"x\" twice"));
        let mut hist = series(vec![label("__name__", "h")], &[(1, 1.0)]);
        hist.histograms.push(prompb::Histogram {
            count: Some(prompb::HistogramCount::CountInt(1)),
            positive_spans: vec![prompb::BucketSpan { offset: 0, length: 2 }],
            positive_deltas: vec![1],
            timestamp: 7,
            ..Default::default()
        });
        let bad_hist = WriteRequest { timeseries: vec![hist], metadata: vec![] };
        let e = status(&encode(&bad_hist));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("series h, sample at 7: invalid native histogram: positive side"), "{}", e.message);
        let big =
            WriteRequest { timeseries: vec![series(vec![label("__name__", "a")], &[(1, 1.0); 100])], metadata: vec![] };
        assert_eq!(decode(&encode(&big), 64).unwrap_err().status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
