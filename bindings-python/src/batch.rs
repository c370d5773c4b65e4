//! `promlite.Batch`: samples of many series written in one atomic commit.

use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::db::{points, Db};
use crate::{histogram, labels, time};

/// Samples for many series, committed together. Either use it as
/// `with db.batch() as b: ...` (committed when the block ends without an
/// exception, discarded otherwise) or build one with `promlite.Batch()` and
/// pass it to `db.write(batch)`.
#[pyclass(module = "promlite", name = "Batch")]
pub struct Batch {
    inner: promlite::Batch,
    /// The database `__exit__` commits to, for batches from `db.batch()`.
    db: Option<Py<Db>>,
}

impl Batch {
    /// A batch that `__exit__` writes to `db`.
    pub(crate) fn bound_to(db: Py<Db>) -> Self {
        Batch { inner: promlite::Batch::new(), db: Some(db) }
    }

    /// The core batch.
    pub(crate) fn inner(&self) -> &promlite::Batch {
        &self.inner
    }
}

#[pymethods]
impl Batch {
    /// An empty batch, to fill and pass to `db.write()`.
    #[new]
    fn new() -> Self {
        Batch { inner: promlite::Batch::new(), db: None }
    }

    /// Adds one sample; arguments as in `Db.append`.
    fn append(&mut self, series: &Bound<'_, PyAny>, timestamp: &Bound<'_, PyAny>, value: f64) -> PyResult<()> {
        let labels = labels::series(series)?;
        self.inner.add(&labels, time::timestamp_ms(timestamp)?, value);
        Ok(())
    }

    /// Adds many samples of one series; arguments as in `Db.append_many`.
    fn append_many(
        &mut self,
        series: &Bound<'_, PyAny>,
        timestamps: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let labels = labels::series(series)?;
        self.inner.add_points(&labels, &points(timestamps, values)?);
        Ok(())
    }

    /// Adds one native-histogram sample; arguments as in `Db.append_histogram`.
    fn append_histogram(
        &mut self,
        series: &Bound<'_, PyAny>,
        timestamp: &Bound<'_, PyAny>,
        histogram: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let labels = labels::series(series)?;
        let h = histogram::from_py(histogram)?;
        // Checked now, so the error points at this call rather than the commit.
        h.validate().map_err(crate::error::to_py_err)?;
        self.inner.add_histogram(&labels, time::timestamp_ms(timestamp)?, h);
        Ok(())
    }

    /// Number of samples in the batch.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Commits the batch to the database it came from unless the block raised.
    fn __exit__(
        &mut self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let batch = std::mem::take(&mut self.inner);
        if exc_type.is_none() {
            if let Some(db) = &self.db {
                db.get().write_batch(py, &batch)?;
            }
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("<promlite.Batch of {} samples>", self.inner.len())
    }
}
