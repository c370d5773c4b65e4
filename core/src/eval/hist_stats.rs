//! Prometheus's histogram "stats decoding": a selector read only for
//! `histogram_count`, `histogram_sum` or `histogram_avg` gets histograms
//! with just their count and sum. Prometheus does this to save work, but it
//! shows in results: such histograms carry counter-reset hints worked out
//! while reading (an unknown hint becomes "reset" or "not_reset" by
//! comparison with the previous sample read), and no bucket layout beyond
//! their schema.

use std::collections::HashSet;
use std::sync::Arc;

use super::hist::is_stale;
use crate::histogram::{CounterResetHint, FloatHistogram};
use crate::model::HPoint;
use crate::promql::{BinaryOp, Expr, ExprKind, VectorSelector};
use crate::value::Series;

/// The selectors of `expr` (by address) that are read in stats-only form:
/// those below a `histogram_count`/`histogram_sum`/`histogram_avg` call and
/// not below a subquery, a function that needs buckets, or a trim operator.
pub(crate) fn stats_selectors(expr: &Expr) -> HashSet<usize> {
    let mut out = HashSet::new();
    walk(expr, false, &mut out);
    out
}

fn walk(expr: &Expr, stats: bool, out: &mut HashSet<usize>) {
    let mut mark = |sel: &VectorSelector| {
        if stats {
            out.insert(sel as *const VectorSelector as usize);
        }
    };
    match &expr.kind {
        ExprKind::VectorSelector(sel) => mark(sel),
        ExprKind::MatrixSelector(m) => mark(&m.selector),
        // Counter-reset detection over subquery results needs the buckets.
        ExprKind::Subquery(_) => {}
        ExprKind::Call(c) => {
            let stats = match c.func.as_str() {
                "histogram_count" | "histogram_sum" | "histogram_avg" => true,
                "histogram_quantile"
                | "histogram_quantiles"
                | "histogram_fraction"
                | "histogram_stddev"
                | "histogram_stdvar" => return,
                _ => stats,
            };
            c.args.iter().for_each(|a| walk(a, stats, out));
        }
        ExprKind::Aggregate(a) => {
            walk(&a.expr, stats, out);
            if let Some(p) = &a.param {
                walk(p, stats, out);
            }
        }
        ExprKind::Binary(b) => {
            if matches!(b.op, BinaryOp::TrimUpper | BinaryOp::TrimLower) {
                return;
            }
            walk(&b.lhs, stats, out);
            walk(&b.rhs, stats, out);
        }
        ExprKind::Unary(u) => walk(&u.expr, stats, out),
        ExprKind::Paren(e) => walk(e, stats, out),
        ExprKind::Number(_) | ExprKind::String(_) => {}
    }
}

/// The stats-only form of a series' histograms, read in time order.
pub(crate) fn stats_only(mut s: Series) -> Series {
    let mut previous: Option<Arc<FloatHistogram>> = None;
    for hp in &mut s.histograms {
        let full = hp.h.clone();
        if is_stale(&full) {
            *hp = HPoint { t: hp.t, h: Arc::new(FloatHistogram { sum: full.sum, ..FloatHistogram::default() }) };
            continue;
        }
        let hint = match (full.counter_reset_hint, &previous) {
            (CounterResetHint::Unknown, Some(p)) if full.detect_reset(p) => CounterResetHint::CounterReset,
            (CounterResetHint::Unknown, Some(_)) => CounterResetHint::NotCounterReset,
            (hint, _) => hint,
        };
        // The schema stays, so exponential and custom buckets still do not mix.
        let stats = FloatHistogram {
            counter_reset_hint: hint,
            schema: full.schema,
            count: full.count,
            sum: full.sum,
            ..FloatHistogram::default()
        };
        hp.h = Arc::new(stats);
        previous = Some(full);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Labels;
    use crate::promql::parse;

    #[test]
    fn only_selectors_under_count_sum_avg_without_bucket_needs() {
        let count = |q: &str| stats_selectors(&parse(q).unwrap()).len();
        assert_eq!(count("histogram_count(rate(h[5m]))"), 1);
        assert_eq!(count("histogram_sum(sum(a) + b)"), 2);
        assert_eq!(count("rate(h[5m])"), 0);
        assert_eq!(count("histogram_count(histogram_quantile(0.5, h))"), 0);
        assert_eq!(count("histogram_count(rate(h[5m:1m]))"), 0, "subqueries keep buckets");
        assert_eq!(count("histogram_sum(h >/ 10)"), 0, "trimming needs buckets");
    }

    #[test]
    fn stats_histograms_keep_count_and_sum_and_resolve_unknown_hints() {
        let h = |t: &str| Arc::new(FloatHistogram::parse_test_notation(t).unwrap());
        let s = Series {
            labels: Labels::new(),
            start_timestamps: Vec::new(),
            points: vec![],
            histograms: vec![
                HPoint { t: 0, h: h("{{count:2 sum:3 buckets:[2]}}") },
                HPoint { t: 1, h: h("{{count:3 sum:4 buckets:[3]}}") },
                HPoint { t: 2, h: h("{{count:1 sum:1 buckets:[1]}}") },
                HPoint { t: 3, h: h("{{count:1 sum:1 buckets:[1] counter_reset_hint:gauge}}") },
            ],
        };
        let out = stats_only(s);
        let hints: Vec<CounterResetHint> = out.histograms.iter().map(|p| p.h.counter_reset_hint).collect();
        use CounterResetHint::*;
        assert_eq!(hints, vec![Unknown, NotCounterReset, CounterReset, Gauge]);
        assert!(out.histograms.iter().all(|p| p.h.positive_buckets.is_empty()));
        assert_eq!((out.histograms[1].h.count, out.histograms[1].h.sum), (3.0, 4.0));
    }
}
