//! HTTP benchmark: promlite's server against Debian's Prometheus 2.42, both
//! fed the same workload by the same remote-write client in the same run.
//!
//! ```sh
//! apt-get install prometheus   # once
//! cargo bench -p promlite-tests --features http --bench http
//! ```
//!
//! Prints ingest samples/s, bytes per sample on disk (promlite's file after
//! `Db::flush`, which moves buffered samples into chunks and checkpoints the
//! WAL, vs a Prometheus TSDB snapshot, i.e. its blocks incl. the head), and the median latency of typical dashboard queries as instant,
//! 1 h and 6 h range queries at step 60 s, each with the ratio
//! Prometheus / promlite (> 1 means promlite is ahead).
//! The workload is `tests/src/workload.rs`; `PROMLITE_BENCH_SERIES` (default
//! 1000) and `PROMLITE_BENCH_HOURS` (6) scale it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use promlite::http::prompb::{encode_write_request, Label, Sample, TimeSeries, WriteRequest};
use promlite::http::{ServerConfig, ServerHandle};
use promlite::Db;
use promlite_tests::workload::Workload;

/// Samples per series in one request window (10 minutes of scrapes).
const WINDOW_POINTS: usize = 40;
/// Series per remote-write request (`WINDOW_POINTS` × this = samples per request).
const SERIES_PER_REQUEST: usize = 50;
const SENDERS: usize = 4;
const QUERY_RUNS: usize = 15;

const QUERIES: [(&str, &str); 10] = [
    ("raw selector", r#"http_requests_total{job="api"}"#),
    ("rate", "rate(http_requests_total[5m])"),
    ("sum by (job) rate", "sum by (job) (rate(http_requests_total[5m]))"),
    ("histogram_quantile", "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("topk", "topk(5, rate(http_requests_total[5m]))"),
    ("avg_over_time 1h", "avg_over_time(process_resident_memory_bytes[1h])"),
    ("regex matcher", r#"http_requests_total{code=~"5..", job=~"api|web"}"#),
    (
        "group_left ratio",
        "rate(http_requests_total[5m]) / on (job, instance) group_left () process_resident_memory_bytes",
    ),
    ("subquery", "max_over_time(rate(http_requests_total[5m])[1h:1m])"),
    ("count by", "count by (job) (process_resident_memory_bytes)"),
];

/// Encoded remote-write requests grouped by time window (windows must be sent
/// in order: Prometheus only appends to its head in time order).
fn build_requests(w: &Workload) -> Vec<Vec<Vec<u8>>> {
    let labels: Vec<Vec<Label>> = w
        .series_labels()
        .iter()
        .map(|l| l.iter().map(|l| Label { name: l.name.to_string(), value: l.value.to_string() }).collect())
        .collect();
    let mut windows = Vec::new();
    let mut rounds = w.rounds().peekable();
    while rounds.peek().is_some() {
        let mut per_series: Vec<Vec<Sample>> = vec![Vec::new(); labels.len()];
        for round in rounds.by_ref().take(WINDOW_POINTS) {
            for (i, p) in round {
                per_series[i].push(Sample { value: p.v, timestamp: p.t });
            }
        }
        let requests = per_series
            .chunks(SERIES_PER_REQUEST)
            .zip(labels.chunks(SERIES_PER_REQUEST))
            .map(|(samples, labels)| {
                let timeseries = samples
                    .iter()
                    .zip(labels)
                    .map(|(s, l)| TimeSeries {
                        labels: l.clone(),
                        samples: s.clone(),
                        exemplars: vec![],
                        histograms: vec![],
                    })
                    .collect();
                encode_write_request(&WriteRequest { timeseries, metadata: vec![] })
            })
            .collect();
        windows.push(requests);
    }
    windows
}

/// Sends every window in order, the requests of a window from `SENDERS` threads.
fn ingest(base: &str, windows: &[Vec<Vec<u8>>]) -> Duration {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(120)).build();
    let url = format!("{base}/api/v1/write");
    let start = Instant::now();
    for requests in windows {
        std::thread::scope(|s| {
            for part in requests.chunks(requests.len().div_ceil(SENDERS)) {
                let (agent, url) = (agent.clone(), url.clone());
                s.spawn(move || {
                    for body in part {
                        let r = agent
                            .post(&url)
                            .set("Content-Encoding", "snappy")
                            .set("Content-Type", "application/x-protobuf")
                            .set("X-Prometheus-Remote-Write-Version", "0.1.0")
                            .send_bytes(body);
                        if let Err(e) = r {
                            panic!("remote write to {url} failed: {e}");
                        }
                    }
                });
            }
        });
    }
    start.elapsed()
}

/// Median latency of a query, or the error it returned.
fn time_query(agent: &ureq::Agent, base: &str, params: &[(&str, String)]) -> Result<Duration, String> {
    let path = if params.iter().any(|(k, _)| *k == "step") { "query_range" } else { "query" };
    let mut times = Vec::new();
    for _ in 0..QUERY_RUNS {
        let mut req = agent.get(&format!("{base}/api/v1/{path}"));
        for (k, v) in params {
            req = req.query(k, v);
        }
        let start = Instant::now();
        let body = match req.call() {
            Ok(r) => r.into_string().map_err(|e| e.to_string())?,
            Err(ureq::Error::Status(code, r)) => {
                return Err(format!("{code}: {}", r.into_string().unwrap_or_default()))
            }
            Err(e) => return Err(e.to_string()),
        };
        times.push(start.elapsed());
        let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        if json["status"] != "success" {
            return Err(body);
        }
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() { dir_size(&entry.path()) } else { meta.len() };
    }
    total
}

struct Prometheus {
    child: Child,
    base: String,
    data: std::path::PathBuf,
}

impl Prometheus {
    fn start(dir: &Path) -> Prometheus {
        let port = free_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1h\n").unwrap();
        let data = dir.join("prometheus-data");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(["--web.enable-remote-write-receiver", "--web.enable-admin-api", "--storage.tsdb.retention.time=30d"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus not found: apt-get install prometheus");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{base}/-/ready")).call().is_err() {
            assert!(Instant::now() < deadline, "Prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        Prometheus { child, base, data }
    }

    /// Bytes of a TSDB snapshot (head included), i.e. what its blocks take.
    fn snapshot_bytes(&self) -> u64 {
        let body =
            ureq::post(&format!("{}/api/v1/admin/tsdb/snapshot", self.base)).call().unwrap().into_string().unwrap();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let name = json["data"]["name"].as_str().unwrap();
        dir_size(&self.data.join("snapshots").join(name))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let w = Workload::from_env(1000, 6.0);
    let dir = tempfile::tempdir().unwrap();
    let windows = build_requests(&w);
    let samples = w.sample_count();
    let end_ms = w.end_ms();
    println!(
        "workload: {} series x {} scrapes = {samples} samples in {} requests",
        w.series_count(),
        w.scrapes,
        windows.iter().map(Vec::len).sum::<usize>()
    );

    let db = Arc::new(Db::open(dir.path().join("bench.db")).unwrap());
    let server = ServerHandle::spawn(
        db.clone(),
        ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() },
    )
    .unwrap();
    let ours = format!("http://{}", server.local_addr());
    let prom = Prometheus::start(dir.path());

    let t_ours = ingest(&ours, &windows);
    let t_prom = ingest(&prom.base, &windows);
    let rate = |t: Duration| samples as f64 / t.as_secs_f64();
    println!("\n| ingest (remote write) | promlite | Prometheus 2.42 | ratio |\n|---|---|---|---|");
    println!("| samples/s | {:.0} | {:.0} | {:.2} |", rate(t_ours), rate(t_prom), rate(t_ours) / rate(t_prom));

    let before = db.size_bytes().unwrap();
    db.flush().unwrap();
    let ours_bytes = db.size_bytes().unwrap();
    let prom_bytes = prom.snapshot_bytes();
    let per = |b: u64| b as f64 / samples as f64;
    println!("\n| disk | promlite | Prometheus 2.42 | ratio |\n|---|---|---|---|");
    println!(
        "| bytes/sample | {:.2} (before flush: {:.2}) | {:.2} | {:.2} |",
        per(ours_bytes),
        per(before),
        per(prom_bytes),
        per(prom_bytes) / per(ours_bytes)
    );

    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(300)).build();
    let end_s = (end_ms / 1000).to_string();
    println!("\n| query | shape | promlite ms | Prometheus ms | ratio |\n|---|---|---|---|---|");
    for (name, q) in QUERIES {
        for (shape, range_s) in [("instant", 0i64), ("range 1h", 3600), ("range 6h", 6 * 3600)] {
            let mut params = vec![("query", q.to_string())];
            if range_s == 0 {
                params.push(("time", end_s.clone()));
            } else {
                params.push(("start", (end_ms / 1000 - range_s).to_string()));
                params.push(("end", end_s.clone()));
                params.push(("step", "60".to_string()));
            }
            let a = time_query(&agent, &ours, &params);
            let b = time_query(&agent, &prom.base, &params);
            let ms = |r: &Result<Duration, String>| match r {
                Ok(d) => format!("{:.2}", d.as_secs_f64() * 1000.0),
                Err(e) => format!("error: {}", e.chars().take(80).collect::<String>()),
            };
            let ratio = match (&a, &b) {
                (Ok(a), Ok(b)) => format!("{:.2}", b.as_secs_f64() / a.as_secs_f64()),
                _ => "-".into(),
            };
            println!("| {name} | {shape} | {} | {} | {ratio} |", ms(&a), ms(&b));
        }
    }
    drop(prom);
    server.shutdown().unwrap();
}
