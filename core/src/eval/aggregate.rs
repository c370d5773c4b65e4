//! Aggregation operators (`sum`, `avg`, `topk`, `count_values`, …) with
//! `by`/`without` grouping. Each input series is assigned to its group once;
//! the step loop then only adds numbers into per-group accumulators.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::annotations::{go_g, Annotations};
use super::engine::Evaluator;
use super::hist::{self, HistogramSum};
use super::output::OutputBuilder;
use super::series::{go_quote, keep_labels, StepCursor, StepRange, StepSeries, StepValue, Val};
use crate::error::{Error, Result};
use crate::histogram::FloatHistogram;
use crate::model::{HPoint, Labels, Point, METRIC_NAME};
use crate::promql::{Aggregate, AggregateOp, ExprKind};
use crate::value::format_value;

/// Largest float that converts to an int64 without overflow, as Prometheus checks it.
const MAX_INT64: f64 = 9_223_372_036_854_774_784.0;
const MIN_INT64: f64 = -9_223_372_036_854_775_808.0;

pub(crate) fn eval_aggregate(ev: &mut Evaluator, agg: &Aggregate, r: StepRange) -> Result<Val> {
    if agg.op == AggregateOp::CountValues {
        return count_values(ev, agg, r);
    }
    let params = match &agg.param {
        Some(p) => Some(ev.eval_scalar(p, r)?),
        None => None,
    };
    let input = ev.eval_vector(&agg.expr, r)?;
    let (group_of, group_labels) = assign_groups(&input, agg);
    let histograms = input.iter().any(|s| !s.hpoints.is_empty());
    match agg.op {
        AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk | AggregateOp::LimitRatio => {
            let params = params.ok_or_else(|| Error::execution("aggregation needs a parameter"))?;
            select_k(ev, agg, &params, input, &group_of, group_labels.len(), r).map(Val::Vector)
        }
        _ => {
            if agg.op == AggregateOp::Quantile {
                if let Some(p) = &params {
                    check_quantile_params(ev, p);
                }
            }
            reduce(ev, agg.op, params.as_deref(), &input, &group_of, group_labels, r, histograms).map(Val::Vector)
        }
    }
}

/// The labels of the group a series belongs to.
fn grouping_labels(labels: &Labels, agg: &Aggregate) -> Labels {
    if agg.without {
        Labels::from_pairs(
            labels
                .iter()
                .filter(|l| l.name != METRIC_NAME && !agg.grouping.contains(&l.name))
                .map(|l| (l.name.as_str(), l.value.as_str())),
        )
    } else if agg.grouping.is_empty() {
        Labels::new()
    } else {
        keep_labels(labels, &agg.grouping)
    }
}

/// Group index of every input series, and each group's labels in order of first appearance.
fn assign_groups(input: &[StepSeries], agg: &Aggregate) -> (Vec<usize>, Vec<Labels>) {
    let mut index: FxHashMap<Labels, usize> = FxHashMap::default();
    let mut groups = Vec::new();
    let group_of = input
        .iter()
        .map(|s| {
            let key = grouping_labels(&s.labels, agg);
            *index.entry(key).or_insert_with_key(|k| {
                groups.push(k.clone());
                groups.len() - 1
            })
        })
        .collect();
    (group_of, groups)
}

fn nan_max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, |a, b| if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) })
}

fn nan_min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, |a, b| if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) })
}

fn check_quantile_params(ev: &mut Evaluator, params: &[f64]) {
    if params.iter().any(|q| q.is_nan()) {
        ev.annotations.invalid_quantile(f64::NAN);
    }
    let (max, min) = (nan_max(params), nan_min(params));
    if max > 1.0 {
        ev.annotations.invalid_quantile(max);
    }
    if min < 0.0 {
        ev.annotations.invalid_quantile(min);
    }
}

/// Neumaier-compensated addition: returns the new sum and compensation.
pub(crate) use crate::histogram::kahan_inc as kahan_add;

/// Running state of one group at one step.
#[derive(Clone, Default)]
struct Accumulator {
    value: f64,
    mean: f64,
    kahan_c: f64,
    count: f64,
    incremental_mean: bool,
    drop_name: bool,
    values: Vec<f64>,
}

impl Accumulator {
    fn start(&mut self, op: AggregateOp, v: f64, drop_name: bool) {
        self.value = v;
        self.mean = v;
        self.kahan_c = 0.0;
        self.count = 1.0;
        self.incremental_mean = false;
        self.drop_name = drop_name;
        self.values.clear();
        match op {
            AggregateOp::Stddev | AggregateOp::Stdvar => self.value = if v.is_finite() { 0.0 } else { f64::NAN },
            AggregateOp::Quantile => self.values.push(v),
            AggregateOp::Group => self.value = 1.0,
            _ => {}
        }
    }

    fn add(&mut self, op: AggregateOp, v: f64, drop_name: bool) {
        self.drop_name |= drop_name;
        match op {
            AggregateOp::Sum => (self.value, self.kahan_c) = kahan_add(v, self.value, self.kahan_c),
            AggregateOp::Avg => {
                self.count += 1.0;
                if !self.incremental_mean {
                    let (sum, c) = kahan_add(v, self.value, self.kahan_c);
                    if !sum.is_infinite() {
                        (self.value, self.kahan_c) = (sum, c);
                        return;
                    }
                    // The plain sum would overflow: continue with an incremental mean.
                    self.incremental_mean = true;
                    self.mean = self.value / (self.count - 1.0);
                    self.kahan_c /= self.count - 1.0;
                }
                let q = (self.count - 1.0) / self.count;
                (self.mean, self.kahan_c) = kahan_add(v / self.count, q * self.mean, q * self.kahan_c);
            }
            AggregateOp::Max if self.value < v || self.value.is_nan() => self.value = v,
            AggregateOp::Min if self.value > v || self.value.is_nan() => self.value = v,
            AggregateOp::Count => self.count += 1.0,
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                self.count += 1.0;
                let delta = v - self.mean;
                self.mean += delta / self.count;
                self.value += delta * (v - self.mean);
            }
            AggregateOp::Quantile => self.values.push(v),
            _ => {}
        }
    }

    fn result(&mut self, op: AggregateOp, q: f64) -> f64 {
        match op {
            AggregateOp::Sum => self.value + self.kahan_c,
            AggregateOp::Avg if self.incremental_mean => self.mean + self.kahan_c,
            AggregateOp::Avg => self.value / self.count + self.kahan_c / self.count,
            AggregateOp::Count => self.count,
            AggregateOp::Stdvar => self.value / self.count,
            AggregateOp::Stddev => (self.value / self.count).sqrt(),
            AggregateOp::Quantile => quantile(q, &mut self.values),
            _ => self.value,
        }
    }
}

/// How an aggregation folds the samples of each group at one step (see [`fold_steps`]).
trait GroupFold {
    /// The sample read from the input: `f64` on the float-only fast path.
    type Sample;
    fn read(cursor: &mut StepCursor, i: usize, s: &StepSeries, ts: i64) -> Option<Self::Sample>;
    /// The first sample of group `g` at this step; false if it was skipped
    /// (the group then has no value yet).
    fn start(&mut self, g: usize, s: &StepSeries, v: Self::Sample, annotations: &mut Annotations) -> bool;
    /// A further sample of group `g` at this step.
    fn add(&mut self, g: usize, s: &StepSeries, v: Self::Sample, annotations: &mut Annotations);
    /// Writes group `g`'s value for step `k` (at `ts`) into `out`, if it has one.
    fn emit(&mut self, g: usize, k: usize, ts: i64, out: &mut StepSeries, annotations: &mut Annotations);
}

/// Walks the steps: every input series' sample goes to its group, then
/// every group that received one emits its value.
fn fold_steps<F: GroupFold>(
    ev: &mut Evaluator,
    fold: &mut F,
    input: &[StepSeries],
    group_of: &[usize],
    group_labels: Vec<Labels>,
    r: StepRange,
) -> Result<Vec<StepSeries>> {
    let mut started = vec![0usize; group_labels.len()];
    let mut out: Vec<StepSeries> = group_labels.into_iter().map(|l| StepSeries::new(l, false)).collect();
    let mut cursor = StepCursor::new(input.len());
    let mut touched: Vec<usize> = Vec::new();
    for (k, ts) in r.iter().enumerate() {
        if k % 1024 == 1023 {
            ev.check_limits()?;
        }
        let stamp = k + 1;
        touched.clear();
        for (i, s) in input.iter().enumerate() {
            let Some(v) = F::read(&mut cursor, i, s, ts) else { continue };
            let g = group_of[i];
            if started[g] != stamp {
                if fold.start(g, s, v, &mut ev.annotations) {
                    started[g] = stamp;
                    touched.push(g);
                }
            } else {
                fold.add(g, s, v, &mut ev.annotations);
            }
        }
        touched.sort_unstable();
        for &g in &touched {
            fold.emit(g, k, ts, &mut out[g], &mut ev.annotations);
        }
    }
    out.retain(|s| !s.is_empty());
    Ok(out)
}

/// Float aggregation: one [`Accumulator`] per group.
struct FloatFold<'p> {
    op: AggregateOp,
    params: Option<&'p [f64]>,
    acc: Vec<Accumulator>,
}

impl GroupFold for FloatFold<'_> {
    type Sample = f64;

    #[inline]
    fn read(cursor: &mut StepCursor, i: usize, s: &StepSeries, ts: i64) -> Option<f64> {
        cursor.value_at(i, s, ts)
    }

    #[inline]
    fn start(&mut self, g: usize, s: &StepSeries, v: f64, _: &mut Annotations) -> bool {
        self.acc[g].start(self.op, v, s.drop_name);
        true
    }

    #[inline]
    fn add(&mut self, g: usize, s: &StepSeries, v: f64, _: &mut Annotations) {
        self.acc[g].add(self.op, v, s.drop_name);
    }

    fn emit(&mut self, g: usize, k: usize, ts: i64, out: &mut StepSeries, _: &mut Annotations) {
        let q = self.params.map_or(0.0, |p| p[k]);
        out.points.push(Point::new(ts, self.acc[g].result(self.op, q)));
        out.drop_name = self.acc[g].drop_name;
    }
}

/// Histogram state of one `sum`/`avg` group at one step.
#[derive(Default)]
struct HistogramGroup {
    /// The running sum (or mean); `None` while the group holds floats only.
    value: Option<HistogramSum>,
    has_float: bool,
    has_histogram: bool,
    /// Histograms that cannot be combined were met: no result.
    incompatible: bool,
}

impl HistogramGroup {
    fn starting_with(h: &FloatHistogram, op: AggregateOp) -> Self {
        HistogramGroup {
            value: Some(HistogramSum::new(h, op == AggregateOp::Avg)),
            has_histogram: true,
            ..Default::default()
        }
    }

    /// Adds `h` to the sum (or mean).
    fn add(&mut self, h: &FloatHistogram, annotations: &mut Annotations, metric: &str) {
        self.has_histogram = true;
        // A group that started with floats is mixed: nothing to add to.
        let Some(sum) = &mut self.value else { return };
        if !sum.add(h) {
            annotations.mixed_exponential_custom_histograms(metric);
            self.incompatible = true;
        }
    }
}

/// Aggregation of inputs holding histograms: `sum` and `avg` combine
/// histograms (but never histograms with floats), `count` and `group` count
/// them, the other aggregations skip them with an info.
struct HistogramFold<'p> {
    floats: FloatFold<'p>,
    groups: Vec<HistogramGroup>,
    /// `sum` or `avg`.
    combines: bool,
}

impl HistogramFold<'_> {
    /// A sample `count`/`group` take as it is, or another aggregation as a
    /// float; `None` for a histogram the aggregation skips.
    fn as_float(&self, v: &StepValue, annotations: &mut Annotations) -> Option<f64> {
        match v {
            StepValue::Float(f) => Some(*f),
            StepValue::Hist(_) if matches!(self.floats.op, AggregateOp::Count | AggregateOp::Group) => Some(0.0),
            StepValue::Hist(_) => {
                annotations.histogram_ignored_in_aggregation(self.floats.op.as_str());
                None
            }
        }
    }
}

impl GroupFold for HistogramFold<'_> {
    type Sample = StepValue;

    fn read(cursor: &mut StepCursor, i: usize, s: &StepSeries, ts: i64) -> Option<StepValue> {
        cursor.sample_at(i, s, ts)
    }

    fn start(&mut self, g: usize, s: &StepSeries, v: StepValue, annotations: &mut Annotations) -> bool {
        match v {
            StepValue::Hist(h) if self.combines => {
                self.floats.acc[g].start(self.floats.op, 0.0, s.drop_name);
                self.groups[g] = HistogramGroup::starting_with(&h, self.floats.op);
            }
            v => {
                let Some(f) = self.as_float(&v, annotations) else { return false };
                self.floats.acc[g].start(self.floats.op, f, s.drop_name);
                self.groups[g] = HistogramGroup { has_float: true, ..Default::default() };
            }
        }
        true
    }

    fn add(&mut self, g: usize, s: &StepSeries, v: StepValue, annotations: &mut Annotations) {
        if self.groups[g].incompatible {
            return;
        }
        match v {
            StepValue::Hist(h) if self.combines => {
                self.floats.acc[g].drop_name |= s.drop_name;
                self.groups[g].add(&h, annotations, s.labels.metric_name().unwrap_or(""));
            }
            v => {
                let Some(f) = self.as_float(&v, annotations) else { return };
                self.floats.acc[g].add(self.floats.op, f, s.drop_name);
                self.groups[g].has_float = true;
            }
        }
    }

    fn emit(&mut self, g: usize, k: usize, ts: i64, out: &mut StepSeries, annotations: &mut Annotations) {
        let group = &mut self.groups[g];
        if !(self.combines && group.has_histogram) {
            return self.floats.emit(g, k, ts, out, annotations);
        }
        if group.has_float {
            annotations.mixed_floats_histograms_aggregation();
            return;
        }
        if group.incompatible {
            return;
        }
        let sum = group.value.take().expect("a histogram group has a value");
        if sum.counter_reset_collision() {
            annotations.counter_reset_collision("aggregation");
        }
        if sum.reconciled() {
            annotations.mismatched_custom_buckets("aggregation");
        }
        out.hpoints.push(HPoint { t: ts, h: Arc::new(sum.finish()) });
        out.drop_name = self.floats.acc[g].drop_name;
    }
}

/// `sum`, `avg`, `min`, … over the groups; `histograms`: the input holds some.
#[allow(clippy::too_many_arguments)]
fn reduce(
    ev: &mut Evaluator,
    op: AggregateOp,
    params: Option<&[f64]>,
    input: &[StepSeries],
    group_of: &[usize],
    group_labels: Vec<Labels>,
    r: StepRange,
    histograms: bool,
) -> Result<Vec<StepSeries>> {
    let n = group_labels.len();
    let mut floats = FloatFold { op, params, acc: vec![Accumulator::default(); n] };
    if !histograms {
        return fold_steps(ev, &mut floats, input, group_of, group_labels, r);
    }
    let mut fold = HistogramFold {
        floats,
        groups: (0..n).map(|_| HistogramGroup::default()).collect(),
        combines: matches!(op, AggregateOp::Sum | AggregateOp::Avg),
    };
    fold_steps(ev, &mut fold, input, group_of, group_labels, r)
}

/// Prometheus's `quantile`: linear interpolation between the closest ranks;
/// NaN sorts first. Sorts `values`.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).expect("not NaN"),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// A candidate of `topk`/`bottomk`/`limitk`/`limit_ratio`: input series and
/// value (`h` for a histogram sample, which only `limitk`/`limit_ratio` keep).
#[derive(Clone)]
struct Candidate {
    series: usize,
    v: f64,
    h: Option<Arc<FloatHistogram>>,
}

/// Go's `vectorByValueHeap` order (NaN smallest) or its reverse for bottomk.
fn heap_less(a: f64, b: f64, reverse: bool) -> bool {
    if a.is_nan() {
        return true;
    }
    if reverse {
        a > b
    } else {
        a < b
    }
}

/// A binary heap ordered like Go's `container/heap` over `heap_less`, so the
/// same elements are kept and evicted as in Prometheus.
struct GoHeap {
    items: Vec<Candidate>,
    reverse: bool,
}

impl GoHeap {
    fn less(&self, i: usize, j: usize) -> bool {
        heap_less(self.items[i].v, self.items[j].v, self.reverse)
    }

    fn push(&mut self, c: Candidate) {
        self.items.push(c);
        let mut j = self.items.len() - 1;
        while j > 0 {
            let parent = (j - 1) / 2;
            if parent == j || !self.less(j, parent) {
                break;
            }
            self.items.swap(parent, j);
            j = parent;
        }
    }

    fn fix_top(&mut self) {
        let n = self.items.len();
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let mut j = left;
            if left + 1 < n && self.less(left + 1, left) {
                j = left + 1;
            }
            if !self.less(j, i) {
                break;
            }
            self.items.swap(i, j);
            i = j;
        }
    }
}

/// The deterministic sampling offset in `[0, 1)` of a series for `limit_ratio`.
fn ratio_offset(labels: &Labels) -> f64 {
    // FNV-1a over the label bytes with a final avalanche, spread over [0, 1).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for l in labels.iter() {
        for b in l.name.bytes().chain([0xff]).chain(l.value.bytes()).chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h as f64 / u64::MAX as f64
}

fn select_k(
    ev: &mut Evaluator,
    agg: &Aggregate,
    params: &[f64],
    input: Vec<StepSeries>,
    group_of: &[usize],
    n_groups: usize,
    r: StepRange,
) -> Result<Vec<StepSeries>> {
    let op = agg.op;
    let (max, min) = (nan_max(params), nan_min(params));
    if op == AggregateOp::LimitRatio {
        if max == 0.0 && min == 0.0 {
            return Ok(Vec::new());
        }
        if params.iter().any(|p| p.is_nan()) {
            return Err(Error::execution("Ratio value is NaN"));
        }
        if max > 1.0 {
            ev.annotations.invalid_ratio(max, 1.0);
        }
        if min < -1.0 {
            ev.annotations.invalid_ratio(min, -1.0);
        }
    } else {
        if max < 1.0 {
            return Ok(Vec::new());
        }
        if params.iter().any(|p| p.is_nan()) {
            return Err(Error::execution("Parameter value is NaN"));
        }
        if min <= MIN_INT64 {
            return Err(Error::execution(format!("Scalar value {} underflows int64", go_g(min))));
        }
        if max >= MAX_INT64 {
            return Err(Error::execution(format!("Scalar value {} overflows int64", go_g(max))));
        }
    }
    let offsets: Vec<f64> = if op == AggregateOp::LimitRatio {
        input.iter().map(|s| ratio_offset(&s.labels)).collect()
    } else {
        Vec::new()
    };
    let mut heaps: Vec<GoHeap> =
        (0..n_groups).map(|_| GoHeap { items: Vec::new(), reverse: op == AggregateOp::Bottomk }).collect();
    let mut stamps = vec![0usize; n_groups];
    let mut order: Vec<usize> = Vec::new();
    let mut out = OutputBuilder::new(r.is_instant());
    let slots: Vec<usize> = input.iter().map(|s| out.slot(&s.labels, s.drop_name)).collect();
    let mut cursor = StepCursor::new(input.len());
    let histograms = input.iter().any(|s| !s.hpoints.is_empty());
    let ordered = matches!(op, AggregateOp::Topk | AggregateOp::Bottomk);
    for (k, ts) in r.iter().enumerate() {
        if k % 1024 == 1023 {
            ev.check_limits()?;
        }
        let stamp = k + 1;
        let param = params[k];
        order.clear();
        let kk = (param as i64).min(input.len() as i64);
        let ratio = param.clamp(-1.0, 1.0);
        let skip_step = match op {
            AggregateOp::LimitRatio => param == 0.0,
            _ => kk < 1,
        };
        for (i, s) in input.iter().enumerate() {
            let (v, h) = if histograms {
                match cursor.sample_at(i, s, ts) {
                    Some(StepValue::Float(v)) => (v, None),
                    Some(StepValue::Hist(h)) => (0.0, Some(h)),
                    None => continue,
                }
            } else {
                match cursor.value_at(i, s, ts) {
                    Some(v) => (v, None),
                    None => continue,
                }
            };
            if skip_step {
                continue;
            }
            if ordered && h.is_some() {
                // Histograms have no order.
                ev.annotations.histogram_ignored_in_aggregation(op.as_str());
                continue;
            }
            let g = group_of[i];
            if stamps[g] != stamp {
                stamps[g] = stamp;
                heaps[g].items.clear();
                order.push(g);
            }
            let heap = &mut heaps[g];
            let c = Candidate { series: i, v, h };
            match op {
                AggregateOp::Topk | AggregateOp::Bottomk => {
                    if (heap.items.len() as i64) < kk {
                        heap.push(c);
                    } else {
                        let top = heap.items[0].v;
                        let better = if op == AggregateOp::Topk { top < v } else { top > v };
                        if better || (top.is_nan() && !v.is_nan()) {
                            heap.items[0] = c;
                            if kk > 1 {
                                heap.fix_top();
                            }
                        }
                    }
                }
                AggregateOp::Limitk => {
                    if (heap.items.len() as i64) < kk {
                        heap.push(c);
                    }
                }
                _ => {
                    let offset = offsets[i];
                    if (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio) {
                        heap.push(c);
                    }
                }
            }
        }
        order.sort_unstable();
        for &g in &order {
            // The heap is rebuilt at the next step, so it can be sorted in place.
            let items = &mut heaps[g].items;
            match op {
                // Highest first (NaN last) for topk, lowest first for bottomk.
                AggregateOp::Topk => items.sort_by(|a, b| order_desc(a.v, b.v)),
                AggregateOp::Bottomk => items.sort_by(|a, b| order_asc(a.v, b.v)),
                _ => {}
            }
            for c in items.iter() {
                match &c.h {
                    Some(h) => out.push_value(slots[c.series], ts, StepValue::Hist(h.clone()))?,
                    None => out.push(slots[c.series], ts, c.v)?,
                };
            }
        }
    }
    Ok(out.finish())
}

/// Descending by value with NaN last.
fn order_desc(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        _ => b.partial_cmp(&a).expect("not NaN"),
    }
}

/// Ascending by value with NaN last.
fn order_asc(a: f64, b: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Equal,
        (true, false) => Greater,
        (false, true) => Less,
        _ => a.partial_cmp(&b).expect("not NaN"),
    }
}

/// The `count_values` output series for a sample of `labels` with value text `value`.
fn value_slot(out: &mut OutputBuilder, labels: &Labels, label: &str, value: &str, grouped: &Aggregate) -> usize {
    let mut with_value = labels.clone();
    with_value.set(label, value);
    out.slot(&grouping_labels(&with_value, grouped), false)
}

fn count_values(ev: &mut Evaluator, agg: &Aggregate, r: StepRange) -> Result<Val> {
    let label = match agg.param.as_deref().map(|p| &super::functions::unparen(p).kind) {
        Some(ExprKind::String(s)) => s.clone(),
        _ => return Err(Error::execution("count_values needs a string parameter")),
    };
    if label.is_empty() || label.contains('\u{fffd}') {
        let shown = agg.param.as_ref().and_then(|p| ev.source_text(&p.span)).unwrap_or_else(|| go_quote(&label));
        return Err(Error::execution(format!("invalid label name {shown}")));
    }
    let input = ev.eval_vector(&agg.expr, r)?;
    let mut grouping = agg.grouping.clone();
    if !agg.without {
        grouping.push(label.clone());
    }
    let grouped = Aggregate { grouping, ..agg.clone() };
    let mut out = OutputBuilder::new(r.is_instant());
    let mut cursor = StepCursor::new(input.len());
    let mut counts: Vec<(usize, f64)> = Vec::new();
    let mut slot_of: FxHashMap<(usize, u64), usize> = FxHashMap::default();
    for ts in r.iter() {
        counts.clear();
        for (i, s) in input.iter().enumerate() {
            let Some(sample) = cursor.sample_at(i, s, ts) else { continue };
            let slot = match sample {
                StepValue::Float(v) => match slot_of.get(&(i, v.to_bits())) {
                    Some(&slot) => slot,
                    None => {
                        let slot = value_slot(&mut out, &s.labels, &label, &format_value(v), &grouped);
                        slot_of.insert((i, v.to_bits()), slot);
                        slot
                    }
                },
                // Histogram values are rare here: their label is built each time.
                StepValue::Hist(h) => value_slot(&mut out, &s.labels, &label, &hist::go_string(&h), &grouped),
            };
            match counts.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, c)) => *c += 1.0,
                None => counts.push((slot, 1.0)),
            }
        }
        for &(slot, c) in &counts {
            out.push(slot, ts, c)?;
        }
    }
    Ok(Val::Vector(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_between_ranks() {
        assert_eq!(quantile(0.5, &mut [1.0, 3.0, 2.0, 4.0]), 2.5);
        assert_eq!(quantile(0.0, &mut [5.0, 1.0]), 1.0);
        assert!(quantile(0.5, &mut []).is_nan());
        assert_eq!(quantile(-1.0, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
    }

    #[test]
    fn kahan_sum_recovers_lost_low_bits() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1e100, 1.0, -1e100] {
            (s, c) = kahan_add(v, s, c);
        }
        assert_eq!(s + c, 1.0);
    }

    #[test]
    fn go_heap_keeps_the_k_largest() {
        let mut h = GoHeap { items: Vec::new(), reverse: false };
        for (i, v) in [5.0, 1.0, 3.0].into_iter().enumerate() {
            h.push(Candidate { series: i, v, h: None });
        }
        assert_eq!(h.items[0].v, 1.0, "smallest on top");
        h.items[0] = Candidate { series: 3, v: 4.0, h: None };
        h.fix_top();
        assert_eq!(h.items[0].v, 3.0);
    }

    #[test]
    fn ratio_offsets_are_stable_and_in_unit_interval() {
        let a = Labels::from_pairs([("a", "1")]);
        let o = ratio_offset(&a);
        assert!((0.0..1.0).contains(&o));
        assert_eq!(o, ratio_offset(&a.clone()));
        assert_ne!(o, ratio_offset(&Labels::from_pairs([("a", "2")])));
    }
}
