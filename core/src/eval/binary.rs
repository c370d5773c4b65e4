//! Binary operators: scalar/scalar, vector/scalar, vector/vector with
//! `on`/`ignoring`, `group_left`/`group_right`, `fill*`, `bool`, and the set
//! operators `and`, `or`, `unless`.
//!
//! Label work happens once per series (signatures) or once per matched pair
//! (result labels); per step only indices and values move.

use rustc_hash::FxHashMap;

use super::annotations::Annotations;
use super::engine::{merge_same_labelsets, Evaluator};
use super::hist_binop::{hist_binop, histogram_scalar_binop, StepNote};
use super::output::OutputBuilder;
use super::series::{drop_metadata, go_labels_string, keep_labels, StepCursor, StepRange, StepSeries, StepValue, Val};
use crate::error::{Error, Result};
use crate::model::{Labels, METRIC_NAME};
use crate::promql::{Binary, BinaryOp, Cardinality, VectorMatching};

/// A sample as the vector/vector operators handle it: `f64` when neither
/// side holds histograms (the fast path), [`StepValue`] otherwise.
trait Operand: Sized + Clone {
    fn read(cur: &mut StepCursor, i: usize, s: &StepSeries, t: i64) -> Option<Self>;
    fn from_float(v: f64) -> Self;
    /// `l op r`: the value and, for comparisons, whether it holds; `None`
    /// drops the pair (with a note explaining why).
    fn combine(op: BinaryOp, l: &Self, r: &Self, note: &mut Option<StepNote>) -> Option<(Self, bool)>;
    fn push(out: &mut OutputBuilder, slot: usize, t: i64, v: Self) -> Result<usize>;
}

impl Operand for f64 {
    #[inline]
    fn read(cur: &mut StepCursor, i: usize, s: &StepSeries, t: i64) -> Option<f64> {
        cur.value_at(i, s, t)
    }
    fn from_float(v: f64) -> f64 {
        v
    }
    #[inline]
    fn combine(op: BinaryOp, l: &f64, r: &f64, _: &mut Option<StepNote>) -> Option<(f64, bool)> {
        Some(element_binop(op, *l, *r))
    }
    #[inline]
    fn push(out: &mut OutputBuilder, slot: usize, t: i64, v: f64) -> Result<usize> {
        out.push(slot, t, v)
    }
}

impl Operand for StepValue {
    fn read(cur: &mut StepCursor, i: usize, s: &StepSeries, t: i64) -> Option<StepValue> {
        cur.sample_at(i, s, t)
    }
    fn from_float(v: f64) -> StepValue {
        StepValue::Float(v)
    }
    fn combine(op: BinaryOp, l: &StepValue, r: &StepValue, note: &mut Option<StepNote>) -> Option<(StepValue, bool)> {
        hist_binop(op, l, r, note)
    }
    fn push(out: &mut OutputBuilder, slot: usize, t: i64, v: StepValue) -> Result<usize> {
        out.push_value(slot, t, v)
    }
}

/// Whether any series of the vectors holds histogram samples.
fn any_histograms(vectors: &[&[StepSeries]]) -> bool {
    vectors.iter().any(|v| v.iter().any(|s| !s.hpoints.is_empty()))
}

/// Reports a step's note: Prometheus keeps only the last one per step.
fn flush_note(note: &mut Option<StepNote>, op: BinaryOp, annotations: &mut Annotations) {
    if let Some(n) = note.take() {
        n.report(op, annotations);
    }
}

pub(crate) fn eval_binary(ev: &mut Evaluator, b: &Binary, r: StepRange) -> Result<Val> {
    let lhs = ev.eval(&b.lhs, r)?;
    let rhs = ev.eval(&b.rhs, r)?;
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(rv)) => {
            Ok(Val::Scalar(l.iter().zip(&rv).map(|(a, c)| scalar_binop(b.op, *a, *c)).collect()))
        }
        (Val::Vector(v), Val::Scalar(s)) => vector_scalar(ev, b, v, &s, false, r),
        (Val::Scalar(s), Val::Vector(v)) => vector_scalar(ev, b, v, &s, true, r),
        (Val::Vector(l), Val::Vector(rv)) => {
            let default_matching;
            let matching = match &b.matching {
                Some(m) => m,
                None => {
                    default_matching = VectorMatching {
                        card: if b.op.is_set_operator() { Cardinality::ManyToMany } else { Cardinality::OneToOne },
                        on: false,
                        labels: Vec::new(),
                        has_clause: false,
                        include: Vec::new(),
                        fill_left: None,
                        fill_right: None,
                    };
                    &default_matching
                }
            };
            // Trim operators need the note the histogram path gives for floats.
            let histograms = is_trim(b.op) || any_histograms(&[&l, &rv]);
            match (b.op.is_set_operator(), histograms) {
                (true, false) => set_operation::<f64>(ev, b.op, l, rv, matching, r),
                (true, true) => set_operation::<StepValue>(ev, b.op, l, rv, matching, r),
                (false, false) => vector_vector::<f64>(ev, b, l, rv, matching, r),
                (false, true) => vector_vector::<StepValue>(ev, b, l, rv, matching, r),
            }
            .map(Val::Vector)
        }
        (l, rv) => Err(Error::execution(format!(
            "binary operator {:?} is not defined between {} and {}",
            b.op.as_str(),
            l.type_name(),
            rv.type_name()
        ))),
    }
}

/// `</` and `>/`, defined for histograms only.
pub(crate) fn is_trim(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::TrimUpper | BinaryOp::TrimLower)
}

/// Operators that change what a value means, so its metric name (and type/unit) goes.
fn changes_metric_schema(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Pow | BinaryOp::Mod | BinaryOp::Atan2
    )
}

fn bool_to_float(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Applies `op` to two numbers; comparisons yield 0 or 1.
pub(crate) fn scalar_binop(op: BinaryOp, l: f64, r: f64) -> f64 {
    let (v, keep) = element_binop(op, l, r);
    if op.is_comparison() {
        bool_to_float(keep)
    } else {
        v
    }
}

/// Applies `op` to two samples: the value and, for comparisons, whether the
/// comparison holds (the value is then the left-hand side's).
pub(crate) fn element_binop(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Pow => (go_pow(l, r), true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Atan2 => (l.atan2(r), true),
        BinaryOp::Eql => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Gtr => (l, l > r),
        BinaryOp::Lss => (l, l < r),
        BinaryOp::Gte => (l, l >= r),
        BinaryOp::Lte => (l, l <= r),
        // Set operators never reach here; the trim operators are defined
        // for histograms only (see `hist_binop`).
        _ => (f64::NAN, false),
    }
}

/// Go's `math.Pow`, whose special cases differ from C's in a few corners.
pub(crate) fn go_pow(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 1.0;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == -1.0 && y.is_infinite() {
        return 1.0;
    }
    x.powf(y)
}

fn vector_scalar(
    ev: &mut Evaluator,
    b: &Binary,
    mut series: Vec<StepSeries>,
    scalar: &[f64],
    swap: bool,
    r: StepRange,
) -> Result<Val> {
    let drop = changes_metric_schema(b.op) || b.return_bool;
    // Notes from histogram samples, by step (Prometheus keeps the last per step).
    let mut notes: Vec<Option<StepNote>> = Vec::new();
    for s in &mut series {
        if !s.hpoints.is_empty() {
            if notes.is_empty() {
                notes = vec![None; r.len()];
            }
            s.hpoints.retain_mut(|p| {
                let k = r.index(p.t);
                match histogram_scalar_binop(b.op, &p.h, scalar[k], swap, &mut notes[k]) {
                    Some(h) => {
                        p.h = h;
                        true
                    }
                    None => false,
                }
            });
        }
        if is_trim(b.op) {
            // Trimming is defined for histograms only: floats are dropped.
            for p in &s.points {
                notes_for(&mut notes, r)[r.index(p.t)] = Some(StepNote::IncompatibleTypes("float", "float"));
            }
        }
        s.points.retain_mut(|p| {
            let sv = scalar[r.index(p.t)];
            let (l, rv) = if swap { (sv, p.v) } else { (p.v, sv) };
            let (mut v, mut keep) = element_binop(b.op, l, rv);
            // With the scalar on the left, a filter still returns the vector's value.
            if b.op.is_comparison() && swap {
                v = rv;
            }
            if b.return_bool {
                v = bool_to_float(keep);
                keep = true;
            }
            p.v = v;
            keep
        });
        if drop {
            ev.drop_name(s);
        }
    }
    for note in &mut notes {
        flush_note(note, b.op, &mut ev.annotations);
    }
    series.retain(|s| !s.is_empty());
    if drop && !ev.delayed_name_removal() {
        series = merge_same_labelsets(series)?;
    }
    Ok(Val::Vector(series))
}

/// The per-step notes, created on first use.
fn notes_for(notes: &mut Vec<Option<StepNote>>, r: StepRange) -> &mut Vec<Option<StepNote>> {
    if notes.is_empty() {
        *notes = vec![None; r.len()];
    }
    notes
}

/// Computes matching signatures (the labels two sides are matched on) and
/// numbers them, so per-step matching compares integers.
struct Signatures {
    lhs: Vec<u32>,
    rhs: Vec<u32>,
    count: usize,
}

fn signature_labels(labels: &Labels, matching: &VectorMatching) -> Labels {
    if matching.on {
        keep_labels(labels, &matching.labels)
    } else {
        Labels::from_pairs(
            labels
                .iter()
                .filter(|l| l.name != METRIC_NAME && !matching.labels.contains(&l.name))
                .map(|l| (l.name.as_str(), l.value.as_str())),
        )
    }
}

fn signatures(lhs: &[StepSeries], rhs: &[StepSeries], matching: &VectorMatching) -> Signatures {
    let mut ordinals: FxHashMap<Labels, u32> = FxHashMap::default();
    let mut number = |s: &StepSeries| {
        let sig = signature_labels(&s.labels, matching);
        let next = ordinals.len() as u32;
        *ordinals.entry(sig).or_insert(next)
    };
    let l = lhs.iter().map(&mut number).collect();
    let r = rhs.iter().map(&mut number).collect();
    Signatures { lhs: l, rhs: r, count: ordinals.len() }
}

fn set_operation<V: Operand>(
    ev: &Evaluator,
    op: BinaryOp,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    matching: &VectorMatching,
    r: StepRange,
) -> Result<Vec<StepSeries>> {
    let sigs = signatures(&lhs, &rhs, matching);
    let mut out = OutputBuilder::new(r.is_instant());
    let lhs_slots: Vec<usize> = lhs.iter().map(|s| out.slot(&s.labels, s.drop_name)).collect();
    let rhs_slots: Vec<usize> = rhs.iter().map(|s| out.slot(&s.labels, s.drop_name)).collect();
    // `seen[sig] == stamp` marks a signature present at the current step.
    let mut seen = vec![0usize; sigs.count];
    let mut lcur = StepCursor::new(lhs.len());
    let mut rcur = StepCursor::new(rhs.len());
    let mut lvals: Vec<(usize, V)> = Vec::new();
    let mut rvals: Vec<(usize, V)> = Vec::new();
    for (k, ts) in r.iter().enumerate() {
        if k % 1024 == 1023 {
            ev.check_limits()?;
        }
        let stamp = k + 1;
        lvals.clear();
        rvals.clear();
        for (i, s) in lhs.iter().enumerate() {
            if let Some(v) = V::read(&mut lcur, i, s, ts) {
                lvals.push((i, v));
            }
        }
        for (j, s) in rhs.iter().enumerate() {
            if let Some(v) = V::read(&mut rcur, j, s, ts) {
                rvals.push((j, v));
            }
        }
        match op {
            BinaryOp::And => {
                if lvals.is_empty() || rvals.is_empty() {
                    continue;
                }
                for &(j, _) in &rvals {
                    seen[sigs.rhs[j] as usize] = stamp;
                }
                for (i, v) in lvals.drain(..) {
                    if seen[sigs.lhs[i] as usize] == stamp {
                        V::push(&mut out, lhs_slots[i], ts, v)?;
                    }
                }
            }
            BinaryOp::Or => {
                for (i, v) in lvals.drain(..) {
                    seen[sigs.lhs[i] as usize] = stamp;
                    V::push(&mut out, lhs_slots[i], ts, v)?;
                }
                for (j, v) in rvals.drain(..) {
                    if seen[sigs.rhs[j] as usize] != stamp {
                        V::push(&mut out, rhs_slots[j], ts, v)?;
                    }
                }
            }
            _ => {
                for &(j, _) in &rvals {
                    seen[sigs.rhs[j] as usize] = stamp;
                }
                for (i, v) in lvals.drain(..) {
                    if seen[sigs.lhs[i] as usize] != stamp {
                        V::push(&mut out, lhs_slots[i], ts, v)?;
                    }
                }
            }
        }
    }
    Ok(out.finish())
}

/// A matched pair's sides (post-swap): index of the series, or `None` for a
/// value filled in by `fill_left`/`fill_right`.
type PairKey = (Option<u32>, Option<u32>);

/// Matching state of a vector/vector operation across steps.
struct PairMatcher<'m, V> {
    op: BinaryOp,
    return_bool: bool,
    matching: &'m VectorMatching,
    swapped: bool,
    delayed_name_removal: bool,
    many: &'m [StepSeries],
    one: &'m [StepSeries],
    out: OutputBuilder,
    pair_slots: FxHashMap<PairKey, usize>,
    /// Per many-side series, its last partner and result slot: partners
    /// rarely change between steps, so this skips the map lookup.
    last_pair: Vec<Option<(Option<u32>, usize)>>,
    /// `matched[sig] == stamp`: the signature found a partner at this step.
    matched: Vec<usize>,
    /// Per result series: the step stamp and signature it was last produced
    /// for (many-to-one matching must not produce it twice for one signature).
    produced: Vec<(usize, usize)>,
    /// This step's note about samples that could not be combined.
    note: Option<StepNote>,
    _operand: std::marker::PhantomData<V>,
}

impl<V: Operand> PairMatcher<'_, V> {
    /// Combines one many-side and one one-side sample (either may be a fill value).
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        ts: i64,
        stamp: usize,
        sig: usize,
        many_idx: Option<usize>,
        many_v: &V,
        one_idx: Option<usize>,
        one_v: &V,
    ) -> Result<()> {
        let (fl, fr) = if self.swapped { (one_v, many_v) } else { (many_v, one_v) };
        let Some((mut value, keep)) = V::combine(self.op, fl, fr, &mut self.note) else { return Ok(()) };
        if self.return_bool {
            value = V::from_float(bool_to_float(keep));
        }
        let key = (many_idx.map(|i| i as u32), one_idx.map(|j| j as u32));
        let cached = many_idx.and_then(|i| self.last_pair[i]).filter(|(one, _)| *one == key.1).map(|(_, s)| s);
        let slot = match cached.or_else(|| self.pair_slots.get(&key).copied()) {
            Some(s) => s,
            None => {
                let many_labels = match many_idx {
                    Some(i) => self.many[i].labels.clone(),
                    None => {
                        match_labels(&self.one[one_idx.expect("a filled pair has one real side")].labels, self.matching)
                    }
                };
                let one_labels = match one_idx {
                    Some(j) => self.one[j].labels.clone(),
                    None => match_labels(&many_labels, self.matching),
                };
                let mut labels = result_labels(&many_labels, &one_labels, self.op, self.matching);
                if !self.delayed_name_removal && self.return_bool {
                    labels = drop_metadata(&labels);
                }
                let s = self.out.slot(&labels, self.return_bool);
                self.pair_slots.insert(key, s);
                s
            }
        };
        if self.matching.card == Cardinality::OneToOne {
            if self.matched[sig] == stamp {
                return Err(Error::execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
            self.matched[sig] = stamp;
        } else {
            self.matched[sig] = stamp;
            if self.produced.len() <= slot {
                self.produced.resize(slot + 1, (0, 0));
            }
            if self.produced[slot] == (stamp, sig) {
                return Err(Error::execution(
                    "multiple matches for labels: grouping labels must ensure unique matches",
                ));
            }
            self.produced[slot] = (stamp, sig);
        }
        let mut slot = slot;
        if keep || self.return_bool {
            let s = V::push(&mut self.out, slot, ts, value)?;
            if s != slot {
                self.pair_slots.insert(key, s);
                slot = s;
            }
        }
        if let Some(i) = many_idx {
            self.last_pair[i] = Some((key.1, slot));
        }
        Ok(())
    }
}

fn vector_vector<V: Operand>(
    ev: &mut Evaluator,
    b: &Binary,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    matching: &VectorMatching,
    r: StepRange,
) -> Result<Vec<StepSeries>> {
    if matching.card == Cardinality::ManyToMany {
        return Err(Error::execution("many-to-many only allowed for set operators"));
    }
    let sigs = signatures(&lhs, &rhs, matching);
    // For group_right, the right side is the "many" side: swap so the loop
    // below always reads the many side from `many`, the one side from `one`.
    let swapped = matching.card == Cardinality::OneToMany;
    let (many, one, many_sigs, one_sigs) =
        if swapped { (&rhs, &lhs, &sigs.rhs, &sigs.lhs) } else { (&lhs, &rhs, &sigs.lhs, &sigs.rhs) };
    // Fill values stay with the sides as seen after the swap: `fill_right`
    // stands in for a missing one-side sample, `fill_left` for a missing
    // many-side one (also for group_right, as in Prometheus).
    let (fill_many, fill_one) = (matching.fill_left, matching.fill_right);
    let one_side_name = if swapped { "left" } else { "right" };
    let no_fill = matching.fill_left.is_none() && matching.fill_right.is_none();

    let mut pm: PairMatcher<V> = PairMatcher {
        op: b.op,
        return_bool: b.return_bool,
        matching,
        swapped,
        delayed_name_removal: ev.delayed_name_removal(),
        many,
        one,
        out: OutputBuilder::new(r.is_instant()),
        pair_slots: FxHashMap::default(),
        last_pair: vec![None; many.len()],
        matched: vec![0; sigs.count],
        produced: Vec::new(),
        note: None,
        _operand: std::marker::PhantomData,
    };
    let fill_many = fill_many.map(V::from_float);
    let fill_one = fill_one.map(V::from_float);
    let mut mcur = StepCursor::new(many.len());
    let mut ocur = StepCursor::new(one.len());
    // Per signature: the one-side sample present at this step (stamped).
    let mut one_at: Vec<(usize, usize, Option<V>)> = vec![(0, 0, None); sigs.count];
    let mut many_vals: Vec<(usize, V)> = Vec::new();
    let mut one_vals: Vec<(usize, V)> = Vec::new();

    for (k, ts) in r.iter().enumerate() {
        if k % 1024 == 1023 {
            ev.check_limits()?;
        }
        let stamp = k + 1;
        many_vals.clear();
        one_vals.clear();
        for (i, s) in many.iter().enumerate() {
            if let Some(v) = V::read(&mut mcur, i, s, ts) {
                many_vals.push((i, v));
            }
        }
        for (j, s) in one.iter().enumerate() {
            if let Some(v) = V::read(&mut ocur, j, s, ts) {
                one_vals.push((j, v));
            }
        }
        if (many_vals.is_empty() && one_vals.is_empty()) || ((many_vals.is_empty() || one_vals.is_empty()) && no_fill) {
            continue;
        }
        for (j, v) in &one_vals {
            let (j, sig) = (*j, one_sigs[*j] as usize);
            if one_at[sig].0 == stamp {
                let dup = &one[one_at[sig].1];
                let this = &one[j];
                let group = match_labels(&this.labels, matching);
                return Err(Error::execution(format!(
                    "found duplicate series for the match group {} on the {} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    go_labels_string(&group),
                    one_side_name,
                    go_labels_string(&this.labels),
                    go_labels_string(&dup.labels)
                )));
            }
            one_at[sig] = (stamp, j, Some(v.clone()));
        }
        for (i, v) in &many_vals {
            let (i, sig) = (*i, many_sigs[*i] as usize);
            if one_at[sig].0 == stamp {
                let (_, j, ov) = &one_at[sig];
                let ov = ov.as_ref().expect("set at this step");
                pm.apply(ts, stamp, sig, Some(i), v, Some(*j), ov)?;
            } else if let Some(fill) = &fill_one {
                pm.apply(ts, stamp, sig, Some(i), v, None, fill)?;
            }
        }
        if let Some(fill) = &fill_many {
            for (j, ov) in &one_vals {
                let sig = one_sigs[*j] as usize;
                if pm.matched[sig] != stamp {
                    pm.apply(ts, stamp, sig, None, fill, Some(*j), ov)?;
                }
            }
        }
        flush_note(&mut pm.note, b.op, &mut ev.annotations);
    }
    let mut result = pm.out.finish();
    if !ev.delayed_name_removal() && b.return_bool {
        result = merge_same_labelsets(result)?;
    }
    Ok(result)
}

/// The labels a series is matched on (`on`) or all but the ignored ones and the name.
fn match_labels(labels: &Labels, matching: &VectorMatching) -> Labels {
    signature_labels(labels, matching)
}

/// The labels of a vector/vector result: the many side's, minus the name for
/// arithmetic, restricted by `on`/`ignoring` for one-to-one matching, plus
/// the `group_*` labels copied from the one side.
fn result_labels(many: &Labels, one: &Labels, op: BinaryOp, matching: &VectorMatching) -> Labels {
    let mut labels = if changes_metric_schema(op) { drop_metadata(many) } else { many.clone() };
    if matching.card == Cardinality::OneToOne {
        labels = if matching.on {
            keep_labels(&labels, &matching.labels)
        } else {
            super::series::remove_labels(&labels, &matching.labels)
        };
    }
    for name in &matching.include {
        match one.get(name) {
            Some(v) => labels.set(name, v),
            None => labels.remove(name),
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow_follows_go_special_cases() {
        assert_eq!(go_pow(f64::NAN, 0.0), 1.0);
        assert_eq!(go_pow(1.0, f64::NAN), 1.0);
        assert!(go_pow(2.0, f64::NAN).is_nan());
        assert_eq!(go_pow(2.0, 10.0), 1024.0);
    }

    #[test]
    fn comparisons_keep_left_value_and_report_truth() {
        assert_eq!(element_binop(BinaryOp::Gtr, 3.0, 1.0), (3.0, true));
        assert_eq!(element_binop(BinaryOp::Lss, 3.0, 1.0), (3.0, false));
        assert_eq!(scalar_binop(BinaryOp::Eql, 2.0, 2.0), 1.0);
        assert!(element_binop(BinaryOp::Mod, 1.0, 0.0).0.is_nan());
    }

    #[test]
    fn result_labels_follow_matching_rules() {
        let many = Labels::from_pairs([("__name__", "a"), ("job", "x"), ("inst", "1")]);
        let one = Labels::from_pairs([("__name__", "b"), ("job", "x"), ("team", "t")]);
        let mut m = VectorMatching {
            card: Cardinality::OneToOne,
            on: true,
            labels: vec!["job".into()],
            has_clause: true,
            include: vec![],
            fill_left: None,
            fill_right: None,
        };
        assert_eq!(result_labels(&many, &one, BinaryOp::Add, &m), Labels::from_pairs([("job", "x")]));
        m.card = Cardinality::ManyToOne;
        m.include = vec!["team".into()];
        assert_eq!(
            result_labels(&many, &one, BinaryOp::Gtr, &m),
            Labels::from_pairs([("__name__", "a"), ("job", "x"), ("inst", "1"), ("team", "t")])
        );
    }
}
