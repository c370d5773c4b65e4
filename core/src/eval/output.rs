//! Collects the output series of a step-wise operation, one series per
//! distinct label set, as Prometheus assembles the results of its steps.

use rustc_hash::FxHashMap;

use super::series::{StepSeries, StepValue};
use crate::error::{Error, Result};
use crate::model::{Labels, Point};

pub(crate) struct OutputBuilder {
    index: FxHashMap<Labels, usize>,
    series: Vec<StepSeries>,
    /// Slots in the order they received their first point.
    first_pushed: Vec<usize>,
    /// In an instant evaluation two results with equal labels stay separate
    /// (the final check reports them); over a range they are an error.
    instant: bool,
}

impl OutputBuilder {
    pub fn new(instant: bool) -> Self {
        OutputBuilder { index: FxHashMap::default(), series: Vec::new(), first_pushed: Vec::new(), instant }
    }

    /// The output series for `labels`, created on first use.
    pub fn slot(&mut self, labels: &Labels, drop_name: bool) -> usize {
        if let Some(&i) = self.index.get(labels) {
            return i;
        }
        let i = self.series.len();
        self.series.push(StepSeries::new(labels.clone(), drop_name));
        self.index.insert(labels.clone(), i);
        i
    }

    /// Appends a float point to series `slot`; returns the slot it went to
    /// (a new, separate one if an instant evaluation produced the same labels twice).
    pub fn push(&mut self, slot: usize, t: i64, v: f64) -> Result<usize> {
        let slot = self.slot_for_step(slot, t)?;
        self.series[slot].points.push(Point::new(t, v));
        Ok(slot)
    }

    /// [`OutputBuilder::push`] for a value of either kind.
    pub fn push_value(&mut self, slot: usize, t: i64, v: StepValue) -> Result<usize> {
        let slot = self.slot_for_step(slot, t)?;
        self.series[slot].push(t, v);
        Ok(slot)
    }

    /// The series a value for step `t` goes to: `slot`, or a twin when
    /// `slot` already has a value at `t` in an instant evaluation.
    fn slot_for_step(&mut self, slot: usize, t: i64) -> Result<usize> {
        let s = &self.series[slot];
        if s.last_t() == Some(t) {
            if !self.instant {
                return Err(Error::execution("vector cannot contain metrics with the same labelset"));
            }
            let twin = StepSeries::new(s.labels.clone(), s.drop_name);
            self.series.push(twin);
            self.first_pushed.push(self.series.len() - 1);
            return Ok(self.series.len() - 1);
        }
        if s.is_empty() {
            self.first_pushed.push(slot);
        }
        Ok(slot)
    }

    /// The series that received at least one point, in the order they got
    /// their first one (which is the result order of an instant query).
    pub fn finish(self) -> Vec<StepSeries> {
        let mut slots: Vec<Option<StepSeries>> = self.series.into_iter().map(Some).collect();
        self.first_pushed.into_iter().filter_map(|i| slots[i].take()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_labels_share_a_series_and_collide_per_step() {
        let l = Labels::from_pairs([("a", "1")]);
        let mut range = OutputBuilder::new(false);
        let s = range.slot(&l, false);
        assert_eq!(range.slot(&l, true), s);
        range.push(s, 0, 1.0).unwrap();
        range.push(s, 10, 2.0).unwrap();
        assert!(range.push(s, 10, 3.0).is_err());

        let mut instant = OutputBuilder::new(true);
        let s = instant.slot(&l, false);
        let other = instant.slot(&Labels::new(), false);
        instant.push(other, 0, 5.0).unwrap();
        instant.push(s, 0, 1.0).unwrap();
        let twin = instant.push(s, 0, 2.0).unwrap();
        assert_ne!(twin, s);
        let out = instant.finish();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].points[0].v, 5.0, "first pushed comes first");
    }
}
