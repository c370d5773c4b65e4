//! PromQL benchmark: range queries over the shared scrape workload, against a
//! baseline measured in the same run — the same query evaluated the naive
//! way, one instant query per step (a fresh read of every window). Also
//! reports the time just to stream the samples the query reads from storage.
//!
//! Run: `cargo bench -p promlite-tests --bench query`
//! Size: `PROMLITE_BENCH_SERIES` (default 10000), `PROMLITE_BENCH_HOURS` (default 6).
//!
//! Each measurement runs in a child process of its own, so its peak RSS is
//! its own.

use std::path::Path;
use std::time::{Duration, Instant};

use promlite::{eval, Batch, Db, Matcher, Options, QueryOptions, Value};
use promlite_tests::bench::{peak_rss_mib, run_phase as child};
use promlite_tests::workload::Workload;

/// Query resolution, as in a Grafana panel over a few hours.
const STEP_MS: i64 = 60_000;

/// The benchmarked queries and the selector each one reads (for the raw-read floor).
const QUERIES: [(&str, &str, &str); 2] = [
    ("sum by (job) (rate(http_requests_total[5m]))", "http_requests_total", "rate"),
    (
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        "http_request_duration_seconds_bucket",
        "p99",
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        let (phase, db, query) = (&args[i + 1], Path::new(&args[i + 2]), args.get(i + 3));
        let result = match phase.as_str() {
            "ingest" => ingest(db),
            "range" => range(db, query_no(query)),
            "naive" => naive(db, query_no(query)),
            "raw" => raw_read(db, query_no(query)),
            other => panic!("unknown phase {other}"),
        };
        println!("RESULT {result} peak_rss_mib={:.1}", peak_rss_mib());
        return;
    }
    promlite_tests::bench::shrink_workload_unless_benching(&args);
    orchestrate();
}

fn query_no(arg: Option<&String>) -> usize {
    arg.and_then(|a| a.parse().ok()).expect("query number")
}

fn workload() -> Workload {
    Workload::from_env(10_000, 6.0)
}

/// The range every query covers: the workload's span, on whole steps.
fn query_range(w: &Workload) -> (i64, i64) {
    let start = (w.start_ms / STEP_MS + 6) * STEP_MS;
    let end = w.end_ms() / STEP_MS * STEP_MS;
    (start, end)
}

fn orchestrate() {
    let w = workload();
    let (start, end) = query_range(&w);
    let steps = (end - start) / STEP_MS + 1;
    println!(
        "workload: {} series x {} scrapes (15 s, {:.1} h) = {} samples; range queries over {steps} steps of 60 s",
        w.series_count(),
        w.scrapes,
        w.scrapes as f64 / 240.0,
        w.sample_count()
    );
    let dir = std::env::temp_dir().join(format!("promlite-query-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("bench.db");
    child(&["ingest", db.to_str().unwrap()]);
    println!(
        "\n{:<6} {:>12} {:>14} {:>10} {:>14} {:>12} {:>14} {:>14}",
        "query", "range ms", "naive ms", "speedup", "raw read ms", "range/raw", "samples/s", "peak RSS MiB"
    );
    for (n, (query, _, short)) in QUERIES.iter().enumerate() {
        let q = n.to_string();
        let r = child(&["range", db.to_str().unwrap(), &q]);
        let naive = child(&["naive", db.to_str().unwrap(), &q]);
        let raw = child(&["raw", db.to_str().unwrap(), &q]);
        let (range_ms, naive_ms, raw_ms) = (r.get("ms"), naive.get("ms"), raw.get("ms"));
        println!(
            "{short:<6} {range_ms:>12.1} {naive_ms:>14.1} {:>9.1}x {raw_ms:>14.1} {:>11.2}x {:>14.0} {:>14.1}",
            naive_ms / range_ms,
            range_ms / raw_ms,
            raw.get("samples") / (range_ms / 1e3),
            r.get("peak_rss_mib"),
        );
        println!("       {query}");
    }
    println!(
        "\nspeedup: naive (one instant query per step) / range; range/raw: range time over streaming the samples read"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the workload, 40 scrape rounds (10 minutes) per commit.
fn ingest(path: &Path) -> String {
    let w = workload();
    let labels = w.series_labels();
    let db = Db::open(path).unwrap();
    let start = Instant::now();
    let mut batch = Batch::new();
    for (n, round) in w.rounds().enumerate() {
        for (i, p) in &round {
            batch.add(&labels[*i], p.t, p.v);
        }
        if n % 40 == 39 {
            db.write(&batch).unwrap();
            batch = Batch::new();
        }
    }
    db.write(&batch).unwrap();
    db.compact().unwrap();
    db.close().unwrap();
    format!("ms={:.0}", start.elapsed().as_secs_f64() * 1e3)
}

fn open(path: &Path) -> Db {
    Db::open_with(path, Options::default().read_only(true)).unwrap()
}

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2].as_secs_f64() * 1e3
}

/// Result size, so every variant can be checked to compute the same thing.
fn points(v: &Value) -> usize {
    match v {
        Value::Matrix(m) => m.iter().map(|s| s.points.len()).sum(),
        Value::Vector(v) => v.len(),
        _ => 1,
    }
}

fn range(path: &Path, n: usize) -> String {
    let w = workload();
    let (start, end) = query_range(&w);
    let db = open(path);
    let opts = QueryOptions::default();
    let mut result_points = 0;
    let ms = median_ms(3, || {
        let r = eval::range_query(&db, QUERIES[n].0, start, end, STEP_MS, &opts).unwrap();
        result_points = points(&r.value);
    });
    assert!(result_points > 0, "the query returns data");
    format!("ms={ms:.1} points={result_points}")
}

/// The baseline: every step evaluated on its own, reading its window afresh.
fn naive(path: &Path, n: usize) -> String {
    let w = workload();
    let (start, end) = query_range(&w);
    let db = open(path);
    let opts = QueryOptions::default();
    let mut result_points = 0;
    let ms = median_ms(1, || {
        result_points = 0;
        let mut t = start;
        while t <= end {
            let r = eval::instant_query(&db, QUERIES[n].0, t, &opts).unwrap();
            result_points += points(&r.value);
            t += STEP_MS;
        }
    });
    format!("ms={ms:.1} points={result_points}")
}

/// Streams, without evaluating, every sample the range query reads.
fn raw_read(path: &Path, n: usize) -> String {
    let w = workload();
    let (start, end) = query_range(&w);
    let db = open(path);
    let matchers = [Matcher::equal("__name__", QUERIES[n].1)];
    let mut samples = 0usize;
    let ms = median_ms(3, || {
        samples = 0;
        db.for_each_series(&matchers, start - 300_000 + 1, end, |s| {
            samples += s.points.len();
            Ok(())
        })
        .unwrap();
    });
    format!("ms={ms:.1} samples={samples}")
}
