//! Reading arguments from C and handing text back to it. NULL is always
//! misuse; non-UTF-8 text is invalid input.

use std::ffi::{c_char, CStr};

use promlite::{Error, Labels};

use crate::error::Failure;

/// Borrows a handle passed as `name`.
pub(crate) fn handle<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: the C caller promises a non-NULL handle pointer is live (header contract).
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// Mutably borrows a handle passed as `name`.
pub(crate) fn handle_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: as `handle`, and the header forbids concurrent use of mutable handles.
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// The bytes of a NUL-terminated C string passed as `name`.
pub(crate) fn bytes<'a>(p: *const c_char, name: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: the caller promises a NUL-terminated string that outlives the call.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A NUL-terminated UTF-8 string passed as `name`.
pub(crate) fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes(p, name)?)
        .map_err(|e| Error::invalid(format!("argument `{name}` is not valid UTF-8: {e}")).into())
}

/// Parses a series written as a selector, e.g. `up{job="api"}`, and checks it can be stored.
pub(crate) fn series_labels(p: *const c_char, name: &str) -> Result<Labels, Failure> {
    let labels = Labels::parse(text(p, name)?)?;
    labels.validate_for_storage()?;
    Ok(labels)
}

/// An output argument, checked for NULL before any work is done and written
/// only when the call succeeds.
pub(crate) struct Out<T>(*mut T);

/// Checks the output argument `name`.
pub(crate) fn out<T>(p: *mut T, name: &str) -> Result<Out<T>, Failure> {
    if p.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(Out(p))
    }
}

impl<T> Out<T> {
    /// Stores the result.
    pub(crate) fn set(self, value: T) {
        // SAFETY: checked non-NULL; the caller promises it points to writable storage.
        unsafe { self.0.write(value) }
    }
}

/// A pointer/length pair written by the text accessors.
pub(crate) struct OutText {
    ptr: Out<*const c_char>,
    len: Out<usize>,
}

/// Checks the output arguments `ptr_name` and `len_name` of a text accessor.
pub(crate) fn out_text(
    ptr: *mut *const c_char,
    ptr_name: &str,
    len: *mut usize,
    len_name: &str,
) -> Result<OutText, Failure> {
    Ok(OutText { ptr: out(ptr, ptr_name)?, len: out(len, len_name)? })
}

impl OutText {
    /// Points the caller at `t`.
    pub(crate) fn set(self, t: &CText) {
        self.ptr.set(t.as_ptr());
        self.len.set(t.len());
    }
}

/// Text owned by a handle and lent to C: UTF-8 bytes followed by a NUL, so
/// C can use it as a C string or with its length (which also covers a label
/// value containing NUL bytes).
#[derive(Debug, Clone)]
pub(crate) struct CText(Box<[u8]>);

impl CText {
    pub(crate) fn new(s: &str) -> CText {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        CText(v.into_boxed_slice())
    }

    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }

    /// Length in bytes, without the trailing NUL.
    pub(crate) fn len(&self) -> usize {
        self.0.len() - 1
    }
}

/// Element `i` of `items`, or `PROMLITE_RANGE` naming `what`.
pub(crate) fn nth<'a, T>(items: &'a [T], i: usize, what: &str) -> Result<&'a T, Failure> {
    items.get(i).ok_or_else(|| Failure::range(what, i, items.len()))
}
