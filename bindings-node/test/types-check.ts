// Compiled (never run) by types.test.js: the declarations in index.d.ts
// accept the documented API and reject misuse (each @ts-expect-error must fire).
import { open, Batch, Database, QueryResult, PromliteError, Labels, version } from '..';

// Stands in for any consumer (no Node typings are loaded).
declare function use(...values: unknown[]): void;

const db: Database = open('metrics.db', { retention: 86_400, readOnly: false, queryTimeout: 30 });
const now = new Date();

db.append('up{job="api"}', now, 1);
db.append({ __name__: 'up', job: 'api' }, 1_700_000_000.5, 1);
const n: number = db.appendMany('x', Float64Array.of(1, 2), [3, 4]);
const many: Promise<number> = db.appendManyAsync('x', [now, 2], Float64Array.of(1, 2));
const batched: number = db.batch((b: Batch) => {
  b.add('a', now, 1).addMany('b', [1], [2]);
});
const written: Promise<number> = db.writeAsync(new Batch().add('c', 1, 2));

const r: QueryResult = db.query('sum(up)');
switch (r.resultType) {
  case 'vector':
    for (const s of r.result) {
      const job: string | undefined = s.metric.job;
      if (s.value) {
        const [t, v]: [number, number] = s.value;
        use(job, t + v);
      } else if (s.histogram) {
        const [t, h] = s.histogram;
        const upper: number | undefined = h.buckets?.[0]?.[2];
        use(t + h.count + h.sum, upper);
      }
    }
    break;
  case 'matrix':
    r.result.forEach((s) => s.values?.map(([t, v]) => t * v));
    r.result.forEach((s) => s.histograms?.map(([t, h]) => t * h.count));
    break;
  case 'scalar':
    use(r.result[1] + 1);
    break;
  case 'string':
    use(r.result[1].toUpperCase());
    break;
}
const range = db.queryRange('up', now, now, 15);
const firstSeries: Labels | undefined = range.result[0]?.metric;
const later: Promise<QueryResult> = db.queryAsync('up', 1);

const names: string[] = db.labelNames({ match: ['up', 'x'], start: now });
const values: string[] = db.labelValues('job', { match: 'up' });
const series: Labels[] = db.series('up', { end: 5 });
const deleted: number = db.deleteSeries('up{job="api"}') + db.applyRetention() + db.ingestExposition('up 1\n', now);

db.remoteWriteAdd('mimir', 'https://mimir.example/api/v1/push', {
  bearerToken: 't',
  headers: { 'X-Scope-OrgID': 'a' },
  externalLabels: { replica: 'a' },
  keep: '{job="api"}',
  drop: ['go_goroutines'],
  batchSize: 500,
  flushInterval: 0.5,
});
const lag: number = db.remoteWriteStats()[0].lagSeconds;
const removed: boolean = db.remoteWriteRemove('mimir');
const report: Promise<number> = db
  .remoteWriteBackfillAsync('http://x/api/v1/write', now, 5, { basicAuth: { username: 'u', password: 'p' } })
  .then((r) => r.samplesSent);
// @ts-expect-error unknown remote-write option
db.remoteWriteAdd('n', 'http://x/w', { batch: 5 });

try {
  db.query('sum(');
} catch (e) {
  const err = e as PromliteError;
  if (err.code === 'bad_data') use(err.message);
}

db.appendHistogram('rpc_seconds', now, '{{schema:0 count:1 buckets:[1]}}');
db.appendHistogram('rpc_seconds', 5, {
  count: 3,
  sum: 2,
  positiveSpans: [{ offset: 0, length: 2 }],
  positiveBuckets: [1, 2],
  counterResetHint: 'gauge',
});
new Batch().addHistogram('h', now, { schema: -53, customValues: [1, 10] }).add('h', 1, 2);
// @ts-expect-error unknown counter-reset hint
db.appendHistogram('h', now, { counterResetHint: 'sometimes' });
// @ts-expect-error spans are { offset, length }
db.appendHistogram('h', now, { positiveSpans: [[0, 1]] });

// @ts-expect-error series must be a string or labels object
db.append(42, now, 1);
// @ts-expect-error values must be numbers
db.append('up', now, '1');
// @ts-expect-error label values are strings
db.append({ __name__: 'up', n: 1 }, now, 1);
// @ts-expect-error unknown option
open('x.db', { retension: 5 });
// @ts-expect-error databases come from open()
new Database();
// @ts-expect-error not an error code
const bad: PromliteError['code'] = 'oops';

use(version, n, many, batched, written, firstSeries, later, names, values, series, deleted, bad, lag, removed, report);
db.close();
