//! Deterministic randomized robustness test for the parser: mutated queries
//! from Prometheus's promqltest files and random token soups, with a fixed
//! seed and a bounded count. No input may panic or take long; whatever
//! parses must print and pretty-print to PromQL that parses to the same
//! canonical text.
//!
//! The same inputs, unbounded, are what the `cargo fuzz` target in
//! `core/fuzz` explores (see docs/promql-syntax.md).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use promlite::promql::parse;

/// Generous: a parse takes microseconds; this only catches hangs and blowups.
const MAX_PARSE_TIME: Duration = Duration::from_secs(2);
const MUTATED: usize = 4000;
const SOUPS: usize = 2000;

/// SplitMix64: tiny, and the sequence never changes between versions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Pieces of PromQL, valid and not, that mutations splice in.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "=",
    "!=",
    "=~",
    "!~",
    "==",
    ">",
    "<",
    ">=",
    "<=",
    "</",
    ">/",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "@",
    "and",
    "or",
    "unless",
    "atan2",
    "bool",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "by",
    "without",
    "offset",
    "anchored",
    "smoothed",
    "sum",
    "topk",
    "count_values",
    "quantile",
    "limitk",
    "rate",
    "label_replace",
    "histogram_quantile",
    "info",
    "vector",
    "time",
    "step()",
    "range()",
    "start()",
    "end()",
    "min_of(",
    "max_of(",
    "fill(0)",
    "fill_left(1)",
    "foo",
    "bar_total",
    "job:rate5m",
    "__name__",
    "le",
    "\"a\"",
    "'b'",
    "`c`",
    "\"",
    "'",
    "`",
    "\\",
    "\"\\x41\"",
    "\"\\u00e9\"",
    "\"\\q\"",
    "1",
    "0",
    "-1",
    "1.5",
    "1e3",
    "0x1f",
    "Inf",
    "NaN",
    "5m",
    "1h30m",
    "500ms",
    "1y",
    "0s",
    "99999999999999999999",
    "# comment\n",
    "\n",
    " ",
    "\t",
    "é",
    "😀",
    "\u{0}",
    ".",
    ";",
    "~",
    "$",
    "[5m]",
    "[1h:5m]",
    "[5m:]",
    "{job=\"a\"}",
    "{}",
];

fn mutate(rng: &mut Rng, query: &str) -> String {
    let mut chars: Vec<char> = query.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let len = chars.len();
        let at = rng.below(len + 1);
        match rng.below(6) {
            0 if len > 0 => {
                let end = (at + 1 + rng.below(8)).min(len);
                chars.drain(at.min(end)..end);
            }
            1 => {
                let token: Vec<char> = TOKENS[rng.below(TOKENS.len())].chars().collect();
                chars.splice(at..at, token);
            }
            2 if len > 1 => {
                let other = rng.below(len);
                chars.swap(at.min(len - 1), other);
            }
            3 => chars.truncate(at),
            4 if len > 0 => {
                // Duplicate a slice, which nests and repeats structure.
                let end = (at + 1 + rng.below(24)).min(len);
                let copy: Vec<char> = chars[at.min(end)..end].to_vec();
                chars.splice(end..end, copy);
            }
            _ => {
                let token: Vec<char> = TOKENS[rng.below(TOKENS.len())].chars().collect();
                let end = (at + token.len()).min(len);
                chars.splice(at..end, token);
            }
        }
    }
    chars.into_iter().collect()
}

fn soup(rng: &mut Rng) -> String {
    let n = 1 + rng.below(30);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(TOKENS[rng.below(TOKENS.len())]);
        if rng.below(3) == 0 {
            s.push(' ');
        }
    }
    s
}

/// Parses `query` and checks the invariants; `Err` describes a violation.
fn exercise(query: &str) -> Result<bool, String> {
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let parsed = match parse(query) {
            Ok(e) => e,
            Err(err) => {
                // Errors must render (line:col within the text) without panicking.
                let (line, col) = err.line_col();
                assert!(line >= 1 && col >= 1 && err.span.start <= query.len());
                let _ = err.to_string();
                return Ok(false);
            }
        };
        let printed = parsed.to_string();
        let reparsed = parse(&printed).map_err(|e| format!("printed as {printed:?}, which fails: {e}"))?;
        if reparsed.to_string() != printed {
            return Err(format!("printed as {printed:?}, then as {:?}", reparsed.to_string()));
        }
        let pretty = parsed.pretty();
        match parse(&pretty) {
            Ok(p) if p.to_string() == printed => Ok(true),
            Ok(p) => Err(format!("pretty-printed as {pretty:?}, which reads back as {:?}", p.to_string())),
            Err(e) => Err(format!("pretty-printed as {pretty:?}, which fails: {e}")),
        }
    }));
    let elapsed = started.elapsed();
    if elapsed > MAX_PARSE_TIME {
        return Err(format!("took {elapsed:?}"));
    }
    match result {
        Ok(r) => r,
        Err(panic) => {
            let msg =
                panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            Err(format!("panicked: {}", msg.unwrap_or_default()))
        }
    }
}

fn seed_queries() -> Vec<String> {
    let mut seeds: Vec<String> = [
        "sum by (job) (rate(http_requests_total{job=~\"api|web\"}[5m] offset 1h))",
        "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))",
        "a * on(x) group_left(y) b + fill(0) c </ 2",
        "max_over_time(rate(x[1m])[1h:5m] @ end())",
        "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")",
        "count_values(\"v\", x) > bool 3 and x unless y",
        "x[step() * 2 + min_of(range(), 1h)] smoothed",
        "{\"my.metric\", \"a.b\"=\"c\"} offset -(5m)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if common::testdata_dir().is_some() {
        seeds.extend(common::eval_cases().into_iter().map(|c| c.query));
    }
    seeds
}

/// Inputs `cargo fuzz` found that once broke an invariant.
const FUZZ_FINDINGS: &[&str] = &[
    // Unary operators bound looser than `*`, and `+Inf` printed before `^`.
    "NaN == l+++Inf*+++++++smoothed",
    "Inf ^ 2",
];

#[test]
fn fuzz_findings_stay_fixed() {
    for input in FUZZ_FINDINGS {
        assert_eq!(exercise(input), Ok(true), "{input:?}");
    }
}

#[test]
fn random_inputs_never_panic_hang_or_break_printing() {
    std::panic::set_hook(Box::new(|_| {})); // Panics are reported below, with their input.
    let seeds = seed_queries();
    let mut rng = Rng(0x5eed_5eed);
    let mut problems = Vec::new();
    let mut parsed = 0;
    let mut inputs = Vec::with_capacity(MUTATED + SOUPS);
    for _ in 0..MUTATED {
        let seed = rng.pick(&seeds).clone();
        inputs.push(mutate(&mut rng, &seed));
    }
    for _ in 0..SOUPS {
        inputs.push(soup(&mut rng));
    }
    for input in &inputs {
        match exercise(input) {
            Ok(ok) => parsed += usize::from(ok),
            Err(e) => problems.push(format!("{input:?}: {e}")),
        }
    }
    let _ = std::panic::take_hook();
    println!("random parser inputs: {} tried, {parsed} parsed", inputs.len());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // The mutations must leave a fair share valid, or printing goes untested.
    assert!(parsed > inputs.len() / 10, "only {parsed} inputs parsed");
}
