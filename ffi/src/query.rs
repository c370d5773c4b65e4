//! PromQL queries: instant and range, as a `promlite_result` or as the JSON
//! `data` object of the Prometheus HTTP API.

use std::ffi::{c_char, c_int};

use promlite::{Db, QueryResult};

use crate::args::{out, text};
use crate::db::{promlite_db, with_db};
use crate::error::Failure;
use crate::result::promlite_result;
use crate::strings::into_c_string;

/// Evaluates the PromQL expression `expr` at `ts_ms` (milliseconds since the
/// epoch). On success `*out` is a result to free with `promlite_result_free`.
///
/// Returns `PROMLITE_PARSE` for a bad expression (`promlite_error_offset`
/// gives the byte offset into `expr`), `PROMLITE_EXECUTION`,
/// `PROMLITE_TOO_MANY_SAMPLES`, `PROMLITE_TIMEOUT` or storage codes.
#[no_mangle]
pub extern "C" fn promlite_query(
    db: *mut promlite_db,
    expr: *const c_char,
    ts_ms: i64,
    out: *mut *mut promlite_result,
) -> c_int {
    query_as_result(db, out, instant(expr, ts_ms))
}

/// Evaluates `expr` at every `step_ms` from `start_ms` to `end_ms`
/// (inclusive). On success `*out` is a `PROMLITE_RESULT_MATRIX` result to
/// free with `promlite_result_free`. Errors as `promlite_query`;
/// `PROMLITE_INVALID_INPUT` for a non-positive step or `end_ms < start_ms`.
#[no_mangle]
pub extern "C" fn promlite_query_range(
    db: *mut promlite_db,
    expr: *const c_char,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    out: *mut *mut promlite_result,
) -> c_int {
    query_as_result(db, out, range(expr, start_ms, end_ms, step_ms))
}

/// As `promlite_query`, but on success `*json` is the Prometheus HTTP API
/// `data` object, e.g. `{"resultType":"vector","result":[…]}`, as a
/// NUL-terminated string to free with `promlite_string_free`.
#[no_mangle]
pub extern "C" fn promlite_query_json(
    db: *mut promlite_db,
    expr: *const c_char,
    ts_ms: i64,
    json: *mut *mut c_char,
) -> c_int {
    query_as_json(db, json, instant(expr, ts_ms))
}

/// As `promlite_query_range`, but on success `*json` is the Prometheus HTTP
/// API `data` object (a matrix) to free with `promlite_string_free`.
#[no_mangle]
pub extern "C" fn promlite_query_range_json(
    db: *mut promlite_db,
    expr: *const c_char,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    json: *mut *mut c_char,
) -> c_int {
    query_as_json(db, json, range(expr, start_ms, end_ms, step_ms))
}

/// An instant query of the C string `expr` at `ts_ms`.
fn instant(expr: *const c_char, ts_ms: i64) -> impl FnOnce(&Db) -> Result<QueryResult, Failure> {
    move |db| Ok(db.query_with(text(expr, "expr")?, ts_ms, &db.options().query)?)
}

/// A range query of the C string `expr`.
fn range(
    expr: *const c_char,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
) -> impl FnOnce(&Db) -> Result<QueryResult, Failure> {
    move |db| {
        let expr = text(expr, "expr")?;
        Ok(db.query_range_with(expr, start_ms, end_ms, step_ms, &db.options().query)?)
    }
}

/// Runs `query` on `db` and hands its value to C as a `promlite_result`.
fn query_as_result(
    db: *mut promlite_db,
    result: *mut *mut promlite_result,
    query: impl FnOnce(&Db) -> Result<QueryResult, Failure>,
) -> c_int {
    with_db(db, |db| {
        let result = out(result, "out")?;
        result.set(promlite_result::from_query(&query(db)?).into_raw());
        Ok(())
    })
}

/// Runs `query` on `db` and hands its value to C as Prometheus API JSON.
fn query_as_json(
    db: *mut promlite_db,
    json: *mut *mut c_char,
    query: impl FnOnce(&Db) -> Result<QueryResult, Failure>,
) -> c_int {
    with_db(db, |db| {
        let json = out(json, "json")?;
        json.set(into_c_string(query(db)?.value.to_json())?);
        Ok(())
    })
}
