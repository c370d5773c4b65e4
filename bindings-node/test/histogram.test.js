'use strict';
// Native histograms: written from an object of their fields or the
// promqltest notation, read back in the Prometheus API shape with numbers
// (core modules `histogram`, `value`).

const test = require('node:test');
const assert = require('node:assert/strict');

const promlite = require('..');
const { T0, openTemp } = require('./helpers');

const RPC = { __name__: 'rpc_seconds', job: 'api' };

test('histograms from objects and notation come back in the API shape', (t) => {
  const { db } = openTemp(t);
  db.appendHistogram(RPC, T0, {
    schema: 0,
    count: 4,
    sum: 6.5,
    zeroThreshold: 0.001,
    zeroCount: 1,
    positiveSpans: [{ offset: 0, length: 2 }],
    positiveBuckets: [1, 2],
    counterResetHint: 'not_reset',
  });
  db.appendHistogram(RPC, T0 + 60, '{{schema:0 count:10 sum:20 z_bucket:2 z_bucket_w:0.001 buckets:[3 5]}}');

  assert.deepEqual(db.query('rpc_seconds', T0 + 60), {
    resultType: 'vector',
    result: [
      {
        metric: RPC,
        histogram: [
          T0 + 60,
          { count: 10, sum: 20, buckets: [[3, -0.001, 0.001, 2], [0, 0.5, 1, 3], [0, 1, 2, 5]] },
        ],
      },
    ],
  });
  const [s] = db.query('rpc_seconds[2m]', T0 + 60).result;
  assert.ok(!('values' in s), 'only histogram samples');
  assert.deepEqual(s.histograms[0], [T0, { count: 4, sum: 6.5, buckets: [[3, -0.001, 0.001, 1], [0, 0.5, 1, 1], [0, 1, 2, 2]] }]);
  assert.equal(s.histograms[1][0], T0 + 60);
  const diff = db.query('histogram_count(rpc_seconds) - histogram_count(rpc_seconds offset 1m)', T0 + 60);
  assert.deepEqual(diff.result[0].value, [T0 + 60, 6]);
});

test('a range query over a series with both kinds, async, and custom buckets', async (t) => {
  const { db } = openTemp(t);
  db.batch((b) => {
    b.add('mixed', T0, 1).addHistogram('mixed', T0 + 30, { count: 2, sum: 1, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [2] });
    b.addHistogram('size_bytes', T0, { schema: -53, count: 3, sum: 250, customValues: [10, 100], positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 2] });
    b.addHistogram('empty', T0, {});
  });
  const [s] = (await db.queryRangeAsync('mixed', T0, T0 + 30, 30)).result;
  assert.deepEqual(s.values, [[T0, 1]]);
  assert.deepEqual(s.histograms, [[T0 + 30, { count: 2, sum: 1, buckets: [[0, 1, 2, 2]] }]]);
  const got = Object.fromEntries(
    (await db.queryAsync('{__name__=~"size_bytes|empty"}', T0)).result.map((r) => [r.metric.__name__, r.histogram[1]]),
  );
  assert.deepEqual(got.size_bytes.buckets, [[0, 10, 100, 1], [0, 100, Infinity, 2]]);
  assert.deepEqual(got.empty, { count: 0, sum: 0 }, 'no buckets without observations');
});

test('malformed histograms are refused with bad_data and nothing is written', (t) => {
  const { db } = openTemp(t);
  const refused = [
    [{ count: 3, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [1, 2] }, /spans hold 1 buckets, but 2 bucket counts/],
    [{ positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [-1] }, /negative count -1/],
    [{ schema: -53, customValues: [5, 1] }, /bounds must increase strictly/],
    [{ counterResetHint: 'maybe' }, /counterResetHint must be unknown, reset, not_reset or gauge/],
    [{ bukets: [1] }, /unknown histogram field bukets/],
    [{ positiveSpans: [[0, 1]] }, /positiveSpans must be an array of \{ offset, length \}/],
    [{ count: '3' }, /histogram field count must be a number/],
    ['{{schema:0 cont:1}}', /cont/],
    [3.5, /histogram must be an object of its fields/],
  ];
  for (const [h, message] of refused) {
    assert.throws(() => db.appendHistogram(RPC, T0, h), (err) => err.code === 'bad_data' && message.test(err.message), String(h));
  }
  const batch = new promlite.Batch().add(RPC, T0, 1);
  assert.throws(() => batch.addHistogram(RPC, T0, { positiveSpans: [{ offset: 0, length: 1 }] }), /spans hold 1 buckets, but 0/);
  assert.equal(batch.length, 1, 'the refused histogram was not added');
  assert.deepEqual(db.query('rpc_seconds', T0).result, []);
});
