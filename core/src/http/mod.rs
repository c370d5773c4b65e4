//! The Prometheus HTTP API server (feature `http`).
