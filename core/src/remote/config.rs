//! What a remote-write sender is told: where to send, how to authenticate,
//! which series, how to label them, and how to batch and retry.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::{is_legacy_label_name, Labels, Matcher, METRIC_NAME};
use crate::remote::prompb;

/// How a sender authenticates to its receiver.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum RemoteAuth {
    /// No `Authorization` header.
    #[default]
    None,
    /// HTTP Basic auth.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

/// Secrets never appear in debug output or logs.
impl fmt::Debug for RemoteAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteAuth::None => f.write_str("None"),
            RemoteAuth::Basic { username, .. } => write!(f, "Basic {{ username: {username:?}, password: <secret> }}"),
            RemoteAuth::Bearer(_) => f.write_str("Bearer(<secret>)"),
        }
    }
}

/// One remote-write sender: every sample committed after it is added is
/// delivered to `url` in Prometheus remote write 1.0. Build it with
/// [`RemoteWriteConfig::new`] and the builder methods; fields are public
/// so they can also be set directly.
///
/// ```
/// use std::time::Duration;
/// use promlite::RemoteWriteConfig;
///
/// let config = RemoteWriteConfig::new("mimir", "https://mimir.example/api/v1/push")
///     .bearer_token("secret")
///     .header("X-Scope-OrgID", "team-a")
///     .external_label("replica", "a")
///     .drop_matching(r#"{__name__=~"go_.*"}"#)
///     .flush_interval(Duration::from_secs(5));
/// assert_eq!(config.batch_size, 2000);
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteWriteConfig {
    /// Names the sender and its durable position in the database; adding a
    /// sender with the name of an earlier one continues where that one stopped.
    pub name: String,
    /// The receiver's remote-write endpoint, `http://` or `https://`.
    pub url: String,
    /// Credentials.
    pub auth: RemoteAuth,
    /// Extra request headers (e.g. `X-Scope-OrgID`).
    pub headers: Vec<(String, String)>,
    /// Labels added to every series that lacks them (a series' own label wins).
    pub external_labels: Vec<(String, String)>,
    /// Series selectors such as `{job="api"}`: when any are given, only
    /// series matching at least one are sent.
    pub keep: Vec<String>,
    /// Series selectors: series matching any of them are not sent (applied after `keep`).
    pub drop: Vec<String>,
    /// Most samples in one request (default 2000).
    pub batch_size: usize,
    /// Longest a committed sample waits for a fuller batch (default 1 s).
    pub flush_interval: Duration,
    /// Time limit of one request (default 30 s).
    pub timeout: Duration,
    /// First retry delay; doubles per attempt (default 30 ms).
    pub min_backoff: Duration,
    /// Longest retry delay (default 5 s).
    pub max_backoff: Duration,
}

impl fmt::Debug for RemoteWriteConfig {
    /// Header values may be credentials: only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteWriteConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("headers", &self.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .field("external_labels", &self.external_labels)
            .field("keep", &self.keep)
            .field("drop", &self.drop)
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("timeout", &self.timeout)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish()
    }
}

impl RemoteWriteConfig {
    /// A sender named `name` posting to `url`, with the defaults.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        RemoteWriteConfig {
            name: name.into(),
            url: url.into(),
            auth: RemoteAuth::None,
            headers: Vec::new(),
            external_labels: Vec::new(),
            keep: Vec::new(),
            drop: Vec::new(),
            batch_size: 2000,
            flush_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
        }
    }

    /// Uses HTTP Basic auth.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = RemoteAuth::Basic { username: username.into(), password: password.into() };
        self
    }

    /// Uses `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.auth = RemoteAuth::Bearer(token.into());
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds an external label.
    pub fn external_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.external_labels.push((name.into(), value.into()));
        self
    }

    /// Sends only series matching `selector` (or another `keep` selector).
    pub fn keep_matching(mut self, selector: impl Into<String>) -> Self {
        self.keep.push(selector.into());
        self
    }

    /// Does not send series matching `selector`.
    pub fn drop_matching(mut self, selector: impl Into<String>) -> Self {
        self.drop.push(selector.into());
        self
    }

    /// Sets [`RemoteWriteConfig::batch_size`].
    pub fn batch_size(mut self, samples: usize) -> Self {
        self.batch_size = samples;
        self
    }

    /// Sets [`RemoteWriteConfig::flush_interval`].
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// Sets [`RemoteWriteConfig::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`RemoteWriteConfig::min_backoff`] and [`RemoteWriteConfig::max_backoff`].
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max;
        self
    }

    /// Checks every setting and compiles the selectors.
    pub(crate) fn prepare(&self) -> Result<Prepared> {
        let bad = |what: String| Err(Error::invalid(format!("remote write {:?}: {what}", self.name)));
        if self.name.is_empty() || self.name.chars().any(char::is_control) {
            return bad("the name must be non-empty text without control characters".into());
        }
        let lower = self.url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || self.url.len() < 10 {
            return bad(format!("url {:?} must start with http:// or https://", self.url));
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".into());
        }
        for (what, d) in
            [("flush_interval", self.flush_interval), ("timeout", self.timeout), ("max_backoff", self.max_backoff)]
        {
            if d.is_zero() {
                return bad(format!("{what} must be positive"));
            }
        }
        if self.min_backoff > self.max_backoff {
            return bad("min_backoff must not exceed max_backoff".into());
        }
        for (name, value) in &self.headers {
            let token =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token || value.bytes().any(|b| b == b'\r' || b == b'\n') {
                return bad(format!("header {name:?} is not a valid HTTP header"));
            }
        }
        let mut external: Vec<prompb::Label> = Vec::new();
        for (name, value) in &self.external_labels {
            if name == METRIC_NAME || !is_legacy_label_name(name) || value.is_empty() {
                return bad(format!(
                    "external label {name}={value:?} needs a plain label name (not {METRIC_NAME}) and a value"
                ));
            }
            if external.iter().any(|l| &l.name == name) {
                return bad(format!("external label {name} is given twice"));
            }
            external.push(prompb::Label { name: name.clone(), value: value.clone() });
        }
        external.sort_by(|a, b| a.name.cmp(&b.name));
        let selectors = |list: &[String], field: &str| -> Result<Vec<Vec<Matcher>>> {
            list.iter()
                .map(|s| {
                    crate::promql::parse_selector(s).map_err(|e| {
                        Error::invalid(format!("remote write {:?}: {field} selector {s:?}: {e}", self.name))
                    })
                })
                .collect()
        };
        Ok(Prepared {
            config: self.clone(),
            keep: selectors(&self.keep, "keep")?,
            drop: selectors(&self.drop, "drop")?,
            external,
        })
    }
}

/// A checked configuration with its selectors compiled.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub config: RemoteWriteConfig,
    keep: Vec<Vec<Matcher>>,
    drop: Vec<Vec<Matcher>>,
    /// External labels sorted by name.
    external: Vec<prompb::Label>,
}

impl Prepared {
    /// Whether the keep/drop selectors let `labels` through.
    pub fn selects(&self, labels: &Labels) -> bool {
        let matches = |set: &Vec<Matcher>| set.iter().all(|m| m.matches_labels(labels));
        (self.keep.is_empty() || self.keep.iter().any(matches)) && !self.drop.iter().any(matches)
    }

    /// The matchers to scan storage with when only one `keep` selector is
    /// given (else every series, filtered by [`Prepared::selects`]).
    pub fn scan_matchers(&self) -> Vec<Matcher> {
        match self.keep.as_slice() {
            [only] => only.clone(),
            _ => vec![Matcher::new(crate::model::MatchOp::RegexMatch, METRIC_NAME, ".+").expect("valid regex")],
        }
    }

    /// The labels sent for a series: its own, plus external labels it lacks, sorted by name.
    pub fn wire_labels(&self, labels: &Labels) -> Vec<prompb::Label> {
        let mut out = Vec::with_capacity(labels.len() + self.external.len());
        let mut external = self.external.iter().peekable();
        for l in labels {
            while let Some(e) = external.next_if(|e| e.name < l.name) {
                out.push(e.clone());
            }
            external.next_if(|e| e.name == l.name);
            out.push(prompb::Label::from(l));
        }
        out.extend(external.cloned());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_every_setting() {
        let ok = RemoteWriteConfig::new("rw", "http://127.0.0.1:9/api/v1/write");
        assert!(ok.prepare().is_ok());
        let cases = [
            (RemoteWriteConfig::new("", "http://x.example/w"), "name"),
            (RemoteWriteConfig::new("rw", "ftp://x.example/w"), "must start with http"),
            (ok.clone().batch_size(0), "batch_size"),
            (ok.clone().flush_interval(Duration::ZERO), "flush_interval must be positive"),
            (ok.clone().backoff(Duration::from_secs(2), Duration::from_secs(1)), "min_backoff"),
            (ok.clone().header("Bad Header", "x"), "not a valid HTTP header"),
            (ok.clone().header("X-Ok", "a\r\nInjected: 1"), "not a valid HTTP header"),
            (ok.clone().external_label("__name__", "x"), "external label"),
            (ok.clone().external_label("a", "1").external_label("a", "2"), "given twice"),
            (ok.clone().keep_matching("rate(x[5m])"), "keep selector"),
            (ok.clone().drop_matching("{job=~\"(\"}"), "drop selector"),
        ];
        for (config, needle) in cases {
            let e = config.prepare().unwrap_err();
            assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
            assert!(e.to_string().contains(needle), "{needle:?} not in {e}");
        }
    }

    #[test]
    fn keep_then_drop_selects_series() {
        let p = RemoteWriteConfig::new("rw", "http://x.example/w")
            .keep_matching(r#"{job="api"}"#)
            .keep_matching("up")
            .drop_matching(r#"{__name__=~"go_.*"}"#)
            .prepare()
            .unwrap();
        let sel = |s: &str| p.selects(&Labels::parse(s).unwrap());
        assert!(sel(r#"http_requests_total{job="api"}"#));
        assert!(sel(r#"up{job="web"}"#));
        assert!(!sel(r#"http_requests_total{job="web"}"#), "matches no keep selector");
        assert!(!sel(r#"go_goroutines{job="api"}"#), "dropped");
        assert_eq!(p.scan_matchers().len(), 1, "two keep selectors: scan everything");
    }

    #[test]
    fn external_labels_fill_in_missing_labels_only() {
        let p = RemoteWriteConfig::new("rw", "http://x.example/w")
            .external_label("replica", "a")
            .external_label("cluster", "eu")
            .external_label("zone", "1")
            .prepare()
            .unwrap();
        let wire = p.wire_labels(&Labels::parse(r#"up{job="api", replica="own"}"#).unwrap());
        let pairs: Vec<(&str, &str)> = wire.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect();
        assert_eq!(pairs, [("__name__", "up"), ("cluster", "eu"), ("job", "api"), ("replica", "own"), ("zone", "1")]);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c =
            RemoteWriteConfig::new("rw", "http://x.example/w").basic_auth("me", "hunter2").header("X-Key", "topsecret");
        let shown = format!("{c:?}");
        assert!(shown.contains("me") && shown.contains("X-Key"));
        assert!(!shown.contains("hunter2") && !shown.contains("topsecret"), "{shown}");
        assert!(!format!("{:?}", RemoteAuth::Bearer("tok3n".into())).contains("tok3n"));
    }
}
