//! `POST /api/v1/read`: Prometheus remote read, response type `SAMPLES`, so
//! a Prometheus server can use promlite as `remote_read` storage.
//!
//! The body is a snappy-compressed protobuf `ReadRequest`; the answer is a
//! snappy-compressed `ReadResponse` with one result per query: every
//! matching series with its raw samples in the query's range (stale markers
//! included, as Prometheus stores and serves them) and its native histograms.
//! The samples of one request are limited by the server's `max_samples`.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;

use super::prompb::{self, ReadRequest, ReadResponse};
use super::remote_write::decompress;
use super::response::TextError;
use super::run_blocking;
use crate::error::Error;
use crate::model::{MatchOp, Matcher};

pub(crate) async fn handler(State(state): State<super::State>, body: Body) -> Result<Response, TextError> {
    let body = super::read_body(body, state.config.max_body_bytes).await?;
    let raw = decompress(&body, state.config.max_decoded_bytes)?;
    let request = ReadRequest::decode(raw.as_slice())
        .map_err(|e| TextError::bad_request(format!("invalid protobuf ReadRequest: {e}")))?;
    let accepted = &request.accepted_response_types;
    if !accepted.is_empty() && !accepted.contains(&prompb::RESPONSE_TYPE_SAMPLES) {
        return Err(TextError::bad_request(format!(
            "none of the accepted response types {accepted:?} is served; promlite answers with SAMPLES (0)"
        )));
    }
    let queries = request
        .queries
        .iter()
        .map(|q| Ok((matchers(&q.matchers)?, q.start_timestamp_ms, q.end_timestamp_ms)))
        .collect::<Result<Vec<_>, TextError>>()?;
    let db = state.db.clone();
    let limit = state.config.max_samples;
    let response = run_blocking(move || answer(&db, &queries, limit)).await?;
    let body = prompb::snappy_compress(&response.encode_to_vec());
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-protobuf"), (header::CONTENT_ENCODING, "snappy")],
        Bytes::from(body),
    )
        .into_response())
}

/// The matchers of one query; an unknown type or a bad regex is the client's error.
fn matchers(wire: &[prompb::LabelMatcher]) -> Result<Vec<Matcher>, TextError> {
    wire.iter()
        .map(|m| {
            let op = match m.r#type {
                0 => MatchOp::Equal,
                1 => MatchOp::NotEqual,
                2 => MatchOp::RegexMatch,
                3 => MatchOp::RegexNoMatch,
                other => return Err(TextError::bad_request(format!("unknown label matcher type {other}"))),
            };
            Ok(Matcher::new(op, m.name.clone(), m.value.clone())?)
        })
        .collect()
}

fn answer(db: &crate::Db, queries: &[(Vec<Matcher>, i64, i64)], limit: usize) -> crate::Result<ReadResponse> {
    let mut samples = 0usize;
    let mut results = Vec::with_capacity(queries.len());
    for (matchers, start, end) in queries {
        let mut timeseries = Vec::new();
        db.for_each_series(matchers, *start, *end, |s| {
            samples += s.points.len() + s.histograms.len();
            if samples > limit {
                return Err(Error::invalid(format!("remote read exceeds the limit of {limit} samples per request")));
            }
            timeseries.push(prompb::TimeSeries {
                labels: s.labels.iter().map(prompb::Label::from).collect(),
                samples: s.points.iter().map(|p| prompb::Sample { value: p.v, timestamp: p.t }).collect(),
                exemplars: Vec::new(),
                histograms: s.histograms.iter().map(|p| prompb::Histogram::from_float_histogram(&p.h, p.t)).collect(),
            });
            Ok(())
        })?;
        results.push(prompb::QueryResult { timeseries });
    }
    Ok(ReadResponse { results })
}
