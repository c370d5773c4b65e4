//! The remote-write receiver over HTTP: samples, stale markers and metadata
//! stored in one commit; malformed and oversized requests refused with
//! nothing stored.
#![cfg(feature = "http")]

mod http_common;

use http_common::Harness;
use promlite::http::prompb::{
    encode_write_request, Label, MetricMetadata, Sample, TimeSeries, WriteRequest,
};
use promlite::http::ServerConfig;

const HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| Label {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        exemplars: vec![],
        histograms: vec![],
    }
}

fn write(h: &Harness, req: &WriteRequest) -> http_common::Response {
    h.request(
        "POST",
        "/api/v1/write",
        &HEADERS,
        &encode_write_request(req),
    )
}

#[test]
fn stores_samples_stale_markers_and_metadata() {
    let h = Harness::start();
    let req = WriteRequest {
        timeseries: vec![
            series(
                &[
                    ("__name__", "up"),
                    ("job", "prometheus"),
                    ("instance", "localhost:9090"),
                ],
                &[(1000, 1.0), (16000, 1.0)],
            ),
            series(
                &[
                    ("__name__", "scrape_duration_seconds"),
                    ("job", "prometheus"),
                ],
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
    assert!(
        own.contains("promlite_samples_ingested_total{source=\"remote_write\"} 4"),
        "{own}"
    );
}

#[test]
fn malformed_and_oversized_requests_store_nothing() {
    let h = Harness::with_config(ServerConfig {
        max_body_bytes: 4096,
        max_decoded_bytes: 8192,
        ..ServerConfig::default()
    });
    let no_name = WriteRequest {
        timeseries: vec![series(&[("job", "x")], &[(1, 1.0)])],
        metadata: vec![],
    };
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
        &snap::raw::Encoder::new()
            .compress_vec(b"\xff\xff\xff\xff")
            .unwrap(),
    );
    assert_eq!(not_proto.status, 400);
    assert!(not_proto.body.contains("protobuf"), "{}", not_proto.body);
    assert_eq!(write(&h, &no_name).status, 400);
    let r = write(&h, &half_bad);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("\"a\" twice"), "{}", r.body);

    // The body limit applies to the compressed body, the decoded limit after snappy.
    let big_body: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
    assert_eq!(
        h.request("POST", "/api/v1/write", &HEADERS, &big_body)
            .status,
        413
    );
    let many = WriteRequest {
        timeseries: vec![series(&[("__name__", "m")], &vec![(1, 1.0); 2000])],
        metadata: vec![],
    };
    let encoded = encode_write_request(&many);
    assert!(encoded.len() < 4096, "compresses well: {}", encoded.len());
    let r = h.request("POST", "/api/v1/write", &HEADERS, &encoded);
    assert_eq!(r.status, 413, "{}", r.body);

    assert!(
        h.dump().is_empty(),
        "a rejected request stored data: {:?}",
        h.dump()
    );
}
