//! The auth matrix: no token / wrong token / read token / write token against
//! read and write endpoints, via Bearer and Basic auth; rejected writes store nothing.
#![cfg(feature = "http")]

mod http_common;

use base64::Engine;
use http_common::Harness;
use promlite::http::prompb::{encode_write_request, Label, Sample, TimeSeries, WriteRequest};
use promlite::http::ServerConfig;

fn basic(password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("metrics:{password}")))
}

#[test]
fn auth_matrix() {
    let h = Harness::with_config(ServerConfig {
        read_tokens: vec!["read-secret".into()],
        write_tokens: vec!["write-secret".into(), "second-writer".into()],
        ..ServerConfig::default()
    });
    let rw = encode_write_request(&WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![Label { name: "__name__".into(), value: "rw".into() }],
            samples: vec![Sample { value: 1.0, timestamp: 1000 }],
            exemplars: vec![],
            histograms: vec![],
        }],
        metadata: vec![],
    });
    // (method, path, body, metric a successful write stores)
    let endpoints: Vec<(&str, &str, Vec<u8>, Option<&str>)> = vec![
        ("GET", "/api/v1/labels", vec![], None),
        ("GET", "/api/v1/label/__name__/values", vec![], None),
        ("GET", "/api/v1/series?match[]=up", vec![], None),
        ("GET", "/api/v1/metadata", vec![], None),
        ("GET", "/api/v1/status/buildinfo", vec![], None),
        ("GET", "/metrics", vec![], None),
        ("PUT", "/metrics/job/auth", b"pushed 1\n".to_vec(), Some("pushed")),
        ("POST", "/api/v1/write", rw, Some("rw")),
    ];
    // (name, Authorization header, scope of the token if valid); valid write tokens come last.
    let creds: [(&str, Option<String>, Option<Scope>); 7] = [
        ("none", None, None),
        ("wrong bearer", Some("Bearer nope".into()), None),
        ("wrong basic", Some(basic("nope")), None),
        ("read bearer", Some("Bearer read-secret".into()), Some(Scope::Read)),
        ("read basic", Some(basic("read-secret")), Some(Scope::Read)),
        ("write bearer", Some("Bearer second-writer".into()), Some(Scope::Write)),
        ("write basic", Some(basic("write-secret")), Some(Scope::Write)),
    ];
    for (method, path, body, writes) in &endpoints {
        let needs = if writes.is_some() { Scope::Write } else { Scope::Read };
        for (name, auth, scope) in &creds {
            let stored = |metric: &str| {
                h.db.series(&[promlite::Matcher::equal("__name__", metric)], i64::MIN / 2, i64::MAX / 2).unwrap().len()
            };
            if let (Some(metric), Some(Scope::Write), "write bearer") = (writes, scope, *name) {
                assert_eq!(stored(metric), 0, "a refused {method} {path} stored {metric}");
            }
            let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
            let r = h.request(method, path, &headers, body);
            match scope {
                None => {
                    assert_eq!(r.status, 401, "{name} {method} {path}: {}", r.body);
                    assert!(r.header("WWW-Authenticate").is_some_and(|v| v.starts_with("Basic")), "{name} {path}");
                }
                Some(s) if *s != needs => {
                    assert_eq!(r.status, 403, "{name} {method} {path}: {}", r.body)
                }
                Some(_) => {
                    assert!(r.status < 300, "{name} {method} {path}: {} {}", r.status, r.body);
                    if let Some(metric) = writes {
                        assert_eq!(stored(metric), 1, "{name} {method} {path}");
                    }
                }
            }
        }
    }
    for open in ["/-/healthy", "/-/ready"] {
        assert_eq!(h.get(open).status, 200);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Read,
    Write,
}
