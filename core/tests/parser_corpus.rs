//! Parses every `eval` query of Prometheus's promqltest files and prints them
//! back: each must parse (unless the case expects a failure), and each parsed
//! query must print to PromQL that parses to the same tree (up to matcher
//! order and empty clauses, which Prometheus's printer does not keep).
//!
//! The files are looked up in `$PROMQL_TESTDATA`, then `testdata/promql` and
//! `../shared/promql-testdata` relative to the workspace and its parent.

use std::path::PathBuf;

use promlite::promql::{parse, Cardinality, Expr, ExprKind, VectorSelector};

fn testdata_dir() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut candidates: Vec<PathBuf> = std::env::var_os("PROMQL_TESTDATA").map(PathBuf::from).into_iter().collect();
    candidates.push(root.join("testdata/promql"));
    candidates.push(root.join("../shared/promql-testdata"));
    candidates.push(root.join("../../shared/promql-testdata"));
    candidates.into_iter().find(|p| p.join("literals.test").is_file())
}

/// One eval case: file, line, query, and whether it expects a failure.
struct Case {
    file: String,
    line: usize,
    query: String,
    expect_fail: bool,
}

fn cases() -> Vec<Case> {
    let dir = testdata_dir().expect("promqltest files not found; set PROMQL_TESTDATA");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let (rest, old_fail) = if let Some(r) = trimmed.strip_prefix("eval_fail ") {
                (r, true)
            } else if let Some(r) = trimmed
                .strip_prefix("eval ")
                .or_else(|| trimmed.strip_prefix("eval_ordered "))
                .or_else(|| trimmed.strip_prefix("eval_warn "))
                .or_else(|| trimmed.strip_prefix("eval_info "))
            {
                (r, false)
            } else {
                continue;
            };
            let query = if let Some(r) = rest.strip_prefix("instant at ") {
                r.split_once(' ').map(|(_, q)| q)
            } else if let Some(r) = rest.strip_prefix("range from ") {
                // `<t1> to <t2> step <d> <query>`
                r.splitn(6, ' ').nth(5)
            } else {
                None
            };
            let Some(query) = query else { continue };
            let expect_fail = old_fail
                || lines[i + 1..]
                    .iter()
                    .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
                    .any(|l| l.trim_start().starts_with("expect fail"));
            out.push(Case {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                line: i + 1,
                query: query.to_string(),
                expect_fail,
            });
        }
    }
    out
}

#[test]
fn every_eval_query_of_the_promqltest_files_parses() {
    let cases = cases();
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
    for c in cases() {
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
