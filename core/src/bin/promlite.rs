//! The `promlite` command: serves a database over the Prometheus HTTP API,
//! feeding remote-write receivers, and backfills history to them.

#[path = "promlite/remote_write.rs"]
mod remote_write;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use promlite::http::{parse_duration, Server, ServerConfig};
use promlite::{Db, RemoteWriteConfig};
use remote_write::{BackfillArgs, RemoteWriteArgs, RemoteWriteFile};

/// promlite — the SQLite of metrics: Prometheus-style time series in one SQLite file.
#[derive(Parser, Debug)]
#[command(
    name = "promlite",
    version,
    about,
    long_about = None,
    after_help = "Start a server on ./promlite.db at http://127.0.0.1:9090:\n  promlite serve\n\nRun `promlite serve --help` for every setting (auth tokens, limits, config file, environment)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve a database over the Prometheus HTTP API (query API, Pushgateway-style
    /// push at /metrics/job/..., remote write at /api/v1/write, own metrics at /metrics).
    ///
    /// Settings come from the command line, else the environment, else the
    /// config file, else the defaults. Tokens from all three are combined. When
    /// any token is set, every endpoint except /-/healthy and /-/ready needs one:
    /// read tokens may query, write tokens may push and remote-write. A token is
    /// sent as the Basic auth password (any user name) or as `Authorization:
    /// Bearer TOKEN`. Prefer the environment or the config file for tokens: the
    /// command line is visible to other local users.
    ///
    /// With --remote-write (or [[remote_write]] tables in the config file),
    /// every sample written from then on is also sent to those receivers.
    /// The senders configured are the database's senders: one registered by
    /// an earlier run but no longer configured is removed with its backlog.
    ///
    /// SIGINT or SIGTERM stops the server gracefully: in-flight requests finish,
    /// everything written is committed, and the database is closed.
    Serve(ServeArgs),
    /// Send the stored samples of a time range to a remote-write receiver
    /// once (e.g. history for a new receiver). Opens the database read-only,
    /// so a server may keep running on it. Takes the same --remote-write-*
    /// settings as `serve`; --remote-write-keep narrows the series.
    Backfill(BackfillArgs),
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Database file (created if missing) [default: ./promlite.db]
    #[arg(long, env = "PROMLITE_DB", value_name = "PATH")]
    db: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:9090]
    #[arg(long, env = "PROMLITE_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,

    /// Token allowed to query (repeatable; the variable takes a comma-separated list)
    #[arg(
        long = "read-token",
        env = "PROMLITE_READ_TOKENS",
        value_name = "TOKEN",
        value_delimiter = ',',
        hide_env_values = true
    )]
    read_tokens: Vec<String>,

    /// Token allowed to push and remote-write (repeatable; the variable takes a comma-separated list)
    #[arg(
        long = "write-token",
        env = "PROMLITE_WRITE_TOKENS",
        value_name = "TOKEN",
        value_delimiter = ',',
        hide_env_values = true
    )]
    write_tokens: Vec<String>,

    /// TOML config file with any of: db, listen, read_tokens, write_tokens,
    /// max_body_bytes, query_timeout, max_samples, max_concurrent_queries,
    /// and [[remote_write]] tables (name, url, bearer_token, basic_auth =
    /// { username, password }, headers, external_labels, keep, drop,
    /// batch_size, flush_interval, timeout, min_backoff, max_backoff)
    #[arg(long, env = "PROMLITE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Largest accepted request body in bytes, after gzip decoding; larger get 413 [default: 33554432]
    #[arg(long, env = "PROMLITE_MAX_BODY_BYTES", value_name = "BYTES")]
    max_body_bytes: Option<usize>,

    /// Longest a query may run, e.g. 30s or 2m; longer get 503 timeout [default: 2m]
    #[arg(long, env = "PROMLITE_QUERY_TIMEOUT", value_name = "DURATION", value_parser = duration_arg)]
    query_timeout: Option<Duration>,

    /// Most samples a query may load into memory; more get 422 [default: 50000000]
    #[arg(long, env = "PROMLITE_MAX_SAMPLES", value_name = "N")]
    max_samples: Option<usize>,

    /// Queries evaluated at once; more wait for a slot [default: 20]
    #[arg(long, env = "PROMLITE_MAX_CONCURRENT_QUERIES", value_name = "N")]
    max_concurrent_queries: Option<usize>,

    #[command(flatten)]
    remote_write: RemoteWriteArgs,
}

/// The config file: the same settings as the flags.
#[derive(serde::Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    db: Option<PathBuf>,
    listen: Option<SocketAddr>,
    #[serde(default)]
    read_tokens: Vec<String>,
    #[serde(default)]
    write_tokens: Vec<String>,
    max_body_bytes: Option<usize>,
    query_timeout: Option<String>,
    max_samples: Option<usize>,
    max_concurrent_queries: Option<usize>,
    #[serde(default)]
    remote_write: Vec<RemoteWriteFile>,
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    let ms = parse_duration(s)?;
    if ms <= 0 {
        return Err(format!("{s:?} must be positive"));
    }
    Ok(Duration::from_millis(ms as u64))
}

fn read_config(path: &Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("invalid config file {}: {e}", path.display()))
}

/// What `serve` runs with.
struct Resolved {
    db: PathBuf,
    server: ServerConfig,
    /// The flag's sender first, then the config file's.
    senders: Vec<RemoteWriteConfig>,
}

/// Merges flags/environment over the config file over the defaults.
fn resolve(args: ServeArgs) -> Result<Resolved, String> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => ConfigFile::default(),
    };
    let defaults = ServerConfig::default();
    let query_timeout = match (args.query_timeout, &file.query_timeout) {
        (Some(d), _) => d,
        (None, Some(s)) => duration_arg(s).map_err(|e| format!("config file query_timeout: {e}"))?,
        (None, None) => defaults.query_timeout,
    };
    let mut read_tokens = args.read_tokens;
    read_tokens.extend(file.read_tokens);
    let mut write_tokens = args.write_tokens;
    write_tokens.extend(file.write_tokens);
    let config = ServerConfig {
        listen: args.listen.or(file.listen).unwrap_or(defaults.listen),
        read_tokens,
        write_tokens,
        max_body_bytes: args.max_body_bytes.or(file.max_body_bytes).unwrap_or(defaults.max_body_bytes),
        query_timeout,
        max_samples: args.max_samples.or(file.max_samples).unwrap_or(defaults.max_samples),
        max_concurrent_queries: args
            .max_concurrent_queries
            .or(file.max_concurrent_queries)
            .unwrap_or(defaults.max_concurrent_queries),
        ..defaults
    };
    let db = args.db.or(file.db).unwrap_or_else(|| PathBuf::from("./promlite.db"));
    let mut senders: Vec<RemoteWriteConfig> = args.remote_write.config()?.into_iter().collect();
    for table in &file.remote_write {
        senders.push(table.config()?);
    }
    Ok(Resolved { db, server: config, senders })
}

/// Completes on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    eprintln!("promlite: shutting down");
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let Resolved { db: path, server: config, senders } = resolve(args)?;
    let db = Db::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    remote_write::start_senders(&db, senders)?;
    let db = Arc::new(db);
    if config.read_tokens.is_empty() != config.write_tokens.is_empty() {
        let missing = if config.read_tokens.is_empty() { "read" } else { "write" };
        eprintln!("promlite: warning: auth is on but no {missing} token is set, so every {missing} request is refused");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let listen = config.listen;
        let auth = if config.read_tokens.is_empty() && config.write_tokens.is_empty() { "off" } else { "on" };
        let server = Server::bind(db.clone(), config).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let addr = server.local_addr().map_err(|e| e.to_string())?;
        eprintln!("promlite: serving {} on http://{addr} (auth {auth})", path.display());
        server.run(shutdown_signal()).await.map_err(|e| format!("server failed: {e}"))
    })?;
    drop(runtime);
    match Arc::try_unwrap(db) {
        Ok(db) => db.close().map_err(|e| format!("closing {}: {e}", path.display()))?,
        Err(db) => drop(db),
    }
    eprintln!("promlite: database closed");
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    remote_write::install_logger();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Backfill(args) => remote_write::backfill(args),
    };
    if let Err(e) = result {
        eprintln!("promlite: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_config_file_and_tokens_combine() {
        let dir = std::env::temp_dir().join(format!("promlite-cli-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("promlite.toml");
        std::fs::write(&file, "db = \"/tmp/x.db\"\nlisten = \"127.0.0.1:1234\"\nread_tokens = [\"r-file\"]\nquery_timeout = \"30s\"\nmax_samples = 7\n").unwrap();
        let cli = Cli::try_parse_from([
            "promlite",
            "serve",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--read-token",
            "r-cli",
            "--write-token",
            "w1",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        let Resolved { db, server: config, senders } = resolve(args).unwrap();
        assert_eq!(db, PathBuf::from("/tmp/x.db"));
        assert!(senders.is_empty());
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.read_tokens, ["r-cli", "r-file"]);
        assert_eq!(config.write_tokens, ["w1"]);
        assert_eq!(config.query_timeout, Duration::from_secs(30));
        assert_eq!(config.max_samples, 7);
        std::fs::write(&file, "unknown_key = 1\n").unwrap();
        let cli = Cli::try_parse_from(["promlite", "serve", "--config", file.to_str().unwrap()]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert!(resolve(args).is_err_and(|e| e.contains("unknown field")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn remote_write_senders_come_from_the_flags_and_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("promlite.toml");
        std::fs::write(
            &file,
            "[[remote_write]]\nname = \"mimir\"\nurl = \"https://m.example/api/v1/push\"\nbasic_auth = { username = \"u\", password = \"p\" }\n\
             [[remote_write]]\nurl = \"http://127.0.0.1:9/api/v1/write\"\nbatch_size = 5\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "promlite",
            "serve",
            "--config",
            file.to_str().unwrap(),
            "--remote-write",
            "http://127.0.0.1:8/api/v1/write",
            "--remote-write-name",
            "local",
            "--remote-write-bearer-token",
            "tok",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        let senders = resolve(args).unwrap().senders;
        let names: Vec<&str> = senders.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["local", "mimir", "http://127.0.0.1:9/api/v1/write"]);
        assert_eq!(senders[1].auth, promlite::RemoteAuth::Basic { username: "u".into(), password: "p".into() });
        assert_eq!(senders[2].batch_size, 5);

        std::fs::write(&file, "[[remote_write]]\nurl = \"http://x/w\"\nflush_interval = \"soon\"\n").unwrap();
        let cli = Cli::try_parse_from(["promlite", "serve", "--config", file.to_str().unwrap()]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert!(resolve(args).is_err_and(|e| e.contains("flush_interval")));
    }

    #[test]
    fn help_documents_every_setting() {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd.find_subcommand_mut("serve").unwrap().render_long_help().to_string();
        for flag in [
            "--db",
            "--listen",
            "--read-token",
            "--write-token",
            "--config",
            "--max-body-bytes",
            "--query-timeout",
            "--max-samples",
            "--max-concurrent-queries",
            "PROMLITE_READ_TOKENS",
            "SIGTERM",
            "--remote-write",
            "--remote-write-name",
            "--remote-write-bearer-token",
            "--remote-write-basic-auth",
            "--remote-write-header",
            "--remote-write-external-label",
            "--remote-write-keep",
            "--remote-write-drop",
            "--remote-write-batch-size",
            "--remote-write-flush-interval",
            "[[remote_write]]",
        ] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
    }
}
