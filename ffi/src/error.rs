//! Result codes, the per-handle error detail behind `promlite_errmsg`, and the
//! panic boundary every export runs in.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{self, AssertUnwindSafe};
use std::thread::{self, ThreadId};

use parking_lot::Mutex;
use promlite::{Error, ErrorKind};

/// Result codes returned by every fallible `promlite_*` function (as an `int`).
///
/// The numbers are stable: a code is never renumbered or reused, new codes are
/// only appended. `promlite_errstr` describes a code; `promlite_errmsg` (or
/// `promlite_batch_errmsg`) gives the message of the failing call.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum promlite_rc {
    /// Success.
    PROMLITE_OK = 0,
    /// The API was misused: a NULL or invalid argument, or a handle whose open failed.
    PROMLITE_MISUSE = 1,
    /// A bug inside promlite panicked; the panic was caught at the API boundary.
    /// The handle stays usable, but the failed call did nothing reliable.
    PROMLITE_PANIC = 2,
    /// An index argument is past the end (e.g. a series number >= the series count).
    PROMLITE_RANGE = 3,
    /// A query or series string failed to parse; the byte offset of the error
    /// is available from `promlite_error_offset` / `promlite_batch_error_offset`.
    PROMLITE_PARSE = 4,
    /// An argument or input is invalid (label set without a metric name,
    /// non-UTF-8 text, non-positive step, …). Nothing was written.
    PROMLITE_INVALID_INPUT = 5,
    /// The query failed while running (e.g. many-to-many vector matching).
    PROMLITE_EXECUTION = 6,
    /// The query would load more samples into memory than allowed.
    PROMLITE_TOO_MANY_SAMPLES = 7,
    /// The query ran longer than its timeout.
    PROMLITE_TIMEOUT = 8,
    /// The query was cancelled.
    PROMLITE_CANCELED = 9,
    /// The file exists but is not a promlite database; it was not modified.
    PROMLITE_NOT_A_DATABASE = 10,
    /// The file was written by a newer (or unknown) promlite format version.
    PROMLITE_UNSUPPORTED_VERSION = 11,
    /// The database has been closed.
    PROMLITE_CLOSED = 12,
    /// SQLite reported an error.
    PROMLITE_STORAGE = 13,
    /// A file system error.
    PROMLITE_IO = 14,
    /// Stored data failed to decode (the file is corrupt).
    PROMLITE_CORRUPT = 15,
    /// Any other internal failure.
    PROMLITE_INTERNAL = 16,
}

use promlite_rc::*;

impl promlite_rc {
    /// Every code, for `promlite_errstr` and its tests.
    pub(crate) const ALL: [promlite_rc; 17] = [
        PROMLITE_OK,
        PROMLITE_MISUSE,
        PROMLITE_PANIC,
        PROMLITE_RANGE,
        PROMLITE_PARSE,
        PROMLITE_INVALID_INPUT,
        PROMLITE_EXECUTION,
        PROMLITE_TOO_MANY_SAMPLES,
        PROMLITE_TIMEOUT,
        PROMLITE_CANCELED,
        PROMLITE_NOT_A_DATABASE,
        PROMLITE_UNSUPPORTED_VERSION,
        PROMLITE_CLOSED,
        PROMLITE_STORAGE,
        PROMLITE_IO,
        PROMLITE_CORRUPT,
        PROMLITE_INTERNAL,
    ];

    /// The code for a core error, chosen by variant; variants added to core
    /// later fall back to their Prometheus error class.
    pub fn of(e: &Error) -> promlite_rc {
        match e {
            Error::Parse(_) => PROMLITE_PARSE,
            Error::InvalidInput(_) => PROMLITE_INVALID_INPUT,
            Error::Execution(_) => PROMLITE_EXECUTION,
            Error::TooManySamples(_) => PROMLITE_TOO_MANY_SAMPLES,
            Error::Timeout(_) => PROMLITE_TIMEOUT,
            Error::Canceled(_) => PROMLITE_CANCELED,
            Error::NotADatabase(_) => PROMLITE_NOT_A_DATABASE,
            Error::UnsupportedVersion { .. } => PROMLITE_UNSUPPORTED_VERSION,
            Error::Closed => PROMLITE_CLOSED,
            Error::Sqlite(_) => PROMLITE_STORAGE,
            Error::Io(_) => PROMLITE_IO,
            Error::Corrupt(_) => PROMLITE_CORRUPT,
            other => match other.kind() {
                ErrorKind::BadData => PROMLITE_INVALID_INPUT,
                ErrorKind::Execution => PROMLITE_EXECUTION,
                ErrorKind::Timeout => PROMLITE_TIMEOUT,
                ErrorKind::Canceled => PROMLITE_CANCELED,
                ErrorKind::Internal => PROMLITE_INTERNAL,
            },
        }
    }

    /// The static English description `promlite_errstr` returns.
    pub fn description(self) -> &'static CStr {
        match self {
            PROMLITE_OK => c"not an error",
            PROMLITE_MISUSE => c"library routine called incorrectly (NULL or invalid argument)",
            PROMLITE_PANIC => c"internal error: promlite panicked (a bug; please report it)",
            PROMLITE_RANGE => c"index out of range",
            PROMLITE_PARSE => c"parse error",
            PROMLITE_INVALID_INPUT => c"invalid input",
            PROMLITE_EXECUTION => c"query execution failed",
            PROMLITE_TOO_MANY_SAMPLES => c"query would load too many samples into memory",
            PROMLITE_TIMEOUT => c"query timed out",
            PROMLITE_CANCELED => c"query was canceled",
            PROMLITE_NOT_A_DATABASE => c"file is not a promlite database",
            PROMLITE_UNSUPPORTED_VERSION => c"unsupported promlite format version",
            PROMLITE_CLOSED => c"database is closed",
            PROMLITE_STORAGE => c"storage (SQLite) error",
            PROMLITE_IO => c"I/O error",
            PROMLITE_CORRUPT => c"database is corrupt",
            PROMLITE_INTERNAL => c"internal error",
        }
    }

    /// The code for an `int` a C caller passed, if it is one.
    pub fn from_int(rc: c_int) -> Option<promlite_rc> {
        promlite_rc::ALL.into_iter().find(|c| *c as c_int == rc)
    }
}

/// Why a call failed, before it becomes a code and a message.
#[derive(Debug)]
pub(crate) enum Failure {
    /// `PROMLITE_MISUSE` with a message.
    Misuse(String),
    /// `PROMLITE_RANGE` with a message.
    Range(String),
    /// An error from core.
    Core(Error),
}

impl Failure {
    /// A NULL pointer was passed for argument `name`.
    pub(crate) fn null(name: &str) -> Failure {
        Failure::Misuse(format!("argument `{name}` is NULL"))
    }

    /// `index` is not below `len`.
    pub(crate) fn range(what: &str, index: usize, len: usize) -> Failure {
        Failure::Range(format!("{what} index {index} is out of range (there are {len})"))
    }

    fn detail(self) -> Detail {
        match self {
            Failure::Misuse(m) => Detail::new(PROMLITE_MISUSE, &m, -1),
            Failure::Range(m) => Detail::new(PROMLITE_RANGE, &m, -1),
            Failure::Core(e) => {
                let offset = match &e {
                    Error::Parse(p) => i64::try_from(p.span.start).unwrap_or(i64::MAX),
                    _ => -1,
                };
                Detail::new(promlite_rc::of(&e), &e.to_string(), offset)
            }
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<promlite::ParseError> for Failure {
    fn from(e: promlite::ParseError) -> Self {
        Failure::Core(Error::Parse(e))
    }
}

/// The outcome of a failed call as C reads it.
#[derive(Debug)]
struct Detail {
    rc: promlite_rc,
    message: CString,
    /// Byte offset of a parse error in the text that failed, else -1.
    offset: i64,
}

impl Detail {
    fn new(rc: promlite_rc, message: &str, offset: i64) -> Detail {
        // A message is C text: an interior NUL would cut it short, so show it escaped.
        let message = CString::new(message.replace('\0', "\\0")).expect("NULs were replaced");
        Detail { rc, message, offset }
    }
}

/// The error of the last call on a handle, kept per calling thread (like
/// `errno`), so threads sharing a handle never read — or free — each
/// other's messages. A message stays valid until that thread's next call
/// with the handle.
#[derive(Debug, Default)]
pub(crate) struct ErrorSlot {
    by_thread: Mutex<HashMap<ThreadId, Detail>>,
}

impl ErrorSlot {
    fn record(&self, outcome: Option<Detail>) {
        let me = thread::current().id();
        let mut map = self.by_thread.lock();
        match outcome {
            Some(d) => {
                map.insert(me, d);
            }
            None => {
                map.remove(&me);
            }
        }
    }

    /// The message of this thread's last failed call, or `"not an error"`.
    pub(crate) fn message(&self) -> *const c_char {
        let me = thread::current().id();
        match self.by_thread.lock().get(&me) {
            // The CString's buffer lives on the heap, so it stays put while the
            // map changes, until this thread's next call replaces the entry.
            Some(d) => d.message.as_ptr(),
            None => PROMLITE_OK.description().as_ptr(),
        }
    }

    /// The parse-error byte offset of this thread's last failed call, or -1.
    pub(crate) fn offset(&self) -> i64 {
        self.by_thread.lock().get(&thread::current().id()).map_or(-1, |d| d.offset)
    }

    /// The code of this thread's last call on the handle.
    #[cfg(test)]
    pub(crate) fn last_rc(&self) -> promlite_rc {
        self.by_thread.lock().get(&thread::current().id()).map_or(PROMLITE_OK, |d| d.rc)
    }
}

/// A handle that keeps error detail for `promlite_*errmsg` / `promlite_*error_offset`.
pub(crate) trait HasErrors {
    fn errors(&self) -> &ErrorSlot;
}

/// The errmsg export of a handle type: this thread's last message, or a
/// static one for a NULL handle.
pub(crate) fn errmsg_of<H: HasErrors>(handle: *const H, null_message: &'static CStr) -> *const c_char {
    guard(PROMLITE_PANIC.description().as_ptr(), || {
        // SAFETY: the C caller promises a non-NULL handle pointer is live (header contract).
        unsafe { handle.as_ref() }.map_or(null_message.as_ptr(), |h| h.errors().message())
    })
}

/// The error-offset export of a handle type: -1 for a NULL handle.
pub(crate) fn error_offset_of<H: HasErrors>(handle: *const H) -> i64 {
    // SAFETY: as in `errmsg_of`.
    guard(-1, || unsafe { handle.as_ref() }.map_or(-1, |h| h.errors().offset()))
}

/// Runs the body of an export: catches any panic, turns the outcome into a
/// result code, and records the detail in `slot` when the handle has one.
pub(crate) fn run(slot: Option<&ErrorSlot>, body: impl FnOnce() -> Result<(), Failure>) -> c_int {
    let rc = panic::catch_unwind(AssertUnwindSafe(|| {
        let outcome = match panic::catch_unwind(AssertUnwindSafe(body)) {
            Ok(Ok(())) => None,
            Ok(Err(f)) => Some(f.detail()),
            Err(payload) => Some(Detail::new(PROMLITE_PANIC, &panic_message(payload.as_ref()), -1)),
        };
        let rc = outcome.as_ref().map_or(PROMLITE_OK, |d| d.rc);
        if let Some(slot) = slot {
            slot.record(outcome);
        }
        rc
    }));
    rc.unwrap_or(PROMLITE_PANIC) as c_int
}

/// Runs an export that returns a value rather than a code, with `fallback` if it panics.
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic payload");
    format!("internal error: promlite panicked: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(slot: &ErrorSlot) -> String {
        unsafe { CStr::from_ptr(slot.message()) }.to_str().unwrap().to_string()
    }

    #[test]
    fn panics_become_a_code_and_a_message() {
        let slot = ErrorSlot::default();
        let rc = run(Some(&slot), || panic!("boom {}", 42));
        assert_eq!(rc, PROMLITE_PANIC as c_int);
        assert_eq!(message(&slot), "internal error: promlite panicked: boom 42");
        assert_eq!(slot.offset(), -1);
    }

    #[test]
    fn success_clears_the_previous_error() {
        let slot = ErrorSlot::default();
        run(Some(&slot), || Err(Failure::null("db")));
        assert_eq!(slot.last_rc(), PROMLITE_MISUSE);
        assert_eq!(message(&slot), "argument `db` is NULL");
        assert_eq!(run(Some(&slot), || Ok(())), 0);
        assert_eq!(message(&slot), "not an error");
    }

    #[test]
    fn parse_errors_carry_their_byte_offset() {
        let slot = ErrorSlot::default();
        let e = promlite::ParseError::new("sum(x", 5..5, "unclosed left parenthesis");
        assert_eq!(run(Some(&slot), || Err(e.into())), PROMLITE_PARSE as c_int);
        assert_eq!(slot.offset(), 5);
        assert_eq!(message(&slot), "1:6: parse error: unclosed left parenthesis");
    }

    #[test]
    fn errors_are_kept_per_thread() {
        let slot = ErrorSlot::default();
        run(Some(&slot), || Err(Failure::Misuse("main thread".into())));
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(message(&slot), "not an error");
                run(Some(&slot), || Err(Failure::Misuse("other thread".into())));
                assert_eq!(message(&slot), "other thread");
            });
        });
        assert_eq!(message(&slot), "main thread");
    }

    #[test]
    fn core_errors_map_by_variant() {
        let cases = [
            (Error::invalid("x"), PROMLITE_INVALID_INPUT),
            (Error::execution("x"), PROMLITE_EXECUTION),
            (Error::TooManySamples("x"), PROMLITE_TOO_MANY_SAMPLES),
            (Error::Timeout("x"), PROMLITE_TIMEOUT),
            (Error::Canceled("x"), PROMLITE_CANCELED),
            (Error::NotADatabase("x".into()), PROMLITE_NOT_A_DATABASE),
            (Error::UnsupportedVersion { found: 9, supported: 1 }, PROMLITE_UNSUPPORTED_VERSION),
            (Error::Closed, PROMLITE_CLOSED),
            (Error::Io(std::io::Error::other("x")), PROMLITE_IO),
            (Error::Corrupt("x".into()), PROMLITE_CORRUPT),
        ];
        for (e, rc) in cases {
            assert_eq!(promlite_rc::of(&e), rc, "{e:?}");
        }
    }

    #[test]
    fn codes_are_dense_and_stable() {
        for (i, rc) in promlite_rc::ALL.iter().enumerate() {
            assert_eq!(*rc as usize, i);
            assert_eq!(promlite_rc::from_int(i as c_int), Some(*rc));
        }
        assert_eq!(promlite_rc::from_int(-1), None);
        assert_eq!(promlite_rc::from_int(promlite_rc::ALL.len() as c_int), None);
    }
}
