#!/usr/bin/env node
// What the JS binding costs on top of core, as ratios measured in one run:
// writes from plain arrays and per-sample `add` calls against the same data
// passed as Float64Arrays, and async calls against their sync twins.
// Run: node bench/binding.js   (after `npm run build`)
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const promlite = require('..');

const SERIES = 10;
const POINTS = 100_000;
const T0 = 1_700_000_000;
const REPEAT = 5;

function freshDb(dir, name) {
  return promlite.open(path.join(dir, `${name}.db`), { fsyncOnCommit: false });
}

/** Median wall time in ms of `REPEAT` runs of `run(db)`, each on a fresh file (after `setup`). */
async function median(dir, name, run, setup = () => {}) {
  const times = [];
  for (let i = 0; i < REPEAT; i++) {
    const db = freshDb(dir, `${name}${i}`);
    setup(db);
    const started = performance.now();
    await run(db);
    times.push(performance.now() - started);
    db.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(REPEAT / 2)];
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promlite-bench-'));
  try {
    const ts = Float64Array.from({ length: POINTS }, (_, i) => T0 + i * 15);
    const vs = Float64Array.from({ length: POINTS }, (_, i) => (i * 7) % 1000);
    const tsArray = Array.from(ts);
    const vsArray = Array.from(vs);
    const fill = (db) => {
      for (let s = 0; s < SERIES; s++) db.appendMany(`m{s="${s}"}`, ts, vs);
    };

    const typed = await median(dir, 'typed', fill);
    const arrays = await median(dir, 'arrays', (db) => {
      for (let s = 0; s < SERIES; s++) db.appendMany(`m{s="${s}"}`, tsArray, vsArray);
    });
    const adds = await median(dir, 'adds', (db) =>
      db.batch((b) => {
        for (let s = 0; s < SERIES; s++) {
          const series = `m{s="${s}"}`;
          for (let i = 0; i < POINTS; i++) b.add(series, ts[i], vs[i]);
        }
      }),
    );
    const writeAsync = await median(dir, 'async', (db) =>
      Promise.all(Array.from({ length: SERIES }, (_, s) => db.appendManyAsync(`m{s="${s}"}`, ts, vs))),
    );

    const end = T0 + (POINTS - 1) * 15;
    const query = 'm';
    const sync = await median(dir, 'qsync', (db) => db.queryRange(query, T0, end, 60), fill);
    const async_ = await median(dir, 'qasync', (db) => db.queryRangeAsync(query, T0, end, 60), fill);

    const samples = SERIES * POINTS;
    const line = (what, ms, base) =>
      console.log(`${what.padEnd(46)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / base).toFixed(2)}x`);
    console.log(`${samples} samples in ${SERIES} series; median of ${REPEAT}; ratio to the first line of each group`);
    line('appendMany(Float64Array)', typed, typed);
    line('appendMany(Array)', arrays, typed);
    line('batch of Batch.add per sample', adds, typed);
    line('appendManyAsync(Float64Array), all at once', writeAsync, typed);
    line(`queryRange('${query}', step 60 s)`, sync, sync);
    line(`queryRangeAsync('${query}', step 60 s)`, async_, sync);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
