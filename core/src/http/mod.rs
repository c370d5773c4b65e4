//! The Prometheus HTTP API server (feature `http`).
//!
//! Serves one [`Db`] over the Prometheus query API, a Pushgateway-compatible
//! push API, the remote-write receiver, `/federate` and remote read, with
//! token auth and limits.
//!
//! ```no_run
//! use std::sync::Arc;
//! use promlite::http::{ServerConfig, ServerHandle};
//!
//! let db = Arc::new(promlite::Db::open("metrics.db")?);
//! let config = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() };
//! let server = ServerHandle::spawn(db, config)?;
//! println!("serving on http://{}", server.local_addr());
//! server.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod api;
mod auth;
mod federate;
mod federate_protobuf;
mod params;
mod push;
mod remote_read;
mod remote_write;
mod response;
mod telemetry;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;

use crate::db::Db;
use auth::{Auth, Scope};
use telemetry::Telemetry;

pub use crate::remote::prompb;
pub use params::{parse_duration, parse_time};

/// Settings of the HTTP server. Build it with struct update syntax from
/// [`ServerConfig::default`] so new fields don't break callers.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (`127.0.0.1:9090` by default; port 0 picks a free port).
    pub listen: SocketAddr,
    /// Tokens that may query. When any token (read or write) is configured,
    /// every endpoint except `/-/healthy` and `/-/ready` requires one.
    pub read_tokens: Vec<String>,
    /// Tokens that may push and remote-write.
    pub write_tokens: Vec<String>,
    /// Largest accepted request body, in bytes, after gzip decoding (413 beyond).
    pub max_body_bytes: usize,
    /// Largest accepted remote-write payload after snappy decoding (413 beyond).
    pub max_decoded_bytes: usize,
    /// Longest a query may run; a request's `timeout` parameter can only lower it.
    pub query_timeout: Duration,
    /// Most samples a query may hold in memory (422 beyond).
    pub max_samples: usize,
    /// Queries evaluated at once; more wait for a slot.
    pub max_concurrent_queries: usize,
    /// Requests handled at once over all endpoints; more wait.
    pub max_concurrent_requests: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            read_tokens: Vec::new(),
            write_tokens: Vec::new(),
            max_body_bytes: 32 << 20,
            max_decoded_bytes: 64 << 20,
            query_timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            max_concurrent_queries: 20,
            max_concurrent_requests: 512,
        }
    }
}

/// Everything a handler needs, shared by all requests.
pub(crate) struct AppState {
    pub db: Arc<Db>,
    pub config: ServerConfig,
    pub auth: Auth,
    pub telemetry: Telemetry,
    pub query_slots: Semaphore,
    /// Serializes push read-modify-write cycles on group membership; holds
    /// the time of the last push so each push gets a later timestamp.
    pub push_lock: tokio::sync::Mutex<i64>,
}

pub(crate) type State = Arc<AppState>;

/// The axum router serving `db` with `config` (for embedding in another server).
pub fn router(db: Arc<Db>, config: ServerConfig) -> Router {
    let state: State = Arc::new(AppState {
        auth: Auth::new(&config.read_tokens, &config.write_tokens),
        telemetry: Telemetry::new(),
        query_slots: Semaphore::new(config.max_concurrent_queries.max(1)),
        push_lock: tokio::sync::Mutex::new(i64::MIN),
        db,
        config,
    });

    let read = Router::new()
        .route("/api/v1/query", get(api::query).post(api::query))
        .route("/api/v1/query_range", get(api::query_range).post(api::query_range))
        .route("/api/v1/series", get(api::series).post(api::series))
        .route("/api/v1/labels", get(api::labels).post(api::labels))
        .route("/api/v1/label/{name}/values", get(api::label_values))
        .route("/api/v1/metadata", get(api::metadata))
        .route("/api/v1/status/buildinfo", get(api::buildinfo))
        .route("/api/v1/format_query", get(api::format_query).post(api::format_query))
        .route("/api/v1/query_exemplars", get(api::query_exemplars).post(api::query_exemplars))
        .route("/api/v1/rules", get(api::rules))
        .route("/api/v1/alerts", get(api::alerts))
        .route("/metrics", get(telemetry::handler))
        .route("/federate", get(federate::handler))
        .route("/api/v1/read", post(remote_read::handler))
        .route_layer(axum::middleware::from_fn_with_state((state.clone(), Scope::Read), auth::require));
    let write = Router::new()
        .route("/metrics/{*grouping}", axum::routing::put(push::handle).post(push::handle).delete(push::handle))
        .route("/api/v1/write", post(remote_write::handler))
        .route_layer(axum::middleware::from_fn_with_state((state.clone(), Scope::Write), auth::require));
    let open = Router::new()
        .route("/-/healthy", get(|| async { "promlite is Healthy.\n" }))
        .route("/-/ready", get(|| async { "promlite is Ready.\n" }));

    read.merge(write)
        .merge(open)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), telemetry::track))
        .layer(tower_http::decompression::RequestDecompressionLayer::new().pass_through_unaccepted(true))
        .layer(tower::limit::ConcurrencyLimitLayer::new(state.config.max_concurrent_requests.max(1)))
        .with_state(state)
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
}

impl Server {
    /// Binds `config.listen` and prepares the routes. Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind(db: Arc<Db>, config: ServerConfig) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        Ok(Server { listener, app: router(db, config) })
    }

    /// The address actually bound (useful with port 0).
    ///
    /// # Errors
    /// The socket's address cannot be read.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    ///
    /// # Errors
    /// Accepting connections failed.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.app).with_graceful_shutdown(shutdown).await
    }
}

/// A server running on its own thread and Tokio runtime; for tests, benchmarks
/// and embedding in programs that are not async.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl ServerHandle {
    /// Binds and starts serving in the background.
    ///
    /// # Errors
    /// The runtime cannot start or the address cannot be bound.
    pub fn spawn(db: Arc<Db>, config: ServerConfig) -> std::io::Result<ServerHandle> {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let server = runtime.block_on(Server::bind(db, config))?;
        let addr = server.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("promlite-http".into()).spawn(move || {
            runtime.block_on(server.run(async {
                let _ = stopped.await;
            }))
        })?;
        Ok(ServerHandle { addr, stop: Some(stop), thread: Some(thread) })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, waits for in-flight requests, and joins the server thread.
    ///
    /// # Errors
    /// The server failed while running.
    pub fn shutdown(mut self) -> std::io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(std::io::Error::other("server thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_millis() as i64
}

/// Runs storage work off the async threads; a panic in it becomes an internal error.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> crate::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(crate::Error::Io(std::io::Error::other(format!("request handler failed: {e}")))))
}

/// Bytes of an oversized body still read (and dropped) before answering 413,
/// so the client sees the answer instead of a reset connection.
const DRAIN_BYTES: usize = 8 << 20;

/// Why a request body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the limit (bytes after gzip decoding).
    TooLarge(usize),
    /// The connection or the gzip stream failed.
    Read(String),
}

impl BodyError {
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            BodyError::TooLarge(_) => axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Read(_) => axum::http::StatusCode::BAD_REQUEST,
        }
    }

    pub fn message(&self) -> String {
        match self {
            BodyError::TooLarge(limit) => {
                format!("request body exceeds the limit of {limit} bytes")
            }
            BodyError::Read(e) => format!("cannot read the request body: {e}"),
        }
    }
}

/// Reads a whole body of at most `limit` bytes.
pub(crate) async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt;
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total <= limit {
            buf.extend_from_slice(&data);
        } else if total > limit.saturating_add(DRAIN_BYTES) {
            break;
        }
    }
    if total > limit {
        return Err(BodyError::TooLarge(limit));
    }
    Ok(Bytes::from(buf))
}
