#!/usr/bin/env node
// Builds the native addon with cargo and installs it as `promlite.node`.
// This is the package's `install` script: when promlite is installed as a
// dependency (`npm install ./bindings-node`), npm does not install its
// devDependencies, so @napi-rs/cli (`npm run build`) is not available here.
// Both paths run the same `cargo build` of crate promlite-node.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const release = process.argv.includes('--debug') ? [] : ['--release'];
const cargo = process.env.CARGO || 'cargo';

const build = spawnSync(
  cargo,
  ['build', ...release, '--lib', '--message-format=json-render-diagnostics', '--manifest-path', path.join(root, 'Cargo.toml')],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
);
if (build.error) {
  console.error(`promlite: could not run ${cargo} (${build.error.message}); installing promlite needs Rust (https://rustup.rs)`);
  process.exit(1);
}
if (build.status !== 0) {
  console.error('promlite: cargo build of the native addon failed');
  process.exit(build.status || 1);
}

// Cargo reports the library it produced; its name differs by platform
// (libpromlite_node.so / .dylib, promlite_node.dll).
const library = build.stdout
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line))
  .filter((m) => m.reason === 'compiler-artifact' && m.target.name === 'promlite_node')
  .flatMap((m) => m.filenames)
  .find((f) => /\.(so|dylib|dll)$/.test(f));
if (!library) {
  console.error('promlite: cargo did not report the promlite_node library');
  process.exit(1);
}

// Copy then rename, so a process that has the old addon loaded keeps working.
const target = path.join(root, 'promlite.node');
const staging = `${target}.${process.pid}.tmp`;
fs.copyFileSync(library, staging);
fs.renameSync(staging, target);
console.log(`promlite: built ${path.relative(root, target)}`);
