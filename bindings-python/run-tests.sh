#!/usr/bin/env bash
# The Python suite: builds and installs the package exactly as a user would
# (`pip install ./bindings-python`) into a venv under target/, then runs pytest.
# Idempotent: the venv, pip's cache and cargo's target dir are reused.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/python-venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check --quiet)

# Test-only tools (pip does nothing when they are already installed).
"${pip[@]}" install pytest numpy pandas prometheus_client mypy

# The package itself, from source, as `pip install ./bindings-python` does.
cd "$root"
export CARGO_TARGET_DIR="$target"
"${pip[@]}" install --force-reinstall --no-deps ./bindings-python

# Run from the tests directory so `promlite` is imported from the venv, not the source tree.
cd "$here/tests"
exec "$py" -m pytest -p no:cacheprovider "$@"
