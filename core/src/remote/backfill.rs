//! Sending a time range of stored data once, e.g. to seed a new receiver
//! with history. Runs in the caller's thread, from one consistent snapshot.

use std::time::Duration;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::remote::client::{Backoff, Client};
use crate::remote::config::RemoteWriteConfig;
use crate::remote::request::{Request, RequestBuilder};
use crate::remote::sender::{deliver, Delivery};
use crate::remote::stats::Counters;

/// Attempts per request before a backfill gives up (the durable sender never does).
const BACKFILL_ATTEMPTS: u32 = 10;

/// What [`Db::remote_write_backfill`] sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BackfillReport {
    /// Series with samples in the range that the keep/drop selectors let through.
    pub series: u64,
    /// Samples the receiver accepted.
    pub samples_sent: u64,
    /// Requests the receiver accepted.
    pub requests_sent: u64,
    /// Samples in requests the receiver refused for good (4xx other than 429).
    pub samples_dropped: u64,
}

pub(crate) fn backfill(db: &Db, config: &RemoteWriteConfig, mint: i64, maxt: i64) -> Result<BackfillReport> {
    let prepared = config.prepare()?;
    let client = Client::new(config);
    let counters = Counters::new();
    let mut backoff = Backoff::new(config.min_backoff, config.max_backoff);
    let send = |request: &Request, backoff: &mut Backoff| -> Result<()> {
        let mut attempts = 1;
        let pause = |delay: Duration| {
            attempts += 1;
            std::thread::sleep(delay);
            attempts <= BACKFILL_ATTEMPTS
        };
        match deliver(&client, &config.name, request, &counters, pause, backoff) {
            Delivery::Delivered | Delivery::Dropped => Ok(()),
            Delivery::GaveUp => {
                let last = counters.last_error.lock().clone().unwrap_or_default();
                Err(Error::Io(std::io::Error::other(format!(
                    "remote write {:?}: backfill gave up after {BACKFILL_ATTEMPTS} attempts ({last}); {} samples were sent before",
                    config.name,
                    counters.samples_sent.load(std::sync::atomic::Ordering::Relaxed)
                ))))
            }
        }
    };
    let mut builder = RequestBuilder::new(&prepared);
    let mut series = 0;
    db.for_each_series(&prepared.scan_matchers(), mint, maxt, |s| {
        if prepared.selects(&s.labels) {
            series += 1;
            builder.add_sorted(&s.labels, &s.points);
            builder.add_sorted(&s.labels, &s.histograms);
        }
        builder.take_full().iter().try_for_each(|r| send(r, &mut backoff))
    })?;
    builder.take().requests.iter().try_for_each(|r| send(r, &mut backoff))?;
    let stats = counters.snapshot(&config.name, &config.url, false, 0);
    Ok(BackfillReport {
        series,
        samples_sent: stats.samples_sent,
        requests_sent: stats.requests_sent,
        samples_dropped: stats.samples_dropped,
    })
}
