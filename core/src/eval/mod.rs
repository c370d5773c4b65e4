//! The PromQL evaluator: instant and range queries over a [`Querier`].

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::model::Matcher;
use crate::promql::Expr;
use crate::value::{QueryResult, Series};

/// Where the evaluator reads series from (the storage engine implements it).
pub trait Querier {
    /// Series matching all `matchers`, with their samples in `[mint, maxt]` (inclusive, ms).
    ///
    /// # Errors
    /// Storage errors.
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>>;
}

/// Engine settings for one query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// How far back an instant selector looks for a sample (default 5 minutes).
    pub lookback_delta: Duration,
    /// Maximum number of samples a query may hold in memory at once.
    pub max_samples: usize,
    /// Abort with a timeout error after this long.
    pub timeout: Option<Duration>,
    /// Set to true from another thread to cancel the query.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Step of subqueries written without one (`x[1h:]`), Prometheus's default evaluation interval.
    pub default_subquery_step: Duration,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Some(Duration::from_secs(120)),
            cancel: None,
            default_subquery_step: Duration::from_secs(60),
        }
    }
}

/// Evaluates `expr` at time `t` (ms).
///
/// # Errors
/// Parse errors, execution errors, limits.
pub fn instant_query(q: &dyn Querier, expr: &str, t: i64, opts: &QueryOptions) -> Result<QueryResult> {
    let _ = (q, expr, t, opts);
    todo!("evaluator")
}

/// Evaluates `expr` at every step from `start` to `end` (ms, inclusive).
///
/// # Errors
/// Parse errors, execution errors, limits; `step` must be positive.
pub fn range_query(
    q: &dyn Querier,
    expr: &str,
    start: i64,
    end: i64,
    step: i64,
    opts: &QueryOptions,
) -> Result<QueryResult> {
    let _ = (q, expr, start, end, step, opts);
    todo!("evaluator")
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
    let _ = (q, expr, start, end, step, opts);
    todo!("evaluator")
}
