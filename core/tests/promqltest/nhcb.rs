//! `load_with_nhcb`: besides the classic histogram series themselves
//! (`x_bucket{le=…}`, `x_count`, `x_sum`), the harness loads each classic
//! histogram as a native histogram with custom buckets (`x`), one sample
//! per timestamp, as Prometheus's harness does.

use std::collections::BTreeMap;

use promlite::histogram::{BucketSpan, FloatHistogram, CUSTOM_BUCKETS_SCHEMA};
use promlite::Labels;

use super::script::LoadSeries;
use super::series_desc::SeqValue;

/// One classic histogram at one timestamp, as its series are read.
#[derive(Default)]
struct Classic {
    /// (upper bound, cumulative count), ascending by bound.
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
}

impl Classic {
    fn set_bucket(&mut self, le: f64, count: f64) -> Result<(), String> {
        if count < 0.0 {
            return Err(format!("bucket count must be non-negative: le={le}, count={count}"));
        }
        let i = self.buckets.partition_point(|&(b, _)| b < le);
        if self.buckets.get(i).is_some_and(|&(b, _)| b == le) {
            return Ok(()); // A duplicate bound (e.g. "0.2" and "2e-1"): the first one counts.
        }
        if i > 0 && count < self.buckets[i - 1].1 {
            return Err(format!("count is not cumulative: {count} < {}", self.buckets[i - 1].1));
        }
        if let Some(&(_, next)) = self.buckets.get(i) {
            if count > next {
                return Err(format!("count is not cumulative: {count} > {next}"));
            }
        }
        self.buckets.insert(i, (le, count));
        Ok(())
    }

    /// The native histogram with custom bounds: bucket counts made
    /// non-cumulative, a +Inf bucket added if missing, the count checked.
    fn convert(mut self) -> Result<FloatHistogram, String> {
        let count = match self.count {
            Some(c) => c,
            None => self.buckets.last().map(|b| b.1).ok_or("count must be provided when no buckets are present")?,
        };
        if self.buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
            self.buckets.push((f64::INFINITY, count));
        }
        let last = self.buckets[self.buckets.len() - 1].1;
        if last != count {
            return Err(format!("count mismatch: count={count} != le=+Inf count={last}"));
        }
        let mut previous = 0.0;
        let positive_buckets = self
            .buckets
            .iter()
            .map(|&(_, c)| {
                let bucket = c - previous;
                previous = c;
                bucket
            })
            .collect::<Vec<f64>>();
        let mut h = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count,
            sum: self.sum,
            positive_spans: vec![BucketSpan { offset: 0, length: positive_buckets.len() as u32 }],
            positive_buckets,
            custom_values: self.buckets.iter().map(|b| b.0).filter(|b| b.is_finite()).collect(),
            ..FloatHistogram::default()
        };
        h.compact(0);
        Ok(h)
    }
}

/// Parses an `le` value as Go's `strconv.ParseFloat` (bounds that are not
/// numbers, or NaN, are left out of the conversion).
fn parse_bound(le: &str) -> Option<f64> {
    let lower = le.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    let v = if body == "inf" || body == "infinity" {
        if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    } else {
        le.parse::<f64>().ok()?
    };
    (!v.is_nan()).then_some(v)
}

/// The native histograms (labels, timestamp, histogram) that the classic
/// histograms among `series` convert to, sampled every `interval` ms.
pub fn convert(series: &[LoadSeries], interval: i64) -> Result<Vec<(Labels, i64, FloatHistogram)>, String> {
    let mut classics: BTreeMap<Labels, BTreeMap<i64, Classic>> = BTreeMap::new();
    for s in series {
        let Some(name) = s.labels.metric_name() else { continue };
        enum Part {
            Bucket(f64),
            Count,
            Sum,
        }
        let (base, part) = if let Some(base) = name.strip_suffix("_bucket") {
            let le = s.labels.get("le").ok_or_else(|| format!("expected bucket label in metric {}", s.labels))?;
            let Some(bound) = parse_bound(le) else { continue };
            (base, Part::Bucket(bound))
        } else if let Some(base) = name.strip_suffix("_sum") {
            (base, Part::Sum)
        } else if let Some(base) = name.strip_suffix("_count") {
            (base, Part::Count)
        } else {
            continue;
        };
        let mut labels = s.labels.clone();
        labels.set("__name__", base);
        labels.remove("le");
        let by_time = classics.entry(labels).or_default();
        for (i, v) in s.values.iter().enumerate() {
            let SeqValue::Float(f) = v else { continue };
            let c = by_time.entry(i as i64 * interval).or_default();
            match part {
                Part::Bucket(le) => c.set_bucket(le, *f)?,
                Part::Count if *f < 0.0 => return Err(format!("count must be non-negative: count={f}")),
                Part::Count => c.count = Some(*f),
                Part::Sum => c.sum = *f,
            }
        }
    }
    let mut out = Vec::new();
    for (labels, by_time) in classics {
        for (t, c) in by_time {
            out.push((labels.clone(), t, c.convert()?));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series_desc::parse_series_line;

    fn series(lines: &[&str]) -> Vec<LoadSeries> {
        lines
            .iter()
            .map(|l| {
                let (labels, values) = parse_series_line(l).unwrap();
                LoadSeries { labels, values, starts: Vec::new() }
            })
            .collect()
    }

    #[test]
    fn classic_buckets_become_custom_bucket_histograms() {
        let s = series(&[
            r#"h_bucket{le="0.1", a="x"} 1 2"#,
            r#"h_bucket{le="1", a="x"} 3 4"#,
            r#"h_bucket{le="1e0", a="x"} 9 9"#,
            r#"h_bucket{le="+Inf", a="x"} 4 6"#,
            r#"h_sum{a="x"} 10 20"#,
        ]);
        let got = convert(&s, 60_000).unwrap();
        assert_eq!(got.len(), 2);
        let (labels, t, h) = &got[1];
        assert_eq!(labels, &Labels::from_pairs([("__name__", "h"), ("a", "x")]));
        assert_eq!(*t, 60_000);
        assert_eq!((h.schema, h.count, h.sum), (CUSTOM_BUCKETS_SCHEMA, 6.0, 20.0));
        assert_eq!(h.custom_values, vec![0.1, 1.0]);
        assert_eq!(h.positive_buckets, vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn missing_inf_bucket_takes_the_count_and_inconsistencies_fail() {
        let s = series(&[r#"h_bucket{le="5"} 2"#, "h_count 3"]);
        let h = &convert(&s, 1).unwrap()[0].2;
        assert_eq!((h.custom_values.clone(), h.positive_buckets.clone()), (vec![5.0], vec![2.0, 1.0]));
        assert!(convert(&series(&[r#"h_bucket{le="1"} 5"#, r#"h_bucket{le="2"} 3"#]), 1).is_err());
        assert!(convert(&series(&[r#"h_bucket{le="+Inf"} 5"#, "h_count 6"]), 1).is_err());
        assert!(convert(&series(&["h_sum 3"]), 1).is_err(), "no count and no buckets");
    }
}
