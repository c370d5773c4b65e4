//! `GET /federate?match[]=…`: the newest sample of every matching series in
//! the Prometheus text format, so a Prometheus server can scrape promlite
//! (with `honor_labels: true` to keep the series' own `job`/`instance`).
//!
//! As Prometheus does: a series appears if it has a sample within the
//! lookback window (5 minutes) before now and that sample is not a stale
//! marker; the union over all `match[]` selectors is served, grouped by
//! metric name, each family typed `untyped`, with sample timestamps.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::params::Params;
use super::response::TextError;
use super::{now_ms, run_blocking};
use crate::model::{is_legacy_label_name, is_legacy_metric_name, is_stale_nan, Labels, Point, METRIC_NAME};
use crate::value::format_value;

pub(crate) async fn handler(State(state): State<super::State>, params: Params) -> Result<Response, TextError> {
    let sets = params.matcher_sets().map_err(|e| TextError::bad_request(e.message))?;
    if sets.is_empty() {
        return Err(TextError::bad_request("federation needs at least one match[] selector"));
    }
    let now = now_ms();
    let lookback = i64::try_from(state.db.options().query.lookback_delta.as_millis()).unwrap_or(i64::MAX);
    let db = state.db.clone();
    let newest = run_blocking(move || {
        let mut found: Vec<(Labels, Point)> = Vec::new();
        for matchers in &sets {
            db.for_each_series(matchers, now.saturating_sub(lookback), now, |s| {
                if let Some(last) = s.points.last().filter(|p| !is_stale_nan(p.v)) {
                    found.push((s.labels, *last));
                }
                Ok(())
            })?;
        }
        Ok(found)
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        render(newest),
    )
        .into_response())
}

/// The text format of `samples` (may repeat series; each is written once).
fn render(mut samples: Vec<(Labels, Point)>) -> String {
    samples.sort_by(|(a, _), (b, _)| a.metric_name().cmp(&b.metric_name()).then_with(|| a.cmp(b)));
    samples.dedup_by(|(a, _), (b, _)| a == b);
    let mut out = String::new();
    let mut family: Option<&str> = None;
    for (labels, point) in &samples {
        let Some(name) = labels.metric_name() else { continue };
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
    fn renders_families_once_and_round_trips_through_the_parser() {
        let l = |s: &str| Labels::parse(s).unwrap();
        let samples = vec![
            (l(r#"up{job="b", instance="x"}"#), Point::new(2000, 0.0)),
            (l(r#"up{job="a", Zone="q\"uo\\te\nline"}"#), Point::new(1000, 1.0)),
            (l("node_load1"), Point::new(3000, f64::INFINITY)),
            (l(r#"up{job="b", instance="x"}"#), Point::new(2000, 0.0)),
            (l(r#"{"my.metric", "odd-label"="v"}"#), Point::new(4000, 1.5)),
        ];
        let text = render(samples);
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
