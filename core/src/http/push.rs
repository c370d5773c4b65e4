//! Pushgateway-compatible push: `PUT|POST|DELETE /metrics/job/<job>{/<label>/<value>}`.
//!
//! The path is the grouping key. Its labels are set on every pushed series
//! (overriding the body). A group remembers which series it holds, per metric
//! family, in a key/value entry `push/<grouping labels>` written in the same
//! commit as the samples, so every push is atomic:
//! - `PUT` replaces the group: series no longer pushed get a stale marker;
//! - `POST` replaces only the families present in the body;
//! - `DELETE` marks every series of the group stale and forgets the group.
//!
//! `PUT` and `POST` also set `push_time_seconds{<grouping labels>}` to the push
//! time, as the Pushgateway does. Samples without a timestamp are stored at the
//! push time. A body that fails to parse stores nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::response::TextError;
use super::telemetry::Source;
use super::{now_ms, run_blocking};
use crate::db::{Batch, MetricMetadata};
use crate::error::{Error, Result};
use crate::exposition::{self, Exposition, Format};
use crate::model::{stale_nan, Labels, METRIC_NAME};

/// The metric recording the last successful push of each group.
const PUSH_TIME: &str = "push_time_seconds";

/// Prefix of the key/value entries holding group membership.
const KV_PREFIX: &str = "push/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Put,
    Post,
    Delete,
}

/// The series of one group, by metric family.
type Members = BTreeMap<String, BTreeSet<Labels>>;

/// Membership as stored in the key/value entry (JSON).
#[derive(Serialize, Deserialize, Default)]
struct StoredMembers {
    families: BTreeMap<String, Vec<BTreeMap<String, String>>>,
}

/// `PUT`, `POST` and `DELETE` on a push path.
pub(crate) async fn handle(
    State(state): State<super::State>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, TextError> {
    let method = match method {
        axum::http::Method::PUT => Method::Put,
        axum::http::Method::POST => Method::Post,
        _ => Method::Delete,
    };
    let group = grouping_key(uri.path())?;
    let pushed = match method {
        Method::Delete => Exposition::default(),
        Method::Put | Method::Post => {
            parse_body(&headers, &super::read_body(body, state.config.max_body_bytes).await?)?
        }
    };
    // One push at a time: membership is read, changed and written back. Two
    // pushes never share a millisecond, so a stale marker never lands on the
    // timestamp of the sample it ends.
    let mut last_push = state.push_lock.lock().await;
    let now = now_ms().max(*last_push + 1);
    *last_push = now;
    let db = state.db.clone();
    let written = run_blocking(move || {
        let key = format!("{KV_PREFIX}{group}");
        let old = match db.kv_get(&key)? {
            Some(bytes) => decode_members(&bytes)?,
            None => Members::new(),
        };
        let (mut batch, members) = apply(method, &group, &old, pushed, now)?;
        batch.put_kv(key, members.map(|m| encode_members(&m)));
        db.write(&batch)
    })
    .await?;
    state.telemetry.add_samples(Source::Push, written);
    Ok(match method {
        Method::Delete => StatusCode::ACCEPTED,
        Method::Put | Method::Post => StatusCode::OK,
    })
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Exposition, TextError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type.is_some_and(|ct| ct.contains("application/vnd.google.protobuf")) {
        return Err(TextError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "protobuf push bodies are not supported; push the text format",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| TextError::bad_request(format!("body is not UTF-8: {e}")))?;
    Ok(exposition::parse(text, Format::detect(content_type, text))?)
}

/// Parses `/metrics/job/<job>{/<label>/<value>}` into the grouping labels.
/// Segments are percent-decoded; a name ending in `@base64` takes a URL-safe
/// base64 value (padding optional, `=` alone for an empty value).
fn grouping_key(path: &str) -> Result<Labels, TextError> {
    let bad = |msg: String| TextError::bad_request(msg);
    let rest = path.strip_prefix("/metrics/").ok_or_else(|| bad(format!("not a push path: {path}")))?;
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() % 2 == 1 {
        return Err(bad(format!("grouping key {rest:?} has a label name without a value")));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in segments.chunks(2) {
        let raw_name = decode_segment(pair[0])?;
        let (name, base64) = match raw_name.strip_suffix("@base64") {
            Some(n) => (n.to_string(), true),
            None => (raw_name, false),
        };
        let value = if base64 { decode_base64(pair[1])? } else { decode_segment(pair[1])? };
        if pairs.is_empty() && name != "job" {
            return Err(bad(format!("a push path starts with /metrics/job/, not /metrics/{name}/")));
        }
        if name.is_empty() || name.starts_with("__") {
            return Err(bad(format!("invalid grouping label name {name:?}")));
        }
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(bad(format!("grouping label {name:?} appears twice")));
        }
        if name == "job" && value.is_empty() {
            return Err(bad("job name is required".into()));
        }
        pairs.push((name, value));
    }
    Ok(Labels::from_pairs(pairs))
}

fn decode_segment(s: &str) -> Result<String, TextError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| TextError::bad_request(format!("path segment {s:?} is not UTF-8")))
}

fn decode_base64(s: &str) -> Result<String, TextError> {
    let bad = || TextError::bad_request(format!("invalid base64 value {s:?} in grouping key"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// Works out what a push writes: the samples, the stale markers, the metadata,
/// and the group's new membership (`None` when the group is gone).
fn apply(
    method: Method,
    group: &Labels,
    old: &Members,
    pushed: Exposition,
    now: i64,
) -> Result<(Batch, Option<Members>)> {
    let mut batch = Batch::new();
    let mut new: Members = BTreeMap::new();
    let mut seen = HashSet::new();
    for sample in pushed.samples {
        if sample.family == PUSH_TIME {
            continue; // the Pushgateway's own value wins
        }
        let mut labels = sample.labels;
        for l in group {
            labels.set(&l.name, &l.value);
        }
        if !seen.insert((labels.clone(), sample.timestamp)) {
            return Err(Error::invalid(format!(
                "duplicate sample for series {labels} after applying the grouping key"
            )));
        }
        batch.add(&labels, sample.timestamp.unwrap_or(now), sample.value);
        new.entry(sample.family).or_default().insert(labels);
    }
    for m in pushed.metadata {
        if m.metric != PUSH_TIME {
            batch.add_metadata(m);
        }
    }
    if method != Method::Delete {
        let mut labels = group.clone();
        labels.set(METRIC_NAME, PUSH_TIME);
        batch.add(&labels, now, now as f64 / 1000.0);
        new.entry(PUSH_TIME.to_string()).or_default().insert(labels);
        batch.add_metadata(MetricMetadata {
            metric: PUSH_TIME.into(),
            kind: "gauge".into(),
            help: "Last Unix time when changing this group in the Pushgateway succeeded.".into(),
            unit: String::new(),
        });
    }

    let replaced: Vec<&String> = match method {
        Method::Put | Method::Delete => old.keys().collect(),
        Method::Post => old.keys().filter(|f| new.contains_key(*f)).collect(),
    };
    let still_pushed: HashSet<&Labels> = new.values().flatten().collect();
    for family in &replaced {
        for series in &old[*family] {
            if !still_pushed.contains(series) {
                batch.add(series, now, stale_nan());
            }
        }
    }

    let members = match method {
        Method::Delete => None,
        Method::Put => Some(new),
        Method::Post => {
            let mut merged: Members =
                old.iter().filter(|(f, _)| !new.contains_key(*f)).map(|(f, s)| (f.clone(), s.clone())).collect();
            merged.extend(new);
            Some(merged)
        }
    };
    Ok((batch, members))
}

fn encode_members(members: &Members) -> Vec<u8> {
    let stored = StoredMembers {
        families: members
            .iter()
            .map(|(family, series)| {
                let list =
                    series.iter().map(|l| l.iter().map(|l| (l.name.clone(), l.value.clone())).collect()).collect();
                (family.clone(), list)
            })
            .collect(),
    };
    serde_json::to_vec(&stored).unwrap_or_default()
}

fn decode_members(bytes: &[u8]) -> Result<Members> {
    let stored: StoredMembers =
        serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(format!("push group membership: {e}")))?;
    Ok(stored
        .families
        .into_iter()
        .map(|(family, list)| (family, list.into_iter().map(Labels::from_pairs).collect()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::is_stale_nan;

    fn body(text: &str) -> Exposition {
        exposition::parse(text, Format::PrometheusText).unwrap()
    }

    fn group() -> Labels {
        grouping_key("/metrics/job/batch/instance/a").unwrap()
    }

    /// (series, value) pairs of a batch, as text, stale markers shown as "stale".
    fn written(batch: &Batch) -> Vec<String> {
        let mut out: Vec<String> = batch
            .series()
            .iter()
            .flat_map(|(l, pts)| pts.iter().map(move |p| (l, p)))
            .filter(|(l, _)| l.metric_name() != Some(PUSH_TIME))
            .map(|(l, p)| if is_stale_nan(p.v) { format!("{l} stale") } else { format!("{l} {}", p.v) })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn grouping_keys() {
        assert_eq!(group().to_string(), r#"{instance="a", job="batch"}"#);
        let k = grouping_key("/metrics/job@base64/L3Zhci90bXA/path@base64/L3Zhci90bXA=/empty@base64/=/name/%CE%A0x")
            .unwrap();
        assert_eq!(k.get("job"), Some("/var/tmp"));
        assert_eq!(k.get("path"), Some("/var/tmp"));
        assert_eq!(k.get("empty"), None);
        assert_eq!(k.get("name"), Some("Πx"));
        for bad in [
            "/metrics/job",
            "/metrics/job/a/instance",
            "/metrics/instance/a",
            "/metrics/job/a/__x/b",
            "/metrics/job/a/job/b",
            "/metrics/job@base64/=",
            "/metrics/job/a/x@base64/!!",
        ] {
            assert!(grouping_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn put_replaces_the_group_and_marks_missing_series_stale() {
        let (b1, m1) = apply(
            Method::Put,
            &group(),
            &Members::new(),
            body("a{x=\"1\"} 1\na{x=\"2\"} 2\nb{job=\"other\"} 3\n"),
            1000,
        )
        .unwrap();
        assert_eq!(
            written(&b1),
            [
                r#"a{instance="a", job="batch", x="1"} 1"#,
                r#"a{instance="a", job="batch", x="2"} 2"#,
                r#"b{instance="a", job="batch"} 3"#
            ]
        );
        let m1 = m1.unwrap();
        assert_eq!(m1.keys().collect::<Vec<_>>(), ["a", "b", PUSH_TIME]);
        // push_time_seconds is in the group, valued at the push time in seconds.
        let pt = b1.series().iter().find(|(l, _)| l.metric_name() == Some(PUSH_TIME)).unwrap();
        assert_eq!((pt.0.to_string().as_str(), pt.1[0].v), (r#"push_time_seconds{instance="a", job="batch"}"#, 1.0));

        let (b2, m2) = apply(Method::Put, &group(), &m1, body("a{x=\"1\"} 10\n"), 2000).unwrap();
        assert_eq!(
            written(&b2),
            [
                r#"a{instance="a", job="batch", x="1"} 10"#,
                r#"a{instance="a", job="batch", x="2"} stale"#,
                r#"b{instance="a", job="batch"} stale"#
            ]
        );
        assert_eq!(m2.unwrap().keys().collect::<Vec<_>>(), ["a", PUSH_TIME]);

        // An empty PUT empties the group but still records the push time.
        let (b3, m3) = apply(Method::Put, &group(), &m1, Exposition::default(), 3000).unwrap();
        assert_eq!(written(&b3).len(), 3);
        assert_eq!(b3.len(), 4);
        assert_eq!(m3.unwrap().keys().collect::<Vec<_>>(), [PUSH_TIME]);
    }

    #[test]
    fn post_replaces_only_pushed_families() {
        let (_, m1) =
            apply(Method::Put, &group(), &Members::new(), body("a{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\n"), 1000).unwrap();
        let (b2, m2) = apply(Method::Post, &group(), &m1.unwrap(), body("a{x=\"3\"} 4\n"), 2000).unwrap();
        assert_eq!(
            written(&b2),
            [
                r#"a{instance="a", job="batch", x="1"} stale"#,
                r#"a{instance="a", job="batch", x="2"} stale"#,
                r#"a{instance="a", job="batch", x="3"} 4"#
            ]
        );
        let m2 = m2.unwrap();
        assert_eq!(m2["a"].len(), 1);
        assert_eq!(m2["b"].len(), 1);
    }

    #[test]
    fn delete_marks_everything_stale_and_forgets_the_group() {
        let (_, m1) = apply(Method::Put, &group(), &Members::new(), body("a 1\nb 2\n"), 1000).unwrap();
        let (b, m) = apply(Method::Delete, &group(), &m1.unwrap(), Exposition::default(), 2000).unwrap();
        assert!(m.is_none());
        assert_eq!(b.len(), 3, "a, b and push_time_seconds");
        assert!(b.series().iter().all(|(_, p)| is_stale_nan(p[0].v) && p[0].t == 2000));
    }

    #[test]
    fn grouping_labels_override_the_body_and_histograms_keep_their_family() {
        let text = "# TYPE h histogram\nh_bucket{le=\"1\",job=\"x\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
        let (b, m) = apply(Method::Put, &group(), &Members::new(), body(text), 1000).unwrap();
        assert!(written(&b).iter().all(|s| s.contains("job=\"batch\"")));
        assert_eq!(m.unwrap()["h"].len(), 4);
        assert_eq!(b.metadata()[0].kind, "histogram");
        // Two body series that become one after the override are refused.
        let clash = apply(Method::Put, &group(), &Members::new(), body("a{job=\"x\"} 1\na{job=\"y\"} 2\n"), 1000);
        assert!(clash.unwrap_err().to_string().contains("duplicate sample"));
    }

    #[test]
    fn membership_round_trips() {
        let (_, m) = apply(Method::Put, &group(), &Members::new(), body("a{x=\"q\\\"uote\"} 1\n"), 1000).unwrap();
        let m = m.unwrap();
        assert_eq!(decode_members(&encode_members(&m)).unwrap(), m);
    }
}
