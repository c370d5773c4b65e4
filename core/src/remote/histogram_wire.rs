//! Native histograms on the wire: [`FloatHistogram`] to and from the
//! remote-write `Histogram` message.
//!
//! promlite holds float histograms; on the wire a histogram whose counts are
//! all whole numbers goes out in the integer form (`count_int`, delta-encoded
//! buckets), as Prometheus sends the histograms it scrapes, so that receivers
//! that only know integer histograms (Prometheus 2.4x) take it. Anything else
//! goes out in the float form. Received histograms are checked
//! ([`FloatHistogram::validate`]) before they are stored.

use super::prompb::{self, HistogramCount, HistogramZeroCount};
use crate::error::{Error, Result};
use crate::histogram::{BucketSpan, CounterResetHint, FloatHistogram, MAX_EXPONENTIAL_SCHEMA};

/// Highest schema number Prometheus reserves for exponential schemas: finer
/// ones than 8 are accepted and reduced to 8, as Prometheus 3 does.
const MAX_RESERVED_EXPONENTIAL_SCHEMA: i32 = 52;

/// Largest integer every f64 up to which is exact: counts beyond go out as floats.
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// The counts of a histogram whose counts are all whole numbers, in the
/// integer form of the protobuf formats (remote write and the scrape format
/// share it): bucket counts as deltas to the previous bucket of the same side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IntegerCounts {
    pub count: u64,
    pub zero_count: u64,
    pub positive_deltas: Vec<i64>,
    pub negative_deltas: Vec<i64>,
}

impl IntegerCounts {
    /// The integer form of `h`, if every count is a whole number that an f64 holds exactly.
    pub(crate) fn of(h: &FloatHistogram) -> Option<IntegerCounts> {
        let whole = |c: f64| (0.0..=MAX_EXACT_INTEGER).contains(&c) && c.fract() == 0.0;
        let all = [h.count, h.zero_count]
            .into_iter()
            .chain(h.positive_buckets.iter().copied())
            .chain(h.negative_buckets.iter().copied());
        if !all.into_iter().all(whole) {
            return None;
        }
        let deltas = |buckets: &[f64]| {
            let mut previous = 0i64;
            buckets
                .iter()
                .map(|&c| {
                    let c = c as i64;
                    let delta = c - previous;
                    previous = c;
                    delta
                })
                .collect()
        };
        Some(IntegerCounts {
            count: h.count as u64,
            zero_count: h.zero_count as u64,
            positive_deltas: deltas(&h.positive_buckets),
            negative_deltas: deltas(&h.negative_buckets),
        })
    }
}

/// Absolute bucket counts from deltas; `None` if a running count leaves `i64`.
pub(crate) fn counts_from_deltas(deltas: &[i64]) -> Option<Vec<f64>> {
    let mut current = 0i64;
    deltas
        .iter()
        .map(|&d| {
            current = current.checked_add(d)?;
            Some(current as f64)
        })
        .collect()
}

pub(crate) fn hint_code(hint: CounterResetHint) -> i32 {
    match hint {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

fn hint_from_code(code: i32) -> Option<CounterResetHint> {
    Some(match code {
        0 => CounterResetHint::Unknown,
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => return None,
    })
}

fn wire_spans(spans: &[BucketSpan]) -> Vec<prompb::BucketSpan> {
    spans.iter().map(|s| prompb::BucketSpan { offset: s.offset, length: s.length }).collect()
}

fn model_spans(spans: &[prompb::BucketSpan]) -> Vec<BucketSpan> {
    spans.iter().map(|s| BucketSpan { offset: s.offset, length: s.length }).collect()
}

impl prompb::Histogram {
    /// The message for histogram `h` at `t` (ms): the integer form when all
    /// counts are whole numbers, else the float form. Bit-exact either way.
    pub fn from_float_histogram(h: &FloatHistogram, t: i64) -> prompb::Histogram {
        let mut wire = prompb::Histogram {
            sum: h.sum,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            negative_spans: wire_spans(&h.negative_spans),
            positive_spans: wire_spans(&h.positive_spans),
            reset_hint: hint_code(h.counter_reset_hint),
            timestamp: t,
            custom_values: h.custom_values.clone(),
            ..Default::default()
        };
        match IntegerCounts::of(h) {
            Some(ints) => {
                wire.count = Some(HistogramCount::CountInt(ints.count));
                wire.zero_count = Some(HistogramZeroCount::ZeroCountInt(ints.zero_count));
                wire.positive_deltas = ints.positive_deltas;
                wire.negative_deltas = ints.negative_deltas;
            }
            None => {
                wire.count = Some(HistogramCount::CountFloat(h.count));
                wire.zero_count = Some(HistogramZeroCount::ZeroCountFloat(h.zero_count));
                wire.positive_counts = h.positive_buckets.clone();
                wire.negative_counts = h.negative_buckets.clone();
            }
        }
        wire
    }

    /// The histogram this message carries (its timestamp is
    /// [`prompb::Histogram::timestamp`]), checked with
    /// [`FloatHistogram::validate`]. Schemas 9 to 52 are reduced to 8.
    ///
    /// # Errors
    /// [`Error::InvalidInput`]: bucket counts of the other form than the
    /// count (deltas in a float histogram, absolute counts in an integer
    /// one), delta sums beyond 64 bits, an unknown reset hint, or a
    /// histogram `validate` refuses.
    pub fn to_float_histogram(&self) -> Result<FloatHistogram> {
        let invalid = |msg: &str| Err(Error::invalid(format!("invalid native histogram: {msg}")));
        let Some(counter_reset_hint) = hint_from_code(self.reset_hint) else {
            return invalid(&format!("unknown reset hint {}", self.reset_hint));
        };
        let (count, positive_buckets, negative_buckets) = match self.count {
            Some(HistogramCount::CountFloat(count)) => {
                if !self.positive_deltas.is_empty() || !self.negative_deltas.is_empty() {
                    return invalid("a float histogram (count_float) must give absolute bucket counts, not deltas");
                }
                (count, self.positive_counts.clone(), self.negative_counts.clone())
            }
            integer => {
                if !self.positive_counts.is_empty() || !self.negative_counts.is_empty() {
                    return invalid("an integer histogram (count_int) must give bucket deltas, not absolute counts");
                }
                let (Some(positive), Some(negative)) =
                    (counts_from_deltas(&self.positive_deltas), counts_from_deltas(&self.negative_deltas))
                else {
                    return invalid("bucket deltas add up beyond 64 bits");
                };
                let count = match integer {
                    Some(HistogramCount::CountInt(n)) => n as f64,
                    _ => 0.0,
                };
                (count, positive, negative)
            }
        };
        let zero_count = match self.zero_count {
            Some(HistogramZeroCount::ZeroCountInt(n)) => n as f64,
            Some(HistogramZeroCount::ZeroCountFloat(f)) => f,
            None => 0.0,
        };
        let mut h = FloatHistogram {
            counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count,
            count,
            sum: self.sum,
            positive_spans: model_spans(&self.positive_spans),
            negative_spans: model_spans(&self.negative_spans),
            positive_buckets,
            negative_buckets,
            custom_values: self.custom_values.clone(),
        };
        if (MAX_EXPONENTIAL_SCHEMA + 1..=MAX_RESERVED_EXPONENTIAL_SCHEMA).contains(&h.schema) {
            // The checks do not depend on which exponential schema it is.
            let schema = std::mem::replace(&mut h.schema, MAX_EXPONENTIAL_SCHEMA);
            h.validate()?;
            h.schema = schema;
            h.reduce_resolution(MAX_EXPONENTIAL_SCHEMA);
        } else {
            h.validate()?;
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{is_stale_nan, stale_nan};
    use prost::Message;

    fn parse(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap()
    }

    fn round_trip(h: &FloatHistogram) -> (prompb::Histogram, FloatHistogram) {
        let wire = prompb::Histogram::from_float_histogram(h, 1234);
        let decoded = prompb::Histogram::decode(wire.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.encode_to_vec(), wire.encode_to_vec(), "protobuf round trip");
        assert_eq!(decoded.timestamp, 1234);
        let back = decoded.to_float_histogram().unwrap();
        (wire, back)
    }

    #[test]
    fn whole_counts_go_out_as_an_integer_histogram_with_deltas() {
        let h = parse(
            "{{schema:1 count:9 sum:20.5 z_bucket:2 z_bucket_w:0.01 offset:-1 buckets:[1 3 0 2] n_buckets:[1] counter_reset_hint:not_reset}}",
        );
        let (wire, back) = round_trip(&h);
        assert_eq!(wire.count, Some(HistogramCount::CountInt(9)));
        assert_eq!(wire.zero_count, Some(HistogramZeroCount::ZeroCountInt(2)));
        assert_eq!(wire.positive_deltas, [1, 2, -3, 2]);
        assert_eq!(wire.negative_deltas, [1]);
        assert!(wire.positive_counts.is_empty());
        assert_eq!((wire.reset_hint, wire.schema, wire.positive_spans[0].offset), (2, 1, -1));
        assert_eq!(back, h);
    }

    #[test]
    fn fractional_counts_custom_buckets_and_stale_markers_go_out_as_floats_exactly() {
        let h = parse("{{schema:0 count:2.5 sum:3 buckets:[0.5 2] counter_reset_hint:gauge}}");
        let (wire, back) = round_trip(&h);
        assert_eq!(wire.count, Some(HistogramCount::CountFloat(2.5)));
        assert_eq!(wire.positive_counts, [0.5, 2.0]);
        assert!(wire.positive_deltas.is_empty());
        assert_eq!(back, h);

        let nhcb = parse("{{schema:-53 count:3 sum:4 custom_values:[1 2.5] buckets:[1 0 2]}}");
        let (wire, back) = round_trip(&nhcb);
        assert_eq!(wire.custom_values, [1.0, 2.5]);
        assert_eq!(back, nhcb);

        let stale = FloatHistogram { sum: stale_nan(), ..Default::default() };
        let (_, back) = round_trip(&stale);
        assert!(is_stale_nan(back.sum));

        let mut huge = parse("{{schema:0 count:1 buckets:[1]}}");
        huge.count = 1e300;
        assert_eq!(round_trip(&huge).0.count, Some(HistogramCount::CountFloat(1e300)));
    }

    #[test]
    fn finer_schemas_are_reduced_to_8() {
        let wire = prompb::Histogram {
            count: Some(HistogramCount::CountInt(3)),
            schema: 10,
            positive_spans: vec![prompb::BucketSpan { offset: 1, length: 4 }],
            positive_deltas: vec![1, 0, 0, -1],
            ..Default::default()
        };
        let h = wire.to_float_histogram().unwrap();
        assert_eq!(h.schema, 8);
        // Schema-10 buckets 1..=4 all fall into schema-8 bucket 1.
        assert_eq!(h.positive_buckets, [3.0]);
    }

    #[test]
    fn malformed_messages_are_refused() {
        let base = prompb::Histogram {
            count: Some(HistogramCount::CountInt(3)),
            positive_spans: vec![prompb::BucketSpan { offset: 0, length: 2 }],
            positive_deltas: vec![1, 1],
            ..Default::default()
        };
        base.to_float_histogram().unwrap();
        let refused = |change: &dyn Fn(&mut prompb::Histogram)| {
            let mut wire = base.clone();
            change(&mut wire);
            wire.to_float_histogram().unwrap_err().to_string()
        };
        assert!(refused(&|w| w.positive_deltas = vec![1, -2]).contains("negative count -1"));
        assert!(refused(&|w| w.positive_deltas = vec![1]).contains("spans hold 2 buckets, but 1"));
        assert!(refused(&|w| w.positive_counts = vec![1.0, 2.0]).contains("must give bucket deltas"));
        assert!(refused(&|w| w.count = Some(HistogramCount::CountFloat(3.0))).contains("not deltas"));
        assert!(refused(&|w| w.reset_hint = 7).contains("unknown reset hint 7"));
        assert!(refused(&|w| w.schema = 53).contains("schema 53 is not supported"));
        assert!(refused(&|w| w.positive_deltas = vec![i64::MAX, 1]).contains("beyond 64 bits"));
        assert!(refused(&|w| {
            w.schema = -53;
            w.custom_values = vec![2.0, 1.0];
        })
        .contains("custom buckets"));
    }
}
