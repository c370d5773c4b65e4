// Type declarations for the promlite Node package (maintained by hand next to
// index.js; test/types.test.js compiles test/types-check.ts against them).

/** Unix seconds (fractions allowed) or a `Date`. */
export type Timestamp = number | Date;

/** A label set as a plain object; `__name__` holds the metric name. */
export type Labels = Record<string, string>;

/** A series: selector text such as `up{job="api"}`, or a labels object with `__name__`. */
export type SeriesInput = string | Labels;

/** The Prometheus `errorType` of a failure; every error promlite throws carries one. */
export type ErrorCode = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal';

/** What promlite throws (and async calls reject with). */
export interface PromliteError extends Error {
  /** `bad_data` for bad arguments and queries (the message keeps the `line:col:` position). */
  code: ErrorCode;
}

/** Options of `open()`. Durations are in seconds. */
export interface OpenOptions {
  /** Drop samples older than this when retention is applied. */
  retention?: number;
  /** Open read-only: writes fail and the file is never modified. */
  readOnly?: boolean;
  /** `false` skips the fsync of each commit: faster, survives a process crash but not a machine crash (default `true`). */
  fsyncOnCommit?: boolean;
  /** How far back an instant selector looks for a sample (default 300). */
  lookbackDelta?: number;
  /** Abort a query after this long (default 120). */
  queryTimeout?: number;
  /** Maximum number of samples one query may hold in memory. */
  maxSamples?: number;
}

/** `[t, v]`: Unix seconds and the value. */
export type SamplePair = [t: number, v: number];

export interface ScalarResult {
  resultType: 'scalar';
  result: SamplePair;
}

export interface StringResult {
  resultType: 'string';
  result: [t: number, value: string];
}

/** `[boundaryRule, lower, upper, count]`; rule 0 = (lower, upper], 1 = [lower, upper), 2 = (lower, upper), 3 = [lower, upper]. */
export type HistogramBucket = [boundaryRule: 0 | 1 | 2 | 3, lower: number, upper: number, count: number];

/** A native histogram as the Prometheus API shows it: buckets with observations, lowest first (no `buckets` when none). */
export interface HistogramValue {
  count: number;
  sum: number;
  buckets?: HistogramBucket[];
}

/** `[t, histogram]`: Unix seconds and the histogram. */
export type HistogramPair = [t: number, histogram: HistogramValue];

/** One run of buckets: `offset` after the previous span (for the first: the first bucket's index), `length` buckets. */
export interface HistogramSpan {
  offset: number;
  length: number;
}

/**
 * A native histogram to write: its fields (all optional, numbers default to 0), or the
 * promqltest notation such as `'{{schema:0 count:3 sum:2 buckets:[1 2]}}'`.
 */
export type HistogramInput =
  | string
  | {
      /** -4..8 exponential, -53 custom bucket bounds. */
      schema?: number;
      count?: number;
      sum?: number;
      zeroThreshold?: number;
      zeroCount?: number;
      positiveSpans?: HistogramSpan[];
      /** Absolute counts, in span order. */
      positiveBuckets?: number[];
      negativeSpans?: HistogramSpan[];
      negativeBuckets?: number[];
      /** Upper bounds of the custom buckets (schema -53); the +Inf bucket is implied. */
      customValues?: number[];
      counterResetHint?: 'unknown' | 'reset' | 'not_reset' | 'gauge';
    };

export interface VectorResult {
  resultType: 'vector';
  /** A float sample has `value`, a native-histogram sample `histogram`. */
  result: Array<{ metric: Labels; value?: SamplePair; histogram?: HistogramPair }>;
}

export interface MatrixResult {
  resultType: 'matrix';
  /** `values` when the series has float samples, `histograms` when it has native histograms. */
  result: Array<{ metric: Labels; values?: SamplePair[]; histograms?: HistogramPair[] }>;
}

/** A query's value, shaped like the `data` object of the Prometheus HTTP API but with numbers. */
export type QueryResult = ScalarResult | StringResult | VectorResult | MatrixResult;

/** A time window; a missing bound is unbounded. */
export interface TimeRange {
  start?: Timestamp;
  end?: Timestamp;
}

/** A time window restricted to series matching any of the selectors. */
export interface MatchOptions extends TimeRange {
  /** One series selector (`up{job="api"}`) or several (their results are merged). */
  match?: string | string[];
}

/** Settings of a remote-write sender or a backfill. Durations are in seconds. */
export interface RemoteWriteOptions {
  /** `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** HTTP Basic auth (not together with `bearerToken`). */
  basicAuth?: { username: string; password: string };
  /** Extra request headers, e.g. `{ 'X-Scope-OrgID': 'team-a' }`. */
  headers?: Record<string, string>;
  /** Labels added to every series that lacks them. */
  externalLabels?: Record<string, string>;
  /** Send only series matching one of these selectors. */
  keep?: string | string[];
  /** Do not send series matching any of these selectors. */
  drop?: string | string[];
  /** Most samples per request (default 2000). */
  batchSize?: number;
  /** Longest a sample waits for a fuller request (default 1; senders only). */
  flushInterval?: number;
  /** Time limit of one request (default 30). */
  timeout?: number;
  /** First retry delay (default 0.03). */
  minBackoff?: number;
  /** Longest retry delay (default 5). */
  maxBackoff?: number;
}

/** A remote-write sender's progress. Counters start at zero in each process. */
export interface RemoteWriteStats {
  name: string;
  url: string;
  /** Whether it runs in this process (else it is only registered in the file and keeps its backlog). */
  running: boolean;
  samplesSent: number;
  requestsSent: number;
  bytesSent: number;
  /** Samples of requests the receiver refused for good (4xx other than 429). */
  samplesDropped: number;
  requestsDropped: number;
  /** Attempts that did not deliver (network errors, non-2xx answers). */
  requestsFailed: number;
  /** Attempts repeated after 5xx, 429 or network errors. */
  retries: number;
  /** Samples left out by keep/drop, or overwritten in the same batch. */
  samplesSkipped: number;
  /** Samples committed but not yet acknowledged. */
  pendingSamples: number;
  /** How long the oldest pending sample has waited, in seconds. */
  lagSeconds: number;
  /** Timestamp (Unix seconds) of the newest sample the receiver accepted. */
  newestSentTimestamp?: number;
  /** The last failure, if any. */
  lastError?: string;
}

/** What a backfill sent. */
export interface BackfillReport {
  series: number;
  samplesSent: number;
  requestsSent: number;
  samplesDropped: number;
}

/** Samples of many series, written by `db.write(batch)` in one commit. */
export class Batch {
  constructor();
  /** Adds one sample; returns the batch. */
  add(series: SeriesInput, timestamp: Timestamp, value: number): this;
  /** Adds samples of one series from parallel arrays; returns the batch. */
  addMany(series: SeriesInput, timestamps: Float64Array | Timestamp[], values: Float64Array | number[]): this;
  /** Adds one native-histogram sample (checked now); returns the batch. */
  addHistogram(series: SeriesInput, timestamp: Timestamp, histogram: HistogramInput): this;
  /** Number of samples in the batch. */
  readonly length: number;
}

/** An open promlite database; get one from `open()`. */
export class Database {
  private constructor();
  /** Closes the file; further calls throw. Closing twice is allowed. */
  close(): void;
  /** Whether `close()` has been called. */
  readonly closed: boolean;

  /** Appends one sample and commits it. */
  append(series: SeriesInput, timestamp: Timestamp, value: number): void;
  /** Appends one native-histogram sample and commits it. */
  appendHistogram(series: SeriesInput, timestamp: Timestamp, histogram: HistogramInput): void;
  /** Appends samples of one series in one commit; returns the number written. */
  appendMany(series: SeriesInput, timestamps: Float64Array | Timestamp[], values: Float64Array | number[]): number;
  /** As `appendMany`, off the event loop. */
  appendManyAsync(
    series: SeriesInput,
    timestamps: Float64Array | Timestamp[],
    values: Float64Array | number[],
  ): Promise<number>;
  /** Writes a batch in one commit and empties it; returns the number of samples written. */
  write(batch: Batch): number;
  /** As `write`, off the event loop. */
  writeAsync(batch: Batch): Promise<number>;
  /** Calls `fill` (synchronously) with a new batch, then writes it in one commit. */
  batch(fill: (batch: Batch) => void): number;
  /** As `batch`, with the write off the event loop. */
  batchAsync(fill: (batch: Batch) => void): Promise<number>;

  /**
   * Stores Prometheus text exposition (or OpenMetrics), e.g. prom-client's
   * `await register.metrics()`, in one commit with its metadata. Samples
   * without a timestamp get `timestamp` (default: now). Returns the samples written.
   */
  ingestExposition(text: string, timestamp?: Timestamp): number;

  /** Instant query at `time` (default: now). */
  query(expr: string, time?: Timestamp): QueryResult;
  /** As `query`, off the event loop. */
  queryAsync(expr: string, time?: Timestamp): Promise<QueryResult>;
  /** Range query from `start` to `end` every `step` seconds. */
  queryRange(expr: string, start: Timestamp, end: Timestamp, step: number): MatrixResult;
  /** As `queryRange`, off the event loop. */
  queryRangeAsync(expr: string, start: Timestamp, end: Timestamp, step: number): Promise<MatrixResult>;

  /** Label sets of series matching `match`, optionally with samples in the window. */
  series(match: string | string[], range?: TimeRange): Labels[];
  /** Sorted label names of all series, or of those matching `match`. */
  labelNames(options?: MatchOptions): string[];
  /** Sorted values of label `name` over all series, or those matching `match`. */
  labelValues(name: string, options?: MatchOptions): string[];
  /** Drops samples older than the `retention` option (relative to the newest sample); returns the chunks removed. */
  applyRetention(): number;
  /** Deletes samples (in the window, if given) of series matching one selector; returns the series touched. */
  deleteSeries(match: string, range?: TimeRange): number;

  /**
   * Starts remote-write sender `name`: every sample committed from now on is
   * delivered to `url` from a queue kept in the database file, by a background
   * thread. A name used before in this file resumes where that sender stopped.
   */
  remoteWriteAdd(name: string, url: string, options?: RemoteWriteOptions): void;
  /** Stops sender `name` and drops what it has not sent; returns whether it existed. */
  remoteWriteRemove(name: string): boolean;
  /** Stats of the senders running here or registered in the file. */
  remoteWriteStats(): RemoteWriteStats[];
  /** Sends the stored samples in `[start, end]` to `url` once, off the event loop. */
  remoteWriteBackfillAsync(url: string, start: Timestamp, end: Timestamp, options?: RemoteWriteOptions): Promise<BackfillReport>;
}

/** Opens (creating if needed) the promlite database file at `path`. */
export function open(path: string, options?: OpenOptions): Database;

/** The promlite library version. */
export const version: string;
