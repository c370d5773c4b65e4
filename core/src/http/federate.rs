//! `GET /federate?match[]=…`: the newest sample of every matching series,
//! so a Prometheus server can scrape promlite (with `honor_labels: true` to
//! keep the series' own `job`/`instance`).
//!
//! As Prometheus does: a series appears if its newest sample within the
//! lookback window (5 minutes) before now is not a stale marker; the union
//! over all `match[]` selectors is served, grouped by metric name, with
//! sample timestamps. The answer is in the text format 0.0.4 (families typed
//! `untyped`), or in the protobuf format when the scraper's `Accept` header
//! prefers it (see `federate_protobuf`). Only the protobuf format carries
//! native histograms: in the text format, series whose newest sample is a
//! histogram are left out, as Prometheus leaves them out.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::federate_protobuf;
use super::params::Params;
use super::response::TextError;
use super::{now_ms, run_blocking};
use crate::model::{is_legacy_label_name, is_legacy_metric_name, is_stale_nan, HPoint, Labels, Point, METRIC_NAME};
use crate::value::format_value;

/// The newest sample of a series: a float or a native histogram.
#[derive(Debug, Clone)]
enum Newest {
    Float(Point),
    Histogram(HPoint),
}

impl Newest {
    fn t(&self) -> i64 {
        match self {
            Newest::Float(p) => p.t,
            Newest::Histogram(p) => p.t,
        }
    }
}

pub(crate) async fn handler(
    State(state): State<super::State>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, TextError> {
    let sets = params.matcher_sets().map_err(|e| TextError::bad_request(e.message))?;
    if sets.is_empty() {
        return Err(TextError::bad_request("federation needs at least one match[] selector"));
    }
    let protobuf = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(prefers_protobuf);
    let now = now_ms();
    let lookback = i64::try_from(state.db.options().query.lookback_delta.as_millis()).unwrap_or(i64::MAX);
    let db = state.db.clone();
    let newest = run_blocking(move || {
        let mut found: Vec<(Labels, Newest)> = Vec::new();
        for matchers in &sets {
            db.for_each_series(matchers, now.saturating_sub(lookback), now, |s| {
                let float = s.points.last().map(|p| Newest::Float(*p));
                let histogram = s.histograms.last().map(|p| Newest::Histogram(p.clone()));
                // A histogram wins a tie: storage may hold both kinds at one timestamp.
                let newest = match (float, histogram) {
                    (Some(f), Some(h)) => Some(if f.t() > h.t() { f } else { h }),
                    (f, h) => h.or(f),
                };
                let stale = match &newest {
                    Some(Newest::Float(p)) => is_stale_nan(p.v),
                    Some(Newest::Histogram(p)) => is_stale_nan(p.h.sum),
                    None => true,
                };
                if let (Some(newest), false) = (newest, stale) {
                    found.push((s.labels, newest));
                }
                Ok(())
            })?;
        }
        Ok(found)
    })
    .await?;
    let newest = sorted_unique(newest);
    if protobuf {
        let samples = newest.iter().map(|(labels, n)| {
            let value = match n {
                Newest::Float(p) => federate_protobuf::Value::Float(p.v),
                Newest::Histogram(p) => federate_protobuf::Value::Histogram(&p.h),
            };
            (labels, n.t(), value)
        });
        let body = federate_protobuf::encode(samples);
        return Ok(([(header::CONTENT_TYPE, federate_protobuf::CONTENT_TYPE)], body).into_response());
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(&newest)).into_response())
}

/// Samples by metric name, then labels, each series once (`match[]` sets may overlap).
fn sorted_unique(mut samples: Vec<(Labels, Newest)>) -> Vec<(Labels, Newest)> {
    samples.sort_by(|(a, _), (b, _)| a.metric_name().cmp(&b.metric_name()).then_with(|| a.cmp(b)));
    samples.dedup_by(|(a, _), (b, _)| a == b);
    samples
}

/// Whether an `Accept` header asks for the delimited protobuf format before
/// the text format: media ranges in order of their `q` (stable), the first
/// one promlite serves decides.
fn prefers_protobuf(accept: &str) -> bool {
    let mut ranges: Vec<(f64, bool)> = Vec::new();
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let (mut q, mut proto, mut encoding) = (1.0, "", "");
        for param in parts {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "q" => q = value.parse().unwrap_or(0.0),
                "proto" => proto = value,
                "encoding" => encoding = value,
                _ => {}
            }
        }
        let served = match media.as_str() {
            "application/vnd.google.protobuf" => {
                (proto == "io.prometheus.client.MetricFamily" && encoding == "delimited").then_some(true)
            }
            "text/plain" | "text/*" | "*/*" => Some(false),
            _ => None,
        };
        if let (Some(protobuf), true) = (served, q > 0.0) {
            ranges.push((q, protobuf));
        }
    }
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges.first().is_some_and(|&(_, protobuf)| protobuf)
}

/// The text format of `samples` (sorted and unique); histograms have no
/// place in it and are left out.
fn render(samples: &[(Labels, Newest)]) -> String {
    let mut out = String::new();
    let mut family: Option<&str> = None;
    for (labels, newest) in samples {
        let (Some(name), Newest::Float(point)) = (labels.metric_name(), newest) else { continue };
        if family != Some(name) {
            out.push_str("# TYPE ");
            write_metric_name(&mut out, name);
            out.push_str(" untyped\n");
            family = Some(name);
        }
        write_series(&mut out, name, labels);
        let _ = writeln!(out, " {} {}", format_value(point.v), point.t);
    }
    out
}

/// `name{a="1",b="2"}`; a name that is not a legacy one goes inside the braces, quoted.
fn write_series(out: &mut String, name: &str, labels: &Labels) {
    let quoted_name = !is_legacy_metric_name(name);
    if !quoted_name {
        out.push_str(name);
    }
    let mut rest = labels.iter().filter(|l| l.name != METRIC_NAME).peekable();
    if rest.peek().is_none() && !quoted_name {
        return;
    }
    out.push('{');
    let mut first = true;
    if quoted_name {
        write_escaped(out, name);
        first = false;
    }
    for l in rest {
        if !first {
            out.push(',');
        }
        first = false;
        if is_legacy_label_name(&l.name) {
            out.push_str(&l.name);
        } else {
            write_escaped(out, &l.name);
        }
        out.push('=');
        write_escaped(out, &l.value);
    }
    out.push('}');
}

fn write_metric_name(out: &mut String, name: &str) {
    if is_legacy_metric_name(name) {
        out.push_str(name);
    } else {
        write_escaped(out, name);
    }
}

/// A quoted string with the text format's three escapes.
fn write_escaped(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{parse, Format};

    #[test]
    fn negotiates_protobuf_only_when_the_scraper_prefers_it() {
        let proto = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
        // Prometheus with native histograms enabled.
        assert!(prefers_protobuf(&format!(
            "{proto};q=0.8,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
        )));
        assert!(prefers_protobuf(proto));
        // Prometheus without: OpenMetrics first (not served), then text.
        assert!(!prefers_protobuf("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assert!(!prefers_protobuf(&format!("text/plain;q=0.9, {proto};q=0.5")));
        assert!(!prefers_protobuf(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"
        ));
        assert!(!prefers_protobuf(&format!("{proto};q=0")));
        assert!(!prefers_protobuf(""));
    }

    #[test]
    fn renders_families_once_and_round_trips_through_the_parser() {
        let l = |s: &str| Labels::parse(s).unwrap();
        let f = |t, v| Newest::Float(Point::new(t, v));
        let samples = vec![
            (l(r#"up{job="b", instance="x"}"#), f(2000, 0.0)),
            (l(r#"up{job="a", Zone="q\"uo\\te\nline"}"#), f(1000, 1.0)),
            (l("node_load1"), f(3000, f64::INFINITY)),
            (l(r#"up{job="b", instance="x"}"#), f(2000, 0.0)),
            (l(r#"{"my.metric", "odd-label"="v"}"#), f(4000, 1.5)),
            (l("native"), Newest::Histogram(HPoint::new(5000, Default::default()))),
        ];
        let text = render(&sorted_unique(samples));
        assert!(!text.contains("native"), "{text}");
        assert_eq!(text.matches("# TYPE up untyped").count(), 1, "{text}");
        assert!(text.contains("node_load1 +Inf 3000\n"), "{text}");
        assert!(text.contains(r#"up{instance="x",job="b"} 0 2000"#), "{text}");
        assert!(text.contains(r#"up{Zone="q\"uo\\te\nline",job="a"} 1 1000"#), "{text}");
        let legacy: String = text.lines().filter(|l| !l.contains("my.metric")).map(|l| format!("{l}\n")).collect();
        let parsed = parse(&legacy, Format::PrometheusText).unwrap();
        assert_eq!(parsed.samples.len(), 3);
        let quoted = parsed.samples.iter().find(|s| s.labels.get("Zone").is_some()).unwrap();
        assert_eq!(quoted.labels.get("Zone"), Some("q\"uo\\te\nline"));
        assert_eq!(quoted.timestamp, Some(1000));
        assert!(text.contains(r#"{"my.metric","odd-label"="v"} 1.5 4000"#), "{text}");
    }
}
