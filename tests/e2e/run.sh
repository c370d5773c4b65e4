#!/usr/bin/env bash
# HTTP end-to-end suite: the promlite binary against real clients — promtool,
# Python prometheus_client, Debian's Prometheus 2.42 (remote_write), a replay
# of Grafana's calls, plus auth, limits and malformed input. Installs what it
# needs (idempotently), then runs tests/e2e/test_http.py. Everything listens on
# loopback with free ports, in temp dirs, and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    echo "e2e: installing Debian's prometheus (promtool, Prometheus 2.42)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 prometheus >/dev/null
fi

venv="$CARGO_TARGET_DIR/e2e-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import prometheus_client, requests' 2>/dev/null; then
    echo "e2e: creating the Python venv in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'prometheus_client>=0.17' 'requests>=2.28'
fi

cargo build -q --release -p promlite --features http
export PROMLITE_BIN="$CARGO_TARGET_DIR/release/promlite"
exec "$venv/bin/python" tests/e2e/test_http.py "$@"
