#!/usr/bin/env bash
# Scale-out suite: the promlite binary against Debian's Prometheus 2.42 as a
# remote-write receiver (same query results; kill -9 mid-send, restart, every
# sample exactly once), as a /federate scraper and as a remote_read client.
# Installs Prometheus if missing (idempotent), builds the release binary and
# runs tests/scaleout/test_scaleout.py (Python standard library only).
# Everything listens on 127.0.0.1 with free ports, in temp dirs, and is
# stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if ! command -v prometheus >/dev/null; then
    echo "scaleout: installing Debian's prometheus (Prometheus 2.42)"
    apt-get update -qq -o DPkg::Lock::Timeout=600
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 prometheus >/dev/null
fi

cargo build -q --release -p promlite --features http
export PROMLITE_BIN="$CARGO_TARGET_DIR/release/promlite"
exec python3 tests/scaleout/test_scaleout.py "$@"
