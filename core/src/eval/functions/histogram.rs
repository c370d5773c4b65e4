//! Histogram functions over native histograms and over classic histograms
//! (series with an `le` label holding cumulative bucket counts). A native
//! histogram and a classic one with the same labels at the same step
//! cancel each other out, with a warning, as in Prometheus.

use std::collections::HashMap;
use std::sync::Arc;

use super::super::annotations::Annotations;
use super::super::engine::{merge_same_labelsets, Evaluator};
use super::super::hist;
use super::super::series::{StepCursor, StepRange, StepSeries, StepValue, Val};
use super::{arg, string_arg};
use crate::error::Result;
use crate::histogram::{almost_equal, FloatHistogram};
use crate::model::{Labels, Point, METRIC_NAME};
use crate::promql::Call;

/// One bucket: its upper bound and the cumulative count up to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// Applies `f` to every native-histogram sample of the single argument;
/// float samples give nothing. Drops the metric name.
fn native_value(ev: &mut Evaluator, call: &Call, r: StepRange, f: fn(&FloatHistogram) -> f64) -> Result<Val> {
    let mut series = ev.eval_vector(arg(call, 0)?, r)?;
    for s in &mut series {
        s.points = s.hpoints.drain(..).map(|p| Point::new(p.t, f(&p.h))).collect();
        ev.drop_name(s);
    }
    series.retain(|s| !s.points.is_empty());
    if !ev.delayed_name_removal() {
        series = merge_same_labelsets(series)?;
    }
    Ok(Val::Vector(series))
}

pub(crate) fn histogram_count(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    native_value(ev, call, r, |h| h.count)
}

pub(crate) fn histogram_sum(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    native_value(ev, call, r, |h| h.sum)
}

pub(crate) fn histogram_avg(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    native_value(ev, call, r, FloatHistogram::mean)
}

pub(crate) fn histogram_stddev(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    native_value(ev, call, r, FloatHistogram::stddev)
}

pub(crate) fn histogram_stdvar(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    native_value(ev, call, r, FloatHistogram::stdvar)
}

/// The histograms in a vector: per input series its classic group (the
/// series' labels without `le`) and bucket bound, or for a series holding
/// native histograms the classic group with the same labels, if any.
struct Histograms {
    group_of: Vec<Option<usize>>,
    upper: Vec<f64>,
    groups: Vec<Labels>,
    /// For each series: the classic group whose labels equal its own.
    twin_group: Vec<Option<usize>>,
}

fn classify(ev: &mut Evaluator, series: &[StepSeries]) -> Histograms {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups = Vec::new();
    let mut group_of = Vec::with_capacity(series.len());
    let mut upper = Vec::with_capacity(series.len());
    for s in series {
        if s.points.is_empty() {
            group_of.push(None);
            upper.push(f64::NAN);
            continue;
        }
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
    let twin_group =
        series.iter().map(|s| if s.hpoints.is_empty() { None } else { index.get(&s.labels).copied() }).collect();
    Histograms { group_of, upper, groups, twin_group }
}

/// Parses an `le` value as Go's `strconv.ParseFloat` would.
fn parse_le(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    if t.is_empty()
        || !(t.as_bytes()[0].is_ascii_digit()
            || t.starts_with('.')
            || t.eq_ignore_ascii_case("inf")
            || t.eq_ignore_ascii_case("infinity")
            || t.eq_ignore_ascii_case("nan"))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// One histogram at one step, as the histogram functions see it.
enum HistogramAt<'a> {
    /// The buckets of classic group `group`.
    Classic { group: usize, buckets: &'a mut Vec<Bucket> },
    /// A native histogram of input series `series`.
    Native { series: usize, h: &'a Arc<FloatHistogram> },
}

/// Calls `f(step index, histogram)` for every histogram at every step. A
/// native histogram and classic buckets with the same labels at one step
/// are both skipped with a warning.
fn for_each_histogram(
    series: &[StepSeries],
    h: &Histograms,
    r: StepRange,
    annotations: &mut Annotations,
    delayed_name_removal: bool,
    mut f: impl FnMut(usize, HistogramAt),
) {
    let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); h.groups.len()];
    let mut touched: Vec<usize> = Vec::new();
    let mut natives: Vec<(usize, Arc<FloatHistogram>)> = Vec::new();
    let mut cursor = StepCursor::new(series.len());
    let with_natives = series.iter().any(|s| !s.hpoints.is_empty());
    for (k, ts) in r.iter().enumerate() {
        touched.clear();
        natives.clear();
        for (i, s) in series.iter().enumerate() {
            if with_natives {
                match cursor.sample_at(i, s, ts) {
                    Some(StepValue::Hist(hp)) => {
                        natives.push((i, hp));
                        continue;
                    }
                    Some(StepValue::Float(v)) => {
                        let Some(g) = h.group_of[i] else { continue };
                        if buckets[g].is_empty() {
                            touched.push(g);
                        }
                        buckets[g].push(Bucket { upper: h.upper[i], count: v });
                    }
                    None => {}
                }
                continue;
            }
            let Some(v) = cursor.value_at(i, s, ts) else { continue };
            let Some(g) = h.group_of[i] else { continue };
            if buckets[g].is_empty() {
                touched.push(g);
            }
            buckets[g].push(Bucket { upper: h.upper[i], count: v });
        }
        for (i, hp) in &natives {
            if let Some(g) = h.twin_group[*i] {
                if !buckets[g].is_empty() {
                    let name = if delayed_name_removal { series[*i].labels.get(METRIC_NAME).unwrap_or("") } else { "" };
                    annotations.mixed_classic_native_histograms(name);
                    buckets[g].clear();
                    continue;
                }
            }
            f(k, HistogramAt::Native { series: *i, h: hp });
        }
        touched.sort_unstable();
        for &g in &touched {
            if buckets[g].is_empty() {
                continue;
            }
            f(k, HistogramAt::Classic { group: g, buckets: &mut buckets[g] });
            buckets[g].clear();
        }
    }
}

/// Output series of a histogram function: one per classic group, then one
/// per input series (for native histograms); names dropped, as with any function.
struct HistogramOutputs {
    groups: Vec<StepSeries>,
    natives: Vec<StepSeries>,
}

impl HistogramOutputs {
    fn new(ev: &Evaluator, h: &Histograms, series: &[StepSeries]) -> Self {
        let named = |l: &Labels| {
            let mut s = StepSeries::new(l.clone(), false);
            ev.drop_name(&mut s);
            s
        };
        HistogramOutputs {
            groups: h.groups.iter().map(named).collect(),
            natives: series
                .iter()
                .map(|s| if s.hpoints.is_empty() { StepSeries::new(Labels::new(), true) } else { named(&s.labels) })
                .collect(),
        }
    }

    fn push(&mut self, at: &HistogramAt, t: i64, v: f64) {
        let s = match at {
            HistogramAt::Classic { group, .. } => &mut self.groups[*group],
            HistogramAt::Native { series, .. } => &mut self.natives[*series],
        };
        s.points.push(Point::new(t, v));
    }

    fn finish(self) -> Result<Vec<StepSeries>> {
        let out: Vec<StepSeries> =
            self.natives.into_iter().chain(self.groups).filter(|s| !s.points.is_empty()).collect();
        merge_same_labelsets(out)
    }
}

fn warn_invalid_quantiles(ev: &mut Evaluator, qs: &[f64]) {
    for &q in qs {
        if q.is_nan() || !(0.0..=1.0).contains(&q) {
            ev.annotations.invalid_quantile(q);
        }
    }
}

/// The metric name native-histogram annotations quote (empty when names are dropped early).
fn annotation_name<'a>(ev: &Evaluator, s: &'a StepSeries) -> &'a str {
    if ev.delayed_name_removal() {
        s.labels.get(METRIC_NAME).unwrap_or("")
    } else {
        ""
    }
}

pub(crate) fn histogram_quantile(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let qs = ev.eval_scalar(arg(call, 0)?, r)?;
    let series = ev.eval_vector(arg(call, 1)?, r)?;
    warn_invalid_quantiles(ev, &qs);
    let h = classify(ev, &series);
    let mut out = HistogramOutputs::new(ev, &h, &series);
    let mut forced = Vec::new();
    let mut annotations = std::mem::take(&mut ev.annotations);
    let delayed = ev.delayed_name_removal();
    let mut notes = Vec::new();
    for_each_histogram(&series, &h, r, &mut annotations, delayed, |k, at| {
        let v = match &at {
            HistogramAt::Classic { group, buckets } => {
                let (v, fix) = bucket_quantile(qs[k], &mut (*buckets).clone());
                if fix {
                    forced.push(*group);
                }
                v
            }
            HistogramAt::Native { series: i, h } => {
                let (v, note) = hist::quantile(qs[k], h);
                notes.push((*i, note));
                v
            }
        };
        out.push(&at, r.ts(k), v);
    });
    ev.annotations = annotations;
    for (i, note) in notes {
        let name = annotation_name(ev, &series[i]).to_string();
        note.report(&mut ev.annotations, &name);
    }
    for g in forced {
        let name = if ev.delayed_name_removal() { h.groups[g].get(METRIC_NAME).unwrap_or("") } else { "" };
        ev.annotations.forced_monotonicity(name);
    }
    Ok(Val::Vector(out.finish()?))
}

pub(crate) fn histogram_fraction(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let lower = ev.eval_scalar(arg(call, 0)?, r)?;
    let upper = ev.eval_scalar(arg(call, 1)?, r)?;
    let series = ev.eval_vector(arg(call, 2)?, r)?;
    let h = classify(ev, &series);
    let mut out = HistogramOutputs::new(ev, &h, &series);
    let mut annotations = std::mem::take(&mut ev.annotations);
    let delayed = ev.delayed_name_removal();
    let mut nan_series = Vec::new();
    for_each_histogram(&series, &h, r, &mut annotations, delayed, |k, at| {
        let v = match &at {
            HistogramAt::Classic { buckets, .. } => bucket_fraction(lower[k], upper[k], &mut (*buckets).clone()),
            HistogramAt::Native { series: i, h } => {
                let (v, nans) = h.fraction(lower[k], upper[k]);
                if nans {
                    nan_series.push(*i);
                }
                v
            }
        };
        out.push(&at, r.ts(k), v);
    });
    ev.annotations = annotations;
    for i in nan_series {
        let name = annotation_name(ev, &series[i]).to_string();
        ev.annotations.fraction_nans(&name);
    }
    Ok(Val::Vector(out.finish()?))
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
    let template = HistogramOutputs::new(ev, &h, &series);
    let mut out: Vec<StepSeries> = Vec::new();
    let mut slot: HashMap<(bool, usize, usize), usize> = HashMap::new();
    let mut forced = false;
    let mut notes = Vec::new();
    let mut annotations = std::mem::take(&mut ev.annotations);
    let delayed = ev.delayed_name_removal();
    for_each_histogram(&series, &h, r, &mut annotations, delayed, |k, at| {
        for (qi, q) in qs.iter().enumerate() {
            let (v, key, base) = match &at {
                HistogramAt::Classic { group, buckets } => {
                    let (v, fix) = bucket_quantile(q[k], &mut (*buckets).clone());
                    forced |= fix;
                    (v, (false, *group, qi), &template.groups[*group])
                }
                HistogramAt::Native { series: i, h } => {
                    let (v, note) = hist::quantile(q[k], h);
                    notes.push((*i, note));
                    (v, (true, *i, qi), &template.natives[*i])
                }
            };
            let i = *slot.entry(key).or_insert_with(|| {
                let mut s = base.clone();
                s.labels.set(&label, &format_open_metrics_float(q[k]));
                out.push(s);
                out.len() - 1
            });
            out[i].points.push(Point::new(r.ts(k), v));
        }
    });
    ev.annotations = annotations;
    for (i, note) in notes {
        let name = series[i].labels.get(METRIC_NAME).unwrap_or("").to_string();
        note.report(&mut ev.annotations, &name);
    }
    if forced {
        ev.annotations.forced_monotonicity("");
    }
    Ok(Val::Vector(merge_same_labelsets(out)?))
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
