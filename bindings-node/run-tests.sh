#!/usr/bin/env bash
# Suite `node` of scripts/test-all.sh: installs the package's npm
# devDependencies, builds the native addon with @napi-rs/cli (release), runs the
# binding's Rust unit tests and the `node --test` suite. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")"

# --ignore-scripts: the install script would build the addon; `npm run build` does it next.
npm ci --no-audit --no-fund --ignore-scripts
npm run build
cargo test --release -q -p promlite-node
npm test
