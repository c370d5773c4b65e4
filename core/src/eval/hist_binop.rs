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

/// `h </ rhs` (`upper`: drop observations above `rhs`) or `h >/ rhs` (drop
/// those below): buckets on the wrong side are emptied, the bucket holding
/// `rhs` keeps the interpolated share (linear for custom buckets and the
/// zero bucket, exponential otherwise), and the sum loses the removed
/// observations at their buckets' midpoints.
pub(crate) fn trim(h: &FloatHistogram, rhs: f64, upper: bool) -> FloatHistogram {
    let mut t = h.clone();
    let custom = t.uses_custom_buckets();
    let mut kept_count = 0.0;
    let mut removed_sum = 0.0;
    let (mut has_positive, mut has_negative) = (false, false);
    let positive: Vec<Bucket> = t.positive_buckets_iter().collect();
    for (i, b) in positive.iter().enumerate() {
        if b.count == 0.0 {
            continue;
        }
        if custom {
            if b.upper <= 0.0 {
                has_negative = true;
            } else {
                has_negative |= b.lower < 0.0;
                has_positive = true;
            }
        } else {
            has_positive = true;
        }
        let (keep, midpoint) = bucket_trim(b, rhs, upper, true, custom);
        let (whole, none) = if upper { (b.upper <= rhs, b.lower >= rhs) } else { (b.lower >= rhs, b.upper <= rhs) };
        if whole {
            kept_count += b.count;
        } else if !none {
            removed_sum += (b.count - keep) * midpoint;
            kept_count += keep;
            t.positive_buckets[i] = keep;
        } else {
            let midpoint = if custom { midpoint } else { (b.lower * b.upper).sqrt() };
            removed_sum += b.count * midpoint;
            t.positive_buckets[i] = 0.0;
        }
    }
    let negative: Vec<Bucket> = t.negative_buckets_iter().collect();
    for (i, b) in negative.iter().enumerate() {
        if b.count == 0.0 {
            continue;
        }
        has_negative = true;
        let (keep, midpoint) = bucket_trim(b, rhs, upper, false, custom);
        let (whole, none) = if upper { (b.upper <= rhs, b.lower >= rhs) } else { (b.lower >= rhs, b.upper <= rhs) };
        if whole {
            kept_count += b.count;
        } else if !none {
            removed_sum += (b.count - keep) * midpoint;
            kept_count += keep;
            t.negative_buckets[i] = keep;
        } else {
            // As in Prometheus, the product of two negative bounds: a positive midpoint.
            removed_sum += b.count * (b.lower * b.upper).sqrt();
            t.negative_buckets[i] = 0.0;
        }
    }
    if t.zero_count > 0.0 {
        let below = split_count(&t.zero_bucket(), rhs, true, true);
        let keep = if upper { below } else { t.zero_count - below };
        t.zero_count = keep;
        kept_count += keep;
    }
    let mut sum = 0.0;
    // With no observations left the sum is zero; otherwise it cannot change sign
    // to a side that holds no observations.
    if kept_count != 0.0 {
        sum = h.sum - removed_sum;
        if !has_negative && sum < 0.0 {
            sum = 0.0;
        }
        if !has_positive && sum > 0.0 {
            sum = 0.0;
        }
    }
    t.count = kept_count;
    t.sum = sum;
    hist::compacted(t)
}

/// The count a bucket keeps when trimmed at `rhs`, and the midpoint at which
/// its removed observations are taken out of the sum.
fn bucket_trim(b: &Bucket, rhs: f64, upper: bool, positive: bool, custom: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinite_bucket_trim(b, rhs, upper);
    }
    let below = split_count(b, rhs, positive, custom);
    if upper {
        (below, midpoint(b, b.lower.abs() * rhs.abs(), custom, positive))
    } else {
        (b.count - below, midpoint(b, rhs.abs() * b.upper.abs(), custom, positive))
    }
}

/// [`bucket_trim`] for a bucket reaching to -Inf or +Inf, whose
/// distribution is unknown: kept or removed whole, except that a custom
/// first bucket with a positive upper bound is taken to start at zero.
fn infinite_bucket_trim(b: &Bucket, rhs: f64, upper: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY {
        let from_zero = rhs >= 0.0 && b.upper > rhs && b.upper != f64::INFINITY;
        if upper {
            if rhs >= b.upper {
                return (b.count, 0.0);
            }
            if from_zero {
                return (b.count * rhs / b.upper, (rhs + b.upper) / 2.0);
            }
            return (0.0, b.upper);
        }
        if rhs <= b.lower {
            return (b.count, 0.0);
        }
        if from_zero {
            return (b.count * (1.0 - rhs / b.upper), rhs / 2.0);
        }
        return (0.0, b.upper);
    }
    // Upper bound +Inf.
    if upper {
        return (0.0, b.lower);
    }
    if rhs <= b.lower {
        return (b.count, 0.0);
    }
    (0.0, b.lower)
}

/// The part of a bucket's count at or below `rhs`: linear interpolation
/// for custom and zero buckets, logarithmic for exponential ones.
fn split_count(b: &Bucket, rhs: f64, positive: bool, linear: bool) -> f64 {
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
        if positive {
            (log_v - log_lower) / (log_upper - log_lower)
        } else {
            1.0 - (log_v - log_upper) / (log_lower - log_upper)
        }
    };
    b.count * fraction
}

fn midpoint(b: &Bucket, product: f64, linear: bool, positive: bool) -> f64 {
    if linear {
        (b.lower + b.upper) / 2.0
    } else if positive {
        product.sqrt()
    } else {
        -product.sqrt()
    }
}
