//! The PromQL evaluator: instant and range queries over a [`Querier`].
//!
//! Every expression node is evaluated over all steps of the query at once;
//! each selector loads its series with one [`Querier::select`] covering the
//! whole range, and range functions slide their window over those samples.
//! See `docs/promql.md` for the design.

mod aggregate;
mod annotations;
mod binary;
mod durations;
mod engine;
mod functions;
mod hist;
mod hist_binop;
mod hist_stats;
mod output;
mod series;
#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::{Matcher, Point};
use crate::promql::{Expr, ValueType};
use crate::value::{QueryResult, Sample, Series, Value};
use engine::{merge_same_labelsets, Evaluator};
use series::{drop_metadata, StepRange, StepSeries, Val};

/// Where the evaluator reads series from (the storage engine implements it).
pub trait Querier {
    /// Series matching all `matchers`, with their samples in `[mint, maxt]` (inclusive, ms).
    ///
    /// # Errors
    /// Storage errors.
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>>;

    /// Hands the series [`Querier::select`] would return to `f` one at a
    /// time, in label order, so the evaluator can reduce each one before the
    /// next is read. The default selects them all first; a storage that can
    /// decode one series at a time should override it.
    ///
    /// # Errors
    /// Storage errors, or the first error `f` returns (which stops the scan).
    fn for_each_series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        f: &mut dyn FnMut(Series) -> Result<()>,
    ) -> Result<()> {
        let mut all = self.select(matchers, mint, maxt)?;
        all.sort_by(|a, b| a.labels.cmp(&b.labels));
        all.into_iter().try_for_each(f)
    }
}

/// Engine settings for one query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// How far back an instant selector looks for a sample (default 5 minutes; zero means the default).
    pub lookback_delta: Duration,
    /// Maximum number of samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Abort with a timeout error after this long.
    pub timeout: Option<Duration>,
    /// Set to true from another thread to cancel the query.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Step of subqueries written without one (`x[1h:]`), Prometheus's default
    /// evaluation interval (zero means one minute).
    pub default_subquery_step: Duration,
    /// Remove `__name__` at the end of the query instead of where a function
    /// or operator makes it meaningless (Prometheus's
    /// `promql-delayed-name-removal` feature, off by default there too).
    pub delayed_name_removal: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Some(Duration::from_secs(120)),
            cancel: None,
            default_subquery_step: Duration::from_secs(60),
            delayed_name_removal: false,
        }
    }
}

/// Evaluates `expr` at time `t` (ms).
///
/// # Errors
/// Parse errors, execution errors, limits.
pub fn instant_query(q: &dyn Querier, expr: &str, t: i64, opts: &QueryOptions) -> Result<QueryResult> {
    let parsed = crate::promql::parse(expr)?;
    run(q, &parsed, Some(expr), t, t, 0, opts)
}

/// Evaluates `expr` at every step from `start` to `end` (ms, inclusive).
///
/// # Errors
/// Parse errors, execution errors, limits; `step` must be positive and the
/// expression must be a scalar or instant vector.
pub fn range_query(
    q: &dyn Querier,
    expr: &str,
    start: i64,
    end: i64,
    step: i64,
    opts: &QueryOptions,
) -> Result<QueryResult> {
    check_range(start, end, step)?;
    let parsed = crate::promql::parse(expr)?;
    check_range_type(&parsed)?;
    run(q, &parsed, Some(expr), start, end, step, opts)
}

/// Evaluates an already parsed expression over `[start, end]` at `step`
/// (`start == end`, `step == 0` for an instant query).
///
/// # Errors
/// As [`range_query`].
pub fn evaluate(
    q: &dyn Querier,
    expr: &Expr,
    start: i64,
    end: i64,
    step: i64,
    opts: &QueryOptions,
) -> Result<QueryResult> {
    if step != 0 || start != end {
        check_range(start, end, step)?;
        check_range_type(expr)?;
    }
    run(q, expr, None, start, end, step, opts)
}

fn check_range(start: i64, end: i64, step: i64) -> Result<()> {
    if step <= 0 {
        return Err(Error::invalid(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if end < start {
        return Err(Error::invalid("end timestamp must not be before start time"));
    }
    Ok(())
}

fn check_range_type(expr: &Expr) -> Result<()> {
    match expr.value_type() {
        ValueType::Scalar | ValueType::Vector => Ok(()),
        other => Err(Error::invalid(format!(
            "invalid expression type {:?} for range query, must be Scalar or instant Vector",
            other.name()
        ))),
    }
}

fn run(
    q: &dyn Querier,
    expr: &Expr,
    text: Option<&str>,
    start: i64,
    end: i64,
    step: i64,
    opts: &QueryOptions,
) -> Result<QueryResult> {
    let instant = step == 0 && start == end;
    let mut ev = Evaluator::new(q, opts, start, end, step);
    ev.query = text;
    ev.stats_selectors = hist_stats::stats_selectors(expr);
    let range = StepRange::new(start, end, if instant { 1 } else { step });
    // Every step holds at least one value; refuse ranges that could not fit.
    if range.len() > opts.max_samples {
        return Err(Error::TooManySamples("query execution"));
    }
    let val = ev.eval(expr, range)?;
    let value = if instant { instant_value(val, start, opts)? } else { range_value(val, range, opts)? };
    Ok(QueryResult { value, warnings: ev.annotations.warnings, infos: ev.annotations.infos })
}

/// Drops the names still marked for removal (delayed name removal).
fn apply_name_drops(series: &mut [StepSeries], opts: &QueryOptions) {
    if !opts.delayed_name_removal {
        return;
    }
    for s in series.iter_mut().filter(|s| s.drop_name) {
        s.labels = drop_metadata(&s.labels);
    }
}

fn into_matrix(series: Vec<StepSeries>) -> Vec<Series> {
    let mut out: Vec<Series> = series
        .into_iter()
        .map(|s| Series { labels: s.labels, points: s.points, histograms: s.hpoints, start_timestamps: Vec::new() })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    out
}

fn instant_value(val: Val, t: i64, opts: &QueryOptions) -> Result<Value> {
    Ok(match val {
        Val::Scalar(v) => Value::Scalar(Point::new(t, v[0])),
        Val::String(s) => Value::String { t, value: s },
        Val::Vector(mut series) => {
            apply_name_drops(&mut series, opts);
            let mut seen = std::collections::HashSet::with_capacity(series.len());
            let mut samples = Vec::with_capacity(series.len());
            for s in series {
                if !seen.insert(s.labels.clone()) {
                    return Err(Error::execution("vector cannot contain metrics with the same labelset"));
                }
                let h = s.hpoints.first().map(|p| p.h.clone());
                let v = s.points.first().map_or(if h.is_some() { 0.0 } else { f64::NAN }, |p| p.v);
                samples.push(Sample { labels: s.labels, t, v, h });
            }
            Value::Vector(samples)
        }
        Val::Matrix(mut series) => {
            apply_name_drops(&mut series, opts);
            Value::Matrix(into_matrix(merge_same_labelsets(series)?))
        }
    })
}

fn range_value(val: Val, range: StepRange, opts: &QueryOptions) -> Result<Value> {
    Ok(match val {
        Val::Scalar(v) => {
            let points = v.iter().enumerate().map(|(i, x)| Point::new(range.ts(i), *x)).collect();
            Value::Matrix(vec![Series::floats(crate::model::Labels::new(), points)])
        }
        Val::Vector(mut series) | Val::Matrix(mut series) => {
            apply_name_drops(&mut series, opts);
            Value::Matrix(into_matrix(merge_same_labelsets(series)?))
        }
        Val::String(_) => {
            return Err(Error::invalid(
                "invalid expression type \"string\" for range query, must be Scalar or instant Vector",
            ))
        }
    })
}
