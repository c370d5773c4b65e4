//! Range functions over windows that hold native histograms, possibly
//! mixed with floats: Prometheus 3's rules for which combinations give a
//! result, and the annotations that explain the others.
//!
//! Windows of floats only never come here (see `range::window_values`).

use std::sync::Arc;

use super::super::hist::{self, Combined, HistogramSum};
use super::super::series::{merge_samples, StepValue};
use super::range::{boundary_samples, extrapolation_factor, factor_from_start, HistContext, Window};
use crate::error::Result;
use crate::histogram::{CounterResetHint, FloatHistogram};
use crate::model::HPoint;

type Output = Result<Option<StepValue>>;

fn hist_value(h: FloatHistogram) -> Option<StepValue> {
    Some(StepValue::Hist(Arc::new(h)))
}

fn is_gauge(h: &FloatHistogram) -> bool {
    h.counter_reset_hint == CounterResetHint::Gauge
}

/// The result of an addition or subtraction ("addition"/"subtraction" in
/// `what`), with its annotations: an info when custom bounds were
/// reconciled, a warning (and `None`) when the histograms could not be combined.
fn noted(combined: Option<Combined>, what: &str, cx: &mut HistContext) -> Option<FloatHistogram> {
    let Some(c) = combined else {
        cx.annotations.mixed_exponential_custom_histograms(cx.metric);
        return None;
    };
    if c.reconciled {
        cx.annotations.mismatched_custom_buckets(what);
    }
    Some(c.h)
}

// ---------------------------------------------------------------------------
// rate, increase, delta

pub(crate) fn rate(w: &Window, cx: &mut HistContext) -> Output {
    extrapolated_rate(w, cx, true, true)
}

pub(crate) fn increase(w: &Window, cx: &mut HistContext) -> Output {
    extrapolated_rate(w, cx, true, false)
}

pub(crate) fn delta(w: &Window, cx: &mut HistContext) -> Output {
    extrapolated_rate(w, cx, false, false)
}

fn extrapolated_rate(w: &Window, cx: &mut HistContext, counter: bool, rate: bool) -> Output {
    if !w.points.is_empty() {
        cx.annotations.mixed_floats_histograms(cx.metric);
        return Ok(None);
    }
    if w.anchored || w.smoothed {
        return Ok(extended_rate(w, cx, counter, rate).and_then(hist_value));
    }
    let hs = w.hpoints;
    let zero_at = if counter { w.start_inside(hs[0].t) } else { None };
    if hs.len() < 2 && zero_at.is_none() {
        return Ok(None);
    }
    let (first, last) = (&hs[0], &hs[hs.len() - 1]);
    if let Some(st) = zero_at {
        // The counter started empty at `st`: the first histogram is all increase.
        let total = if hs.len() > 1 {
            let Some(change) = histogram_rate(w, counter, cx) else { return Ok(None) };
            let Some(sum) = noted(hist::add(&change, &first.h), "addition", cx) else { return Ok(None) };
            sum
        } else {
            (*first.h).clone()
        };
        let factor = factor_from_start(w, st, first.t, last.t, hs.len() - 1, rate);
        return Ok(hist_value(hist::scaled(&total, factor)));
    }
    let Some(mut result) = histogram_rate(w, counter, cx) else { return Ok(None) };
    // A counter cannot go below zero: the first count tells how far back
    // extrapolation may reach.
    let zero_point = (counter && result.count > 0.0 && first.h.count >= 0.0).then_some((first.h.count, result.count));
    let factor = extrapolation_factor(w, first.t, last.t, hs.len() - 1, zero_point, rate);
    result = hist::scaled(&result, factor);
    Ok(hist_value(result))
}

/// The increase of a histogram counter (or the change of a gauge) from the
/// first to the last histogram of the window, counter resets (by value or
/// start timestamp) accounted for; `None` (with a warning) when the
/// histograms cannot be combined.
fn histogram_rate(w: &Window, counter: bool, cx: &mut HistContext) -> Option<FloatHistogram> {
    let hs = w.hpoints;
    let last = &hs[hs.len() - 1].h;
    let mut prev: FloatHistogram = (*hs[0].h).clone();
    if counter && (is_gauge(&prev) || is_gauge(last)) {
        cx.annotations.native_histogram_not_counter(cx.metric);
    }
    // After a reset right after the first sample, the first sample's
    // layout does not matter: count from an empty histogram instead.
    if counter && hs.len() > 1 && (w.reset_by_start(hs[0].t, hs[1].t) || hs[1].h.detect_reset(&prev)) {
        prev = hist::empty_like(&hs[1].h);
    }
    let custom = prev.uses_custom_buckets();
    if last.uses_custom_buckets() != custom {
        cx.annotations.mixed_exponential_custom_histograms(cx.metric);
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    if counter {
        for hp in &hs[1..hs.len() - 1] {
            if is_gauge(&hp.h) {
                cx.annotations.native_histogram_not_counter(cx.metric);
            }
            min_schema = min_schema.min(hp.h.schema);
            if hp.h.uses_custom_buckets() != custom {
                cx.annotations.mixed_exponential_custom_histograms(cx.metric);
                return None;
            }
        }
    }
    let mut result = noted(hist::sub(&last.to_schema(min_schema), &prev), "subtraction", cx)?;
    if counter {
        let mut before: &FloatHistogram = &prev;
        for (i, hp) in hs.iter().enumerate().skip(1) {
            if w.reset_by_start(hs[i - 1].t, hp.t) || hp.h.detect_reset(before) {
                result = noted(hist::add(&result, before), "addition", cx)?;
            }
            before = &hp.h;
        }
    } else if !is_gauge(&hs[0].h) || !is_gauge(last) {
        cx.annotations.native_histogram_not_gauge(cx.metric);
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    Some(hist::compacted(result))
}

/// `rate`/`increase`/`delta` over `anchored`/`smoothed` windows: the change
/// between the values at the window's boundaries (picked or interpolated),
/// plus the counter resets inside it, without extrapolation.
fn extended_rate(w: &Window, cx: &mut HistContext, counter: bool, rate: bool) -> Option<FloatHistogram> {
    let hs = w.hpoints;
    let (first, last) = boundary_samples(w, hs.len(), |i| hs[i].t)?;
    let window = &hs[first..=last];
    if window.iter().any(|p| p.h.uses_custom_buckets() != window[0].h.uses_custom_buckets()) {
        cx.annotations.mixed_exponential_custom_histograms(cx.metric);
        return None;
    }
    if counter && window.iter().any(|p| is_gauge(&p.h)) {
        cx.annotations.native_histogram_not_counter(cx.metric);
    }
    if !counter && (!is_gauge(&hs[first].h) || !is_gauge(&hs[last].h)) {
        cx.annotations.native_histogram_not_gauge(cx.metric);
    }
    let left = if w.smoothed && hs[first].t < w.start {
        hist::interpolate(&hs[first], &hs[first + 1], w.start, counter)?
    } else {
        (*hs[first].h).clone()
    };
    let right = if w.smoothed && last > 0 && hs[last].t > w.end {
        hist::interpolate(&hs[last - 1], &hs[last], w.end, counter)?
    } else {
        (*hs[last].h).clone()
    };
    let mut result = hist::sub(&right, &left)?.h;
    if counter {
        // Resets strictly inside the window; the boundary values already
        // account for resets at the edges. Hints are not trusted here: a
        // boundary value may be an interpolated copy of a reset sample.
        let inner_first = if hs[first].t <= w.start { first + 1 } else { first };
        let inner_end = if hs[last].t >= w.end { last } else { last + 1 };
        let inner: &[HPoint] = if inner_end > inner_first { &hs[inner_first..inner_end] } else { &[] };
        let mut prev: &FloatHistogram = &left;
        for p in inner {
            if hist::detect_reset_by_value(&p.h, prev) {
                result = hist::add(&result, prev)?.h;
            }
            prev = &p.h;
        }
        if hist::detect_reset_by_value(&right, prev) {
            result = hist::add(&result, prev)?.h;
        }
    }
    if rate {
        result = hist::divided(&result, w.range_ms as f64 / 1000.0);
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    Some(hist::compacted(result))
}

// ---------------------------------------------------------------------------
// irate, idelta

pub(crate) fn irate(w: &Window, cx: &mut HistContext) -> Output {
    instant_value(w, cx, true)
}

pub(crate) fn idelta(w: &Window, cx: &mut HistContext) -> Output {
    instant_value(w, cx, false)
}

/// The change between the last two samples of the window, of whichever kind.
fn instant_value(w: &Window, cx: &mut HistContext, rate: bool) -> Output {
    let mut last_two: Vec<(i64, StepValue)> = merge_samples(tail(w.points), tail(w.hpoints)).collect();
    if last_two.len() < 2 {
        return Ok(None);
    }
    let (t1, v1) = last_two.pop().expect("two samples");
    let (t0, v0) = last_two.pop().expect("two samples");
    let interval = t1 - t0;
    if interval == 0 {
        return Ok(None);
    }
    let seconds = interval as f64 / 1000.0;
    match (v0, v1) {
        (StepValue::Float(a), StepValue::Float(b)) => {
            // After a counter reset the last value is the increase since the reset.
            let v = if rate && (b < a || w.reset_by_start(t0, t1)) { b } else { b - a };
            Ok(Some(StepValue::Float(if rate { v / seconds } else { v })))
        }
        (StepValue::Hist(a), StepValue::Hist(b)) => {
            if rate && (is_gauge(&a) || is_gauge(&b)) {
                cx.annotations.native_histogram_not_counter(cx.metric);
            }
            if !rate && (!is_gauge(&a) || !is_gauge(&b)) {
                cx.annotations.native_histogram_not_gauge(cx.metric);
            }
            let mut result = (*b).clone();
            if !rate || !(w.reset_by_start(t0, t1) || b.detect_reset(&a)) {
                let Some(diff) = noted(hist::sub(&b, &a), "subtraction", cx) else { return Ok(None) };
                result = diff;
            }
            result.counter_reset_hint = CounterResetHint::Gauge;
            let mut result = hist::compacted(result);
            if rate {
                result = hist::divided(&result, seconds);
            }
            Ok(hist_value(result))
        }
        _ => {
            cx.annotations.mixed_floats_histograms(cx.metric);
            Ok(None)
        }
    }
}

/// The last two elements of a slice (or fewer).
fn tail<T>(s: &[T]) -> &[T] {
    &s[s.len().saturating_sub(2)..]
}

// ---------------------------------------------------------------------------
// *_over_time

pub(crate) fn sum_over_time(w: &Window, cx: &mut HistContext) -> Output {
    aggregate_histograms(w, cx, false)
}

pub(crate) fn avg_over_time(w: &Window, cx: &mut HistContext) -> Output {
    aggregate_histograms(w, cx, true)
}

/// Sum (or mean) of the histograms of a window; floats and histograms do not mix.
fn aggregate_histograms(w: &Window, cx: &mut HistContext, mean: bool) -> Output {
    if !w.points.is_empty() {
        cx.annotations.mixed_floats_histograms(cx.metric);
        return Ok(None);
    }
    let mut acc = HistogramSum::new(&w.hpoints[0].h, mean);
    for hp in &w.hpoints[1..] {
        if !acc.add(&hp.h) {
            cx.annotations.mixed_exponential_custom_histograms(cx.metric);
            return Ok(None);
        }
    }
    if acc.counter_reset_collision() {
        cx.annotations.counter_reset_collision("aggregation");
    }
    if acc.reconciled() {
        cx.annotations.mismatched_custom_buckets("aggregation");
    }
    Ok(hist_value(acc.finish()))
}

pub(crate) fn count_over_time(w: &Window, _: &mut HistContext) -> Output {
    Ok(Some(StepValue::Float((w.points.len() + w.hpoints.len()) as f64)))
}

pub(crate) fn present_over_time(_: &Window, _: &mut HistContext) -> Output {
    Ok(Some(StepValue::Float(1.0)))
}

pub(crate) fn first_over_time(w: &Window, _: &mut HistContext) -> Output {
    let h = &w.hpoints[0];
    Ok(Some(match w.points.first() {
        Some(p) if p.t < h.t => StepValue::Float(p.v),
        _ => StepValue::Hist(h.h.clone()),
    }))
}

pub(crate) fn last_over_time(w: &Window, _: &mut HistContext) -> Output {
    let h = &w.hpoints[w.hpoints.len() - 1];
    Ok(Some(match w.points.last() {
        Some(p) if h.t < p.t => StepValue::Float(p.v),
        _ => StepValue::Hist(h.h.clone()),
    }))
}

pub(crate) fn ts_of_first_over_time(w: &Window, _: &mut HistContext) -> Output {
    let t = w.points.first().map_or(i64::MAX, |p| p.t).min(w.hpoints[0].t);
    Ok(Some(StepValue::Float(t as f64 / 1000.0)))
}

pub(crate) fn ts_of_last_over_time(w: &Window, _: &mut HistContext) -> Output {
    let t = w.points.last().map_or(i64::MIN, |p| p.t).max(w.hpoints[w.hpoints.len() - 1].t);
    Ok(Some(StepValue::Float(t as f64 / 1000.0)))
}

// ---------------------------------------------------------------------------
// changes, resets

pub(crate) fn changes(w: &Window, _: &mut HistContext) -> Output {
    Ok(count_transitions(w, |(_, a), (_, b)| match (a, b) {
        (StepValue::Float(x), StepValue::Float(y)) => x != y && !(x.is_nan() && y.is_nan()),
        (StepValue::Hist(x), StepValue::Hist(y)) => !x.equals(y),
        _ => true,
    })
    .map(StepValue::Float))
}

pub(crate) fn resets(w: &Window, _: &mut HistContext) -> Output {
    Ok(count_transitions(w, |(prev_t, a), (t, b)| match (a, b) {
        (StepValue::Float(x), StepValue::Float(y)) => y < x || w.reset_by_start(*prev_t, *t),
        (StepValue::Hist(x), StepValue::Hist(y)) => w.reset_by_start(*prev_t, *t) || y.detect_reset(x),
        _ => true,
    })
    .map(StepValue::Float))
}

/// How many consecutive sample pairs of the window (floats and histograms
/// in time order) satisfy `counts`. With `anchored`, counting starts at the
/// last sample at or before the window start, and there is no value unless
/// a sample lies inside the window.
fn count_transitions(w: &Window, counts: impl Fn(&(i64, StepValue), &(i64, StepValue)) -> bool) -> Option<f64> {
    let samples: Vec<(i64, StepValue)> = merge_samples(w.points, w.hpoints).collect();
    let first = if w.anchored {
        if samples.last().is_none_or(|(t, _)| *t <= w.start) {
            return None;
        }
        samples.partition_point(|(t, _)| *t <= w.start).saturating_sub(1)
    } else {
        0
    };
    let n = samples[first..].windows(2).filter(|pair| counts(&pair[0], &pair[1])).count();
    Some(n as f64)
}
