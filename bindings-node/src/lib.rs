//! Node bindings for promlite, built with napi-rs. The native module exposes
//! `Database` and `Batch`; `index.js` wraps them with JS conveniences (`Date`
//! timestamps, default arguments, `batch(fn)`). Logic stays in core: every
//! method here converts arguments, calls `promlite`, converts the result.

mod batch;
mod convert;
mod db;
mod error;
mod histogram;
mod remote_write;
mod result;
mod task;

use napi_derive::napi;

/// The promlite library version.
#[napi]
pub fn version() -> String {
    promlite::VERSION.to_string()
}
