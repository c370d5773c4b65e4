//! The storage engine through the public `Db` API: writes, reads, out-of-order
//! merges, persistence across reopen, deletion, retention, compaction,
//! metadata, key/value entries and file identification.

use std::time::Duration;

use promlite::{is_stale_nan, stale_nan, Batch, Db, Error, Labels, MatchOp, Matcher, MetricMetadata, Options, Point};

fn labels(s: &str) -> Labels {
    Labels::parse(s).unwrap()
}

fn m(name: &str, value: &str) -> Matcher {
    Matcher::equal(name, value)
}

fn points_of(db: &Db, series: &str) -> Vec<Point> {
    let l = labels(series);
    let matchers: Vec<Matcher> = l.iter().map(|x| m(&x.name, &x.value)).collect();
    let got = db.select(&matchers, i64::MIN, i64::MAX).unwrap();
    let exact: Vec<_> = got.into_iter().filter(|s| s.labels == l).collect();
    assert!(exact.len() <= 1);
    exact.into_iter().next().map(|s| s.points).unwrap_or_default()
}

fn ts(points: &[Point]) -> Vec<i64> {
    points.iter().map(|p| p.t).collect()
}

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    (dir, path)
}

#[test]
fn samples_round_trip_through_heads_chunks_and_reopen() {
    let (_dir, path) = temp_db();
    let up = labels(r#"up{job="api",instance="a:1"}"#);
    let n = 1000i64;
    {
        let db = Db::open(&path).unwrap();
        // Scrape-shaped commits: one sample per commit, far more than a chunk.
        for i in 0..n {
            db.append(&up, 1_000 + i * 15_000 + (i % 7), i as f64 * 0.5).unwrap();
        }
        let pts = points_of(&db, r#"up{job="api",instance="a:1"}"#);
        assert_eq!(pts.len(), n as usize);
        assert_eq!(pts[999].v, 999.0 * 0.5);
        // Dropped without close: the head log must bring the head back.
    }
    {
        let db = Db::open(&path).unwrap();
        let pts = points_of(&db, r#"up{job="api",instance="a:1"}"#);
        assert_eq!(pts.len(), n as usize);
        assert!(pts.windows(2).all(|w| w[0].t < w[1].t));
        for (i, p) in pts.iter().enumerate() {
            assert_eq!(p.v, i as f64 * 0.5);
        }
        db.close().unwrap();
    }
    let db = Db::open(&path).unwrap();
    assert_eq!(points_of(&db, r#"up{job="api",instance="a:1"}"#).len(), n as usize);
}

#[test]
fn stale_markers_stay_distinct_from_nan() {
    let db = Db::open_in_memory().unwrap();
    let s = labels("x");
    db.append(&s, 1, f64::NAN).unwrap();
    db.append(&s, 2, stale_nan()).unwrap();
    db.append(&s, 3, 1.0).unwrap();
    let pts = points_of(&db, "x");
    assert!(pts[0].v.is_nan() && !is_stale_nan(pts[0].v));
    assert!(is_stale_nan(pts[1].v));
    // Also after the samples were compressed into a chunk.
    let mut b = Batch::new();
    for t in 4..600 {
        b.add(&s, t, if t % 5 == 0 { stale_nan() } else { t as f64 });
    }
    db.write(&b).unwrap();
    let pts = points_of(&db, "x");
    assert!(is_stale_nan(pts[1].v));
    assert!(pts.iter().filter(|p| p.t >= 4 && p.t % 5 == 0).all(|p| is_stale_nan(p.v)));
}

#[test]
fn out_of_order_samples_merge_and_duplicates_are_idempotent() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let s = labels(r#"m{a="1"}"#);
    let mut b = Batch::new();
    for t in (0..2000).step_by(2) {
        b.add(&s, t, t as f64);
    }
    db.write(&b).unwrap();
    // Older than everything, between chunked samples, and inside the head.
    let mut ooo = Batch::new();
    ooo.add(&s, -10, -10.0);
    ooo.add(&s, 101, 101.0);
    ooo.add(&s, 1995, 1995.0);
    db.write(&ooo).unwrap();
    // Re-sending is a no-op; a new value at an existing timestamp replaces it.
    db.write(&ooo).unwrap();
    db.append(&s, 100, -1.0).unwrap();
    db.append(&s, 1998, -2.0).unwrap();
    let check = |db: &Db| {
        let pts = points_of(db, r#"m{a="1"}"#);
        assert_eq!(pts.len(), 1003);
        assert!(pts.windows(2).all(|w| w[0].t < w[1].t));
        let at = |t: i64| pts.iter().find(|p| p.t == t).map(|p| p.v);
        assert_eq!(at(-10), Some(-10.0));
        assert_eq!(at(101), Some(101.0));
        assert_eq!(at(1995), Some(1995.0));
        assert_eq!(at(100), Some(-1.0));
        assert_eq!(at(1998), Some(-2.0));
        assert_eq!(at(102), Some(102.0));
    };
    check(&db);
    drop(db);
    let db = Db::open(&path).unwrap();
    check(&db);
    // A batch with the same timestamp twice keeps the later sample.
    let mut b = Batch::new();
    b.add(&s, 5000, 1.0);
    b.add(&labels("other"), 1, 1.0);
    b.add(&s, 5000, 2.0);
    db.write(&b).unwrap();
    assert_eq!(points_of(&db, r#"m{a="1"}"#).last().unwrap().v, 2.0);
}

#[test]
fn native_histograms_are_stored_beside_floats() {
    use promlite::histogram::{BucketSpan, CounterResetHint, FloatHistogram};
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let h = |count: f64| FloatHistogram {
        schema: 0,
        count,
        sum: count * 2.0,
        positive_spans: vec![BucketSpan { offset: 0, length: 2 }],
        positive_buckets: vec![count - 1.0, 1.0],
        counter_reset_hint: CounterResetHint::NotCounterReset,
        ..FloatHistogram::default()
    };
    let mixed = labels("mixed");
    let mut b = Batch::new();
    b.add(&mixed, 1_000, 1.0);
    b.add_histogram(&mixed, 2_000, h(5.0));
    b.add_histogram(&labels("only_h"), 2_000, h(3.0));
    b.add_histogram(&labels("only_h"), 3_000, h(4.0));
    assert_eq!(b.len(), 4);
    db.write(&b).unwrap();
    // Re-sending replaces, out of order is fine.
    let mut b = Batch::new();
    b.add_histogram(&labels("only_h"), 3_000, h(9.0));
    b.add_histogram(&labels("only_h"), 500, h(1.0));
    db.write(&b).unwrap();
    drop(db);
    let db = Db::open(&path).unwrap();
    let got = db.select(&[Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()], 0, 10_000).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].points.len(), got[0].histograms.len()), (1, 1));
    assert_eq!(got[0].histograms[0].h.count, 5.0);
    let only: Vec<(i64, f64)> = got[1].histograms.iter().map(|p| (p.t, p.h.count)).collect();
    assert_eq!(only, vec![(500, 1.0), (2_000, 3.0), (3_000, 9.0)]);
    assert_eq!(*got[1].histograms[0].h, h(1.0));
    assert_eq!(db.series(&[m("__name__", "only_h")], 2_500, 3_500).unwrap().len(), 1);
    assert_eq!(db.verify().unwrap().histogram_samples, 4);
    // Deleting all of a histogram-only series removes it.
    assert_eq!(db.delete_series(&[m("__name__", "only_h")], i64::MIN, i64::MAX).unwrap(), 1);
    assert_eq!(db.label_values("__name__", &[], i64::MIN, i64::MAX).unwrap(), vec!["mixed"]);
}

#[test]
fn selection_by_matchers_and_time_range() {
    let db = Db::open_in_memory().unwrap();
    let mut b = Batch::new();
    for (i, job) in ["api", "web", "db"].iter().enumerate() {
        for t in 0..500 {
            b.add(&labels(&format!(r#"req_total{{job="{job}",code="200"}}"#)), t * 1000, (t + i as i64) as f64);
        }
    }
    db.write(&b).unwrap();
    let re = Matcher::new(MatchOp::RegexMatch, "job", "api|db").unwrap();
    let got = db.select(&[m("__name__", "req_total"), re], 10_000, 19_999).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].labels.get("job"), Some("api"), "sorted by labels");
    assert_eq!(ts(&got[0].points), (10..20).map(|t| t * 1000).collect::<Vec<_>>());
    assert!(db.select(&[m("__name__", "req_total")], 600_000, 700_000).unwrap().is_empty());
    let ne = Matcher::new(MatchOp::NotEqual, "job", "web").unwrap();
    assert_eq!(db.series(&[m("__name__", "req_total"), ne], i64::MIN, i64::MAX).unwrap().len(), 2);
}

#[test]
fn series_stream_one_at_a_time_in_label_order() {
    let db = Db::open_in_memory().unwrap();
    for (i, job) in ["b", "c", "a"].iter().enumerate() {
        db.append(&labels(&format!(r#"s{{job="{job}"}}"#)), 10, i as f64).unwrap();
    }
    let mut seen = Vec::new();
    db.for_each_series(&[m("__name__", "s")], 0, 100, |s| {
        seen.push(s.labels.get("job").unwrap().to_string());
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, ["a", "b", "c"]);
    let mut calls = 0;
    let err = db
        .for_each_series(&[m("__name__", "s")], 0, 100, |_| {
            calls += 1;
            Err(Error::invalid("stop"))
        })
        .unwrap_err();
    assert_eq!((calls, err.to_string()), (1, "stop".to_string()));
}

#[test]
fn label_names_values_and_series_respect_matchers_and_time() {
    let db = Db::open_in_memory().unwrap();
    db.append(&labels(r#"a{x="1",only_a="y"}"#), 1_000, 1.0).unwrap();
    db.append(&labels(r#"b{x="2"}"#), 5_000, 1.0).unwrap();
    assert_eq!(db.label_names(&[], i64::MIN, i64::MAX).unwrap(), vec!["__name__", "only_a", "x"]);
    assert_eq!(db.label_names(&[m("__name__", "b")], i64::MIN, i64::MAX).unwrap(), vec!["__name__", "x"]);
    assert_eq!(db.label_values("x", &[], i64::MIN, i64::MAX).unwrap(), vec!["1", "2"]);
    assert_eq!(db.label_values("x", &[], 4_000, 6_000).unwrap(), vec!["2"]);
    assert_eq!(db.label_values("__name__", &[], 0, 2_000).unwrap(), vec!["a"]);
    assert_eq!(db.series(&[Matcher::new(MatchOp::RegexMatch, "x", ".+").unwrap()], 0, 999).unwrap(), vec![]);
    assert_eq!(db.series(&[Matcher::new(MatchOp::RegexMatch, "x", ".+").unwrap()], 0, 1_000).unwrap().len(), 1);
}

#[test]
fn invalid_series_are_rejected_and_nothing_of_the_batch_is_stored() {
    let db = Db::open_in_memory().unwrap();
    let mut b = Batch::new();
    b.add(&labels("good"), 1, 1.0);
    b.add(&Labels::from_pairs([("job", "x")]), 1, 1.0);
    let err = db.write(&b).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    assert!(err.to_string().contains("no metric name"));
    assert!(db.series(&[], i64::MIN, i64::MAX).unwrap().is_empty());
}

#[test]
fn delete_series_by_matchers_and_time_range() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let mut b = Batch::new();
    for t in 0..1000 {
        b.add(&labels(r#"d{k="a"}"#), t, 1.0);
        b.add(&labels(r#"d{k="b"}"#), t, 2.0);
    }
    db.write(&b).unwrap();
    // Part of a's range, spanning chunks and the head.
    assert_eq!(db.delete_series(&[m("k", "a")], 200, 899).unwrap(), 1);
    let a = points_of(&db, r#"d{k="a"}"#);
    assert_eq!(a.len(), 300);
    assert!(a.iter().all(|p| p.t < 200 || p.t > 899));
    // All of b: the series disappears from the index.
    assert_eq!(db.delete_series(&[m("k", "b")], i64::MIN, i64::MAX).unwrap(), 1);
    assert_eq!(db.label_values("k", &[], i64::MIN, i64::MAX).unwrap(), vec!["a"]);
    assert_eq!(db.delete_series(&[m("k", "nope")], i64::MIN, i64::MAX).unwrap(), 0);
    drop(db);
    let db = Db::open(&path).unwrap();
    assert_eq!(points_of(&db, r#"d{k="a"}"#).len(), 300);
    assert!(points_of(&db, r#"d{k="b"}"#).is_empty());
    // The deleted series can come back.
    db.append(&labels(r#"d{k="b"}"#), 5, 5.0).unwrap();
    assert_eq!(points_of(&db, r#"d{k="b"}"#), vec![Point::new(5, 5.0)]);
}

#[test]
fn retention_drops_old_samples_and_empty_series() {
    let (_dir, path) = temp_db();
    let opts = Options::default().retention(Some(Duration::from_secs(100)));
    let db = Db::open_with(&path, opts).unwrap();
    let mut b = Batch::new();
    for t in 0..1000i64 {
        b.add(&labels("keep"), t * 1000, t as f64);
    }
    b.add(&labels("gone"), 5_000, 1.0);
    db.write(&b).unwrap();
    assert!(db.apply_retention().unwrap() > 0);
    let keep = points_of(&db, "keep");
    assert_eq!(keep.first().unwrap().t, 899_000);
    assert_eq!(keep.len(), 101);
    assert!(db.series(&[m("__name__", "gone")], i64::MIN, i64::MAX).unwrap().is_empty());
    drop(db);
    let db = Db::open(&path).unwrap();
    assert_eq!(points_of(&db, "keep").len(), 101);
}

#[test]
fn compaction_merges_small_chunks_without_changing_data() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let s = labels("c");
    // Backfill out of order in small pieces, older than the newest chunk: each
    // piece lands in its own small chunk.
    let mut b = Batch::new();
    for t in 10_000..10_300 {
        b.add(&s, t, t as f64);
    }
    db.write(&b).unwrap();
    for piece in 0..20 {
        let mut b = Batch::new();
        for t in (piece * 100)..(piece * 100 + 50) {
            b.add(&s, t, t as f64);
        }
        db.write(&b).unwrap();
    }
    let before = points_of(&db, "c");
    let stats = db.compact().unwrap();
    assert_eq!(stats.series_rewritten, 1);
    assert!(stats.chunks_after < stats.chunks_before, "{stats:?}");
    assert_eq!(points_of(&db, "c"), before);
    assert_eq!(db.compact().unwrap().series_rewritten, 0, "a second compaction finds nothing to do");
}

#[test]
fn metadata_and_key_values_commit_with_the_batch() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let mut b = Batch::new();
    b.add(&labels("http_requests_total"), 1, 1.0);
    b.add_metadata(MetricMetadata {
        metric: "http_requests_total".into(),
        kind: "counter".into(),
        help: "Requests.".into(),
        unit: String::new(),
    });
    b.put_kv("push/job=a", Some(b"one".to_vec()));
    b.put_kv("push/job=b", Some(b"two".to_vec()));
    b.put_kv("pusher", Some(b"x".to_vec()));
    db.write(&b).unwrap();
    let mut b = Batch::new();
    b.put_kv("push/job=a", None);
    db.write(&b).unwrap();
    drop(db);
    let db = Db::open(&path).unwrap();
    assert_eq!(db.metadata(Some("http_requests_total")).unwrap()[0].kind, "counter");
    assert_eq!(db.metadata(None).unwrap().len(), 1);
    assert_eq!(db.kv_get("push/job=b").unwrap(), Some(b"two".to_vec()));
    assert_eq!(db.kv_get("push/job=a").unwrap(), None);
    assert_eq!(db.kv_scan("push/").unwrap(), vec![("push/job=b".to_string(), b"two".to_vec())]);
}

#[test]
fn foreign_and_newer_files_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a database at all........").unwrap();
    let before = std::fs::read(&text).unwrap();
    assert!(matches!(Db::open(&text), Err(Error::NotADatabase(_))));
    assert_eq!(std::fs::read(&text).unwrap(), before);

    let other = dir.path().join("other.sqlite");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);").unwrap();
    }
    let before = std::fs::read(&other).unwrap();
    let err = Db::open(&other).err().unwrap();
    assert!(matches!(err, Error::NotADatabase(_)), "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), before);

    let newer = dir.path().join("newer.db");
    Db::open(&newer).unwrap().close().unwrap();
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.execute_batch("PRAGMA user_version = 99;").unwrap();
    }
    let before = std::fs::read(&newer).unwrap();
    assert!(matches!(Db::open(&newer), Err(Error::UnsupportedVersion { found: 99, .. })));
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    assert!(matches!(Db::open(dir.path()), Err(Error::NotADatabase(_))));
}

#[test]
fn format_1_files_are_upgraded_when_opened_for_writing() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    db.append(&labels("old"), 1, 1.0).unwrap();
    db.close().unwrap();
    // Make it what format 1 looked like: no histogram or change-feed tables.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DROP TABLE hsamples; DROP TABLE outbox; DROP TABLE stsamples; PRAGMA user_version = 1;")
            .unwrap();
    }
    let err = Db::open_with(&path, Options::default().read_only(true)).err().unwrap();
    assert!(err.to_string().contains("open it once for writing to upgrade"), "{err}");
    let db = Db::open(&path).unwrap();
    assert_eq!(points_of(&db, "old"), vec![Point::new(1, 1.0)]);
    let mut b = Batch::new();
    b.add_histogram(&labels("h"), 5, promlite::FloatHistogram::default());
    db.write(&b).unwrap();
    db.outbox_subscribe("feed").unwrap();
    drop(db);
    let c = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 3);
}

#[test]
fn one_writer_per_file_and_read_only_handles_see_committed_heads() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let err = Db::open(&path).err().unwrap();
    assert!(err.to_string().contains("already open for writing"), "{err}");
    for t in 0..300 {
        db.append(&labels("ro"), t, t as f64).unwrap();
    }
    let ro = Db::open_with(&path, Options::default().read_only(true)).unwrap();
    // 240 in a chunk, 60 only in the writer's head log.
    assert_eq!(points_of(&ro, "ro").len(), 300);
    assert!(matches!(ro.append(&labels("ro"), 1000, 1.0), Err(Error::InvalidInput(_))));
    db.append(&labels("ro"), 300, 300.0).unwrap();
    assert_eq!(points_of(&ro, "ro").len(), 301);
    drop(db);
    // Once the writer is gone the file can be opened for writing again.
    let db = Db::open(&path).unwrap();
    assert_eq!(points_of(&db, "ro").len(), 301);
    let missing = path.with_file_name("missing.db");
    assert!(Db::open_with(&missing, Options::default().read_only(true)).is_err());
    assert!(!missing.exists());
}

#[test]
fn verify_decodes_everything_and_reports_corruption() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let mut b = Batch::new();
    for t in 0..1000 {
        b.add(&labels(r#"v{i="1"}"#), t, t as f64);
        b.add(&labels(r#"v{i="2"}"#), t, 0.5);
    }
    db.write(&b).unwrap();
    let stats = db.verify().unwrap();
    assert_eq!((stats.series, stats.samples + stats.head_samples), (2, 2000));
    assert!(stats.chunks >= 8);
    drop(db);
    // Flip a byte inside one chunk.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute("UPDATE chunks SET data = substr(data, 1, 5) WHERE rowid = (SELECT MIN(rowid) FROM chunks)", [])
            .unwrap();
    }
    let db = Db::open(&path).unwrap();
    assert!(matches!(db.verify(), Err(Error::Corrupt(_))));
}

#[test]
fn flush_moves_heads_to_chunks_and_writing_continues() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    for t in 0..100 {
        db.append(&labels("f"), t, t as f64).unwrap();
    }
    db.flush().unwrap();
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        let log_rows: i64 = c.query_row("SELECT COUNT(*) FROM head_log", [], |r| r.get(0)).unwrap();
        let chunks: i64 = c.query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0)).unwrap();
        assert_eq!((log_rows, chunks), (0, 1));
    }
    for t in 100..400 {
        db.append(&labels("f"), t, t as f64).unwrap();
    }
    let pts = points_of(&db, "f");
    assert_eq!(ts(&pts), (0..400).collect::<Vec<_>>());
    drop(db);
    let c = rusqlite::Connection::open(&path).unwrap();
    let chunks: i64 = c.query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0)).unwrap();
    assert_eq!(chunks, 2, "the partial chunk left by flush was merged at the next cut (240 + 160)");
}

#[test]
fn rewritten_chunks_are_never_read_from_the_decoded_chunk_cache() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let f = labels("f");
    let mut batch = Batch::new();
    for t in 0..300 {
        batch.add(&f, t * 10, t as f64);
    }
    db.write(&batch).unwrap();
    db.flush().unwrap();
    let values = |db: &Db| points_of(db, "f").iter().map(|p| (p.t, p.v)).collect::<Vec<_>>();
    let mut want: Vec<(i64, f64)> = (0..300).map(|t| (t * 10, t as f64)).collect();
    assert_eq!(values(&db), want, "the first read decodes and keeps the newest chunk");
    assert_eq!(values(&db), want, "the second is served from the cache");

    // A replaced value inside the newest chunk (same bounds, same length), then
    // an out-of-order sample inside it, then compaction: each rewrites the chunk.
    db.append(&f, 2_500, -1.0).unwrap();
    db.flush().unwrap();
    want[250].1 = -1.0;
    assert_eq!(values(&db), want);
    db.append(&f, 2_505, 7.0).unwrap();
    db.flush().unwrap();
    want.insert(251, (2_505, 7.0));
    assert_eq!(values(&db), want);
    db.compact().unwrap();
    assert_eq!(values(&db), want);

    // The cache is only a speed-up: without it the answers are the same.
    drop(db);
    let uncached = Db::open_with(&path, Options::default().chunk_cache_bytes(0)).unwrap();
    assert_eq!(values(&uncached), want);
}

#[test]
fn close_leaves_a_compact_file_with_an_empty_log() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let mut rng_state = 1u64;
    for scrape in 0..500i64 {
        let mut b = Batch::new();
        for s in 0..50 {
            rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1);
            b.add(
                &labels(&format!(r#"g{{i="{s}"}}"#)),
                scrape * 15_000 + (rng_state >> 60) as i64,
                (scrape * 10 + s) as f64,
            );
        }
        db.write(&b).unwrap();
    }
    db.close().unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let log_rows: i64 = c.query_row("SELECT COUNT(*) FROM head_log", [], |r| r.get(0)).unwrap();
    assert_eq!(log_rows, 0);
    let free: i64 = c.query_row("PRAGMA freelist_count", [], |r| r.get(0)).unwrap();
    assert_eq!(free, 0, "free pages are returned on close");
    let chunk_bytes: i64 = c.query_row("SELECT SUM(LENGTH(data)) FROM chunks", [], |r| r.get(0)).unwrap();
    let per_sample = chunk_bytes as f64 / 25_000.0;
    assert!(per_sample < 2.0, "{per_sample} chunk bytes per sample for regular integer data");
    let wal = path.with_file_name("test.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "the WAL is checkpointed");
}

fn starts_of(db: &Db, series: &str, mint: i64, maxt: i64) -> Vec<(i64, i64)> {
    let got = db.select(&[m("__name__", series)], mint, maxt).unwrap();
    got.into_iter().next().map(|s| s.start_timestamps).unwrap_or_default()
}

#[test]
fn start_timestamps_round_trip_and_follow_their_samples() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    let (c, h) = (labels("c_total"), labels("h"));
    db.append(&c, 1_000, 0.0).unwrap();
    assert!(starts_of(&db, "c_total", i64::MIN, i64::MAX).is_empty(), "no start timestamps written yet");
    let mut b = Batch::new();
    for t in 2..=300 {
        // Every third sample restarts the counter; the others carry none.
        if t % 3 == 0 {
            b.add_with_start(&c, t * 1_000, t * 1_000 - 500, 1.0);
        } else {
            b.add(&c, t * 1_000, t as f64);
        }
    }
    b.add_histogram_with_start(&h, 5_000, 4_000, promlite::FloatHistogram::default());
    b.add_histogram(&h, 6_000, promlite::FloatHistogram::default());
    b.add_with_start(&c, 1_500, 0, 1.0); // 0 means "none"
    db.write(&b).unwrap();
    let want: Vec<(i64, i64)> = (3..=300).step_by(3).map(|t| (t * 1_000, t * 1_000 - 500)).collect();
    assert_eq!(starts_of(&db, "c_total", i64::MIN, i64::MAX), want, "heads and chunks alike");
    assert_eq!(starts_of(&db, "c_total", 5_000, 10_000), vec![(6_000, 5_500), (9_000, 8_500)], "only in range");
    assert_eq!(starts_of(&db, "h", i64::MIN, i64::MAX), vec![(5_000, 4_000)]);
    db.close().unwrap();

    let db = Db::open(&path).unwrap();
    assert_eq!(starts_of(&db, "c_total", i64::MIN, i64::MAX), want, "kept across reopen");
    let ro = Db::open_with(&path, Options::default().read_only(true)).unwrap();
    assert_eq!(starts_of(&ro, "h", i64::MIN, i64::MAX), vec![(5_000, 4_000)], "read-only handles see them");
    drop(ro);

    // Rewriting a sample replaces its start timestamp, or clears it.
    let mut b = Batch::new();
    b.add_with_start(&c, 3_000, 1_000, 7.0);
    b.add(&c, 6_000, 7.0);
    b.add(&c, 300_000, 7.0); // the newest sample, in the head rather than a chunk
    b.add_histogram(&h, 5_000, promlite::FloatHistogram::default());
    db.write(&b).unwrap();
    assert_eq!(starts_of(&db, "c_total", 0, 9_000), vec![(3_000, 1_000), (9_000, 8_500)]);
    assert_eq!(starts_of(&db, "c_total", 295_000, 300_000), vec![(297_000, 296_500)]);
    assert!(starts_of(&db, "h", i64::MIN, i64::MAX).is_empty());

    // Deleted samples take their start timestamps with them: a new sample
    // at the same time does not inherit one.
    db.delete_series(&[m("__name__", "c_total")], 8_000, 20_000).unwrap();
    db.write(&{
        let mut b = Batch::new();
        b.add(&c, 9_000, 1.0);
        b
    })
    .unwrap();
    assert_eq!(starts_of(&db, "c_total", 0, 25_000), vec![(3_000, 1_000), (21_000, 20_500), (24_000, 23_500)]);
    db.delete_before(100_000).unwrap();
    db.append(&c, 21_000, 1.0).unwrap();
    let kept = starts_of(&db, "c_total", i64::MIN, i64::MAX);
    assert_eq!(kept.first(), Some(&(102_000, 101_500)), "retention drops older ones");
    assert!(!kept.iter().any(|&(t, _)| t == 21_000));
    db.compact().unwrap();
    assert_eq!(starts_of(&db, "c_total", i64::MIN, i64::MAX), kept, "compaction keeps them");
    db.delete_series(&[m("__name__", "h")], i64::MIN, i64::MAX).unwrap();
    db.write(&{
        let mut b = Batch::new();
        b.add_histogram(&h, 5_000, promlite::FloatHistogram::default());
        b
    })
    .unwrap();
    assert!(starts_of(&db, "h", i64::MIN, i64::MAX).is_empty(), "a removed series leaves none behind");
}

#[test]
fn format_2_files_gain_the_start_timestamp_table_with_their_data_intact() {
    let (_dir, path) = temp_db();
    let db = Db::open(&path).unwrap();
    for t in 0..500 {
        db.append(&labels("old_total"), t * 1_000, t as f64).unwrap();
    }
    let mut b = Batch::new();
    b.add_histogram(&labels("old_h"), 5, promlite::FloatHistogram::default());
    db.write(&b).unwrap();
    let before = db.select(&[m("__name__", "old_total")], i64::MIN, i64::MAX).unwrap();
    db.close().unwrap();
    // Format 2 is format 3 without the start-timestamp table.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DROP TABLE stsamples; PRAGMA user_version = 2;").unwrap();
    }
    let err = Db::open_with(&path, Options::default().read_only(true)).err().unwrap();
    assert!(err.to_string().contains("has promlite format 2; open it once for writing to upgrade"), "{err}");
    let db = Db::open(&path).unwrap();
    assert_eq!(db.select(&[m("__name__", "old_total")], i64::MIN, i64::MAX).unwrap(), before);
    assert_eq!(db.select(&[m("__name__", "old_h")], i64::MIN, i64::MAX).unwrap()[0].histograms.len(), 1);
    let mut b = Batch::new();
    b.add_with_start(&labels("old_total"), 600_000, 550_000, 1.0);
    db.write(&b).unwrap();
    assert_eq!(starts_of(&db, "old_total", i64::MIN, i64::MAX), vec![(600_000, 550_000)]);
    drop(db);
    let c = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 3);
}
