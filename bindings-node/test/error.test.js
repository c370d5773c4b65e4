'use strict';
// Errors (core `error`): every failure is an `Error` whose `code` is the
// Prometheus errorType of its kind; query errors keep their position.

const assert = require('node:assert/strict');
const { test } = require('node:test');

const { T0, openTemp } = require('./helpers');

test('parse errors are bad_data with line:col position', (t) => {
  const { db } = openTemp(t);
  assert.throws(() => db.query('sum(up', T0), (err) => {
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'bad_data');
    assert.match(err.message, /^1:\d+: parse error: /);
    return true;
  });
  assert.throws(() => db.query('sum(\n  rate(x[5m]) +)', T0), { code: 'bad_data', message: /^2:\d+: parse error: / });
  assert.throws(() => db.queryRange('rate(x)', T0, T0 + 60, 15), { code: 'bad_data', message: /parse error/ });
});

test('bad series text is a bad_data parse error with its position', (t) => {
  const { db } = openTemp(t);
  assert.throws(() => db.append('up{job=', T0, 1), { code: 'bad_data', message: /^1:\d+: parse error: / });
  assert.throws(() => db.append('up{job=~"a.*"}', T0, 1), { code: 'bad_data' });
  assert.throws(() => db.series('sum(up)'), {
    code: 'bad_data',
    message: /^1:1: parse error: expected a series selector/,
  });
  assert.throws(() => db.labelNames({ match: 'up offset 5m' }), { code: 'bad_data', message: /expected a series selector/ });
  assert.deepEqual(db.labelNames(), []);
});

test('evaluation failures are execution errors', (t) => {
  const { db } = openTemp(t);
  for (const side of ['a', 'b']) {
    db.append(`${side}{x="1",y="1"}`, T0, 1);
    db.append(`${side}{x="1",y="2"}`, T0, 2);
  }
  assert.throws(() => db.query('a + on(x) b', T0), { code: 'execution', message: /many-to-many/ });
});

test('a query over its time limit fails with timeout', (t) => {
  const { db } = openTemp(t, { queryTimeout: 1e-6 });
  db.appendMany(
    'load',
    Array.from({ length: 5000 }, (_, i) => T0 + i * 15),
    Array.from({ length: 5000 }, (_, i) => i % 7),
  );
  assert.throws(() => db.queryRange('sum_over_time(load[1h])', T0, T0 + 5000 * 15, 15), { code: 'timeout' });
});

test('a step that is not positive is bad_data', (t) => {
  const { db } = openTemp(t);
  assert.throws(() => db.queryRange('1', T0, T0 + 60, 0), { code: 'bad_data' });
  assert.throws(() => db.queryRange('1', T0, T0 + 60, -15), { code: 'bad_data' });
});

test('arguments of the wrong type are TypeErrors with code bad_data', (t) => {
  const { db } = openTemp(t);
  const cases = [
    [() => db.append(42, T0, 1), /series must be a selector string or a labels object/],
    [() => db.append({ __name__: 'x', n: 1 }, T0, 1), /label n must have a string value/],
    [() => db.append('x', 'yesterday', 1), /timestamp must be Unix seconds/],
    [() => db.append('x', new Date('nonsense'), 1), /timestamp is an invalid Date/],
    [() => db.append('x', T0, '1'), /value must be a number/],
    [() => db.appendMany('x', [T0, 'later'], [1, 2]), /timestamps\[1\] must be Unix seconds/],
    [() => db.appendMany('x', new Float32Array(1), [1]), /timestamps must be an array or a Float64Array/],
    [() => db.appendMany('x', [T0], [null]), /values\[0\] must be a number/],
    [() => db.query(), /expr must be a string/],
    [() => db.queryRange('up', T0, T0 + 1, '15s'), /step must be a number/],
    [() => db.series(), /needs at least one selector/],
    [() => db.series('up', 'today'), /series options must be an object/],
    [() => db.labelValues(3), /name must be a string/],
    [() => db.labelNames({ match: [1] }), /match\[0\] must be a string/],
    [() => db.batch('not a function'), /batch\(\) takes a function/],
    [() => db.write({}), /expected a Batch/],
  ];
  for (const [call, message] of cases) {
    assert.throws(call, (err) => {
      assert.ok(err instanceof TypeError, `${err} should be a TypeError`);
      assert.equal(err.code, 'bad_data');
      assert.match(err.message, message);
      return true;
    });
  }
});

test('numbers that are not valid times are bad_data', (t) => {
  const { db } = openTemp(t);
  assert.throws(() => db.append('x', NaN, 1), { code: 'bad_data', message: /timestamp must be a finite number/ });
  assert.throws(() => db.append('x', Infinity, 1), { code: 'bad_data' });
  assert.throws(() => db.query('1', 1e300), { code: 'bad_data', message: /time must be a finite number/ });
  assert.deepEqual(db.labelNames(), []);
});

test('an async batch callback is refused before anything is written', (t) => {
  const { db } = openTemp(t);
  assert.throws(
    () =>
      db.batch(async (b) => {
        b.add('x', T0, 1);
      }),
    { code: 'bad_data', message: /must be synchronous/ },
  );
  assert.deepEqual(db.labelNames(), []);
});
