//! Posting one request and classifying the answer, then delivering it with
//! retries: exponential backoff with jitter on 5xx, 429 and network errors;
//! any other status is final.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;

use crate::remote::config::{RemoteAuth, RemoteWriteConfig};

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// 2xx.
    Delivered,
    /// 5xx, 429 or a network error: try again, after `retry_after` if the receiver said so.
    Retry { reason: String, retry_after: Option<Duration> },
    /// Any other status: the receiver will never take this request.
    Rejected { status: u16, reason: String },
}

/// A blocking HTTP client for one receiver.
pub(crate) struct Client {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, String)>,
}

/// Longest a receiver's `Retry-After` is honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How much of an error response body goes into the message.
const ERROR_BODY_BYTES: u64 = 512;

impl Client {
    pub fn new(config: &RemoteWriteConfig) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout(config.timeout)
            // A redirected POST would lose its body: a redirect is an answer, not a delivery.
            .redirects(0)
            .user_agent(concat!("promlite/", env!("CARGO_PKG_VERSION")))
            .build();
        let mut headers = vec![
            ("Content-Type".to_string(), "application/x-protobuf".to_string()),
            ("Content-Encoding".to_string(), "snappy".to_string()),
            ("X-Prometheus-Remote-Write-Version".to_string(), "0.1.0".to_string()),
        ];
        match &config.auth {
            RemoteAuth::None => {}
            RemoteAuth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                headers.push(("Authorization".to_string(), format!("Basic {encoded}")));
            }
            RemoteAuth::Bearer(token) => headers.push(("Authorization".to_string(), format!("Bearer {token}"))),
        }
        headers.extend(config.headers.iter().cloned());
        Client { agent, url: config.url.clone(), headers }
    }

    /// Posts `body` once.
    pub fn post(&self, body: &[u8]) -> Attempt {
        let mut request = self.agent.post(&self.url);
        for (name, value) in &self.headers {
            request = request.set(name, value);
        }
        match request.send_bytes(body) {
            Ok(r) if (200..300).contains(&r.status()) => Attempt::Delivered,
            Ok(r) => classify(r.status(), r),
            Err(ureq::Error::Status(status, r)) => classify(status, r),
            Err(ureq::Error::Transport(t)) => Attempt::Retry { reason: t.to_string(), retry_after: None },
        }
    }
}

fn classify(status: u16, response: ureq::Response) -> Attempt {
    let retry_after = response
        .header("Retry-After")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    let mut body = String::new();
    let _ = response.into_reader().take(ERROR_BODY_BYTES).read_to_string(&mut body);
    let reason = format!("HTTP {status}: {}", body.trim());
    if status == 429 || status >= 500 {
        Attempt::Retry { reason, retry_after }
    } else {
        Attempt::Rejected { status, reason }
    }
}

/// The retry delays: `min * 2^attempt` capped at `max`, then a random
/// point in its upper half, so many senders don't retry in lockstep.
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        // Seeded from the clock and a counter: jitter needs variety, not quality.
        static INSTANCES: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let instance = INSTANCES.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Backoff { min, max, attempt: 0, rng: (nanos as u64 ^ instance) | 1 }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        let base = self.min.max(Duration::from_millis(1)).saturating_mul(factor).min(self.max);
        self.attempt += 1;
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let fraction = 0.5 + (self.rng >> 11) as f64 / (1u64 << 53) as f64 / 2.0;
        base.mul_f64(fraction)
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let delays: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        let bases = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (d, base) in delays.iter().zip(bases) {
            let base = Duration::from_millis(base);
            assert!(*d >= base / 2 && *d <= base, "{d:?} not in [{:?}, {base:?}]", base / 2);
        }
        assert!(delays[4..].windows(2).any(|w| w[0] != w[1]), "jitter varies the capped delays: {delays:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
