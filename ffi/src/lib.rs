//! The C ABI of promlite: what `libpromlite.{so,a}` exports and
//! `include/promlite.h` declares (the header is generated from this crate by
//! cbindgen; `ffi/tests/header.rs` keeps the checked-in copy current).
//!
//! Conventions (SQLite / rustls-ffi): `promlite_` prefix, opaque handles,
//! an `int` result code from [`promlite_rc`] with outputs through
//! out-pointers written only on success, NULL arguments rejected with
//! `PROMLITE_MISUSE`, every export inside a panic boundary, and one
//! documented free function per allocation. See `docs/c-api.md`.
#![allow(non_camel_case_types)]
// The exports dereference raw pointers by design; the contract for them is in
// the header, which C callers read, rather than in Rust `unsafe fn` markers.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod args;
mod batch;
mod db;
mod error;
mod histogram;
mod query;
mod remote_write;
mod result;
mod strings;

use std::ffi::{c_char, c_int};

pub use batch::*;
pub use db::*;
pub use error::promlite_rc;
pub use histogram::*;
pub use query::*;
pub use remote_write::*;
pub use result::*;
pub use strings::*;

/// The version of the linked library, e.g. `"0.1.0"` (static; do not free).
/// Equals `PROMLITE_VERSION` when header and library match.
#[no_mangle]
pub extern "C" fn promlite_libversion() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The version of the linked library as a number, major * 1000000 +
/// minor * 1000 + patch. Equals `PROMLITE_VERSION_NUMBER` when header and library match.
#[no_mangle]
pub extern "C" fn promlite_libversion_number() -> c_int {
    error::guard(-1, || version_number(env!("CARGO_PKG_VERSION")))
}

/// `major * 1000000 + minor * 1000 + patch` of a semantic version.
pub fn version_number(v: &str) -> c_int {
    let mut parts = v.split(['.', '-', '+']).map(|p| p.parse::<c_int>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    next() * 1_000_000 + next() * 1_000 + next()
}

/// A static English description of result code `rc` (do not free); an
/// unknown code gives `"unknown error code"`.
#[no_mangle]
pub extern "C" fn promlite_errstr(rc: c_int) -> *const c_char {
    error::guard(c"unknown error code".as_ptr(), || {
        promlite_rc::from_int(rc).map_or(c"unknown error code".as_ptr(), |c| c.description().as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_follow_sqlite() {
        assert_eq!(version_number("0.1.0"), 1_000);
        assert_eq!(version_number("1.23.4-rc.1"), 1_023_004);
    }
}
