//! The CLI's remote-write settings: `--remote-write*` flags, `[[remote_write]]`
//! tables of the config file, starting the senders for `serve`, and the
//! `backfill` command.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use promlite::http::parse_time;
use promlite::{Db, Options, RemoteWriteConfig};

use super::duration_arg;

/// One remote-write receiver, as flags (`serve` and `backfill` share them).
#[derive(clap::Args, Debug, Default)]
pub struct RemoteWriteArgs {
    /// Send every sample written from now on to this Prometheus remote-write
    /// endpoint (Prometheus with --web.enable-remote-write-receiver, Mimir,
    /// Thanos Receive, VictoriaMetrics, Cortex). The queue lives in the
    /// database file, so nothing is lost across restarts or crashes.
    /// More receivers: [[remote_write]] tables in the config file.
    #[arg(long = "remote-write", env = "PROMLITE_REMOTE_WRITE", value_name = "URL")]
    pub url: Option<String>,

    /// Name of the sender, which keys its position in the database [default: the URL]
    #[arg(long = "remote-write-name", value_name = "NAME")]
    pub name: Option<String>,

    /// Bearer token for the receiver
    #[arg(
        long = "remote-write-bearer-token",
        env = "PROMLITE_REMOTE_WRITE_BEARER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub bearer_token: Option<String>,

    /// Basic auth for the receiver
    #[arg(
        long = "remote-write-basic-auth",
        env = "PROMLITE_REMOTE_WRITE_BASIC_AUTH",
        value_name = "USER:PASSWORD",
        hide_env_values = true
    )]
    pub basic_auth: Option<String>,

    /// Extra request header, e.g. 'X-Scope-OrgID: team-a' (repeatable)
    #[arg(long = "remote-write-header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Label added to every sent series that lacks it (repeatable)
    #[arg(long = "remote-write-external-label", value_name = "NAME=VALUE")]
    pub external_labels: Vec<String>,

    /// Send only series matching one of these selectors, e.g. '{job="api"}' (repeatable)
    #[arg(long = "remote-write-keep", value_name = "SELECTOR")]
    pub keep: Vec<String>,

    /// Do not send series matching this selector (repeatable)
    #[arg(long = "remote-write-drop", value_name = "SELECTOR")]
    pub drop: Vec<String>,

    /// Most samples per request [default: 2000]
    #[arg(long = "remote-write-batch-size", value_name = "N")]
    pub batch_size: Option<usize>,

    /// Longest a sample waits for a fuller request, e.g. 1s or 5s [default: 1s]
    #[arg(long = "remote-write-flush-interval", value_name = "DURATION", value_parser = duration_arg)]
    pub flush_interval: Option<Duration>,
}

/// A `[[remote_write]]` table of the config file.
#[derive(serde::Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteFile {
    name: Option<String>,
    url: String,
    bearer_token: Option<String>,
    basic_auth: Option<BasicAuthFile>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    keep: Vec<String>,
    #[serde(default)]
    drop: Vec<String>,
    batch_size: Option<usize>,
    flush_interval: Option<String>,
    timeout: Option<String>,
    min_backoff: Option<String>,
    max_backoff: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct BasicAuthFile {
    username: String,
    password: String,
}

fn split_pair<'a>(text: &'a str, sep: char, what: &str) -> Result<(&'a str, &'a str), String> {
    text.split_once(sep)
        .map(|(a, b)| (a.trim(), b.trim()))
        .ok_or_else(|| format!("{what} {text:?} must look like NAME{sep}VALUE"))
}

impl RemoteWriteArgs {
    /// The sender these flags describe, if `--remote-write` is given.
    pub fn config(&self) -> Result<Option<RemoteWriteConfig>, String> {
        let Some(url) = &self.url else {
            let extra = self.bearer_token.is_some() || self.basic_auth.is_some() || !self.headers.is_empty();
            return if extra { Err("--remote-write-* settings need --remote-write URL".into()) } else { Ok(None) };
        };
        let mut c = RemoteWriteConfig::new(self.name.clone().unwrap_or_else(|| url.clone()), url.clone());
        if let Some(token) = &self.bearer_token {
            c = c.bearer_token(token.clone());
        }
        if let Some(pair) = &self.basic_auth {
            let (user, password) =
                pair.split_once(':').ok_or("--remote-write-basic-auth must look like USER:PASSWORD")?;
            c = c.basic_auth(user, password);
        }
        for h in &self.headers {
            let (n, v) = split_pair(h, ':', "--remote-write-header")?;
            c = c.header(n, v);
        }
        for l in &self.external_labels {
            let (n, v) = split_pair(l, '=', "--remote-write-external-label")?;
            c = c.external_label(n, v);
        }
        c.keep.clone_from(&self.keep);
        c.drop.clone_from(&self.drop);
        if let Some(n) = self.batch_size {
            c = c.batch_size(n);
        }
        if let Some(d) = self.flush_interval {
            c = c.flush_interval(d);
        }
        Ok(Some(c))
    }
}

impl RemoteWriteFile {
    pub fn config(&self) -> Result<RemoteWriteConfig, String> {
        let mut c = RemoteWriteConfig::new(self.name.clone().unwrap_or_else(|| self.url.clone()), self.url.clone());
        match (&self.bearer_token, &self.basic_auth) {
            (Some(_), Some(_)) => {
                return Err(format!("remote_write {}: bearer_token and basic_auth exclude each other", c.name))
            }
            (Some(token), None) => c = c.bearer_token(token.clone()),
            (None, Some(b)) => c = c.basic_auth(b.username.clone(), b.password.clone()),
            (None, None) => {}
        }
        c.headers = self.headers.clone().into_iter().collect();
        c.external_labels = self.external_labels.clone().into_iter().collect();
        c.keep.clone_from(&self.keep);
        c.drop.clone_from(&self.drop);
        if let Some(n) = self.batch_size {
            c.batch_size = n;
        }
        let duration = |field: &str, text: &Option<String>, into: &mut Duration| -> Result<(), String> {
            if let Some(t) = text {
                *into = duration_arg(t).map_err(|e| format!("remote_write {} {field}: {e}", c.name))?;
            }
            Ok(())
        };
        let (mut flush, mut timeout, mut min, mut max) = (c.flush_interval, c.timeout, c.min_backoff, c.max_backoff);
        duration("flush_interval", &self.flush_interval, &mut flush)?;
        duration("timeout", &self.timeout, &mut timeout)?;
        duration("min_backoff", &self.min_backoff, &mut min)?;
        duration("max_backoff", &self.max_backoff, &mut max)?;
        Ok(c.flush_interval(flush).timeout(timeout).backoff(min, max))
    }
}

/// Makes the database's senders exactly `configured`: senders registered in
/// the file by an earlier run but no longer configured are removed (with
/// their unsent backlog, as Prometheus drops the queue of a removed
/// `remote_write`), then every configured one is started.
pub fn start_senders(db: &Db, configured: Vec<RemoteWriteConfig>) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for c in &configured {
        if !names.insert(c.name.clone()) {
            return Err(format!("two remote-write senders are named {:?}; give them different names", c.name));
        }
    }
    let stored = db.remote_write_stats().map_err(|e| e.to_string())?;
    for old in stored.iter().filter(|s| !names.contains(&s.name)) {
        log::warn!(
            "remote write {:?} ({}) is no longer configured: removing it and its {} unsent samples",
            old.name,
            old.url,
            old.pending_samples
        );
        db.remote_write_remove(&old.name).map_err(|e| e.to_string())?;
    }
    for c in configured {
        let (name, url) = (c.name.clone(), c.url.clone());
        db.remote_write_add(c).map_err(|e| e.to_string())?;
        log::info!("remote write {name:?}: sending to {url}");
    }
    Ok(())
}

/// `promlite backfill`: send stored history to a remote-write receiver once.
#[derive(clap::Args, Debug)]
pub struct BackfillArgs {
    /// Database file (opened read-only, so a server may keep running on it) [default: ./promlite.db]
    #[arg(long, env = "PROMLITE_DB", value_name = "PATH")]
    db: Option<PathBuf>,

    /// Start of the range: RFC 3339 or Unix seconds
    #[arg(long, value_name = "TIME")]
    start: String,

    /// End of the range: RFC 3339 or Unix seconds [default: now]
    #[arg(long, value_name = "TIME")]
    end: Option<String>,

    #[command(flatten)]
    remote: RemoteWriteArgs,
}

pub fn backfill(args: BackfillArgs) -> Result<(), String> {
    let config = args.remote.config()?.ok_or("backfill needs --remote-write URL")?;
    let start = parse_time(&args.start).map_err(|e| format!("--start: {e}"))?;
    let end = match &args.end {
        Some(t) => parse_time(t).map_err(|e| format!("--end: {e}"))?,
        None => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
    };
    let path = args.db.unwrap_or_else(|| PathBuf::from("./promlite.db"));
    let db = Db::open_with(&path, Options::default().read_only(true))
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let report = db.remote_write_backfill(&config, start, end).map_err(|e| e.to_string())?;
    println!(
        "backfill to {}: {} series, {} samples sent in {} requests, {} samples refused by the receiver",
        config.url, report.series, report.samples_sent, report.requests_sent, report.samples_dropped
    );
    if report.samples_dropped > 0 {
        return Err("the receiver refused some samples (see the errors above)".into());
    }
    Ok(())
}

/// Prints log records of the library (the remote-write senders) to stderr.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("promlite: {}: {}", record.level().as_str().to_ascii_lowercase(), record.args());
        }
    }

    fn flush(&self) {}
}

pub fn install_logger() {
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_file_tables_become_sender_configs() {
        let args = RemoteWriteArgs {
            url: Some("http://127.0.0.1:9/api/v1/write".into()),
            basic_auth: Some("me:pa:ss".into()),
            headers: vec!["X-Scope-OrgID: team".into()],
            external_labels: vec!["replica=a".into()],
            keep: vec![r#"{job="api"}"#.into()],
            batch_size: Some(10),
            ..RemoteWriteArgs::default()
        };
        let c = args.config().unwrap().unwrap();
        assert_eq!(c.name, "http://127.0.0.1:9/api/v1/write", "named after the URL by default");
        assert_eq!(c.auth, promlite::RemoteAuth::Basic { username: "me".into(), password: "pa:ss".into() });
        assert_eq!(c.headers, [("X-Scope-OrgID".to_string(), "team".to_string())]);
        assert_eq!(c.external_labels, [("replica".to_string(), "a".to_string())]);
        assert_eq!((c.keep.len(), c.batch_size), (1, 10));
        let bad = RemoteWriteArgs {
            url: Some("http://x/w".into()),
            headers: vec!["nocolon".into()],
            ..RemoteWriteArgs::default()
        };
        assert!(bad.config().unwrap_err().contains("NAME:VALUE"));
        let orphan = RemoteWriteArgs { bearer_token: Some("t".into()), ..RemoteWriteArgs::default() };
        assert!(orphan.config().is_err());

        let file: RemoteWriteFile = toml::from_str(
            "name = \"mimir\"\nurl = \"https://m.example/api/v1/push\"\nbearer_token = \"t\"\nflush_interval = \"5s\"\n\
             headers = { \"X-Scope-OrgID\" = \"team\" }\nexternal_labels = { cluster = \"eu\" }\ndrop = ['{__name__=~\"go_.*\"}']\n",
        )
        .unwrap();
        let c = file.config().unwrap();
        assert_eq!((c.name.as_str(), c.flush_interval), ("mimir", Duration::from_secs(5)));
        assert_eq!(c.auth, promlite::RemoteAuth::Bearer("t".into()));
        assert_eq!(c.drop, [r#"{__name__=~"go_.*"}"#]);
        assert!(toml::from_str::<RemoteWriteFile>("url = \"http://x/w\"\nbogus = 1\n").is_err());
    }
}
