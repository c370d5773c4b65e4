//! Whether a histogram is well-formed enough to store: the checks
//! Prometheus's TSDB makes before appending a float histogram (its
//! `FloatHistogram.Validate`), plus the schema range its appender enforces.
//! Counts are not compared with the sum of the buckets: float rounding makes
//! that check unreliable, and Prometheus skips it for float histograms too.

use super::{is_exponential_schema, BucketSpan, FloatHistogram, CUSTOM_BUCKETS_SCHEMA};
use crate::error::{Error, Result};

impl FloatHistogram {
    /// Checks that the histogram can be stored: a schema of -4..=8 or -53;
    /// spans that account for exactly the buckets given, only the first
    /// with a negative offset; no negative bucket counts; for custom buckets,
    /// strictly increasing finite bounds (the +Inf bucket is implied), spans
    /// within them and no zero bucket or negative side; for exponential
    /// schemas, no custom bounds.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] saying what is wrong.
    pub fn validate(&self) -> Result<()> {
        let invalid = |msg: String| Error::invalid(format!("invalid native histogram: {msg}"));
        if self.uses_custom_buckets() {
            check_custom_bounds(&self.custom_values).map_err(|m| invalid(format!("custom buckets: {m}")))?;
            let extent = check_spans(&self.positive_spans, self.positive_buckets.len(), true)
                .map_err(|m| invalid(format!("custom buckets: {m}")))?;
            if extent > self.custom_values.len() as i64 + 1 {
                return Err(invalid(format!(
                    "custom buckets: the spans reach bucket {extent}, but {} bounds make {} buckets",
                    self.custom_values.len(),
                    self.custom_values.len() + 1
                )));
            }
            if self.zero_count != 0.0 || self.zero_threshold != 0.0 {
                return Err(invalid("custom buckets: must have no zero bucket (zero count and threshold 0)".into()));
            }
            if !self.negative_spans.is_empty() || !self.negative_buckets.is_empty() {
                return Err(invalid("custom buckets: must have no negative buckets".into()));
            }
        } else if is_exponential_schema(self.schema) {
            check_spans(&self.positive_spans, self.positive_buckets.len(), false)
                .map_err(|m| invalid(format!("positive side: {m}")))?;
            check_spans(&self.negative_spans, self.negative_buckets.len(), false)
                .map_err(|m| invalid(format!("negative side: {m}")))?;
            if !self.custom_values.is_empty() {
                return Err(invalid(format!("schema {} is exponential and must not have custom bounds", self.schema)));
            }
        } else {
            return Err(invalid(format!(
                "schema {} is not supported (exponential schemas are -4 to 8, custom buckets {CUSTOM_BUCKETS_SCHEMA})",
                self.schema
            )));
        }
        for (side, buckets) in [("positive", &self.positive_buckets), ("negative", &self.negative_buckets)] {
            if let Some((i, c)) = buckets.iter().enumerate().find(|(_, c)| **c < 0.0) {
                return Err(invalid(format!("{side} bucket {i} has the negative count {c}")));
            }
        }
        Ok(())
    }
}

/// Checks that `spans` hold `buckets` buckets and that offsets after the
/// first (all, if `custom`) are not negative; returns the number of bucket
/// positions the spans cover from index 0 (for custom buckets).
fn check_spans(spans: &[BucketSpan], buckets: usize, custom: bool) -> Result<i64, String> {
    let (mut covered, mut extent) = (0u64, 0i64);
    for (i, s) in spans.iter().enumerate() {
        if s.offset < 0 && (i > 0 || custom) {
            return Err(format!("span {} has the negative offset {}", i + 1, s.offset));
        }
        covered += u64::from(s.length);
        extent += i64::from(s.offset) + i64::from(s.length);
    }
    if covered != buckets as u64 {
        return Err(format!("the spans hold {covered} buckets, but {buckets} bucket counts are given"));
    }
    Ok(extent)
}

fn check_custom_bounds(bounds: &[f64]) -> Result<(), String> {
    let mut previous = f64::NEG_INFINITY;
    for &b in bounds {
        if b.is_nan() || b <= previous {
            return Err(format!("bounds must increase strictly, but {b} follows {previous}"));
        }
        previous = b;
    }
    if previous == f64::INFINITY {
        return Err("the +Inf bound is implied and must not be given".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap()
    }

    fn message(h: &FloatHistogram) -> String {
        h.validate().unwrap_err().to_string()
    }

    #[test]
    fn well_formed_histograms_pass() {
        for text in [
            "{{schema:0 count:4 sum:5 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] n_buckets:[0 0]}}",
            "{{schema:-53 count:3 sum:2 custom_values:[1 5] buckets:[1 1 1]}}",
            "{{schema:8 count:0 sum:0}}",
            "{{schema:-4 sum:NaN count:1 offset:-3 buckets:[1]}}",
        ] {
            parse(text).validate().unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        // Spans may be cut anywhere, and later offsets may be 0.
        let mut h = parse("{{schema:0 count:2 buckets:[1 1]}}");
        h.positive_spans = vec![BucketSpan { offset: -2, length: 1 }, BucketSpan { offset: 0, length: 1 }];
        h.validate().unwrap();
    }

    #[test]
    fn malformed_histograms_are_refused_with_the_reason() {
        let mut h = parse("{{schema:0 count:3 buckets:[1 2]}}");
        h.positive_buckets.push(1.0);
        assert!(message(&h).contains("positive side: the spans hold 2 buckets, but 3"), "{}", message(&h));

        let mut h = parse("{{schema:0 count:3 n_buckets:[1 2]}}");
        h.negative_spans.push(BucketSpan { offset: -1, length: 0 });
        assert!(message(&h).contains("negative side: span 2 has the negative offset -1"), "{}", message(&h));

        let mut h = parse("{{schema:0 count:3 buckets:[1 2]}}");
        h.positive_buckets[1] = -2.0;
        assert!(message(&h).contains("positive bucket 1 has the negative count -2"), "{}", message(&h));

        let mut h = parse("{{schema:0 count:1}}");
        h.schema = 9;
        assert!(message(&h).contains("schema 9 is not supported"), "{}", message(&h));
        h.schema = 0;
        h.custom_values = vec![1.0];
        assert!(message(&h).contains("must not have custom bounds"), "{}", message(&h));

        let custom = parse("{{schema:-53 count:2 custom_values:[1 5] buckets:[1 1]}}");
        let mut h = custom.clone();
        h.custom_values = vec![5.0, 1.0];
        assert!(message(&h).contains("increase strictly, but 1 follows 5"), "{}", message(&h));
        h.custom_values = vec![1.0, f64::NAN];
        assert!(message(&h).contains("increase strictly"), "{}", message(&h));
        h.custom_values = vec![1.0, f64::INFINITY];
        assert!(message(&h).contains("+Inf bound is implied"), "{}", message(&h));
        let mut h = custom.clone();
        h.positive_spans = vec![BucketSpan { offset: 2, length: 2 }];
        assert!(message(&h).contains("reach bucket 4, but 2 bounds make 3 buckets"), "{}", message(&h));
        let mut h = custom.clone();
        h.positive_spans = vec![BucketSpan { offset: -1, length: 2 }];
        assert!(message(&h).contains("span 1 has the negative offset -1"), "{}", message(&h));
        let mut h = custom.clone();
        h.zero_count = 1.0;
        assert!(message(&h).contains("no zero bucket"), "{}", message(&h));
        let mut h = custom;
        h.negative_spans = vec![BucketSpan { offset: 0, length: 1 }];
        h.negative_buckets = vec![1.0];
        assert!(message(&h).contains("no negative buckets"), "{}", message(&h));
    }
}
