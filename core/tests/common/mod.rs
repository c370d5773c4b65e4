//! Shared by the parser tests: the `eval` cases of Prometheus's promqltest
//! files, looked up in `$PROMQL_TESTDATA`, then `testdata/promql` and
//! `../shared/promql-testdata` relative to the workspace and its parent.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn testdata_dir() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut candidates: Vec<PathBuf> = std::env::var_os("PROMQL_TESTDATA").map(PathBuf::from).into_iter().collect();
    candidates.push(root.join("testdata/promql"));
    candidates.push(root.join("../shared/promql-testdata"));
    candidates.push(root.join("../../shared/promql-testdata"));
    candidates.into_iter().find(|p| p.join("literals.test").is_file())
}

/// Every `.test` file of the test data, sorted by name.
pub fn test_files() -> Vec<PathBuf> {
    let dir = testdata_dir().expect("promqltest files not found; set PROMQL_TESTDATA");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    files
}

/// One eval case: file, line, query, and whether it expects a failure.
pub struct Case {
    pub file: String,
    pub line: usize,
    pub query: String,
    pub expect_fail: bool,
    /// What follows `expect fail` (`msg: …`, `regex: …` or nothing).
    pub fail_detail: Option<String>,
}

pub fn eval_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for path in test_files() {
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
            let fail_detail = lines[i + 1..]
                .iter()
                .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
                .find_map(|l| l.trim_start().strip_prefix("expect fail"))
                .map(|d| d.trim().to_string());
            out.push(Case {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                line: i + 1,
                query: query.to_string(),
                expect_fail: old_fail || fail_detail.is_some(),
                fail_detail,
            });
        }
    }
    out
}
