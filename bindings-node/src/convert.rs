//! Argument conversions from JS: timestamps (Unix seconds) to core's
//! milliseconds, series given as selector text or a labels object, selectors
//! for metadata calls, and open options.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use promlite::promql;
use promlite::{Labels, Matcher, Options};

use crate::error::{bad_data, to_js, Result};

/// A series as JS passes it: `'up{job="api"}'` or `{ __name__: 'up', job: 'api' }`.
pub type SeriesArg = Either<String, HashMap<String, String>>;

/// Unix seconds (fractional allowed) to milliseconds, rounded to the nearest ms.
pub fn seconds_to_ms(what: &str, secs: f64) -> Result<i64> {
    let ms = (secs * 1000.0).round();
    // i64::MAX as f64 rounds up to 2^63, so compare strictly below it.
    if !ms.is_finite() || ms < i64::MIN as f64 || ms >= i64::MAX as f64 {
        return Err(bad_data(format!("{what} must be a finite number of Unix seconds, got {secs}")));
    }
    Ok(ms as i64)
}

/// Milliseconds to Unix seconds, as the Prometheus API reports timestamps.
pub fn ms_to_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// The given time, or now when the caller left it out.
pub fn time_or_now(secs: Option<f64>) -> Result<i64> {
    match secs {
        Some(s) => seconds_to_ms("time", s),
        None => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            Ok(now.as_millis() as i64)
        }
    }
}

/// A `[start, end]` range in ms; a missing bound is unbounded.
pub fn time_range(start: Option<f64>, end: Option<f64>) -> Result<(i64, i64)> {
    let start = start.map(|s| seconds_to_ms("start", s)).transpose()?.unwrap_or(i64::MIN);
    let end = end.map(|s| seconds_to_ms("end", s)).transpose()?.unwrap_or(i64::MAX);
    Ok((start, end))
}

/// The label set of a series argument.
pub fn labels(series: SeriesArg) -> Result<Labels> {
    match series {
        Either::A(text) => Labels::parse(&text).map_err(to_js),
        Either::B(map) => Ok(Labels::from_pairs(map)),
    }
}

/// The matchers of a series selector such as `up{job=~"api|web"}`, as the
/// Prometheus API's `match[]` parameter takes them.
pub fn selector(text: &str) -> Result<Vec<Matcher>> {
    promql::parse_selector(text).map_err(|e| to_js(e.into()))
}

/// Every selector of a `match` argument, parsed before anything runs.
pub fn selectors(texts: &[String]) -> Result<Vec<Vec<Matcher>>> {
    texts.iter().map(|t| selector(t)).collect()
}

/// Options of `open(path, options)`; durations are seconds.
#[napi(object)]
#[derive(Default)]
pub struct OpenOptions {
    /// Drop samples older than this many seconds when retention is applied.
    pub retention: Option<f64>,
    /// Open read-only: writes fail and the file is never modified.
    pub read_only: Option<bool>,
    /// `false` skips the fsync of each commit: faster writes that survive a
    /// process crash but not a machine crash (default `true`).
    pub fsync_on_commit: Option<bool>,
    /// How far back an instant selector looks for a sample (default 300).
    pub lookback_delta: Option<f64>,
    /// Abort queries after this many seconds (default 120).
    pub query_timeout: Option<f64>,
    /// Maximum samples a query may hold in memory.
    pub max_samples: Option<f64>,
}

impl OpenOptions {
    /// The core options these ask for, defaults where left out.
    pub fn to_core(&self) -> Result<Options> {
        let mut o = Options::default();
        if let Some(s) = self.retention {
            o.retention = Some(duration("retention", s)?);
        }
        if let Some(r) = self.read_only {
            o.read_only = r;
        }
        if let Some(f) = self.fsync_on_commit {
            o.fsync_on_commit = f;
        }
        if let Some(s) = self.lookback_delta {
            o.query.lookback_delta = duration("lookbackDelta", s)?;
        }
        if let Some(s) = self.query_timeout {
            o.query.timeout = Some(duration("queryTimeout", s)?);
        }
        if let Some(n) = self.max_samples {
            if !(n >= 1.0 && n.fract() == 0.0 && n <= usize::MAX as f64) {
                return Err(bad_data(format!("maxSamples must be a positive integer, got {n}")));
            }
            o.query.max_samples = n as usize;
        }
        Ok(o)
    }
}

fn duration(what: &str, secs: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| bad_data(format!("{what} must be a positive number of seconds, got {secs}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_to_milliseconds() {
        assert_eq!(seconds_to_ms("t", 1_700_000_000.123).unwrap(), 1_700_000_000_123);
        assert_eq!(seconds_to_ms("t", -1.5).unwrap(), -1_500);
        assert_eq!(ms_to_seconds(1_700_000_000_123), 1_700_000_000.123);
        for bad in [f64::NAN, f64::INFINITY, 1e300] {
            let e = seconds_to_ms("start", bad).unwrap_err();
            assert_eq!(e.status, "bad_data");
            assert!(e.reason.starts_with("start must be"), "{}", e.reason);
        }
    }

    #[test]
    fn selectors_keep_matchers_and_reject_expressions() {
        let m = selector(r#"up{job=~"api|web"}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert!(m.iter().any(|m| m.name == "job" && m.matches("web")));
        let e = selector("sum(up)").unwrap_err();
        assert_eq!(e.status, "bad_data");
        assert!(e.reason.starts_with("1:1: parse error: expected a series selector"), "{}", e.reason);
    }

    #[test]
    fn open_options_fill_core_options() {
        let o = OpenOptions { retention: Some(3600.0), max_samples: Some(10.0), ..Default::default() };
        let core = o.to_core().unwrap();
        assert_eq!(core.retention, Some(Duration::from_secs(3600)));
        assert_eq!(core.query.max_samples, 10);
        let bad = OpenOptions { lookback_delta: Some(-1.0), ..Default::default() };
        assert_eq!(bad.to_core().unwrap_err().status, "bad_data");
    }
}
