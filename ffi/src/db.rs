//! `promlite_db`: opening and closing, error detail, writes, series and
//! label listings, deletion.

use std::ffi::{c_char, c_int, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use promlite::promql;
use promlite::{Db, Error, Matcher, Options};

use crate::args::{self, text};
use crate::batch::promlite_batch;
use crate::error::{errmsg_of, error_offset_of, run, ErrorSlot, Failure, HasErrors};
use crate::result::promlite_result;
use crate::strings::promlite_strings;

/// `promlite_open_v2` flag: open read-only; writes fail and the file is never modified.
pub const PROMLITE_OPEN_READONLY: c_int = 0x1;

/// An open promlite database (one SQLite file).
///
/// Threads: a `promlite_db` may be used by many threads at once (reads run
/// in parallel, writes are serialised inside). Error detail
/// (`promlite_errmsg`, `promlite_error_offset`) is kept per thread, so each
/// thread reads the error of its own last call. `promlite_close` must not
/// run while another thread still uses the handle.
pub struct promlite_db {
    /// `None` when the open failed; the handle then only carries the error.
    db: Option<Db>,
    errors: ErrorSlot,
}

impl HasErrors for promlite_db {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

impl promlite_db {
    fn db(&self) -> Result<&Db, Failure> {
        self.db
            .as_ref()
            .ok_or_else(|| Failure::Misuse("the database failed to open; close this handle and open again".into()))
    }
}

/// Runs `body` with the database behind `db`, recording the outcome on the handle.
pub(crate) fn with_db(db: *mut promlite_db, body: impl FnOnce(&Db) -> Result<(), Failure>) -> c_int {
    match args::handle(db, "db") {
        Ok(handle) => run(Some(&handle.errors), || body(handle.db()?)),
        Err(f) => run(None, || Err(f)),
    }
}

/// Opens (creating if needed) the database at `path`; `":memory:"` opens a
/// private in-memory database.
///
/// Like `sqlite3_open`, `*out` receives a handle even when the open fails
/// (unless an argument is NULL), so `promlite_errmsg(*out)` can say why;
/// either way the caller must release it with `promlite_close`. A handle
/// whose open failed refuses every other call with `PROMLITE_MISUSE`.
///
/// Returns `PROMLITE_OK`, `PROMLITE_NOT_A_DATABASE` / `PROMLITE_UNSUPPORTED_VERSION`
/// for a foreign or newer file (left untouched), `PROMLITE_STORAGE` or `PROMLITE_IO`.
#[no_mangle]
pub extern "C" fn promlite_open(path: *const c_char, out: *mut *mut promlite_db) -> c_int {
    promlite_open_v2(path, 0, out)
}

/// As `promlite_open`, with `flags`: 0 or `PROMLITE_OPEN_READONLY`.
/// Unknown flag bits are `PROMLITE_MISUSE`.
#[no_mangle]
pub extern "C" fn promlite_open_v2(path: *const c_char, flags: c_int, out: *mut *mut promlite_db) -> c_int {
    // Bad arguments are reported without a handle; everything after that on the new handle.
    let mut checked = None;
    let rc = run(None, || {
        let path = args::bytes(path, "path")?;
        let out = args::out(out, "out")?;
        if flags & !PROMLITE_OPEN_READONLY != 0 {
            return Err(Failure::Misuse(format!("unknown flags {flags:#x} for promlite_open_v2")));
        }
        checked = Some((path, out));
        Ok(())
    });
    let Some((path, out)) = checked else {
        return rc;
    };
    let errors = ErrorSlot::default();
    let mut db = None;
    let rc = run(Some(&errors), || {
        db = Some(open_db(path, flags)?);
        Ok(())
    });
    out.set(Box::into_raw(Box::new(promlite_db { db, errors })));
    rc
}

fn open_db(path: &[u8], flags: c_int) -> Result<Db, Error> {
    let read_only = flags & PROMLITE_OPEN_READONLY != 0;
    if path == b":memory:" {
        if read_only {
            return Err(Error::invalid("an in-memory database cannot be opened read-only"));
        }
        return Db::open_in_memory();
    }
    Db::open_with(Path::new(OsStr::from_bytes(path)), Options::default().read_only(read_only))
}

/// Flushes and closes the database and frees the handle (also one whose
/// open failed). NULL is a no-op returning `PROMLITE_OK`. The handle is
/// freed even when the final flush fails (then `PROMLITE_STORAGE`/`PROMLITE_IO`
/// is returned, and the message is lost with the handle).
#[no_mangle]
pub extern "C" fn promlite_close(db: *mut promlite_db) -> c_int {
    if db.is_null() {
        return 0;
    }
    // SAFETY: a non-NULL handle came from `promlite_open` and is closed once (header contract).
    let handle = unsafe { Box::from_raw(db) };
    run(None, move || {
        if let Some(db) = handle.db {
            db.close()?;
        }
        Ok(())
    })
}

/// English message of this thread's last call on `db`: `"not an error"` after
/// a success. The string is owned by the handle and stays valid until this
/// thread's next call with `db` (or `promlite_close`); do not free it.
/// Never NULL; a NULL `db` gives a static message.
#[no_mangle]
pub extern "C" fn promlite_errmsg(db: *const promlite_db) -> *const c_char {
    errmsg_of(db, c"argument `db` is NULL")
}

/// Byte offset into the query (or series) text of the parse error that made
/// this thread's last call on `db` fail with `PROMLITE_PARSE`; -1 otherwise
/// (also for a NULL `db`).
#[no_mangle]
pub extern "C" fn promlite_error_offset(db: *const promlite_db) -> i64 {
    error_offset_of(db)
}

/// Appends one sample and commits it. `series` is written like a selector,
/// e.g. `http_requests_total{job="api",code="200"}`, and needs a metric name.
/// `ts_ms` is milliseconds since the Unix epoch.
///
/// Returns `PROMLITE_PARSE` (offset into `series`) or `PROMLITE_INVALID_INPUT`
/// for a bad series, storage codes otherwise; nothing is written on failure.
#[no_mangle]
pub extern "C" fn promlite_append(db: *mut promlite_db, series: *const c_char, ts_ms: i64, value: f64) -> c_int {
    with_db(db, |db| {
        let labels = args::series_labels(series, "series")?;
        db.append(&labels, ts_ms, value)?;
        Ok(())
    })
}

/// Writes every sample of `batch` in one atomic, durable commit: all of them
/// or, on failure, none. The batch is left as it was (clear it with
/// `promlite_batch_clear` to reuse it).
#[no_mangle]
pub extern "C" fn promlite_write(db: *mut promlite_db, batch: *const promlite_batch) -> c_int {
    with_db(db, |db| {
        let batch = args::handle(batch, "batch")?;
        db.write(batch.inner())?;
        Ok(())
    })
}

/// The stored samples in `[start_ms, end_ms]` of series matching `selector`
/// (`""` for all series), as written: no PromQL evaluation, so no lookback
/// and no staleness handling (a stale marker reads as a NaN). On success
/// `*out` is a `PROMLITE_RESULT_MATRIX` result to free with `promlite_result_free`.
#[no_mangle]
pub extern "C" fn promlite_select(
    db: *mut promlite_db,
    selector: *const c_char,
    start_ms: i64,
    end_ms: i64,
    out: *mut *mut promlite_result,
) -> c_int {
    by_selector(db, selector, (out, "out"), |db, m| {
        Ok(promlite_result::from_series(&db.select(m, start_ms, end_ms)?).into_raw())
    })
}

/// The label sets of series matching `selector` (e.g. `up{job=~"api|web"}`;
/// `""` for all series) that have samples in `[start_ms, end_ms]` (pass
/// `INT64_MIN`, `INT64_MAX` for all time). On success `*out` is a result of
/// type `PROMLITE_RESULT_SERIES` (labels, no samples) to free with
/// `promlite_result_free`.
#[no_mangle]
pub extern "C" fn promlite_series(
    db: *mut promlite_db,
    selector: *const c_char,
    start_ms: i64,
    end_ms: i64,
    out: *mut *mut promlite_result,
) -> c_int {
    by_selector(db, selector, (out, "out"), |db, m| {
        Ok(promlite_result::from_label_sets(db.series(m, start_ms, end_ms)?).into_raw())
    })
}

/// Sorted label names of series matching `selector` (`""` for all series)
/// with samples in `[start_ms, end_ms]`. On success `*out` is a list to free
/// with `promlite_strings_free`.
#[no_mangle]
pub extern "C" fn promlite_label_names(
    db: *mut promlite_db,
    selector: *const c_char,
    start_ms: i64,
    end_ms: i64,
    out: *mut *mut promlite_strings,
) -> c_int {
    by_selector(db, selector, (out, "out"), |db, m| {
        Ok(promlite_strings::new(&db.label_names(m, start_ms, end_ms)?).into_raw())
    })
}

/// Sorted values of label `name` over series matching `selector` (`""` for
/// all series) with samples in `[start_ms, end_ms]`. On success `*out` is a
/// list to free with `promlite_strings_free`.
#[no_mangle]
pub extern "C" fn promlite_label_values(
    db: *mut promlite_db,
    name: *const c_char,
    selector: *const c_char,
    start_ms: i64,
    end_ms: i64,
    out: *mut *mut promlite_strings,
) -> c_int {
    by_selector(db, selector, (out, "out"), |db, m| {
        let name = text(name, "name")?;
        Ok(promlite_strings::new(&db.label_values(name, m, start_ms, end_ms)?).into_raw())
    })
}

/// Deletes the samples in `[start_ms, end_ms]` of series matching `selector`
/// (which must not be `""`); series left without samples disappear. On
/// success `*series_touched` is the number of series affected. Nothing is
/// deleted on failure.
#[no_mangle]
pub extern "C" fn promlite_delete_series(
    db: *mut promlite_db,
    selector: *const c_char,
    start_ms: i64,
    end_ms: i64,
    series_touched: *mut u64,
) -> c_int {
    by_selector(db, selector, (series_touched, "series_touched"), |db, m| {
        if m.is_empty() {
            let msg = "promlite_delete_series needs a selector; \"\" would delete everything";
            return Err(Error::invalid(msg).into());
        }
        Ok(db.delete_series(m, start_ms, end_ms)?)
    })
}

/// The shape of the calls that take a series selector: parse `selector`,
/// check the output argument, and store what `call` returns for the matchers.
fn by_selector<T>(
    db: *mut promlite_db,
    selector: *const c_char,
    (out, out_name): (*mut T, &str),
    call: impl FnOnce(&Db, &[Matcher]) -> Result<T, Failure>,
) -> c_int {
    with_db(db, |db| {
        let matchers = selector_matchers(selector)?;
        let out = args::out(out, out_name)?;
        out.set(call(db, &matchers)?);
        Ok(())
    })
}

/// The matchers of a plain series selector such as `up{job="api"}`; `""` means none.
fn selector_matchers(selector: *const c_char) -> Result<Vec<Matcher>, Failure> {
    let selector = text(selector, "selector")?;
    if selector.trim().is_empty() {
        return Ok(Vec::new());
    }
    Ok(promql::parse_selector(selector)?)
}
