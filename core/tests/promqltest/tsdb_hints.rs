//! The counter-reset hints Prometheus's TSDB gives histogram samples.
//!
//! The scripts' expectations see histograms as Prometheus's storage returns
//! them: its appender puts consecutive histograms of a series into one chunk
//! until a counter reset, a change of kind (float, counter or gauge
//! histogram) or an incompatible layout cuts a new chunk, and its reader
//! reports the first sample of a chunk as "unknown" (also after a reset:
//! prometheus/prometheus#15346), every further one as "not_reset", and gauge
//! histograms as "gauge". The runner stores histograms with these hints so
//! that promlite is queried over the same data.

use std::collections::HashMap;

use promlite::histogram::{CounterResetHint, FloatHistogram};
use promlite::Labels;

/// The open chunk of one series.
enum Chunk {
    Floats,
    Histograms { gauge: bool, last: FloatHistogram },
}

/// Chunk state per series, across `load` commands (until `clear`).
#[derive(Default)]
pub struct Hints {
    open: HashMap<Labels, Chunk>,
}

fn same_layout(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    a.schema == b.schema && a.zero_threshold == b.zero_threshold && a.custom_values == b.custom_values
}

impl Hints {
    /// Notes a float sample (or stale marker) of `labels`, which ends an
    /// open histogram chunk.
    pub fn float(&mut self, labels: &Labels) {
        self.open.insert(labels.clone(), Chunk::Floats);
    }

    /// Sets the hint TSDB would report for the next histogram of `labels`.
    pub fn histogram(&mut self, labels: &Labels, h: &mut FloatHistogram) {
        let gauge = h.counter_reset_hint == CounterResetHint::Gauge;
        let continues = match self.open.get(labels) {
            Some(Chunk::Histograms { gauge: g, last }) if *g == gauge => {
                if gauge {
                    same_layout(h, last)
                } else {
                    let mut unhinted = h.clone();
                    unhinted.counter_reset_hint = CounterResetHint::Unknown;
                    let reset = h.counter_reset_hint == CounterResetHint::CounterReset || unhinted.detect_reset(last);
                    !reset && same_layout(h, last)
                }
            }
            _ => false,
        };
        h.counter_reset_hint = match (gauge, continues) {
            (true, _) => CounterResetHint::Gauge,
            (false, true) => CounterResetHint::NotCounterReset,
            (false, false) => CounterResetHint::Unknown,
        };
        self.open.insert(labels.clone(), Chunk::Histograms { gauge, last: h.clone() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(text).unwrap()
    }

    #[test]
    fn chunks_start_unknown_and_continue_not_reset() {
        let l = Labels::from_pairs([("__name__", "x")]);
        let mut hints = Hints::default();
        let mut seq = [
            h("{{count:1 buckets:[1]}}"),
            h("{{count:2 buckets:[2]}}"),
            h("{{count:1 buckets:[1]}}"),
            h("{{count:3 buckets:[3] counter_reset_hint:reset}}"),
            h("{{count:3 buckets:[3] counter_reset_hint:gauge}}"),
            h("{{count:1 buckets:[1] counter_reset_hint:gauge}}"),
            h("{{schema:1 count:4 buckets:[4]}}"),
        ];
        for x in &mut seq {
            hints.histogram(&l, x);
        }
        use CounterResetHint::*;
        let got: Vec<CounterResetHint> = seq.iter().map(|x| x.counter_reset_hint).collect();
        assert_eq!(got, vec![Unknown, NotCounterReset, Unknown, Unknown, Gauge, Gauge, Unknown]);
        let mut after_float = h("{{count:5 buckets:[5]}}");
        hints.float(&l);
        hints.histogram(&l, &mut after_float);
        assert_eq!(after_float.counter_reset_hint, Unknown);
    }
}
