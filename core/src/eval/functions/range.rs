//! Functions over range vectors (`rate`, `*_over_time`, `deriv`, …).
//!
//! The driver loads each series once and slides the window `(ref - range, ref]`
//! across the steps with two indices that only move forward.

use super::super::aggregate::{kahan_add, quantile};
use super::super::annotations::Annotations;
use super::super::engine::{interpolate, Evaluator, WindowSpec};
use super::super::series::{StepRange, StepSeries, StepValue, Val};
use crate::error::{Error, Result};
use crate::model::{HPoint, Labels, Point, METRIC_NAME};
use crate::promql::{Call, Expr, ExprKind, RangeModifier, ValueType};

/// What a range function sees at one step.
pub(crate) struct Window<'a> {
    /// Samples in the window; for `anchored`/`smoothed` selectors the window
    /// is widened by the lookback delta (to the left, and for `smoothed` also
    /// to the right) so boundary values can be picked or interpolated.
    pub points: &'a [Point],
    /// The histogram samples in the window (same widening as `points`).
    pub hpoints: &'a [HPoint],
    /// The evaluation timestamp of the step.
    pub ts: i64,
    /// The window proper: `(start, end]`.
    pub start: i64,
    pub end: i64,
    pub range_ms: i64,
    /// Scalar arguments at this step, in argument order.
    pub params: &'a [f64],
    pub anchored: bool,
    pub smoothed: bool,
    /// How many samples in the window are lower than the one before them
    /// or restarted by their start timestamp (counter resets); only counted
    /// for functions that ask for it.
    pub drops: u32,
    /// The series' start timestamps, sorted `(t, st)`: empty unless the
    /// window comes straight from a selector whose samples have some.
    pub starts: &'a [(i64, i64)],
}

impl Window<'_> {
    /// The start timestamp of the sample at `t`, 0 when it has none.
    pub fn start_of(&self, t: i64) -> i64 {
        if self.starts.is_empty() {
            return 0;
        }
        crate::value::start_timestamp_at(self.starts, t)
    }

    /// Whether start timestamps show that a counter was reset between its
    /// samples at `prev_t` and `t` (the one test float and histogram paths share).
    pub fn reset_by_start(&self, prev_t: i64, t: i64) -> bool {
        reset_by_start(self.starts, prev_t, t)
    }

    /// The start timestamp of the window's first sample (at `first_t`) when it
    /// lies inside the window before that sample: the counter is then taken
    /// to be 0 there, instead of extrapolating towards the window start.
    pub fn start_inside(&self, first_t: i64) -> Option<i64> {
        let st = self.start_of(first_t);
        (st != 0 && st > self.start && st < first_t).then_some(st)
    }
}

/// Whether the start timestamps `starts` (sorted `(t, st)`) of a series show a
/// counter reset between its samples at `prev_t` and `t`.
fn reset_by_start(starts: &[(i64, i64)], prev_t: i64, t: i64) -> bool {
    if starts.is_empty() {
        return false;
    }
    let st_of = |t| crate::value::start_timestamp_at(starts, t);
    is_start_timestamp_reset(st_of(prev_t), prev_t, st_of(t), t)
}

/// Whether a sample (at `t`, start timestamp `st`) restarted the counter
/// since the previous one (at `prev_t`, start `prev_st`); a start timestamp
/// of 0 is unknown. A start after the previous sample is a reset. A start
/// exactly at the previous sample is a reset for delta-style series (whose
/// previous sample has a start of its own before it), but not for a
/// cumulative series of unknown start (OpenTelemetry's convention: the
/// previous start is unknown, or equal to its own time). A start at or after
/// the sample itself is invalid and says nothing.
pub(crate) fn is_start_timestamp_reset(prev_st: i64, prev_t: i64, st: i64, t: i64) -> bool {
    if st == 0 || st >= t || st < prev_t {
        return false;
    }
    if st > prev_t {
        return true;
    }
    prev_st != 0 && prev_st < prev_t
}

/// Whether a start timestamp claims an interval that overlaps the previous
/// sample (neither delta-style nor the previous sample's own start): bad data.
fn start_overlaps(prev_st: i64, prev_t: i64, st: i64) -> bool {
    st != 0 && st < prev_t && st != prev_st
}

/// Whether any consecutive pair of the sample times `ts` has overlapping start timestamps.
fn any_start_overlap(starts: &[(i64, i64)], ts: impl Iterator<Item = i64>) -> bool {
    let mut prev: Option<(i64, i64)> = None;
    for t in ts {
        let st = crate::value::start_timestamp_at(starts, t);
        if prev.is_some_and(|(prev_t, prev_st)| start_overlaps(prev_st, prev_t, st)) {
            return true;
        }
        prev = Some((t, st));
    }
    false
}

/// A range function: value for one window of floats, or none.
pub(crate) type RangeFn = fn(&Window) -> Result<Option<f64>>;

/// What a range function over a window holding histograms may report.
pub(crate) struct HistContext<'a> {
    pub annotations: &'a mut Annotations,
    /// The metric name of the series, for annotations.
    pub metric: &'a str,
}

/// A range function over a window holding native histograms (maybe mixed
/// with floats): a float or histogram value, or none.
pub(crate) type HistRangeFn = fn(&Window, &mut HistContext) -> Result<Option<StepValue>>;

/// How a range function is evaluated.
pub(crate) struct RangeImpl {
    /// For windows of floats only (the fast path).
    pub f: RangeFn,
    /// For windows holding histograms; `None` means the function reads
    /// floats only and skips the histograms with an info annotation.
    pub h: Option<HistRangeFn>,
    /// `last_over_time`/`first_over_time` act like a selector and keep the name.
    pub keeps_name: bool,
    pub anchored_ok: bool,
    pub smoothed_ok: bool,
    /// Whether the function reads `Window::drops`.
    pub counts_drops: bool,
}

pub(crate) const fn range_fn(f: RangeFn) -> RangeImpl {
    RangeImpl { f, h: None, keeps_name: false, anchored_ok: false, smoothed_ok: false, counts_drops: false }
}

impl RangeImpl {
    /// The same function with its own handling of histogram windows.
    pub(crate) const fn histograms(self, h: HistRangeFn) -> RangeImpl {
        RangeImpl { h: Some(h), ..self }
    }
}

/// Names of the functions accepting `anchored` / `smoothed`, for error messages.
const ANCHORED_SAFE: &str = "changes, delta, increase, rate, resets";
const SMOOTHED_SAFE: &str = "delta, increase, rate";

fn unparen(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => unparen(inner),
        _ => e,
    }
}

fn modifier_of(e: &Expr) -> Option<RangeModifier> {
    match &unparen(e).kind {
        ExprKind::MatrixSelector(ms) => ms.selector.modifier,
        _ => None,
    }
}

/// Evaluates the scalar arguments of a call (all but `skip`) over the steps.
pub(crate) fn scalar_args(ev: &mut Evaluator, call: &Call, skip: usize, r: StepRange) -> Result<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    for (i, a) in call.args.iter().enumerate() {
        if i != skip {
            out.push(ev.eval_scalar(a, r)?);
        }
    }
    Ok(out)
}

/// Index of the range-vector argument of a call.
fn matrix_arg(call: &Call) -> Result<usize> {
    call.args
        .iter()
        .position(|a| unparen(a).value_type() == ValueType::Matrix)
        .ok_or_else(|| Error::execution(format!("function {:?} expects a range vector argument", call.func)))
}

pub(crate) fn eval_range_call(ev: &mut Evaluator, call: &Call, imp: &RangeImpl, r: StepRange) -> Result<Val> {
    let idx = matrix_arg(call)?;
    let arg = &call.args[idx];
    match modifier_of(arg) {
        Some(RangeModifier::Anchored) if !imp.anchored_ok => {
            return Err(Error::execution(format!(
                "anchored modifier can only be used with: {ANCHORED_SAFE} - not with {}",
                call.func
            )))
        }
        Some(RangeModifier::Smoothed) if !imp.smoothed_ok => {
            return Err(Error::execution(format!(
                "smoothed modifier can only be used with: {SMOOTHED_SAFE} - not with {}",
                call.func
            )))
        }
        _ => {}
    }
    let params = scalar_args(ev, call, idx, r)?;
    let lookback = ev.lookback();
    let counter_check = matches!(call.func.as_str(), "rate" | "increase");
    let mut out = Vec::new();
    let mut step_params = vec![0.0; params.len()];
    ev.each_range_series(arg, r, &mut |ev, series, spec, starts| {
        let input = WindowInput { series: &series, spec, starts, overlap_check: counter_check };
        let (points, hpoints) = window_values(ev, &input, imp, &params, &mut step_params, lookback, r)?;
        // Prometheus hints at a non-counter only when floats came out.
        if counter_check && !points.is_empty() {
            if let Some(name) = series.labels.get(METRIC_NAME) {
                if !["_total", "_sum", "_count", "_bucket"].iter().any(|s| name.ends_with(s)) {
                    ev.annotations.possible_non_counter(name);
                }
            }
        }
        let mut s = StepSeries { labels: series.labels, drop_name: series.drop_name, points, hpoints };
        if s.is_empty() {
            return Ok(());
        }
        if !imp.keeps_name {
            ev.drop_name(&mut s);
        }
        ev.account(s.len())?;
        out.push(s);
        Ok(())
    })?;
    if call.func == "quantile_over_time" {
        if let Some(qs) = params.first() {
            for &q in qs {
                if q.is_nan() || !(0.0..=1.0).contains(&q) {
                    ev.annotations.invalid_quantile(q);
                }
            }
        }
    }
    if !ev.delayed_name_removal() && !imp.keeps_name {
        out = super::super::engine::merge_same_labelsets(out)?;
    }
    Ok(Val::Vector(out))
}

/// One series of a range-vector argument, as a range function reads it.
struct WindowInput<'a> {
    series: &'a StepSeries,
    spec: &'a WindowSpec,
    /// The series' start timestamps (sorted `(t, st)`, often empty).
    starts: &'a [(i64, i64)],
    /// Warn about overlapping start timestamps (`rate`, `increase`).
    overlap_check: bool,
}

/// Applies the function to the window of the series at every step: float
/// and histogram results.
fn window_values(
    ev: &mut Evaluator,
    wi: &WindowInput,
    imp: &RangeImpl,
    params: &[Vec<f64>],
    step_params: &mut [f64],
    lookback: i64,
    r: StepRange,
) -> Result<(Vec<Point>, Vec<HPoint>)> {
    let (series, input, starts) = (wi.series, wi.spec, wi.starts);
    let pts = &series.points;
    let hpts = &series.hpoints;
    let metric = series.labels.get(METRIC_NAME).unwrap_or("");
    let back = if input.anchored || input.smoothed { lookback } else { 0 };
    let forward = if input.smoothed { lookback } else { 0 };
    // drops_before[i]: counter resets between consecutive samples up to
    // sample i, so any window's count is one subtraction.
    let drops_before: Vec<u32> = if imp.counts_drops {
        let mut acc = 0u32;
        std::iter::once(0)
            .chain(pts.windows(2).map(|w| {
                acc += u32::from(w[1].v < w[0].v || reset_by_start(starts, w[0].t, w[1].t));
                acc
            }))
            .collect()
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    let mut hout = Vec::new();
    let (mut floats, mut histograms) = (Slider::default(), Slider::default());
    for (k, ts) in r.iter().enumerate() {
        let end = input.ref_time(ts);
        let start = end - input.range;
        let (lo, hi) = floats.advance(pts.len(), |i| pts[i].t, start - back, end + forward);
        let (hlo, hhi) = if hpts.is_empty() {
            (0, 0)
        } else {
            histograms.advance(hpts.len(), |i| hpts[i].t, start - back, end + forward)
        };
        if lo == hi && hlo == hhi {
            continue;
        }
        for (p, values) in step_params.iter_mut().zip(params) {
            *p = values[k];
        }
        let w = Window {
            points: &pts[lo..hi],
            hpoints: &hpts[hlo..hhi],
            ts,
            start,
            end,
            range_ms: input.range,
            params: step_params,
            anchored: input.anchored,
            smoothed: input.smoothed,
            drops: if imp.counts_drops && hi > lo { drops_before[hi - 1] - drops_before[lo] } else { 0 },
            starts,
        };
        if wi.overlap_check && !starts.is_empty() {
            // As Prometheus: only a window of two or more samples of one kind is checked.
            let overlap = if hlo == hhi {
                hi - lo > 1 && any_start_overlap(starts, w.points.iter().map(|p| p.t))
            } else {
                lo == hi && hhi - hlo > 1 && any_start_overlap(starts, w.hpoints.iter().map(|p| p.t))
            };
            if overlap {
                ev.annotations.start_time_overlap(metric);
            }
        }
        if hlo == hhi {
            if let Some(v) = (imp.f)(&w)? {
                out.push(Point::new(ts, v));
            }
            continue;
        }
        let mut cx = HistContext { annotations: &mut ev.annotations, metric };
        let value = match imp.h {
            Some(h) => h(&w, &mut cx)?,
            None => floats_only(&w, imp.f, &mut cx)?.map(StepValue::Float),
        };
        match value {
            Some(StepValue::Float(v)) => out.push(Point::new(ts, v)),
            Some(StepValue::Hist(h)) => hout.push(HPoint { t: ts, h }),
            None => {}
        }
    }
    Ok((out, hout))
}

/// Two indices that slide a left-open window `(from, to]` forward over
/// samples in time order; they only ever move forward.
#[derive(Default)]
struct Slider {
    lo: usize,
    hi: usize,
}

impl Slider {
    /// The index range of the samples (`len` of them, sample `i` at time
    /// `t(i)`) inside `(from, to]`.
    #[inline]
    fn advance(&mut self, len: usize, t: impl Fn(usize) -> i64, from: i64, to: i64) -> (usize, usize) {
        while self.lo < len && t(self.lo) <= from {
            self.lo += 1;
        }
        if self.hi < self.lo {
            self.hi = self.lo;
        }
        while self.hi < len && t(self.hi) <= to {
            self.hi += 1;
        }
        (self.lo, self.hi)
    }
}

/// For an `anchored`/`smoothed` window over `len` samples (sample `i` at
/// time `t(i)`): the samples its boundary values come from, the last one
/// at or before the start and the last one (`smoothed`: the first one at or
/// after the end). `None` when every sample lies before the window (or,
/// `smoothed`, after it).
pub(crate) fn boundary_samples(w: &Window, len: usize, t: impl Fn(usize) -> i64) -> Option<(usize, usize)> {
    let last_idx = len - 1;
    let first = partition(last_idx, |i| t(i) <= w.start).saturating_sub(1);
    let last = if w.smoothed { partition(last_idx, |i| t(i) < w.end) } else { last_idx };
    (t(last) > w.start && t(first) <= w.end).then_some((first, last))
}

/// The first index in `0..len` where `pred` stops holding (it must hold for a prefix).
fn partition(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A float-only function over a window holding histograms: the floats
/// alone, noting that histograms were skipped; nothing without floats.
fn floats_only(w: &Window, f: RangeFn, cx: &mut HistContext) -> Result<Option<f64>> {
    if w.points.is_empty() {
        return Ok(None);
    }
    cx.annotations.histogram_ignored_in_mixed_range(cx.metric);
    f(w)
}

/// `absent_over_time`: 1 at the steps where no series has a sample in the window.
pub(crate) fn absent_over_time(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let arg = call.args.first().ok_or_else(|| Error::execution("absent_over_time needs an argument"))?;
    let lookback = ev.lookback();
    let mut present = vec![false; r.len()];
    let presence = range_fn(|_| Ok(Some(1.0)));
    let presence = presence.histograms(|_, _| Ok(Some(StepValue::Float(1.0))));
    let spec = ev.each_range_series(arg, r, &mut |ev, series, spec, _| {
        let input = WindowInput { series: &series, spec, starts: &[], overlap_check: false };
        let (points, hpoints) = window_values(ev, &input, &presence, &[], &mut [], lookback, r)?;
        for t in points.iter().map(|p| p.t).chain(hpoints.iter().map(|p| p.t)) {
            present[r.index(t)] = true;
        }
        Ok(())
    })?;
    let points: Vec<Point> =
        r.iter().enumerate().filter(|(k, _)| !present[*k]).map(|(_, ts)| Point::new(ts, 1.0)).collect();
    if points.is_empty() {
        return Ok(Val::Vector(Vec::new()));
    }
    let labels = if spec.from_selector { super::absent_labels(arg) } else { Labels::new() };
    Ok(Val::Vector(vec![StepSeries::floats(labels, true, points)]))
}

// ---------------------------------------------------------------------------
// rate, increase, delta

fn extrapolated_rate(w: &Window, counter: bool, rate: bool) -> Option<f64> {
    if w.anchored || w.smoothed {
        return extended_rate(w, counter, rate);
    }
    let pts = w.points;
    let zero_at = if counter { w.start_inside(pts[0].t) } else { None };
    if pts.len() < 2 && zero_at.is_none() {
        return None;
    }
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    let mut result = last.v - first.v;
    if counter && w.drops > 0 {
        for pair in pts.windows(2) {
            if pair[1].v < pair[0].v || w.reset_by_start(pair[0].t, pair[1].t) {
                result += pair[0].v;
            }
        }
    }
    if let Some(st) = zero_at {
        // The counter started at 0 at `st`: the first value is all increase.
        return Some((result + first.v) * factor_from_start(w, st, first.t, last.t, pts.len() - 1, rate));
    }
    let zero_point = (counter && result > 0.0 && first.v >= 0.0).then_some((first.v, result));
    Some(result * extrapolation_factor(w, first.t, last.t, pts.len() - 1, zero_point, rate))
}

/// How much the change between the first and last sample of a window
/// (`intervals` sample intervals apart) is scaled to cover the window: up to
/// the window's edges when a sample is "close enough" to them, else half an
/// average interval beyond; per second for `rate`. `zero_point` is a
/// counter's first value and its increase, which bound extrapolation into
/// the past (a counter cannot go below zero).
pub(crate) fn extrapolation_factor(
    w: &Window,
    first_t: i64,
    last_t: i64,
    intervals: usize,
    zero_point: Option<(f64, f64)>,
    rate: bool,
) -> f64 {
    let mut to_start = (first_t - w.start) as f64 / 1000.0;
    let mut to_end = (w.end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average_step = sampled / intervals as f64;
    // Extrapolate to a boundary only when a sample is "close enough" to it;
    // otherwise assume the series starts/ends half an interval away.
    let threshold = average_step * 1.1;
    if to_start >= threshold {
        to_start = average_step / 2.0;
    }
    if let Some((first, increase)) = zero_point {
        let to_zero = sampled * (first / increase);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = average_step / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if rate {
        factor /= w.range_ms as f64 / 1000.0;
    }
    factor
}

/// [`extrapolation_factor`] when the window's first sample (at `first_t`)
/// has its start timestamp `st` inside the window: the series covers
/// `[st, last_t]`, so nothing is extrapolated to the left; to the right as
/// usual (with a single sample, `intervals` 0, not at all).
pub(crate) fn factor_from_start(w: &Window, st: i64, first_t: i64, last_t: i64, intervals: usize, rate: bool) -> f64 {
    let covered = (last_t - st) as f64 / 1000.0;
    let average_step = if intervals > 0 { (last_t - first_t) as f64 / 1000.0 / intervals as f64 } else { 0.0 };
    let mut to_end = (w.end - last_t) as f64 / 1000.0;
    if to_end >= average_step * 1.1 {
        to_end = average_step / 2.0;
    }
    let mut factor = (covered + to_end) / covered;
    if rate {
        factor /= w.range_ms as f64 / 1000.0;
    }
    factor
}

/// `rate`/`increase`/`delta` over `anchored`/`smoothed` windows: the change
/// between the boundary values, no extrapolation.
fn extended_rate(w: &Window, counter: bool, rate: bool) -> Option<f64> {
    let f = w.points;
    let (first, last) = boundary_samples(w, f.len(), |i| f[i].t)?;
    let left = if w.smoothed && f[first].t < w.start {
        interpolate(f[first], f[first + 1], w.start, counter)
    } else {
        f[first].v
    };
    let right = if w.smoothed && last > 0 && f[last].t > w.end {
        interpolate(f[last - 1], f[last], w.end, counter)
    } else {
        f[last].v
    };
    let mut result = right - left;
    if counter {
        // Resets strictly inside the window; the boundary values above
        // already account for resets at the edges.
        let inner_first = if f[first].t <= w.start { first as isize + 1 } else { first as isize };
        let inner_last = if f[last].t >= w.end { last as isize - 1 } else { last as isize };
        let inner: &[Point] =
            if inner_last >= inner_first { &f[inner_first as usize..=inner_last as usize] } else { &[] };
        let mut prev = left;
        for p in inner {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
        if right < prev {
            result += prev;
        }
    }
    if rate {
        result /= w.range_ms as f64 / 1000.0;
    }
    Some(result)
}

pub(crate) fn rate(w: &Window) -> Result<Option<f64>> {
    Ok(extrapolated_rate(w, true, true))
}

pub(crate) fn increase(w: &Window) -> Result<Option<f64>> {
    Ok(extrapolated_rate(w, true, false))
}

pub(crate) fn delta(w: &Window) -> Result<Option<f64>> {
    Ok(extrapolated_rate(w, false, false))
}

fn instant_value(w: &Window, rate: bool) -> Option<f64> {
    let pts = w.points;
    if pts.len() < 2 {
        return None;
    }
    let (prev, last) = (pts[pts.len() - 2], pts[pts.len() - 1]);
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    // After a counter reset the last value is the increase since the reset.
    let reset = last.v < prev.v || w.reset_by_start(prev.t, last.t);
    let mut v = if rate && reset { last.v } else { last.v - prev.v };
    if rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

pub(crate) fn irate(w: &Window) -> Result<Option<f64>> {
    Ok(instant_value(w, true))
}

pub(crate) fn idelta(w: &Window) -> Result<Option<f64>> {
    Ok(instant_value(w, false))
}

// ---------------------------------------------------------------------------
// *_over_time

pub(crate) fn avg_over_time(w: &Window) -> Result<Option<f64>> {
    let pts = w.points;
    let (mut sum, mut count) = (pts[0].v, 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for p in &pts[1..] {
        count += 1.0;
        if !incremental {
            let (s, nc) = kahan_add(p.v, sum, c);
            if !s.is_infinite() {
                (sum, c) = (s, nc);
                continue;
            }
            // The plain sum would overflow: continue with an incremental mean.
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_add(p.v / count, q * mean, q * c);
    }
    Ok(Some(if incremental { mean + c } else { sum / count + c / count }))
}

pub(crate) fn sum_over_time(w: &Window) -> Result<Option<f64>> {
    let (mut sum, mut c) = (0.0, 0.0);
    for p in w.points {
        (sum, c) = kahan_add(p.v, sum, c);
    }
    Ok(Some(if sum.is_infinite() { sum } else { sum + c }))
}

pub(crate) fn count_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(w.points.len() as f64))
}

pub(crate) fn present_over_time(_: &Window) -> Result<Option<f64>> {
    Ok(Some(1.0))
}

/// The sample chosen by repeatedly asking `better(candidate, current)`.
fn pick(w: &Window, better: fn(f64, f64) -> bool) -> Point {
    let mut best = w.points[0];
    for p in w.points {
        if better(p.v, best.v) {
            best = *p;
        }
    }
    best
}

pub(crate) fn max_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(pick(w, |c, m| c > m || m.is_nan()).v))
}

pub(crate) fn min_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(pick(w, |c, m| c < m || m.is_nan()).v))
}

pub(crate) fn ts_of_max_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(pick(w, |c, m| c >= m || m.is_nan()).t as f64 / 1000.0))
}

pub(crate) fn ts_of_min_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(pick(w, |c, m| c <= m || m.is_nan()).t as f64 / 1000.0))
}

pub(crate) fn first_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(w.points[0].v))
}

pub(crate) fn last_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(w.points[w.points.len() - 1].v))
}

pub(crate) fn ts_of_first_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(w.points[0].t as f64 / 1000.0))
}

pub(crate) fn ts_of_last_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(w.points[w.points.len() - 1].t as f64 / 1000.0))
}

/// Variance with Kahan-compensated running mean and sum of squares.
fn variance(w: &Window) -> f64 {
    let mut count = 0.0;
    let (mut mean, mut c_mean) = (0.0, 0.0);
    let (mut aux, mut c_aux) = (0.0, 0.0);
    for p in w.points {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_add(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_add(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

pub(crate) fn stdvar_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(variance(w)))
}

pub(crate) fn stddev_over_time(w: &Window) -> Result<Option<f64>> {
    Ok(Some(variance(w).sqrt()))
}

pub(crate) fn quantile_over_time(w: &Window) -> Result<Option<f64>> {
    let mut values: Vec<f64> = w.points.iter().map(|p| p.v).collect();
    Ok(Some(quantile(w.params[0], &mut values)))
}

pub(crate) fn mad_over_time(w: &Window) -> Result<Option<f64>> {
    if w.points.iter().any(|p| p.v.is_nan()) {
        return Ok(Some(f64::NAN));
    }
    let mut values: Vec<f64> = w.points.iter().map(|p| p.v).collect();
    let median = quantile(0.5, &mut values);
    let mut deviations: Vec<f64> = w.points.iter().map(|p| (p.v - median).abs()).collect();
    Ok(Some(quantile(0.5, &mut deviations)))
}

/// Index of the first sample to look at: with `anchored`, the last one at or
/// before the window start (None when no sample is inside the window).
fn first_sample_index(w: &Window) -> Option<usize> {
    if !w.anchored {
        return Some(0);
    }
    let pts = w.points;
    if pts[pts.len() - 1].t <= w.start {
        return None;
    }
    Some(pts[..pts.len() - 1].partition_point(|p| p.t <= w.start).saturating_sub(1))
}

pub(crate) fn changes(w: &Window) -> Result<Option<f64>> {
    let Some(first) = first_sample_index(w) else { return Ok(None) };
    let n = w.points[first..].windows(2).filter(|p| p[1].v != p[0].v && !(p[1].v.is_nan() && p[0].v.is_nan())).count();
    Ok(Some(n as f64))
}

pub(crate) fn resets(w: &Window) -> Result<Option<f64>> {
    if !w.anchored {
        return Ok(Some(w.drops as f64));
    }
    let Some(first) = first_sample_index(w) else { return Ok(None) };
    let n = w.points[first..].windows(2).filter(|p| p[1].v < p[0].v || w.reset_by_start(p[0].t, p[1].t)).count();
    Ok(Some(n as f64))
}

/// Least-squares fit: slope per second and the value at `intercept_time`.
fn linear_regression(points: &[Point], intercept_time: i64) -> (f64, f64) {
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    let init_y = points[0].v;
    let mut const_y = true;
    for (i, p) in points.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_add(x, sum_x, c_x);
        (sum_y, c_y) = kahan_add(p.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_add(x * p.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_add(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

pub(crate) fn deriv(w: &Window) -> Result<Option<f64>> {
    if w.points.len() < 2 {
        return Ok(None);
    }
    Ok(Some(linear_regression(w.points, w.points[0].t).0))
}

pub(crate) fn predict_linear(w: &Window) -> Result<Option<f64>> {
    if w.points.len() < 2 {
        return Ok(None);
    }
    let (slope, intercept) = linear_regression(w.points, w.ts);
    Ok(Some(slope * w.params[0] + intercept))
}

pub(crate) fn double_exponential_smoothing(w: &Window) -> Result<Option<f64>> {
    let (sf, tf) = (w.params[0], w.params[1]);
    if sf <= 0.0 || sf >= 1.0 {
        return Err(Error::execution(format!("invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}")));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(Error::execution(format!("invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}")));
    }
    let pts = w.points;
    if pts.len() < 2 {
        return Ok(None);
    }
    let mut s0 = 0.0;
    let mut s1 = pts[0].v;
    let mut b = pts[1].v - pts[0].v;
    for (i, p) in pts.iter().enumerate().skip(1) {
        let x = sf * p.v;
        // The trend at the previous point (the raw difference for the first).
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(points: &[Point], start: i64, end: i64) -> Window<'_> {
        let drops = points.windows(2).filter(|p| p[1].v < p[0].v).count() as u32;
        Window {
            points,
            hpoints: &[],
            ts: end,
            start,
            end,
            range_ms: end - start,
            params: &[],
            anchored: false,
            smoothed: false,
            drops,
            starts: &[],
        }
    }

    fn pts(v: &[(i64, f64)]) -> Vec<Point> {
        v.iter().map(|&(t, v)| Point::new(t, v)).collect()
    }

    #[test]
    fn rate_extrapolates_to_window_edges_and_handles_resets() {
        // 0,10,20,...,50 over 5m sampled every minute, window (0, 5m].
        let p = pts(&[(60_000, 10.0), (120_000, 20.0), (180_000, 30.0), (240_000, 40.0), (300_000, 50.0)]);
        let w = window(&p, 0, 300_000);
        assert!((increase(&w).unwrap().unwrap() - 50.0).abs() < 1e-9);
        assert!((rate(&w).unwrap().unwrap() - 50.0 / 300.0).abs() < 1e-12);
        let reset = pts(&[(60_000, 10.0), (120_000, 2.0), (180_000, 4.0)]);
        let w = window(&reset, 60_000 - 1, 180_000);
        // 10 -> 2 is a reset: increase over the samples is 2 + 10 - 10 + 2 = 4 ... plus extrapolation.
        assert!(increase(&w).unwrap().unwrap() > 4.0);
        assert_eq!(delta(&window(&p[..1], 0, 300_000)).unwrap(), None);
    }

    #[test]
    fn irate_uses_last_two_samples() {
        let p = pts(&[(0, 1.0), (10_000, 5.0), (20_000, 2.0)]);
        let w = window(&p, -1, 20_000);
        assert_eq!(irate(&w).unwrap(), Some(0.2), "reset: last value over the interval");
        assert_eq!(idelta(&w).unwrap(), Some(-3.0));
    }

    #[test]
    fn over_time_aggregates() {
        let p = pts(&[(1000, 1.0), (2000, f64::NAN), (3000, 3.0)]);
        let w = window(&p, 0, 3000);
        assert_eq!(max_over_time(&w).unwrap(), Some(3.0));
        assert_eq!(min_over_time(&w).unwrap(), Some(1.0));
        assert_eq!(count_over_time(&w).unwrap(), Some(3.0));
        assert_eq!(ts_of_max_over_time(&w).unwrap(), Some(3.0));
        assert_eq!(changes(&w).unwrap(), Some(2.0));
        let q = pts(&[
            (1000, 2.0),
            (2000, 4.0),
            (3000, 4.0),
            (4000, 4.0),
            (5000, 5.0),
            (6000, 5.0),
            (7000, 7.0),
            (8000, 9.0),
        ]);
        let w = window(&q, 0, 8000);
        assert_eq!(stddev_over_time(&w).unwrap(), Some(2.0));
        assert_eq!(avg_over_time(&w).unwrap(), Some(5.0));
    }

    #[test]
    fn start_timestamp_resets() {
        // (previous start, previous t, start, t)
        assert!(is_start_timestamp_reset(0, 60, 61, 120), "started after the previous sample");
        assert!(is_start_timestamp_reset(1, 60, 60, 120), "delta: starts where the previous one ended");
        assert!(!is_start_timestamp_reset(0, 60, 60, 120), "cumulative of unknown start (no previous start)");
        assert!(!is_start_timestamp_reset(60, 60, 60, 120), "cumulative of unknown start (start = own time)");
        assert!(!is_start_timestamp_reset(61, 60, 60, 120), "an invalid previous start says nothing");
        assert!(!is_start_timestamp_reset(0, 60, 59, 120), "started before the previous sample");
        assert!(!is_start_timestamp_reset(0, 60, 120, 120), "a start at the sample itself is unknown");
        assert!(!is_start_timestamp_reset(0, 60, 0, 120), "no start");
        assert!(start_overlaps(30, 60, 10) && !start_overlaps(30, 60, 30) && !start_overlaps(30, 60, 60));
    }

    #[test]
    fn regression_fits_a_line() {
        let p = pts(&[(0, 1.0), (1000, 3.0), (2000, 5.0)]);
        assert_eq!(linear_regression(&p, 0), (2.0, 1.0));
        assert_eq!(deriv(&window(&p, -1, 2000)).unwrap(), Some(2.0));
    }
}
