//! Function implementations. The table below is the evaluator's counterpart
//! of the signature table in `promql/functions.rs`; a test checks that both
//! name the same functions.

mod histogram;
mod instant;
mod labels;
mod range;
mod range_hist;

use super::engine::Evaluator;
use super::series::{StepRange, Val};
use crate::error::{Error, Result};
use crate::model::{Labels, MatchOp, METRIC_NAME};
use crate::promql::{Call, Expr, ExprKind};

pub(crate) use range::RangeImpl;
use range::{range_fn, Window};

/// How a function is evaluated.
pub(crate) enum Impl {
    /// A float-to-float function applied to every sample; drops the metric name.
    Math(fn(f64) -> f64),
    /// Over the window of a range-vector argument at every step.
    Range(RangeImpl),
    /// A calendar field of each sample's value taken as a Unix time (UTC),
    /// or of the evaluation time when called without arguments.
    Date(fn(&instant::Date) -> f64),
    /// Evaluated by its own code.
    Custom(fn(&mut Evaluator, &Call, StepRange) -> Result<Val>),
}

const fn keeps_name(f: fn(&Window) -> Result<Option<f64>>) -> RangeImpl {
    RangeImpl { keeps_name: true, ..range_fn(f) }
}

const fn extendable(f: fn(&Window) -> Result<Option<f64>>, smoothed_ok: bool) -> RangeImpl {
    RangeImpl { anchored_ok: true, smoothed_ok, ..range_fn(f) }
}

/// `rate`, `increase`, `resets`: read the counter resets in the window.
const fn counter(f: fn(&Window) -> Result<Option<f64>>, smoothed_ok: bool) -> RangeImpl {
    RangeImpl { anchored_ok: true, smoothed_ok, counts_drops: true, ..range_fn(f) }
}

/// Every function, sorted by name.
static IMPLEMENTATIONS: &[(&str, Impl)] = &[
    ("abs", Impl::Math(f64::abs)),
    ("absent", Impl::Custom(instant::absent)),
    ("absent_over_time", Impl::Custom(range::absent_over_time)),
    ("acos", Impl::Math(f64::acos)),
    ("acosh", Impl::Math(f64::acosh)),
    ("asin", Impl::Math(f64::asin)),
    ("asinh", Impl::Math(f64::asinh)),
    ("atan", Impl::Math(f64::atan)),
    ("atanh", Impl::Math(f64::atanh)),
    ("avg_over_time", Impl::Range(range_fn(range::avg_over_time).histograms(range_hist::avg_over_time))),
    ("ceil", Impl::Math(f64::ceil)),
    ("changes", Impl::Range(extendable(range::changes, false).histograms(range_hist::changes))),
    ("clamp", Impl::Custom(instant::clamp)),
    ("clamp_max", Impl::Custom(instant::clamp_max)),
    ("clamp_min", Impl::Custom(instant::clamp_min)),
    ("cos", Impl::Math(f64::cos)),
    ("cosh", Impl::Math(f64::cosh)),
    ("count_over_time", Impl::Range(range_fn(range::count_over_time).histograms(range_hist::count_over_time))),
    ("day_of_month", Impl::Date(|d| d.day as f64)),
    ("day_of_week", Impl::Date(|d| d.weekday as f64)),
    ("day_of_year", Impl::Date(|d| d.yearday as f64)),
    ("days_in_month", Impl::Date(|d| instant::days_in(d.year, d.month) as f64)),
    ("deg", Impl::Math(|v| v * 180.0 / std::f64::consts::PI)),
    ("delta", Impl::Range(extendable(range::delta, true).histograms(range_hist::delta))),
    ("deriv", Impl::Range(range_fn(range::deriv))),
    ("double_exponential_smoothing", Impl::Range(range_fn(range::double_exponential_smoothing))),
    ("end", Impl::Custom(instant::end)),
    ("exp", Impl::Math(f64::exp)),
    ("first_over_time", Impl::Range(keeps_name(range::first_over_time).histograms(range_hist::first_over_time))),
    ("floor", Impl::Math(f64::floor)),
    ("histogram_avg", Impl::Custom(histogram::histogram_avg)),
    ("histogram_count", Impl::Custom(histogram::histogram_count)),
    ("histogram_fraction", Impl::Custom(histogram::histogram_fraction)),
    ("histogram_quantile", Impl::Custom(histogram::histogram_quantile)),
    ("histogram_quantiles", Impl::Custom(histogram::histogram_quantiles)),
    ("histogram_stddev", Impl::Custom(histogram::histogram_stddev)),
    ("histogram_stdvar", Impl::Custom(histogram::histogram_stdvar)),
    ("histogram_sum", Impl::Custom(histogram::histogram_sum)),
    ("hour", Impl::Date(|d| d.hour as f64)),
    ("idelta", Impl::Range(range_fn(range::idelta).histograms(range_hist::idelta))),
    ("increase", Impl::Range(counter(range::increase, true).histograms(range_hist::increase))),
    ("info", Impl::Custom(labels::info)),
    ("irate", Impl::Range(range_fn(range::irate).histograms(range_hist::irate))),
    ("label_join", Impl::Custom(labels::label_join)),
    ("label_replace", Impl::Custom(labels::label_replace)),
    ("last_over_time", Impl::Range(keeps_name(range::last_over_time).histograms(range_hist::last_over_time))),
    ("ln", Impl::Math(f64::ln)),
    ("log10", Impl::Math(f64::log10)),
    ("log2", Impl::Math(f64::log2)),
    ("mad_over_time", Impl::Range(range_fn(range::mad_over_time))),
    ("max_of", Impl::Custom(instant::max_of)),
    ("max_over_time", Impl::Range(range_fn(range::max_over_time))),
    ("min_of", Impl::Custom(instant::min_of)),
    ("min_over_time", Impl::Range(range_fn(range::min_over_time))),
    ("minute", Impl::Date(|d| d.minute as f64)),
    ("month", Impl::Date(|d| d.month as f64)),
    ("pi", Impl::Custom(instant::pi)),
    ("predict_linear", Impl::Range(range_fn(range::predict_linear))),
    ("present_over_time", Impl::Range(range_fn(range::present_over_time).histograms(range_hist::present_over_time))),
    ("quantile_over_time", Impl::Range(range_fn(range::quantile_over_time))),
    ("rad", Impl::Math(|v| v * std::f64::consts::PI / 180.0)),
    ("range", Impl::Custom(instant::range)),
    ("rate", Impl::Range(counter(range::rate, true).histograms(range_hist::rate))),
    ("resets", Impl::Range(counter(range::resets, false).histograms(range_hist::resets))),
    ("round", Impl::Custom(instant::round)),
    ("scalar", Impl::Custom(instant::scalar)),
    ("sgn", Impl::Math(instant::sgn)),
    ("sin", Impl::Math(f64::sin)),
    ("sinh", Impl::Math(f64::sinh)),
    ("sort", Impl::Custom(instant::sort)),
    ("sort_by_label", Impl::Custom(labels::sort_by_label)),
    ("sort_by_label_desc", Impl::Custom(labels::sort_by_label_desc)),
    ("sort_desc", Impl::Custom(instant::sort_desc)),
    ("sqrt", Impl::Math(f64::sqrt)),
    ("start", Impl::Custom(instant::start)),
    ("start_timestamp", Impl::Custom(instant::start_timestamp)),
    ("stddev_over_time", Impl::Range(range_fn(range::stddev_over_time))),
    ("stdvar_over_time", Impl::Range(range_fn(range::stdvar_over_time))),
    ("step", Impl::Custom(instant::step)),
    ("sum_over_time", Impl::Range(range_fn(range::sum_over_time).histograms(range_hist::sum_over_time))),
    ("tan", Impl::Math(f64::tan)),
    ("tanh", Impl::Math(f64::tanh)),
    ("time", Impl::Custom(instant::time)),
    ("timestamp", Impl::Custom(instant::timestamp)),
    (
        "ts_of_first_over_time",
        Impl::Range(range_fn(range::ts_of_first_over_time).histograms(range_hist::ts_of_first_over_time)),
    ),
    (
        "ts_of_last_over_time",
        Impl::Range(range_fn(range::ts_of_last_over_time).histograms(range_hist::ts_of_last_over_time)),
    ),
    ("ts_of_max_over_time", Impl::Range(range_fn(range::ts_of_max_over_time))),
    ("ts_of_min_over_time", Impl::Range(range_fn(range::ts_of_min_over_time))),
    ("vector", Impl::Custom(instant::vector)),
    ("year", Impl::Date(|d| d.year as f64)),
];

fn lookup(name: &str) -> Option<&'static Impl> {
    IMPLEMENTATIONS.binary_search_by(|(n, _)| n.cmp(&name)).ok().map(|i| &IMPLEMENTATIONS[i].1)
}

/// Names of all implemented functions, sorted.
#[cfg(test)]
pub(crate) fn implemented() -> impl Iterator<Item = &'static str> {
    IMPLEMENTATIONS.iter().map(|(n, _)| *n)
}

pub(crate) fn eval_call(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let imp =
        lookup(&call.func).ok_or_else(|| Error::execution(format!("unknown function with name {:?}", call.func)))?;
    // The type checker rejects wrong argument counts; this keeps the
    // implementations safe for expressions built without it.
    if let Some(sig) = crate::promql::functions::lookup(&call.func) {
        let n = call.args.len();
        if n < sig.min_args() || sig.max_args().is_some_and(|max| n > max) {
            return Err(Error::execution(format!("wrong number of arguments for function {:?}: {n}", call.func)));
        }
    }
    match imp {
        Impl::Math(f) => instant::map_samples(ev, call, r, *f),
        Impl::Range(ri) => range::eval_range_call(ev, call, ri, r),
        Impl::Date(f) => instant::date_function(ev, call, r, *f),
        Impl::Custom(f) => f(ev, call, r),
    }
}

/// `e` without enclosing parentheses.
pub(crate) fn unparen(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => unparen(inner),
        _ => e,
    }
}

/// Argument `i` of a call, which must exist.
pub(crate) fn arg(call: &Call, i: usize) -> Result<&Expr> {
    call.args.get(i).ok_or_else(|| Error::execution(format!("function {:?} is missing argument {}", call.func, i + 1)))
}

/// Argument `i` of a call as a string literal.
pub(crate) fn string_arg(call: &Call, i: usize) -> Result<String> {
    match &unparen(arg(call, i)?).kind {
        ExprKind::String(s) => Ok(s.clone()),
        _ => Err(Error::execution(format!("argument {} of {:?} must be a string", i + 1, call.func))),
    }
}

/// Whether Prometheus accepts `name` as a label name (any valid UTF-8 but empty).
pub(crate) fn is_valid_label_name(name: &str) -> bool {
    // Invalid bytes in a query string were replaced by U+FFFD when it was parsed.
    !name.is_empty() && !name.contains('\u{fffd}')
}

/// The labels `absent()`/`absent_over_time()` report for a missing selector:
/// those fixed by exactly one equality matcher.
pub(crate) fn absent_labels(arg: &Expr) -> Labels {
    let matchers = match &unparen(arg).kind {
        ExprKind::VectorSelector(s) => &s.matchers,
        ExprKind::MatrixSelector(m) => &m.selector.matchers,
        _ => return Labels::new(),
    };
    let mut labels = Labels::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !seen.contains(&m.name.as_str()) {
            labels.set(&m.name, &m.value);
            seen.push(&m.name);
        } else {
            labels.remove(&m.name);
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::{functions, parse};

    #[test]
    fn implementation_table_matches_signature_table() {
        let signatures: Vec<&str> = functions::all().map(|f| f.name).collect();
        let implemented: Vec<&str> = implemented().collect();
        assert_eq!(implemented, signatures);
        for pair in IMPLEMENTATIONS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "table must stay sorted for lookup");
        }
    }

    #[test]
    fn absent_labels_keep_only_unambiguous_equalities() {
        let e = parse(r#"absent(nope{job="a", job="b", env="x", inst=~"y"})"#).unwrap();
        let ExprKind::Call(c) = &e.kind else { panic!() };
        assert_eq!(absent_labels(&c.args[0]), Labels::from_pairs([("env", "x")]));
    }
}
