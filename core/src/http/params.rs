//! Request parameters as Prometheus reads them: URL query and form body merged,
//! timestamps (Unix seconds or RFC 3339), durations (seconds or `1h30m`),
//! `match[]` selectors and `limit`.

use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};

use super::response::ApiError;
use crate::model::Matcher;
use crate::promql;

/// Earliest and latest times a request can name; open-ended ranges use these.
pub(crate) const MIN_TIME: i64 = i64::MIN / 2;
pub(crate) const MAX_TIME: i64 = i64::MAX / 2;

/// The strings Prometheus prints for its minimum and maximum time; clients
/// (e.g. Grafana, promtool) send them back verbatim.
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

/// All parameters of a request, from the URL query and (for POST) a
/// form-encoded body, in that order. Names may repeat (`match[]`).
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Params {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(q) = query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("application/x-www-form-urlencoded"));
        if is_form {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        Params(pairs)
    }

    /// The first value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Timestamp parameter in ms, or `default` when absent.
    pub fn time(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(s) => parse_time(s).map_err(|e| ApiError::invalid_param(name, e)),
        }
    }

    /// Duration parameter in ms, if present.
    pub fn duration(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name).map(|s| parse_duration(s).map_err(|e| ApiError::invalid_param(name, e))).transpose()
    }

    /// `limit`: a non-negative count; 0 or absent means no limit.
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        match self.get("limit") {
            None => Ok(None),
            Some(s) => match s.parse::<i64>() {
                Ok(0) => Ok(None),
                Ok(n) if n > 0 => Ok(Some(n as usize)),
                Ok(_) => Err(ApiError::bad_data("limit must be non-negative")),
                Err(_) => Err(ApiError::invalid_param("limit", format!("cannot parse {s:?} to a valid limit"))),
            },
        }
    }

    /// The `match[]` selectors, each a list of matchers.
    pub fn matcher_sets(&self) -> Result<Vec<Vec<Matcher>>, ApiError> {
        self.all("match[]")
            .into_iter()
            .map(|s| parse_selector(s).map_err(|e| ApiError::invalid_param("match[]", e)))
            .collect()
    }

    /// `start`/`end` of a metadata-style request, open-ended by default.
    pub fn time_range(&self) -> Result<(i64, i64), ApiError> {
        let start = self.time("start", MIN_TIME)?;
        let end = self.time("end", MAX_TIME)?;
        if end < start {
            return Err(ApiError::bad_data("end timestamp must not be before start time"));
        }
        Ok((start, end))
    }
}

impl FromRequest<super::State> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &super::State) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let body = super::read_body(body, state.config.max_body_bytes).await?;
        Ok(Params::parse(parts.uri.query(), &parts.headers, &body))
    }
}

fn parse_selector(s: &str) -> Result<Vec<Matcher>, String> {
    promql::parse_selector(s).map_err(|e| e.to_string())
}

/// A timestamp: Unix seconds (fractions allowed) or RFC 3339; returns ms.
///
/// # Errors
/// A message naming the text when it is neither.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("cannot parse {s:?} to a valid timestamp");
    if let Ok(secs) = s.parse::<f64>() {
        if !secs.is_finite() || secs.abs() > (MAX_TIME / 1000) as f64 {
            return Err(bad());
        }
        return Ok((secs * 1000.0).round() as i64);
    }
    match s {
        MIN_TIME_FORMATTED => Ok(MIN_TIME),
        MAX_TIME_FORMATTED => Ok(MAX_TIME),
        _ => parse_rfc3339(s).ok_or_else(bad),
    }
}

/// `2024-01-02T03:04:05.678Z` or with a `+hh:mm` offset; returns ms.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Round to ms like Prometheus.
        let frac: f64 = format!("0.{}", &s[start..i]).parse().ok()?;
        millis = (frac * 1000.0).round() as i64;
    }
    let offset_secs = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A duration: seconds as a number (`30`, `1.5`) or Prometheus syntax
/// (`1h30m`, `500ms`, units `y w d h m s ms`); returns ms.
///
/// # Errors
/// A message naming the text when it is neither.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("cannot parse {s:?} to a valid duration");
    if let Ok(secs) = s.parse::<f64>() {
        let ms = (secs * 1000.0).round();
        if !ms.is_finite() || ms.abs() > i64::MAX as f64 / 2.0 {
            return Err(bad());
        }
        return Ok(ms as i64);
    }
    const UNITS: [(&str, i64); 7] = [
        ("ms", 1),
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ];
    let mut rest = s;
    let mut total: i64 = 0;
    let mut last_unit = usize::MAX;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        // Units must appear in decreasing size, each at most once; "ms" before "m".
        let (idx, (unit, ms)) = UNITS.iter().enumerate().find(|(_, (u, _))| rest.starts_with(u)).ok_or_else(bad)?;
        let order = if *unit == "ms" { UNITS.len() } else { idx };
        if last_unit != usize::MAX && order <= last_unit {
            return Err(bad());
        }
        last_unit = order;
        rest = &rest[unit.len()..];
        total = n.checked_mul(*ms).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.1234"), Ok(1_700_000_000_123));
        assert_eq!(parse_time("2015-07-01T20:10:51.781Z"), Ok(1_435_781_451_781));
        assert_eq!(parse_time("2015-07-01T22:10:51+02:00"), Ok(1_435_781_451_000));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("2000-02-29T00:00:00Z"), Ok(951_782_400_000));
        assert_eq!(parse_time(MAX_TIME_FORMATTED), Ok(MAX_TIME));
        assert_eq!(parse_time("yesterday"), Err("cannot parse \"yesterday\" to a valid timestamp".into()));
        assert!(parse_time("2015-13-01T00:00:00Z").is_err());
        assert!(parse_time("NaN").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15"), Ok(15_000));
        assert_eq!(parse_duration("0.5"), Ok(500));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("1m500ms"), Ok(60_500));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400_000));
        for bad in ["", "5x", "m", "30m1h", "1m1m", "-5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merged_params_and_limits() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse().unwrap());
        let p = Params::parse(Some("match[]=up&limit=2"), &headers, b"match[]=%7Bjob%3D%22a%22%7D&start=");
        assert_eq!(p.all("match[]"), ["up", "{job=\"a\"}"]);
        assert_eq!(p.get("start"), None);
        assert_eq!(p.limit().unwrap(), Some(2));
        // Without a form content type the body is not parameters.
        let q = Params::parse(None, &HeaderMap::new(), b"limit=1");
        assert_eq!(q.limit().unwrap(), None);
        let neg = Params::parse(Some("limit=-1"), &HeaderMap::new(), b"");
        assert_eq!(neg.limit().unwrap_err().message, "limit must be non-negative");
        let range = Params::parse(Some("start=10&end=5"), &HeaderMap::new(), b"");
        assert!(range.time_range().is_err());
    }
}
