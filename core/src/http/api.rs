//! The read side of the Prometheus HTTP API: queries, series, labels,
//! metadata, build info and the endpoints Grafana probes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};

use super::params::Params;
use super::response::{json_string_array, ApiError, ApiResult, ApiSuccess};
use super::{now_ms, run_blocking};
use crate::eval::QueryOptions;
use crate::model::Matcher;
use crate::value::{write_json_string, write_labels_json, QueryResult, Value};

/// Prometheus refuses range queries with more points than this per series.
const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// The warning Prometheus attaches when `limit` cut a result short.
const TRUNCATED: &str = "results truncated due to limit";

/// The Prometheus API version promlite answers as (Grafana and other clients
/// pick features by it); promlite's own version is in `revision`.
const COMPATIBLE_PROMETHEUS_VERSION: &str = "3.0.0";

/// Sets the cancel flag when the request goes away (client disconnected), so
/// the evaluator stops working for nobody.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Evaluates a query in a query slot, off the async threads.
async fn run_query(
    state: &super::State,
    params: &Params,
    work: impl FnOnce(&crate::Db, &QueryOptions) -> crate::Result<QueryResult> + Send + 'static,
) -> ApiResult {
    let mut opts = state.db.options().query.clone();
    opts.max_samples = state.config.max_samples;
    let timeout = match params.duration("timeout")? {
        Some(ms) if ms > 0 => Duration::from_millis(ms as u64).min(state.config.query_timeout),
        _ => state.config.query_timeout,
    };
    opts.timeout = Some(timeout);
    let cancel = Arc::new(AtomicBool::new(false));
    opts.cancel = Some(cancel.clone());
    let limit = params.limit()?;

    let _slot = state.query_slots.acquire().await.map_err(|_| ApiError::internal("server is shutting down"))?;
    let _guard = CancelOnDrop(cancel);
    let db = state.db.clone();
    let result = run_blocking(move || work(&db, &opts)).await?;
    Ok(render_query_result(result, limit))
}

fn render_query_result(result: QueryResult, limit: Option<usize>) -> ApiSuccess {
    let QueryResult { mut value, mut warnings, infos } = result;
    let truncated = match &mut value {
        Value::Vector(v) => truncate(v, limit),
        Value::Matrix(m) => truncate(m, limit),
        Value::Scalar(_) | Value::String { .. } => false,
    };
    if truncated {
        warnings.push(TRUNCATED.to_string());
    }
    let mut data = String::new();
    value.write_json(&mut data);
    ApiSuccess { data, warnings, infos }
}

/// `GET|POST /api/v1/query`
pub(crate) async fn query(State(state): State<super::State>, params: Params) -> ApiResult {
    let expr = params.get("query").unwrap_or_default().to_string();
    let t = params.time("time", now_ms())?;
    run_query(&state, &params, move |db, opts| db.query_with(&expr, t, opts)).await
}

/// `GET|POST /api/v1/query_range`
pub(crate) async fn query_range(State(state): State<super::State>, params: Params) -> ApiResult {
    let expr = params.get("query").unwrap_or_default().to_string();
    let required_time = |name: &str| {
        super::params::parse_time(params.get(name).unwrap_or_default()).map_err(|e| ApiError::invalid_param(name, e))
    };
    let start = required_time("start")?;
    let end = required_time("end")?;
    if end < start {
        return Err(ApiError::bad_data("end timestamp must not be before start time"));
    }
    let step = super::params::parse_duration(params.get("step").unwrap_or_default())
        .map_err(|e| ApiError::invalid_param("step", e))?;
    if step <= 0 {
        return Err(ApiError::bad_data(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > MAX_POINTS_PER_SERIES {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    run_query(&state, &params, move |db, opts| db.query_range_with(&expr, start, end, step, opts)).await
}

/// Applies `limit` to a sorted list, returning whether it cut anything.
fn truncate<T>(items: &mut Vec<T>, limit: Option<usize>) -> bool {
    match limit {
        Some(n) if items.len() > n => {
            items.truncate(n);
            true
        }
        _ => false,
    }
}

fn with_truncation(data: String, truncated: bool) -> ApiSuccess {
    let success = ApiSuccess::new(data);
    if truncated {
        success.with_warning(TRUNCATED)
    } else {
        success
    }
}

/// Runs `lookup` for every matcher set off the async threads; returns the sorted union.
async fn union_over_sets<T: Ord + Send + 'static>(
    state: &super::State,
    sets: Vec<Vec<Matcher>>,
    start: i64,
    end: i64,
    lookup: impl Fn(&crate::Db, &[Matcher], i64, i64) -> crate::Result<Vec<T>> + Send + 'static,
) -> Result<Vec<T>, ApiError> {
    let db = state.db.clone();
    let all = run_blocking(move || {
        let mut all = BTreeSet::new();
        for set in &sets {
            all.extend(lookup(&db, set, start, end)?);
        }
        Ok(all)
    })
    .await?;
    Ok(all.into_iter().collect())
}

/// `GET|POST /api/v1/series`
pub(crate) async fn series(State(state): State<super::State>, params: Params) -> ApiResult {
    let sets = params.matcher_sets()?;
    if sets.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let (start, end) = params.time_range()?;
    let limit = params.limit()?;
    let mut found = union_over_sets(&state, sets, start, end, |db, m, s, e| db.series(m, s, e)).await?;
    let truncated = truncate(&mut found, limit);
    let mut data = String::from("[");
    for (i, labels) in found.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        write_labels_json(&mut data, labels);
    }
    data.push(']');
    Ok(with_truncation(data, truncated))
}

/// Label names or values over the union of the `match[]` sets (all series when none).
async fn label_strings(
    state: &super::State,
    params: &Params,
    lookup: impl Fn(&crate::Db, &[Matcher], i64, i64) -> crate::Result<Vec<String>> + Send + 'static,
) -> ApiResult {
    let mut sets = params.matcher_sets()?;
    if sets.is_empty() {
        sets.push(Vec::new());
    }
    let (start, end) = params.time_range()?;
    let limit = params.limit()?;
    let mut found = union_over_sets(state, sets, start, end, lookup).await?;
    let truncated = truncate(&mut found, limit);
    Ok(with_truncation(json_string_array(&found), truncated))
}

/// `GET|POST /api/v1/labels`
pub(crate) async fn labels(State(state): State<super::State>, params: Params) -> ApiResult {
    label_strings(&state, &params, |db, m, s, e| db.label_names(m, s, e)).await
}

/// `GET /api/v1/label/<name>/values`
pub(crate) async fn label_values(
    State(state): State<super::State>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    if name.is_empty() {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    label_strings(&state, &params, move |db, m, s, e| db.label_values(&name, m, s, e)).await
}

/// `GET /api/v1/metadata` (`metric`, `limit`, `limit_per_metric`).
pub(crate) async fn metadata(State(state): State<super::State>, params: Params) -> ApiResult {
    let metric = params.get("metric").map(str::to_string);
    let limit = params.limit()?;
    let db = state.db.clone();
    let items = run_blocking(move || db.metadata(metric.as_deref())).await?;
    // One entry per metric is stored, so `limit_per_metric` never cuts anything.
    let by_metric: BTreeMap<&str, _> = items.iter().map(|m| (m.metric.as_str(), m)).collect();
    let mut data = String::from("{");
    for (i, (name, m)) in by_metric.iter().take(limit.unwrap_or(usize::MAX)).enumerate() {
        if i > 0 {
            data.push(',');
        }
        write_json_string(&mut data, name);
        data.push_str(":[{\"type\":");
        write_json_string(&mut data, &m.kind);
        data.push_str(",\"help\":");
        write_json_string(&mut data, &m.help);
        data.push_str(",\"unit\":");
        write_json_string(&mut data, &m.unit);
        data.push_str("}]");
    }
    data.push('}');
    Ok(ApiSuccess::new(data))
}

/// `GET /api/v1/status/buildinfo`
pub(crate) async fn buildinfo() -> ApiResult {
    let mut data = String::from("{\"version\":");
    write_json_string(&mut data, COMPATIBLE_PROMETHEUS_VERSION);
    data.push_str(",\"revision\":");
    write_json_string(&mut data, &format!("promlite {}", crate::VERSION));
    data.push_str(",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}");
    Ok(ApiSuccess::new(data))
}

/// `GET|POST /api/v1/format_query`
pub(crate) async fn format_query(params: Params) -> ApiResult {
    let query = params.get("query").unwrap_or_default();
    let expr = crate::promql::parse(query).map_err(|e| ApiError::from(crate::Error::from(e)))?;
    let mut data = String::new();
    write_json_string(&mut data, &expr.pretty());
    Ok(ApiSuccess::new(data))
}

/// `GET|POST /api/v1/query_exemplars`: promlite stores no exemplars, so a
/// valid request gets an empty list (what Grafana expects).
pub(crate) async fn query_exemplars(params: Params) -> ApiResult {
    params.time_range()?;
    crate::promql::parse(params.get("query").unwrap_or_default()).map_err(|e| ApiError::from(crate::Error::from(e)))?;
    Ok(ApiSuccess::new("[]".into()))
}

/// `GET /api/v1/rules`: no recording or alerting rules.
pub(crate) async fn rules() -> ApiResult {
    Ok(ApiSuccess::new("{\"groups\":[]}".into()))
}

/// `GET /api/v1/alerts`: no alerts.
pub(crate) async fn alerts() -> ApiResult {
    Ok(ApiSuccess::new("{\"alerts\":[]}".into()))
}
