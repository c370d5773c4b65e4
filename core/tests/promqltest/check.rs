//! Compares a query's outcome with an eval's expectations, with the rules of
//! Prometheus's promqltest harness (1e-6 relative float tolerance).

use promlite::histogram::FloatHistogram;
use promlite::{format_value, Error, Labels, QueryResult, Series, Value};

use super::script::{Eval, Expected, MessageMatch};
use super::series_desc::{ExpectedHistogram, SeqValue};

/// Go's `almost.Equal`: relative comparison; two NaNs are equal.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < EPSILON * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

/// Prometheus's histogram comparison: both compacted, then schema, zero
/// bucket, custom bounds and layout equal, counts and sum within 1e-6; the
/// counter-reset hint only when the script spelled it out.
pub fn histogram_matches(want: &ExpectedHistogram, got: &FloatHistogram) -> bool {
    want.h.approx_eq(got, 1e-6) && (!want.hint_set || want.h.counter_reset_hint == got.counter_reset_hint)
}

/// Checks an outcome: errors, annotations, then the value.
/// `points` gives `(start, end, step)` for matching expected matrix values.
pub fn check_outcome(eval: &Eval, outcome: &Result<QueryResult, Error>, points: (i64, i64, i64)) -> Result<(), String> {
    let result = match (outcome, &eval.fail) {
        (Err(e), Some(m)) => {
            return if m.matches(&e.to_string()) {
                Ok(())
            } else {
                Err(format!("expected error matching {} but got: {e}", m.describe()))
            }
        }
        (Err(e), None) => return Err(format!("unexpected error: {e}")),
        (Ok(_), Some(_)) => return Err("expected an error but the query succeeded".into()),
        (Ok(r), None) => r,
    };
    check_annotations(eval, result)?;
    compare_value(eval, &result.value, points)
}

fn check_kind(kind: &str, expected: &[MessageMatch], actual: &[String]) -> Result<(), String> {
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected {kind} annotations but none were found"));
    }
    for e in expected {
        if !actual.iter().any(|a| e.matches(a)) {
            return Err(format!("expected {kind} annotation matching {} but found {actual:?}", e.describe()));
        }
    }
    for a in actual {
        if !expected.iter().any(|e| e.matches(a)) {
            return Err(format!("unexpected {kind} annotation {a:?}"));
        }
    }
    Ok(())
}

fn check_annotations(eval: &Eval, r: &QueryResult) -> Result<(), String> {
    if eval.any_warn && r.warnings.is_empty() {
        return Err("expected warnings but got none".into());
    }
    if eval.any_info && r.infos.is_empty() {
        return Err("expected info annotations but got none".into());
    }
    check_kind("warn", &eval.warn, &r.warnings)?;
    check_kind("info", &eval.info, &r.infos)?;
    if eval.no_warn && !r.warnings.is_empty() {
        return Err(format!("unexpected warning annotations: {:?}", r.warnings));
    }
    if eval.no_info && !r.infos.is_empty() {
        return Err(format!("unexpected info annotations: {:?}", r.infos));
    }
    Ok(())
}

fn expected_series(eval: &Eval) -> &[(Labels, Vec<SeqValue>)] {
    match &eval.expected {
        Expected::Series(s) => s,
        _ => &[],
    }
}

pub fn compare_value(eval: &Eval, value: &Value, (start, end, step): (i64, i64, i64)) -> Result<(), String> {
    let expected = expected_series(eval);
    match value {
        Value::Matrix(series) => {
            if eval.ordered {
                return Err("expected ordered result, but query returned a matrix".into());
            }
            if matches!(eval.expected, Expected::Scalar(_)) {
                return Err("expected scalar result, but got a matrix".into());
            }
            if series.windows(2).any(|w| w[0].labels > w[1].labels) {
                return Err("matrix results should always be sorted by labels".into());
            }
            for s in series {
                let Some((_, values)) = expected.iter().find(|(l, _)| *l == s.labels) else {
                    return Err(format!("unexpected metric {} in result, has {}", s.labels, points_text(s)));
                };
                let mut want = Vec::new();
                let mut want_h = Vec::new();
                for (i, v) in values.iter().enumerate() {
                    let t = start + i as i64 * step;
                    if t > end {
                        return Err(format!(
                            "expected {} points for {}, but the range cannot hold them",
                            values.len(),
                            s.labels
                        ));
                    }
                    match v {
                        SeqValue::Float(f) => want.push((t, *f)),
                        SeqValue::Histogram(h) => want_h.push((t, h)),
                        SeqValue::Omitted => {}
                    }
                }
                if want.len() != s.points.len() || want_h.len() != s.histograms.len() {
                    return Err(format!(
                        "expected {} float points and {} histogram points for {}, but got {}",
                        want.len(),
                        want_h.len(),
                        s.labels,
                        points_text(s)
                    ));
                }
                for ((t, h), p) in want_h.iter().zip(&s.histograms) {
                    if *t != p.t {
                        return Err(format!("expected a histogram at t={t} for {}, got {}", s.labels, points_text(s)));
                    }
                    if !histogram_matches(h, &p.h) {
                        return Err(format!("expected {} at t={t} for {}, got {}", h.h, s.labels, points_text(s)));
                    }
                }
                for ((t, f), p) in want.iter().zip(&s.points) {
                    if *t != p.t {
                        return Err(format!("expected a point at t={t} for {}, got {}", s.labels, points_text(s)));
                    }
                    if !almost_equal(*f, p.v) {
                        return Err(format!(
                            "expected {} at t={t} for {}, got {}",
                            format_value(*f),
                            s.labels,
                            points_text(s)
                        ));
                    }
                }
            }
            for (l, _) in expected {
                if !series.iter().any(|s| s.labels == *l) {
                    return Err(format!("expected metric {l} not found"));
                }
            }
            Ok(())
        }
        Value::Vector(samples) => {
            if matches!(eval.expected, Expected::Scalar(_)) {
                return Err("expected scalar result, but got a vector".into());
            }
            for (pos, s) in samples.iter().enumerate() {
                let Some(idx) = expected.iter().position(|(l, _)| *l == s.labels) else {
                    return Err(format!("unexpected metric {} in result, has value {}", s.labels, sample_text(s)));
                };
                if eval.ordered && idx != pos {
                    return Err(format!("expected metric {} at position {} but was at {}", s.labels, idx + 1, pos + 1));
                }
                match (expected[idx].1.first(), &s.h) {
                    (Some(SeqValue::Float(f)), None) if almost_equal(*f, s.v) => {}
                    (Some(SeqValue::Histogram(want)), Some(got)) if histogram_matches(want, got) => {}
                    (Some(SeqValue::Float(f)), None) => {
                        return Err(format!(
                            "expected {} for {} but got {}",
                            format_value(*f),
                            s.labels,
                            format_value(s.v)
                        ))
                    }
                    (Some(SeqValue::Histogram(want)), _) => {
                        return Err(format!("expected {} for {} but got {}", want.h, s.labels, sample_text(s)))
                    }
                    (other, _) => {
                        return Err(format!("expected {other:?} for {} but got {}", s.labels, sample_text(s)))
                    }
                }
            }
            for (l, _) in expected {
                if !samples.iter().any(|s| s.labels == *l) {
                    return Err(format!("expected metric {l} not found"));
                }
            }
            Ok(())
        }
        Value::Scalar(p) => match eval.expected {
            Expected::Scalar(f) if almost_equal(f, p.v) => Ok(()),
            Expected::Scalar(f) => Err(format!("expected scalar {} but got {}", format_value(f), format_value(p.v))),
            _ => Err(format!("expected vector or matrix result, but got scalar {}", format_value(p.v))),
        },
        Value::String { value, .. } => match &eval.expected {
            Expected::String(s) if s == value => Ok(()),
            other => Err(format!("expected {other:?} but got string {value:?}")),
        },
    }
}

fn points_text(s: &Series) -> String {
    let mut pts: Vec<(i64, String)> =
        s.points.iter().map(|p| (p.t, format!("{}@{}", format_value(p.v), p.t))).collect();
    pts.extend(s.histograms.iter().map(|p| (p.t, format!("{}@{}", p.h, p.t))));
    pts.sort_by_key(|p| p.0);
    let pts: Vec<String> = pts.into_iter().map(|p| p.1).collect();
    format!("[{}]", pts.join(" "))
}

/// The value of a vector sample, float or histogram.
fn sample_text(s: &promlite::Sample) -> String {
    match &s.h {
        Some(h) => h.to_string(),
        None => format_value(s.v),
    }
}

/// A readable rendering of an outcome for the failure report.
pub fn outcome_text(outcome: &Result<QueryResult, Error>) -> String {
    match outcome {
        Err(e) => format!("error: {e}"),
        Ok(r) => {
            let mut out = match &r.value {
                Value::Scalar(p) => format!("scalar {}", format_value(p.v)),
                Value::String { value, .. } => format!("string {value:?}"),
                Value::Vector(v) if v.is_empty() => "empty vector".into(),
                Value::Vector(v) => {
                    v.iter().map(|s| format!("{} {}", s.labels, sample_text(s))).collect::<Vec<_>>().join("\n")
                }
                Value::Matrix(m) if m.is_empty() => "empty matrix".into(),
                Value::Matrix(m) => {
                    m.iter().map(|s| format!("{} {}", s.labels, points_text(s))).collect::<Vec<_>>().join("\n")
                }
            };
            for w in &r.warnings {
                out.push_str(&format!("\nwarning: {w}"));
            }
            for i in &r.infos {
                out.push_str(&format!("\ninfo: {i}"));
            }
            out
        }
    }
}
