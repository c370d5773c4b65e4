//! The values the evaluator passes between nodes.
//!
//! Every expression is evaluated over all steps of a [`StepRange`] at once
//! (an instant query is a range of one step). An instant-vector expression
//! becomes a list of [`StepSeries`], each holding the points it has at step
//! timestamps; a scalar becomes one value per step. Labels therefore travel
//! once per series, not once per step.

use std::sync::Arc;

use crate::histogram::FloatHistogram;
use crate::model::{HPoint, Labels, Point, METRIC_NAME};

/// The evaluation timestamps: `start`, `start + step`, … up to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepRange {
    pub start: i64,
    pub end: i64,
    /// Always positive; an instant query uses 1.
    pub step: i64,
}

impl StepRange {
    pub fn new(start: i64, end: i64, step: i64) -> Self {
        StepRange { start, end, step: step.max(1) }
    }

    /// Number of steps (at least 1 when `end >= start`).
    pub fn len(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            ((self.end - self.start) / self.step) as usize + 1
        }
    }

    /// Timestamp of step `i`.
    pub fn ts(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }

    /// Step index of timestamp `t` (which must be a step timestamp).
    pub fn index(&self, t: i64) -> usize {
        ((t - self.start) / self.step) as usize
    }

    /// Whether this is a single evaluation (an instant query or `@`-pinned part).
    pub fn is_instant(&self) -> bool {
        self.start == self.end
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.ts(i))
    }
}

/// One series of an instant-vector expression over the steps of a range.
///
/// A step holds a float or a native histogram, never both; the two kinds
/// live in separate vectors so that float-only work never looks at
/// histograms (an empty `hpoints` costs nothing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StepSeries {
    pub labels: Labels,
    /// The metric name (and `__type__`/`__unit__`) is to be removed when the
    /// query finishes: delayed `__name__` removal, as Prometheus 3 does it.
    pub drop_name: bool,
    /// Float points at step timestamps, ascending.
    pub points: Vec<Point>,
    /// Histogram points at step timestamps, ascending.
    pub hpoints: Vec<HPoint>,
}

impl StepSeries {
    pub fn new(labels: Labels, drop_name: bool) -> Self {
        StepSeries { labels, drop_name, points: Vec::new(), hpoints: Vec::new() }
    }

    /// A series of float points only.
    pub fn floats(labels: Labels, drop_name: bool, points: Vec<Point>) -> Self {
        StepSeries { labels, drop_name, points, hpoints: Vec::new() }
    }

    /// Whether the series has no points of either kind.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.hpoints.is_empty()
    }

    /// Number of points of both kinds.
    pub fn len(&self) -> usize {
        self.points.len() + self.hpoints.len()
    }

    /// Appends a sample at `t` (which must be after every point held).
    pub fn push(&mut self, t: i64, v: StepValue) {
        match v {
            StepValue::Float(f) => self.points.push(Point::new(t, f)),
            StepValue::Hist(h) => self.hpoints.push(HPoint { t, h }),
        }
    }

    /// The timestamp of the last point of either kind.
    pub fn last_t(&self) -> Option<i64> {
        match (self.points.last(), self.hpoints.last()) {
            (Some(p), Some(h)) => Some(p.t.max(h.t)),
            (Some(p), None) => Some(p.t),
            (None, Some(h)) => Some(h.t),
            (None, None) => None,
        }
    }
}

/// A sample value: a float or a native histogram (shared).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StepValue {
    Float(f64),
    Hist(Arc<FloatHistogram>),
}

/// Floats and histograms of one series merged into time order.
pub(crate) fn merge_samples<'a>(
    points: &'a [Point],
    hpoints: &'a [HPoint],
) -> impl Iterator<Item = (i64, StepValue)> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let float_next = match (points.get(i), hpoints.get(j)) {
            (Some(p), Some(h)) => p.t <= h.t,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if float_next {
            i += 1;
            Some((points[i - 1].t, StepValue::Float(points[i - 1].v)))
        } else {
            j += 1;
            Some((hpoints[j - 1].t, StepValue::Hist(hpoints[j - 1].h.clone())))
        }
    })
}

/// The value of an evaluated expression.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// One number per step.
    Scalar(Vec<f64>),
    /// A string literal.
    String(String),
    /// An instant vector at every step.
    Vector(Vec<StepSeries>),
    /// A range vector (only as the result of an instant query): raw samples.
    Matrix(Vec<StepSeries>),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::String(_) => "string",
            Val::Vector(_) => "instant vector",
            Val::Matrix(_) => "range vector",
        }
    }
}

/// Walks vectors step by step: at step timestamp `t`, a series has a value
/// when its next unread point is at `t`. Each series is read once, front to back.
pub(crate) struct StepCursor {
    pos: Vec<usize>,
    /// Read positions in the histogram points.
    hpos: Vec<usize>,
}

impl StepCursor {
    pub fn new(n: usize) -> Self {
        StepCursor { pos: vec![0; n], hpos: vec![0; n] }
    }

    /// The float value of `series` (number `i` of the vector) at step `t`,
    /// if any; histograms are not looked at (for float-only inputs).
    #[inline]
    pub fn value_at(&mut self, i: usize, series: &StepSeries, t: i64) -> Option<f64> {
        let p = self.pos[i];
        match series.points.get(p) {
            Some(pt) if pt.t == t => {
                self.pos[i] = p + 1;
                Some(pt.v)
            }
            _ => None,
        }
    }

    /// The value of either kind of `series` (number `i`) at step `t`, if any.
    #[inline]
    pub fn sample_at(&mut self, i: usize, series: &StepSeries, t: i64) -> Option<StepValue> {
        if let Some(v) = self.value_at(i, series, t) {
            return Some(StepValue::Float(v));
        }
        let p = self.hpos[i];
        match series.hpoints.get(p) {
            Some(hp) if hp.t == t => {
                self.hpos[i] = p + 1;
                Some(StepValue::Hist(hp.h.clone()))
            }
            _ => None,
        }
    }
}

/// The labels that name a metric's identity and type, removed when the name is dropped.
pub(crate) fn is_metadata_label(name: &str) -> bool {
    name == METRIC_NAME || name == "__type__" || name == "__unit__"
}

/// `labels` without `__name__`, `__type__` and `__unit__`.
pub(crate) fn drop_metadata(labels: &Labels) -> Labels {
    if !labels.iter().any(|l| is_metadata_label(&l.name)) {
        return labels.clone();
    }
    Labels::from_pairs(
        labels.iter().filter(|l| !is_metadata_label(&l.name)).map(|l| (l.name.as_str(), l.value.as_str())),
    )
}

/// `labels` restricted to `names`.
pub(crate) fn keep_labels(labels: &Labels, names: &[String]) -> Labels {
    Labels::from_pairs(labels.iter().filter(|l| names.contains(&l.name)).map(|l| (l.name.as_str(), l.value.as_str())))
}

/// `labels` without `names`.
pub(crate) fn remove_labels(labels: &Labels, names: &[String]) -> Labels {
    Labels::from_pairs(labels.iter().filter(|l| !names.contains(&l.name)).map(|l| (l.name.as_str(), l.value.as_str())))
}

/// Renders labels as Go's `labels.Labels.String()` does (used in error
/// messages that must match Prometheus): `{__name__="x", a="b"}`.
pub(crate) fn go_labels_string(labels: &Labels) -> String {
    let mut out = String::from("{");
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if crate::model::is_legacy_label_name(&l.name) {
            out.push_str(&l.name);
        } else {
            out.push_str(&go_quote(&l.name));
        }
        out.push('=');
        out.push_str(&go_quote(&l.value));
    }
    out.push('}');
    out
}

/// Go's `strconv.Quote` for the characters label values contain in practice.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\u{fffd}' => out.push_str("\\ufffd"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_range_counts_and_indexes_steps() {
        let r = StepRange::new(10_000, 70_000, 30_000);
        assert_eq!(r.len(), 3);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![10_000, 40_000, 70_000]);
        assert_eq!(r.index(40_000), 1);
        let instant = StepRange::new(5, 5, 0);
        assert_eq!((instant.len(), instant.is_instant(), instant.step), (1, true, 1));
        assert_eq!(StepRange::new(10, 5, 1).len(), 0);
    }

    #[test]
    fn cursor_reads_each_point_once_in_step_order() {
        let s = StepSeries::floats(Labels::new(), false, vec![Point::new(0, 1.0), Point::new(20, 3.0)]);
        let mut c = StepCursor::new(1);
        assert_eq!(c.value_at(0, &s, 0), Some(1.0));
        assert_eq!(c.value_at(0, &s, 10), None);
        assert_eq!(c.value_at(0, &s, 20), Some(3.0));
        assert_eq!(c.value_at(0, &s, 30), None);
    }

    #[test]
    fn metadata_labels_drop_together_and_go_rendering_matches() {
        let l = Labels::from_pairs([("__name__", "x"), ("__type__", "counter"), ("__unit__", "s"), ("a", "b")]);
        assert_eq!(drop_metadata(&l), Labels::from_pairs([("a", "b")]));
        assert_eq!(go_labels_string(&l), r#"{__name__="x", __type__="counter", __unit__="s", a="b"}"#);
        let q = Labels::from_pairs([("a.b", "q\"")]);
        assert_eq!(go_labels_string(&q), r#"{"a.b"="q\""}"#);
    }
}
