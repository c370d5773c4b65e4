//! Binary operators on native histograms: which combinations of floats and
//! histograms give a result (`h + h`, `h - h`, `h * f`, `f * h`, `h / f`,
//! `h == h`, `h != h`, and the trim operators `h </ f`, `h >/ f`), and the
//! notes Prometheus reports for the others.

use std::sync::Arc;

use super::annotations::Annotations;
use super::binary::element_binop;
use super::hist;
use super::series::StepValue;
use crate::histogram::{Bucket, CounterResetHint, FloatHistogram};
use crate::promql::BinaryOp;

/// Why a step of a binary operation dropped or annotated a pair. Prometheus
/// reports only the last one of each step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StepNote {
    /// The operator is not defined for these sample types (left, right).
    IncompatibleTypes(&'static str, &'static str),
    /// Two histograms with exponential and custom buckets.
    IncompatibleLayout,
    /// Custom-bucket bounds were reconciled (during "addition"/"subtraction").
    Reconciled(&'static str),
    /// Contradicting counter-reset hints (during "addition"/"subtraction").
    Collision(&'static str),
}

impl StepNote {
    pub fn report(self, op: BinaryOp, annotations: &mut Annotations) {
        match self {
            StepNote::IncompatibleTypes(l, r) => annotations.incompatible_types_in_binop(l, op.as_str(), r),
            StepNote::IncompatibleLayout => annotations.incompatible_bucket_layout_in_binop(op.as_str()),
            StepNote::Reconciled(what) => annotations.mismatched_custom_buckets(what),
            StepNote::Collision(what) => annotations.counter_reset_collision(what),
        }
    }
}

fn type_name(v: &StepValue) -> &'static str {
    match v {
        StepValue::Float(_) => "float",
        StepValue::Hist(_) => "histogram",
    }
}

fn hist(h: FloatHistogram) -> StepValue {
    StepValue::Hist(Arc::new(h))
}

/// `l op r` for samples of either kind: the value and, for comparisons,
/// whether it holds (the value is then the left-hand side's). `None` drops
/// the pair and leaves a note.
pub(crate) fn hist_binop(op: BinaryOp, l: &StepValue, r: &StepValue, note: &mut Option<StepNote>) -> Option<(StepValue, bool)> {
    let incompatible = |note: &mut Option<StepNote>| {
        *note = Some(StepNote::IncompatibleTypes(type_name(l), type_name(r)));
        None
    };
    match (l, r) {
        (StepValue::Float(a), StepValue::Float(b)) => {
            if matches!(op, BinaryOp::TrimUpper | BinaryOp::TrimLower) {
                return incompatible(note);
            }
            let (v, keep) = element_binop(op, *a, *b);
            Some((StepValue::Float(v), keep))
        }
        (StepValue::Float(a), StepValue::Hist(h)) => match op {
            BinaryOp::Mul => Some((hist(hist::compacted(hist::scaled(h, *a))), true)),
            _ => incompatible(note),
        },
        (StepValue::Hist(h), StepValue::Float(b)) => match histogram_float(op, h, *b) {
            Some(result) => Some((hist(result), true)),
            None => incompatible(note),
        },
        (StepValue::Hist(a), StepValue::Hist(b)) => match op {
            BinaryOp::Add | BinaryOp::Sub => {
                let (combined, what) =
                    if op == BinaryOp::Add { (hist::add(a, b), "addition") } else { (hist::sub(a, b), "subtraction") };
                let Some(c) = combined else {
                    *note = Some(StepNote::IncompatibleLayout);
                    return None;
                };
                if c.collision {
                    *note = Some(StepNote::Collision(what));
                    return None;
                }
                if c.reconciled {
                    *note = Some(StepNote::Reconciled(what));
                }
                let mut h = c.h;
                if op == BinaryOp::Sub {
                    h.counter_reset_hint = CounterResetHint::Gauge;
                }
                Some((hist(hist::compacted(h)), true))
            }
            BinaryOp::Eql => Some((l.clone(), hist::equals(a, b))),
            BinaryOp::Neq => Some((l.clone(), !hist::equals(a, b))),
            _ => incompatible(note),
        },
    }
}

/// `histogram op float`, for the operators defined on that pair.
fn histogram_float(op: BinaryOp, h: &FloatHistogram, f: f64) -> Option<FloatHistogram> {
    match op {
        BinaryOp::Mul => Some(hist::compacted(hist::scaled(h, f))),
        BinaryOp::Div => Some(hist::compacted(hist::divided(h, f))),
        BinaryOp::TrimUpper => Some(trim(h, f, true)),
        BinaryOp::TrimLower => Some(trim(h, f, false)),
        _ => None,
    }
}

/// A histogram sample of a vector/scalar operation (`swap`: the scalar is
/// on the left). `None` drops the sample and leaves a note.
pub(crate) fn histogram_scalar_binop(
    op: BinaryOp,
    h: &Arc<FloatHistogram>,
    scalar: f64,
    swap: bool,
    note: &mut Option<StepNote>,
) -> Option<Arc<FloatHistogram>> {
    let result = if swap {
        (op == BinaryOp::Mul).then(|| hist::compacted(hist::scaled(h, scalar)))
    } else {
        histogram_float(op, h, scalar)
    };
    if result.is_none() {
        let (l, r) = if swap { ("float", "histogram") } else { ("histogram", "float") };
        *note = Some(StepNote::IncompatibleTypes(l, r));
    }
    result.map(Arc::new)
}

// ---------------------------------------------------------------------------
// Trim operators

/// `h </ rhs` (`upper`: keep the observations at or below `rhs`) or
/// `h >/ rhs` (keep those at or above it). A bucket holding `rhs` keeps the
/// interpolated share of its count (logarithmically for exponential
/// buckets, linearly for custom ones and the zero bucket). When anything
/// was cut, the sum is re-estimated from what is kept, each kept part at the
/// midpoint of its range (geometric for exponential buckets); when nothing
/// was cut, the histogram is returned unchanged.
pub(crate) fn trim(h: &FloatHistogram, rhs: f64, upper: bool) -> FloatHistogram {
    let custom = h.uses_custom_buckets();
    let mut t = h.clone();
    let mut changed = false;
    let (mut count, mut sum) = (0.0, 0.0);
    let mut keep = |b: &Bucket, slot: &mut f64, linear: bool| {
        let (kept, at) = trim_bucket(b, rhs, upper, linear);
        if kept != b.count {
            changed = true;
            *slot = kept;
        }
        count += kept;
        if kept != 0.0 {
            sum += kept * at;
        }
    };
    let positive: Vec<Bucket> = h.positive_buckets_iter().collect();
    for (b, slot) in positive.iter().zip(t.positive_buckets.iter_mut()) {
        keep(b, slot, custom);
    }
    let negative: Vec<Bucket> = h.negative_buckets_iter().collect();
    for (b, slot) in negative.iter().zip(t.negative_buckets.iter_mut()) {
        keep(b, slot, custom);
    }
    if h.zero_count != 0.0 {
        // The zero bucket lies on the side of zero where the other buckets
        // are, when they are all on one side.
        let has_positive = h.positive_buckets.iter().any(|&c| c != 0.0);
        let has_negative = h.negative_buckets.iter().any(|&c| c != 0.0);
        let lower = if has_positive && !has_negative { 0.0 } else { -h.zero_threshold };
        let upper_bound = if has_negative && !has_positive { 0.0 } else { h.zero_threshold };
        let zero = Bucket { lower, upper: upper_bound, count: h.zero_count, ..h.zero_bucket() };
        let mut zero_count = h.zero_count;
        keep(&zero, &mut zero_count, true);
        t.zero_count = zero_count;
    }
    if !changed {
        return h.clone();
    }
    t.count = count;
    t.sum = sum;
    hist::compacted(t)
}

/// The count a bucket keeps when trimmed at `rhs`, and the value its kept
/// observations are assumed to have.
fn trim_bucket(b: &Bucket, rhs: f64, upper: bool, linear: bool) -> (f64, f64) {
    let (lo, hi, count) = (b.lower, b.upper, b.count);
    if count == 0.0 {
        return (0.0, 0.0);
    }
    let nothing = (0.0, 0.0);
    match (lo == f64::NEG_INFINITY, hi == f64::INFINITY) {
        // The only custom bucket: its observations could be anywhere.
        (true, true) => {
            let keep_all = if upper { rhs == f64::INFINITY } else { rhs == f64::NEG_INFINITY };
            if keep_all {
                (count, 0.0)
            } else {
                nothing
            }
        }
        // The first custom bucket, with a positive bound: taken to start at zero.
        (true, false) if hi > 0.0 => {
            if upper {
                match rhs {
                    r if r >= hi => (count, hi / 2.0),
                    r if r <= 0.0 => nothing,
                    r => (count * r / hi, r / 2.0),
                }
            } else {
                match rhs {
                    r if r == f64::NEG_INFINITY || r == 0.0 => (count, hi / 2.0),
                    // Below zero the bucket's extent is unknown.
                    r if r < 0.0 => nothing,
                    r if r >= hi => nothing,
                    r => (count * (1.0 - r / hi), (r + hi) / 2.0),
                }
            }
        }
        // The first custom bucket, reaching down to -Inf: kept whole or not at all.
        (true, false) => {
            if upper {
                match rhs {
                    r if r == f64::NEG_INFINITY => nothing,
                    r if r >= hi => (count, hi),
                    r => (count, r),
                }
            } else if rhs == f64::NEG_INFINITY {
                (count, hi)
            } else {
                nothing
            }
        }
        // The last custom bucket, reaching up to +Inf.
        (false, true) => {
            if upper {
                if rhs == f64::INFINITY {
                    (count, lo)
                } else {
                    nothing
                }
            } else {
                match rhs {
                    r if r <= lo => (count, lo),
                    r if r == f64::INFINITY => nothing,
                    r => (count, r),
                }
            }
        }
        (false, false) => {
            let below = split_count(b, rhs, linear);
            let (kept, from, to) = if upper { (below, lo, rhs.min(hi)) } else { (count - below, rhs.max(lo), hi) };
            (kept, midpoint(from, to, linear))
        }
    }
}

/// The part of a (finite) bucket's count at or below `rhs`: linear
/// interpolation, or logarithmic for exponential buckets.
fn split_count(b: &Bucket, rhs: f64, linear: bool) -> f64 {
    if rhs <= b.lower {
        return 0.0;
    }
    if rhs >= b.upper {
        return b.count;
    }
    let fraction = if linear {
        (rhs - b.lower) / (b.upper - b.lower)
    } else {
        let (log_lower, log_upper, log_v) = (b.lower.abs().log2(), b.upper.abs().log2(), rhs.abs().log2());
        (log_v - log_lower) / (log_upper - log_lower)
    };
    b.count * fraction
}

/// The midpoint of `[from, to]`: arithmetic, or geometric for exponential
/// buckets (which never straddle zero).
fn midpoint(from: f64, to: f64, linear: bool) -> f64 {
    if linear {
        (from + to) / 2.0
    } else if from < 0.0 {
        -(from * to).sqrt()
    } else {
        (from * to).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::hist::test_histogram as h;

    #[test]
    fn custom_buckets_trim_linearly_and_open_ended_buckets_whole() {
        let cbh = h("{{schema:-53 sum:172.5 count:15 custom_values:[5 10 15 20] buckets:[1 6 4 3 1]}}");
        // The first bucket (-Inf, 5] counts as [0, 5]; (10, 15] is cut at 13.
        let t = trim(&cbh, 13.0, true);
        assert_eq!(t.positive_buckets, vec![1.0, 6.0, 2.4]);
        assert!((t.sum - (2.5 + 6.0 * 7.5 + 2.4 * 11.5)).abs() < 1e-9);
        // The +Inf bucket goes as soon as an upper trim is finite.
        assert_eq!(trim(&cbh, 50.0, true).count, 14.0);
        // A lower trim inside it keeps it whole, at the cut.
        let t = trim(&cbh, 30.0, false);
        assert_eq!((t.count, t.sum), (1.0, 30.0));
        assert_eq!(trim(&cbh, f64::NEG_INFINITY, false), cbh, "nothing cut: unchanged");
    }

    #[test]
    fn zero_bucket_leans_to_the_side_of_the_other_buckets() {
        let positive = h("{{schema:0 sum:8 count:12 z_bucket:2 z_bucket_w:0.5 buckets:[10]}}");
        assert_eq!(trim(&positive, 0.0, false).count, 12.0, "[0, 0.5] lies above 0");
        let t = trim(&positive, 0.1, false);
        assert!((t.zero_count - 1.6).abs() < 1e-12);
        let only_zero = h("{{schema:0 count:5 z_bucket:5 z_bucket_w:0.1}}");
        let t = trim(&only_zero, 0.05, false);
        assert!((t.count - 1.25).abs() < 1e-12 && (t.sum - 1.25 * 0.075).abs() < 1e-12);
    }

    #[test]
    fn binop_notes_name_the_operand_types() {
        let hist = StepValue::Hist(Arc::new(h("{{count:1}}")));
        let mut note = None;
        assert!(hist_binop(BinaryOp::Pow, &StepValue::Float(2.0), &hist, &mut note).is_none());
        assert_eq!(note, Some(StepNote::IncompatibleTypes("float", "histogram")));
        let custom = StepValue::Hist(Arc::new(h("{{schema:-53 count:1 custom_values:[1] buckets:[1]}}")));
        assert!(hist_binop(BinaryOp::Add, &hist, &custom, &mut note).is_none());
        assert_eq!(note, Some(StepNote::IncompatibleLayout));
        let (v, keep) = hist_binop(BinaryOp::Lss, &StepValue::Float(1.0), &StepValue::Float(2.0), &mut note).unwrap();
        assert_eq!((v, keep), (StepValue::Float(1.0), true));
    }
}
