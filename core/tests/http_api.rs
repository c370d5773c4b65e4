//! The Prometheus query API over HTTP: envelopes, parameters (GET and
//! form-encoded POST), limits and errors with Prometheus's status codes.
#![cfg(feature = "http")]

mod http_common;

use std::time::Duration;

use http_common::{enc, Harness};
use promlite::http::ServerConfig;
use serde_json::json;

/// Two jobs with `up` and a counter, one sample every 15 s from t = 0 to 600 s.
fn seeded(config: ServerConfig) -> Harness {
    let h = Harness::with_config(config);
    let mut batch = promlite::Batch::new();
    for (job, instance) in [("api", "a:1"), ("api", "a:2"), ("db", "d:1")] {
        let up = promlite::Labels::parse(&format!("up{{job=\"{job}\",instance=\"{instance}\"}}")).unwrap();
        let reqs =
            promlite::Labels::parse(&format!("http_requests_total{{job=\"{job}\",instance=\"{instance}\"}}")).unwrap();
        for i in 0..=40 {
            batch.add(&up, i * 15_000, 1.0);
            batch.add(&reqs, i * 15_000, (i * 10) as f64);
        }
    }
    h.db.write(&batch).unwrap();
    h
}

#[test]
fn series_labels_and_values() {
    let h = seeded(ServerConfig::default());
    let series = h.get(&format!("/api/v1/series?match[]={}&start=0&end=600", enc("up{job=\"api\"}"))).data();
    assert_eq!(
        series,
        json!([{"__name__": "up", "instance": "a:1", "job": "api"}, {"__name__": "up", "instance": "a:2", "job": "api"}])
    );
    // Form-encoded POST with two match[] gives the union, deduplicated.
    let form = format!("match[]={}&match[]={}", enc("up{job=\"db\"}"), enc("{__name__=\"up\",instance=\"d:1\"}"));
    assert_eq!(h.post_form("/api/v1/series", &form).data().as_array().unwrap().len(), 1);

    assert_eq!(h.get("/api/v1/labels").data(), json!(["__name__", "instance", "job"]));
    assert_eq!(
        h.post_form("/api/v1/labels", &format!("match[]={}", enc("up"))).data(),
        json!(["__name__", "instance", "job"])
    );
    assert_eq!(h.get("/api/v1/label/job/values").data(), json!(["api", "db"]));
    assert_eq!(h.get("/api/v1/label/__name__/values").data(), json!(["http_requests_total", "up"]));
    assert_eq!(
        h.get(&format!("/api/v1/label/instance/values?match[]={}", enc("up{job=\"db\"}"))).data(),
        json!(["d:1"])
    );
    // Outside the stored time range nothing matches.
    assert_eq!(h.get("/api/v1/label/job/values?start=100000&end=200000").data(), json!([]));

    let limited = h.get("/api/v1/label/instance/values?limit=2").json();
    assert_eq!(limited["data"], json!(["a:1", "a:2"]));
    assert_eq!(limited["warnings"], json!(["results truncated due to limit"]));
    assert!(h.get("/api/v1/label/instance/values?limit=3").json().get("warnings").is_none());
}

#[test]
fn metadata_from_pushed_help_and_type() {
    let h = Harness::start();
    h.db.ingest_exposition("# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total 3\n# TYPE temp gauge\n# UNIT temp celsius\ntemp 21\n# EOF\n", 1000).unwrap();
    assert_eq!(
        h.get("/api/v1/metadata").data(),
        json!({"jobs_total": [{"type": "counter", "help": "Jobs run.", "unit": ""}], "temp": [{"type": "gauge", "help": "", "unit": "celsius"}]})
    );
    assert_eq!(h.get("/api/v1/metadata?metric=temp").data().as_object().unwrap().len(), 1);
    assert_eq!(h.get("/api/v1/metadata?limit=1").data().as_object().unwrap().len(), 1);
}

#[test]
fn bad_parameters_are_bad_data() {
    let h = seeded(ServerConfig::default());
    let cases = [
        ("/api/v1/series", "no match[] parameter provided"),
        (
            "/api/v1/series?match[]=up&start=yesterday",
            "invalid parameter \"start\": cannot parse \"yesterday\" to a valid timestamp",
        ),
        ("/api/v1/series?match[]=up&start=10&end=5", "end timestamp must not be before start time"),
        ("/api/v1/series?match[]=rate(up[5m])", "invalid parameter \"match[]\""),
        ("/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D", "at least one non-empty matcher"),
        ("/api/v1/labels?limit=-1", "limit must be non-negative"),
        ("/api/v1/labels?limit=lots", "invalid parameter \"limit\""),
        ("/api/v1/query_range?query=up&start=0&end=60", "invalid parameter \"step\""),
        ("/api/v1/query_range?query=up&start=0&end=60&step=0", "zero or negative query resolution step"),
        ("/api/v1/query_range?query=up&start=0&end=100000&step=1", "exceeded maximum resolution of 11,000 points"),
        ("/api/v1/query_range?query=up&end=60&step=15", "invalid parameter \"start\""),
        ("/api/v1/query_range?query=up&start=60&end=0&step=15", "end timestamp must not be before start time"),
        ("/api/v1/query?query=up&time=noon", "invalid parameter \"time\""),
        ("/api/v1/query?query=up&timeout=soon", "invalid parameter \"timeout\""),
        ("/api/v1/query?query=sum(", "parse error"),
        ("/api/v1/query_exemplars?query=up(", "parse error"),
        ("/api/v1/format_query?query=1%2B", "parse error"),
    ];
    for (path, message) in cases {
        let got = h.get(path).api_error(400, "bad_data");
        assert!(got.contains(message), "{path}: {got:?} lacks {message:?}");
    }
}

#[test]
fn grafana_probes_and_build_info() {
    let h = Harness::start();
    let info = h.get("/api/v1/status/buildinfo").data();
    assert_eq!(info["version"], "3.0.0");
    assert!(info["revision"].as_str().unwrap().starts_with("promlite "));
    assert_eq!(h.post_form("/api/v1/query_exemplars", "query=up&start=0&end=60").data(), json!([]));
    assert_eq!(h.get("/api/v1/rules").data(), json!({"groups": []}));
    assert_eq!(h.get("/api/v1/alerts").data(), json!({"alerts": []}));
    assert_eq!(h.get("/-/healthy").status, 200);
    assert_eq!(h.get("/-/ready").status, 200);
    assert_eq!(h.get("/api/v1/nonexistent").status, 404);
    let own = h.get("/metrics");
    assert!(own.header("Content-Type").unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(
        own.body.contains("promlite_http_requests_total{handler=\"/api/v1/rules\",code=\"200\"} 1"),
        "{}",
        own.body
    );
    assert!(own.body.contains("promlite_database_size_bytes "));
}

#[test]
fn format_query_prints_canonical_promql() {
    let h = Harness::start();
    let data =
        h.post_form("/api/v1/format_query", &format!("query={}", enc("sum(rate(x{a=\"b\"}[5m]))by(job)"))).data();
    assert_eq!(data, json!("sum by (job) (rate(x{a=\"b\"}[5m]))"));
}

#[test]
fn instant_and_range_queries() {
    let h = seeded(ServerConfig::default());
    let v = h.get(&format!("/api/v1/query?query={}&time=600", enc("sum by (job) (up)"))).data();
    assert_eq!(v["resultType"], "vector");
    let mut result = v["result"].as_array().unwrap().clone();
    result.sort_by_key(|s| s["metric"]["job"].as_str().unwrap().to_string());
    assert_eq!(
        result,
        [json!({"metric": {"job": "api"}, "value": [600, "2"]}), json!({"metric": {"job": "db"}, "value": [600, "1"]})]
    );
    let form = format!("query={}&start=300&end=600&step=150", enc("rate(http_requests_total{instance=\"d:1\"}[1m])"));
    let m = h.post_form("/api/v1/query_range", &form).data();
    assert_eq!(m["resultType"], "matrix");
    let values = &m["result"][0]["values"];
    assert_eq!(values.as_array().unwrap().len(), 3);
    assert_eq!(values[0][0], 300);
    assert!((values[0][1].as_str().unwrap().parse::<f64>().unwrap() - 10.0 / 15.0).abs() < 1e-9, "{values}");
    let scalar = h.get("/api/v1/query?query=1%2B1&time=1700000000.5").data();
    assert_eq!(scalar, json!({"resultType": "scalar", "result": [1700000000.5, "2"]}));
    // RFC 3339 time.
    let at = h.get(&format!("/api/v1/query?query=up{{instance=\"d:1\"}}&time={}", enc("1970-01-01T00:10:00Z"))).data();
    assert_eq!(at["result"][0]["value"], json!([600, "1"]));
    // limit truncates vectors with a warning.
    let limited = h.get("/api/v1/query?query=up&time=600&limit=1").json();
    assert_eq!(limited["data"]["result"].as_array().unwrap().len(), 1);
    assert_eq!(limited["warnings"], json!(["results truncated due to limit"]));
    // Execution errors are 422.
    let many = h.get(&format!("/api/v1/query?query={}&time=600", enc("up + on() up"))).api_error(422, "execution");
    assert!(many.contains("many"), "{many}");
}

#[test]
fn native_histogram_queries_answer_in_prometheus_shape() {
    let h = Harness::start();
    let hist = |text: &str| promlite::FloatHistogram::parse_test_notation(text).unwrap();
    let labels = promlite::Labels::parse(r#"rpc_seconds{job="api"}"#).unwrap();
    let mut batch = promlite::Batch::new();
    batch.add_histogram(&labels, 0, hist("{{schema:0 count:2 sum:3 z_bucket:1 z_bucket_w:0.5 buckets:[1]}}"));
    batch.add_histogram(
        &labels,
        60_000,
        hist("{{schema:0 count:8 sum:12 z_bucket:1 z_bucket_w:0.5 buckets:[4 3] n_buckets:[0 0]}}"),
    );
    h.db.write(&batch).unwrap();

    let v = h.get("/api/v1/query?query=rpc_seconds&time=60").data();
    assert_eq!(
        v,
        json!({"resultType": "vector", "result": [{
            "metric": {"__name__": "rpc_seconds", "job": "api"},
            "histogram": [60, {"count": "8", "sum": "12", "buckets": [
                [3, "-0.5", "0.5", "1"],
                [0, "0.5", "1", "4"],
                [0, "1", "2", "3"]
            ]}]
        }]})
    );
    let m =
        h.get(&format!("/api/v1/query_range?query={}&start=0&end=60&step=60", enc("rpc_seconds or vector(1)"))).data();
    assert_eq!(m["resultType"], "matrix");
    let series = m["result"].as_array().unwrap();
    let hist_series = series.iter().find(|s| s["metric"]["job"] == "api").unwrap();
    assert!(hist_series.get("values").is_none(), "{hist_series}");
    assert_eq!(
        hist_series["histograms"][0],
        json!([0, {"count": "2", "sum": "3", "buckets": [[3, "-0.5", "0.5", "1"], [0, "0.5", "1", "1"]]}])
    );
    assert_eq!(hist_series["histograms"][1][0], 60);
    let float_series = series.iter().find(|s| s["metric"].get("job").is_none()).unwrap();
    assert!(float_series.get("histograms").is_none(), "{float_series}");
    assert_eq!(float_series["values"], json!([[0, "1"], [60, "1"]]));
    // Functions over histograms return floats again.
    let q = h.get(&format!("/api/v1/query?query={}&time=60", enc("histogram_count(rpc_seconds)"))).data();
    assert_eq!(q["result"][0]["value"], json!([60, "8"]));
}

#[test]
fn query_limits_answer_422_and_503() {
    let h = seeded(ServerConfig { max_samples: 10, ..ServerConfig::default() });
    let msg = h
        .get(&format!("/api/v1/query?query={}&time=600", enc("count_over_time(http_requests_total[10m])")))
        .api_error(422, "execution");
    assert!(msg.contains("too many samples"), "{msg}");
    let h = seeded(ServerConfig { query_timeout: Duration::from_nanos(1), ..ServerConfig::default() });
    let msg = h
        .get(&format!(
            "/api/v1/query_range?query={}&start=0&end=600&step=1",
            enc("max_over_time(rate(http_requests_total[1m])[5m:1s])")
        ))
        .api_error(503, "timeout");
    assert!(msg.contains("timed out"), "{msg}");
}
