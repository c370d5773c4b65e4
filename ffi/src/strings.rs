//! Strings handed to C: `promlite_strings` lists (label names/values) and
//! single allocated strings (`promlite_query_json`).

use std::ffi::{c_char, c_int, CString};

use crate::args::{self, nth, out, out_text, CText};
use crate::error::{guard, run, Failure};

/// A list of strings (label names or values). Every pointer it hands out is
/// owned by the list and valid until `promlite_strings_free`.
///
/// Threads: immutable, so any number of threads may read it at once.
pub struct promlite_strings {
    items: Vec<CText>,
}

impl promlite_strings {
    pub(crate) fn new(items: &[String]) -> promlite_strings {
        promlite_strings { items: items.iter().map(|s| CText::new(s)).collect() }
    }

    pub(crate) fn into_raw(self) -> *mut promlite_strings {
        Box::into_raw(Box::new(self))
    }
}

/// On success `*count` is the number of strings in `list`.
#[no_mangle]
pub extern "C" fn promlite_strings_count(list: *const promlite_strings, count: *mut usize) -> c_int {
    run(None, || {
        out(count, "count")?.set(args::handle(list, "list")?.items.len());
        Ok(())
    })
}

/// On success `*text`/`*len` is string `i` of `list`, NUL-terminated, owned
/// by the list. `PROMLITE_RANGE` if `i` >= the count.
#[no_mangle]
pub extern "C" fn promlite_strings_get(
    list: *const promlite_strings,
    i: usize,
    text: *mut *const c_char,
    len: *mut usize,
) -> c_int {
    run(None, || {
        let s = nth(&args::handle(list, "list")?.items, i, "string")?;
        out_text(text, "text", len, "len")?.set(s);
        Ok(())
    })
}

/// Frees a list and its strings. NULL is a no-op.
#[no_mangle]
pub extern "C" fn promlite_strings_free(list: *mut promlite_strings) {
    if !list.is_null() {
        // SAFETY: a non-NULL list came from this library and is freed once.
        guard((), || drop(unsafe { Box::from_raw(list) }));
    }
}

/// Hands `s` to C as a string that `promlite_string_free` releases.
pub(crate) fn into_c_string(s: String) -> Result<*mut c_char, Failure> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| promlite::Error::invalid("text contains a NUL byte and cannot be returned as a C string").into())
}

/// Frees a string this library allocated for the caller (e.g. by
/// `promlite_query_json`). NULL is a no-op. Never pass it anything else,
/// such as `promlite_errmsg` text or pointers owned by a result.
#[no_mangle]
pub extern "C" fn promlite_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: a non-NULL string came from `into_c_string` and is freed once.
        guard((), || drop(unsafe { CString::from_raw(s) }));
    }
}
