'use strict';
// The *Async calls run as napi AsyncTasks on the libuv pool: same results as
// the sync calls, the event loop keeps running meanwhile, and sync calls
// proceed while they are in flight.

const assert = require('node:assert/strict');
const { performance } = require('node:perf_hooks');
const { test } = require('node:test');

const { T0, openTemp } = require('./helpers');

const POINTS = 20_000; // per series, every 15 s: about 3.5 days
const END = T0 + (POINTS - 1) * 15;
const SLOW_EXPR = 'sum(sum_over_time(load[1h]))';
const SLOW_STEP = 60;

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Fills `db` until SLOW_EXPR takes at least `minMs` to evaluate (doubling the
 * number of series), so the tests below see a query long enough to observe
 * whatever machine and build they run on. Returns the query's sync result.
 */
function makeSlowQuery(db, minMs = 150) {
  const ts = Float64Array.from({ length: POINTS }, (_, i) => T0 + i * 15);
  const vs = Float64Array.from({ length: POINTS }, (_, i) => i % 10);
  let series = 0;
  const addSeries = (n) => {
    for (let i = 0; i < n; i++) db.appendMany(`load{i="${series++}"}`, ts, vs);
  };
  addSeries(4);
  for (let round = 0; round < 8; round++) {
    const started = performance.now();
    const result = db.queryRange(SLOW_EXPR, T0, END, SLOW_STEP);
    if (performance.now() - started >= minMs) return result;
    addSeries(series);
  }
  throw new Error(`could not make ${SLOW_EXPR} take ${minMs} ms`);
}

/** `n` timestamps 1 s apart from T0 and `n` values. */
function samples(n) {
  return [Float64Array.from({ length: n }, (_, i) => T0 + i), Float64Array.from({ length: n }, (_, i) => i % 100)];
}

/** How many samples one appendMany call needs to take at least `minMs`. */
function makeSlowWrite(db, minMs = 150) {
  for (let n = 50_000, round = 0; round < 8; n *= 2, round++) {
    const started = performance.now();
    db.appendMany(`warmup{round="${round}"}`, ...samples(n));
    if (performance.now() - started >= minMs) return n;
  }
  throw new Error(`could not make appendMany take ${minMs} ms`);
}

/** Counts timer ticks while `promise` is pending; returns `[value, ticks]`. */
async function ticksDuring(promise) {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    return [await promise, ticks];
  } finally {
    clearInterval(timer);
  }
}

test('async calls give the same results as sync ones', async (t) => {
  const { db } = openTemp(t);
  const ts = [T0, T0 + 15, T0 + 30];
  assert.equal(await db.appendManyAsync('m{k="a"}', ts, [1, 2, 3]), 3);
  assert.equal(db.appendMany('m{k="b"}', Float64Array.from(ts), Float64Array.of(4, 5, 6)), 3);

  assert.deepEqual(await db.queryAsync('sum(m)', T0 + 30), db.query('sum(m)', T0 + 30));
  assert.deepEqual(await db.queryAsync('sum(m)', new Date((T0 + 30) * 1000)), {
    resultType: 'vector',
    result: [{ metric: {}, value: [T0 + 30, 9] }],
  });
  assert.deepEqual(await db.queryRangeAsync('m', T0, T0 + 30, 15), db.queryRange('m', T0, T0 + 30, 15));

  const written = await db.batchAsync((b) => b.add('n', T0, 1).add('o', T0, 2));
  assert.equal(written, 2);
  assert.deepEqual(db.labelValues('__name__'), ['m', 'n', 'o']);
});

test('async failures reject with coded errors, never throw synchronously', async (t) => {
  const { db } = openTemp(t);
  await assert.rejects(db.queryAsync('sum(up', T0), { code: 'bad_data', message: /^1:\d+: parse error: / });
  await assert.rejects(db.queryRangeAsync('up', T0, T0 + 60, 0), { code: 'bad_data' });

  const wrongType = db.queryAsync(42);
  assert.ok(wrongType instanceof Promise);
  await assert.rejects(wrongType, { code: 'bad_data', message: /expr must be a string/ });
  await assert.rejects(db.appendManyAsync({ job: 'no-name' }, [T0], [1]), { code: 'bad_data' });
  assert.deepEqual(db.labelNames(), []);

  db.close();
  await assert.rejects(db.queryAsync('1', T0), { code: 'internal', message: 'database is closed' });
});

test('the event loop keeps ticking during a long async query', async (t) => {
  const { db } = openTemp(t);
  const expected = makeSlowQuery(db);
  const [got, ticks] = await ticksDuring(db.queryRangeAsync(SLOW_EXPR, T0, END, SLOW_STEP));
  assert.deepEqual(got, expected);
  // The query takes at least 150 ms; a blocked loop would have fired the timer at most once.
  assert.ok(ticks >= 5, `timer fired ${ticks} times during the query`);
});

test('the event loop keeps ticking during a large async write', async (t) => {
  const { db } = openTemp(t);
  const n = makeSlowWrite(db);
  const [written, ticks] = await ticksDuring(db.appendManyAsync('big', ...samples(n)));
  assert.equal(written, n);
  assert.ok(ticks >= 5, `timer fired ${ticks} times during the write`);
  assert.deepEqual(db.series('big', { start: T0 + n - 1 }), [{ __name__: 'big' }]);
});

test('reads run while an async write is in flight', async (t) => {
  const { db } = openTemp(t);
  const n = makeSlowWrite(db);
  let settled = false;
  const pending = db.appendManyAsync('big', ...samples(n)).finally(() => {
    settled = true;
  });
  let reads = 0;
  while (!settled) {
    // The commit is atomic: a reader that sees the first sample sees the last.
    const firstSeen = db.series('big', { end: T0 }).length > 0;
    const lastSeen = db.series('big', { start: T0 + n - 1 }).length > 0;
    assert.ok(!firstSeen || lastSeen, 'a reader saw part of the write');
    reads++;
    await nextTurn();
  }
  assert.equal(await pending, n);
  assert.ok(reads >= 3, `only ${reads} reads completed while the write ran`);
  assert.deepEqual(db.series('big'), [{ __name__: 'big' }]);
});

test('sync calls run while an async query is in flight', async (t) => {
  const { db } = openTemp(t);
  const expected = makeSlowQuery(db);

  let settled = false;
  const pending = db.queryRangeAsync(SLOW_EXPR, T0, END, SLOW_STEP).finally(() => {
    settled = true;
  });
  let syncCalls = 0;
  while (!settled) {
    // A write and a read per turn of the loop, each completing on its own.
    db.append(`side{n="${syncCalls}"}`, T0, syncCalls);
    assert.equal(db.series('side').length, syncCalls + 1);
    syncCalls++;
    await nextTurn();
  }
  assert.deepEqual(await pending, expected);
  // Had the async job blocked the database, the first sync call would have
  // waited for it and the loop would have ended after one round.
  assert.ok(syncCalls >= 3, `only ${syncCalls} sync calls completed while the query ran`);
  assert.equal(db.query('count(side)', T0).result[0].value[1], syncCalls);
});

test('async writes and queries run concurrently and all land', async (t) => {
  const { db } = openTemp(t);
  const ts = Array.from({ length: 500 }, (_, i) => T0 + i);
  const writes = Array.from({ length: 8 }, (_, k) =>
    db.appendManyAsync(`w{k="${k}"}`, ts, ts.map(() => k)),
  );
  const queries = Array.from({ length: 4 }, () => db.queryAsync('vector(1)', T0));
  db.append('w{k="sync"}', T0 + 499, -1);

  assert.deepEqual(await Promise.all(writes), Array(8).fill(500));
  for (const q of await Promise.all(queries)) {
    assert.deepEqual(q, { resultType: 'vector', result: [{ metric: {}, value: [T0, 1] }] });
  }
  assert.deepEqual(db.query('count(w)', T0 + 499).result[0].value, [T0 + 499, 9]);
  assert.deepEqual(db.query('sum(count_over_time(w[1h]))', T0 + 499).result[0].value, [T0 + 499, 4001]);
});

test('closing while an async query runs lets it finish', async (t) => {
  const { db } = openTemp(t);
  const expected = makeSlowQuery(db);
  const pending = db.queryRangeAsync(SLOW_EXPR, T0, END, SLOW_STEP);
  db.close();
  assert.equal(db.closed, true);
  assert.deepEqual(await pending, expected);
  assert.throws(() => db.query('1', T0), { code: 'internal', message: 'database is closed' });
});
