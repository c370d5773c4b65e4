//! Histogram functions over classic histograms: series with an `le` label
//! holding cumulative bucket counts. promlite stores no native histograms, so
//! the functions that only read those (`histogram_count`, …) return nothing.

use std::collections::HashMap;

use super::super::engine::Evaluator;
use super::super::series::{StepCursor, StepRange, StepSeries, Val};
use super::{arg, string_arg};
use crate::error::Result;
use crate::model::{Labels, Point, METRIC_NAME};
use crate::promql::Call;

/// One bucket: its upper bound and the cumulative count up to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// `histogram_count`, `histogram_sum`, `histogram_avg`, `histogram_stddev`,
/// `histogram_stdvar`: defined on native histograms only, so float samples
/// (all promlite stores) yield no result.
pub(crate) fn native_only(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let _ = ev.eval_vector(arg(call, 0)?, r)?;
    Ok(Val::Vector(Vec::new()))
}

/// The classic histograms in a vector: per input series its group (the
/// series' labels without `le`) and bucket bound; series with a malformed
/// `le` get no group.
struct ClassicHistograms {
    group_of: Vec<Option<usize>>,
    upper: Vec<f64>,
    groups: Vec<Labels>,
}

fn classify(ev: &mut Evaluator, series: &[StepSeries]) -> ClassicHistograms {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups = Vec::new();
    let mut group_of = Vec::with_capacity(series.len());
    let mut upper = Vec::with_capacity(series.len());
    for s in series {
        let le = s.labels.get("le").unwrap_or("");
        match parse_le(le) {
            Some(u) => {
                let mut key = s.labels.clone();
                key.remove("le");
                let g = *index.entry(key).or_insert_with_key(|k| {
                    groups.push(k.clone());
                    groups.len() - 1
                });
                group_of.push(Some(g));
                upper.push(u);
            }
            None => {
                let name = if ev.delayed_name_removal() { s.labels.get(METRIC_NAME).unwrap_or("") } else { "" };
                ev.annotations.bad_bucket_label(name, le);
                group_of.push(None);
                upper.push(f64::NAN);
            }
        }
    }
    ClassicHistograms { group_of, upper, groups }
}

/// Parses an `le` value as Go's `strconv.ParseFloat` would.
fn parse_le(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    if t.is_empty() || !(t.as_bytes()[0].is_ascii_digit() || t.starts_with('.') || t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("infinity") || t.eq_ignore_ascii_case("nan")) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Calls `f(step index, group, buckets)` for every group with buckets at every step.
fn for_each_histogram(
    series: &[StepSeries],
    h: &ClassicHistograms,
    r: StepRange,
    mut f: impl FnMut(usize, usize, &mut Vec<Bucket>),
) {
    let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); h.groups.len()];
    let mut touched: Vec<usize> = Vec::new();
    let mut cursor = StepCursor::new(series.len());
    for (k, ts) in r.iter().enumerate() {
        touched.clear();
        for (i, s) in series.iter().enumerate() {
            let Some(v) = cursor.value_at(i, s, ts) else { continue };
            let Some(g) = h.group_of[i] else { continue };
            if buckets[g].is_empty() {
                touched.push(g);
            }
            buckets[g].push(Bucket { upper: h.upper[i], count: v });
        }
        touched.sort_unstable();
        for &g in &touched {
            f(k, g, &mut buckets[g]);
            buckets[g].clear();
        }
    }
}

/// Result series per histogram group; the name goes, as with any function.
fn result_series(ev: &Evaluator, groups: &[Labels]) -> Vec<StepSeries> {
    groups
        .iter()
        .map(|l| {
            let mut s = StepSeries::new(l.clone(), false);
            ev.drop_name(&mut s);
            s
        })
        .collect()
}

fn warn_invalid_quantiles(ev: &mut Evaluator, qs: &[f64]) {
    for &q in qs {
        if q.is_nan() || !(0.0..=1.0).contains(&q) {
            ev.annotations.invalid_quantile(q);
        }
    }
}

pub(crate) fn histogram_quantile(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let qs = ev.eval_scalar(arg(call, 0)?, r)?;
    let series = ev.eval_vector(arg(call, 1)?, r)?;
    warn_invalid_quantiles(ev, &qs);
    let h = classify(ev, &series);
    let mut out = result_series(ev, &h.groups);
    let mut forced = Vec::new();
    for_each_histogram(&series, &h, r, |k, g, buckets| {
        let (v, fix) = bucket_quantile(qs[k], buckets);
        if fix {
            forced.push(g);
        }
        out[g].points.push(Point::new(r.ts(k), v));
    });
    for g in forced {
        let name = if ev.delayed_name_removal() { h.groups[g].get(METRIC_NAME).unwrap_or("") } else { "" };
        ev.annotations.forced_monotonicity(name);
    }
    out.retain(|s| !s.points.is_empty());
    Ok(Val::Vector(out))
}

pub(crate) fn histogram_fraction(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let lower = ev.eval_scalar(arg(call, 0)?, r)?;
    let upper = ev.eval_scalar(arg(call, 1)?, r)?;
    let series = ev.eval_vector(arg(call, 2)?, r)?;
    let h = classify(ev, &series);
    let mut out = result_series(ev, &h.groups);
    for_each_histogram(&series, &h, r, |k, g, buckets| {
        let v = bucket_fraction(lower[k], upper[k], buckets);
        out[g].points.push(Point::new(r.ts(k), v));
    });
    out.retain(|s| !s.points.is_empty());
    Ok(Val::Vector(out))
}

/// `histogram_quantiles(v, "label", q1, q2, …)`: one result series per
/// histogram and quantile, the quantile in label `label`.
pub(crate) fn histogram_quantiles(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let series = ev.eval_vector(arg(call, 0)?, r)?;
    let label = string_arg(call, 1)?;
    let mut qs = Vec::new();
    for a in &call.args[2..] {
        qs.push(ev.eval_scalar(a, r)?);
    }
    for q in &qs {
        warn_invalid_quantiles(ev, q);
    }
    let h = classify(ev, &series);
    let mut out: Vec<StepSeries> = Vec::new();
    let mut slot: HashMap<(usize, usize), usize> = HashMap::new();
    let mut forced = false;
    let template = result_series(ev, &h.groups);
    for_each_histogram(&series, &h, r, |k, g, buckets| {
        for (qi, q) in qs.iter().enumerate() {
            let (v, fix) = bucket_quantile(q[k], &mut buckets.clone());
            forced |= fix;
            let i = *slot.entry((g, qi)).or_insert_with(|| {
                let mut s = template[g].clone();
                s.labels.set(&label, &format_open_metrics_float(q[k]));
                out.push(s);
                out.len() - 1
            });
            out[i].points.push(Point::new(r.ts(k), v));
        }
    });
    if forced {
        ev.annotations.forced_monotonicity("");
    }
    Ok(Val::Vector(out))
}

/// A float as OpenMetrics writes it: integers keep a `.0`.
fn format_open_metrics_float(v: f64) -> String {
    let s = crate::value::format_value(v);
    if v.is_finite() && !s.contains(['.', 'e', 'E']) {
        format!("{s}.0")
    } else {
        s
    }
}

/// Go's `almost.Equal`: relative comparison that treats NaNs as equal.
pub(crate) fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
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
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

fn sort_and_coalesce(buckets: &mut Vec<Bucket>) {
    buckets.sort_by(|a, b| a.upper.partial_cmp(&b.upper).unwrap_or(std::cmp::Ordering::Equal));
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

/// Removes decreases between successive cumulative counts: tiny ones are
/// floating point noise, others are forced up. Returns whether any real
/// decrease had to be removed.
fn ensure_monotonic(buckets: &mut [Bucket]) -> bool {
    let mut forced = false;
    let mut prev = buckets[0].count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, 1e-12) {
            b.count = prev;
            continue;
        }
        if curr < prev {
            b.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    forced
}

/// The `q`-quantile of a classic histogram, interpolating linearly within
/// the bucket it falls in. Returns the value and whether monotonicity was forced.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    sort_and_coalesce(buckets);
    if buckets.last().map(|b| b.upper) != Some(f64::INFINITY) {
        return (f64::NAN, false);
    }
    let forced = ensure_monotonic(buckets);
    if buckets.len() < 2 {
        return (f64::NAN, forced);
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    let b = buckets[..buckets.len() - 1].partition_point(|b| b.count < rank);
    if b == buckets.len() - 1 {
        return (buckets[buckets.len() - 2].upper, forced);
    }
    if b == 0 && buckets[0].upper <= 0.0 {
        return (buckets[0].upper, forced);
    }
    let end = buckets[b].upper;
    let mut count = buckets[b].count;
    let mut start = 0.0;
    if b > 0 {
        start = buckets[b - 1].upper;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    (start + (end - start) * (rank / count), forced)
}

/// The fraction of observations between `lower` and `upper`, interpolating
/// linearly within buckets (the first bucket starts at 0 if its bound is positive).
pub(crate) fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    sort_and_coalesce(buckets);
    if buckets.last().map(|b| b.upper) != Some(f64::INFINITY) {
        return f64::NAN;
    }
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if buckets[0].upper <= 0.0 { f64::NEG_INFINITY } else { 0.0 };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper;
        }
        let upper_bound = b.upper;
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                return b.count;
            }
            rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(v: &[(f64, f64)]) -> Vec<Bucket> {
        v.iter().map(|&(upper, count)| Bucket { upper, count }).collect()
    }

    #[test]
    fn quantile_interpolates_within_buckets() {
        let mut b = buckets(&[(0.0, 0.0), (2.0, 10.0), (4.0, 20.0), (6.0, 30.0), (f64::INFINITY, 30.0)]);
        assert_eq!(bucket_quantile(0.5, &mut b).0, 3.0);
        let mut b = buckets(&[(f64::INFINITY, 30.0), (2.0, 10.0), (4.0, 20.0), (6.0, 30.0), (0.0, 0.0)]);
        assert_eq!(bucket_quantile(1.0 / 6.0, &mut b).0, 1.0, "order of input does not matter");
        let mut no_inf = buckets(&[(1.0, 1.0)]);
        assert!(bucket_quantile(0.5, &mut no_inf).0.is_nan());
        let mut top = buckets(&[(1.0, 1.0), (f64::INFINITY, 10.0)]);
        assert_eq!(bucket_quantile(0.9, &mut top).0, 1.0, "highest bucket reports the second highest bound");
    }

    #[test]
    fn quantile_forces_monotonic_counts() {
        let mut b = buckets(&[(1.0, 5.0), (2.0, 3.0), (f64::INFINITY, 10.0)]);
        let (_, forced) = bucket_quantile(0.5, &mut b);
        assert!(forced);
        let mut noise = buckets(&[(1.0, 5.0), (2.0, 5.0 - 1e-15), (f64::INFINITY, 10.0)]);
        assert!(!bucket_quantile(0.5, &mut noise).1);
    }

    #[test]
    fn fraction_interpolates_from_zero() {
        let b = buckets(&[(0.0, 0.0), (2.0, 10.0), (4.0, 20.0), (6.0, 30.0), (f64::INFINITY, 30.0)]);
        assert!((bucket_fraction(0.0, 4.0, &mut b.clone()) - 2.0 / 3.0).abs() < 1e-12);
        assert!((bucket_fraction(0.0, 3.5, &mut b.clone()) - 0.5833333333333334).abs() < 1e-12);
        assert_eq!(bucket_fraction(3.0, 1.0, &mut b.clone()), 0.0);
    }

    #[test]
    fn le_parsing_and_open_metrics_format() {
        assert_eq!(parse_le("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_le(".2"), Some(0.2));
        assert_eq!(parse_le("1e0"), Some(1.0));
        assert_eq!(parse_le("Hello World"), None);
        assert_eq!(parse_le(""), None);
        assert_eq!(format_open_metrics_float(1.0), "1.0");
        assert_eq!(format_open_metrics_float(0.25), "0.25");
        assert!(almost_equal(1.0, 1.0 + 1e-9, 1e-6));
        assert!(!almost_equal(1.0, 1.1, 1e-6));
    }
}
