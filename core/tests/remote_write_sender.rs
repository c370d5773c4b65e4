//! The remote-write sender against a scripted local receiver: delivery in
//! order with labels/auth/headers, keep/drop, retries on 5xx/429/network
//! errors, 4xx drops, resuming after a restart (also mid-way through a split
//! batch), shutdown with a hung receiver, removal, stats and backfill.
#![cfg(feature = "remote-write")]

mod remote_common;

use std::time::{Duration, Instant};

use promlite::{Batch, Db, Labels, RemoteWriteConfig, RemoteWriteStats};
use remote_common::{wait_for, Receiver, Reply};

fn labels(s: &str) -> Labels {
    Labels::parse(s).unwrap()
}

/// A sender with fast retries and flushes, so tests run quickly.
fn config(name: &str, rx: &Receiver) -> RemoteWriteConfig {
    RemoteWriteConfig::new(name, rx.url.clone())
        .flush_interval(Duration::from_millis(20))
        .backoff(Duration::from_millis(5), Duration::from_millis(40))
}

fn stats(db: &Db, name: &str) -> RemoteWriteStats {
    db.remote_write_stats().unwrap().into_iter().find(|s| s.name == name).expect("sender listed")
}

/// Writes `n` samples per series at t = start..start+n, one commit per timestamp.
fn write_steps(db: &Db, series: &[&str], start: i64, n: i64) {
    for t in start..start + n {
        let mut b = Batch::new();
        for s in series {
            b.add(&labels(s), t * 1000, t as f64);
        }
        db.write(&b).unwrap();
    }
}

fn expected(start: i64, n: i64) -> Vec<(i64, f64)> {
    (start..start + n).map(|t| (t * 1000, t as f64)).collect()
}

#[test]
fn delivers_every_commit_in_order_with_labels_auth_and_headers() {
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("m.db")).unwrap();
    db.append(&labels(r#"up{job="api"}"#), 0, 1.0).unwrap(); // before the sender: not sent
    db.remote_write_add(
        config("main", &rx)
            .batch_size(7)
            .bearer_token("s3cret")
            .header("X-Scope-OrgID", "team-a")
            .external_label("replica", "r1")
            .drop_matching(r#"{__name__=~"go_.*"}"#),
    )
    .unwrap();
    write_steps(&db, &[r#"up{job="api"}"#, r#"up{job="web",replica="own"}"#, "go_goroutines"], 1, 20);

    wait_for("40 samples", || rx.accepted_sample_count() == 40);
    let got = rx.samples();
    assert_eq!(got.keys().collect::<Vec<_>>(), [r#"up{job="api",replica="r1"}"#, r#"up{job="web",replica="own"}"#]);
    for points in got.values() {
        assert_eq!(points, &expected(1, 20), "every sample once, in order");
    }
    for r in rx.all() {
        let samples: usize = r.request.timeseries.iter().map(|t| t.samples.len()).sum();
        assert!(samples <= 7, "batch_size respected: {samples}");
        assert_eq!(r.headers["content-encoding"], "snappy");
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
        assert_eq!(r.headers["x-prometheus-remote-write-version"], "0.1.0");
        assert_eq!(r.headers["authorization"], "Bearer s3cret");
        assert_eq!(r.headers["x-scope-orgid"], "team-a");
        assert!(r.headers["user-agent"].starts_with("promlite/"));
    }
    wait_for("the last ack", || stats(&db, "main").pending_samples == 0);
    let s = stats(&db, "main");
    assert_eq!((s.samples_sent, s.samples_skipped, s.samples_dropped, s.retries), (40, 20, 0, 0));
    assert_eq!(s.newest_sent_timestamp_ms, Some(20_000));
    assert!(s.running && s.url == rx.url && s.last_error.is_none(), "{s:?}");
    db.close().unwrap();
}

#[test]
fn native_histograms_are_delivered_in_order_with_the_float_samples_and_after_a_restart() {
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let hist = |text: &str| promlite::FloatHistogram::parse_test_notation(text).unwrap();
    let whole = |n: i64| hist(&format!("{{{{schema:1 count:{} sum:{n} z_bucket:1 buckets:[{n} 0 {n}]}}}}", 2 * n + 1));
    let rpc = labels(r#"rpc_seconds{job="api"}"#);
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("h", &rx).batch_size(4).external_label("replica", "r1")).unwrap();
    for t in 1..=5 {
        let mut b = Batch::new();
        b.add(&labels("up"), t * 1000, 1.0);
        b.add_histogram(&rpc, t * 1000, whole(t));
        db.write(&b).unwrap();
    }
    // A later commit with an out-of-order histogram and a fractional one.
    let mut b = Batch::new();
    b.add_histogram(&rpc, 500, whole(9));
    b.add_histogram(
        &labels("rate_like"),
        6000,
        hist("{{schema:-53 count:0.5 sum:0.25 custom_values:[1] buckets:[0.5] counter_reset_hint:gauge}}"),
    );
    db.write(&b).unwrap();
    wait_for("12 samples", || rx.all().iter().map(|r| sample_count(&r.request)).sum::<usize>() >= 12);
    wait_for("the last ack", || stats(&db, "h").pending_samples == 0);
    db.close().unwrap();

    let got = rx.histograms();
    let rpc_key = r#"rpc_seconds{job="api",replica="r1"}"#;
    // Batches may join commits; within a request each series is in time order.
    let mut sent: Vec<(i64, promlite::FloatHistogram)> = got[rpc_key].clone();
    sent.sort_by_key(|(t, _)| *t);
    let mut expected: Vec<(i64, promlite::FloatHistogram)> = (1..=5).map(|t| (t * 1000, whole(t))).collect();
    expected.insert(0, (500, whole(9)));
    assert_eq!(sent, expected, "every histogram once");
    for r in rx.accepted() {
        for ts in &r.request.timeseries {
            assert!(ts.histograms.windows(2).all(|w| w[0].timestamp < w[1].timestamp), "time order in a request");
        }
    }
    assert_eq!(got[r#"rate_like{replica="r1"}"#][0].1.counter_reset_hint, promlite::histogram::CounterResetHint::Gauge);
    assert_eq!(rx.samples()[r#"up{replica="r1"}"#].len(), 5);
    // Whole counts travel as integer histograms, fractional ones as float histograms.
    let accepted = rx.accepted();
    let forms: Vec<bool> = accepted
        .iter()
        .flat_map(|r| r.request.timeseries.iter().flat_map(|t| t.histograms.iter()))
        .map(|h| matches!(h.count, Some(promlite::prompb::HistogramCount::CountInt(_))))
        .collect();
    assert_eq!(forms.iter().filter(|&&int| int).count(), 6);
    assert_eq!(forms.iter().filter(|&&int| !int).count(), 1);
    for r in rx.all() {
        assert!(sample_count(&r.request) <= 4, "histograms count towards batch_size");
    }

    // After a restart only new commits are sent.
    let before = rx.all().len();
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("h", &rx).batch_size(4).external_label("replica", "r1")).unwrap();
    let mut b = Batch::new();
    b.add_histogram(&rpc, 7000, whole(7));
    db.write(&b).unwrap();
    wait_for("one more request", || rx.accepted().len() > before);
    wait_for("the last ack", || stats(&db, "h").pending_samples == 0);
    assert_eq!(rx.histograms()[rpc_key].last(), Some(&(7000, whole(7))));
    assert_eq!(rx.histograms()[rpc_key].len(), 7);
}

fn sample_count(r: &promlite::prompb::WriteRequest) -> usize {
    r.timeseries.iter().map(|t| t.samples.len() + t.histograms.len()).sum()
}

#[test]
fn basic_auth_is_sent_as_an_authorization_header() {
    let rx = Receiver::start();
    let db = Db::open_in_memory().unwrap();
    db.remote_write_add(config("basic", &rx).basic_auth("metrics", "pa:ss")).unwrap();
    db.append(&labels("x"), 1, 1.0).unwrap();
    wait_for("one request", || rx.accepted_sample_count() == 1);
    // base64("metrics:pa:ss")
    assert_eq!(rx.all()[0].headers["authorization"], "Basic bWV0cmljczpwYTpzcw==");
}

#[test]
fn retries_5xx_429_and_network_errors_then_delivers_exactly_once() {
    let rx = Receiver::start();
    rx.script(&[Reply::Status(500), Reply::Hangup, Reply::Status(429), Reply::RetryAfterZero, Reply::Status(503)]);
    let db = Db::open_in_memory().unwrap();
    db.remote_write_add(config("flaky", &rx)).unwrap();
    write_steps(&db, &["a", "b"], 0, 5);
    wait_for("all samples", || rx.accepted_sample_count() == 10);
    wait_for("the ack", || stats(&db, "flaky").pending_samples == 0);
    let s = stats(&db, "flaky");
    assert_eq!((s.retries, s.requests_failed, s.samples_dropped), (5, 5, 0), "{s:?}");
    assert!(s.last_error.as_deref().unwrap().contains("HTTP 503"), "{s:?}");
    for points in rx.samples().values() {
        assert_eq!(points, &expected(0, 5));
    }
}

#[test]
fn retries_keep_their_backoff_while_commits_arrive() {
    let rx = Receiver::start();
    rx.set_default(Reply::Status(503));
    let db = Db::open_in_memory().unwrap();
    let backoff = Duration::from_millis(200);
    db.remote_write_add(config("patient", &rx).backoff(backoff, backoff)).unwrap();
    let start = Instant::now();
    let mut t = 0;
    while start.elapsed() < Duration::from_secs(1) {
        write_steps(&db, &["m"], t, 1);
        t += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    // Jittered delays are 100..200 ms: at most ~11 attempts in a second.
    let attempts = rx.all().len();
    assert!((3..=12).contains(&attempts), "{attempts} attempts");
    wait_for("the backlog to be counted while retrying", || stats(&db, "patient").pending_samples == t as u64);
}

#[test]
fn a_refused_batch_is_dropped_and_counted_and_sending_goes_on() {
    let rx = Receiver::start();
    rx.script(&[Reply::Status(400)]);
    let db = Db::open_in_memory().unwrap();
    db.remote_write_add(config("strict", &rx)).unwrap();
    db.append(&labels("bad"), 1, 1.0).unwrap();
    wait_for("the refusal", || stats(&db, "strict").samples_dropped == 1);
    db.append(&labels("good"), 2, 2.0).unwrap();
    wait_for("the next batch", || rx.accepted_sample_count() == 1);
    assert_eq!(rx.samples().keys().collect::<Vec<_>>(), ["good{}"]);
    let s = stats(&db, "strict");
    assert_eq!((s.samples_dropped, s.requests_dropped, s.retries, s.samples_sent), (1, 1, 0, 1));
    assert!(s.last_error.as_deref().unwrap().contains("HTTP 400: scripted failure 400"), "{s:?}");
}

#[test]
fn resumes_after_restart_without_resending_acknowledged_batches() {
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("durable", &rx)).unwrap();
    write_steps(&db, &["m"], 0, 10);
    wait_for("first batch", || rx.accepted_sample_count() == 10);
    wait_for("its ack", || stats(&db, "durable").pending_samples == 0);
    rx.set_default(Reply::Status(503));
    write_steps(&db, &["m"], 10, 10);
    wait_for("failures", || stats(&db, "durable").retries >= 2);
    assert_eq!(stats(&db, "durable").pending_samples, 10);
    db.close().unwrap();

    // Commits while no sender runs are still queued for it.
    let db = Db::open(&path).unwrap();
    write_steps(&db, &["m"], 20, 5);
    let idle = stats(&db, "durable");
    assert!(!idle.running && idle.pending_samples == 15, "{idle:?}");
    rx.set_default(Reply::Status(204));
    let before = rx.all().len();
    db.remote_write_add(config("durable", &rx)).unwrap();
    wait_for("the rest", || rx.accepted_sample_count() == 25);
    assert_eq!(rx.samples()["m{}"], expected(0, 25), "each sample exactly once, in order");
    let resent: usize = rx.all()[before..].iter().flat_map(|r| &r.request.timeseries).map(|t| t.samples.len()).sum();
    assert_eq!(resent, 15, "only the unacknowledged samples were sent after the restart");
}

#[test]
fn a_split_batch_resumes_after_its_last_delivered_request() {
    let rx = Receiver::start();
    // One commit of 10 samples in requests of 3: deliver two, then fail.
    rx.script(&[Reply::Status(204), Reply::Status(204)]);
    rx.set_default(Reply::Status(500));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("split", &rx).batch_size(3)).unwrap();
    let mut b = Batch::new();
    for t in 0..10 {
        b.add(&labels("big"), t * 1000, t as f64);
    }
    db.write(&b).unwrap();
    wait_for("two requests and a failure", || rx.all().len() >= 3);
    db.close().unwrap();
    assert_eq!(rx.accepted_sample_count(), 6);

    rx.set_default(Reply::Status(204));
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("split", &rx).batch_size(3)).unwrap();
    wait_for("the rest", || rx.accepted_sample_count() == 10);
    wait_for("the ack", || stats(&db, "split").pending_samples == 0);
    assert_eq!(rx.samples()["big{}"], expected(0, 10), "no request delivered twice");
    db.close().unwrap();
}

#[test]
fn a_batch_in_flight_at_shutdown_is_sent_again_with_exactly_its_samples() {
    // Receivers such as Prometheus refuse a whole request if one sample is
    // older than what they hold: a batch re-sent after a restart must not
    // mix samples they may hold with new ones.
    let rx = Receiver::start();
    rx.set_default(Reply::Status(503));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("exact", &rx).batch_size(100)).unwrap();
    write_steps(&db, &["m"], 0, 3);
    wait_for("the first attempt", || !rx.all().is_empty());
    write_steps(&db, &["m"], 3, 4);
    let first = rx.all()[0].timestamps();
    db.close().unwrap();

    let db = Db::open(&path).unwrap();
    write_steps(&db, &["m"], 7, 3);
    rx.set_default(Reply::Status(204));
    db.remote_write_add(config("exact", &rx).batch_size(100)).unwrap();
    wait_for("everything", || rx.accepted_sample_count() == 10);
    assert_eq!(rx.accepted()[0].timestamps(), first, "the same samples as the attempt before the restart");
    assert_eq!(rx.samples()["m{}"], expected(0, 10));
}

#[test]
fn a_full_batch_is_found_again_by_its_limit_even_with_a_new_batch_size() {
    // Commits of 2 samples and batches of 4: each batch is delimited by the
    // limit alone, so no in-flight record is written for it.
    let rx = Receiver::start();
    rx.script(&[Reply::Hang]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("limit", &rx).batch_size(4)).unwrap();
    write_steps(&db, &["a", "b"], 0, 5);
    wait_for("the hung request", || rx.all().len() == 1);
    let hung = rx.all()[0].timestamps();
    assert_eq!(hung.iter().map(|(_, ts)| ts.len()).sum::<usize>(), 4);
    db.close().unwrap();
    let db = Db::open(&path).unwrap();
    assert_eq!(db.kv_get("remote_write/in_flight/limit").unwrap(), None, "no record was needed");

    db.remote_write_add(config("limit", &rx).batch_size(100)).unwrap();
    wait_for("everything", || rx.accepted_sample_count() == 10);
    let first = rx.accepted()[0].timestamps();
    assert_eq!(first, hung, "the earlier run's batch, not one cut by the new batch size");
    assert_eq!(rx.accepted().len(), 2, "then the rest in one request of the new size");
    assert_eq!(rx.samples()["a{}"], expected(0, 5));
}

#[test]
fn closing_with_a_request_in_flight_does_not_hang_and_it_is_sent_again() {
    let rx = Receiver::start();
    rx.script(&[Reply::Hang]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("hung", &rx)).unwrap();
    db.append(&labels("m"), 1, 1.0).unwrap();
    wait_for("the request", || rx.all().len() == 1);
    let start = Instant::now();
    db.close().unwrap();
    assert!(start.elapsed() < Duration::from_secs(8), "close waited {:?}", start.elapsed());

    let db = Db::open(&path).unwrap();
    db.remote_write_add(config("hung", &rx)).unwrap();
    wait_for("the resend", || rx.accepted_sample_count() == 1);
}

#[test]
fn remove_stops_the_sender_and_frees_its_backlog() {
    let rx = Receiver::start();
    rx.set_default(Reply::Status(503));
    let db = Db::open_in_memory().unwrap();
    db.remote_write_add(config("gone", &rx)).unwrap();
    write_steps(&db, &["m"], 0, 3);
    wait_for("a failure", || stats(&db, "gone").requests_failed > 0);
    assert!(db.remote_write_remove("gone").unwrap());
    assert!(db.remote_write_stats().unwrap().is_empty());
    assert!(db.outbox_read("remote_write/gone", 10).is_err(), "the feed is gone");
    assert!(!db.remote_write_remove("gone").unwrap());
    let attempts = rx.all().len();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(rx.all().len(), attempts, "no more attempts after removal");
}

#[test]
fn lag_and_pending_grow_while_the_receiver_is_down() {
    let rx = Receiver::start();
    rx.set_default(Reply::Status(502));
    let db = Db::open_in_memory().unwrap();
    db.remote_write_add(config("lagging", &rx)).unwrap();
    write_steps(&db, &["a", "b"], 0, 4);
    wait_for("pending samples", || stats(&db, "lagging").pending_samples == 8);
    std::thread::sleep(Duration::from_millis(300));
    let s = stats(&db, "lagging");
    assert!(s.lag_seconds >= 0.25, "{s:?}");
    rx.set_default(Reply::Status(200));
    wait_for("recovery", || stats(&db, "lagging").pending_samples == 0);
    assert_eq!(stats(&db, "lagging").lag_seconds, 0.0);
}

#[test]
fn settings_are_checked_and_read_only_databases_cannot_send() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    Db::open(&path).unwrap().append(&labels("m"), 1, 1.0).unwrap();
    let e = Db::open_in_memory().unwrap().remote_write_add(RemoteWriteConfig::new("x", "localhost:9090")).unwrap_err();
    assert!(e.to_string().contains("must start with http"), "{e}");
    let ro = Db::open_with(&path, promlite::Options::default().read_only(true)).unwrap();
    let e = ro.remote_write_add(RemoteWriteConfig::new("x", "http://127.0.0.1:1/w")).unwrap_err();
    assert!(e.to_string().contains("read-only"), "{e}");
}

#[test]
fn backfill_sends_a_time_range_once_even_from_a_read_only_handle() {
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let db = Db::open(&path).unwrap();
    write_steps(&db, &[r#"a{job="x"}"#, r#"b{job="x"}"#, r#"c{job="y"}"#], 0, 100);
    db.close().unwrap();
    let ro = Db::open_with(&path, promlite::Options::default().read_only(true)).unwrap();
    let config = config("backfill", &rx).batch_size(50).keep_matching(r#"{job="x"}"#).external_label("source", "old");
    let report = ro.remote_write_backfill(&config, 10_000, 69_000).unwrap();
    assert_eq!((report.series, report.samples_sent, report.requests_sent, report.samples_dropped), (2, 120, 3, 0));
    let got = rx.samples();
    assert_eq!(got.keys().collect::<Vec<_>>(), [r#"a{job="x",source="old"}"#, r#"b{job="x",source="old"}"#]);
    assert_eq!(got[r#"a{job="x",source="old"}"#], expected(10, 60));
    assert!(ro.remote_write_backfill(&config, 5, 1).is_err());
}

#[test]
fn backfill_sends_native_histograms_too() {
    let rx = Receiver::start();
    let db = Db::open_in_memory().unwrap();
    let h = |n: i64| {
        promlite::FloatHistogram::parse_test_notation(&format!("{{{{schema:0 count:{n} sum:{n} buckets:[{n}]}}}}"))
            .unwrap()
    };
    let mut b = Batch::new();
    for t in 0..10 {
        b.add(&labels("m"), t * 1000, 1.0);
        b.add_histogram(&labels("m"), t * 1000 + 500, h(t));
    }
    db.write(&b).unwrap();
    let report = db.remote_write_backfill(&config("bf", &rx).batch_size(6), 2_000, 5_999).unwrap();
    assert_eq!((report.series, report.samples_sent, report.requests_sent), (1, 8, 2));
    let sent: Vec<(i64, f64)> = rx.histograms()["m{}"].iter().map(|(t, h)| (*t, h.count)).collect();
    assert_eq!(sent, [(2_500, 2.0), (3_500, 3.0), (4_500, 4.0), (5_500, 5.0)]);
}

#[test]
fn backfill_gives_up_on_an_unreachable_receiver_with_an_error() {
    let db = Db::open_in_memory().unwrap();
    db.append(&labels("m"), 1, 1.0).unwrap();
    // Port 1 on loopback: connection refused.
    let config = RemoteWriteConfig::new("nowhere", "http://127.0.0.1:1/api/v1/write")
        .backoff(Duration::from_millis(1), Duration::from_millis(2));
    let e = db.remote_write_backfill(&config, 0, 10).unwrap_err();
    assert!(e.to_string().contains("gave up after 10 attempts"), "{e}");
}
