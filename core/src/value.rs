//! Query results: the typed values PromQL evaluates to, and their rendering as
//! the `data` object of the Prometheus HTTP API.

use std::fmt::Write;

use std::sync::Arc;

use crate::histogram::FloatHistogram;
use crate::model::{HPoint, Labels, Point};

/// One element of an instant vector: a series' labels and one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels.
    pub labels: Labels,
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value (unused for a histogram sample).
    pub v: f64,
    /// For a native-histogram sample: the histogram.
    pub h: Option<Arc<FloatHistogram>>,
}

/// A series with its samples in time order (one element of a range vector / matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// Float samples in ascending time order.
    pub points: Vec<Point>,
    /// Native-histogram samples in ascending time order (a series may hold
    /// both kinds, at different timestamps).
    pub histograms: Vec<HPoint>,
    /// `(t, start timestamp)` of the samples (of either kind) that have a
    /// start timestamp, in ascending `t`; empty when none has one.
    pub start_timestamps: Vec<(i64, i64)>,
}

impl Series {
    /// A series with float samples only.
    pub fn floats(labels: Labels, points: Vec<Point>) -> Series {
        Series { labels, points, histograms: Vec::new(), start_timestamps: Vec::new() }
    }

    /// The start timestamp of the sample at `t`, or 0 when it has none.
    pub fn start_timestamp_at(&self, t: i64) -> i64 {
        start_timestamp_at(&self.start_timestamps, t)
    }

    /// Whether the series has no samples of either kind.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.histograms.is_empty()
    }
}

/// The start timestamp recorded for time `t` in `sts` (sorted `(t, st)`
/// pairs), or 0 when there is none.
pub fn start_timestamp_at(sts: &[(i64, i64)], t: i64) -> i64 {
    sts.binary_search_by_key(&t, |&(at, _)| at).map_or(0, |i| sts[i].1)
}

/// The value of a PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single number at a time.
    Scalar(Point),
    /// A string at a time.
    String {
        /// Milliseconds since the Unix epoch.
        t: i64,
        /// The string.
        value: String,
    },
    /// An instant vector.
    Vector(Vec<Sample>),
    /// A range vector, or the result of a range query.
    Matrix(Vec<Series>),
}

impl Value {
    /// The Prometheus `resultType` name.
    pub fn result_type(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }

    /// Renders the Prometheus API `data` object:
    /// `{"resultType":"vector","result":[{"metric":{…},"value":[1700000000.5,"1"]}]}`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends the Prometheus API `data` object to `out`.
    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"resultType\":\"");
        out.push_str(self.result_type());
        out.push_str("\",\"result\":");
        match self {
            Value::Scalar(p) => write_point(out, p.t, p.v),
            Value::String { t, value } => {
                out.push('[');
                write_timestamp(out, *t);
                out.push(',');
                write_json_string(out, value);
                out.push(']');
            }
            Value::Vector(samples) => {
                out.push('[');
                for (i, s) in samples.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"metric\":");
                    write_labels_json(out, &s.labels);
                    match &s.h {
                        Some(h) => {
                            out.push_str(",\"histogram\":");
                            write_histogram_point(out, s.t, h);
                        }
                        None => {
                            out.push_str(",\"value\":");
                            write_point(out, s.t, s.v);
                        }
                    }
                    out.push('}');
                }
                out.push(']');
            }
            Value::Matrix(series) => {
                out.push('[');
                for (i, s) in series.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"metric\":");
                    write_labels_json(out, &s.labels);
                    // Like Prometheus, each key only when the series has samples of that kind.
                    if !s.points.is_empty() {
                        out.push_str(",\"values\":[");
                        for (j, p) in s.points.iter().enumerate() {
                            if j > 0 {
                                out.push(',');
                            }
                            write_point(out, p.t, p.v);
                        }
                        out.push(']');
                    }
                    if !s.histograms.is_empty() {
                        out.push_str(",\"histograms\":[");
                        for (j, p) in s.histograms.iter().enumerate() {
                            if j > 0 {
                                out.push(',');
                            }
                            write_histogram_point(out, p.t, &p.h);
                        }
                        out.push(']');
                    }
                    out.push('}');
                }
                out.push(']');
            }
        }
        out.push('}');
    }
}

/// The outcome of a query: its value plus the warnings and infos Prometheus
/// would return alongside it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The evaluated value.
    pub value: Value,
    /// Annotations of class warning (e.g. "metric might not be a counter").
    pub warnings: Vec<String>,
    /// Annotations of class info.
    pub infos: Vec<String>,
}

/// Formats a sample value the way Prometheus does (`NaN`, `+Inf`, `-Inf`,
/// otherwise the shortest decimal that round-trips, without exponent).
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        // Go's strconv.FormatFloat(v, 'f', -1, 64) == Rust's shortest Display.
        format!("{v}")
    }
}

/// Writes a millisecond timestamp as Unix seconds with up to 3 decimals.
pub fn write_timestamp(out: &mut String, t: i64) {
    let secs = t.div_euclid(1000);
    let ms = t.rem_euclid(1000);
    if ms == 0 {
        let _ = write!(out, "{secs}");
    } else if secs < 0 && ms != 0 {
        // e.g. -1500 ms is -1.5 s
        let _ = write!(out, "{}", t as f64 / 1000.0);
    } else {
        let frac = format!("{ms:03}");
        let _ = write!(out, "{secs}.{}", frac.trim_end_matches('0'));
    }
}

fn write_point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_timestamp(out, t);
    out.push_str(",\"");
    out.push_str(&format_value(v));
    out.push_str("\"]");
}

/// Writes `[t,{histogram}]` (see [`FloatHistogram::write_api_json`]).
fn write_histogram_point(out: &mut String, t: i64, h: &FloatHistogram) {
    out.push('[');
    write_timestamp(out, t);
    out.push(',');
    h.write_api_json(out);
    out.push(']');
}

/// Writes a label set as a JSON object.
pub fn write_labels_json(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(out, &l.name);
        out.push(':');
        write_json_string(out, &l.value);
    }
    out.push('}');
}

/// Writes `s` as a JSON string literal.
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_json_matches_prometheus_shape() {
        let v = Value::Vector(vec![Sample {
            labels: Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]),
            t: 1_700_000_000_500,
            v: f64::INFINITY,
            h: None,
        }]);
        assert_eq!(
            v.to_json(),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a\"b"},"value":[1700000000.5,"+Inf"]}]}"#
        );
    }

    #[test]
    fn histogram_samples_render_as_histogram_objects() {
        let h = Arc::new(FloatHistogram::parse_test_notation("{{schema:0 count:3 sum:4 buckets:[1 2]}}").unwrap());
        let labels = Labels::from_pairs([("__name__", "h")]);
        let v = Value::Vector(vec![Sample { labels: labels.clone(), t: 1_500, v: 0.0, h: Some(h.clone()) }]);
        assert_eq!(
            v.to_json(),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"h"},"histogram":[1.5,{"count":"3","sum":"4","buckets":[[0,"0.5","1","1"],[0,"1","2","2"]]}]}]}"#
        );
        let hp = HPoint { t: 2_000, h };
        let m = Value::Matrix(vec![
            Series {
                labels: labels.clone(),
                points: vec![Point::new(1_000, 1.0)],
                histograms: vec![hp.clone()],
                start_timestamps: Vec::new(),
            },
            Series { labels: labels.clone(), points: vec![], histograms: vec![hp], start_timestamps: Vec::new() },
            Series::floats(labels, vec![Point::new(1_000, 2.0)]),
        ]);
        let hjson = r#"[2,{"count":"3","sum":"4","buckets":[[0,"0.5","1","1"],[0,"1","2","2"]]}]"#;
        assert_eq!(
            m.to_json(),
            format!(
                r#"{{"resultType":"matrix","result":[{{"metric":{{"__name__":"h"}},"values":[[1,"1"]],"histograms":[{hjson}]}},{{"metric":{{"__name__":"h"}},"histograms":[{hjson}]}},{{"metric":{{"__name__":"h"}},"values":[[1,"2"]]}}]}}"#
            )
        );
    }

    #[test]
    fn timestamps_and_values_format_like_prometheus() {
        let mut s = String::new();
        write_timestamp(&mut s, 1_001);
        s.push(' ');
        write_timestamp(&mut s, -1_500);
        s.push(' ');
        write_timestamp(&mut s, 60_000);
        assert_eq!(s, "1.001 -1.5 60");
        assert_eq!(format_value(1e21), "1000000000000000000000");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(Value::Scalar(Point::new(2000, -1.0)).to_json(), r#"{"resultType":"scalar","result":[2,"-1"]}"#);
    }
}
