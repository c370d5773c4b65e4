//! Remote write from JS: the settings object of `remoteWriteAdd` /
//! `remoteWriteBackfillAsync` into core's [`RemoteWriteConfig`], and the stats
//! and backfill report as plain objects. Logic stays in core.

use std::collections::HashMap;
use std::time::Duration;

use napi_derive::napi;
use promlite::{RemoteWriteConfig, RemoteWriteStats};

use crate::convert::ms_to_seconds;
use crate::error::{bad_data, Result};

/// HTTP Basic auth credentials.
#[napi(object)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

/// Settings of a remote-write sender (durations in seconds).
#[napi(object)]
#[derive(Default)]
pub struct RemoteWriteOptions {
    /// `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// HTTP Basic auth.
    pub basic_auth: Option<BasicAuth>,
    /// Extra request headers.
    pub headers: Option<HashMap<String, String>>,
    /// Labels added to every series that lacks them.
    pub external_labels: Option<HashMap<String, String>>,
    /// Send only series matching one of these selectors.
    pub keep: Option<Vec<String>>,
    /// Do not send series matching any of these selectors.
    pub drop: Option<Vec<String>>,
    /// Most samples per request (default 2000).
    pub batch_size: Option<f64>,
    /// Longest a sample waits for a fuller request (default 1).
    pub flush_interval: Option<f64>,
    /// Time limit of one request (default 30).
    pub timeout: Option<f64>,
    /// First retry delay (default 0.03).
    pub min_backoff: Option<f64>,
    /// Longest retry delay (default 5).
    pub max_backoff: Option<f64>,
}

impl RemoteWriteOptions {
    /// Core's config for sender `name` posting to `url`; core checks the values.
    pub fn into_core(self, name: &str, url: &str) -> Result<RemoteWriteConfig> {
        let mut c = RemoteWriteConfig::new(name, url);
        match (self.bearer_token, self.basic_auth) {
            (Some(_), Some(_)) => return Err(bad_data("give bearerToken or basicAuth, not both")),
            (Some(token), None) => c = c.bearer_token(token),
            (None, Some(b)) => c = c.basic_auth(b.username, b.password),
            (None, None) => {}
        }
        c.headers = sorted(self.headers);
        c.external_labels = sorted(self.external_labels);
        c.keep = self.keep.unwrap_or_default();
        c.drop = self.drop.unwrap_or_default();
        if let Some(n) = self.batch_size {
            if !(n >= 1.0 && n.fract() == 0.0 && n <= usize::MAX as f64) {
                return Err(bad_data(format!("batchSize must be a positive integer, got {n}")));
            }
            c.batch_size = n as usize;
        }
        for (given, slot, what) in [
            (self.flush_interval, &mut c.flush_interval, "flushInterval"),
            (self.timeout, &mut c.timeout, "timeout"),
            (self.min_backoff, &mut c.min_backoff, "minBackoff"),
            (self.max_backoff, &mut c.max_backoff, "maxBackoff"),
        ] {
            if let Some(secs) = given {
                *slot = Duration::try_from_secs_f64(secs)
                    .map_err(|_| bad_data(format!("{what} must be a non-negative number of seconds, got {secs}")))?;
            }
        }
        Ok(c)
    }
}

/// A JS object's entries in name order (JS gives no useful order here).
fn sorted(map: Option<HashMap<String, String>>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = map.unwrap_or_default().into_iter().collect();
    pairs.sort();
    pairs
}

/// A sender's progress, from `remoteWriteStats()`; times in seconds.
#[napi(object)]
pub struct SenderStats {
    pub name: String,
    pub url: String,
    /// Whether the sender runs in this process (else it is only registered in the file).
    pub running: bool,
    pub samples_sent: i64,
    pub requests_sent: i64,
    pub bytes_sent: i64,
    /// Samples of requests the receiver refused for good (4xx other than 429).
    pub samples_dropped: i64,
    pub requests_dropped: i64,
    /// Attempts that did not deliver (network errors, non-2xx answers).
    pub requests_failed: i64,
    /// Attempts repeated after 5xx, 429 or network errors.
    pub retries: i64,
    /// Samples left out by keep/drop or overwritten in the same batch.
    pub samples_skipped: i64,
    /// Samples committed but not yet acknowledged.
    pub pending_samples: i64,
    /// How long the oldest pending sample has waited.
    pub lag_seconds: f64,
    /// Timestamp of the newest sample the receiver accepted.
    pub newest_sent_timestamp: Option<f64>,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

impl From<RemoteWriteStats> for SenderStats {
    fn from(s: RemoteWriteStats) -> Self {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        SenderStats {
            running: s.running,
            samples_sent: n(s.samples_sent),
            requests_sent: n(s.requests_sent),
            bytes_sent: n(s.bytes_sent),
            samples_dropped: n(s.samples_dropped),
            requests_dropped: n(s.requests_dropped),
            requests_failed: n(s.requests_failed),
            retries: n(s.retries),
            samples_skipped: n(s.samples_skipped),
            pending_samples: n(s.pending_samples),
            lag_seconds: s.lag_seconds,
            newest_sent_timestamp: s.newest_sent_timestamp_ms.map(ms_to_seconds),
            last_error: s.last_error,
            name: s.name,
            url: s.url,
        }
    }
}

/// What a backfill sent.
#[napi(object)]
pub struct BackfillReport {
    pub series: i64,
    pub samples_sent: i64,
    pub requests_sent: i64,
    pub samples_dropped: i64,
}

impl From<promlite::BackfillReport> for BackfillReport {
    fn from(r: promlite::BackfillReport) -> Self {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        BackfillReport {
            series: n(r.series),
            samples_sent: n(r.samples_sent),
            requests_sent: n(r.requests_sent),
            samples_dropped: n(r.samples_dropped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_become_core_settings() {
        let o = RemoteWriteOptions {
            basic_auth: Some(BasicAuth { username: "u".into(), password: "p".into() }),
            headers: Some(HashMap::from([("X-B".to_string(), "2".to_string()), ("X-A".to_string(), "1".to_string())])),
            keep: Some(vec!["up".into()]),
            batch_size: Some(10.0),
            flush_interval: Some(0.5),
            ..Default::default()
        };
        let c = o.into_core("n", "http://x/w").unwrap();
        assert_eq!(c.auth, promlite::RemoteAuth::Basic { username: "u".into(), password: "p".into() });
        assert_eq!(c.headers[0].0, "X-A");
        assert_eq!((c.batch_size, c.flush_interval, c.keep.len()), (10, Duration::from_millis(500), 1));
        let both = RemoteWriteOptions {
            bearer_token: Some("t".into()),
            basic_auth: Some(BasicAuth { username: "u".into(), password: "p".into() }),
            ..Default::default()
        };
        assert_eq!(both.into_core("n", "http://x/w").unwrap_err().status, "bad_data");
        let fraction = RemoteWriteOptions { batch_size: Some(1.5), ..Default::default() };
        assert!(fraction.into_core("n", "http://x/w").unwrap_err().reason.contains("batchSize"));
        let negative = RemoteWriteOptions { timeout: Some(-1.0), ..Default::default() };
        assert!(negative.into_core("n", "http://x/w").unwrap_err().reason.contains("timeout"));
    }
}
