//! Pushgateway semantics over HTTP: PUT/POST/DELETE, grouping keys, stale
//! markers, push_time_seconds, and rejected bodies storing nothing.
#![cfg(feature = "http")]

mod http_common;

use http_common::Harness;

const TEXT: (&str, &str) = ("Content-Type", "text/plain; version=0.0.4");

fn push(h: &Harness, method: &str, path: &str, body: &str) -> u16 {
    let r = h.request(method, path, &[TEXT], body.as_bytes());
    assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.body);
    r.status
}

/// The last point of each series (other than push_time_seconds), "stale" for a stale marker.
fn latest(h: &Harness) -> Vec<String> {
    h.dump()
        .into_iter()
        .filter(|(l, _)| !l.starts_with("push_time_seconds"))
        .map(|(l, pts)| format!("{l} {}", pts.last().unwrap().1))
        .collect()
}

#[test]
fn put_post_delete_follow_pushgateway_semantics() {
    let h = Harness::start();
    let group = "/metrics/job/batch/instance/a";
    assert_eq!(push(&h, "PUT", group, "# TYPE jobs_done counter\njobs_done{kind=\"x\"} 1\njobs_done{kind=\"y\"} 2\n# TYPE last_ok gauge\nlast_ok 5\n"), 200);
    assert_eq!(
        latest(&h),
        [
            r#"jobs_done{instance="a", job="batch", kind="x"} 1"#,
            r#"jobs_done{instance="a", job="batch", kind="y"} 2"#,
            r#"last_ok{instance="a", job="batch"} 5"#,
        ]
    );

    // POST replaces only the families it pushes: kind="y" goes stale, last_ok stays.
    assert_eq!(push(&h, "POST", group, "jobs_done{kind=\"x\"} 3\n"), 200);
    assert_eq!(
        latest(&h),
        [
            r#"jobs_done{instance="a", job="batch", kind="x"} 3"#,
            r#"jobs_done{instance="a", job="batch", kind="y"} stale"#,
            r#"last_ok{instance="a", job="batch"} 5"#,
        ]
    );

    // PUT replaces the whole group: last_ok goes stale.
    assert_eq!(push(&h, "PUT", group, "jobs_done{kind=\"x\"} 4\n"), 200);
    assert!(latest(&h).contains(&r#"last_ok{instance="a", job="batch"} stale"#.to_string()));

    // Another group is untouched by pushes to this one.
    push(&h, "PUT", "/metrics/job/batch/instance/b", "last_ok 9\n");
    assert_eq!(push(&h, "DELETE", group, ""), 202);
    let after = latest(&h);
    assert!(after.contains(&r#"jobs_done{instance="a", job="batch", kind="x"} stale"#.to_string()), "{after:?}");
    assert!(after.contains(&r#"last_ok{instance="b", job="batch"} 9"#.to_string()), "{after:?}");

    // push_time_seconds: set by each PUT/POST (value = push time in s), stale after DELETE.
    let dump = h.dump();
    let pt = &dump.iter().find(|(l, _)| l == r#"push_time_seconds{instance="a", job="batch"}"#).unwrap().1;
    assert_eq!(pt.len(), 4, "three pushes and a delete: {pt:?}");
    let (t, v) = &pt[0];
    assert_eq!(v.parse::<f64>().unwrap(), *t as f64 / 1000.0);
    assert_eq!(pt.last().unwrap().1, "stale");
    let md = h.db.metadata(Some("jobs_done")).unwrap();
    assert_eq!(md[0].kind, "counter");
}

#[test]
fn grouping_labels_override_body_labels_and_base64_values_decode() {
    let h = Harness::start();
    push(&h, "PUT", "/metrics/job@base64/L3Zhci90bXA/path/a%20b", "m{job=\"ignored\",path=\"x\",other=\"k\"} 1 1000\n");
    let dump = h.dump();
    let m = dump.iter().find(|(l, _)| l.starts_with("m{")).unwrap();
    assert_eq!(m.0, r#"m{job="/var/tmp", other="k", path="a b"}"#);
    // An explicit timestamp is kept; no timestamp means the push time.
    assert_eq!(m.1, [(1000, "1".to_string())]);
}

#[test]
fn rejected_pushes_store_nothing() {
    let h = Harness::start();
    push(&h, "PUT", "/metrics/job/j", "ok 1\n");
    let before = h.dump();
    let cases: [(&str, &str, u16, &str); 5] = [
        ("/metrics/job/j", "good 1\nbad{x=\"1\" 2\n", 400, "line 2"),
        ("/metrics/job/j", "a 1\nb not_a_number\n", 400, "line 2: invalid value"),
        ("/metrics/job/j", "a{x=\"1\"} 1\na{x=\"1\"} 1\n", 400, "duplicate sample"),
        ("/metrics/job/j/instance", "a 1\n", 400, "without a value"),
        ("/metrics/nojob/j", "a 1\n", 400, "/metrics/job/"),
    ];
    for (path, body, status, message) in cases {
        for method in ["PUT", "POST"] {
            let r = h.request(method, path, &[TEXT], body.as_bytes());
            assert_eq!(r.status, status, "{method} {path} {body:?}: {}", r.body);
            assert!(r.body.contains(message), "{method} {path}: {:?} lacks {message:?}", r.body);
        }
    }
    let proto = h.request(
        "PUT",
        "/metrics/job/j",
        &[(
            "Content-Type",
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
        )],
        b"\x00",
    );
    assert_eq!(proto.status, 415);
    let not_utf8 = h.request("PUT", "/metrics/job/j", &[TEXT], b"a 1\n\xff\xfe 2\n");
    assert_eq!(not_utf8.status, 400);
    assert_eq!(h.dump(), before, "a rejected push changed the database");
    assert_eq!(h.db.kv_scan("push/").unwrap().len(), 1);
}
