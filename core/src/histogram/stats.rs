//! Statistics of one histogram, as the PromQL functions compute them:
//! `histogram_quantile`, `histogram_fraction`, `histogram_avg`,
//! `histogram_stddev`, `histogram_stdvar`.

use super::kahan::kahan_inc;
use super::{Bucket, FloatHistogram};

/// How NaN observations affected a quantile (PromQL reports each as an info).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantileNaNNote {
    /// The rank fell among the NaN observations: the result is NaN
    /// ("input to histogram_quantile has NaN observations, result is NaN").
    ResultIsNaN,
    /// NaN observations rank above everything, which pushes the result up
    /// ("input to histogram_quantile has NaN observations, result is skewed higher").
    SkewedHigher,
}

/// Linear position of fraction `f` of the way through `b`.
fn interpolate_linearly(b: &Bucket, f: f64) -> f64 {
    b.lower + (b.upper - b.lower) * f
}

/// Position of fraction `f` through `b` on a logarithmic scale, where
/// exponential bucket bounds are evenly spaced.
fn interpolate_exponentially(b: &Bucket, f: f64) -> f64 {
    let (log_lower, log_upper) = (b.lower.abs().log2(), b.upper.abs().log2());
    if b.lower > 0.0 {
        (log_lower + (log_upper - log_lower) * f).exp2()
    } else {
        -(log_upper + (log_lower - log_upper) * (1.0 - f)).exp2()
    }
}

impl FloatHistogram {
    /// The φ-quantile `q` (`histogram_quantile`). Within exponential buckets
    /// the result is interpolated exponentially (as if the observations
    /// spread evenly over the finer buckets a higher resolution would have);
    /// within custom buckets and the zero bucket linearly. The zero bucket
    /// starts at 0 if there are only positive buckets (ends at 0 if only
    /// negative ones); a quantile in the first custom bucket (from -Inf)
    /// interpolates from 0 if its bound is positive (else is the bound), one
    /// in the last (to +Inf) is its lower bound.
    ///
    /// `q < 0` gives -Inf, `q > 1` +Inf, NaN `q` or no observations NaN.
    pub fn quantile(&self, q: f64) -> (f64, Option<QuantileNaNNote>) {
        if q < 0.0 {
            return (f64::NEG_INFINITY, None);
        }
        if q > 1.0 {
            return (f64::INFINITY, None);
        }
        if self.count == 0.0 || q.is_nan() {
            return (f64::NAN, None);
        }
        // NaN observations (a NaN sum) count in `count` but in no bucket, so
        // only the forward direction sees the ranks right; otherwise walk
        // from the nearer end.
        let forward = self.sum.is_nan() || q < 0.5;
        let mut buckets: Box<dyn Iterator<Item = Bucket>> =
            if forward { Box::new(self.all_buckets()) } else { Box::new(self.all_buckets_rev()) };
        let mut rank = if forward { q * self.count } else { (1.0 - q) * self.count };
        let empty =
            Bucket { lower: 0.0, upper: 0.0, lower_inclusive: false, upper_inclusive: false, count: 0.0, index: 0 };
        let (mut bucket, mut count) = (empty, 0.0);
        for b in buckets.by_ref() {
            bucket = b;
            if b.count == 0.0 {
                continue;
            }
            count += b.count;
            if count >= rank {
                break;
            }
        }
        if !self.uses_custom_buckets() && bucket.lower < 0.0 && bucket.upper > 0.0 {
            self.zero_bucket_towards_populated_side(&mut bucket);
        } else if self.uses_custom_buckets() {
            if bucket.lower == f64::NEG_INFINITY {
                if bucket.upper <= 0.0 {
                    return (bucket.upper, None);
                }
                bucket.lower = 0.0;
            } else if bucket.upper == f64::INFINITY {
                return (bucket.lower, None);
            }
        }
        // Rounding may make the running count exceed the total.
        count = count.min(self.count);
        if count < rank {
            // Only NaN observations are left above the buckets.
            if self.sum.is_nan() {
                return (f64::NAN, Some(QuantileNaNNote::ResultIsNaN));
            }
            return (bucket.upper, None);
        }
        if forward {
            rank -= count - bucket.count;
        } else {
            rank = count - rank;
        }
        let mut note = None;
        if self.sum.is_nan() {
            // A NaN sum also comes from observing both +Inf and -Inf; only
            // observations missing from the buckets are NaNs.
            let in_buckets = count + buckets.map(|b| b.count).sum::<f64>();
            if in_buckets < self.count {
                note = Some(QuantileNaNNote::SkewedHigher);
            }
        }
        let fraction = rank / bucket.count;
        let value = if self.uses_custom_buckets() || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
            interpolate_linearly(&bucket, fraction)
        } else {
            interpolate_exponentially(&bucket, fraction)
        };
        (value, note)
    }

    /// In a bucket spanning zero (the zero bucket, or a custom bucket from
    /// -Inf): with only positive buckets, observations are taken to start at
    /// 0; with only negative ones, to end at 0.
    pub(crate) fn zero_bucket_towards_populated_side(&self, b: &mut Bucket) {
        let (negative, positive) = (!self.negative_buckets.is_empty(), !self.positive_buckets.is_empty());
        if positive && !negative {
            b.lower = 0.0;
        } else if negative && !positive {
            b.upper = 0.0;
        }
    }

    /// The fraction of observations between `lower` and `upper`
    /// (`histogram_fraction`), interpolating inside buckets like
    /// [`FloatHistogram::quantile`]; infinite custom buckets contribute all or
    /// nothing. The second value tells whether NaN observations were left out
    /// of every fraction (they still count in the denominator).
    ///
    /// No observations or a NaN bound give NaN; `lower >= upper` gives 0.
    pub fn fraction(&self, lower: f64, upper: f64) -> (f64, bool) {
        if self.count == 0.0 || lower.is_nan() || upper.is_nan() {
            return (f64::NAN, false);
        }
        if lower >= upper {
            return (0.0, false);
        }
        let custom = self.uses_custom_buckets();
        let (mut rank, mut in_buckets) = (0.0, 0.0);
        let (mut lower_rank, mut upper_rank) = (None, None);
        let mut buckets = self.all_buckets();
        for mut b in buckets.by_ref() {
            in_buckets += b.count;
            let zero_bucket = b.lower <= 0.0 && b.upper >= 0.0;
            if zero_bucket {
                self.zero_bucket_towards_populated_side(&mut b);
            }
            // The rank at `v` inside `b`.
            let rank_at = |v: f64| {
                if custom || zero_bucket {
                    if b.lower == f64::NEG_INFINITY {
                        // No interpolation into an infinitely wide bucket: all of it lies below.
                        return rank + b.count;
                    }
                    rank + b.count * (v - b.lower) / (b.upper - b.lower)
                } else {
                    let (log_lower, log_upper, log_v) = (b.lower.abs().log2(), b.upper.abs().log2(), v.abs().log2());
                    let f = if v > 0.0 {
                        (log_v - log_lower) / (log_upper - log_lower)
                    } else {
                        1.0 - (log_v - log_upper) / (log_lower - log_upper)
                    };
                    rank + b.count * f
                }
            };
            for (bound, found) in [(lower, &mut lower_rank), (upper, &mut upper_rank)] {
                if found.is_none() && b.lower >= bound {
                    *found = Some(rank);
                }
            }
            if lower_rank.is_some() && upper_rank.is_some() {
                break;
            }
            for (bound, found) in [(lower, &mut lower_rank), (upper, &mut upper_rank)] {
                if found.is_none() && b.lower < bound && b.upper > bound {
                    *found = Some(rank_at(bound));
                }
            }
            if lower_rank.is_some() && upper_rank.is_some() {
                break;
            }
            rank += b.count;
        }
        let mut nan_observations = false;
        let total = if self.sum.is_nan() {
            in_buckets += buckets.map(|b| b.count).sum::<f64>();
            nan_observations = in_buckets < self.count;
            in_buckets
        } else {
            self.count
        };
        let clamp = |r: Option<f64>| r.filter(|&r| r <= total).unwrap_or(total);
        ((clamp(upper_rank) - clamp(lower_rank)) / self.count, nan_observations)
    }

    /// The mean observation, `sum / count` (`histogram_avg`).
    pub fn mean(&self) -> f64 {
        self.sum / self.count
    }

    /// The estimated variance of the observations (`histogram_stdvar`):
    /// each bucket's observations are taken to sit at its geometric mean
    /// (exponential buckets), arithmetic mean (custom buckets) or 0 (zero bucket).
    pub fn stdvar(&self) -> f64 {
        let mean = self.mean();
        let (mut variance, mut compensation) = (0.0, 0.0);
        for b in self.all_buckets().filter(|b| b.count != 0.0) {
            let value = if self.uses_custom_buckets() {
                (b.upper + b.lower) / 2.0
            } else if b.lower <= 0.0 && b.upper >= 0.0 {
                0.0
            } else {
                let geometric_mean = (b.upper * b.lower).sqrt();
                if b.upper < 0.0 {
                    -geometric_mean
                } else {
                    geometric_mean
                }
            };
            let delta = value - mean;
            (variance, compensation) = kahan_inc(b.count * delta * delta, variance, compensation);
        }
        (variance + compensation) / self.count
    }

    /// The estimated standard deviation (`histogram_stddev`): `stdvar().sqrt()`.
    pub fn stddev(&self) -> f64 {
        self.stdvar().sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn close(a: f64, b: f64) -> bool {
        super::super::ops::almost_equal(a, b, 1e-9)
    }

    #[test]
    fn quantile_special_cases() {
        let x = h("{{schema:0 count:4 sum:10 buckets:[1 2 1]}}");
        assert_eq!(x.quantile(-0.1).0, f64::NEG_INFINITY);
        assert_eq!(x.quantile(1.1).0, f64::INFINITY);
        assert!(x.quantile(f64::NAN).0.is_nan());
        assert!(h("{{schema:0}}").quantile(0.5).0.is_nan());
    }

    #[test]
    fn quantiles_interpolate_exponentially_in_exponential_buckets() {
        // One bucket (1,2] with 2 observations: the median is at 2^0.5.
        let x = h("{{schema:0 count:2 sum:3 offset:1 buckets:[2]}}");
        assert!(close(x.quantile(0.5).0, std::f64::consts::SQRT_2));
        assert!(close(x.quantile(0.25).0, 2f64.powf(0.25)));
        assert!(close(x.quantile(1.0).0, 2.0));
        // Negative buckets mirror: bucket [-2,-1) holds everything.
        let n = h("{{schema:0 count:2 sum:-3 n_offset:1 n_buckets:[2]}}");
        assert!(close(n.quantile(0.5).0, -std::f64::consts::SQRT_2));
        assert!(close(n.quantile(0.0).0, -2.0));
        // From native_histograms.test: {{schema:0 count:15 sum:NaN buckets:[12]}} at 0.4.
        let (v, note) = h("{{schema:0 count:15 sum:NaN buckets:[12]}}").quantile(0.4);
        assert!(close(v, std::f64::consts::FRAC_1_SQRT_2));
        assert_eq!(note, Some(QuantileNaNNote::SkewedHigher));
    }

    #[test]
    #[allow(clippy::approx_constant)] // Expected values as the test data writes them.
    fn quantiles_and_fractions_match_the_prometheus_test_data() {
        // native_histograms.test: (histogram, φ, expected quantile).
        let q1 = "{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 buckets:[2 3 0 1 4]}}";
        let q2 = "{{schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 n_buckets:[2 3 0 1 4]}}";
        let q3 = "{{schema:0 count:24 sum:100 z_bucket:4 z_bucket_w:0.001 buckets:[2 3 0 1 4] n_buckets:[2 3 0 1 4]}}";
        let single = "{{schema:0 sum:5 count:4 buckets:[1 2 1]}}";
        let balanced = "{{schema:0 sum:0 count:8 buckets:[1 2 1] n_buckets:[1 2 1]}}";
        let cases = [
            (single, 0.5, 1.414213562373095),
            ("{{schema:0 sum:-5 count:4 n_buckets:[1 2 1]}}", 0.5, -1.414213562373095),
            ("{{schema:0 z_bucket:1 z_bucket_w:0.5 sum:0.25 count:1}}", 0.5, 0.0),
            (balanced, 0.5, 0.5),
            (q1, 1.0, 16.0),
            (q1, 0.99, 15.67072476139083),
            (q1, 0.9, 12.99603834169977),
            (q1, 0.6, 4.594793419988138),
            (q1, 0.5, 1.5874010519681994),
            (q1, 0.1, 0.0006),
            (q1, 0.0, 0.0),
            (q2, 1.0, 0.0),
            (q2, 0.99, -0.00006),
            (q2, 0.9, -0.0006),
            (q2, 0.5, -1.5874010519681996),
            (q2, 0.1, -12.996038341699768),
            (q2, 0.0, -16.0),
            (q3, 1.0, 16.0),
            (q3, 0.99, 15.34822590920423),
            (q3, 0.9, 10.556063286183155),
            (q3, 0.7, 1.2030250360821164),
            (q3, 0.55, 0.0006),
            (q3, 0.5, 0.0),
            (q3, 0.45, -0.0006),
            (q3, 0.3, -1.2030250360821169),
            (q3, 0.1, -10.556063286183155),
            (q3, 0.01, -15.34822590920423),
            (q3, 0.0, -16.0),
        ];
        for (text, q, want) in cases {
            let (got, note) = h(text).quantile(q);
            assert!(super::super::ops::almost_equal(got, want, 1e-6), "quantile({q}, {text}) = {got}, want {want}");
            assert_eq!(note, None);
        }
        // (histogram, lower, upper, expected fraction).
        let cases = [
            (single, 1.0, 2.0, 0.5),
            (single, 0.0, 8.0, 1.0),
            ("{{schema:0 sum:-5 count:4 n_buckets:[1 2 1]}}", -2.0, -1.0, 0.5),
            ("{{schema:0 z_bucket:1 z_bucket_w:0.5 sum:0.25 count:1}}", -0.5, 0.5, 1.0),
            (balanced, 0.0, 4.0, 0.5),
            ("{{schema:-1 count:5 sum:8 offset:1 buckets:[5]}}", 1.0, 4.0, 1.0),
        ];
        for (text, lower, upper, want) in cases {
            let (got, nan) = h(text).fraction(lower, upper);
            assert!(
                super::super::ops::almost_equal(got, want, 1e-6),
                "fraction({lower}, {upper}, {text}) = {got}, want {want}"
            );
            assert!(!nan);
        }
    }

    #[test]
    fn quantiles_in_the_zero_bucket_interpolate_linearly() {
        // Only positive buckets: the zero bucket runs from 0 to its threshold.
        let x = h("{{schema:0 count:4 sum:1 z_bucket:2 z_bucket_w:0.5 buckets:[2]}}");
        assert!(close(x.quantile(0.25).0, 0.25));
        // Negative and positive buckets: it runs from -0.5 to 0.5.
        let y = h("{{schema:0 count:4 z_bucket:2 z_bucket_w:0.5 buckets:[1] n_buckets:[1]}}");
        assert!(close(y.quantile(0.5).0, 0.0));
        assert!(close(y.quantile(0.375).0, -0.25));
    }

    #[test]
    fn quantiles_with_custom_buckets() {
        // (-Inf,5]:1 (5,10]:2 (10,+Inf]:1.
        let x = h("{{schema:-53 count:4 sum:30 custom_values:[5 10] buckets:[1 2 1]}}");
        assert!(close(x.quantile(0.125).0, 2.5)); // first bucket from 0
        assert!(close(x.quantile(0.5).0, 7.5));
        assert_eq!(x.quantile(0.9).0, 10.0); // last bucket: its lower bound
        let neg = h("{{schema:-53 count:1 custom_values:[-5] buckets:[1]}}");
        assert_eq!(neg.quantile(0.5).0, -5.0);
    }

    #[test]
    fn quantiles_with_only_nan_observations_are_nan() {
        let (v, note) = h("{{schema:0 count:3 sum:NaN}}").quantile(0.5);
        assert!(v.is_nan());
        assert_eq!(note, Some(QuantileNaNNote::ResultIsNaN));
        let (v, note) = h("{{schema:0 count:15 sum:NaN buckets:[12]}}").quantile(0.81);
        assert!(v.is_nan());
        assert_eq!(note, Some(QuantileNaNNote::ResultIsNaN));
        // +Inf and -Inf observations make the sum NaN without NaN observations.
        let (_, note) = h("{{schema:0 count:2 sum:NaN buckets:[2]}}").quantile(0.5);
        assert_eq!(note, None);
    }

    #[test]
    fn fractions() {
        let x = h("{{schema:0 count:4 sum:10 offset:1 buckets:[2 2]}}"); // (1,2]:2 (2,4]:2
        assert!(close(x.fraction(f64::NEG_INFINITY, 2.0).0, 0.5));
        assert!(close(x.fraction(0.0, std::f64::consts::SQRT_2).0, 0.25));
        assert!(close(x.fraction(2.0, 8.0).0, 0.5));
        assert_eq!(x.fraction(3.0, 3.0).0, 0.0);
        assert!(x.fraction(f64::NAN, 1.0).0.is_nan());
        assert!(h("{{}}").fraction(0.0, 1.0).0.is_nan());
        let (f, nan) = h("{{schema:0 count:15 sum:NaN buckets:[12]}}").fraction(f64::NEG_INFINITY, f64::INFINITY);
        assert!(close(f, 0.8) && nan);
    }

    #[test]
    fn fractions_of_custom_buckets_from_the_prometheus_test_data() {
        // histograms.test, load_with_nhcb: le 1,2,3,+Inf with cumulative 1,3,6,100.
        let x = h("{{schema:-53 count:100 custom_values:[1 2 3] buckets:[1 2 3 94]}}");
        assert!(close(x.fraction(0.0, 1.5).0, 0.02));
        assert!(close(x.fraction(f64::NEG_INFINITY, f64::INFINITY).0, 1.0));
        // le -3,-2,-1,+Inf with cumulative 10,12,15,100.
        let y = h("{{schema:-53 count:100 custom_values:[-3 -2 -1] buckets:[10 2 3 85]}}");
        assert!(close(y.fraction(-4.0, -2.0).0, 0.02));
        assert!(close(y.fraction(f64::NEG_INFINITY, -1.5).0, 0.135));
    }

    #[test]
    fn mean_and_spread_match_the_prometheus_test_data() {
        // native_histograms.test: histogram_stddev / histogram_stdvar.
        let nbuckets3 = "buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ] n_buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ]";
        let cases = [
            (
                "{{schema:2 count:4 sum:10 buckets:[1 0 0 0 1 0 0 1 1]}}".to_string(),
                1.0787993180043811,
                1.163807968526718,
            ),
            (
                "{{schema:8 count:10 sum:10 buckets:[1 2 3 4]}}".to_string(),
                0.0048960313898237465,
                2.3971123370139447e-05,
            ),
            (format!("{{{{schema:3 count:7 sum:62 z_bucket:1 {nbuckets3}}}}}"), 42.94723640026, 1844.4651144196398),
            (
                "{{schema:0 count:10 sum:-112946 z_bucket:0 n_buckets:[0 0 1 1 1 0 1 1 0 0 3 0 0 0 1 0 0 1]}}"
                    .to_string(),
                27556.344499842,
                759352122.1939945,
            ),
            (
                "{{schema:0 count:10 sum:-100 z_bucket:0 n_buckets:[0 0 0 0 10]}}".to_string(),
                1.3137084989848,
                1.725830020304794,
            ),
        ];
        for (text, stddev, stdvar) in cases {
            let x = h(&text);
            assert!(super::super::ops::almost_equal(x.stddev(), stddev, 1e-6), "{text}: {}", x.stddev());
            assert!(super::super::ops::almost_equal(x.stdvar(), stdvar, 1e-6), "{text}: {}", x.stdvar());
        }
        assert!(h(&format!("{{{{schema:3 count:7 sum:NaN z_bucket:1 {nbuckets3}}}}}")).stddev().is_nan());
        assert_eq!(h(&format!("{{{{schema:3 count:7 sum:Inf z_bucket:1 {nbuckets3}}}}}")).stdvar(), f64::INFINITY);
        assert_eq!(h("{{schema:2 count:4 sum:10 buckets:[1]}}").mean(), 2.5);
        // Custom buckets use their midpoint: one observation at 7.5, mean 6 → variance 2.25 / 2.
        let c = h("{{schema:-53 count:2 sum:12 custom_values:[5 10] offset:1 buckets:[1 0]}}");
        assert!(close(c.stdvar(), 1.125));
    }
}
