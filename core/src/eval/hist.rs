//! The evaluator's view of native-histogram math: thin wrappers over
//! `crate::histogram` in the shapes the operators and functions use, plus
//! what only the evaluator needs (staleness, interpolation, running sums).

use std::sync::Arc;

use super::engine::Evaluator;
use super::series::{StepRange, StepSeries};
use crate::error::Result;
use crate::histogram::{Bucket, CombineNotes, CounterResetHint, FloatHistogram, MixedSchemasError, QuantileNaNNote};
use crate::model::{is_stale_nan, HPoint, Labels};
use crate::value::Series;

/// The result of adding or subtracting two histograms.
pub(crate) struct Combined {
    pub h: FloatHistogram,
    /// The operands carried contradicting counter-reset hints.
    pub collision: bool,
    /// Custom-bucket bounds differed and were reduced to the common ones.
    pub reconciled: bool,
}

/// Whether `h` is Prometheus's stale marker in histogram form.
pub(crate) fn is_stale(h: &FloatHistogram) -> bool {
    is_stale_nan(h.sum)
}

/// Clears a `CounterReset`/`NotCounterReset` hint (keeping `Gauge`), so
/// resets are detected by comparing values.
pub(crate) fn forget_reset_hint(h: &mut Arc<FloatHistogram>) {
    if matches!(h.counter_reset_hint, CounterResetHint::CounterReset | CounterResetHint::NotCounterReset) {
        Arc::make_mut(h).counter_reset_hint = CounterResetHint::Unknown;
    }
}

/// `h` without empty buckets (Prometheus's `Compact(0)`).
pub(crate) fn compacted(mut h: FloatHistogram) -> FloatHistogram {
    h.compact(0);
    h
}

/// An empty histogram with the schema and custom bounds of `like`.
pub(crate) fn empty_like(like: &FloatHistogram) -> FloatHistogram {
    FloatHistogram { schema: like.schema, custom_values: like.custom_values.clone(), ..FloatHistogram::default() }
}

/// `h` with every count and the sum multiplied by `factor`.
pub(crate) fn scaled(h: &FloatHistogram, factor: f64) -> FloatHistogram {
    let mut out = h.clone();
    out.mul(factor);
    out
}

/// `h` with every count and the sum divided by `divisor`.
pub(crate) fn divided(h: &FloatHistogram, divisor: f64) -> FloatHistogram {
    let mut out = h.clone();
    out.div(divisor);
    out
}

fn combined(
    mut h: FloatHistogram,
    op: fn(&mut FloatHistogram, &FloatHistogram) -> std::result::Result<CombineNotes, MixedSchemasError>,
    other: &FloatHistogram,
) -> Option<Combined> {
    let notes = op(&mut h, other).ok()?;
    Some(Combined { h, collision: notes.counter_reset_collision, reconciled: notes.custom_bounds_reconciled })
}

/// `a + b`; `None` when exponential and custom buckets meet.
pub(crate) fn add(a: &FloatHistogram, b: &FloatHistogram) -> Option<Combined> {
    combined(a.clone(), FloatHistogram::add, b)
}

/// `a - b`; `None` when exponential and custom buckets meet.
pub(crate) fn sub(a: &FloatHistogram, b: &FloatHistogram) -> Option<Combined> {
    combined(a.clone(), FloatHistogram::sub, b)
}

/// Whether a counter reset happened between `prev` and `curr`, judged by
/// the values alone (counter-reset hints ignored).
pub(crate) fn detect_reset_by_value(curr: &FloatHistogram, prev: &FloatHistogram) -> bool {
    let mut unhinted = curr.clone();
    unhinted.counter_reset_hint = CounterResetHint::Unknown;
    unhinted.detect_reset(prev)
}

/// Go's `FloatHistogram.String()`, e.g. `{count:4, sum:5, [-2,-1):1,
/// [-0.001,0.001]:2, (1,2]:1}`: the populated buckets in ascending order with
/// their bounds (`count_values` writes histograms this way).
pub(crate) fn go_string(h: &FloatHistogram) -> String {
    use super::annotations::go_g;
    let mut out = format!("{{count:{}, sum:{}", go_g(h.count), go_g(h.sum));
    let negative: Vec<Bucket> = h.negative_buckets_iter().filter(|b| b.count != 0.0).collect();
    let zero = (h.zero_count != 0.0).then(|| h.zero_bucket());
    let positive = h.positive_buckets_iter().filter(|b| b.count != 0.0);
    for b in negative.into_iter().rev().chain(zero).chain(positive) {
        let open = if b.lower_inclusive { '[' } else { '(' };
        let close = if b.upper_inclusive { ']' } else { ')' };
        out.push_str(&format!(", {open}{},{}{close}:{}", go_g(b.lower), go_g(b.upper), go_g(b.count)));
    }
    out.push('}');
    out
}

/// What `histogram_quantile` says about a native histogram with NaN observations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum QuantileNote {
    None,
    /// The quantile fell into the NaN observations: the result is NaN.
    NanResult,
    /// NaN observations (counted as the highest) skewed the result higher.
    NanSkew,
}

impl QuantileNote {
    pub fn report(self, annotations: &mut super::annotations::Annotations, metric: &str) {
        match self {
            QuantileNote::None => {}
            QuantileNote::NanResult => annotations.quantile_nan_result(metric),
            QuantileNote::NanSkew => annotations.quantile_nan_skew(metric),
        }
    }
}

/// The `q`-quantile of a native histogram.
pub(crate) fn quantile(q: f64, h: &FloatHistogram) -> (f64, QuantileNote) {
    let (v, note) = h.quantile(q);
    let note = match note {
        None => QuantileNote::None,
        Some(QuantileNaNNote::ResultIsNaN) => QuantileNote::NanResult,
        Some(QuantileNaNNote::SkewedHigher) => QuantileNote::NanSkew,
    };
    (v, note)
}

/// The value at `t` on the line from `a` to `b`; for a counter that reset
/// between them the line starts at zero. `None` when the two cannot be combined.
pub(crate) fn interpolate(a: &HPoint, b: &HPoint, t: i64, counter: bool) -> Option<FloatHistogram> {
    let fraction = (t - a.t) as f64 / (b.t - a.t) as f64;
    if counter && b.h.counter_reset_hint != CounterResetHint::Gauge && b.h.detect_reset(&a.h) {
        return Some(scaled(&b.h, fraction));
    }
    let step = sub(&b.h, &a.h)?;
    Some(add(&a.h, &scaled(&step.h, fraction))?.h)
}

/// A running, Kahan-compensated sum of histograms (`sum_over_time`), or
/// mean (`avg_over_time`: a direct mean while the sum stays finite, then an
/// incremental one, as Prometheus computes it), tracking what Prometheus
/// reports about it.
pub(crate) struct HistogramSum {
    sum: FloatHistogram,
    compensation: Option<FloatHistogram>,
    /// Set once a mean switched to incremental computation.
    incremental_mean: Option<FloatHistogram>,
    mean: bool,
    count: f64,
    reset_seen: bool,
    not_reset_seen: bool,
    reconciled: bool,
}

impl HistogramSum {
    pub fn new(first: &FloatHistogram, mean: bool) -> Self {
        let mut s = HistogramSum {
            sum: first.clone(),
            compensation: None,
            incremental_mean: None,
            mean,
            count: 1.0,
            reset_seen: false,
            not_reset_seen: false,
            reconciled: false,
        };
        s.note_hint(first);
        s
    }

    fn note_hint(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset_seen = true,
            CounterResetHint::NotCounterReset => self.not_reset_seen = true,
            _ => {}
        }
    }

    /// Adds `h`; false when it cannot be combined with the sum so far.
    pub fn add(&mut self, h: &FloatHistogram) -> bool {
        self.note_hint(h);
        self.count += 1.0;
        if let Some(mean) = &mut self.incremental_mean {
            return Self::move_mean(mean, &mut self.compensation, h, self.count, &mut self.reconciled);
        }
        let mut sum = self.sum.clone();
        let Ok((compensation, notes)) = sum.kahan_add(h, self.compensation.clone()) else { return false };
        self.reconciled |= notes.custom_bounds_reconciled;
        if !self.mean || !sum.has_overflow() {
            self.sum = sum;
            self.compensation = Some(compensation);
            return true;
        }
        // The direct sum overflows: continue with an incremental mean.
        let n = self.count - 1.0;
        let mut mean = divided(&self.sum, n);
        if let Some(c) = &mut self.compensation {
            c.div(n);
        }
        let ok = Self::move_mean(&mut mean, &mut self.compensation, h, self.count, &mut self.reconciled);
        self.incremental_mean = Some(mean);
        ok
    }

    /// mean = mean·(n-1)/n + h/n, compensated.
    fn move_mean(
        mean: &mut FloatHistogram,
        c: &mut Option<FloatHistogram>,
        h: &FloatHistogram,
        n: f64,
        reconciled: &mut bool,
    ) -> bool {
        let q = (n - 1.0) / n;
        if let Some(c) = c.as_mut() {
            c.mul(q);
        }
        mean.mul(q);
        match mean.kahan_add(&divided(h, n), c.take()) {
            Ok((comp, notes)) => {
                *reconciled |= notes.custom_bounds_reconciled;
                *c = Some(comp);
                true
            }
            Err(_) => false,
        }
    }

    /// Both `CounterReset` and `NotCounterReset` hints were summed.
    pub fn counter_reset_collision(&self) -> bool {
        self.reset_seen && self.not_reset_seen
    }

    pub fn reconciled(&self) -> bool {
        self.reconciled
    }

    /// The sum (or mean) with its compensation folded in.
    pub fn finish(self) -> FloatHistogram {
        let (mut value, mut compensation) = match self.incremental_mean {
            Some(mean) => (mean, self.compensation),
            None if self.mean => (divided(&self.sum, self.count), self.compensation.map(|c| divided(&c, self.count))),
            None => (self.sum, self.compensation),
        };
        if let Some(c) = compensation.take() {
            // Both have the same kind of buckets: adding cannot fail.
            let _ = value.add(&c);
        }
        compacted(value)
    }
}

/// The `smoothed` instant selector over a series holding histograms: at
/// each step the value interpolated between the samples around the
/// reference time (or the last one before it). Floats and histograms in one
/// window, or exponential and custom buckets on both sides, give no value
/// and a warning.
pub(crate) fn smoothed_samples(
    ev: &mut Evaluator,
    s: &Series,
    at: Option<i64>,
    offset: i64,
    lookback: i64,
    r: StepRange,
) -> Result<StepSeries> {
    let metric = s.labels.metric_name().unwrap_or("").to_string();
    let mut out = StepSeries::new(Labels::new(), false);
    let hs: Vec<&HPoint> = s.histograms.iter().filter(|p| !is_stale(&p.h)).collect();
    for ts in r.iter() {
        let reference = at.unwrap_or(ts) - offset;
        let in_window = |t: i64| t > reference - lookback && t <= reference + lookback;
        let floats = s.points.iter().any(|p| in_window(p.t) && !is_stale_nan(p.v));
        let lo = hs.partition_point(|p| p.t <= reference - lookback);
        let hi = hs.partition_point(|p| p.t <= reference + lookback);
        let window = &hs[lo..hi];
        if window.is_empty() {
            continue;
        }
        if floats {
            ev.annotations.mixed_floats_histograms(&metric);
            continue;
        }
        let i = window.partition_point(|p| p.t < reference);
        let value = if i < window.len() && window[i].t == reference {
            (*window[i].h).clone()
        } else if i > 0 && i < window.len() {
            let (a, b) = (window[i - 1], window[i]);
            if a.h.uses_custom_buckets() != b.h.uses_custom_buckets() {
                ev.annotations.mixed_exponential_custom_histograms(&metric);
                continue;
            }
            match interpolate(a, b, reference, true) {
                Some(h) => h,
                None => {
                    ev.annotations.mixed_exponential_custom_histograms(&metric);
                    continue;
                }
            }
        } else if i > 0 {
            (*window[i - 1].h).clone()
        } else {
            continue;
        };
        out.hpoints.push(HPoint { t: ts, h: Arc::new(value) });
    }
    Ok(out)
}

/// A histogram written in test notation (for the evaluator's tests).
#[cfg(test)]
pub(crate) fn test_histogram(text: &str) -> FloatHistogram {
    FloatHistogram::parse_test_notation(text).expect("valid test notation")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> FloatHistogram {
        test_histogram(text)
    }

    #[test]
    fn go_string_lists_populated_buckets_in_order() {
        let x = h("{{schema:0 count:20 sum:10 z_bucket:2 z_bucket_w:0.001 buckets:[1 2] n_buckets:[1 2]}}");
        assert_eq!(go_string(&x), "{count:20, sum:10, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}");
    }

    #[test]
    fn running_sums_compensate_and_means_survive_overflow() {
        let mut sum = HistogramSum::new(&h("{{count:1 sum:1e100}}"), false);
        assert!(sum.add(&h("{{count:1 sum:1}}")));
        assert!(sum.add(&h("{{count:1 sum:-1e100}}")));
        assert_eq!(sum.finish().sum, 1.0, "Kahan keeps the small term");
        let mut mean = HistogramSum::new(&h("{{count:2 sum:1e308}}"), true);
        assert!(mean.add(&h("{{count:4 sum:1e308}}")));
        let m = mean.finish();
        assert_eq!((m.count, m.sum), (3.0, 1e308), "an incremental mean once the sum overflows");
        let mut mixed = HistogramSum::new(&h("{{count:1}}"), false);
        assert!(!mixed.add(&h("{{schema:-53 count:1 custom_values:[1] buckets:[1]}}")));
    }

    #[test]
    fn counter_interpolation_restarts_from_zero_after_a_reset() {
        let a = HPoint::new(0, h("{{count:10 buckets:[10]}}"));
        let b = HPoint::new(10, h("{{count:2 buckets:[2]}}"));
        assert_eq!(interpolate(&a, &b, 5, true).unwrap().count, 1.0);
        assert_eq!(interpolate(&a, &b, 5, false).unwrap().count, 6.0);
    }
}
