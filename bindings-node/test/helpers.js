'use strict';
// Shared test fixtures: a fresh database file per test, removed afterwards.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const promlite = require('..');

/** A fixed time (Unix seconds) most tests write around. */
const T0 = 1_700_000_000;

/** A new empty directory, removed when the test `t` ends. */
function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promlite-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a new database file for test `t`; closed and removed when it ends. */
function openTemp(t, options) {
  const file = path.join(tempDir(t), 'metrics.db');
  const db = promlite.open(file, options);
  t.after(() => db.close());
  return { db, file };
}

/** Label sets sorted by their JSON, for order-independent comparisons. */
function sortedLabels(list) {
  return [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

module.exports = { T0, tempDir, openTemp, sortedLabels };
