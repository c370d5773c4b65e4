'use strict';
// The Database API over storage (core `db`): opening, writing in every
// accepted form, metadata lookups, deletion, closing. No PromQL needed here.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const promlite = require('..');
const { T0, tempDir, openTemp, sortedLabels } = require('./helpers');

test('append takes selector text or a labels object, with seconds or a Date', (t) => {
  const { db } = openTemp(t);
  db.append('up{job="api",instance="a"}', T0, 1);
  db.append({ __name__: 'up', job: 'api', instance: 'b' }, new Date(T0 * 1000 + 250), 0);

  assert.deepEqual(sortedLabels(db.series('up')), [
    { __name__: 'up', instance: 'a', job: 'api' },
    { __name__: 'up', instance: 'b', job: 'api' },
  ]);
  // The Date kept its milliseconds: b's only sample is at T0 + 0.25 s.
  assert.deepEqual(db.series('up{instance="b"}', { start: T0 + 0.25, end: T0 + 0.25 }), [
    { __name__: 'up', instance: 'b', job: 'api' },
  ]);
  assert.deepEqual(db.series('up{instance="b"}', { start: T0 + 0.251 }), []);
  assert.deepEqual(db.series('up{instance="b"}', { end: T0 + 0.249 }), []);
});

test('appendMany accepts arrays, Float64Arrays and Dates, and counts samples', (t) => {
  const { db } = openTemp(t);
  assert.equal(db.appendMany('a', [T0, T0 + 15, new Date((T0 + 30) * 1000)], [1, 2, 3]), 3);
  const ts = Float64Array.from({ length: 1000 }, (_, i) => T0 + i * 15);
  const vs = Float64Array.from({ length: 1000 }, (_, i) => i);
  assert.equal(db.appendMany({ __name__: 'b' }, ts, vs), 1000);

  assert.deepEqual(db.series('a', { start: T0 + 30, end: T0 + 30 }), [{ __name__: 'a' }]);
  assert.deepEqual(db.series('b', { start: T0 + 999 * 15 }), [{ __name__: 'b' }]);
  assert.deepEqual(db.series('b', { start: T0 + 999 * 15 + 1 }), []);
});

test('appendMany with mismatched lengths writes nothing', (t) => {
  const { db } = openTemp(t);
  assert.throws(() => db.appendMany('a', [T0, T0 + 1], [1]), {
    code: 'bad_data',
    message: 'timestamps and values differ in length (2 vs 1)',
  });
  assert.deepEqual(db.series('a'), []);
});

test('batch(fill) writes many series in one commit, all or nothing', (t) => {
  const { db } = openTemp(t);
  const written = db.batch((b) => {
    b.add('cpu{core="0"}', T0, 0.5).add('cpu{core="1"}', T0, 0.25);
    b.addMany({ __name__: 'mem' }, [T0, T0 + 10], [100, 200]);
    assert.equal(b.length, 4);
  });
  assert.equal(written, 4);
  assert.deepEqual(db.labelValues('__name__'), ['cpu', 'mem']);

  // A series without a metric name fails the whole commit: `good` is not stored either.
  assert.throws(
    () =>
      db.batch((b) => {
        b.add('good', T0, 1);
        b.add({ job: 'no-name' }, T0, 1);
      }),
    { code: 'bad_data' },
  );
  assert.deepEqual(db.labelValues('__name__'), ['cpu', 'mem']);
});

test('per-sample adds alternating between series keep each sample on its own series', (t) => {
  const { db } = openTemp(t);
  db.batch((b) => {
    for (let i = 0; i < 30; i++) b.add(i % 3 === 2 ? 'b' : 'a{x="1"}', T0 + i, i);
  });
  const at = (s) => ({ start: T0 + s, end: T0 + s });
  assert.deepEqual(db.series('b', at(2)), [{ __name__: 'b' }]);
  assert.deepEqual(db.series('a', at(2)), []);
  assert.deepEqual(db.series('a', at(3)), [{ __name__: 'a', x: '1' }]);
  assert.deepEqual(db.series('b', at(3)), []);
  assert.deepEqual(db.series('b', at(29)), [{ __name__: 'b' }]);
});

test('write(batch) commits a Batch and empties it', (t) => {
  const { db } = openTemp(t);
  const batch = new promlite.Batch().add('x', T0, 1).addMany('y', [T0], [2]);
  assert.equal(db.write(batch), 2);
  assert.equal(batch.length, 0);
  assert.equal(db.write(batch), 0);
  assert.deepEqual(db.labelValues('__name__'), ['x', 'y']);
});

test('ingestExposition stores text exposition in one commit, all or nothing', (t) => {
  const { db } = openTemp(t);
  const text = [
    '# HELP http_requests_total Requests served.',
    '# TYPE http_requests_total counter',
    'http_requests_total{code="200"} 1027',
    'http_requests_total{code="500"} 3 1700000100000',
    '',
  ].join('\n');
  assert.equal(db.ingestExposition(text, T0), 2);
  // No timestamp: the given time; with one: its own (ms in this format).
  assert.deepEqual(db.series('http_requests_total', { start: T0, end: T0 }), [
    { __name__: 'http_requests_total', code: '200' },
  ]);
  assert.deepEqual(db.series('http_requests_total', { start: T0 + 100, end: T0 + 100 }), [
    { __name__: 'http_requests_total', code: '500' },
  ]);

  assert.throws(() => db.ingestExposition('ok_metric 1\nbroken{ 2\n', T0), { code: 'bad_data', message: /line 2/ });
  assert.deepEqual(db.series('ok_metric'), []);
});

test('labelNames and labelValues filter by selectors and time', (t) => {
  const { db } = openTemp(t);
  db.append('http{job="api",code="200"}', T0, 1);
  db.append('http{job="web",code="500"}', T0 + 100, 1);
  db.append('up{job="db",zone="eu"}', T0 + 200, 1);

  assert.deepEqual(db.labelNames(), ['__name__', 'code', 'job', 'zone']);
  assert.deepEqual(db.labelNames({ match: 'http' }), ['__name__', 'code', 'job']);
  assert.deepEqual(db.labelNames({ match: ['http{job="api"}', 'up'] }), ['__name__', 'code', 'job', 'zone']);
  assert.deepEqual(db.labelValues('job'), ['api', 'db', 'web']);
  assert.deepEqual(db.labelValues('job', { match: 'http' }), ['api', 'web']);
  assert.deepEqual(db.labelValues('job', { start: T0 + 50, end: T0 + 150 }), ['web']);
  assert.deepEqual(db.labelValues('job', { end: new Date(T0 * 1000) }), ['api']);
  assert.deepEqual(db.labelValues('nope'), []);
});

test('series merges several selectors without duplicates', (t) => {
  const { db } = openTemp(t);
  db.append('http{job="api"}', T0, 1);
  db.append('http{job="web"}', T0, 1);
  db.append('up{job="api"}', T0, 1);
  assert.deepEqual(sortedLabels(db.series(['http{job="api"}', '{job="api"}'])), [
    { __name__: 'http', job: 'api' },
    { __name__: 'up', job: 'api' },
  ]);
  assert.deepEqual(db.series('http{job=~"w.*"}'), [{ __name__: 'http', job: 'web' }]);
});

test('deleteSeries removes whole series or a time range', (t) => {
  const { db } = openTemp(t);
  db.appendMany('a{k="1"}', [T0, T0 + 60], [1, 2]);
  db.appendMany('a{k="2"}', [T0, T0 + 60], [1, 2]);

  assert.equal(db.deleteSeries('a{k="1"}'), 1);
  assert.deepEqual(db.series('a'), [{ __name__: 'a', k: '2' }]);

  // Only the first sample of k=2 goes; the series stays with its later one.
  assert.equal(db.deleteSeries('a', { end: T0 + 30 }), 1);
  assert.deepEqual(db.series('a', { end: T0 + 30 }), []);
  assert.deepEqual(db.series('a', { start: T0 + 60 }), [{ __name__: 'a', k: '2' }]);
});

test('applyRetention drops samples older than the retention option', (t) => {
  const { db } = openTemp(t, { retention: 3600 });
  db.appendMany('old', [T0, T0 + 60], [1, 2]);
  db.append('new', T0 + 7200, 3);
  assert.ok(db.applyRetention() > 0);
  assert.deepEqual(db.labelValues('__name__'), ['new']);

  const { db: keepAll } = openTemp(t);
  keepAll.append('old', T0, 1);
  keepAll.append('new', T0 + 7200, 3);
  assert.equal(keepAll.applyRetention(), 0);
  assert.deepEqual(keepAll.labelValues('__name__'), ['new', 'old']);
});

test('data survives close and reopen; a closed database refuses calls', (t) => {
  const file = path.join(tempDir(t), 'persist.db');
  const db = promlite.open(file, { fsyncOnCommit: false });
  db.append('kept{a="b"}', T0, 42);
  assert.equal(db.closed, false);
  db.close();
  assert.equal(db.closed, true);
  db.close(); // closing twice is fine

  for (const call of [() => db.append('x', T0, 1), () => db.series('kept'), () => db.labelNames()]) {
    assert.throws(call, { code: 'internal', message: 'database is closed' });
  }

  const again = promlite.open(file);
  t.after(() => again.close());
  assert.deepEqual(again.series('kept'), [{ __name__: 'kept', a: 'b' }]);
});

test('readOnly opens an existing file without modifying it', (t) => {
  const file = path.join(tempDir(t), 'ro.db');
  const rw = promlite.open(file);
  rw.append('x', T0, 1);
  rw.close();
  const before = fs.readFileSync(file);

  const ro = promlite.open(file, { readOnly: true });
  t.after(() => ro.close());
  assert.deepEqual(ro.series('x'), [{ __name__: 'x' }]);
  assert.throws(() => ro.append('y', T0, 1), (err) => err instanceof Error && typeof err.code === 'string');
  assert.deepEqual(ro.series('y'), []);
  assert.deepEqual(fs.readFileSync(file), before);
});

test('a file that is not a promlite database is refused and left alone', (t) => {
  const file = path.join(tempDir(t), 'notes.txt');
  fs.writeFileSync(file, 'these are not metrics\n'.repeat(100));
  assert.throws(() => promlite.open(file), { code: 'internal', message: /not a promlite database/ });
  assert.equal(fs.readFileSync(file, 'utf8'), 'these are not metrics\n'.repeat(100));
});

test('open validates its options', (t) => {
  const file = path.join(tempDir(t), 'o.db');
  assert.throws(() => promlite.open(file, { retension: 60 }), { code: 'bad_data', message: 'unknown option retension' });
  assert.throws(() => promlite.open(file, { readOnly: 'yes' }), {
    code: 'bad_data',
    message: 'option readOnly must be a boolean, got string yes',
  });
  assert.throws(() => promlite.open(file, { lookbackDelta: 0 }), {
    code: 'bad_data',
    message: 'lookbackDelta must be a positive number of seconds, got 0',
  });
  assert.throws(() => promlite.open(file, { maxSamples: 1.5 }), { code: 'bad_data' });
  assert.throws(() => new promlite.Database(), TypeError);
  assert.equal(typeof promlite.version, 'string');
  assert.match(promlite.version, /^\d+\.\d+\.\d+/);
});
