//! The histogram object of the Prometheus HTTP API.

use super::FloatHistogram;
use crate::value::format_value;

/// One bucket as the Prometheus HTTP API lists it (see [`FloatHistogram::api_buckets`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiBucket {
    /// 0 = open left `(lower, upper]`, 1 = open right `[lower, upper)`,
    /// 2 = open both, 3 = closed both.
    pub boundary_rule: u8,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Observations in the bucket.
    pub count: f64,
}

impl FloatHistogram {
    /// The buckets the HTTP API lists: those with observations, from the
    /// lowest value up, with Prometheus's boundary rules. The bindings
    /// return these too.
    pub fn api_buckets(&self) -> impl Iterator<Item = ApiBucket> + '_ {
        self.all_buckets().filter(|b| b.count != 0.0).map(|b| ApiBucket {
            boundary_rule: match (b.lower_inclusive, b.upper_inclusive) {
                (false, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (true, true) => 3,
            },
            lower: b.lower,
            upper: b.upper,
            count: b.count,
        })
    }

    /// Appends the Prometheus HTTP API form of the histogram:
    /// `{"count":"4","sum":"10","buckets":[[0,"0.5","1","1"],…]}`: the
    /// [`FloatHistogram::api_buckets`] as `[boundary_rule, lower, upper,
    /// count]`, the `buckets` key left out when there are none.
    pub fn write_api_json(&self, out: &mut String) {
        out.push_str("{\"count\":\"");
        out.push_str(&format_value(self.count));
        out.push_str("\",\"sum\":\"");
        out.push_str(&format_value(self.sum));
        out.push('"');
        let mut first = true;
        for b in self.api_buckets() {
            out.push_str(if first { ",\"buckets\":[" } else { "," });
            first = false;
            out.push('[');
            out.push(char::from(b'0' + b.boundary_rule));
            for v in [b.lower, b.upper, b.count] {
                out.push_str(",\"");
                out.push_str(&format_value(v));
                out.push('"');
            }
            out.push(']');
        }
        if !first {
            out.push(']');
        }
        out.push('}');
    }

    /// The Prometheus HTTP API form as a new string (see [`FloatHistogram::write_api_json`]).
    pub fn to_api_json(&self) -> String {
        let mut out = String::new();
        self.write_api_json(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap()
    }

    #[test]
    fn exponential_buckets_with_zero_and_negative_buckets() {
        let got =
            h("{{schema:0 count:8 sum:3.5 z_bucket:1 z_bucket_w:0.25 buckets:[2 0 3] n_buckets:[2]}}").to_api_json();
        assert_eq!(
            got,
            r#"{"count":"8","sum":"3.5","buckets":[[1,"-1","-0.5","2"],[3,"-0.25","0.25","1"],[0,"0.5","1","2"],[0,"2","4","3"]]}"#
        );
    }

    #[test]
    fn custom_buckets_run_from_minus_to_plus_infinity() {
        let got = h("{{schema:-53 count:6 sum:40 custom_values:[5 10] buckets:[1 2 3]}}").to_api_json();
        assert_eq!(
            got,
            r#"{"count":"6","sum":"40","buckets":[[3,"-Inf","5","1"],[0,"5","10","2"],[0,"10","+Inf","3"]]}"#
        );
    }

    #[test]
    fn empty_histograms_have_no_buckets_key() {
        assert_eq!(h("{{sum:NaN}}").to_api_json(), r#"{"count":"0","sum":"NaN"}"#);
        assert_eq!(h("{{count:2 buckets:[0 0]}}").to_api_json(), r#"{"count":"2","sum":"0"}"#);
    }
}
