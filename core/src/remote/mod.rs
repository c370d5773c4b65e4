//! Scale-out over Prometheus's own protocols (feature `remote-write`): the
//! durable remote-write sender and backfill, and the protobuf messages of
//! remote write and remote read (which the HTTP server's receiver,
//! `/api/v1/read` and tests share). Design and guarantees: `docs/scaleout.md`.
//!
//! - `config`: [`RemoteWriteConfig`], validation, keep/drop, external labels.
//! - `histogram_wire`: native histograms to and from the protobuf `Histogram`.
//! - `request`: series into snappy protobuf requests of at most `batch_size` samples.
//! - `client`: one blocking POST and its classification; backoff with jitter.
//! - `sender`: the background threads, their durable progress, shutdown.
//! - `stats`: counters and [`RemoteWriteStats`].
//! - `backfill`: sending a stored time range once.

mod backfill;
mod client;
mod config;
pub(crate) mod histogram_wire;
pub mod prompb;
mod request;
mod sender;
mod stats;

pub use backfill::BackfillReport;
pub use config::{RemoteAuth, RemoteWriteConfig};
pub(crate) use sender::Senders;
pub use stats::RemoteWriteStats;

use crate::db::Db;
use crate::error::{Error, Result};

impl Db {
    /// Starts remote-write sender `config.name`: from now on every committed
    /// sample is delivered to `config.url`, in commit order per series, from a
    /// queue kept in the database file (so nothing is lost across crashes and
    /// restarts). Adding a sender under a name used before in this file
    /// resumes after what that one delivered; adding a running one again
    /// restarts it with the new settings. The sender runs on a background
    /// thread until [`Db::remote_write_remove`] or the `Db` is closed.
    ///
    /// Senders are not started by opening a file: add them in every process
    /// that should send. A sender added once and never removed keeps its
    /// backlog in the file (see [`Db::remote_write_stats`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad setting or a read-only database; SQLite errors.
    pub fn remote_write_add(&self, config: RemoteWriteConfig) -> Result<()> {
        self.remote.add(&self.storage, config)
    }

    /// Stops sender `name` and drops what it has not sent yet. Returns
    /// whether such a sender was running or registered in the file.
    ///
    /// # Errors
    /// Read-only databases, SQLite errors.
    pub fn remote_write_remove(&self, name: &str) -> Result<bool> {
        self.remote.remove(&self.storage, name)
    }

    /// Stats of every sender running in this handle or registered in the
    /// file, sorted by name.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn remote_write_stats(&self) -> Result<Vec<RemoteWriteStats>> {
        self.remote.stats(&self.storage)
    }

    /// Sends the samples in `[mint, maxt]` (ms) of every series the
    /// configuration's keep/drop selectors let through, once, to
    /// `config.url` (with its auth, headers and external labels), from one
    /// consistent snapshot, in the calling thread. Works on read-only
    /// handles. Requests failing with 5xx, 429 or network errors are retried
    /// a few times; refused ones (other 4xx) are counted as dropped.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad setting or range; an I/O error when
    /// the receiver stays unreachable; SQLite errors.
    pub fn remote_write_backfill(&self, config: &RemoteWriteConfig, mint: i64, maxt: i64) -> Result<BackfillReport> {
        if mint > maxt {
            return Err(Error::invalid(format!("backfill range: start {mint} is after end {maxt}")));
        }
        backfill::backfill(self, config, mint, maxt)
    }
}
