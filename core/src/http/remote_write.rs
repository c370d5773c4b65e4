//! `POST /api/v1/write`: the Prometheus remote-write 1.0 receiver.
//!
//! The body is a snappy-compressed (block format) protobuf `WriteRequest`.
//! The whole request becomes one [`Batch`] written in one commit, so a request
//! that fails to decode or validate stores nothing. Stale markers are ordinary
//! samples with the stale NaN bit pattern and are stored as sent.

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

pub(crate) async fn handler(
    State(state): State<super::State>,
    body: Body,
) -> Result<StatusCode, TextError> {
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
        if !ts.histograms.is_empty() {
            return Err(TextError::bad_request(format!(
                "series {labels} carries native histograms, which promlite does not store"
            )));
        }
        let points: Vec<Point> = ts
            .samples
            .iter()
            .map(|s| Point::new(s.timestamp, s.value))
            .collect();
        batch.add_points(&labels, &points);
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
        return Err(TextError::bad_request(format!(
            "series {labels} has the label {:?} twice",
            w[0]
        )));
    }
    labels.validate_for_storage()?;
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{is_stale_nan, stale_nan};

    fn label(n: &str, v: &str) -> prompb::Label {
        prompb::Label {
            name: n.into(),
            value: v.into(),
        }
    }

    fn encode(req: &WriteRequest) -> Vec<u8> {
        snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .unwrap()
    }

    fn series(labels: Vec<prompb::Label>, samples: &[(i64, f64)]) -> prompb::TimeSeries {
        prompb::TimeSeries {
            labels,
            samples: samples
                .iter()
                .map(|&(timestamp, value)| prompb::Sample { value, timestamp })
                .collect(),
            exemplars: vec![],
            histograms: vec![],
        }
    }

    #[test]
    fn decodes_series_samples_stale_markers_and_metadata() {
        let req = WriteRequest {
            timeseries: vec![series(
                vec![
                    label("__name__", "up"),
                    label("job", "node"),
                    label("empty", ""),
                ],
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
    fn rejects_malformed_requests() {
        let status = |body: &[u8]| decode(body, 1 << 20).unwrap_err();
        let e = status(b"definitely not snappy");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("snappy"), "{}", e.message);
        let garbage = snap::raw::Encoder::new()
            .compress_vec(&[0xff, 0xff, 0xff])
            .unwrap();
        assert!(status(&garbage)
            .message
            .contains("invalid protobuf WriteRequest"));
        let no_name = WriteRequest {
            timeseries: vec![series(vec![label("job", "x")], &[(1, 1.0)])],
            metadata: vec![],
        };
        assert!(status(&encode(&no_name))
            .message
            .contains("has no metric name"));
        let twice = WriteRequest {
            timeseries: vec![series(
                vec![label("__name__", "a"), label("x", "1"), label("x", "2")],
                &[(1, 1.0)],
            )],
            metadata: vec![],
        };
        assert!(status(&encode(&twice))
            .message
            .contains("the label \"x\" twice"));
        let mut hist = series(vec![label("__name__", "h")], &[]);
        hist.histograms.push(vec![8, 1]);
        let with_hist = WriteRequest {
            timeseries: vec![hist],
            metadata: vec![],
        };
        assert!(status(&encode(&with_hist))
            .message
            .contains("native histograms"));
        let big = WriteRequest {
            timeseries: vec![series(vec![label("__name__", "a")], &[(1, 1.0); 100])],
            metadata: vec![],
        };
        assert_eq!(
            decode(&encode(&big), 64).unwrap_err().status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
