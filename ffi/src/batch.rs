//! `promlite_batch`: many samples collected in memory, written by
//! `promlite_write` in one commit.

use std::ffi::{c_char, c_int};

use promlite::{Batch, Labels};

use crate::args::{self, text};
use crate::error::{errmsg_of, error_offset_of, guard, run, ErrorSlot, Failure, HasErrors};

/// Samples of many series waiting to be written in one commit by `promlite_write`.
///
/// Threads: a batch may move between threads but must not be used by two
/// threads at once without the caller's own locking.
pub struct promlite_batch {
    batch: Batch,
    errors: ErrorSlot,
}

impl HasErrors for promlite_batch {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

impl promlite_batch {
    pub(crate) fn inner(&self) -> &Batch {
        &self.batch
    }
}

/// One label of a series given as an array (see `promlite_batch_add_labels`).
/// Both strings are NUL-terminated UTF-8 and only borrowed during the call.
#[repr(C)]
pub struct promlite_label {
    /// Label name; `__name__` holds the metric name.
    pub name: *const c_char,
    /// Label value; an empty value means the label is absent.
    pub value: *const c_char,
}

/// Runs `body` on the batch behind `batch`, recording the outcome on it.
pub(crate) fn with_batch(batch: *mut promlite_batch, body: impl FnOnce(&mut Batch) -> Result<(), Failure>) -> c_int {
    match args::handle_mut(batch, "batch") {
        Ok(handle) => run(Some(&handle.errors), || body(&mut handle.batch)),
        Err(f) => run(None, || Err(f)),
    }
}

/// Creates an empty batch. On success `*out` is a batch to free with
/// `promlite_batch_free`.
#[no_mangle]
pub extern "C" fn promlite_batch_new(out: *mut *mut promlite_batch) -> c_int {
    run(None, || {
        let out = args::out(out, "out")?;
        out.set(Box::into_raw(Box::new(promlite_batch { batch: Batch::new(), errors: ErrorSlot::default() })));
        Ok(())
    })
}

/// Frees a batch (its samples are not written). NULL is a no-op.
#[no_mangle]
pub extern "C" fn promlite_batch_free(batch: *mut promlite_batch) {
    if !batch.is_null() {
        // SAFETY: a non-NULL batch came from `promlite_batch_new` and is freed once.
        guard((), || drop(unsafe { Box::from_raw(batch) }));
    }
}

/// Adds one sample of `series`, written like a selector:
/// `http_requests_total{job="api",code="200"}`. Fails with `PROMLITE_PARSE`
/// (see `promlite_batch_error_offset`) or `PROMLITE_INVALID_INPUT` (no metric
/// name); the batch is unchanged then.
#[no_mangle]
pub extern "C" fn promlite_batch_add(
    batch: *mut promlite_batch,
    series: *const c_char,
    ts_ms: i64,
    value: f64,
) -> c_int {
    with_batch(batch, |b| {
        b.add(&args::series_labels(series, "series")?, ts_ms, value);
        Ok(())
    })
}

/// Adds one sample of the series given as `n_labels` name/value pairs (no
/// parsing: any UTF-8 names and values). One pair must be named `__name__`;
/// pairs with an empty value are dropped, and a repeated name keeps its last
/// value. Fails with `PROMLITE_INVALID_INPUT` (the batch is unchanged then).
#[no_mangle]
pub extern "C" fn promlite_batch_add_labels(
    batch: *mut promlite_batch,
    labels: *const promlite_label,
    n_labels: usize,
    ts_ms: i64,
    value: f64,
) -> c_int {
    with_batch(batch, |b| {
        if labels.is_null() {
            return Err(Failure::null("labels"));
        }
        // SAFETY: the caller promises `labels` points to `n_labels` elements.
        let pairs = unsafe { std::slice::from_raw_parts(labels, n_labels) };
        let mut named = Vec::with_capacity(n_labels);
        for (i, l) in pairs.iter().enumerate() {
            named.push((text(l.name, &format!("labels[{i}].name"))?, text(l.value, &format!("labels[{i}].value"))?));
        }
        let labels = Labels::from_pairs(named);
        labels.validate_for_storage()?;
        b.add(&labels, ts_ms, value);
        Ok(())
    })
}

/// On success `*len` is the number of samples in the batch.
#[no_mangle]
pub extern "C" fn promlite_batch_len(batch: *const promlite_batch, len: *mut usize) -> c_int {
    run(None, || {
        let batch = args::handle(batch, "batch")?;
        args::out(len, "len")?.set(batch.batch.len());
        Ok(())
    })
}

/// Removes every sample so the batch can be filled again.
#[no_mangle]
pub extern "C" fn promlite_batch_clear(batch: *mut promlite_batch) -> c_int {
    with_batch(batch, |b| {
        *b = Batch::new();
        Ok(())
    })
}

/// Message of this thread's last call on `batch` (`"not an error"` after a
/// success); valid until the next call with `batch` on this thread. Never
/// NULL; do not free it.
#[no_mangle]
pub extern "C" fn promlite_batch_errmsg(batch: *const promlite_batch) -> *const c_char {
    errmsg_of(batch, c"argument `batch` is NULL")
}

/// Byte offset into `series` of the parse error of this thread's last call
/// on `batch`, or -1.
#[no_mangle]
pub extern "C" fn promlite_batch_error_offset(batch: *const promlite_batch) -> i64 {
    error_offset_of(batch)
}
