//! Histogram arithmetic as PromQL does it: addition and subtraction (which
//! reconcile schemas, zero buckets and custom bounds), scaling, resolution
//! reduction, counter-reset detection and equality.

use std::iter::Peekable;

use super::buckets::{exponential_bound, index_in_schema, same_layout, LayoutBuilder, SpanIter};
use super::{BucketSpan, CounterResetHint, FloatHistogram, CUSTOM_BUCKETS_SCHEMA};

/// Adding or subtracting a histogram with exponential buckets and one with
/// custom buckets. PromQL reports it as the warning "vector contains a mix of
/// histograms with exponential and custom buckets schemas" and drops the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply this operation on histograms with a mix of exponential and custom bucket schemas")]
pub struct MixedSchemasError;

/// What an addition or subtraction noticed besides computing its result;
/// PromQL turns each into an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CombineNotes {
    /// One operand was marked "counter reset", the other "not a counter
    /// reset" (the warning "conflicting counter resets during histogram …").
    pub counter_reset_collision: bool,
    /// The operands had different custom bucket bounds; the result uses only
    /// the bounds both share (the info "mismatched custom buckets were
    /// reconciled during …").
    pub custom_bounds_reconciled: bool,
}

impl CombineNotes {
    /// Whether either note is set.
    pub fn any(&self) -> bool {
        self.counter_reset_collision || self.custom_bounds_reconciled
    }
}

/// Whether two lists of custom bucket bounds are the same.
pub fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The bounds present in both sorted lists.
fn intersect_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Sums runs of equal indices in an ascending (index, count) sequence, as
/// mapping buckets to a coarser schema produces them.
fn merge_equal_indices(pairs: impl Iterator<Item = (i32, f64)>) -> impl Iterator<Item = (i32, f64)> {
    let mut pairs = pairs.peekable();
    std::iter::from_fn(move || {
        let (index, mut count) = pairs.next()?;
        while let Some((_, c)) = pairs.next_if(|&(i, _)| i == index) {
            count += c;
        }
        Some((index, count))
    })
}

/// (index, count) pairs mapped from `schema` to the coarser `target`.
fn in_schema(pairs: impl Iterator<Item = (i32, f64)>, schema: i32, target: i32) -> impl Iterator<Item = (i32, f64)> {
    merge_equal_indices(pairs.map(move |(i, c)| (index_in_schema(i, schema, target), c)))
}

/// The (index, count) pairs of a side, mapped from `schema` to the coarser `target`.
fn pairs_in_schema<'a>(
    spans: &'a [BucketSpan],
    buckets: &'a [f64],
    schema: i32,
    target: i32,
) -> impl Iterator<Item = (i32, f64)> + 'a {
    in_schema(SpanIter::new(spans, buckets), schema, target)
}

/// Whether exponential bucket `index` of `schema` reaches beyond a zero
/// bucket of width `threshold` (buckets within it count in the zero count).
pub(crate) fn beyond_zero_bucket(index: i32, schema: i32, threshold: f64) -> bool {
    exponential_bound(index, schema) > threshold
}

/// Merges `b` (scaled by `sign`) into `a`: every bucket of either appears in the
/// result, buckets of both are summed.
fn merge_sides(
    a: impl Iterator<Item = (i32, f64)>,
    b: impl Iterator<Item = (i32, f64)>,
    sign: f64,
) -> (Vec<BucketSpan>, Vec<f64>) {
    let mut out = LayoutBuilder::new(0);
    let (mut a, mut b) = (a.peekable(), b.peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (Some((ia, ca)), Some((ib, cb))) if ia == ib => {
                out.push(ia, ca + sign * cb);
                a.next();
                b.next();
            }
            (Some((ia, ca)), Some((ib, _))) if ia < ib => {
                out.push(ia, ca);
                a.next();
            }
            (Some((ia, ca)), None) => {
                out.push(ia, ca);
                a.next();
            }
            (_, Some((ib, cb))) => {
                out.push(ib, sign * cb);
                b.next();
            }
            (None, None) => return out.finish(),
        }
    }
}

impl FloatHistogram {
    /// Adds `other` to this histogram (PromQL `+`, `sum`, …). The result has
    /// the lower of the two resolutions and a zero bucket wide enough for
    /// both; custom bounds that differ are reduced to the bounds both share.
    /// The result may hold empty buckets: [`FloatHistogram::compact`] removes them.
    ///
    /// # Errors
    /// [`MixedSchemasError`] if one histogram has custom buckets and the other
    /// exponential ones (this histogram is then unchanged).
    pub fn add(&mut self, other: &FloatHistogram) -> Result<CombineNotes, MixedSchemasError> {
        self.combine(other, 1.0)
    }

    /// Subtracts `other` from this histogram, reconciling layouts like
    /// [`FloatHistogram::add`] and merging counter-reset hints the same way.
    /// PromQL's `-` operator then marks its result as a gauge histogram.
    ///
    /// # Errors
    /// [`MixedSchemasError`] as for [`FloatHistogram::add`].
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<CombineNotes, MixedSchemasError> {
        self.combine(other, -1.0)
    }

    fn combine(&mut self, other: &FloatHistogram, sign: f64) -> Result<CombineNotes, MixedSchemasError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(MixedSchemasError);
        }
        let mut notes =
            CombineNotes { counter_reset_collision: self.merge_counter_reset_hint(other), ..Default::default() };
        self.count += sign * other.count;
        self.sum += sign * other.sum;
        if self.uses_custom_buckets() {
            notes.custom_bounds_reconciled = self.combine_custom_buckets(other, sign);
            return Ok(notes);
        }
        let other_zero_count = self.reconcile_zero_buckets(other);
        self.zero_count += sign * other_zero_count;
        let target = self.schema.min(other.schema);
        self.reduce_resolution(target);
        // Buckets of `other` that the (possibly widened) zero bucket covers
        // are already in its zero count. They are left out in `other`'s own
        // schema: a coarser bucket may straddle the threshold. (Prometheus
        // filters after merging and then counts such buckets twice.)
        let (threshold, schema) = (self.zero_threshold, other.schema);
        let beyond = move |&(i, _): &(i32, f64)| beyond_zero_bucket(i, schema, threshold);
        let positive = in_schema(other.positive_indexed().filter(beyond), schema, target);
        (self.positive_spans, self.positive_buckets) = merge_sides(self.positive_indexed(), positive, sign);
        let negative = in_schema(other.negative_indexed().filter(beyond), schema, target);
        (self.negative_spans, self.negative_buckets) = merge_sides(self.negative_indexed(), negative, sign);
        Ok(notes)
    }

    /// Adds custom buckets; returns whether the bounds differed and had to be reconciled.
    fn combine_custom_buckets(&mut self, other: &FloatHistogram, sign: f64) -> bool {
        if custom_bounds_match(&self.custom_values, &other.custom_values) {
            (self.positive_spans, self.positive_buckets) =
                merge_sides(self.positive_indexed(), other.positive_indexed(), sign);
            return false;
        }
        let shared = intersect_bounds(&self.custom_values, &other.custom_values);
        let mut counts = vec![0.0; shared.len() + 1];
        // Each bucket goes to the first shared bucket whose upper bound is at least its own.
        let mut map_into = |h: &FloatHistogram, sign: f64| {
            let mut target = 0;
            for (index, count) in h.positive_indexed() {
                let upper = h.bound(index);
                while target < shared.len() && shared[target] < upper {
                    target += 1;
                }
                counts[target] += sign * count;
            }
        };
        map_into(self, 1.0);
        map_into(other, sign);
        let mut out = LayoutBuilder::new(0);
        for (index, &count) in counts.iter().enumerate() {
            if count != 0.0 {
                out.push(index as i32, count);
            }
        }
        (self.positive_spans, self.positive_buckets) = out.finish();
        self.custom_values = shared;
        true
    }

    /// Combines the counter-reset hints of two histograms being added or
    /// subtracted; returns whether they contradicted each other.
    pub(crate) fn merge_counter_reset_hint(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        match (self.counter_reset_hint, other.counter_reset_hint) {
            (a, b) if a == b => false,
            (Gauge, _) => false,
            (_, Gauge) => {
                self.counter_reset_hint = Gauge;
                false
            }
            (Unknown, _) => false,
            (_, Unknown) => {
                self.counter_reset_hint = Unknown;
                false
            }
            _ => {
                // CounterReset against NotCounterReset.
                self.counter_reset_hint = Unknown;
                true
            }
        }
    }

    /// The zero count this histogram would have with the zero threshold
    /// widened to `larger`, and the threshold actually usable: if `larger`
    /// falls inside a populated bucket, the whole bucket joins the zero
    /// bucket and the threshold moves to its far end.
    pub(crate) fn zero_count_for_larger_threshold(&self, mut larger: f64) -> (f64, f64) {
        if larger == self.zero_threshold {
            return (self.zero_count, larger);
        }
        'widen: loop {
            let mut count = self.zero_count;
            for b in self.positive_buckets_iter() {
                if b.lower >= larger {
                    break;
                }
                count += b.count;
                if b.upper > larger {
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for b in self.negative_buckets_iter() {
                if b.upper <= -larger {
                    break;
                }
                count += b.count;
                if b.lower < -larger {
                    if b.count != 0.0 {
                        // The positive side must be redone for the wider threshold.
                        larger = -b.lower;
                        continue 'widen;
                    }
                    break;
                }
            }
            return (count, larger);
        }
    }

    /// Widens the zero buckets of this histogram and (virtually) of `other` to
    /// a common threshold; changes this histogram and returns the zero count
    /// `other` has at that threshold.
    fn reconcile_zero_buckets(&mut self, other: &FloatHistogram) -> f64 {
        let (mut other_count, mut other_threshold) = (other.zero_count, other.zero_threshold);
        // NaN thresholds can't be ordered; leave them alone rather than loop forever.
        while other_threshold != self.zero_threshold && !other_threshold.is_nan() && !self.zero_threshold.is_nan() {
            if self.zero_threshold > other_threshold {
                (other_count, other_threshold) = other.zero_count_for_larger_threshold(self.zero_threshold);
            }
            if other_threshold > self.zero_threshold {
                (self.zero_count, self.zero_threshold) = self.zero_count_for_larger_threshold(other_threshold);
                self.drop_buckets_in_zero_bucket();
            }
        }
        other_count
    }

    /// Removes the buckets the zero bucket now covers (their counts are
    /// already in the zero count), then compacts.
    fn drop_buckets_in_zero_bucket(&mut self) {
        let (threshold, schema) = (self.zero_threshold, self.schema);
        // A bucket is covered when its lower end (in absolute value) is below the threshold.
        let covered = |index: i32| exponential_bound(index - 1, schema) < threshold;
        for (side_spans, side_buckets) in
            [(&self.positive_spans, &mut self.positive_buckets), (&self.negative_spans, &mut self.negative_buckets)]
        {
            let indices: Vec<i32> = SpanIter::new(side_spans, side_buckets).map(|(i, _)| i).collect();
            for (slot, index) in side_buckets.iter_mut().zip(indices) {
                if !covered(index) {
                    break;
                }
                *slot = 0.0;
            }
        }
        self.compact(0);
    }

    /// Reduces the resolution to exponential schema `target` by merging
    /// buckets (empty buckets are kept). Does nothing if `target` is not lower
    /// than the current schema or either schema is the custom one.
    pub fn reduce_resolution(&mut self, target: i32) {
        if target >= self.schema || self.uses_custom_buckets() || target == CUSTOM_BUCKETS_SCHEMA {
            return;
        }
        let schema = self.schema;
        let reduce = |spans: &[BucketSpan], buckets: &[f64]| {
            let mut out = LayoutBuilder::new(0);
            for (index, count) in pairs_in_schema(spans, buckets, schema, target) {
                out.push(index, count);
            }
            out.finish()
        };
        (self.positive_spans, self.positive_buckets) = reduce(&self.positive_spans, &self.positive_buckets);
        (self.negative_spans, self.negative_buckets) = reduce(&self.negative_spans, &self.negative_buckets);
        self.schema = target;
    }

    /// A copy at exponential schema `target` (see [`FloatHistogram::reduce_resolution`]).
    pub fn to_schema(&self, target: i32) -> FloatHistogram {
        let mut out = self.clone();
        out.reduce_resolution(target);
        out
    }

    /// Multiplies every count and the sum by `factor`; a negative factor
    /// makes the histogram a gauge histogram.
    pub fn mul(&mut self, factor: f64) {
        self.scale(|v| v * factor);
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// Divides every count and the sum by `divisor`. Division by zero leaves
    /// count, sum and zero count infinite (or NaN) and removes all buckets, as
    /// in Prometheus; a negative divisor makes the histogram a gauge histogram.
    pub fn div(&mut self, divisor: f64) {
        self.scale(|v| v / divisor);
        if divisor == 0.0 {
            for side in [&mut self.positive_spans, &mut self.negative_spans] {
                side.clear();
            }
            self.positive_buckets.clear();
            self.negative_buckets.clear();
        } else if divisor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// Negates the histogram (PromQL's unary minus): `mul(-1)`.
    pub fn negate(&mut self) {
        self.mul(-1.0);
    }

    fn scale(&mut self, f: impl Fn(f64) -> f64) {
        self.count = f(self.count);
        self.sum = f(self.sum);
        self.zero_count = f(self.zero_count);
        for v in self.positive_buckets.iter_mut().chain(self.negative_buckets.iter_mut()) {
            *v = f(*v);
        }
    }

    /// Whether a counter reset happened between `previous` and this
    /// histogram: the hint says so (`CounterReset` → yes, `NotCounterReset` →
    /// no), or else any count went down, a populated bucket disappeared, the
    /// resolution went up, or the zero bucket shrank.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            // Gauge histograms are compared like counters: PromQL warns about them separately.
            CounterResetHint::Unknown | CounterResetHint::Gauge => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() {
            if !previous.uses_custom_buckets() {
                return true;
            }
            if !custom_bounds_match(&self.custom_values, &previous.custom_values) {
                return self.reset_across_custom_bounds(previous);
            }
        }
        if self.schema > previous.schema || self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let (previous_zero_count, threshold) = previous.zero_count_for_larger_threshold(self.zero_threshold);
        if threshold != self.zero_threshold || self.zero_count < previous_zero_count {
            return true;
        }
        let (schema, exponential) = (self.schema, !self.uses_custom_buckets());
        let above_zero_bucket = move |&(i, _): &(i32, f64)| !exponential || exponential_bound(i, schema) > threshold;
        let side_reset = |curr: &[BucketSpan], curr_b: &[f64], prev: &[BucketSpan], prev_b: &[f64]| {
            side_has_reset(
                SpanIter::new(curr, curr_b).filter(above_zero_bucket),
                pairs_in_schema(prev, prev_b, previous.schema, schema).filter(above_zero_bucket),
            )
        };
        side_reset(&self.positive_spans, &self.positive_buckets, &previous.positive_spans, &previous.positive_buckets)
            || side_reset(
                &self.negative_spans,
                &self.negative_buckets,
                &previous.negative_spans,
                &previous.negative_buckets,
            )
    }

    /// Counter-reset detection between custom-bucket histograms with different
    /// bounds: between consecutive bounds both share (and up to +Inf), the
    /// observations must not have decreased.
    fn reset_across_custom_bounds(&self, previous: &FloatHistogram) -> bool {
        let mut shared = intersect_bounds(&self.custom_values, &previous.custom_values);
        shared.push(f64::INFINITY);
        fn with_upper(h: &FloatHistogram) -> Peekable<impl Iterator<Item = (f64, f64)> + '_> {
            h.positive_indexed().map(move |(i, c)| (h.bound(i), c)).peekable()
        }
        let (mut curr, mut prev) = (with_upper(self), with_upper(previous));
        fn sum_up_to(it: &mut Peekable<impl Iterator<Item = (f64, f64)>>, bound: f64) -> f64 {
            let mut sum = 0.0;
            while let Some((_, c)) = it.next_if(|&(upper, _)| upper <= bound) {
                sum += c;
            }
            sum
        }
        shared.into_iter().any(|bound| sum_up_to(&mut curr, bound) < sum_up_to(&mut prev, bound))
    }

    /// Exact equality as PromQL's `==` between histograms uses it: same
    /// schema, zero threshold, custom bounds and bucket layout, and
    /// bit-identical count, sum and bucket counts.
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        self.equal_by(other, |a, b| a.to_bits() == b.to_bits())
    }

    /// Equality as the promqltest runner checks results: both compacted,
    /// then the same schema, zero threshold, custom bounds and layout, with
    /// count, sum, zero count and every bucket equal within the relative
    /// tolerance `epsilon` (Prometheus uses 1e-6). Counter-reset hints are ignored.
    pub fn approx_eq(&self, other: &FloatHistogram, epsilon: f64) -> bool {
        let (mut a, mut b) = (self.clone(), other.clone());
        a.compact(0);
        b.compact(0);
        a.equal_by(&b, |x, y| almost_equal(x, y, epsilon))
    }

    /// Same schema, zero threshold, custom bounds and bucket indices, with
    /// every number equal as `same` judges.
    fn equal_by(&self, other: &FloatHistogram, same: impl Fn(f64, f64) -> bool) -> bool {
        let same_buckets = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(*x, *y));
        self.schema == other.schema
            && same(self.count, other.count)
            && same(self.sum, other.sum)
            && (!self.uses_custom_buckets() || custom_bounds_match(&self.custom_values, &other.custom_values))
            && self.zero_threshold == other.zero_threshold
            && same(self.zero_count, other.zero_count)
            && same_layout(&self.negative_spans, &other.negative_spans)
            && same_buckets(&self.negative_buckets, &other.negative_buckets)
            && same_layout(&self.positive_spans, &other.positive_spans)
            && same_buckets(&self.positive_buckets, &other.positive_buckets)
    }
}

/// Whether any bucket of `prev` is populated but missing from `curr`, or has a
/// higher count there. Both in ascending index order.
fn side_has_reset(curr: impl Iterator<Item = (i32, f64)>, prev: impl Iterator<Item = (i32, f64)>) -> bool {
    let mut curr = curr.peekable();
    for (index, prev_count) in prev {
        while curr.next_if(|&(i, _)| i < index).is_some() {}
        let reset = match curr.peek() {
            Some(&(i, count)) if i == index => count < prev_count,
            _ => prev_count != 0.0,
        };
        if reset {
            return true;
        }
    }
    false
}

/// Relative float comparison as Prometheus's tests do it (`almost.Equal`):
/// NaN equals NaN, and values near zero compare absolutely.
pub(crate) fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Asserts `a op b` gives `want` (compared as the test runner compares).
    fn check(a: &str, b: &str, subtract: bool, want: &str) -> CombineNotes {
        let mut got = h(a);
        let notes = if subtract { got.sub(&h(b)) } else { got.add(&h(b)) }.unwrap();
        assert!(got.approx_eq(&h(want), 1e-12), "{a} {} {b}: got {got}, want {want}", if subtract { '-' } else { '+' });
        notes
    }

    #[test]
    fn adds_same_layouts_bucket_by_bucket() {
        check(
            "{{schema:0 count:4 sum:10 z_bucket:1 buckets:[1 2] n_buckets:[0 1]}}",
            "{{schema:0 count:5 sum:2 z_bucket:2 offset:1 buckets:[1 1] n_buckets:[1]}}",
            false,
            "{{schema:0 count:9 sum:12 z_bucket:3 buckets:[1 3 1] n_buckets:[1 1]}}",
        );
    }

    #[test]
    fn adding_reduces_to_the_coarser_schema() {
        // Schema 1 buckets 1,2 → schema 0 bucket 1; 3,4 → 2.
        check(
            "{{schema:0 count:3 sum:5 buckets:[1 2]}}",
            "{{schema:1 count:10 sum:1 offset:1 buckets:[1 2 3 4]}}",
            false,
            "{{schema:0 count:13 sum:6 buckets:[1 5 7]}}",
        );
        check(
            "{{schema:1 count:10 sum:1 offset:1 buckets:[1 2 3 4]}}",
            "{{schema:0 count:3 sum:5 buckets:[1 2]}}",
            false,
            "{{schema:0 count:13 sum:6 buckets:[1 5 7]}}",
        );
        let mut a = h("{{schema:2 buckets:[1]}}");
        a.add(&h("{{schema:-1 buckets:[1]}}")).unwrap();
        assert_eq!(a.schema, -1);
    }

    #[test]
    fn series_expansion_example_from_the_prometheus_test_data() {
        // native_histograms.test: {{schema:-1 …}}+{{schema:0 …}}x1 loads as {{schema:-1 count:5 sum:8 offset:1 buckets:[5]}}.
        check(
            "{{schema:-1 sum:4 count:1 buckets:[1] offset:1}}",
            "{{schema:0 sum:4 count:4 buckets:[2 2] offset:1}}",
            false,
            "{{schema:-1 count:5 sum:8 offset:1 buckets:[5]}}",
        );
    }

    #[test]
    fn adding_widens_the_zero_bucket() {
        // Other's zero bucket reaches 1: this histogram's bucket (0.5,1] moves into the zero bucket.
        check(
            "{{schema:0 count:6 z_bucket:1 z_bucket_w:0.001 buckets:[2 3]}}",
            "{{schema:0 count:4 z_bucket:4 z_bucket_w:1}}",
            false,
            "{{schema:0 count:10 z_bucket:7 z_bucket_w:1 offset:1 buckets:[3]}}",
        );
        // A threshold inside a populated bucket moves to the bucket's upper bound: 0.7 → 1.
        check(
            "{{schema:0 count:4 z_bucket_w:0.7 z_bucket:1}}",
            "{{schema:0 count:6 buckets:[2 3] n_buckets:[1]}}",
            false,
            "{{schema:0 count:10 z_bucket:4 z_bucket_w:1 offset:1 buckets:[3]}}",
        );
    }

    #[test]
    fn buckets_inside_the_widened_zero_bucket_are_not_counted_twice() {
        // (1/16,1/8] lies inside the zero bucket [-0.3,0.3], though the schema -2
        // bucket (1/16,1] it merges into does not.
        check(
            "{{schema:-2 count:78 z_bucket:78 z_bucket_w:0.3}}",
            "{{schema:0 count:141 z_bucket:1 z_bucket_w:0.001 offset:-4 buckets:[68 72]}}",
            false,
            "{{schema:-2 count:219 z_bucket:219 z_bucket_w:0.3}}",
        );
    }

    #[test]
    fn subtracting_can_go_negative() {
        let notes = check(
            "{{schema:0 count:4 sum:10 buckets:[1 3]}}",
            "{{schema:0 count:5 sum:12 buckets:[2 1] n_buckets:[2]}}",
            true,
            "{{schema:0 count:-1 sum:-2 buckets:[-1 2] n_buckets:[-2]}}",
        );
        assert!(!notes.any());
    }

    #[test]
    fn subtraction_examples_from_the_prometheus_test_data() {
        // native_histograms.test, "Test native histograms with sub operator".
        let a = "{{schema:0 count:41 sum:2345.6 z_bucket:5 z_bucket_w:0.001 buckets:[1 3 1 2 1 1 1] n_buckets:[0 1 4 2 7 0 0 0 0 5 5 2]}}";
        let b = "{{schema:0 count:11 sum:1234.5 z_bucket:3 z_bucket_w:0.001 buckets:[0 2 1] n_buckets:[0 0 3 2]}}";
        let b1 = "{{schema:1 count:11 sum:1234.5 z_bucket:3 z_bucket_w:0.001 buckets:[0 2 1] n_buckets:[0 0 3 2]}}";
        check(a, b, true, "{{schema:0 count:30 sum:1111.1 z_bucket:2 z_bucket_w:0.001 buckets:[1 1 0 2 1 1 1] n_buckets:[0 1 1 0 7 0 0 0 0 5 5 2]}}");
        check(a, b1, true, "{{schema:0 count:30 sum:1111.1 z_bucket:2 z_bucket_w:0.001 buckets:[1 0 1 2 1 1 1] n_buckets:[0 -2 2 2 7 0 0 0 0 5 5 2]}}");
        check(
            b1,
            a,
            true,
            "{{schema:0 count:-30 sum:-1111.1 z_bucket:-2 z_bucket_w:0.001 buckets:[-1 0 -1 -2 -1 -1 -1] n_buckets:[0 2 -2 -2 -7 0 0 0 0 -5 -5 -2]}}",
        );
    }

    #[test]
    fn custom_buckets_add_when_bounds_match_and_reconcile_when_not() {
        let notes = check(
            "{{schema:-53 count:3 sum:3 custom_values:[5 10] buckets:[1 2]}}",
            "{{schema:-53 count:2 sum:2 custom_values:[5 10] offset:1 buckets:[1 1]}}",
            false,
            "{{schema:-53 count:5 sum:5 custom_values:[5 10] buckets:[1 3 1]}}",
        );
        assert!(!notes.custom_bounds_reconciled);
        // From native_histograms.test: [5 10] + [10] keeps only bound 10.
        let notes = check(
            "{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}",
            "{{schema:-53 sum:1 count:1 custom_values:[10] buckets:[1]}}",
            false,
            "{{schema:-53 count:2 sum:2 custom_values:[10] buckets:[2]}}",
        );
        assert!(notes.custom_bounds_reconciled);
        // Bucket (10,+Inf] of one and (3,+Inf] of the other share only +Inf.
        check(
            "{{schema:-53 count:4 custom_values:[1 3 10] buckets:[1 1 1 1]}}",
            "{{schema:-53 count:3 custom_values:[1 2 3] buckets:[1 1 0 1]}}",
            true,
            "{{schema:-53 count:1 custom_values:[1 3] buckets:[0 0 1]}}",
        );
    }

    #[test]
    fn mixing_exponential_and_custom_buckets_is_an_error() {
        let mut a = h("{{schema:0 count:1}}");
        let before = a.clone();
        assert_eq!(a.add(&h("{{schema:-53 count:1}}")), Err(MixedSchemasError));
        assert_eq!(a, before);
        assert!(MixedSchemasError.to_string().contains("mix of exponential and custom bucket schemas"));
    }

    #[test]
    fn counter_reset_hints_merge_and_collide() {
        let hinted = |hint: &str| h(&format!("{{{{counter_reset_hint:{hint}}}}}"));
        let mut a = hinted("reset");
        assert!(a.add(&hinted("not_reset")).unwrap().counter_reset_collision);
        assert_eq!(a.counter_reset_hint, CounterResetHint::Unknown);
        let mut a = hinted("reset");
        a.add(&hinted("gauge")).unwrap();
        assert_eq!(a.counter_reset_hint, CounterResetHint::Gauge);
        let mut a = hinted("not_reset");
        assert!(!a.add(&hinted("unknown")).unwrap().counter_reset_collision);
        assert_eq!(a.counter_reset_hint, CounterResetHint::Unknown);
        let mut a = hinted("reset");
        a.add(&hinted("reset")).unwrap();
        assert_eq!(a.counter_reset_hint, CounterResetHint::CounterReset);
    }

    #[test]
    fn scaling() {
        let mut a = h("{{schema:0 count:4 sum:10 z_bucket:1 buckets:[1 2] n_buckets:[1]}}");
        a.mul(2.0);
        assert!(a.approx_eq(&h("{{schema:0 count:8 sum:20 z_bucket:2 buckets:[2 4] n_buckets:[2]}}"), 0.0));
        assert_eq!(a.counter_reset_hint, CounterResetHint::Unknown);
        a.div(-4.0);
        assert!(a.approx_eq(&h("{{schema:0 count:-2 sum:-5 z_bucket:-0.5 buckets:[-0.5 -1] n_buckets:[-0.5]}}"), 0.0));
        assert_eq!(a.counter_reset_hint, CounterResetHint::Gauge);
        let mut z = h("{{schema:0 count:4 sum:0 buckets:[1 3]}}");
        z.div(0.0);
        assert_eq!(z.count, f64::INFINITY);
        assert!(z.sum.is_nan());
        assert!(z.positive_buckets.is_empty() && z.positive_spans.is_empty());
        let mut n = h("{{count:1 sum:2 buckets:[1]}}");
        n.negate();
        assert_eq!((n.count, n.sum, n.positive_buckets[0]), (-1.0, -2.0, -1.0));
    }

    #[test]
    fn resolution_reduction_merges_buckets() {
        let mut a = h("{{schema:2 count:10 offset:-1 buckets:[1 2 3 4 0 0 0 0 5] n_buckets:[1 1]}}");
        a.reduce_resolution(0);
        // Schema 2 buckets -1..=7 map to schema 0 buckets 0,0,1,1,1,1,2,2,2 (four make one).
        assert_eq!(a.schema, 0);
        assert_eq!(a.positive_spans, vec![BucketSpan { offset: 0, length: 3 }]);
        assert_eq!(a.positive_buckets, vec![3.0, 7.0, 5.0]);
        assert_eq!(a.negative_buckets, vec![1.0, 1.0]);
        let mut c = h("{{schema:-53 custom_values:[1] buckets:[1]}}");
        c.reduce_resolution(0);
        assert_eq!(c.schema, CUSTOM_BUCKETS_SCHEMA);
        let b = h("{{schema:1 count:3 offset:1 buckets:[1 2]}}");
        assert_eq!(b.to_schema(0).positive_buckets, vec![3.0]);
        assert_eq!(b.to_schema(1), b);
    }

    #[test]
    fn reset_detection() {
        let reset = |prev: &str, curr: &str| h(curr).detect_reset(&h(prev));
        assert!(!reset("{{count:2 buckets:[1 1]}}", "{{count:3 buckets:[1 2]}}"));
        assert!(reset("{{count:3 buckets:[1 2]}}", "{{count:2 buckets:[1 1]}}"));
        // A bucket went down although the count did not.
        assert!(reset("{{count:3 buckets:[2 1]}}", "{{count:3 buckets:[1 2]}}"));
        // A populated bucket disappeared; an empty one may.
        assert!(reset("{{count:2 buckets:[1 1]}}", "{{count:2 offset:1 buckets:[2]}}"));
        assert!(!reset("{{count:1 buckets:[0 1]}}", "{{count:1 offset:1 buckets:[1]}}"));
        assert!(reset("{{count:1 z_bucket:1}}", "{{count:1 buckets:[1]}}"));
        // Hints win.
        assert!(reset("{{count:1}}", "{{count:2 counter_reset_hint:reset}}"));
        assert!(!reset("{{count:2}}", "{{count:1 counter_reset_hint:not_reset}}"));
        // Finer resolution or a narrower zero bucket only come with a reset.
        assert!(reset("{{schema:0 count:1}}", "{{schema:1 count:1}}"));
        assert!(reset("{{z_bucket_w:1}}", "{{z_bucket_w:0.5}}"));
        // Coarser resolution: previous buckets are merged before comparing.
        assert!(!reset("{{schema:1 count:2 offset:1 buckets:[1 1]}}", "{{schema:0 count:2 offset:1 buckets:[2]}}"));
        assert!(reset(
            "{{schema:1 count:3 offset:1 buckets:[1 2]}}",
            "{{schema:0 count:3 offset:1 buckets:[2] n_buckets:[1]}}"
        ));
        // A wider zero bucket absorbs the previous buckets it covers.
        assert!(!reset(
            "{{count:3 z_bucket_w:0.1 z_bucket:1 buckets:[2 1]}}",
            "{{count:3 z_bucket_w:1 z_bucket:3 offset:1 buckets:[1]}}"
        ));
        assert!(reset(
            "{{count:3 z_bucket_w:0.1 z_bucket:1 buckets:[2 1]}}",
            "{{count:3 z_bucket_w:1 z_bucket:2 offset:1 buckets:[1]}}"
        ));
        // Exponential after custom (and back) is a reset.
        assert!(reset("{{schema:-53 count:1 buckets:[1]}}", "{{schema:0 count:1 buckets:[1]}}"));
        assert!(reset("{{schema:0 count:1 buckets:[1]}}", "{{schema:-53 count:1 buckets:[1]}}"));
    }

    #[test]
    fn reset_detection_across_different_custom_bounds() {
        let reset = |prev: &str, curr: &str| h(curr).detect_reset(&h(prev));
        // Shared bounds 10 and +Inf: (-Inf,10] has 3 → 3, (10,+Inf] 1 → 2.
        assert!(!reset(
            "{{schema:-53 count:4 custom_values:[5 10] buckets:[1 2 1]}}",
            "{{schema:-53 count:5 custom_values:[10 20] buckets:[3 1 1]}}"
        ));
        // (-Inf,10] went from 3 to 2.
        assert!(reset(
            "{{schema:-53 count:4 custom_values:[5 10] buckets:[1 2 1]}}",
            "{{schema:-53 count:5 custom_values:[10 20] buckets:[2 2 1]}}"
        ));
    }

    #[test]
    fn equality_is_exact_but_ignores_span_cuts() {
        let a = h("{{schema:0 count:2 sum:1 buckets:[1 1]}}");
        let mut b = a.clone();
        b.positive_spans = vec![BucketSpan { offset: 0, length: 1 }, BucketSpan { offset: 0, length: 1 }];
        assert!(a.equals(&b));
        let mut c = a.clone();
        c.sum = 1.0 + f64::EPSILON;
        assert!(!a.equals(&c));
        assert!(a.approx_eq(&c, 1e-6));
        // An explicit empty bucket is a different layout for `equals`, not for `approx_eq`.
        let d = h("{{schema:0 count:2 sum:1 buckets:[1 1 0]}}");
        assert!(!a.equals(&d));
        assert!(a.approx_eq(&d, 1e-6));
        assert!(!a.approx_eq(&h("{{schema:1 count:2 sum:1 buckets:[1 1]}}"), 1e-6));
        assert!(!a.approx_eq(&h("{{schema:0 count:2 sum:1 offset:1 buckets:[1 1]}}"), 1e-6));
        assert!(h("{{sum:NaN}}").approx_eq(&h("{{sum:NaN}}"), 1e-6));
        assert!(!h("{{schema:-53 custom_values:[1]}}").approx_eq(&h("{{schema:-53 custom_values:[2]}}"), 1e-6));
    }

    #[test]
    fn almost_equal_matches_prometheus() {
        assert!(almost_equal(1.0, 1.0 + 1e-9, 1e-6));
        assert!(!almost_equal(1.0, 1.001, 1e-6));
        assert!(almost_equal(f64::NAN, f64::NAN, 1e-6));
        assert!(!almost_equal(0.0, 1e-300, 1e-6));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY, 1e-6));
    }
}
