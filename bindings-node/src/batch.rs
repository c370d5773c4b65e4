//! `Batch`: samples of many series collected in JS, written in one commit.

use napi::bindgen_prelude::{Either, Float64Array};
use napi_derive::napi;
use promlite::{Labels, Point};

use crate::convert::{labels, seconds_to_ms, SeriesArg};
use crate::error::{bad_data, guard, to_js, Result};
use crate::histogram::{self, HistogramArg};

/// Samples for one atomic write (`Database.write` / `writeAsync`).
#[napi]
#[derive(Default)]
pub struct Batch {
    inner: promlite::Batch,
    // The last series given as text, parsed: a loop adding sample after
    // sample of one series parses its selector once.
    last_parsed: Option<(String, Labels)>,
}

#[napi]
impl Batch {
    /// An empty batch.
    #[napi(constructor)]
    pub fn new() -> Self {
        Batch::default()
    }

    /// Adds one sample at `t` (Unix seconds).
    #[napi]
    pub fn add(&mut self, series: SeriesArg, t: f64, v: f64) -> Result<()> {
        guard(|| {
            let labels = self.labels(series)?;
            self.inner.add(&labels, seconds_to_ms("timestamp", t)?, v);
            Ok(())
        })
    }

    /// Adds samples of one series; `timestamps` (Unix seconds) and `values` pair up.
    #[napi]
    pub fn add_many(&mut self, series: SeriesArg, timestamps: Float64Array, values: Float64Array) -> Result<()> {
        guard(|| {
            if timestamps.len() != values.len() {
                return Err(bad_data(format!(
                    "timestamps and values differ in length ({} vs {})",
                    timestamps.len(),
                    values.len()
                )));
            }
            let labels = self.labels(series)?;
            let points = timestamps
                .iter()
                .zip(values.iter())
                .map(|(&t, &v)| Ok(Point::new(seconds_to_ms("timestamp", t)?, v)))
                .collect::<Result<Vec<Point>>>()?;
            self.inner.add_points(&labels, &points);
            Ok(())
        })
    }

    /// Adds one native-histogram sample at `t` (Unix seconds), checked now.
    #[napi]
    pub fn add_histogram(&mut self, series: SeriesArg, t: f64, histogram: HistogramArg) -> Result<()> {
        guard(|| {
            let labels = self.labels(series)?;
            let h = histogram::from_js(histogram)?;
            self.inner.add_histogram(&labels, seconds_to_ms("timestamp", t)?, h);
            Ok(())
        })
    }

    /// Number of samples in the batch.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }
}

impl Batch {
    fn labels(&mut self, series: SeriesArg) -> Result<Labels> {
        match series {
            Either::A(text) => match &self.last_parsed {
                Some((last, parsed)) if *last == text => Ok(parsed.clone()),
                _ => {
                    let parsed = Labels::parse(&text).map_err(to_js)?;
                    self.last_parsed = Some((text, parsed.clone()));
                    Ok(parsed)
                }
            },
            object => labels(object),
        }
    }

    /// Empties the batch, handing its contents to a write.
    pub fn take(&mut self) -> promlite::Batch {
        std::mem::take(&mut self.inner)
    }
}
