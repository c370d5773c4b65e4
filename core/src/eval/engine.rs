//! The evaluator: walks the AST, loads series once per selector for the whole
//! query range and evaluates every node over all steps at once.

use std::time::Instant;

use super::annotations::Annotations;
use super::durations::DurationContext;
use super::series::{drop_metadata, StepRange, StepSeries, Val};
use super::{aggregate, binary, functions, Querier, QueryOptions};
use super::{hist, hist_stats};
use crate::error::{Error, Result};
use crate::model::{is_stale_nan, HPoint, Labels, Matcher, Point};
use crate::promql::{AtModifier, Expr, ExprKind, MatrixSelector, Subquery, VectorSelector};
use crate::value::Series;

/// Where an error that aborts evaluation happened, for limit errors.
const ENV: &str = "query execution";
const EVAL_ENV: &str = "expression evaluation";

/// State of one query evaluation.
pub(crate) struct Evaluator<'a> {
    querier: &'a dyn Querier,
    pub opts: &'a QueryOptions,
    /// Bounds of the top-level query, for `@ start()` / `@ end()` / `start()` / `end()`.
    pub query_start: i64,
    pub query_end: i64,
    pub durations: DurationContext,
    deadline: Option<Instant>,
    /// Samples currently held by evaluated values (the `max_samples` limit).
    samples: usize,
    pub annotations: Annotations,
    /// The query text, when known, for messages that quote it.
    pub query: Option<&'a str>,
    /// Selectors read in histogram-stats form (see `hist_stats`), by address.
    pub stats_selectors: std::collections::HashSet<usize>,
}

/// Where the window `(ref - range, ref]` of a range-vector argument sits at each step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowSpec {
    pub range: i64,
    pub offset: i64,
    pub at: Option<i64>,
    pub anchored: bool,
    pub smoothed: bool,
    /// Whether the series come straight from storage (not from a subquery).
    pub from_selector: bool,
}

impl WindowSpec {
    /// The right end of the window for step timestamp `ts`.
    pub fn ref_time(&self, ts: i64) -> i64 {
        self.at.unwrap_or(ts) - self.offset
    }
}

/// Receives the series of a range-vector argument one at a time, with the
/// start timestamps of its samples (sorted `(t, st)`; empty unless the series
/// comes straight from a selector and has some).
pub(crate) type RangeSeriesFn<'f> =
    dyn FnMut(&mut Evaluator, StepSeries, &WindowSpec, &[(i64, i64)]) -> Result<()> + 'f;

/// What an instant selector reports of the sample it picks at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SampleField {
    /// The value (float or histogram).
    Value,
    /// The sample's timestamp in seconds (`timestamp()`).
    Time,
    /// The sample's start timestamp in seconds, 0 when it has none (`start_timestamp()`).
    StartTime,
}

impl SampleField {
    /// The float reported for a sample at `t` with value `v`; `starts` are
    /// the series' start timestamps.
    fn float(self, t: i64, v: f64, starts: &[(i64, i64)]) -> f64 {
        match self {
            SampleField::Value => v,
            SampleField::Time => t as f64 / 1000.0,
            SampleField::StartTime => crate::value::start_timestamp_at(starts, t) as f64 / 1000.0,
        }
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(querier: &'a dyn Querier, opts: &'a QueryOptions, start: i64, end: i64, step: i64) -> Self {
        Evaluator {
            querier,
            opts,
            query_start: start,
            query_end: end,
            durations: DurationContext { step_ms: step, range_ms: end - start },
            deadline: opts.timeout.map(|t| Instant::now() + t),
            samples: 0,
            annotations: Annotations::default(),
            query: None,
            stats_selectors: Default::default(),
        }
    }

    /// The text of `span` in the query, if the query text is known.
    pub fn source_text(&self, span: &crate::promql::Span) -> Option<String> {
        self.query.and_then(|q| q.get(span.clone())).map(str::to_string)
    }

    /// The lookback delta in ms; zero means the default of 5 minutes, as in Prometheus.
    pub fn lookback(&self) -> i64 {
        match self.opts.lookback_delta.as_millis() as i64 {
            0 => 300_000,
            ms => ms,
        }
    }

    /// Whether `__name__` removal is delayed to the end of the query.
    pub fn delayed_name_removal(&self) -> bool {
        self.opts.delayed_name_removal
    }

    /// Marks a series' name for removal: immediately, or at the end with delayed removal.
    pub fn drop_name(&self, s: &mut StepSeries) {
        if self.delayed_name_removal() {
            s.drop_name = true;
        } else {
            s.labels = drop_metadata(&s.labels);
            s.drop_name = true;
        }
    }

    /// Fails with a timeout or cancellation error when either has happened.
    pub fn check_limits(&self) -> Result<()> {
        if let Some(cancel) = &self.opts.cancel {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Error::Canceled(EVAL_ENV));
            }
        }
        if let Some(deadline) = self.deadline {
            if Instant::now() >= deadline {
                return Err(Error::Timeout(EVAL_ENV));
            }
        }
        Ok(())
    }

    /// Accounts for `n` more samples held in memory.
    pub fn account(&mut self, n: usize) -> Result<()> {
        self.samples += n;
        if self.samples > self.opts.max_samples {
            return Err(Error::TooManySamples(ENV));
        }
        Ok(())
    }

    /// Resolves an `@` modifier to a timestamp.
    pub fn resolve_at(&self, at: &Option<AtModifier>) -> Option<i64> {
        at.map(|a| match a {
            AtModifier::Timestamp(t) => t,
            AtModifier::Start => self.query_start,
            AtModifier::End => self.query_end,
        })
    }

    /// Evaluates `expr` at every step of `r`.
    pub fn eval(&mut self, expr: &Expr, r: StepRange) -> Result<Val> {
        self.check_limits()?;
        let before = self.samples;
        let val = self.eval_node(expr, r)?;
        // Children's values are consumed by now; only this node's value stays.
        self.samples = before;
        let held = match &val {
            Val::Scalar(v) => v.len(),
            Val::String(_) => 0,
            Val::Vector(s) | Val::Matrix(s) => s.iter().map(StepSeries::len).sum(),
        };
        self.account(held)?;
        Ok(val)
    }

    fn eval_node(&mut self, expr: &Expr, r: StepRange) -> Result<Val> {
        match &expr.kind {
            ExprKind::Number(v) => Ok(Val::Scalar(vec![*v; r.len()])),
            ExprKind::String(s) => Ok(Val::String(s.clone())),
            ExprKind::Paren(e) => self.eval(e, r),
            ExprKind::Unary(u) => {
                let v = self.eval(&u.expr, r)?;
                if !u.neg {
                    return Ok(v);
                }
                self.negate(v)
            }
            ExprKind::VectorSelector(sel) => Ok(Val::Vector(self.vector_selector(sel, r, SampleField::Value)?)),
            ExprKind::MatrixSelector(_) | ExprKind::Subquery(_) => {
                if !r.is_instant() {
                    return Err(Error::execution("cannot do range evaluation of a range vector"));
                }
                let mut out = Vec::new();
                self.each_range_series(expr, r, &mut |ev, s, spec, _| {
                    if let Some(w) = window_at(&s, spec, r.start, ev.lookback())? {
                        ev.account(w.len())?;
                        out.push(w);
                    }
                    Ok(())
                })?;
                Ok(Val::Matrix(out))
            }
            ExprKind::Call(call) => functions::eval_call(self, call, r),
            ExprKind::Aggregate(agg) => aggregate::eval_aggregate(self, agg, r),
            ExprKind::Binary(bin) => binary::eval_binary(self, bin, r),
        }
    }

    fn negate(&mut self, v: Val) -> Result<Val> {
        match v {
            Val::Scalar(mut s) => {
                s.iter_mut().for_each(|x| *x = -*x);
                Ok(Val::Scalar(s))
            }
            Val::Vector(mut series) => {
                for s in &mut series {
                    s.points.iter_mut().for_each(|p| p.v = -p.v);
                    for hp in &mut s.hpoints {
                        std::sync::Arc::make_mut(&mut hp.h).negate();
                    }
                    self.drop_name(s);
                }
                if !self.delayed_name_removal() {
                    series = merge_same_labelsets(series)?;
                }
                Ok(Val::Vector(series))
            }
            other => Err(Error::execution(format!("unary minus is not defined on a {}", other.type_name()))),
        }
    }

    /// Evaluates an expression that must be an instant vector (a scalar is an error).
    pub fn eval_vector(&mut self, expr: &Expr, r: StepRange) -> Result<Vec<StepSeries>> {
        match self.eval(expr, r)? {
            Val::Vector(v) => Ok(v),
            other => Err(Error::execution(format!("expected instant vector, got {}", other.type_name()))),
        }
    }

    /// Evaluates an expression that must be a scalar.
    pub fn eval_scalar(&mut self, expr: &Expr, r: StepRange) -> Result<Vec<f64>> {
        match self.eval(expr, r)? {
            Val::Scalar(v) => Ok(v),
            other => Err(Error::execution(format!("expected scalar, got {}", other.type_name()))),
        }
    }

    /// Loads the series matching `matchers` with samples in `[mint, maxt]`, sorted by labels.
    pub fn select(&mut self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>> {
        let mut out = Vec::new();
        self.stream(matchers, mint, maxt, &mut |ev, s| {
            ev.account(s.points.len() + s.histograms.len())?;
            out.push(s);
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads the series matching `matchers` one at a time, in label order,
    /// handing each (with samples in `[mint, maxt]`) to `f`. Only the series
    /// being handled counts against the sample limit.
    pub fn stream(
        &mut self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        f: &mut dyn FnMut(&mut Evaluator, Series) -> Result<()>,
    ) -> Result<()> {
        self.check_limits()?;
        let querier = self.querier;
        let mut since_check = 0usize;
        querier.for_each_series(matchers, mint, maxt, &mut |s: Series| {
            since_check += 1;
            if since_check == 256 {
                since_check = 0;
                self.check_limits()?;
            }
            if s.is_empty() {
                return Ok(());
            }
            // The raw samples count while `f` reduces them, then are released.
            let n = s.points.len() + s.histograms.len();
            self.account(n)?;
            let result = f(self, s);
            self.samples = self.samples.saturating_sub(n);
            result
        })
    }

    /// The times at which a selector with `@`/`offset` is read over `r`.
    fn ref_bounds(&self, at: Option<i64>, offset: i64, r: StepRange) -> (i64, i64) {
        match at {
            Some(t) => (t - offset, t - offset),
            None => (r.start - offset, r.end - offset),
        }
    }

    /// Whether `sel` is read in histogram-stats form.
    fn stats_only(&self, sel: &VectorSelector) -> bool {
        !self.stats_selectors.is_empty() && self.stats_selectors.contains(&(sel as *const VectorSelector as usize))
    }

    /// Evaluates a vector selector at every step, reporting `field` of the samples found.
    pub fn vector_selector(
        &mut self,
        sel: &VectorSelector,
        r: StepRange,
        field: SampleField,
    ) -> Result<Vec<StepSeries>> {
        let offset = self.offset_ms(&sel.offset)?;
        let at = self.resolve_at(&sel.at);
        let lookback = self.lookback();
        let (min_ref, max_ref) = self.ref_bounds(at, offset, r);
        let smoothed = sel.modifier == Some(crate::promql::RangeModifier::Smoothed);
        let maxt = if smoothed { max_ref + lookback } else { max_ref };
        let mut out = Vec::new();
        let stats = self.stats_only(sel);
        self.stream(&sel.matchers, min_ref - lookback + 1, maxt, &mut |ev, s| {
            let s = if stats && !s.histograms.is_empty() { hist_stats::stats_only(s) } else { s };
            let mut series = if !s.histograms.is_empty() {
                if smoothed {
                    hist::smoothed_samples(ev, &s, at, offset, lookback, r)?
                } else {
                    instant_samples(&s, at, offset, lookback, r, field)
                }
            } else {
                let points = if smoothed {
                    smoothed_points(&s.points, at, offset, lookback, r)
                } else {
                    instant_points(&s.points, at, offset, lookback, r, field, &s.start_timestamps)
                };
                StepSeries::floats(Labels::new(), false, points)
            };
            if !series.is_empty() {
                ev.account(series.len())?;
                series.labels = s.labels;
                out.push(series);
            }
            Ok(())
        })?;
        Ok(out)
    }

    pub fn offset_ms(&self, offset: &Option<crate::promql::DurationExpr>) -> Result<i64> {
        offset.as_ref().map_or(Ok(0), |d| self.durations.eval_ms(d))
    }

    /// Hands the series of a range-vector argument (range selector or
    /// subquery, in parentheses or not) to `f` one at a time: straight from
    /// storage for a selector (stale markers removed), or from the evaluated
    /// subquery. Returns where the window sits.
    pub fn each_range_series(&mut self, expr: &Expr, r: StepRange, f: &mut RangeSeriesFn) -> Result<WindowSpec> {
        match &expr.kind {
            ExprKind::Paren(e) => self.each_range_series(e, r, f),
            ExprKind::MatrixSelector(ms) => self.matrix_selector(ms, r, f),
            ExprKind::Subquery(sq) => {
                let (spec, series) = self.subquery(sq, r)?;
                // Subqueries evaluate an expression: start timestamps do not survive.
                for s in series {
                    f(self, s, &spec, &[])?;
                }
                Ok(spec)
            }
            _ => Err(Error::execution(format!("expected range vector, got {}", expr.value_type().name()))),
        }
    }

    fn matrix_selector(&mut self, ms: &MatrixSelector, r: StepRange, f: &mut RangeSeriesFn) -> Result<WindowSpec> {
        let sel = &ms.selector;
        let spec = WindowSpec {
            range: self.durations.eval_positive_ms(&ms.range, "range")?,
            offset: self.offset_ms(&sel.offset)?,
            at: self.resolve_at(&sel.at),
            anchored: sel.modifier == Some(crate::promql::RangeModifier::Anchored),
            smoothed: sel.modifier == Some(crate::promql::RangeModifier::Smoothed),
            from_selector: true,
        };
        let lookback = self.lookback();
        let (min_ref, max_ref) = self.ref_bounds(spec.at, spec.offset, r);
        let extra_back = if spec.anchored || spec.smoothed { lookback } else { 0 };
        let extra_forward = if spec.smoothed { lookback } else { 0 };
        let (mint, maxt) = (min_ref - spec.range - extra_back + 1, max_ref + extra_forward);
        let stats = self.stats_only(sel);
        self.stream(&sel.matchers, mint, maxt, &mut |ev, s| {
            let s = if stats && !s.histograms.is_empty() { hist_stats::stats_only(s) } else { s };
            let points: Vec<Point> = s.points.into_iter().filter(|p| !is_stale_nan(p.v)).collect();
            let hpoints: Vec<HPoint> = s.histograms.into_iter().filter(|p| !hist::is_stale(&p.h)).collect();
            if points.is_empty() && hpoints.is_empty() {
                return Ok(());
            }
            f(ev, StepSeries { labels: s.labels, drop_name: false, points, hpoints }, &spec, &s.start_timestamps)
        })?;
        Ok(spec)
    }

    fn subquery(&mut self, sq: &Subquery, r: StepRange) -> Result<(WindowSpec, Vec<StepSeries>)> {
        let range = self.durations.eval_positive_ms(&sq.range, "subquery range")?;
        let step = match &sq.step {
            Some(d) => self.durations.eval_positive_ms(d, "subquery step")?,
            // A zero default would mean endless steps: fall back to one minute.
            None => match self.opts.default_subquery_step.as_millis() as i64 {
                0 => 60_000,
                ms => ms,
            },
        };
        let offset = self.offset_ms(&sq.offset)?;
        let at = self.resolve_at(&sq.at);
        let (eff_start, eff_end) = match at {
            Some(t) => (t, t),
            None => (r.start, r.end),
        };
        // The inner steps are aligned to multiples of the step, starting with
        // the first one inside the window of the first outer step.
        let lower = eff_start - offset - range;
        let mut sub_start = step * lower.div_euclid(step);
        if sub_start <= lower {
            sub_start += step;
        }
        let inner = StepRange::new(sub_start, eff_end - offset, step);
        let series = if inner.len() == 0 {
            Vec::new()
        } else {
            match self.eval(&sq.expr, inner)? {
                Val::Vector(mut v) => {
                    // Counter-reset hints describe the stored sequence, not the
                    // subquery's resampling of it: reset detection must compare.
                    for s in &mut v {
                        for hp in &mut s.hpoints {
                            hist::forget_reset_hint(&mut hp.h);
                        }
                    }
                    v
                }
                Val::Scalar(v) => vec![StepSeries::floats(
                    Labels::new(),
                    false,
                    v.iter().enumerate().map(|(i, x)| Point::new(inner.ts(i), *x)).collect(),
                )],
                other => {
                    return Err(Error::execution(format!(
                        "subquery is only allowed on instant vector, got {}",
                        other.type_name()
                    )))
                }
            }
        };
        let spec = WindowSpec { range, offset, at, anchored: false, smoothed: false, from_selector: false };
        Ok((spec, series))
    }
}

/// The sample an instant selector sees at each step: the latest one at or
/// before the reference time and within the lookback delta, unless it is a
/// stale marker.
pub(crate) fn instant_points(
    points: &[Point],
    at: Option<i64>,
    offset: i64,
    lookback: i64,
    r: StepRange,
    field: SampleField,
    starts: &[(i64, i64)],
) -> Vec<Point> {
    let mut out = Vec::new();
    let mut next = 0; // first point after the reference time
    for ts in r.iter() {
        let reference = at.unwrap_or(ts) - offset;
        while next < points.len() && points[next].t <= reference {
            next += 1;
        }
        if next == 0 {
            continue;
        }
        let p = points[next - 1];
        if p.t > reference - lookback && !is_stale_nan(p.v) {
            out.push(Point::new(ts, field.float(p.t, p.v, starts)));
        }
    }
    out
}

/// [`instant_points`] for a series that holds native histograms too: at
/// each step the newest sample of either kind counts.
pub(crate) fn instant_samples(
    s: &Series,
    at: Option<i64>,
    offset: i64,
    lookback: i64,
    r: StepRange,
    field: SampleField,
) -> StepSeries {
    let mut out = StepSeries::new(Labels::new(), false);
    let (points, hists) = (&s.points, &s.histograms);
    // First sample of each kind after the reference time.
    let (mut nf, mut nh) = (0, 0);
    for ts in r.iter() {
        let reference = at.unwrap_or(ts) - offset;
        while nf < points.len() && points[nf].t <= reference {
            nf += 1;
        }
        while nh < hists.len() && hists[nh].t <= reference {
            nh += 1;
        }
        let float = nf.checked_sub(1).map(|i| &points[i]);
        let histogram = nh.checked_sub(1).map(|i| &hists[i]);
        let newest_is_float = match (float, histogram) {
            (Some(p), Some(h)) => p.t >= h.t,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => continue,
        };
        if newest_is_float {
            let p = float.expect("newest is a float");
            if p.t > reference - lookback && !is_stale_nan(p.v) {
                out.points.push(Point::new(ts, field.float(p.t, p.v, &s.start_timestamps)));
            }
        } else {
            let h = histogram.expect("newest is a histogram");
            if h.t > reference - lookback && !hist::is_stale(&h.h) {
                if field == SampleField::Value {
                    out.hpoints.push(HPoint { t: ts, h: h.h.clone() });
                } else {
                    out.points.push(Point::new(ts, field.float(h.t, 0.0, &s.start_timestamps)));
                }
            }
        }
    }
    out
}

/// `smoothed` instant selector: the value at the reference time, linearly
/// interpolated between the samples around it (within the lookback delta on
/// either side), or the last sample before it when none follows.
fn smoothed_points(points: &[Point], at: Option<i64>, offset: i64, lookback: i64, r: StepRange) -> Vec<Point> {
    let mut out = Vec::new();
    for ts in r.iter() {
        let reference = at.unwrap_or(ts) - offset;
        let window: Vec<Point> = points
            .iter()
            .copied()
            .filter(|p| p.t > reference - lookback && p.t <= reference + lookback && !is_stale_nan(p.v))
            .collect();
        if window.is_empty() {
            continue;
        }
        let i = window.partition_point(|p| p.t < reference);
        let v = if i < window.len() && window[i].t == reference {
            window[i].v
        } else if i > 0 && i < window.len() {
            interpolate(window[i - 1], window[i], reference, false)
        } else if i > 0 {
            window[i - 1].v
        } else {
            continue;
        };
        out.push(Point::new(ts, v));
    }
    out
}

/// Linear interpolation between `a` and `b` at `t`; for counters a decrease
/// means a reset, so the line starts from 0.
pub(crate) fn interpolate(a: Point, b: Point, t: i64, counter: bool) -> f64 {
    let y1 = if counter && b.v < a.v { 0.0 } else { a.v };
    y1 + (b.v - y1) * (t - a.t) as f64 / (b.t - a.t) as f64
}

/// The raw samples of a series in the window ending at `ts` (for a range
/// vector as the result of an instant query), if there are any.
fn window_at(s: &StepSeries, spec: &WindowSpec, ts: i64, lookback: i64) -> Result<Option<StepSeries>> {
    let end = spec.ref_time(ts);
    let start = end - spec.range;
    let back = if spec.anchored || spec.smoothed { lookback } else { 0 };
    let forward = if spec.smoothed { lookback } else { 0 };
    let lo = s.points.partition_point(|p| p.t <= start - back);
    let hi = s.points.partition_point(|p| p.t <= end + forward);
    let mut points = s.points[lo..hi].to_vec();
    let hlo = s.hpoints.partition_point(|p| p.t <= start - back);
    let hhi = s.hpoints.partition_point(|p| p.t <= end + forward);
    let hpoints = s.hpoints[hlo..hhi].to_vec();
    if (spec.anchored || spec.smoothed) && !hpoints.is_empty() {
        let modifier = if spec.anchored { "anchored" } else { "smoothed" };
        return Err(Error::execution(format!("{modifier} modifier is not supported with histograms")));
    }
    if (spec.anchored || spec.smoothed) && !points.is_empty() {
        points = extend_window(&points, start, end, spec.smoothed);
    }
    let w = StepSeries { labels: s.labels.clone(), drop_name: s.drop_name, points, hpoints };
    Ok((!w.is_empty()).then_some(w))
}

/// `anchored`/`smoothed` windows: the samples strictly inside `(start, end)`
/// plus a point at each boundary, taken from the sample at or before it
/// (anchored) or interpolated (smoothed). Empty when nothing is after `start`.
pub(crate) fn extend_window(points: &[Point], start: i64, end: i64, smoothed: bool) -> Vec<Point> {
    let last_idx = points.len() - 1;
    let first = points[..last_idx].partition_point(|p| p.t <= start).saturating_sub(1);
    let last = if smoothed { points[..last_idx].partition_point(|p| p.t < end) } else { last_idx };
    if points[last].t <= start || points[first].t > end {
        return Vec::new();
    }
    let left = if smoothed && points[first].t < start {
        interpolate(points[first], points[first + 1], start, false)
    } else {
        points[first].v
    };
    let right = if smoothed && last > 0 && points[last].t > end {
        interpolate(points[last - 1], points[last], end, false)
    } else {
        points[last].v
    };
    let inner_first = if points[first].t <= start { first + 1 } else { first };
    let inner_last = if points[last].t >= end { last as isize - 1 } else { last as isize };
    let mut out = Vec::with_capacity(points.len() + 2);
    out.push(Point::new(start, left));
    if inner_last >= inner_first as isize {
        out.extend_from_slice(&points[inner_first..=inner_last as usize]);
    }
    out.push(Point::new(end, right));
    out
}

/// Merges series that ended up with the same labels (after a name was
/// dropped or a label rewritten); two values at one timestamp are an error.
pub(crate) fn merge_same_labelsets(series: Vec<StepSeries>) -> Result<Vec<StepSeries>> {
    let mut index: std::collections::HashMap<Labels, usize> = std::collections::HashMap::with_capacity(series.len());
    let mut out: Vec<StepSeries> = Vec::with_capacity(series.len());
    let mut merged_any = false;
    for s in series {
        match index.get(&s.labels) {
            Some(&i) => {
                merged_any = true;
                let target = &mut out[i];
                target.points.extend(s.points);
                target.hpoints.extend(s.hpoints);
                target.drop_name |= s.drop_name;
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged_any {
        for s in &mut out {
            s.points.sort_by_key(|p| p.t);
            s.hpoints.sort_by_key(|p| p.t);
            let collides = s.points.windows(2).any(|w| w[0].t == w[1].t)
                || s.hpoints.windows(2).any(|w| w[0].t == w[1].t)
                || (!s.hpoints.is_empty()
                    && s.points.iter().any(|p| s.hpoints.binary_search_by_key(&p.t, |h| h.t).is_ok()));
            if collides {
                return Err(Error::execution("vector cannot contain metrics with the same labelset"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<Point> {
        v.iter().map(|&(t, v)| Point::new(t, v)).collect()
    }

    #[test]
    fn instant_points_respect_lookback_and_staleness() {
        let p = pts(&[(0, 1.0), (60_000, 2.0), (120_000, crate::model::stale_nan())]);
        let r = StepRange::new(0, 480_000, 60_000);
        let got = instant_points(&p, None, 0, 300_000, r, SampleField::Value, &[]);
        // At 2m the latest sample is the stale marker: nothing from then on.
        assert_eq!(got, pts(&[(0, 1.0), (60_000, 2.0)]));
        let no_stale = pts(&[(0, 1.0)]);
        let got = instant_points(&no_stale, None, 0, 300_000, r, SampleField::Value, &[]);
        // A sample exactly lookback old is no longer seen.
        assert_eq!(got.len(), 5);
        let shifted = instant_points(&no_stale, Some(0), 0, 300_000, r, SampleField::Time, &[]);
        assert_eq!(shifted.len(), r.len(), "@ pins every step to the same sample");
        assert!(shifted.iter().all(|p| p.v == 0.0));
    }

    #[test]
    fn extended_windows_add_boundary_points() {
        let p = pts(&[(0, 0.0), (10, 10.0), (20, 20.0)]);
        assert_eq!(extend_window(&p, 5, 15, false), pts(&[(5, 0.0), (10, 10.0), (15, 20.0)]));
        assert_eq!(extend_window(&p, 5, 15, true), pts(&[(5, 5.0), (10, 10.0), (15, 15.0)]));
        assert!(extend_window(&pts(&[(0, 1.0)]), 5, 15, false).is_empty());
    }

    #[test]
    fn merging_same_labelsets_rejects_colliding_timestamps() {
        let s = |t| StepSeries::floats(Labels::new(), false, pts(&[(t, 1.0)]));
        let merged = merge_same_labelsets(vec![s(10), s(0)]).unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].points, pts(&[(0, 1.0), (10, 1.0)]));
        assert!(merge_same_labelsets(vec![s(0), s(0)]).is_err());
    }
}
