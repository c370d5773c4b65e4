//! Remote-write sender benchmark, all in one run against the same in-process
//! receiver (a minimal HTTP/1.1 server answering 204, so the figures are the
//! sender's, not a receiver's):
//!
//! - ingest with no sender vs with only the change feed subscribed vs with a
//!   live sender (what the durable queue, and the sender thread next to the
//!   writer, cost writes);
//! - draining a queued backlog through the durable sender (read, encode,
//!   POST, in-flight record, acknowledgement) vs posting the same samples as
//!   pre-encoded requests in a plain loop (the ceiling of this receiver and client).
//!
//! Run: `cargo bench -p promlite-tests --bench remote_write`
//! Size: `PROMLITE_BENCH_SERIES` (default 1000), `PROMLITE_BENCH_HOURS` (default 2).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use promlite::prompb::{self, WriteRequest};
use promlite::{Batch, Db, Labels, Point, RemoteWriteConfig};
use promlite_tests::workload::Workload;

const BATCH: usize = 2000;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // Run as a test (`cargo test --benches`): a tiny workload, to prove the
        // benchmark still works; the numbers mean nothing at this size.
        std::env::set_var("PROMLITE_BENCH_SERIES", "50");
        std::env::set_var("PROMLITE_BENCH_HOURS", "0.1");
    }
    let w = Workload::from_env(1000, 2.0);
    let samples = w.sample_count() as f64;
    println!(
        "workload: {} series x {} scrapes = {} samples, one commit per scrape; requests of {BATCH} samples",
        w.series_count(),
        w.scrapes,
        w.sample_count()
    );
    let rx = Receiver::start();
    let dir = tempfile::tempdir().unwrap();

    let plain = ingest(&Db::open(dir.path().join("plain.db")).unwrap(), &w);
    // The change feed alone (every commit also kept for a consumer), no sender thread.
    let fed = Db::open(dir.path().join("feed.db")).unwrap();
    fed.outbox_subscribe("idle").unwrap();
    let feed_only = ingest(&fed, &w);
    drop(fed);
    let db = Db::open(dir.path().join("live.db")).unwrap();
    db.remote_write_add(config(&rx.url)).unwrap();
    let live = ingest(&db, &w);
    wait_drained(&db);
    drop(db);

    rx.open.store(false, Ordering::SeqCst);
    let db = Db::open(dir.path().join("backlog.db")).unwrap();
    db.remote_write_add(config(&rx.url)).unwrap();
    ingest(&db, &w);
    let start = Instant::now();
    rx.open.store(true, Ordering::SeqCst);
    wait_drained(&db);
    let drain = start.elapsed();
    let sent = db.remote_write_stats().unwrap()[0].samples_sent as f64;
    assert_eq!(sent, samples, "every sample delivered once");
    drop(db);

    let ceiling = post_loop(&rx.url, &w);

    println!("\n{:<44} {:>14} {:>14} {:>9}", "measure", "promlite", "baseline", "ratio");
    let rows = [
        (
            "ingest samples/s, change feed only vs none",
            samples / feed_only.as_secs_f64(),
            samples / plain.as_secs_f64(),
        ),
        ("ingest samples/s, live sender vs none", samples / live.as_secs_f64(), samples / plain.as_secs_f64()),
        (
            "send samples/s, durable drain vs plain POSTs",
            samples / drain.as_secs_f64(),
            samples / ceiling.as_secs_f64(),
        ),
    ];
    for (label, a, b) in rows {
        println!("{label:<44} {a:>14.0} {b:>14.0} {:>8.3}x (higher is better)", a / b);
    }
}

fn config(url: &str) -> RemoteWriteConfig {
    RemoteWriteConfig::new("bench", url)
        .batch_size(BATCH)
        .flush_interval(Duration::from_millis(50))
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
}

/// Writes the workload, one commit per scrape round; returns the time it took.
fn ingest(db: &Db, w: &Workload) -> Duration {
    let labels = w.series_labels();
    let start = Instant::now();
    for round in w.rounds() {
        let mut batch = Batch::new();
        for (i, p) in &round {
            batch.add(&labels[*i], p.t, p.v);
        }
        db.write(&batch).unwrap();
    }
    start.elapsed()
}

fn wait_drained(db: &Db) {
    let start = Instant::now();
    while db.remote_write_stats().unwrap()[0].pending_samples > 0 {
        assert!(start.elapsed() < Duration::from_secs(600), "the sender did not drain");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Posts the workload as pre-encoded requests of `BATCH` samples, one after
/// the other (a sender without a queue); returns the time the posting took.
fn post_loop(url: &str, w: &Workload) -> Duration {
    let labels = w.series_labels();
    let mut series: Vec<Vec<Point>> = vec![Vec::new(); labels.len()];
    for round in w.rounds() {
        for (i, p) in round {
            series[i].push(p);
        }
    }
    let mut bodies = Vec::new();
    let mut request = WriteRequest::default();
    let mut in_request = 0;
    for (l, points) in labels.iter().zip(&series) {
        for chunk in points.chunks(BATCH) {
            if in_request + chunk.len() > BATCH {
                bodies.push(prompb::encode_write_request(&std::mem::take(&mut request)));
                in_request = 0;
            }
            request.timeseries.push(time_series(l, chunk));
            in_request += chunk.len();
        }
    }
    bodies.push(prompb::encode_write_request(&request));
    let agent = ureq::AgentBuilder::new().build();
    let start = Instant::now();
    for body in &bodies {
        agent
            .post(url)
            .set("Content-Type", "application/x-protobuf")
            .set("Content-Encoding", "snappy")
            .set("X-Prometheus-Remote-Write-Version", "0.1.0")
            .send_bytes(body)
            .unwrap();
    }
    start.elapsed()
}

fn time_series(labels: &Labels, points: &[Point]) -> prompb::TimeSeries {
    prompb::TimeSeries {
        labels: labels.iter().map(prompb::Label::from).collect(),
        samples: points.iter().map(|p| prompb::Sample { value: p.v, timestamp: p.t }).collect(),
        exemplars: Vec::new(),
        histograms: Vec::new(),
    }
}

/// A receiver that reads each request and answers 204 (503 while `open` is false).
struct Receiver {
    url: String,
    open: Arc<AtomicBool>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
        let open = Arc::new(AtomicBool::new(true));
        let flag = open.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let flag = flag.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut conn = conn;
                    loop {
                        let mut len = 0usize;
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let l = line.trim_end().to_ascii_lowercase();
                            if l.is_empty() {
                                break;
                            }
                            if let Some(v) = l.strip_prefix("content-length:") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0; len];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let answer: &[u8] = if flag.load(Ordering::SeqCst) {
                            b"HTTP/1.1 204 No Content\r\n\r\n"
                        } else {
                            b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n"
                        };
                        if conn.write_all(answer).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver { url, open }
    }
}
