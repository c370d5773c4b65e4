//! Evaluator tests over a small in-memory [`Querier`]. The conformance suite
//! (`tests/promqltest.rs`) covers the language; these pin down the engine's
//! own contracts: limits, errors, result shapes and how storage is read.

use std::cell::Cell;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::error::ErrorKind;
use crate::histogram::{CounterResetHint, FloatHistogram};
use crate::model::{stale_nan, HPoint, Labels};

/// Series in memory; counts `select` calls.
#[derive(Default)]
struct Mem {
    series: Vec<Series>,
    selects: Cell<usize>,
}

impl Mem {
    fn add(&mut self, labels: &str, samples: &[(i64, f64)]) -> &mut Self {
        let points = samples.iter().map(|&(t, v)| Point::new(t, v)).collect();
        self.series.push(Series::floats(Labels::parse(labels).unwrap(), points));
        self
    }

    /// Adds float samples `(t, v, start timestamp)`; a start of 0 is none.
    fn add_with_starts(&mut self, labels: &str, samples: &[(i64, f64, i64)]) -> &mut Self {
        let points = samples.iter().map(|&(t, v, _)| Point::new(t, v)).collect();
        let mut series = Series::floats(Labels::parse(labels).unwrap(), points);
        series.start_timestamps = samples.iter().filter(|s| s.2 != 0).map(|&(t, _, st)| (t, st)).collect();
        self.series.push(series);
        self
    }

    /// Adds native-histogram samples given in test notation (and optional floats).
    fn add_histograms(&mut self, labels: &str, samples: &[(i64, &str)], floats: &[(i64, f64)]) -> &mut Self {
        let histograms = samples.iter().map(|&(t, h)| HPoint::new(t, histogram(h))).collect();
        let points = floats.iter().map(|&(t, v)| Point::new(t, v)).collect();
        let labels = Labels::parse(labels).unwrap();
        self.series.push(Series { labels, points, histograms, start_timestamps: Vec::new() });
        self
    }
}

use super::hist::test_histogram as histogram;

impl Querier for Mem {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Series>> {
        self.selects.set(self.selects.get() + 1);
        Ok(self
            .series
            .iter()
            .filter(|s| matchers.iter().all(|m| m.matches_labels(&s.labels)))
            .map(|s| Series {
                labels: s.labels.clone(),
                points: s.points.iter().copied().filter(|p| p.t >= mint && p.t <= maxt).collect(),
                histograms: s.histograms.iter().filter(|p| p.t >= mint && p.t <= maxt).cloned().collect(),
                start_timestamps: s.start_timestamps.iter().copied().filter(|&(t, _)| t >= mint && t <= maxt).collect(),
            })
            .filter(|s| !s.is_empty())
            .collect())
    }
}

/// `a_total{job="x"}` and `a_total{job="y"}`: counters sampled every 15s for 10 minutes.
fn counters() -> Mem {
    let mut m = Mem::default();
    let x: Vec<(i64, f64)> = (0..=40).map(|i| (i * 15_000, i as f64)).collect();
    let y: Vec<(i64, f64)> = (0..=40).map(|i| (i * 15_000, 2.0 * i as f64)).collect();
    m.add(r#"a_total{job="x"}"#, &x).add(r#"a_total{job="y"}"#, &y);
    m
}

fn vector(r: QueryResult) -> Vec<(String, f64)> {
    match r.value {
        Value::Vector(v) => v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect(),
        other => panic!("expected a vector, got {other:?}"),
    }
}

fn matrix(r: QueryResult) -> Vec<Series> {
    match r.value {
        Value::Matrix(m) => m,
        other => panic!("expected a matrix, got {other:?}"),
    }
}

#[test]
fn instant_selector_honours_lookback_and_stale_markers() {
    let mut m = Mem::default();
    m.add("up", &[(0, 1.0), (60_000, 2.0), (120_000, stale_nan())]).add("old", &[(0, 7.0)]);
    let o = QueryOptions::default();
    assert_eq!(vector(instant_query(&m, "up", 90_000, &o).unwrap()), vec![("up".into(), 2.0)]);
    assert!(vector(instant_query(&m, "up", 120_000, &o).unwrap()).is_empty(), "stale marker hides the series");
    assert_eq!(vector(instant_query(&m, "old", 299_999, &o).unwrap()).len(), 1);
    assert!(vector(instant_query(&m, "old", 300_000, &o).unwrap()).is_empty(), "exactly lookback old is gone");
    let zero = QueryOptions { lookback_delta: Duration::ZERO, ..QueryOptions::default() };
    assert_eq!(vector(instant_query(&m, "old", 299_999, &zero).unwrap()).len(), 1, "zero means the default");
    let short = QueryOptions { lookback_delta: Duration::from_secs(60), ..QueryOptions::default() };
    assert!(vector(instant_query(&m, "old", 60_000, &short).unwrap()).is_empty());
}

#[test]
fn range_query_reads_each_selector_once_and_matches_instant_steps() {
    let m = counters();
    let o = QueryOptions::default();
    let before = m.selects.get();
    let r = range_query(&m, "sum by (job) (rate(a_total[2m]))", 120_000, 600_000, 30_000, &o).unwrap();
    assert_eq!(m.selects.get() - before, 1, "one select for the whole range");
    let series = matrix(r);
    assert_eq!(series.len(), 2);
    assert!(series[0].labels < series[1].labels, "sorted by labels");
    for s in &series {
        assert_eq!(s.points.len(), 17);
        for p in &s.points {
            let instant = vector(instant_query(&m, "sum by (job) (rate(a_total[2m]))", p.t, &o).unwrap());
            let same = instant.iter().find(|(l, _)| *l == s.labels.to_string()).unwrap();
            assert!((same.1 - p.v).abs() < 1e-12, "step {} differs from the instant query", p.t);
        }
    }
    let x = &series[0];
    assert!((x.points[0].v - 1.0 / 15.0).abs() < 1e-12, "one increment per 15s");
}

#[test]
fn scalar_range_results_are_one_unlabelled_series() {
    let m = Mem::default();
    let s = matrix(range_query(&m, "time() * 2", 0, 20_000, 10_000, &QueryOptions::default()).unwrap());
    assert_eq!(s.len(), 1);
    assert!(s[0].labels.is_empty());
    assert_eq!(s[0].points.iter().map(|p| p.v).collect::<Vec<_>>(), vec![0.0, 20.0, 40.0]);
}

#[test]
fn range_query_input_errors_are_bad_data() {
    let m = Mem::default();
    let o = QueryOptions::default();
    let e = range_query(&m, "up[5m]", 0, 10, 1, &o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadData);
    assert!(e.to_string().contains("range vector"), "{e}");
    assert_eq!(range_query(&m, "up", 0, 10, 0, &o).unwrap_err().kind(), ErrorKind::BadData);
    assert_eq!(range_query(&m, "up", 10, 0, 1, &o).unwrap_err().kind(), ErrorKind::BadData);
    assert_eq!(instant_query(&m, "sum(", 0, &o).unwrap_err().kind(), ErrorKind::BadData);
}

#[test]
fn sample_limit_cancel_and_timeout_abort_queries() {
    let m = counters();
    let limited = QueryOptions { max_samples: 50, ..QueryOptions::default() };
    let e = instant_query(&m, "a_total[10m]", 600_000, &limited).unwrap_err();
    assert!(matches!(e, Error::TooManySamples(_)), "{e}");
    assert_eq!(e.kind(), ErrorKind::Execution);
    assert!(instant_query(&m, "a_total[1m]", 600_000, &limited).is_ok());
    let huge_range = range_query(&m, "1", 0, 1_000_000, 1, &limited).unwrap_err();
    assert!(matches!(huge_range, Error::TooManySamples(_)));

    let cancel = Arc::new(AtomicBool::new(true));
    let canceled = QueryOptions { cancel: Some(cancel), ..QueryOptions::default() };
    assert_eq!(instant_query(&m, "a_total", 0, &canceled).unwrap_err().kind(), ErrorKind::Canceled);
    let expired = QueryOptions { timeout: Some(Duration::ZERO), ..QueryOptions::default() };
    assert_eq!(instant_query(&m, "a_total", 0, &expired).unwrap_err().kind(), ErrorKind::Timeout);
}

#[test]
fn matching_errors_use_prometheus_wording() {
    let mut m = Mem::default();
    m.add(r#"a{job="x", i="1"}"#, &[(0, 1.0)])
        .add(r#"a{job="x", i="2"}"#, &[(0, 1.0)])
        .add(r#"b{job="x"}"#, &[(0, 1.0)]);
    let o = QueryOptions::default();
    let e = instant_query(&m, "b + on(job) a", 0, &o).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"found duplicate series for the match group {job="x"} on the right hand-side of the operation: [{__name__="a", i="2", job="x"}, {__name__="a", i="1", job="x"}];many-to-many matching not allowed: matching labels must be unique on one side"#
    );
    let e = instant_query(&m, "a + on(job) b", 0, &o).unwrap_err();
    assert_eq!(
        e.to_string(),
        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
    );
    let ok = vector(instant_query(&m, "a + on(job) group_left b", 0, &o).unwrap());
    assert_eq!(ok.len(), 2);
}

#[test]
fn name_removal_can_be_delayed_to_the_end() {
    let m = counters();
    let q = r#"label_replace(rate(a_total{job="x"}[5m]), "was", "$1", "__name__", "(.+)")"#;
    let delayed = QueryOptions { delayed_name_removal: true, ..QueryOptions::default() };
    assert_eq!(vector(instant_query(&m, q, 600_000, &delayed).unwrap())[0].0, r#"{job="x", was="a_total"}"#);
    let immediate = QueryOptions::default();
    assert_eq!(vector(instant_query(&m, q, 600_000, &immediate).unwrap())[0].0, r#"{job="x"}"#);
    // Grouping still sees the name that is only marked for removal.
    let grouped = vector(instant_query(&m, "sum by (__name__) (rate(a_total[5m]))", 600_000, &delayed).unwrap());
    assert_eq!(grouped.len(), 1);
    assert_eq!(grouped[0].0, "{}");
    assert!((grouped[0].1 - 3.0 / 15.0).abs() < 1e-12);
}

#[test]
fn annotations_are_returned_with_the_value() {
    let mut m = Mem::default();
    m.add("gauge", &[(0, 1.0), (15_000, 2.0)]);
    let r = instant_query(&m, "rate(gauge[1m])", 30_000, &QueryOptions::default()).unwrap();
    assert_eq!(
        r.infos,
        vec!["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"gauge\""]
    );
    let r = range_query(&m, "sort(gauge)", 0, 30_000, 15_000, &QueryOptions::default()).unwrap();
    assert_eq!(r.warnings.len(), 1);
}

#[test]
fn instant_results_keep_function_order() {
    let mut m = Mem::default();
    m.add(r#"v{i="a"}"#, &[(0, 3.0)]).add(r#"v{i="b"}"#, &[(0, 1.0)]).add(r#"v{i="c"}"#, &[(0, 2.0)]);
    let o = QueryOptions::default();
    let order = |q: &str| vector(instant_query(&m, q, 0, &o).unwrap()).into_iter().map(|(_, v)| v).collect::<Vec<_>>();
    assert_eq!(order("sort(v)"), vec![1.0, 2.0, 3.0]);
    assert_eq!(order("sort_desc(v)"), vec![3.0, 2.0, 1.0]);
    assert_eq!(order("topk(2, v)"), vec![3.0, 2.0]);
    assert_eq!(order("bottomk(2, v)"), vec![1.0, 2.0]);
}

#[test]
fn unary_minus_binds_between_multiplication_and_power() {
    let m = Mem::default();
    let o = QueryOptions::default();
    let scalar = |q: &str| match instant_query(&m, q, 0, &o).unwrap().value {
        Value::Scalar(p) => p.v,
        other => panic!("{other:?}"),
    };
    assert_eq!(scalar("-2^2"), -4.0);
    assert_eq!(scalar("-2^---1*3"), -1.5);
    assert_eq!(scalar("2/-2^---1*3+2"), -10.0);
}

/// Parses a valid call and rewrites its arguments into something the type
/// checker would reject, to see the evaluator cope without it.
fn mangled_call(q: &str, mangle: impl FnOnce(&mut Vec<Expr>)) -> Expr {
    let mut e = crate::promql::parse(q).unwrap();
    match &mut e.kind {
        crate::promql::ExprKind::Call(c) => mangle(&mut c.args),
        crate::promql::ExprKind::Aggregate(a) => {
            let mut args = vec![(*a.expr).clone()];
            mangle(&mut args);
            *a.expr = args.pop().unwrap();
        }
        _ => panic!("not a call"),
    }
    e
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let m = counters();
    let o = QueryOptions::default();
    let number = crate::promql::parse("1").unwrap();
    let string = crate::promql::parse(r#""x""#).unwrap();
    let cases = [
        mangled_call("quantile_over_time(0.5, a_total[1m])", |a| {
            a.remove(0);
        }),
        mangled_call("rate(a_total[1m])", |a| a[0] = number.clone()),
        mangled_call("sum(a_total)", |a| a[0] = number.clone()),
        mangled_call("abs(a_total)", |a| a[0] = string.clone()),
        mangled_call("clamp(a_total, 1, 2)", |a| {
            a.pop();
        }),
        mangled_call(r#"label_replace(a_total, "a", "b", "c", "d")"#, |a| a[1] = number.clone()),
    ];
    for e in cases {
        let err = evaluate(&m, &e, 0, 0, 0, &o).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Execution, "{err}");
    }
}

/// The histogram samples of an instant vector, by series.
fn histograms(r: &QueryResult) -> Vec<(String, FloatHistogram)> {
    match &r.value {
        Value::Vector(v) => {
            v.iter().filter_map(|s| s.h.as_ref().map(|h| (s.labels.to_string(), (**h).clone()))).collect()
        }
        other => panic!("expected a vector, got {other:?}"),
    }
}

/// `h_total`: a histogram counter growing by one observation in bucket 1 every 15s.
fn histogram_counter() -> Mem {
    let mut m = Mem::default();
    let samples: Vec<(i64, String)> =
        (0..=40).map(|i| (i * 15_000, format!("{{{{count:{i} sum:{i} buckets:[{i}] offset:1}}}}"))).collect();
    let refs: Vec<(i64, &str)> = samples.iter().map(|(t, h)| (*t, h.as_str())).collect();
    m.add_histograms("h_total", &refs, &[]);
    m
}

#[test]
fn histogram_selectors_honour_lookback_and_stale_markers() {
    let mut m = Mem::default();
    m.add_histograms("h", &[(0, "{{count:1}}"), (60_000, "{{count:2}}")], &[(120_000, stale_nan())]);
    m.add_histograms("old", &[(0, "{{count:7}}")], &[]);
    let o = QueryOptions::default();
    let at = |q: &str, t: i64| histograms(&instant_query(&m, q, t, &o).unwrap());
    assert_eq!(at("h", 90_000)[0].1.count, 2.0, "the newest histogram within the lookback");
    assert!(at("h", 130_000).is_empty(), "a stale marker ends the series");
    assert_eq!(at("old", 299_999).len(), 1);
    assert!(at("old", 300_000).is_empty(), "exactly lookback old is gone");
    let range = matrix(range_query(&m, "h", 0, 120_000, 30_000, &o).unwrap());
    assert_eq!(
        range[0].histograms.iter().map(|p| (p.t, p.h.count)).collect::<Vec<_>>(),
        vec![(0, 1.0), (30_000, 1.0), (60_000, 2.0), (90_000, 2.0)]
    );
    assert!(range[0].points.is_empty());
}

#[test]
fn histogram_rate_is_a_gauge_histogram_and_histogram_count_reads_it() {
    let m = histogram_counter();
    let o = QueryOptions::default();
    let r = instant_query(&m, "rate(h_total[1m])", 600_000, &o).unwrap();
    let (_, h) = &histograms(&r)[0];
    assert!((h.count - 1.0 / 15.0).abs() < 1e-12, "one observation per 15s: {h}");
    assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
    assert!(r.infos.is_empty() && r.warnings.is_empty());
    let count = vector(instant_query(&m, "histogram_count(rate(h_total[1m]))", 600_000, &o).unwrap());
    assert!((count[0].1 - 1.0 / 15.0).abs() < 1e-12);
    // A range query computes the same at every step.
    let range = matrix(range_query(&m, "histogram_sum(increase(h_total[1m]))", 300_000, 600_000, 60_000, &o).unwrap());
    assert!(range[0].points.iter().all(|p| (p.v - 4.0).abs() < 1e-9), "{:?}", range[0].points);
}

#[test]
fn floats_and_histograms_do_not_mix_in_sums() {
    let mut m = Mem::default();
    m.add_histograms(r#"x{i="h"}"#, &[(0, "{{count:2 sum:3 buckets:[2]}}")], &[]);
    m.add(r#"x{i="f"}"#, &[(0, 5.0)]);
    let o = QueryOptions::default();
    let r = instant_query(&m, "sum(x)", 0, &o).unwrap();
    assert!(vector(r.clone()).is_empty());
    assert_eq!(r.warnings, vec!["PromQL warning: encountered a mix of histograms and floats for aggregation"]);
    let r = instant_query(&m, "max(x)", 0, &o).unwrap();
    assert_eq!(vector(r.clone()), vec![("{}".to_string(), 5.0)]);
    assert_eq!(r.infos, vec!["PromQL info: ignored histogram in max aggregation"]);
    assert_eq!(vector(instant_query(&m, "count(x)", 0, &o).unwrap()), vec![("{}".to_string(), 2.0)]);
    let summed = histograms(&instant_query(&m, r#"sum(x{i="h"}) + sum(x{i="h"})"#, 0, &o).unwrap());
    assert_eq!((summed[0].1.count, summed[0].1.sum), (4.0, 6.0));
}

#[test]
fn binary_operators_on_histograms() {
    let mut m = Mem::default();
    m.add_histograms("h", &[(0, "{{count:2 sum:3 buckets:[2]}}")], &[]);
    let o = QueryOptions::default();
    let doubled = histograms(&instant_query(&m, "h * 2", 0, &o).unwrap());
    assert_eq!((doubled[0].0.as_str(), doubled[0].1.count, doubled[0].1.sum), ("{}", 4.0, 6.0), "the name goes");
    assert_eq!(histograms(&instant_query(&m, "2 * h", 0, &o).unwrap())[0].1.count, 4.0);
    assert_eq!(histograms(&instant_query(&m, "h / 2", 0, &o).unwrap())[0].1.count, 1.0);
    let diff = histograms(&instant_query(&m, "h - h", 0, &o).unwrap());
    assert_eq!((diff[0].1.count, diff[0].1.counter_reset_hint), (0.0, CounterResetHint::Gauge));
    assert_eq!(histograms(&instant_query(&m, "h == h", 0, &o).unwrap()).len(), 1);
    assert_eq!(vector(instant_query(&m, "h == bool h", 0, &o).unwrap())[0].1, 1.0);
    let r = instant_query(&m, "h + 1", 0, &o).unwrap();
    assert!(vector(r.clone()).is_empty());
    assert_eq!(
        r.infos,
        vec![r#"PromQL info: incompatible sample types encountered for binary operator "+": histogram + float"#]
    );
    let r = instant_query(&m, "h > 1", 0, &o).unwrap();
    assert!(vector(r.clone()).is_empty(), "histograms do not compare with floats");
    // The one bucket is (0.5, 1].
    let trimmed = histograms(&instant_query(&m, "h </ 0.5", 0, &o).unwrap());
    assert_eq!(trimmed[0].1.count, 0.0, "every observation is above 0.5");
    let trimmed = histograms(&instant_query(&m, "h >/ 0.75", 0, &o).unwrap());
    // Share above 0.75 on a log scale: (log2 1 - log2 0.75) / (log2 1 - log2 0.5).
    assert!((trimmed[0].1.count - 2.0 * -(0.75f64.log2())).abs() < 1e-12, "interpolated in log space");
    assert_eq!(histograms(&instant_query(&m, "h >/ 0", 0, &o).unwrap())[0].1.sum, 3.0, "nothing cut: unchanged");
}

#[test]
fn range_functions_over_mixed_windows() {
    let mut m = Mem::default();
    m.add_histograms("mixed", &[(30_000, "{{count:1}}")], &[(0, 1.0), (15_000, 3.0)]);
    let o = QueryOptions::default();
    let r = instant_query(&m, "max_over_time(mixed[1m])", 45_000, &o).unwrap();
    assert_eq!(vector(r.clone()), vec![("{}".to_string(), 3.0)]);
    assert_eq!(
        r.infos,
        vec![
            r#"PromQL info: ignored histograms in a range containing both floats and histograms for metric name "mixed""#
        ]
    );
    let r = instant_query(&m, "sum_over_time(mixed[1m])", 45_000, &o).unwrap();
    assert!(vector(r.clone()).is_empty());
    assert_eq!(
        r.warnings,
        vec![r#"PromQL warning: encountered a mix of histograms and floats for metric name "mixed""#]
    );
    assert_eq!(vector(instant_query(&m, "count_over_time(mixed[1m])", 45_000, &o).unwrap())[0].1, 3.0);
    assert_eq!(vector(instant_query(&m, "changes(mixed[1m])", 45_000, &o).unwrap())[0].1, 2.0);
    let last = histograms(&instant_query(&m, "last_over_time(mixed[1m])", 45_000, &o).unwrap());
    assert_eq!(last[0].1.count, 1.0, "the newest sample is the histogram");
}

fn value_at(m: &Mem, q: &str, t: i64) -> Option<f64> {
    let got = vector(instant_query(m, q, t, &QueryOptions::default()).unwrap());
    assert!(got.len() <= 1, "{q}: {got:?}");
    got.first().map(|(_, v)| *v)
}

#[test]
fn start_timestamp_resets_count_once_and_only_for_counter_functions() {
    let mut m = Mem::default();
    // 120s: restarted (start after the previous sample) and lower: one reset.
    // 240s: restarted though higher. 180s: same start, no reset.
    m.add_with_starts(
        "c_total",
        &[(60_000, 10.0, 0), (120_000, 2.0, 90_000), (180_000, 5.0, 90_000), (240_000, 6.0, 200_000)],
    );
    assert_eq!(value_at(&m, "resets(c_total[5m])", 240_000), Some(2.0));
    assert_eq!(value_at(&m, "changes(c_total[5m])", 240_000), Some(3.0));
    assert_eq!(value_at(&m, "irate(c_total[5m])", 240_000), Some(0.1), "6 since the restart, over 60s");
    assert_eq!(value_at(&m, "idelta(c_total[5m])", 240_000), Some(1.0), "gauges ignore start timestamps");
    // Each sample restarted just before itself (start inside the window for the first).
    m.add_with_starts("d_total", &[(120_000, 20.0, 119_000), (180_000, 30.0, 179_000)]);
    assert_eq!(
        value_at(&m, "increase(d_total[2m])", 180_000),
        Some(50.0),
        "a zero at the first start, no extrapolation"
    );
    assert_eq!(value_at(&m, "delta(d_total[2m])", 180_000), Some(20.0), "delta extrapolates as always");
    assert_eq!(value_at(&m, "increase(d_total[2m:1m])", 180_000), Some(20.0), "subqueries drop start timestamps");
}

#[test]
fn a_start_exactly_at_the_window_start_is_outside_it() {
    let mut m = Mem::default();
    m.add_with_starts("at_total", &[(120_000, 3.0, 60_000), (180_000, 4.0, 60_000)]);
    m.add_with_starts("in_total", &[(120_000, 3.0, 60_001), (180_000, 4.0, 60_001)]);
    m.add_with_starts("bad_total", &[(120_000, 3.0, 120_001), (180_000, 4.0, 120_001)]);
    // Outside: the usual extrapolation, a full interval to the left.
    assert_eq!(value_at(&m, "increase(at_total[2m])", 180_000), Some(2.0));
    assert_eq!(value_at(&m, "increase(in_total[2m])", 180_000), Some(4.0));
    // A start after its own sample is invalid: ignored, though the next start follows the previous sample.
    assert_eq!(value_at(&m, "resets(bad_total[2m])", 180_000), Some(1.0));
    assert_eq!(value_at(&m, "increase(bad_total[2m])", 180_000), Some(7.0), "4, extrapolated towards zero");
    // A single sample is enough once its start lies inside the window.
    assert_eq!(value_at(&m, "increase(in_total[1m])", 120_000), Some(3.0));
    assert_eq!(value_at(&m, "increase(at_total[1m])", 120_000), None);
}

#[test]
fn overlapping_start_timestamps_warn_from_rate_and_increase_only() {
    let mut m = Mem::default();
    m.add_with_starts("o_total", &[(60_000, 1.0, 30_000), (120_000, 2.0, 10_000)]);
    let o = QueryOptions::default();
    let want =
        "PromQL warning: sample has start time that overlaps with previous sample timestamp for metric \"o_total\"";
    for q in ["rate(o_total[2m])", "increase(o_total[2m])"] {
        assert_eq!(instant_query(&m, q, 120_000, &o).unwrap().warnings, vec![want.to_string()], "{q}");
    }
    for q in ["irate(o_total[2m])", "resets(o_total[2m])", "rate(o_total[2m:30s])", "rate(o_total[1m])"] {
        assert!(instant_query(&m, q, 120_000, &o).unwrap().warnings.is_empty(), "{q}");
    }
}

#[test]
fn start_timestamp_function_reads_selected_samples_only() {
    let mut m = Mem::default();
    m.add_with_starts(r#"s{a="1"}"#, &[(60_000, 1.0, 50_000), (120_000, 2.0, 0)]);
    m.add("plain", &[(60_000, 1.0)]);
    let o = QueryOptions::default();
    assert_eq!(vector(instant_query(&m, "start_timestamp(s)", 90_000, &o).unwrap()), vec![(r#"{a="1"}"#.into(), 50.0)]);
    assert_eq!(value_at(&m, "start_timestamp(s)", 130_000), Some(0.0), "a sample without one gives 0");
    assert_eq!(value_at(&m, "start_timestamp(s offset 1m)", 130_000), Some(50.0));
    assert_eq!(value_at(&m, "start_timestamp((s))", 90_000), Some(50.0));
    assert_eq!(value_at(&m, "start_timestamp(plain)", 90_000), Some(0.0));
    assert_eq!(value_at(&m, "start_timestamp(s * 1)", 90_000), None, "expressions carry none");
    let r = matrix(range_query(&m, "start_timestamp(s)", 60_000, 120_000, 30_000, &o).unwrap());
    assert_eq!(r[0].points.iter().map(|p| p.v).collect::<Vec<_>>(), vec![50.0, 50.0, 0.0]);
}
