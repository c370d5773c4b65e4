//! Randomised checks of relations the histogram operations must keep, on
//! many generated exponential histograms (seeded, so failures reproduce).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ops::almost_equal;
use super::{BucketSpan, FloatHistogram};

fn random_side(rng: &mut StdRng) -> (Vec<BucketSpan>, Vec<f64>) {
    let mut spans = Vec::new();
    let mut buckets = Vec::new();
    for i in 0..rng.gen_range(0..4) {
        let offset = if i == 0 { rng.gen_range(-20..20) } else { rng.gen_range(0..5) };
        let length = rng.gen_range(0..6);
        spans.push(BucketSpan { offset, length });
        buckets.extend((0..length).map(|_| if rng.gen_bool(0.2) { 0.0 } else { f64::from(rng.gen_range(1..100)) }));
    }
    (spans, buckets)
}

/// A valid random histogram: buckets within the zero bucket are merged into it.
fn random_histogram(rng: &mut StdRng, schema: i32, zero_threshold: f64) -> FloatHistogram {
    let (positive_spans, positive_buckets) = random_side(rng);
    let (negative_spans, negative_buckets) = random_side(rng);
    let zero_count = if rng.gen_bool(0.5) { f64::from(rng.gen_range(0..10)) } else { 0.0 };
    let mut h = FloatHistogram {
        schema,
        zero_count,
        positive_spans,
        positive_buckets,
        negative_spans,
        negative_buckets,
        ..Default::default()
    };
    // Adding an empty histogram with the wanted zero threshold widens this one's.
    h.add(&FloatHistogram { schema, zero_threshold, ..Default::default() }).unwrap();
    h.count = bucket_total(&h);
    h.sum = rng.gen_range(-100.0..100.0);
    h
}

fn bucket_total(h: &FloatHistogram) -> f64 {
    h.zero_count + h.positive_buckets.iter().sum::<f64>() + h.negative_buckets.iter().sum::<f64>()
}

#[test]
fn adding_then_subtracting_gives_back_the_original() {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..500 {
        let schema = rng.gen_range(-4..=8);
        let a = random_histogram(&mut rng, schema, 0.0);
        let b = random_histogram(&mut rng, schema, 0.0);
        let mut c = a.clone();
        c.add(&b).unwrap();
        assert!(almost_equal(c.count, a.count + b.count, 1e-12));
        assert!(almost_equal(bucket_total(&c), bucket_total(&a) + bucket_total(&b), 1e-12));
        c.sub(&b).unwrap();
        assert!(c.approx_eq(&a, 1e-9), "{a} + {b} - b = {c}");
        // The sum's layout is canonical: no empty or touching spans.
        for s in c.positive_spans.iter().skip(1) {
            assert!(s.offset > 0 && s.length > 0, "{c}");
        }
    }
}

#[test]
fn adding_across_schemas_and_zero_thresholds_keeps_every_observation() {
    let mut rng = StdRng::seed_from_u64(2);
    for _ in 0..500 {
        let (schema_a, threshold_a) = (rng.gen_range(-4..=8), [0.0, 1e-3, 0.3][rng.gen_range(0..3)]);
        let (schema_b, threshold_b) = (rng.gen_range(-4..=8), [0.0, 1e-3, 2.0][rng.gen_range(0..3)]);
        let a = random_histogram(&mut rng, schema_a, threshold_a);
        let b = random_histogram(&mut rng, schema_b, threshold_b);
        let mut c = a.clone();
        c.add(&b).unwrap();
        assert_eq!(c.schema, a.schema.min(b.schema));
        assert!(c.zero_threshold >= a.zero_threshold.max(b.zero_threshold));
        assert!(almost_equal(bucket_total(&c), bucket_total(&a) + bucket_total(&b), 1e-12), "{a} + {b} = {c}");
        // Adding is what the compensated sum computes too.
        let mut k = a.clone();
        let (comp, _) = k.kahan_add(&b, None).unwrap();
        k.add(&comp).unwrap();
        assert!(k.approx_eq(&c, 1e-12), "{k} vs {c}");
        // A histogram never has a counter reset against itself.
        assert!(!c.detect_reset(&c));
    }
}

#[test]
fn quantiles_and_fractions_are_inverse_and_trims_agree_with_fractions() {
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..300 {
        let schema = rng.gen_range(-2..=8);
        let h = random_histogram(&mut rng, schema, 1e-3);
        if h.count == 0.0 {
            continue;
        }
        let mut last = f64::NEG_INFINITY;
        for q in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] {
            let (v, note) = h.quantile(q);
            assert!(note.is_none());
            assert!(v >= last, "{h}: quantile({q}) = {v} < {last}");
            last = v;
            let (f, _) = h.fraction(f64::NEG_INFINITY, v);
            assert!((f - q).abs() < 1e-9, "{h}: fraction(-Inf, quantile({q}) = {v}) = {f}");
        }
        for x in [-3.0, -0.5, 0.0, 1e-4, 0.7, 1.0, 5.0] {
            let (below, above) = (h.trim_upper(x), h.trim_lower(x));
            assert!(almost_equal(below.count + above.count, h.count, 1e-9), "{h} at {x}: {below} + {above}");
            let (f, _) = h.fraction(f64::NEG_INFINITY, x);
            assert!(almost_equal(below.count, f * h.count, 1e-9), "{h} </ {x} = {below}, fraction {f}");
        }
    }
}
