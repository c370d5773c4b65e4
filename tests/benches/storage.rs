//! Storage benchmark: promlite against the naive SQLite schema
//! (`samples(series_id, ts, value)` primary key, WAL, batched transactions),
//! on the same generated workload, in the same run.
//!
//! Run: `cargo bench -p promlite-tests --bench storage`
//! Size: `PROMLITE_BENCH_SERIES` (default 10000), `PROMLITE_BENCH_HOURS` (default 6).
//!
//! Each measurement runs in a child process of its own, so peak RSS is that
//! engine's alone. Both engines commit one scrape round (every series, one
//! sample each) per transaction, fsynced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use promlite::{Batch, Db, MatchOp, Matcher, Options};
use promlite_tests::bench::{peak_rss_mib, run_phase, Measures};
use promlite_tests::workload::Workload;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        let (phase, engine, db) = (&args[i + 1], &args[i + 2], PathBuf::from(&args[i + 3]));
        let result = match (phase.as_str(), engine.as_str()) {
            ("ingest", "promlite") => promlite_ingest(&db),
            ("read", "promlite") => promlite_read(&db),
            ("ingest", "naive") => naive::ingest(&db),
            ("read", "naive") => naive::read(&db),
            _ => panic!("unknown phase {phase} {engine}"),
        };
        println!("RESULT {result} peak_rss_mib={:.1}", peak_rss_mib());
        return;
    }
    promlite_tests::bench::shrink_workload_unless_benching(&args);
    orchestrate();
}

fn orchestrate() {
    let w = workload();
    println!(
        "workload: {} series x {} scrapes (15 s, {:.1} h) = {} samples; counters with resets, gauges, classic histograms",
        w.series_count(),
        w.scrapes,
        w.scrapes as f64 / 240.0,
        w.sample_count()
    );
    let dir = std::env::temp_dir().join(format!("promlite-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rows: Vec<(&str, HashMap<String, f64>)> = Vec::new();
    for engine in ["promlite", "naive"] {
        let db = dir.join(format!("{engine}.db"));
        let path = db.to_str().unwrap();
        let mut m = HashMap::new();
        let Measures(ingest) = run_phase(&["ingest", engine, path]);
        for (k, v) in ingest {
            m.insert(if k == "peak_rss_mib" { "ingest_peak_rss_mib".into() } else { k }, v);
        }
        let size = file_size(&db);
        m.insert("bytes_per_sample".into(), size as f64 / w.sample_count() as f64);
        m.insert("file_mib".into(), size as f64 / 1_048_576.0);
        let Measures(read) = run_phase(&["read", engine, path]);
        for (k, v) in read {
            m.insert(if k == "peak_rss_mib" { "read_peak_rss_mib".into() } else { k }, v);
        }
        rows.push((engine, m));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (p, n) = (&rows[0].1, &rows[1].1);
    println!("\n{:<34} {:>14} {:>14} {:>10}", "measure", "promlite", "naive", "ratio");
    let lines: [(&str, &str, bool); 10] = [
        ("ingest samples/s", "ingest_samples_per_s", true),
        ("bytes/sample (file after close)", "bytes_per_sample", false),
        ("file MiB", "file_mib", false),
        ("one series over all hours, ms", "one_series_ms", false),
        ("all series over 1 h, ms", "all_series_1h_ms", false),
        ("all series over 1 h, samples/s", "all_series_1h_samples_per_s", true),
        ("all series, all hours, samples/s", "full_scan_samples_per_s", true),
        ("decoding alone, samples/s", "decode_samples_per_s", true),
        ("ingest peak RSS MiB", "ingest_peak_rss_mib", false),
        ("read peak RSS MiB", "read_peak_rss_mib", false),
    ];
    for (label, key, higher_better) in lines {
        let (a, b) = (p[key], n[key]);
        let ratio = a / b;
        let note = if higher_better { "(higher is better)" } else { "(lower is better)" };
        println!("{label:<34} {a:>14.2} {b:>14.2} {ratio:>9.3}x {note}");
    }
}

fn workload() -> Workload {
    Workload::from_env(10_000, 6.0)
}

fn file_size(db: &Path) -> u64 {
    let mut total = std::fs::metadata(db).unwrap().len();
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        total += std::fs::metadata(PathBuf::from(p)).map_or(0, |m| m.len());
    }
    total
}

fn promlite_ingest(path: &Path) -> String {
    let w = workload();
    let labels = w.series_labels();
    let db = Db::open(path).unwrap();
    let mut busy = Duration::ZERO;
    for round in w.rounds() {
        let start = Instant::now();
        let mut batch = Batch::new();
        for (i, p) in &round {
            batch.add(&labels[*i], p.t, p.v);
        }
        db.write(&batch).unwrap();
        busy += start.elapsed();
    }
    let start = Instant::now();
    db.close().unwrap();
    busy += start.elapsed();
    format!("ingest_samples_per_s={:.0}", w.sample_count() as f64 / busy.as_secs_f64())
}

fn promlite_read(path: &Path) -> String {
    let w = workload();
    let labels = w.series_labels();
    let db = Db::open_with(path, Options::default().read_only(true)).unwrap();
    // One series over the whole range: the median over 200 series.
    let mut one = Vec::new();
    for i in (0..labels.len()).step_by((labels.len() / 200).max(1)) {
        let matchers: Vec<Matcher> = labels[i].iter().map(|l| Matcher::equal(&l.name, &l.value)).collect();
        let start = Instant::now();
        let got = db.select(&matchers, i64::MIN, i64::MAX).unwrap();
        one.push(start.elapsed());
        assert_eq!(got[0].points.len(), w.scrapes);
    }
    let all = [Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()];
    let hour_start = w.end_ms() - 3_600_000 + 1;
    let (hour, n_hour) = median_of(5, || {
        let got = db.select(&all, hour_start, w.end_ms() + 15_000).unwrap();
        got.iter().map(|s| s.points.len()).sum()
    });
    // Everything, streamed one series at a time (as federation or backfill reads).
    let (full, n_full) = median_of(3, || {
        let mut n = 0;
        db.for_each_series(&all, i64::MIN, i64::MAX, |s| {
            n += s.points.len();
            Ok(())
        })
        .unwrap();
        n
    });
    assert_eq!(n_full, w.sample_count());
    // Decoding alone, as timed inside a verify pass over every chunk.
    let stats = db.verify().unwrap();
    assert_eq!(stats.samples as usize, w.sample_count());
    let decode_rate = stats.samples as f64 / stats.decode_time.as_secs_f64();
    read_result(median(&mut one), (hour, n_hour), (full, n_full), decode_rate)
}

/// The `RESULT` fields of a read phase.
fn read_result(one: Duration, hour: (Duration, usize), full: (Duration, usize), decode_rate: f64) -> String {
    format!(
        "one_series_ms={:.3} all_series_1h_ms={:.1} all_series_1h_samples_per_s={:.0} full_scan_samples_per_s={:.0} decode_samples_per_s={decode_rate:.0}",
        one.as_secs_f64() * 1e3,
        hour.0.as_secs_f64() * 1e3,
        hour.1 as f64 / hour.0.as_secs_f64(),
        full.1 as f64 / full.0.as_secs_f64(),
    )
}

fn median(d: &mut [Duration]) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// Runs `f` `n` times; the median duration and the count it returned.
fn median_of(n: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..n {
        let start = Instant::now();
        count = f();
        times.push(start.elapsed());
    }
    (median(&mut times), count)
}

/// The baseline: one SQLite row per sample.
mod naive {
    use super::*;
    use rusqlite::{params, Connection};

    fn open(path: &Path) -> Connection {
        let c = Connection::open(path).unwrap();
        c.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).unwrap();
        c.execute_batch("PRAGMA synchronous = FULL;").unwrap();
        c
    }

    pub fn ingest(path: &Path) -> String {
        let w = workload();
        let labels = w.series_labels();
        let mut c = open(path);
        c.execute_batch(
            "CREATE TABLE series (id INTEGER PRIMARY KEY, labels TEXT NOT NULL UNIQUE);
             CREATE TABLE samples (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
                                   PRIMARY KEY (series_id, ts)) WITHOUT ROWID;",
        )
        .unwrap();
        let mut ids: HashMap<String, i64> = HashMap::new();
        let mut busy = Duration::ZERO;
        for round in w.rounds() {
            let start = Instant::now();
            let tx = c.transaction().unwrap();
            {
                let mut new_series = tx.prepare_cached("INSERT INTO series (labels) VALUES (?1)").unwrap();
                let mut insert = tx
                    .prepare_cached("INSERT OR REPLACE INTO samples (series_id, ts, value) VALUES (?1, ?2, ?3)")
                    .unwrap();
                for (i, p) in &round {
                    let key = labels[*i].to_string();
                    let id = match ids.get(&key) {
                        Some(id) => *id,
                        None => {
                            new_series.execute([&key]).unwrap();
                            let id = tx.last_insert_rowid();
                            ids.insert(key, id);
                            id
                        }
                    };
                    insert.execute(params![id, p.t, p.v]).unwrap();
                }
            }
            tx.commit().unwrap();
            busy += start.elapsed();
        }
        let start = Instant::now();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        drop(c);
        busy += start.elapsed();
        format!("ingest_samples_per_s={:.0}", w.sample_count() as f64 / busy.as_secs_f64())
    }

    pub fn read(path: &Path) -> String {
        let w = workload();
        let labels = w.series_labels();
        let c = open(path);
        let ids: HashMap<String, i64> = {
            let mut stmt = c.prepare("SELECT labels, id FROM series").unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            rows.map(Result::unwrap).collect()
        };
        let mut stmt = c
            .prepare("SELECT ts, value FROM samples WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3 ORDER BY ts")
            .unwrap();
        let mut fetch = |id: i64, lo: i64, hi: i64| -> usize {
            let rows = stmt.query_map(params![id, lo, hi], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().len()
        };
        let mut one = Vec::new();
        for i in (0..labels.len()).step_by((labels.len() / 200).max(1)) {
            let start = Instant::now();
            let n = fetch(ids[&labels[i].to_string()], i64::MIN, i64::MAX);
            one.push(start.elapsed());
            assert_eq!(n, w.scrapes);
        }
        let all_ids: Vec<i64> = ids.values().copied().collect();
        let hour_start = w.end_ms() - 3_600_000 + 1;
        let (hour, n_hour) =
            median_of(5, || all_ids.iter().map(|id| fetch(*id, hour_start, w.end_ms() + 15_000)).sum());
        let (full, n_full) = median_of(3, || all_ids.iter().map(|id| fetch(*id, i64::MIN, i64::MAX)).sum());
        assert_eq!(n_full, w.sample_count());
        // One row per sample: "decoding" is the full scan itself.
        let decode_rate = n_full as f64 / full.as_secs_f64();
        read_result(median(&mut one), (hour, n_hour), (full, n_full), decode_rate)
    }
}
