//! The trim operators: `h </ x` keeps the observations at or below `x`,
//! `h >/ x` those at or above `x`. A bucket the cutoff falls into keeps the
//! interpolated part of its count (exponentially in exponential buckets,
//! linearly in custom buckets and the zero bucket), and the sum is estimated
//! anew from the kept buckets.

use super::{Bucket, FloatHistogram};

/// Which side of the cutoff a trim keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// `</`: observations up to the cutoff.
    Below,
    /// `>/`: observations from the cutoff on.
    Above,
}

/// How a bucket is interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Linear,
    Exponential,
}

/// The part of one bucket a trim keeps: its count and the value standing in
/// for each of its observations.
struct Kept {
    count: f64,
    representative: f64,
}

/// A representative value for observations spread over `[lo, hi]`.
fn representative(lo: f64, hi: f64, scale: Scale) -> f64 {
    if lo == f64::NEG_INFINITY {
        hi
    } else if hi == f64::INFINITY {
        lo
    } else if scale == Scale::Linear {
        (lo + hi) / 2.0
    } else if hi < 0.0 {
        -(lo * hi).sqrt()
    } else {
        (lo * hi).sqrt()
    }
}

/// The fraction of `[lower, upper]` below `x` (lower < x < upper, both finite).
fn fraction_below(lower: f64, upper: f64, x: f64, scale: Scale) -> f64 {
    match scale {
        Scale::Linear => (x - lower) / (upper - lower),
        Scale::Exponential if x > 0.0 => (x.log2() - lower.log2()) / (upper.log2() - lower.log2()),
        // Negative buckets mirror: the part below x is the far end in absolute value.
        Scale::Exponential => {
            let (l, u, v) = (lower.abs().log2(), upper.abs().log2(), x.abs().log2());
            (l - v) / (l - u)
        }
    }
}

/// What a trim keeps of bucket `b` (with `lower` possibly -Inf and `upper`
/// possibly +Inf for the outer custom buckets).
fn keep_of(b: &Bucket, x: f64, keep: Keep, scale: Scale) -> Kept {
    let full = Kept { count: b.count, representative: representative(b.lower, b.upper, scale) };
    let none = Kept { count: 0.0, representative: 0.0 };
    let partial = |fraction: f64, lo: f64, hi: f64| Kept {
        count: b.count * fraction,
        representative: representative(lo, hi, scale),
    };
    match keep {
        Keep::Below if b.upper <= x => full,
        Keep::Below if b.lower >= x => none,
        Keep::Above if b.lower >= x => full,
        Keep::Above if b.upper <= x => none,
        // From here on x lies inside the bucket. An infinitely wide end
        // counts as lying entirely beyond any finite cutoff.
        Keep::Below if b.upper == f64::INFINITY => none,
        Keep::Below if b.lower == f64::NEG_INFINITY => partial(1.0, f64::NEG_INFINITY, x),
        Keep::Above if b.lower == f64::NEG_INFINITY => none,
        Keep::Above if b.upper == f64::INFINITY => partial(1.0, x, f64::INFINITY),
        Keep::Below => partial(fraction_below(b.lower, b.upper, x, scale), b.lower, x),
        Keep::Above => partial(1.0 - fraction_below(b.lower, b.upper, x, scale), x, b.upper),
    }
}

impl FloatHistogram {
    /// `h </ x`: the observations at or below `x`.
    pub fn trim_upper(&self, x: f64) -> FloatHistogram {
        self.trim(x, Keep::Below)
    }

    /// `h >/ x`: the observations at or above `x`.
    pub fn trim_lower(&self, x: f64) -> FloatHistogram {
        self.trim(x, Keep::Above)
    }

    fn trim(&self, x: f64, keep: Keep) -> FloatHistogram {
        if x.is_nan() {
            return self.clone();
        }
        let custom = self.uses_custom_buckets();
        let bucket_scale = if custom { Scale::Linear } else { Scale::Exponential };
        let mut out = self.clone();
        let (mut count, mut sum, mut changed) = (0.0, 0.0, false);
        let mut take = |b: &Bucket, scale: Scale| {
            let kept = keep_of(b, x, keep, scale);
            changed |= kept.count != b.count;
            count += kept.count;
            if kept.count != 0.0 {
                sum += kept.count * kept.representative;
            }
            kept.count
        };
        let first_custom = |mut b: Bucket| {
            // The first custom bucket reaches down to -Inf; with a positive
            // bound its observations are taken to be non-negative, except
            // when keeping what lies above a negative cutoff or the bucket is
            // the only one, (-Inf,+Inf] (as Prometheus's test cases pin down).
            let above_ok = x >= 0.0 && b.upper != f64::INFINITY;
            if custom && b.lower == f64::NEG_INFINITY && b.upper > 0.0 && (keep == Keep::Below || above_ok) {
                b.lower = 0.0;
            }
            b
        };
        let positive: Vec<f64> = self
            .positive_buckets_iter()
            .map(|b| take(&first_custom(self.clip_to_zero_bucket(b)), bucket_scale))
            .collect();
        let negative: Vec<f64> =
            self.negative_buckets_iter().map(|b| take(&self.clip_to_zero_bucket(b), bucket_scale)).collect();
        let mut zero = self.zero_bucket();
        self.zero_bucket_towards_populated_side(&mut zero);
        let zero_count = if self.zero_count == 0.0 { 0.0 } else { take(&zero, Scale::Linear) };
        if !changed {
            return out;
        }
        out.positive_buckets = positive;
        out.negative_buckets = negative;
        out.zero_count = zero_count;
        out.count = count;
        out.sum = sum;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn h(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn trims_interpolate_inside_buckets_and_reestimate_the_sum() {
        let x = h("{{schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]}}");
        // Half of (1,2] lies below √2 on the logarithmic scale; its observations sit at 2^0.25.
        let got = x.trim_upper(std::f64::consts::SQRT_2);
        assert!(
            got.approx_eq(
                &h("{{count:8 sum:0.2570938865989847 z_bucket:1 z_bucket_w:0.001 buckets:[2 2] n_buckets:[1 2]}}"),
                1e-6
            ),
            "{got}"
        );
        // A cutoff on a bucket boundary needs no interpolation.
        let got = x.trim_lower(2.0);
        assert!(
            got.approx_eq(&h("{{count:24 sum:113.13708498984761 z_bucket_w:0.001 offset:2 buckets:[8 16]}}"), 1e-6),
            "{got}"
        );
        // Nothing trimmed: unchanged, sum included.
        assert_eq!(x.trim_lower(f64::NEG_INFINITY), x);
        assert_eq!(x.trim_upper(f64::INFINITY), x);
        assert_eq!(x.trim_upper(f64::NAN), x);
        // Everything trimmed.
        assert!(x.trim_lower(f64::INFINITY).approx_eq(&h("{{schema:0 z_bucket_w:0.001}}"), 0.0));
    }

    #[test]
    fn custom_buckets_trim_linearly_and_infinite_buckets_all_or_nothing() {
        let c = h("{{schema:-53 sum:172.5 count:15 custom_values:[5 10 15 20] buckets:[1 6 4 3 1]}}");
        let got = c.trim_upper(13.0);
        assert!(
            got.approx_eq(&h("{{schema:-53 count:9.4 sum:75.1 custom_values:[5 10 15 20] buckets:[1 6 2.4]}}"), 1e-9),
            "{got}"
        );
        // The (20,+Inf] bucket: none of it below 50, all of it above 13 (standing at 20).
        let got = c.trim_upper(50.0);
        assert!(
            got.approx_eq(&h("{{schema:-53 count:14 sum:150 custom_values:[5 10 15 20] buckets:[1 6 4 3]}}"), 1e-9),
            "{got}"
        );
        // The (-Inf,5] bucket counts as [0,5].
        assert_eq!(c.trim_lower(0.0), c);
        assert_eq!(c.trim_upper(0.0).count, 0.0);
    }

    /// Runs every trim case of native_histograms.test: `NAME </ X`, `NAME >/ X`
    /// and `histogram_count(…)`/`histogram_sum(…)` of them.
    #[test]
    fn trim_cases_of_the_prometheus_test_data() {
        let dir = super::super::promql_testdata_dir();
        let text = std::fs::read_to_string(dir.join("native_histograms.test")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Series text (`name{labels}`) → its first loaded histogram.
        let mut loaded: HashMap<String, FloatHistogram> = HashMap::new();
        let series_key = |s: &str| s.split_whitespace().collect::<String>().replace("{}", "");
        let (mut checked, mut i) = (0, 0);
        while i < lines.len() {
            let line = lines[i].trim();
            i += 1;
            if let Some(at) = line.find("{{") {
                if !line.starts_with("eval") && !line.starts_with('#') && lines[i - 1].starts_with(char::is_whitespace)
                {
                    let (hist, _) = FloatHistogram::parse_test_notation_prefix(&line[at..]).unwrap();
                    loaded.entry(series_key(&line[..at])).or_insert(hist);
                    continue;
                }
            }
            if line == "clear" {
                loaded.clear();
                continue;
            }
            let Some(query) = line.strip_prefix("eval instant at 1m ") else { continue };
            let (wrapper, inner) = match query.split_once('(') {
                Some((f @ ("histogram_count" | "histogram_sum"), rest)) if rest.ends_with(')') => {
                    (Some(f), &rest[..rest.len() - 1])
                }
                _ => (None, query),
            };
            let Some((name, op, cutoff)) = ["</", ">/"].iter().find_map(|op| {
                let (n, x) = inner.split_once(op)?;
                Some((n.trim(), *op, x.trim()))
            }) else {
                continue;
            };
            let Ok(x) = cutoff.parse::<f64>() else { continue }; // e.g. `on (label) float_for_join`
            while i < lines.len() && lines[i].trim_start().starts_with("expect") {
                i += 1;
            }
            while i < lines.len() && !lines[i].trim().is_empty() {
                let expected = lines[i].trim();
                i += 1;
                let (labels, value) = expected.split_at(expected.find(['}', ' ']).map_or(0, |p| p + 1));
                let labels = labels.trim().trim_start_matches(name).to_string();
                let input = &loaded[&series_key(&format!("{name}{labels}"))];
                let got = if op == "</" { input.trim_upper(x) } else { input.trim_lower(x) };
                let context = format!("line {i}: {query} → {got}");
                match wrapper {
                    None => assert!(got.approx_eq(&h(value.trim()), 1e-6), "{context}, want {value}"),
                    Some(f) => {
                        let want: f64 = value.trim().parse().unwrap();
                        let v = if f == "histogram_count" { got.count } else { got.sum };
                        assert!(super::super::ops::almost_equal(v, want, 1e-6), "{context}, want {f} {want}");
                    }
                }
                checked += 1;
            }
        }
        assert!(checked >= 100, "only {checked} trim cases found");
    }
}
