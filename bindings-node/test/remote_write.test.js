'use strict';
// Remote write (core module `remote`): senders, stats, removal and backfill
// against a scripted receiver on a free loopback port in this process. The
// senders run on core threads, so the event loop stays free to answer them.

const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { test } = require('node:test');

const promlite = require('..');
const { T0, openTemp, tempDir } = require('./helpers');

/** A receiver answering each POST with the next scripted status (then 204), keeping the headers. */
async function receiver(t, script = []) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const status = script.length > 0 ? script.shift() : 204;
      requests.push({ headers: req.headers, bytes: Buffer.concat(chunks).length, status });
      res.writeHead(status, { 'Content-Length': status < 300 ? 0 : 7 });
      res.end(status < 300 ? undefined : 'refused');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}/api/v1/write`, requests };
}

const FAST = { flushInterval: 0.02, minBackoff: 0.005, maxBackoff: 0.02 };

function stats(db, name) {
  return db.remoteWriteStats().find((s) => s.name === name);
}

async function waitFor(what, cond) {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a sender delivers with auth, headers and selectors', async (t) => {
  const rx = await receiver(t);
  const { db } = openTemp(t);
  db.remoteWriteAdd('main', rx.url, {
    bearerToken: 'js-token',
    headers: { 'X-Scope-OrgID': 'team-js' },
    externalLabels: { replica: 'js' },
    drop: '{__name__=~"go_.*"}',
    batchSize: 3,
    ...FAST,
  });
  for (let i = 0; i < 6; i++) {
    db.batch((b) => b.add('up{job="api"}', T0 + i, 1).add('go_goroutines', T0 + i, 7));
  }
  await waitFor('delivery', () => stats(db, 'main').samplesSent === 6 && stats(db, 'main').pendingSamples === 0);
  const s = stats(db, 'main');
  assert.equal(s.running, true);
  assert.equal(s.url, rx.url);
  assert.deepEqual([s.samplesSkipped, s.samplesDropped, s.retries], [6, 0, 0]);
  assert.equal(s.newestSentTimestamp, T0 + 5);
  assert.equal(s.lastError ?? null, null);
  assert.ok(rx.requests.length >= 2, 'batches of at most 3 samples');
  for (const r of rx.requests) {
    assert.equal(r.headers.authorization, 'Bearer js-token');
    assert.equal(r.headers['x-scope-orgid'], 'team-js');
    assert.equal(r.headers['content-encoding'], 'snappy');
    assert.ok(r.bytes > 0);
  }
});

test('retries and drops are counted', async (t) => {
  const rx = await receiver(t, [503, 429, 400]);
  const { db } = openTemp(t);
  db.remoteWriteAdd('flaky', rx.url, FAST);
  db.append('m', T0, 1);
  await waitFor('the drop', () => stats(db, 'flaky').samplesDropped === 1);
  db.append('m', T0 + 1, 2);
  await waitFor('the next delivery', () => stats(db, 'flaky').samplesSent === 1);
  const s = stats(db, 'flaky');
  assert.deepEqual([s.retries, s.requestsFailed, s.requestsDropped], [2, 3, 1]);
  assert.match(s.lastError, /HTTP 400/);
});

test('senders survive reopening and can be removed', async (t) => {
  const rx = await receiver(t);
  const file = path.join(tempDir(t), 'metrics.db');
  const first = promlite.open(file);
  first.remoteWriteAdd('kept', rx.url, FAST);
  first.close();
  const db = promlite.open(file);
  t.after(() => db.close());
  db.append('m', T0, 1);
  const [idle] = db.remoteWriteStats();
  assert.deepEqual([idle.name, idle.running, idle.pendingSamples], ['kept', false, 1]);
  db.remoteWriteAdd('kept', rx.url, FAST);
  await waitFor('the queued sample', () => stats(db, 'kept').samplesSent === 1);
  assert.equal(db.remoteWriteRemove('kept'), true);
  assert.equal(db.remoteWriteRemove('kept'), false);
  assert.deepEqual(db.remoteWriteStats(), []);
});

test('backfill sends a range from a read-only database, off the event loop', async (t) => {
  const rx = await receiver(t);
  const file = path.join(tempDir(t), 'metrics.db');
  const writer = promlite.open(file);
  const ts = Float64Array.from({ length: 30 }, (_, i) => T0 + i);
  const vs = Float64Array.from({ length: 30 }, (_, i) => i);
  writer.appendMany('history{job="a"}', ts, vs);
  writer.appendMany('history{job="b"}', ts, vs);
  writer.close();
  const ro = promlite.open(file, { readOnly: true });
  t.after(() => ro.close());
  const report = await ro.remoteWriteBackfillAsync(rx.url, new Date((T0 + 5) * 1000), T0 + 24, {
    keep: ['{job="a"}'],
    batchSize: 8,
    basicAuth: { username: 'u', password: 'p' },
  });
  assert.deepEqual(report, { series: 1, samplesSent: 20, requestsSent: 3, samplesDropped: 0 });
  assert.ok(rx.requests.every((r) => r.headers.authorization === 'Basic dTpw'));
  assert.throws(() => ro.remoteWriteAdd('x', rx.url), { code: 'bad_data', message: /read-only/ });
});

test('bad settings are refused with bad_data', async (t) => {
  const rx = await receiver(t);
  const { db } = openTemp(t);
  assert.throws(() => db.remoteWriteAdd('x', 'localhost:9090'), { code: 'bad_data', message: /must start with http/ });
  assert.throws(() => db.remoteWriteAdd('x', rx.url, { keep: 'rate(x[5m])' }), { code: 'bad_data', message: /keep selector/ });
  assert.throws(() => db.remoteWriteAdd('x', rx.url, { bearerToken: 't', basicAuth: { username: 'u', password: 'p' } }), {
    code: 'bad_data',
    message: /not both/,
  });
  assert.throws(() => db.remoteWriteAdd('x', rx.url, { headers: { 'X-A': 1 } }), { code: 'bad_data', message: /headers.X-A/ });
  assert.throws(() => db.remoteWriteAdd('x', rx.url, { batch: 1 }), { code: 'bad_data', message: /unknown remote-write option batch/ });
  assert.throws(() => db.remoteWriteAdd('x', rx.url, { batchSize: 0.5 }), { code: 'bad_data', message: /batchSize/ });
  await assert.rejects(db.remoteWriteBackfillAsync(rx.url, 'yesterday', T0), { code: 'bad_data' });
  assert.deepEqual(db.remoteWriteStats(), []);
  db.close();
  assert.throws(() => db.remoteWriteStats(), { code: 'internal', message: /closed/ });
});
