//! promlite errors as JS `Error`s whose `code` is the Prometheus `errorType`
//! of the error's kind (`bad_data`, `execution`, `timeout`, `canceled`,
//! `internal`), so callers branch on `err.code`, never on the message.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::{Env, JsError};
use promlite::{Error, ErrorKind};

/// A napi error whose status string becomes the JS error's `code`.
pub type NodeError = napi::Error<&'static str>;

/// Result of every exported method. Named `Result` because napi-derive
/// recognises fallible methods by that name.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;

/// The JS error for a promlite error: message as core renders it (parse
/// errors keep their `line:col:` position), code from its kind.
pub fn to_js(e: Error) -> NodeError {
    napi::Error::new(e.kind().error_type(), e.to_string())
}

/// A `bad_data` error for an argument the caller got wrong.
pub fn bad_data(msg: impl Into<String>) -> NodeError {
    to_js(Error::invalid(msg))
}

/// Runs `f`, turning a panic (a bug in promlite) into an `internal` error
/// instead of aborting the Node process.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| Err(panic_error(panic)))
}

fn panic_error(panic: Box<dyn std::any::Any + Send>) -> NodeError {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    napi::Error::new(ErrorKind::Internal.error_type(), format!("internal error (panic): {what}"))
}

/// For async tasks: a promise can only be rejected with a plain napi error, so
/// build the JS error object (with its `code`) here and reject with that object.
pub fn rejection(env: Env, e: NodeError) -> napi::Error {
    napi::Error::from(JsError::from(e).into_unknown(env))
}
