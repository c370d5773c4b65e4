//! A promlite server on a free loopback port over a temporary database, and a
//! small blocking HTTP client for the `http_*` integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use promlite::http::{ServerConfig, ServerHandle};
use promlite::{Db, Labels, Matcher};

pub struct Harness {
    pub db: Arc<Db>,
    pub base: String,
    server: Option<ServerHandle>,
    _dir: tempfile::TempDir,
}

pub struct Response {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts an API error response with this status and `errorType`, returning the message.
    pub fn api_error(&self, status: u16, error_type: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.body);
        let j = self.json();
        assert_eq!(j["status"], "error", "{}", self.body);
        assert_eq!(j["errorType"], error_type, "{}", self.body);
        j["error"].as_str().unwrap().to_string()
    }

    /// Asserts a success envelope and returns `data`.
    pub fn data(&self) -> serde_json::Value {
        assert_eq!(self.status, 200, "body: {}", self.body);
        let j = self.json();
        assert_eq!(j["status"], "success", "{}", self.body);
        j["data"].clone()
    }
}

impl Harness {
    pub fn start() -> Harness {
        Harness::with_config(ServerConfig::default())
    }

    pub fn with_config(config: ServerConfig) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(dir.path().join("test.db")).unwrap());
        let config = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..config };
        let server = ServerHandle::spawn(db.clone(), config).unwrap();
        let base = format!("http://{}", server.local_addr());
        Harness { db, base, server: Some(server), _dir: dir }
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut req = ureq::request(method, &format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let resp = match req.send_bytes(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = resp.header(&n).unwrap_or_default().to_string();
                (n, v)
            })
            .collect();
        let body = resp.into_string().unwrap();
        Response { status, body, headers }
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    pub fn post_form(&self, path: &str, form: &str) -> Response {
        self.request("POST", path, &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes())
    }

    /// Every stored series with its points, as `labels -> [(t, v)]`, stale
    /// markers as "stale", native histograms in the promqltest notation.
    pub fn dump(&self) -> Vec<(String, Vec<(i64, String)>)> {
        let all = Matcher::new(promlite::MatchOp::RegexMatch, "__name__", ".+").unwrap();
        let mut out: Vec<(String, Vec<(i64, String)>)> = self
            .db
            .select(&[all], i64::MIN / 2, i64::MAX / 2)
            .unwrap()
            .into_iter()
            .map(|s| {
                let mut pts: Vec<(i64, String)> = s
                    .points
                    .iter()
                    .map(|p| {
                        (
                            p.t,
                            if promlite::is_stale_nan(p.v) { "stale".to_string() } else { promlite::format_value(p.v) },
                        )
                    })
                    .collect();
                // Native histograms in the promqltest notation.
                pts.extend(s.histograms.iter().map(|p| (p.t, p.h.to_string())));
                pts.sort_by_key(|(t, _)| *t);
                (s.labels.to_string(), pts)
            })
            .collect();
        out.sort();
        out
    }

    /// Writes `value` for `series` at `t` ms.
    pub fn append(&self, series: &str, t: i64, value: f64) {
        self.db.append(&Labels::parse(series).unwrap(), t, value).unwrap();
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().unwrap();
        }
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
