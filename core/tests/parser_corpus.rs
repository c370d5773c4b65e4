//! Parses every `eval` query of Prometheus's promqltest files and prints them
//! back: each must parse (unless the case expects a failure), and each parsed
//! query must print to PromQL that parses to the same tree (up to matcher
//! order and empty clauses, which Prometheus's printer does not keep).

mod common;

use common::{eval_cases, Case};
use promlite::promql::{parse, Cardinality, Expr, ExprKind, VectorSelector};

#[test]
fn every_eval_query_of_the_promqltest_files_parses() {
    let cases = eval_cases();
    let mut parsed = 0;
    let mut failures = Vec::new();
    for c in &cases {
        match parse(&c.query) {
            Ok(_) => parsed += 1,
            Err(e) if !c.expect_fail => failures.push(format!("{}:{}: {}\n    {e}", c.file, c.line, c.query)),
            Err(_) => {}
        }
    }
    println!("parser corpus: {parsed} of {} eval queries parse", cases.len());
    assert!(failures.is_empty(), "{} queries failed to parse:\n{}", failures.len(), failures.join("\n"));
}

/// Brings a tree into the form the printer preserves: spans cleared, matchers
/// sorted (Prometheus prints them sorted), and clauses that mean nothing
/// dropped (`by ()`, `ignoring ()`), since Prometheus prints them as absent.
fn canonicalize(e: &mut Expr) {
    e.span = 0..0;
    match &mut e.kind {
        ExprKind::VectorSelector(vs) => sort_matchers(vs),
        ExprKind::MatrixSelector(ms) => sort_matchers(&mut ms.selector),
        ExprKind::Subquery(s) => canonicalize(&mut s.expr),
        ExprKind::Call(c) => c.args.iter_mut().for_each(canonicalize),
        ExprKind::Aggregate(a) => {
            canonicalize(&mut a.expr);
            if let Some(p) = &mut a.param {
                canonicalize(p);
            }
            a.has_grouping = a.without || !a.grouping.is_empty();
        }
        ExprKind::Binary(b) => {
            canonicalize(&mut b.lhs);
            canonicalize(&mut b.rhs);
            if let Some(m) = &mut b.matching {
                let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
                m.has_clause = m.on || !m.labels.is_empty() || grouped;
                if !m.has_clause && m.fill_left.is_none() && m.fill_right.is_none() {
                    b.matching = None;
                }
            }
        }
        ExprKind::Unary(u) => canonicalize(&mut u.expr),
        ExprKind::Paren(p) => canonicalize(p),
        ExprKind::Number(_) | ExprKind::String(_) => {}
    }
}

fn sort_matchers(vs: &mut VectorSelector) {
    vs.matchers.sort_by_key(|m| m.to_string());
}

#[test]
fn every_parsed_eval_query_prints_back_to_the_same_tree() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for c in eval_cases() {
        let Ok(mut first) = parse(&c.query) else { continue };
        let printed = first.to_string();
        match parse(&printed) {
            Ok(mut second) => {
                canonicalize(&mut first);
                canonicalize(&mut second);
                if !same_tree(&first, &second) {
                    failures.push(format!("{}:{}: {}\n    printed as {printed}", c.file, c.line, c.query));
                }
            }
            Err(e) => failures.push(format!("{}:{}: {}\n    printed as {printed}\n    {e}", c.file, c.line, c.query)),
        }
        checked += 1;
    }
    println!("round trip: {checked} queries printed and re-parsed");
    assert!(failures.is_empty(), "{} round trips differ:\n{}", failures.len(), failures.join("\n"));
}

/// Equality that treats NaN literals as equal to each other.
fn same_tree(a: &Expr, b: &Expr) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Where Prometheus v3.14 raises each failure the promqltest files expect,
/// decided from its source (parser `checkAST` and grammar actions versus the
/// engine), not from our behaviour. Parse-time failures must fail to parse
/// here with the expected message; evaluation-time failures must parse.
/// Keyed by file and query, so new or changed cases must be classified.
const EVALUATION_TIME_FAILURES: &[(&str, &str, &str)] = &[
    ("aggregators.test", "topk(NaN, non_existent)", "engine: parameter value checked per step"),
    ("aggregators.test", "limitk(NaN, non_existent)", "engine: parameter value checked per step"),
    ("aggregators.test", "limit_ratio(NaN, non_existent)", "engine: ratio value checked per step"),
    ("aggregators.test", r#"count_values("a\xc5z", version)"#, "engine: label name validated when aggregating"),
    (
        "collision.test",
        "ceil({__name__=~'testmetric1|testmetric2'})",
        "engine: duplicate label set after dropping names",
    ),
    ("extended_vectors.test", "deriv(foo[3m] smoothed)", "engine: smoothed-safe functions are checked in eval"),
    ("extended_vectors.test", "resets(foo[3m] smoothed)", "engine: smoothed-safe functions are checked in eval"),
    ("extended_vectors.test", "changes(foo[3m] smoothed)", "engine: smoothed-safe functions are checked in eval"),
    ("extended_vectors.test", "max_over_time(foo[3m] smoothed)", "engine: smoothed-safe functions are checked in eval"),
    (
        "extended_vectors.test",
        "predict_linear(foo[3m] smoothed, 4)",
        "engine: smoothed-safe functions are checked in eval",
    ),
    ("extended_vectors.test", "deriv(foo[3m] anchored)", "engine: anchored-safe functions are checked in eval"),
    ("extended_vectors.test", "max_over_time(foo[3m] anchored)", "engine: anchored-safe functions are checked in eval"),
    (
        "extended_vectors.test",
        "predict_linear(foo[3m] anchored, 4)",
        "engine: anchored-safe functions are checked in eval",
    ),
    (
        "functions.test",
        r#"label_replace(testmetric, "dst", "value-$1", "src", "(.*")"#,
        "engine: regex compiled by label_replace",
    ),
    (
        "functions.test",
        r#"label_replace(testmetric, "\xff", "", "src", "(.*)")"#,
        "engine: destination label validated by label_replace",
    ),
    ("functions.test", r#"label_replace(testmetric, "src", "", "", "")"#, "engine: duplicate output label sets"),
    ("functions.test", r#"label_join(dup, "label", "", "this")"#, "engine: duplicate output label sets"),
    (
        "functions.test",
        "changes({__name__=~'testmetric1|testmetric2'}[5m])",
        "engine: duplicate label set after dropping names",
    ),
    ("functions.test", r#"label_replace(overlap, "idx", "same", "idx", ".*")"#, "engine: duplicate output label sets"),
    ("functions.test", r#"label_join(overlap, "idx", ",", "label", "label")"#, "engine: duplicate output label sets"),
    (
        "histograms.test",
        r#"histogram_quantiles(testhistogram3, "start", 0, 0.25, 0.5, 0.75, 1)"#,
        "engine: output label collides",
    ),
    (
        "histograms.test",
        r#"histogram_quantiles(testhistogram3_bucket, "start", 0, 0.25, 0.5, 0.75, 1)"#,
        "engine: output label collides",
    ),
    (
        "histograms.test",
        r#"histogram_quantile(0.99, {__name__=~"request_duration_seconds\\d*_bucket"})"#,
        "engine: duplicate series after dropping names",
    ),
    (
        "histograms.test",
        r#"histogram_quantiles({__name__=~"request_duration_seconds\\d*_bucket"}, "q", 0.99)"#,
        "engine: duplicate series after dropping names",
    ),
    (
        "histograms.test",
        r#"histogram_quantile(0.99, {__name__=~"request_duration_seconds\\d*"})"#,
        "engine: duplicate series after dropping names",
    ),
    (
        "histograms.test",
        r#"histogram_quantiles({__name__=~"request_duration_seconds\\d*"}, "q", 0.99)"#,
        "engine: duplicate series after dropping names",
    ),
    (
        "info.test",
        r#"info(metric, {__name__="histogram"})"#,
        "engine: info series must be floats (name inside braces passes the parser)",
    ),
    ("info.test", r#"info(metric, {__name__=~".+_info"})"#, "engine: conflicting data labels"),
    ("name_label_dropping.test", r#"sum by (__name__) (rate({env="1"}[10m]))"#, "engine: duplicate label set"),
    ("operators.test", "many_side > on(job) one_side", "engine: many-to-many matching"),
    ("operators.test", "many_side >= on(job) one_side", "engine: many-to-many matching"),
    ("operators.test", "many_side <= on(job) one_side", "engine: many-to-many matching"),
    ("operators.test", "-{__name__=~'testmetric1|testmetric2'}", "engine: duplicate label set after dropping names"),
    ("operators.test", r#"-{job="api"}"#, "engine: duplicate label set after dropping names"),
];

/// Failures Prometheus raises while parsing, with the message the file expects.
/// Prometheus v3.14's files contain none: every `expect fail` there is about
/// evaluation. (Parse-time messages are covered by `parser_malformed.rs` and
/// the checker's unit tests.)
const PARSE_TIME_FAILURES: &[(&str, &str)] = &[];

#[test]
fn expected_failures_fail_where_prometheus_fails_them() {
    let failing: Vec<Case> = eval_cases().into_iter().filter(|c| c.expect_fail).collect();
    let mut problems = Vec::new();
    let (mut parse_time, mut parse_time_matching, mut evaluation_time) = (0, 0, 0);
    for c in &failing {
        let runtime = EVALUATION_TIME_FAILURES.iter().any(|(f, q, _)| *f == c.file && *q == c.query);
        let at_parse = PARSE_TIME_FAILURES.iter().any(|(f, q)| *f == c.file && *q == c.query);
        match (runtime, at_parse, parse(&c.query)) {
            (true, _, Ok(_)) => evaluation_time += 1,
            (true, _, Err(e)) => problems.push(format!(
                "{}:{}: {} fails at evaluation in Prometheus but we reject it: {e}",
                c.file, c.line, c.query
            )),
            (false, true, Err(e)) => {
                parse_time += 1;
                let got = e.to_string();
                match c.fail_detail.as_deref().unwrap_or("") {
                    d if d.starts_with("msg:") && got != d["msg:".len()..].trim() => {
                        problems.push(format!("{}:{}: {}\n    want {}\n    got  {got}", c.file, c.line, c.query, d))
                    }
                    _ => parse_time_matching += 1,
                }
            }
            (false, true, Ok(_)) => problems.push(format!("{}:{}: {} should fail to parse", c.file, c.line, c.query)),
            (false, false, _) => problems.push(format!(
                "{}:{}: {} expects a failure; classify it as parse or evaluation time",
                c.file, c.line, c.query
            )),
        }
    }
    println!(
        "expected failures: {} in the files; {parse_time} at parse time ({parse_time_matching} with the expected message), {evaluation_time} at evaluation time (parse fine here)",
        failing.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        failing.len(),
        EVALUATION_TIME_FAILURES.len() + PARSE_TIME_FAILURES.len(),
        "stale classification entries"
    );
}
