//! The read side of scale-out over HTTP: `/federate` (text format, lookback,
//! stale markers, union of `match[]`), remote read (`/api/v1/read`, SAMPLES),
//! their auth, and the remote-write sender stats in `/metrics`.
#![cfg(feature = "http")]

mod http_common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_common::{enc, Harness};
use promlite::http::prompb::{self, LabelMatcher, Query, ReadRequest, ReadResponse};
use promlite::http::ServerConfig;
use promlite::{stale_nan, RemoteWriteConfig, STALE_NAN_BITS};
use prost::Message;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn federate_serves_the_newest_fresh_sample_of_matching_series() {
    let h = Harness::start();
    let now = now_ms();
    h.append(r#"up{job="api", instance="a:1"}"#, now - 20_000, 0.0);
    h.append(r#"up{job="api", instance="a:1"}"#, now - 5_000, 1.0);
    h.append(r#"up{job="api", instance="gone"}"#, now - 9_000, 1.0);
    h.db.append(&promlite::Labels::parse(r#"up{job="api", instance="gone"}"#).unwrap(), now - 4_000, stale_nan())
        .unwrap();
    h.append(r#"up{job="api", instance="old"}"#, now - 6 * 60_000, 1.0);
    h.append(r#"http_requests_total{job="api", code="200"}"#, now - 3_000, 42.5);
    h.append(r#"node_load1{job="node"}"#, now - 3_000, 0.25);

    let r = h.get(&format!("/federate?match[]={}&match[]={}", enc(r#"{job="api"}"#), enc("up")));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let want = format!(
        "# TYPE http_requests_total untyped\nhttp_requests_total{{code=\"200\",job=\"api\"}} 42.5 {}\n\
         # TYPE up untyped\nup{{instance=\"a:1\",job=\"api\"}} 1 {}\n",
        now - 3_000,
        now - 5_000
    );
    assert_eq!(r.body, want, "stale and out-of-lookback series are left out, each series once");

    let r = h.get("/federate");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("match[]"), "{}", r.body);
    assert_eq!(h.get(&format!("/federate?match[]={}", enc("up{"))).status, 400);
}

#[test]
fn federate_serves_native_histograms_only_in_the_protobuf_format() {
    let h = Harness::start();
    let now = now_ms();
    let hist = |text: &str| promlite::FloatHistogram::parse_test_notation(text).unwrap();
    let rpc = promlite::Labels::parse(r#"rpc_seconds{job="api"}"#).unwrap();
    let mut b = promlite::Batch::new();
    b.add(&rpc, now - 30_000, 7.0); // older than the histogram: not the newest sample
    b.add_histogram(&rpc, now - 10_000, hist("{{schema:0 count:3 sum:4 buckets:[1 2]}}"));
    b.add_histogram(
        &promlite::Labels::parse(r#"gone{job="api"}"#).unwrap(),
        now - 10_000,
        hist("{{count:1 buckets:[1]}}"),
    );
    b.add_histogram(
        &promlite::Labels::parse(r#"gone{job="api"}"#).unwrap(),
        now - 5_000,
        promlite::FloatHistogram { sum: stale_nan(), ..Default::default() },
    );
    b.add(&promlite::Labels::parse(r#"up{job="api"}"#).unwrap(), now - 2_000, 1.0);
    h.db.write(&b).unwrap();
    let path = format!("/federate?match[]={}", enc(r#"{job="api"}"#));

    let text = h.get(&path);
    assert_eq!(text.status, 200);
    assert_eq!(text.body, format!("# TYPE up untyped\nup{{job=\"api\"}} 1 {}\n", now - 2_000), "no histograms in text");

    let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.8,text/plain;version=0.0.4;q=0.4";
    let r = ureq::get(&format!("{}{path}", h.base)).set("Accept", accept).call().unwrap();
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
    );
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut bytes).unwrap();
    // Decode the delimited MetricFamily messages field by field.
    let mut rest = bytes.as_slice();
    let mut families = Vec::new();
    while !rest.is_empty() {
        let len = prost::encoding::decode_varint(&mut rest).unwrap() as usize;
        families.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    assert_eq!(families.len(), 2, "rpc_seconds (histogram) and up (untyped); the stale one is left out");
    let text_of = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    assert!(text_of(&families[0]).contains("rpc_seconds"));
    assert!(text_of(&families[1]).contains("up"));
    // MetricFamily.type (field 3, varint): HISTOGRAM = 4, UNTYPED = 3.
    assert!(families[0].windows(2).any(|w| w == [0x18, 4]), "{:?}", families[0]);
    assert!(families[1].windows(2).any(|w| w == [0x18, 3]), "{:?}", families[1]);
}

fn read_request(queries: Vec<Query>, accepted: Vec<i32>) -> Vec<u8> {
    let req = ReadRequest { queries, accepted_response_types: accepted };
    prompb::snappy_compress(&req.encode_to_vec())
}

fn query(start: i64, end: i64, matchers: &[(i32, &str, &str)]) -> Query {
    Query {
        start_timestamp_ms: start,
        end_timestamp_ms: end,
        matchers: matchers
            .iter()
            .map(|&(t, n, v)| LabelMatcher { r#type: t, name: n.into(), value: v.into() })
            .collect(),
        hints: None,
    }
}

const READ_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Read-Version", "0.1.0"),
];

fn post_read(h: &Harness, body: &[u8]) -> (u16, Vec<u8>) {
    let resp = match ureq::post(&format!("{}/api/v1/read", h.base))
        .set("Content-Type", READ_HEADERS[0].1)
        .set("Content-Encoding", READ_HEADERS[1].1)
        .set("X-Prometheus-Remote-Read-Version", READ_HEADERS[2].1)
        .send_bytes(body)
    {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    if status == 200 {
        assert_eq!(resp.header("content-encoding"), Some("snappy"));
        assert_eq!(resp.header("content-type"), Some("application/x-protobuf"));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    (status, bytes)
}

#[test]
fn remote_read_returns_raw_samples_per_query() {
    let h = Harness::start();
    for t in 0..10 {
        h.append(r#"cpu{job="api", mode="user"}"#, t * 1000, t as f64);
        h.append(r#"cpu{job="web", mode="user"}"#, t * 1000, -(t as f64));
    }
    h.db.append(&promlite::Labels::parse(r#"cpu{job="api", mode="user"}"#).unwrap(), 10_000, stale_nan()).unwrap();
    let body = read_request(
        vec![
            query(2_000, 10_000, &[(0, "__name__", "cpu"), (0, "job", "api")]),
            query(0, 1_000, &[(2, "job", "a.*|w.*"), (1, "mode", "system")]),
            query(0, 1_000, &[(0, "__name__", "nothing")]),
        ],
        vec![],
    );
    let (status, bytes) = post_read(&h, &body);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let raw = prompb::snappy_decompress(&bytes, 1 << 20).unwrap();
    let resp = ReadResponse::decode(raw.as_slice()).unwrap();
    assert_eq!(resp.results.len(), 3);
    let first = &resp.results[0].timeseries;
    assert_eq!(first.len(), 1);
    let labels: Vec<(&str, &str)> = first[0].labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect();
    assert_eq!(labels, [("__name__", "cpu"), ("job", "api"), ("mode", "user")]);
    let ts: Vec<i64> = first[0].samples.iter().map(|s| s.timestamp).collect();
    assert_eq!(ts, (2..=10).map(|t| t * 1000).collect::<Vec<_>>());
    assert_eq!(first[0].samples.last().unwrap().value.to_bits(), STALE_NAN_BITS, "stale markers are served");
    let second = &resp.results[1].timeseries;
    assert_eq!(second.len(), 2);
    assert!(second.iter().all(|s| s.samples.len() == 2));
    assert!(resp.results[2].timeseries.is_empty());
}

#[test]
fn remote_read_returns_native_histograms() {
    let h = Harness::with_config(ServerConfig { max_samples: 4, ..ServerConfig::default() });
    let hist = |text: &str| promlite::FloatHistogram::parse_test_notation(text).unwrap();
    let rpc = promlite::Labels::parse(r#"rpc_seconds{job="api"}"#).unwrap();
    let mut b = promlite::Batch::new();
    b.add(&rpc, 1_000, 5.0);
    b.add_histogram(&rpc, 2_000, hist("{{schema:2 count:4 sum:6 z_bucket:1 z_bucket_w:0.01 offset:-2 buckets:[1 0 2] counter_reset_hint:not_reset}}"));
    b.add_histogram(&rpc, 3_000, hist("{{schema:-53 count:1.5 sum:2 custom_values:[1 10] offset:1 buckets:[1.5]}}"));
    h.db.write(&b).unwrap();
    let (status, bytes) = post_read(&h, &read_request(vec![query(0, 5_000, &[(0, "job", "api")])], vec![0]));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let resp = ReadResponse::decode(prompb::snappy_decompress(&bytes, 1 << 20).unwrap().as_slice()).unwrap();
    let series = &resp.results[0].timeseries[0];
    assert_eq!(series.samples.len(), 1);
    let got: Vec<(i64, String)> =
        series.histograms.iter().map(|w| (w.timestamp, w.to_float_histogram().unwrap().to_string())).collect();
    assert_eq!(
        got,
        [
            (2_000, "{{schema:2 count:4 sum:6 z_bucket:1 z_bucket_w:0.01 counter_reset_hint:not_reset offset:-2 buckets:[1 0 2]}}".to_string()),
            (3_000, "{{schema:-53 count:1.5 sum:2 custom_values:[1 10] offset:1 buckets:[1.5]}}".to_string()),
        ]
    );
    assert!(matches!(series.histograms[0].count, Some(prompb::HistogramCount::CountInt(4))));
    // Histograms count towards the sample limit.
    for t in 4..=5 {
        let mut b = promlite::Batch::new();
        b.add_histogram(&rpc, t * 1000, hist("{{schema:0 count:1 buckets:[1]}}"));
        h.db.write(&b).unwrap();
    }
    let (status, bytes) = post_read(&h, &read_request(vec![query(0, 5_000, &[(0, "job", "api")])], vec![]));
    assert_eq!(status, 400, "5 samples over a limit of 4: {}", String::from_utf8_lossy(&bytes));
}

#[test]
fn remote_read_refuses_bad_requests_and_oversized_answers() {
    let h = Harness::with_config(ServerConfig { max_samples: 5, ..ServerConfig::default() });
    for t in 0..10 {
        h.append("m", t, 1.0);
    }
    let ok_query = || query(0, 100, &[(0, "__name__", "m")]);
    let cases: [(Vec<u8>, &str); 5] = [
        (b"not snappy".to_vec(), "snappy"),
        (prompb::snappy_compress(&[0xff, 0xff]), "invalid protobuf ReadRequest"),
        (read_request(vec![ok_query()], vec![prompb::RESPONSE_TYPE_STREAMED_XOR_CHUNKS]), "SAMPLES"),
        (read_request(vec![query(0, 1, &[(7, "a", "b")])], vec![]), "matcher type 7"),
        (read_request(vec![query(0, 1, &[(2, "a", "(")])], vec![]), "regular expression"),
    ];
    for (body, needle) in cases {
        let (status, bytes) = post_read(&h, &body);
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(status, 400, "{needle}: {text}");
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    let (status, bytes) = post_read(&h, &read_request(vec![ok_query()], vec![0, 1]));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&bytes).contains("limit of 5 samples"));
}

#[test]
fn federate_and_remote_read_need_a_read_token() {
    let h = Harness::with_config(ServerConfig {
        read_tokens: vec!["reader".into()],
        write_tokens: vec!["writer".into()],
        ..ServerConfig::default()
    });
    h.append("up", now_ms(), 1.0);
    let fed = format!("/federate?match[]={}", enc("up"));
    let body = read_request(vec![query(0, i64::MAX / 2, &[(0, "__name__", "up")])], vec![]);
    for (token, want) in [(None, 401), (Some("Bearer writer"), 403), (Some("Bearer reader"), 200)] {
        let auth: Vec<(&str, &str)> = token.map(|t| ("Authorization", t)).into_iter().collect();
        assert_eq!(h.request("GET", &fed, &auth, b"").status, want, "federate with {token:?}");
        let mut headers = READ_HEADERS.to_vec();
        headers.extend(auth);
        assert_eq!(h.request("POST", "/api/v1/read", &headers, &body).status, want, "read with {token:?}");
    }
}

#[test]
fn metrics_show_remote_write_senders() {
    let h = Harness::start();
    // Nothing listens on port 1: every attempt fails and is retried.
    let config = RemoteWriteConfig::new("backup", "http://127.0.0.1:1/api/v1/write")
        .flush_interval(Duration::from_millis(10))
        .backoff(Duration::from_millis(5), Duration::from_millis(20));
    h.db.remote_write_add(config).unwrap();
    h.append("m", 1, 1.0);
    let start = std::time::Instant::now();
    loop {
        let body = h.get("/metrics").body;
        let failed = body
            .lines()
            .find(|l| l.starts_with("promlite_remote_write_requests_failed_total{remote_name=\"backup\""))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if failed >= 2.0 {
            assert!(body.contains("promlite_remote_write_pending_samples{remote_name=\"backup\",url=\"http://127.0.0.1:1/api/v1/write\"} 1\n"), "{body}");
            assert!(
                body.contains(
                    "promlite_remote_write_running{remote_name=\"backup\",url=\"http://127.0.0.1:1/api/v1/write\"} 1\n"
                ),
                "{body}"
            );
            assert!(body.contains("# TYPE promlite_remote_write_retries_total counter"), "{body}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no failures reported: {body}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.db.remote_write_remove("backup").unwrap());
}
