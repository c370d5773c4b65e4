//! # promlite — the SQLite of metrics
//!
//! Prometheus-style time series in one SQLite file, queried with PromQL.
//!
//! ```
//! use promlite::{Db, Labels, Value};
//!
//! let db = Db::open_in_memory()?;
//! let up = Labels::parse(r#"up{job="api"}"#)?;
//! db.append(&up, 1_000, 1.0)?;
//! match db.query("sum by (job) (up)", 1_000)? {
//!     Value::Vector(v) => assert_eq!(v[0].v, 1.0),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), promlite::Error>(())
//! ```
#![warn(missing_docs)]

mod db;
mod error;
pub mod eval;
mod exposition;
pub mod histogram;
mod model;
pub mod promql;
mod storage;
mod value;

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "remote-write")]
mod remote;

pub use db::{Batch, CompactStats, Db, MetricMetadata, Options, OutboxBatch, VerifyStats};
pub use error::{Error, ErrorKind, ParseError, Result};
pub use eval::{Querier, QueryOptions};
pub use histogram::FloatHistogram;
pub use model::{
    is_legacy_label_name, is_legacy_metric_name, is_stale_nan, stale_nan, HPoint, Label, Labels, MatchOp, Matcher,
    Point, METRIC_NAME, STALE_NAN_BITS,
};
#[cfg(feature = "remote-write")]
pub use remote::{prompb, BackfillReport, RemoteAuth, RemoteWriteConfig, RemoteWriteStats};
pub use value::{format_value, QueryResult, Sample, Series, Value};

// The README's Rust code blocks run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The library version (`CARGO_PKG_VERSION`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
