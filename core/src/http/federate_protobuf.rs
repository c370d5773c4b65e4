//! The Prometheus protobuf exposition format (`io.prometheus.client`,
//! length-delimited `MetricFamily` messages), which `/federate` answers
//! in when the scraper asks for it: the only exposition format that carries
//! native histograms. Prometheus negotiates it when it runs with native
//! histograms enabled.
//!
//! Float samples go out as `UNTYPED` metrics. A native histogram goes out as
//! a `HISTOGRAM` (or `GAUGE_HISTOGRAM`) metric with its exponential buckets,
//! counts in the integer form when they are whole numbers (what Prometheus 2.x
//! reads), else the float form. Histograms with custom bucket bounds have no
//! native form in this format; they go out as classic buckets (`le` bounds
//! with cumulative counts), which is what they are made from.

use crate::histogram::FloatHistogram;
use crate::model::{Labels, METRIC_NAME};
use crate::remote::histogram_wire::IntegerCounts;

/// The media type of the format (`Content-Type` of the answer).
pub(crate) const CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// `MetricType.UNTYPED`
const UNTYPED: i32 = 3;
/// `MetricType.HISTOGRAM`
const HISTOGRAM: i32 = 4;
/// `MetricType.GAUGE_HISTOGRAM`
const GAUGE_HISTOGRAM: i32 = 5;

/// `io.prometheus.client.MetricFamily`
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct MetricFamily {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub r#type: Option<i32>,
    #[prost(message, repeated, tag = "4")]
    pub metric: Vec<Metric>,
}

/// `io.prometheus.client.Metric`
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Metric {
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    #[prost(message, optional, tag = "5")]
    pub untyped: Option<Untyped>,
    #[prost(int64, optional, tag = "6")]
    pub timestamp_ms: Option<i64>,
    #[prost(message, optional, tag = "7")]
    pub histogram: Option<Histogram>,
}

/// `io.prometheus.client.LabelPair`
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct LabelPair {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub value: Option<String>,
}

/// `io.prometheus.client.Untyped`
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Untyped {
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
}

/// `io.prometheus.client.Histogram`: classic buckets and/or a native histogram.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Histogram {
    #[prost(uint64, optional, tag = "1")]
    pub sample_count: Option<u64>,
    #[prost(double, optional, tag = "2")]
    pub sample_sum: Option<f64>,
    #[prost(message, repeated, tag = "3")]
    pub bucket: Vec<ClassicBucket>,
    #[prost(double, optional, tag = "4")]
    pub sample_count_float: Option<f64>,
    #[prost(sint32, optional, tag = "5")]
    pub schema: Option<i32>,
    #[prost(double, optional, tag = "6")]
    pub zero_threshold: Option<f64>,
    #[prost(uint64, optional, tag = "7")]
    pub zero_count: Option<u64>,
    #[prost(double, optional, tag = "8")]
    pub zero_count_float: Option<f64>,
    #[prost(message, repeated, tag = "9")]
    pub negative_span: Vec<BucketSpan>,
    #[prost(sint64, repeated, packed = "false", tag = "10")]
    pub negative_delta: Vec<i64>,
    #[prost(double, repeated, packed = "false", tag = "11")]
    pub negative_count: Vec<f64>,
    #[prost(message, repeated, tag = "12")]
    pub positive_span: Vec<BucketSpan>,
    #[prost(sint64, repeated, packed = "false", tag = "13")]
    pub positive_delta: Vec<i64>,
    #[prost(double, repeated, packed = "false", tag = "14")]
    pub positive_count: Vec<f64>,
}

/// `io.prometheus.client.Bucket` (a classic bucket).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ClassicBucket {
    #[prost(uint64, optional, tag = "1")]
    pub cumulative_count: Option<u64>,
    #[prost(double, optional, tag = "2")]
    pub upper_bound: Option<f64>,
    #[prost(double, optional, tag = "4")]
    pub cumulative_count_float: Option<f64>,
}

/// `io.prometheus.client.BucketSpan`
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct BucketSpan {
    #[prost(sint32, optional, tag = "1")]
    pub offset: Option<i32>,
    #[prost(uint32, optional, tag = "2")]
    pub length: Option<u32>,
}

/// One federated sample: its series and its newest value.
pub(crate) enum Value<'a> {
    Float(f64),
    Histogram(&'a FloatHistogram),
}

/// Length-delimited `MetricFamily` messages for `samples`, which must be
/// sorted by metric name. Consecutive samples of one name and one kind
/// (float, counter histogram, gauge histogram) share a family; a name with
/// several kinds gets a family for each, as Prometheus's federation does.
pub(crate) fn encode<'a>(samples: impl IntoIterator<Item = (&'a Labels, i64, Value<'a>)>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut family: Option<MetricFamily> = None;
    for (labels, t, value) in samples {
        let Some(name) = labels.metric_name() else { continue };
        let kind = match &value {
            Value::Float(_) => UNTYPED,
            Value::Histogram(h) if h.counter_reset_hint == crate::histogram::CounterResetHint::Gauge => GAUGE_HISTOGRAM,
            Value::Histogram(_) => HISTOGRAM,
        };
        if family.as_ref().is_none_or(|f| f.name.as_deref() != Some(name) || f.r#type != Some(kind)) {
            if let Some(done) = family.take() {
                prost::Message::encode_length_delimited(&done, &mut out).expect("a Vec grows");
            }
            family = Some(MetricFamily { name: Some(name.to_string()), r#type: Some(kind), metric: Vec::new() });
        }
        let label = labels
            .iter()
            .filter(|l| l.name != METRIC_NAME)
            .map(|l| LabelPair { name: Some(l.name.clone()), value: Some(l.value.clone()) })
            .collect();
        let (untyped, histogram) = match value {
            Value::Float(v) => (Some(Untyped { value: Some(v) }), None),
            Value::Histogram(h) => (None, Some(histogram(h))),
        };
        family.as_mut().expect("set above").metric.push(Metric { label, untyped, timestamp_ms: Some(t), histogram });
    }
    if let Some(done) = family {
        prost::Message::encode_length_delimited(&done, &mut out).expect("a Vec grows");
    }
    out
}

fn spans(spans: &[crate::histogram::BucketSpan]) -> Vec<BucketSpan> {
    spans.iter().map(|s| BucketSpan { offset: Some(s.offset), length: Some(s.length) }).collect()
}

fn histogram(h: &FloatHistogram) -> Histogram {
    let mut out = Histogram { sample_sum: Some(h.sum), ..Default::default() };
    let ints = IntegerCounts::of(h);
    match &ints {
        Some(ints) => out.sample_count = Some(ints.count),
        None => out.sample_count_float = Some(h.count),
    }
    if h.uses_custom_buckets() {
        // Classic buckets: the cumulative count up to every bound (the +Inf bucket is the count).
        let mut per_bound = vec![0.0; h.custom_values.len()];
        for (index, count) in h.positive_indexed() {
            if let Some(slot) = usize::try_from(index).ok().and_then(|i| per_bound.get_mut(i)) {
                *slot += count;
            }
        }
        let mut cumulative = 0.0;
        for (&bound, count) in h.custom_values.iter().zip(per_bound) {
            cumulative += count;
            let whole = ints.is_some();
            out.bucket.push(ClassicBucket {
                upper_bound: Some(bound),
                cumulative_count: whole.then_some(cumulative as u64),
                cumulative_count_float: (!whole).then_some(cumulative),
            });
        }
        return out;
    }
    out.schema = Some(h.schema);
    out.zero_threshold = Some(h.zero_threshold);
    out.negative_span = spans(&h.negative_spans);
    out.positive_span = spans(&h.positive_spans);
    match ints {
        Some(ints) => {
            out.zero_count = Some(ints.zero_count);
            out.negative_delta = ints.negative_deltas;
            out.positive_delta = ints.positive_deltas;
        }
        None => {
            out.zero_count_float = Some(h.zero_count);
            out.negative_count = h.negative_buckets.clone();
            out.positive_count = h.positive_buckets.clone();
        }
    }
    if out.positive_span.is_empty() && out.negative_span.is_empty() && h.zero_threshold == 0.0 && h.zero_count == 0.0 {
        // Without any native field set, a scraper would take it for a classic
        // histogram; an empty span marks it native (as client libraries do).
        out.positive_span.push(BucketSpan { offset: Some(0), length: Some(0) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn decode_all(mut bytes: &[u8]) -> Vec<MetricFamily> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            out.push(MetricFamily::decode_length_delimited(&mut bytes).unwrap());
        }
        out
    }

    fn hist(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap()
    }

    #[test]
    fn floats_and_histograms_get_families_of_their_kind() {
        let l = |s: &str| Labels::parse(s).unwrap();
        let (a, b, g) = (l(r#"m{i="a"}"#), l(r#"m{i="b"}"#), l(r#"m{i="g"}"#));
        let counter =
            hist("{{schema:1 count:5 sum:7 z_bucket:1 z_bucket_w:0.5 offset:-1 buckets:[1 0 3] n_buckets:[0]}}");
        let gauge = hist("{{schema:0 count:1.5 sum:-2 n_buckets:[1.5] counter_reset_hint:gauge}}");
        let bytes = encode([
            (&a, 1_000, Value::Float(0.5)),
            (&b, 2_000, Value::Histogram(&counter)),
            (&g, 3_000, Value::Histogram(&gauge)),
        ]);
        let families = decode_all(&bytes);
        let kinds: Vec<(Option<&str>, Option<i32>, usize)> =
            families.iter().map(|f| (f.name.as_deref(), f.r#type, f.metric.len())).collect();
        assert_eq!(
            kinds,
            [(Some("m"), Some(UNTYPED), 1), (Some("m"), Some(HISTOGRAM), 1), (Some("m"), Some(GAUGE_HISTOGRAM), 1)]
        );
        let first = &families[0].metric[0];
        assert_eq!(first.label, [LabelPair { name: Some("i".into()), value: Some("a".into()) }]);
        assert_eq!((first.untyped.as_ref().unwrap().value, first.timestamp_ms), (Some(0.5), Some(1_000)));

        let h = families[1].metric[0].histogram.as_ref().unwrap();
        assert_eq!((h.sample_count, h.sample_count_float, h.sample_sum), (Some(5), None, Some(7.0)));
        assert_eq!((h.schema, h.zero_threshold, h.zero_count), (Some(1), Some(0.5), Some(1)));
        assert_eq!(h.positive_span, [BucketSpan { offset: Some(-1), length: Some(3) }]);
        assert_eq!(h.positive_delta, [1, -1, 3]);
        assert_eq!(h.negative_delta, [0]);
        assert!(h.positive_count.is_empty() && h.bucket.is_empty());

        let h = families[2].metric[0].histogram.as_ref().unwrap();
        assert_eq!((h.sample_count, h.sample_count_float), (None, Some(1.5)));
        assert_eq!((h.zero_count, h.zero_count_float), (None, Some(0.0)));
        assert_eq!(h.negative_count, [1.5]);
        assert_eq!((h.positive_span.len(), h.negative_span.len()), (0, 1));

        let empty = FloatHistogram::default();
        let families = decode_all(&encode([(&a, 1, Value::Histogram(&empty))]));
        let h = families[0].metric[0].histogram.as_ref().unwrap();
        assert_eq!(h.positive_span, [BucketSpan { offset: Some(0), length: Some(0) }], "marked native");
    }

    #[test]
    fn custom_bucket_histograms_go_out_as_classic_buckets() {
        let l = Labels::parse("size_bytes").unwrap();
        let nhcb = hist("{{schema:-53 count:6 sum:100 custom_values:[10 100 1000] buckets:[1 0 2 3]}}");
        let families = decode_all(&encode([(&l, 5, Value::Histogram(&nhcb))]));
        let h = families[0].metric[0].histogram.as_ref().unwrap();
        let buckets: Vec<(Option<f64>, Option<u64>)> =
            h.bucket.iter().map(|b| (b.upper_bound, b.cumulative_count)).collect();
        assert_eq!(buckets, [(Some(10.0), Some(1)), (Some(100.0), Some(1)), (Some(1000.0), Some(3))]);
        assert_eq!((h.sample_count, h.schema, h.positive_span.len()), (Some(6), None, 0));
    }
}
