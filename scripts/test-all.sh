#!/usr/bin/env bash
# Runs every promlite test suite: Rust (unit, integration, PromQL conformance,
# formatting, clippy),
# HTTP end-to-end with real clients, C, Python and Node. Installs what the
# suites need (apt, pip, npm packages) itself, so it works on a fresh machine.
# Exits non-zero if any suite fails; runs all suites either way.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="$PWD/target"

passed=0
failed=0
failed_names=()

suite() {
    local name=$1
    shift
    echo
    echo "=== suite: $name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== suite $name: ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "=== suite $name: FAILED ($((SECONDS - start)) s)"
    fi
}

core_builds_without_http() {
    # The core crate must not pull HTTP/async dependencies unless feature `http` is on.
    cargo check -q -p promlite || return 1
    if cargo tree -p promlite -e normal --prefix none | grep -E '^(tokio|axum|hyper|prost) '; then
        echo "core without feature http depends on the crates above" >&2
        return 1
    fi
}

rust_formatted() {
    # rustfmt.toml is the style; install rustfmt if this toolchain lacks it.
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt || return 1
    cargo fmt --all -- --check
}

# One release build with feature http serves the Rust suites (incl. the PromQL
# conformance runner `promqltest`) and the e2e tests.
suite rust cargo test --release --features promlite/http
# The PromQL conformance run again, printing its per-file lines and the
# "promqltest: P passed, F failed, S skipped" summary into the CI log.
suite promqltest cargo test -q --release --features promlite/http --test promqltest -- --nocapture
# The benchmarks, run as tests: a tiny workload, to prove they still work.
suite bench-smoke cargo test --release -p promlite-tests --benches
suite core-without-http core_builds_without_http
suite rust-docs env RUSTDOCFLAGS="-D warnings" cargo doc -q -p promlite --no-deps --features http
suite fmt rust_formatted
suite clippy cargo clippy -q --workspace --all-targets --features promlite/http -- -D warnings
suite http-e2e bash tests/e2e/run.sh
suite scaleout-e2e bash tests/scaleout/run.sh
suite c bash tests/c/run.sh
suite python bash bindings-python/run-tests.sh
suite node bash bindings-node/run-tests.sh

echo
if [ "$failed" -gt 0 ]; then
    echo "failed suites: ${failed_names[*]}"
fi
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
