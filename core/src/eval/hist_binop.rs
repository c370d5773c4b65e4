//! Binary operators on native histograms: which combinations of floats and
//! histograms give a result (`h + h`, `h - h`, `h * f`, `f * h`, `h / f`,
//! `h == h`, `h != h`, and the trim operators `h </ f`, `h >/ f`), and the
//! notes Prometheus reports for the others.

use std::sync::Arc;

use super::annotations::Annotations;
use super::binary::element_binop;
use super::hist;
use super::series::StepValue;
use crate::histogram::{CounterResetHint, FloatHistogram};
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
pub(crate) fn hist_binop(
    op: BinaryOp,
    l: &StepValue,
    r: &StepValue,
    note: &mut Option<StepNote>,
) -> Option<(StepValue, bool)> {
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
            BinaryOp::Eql => Some((l.clone(), a.equals(b))),
            BinaryOp::Neq => Some((l.clone(), !a.equals(b))),
            _ => incompatible(note),
        },
    }
}

/// `histogram op float`, for the operators defined on that pair.
fn histogram_float(op: BinaryOp, h: &FloatHistogram, f: f64) -> Option<FloatHistogram> {
    match op {
        BinaryOp::Mul => Some(hist::compacted(hist::scaled(h, f))),
        BinaryOp::Div => Some(hist::compacted(hist::divided(h, f))),
        BinaryOp::TrimUpper => Some(hist::compacted(h.trim_upper(f))),
        BinaryOp::TrimLower => Some(hist::compacted(h.trim_lower(f))),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::hist::test_histogram as h;

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
