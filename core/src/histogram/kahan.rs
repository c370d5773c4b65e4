//! Compensated (Kahan–Neumaier) summation of floats and of whole histograms,
//! which PromQL uses for `sum`, `avg`, `sum_over_time` and `avg_over_time`
//! so that e.g. `1 + 1e100 + 1 - 1e100` comes out as 2.

use super::buckets::{index_in_schema, LayoutBuilder, SpanIter};
use super::ops::{beyond_zero_bucket, custom_bounds_match};
use super::{BucketSpan, CombineNotes, FloatHistogram, MixedSchemasError};

/// One step of Neumaier's compensated sum: adds `inc` to `sum` with running
/// compensation `c`; returns the new sum and compensation. The final result
/// is `sum + c`. An infinite sum resets the compensation.
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// (index, value, compensation) triples of one side, ascending by index.
type Compensated = Vec<(i32, f64, f64)>;

/// The buckets of one side with their compensations (which share the layout).
fn compensated_side(spans: &[BucketSpan], buckets: &[f64], comp: Option<&[f64]>) -> Compensated {
    SpanIter::new(spans, buckets)
        .enumerate()
        .map(|(k, (i, v))| (i, v, comp.and_then(|c| c.get(k)).copied().unwrap_or(0.0)))
        .collect()
}

/// Maps compensated buckets to the coarser `target` schema, summing the
/// buckets that merge with compensation.
fn reduce_compensated(side: Compensated, schema: i32, target: i32) -> Compensated {
    let mut out: Compensated = Vec::with_capacity(side.len());
    for (index, value, comp) in side {
        let index = index_in_schema(index, schema, target);
        match out.last_mut() {
            Some((i, s, c)) if *i == index => {
                let (sum, extra) = kahan_inc(value, *s, *c);
                *s = sum;
                *c = extra + comp;
            }
            _ => out.push((index, value, comp)),
        }
    }
    out
}

/// Adds `b` into `a` index by index with compensation; returns the spans,
/// values and compensations of the union layout.
fn add_compensated(a: Compensated, b: Compensated) -> (Vec<BucketSpan>, Vec<f64>, Vec<f64>) {
    let (mut values, mut comps) = (LayoutBuilder::new(0), Vec::with_capacity(a.len().max(b.len())));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let (index, value, comp) = match (a.peek(), b.peek()) {
            (Some(&(ia, _, _)), Some(&(ib, _, _))) if ia == ib => {
                let ((_, sa, ca), (_, sb, cb)) = (a.next().unwrap(), b.next().unwrap());
                let (s, c) = kahan_inc(sb, sa, ca);
                (ia, s, c + cb)
            }
            (Some(&(ia, _, _)), Some(&(ib, _, _))) if ia < ib => a.next().unwrap(),
            (Some(_), None) => a.next().unwrap(),
            (_, Some(_)) => b.next().unwrap(),
            (None, None) => break,
        };
        values.push(index, value);
        comps.push(comp);
    }
    let (spans, values) = values.finish();
    (spans, values, comps)
}

impl FloatHistogram {
    /// Adds `other` with Kahan–Neumaier compensation: `compensation` (none
    /// at the start of a sum) holds the running compensation of every field
    /// and comes back updated, with this histogram's layout. Finish the sum
    /// with `self.add(&compensation)`.
    ///
    /// Layout changes (a coarser schema in `other`) carry the compensation
    /// along; differing zero thresholds or custom bounds fold the
    /// compensation in first and add plainly (rare: the sum still reconciles
    /// as [`FloatHistogram::add`] does), as does a compensation whose layout
    /// no longer matches this histogram's.
    ///
    /// # Errors
    /// [`MixedSchemasError`] for exponential plus custom buckets (this
    /// histogram and the compensation are then unchanged).
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        compensation: Option<FloatHistogram>,
    ) -> Result<(FloatHistogram, CombineNotes), MixedSchemasError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(MixedSchemasError);
        }
        let mut comp = compensation;
        if let Some(c) = comp.take_if(|c| !self.has_layout_of(c)) {
            // The sum's layout changed since (e.g. it was compacted): fold the
            // compensation in rather than lose it.
            self.add(&c)?;
        }
        let aligned = if self.uses_custom_buckets() {
            custom_bounds_match(&self.custom_values, &other.custom_values)
        } else {
            self.zero_threshold == other.zero_threshold
        };
        if !aligned {
            if let Some(comp) = &comp {
                self.add(comp).expect("the compensation has this histogram's schema kind");
            }
            let notes = self.add(other)?;
            return Ok((self.zero_compensation(), notes));
        }
        let mut comp = comp.unwrap_or_else(|| self.zero_compensation());
        let notes =
            CombineNotes { counter_reset_collision: self.merge_counter_reset_hint(other), ..Default::default() };
        for (field, c, inc) in [
            (&mut self.count, &mut comp.count, other.count),
            (&mut self.sum, &mut comp.sum, other.sum),
            (&mut self.zero_count, &mut comp.zero_count, other.zero_count),
        ] {
            (*field, *c) = kahan_inc(inc, *field, *c);
        }
        let target = self.schema.min(other.schema);
        let threshold = self.zero_threshold;
        let exponential = !self.uses_custom_buckets();
        let side = |spans: &[BucketSpan], buckets: &[f64], comp: Option<&[f64]>, schema: i32| {
            let mut side = compensated_side(spans, buckets, comp);
            if comp.is_none() && exponential {
                // For `other` (the side without compensation): buckets inside the
                // zero bucket are in its zero count already (as in `add`).
                side.retain(|&(i, _, _)| beyond_zero_bucket(i, schema, threshold));
            }
            if schema > target {
                side = reduce_compensated(side, schema, target);
            }
            side
        };
        let mine_pos = side(&self.positive_spans, &self.positive_buckets, Some(&comp.positive_buckets), self.schema);
        let mine_neg = side(&self.negative_spans, &self.negative_buckets, Some(&comp.negative_buckets), self.schema);
        let other_pos = side(&other.positive_spans, &other.positive_buckets, None, other.schema);
        let other_neg = side(&other.negative_spans, &other.negative_buckets, None, other.schema);
        (self.positive_spans, self.positive_buckets, comp.positive_buckets) = add_compensated(mine_pos, other_pos);
        (self.negative_spans, self.negative_buckets, comp.negative_buckets) = add_compensated(mine_neg, other_neg);
        self.schema = target;
        comp.schema = target;
        comp.positive_spans = self.positive_spans.clone();
        comp.negative_spans = self.negative_spans.clone();
        comp.counter_reset_hint = self.counter_reset_hint;
        Ok((comp, notes))
    }

    /// Whether `c` could be this histogram's compensation: same schema, zero
    /// threshold, custom bounds and bucket layout.
    fn has_layout_of(&self, c: &FloatHistogram) -> bool {
        c.schema == self.schema
            && c.zero_threshold == self.zero_threshold
            && custom_bounds_match(&c.custom_values, &self.custom_values)
            && c.positive_spans == self.positive_spans
            && c.negative_spans == self.negative_spans
            && c.positive_buckets.len() == self.positive_buckets.len()
            && c.negative_buckets.len() == self.negative_buckets.len()
    }

    /// A compensation of all zeros with this histogram's layout.
    fn zero_compensation(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            custom_values: self.custom_values.clone(),
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            positive_buckets: vec![0.0; self.positive_buckets.len()],
            negative_buckets: vec![0.0; self.negative_buckets.len()],
            ..Default::default()
        }
    }

    /// Whether any count, the sum or a bucket is infinite: a sum has
    /// overflowed (PromQL's `avg` then switches to an incremental mean).
    pub fn has_overflow(&self) -> bool {
        [self.count, self.sum, self.zero_count]
            .iter()
            .chain(&self.positive_buckets)
            .chain(&self.negative_buckets)
            .any(|v| v.is_infinite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Sums like PromQL's `sum_over_time`: Kahan-add all, then add the compensation.
    fn kahan_sum(items: &[&str]) -> FloatHistogram {
        let mut sum = h(items[0]);
        let mut comp = None;
        for item in &items[1..] {
            let (c, _) = sum.kahan_add(&h(item), comp).unwrap();
            comp = Some(c);
        }
        if let Some(c) = comp {
            sum.add(&c).unwrap();
        }
        sum
    }

    #[test]
    fn kahan_inc_recovers_small_terms() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1.0, 1e100, 1.0, -1e100] {
            (s, c) = kahan_inc(v, s, c);
        }
        assert_eq!(s + c, 2.0);
        let (s, c) = kahan_inc(f64::MAX, f64::MAX, 5.0);
        assert_eq!((s, c), (f64::INFINITY, 0.0));
    }

    #[test]
    fn sums_cancel_large_values_exactly() {
        // native_histograms.test: sum_over_time(histogram_sum_over_time_4[7m:1m]) is {{count:28 sum:8.3}}.
        let got = kahan_sum(&[
            "{{schema:0 count:1 sum:5.3}}",
            "{{schema:0 count:2 sum:1e100}}",
            "{{schema:0 count:3 sum:1}}",
            "{{schema:0 count:4 sum:-1e100}}",
            "{{schema:0 count:5 sum:2}}",
            "{{schema:0 count:6 sum:1e50}}",
            "{{schema:0 count:7 sum:-1e50}}",
        ]);
        assert!(got.approx_eq(&h("{{schema:0 count:28 sum:8.3}}"), 1e-12), "{got}");
        // Buckets are compensated too.
        let got =
            kahan_sum(&["{{buckets:[1 1]}}", "{{buckets:[1e100 0]}}", "{{buckets:[1 1]}}", "{{buckets:[-1e100 0]}}"]);
        assert_eq!(got.positive_buckets, vec![2.0, 2.0]);
    }

    #[test]
    fn kahan_sum_matches_the_prometheus_test_data() {
        // native_histograms.test: sum_over_time(histogram_sum_over_time[4m:1m]).
        let got = kahan_sum(&[
            "{{schema:0 count:25 sum:1234.5 z_bucket:4 z_bucket_w:0.001 buckets:[1 2 0 1 1] n_buckets:[2 4 0 0 1 9]}}",
            "{{schema:0 count:41 sum:2345.6 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
            "{{schema:0 count:41 sum:1111.1 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
            "{{schema:1 count:0}}",
        ]);
        let want = "{{schema:0 count:107 sum:4691.2 z_bucket:14 z_bucket_w:0.001 buckets:[3 8 2 5 3 2 2] n_buckets:[2 6 8 4 15 9 0 0 0 10 10 4]}}";
        assert!(got.approx_eq(&h(want), 1e-6), "{got}");
        // An overflowing count stays infinite, the rest is still exact.
        let got = kahan_sum(&[
            "{{schema:0 count:1.7976931348623157e+308 sum:5.3}}",
            "{{schema:0 count:1e308 sum:1e100}}",
            "{{schema:0 count:1e-6 sum:1}}",
            "{{schema:0 count:1e-6 sum:-1e100}}",
            "{{schema:0 count:1e-6 sum:2}}",
        ]);
        assert_eq!(got.count, f64::INFINITY);
        assert!(got.has_overflow());
        assert!((got.sum - 8.3).abs() < 1e-12);
    }

    #[test]
    fn sum_aggregation_example_from_the_prometheus_test_data() {
        // native_histograms.test: sum(histogram_sum) over four series, two cancelling at 1e100.
        let got = kahan_sum(&[
            "{{schema:0 count:25 sum:3.1 z_bucket:4 z_bucket_w:0.001 buckets:[1 2 0 1 1] n_buckets:[2 4 0 0 1 9]}}",
            "{{schema:0 count:41 sum:1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
            "{{schema:0 count:41 sum:-1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
            "{{schema:1 count:0 sum:1.3 z_bucket:3 z_bucket_w:0.001 buckets:[2 4 2 3 2 2] n_buckets:[1 2 5 3 8 1 1 1 1 6 3]}}",
        ]);
        let want = "{{schema:0 count:107 sum:4.4 z_bucket:17 z_bucket_w:0.001 buckets:[5 14 7 7 3 2 2] n_buckets:[3 13 19 6 17 18 0 0 0 10 10 4]}}";
        assert!(got.approx_eq(&h(want), 1e-6), "{got}");
        let items = [
            "{{schema:0 count:25 sum:3.1 z_bucket:4 z_bucket_w:0.001 buckets:[1 2 0 1 1] n_buckets:[2 4 0 0 1 9]}}",
            "{{schema:0 count:41 sum:1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
            "{{schema:0 count:41 sum:-1e100 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}",
            "{{schema:1 count:0 sum:1.3 z_bucket:3 z_bucket_w:0.001 buckets:[2 4 2 3 2 2] n_buckets:[1 2 5 3 8 1 1 1 1 6 3]}}",
        ];
        for perm in [[3, 0, 1, 2], [1, 0, 2, 3], [1, 2, 3, 0], [3, 1, 2, 0], [2, 3, 1, 0]] {
            let got = kahan_sum(&perm.map(|i| items[i]));
            assert!(got.approx_eq(&h(want), 1e-6), "{perm:?}: {got}");
        }
    }

    #[test]
    fn a_compensation_that_no_longer_fits_is_folded_in_not_lost() {
        let mut sum = h("{{schema:0 count:1 sum:3.1 buckets:[1 0 1]}}");
        let (comp, _) = sum.kahan_add(&h("{{schema:0 sum:1e100}}"), None).unwrap();
        let (comp, _) = sum.kahan_add(&h("{{schema:0 sum:-1e100}}"), Some(comp)).unwrap();
        // Compacting the running sum changes its layout under the compensation.
        sum.compact(0);
        let (comp, _) = sum.kahan_add(&h("{{schema:0 sum:1}}"), Some(comp)).unwrap();
        sum.add(&comp).unwrap();
        assert_eq!(sum.sum, 4.1);
    }

    #[test]
    fn coarser_schemas_carry_the_compensation() {
        let got = kahan_sum(&[
            "{{schema:1 count:2 offset:1 buckets:[1e100 1]}}",
            "{{schema:0 count:1 offset:1 buckets:[1]}}",
            "{{schema:0 count:1 offset:1 buckets:[-1e100]}}",
        ]);
        assert_eq!(got.schema, 0);
        assert_eq!(got.positive_buckets, vec![2.0]);
    }

    #[test]
    fn layout_changes_that_fold_the_compensation_still_sum_correctly() {
        let got = kahan_sum(&[
            "{{schema:0 count:2 z_bucket_w:0.001 buckets:[1 1]}}",
            "{{schema:0 count:3 z_bucket_w:1 z_bucket:3}}",
            "{{schema:0 count:1 z_bucket_w:1 offset:1 buckets:[1]}}",
        ]);
        assert!(got.approx_eq(&h("{{schema:0 count:6 z_bucket_w:1 z_bucket:4 offset:1 buckets:[2]}}"), 1e-12), "{got}");
        let got = kahan_sum(&[
            "{{schema:-53 count:1 custom_values:[5 10] buckets:[1]}}",
            "{{schema:-53 count:1 custom_values:[10] buckets:[1]}}",
        ]);
        assert!(got.approx_eq(&h("{{schema:-53 count:2 custom_values:[10] buckets:[2]}}"), 1e-12), "{got}");
        let mut sum = h("{{schema:0 count:1}}");
        assert_eq!(sum.kahan_add(&h("{{schema:-53 count:1}}"), None), Err(MixedSchemasError));
    }

    #[test]
    fn counter_reset_hints_merge_as_in_addition() {
        let mut sum = h("{{counter_reset_hint:reset}}");
        let (_, notes) = sum.kahan_add(&h("{{counter_reset_hint:not_reset}}"), None).unwrap();
        assert!(notes.counter_reset_collision);
        assert_eq!(sum.counter_reset_hint, crate::histogram::CounterResetHint::Unknown);
    }
}
