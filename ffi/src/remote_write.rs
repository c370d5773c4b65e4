//! Remote write from C: `promlite_remote_write_config` (a sender's settings),
//! starting and removing senders on a `promlite_db`, their stats, and backfill.

use std::ffi::{c_char, c_int};
use std::time::Duration;

use promlite::{Error, RemoteAuth, RemoteWriteConfig, RemoteWriteStats};

use crate::args::{self, text};
use crate::db::{promlite_db, with_db};
use crate::error::{guard, run, Failure};
use crate::strings::{into_c_string, promlite_strings};

/// The settings of one remote-write sender: where to send, auth, headers,
/// external labels, keep/drop selectors, batching and retries. Create it
/// with `promlite_remote_write_config_new`, adjust it with the
/// `promlite_remote_write_config_*` setters, pass it to
/// `promlite_remote_write_add` or `promlite_remote_write_backfill` (which
/// copy it), and free it with `promlite_remote_write_config_free`.
///
/// Settings are checked when the config is used, so a bad one makes
/// `promlite_remote_write_add` fail with `PROMLITE_INVALID_INPUT` and a
/// message on the database handle.
///
/// Threads: may move between threads; not for two threads at once.
pub struct promlite_remote_write_config {
    config: RemoteWriteConfig,
}

/// Counters of one sender, filled in by `promlite_remote_write_get_stats`.
/// Counters start at zero when the sender starts in this process.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct promlite_remote_write_stats {
    /// 1 if the sender runs in this process; 0 if it is only registered in
    /// the file (it keeps its backlog but sends nothing).
    pub running: c_int,
    /// Samples the receiver accepted.
    pub samples_sent: u64,
    /// Requests the receiver accepted.
    pub requests_sent: u64,
    /// Compressed bytes of the accepted requests.
    pub bytes_sent: u64,
    /// Samples given up because the receiver refused them (4xx other than 429).
    pub samples_dropped: u64,
    /// Requests given up that way.
    pub requests_dropped: u64,
    /// Attempts that did not deliver (network errors, non-2xx answers).
    pub requests_failed: u64,
    /// Attempts repeated after 5xx, 429 or network errors.
    pub retries: u64,
    /// Samples not sent by design (keep/drop selectors, overwritten in the same batch).
    pub samples_skipped: u64,
    /// Samples committed but not yet acknowledged.
    pub pending_samples: u64,
    /// How long the oldest pending sample has waited, in seconds (0 when none).
    pub lag_seconds: f64,
    /// Timestamp (ms) of the newest sample the receiver accepted; `INT64_MIN` before any.
    pub newest_sent_timestamp_ms: i64,
}

/// What `promlite_remote_write_backfill` sent.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct promlite_backfill_report {
    /// Series with samples in the range that the selectors let through.
    pub series: u64,
    /// Samples the receiver accepted.
    pub samples_sent: u64,
    /// Requests the receiver accepted.
    pub requests_sent: u64,
    /// Samples the receiver refused for good (4xx other than 429).
    pub samples_dropped: u64,
}

impl From<&RemoteWriteStats> for promlite_remote_write_stats {
    fn from(s: &RemoteWriteStats) -> Self {
        promlite_remote_write_stats {
            running: c_int::from(s.running),
            samples_sent: s.samples_sent,
            requests_sent: s.requests_sent,
            bytes_sent: s.bytes_sent,
            samples_dropped: s.samples_dropped,
            requests_dropped: s.requests_dropped,
            requests_failed: s.requests_failed,
            retries: s.retries,
            samples_skipped: s.samples_skipped,
            pending_samples: s.pending_samples,
            lag_seconds: s.lag_seconds,
            newest_sent_timestamp_ms: s.newest_sent_timestamp_ms.unwrap_or(i64::MIN),
        }
    }
}

/// Creates the settings of a sender named `name` (which keys its durable
/// position in the database) posting to `url` (`http://` or `https://`),
/// with the defaults: no auth, batches of 2000 samples, 1 s flush
/// interval, 30 s timeout, backoff from 30 ms to 5 s. On success `*out` is
/// a config to free with `promlite_remote_write_config_free`.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_new(
    name: *const c_char,
    url: *const c_char,
    out: *mut *mut promlite_remote_write_config,
) -> c_int {
    run(None, || {
        let config = RemoteWriteConfig::new(text(name, "name")?, text(url, "url")?);
        args::out(out, "out")?.set(Box::into_raw(Box::new(promlite_remote_write_config { config })));
        Ok(())
    })
}

/// Frees a config. NULL is a no-op.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_free(config: *mut promlite_remote_write_config) {
    if !config.is_null() {
        // SAFETY: a non-NULL config came from `promlite_remote_write_config_new` and is freed once.
        guard((), || drop(unsafe { Box::from_raw(config) }));
    }
}

/// Runs a setter on the config behind `config`.
fn set(
    config: *mut promlite_remote_write_config,
    body: impl FnOnce(&mut RemoteWriteConfig) -> Result<(), Failure>,
) -> c_int {
    run(None, || body(&mut args::handle_mut(config, "config")?.config))
}

/// A duration from milliseconds; negative values are refused.
fn millis(ms: i64, name: &str) -> Result<Duration, Failure> {
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| Error::invalid(format!("`{name}` must not be negative")).into())
}

/// Authenticates with `Authorization: Bearer <token>`.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_bearer_token(
    config: *mut promlite_remote_write_config,
    token: *const c_char,
) -> c_int {
    set(config, |c| {
        c.auth = RemoteAuth::Bearer(text(token, "token")?.to_string());
        Ok(())
    })
}

/// Authenticates with HTTP Basic auth.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_basic_auth(
    config: *mut promlite_remote_write_config,
    username: *const c_char,
    password: *const c_char,
) -> c_int {
    set(config, |c| {
        let (username, password) = (text(username, "username")?, text(password, "password")?);
        c.auth = RemoteAuth::Basic { username: username.to_string(), password: password.to_string() };
        Ok(())
    })
}

/// Adds a request header (e.g. `X-Scope-OrgID`).
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_header(
    config: *mut promlite_remote_write_config,
    name: *const c_char,
    value: *const c_char,
) -> c_int {
    set(config, |c| {
        c.headers.push((text(name, "name")?.to_string(), text(value, "value")?.to_string()));
        Ok(())
    })
}

/// Adds a label set on every sent series that lacks it.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_external_label(
    config: *mut promlite_remote_write_config,
    name: *const c_char,
    value: *const c_char,
) -> c_int {
    set(config, |c| {
        c.external_labels.push((text(name, "name")?.to_string(), text(value, "value")?.to_string()));
        Ok(())
    })
}

/// Sends only series matching `selector` (e.g. `{job="api"}`) or another keep selector.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_keep(
    config: *mut promlite_remote_write_config,
    selector: *const c_char,
) -> c_int {
    set(config, |c| {
        c.keep.push(text(selector, "selector")?.to_string());
        Ok(())
    })
}

/// Does not send series matching `selector`.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_drop(
    config: *mut promlite_remote_write_config,
    selector: *const c_char,
) -> c_int {
    set(config, |c| {
        c.drop.push(text(selector, "selector")?.to_string());
        Ok(())
    })
}

/// Sets the most samples per request.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_batch_size(
    config: *mut promlite_remote_write_config,
    samples: usize,
) -> c_int {
    set(config, |c| {
        c.batch_size = samples;
        Ok(())
    })
}

/// Sets the longest a sample waits for a fuller request, in ms.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_flush_interval_ms(
    config: *mut promlite_remote_write_config,
    ms: i64,
) -> c_int {
    set(config, |c| {
        c.flush_interval = millis(ms, "ms")?;
        Ok(())
    })
}

/// Sets the time limit of one request, in ms.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_timeout_ms(config: *mut promlite_remote_write_config, ms: i64) -> c_int {
    set(config, |c| {
        c.timeout = millis(ms, "ms")?;
        Ok(())
    })
}

/// Sets the first and the longest retry delay, in ms.
#[no_mangle]
pub extern "C" fn promlite_remote_write_config_backoff_ms(
    config: *mut promlite_remote_write_config,
    min_ms: i64,
    max_ms: i64,
) -> c_int {
    set(config, |c| {
        c.min_backoff = millis(min_ms, "min_ms")?;
        c.max_backoff = millis(max_ms, "max_ms")?;
        Ok(())
    })
}

/// Starts the sender `config` describes: from now on every sample committed
/// to `db` is delivered to its URL in commit order per series, from a queue
/// kept in the database file, by a background thread that runs until
/// `promlite_remote_write_remove` or `promlite_close`. A sender added under
/// a name used before in this file resumes after what that one delivered;
/// adding a running one again restarts it with the new settings. Senders
/// are not started by opening a file: add them in every process that should send.
///
/// `PROMLITE_INVALID_INPUT` for a bad setting (the message names it) or a
/// read-only database.
#[no_mangle]
pub extern "C" fn promlite_remote_write_add(
    db: *mut promlite_db,
    config: *const promlite_remote_write_config,
) -> c_int {
    with_db(db, |db| {
        let config = args::handle(config, "config")?;
        db.remote_write_add(config.config.clone())?;
        Ok(())
    })
}

/// Stops sender `name` and drops what it has not sent yet. On success
/// `*existed` is 1 if it was running or registered in the file, else 0.
#[no_mangle]
pub extern "C" fn promlite_remote_write_remove(
    db: *mut promlite_db,
    name: *const c_char,
    existed: *mut c_int,
) -> c_int {
    with_db(db, |db| {
        let name = text(name, "name")?;
        let existed = args::out(existed, "existed")?;
        existed.set(c_int::from(db.remote_write_remove(name)?));
        Ok(())
    })
}

/// The names of the senders running on `db` or registered in its file,
/// sorted. On success `*out` is a list to free with `promlite_strings_free`.
#[no_mangle]
pub extern "C" fn promlite_remote_write_names(db: *mut promlite_db, out: *mut *mut promlite_strings) -> c_int {
    with_db(db, |db| {
        let out = args::out(out, "out")?;
        let names: Vec<String> = db.remote_write_stats()?.into_iter().map(|s| s.name).collect();
        out.set(promlite_strings::new(&names).into_raw());
        Ok(())
    })
}

/// The stats of sender `name` go to `*out`. `PROMLITE_INVALID_INPUT` if no
/// such sender runs or is registered.
#[no_mangle]
pub extern "C" fn promlite_remote_write_get_stats(
    db: *mut promlite_db,
    name: *const c_char,
    out: *mut promlite_remote_write_stats,
) -> c_int {
    with_db(db, |db| {
        let stats = sender_stats(db, text(name, "name")?)?;
        args::out(out, "out")?.set(promlite_remote_write_stats::from(&stats));
        Ok(())
    })
}

/// The last failure of sender `name` (a network error or the receiver's
/// answer). On success `*out` is a string to free with
/// `promlite_string_free`, or NULL if the sender has not failed.
#[no_mangle]
pub extern "C" fn promlite_remote_write_last_error(
    db: *mut promlite_db,
    name: *const c_char,
    out: *mut *mut c_char,
) -> c_int {
    with_db(db, |db| {
        let stats = sender_stats(db, text(name, "name")?)?;
        let out = args::out(out, "out")?;
        out.set(match stats.last_error {
            Some(e) => into_c_string(e)?,
            None => std::ptr::null_mut(),
        });
        Ok(())
    })
}

fn sender_stats(db: &promlite::Db, name: &str) -> Result<RemoteWriteStats, Failure> {
    db.remote_write_stats()?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| Error::invalid(format!("no remote-write sender named {name:?}")).into())
}

/// Sends the samples in `[start_ms, end_ms]` of every series `config`'s
/// keep/drop selectors let through to its URL once (with its auth,
/// headers and external labels), in the calling thread, from one
/// consistent snapshot. Works on read-only handles. On success `*out`
/// says what was sent. `PROMLITE_IO` when the receiver stays unreachable
/// after a few retries.
#[no_mangle]
pub extern "C" fn promlite_remote_write_backfill(
    db: *mut promlite_db,
    config: *const promlite_remote_write_config,
    start_ms: i64,
    end_ms: i64,
    out: *mut promlite_backfill_report,
) -> c_int {
    with_db(db, |db| {
        let config = args::handle(config, "config")?;
        let out = args::out(out, "out")?;
        let r = db.remote_write_backfill(&config.config, start_ms, end_ms)?;
        out.set(promlite_backfill_report {
            series: r.series,
            samples_sent: r.samples_sent,
            requests_sent: r.requests_sent,
            samples_dropped: r.samples_dropped,
        });
        Ok(())
    })
}
