//! The PromQL conformance runner: executes Prometheus's promqltest scripts
//! against promlite, with the data written through the storage engine
//! (`Db::open` on a temporary file, `Db::write`).
//!
//! Run it with `cargo test --release --test promqltest -- --nocapture`. It
//! prints one line per file and finally `promqltest: P passed, F failed, S
//! skipped`, writes every failing case to `<target dir>/promqltest-failures.txt`
//! and fails when fewer cases pass than the floor in `promqltest/floor.txt`.
//!
//! Like Prometheus's harness, an instant eval that passes is also run (a) as
//! a range query over the surrounding minutes, whose middle step must give
//! the same result, and (b) with `@ <eval time>` added to its selectors at
//! several other evaluation times. A case passes only if all runs pass.
//!
//! Native histograms (`{{…}}` values, `load_with_nhcb`) are loaded like
//! floats, through the storage engine, and compared as Prometheus's harness
//! compares them. Nothing is skipped.
//!
//! The scripts are looked up in `$PROMQL_TESTDATA`, then `testdata/promql`
//! and `../shared/promql-testdata` relative to the workspace.

#[path = "promqltest/check.rs"]
mod check;
mod common;
#[path = "promqltest/nhcb.rs"]
mod nhcb;
#[path = "promqltest/script.rs"]
mod script;
#[path = "promqltest/series_desc.rs"]
mod series_desc;
#[path = "promqltest/store.rs"]
mod store;
#[path = "promqltest/tsdb_hints.rs"]
mod tsdb_hints;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use promlite::promql::{parse, AtModifier, Expr, ExprKind};
use promlite::{QueryOptions, QueryResult};

use check::{check_outcome, compare_value, outcome_text};
use script::{parse_script, Command, Eval, EvalKind, Expected};
use store::Store;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The engine settings Prometheus runs its test scripts with.
fn query_options() -> QueryOptions {
    QueryOptions {
        lookback_delta: Duration::from_secs(300),
        timeout: Some(Duration::from_secs(100)),
        default_subquery_step: Duration::from_secs(60),
        delayed_name_removal: true,
        ..QueryOptions::default()
    }
}

enum Outcome {
    Pass,
    Fail { got: String, reason: String },
}

/// Functions whose result depends on the evaluation time even with `@`, so
/// the harness does not vary the evaluation time for queries using them.
const AT_UNSAFE_FUNCTIONS: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
    "start",
    "end",
    "step",
    "range",
];

/// Sets `@ t` on every selector and subquery without one (not inside a
/// subquery that has one). Returns false if the query uses a time-dependent function.
fn pin_to(expr: &mut Expr, t: i64) -> bool {
    let mut safe = true;
    pin_walk(expr, t, &mut safe);
    safe
}

fn pin_walk(expr: &mut Expr, t: i64, safe: &mut bool) {
    match &mut expr.kind {
        ExprKind::VectorSelector(s) => {
            s.at.get_or_insert(AtModifier::Timestamp(t));
        }
        ExprKind::MatrixSelector(m) => {
            m.selector.at.get_or_insert(AtModifier::Timestamp(t));
        }
        ExprKind::Subquery(s) => {
            // Inside a pinned subquery everything follows the subquery's
            // time, so nothing below is changed or checked.
            s.at.get_or_insert(AtModifier::Timestamp(t));
        }
        ExprKind::Call(c) => {
            if AT_UNSAFE_FUNCTIONS.contains(&c.func.as_str()) {
                *safe = false;
            }
            c.args.iter_mut().for_each(|a| pin_walk(a, t, safe));
        }
        ExprKind::Aggregate(a) => {
            pin_walk(&mut a.expr, t, safe);
            if let Some(p) = &mut a.param {
                pin_walk(p, t, safe);
            }
        }
        ExprKind::Binary(b) => {
            pin_walk(&mut b.lhs, t, safe);
            pin_walk(&mut b.rhs, t, safe);
        }
        ExprKind::Unary(u) => pin_walk(&mut u.expr, t, safe),
        ExprKind::Paren(e) => pin_walk(e, t, safe),
        ExprKind::Number(_) | ExprKind::String(_) => {}
    }
}

/// Runs an instant query and its two consistency variants (range mode and `@`-pinned).
fn run_instant(store: &Store, eval: &Eval, t: i64, opts: &QueryOptions) -> Result<(), (String, String)> {
    let query = eval.query.as_str();
    let points = eval.range_vector.unwrap_or((t, t, 1));
    let outcome = store.instant(query, t, opts);
    let fail = |o: &Result<QueryResult, promlite::Error>, reason: String| (outcome_text(o), reason);
    check_outcome(eval, &outcome, points).map_err(|r| fail(&outcome, r))?;
    if eval.fail.is_some() {
        return Ok(());
    }
    let Ok(parsed) = parse(query) else { return Ok(()) };
    let mut runs: Vec<(Expr, i64, String)> = vec![(parsed.clone(), t, String::new())];
    let mut pinned = parsed;
    if pin_to(&mut pinned, t) {
        let times: Vec<i64> = if t == 0 { vec![-1000, 0, 1000] } else { vec![-10 * t, 0, t / 5, t, 10 * t] };
        for at in times {
            let outcome = store.evaluate(&pinned, at, at, 0, opts);
            let label = format!(" (with @ {t}ms, evaluated at {at}ms)");
            check_outcome(eval, &outcome, points).map_err(|r| fail(&outcome, format!("{r}{label}")))?;
            runs.push((pinned.clone(), at, label));
        }
    }
    let context_functions = regex::Regex::new(r"(start|end|range|step)\(\)").expect("valid regex");
    if eval.exclude_from_range_check() || eval.ordered || context_functions.is_match(query) {
        return Ok(());
    }
    for (expr, at, label) in runs {
        range_mode_check(store, eval, &expr, at, opts).map_err(|(got, r)| (got, format!("{r}{label}")))?;
    }
    Ok(())
}

/// The harness's range-mode check: the middle step of a range query around
/// the evaluation time must equal the instant result.
fn range_mode_check(
    store: &Store,
    eval: &Eval,
    expr: &Expr,
    t: i64,
    opts: &QueryOptions,
) -> Result<(), (String, String)> {
    let outcome = store.evaluate(expr, t - 60_000, t + 60_000, 60_000, opts);
    let got = outcome_text(&outcome);
    let result = match outcome {
        Ok(r) => r,
        Err(e) => return Err((got, format!("range mode: unexpected error: {e}"))),
    };
    let promlite::Value::Matrix(series) = &result.value else {
        return Err((got, "range mode: result is not a matrix".into()));
    };
    if series.windows(2).any(|w| w[0].labels > w[1].labels) {
        return Err((got, "range mode: matrix is not sorted by labels".into()));
    }
    let samples: Vec<promlite::Sample> = series
        .iter()
        .filter_map(|s| {
            let float = s.points.iter().find(|p| p.t == t).map(|p| (p.v, None));
            let histogram = || s.histograms.iter().find(|p| p.t == t).map(|p| (0.0, Some(p.h.clone())));
            let (v, h) = float.or_else(histogram)?;
            Some(promlite::Sample { labels: s.labels.clone(), t, v, h })
        })
        .collect();
    let value = if matches!(eval.expected, Expected::Scalar(_)) {
        match samples.first() {
            Some(s) => promlite::Value::Scalar(promlite::Point::new(t, s.v)),
            None => return Err((got, "range mode: no value at the evaluation time".into())),
        }
    } else {
        promlite::Value::Vector(samples)
    };
    compare_value(eval, &value, (t, t, 1)).map_err(|r| (got, format!("range mode: {r}")))
}

fn run_eval(store: &Store, eval: &Eval, opts: &QueryOptions) -> Outcome {
    let result = match eval.kind {
        EvalKind::Instant { at } => run_instant(store, eval, at, opts),
        EvalKind::Range { start, end, step } => {
            let outcome = store.range(&eval.query, start, end, step, opts);
            check_outcome(eval, &outcome, (start, end, step)).map_err(|r| (outcome_text(&outcome), r))
        }
    };
    match result {
        Ok(()) => Outcome::Pass,
        Err((got, reason)) => Outcome::Fail { got, reason },
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

fn run_file(path: &Path, scratch: &Path, failures: &mut String, opts: &QueryOptions) -> Tally {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(path).expect("readable test file");
    let mut tally = Tally::default();
    let commands = match parse_script(&text) {
        Ok(c) => c,
        Err(e) => {
            let evals = text.lines().filter(|l| l.trim_start().starts_with("eval")).count();
            tally.failed = evals;
            let _ = writeln!(failures, "== {name}: script not understood: {e}\n");
            return tally;
        }
    };
    let mut store = Store::open(scratch, &name);
    for cmd in &commands {
        match cmd {
            Command::Clear => store.clear(),
            Command::Load(load) => {
                if let Err(e) = store.load(load) {
                    let _ = writeln!(failures, "== {name}: load failed: {e}\n");
                }
            }
            Command::Eval(eval) => match run_eval(&store, eval, opts) {
                Outcome::Pass => tally.passed += 1,
                Outcome::Fail { got, reason } => {
                    tally.failed += 1;
                    let _ = writeln!(
                        failures,
                        "== {name}:{}\nquery:    {}\nexpected: {}\ngot:      {}\nreason:   {}\n",
                        eval.line,
                        eval.query,
                        eval.expected_text.join("\n          "),
                        got.replace('\n', "\n          "),
                        reason
                    );
                }
            },
        }
    }
    tally
}

#[test]
fn promqltest() {
    let files = common::test_files();
    let scratch = tempfile::tempdir().expect("temporary directory");
    let opts = query_options();
    let mut failures = String::new();
    let mut total = Tally::default();
    for path in &files {
        let t = run_file(path, scratch.path(), &mut failures, &opts);
        println!(
            "{:<28} {:>4} passed, {:>4} failed, {:>4} skipped",
            path.file_name().unwrap().to_string_lossy(),
            t.passed,
            t.failed,
            t.skipped
        );
        total.passed += t.passed;
        total.failed += t.failed;
        total.skipped += t.skipped;
    }
    println!("promqltest: {} passed, {} failed, {} skipped", total.passed, total.failed, total.skipped);

    let target = target_dir();
    let _ = std::fs::create_dir_all(&target);
    let report = target.join("promqltest-failures.txt");
    std::fs::write(&report, &failures).expect("failure report written");
    println!("failing cases written to {}", report.display());

    let floor_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/promqltest/floor.txt");
    let floor: usize = std::fs::read_to_string(&floor_file)
        .expect("floor file")
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .and_then(|l| l.trim().parse().ok())
        .expect("floor file holds a number");
    assert!(
        total.passed >= floor,
        "{} cases passed, fewer than the floor of {floor} in {}",
        total.passed,
        floor_file.display()
    );
}
