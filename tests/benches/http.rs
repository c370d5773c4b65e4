//! HTTP benchmark: promlite's server against Debian's Prometheus 2.42, both
//! fed the same workload by the same remote-write client in the same run.
//!
//! ```sh
//! apt-get install prometheus   # once
//! cargo bench -p promlite-tests --features http --bench http
//! ```
//!
//! Prints ingest samples/s, bytes per sample on disk (promlite's file after
//! `Db::compact` vs a Prometheus TSDB snapshot, i.e. its blocks incl. the
//! head), and the median latency of typical dashboard queries as instant,
//! 1 h and 6 h range queries at step 60 s, each with the ratio
//! Prometheus / promlite (> 1 means promlite is ahead).
//! `PROMLITE_BENCH_SERIES` (default 1000) and `PROMLITE_BENCH_HOURS` (6) scale it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use promlite::http::prompb::{encode_write_request, Label, Sample, TimeSeries, WriteRequest};
use promlite::http::{ServerConfig, ServerHandle};
use promlite::Db;

const SCRAPE_MS: i64 = 15_000;
/// Samples per series in one request window (10 minutes of scrapes).
const WINDOW_POINTS: i64 = 40;
/// Series per remote-write request (`WINDOW_POINTS` × this = samples per request).
const SERIES_PER_REQUEST: usize = 50;
const SENDERS: usize = 4;
const QUERY_RUNS: usize = 5;

const QUERIES: [(&str, &str); 10] = [
    ("raw selector", r#"http_requests_total{job="job-1"}"#),
    ("rate", "rate(http_requests_total[5m])"),
    ("sum by (job) rate", "sum by (job) (rate(http_requests_total[5m]))"),
    ("histogram_quantile", "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("topk", "topk(5, rate(http_requests_total[5m]))"),
    ("avg_over_time 1h", "avg_over_time(process_resident_memory_bytes[1h])"),
    ("regex matcher", r#"http_requests_total{code=~"5..", job=~"job-[12]"}"#),
    ("group_left ratio", "rate(http_requests_total[5m]) / on (job, instance) group_left () process_resident_memory_bytes"),
    ("subquery", "max_over_time(rate(http_requests_total[5m])[1h:1m])"),
    ("count by", "count by (job) (up)"),
];

/// One series of the workload: labels and how its value moves.
struct SeriesSpec {
    labels: Vec<(String, String)>,
    counter: bool,
}

/// A dashboard-like mix: request counters, a classic histogram, gauges.
fn workload_series(target: usize) -> Vec<SeriesSpec> {
    let mut out = Vec::new();
    let codes = ["200", "404", "500", "503"];
    let les = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    let mut add = |name: &str, extra: &[(&str, &str)], job: usize, inst: usize, counter: bool| {
        let mut labels = vec![
            ("__name__".to_string(), name.to_string()),
            ("job".to_string(), format!("job-{job}")),
            ("instance".to_string(), format!("host-{inst}:9100")),
        ];
        labels.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        out.push(SeriesSpec { labels, counter });
    };
    // Per (job, instance): 4 counters + 12 histogram series + 2 gauges + up = 19 series.
    let targets = target.div_ceil(19).max(1);
    for t in 0..targets {
        let (job, inst) = (t % 5, t / 5);
        for code in codes {
            add("http_requests_total", &[("code", code)], job, inst, true);
        }
        for le in les {
            add(
                "http_request_duration_seconds_bucket",
                &[("le", le)],
                job,
                inst,
                true,
            );
        }
        add("http_request_duration_seconds_sum", &[], job, inst, true);
        add("http_request_duration_seconds_count", &[], job, inst, true);
        add("process_resident_memory_bytes", &[], job, inst, false);
        add("temperature_celsius", &[], job, inst, false);
        add("up", &[], job, inst, false);
    }
    out.truncate(target.max(19));
    out
}

/// Deterministic pseudo-random numbers (xorshift), the same for both servers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Encoded remote-write requests, grouped by time window (windows must be sent in order).
fn build_requests(series: &[SeriesSpec], start_ms: i64, points: i64) -> (Vec<Vec<Vec<u8>>>, usize) {
    let mut values: Vec<f64> = vec![0.0; series.len()];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut windows = Vec::new();
    let mut total = 0;
    let mut p0 = 0;
    while p0 < points {
        let p1 = (p0 + WINDOW_POINTS).min(points);
        let mut requests = Vec::new();
        for (chunk_i, chunk) in series.chunks(SERIES_PER_REQUEST).enumerate() {
            let mut req = WriteRequest {
                timeseries: Vec::with_capacity(chunk.len()),
                metadata: vec![],
            };
            for (j, spec) in chunk.iter().enumerate() {
                let idx = chunk_i * SERIES_PER_REQUEST + j;
                let mut samples = Vec::with_capacity((p1 - p0) as usize);
                for p in p0..p1 {
                    let v = &mut values[idx];
                    if spec.counter {
                        *v += (rng.next() * 10.0).floor();
                    } else if spec.labels[0].1 == "up" {
                        *v = 1.0;
                    } else {
                        *v = 1000.0 + (rng.next() * 100.0).floor();
                    }
                    samples.push(Sample {
                        value: *v,
                        timestamp: start_ms + p * SCRAPE_MS,
                    });
                }
                total += samples.len();
                let labels = spec
                    .labels
                    .iter()
                    .map(|(n, v)| Label {
                        name: n.clone(),
                        value: v.clone(),
                    })
                    .collect();
                req.timeseries.push(TimeSeries {
                    labels,
                    samples,
                    exemplars: vec![],
                    histograms: vec![],
                });
            }
            requests.push(encode_write_request(&req));
        }
        windows.push(requests);
        p0 = p1;
    }
    (windows, total)
}

/// Sends every window in order, the requests of a window from `SENDERS` threads.
fn ingest(base: &str, windows: &[Vec<Vec<u8>>]) -> Duration {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build();
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
fn time_query(
    agent: &ureq::Agent,
    base: &str,
    params: &[(&str, String)],
) -> Result<Duration, String> {
    let path = if params.iter().any(|(k, _)| *k == "step") {
        "query_range"
    } else {
        "query"
    };
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
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            dir_size(&entry.path())
        } else {
            meta.len()
        };
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
            .args([
                "--web.enable-remote-write-receiver",
                "--web.enable-admin-api",
                "--storage.tsdb.retention.time=30d",
            ])
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
        let body = ureq::post(&format!("{}/api/v1/admin/tsdb/snapshot", self.base))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
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

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let series_target = env_num("PROMLITE_BENCH_SERIES", 1000);
    let hours = env_num("PROMLITE_BENCH_HOURS", 6) as i64;
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let points = hours * 3_600_000 / SCRAPE_MS;
    let end_ms = now - now % 60_000;
    let start_ms = end_ms - (points - 1) * SCRAPE_MS;
    let series = workload_series(series_target);
    let (windows, samples) = build_requests(&series, start_ms, points);
    println!("workload: {} series x {points} samples ({hours} h at 15 s) = {samples} samples in {} requests", series.len(), windows.iter().map(Vec::len).sum::<usize>());

    let db = Arc::new(Db::open(dir.path().join("bench.db")).unwrap());
    let server = ServerHandle::spawn(
        db.clone(),
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let ours = format!("http://{}", server.local_addr());
    let prom = Prometheus::start(dir.path());

    let t_ours = ingest(&ours, &windows);
    let t_prom = ingest(&prom.base, &windows);
    let rate = |t: Duration| samples as f64 / t.as_secs_f64();
    println!("\n| ingest (remote write) | promlite | Prometheus 2.42 | ratio |\n|---|---|---|---|");
    println!(
        "| samples/s | {:.0} | {:.0} | {:.2} |",
        rate(t_ours),
        rate(t_prom),
        rate(t_ours) / rate(t_prom)
    );

    let before = db.size_bytes().unwrap();
    db.compact().unwrap();
    let ours_bytes = db.size_bytes().unwrap();
    let prom_bytes = prom.snapshot_bytes();
    let per = |b: u64| b as f64 / samples as f64;
    println!("\n| disk | promlite | Prometheus 2.42 | ratio |\n|---|---|---|---|");
    println!(
        "| bytes/sample | {:.2} (before compact: {:.2}) | {:.2} | {:.2} |",
        per(ours_bytes),
        per(before),
        per(prom_bytes),
        per(prom_bytes) / per(ours_bytes)
    );

    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(300))
        .build();
    let end_s = (end_ms / 1000).to_string();
    println!("\n| query | shape | promlite ms | Prometheus ms | ratio |\n|---|---|---|---|---|");
    for (name, q) in QUERIES {
        for (shape, range_s) in [
            ("instant", 0i64),
            ("range 1h", 3600),
            ("range 6h", 6 * 3600),
        ] {
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
