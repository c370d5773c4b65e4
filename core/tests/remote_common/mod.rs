//! A scripted remote-write receiver on a free loopback port, for the sender
//! tests: answers each request with the next scripted reply (then the
//! default), decodes every request, and keeps the accepted ones.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use promlite::prompb::{self, WriteRequest};
use prost::Message;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// An HTTP status (a body is added for errors).
    Status(u16),
    /// 429 with `Retry-After: 0`.
    RetryAfterZero,
    /// Close the connection without answering (a network error for the sender).
    Hangup,
    /// Never answer (until the test ends).
    Hang,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub request: WriteRequest,
    pub reply: Reply,
}

impl Received {
    /// Each series of the request (as `series_key`) with its sample timestamps, in request order.
    pub fn timestamps(&self) -> Vec<(String, Vec<i64>)> {
        self.request
            .timeseries
            .iter()
            .map(|t| (series_key(&t.labels), t.samples.iter().map(|s| s.timestamp).collect()))
            .collect()
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    default: Option<Reply>,
    received: Vec<Received>,
}

pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let state = shared.clone();
                std::thread::spawn(move || serve(conn, &state));
            }
        });
        Receiver { url, state }
    }

    /// Replies used, in order, before the default.
    pub fn script(&self, replies: &[Reply]) {
        self.state.lock().script.extend(replies.iter().copied());
    }

    /// The reply once the script is used up (204 unless set).
    pub fn set_default(&self, reply: Reply) {
        self.state.lock().default = Some(reply);
    }

    /// Every request received, whatever the reply.
    pub fn all(&self) -> Vec<Received> {
        self.state.lock().received.clone()
    }

    /// The requests answered with 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.all().into_iter().filter(|r| matches!(r.reply, Reply::Status(200..=299))).collect()
    }

    /// Accepted samples per series (`labels -> [(t, v)]`), in arrival order.
    pub fn samples(&self) -> BTreeMap<String, Vec<(i64, f64)>> {
        let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
        for r in self.accepted() {
            for ts in &r.request.timeseries {
                let key = series_key(&ts.labels);
                out.entry(key).or_default().extend(ts.samples.iter().map(|s| (s.timestamp, s.value)));
            }
        }
        out
    }

    /// Accepted native histograms per series, decoded, in arrival order.
    pub fn histograms(&self) -> BTreeMap<String, Vec<(i64, promlite::FloatHistogram)>> {
        let mut out: BTreeMap<String, Vec<(i64, promlite::FloatHistogram)>> = BTreeMap::new();
        for r in self.accepted() {
            for ts in &r.request.timeseries {
                let key = series_key(&ts.labels);
                let decoded = ts.histograms.iter().map(|h| (h.timestamp, h.to_float_histogram().unwrap()));
                out.entry(key).or_default().extend(decoded);
            }
        }
        out.retain(|_, hs| !hs.is_empty());
        out
    }

    pub fn accepted_sample_count(&self) -> usize {
        self.samples().values().map(Vec::len).sum()
    }
}

/// `name{a="1",b="2"}` from wire labels, in their order.
pub fn series_key(labels: &[prompb::Label]) -> String {
    let name = labels.iter().find(|l| l.name == "__name__").map_or("", |l| l.value.as_str());
    let rest: Vec<String> =
        labels.iter().filter(|l| l.name != "__name__").map(|l| format!("{}={:?}", l.name, l.value)).collect();
    format!("{name}{{{}}}", rest.join(","))
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut headers = BTreeMap::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = {
            let mut s = state.lock();
            let reply = s.script.pop_front().or(s.default).unwrap_or(Reply::Status(204));
            let raw = prompb::snappy_decompress(&body, 64 << 20).expect("snappy body");
            let request = WriteRequest::decode(raw.as_slice()).expect("protobuf WriteRequest");
            s.received.push(Received { headers, request, reply });
            reply
        };
        let answer = match reply {
            Reply::Status(code) if (200..300).contains(&code) => {
                format!("HTTP/1.1 {code} OK\r\nContent-Length: 0\r\n\r\n")
            }
            Reply::Status(code) => {
                let body = format!("scripted failure {code}");
                format!("HTTP/1.1 {code} Failure\r\nContent-Length: {}\r\n\r\n{body}", body.len())
            }
            Reply::RetryAfterZero => {
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n".into()
            }
            Reply::Hangup => return,
            Reply::Hang => {
                std::thread::sleep(Duration::from_secs(3600));
                return;
            }
        };
        if conn.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Polls `cond` every 10 ms until it holds; panics with `what` after 20 s.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
