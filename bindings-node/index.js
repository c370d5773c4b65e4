'use strict';
// promlite for Node. The native addon (src/*.rs) does the work; this layer
// adds what belongs to JS: `Date` timestamps, optional arguments, option and
// argument checks that fail with a `bad_data` code like every promlite error,
// and `batch(fill)`. Timestamps are Unix seconds, as in the Prometheus API.

const native = loadNative();

function loadNative() {
  try {
    return require('./promlite.node');
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') {
      err.message = `promlite's native addon is not built: run \`npm run build\` in ${__dirname}\n${err.message}`;
    }
    throw err;
  }
}

// Every option `open()` accepts, with its JS type. New options are added
// here and in `OpenOptions` (src/convert.rs).
const OPTION_TYPES = {
  retention: 'number',
  readOnly: 'boolean',
  fsyncOnCommit: 'boolean',
  lookbackDelta: 'number',
  queryTimeout: 'number',
  maxSamples: 'number',
};

/** A caller error: a `TypeError` carrying the `bad_data` code. */
function badData(message) {
  const err = new TypeError(message);
  err.code = 'bad_data';
  return err;
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isPlainObject(value)) return 'an object';
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `${typeof value} ${String(value)}`;
}

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function string(what, value) {
  if (typeof value !== 'string') throw badData(`${what} must be a string, got ${describe(value)}`);
  return value;
}

function number(what, value) {
  if (typeof value !== 'number') throw badData(`${what} must be a number, got ${describe(value)}`);
  return value;
}

/** Unix seconds from a number of seconds or a `Date`. */
function seconds(what, value) {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw badData(`${what} is an invalid Date`);
    return ms / 1000;
  }
  if (typeof value === 'number') return value;
  throw badData(`${what} must be Unix seconds (a number) or a Date, got ${describe(value)}`);
}

function optionalSeconds(what, value) {
  return value === undefined || value === null ? undefined : seconds(what, value);
}

/** A series: selector text such as `up{job="api"}`, or a labels object with `__name__`. */
function seriesArg(value) {
  if (typeof value === 'string') return value;
  if (isPlainObject(value)) {
    for (const [name, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw badData(`label ${name} must have a string value, got ${describe(v)}`);
    }
    return value;
  }
  throw badData(`series must be a selector string or a labels object, got ${describe(value)}`);
}

/** A Float64Array as is, or an array converted element by element with `convert`. */
function float64Array(what, values, convert) {
  if (values instanceof Float64Array) return values;
  if (!Array.isArray(values)) throw badData(`${what} must be an array or a Float64Array, got ${describe(values)}`);
  // A plain loop: several times faster than Float64Array.from with a map function.
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = typeof v === 'number' ? v : convert(`${what}[${i}]`, v);
  }
  return out;
}

/** `match` as a list of selectors: one string, an array of them, or none. */
function selectorList(value) {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.map((s, i) => string(`match[${i}]`, s));
  throw badData(`match must be a selector string or an array of them, got ${describe(value)}`);
}

function rangeOptions(what, options) {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw badData(`${what} options must be an object, got ${describe(options)}`);
  return options;
}

function openOptions(options) {
  if (options === undefined || options === null) return undefined;
  if (!isPlainObject(options)) throw badData(`options must be an object, got ${describe(options)}`);
  for (const [name, value] of Object.entries(options)) {
    const type = OPTION_TYPES[name];
    if (type === undefined) throw badData(`unknown option ${name}`);
    if (value !== undefined && typeof value !== type) {
      throw badData(`option ${name} must be a ${type}, got ${describe(value)}`);
    }
  }
  return options;
}

// Every remote-write setting with its JS type; `selectors` is one selector
// string or an array, `strings` an object of string values. Mirrors
// `RemoteWriteOptions` in src/remote_write.rs.
const REMOTE_WRITE_OPTION_TYPES = {
  bearerToken: 'string',
  basicAuth: 'credentials',
  headers: 'strings',
  externalLabels: 'strings',
  keep: 'selectors',
  drop: 'selectors',
  batchSize: 'number',
  flushInterval: 'number',
  timeout: 'number',
  minBackoff: 'number',
  maxBackoff: 'number',
};

function stringValues(what, value) {
  if (!isPlainObject(value)) throw badData(`${what} must be an object of strings, got ${describe(value)}`);
  for (const [name, v] of Object.entries(value)) string(`${what}.${name}`, v);
  return value;
}

function remoteWriteOptions(options) {
  if (options === undefined || options === null) return undefined;
  if (!isPlainObject(options)) throw badData(`remote-write options must be an object, got ${describe(options)}`);
  const out = {};
  for (const [name, value] of Object.entries(options)) {
    const type = REMOTE_WRITE_OPTION_TYPES[name];
    if (type === undefined) throw badData(`unknown remote-write option ${name}`);
    if (value === undefined) continue;
    if (type === 'selectors') {
      out[name] = selectorList(value);
    } else if (type === 'strings') {
      out[name] = stringValues(name, value);
    } else if (type === 'credentials') {
      if (!isPlainObject(value)) throw badData(`basicAuth must be { username, password }, got ${describe(value)}`);
      out[name] = { username: string('basicAuth.username', value.username), password: string('basicAuth.password', value.password) };
    } else if (typeof value !== type) {
      throw badData(`remote-write option ${name} must be a ${type}, got ${describe(value)}`);
    } else {
      out[name] = value;
    }
  }
  return out;
}

// The fields of a histogram object, with their JS type. Mirrors
// `HistogramInput` in src/histogram.rs.
const HISTOGRAM_FIELD_TYPES = {
  schema: 'number',
  count: 'number',
  sum: 'number',
  zeroThreshold: 'number',
  zeroCount: 'number',
  positiveSpans: 'spans',
  positiveBuckets: 'numbers',
  negativeSpans: 'spans',
  negativeBuckets: 'numbers',
  customValues: 'numbers',
  counterResetHint: 'string',
};

/** A histogram: the promqltest notation `'{{schema:0 count:3 buckets:[1 2]}}'` or an object of its fields. */
function histogramArg(value) {
  if (typeof value === 'string') return value;
  if (!isPlainObject(value)) throw badData(`histogram must be an object of its fields or a '{{…}}' string, got ${describe(value)}`);
  const out = {};
  for (const [name, v] of Object.entries(value)) {
    const type = HISTOGRAM_FIELD_TYPES[name];
    if (type === undefined) throw badData(`unknown histogram field ${name}`);
    if (v === undefined) continue;
    if (type === 'numbers') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw badData(`histogram field ${name} must be an array of numbers`);
    } else if (type === 'spans') {
      const ok = Array.isArray(v) && v.every((sp) => isPlainObject(sp) && Number.isInteger(sp.offset) && Number.isInteger(sp.length) && sp.length >= 0);
      if (!ok) throw badData(`histogram field ${name} must be an array of { offset, length } integers`);
    } else if (typeof v !== type) {
      throw badData(`histogram field ${name} must be a ${type}, got ${describe(v)}`);
    }
    out[name] = v;
  }
  return out;
}

// Where a Batch keeps its native batch (module-private).
const NATIVE = Symbol('promlite.nativeBatch');

/** Samples of many series, written by `db.write(batch)` in one commit. */
class Batch {
  constructor() {
    this[NATIVE] = new native.Batch();
  }

  /** Adds one sample. */
  add(series, timestamp, value) {
    this[NATIVE].add(seriesArg(series), seconds('timestamp', timestamp), number('value', value));
    return this;
  }

  /** Adds samples of one series from parallel arrays (or `Float64Array`s). */
  addMany(series, timestamps, values) {
    this[NATIVE].addMany(seriesArg(series), float64Array('timestamps', timestamps, seconds), float64Array('values', values, number));
    return this;
  }

  /** Adds one native-histogram sample (an object of its fields, or the promqltest notation). */
  addHistogram(series, timestamp, histogram) {
    this[NATIVE].addHistogram(seriesArg(series), seconds('timestamp', timestamp), histogramArg(histogram));
    return this;
  }

  /** Number of samples in the batch. */
  get length() {
    return this[NATIVE].length;
  }
}

function nativeBatch(batch) {
  if (!(batch instanceof Batch)) throw badData(`expected a Batch, got ${describe(batch)}`);
  return batch[NATIVE];
}

// Guards the constructor: databases come from `open()`.
const fromOpen = Symbol('promlite.open');

/** An open promlite database; get one from `open()`. */
class Database {
  #native;

  constructor(token, handle) {
    if (token !== fromOpen) throw new TypeError('use promlite.open(path) to open a database');
    this.#native = handle;
  }

  /** Closes the file; further calls fail. Closing twice is allowed. */
  close() {
    this.#native.close();
  }

  /** Whether `close()` has been called. */
  get closed() {
    return this.#native.closed;
  }

  /** Appends one sample and commits it. */
  append(series, timestamp, value) {
    this.#native.append(seriesArg(series), seconds('timestamp', timestamp), number('value', value));
  }

  /** Appends one native-histogram sample and commits it. */
  appendHistogram(series, timestamp, histogram) {
    this.write(new Batch().addHistogram(series, timestamp, histogram));
  }

  /** Appends samples of one series in one commit; returns the number written. */
  appendMany(series, timestamps, values) {
    return this.write(new Batch().addMany(series, timestamps, values));
  }

  /** As `appendMany`, off the event loop. */
  async appendManyAsync(series, timestamps, values) {
    return this.writeAsync(new Batch().addMany(series, timestamps, values));
  }

  /** Writes a batch in one commit and empties it; returns the number of samples written. */
  write(batch) {
    return this.#native.write(nativeBatch(batch));
  }

  /** As `write`, off the event loop. */
  async writeAsync(batch) {
    return this.#native.writeAsync(nativeBatch(batch));
  }

  /** Calls `fill(batch)`, then writes what it added in one commit; returns the number written. */
  batch(fill) {
    return this.write(fillBatch(fill));
  }

  /** As `batch`, with the write off the event loop (`fill` itself runs synchronously). */
  async batchAsync(fill) {
    return this.writeAsync(fillBatch(fill));
  }

  /** Stores Prometheus text exposition (e.g. prom-client's `register.metrics()`) in one commit; returns the samples written. */
  ingestExposition(text, timestamp) {
    return this.#native.ingestExposition(string('text', text), optionalSeconds('timestamp', timestamp));
  }

  /** Instant query at `time` (default now): `{ resultType, result }`. */
  query(expr, time) {
    return this.#native.query(string('expr', expr), optionalSeconds('time', time));
  }

  /** As `query`, off the event loop. */
  async queryAsync(expr, time) {
    return this.#native.queryAsync(string('expr', expr), optionalSeconds('time', time));
  }

  /** Range query from `start` to `end` every `step` seconds: a matrix. */
  queryRange(expr, start, end, step) {
    return this.#native.queryRange(...rangeArgs(expr, start, end, step));
  }

  /** As `queryRange`, off the event loop. */
  async queryRangeAsync(expr, start, end, step) {
    return this.#native.queryRangeAsync(...rangeArgs(expr, start, end, step));
  }

  /** Label sets of series matching `match` (one selector or several), optionally with samples in `[start, end]`. */
  series(match, options) {
    const { start, end } = rangeOptions('series', options);
    const selectors = selectorList(match);
    if (selectors.length === 0) throw badData('series() needs at least one selector');
    return this.#native.series(selectors, optionalSeconds('start', start), optionalSeconds('end', end));
  }

  /** Sorted label names, of all series or those matching `match`. */
  labelNames(options) {
    const { match, start, end } = rangeOptions('labelNames', options);
    return this.#native.labelNames(selectorList(match), optionalSeconds('start', start), optionalSeconds('end', end));
  }

  /** Sorted values of label `name`, over all series or those matching `match`. */
  labelValues(name, options) {
    const { match, start, end } = rangeOptions('labelValues', options);
    return this.#native.labelValues(
      string('name', name),
      selectorList(match),
      optionalSeconds('start', start),
      optionalSeconds('end', end),
    );
  }

  /** Drops samples older than the `retention` option; returns the number of chunks removed. */
  applyRetention() {
    return this.#native.applyRetention();
  }

  /**
   * Starts remote-write sender `name`: every sample committed from now on is
   * delivered to `url` (Prometheus remote write 1.0) from a queue kept in the
   * database file, by a background thread (not the event loop). A name used
   * before in this file resumes where that sender stopped.
   */
  remoteWriteAdd(name, url, options) {
    this.#native.remoteWriteAdd(string('name', name), string('url', url), remoteWriteOptions(options));
  }

  /** Stops sender `name` and drops what it has not sent; returns whether it existed. */
  remoteWriteRemove(name) {
    return this.#native.remoteWriteRemove(string('name', name));
  }

  /** Stats of the senders running here or registered in the file. */
  remoteWriteStats() {
    return this.#native.remoteWriteStats();
  }

  /** Sends the stored samples in `[start, end]` to `url` once, off the event loop. */
  async remoteWriteBackfillAsync(url, start, end, options) {
    return this.#native.remoteWriteBackfillAsync(
      string('url', url),
      seconds('start', start),
      seconds('end', end),
      remoteWriteOptions(options),
    );
  }

  /** Deletes samples (in `[start, end]` if given) of series matching one selector; returns the series touched. */
  deleteSeries(match, options) {
    const { start, end } = rangeOptions('deleteSeries', options);
    return this.#native.deleteSeries(string('match', match), optionalSeconds('start', start), optionalSeconds('end', end));
  }
}

function rangeArgs(expr, start, end, step) {
  return [string('expr', expr), seconds('start', start), seconds('end', end), number('step', step)];
}

function fillBatch(fill) {
  if (typeof fill !== 'function') throw badData(`batch() takes a function, got ${describe(fill)}`);
  const batch = new Batch();
  const returned = fill(batch);
  if (returned !== null && typeof returned === 'object' && typeof returned.then === 'function') {
    throw badData('the batch() callback must be synchronous; build a Batch and use writeAsync() instead');
  }
  return batch;
}

/** Opens (creating if needed) the promlite database file at `path`. */
function open(path, options) {
  return new Database(fromOpen, native.Database.open(string('path', path), openOptions(options)));
}

module.exports = { open, Database, Batch, version: native.version() };
