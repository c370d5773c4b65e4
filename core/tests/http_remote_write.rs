//! The remote-write receiver over HTTP: samples, stale markers and metadata
//! stored in one commit; malformed and oversized requests refused with
//! nothing stored.
#![cfg(feature = "http")]

mod http_common;

use http_common::Harness;
use promlite::http::prompb::{
    encode_write_request, BucketSpan, Histogram, HistogramCount, HistogramZeroCount, Label, MetricMetadata, Sample,
    TimeSeries, WriteRequest,
};
use promlite::http::ServerConfig;

const HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels.iter().map(|(n, v)| Label { name: n.to_string(), value: v.to_string() }).collect(),
        samples: samples.iter().map(|&(timestamp, value)| Sample { value, timestamp }).collect(),
        exemplars: vec![],
        histograms: vec![],
    }
}

fn write(h: &Harness, req: &WriteRequest) -> http_common::Response {
    h.request("POST", "/api/v1/write", &HEADERS, &encode_write_request(req))
}

#[test]
fn stores_samples_stale_markers_and_metadata() {
    let h = Harness::start();
    let req = WriteRequest {
        timeseries: vec![
            series(
                &[("__name__", "up"), ("job", "prometheus"), ("instance", "localhost:9090")],
                &[(1000, 1.0), (16000, 1.0)],
            ),
            series(
                &[("__name__", "scrape_duration_seconds"), ("job", "prometheus")],
                &[(1000, 0.25), (16000, promlite::stale_nan())],
            ),
        ],
        metadata: vec![MetricMetadata {
            r#type: 2,
            metric_family_name: "up".into(),
            help: "Target is up.".into(),
            unit: String::new(),
        }],
    };
    let r = write(&h, &req);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        h.dump(),
        [
            (
                r#"scrape_duration_seconds{job="prometheus"}"#.to_string(),
                vec![(1000, "0.25".to_string()), (16000, "stale".to_string())]
            ),
            (
                r#"up{instance="localhost:9090", job="prometheus"}"#.to_string(),
                vec![(1000, "1".to_string()), (16000, "1".to_string())]
            ),
        ]
    );
    let md = h.get("/api/v1/metadata").data();
    assert_eq!(md["up"][0]["type"], "gauge");
    assert_eq!(md["up"][0]["help"], "Target is up.");
    let own = h.get("/metrics").body;
    assert!(own.contains("promlite_samples_ingested_total{source=\"remote_write\"} 4"), "{own}");
}

#[test]
fn malformed_and_oversized_requests_store_nothing() {
    let h =
        Harness::with_config(ServerConfig { max_body_bytes: 4096, max_decoded_bytes: 8192, ..ServerConfig::default() });
    let no_name = WriteRequest { timeseries: vec![series(&[("job", "x")], &[(1, 1.0)])], metadata: vec![] };
    // One good series next to a bad one: the whole request is refused.
    let half_bad = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "good")], &[(1, 1.0)]),
            series(&[("__name__", "bad"), ("a", "1"), ("a", "2")], &[(1, 1.0)]),
        ],
        metadata: vec![],
    };
    let unsnappy = h.request("POST", "/api/v1/write", &HEADERS, b"this is not snappy");
    assert_eq!(unsnappy.status, 400, "{}", unsnappy.body);
    assert!(unsnappy.body.contains("snappy"));
    let not_proto = h.request(
        "POST",
        "/api/v1/write",
        &HEADERS,
        &snap::raw::Encoder::new().compress_vec(b"\xff\xff\xff\xff").unwrap(),
    );
    assert_eq!(not_proto.status, 400);
    assert!(not_proto.body.contains("protobuf"), "{}", not_proto.body);
    assert_eq!(write(&h, &no_name).status, 400);
    let r = write(&h, &half_bad);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("\"a\" twice"), "{}", r.body);

    // The body limit applies to the compressed body, the decoded limit after snappy.
    let big_body: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
    assert_eq!(h.request("POST", "/api/v1/write", &HEADERS, &big_body).status, 413);
    let many = WriteRequest { timeseries: vec![series(&[("__name__", "m")], &vec![(1, 1.0); 2000])], metadata: vec![] };
    let encoded = encode_write_request(&many);
    assert!(encoded.len() < 4096, "compresses well: {}", encoded.len());
    let r = h.request("POST", "/api/v1/write", &HEADERS, &encoded);
    assert_eq!(r.status, 413, "{}", r.body);

    assert!(h.dump().is_empty(), "a rejected request stored data: {:?}", h.dump());
}

/// An integer native histogram as Prometheus sends what it scraped.
fn integer_histogram(t: i64, count: u64, deltas: &[i64]) -> Histogram {
    Histogram {
        count: Some(HistogramCount::CountInt(count)),
        sum: count as f64 * 1.5,
        schema: 0,
        zero_threshold: 1e-128,
        zero_count: Some(HistogramZeroCount::ZeroCountInt(0)),
        positive_spans: vec![BucketSpan { offset: 0, length: deltas.len() as u32 }],
        positive_deltas: deltas.to_vec(),
        timestamp: t,
        ..Default::default()
    }
}

#[test]
fn stores_native_histograms_and_queries_return_them() {
    let h = Harness::start();
    let mut ts = series(&[("__name__", "rpc_seconds"), ("job", "api")], &[]);
    ts.histograms = vec![integer_histogram(10_000, 3, &[1, 1]), integer_histogram(20_000, 6, &[2, 2])];
    let mut nhcb = series(&[("__name__", "size_bytes")], &[(5_000, 1.0)]);
    nhcb.histograms = vec![Histogram {
        count: Some(HistogramCount::CountFloat(2.5)),
        sum: 40.0,
        schema: -53,
        positive_spans: vec![BucketSpan { offset: 0, length: 2 }],
        positive_counts: vec![0.5, 2.0],
        custom_values: vec![10.0, 100.0],
        reset_hint: 3,
        timestamp: 20_000,
        ..Default::default()
    }];
    let r = write(&h, &WriteRequest { timeseries: vec![ts, nhcb], metadata: vec![] });
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        h.dump(),
        [
            (
                r#"rpc_seconds{job="api"}"#.to_string(),
                vec![
                    (
                        10_000,
                        "{{schema:0 count:3 sum:4.5 z_bucket_w:1e-128 buckets:[1 2]}}".to_string()
                    ),
                    (
                        20_000,
                        "{{schema:0 count:6 sum:9 z_bucket_w:1e-128 buckets:[2 4]}}".to_string()
                    ),
                ]
            ),
            (
                "size_bytes".to_string(),
                vec![
                    (5_000, "1".to_string()),
                    (
                        20_000,
                        "{{schema:-53 count:2.5 sum:40 custom_values:[10 100] counter_reset_hint:gauge buckets:[0.5 2]}}"
                            .to_string()
                    ),
                ]
            ),
        ]
    );
    let own = h.get("/metrics").body;
    assert!(own.contains("promlite_samples_ingested_total{source=\"remote_write\"} 4"), "{own}");
    // The stored histograms answer PromQL in Prometheus's JSON shape.
    let data = h.get("/api/v1/query?query=rpc_seconds&time=20").data();
    assert_eq!(
        data["result"][0]["histogram"],
        serde_json::json!([20, {"count": "6", "sum": "9", "buckets": [[0, "0.5", "1", "2"], [0, "1", "2", "4"]]}])
    );
}

#[test]
fn malformed_native_histograms_store_nothing() {
    let h = Harness::start();
    let cases: Vec<(Histogram, &str)> = vec![
        (integer_histogram(1_000, 3, &[1, -2]), "positive bucket 1 has the negative count -1"),
        (
            Histogram {
                positive_spans: vec![BucketSpan { offset: 0, length: 3 }],
                ..integer_histogram(1_000, 3, &[1, 1])
            },
            "the spans hold 3 buckets, but 2 bucket counts are given",
        ),
        (
            Histogram { schema: -53, custom_values: vec![5.0, 1.0], ..integer_histogram(1_000, 3, &[1, 1]) },
            "custom buckets: bounds must increase strictly",
        ),
        (Histogram { schema: 60, ..integer_histogram(1_000, 3, &[1, 1]) }, "schema 60 is not supported"),
        (Histogram { reset_hint: 9, ..integer_histogram(1_000, 3, &[1, 1]) }, "unknown reset hint 9"),
    ];
    for (bad, reason) in cases {
        // A good float series and a good histogram next to the bad one: all refused.
        let mut ts = series(&[("__name__", "h")], &[(500, 1.0)]);
        ts.histograms = vec![integer_histogram(900, 2, &[2]), bad];
        let r = write(
            &h,
            &WriteRequest { timeseries: vec![series(&[("__name__", "good")], &[(1, 1.0)]), ts], metadata: vec![] },
        );
        assert_eq!(r.status, 400, "{reason}: {}", r.body);
        assert!(
            r.body.contains("series h, sample at 1000: invalid native histogram: ") && r.body.contains(reason),
            "{}",
            r.body
        );
    }
    assert!(h.dump().is_empty(), "a rejected request stored data: {:?}", h.dump());
}
