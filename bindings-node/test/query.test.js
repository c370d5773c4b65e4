'use strict';
// Queries (core `eval`): results come back in the Prometheus API `data` shape
// with numeric timestamps (Unix seconds) and values.

const assert = require('node:assert/strict');
const { test } = require('node:test');

const { T0, openTemp } = require('./helpers');

test('instant vector: { resultType, result: [{ metric, value: [t, v] }] }', (t) => {
  const { db } = openTemp(t);
  db.append('up{job="api"}', T0 - 10, 1);
  db.append('up{job="web"}', T0 - 10, 0);

  const got = db.query('up', T0);
  assert.equal(got.resultType, 'vector');
  got.result.sort((a, b) => a.metric.job.localeCompare(b.metric.job));
  assert.deepEqual(got, {
    resultType: 'vector',
    result: [
      { metric: { __name__: 'up', job: 'api' }, value: [T0, 1] },
      { metric: { __name__: 'up', job: 'web' }, value: [T0, 0] },
    ],
  });

  assert.deepEqual(db.query('sum by (job) (up{job="api"}) * 3', new Date(T0 * 1000)), {
    resultType: 'vector',
    result: [{ metric: { job: 'api' }, value: [T0, 3] }],
  });
});

test('scalars and strings keep the API shape', (t) => {
  const { db } = openTemp(t);
  assert.deepEqual(db.query('1 + 2.5', T0), { resultType: 'scalar', result: [T0, 3.5] });
  assert.deepEqual(db.query('"hello"', T0 + 0.5), { resultType: 'string', result: [T0 + 0.5, 'hello'] });

  const [, nan] = db.query('NaN', T0).result;
  assert.ok(Number.isNaN(nan));
  assert.equal(db.query('-Inf', T0).result[1], -Infinity);
});

test('query time defaults to now', (t) => {
  const { db } = openTemp(t);
  const now = Date.now() / 1000;
  db.append('fresh', now - 5, 7);
  const got = db.query('fresh');
  assert.equal(got.result.length, 1);
  assert.equal(got.result[0].value[1], 7);
  const [evaluatedAt] = got.result[0].value;
  assert.ok(evaluatedAt >= now && evaluatedAt < now + 60, `evaluated at ${evaluatedAt}, expected about ${now}`);
});

test('queryRange returns a matrix of [t, v] pairs', (t) => {
  const { db } = openTemp(t);
  db.appendMany('c{i="1"}', [T0, T0 + 15, T0 + 30, T0 + 45, T0 + 60], [0, 10, 20, 30, 40]);

  assert.deepEqual(db.queryRange('c', T0, T0 + 60, 15), {
    resultType: 'matrix',
    result: [
      {
        metric: { __name__: 'c', i: '1' },
        values: [
          [T0, 0],
          [T0 + 15, 10],
          [T0 + 30, 20],
          [T0 + 45, 30],
          [T0 + 60, 40],
        ],
      },
    ],
  });

  // Fractional steps and Date bounds.
  const half = db.queryRange('c * 2', new Date(T0 * 1000), T0 + 1, 0.5);
  assert.deepEqual(half.result[0].values, [
    [T0, 0],
    [T0 + 0.5, 0],
    [T0 + 1, 0],
  ]);
  assert.deepEqual(half.result[0].metric, { i: '1' });
});

test('range functions evaluate as in Prometheus', (t) => {
  const { db } = openTemp(t);
  const ts = Array.from({ length: 21 }, (_, i) => T0 + i * 15);
  db.appendMany('requests_total{job="api"}', ts, ts.map((_, i) => i * 30));

  // 30 per 15 s is 2 per second.
  const rate = db.query('rate(requests_total[2m])', T0 + 300);
  assert.equal(rate.result.length, 1);
  assert.deepEqual(rate.result[0].metric, { job: 'api' });
  assert.ok(Math.abs(rate.result[0].value[1] - 2) < 1e-9, `rate was ${rate.result[0].value[1]}`);

  assert.deepEqual(db.query('max_over_time(requests_total[1m])', T0 + 300).result[0].value, [T0 + 300, 600]);
});
