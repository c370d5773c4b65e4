//! Query results in the shape of the Prometheus API's `data` object, with
//! numbers instead of strings: `{ resultType, result }` where a sample is
//! `[t, v]` (`t` in Unix seconds) and a native-histogram sample
//! `[t, { count, sum, buckets }]` (`histogram` in a vector, `histograms` in a
//! matrix). Built off the event loop for async calls.

use std::collections::BTreeMap;

use napi::bindgen_prelude::Either4;
use napi_derive::napi;
use promlite::{Labels, Value};

use crate::convert::ms_to_seconds;
use crate::histogram::HistogramValue;

/// A label set as a plain object, keys in name order.
pub type Metric = BTreeMap<String, String>;

/// One element of an instant vector: `value` or `histogram`.
#[napi(object, object_from_js = false)]
pub struct VectorSample {
    /// The series' labels.
    pub metric: Metric,
    /// `[t, v]` of a float sample.
    pub value: Option<(f64, f64)>,
    /// `[t, { count, sum, buckets }]` of a native-histogram sample.
    pub histogram: Option<(f64, HistogramValue)>,
}

/// One series of a matrix; as in the API, each key only when the series has
/// samples of that kind.
#[napi(object, object_from_js = false)]
pub struct MatrixSeries {
    /// The series' labels.
    pub metric: Metric,
    /// `[[t, v], ...]` in time order.
    pub values: Option<Vec<(f64, f64)>>,
    /// `[[t, { count, sum, buckets }], ...]` in time order.
    pub histograms: Option<Vec<(f64, HistogramValue)>>,
}

/// `[t, v]` of a scalar, `[t, s]` of a string, or the vector/matrix elements.
pub type ResultData = Either4<(f64, f64), (f64, String), Vec<VectorSample>, Vec<MatrixSeries>>;

/// The value of a query.
#[napi(object, object_from_js = false)]
pub struct QueryResult {
    /// `scalar`, `string`, `vector` or `matrix`.
    pub result_type: String,
    /// The value, shaped by `result_type`.
    pub result: ResultData,
}

/// A label set as a plain object.
pub fn metric(labels: &Labels) -> Metric {
    labels.iter().map(|l| (l.name.clone(), l.value.clone())).collect()
}

impl From<Value> for QueryResult {
    fn from(value: Value) -> Self {
        let result_type = value.result_type().to_string();
        let result = match value {
            Value::Scalar(p) => Either4::A((ms_to_seconds(p.t), p.v)),
            Value::String { t, value } => Either4::B((ms_to_seconds(t), value)),
            Value::Vector(samples) => Either4::C(
                samples
                    .iter()
                    .map(|s| {
                        let t = ms_to_seconds(s.t);
                        VectorSample {
                            metric: metric(&s.labels),
                            value: s.h.is_none().then_some((t, s.v)),
                            histogram: s.h.as_ref().map(|h| (t, HistogramValue::from(&**h))),
                        }
                    })
                    .collect(),
            ),
            Value::Matrix(series) => Either4::D(
                series
                    .iter()
                    .map(|s| MatrixSeries {
                        metric: metric(&s.labels),
                        values: (!s.points.is_empty() || s.histograms.is_empty())
                            .then(|| s.points.iter().map(|p| (ms_to_seconds(p.t), p.v)).collect()),
                        histograms: (!s.histograms.is_empty()).then(|| {
                            s.histograms.iter().map(|p| (ms_to_seconds(p.t), HistogramValue::from(&*p.h))).collect()
                        }),
                    })
                    .collect(),
            ),
        };
        QueryResult { result_type, result }
    }
}
