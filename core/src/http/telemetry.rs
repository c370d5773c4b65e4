//! The server's own metrics, served at `GET /metrics` in the text format:
//! requests and latencies per handler, samples ingested, database size.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use super::response::TextError;
use super::{now_ms, run_blocking};
use crate::remote::RemoteWriteStats;
use crate::value::{format_value, write_json_string};

/// Upper bounds (seconds) of the request latency histogram.
const LATENCY_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 120.0];

/// Where ingested samples came from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    Push = 0,
    RemoteWrite = 1,
}

const SOURCE_NAMES: [&str; 2] = ["push", "remote_write"];

#[derive(Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    sum: f64,
    count: u64,
}

pub(crate) struct Telemetry {
    started_ms: i64,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latencies: Mutex<BTreeMap<String, Histogram>>,
    samples: [AtomicU64; 2],
}

impl Telemetry {
    pub fn new() -> Self {
        Telemetry {
            started_ms: now_ms(),
            requests: Mutex::new(BTreeMap::new()),
            latencies: Mutex::new(BTreeMap::new()),
            samples: [AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    pub fn add_samples(&self, source: Source, n: usize) {
        self.samples[source as usize].fetch_add(n as u64, Ordering::Relaxed);
    }

    fn observe(&self, handler: &str, code: u16, seconds: f64) {
        *self.requests.lock().entry((handler.to_string(), code)).or_insert(0) += 1;
        let mut latencies = self.latencies.lock();
        let h = latencies.entry(handler.to_string()).or_default();
        for (bound, count) in LATENCY_BUCKETS.iter().zip(h.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self, db_size_bytes: u64) -> String {
        let mut out = String::new();
        family(&mut out, "promlite_http_requests_total", "counter", "HTTP requests served, by route and status code.");
        for ((handler, code), n) in self.requests.lock().iter() {
            out.push_str("promlite_http_requests_total{handler=");
            write_json_string(&mut out, handler);
            let _ = writeln!(out, ",code=\"{code}\"}} {n}");
        }
        family(&mut out, "promlite_http_request_duration_seconds", "histogram", "HTTP request latency, by route.");
        for (handler, h) in self.latencies.lock().iter() {
            let mut quoted = String::new();
            write_json_string(&mut quoted, handler);
            for (bound, count) in LATENCY_BUCKETS.iter().zip(h.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "promlite_http_request_duration_seconds_bucket{{handler={quoted},le=\"{}\"}} {count}",
                    format_value(*bound)
                );
            }
            let _ = writeln!(
                out,
                "promlite_http_request_duration_seconds_bucket{{handler={quoted},le=\"+Inf\"}} {}",
                h.count
            );
            let _ =
                writeln!(out, "promlite_http_request_duration_seconds_sum{{handler={quoted}}} {}", format_value(h.sum));
            let _ = writeln!(out, "promlite_http_request_duration_seconds_count{{handler={quoted}}} {}", h.count);
        }
        family(
            &mut out,
            "promlite_samples_ingested_total",
            "counter",
            "Samples written through push and remote write.",
        );
        for (name, n) in SOURCE_NAMES.iter().zip(&self.samples) {
            let _ = writeln!(out, "promlite_samples_ingested_total{{source=\"{name}\"}} {}", n.load(Ordering::Relaxed));
        }
        family(&mut out, "promlite_database_size_bytes", "gauge", "Size of the database file(s) in bytes.");
        let _ = writeln!(out, "promlite_database_size_bytes {db_size_bytes}");
        family(&mut out, "promlite_build_info", "gauge", "promlite version; always 1.");
        let _ = writeln!(out, "promlite_build_info{{version=\"{}\"}} 1", crate::VERSION);
        family(
            &mut out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch in seconds.",
        );
        let _ = writeln!(out, "process_start_time_seconds {}", format_value(self.started_ms as f64 / 1000.0));
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Middleware counting every routed request by its route pattern.
pub(crate) async fn track(State(state): State<super::State>, request: Request, next: Next) -> Response {
    let handler = request.extensions().get::<MatchedPath>().map_or("other", |p| p.as_str()).to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    state.telemetry.observe(&handler, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

/// The remote-write senders' stats, one family per figure, labelled like
/// Prometheus's own `prometheus_remote_storage_*` series (`remote_name`, `url`).
fn render_remote_write(out: &mut String, senders: &[RemoteWriteStats]) {
    type Figure = fn(&RemoteWriteStats) -> f64;
    let families: [(&str, &str, &str, Figure); 11] = [
        ("samples_sent_total", "counter", "Samples the receiver accepted.", |s| s.samples_sent as f64),
        ("requests_sent_total", "counter", "Requests the receiver accepted.", |s| s.requests_sent as f64),
        ("bytes_sent_total", "counter", "Compressed bytes of accepted requests.", |s| s.bytes_sent as f64),
        (
            "samples_dropped_total",
            "counter",
            "Samples dropped because the receiver refused them (4xx other than 429).",
            |s| s.samples_dropped as f64,
        ),
        ("requests_failed_total", "counter", "Send attempts that failed (network errors and non-2xx answers).", |s| {
            s.requests_failed as f64
        }),
        ("retries_total", "counter", "Send attempts repeated after 5xx, 429 or network errors.", |s| s.retries as f64),
        (
            "samples_skipped_total",
            "counter",
            "Samples not sent by keep/drop selectors or overwritten in the same batch.",
            |s| s.samples_skipped as f64,
        ),
        ("pending_samples", "gauge", "Samples committed but not yet acknowledged by the sender.", |s| {
            s.pending_samples as f64
        }),
        ("lag_seconds", "gauge", "How long the oldest pending sample has been waiting.", |s| s.lag_seconds),
        (
            "newest_sent_timestamp_seconds",
            "gauge",
            "Timestamp of the newest sample the receiver accepted (0 before any).",
            |s| s.newest_sent_timestamp_ms.map_or(0.0, |t| t as f64 / 1000.0),
        ),
        ("running", "gauge", "1 if the sender runs in this process, 0 if it is only registered in the file.", |s| {
            f64::from(u8::from(s.running))
        }),
    ];
    for (suffix, kind, help, figure) in families {
        let name = format!("promlite_remote_write_{suffix}");
        family(out, &name, kind, help);
        for s in senders {
            let _ = write!(out, "{name}{{remote_name=");
            write_json_string(out, &s.name);
            out.push_str(",url=");
            write_json_string(out, &s.url);
            let _ = writeln!(out, "}} {}", format_value(figure(s)));
        }
    }
}

/// `GET /metrics`
pub(crate) async fn handler(State(state): State<super::State>) -> Result<Response, TextError> {
    let db = state.db.clone();
    let (size, senders) = run_blocking(move || Ok((db.size_bytes()?, db.remote_write_stats()?))).await?;
    let mut body = state.telemetry.render(size);
    render_remote_write(&mut body, &senders);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{parse, Format};

    #[test]
    fn renders_valid_exposition() {
        let t = Telemetry::new();
        t.observe("/api/v1/query", 200, 0.003);
        t.observe("/api/v1/query", 200, 0.2);
        t.observe("/api/v1/query", 400, 0.0001);
        t.add_samples(Source::RemoteWrite, 7);
        let parsed = parse(&t.render(4096), Format::PrometheusText).unwrap();
        let value = |series: &str| {
            parsed.samples.iter().find(|s| s.labels.to_string() == series).map(|s| s.value).unwrap_or(f64::NAN)
        };
        assert_eq!(value(r#"promlite_http_requests_total{code="200", handler="/api/v1/query"}"#), 2.0);
        assert_eq!(value(r#"promlite_http_requests_total{code="400", handler="/api/v1/query"}"#), 1.0);
        assert_eq!(value(r#"promlite_http_request_duration_seconds_bucket{handler="/api/v1/query", le="0.005"}"#), 2.0);
        assert_eq!(value(r#"promlite_http_request_duration_seconds_count{handler="/api/v1/query"}"#), 3.0);
        assert_eq!(value(r#"promlite_samples_ingested_total{source="remote_write"}"#), 7.0);
        assert_eq!(value("promlite_database_size_bytes"), 4096.0);
        let histogram = parsed.metadata.iter().find(|m| m.metric == "promlite_http_request_duration_seconds").unwrap();
        assert_eq!(histogram.kind, "histogram");
    }

    #[test]
    fn renders_remote_write_stats_per_sender() {
        let sender = RemoteWriteStats {
            name: "mimir \"eu\"".into(),
            url: "https://mimir.example/api/v1/push".into(),
            running: true,
            samples_sent: 42,
            pending_samples: 7,
            lag_seconds: 1.5,
            newest_sent_timestamp_ms: Some(1_700_000_000_500),
            ..RemoteWriteStats::default()
        };
        let mut out = String::new();
        render_remote_write(&mut out, &[sender]);
        let parsed = parse(&out, Format::PrometheusText).unwrap();
        let value = |name: &str| {
            parsed
                .samples
                .iter()
                .find(|s| s.labels.metric_name() == Some(name))
                .map(|s| (s.labels.clone(), s.value))
                .unwrap()
        };
        let (labels, sent) = value("promlite_remote_write_samples_sent_total");
        assert_eq!(sent, 42.0);
        assert_eq!(labels.get("remote_name"), Some("mimir \"eu\""));
        assert_eq!(labels.get("url"), Some("https://mimir.example/api/v1/push"));
        assert_eq!(value("promlite_remote_write_pending_samples").1, 7.0);
        assert_eq!(value("promlite_remote_write_lag_seconds").1, 1.5);
        assert_eq!(value("promlite_remote_write_newest_sent_timestamp_seconds").1, 1_700_000_000.5);
        assert_eq!(value("promlite_remote_write_running").1, 1.0);
        assert_eq!(parsed.metadata.iter().filter(|m| m.kind == "counter").count(), 7);
    }
}
