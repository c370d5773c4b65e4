"""Scale-out end-to-end tests: promlite and real Prometheus 2.42 servers.

Run through tests/scaleout/run.sh (installs Prometheus, sets PROMLITE_BIN).

- RemoteWriteFederateReadTest: a workload pushed into promlite reaches a
  Prometheus started with --web.enable-remote-write-receiver through
  `promlite serve --remote-write`; PromQL queries agree on both, raw samples
  are identical; a Prometheus scraping promlite's /federate (honor_labels) and
  one using promlite as remote_read storage both see its data.
- CrashTest: promlite is killed with SIGKILL in the middle of sending a
  backlog, restarted, and the receiver ends with exactly promlite's samples.
- NativeHistogramTest: native histograms end to end with Prometheus 2.42
  (`--enable-feature=native-histograms`): a Prometheus scrapes a protobuf
  target and remote-writes to promlite (same data, same PromQL answers);
  promlite's sender forwards them to a Prometheus receiver; a Prometheus
  federates them from promlite's /federate in the protobuf format.

Only the Python standard library is used. Every process listens on
127.0.0.1 with a free port, works in a temp dir, and is stopped at the end.
"""

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from processes import PROCS, PromliteProcess, free_port, workdir  # noqa: E402
from native_exposition import Target  # noqa: E402

BIN = os.environ["PROMLITE_BIN"]
READ = "scaleout-read-token"
WRITE = "scaleout-write-token"
WORKDIR = workdir("promlite-scaleout-")

# Samples sit 7 s past each 15 s step: evaluation times on whole 15 s steps
# (and subquery steps on whole minutes) never coincide with a sample, so
# Prometheus 2.42's closed and promlite's (Prometheus 3) left-open range
# boundaries select the same samples.
STEP = 15
PHASE = 7


def http(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get_json(base, path, params, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = http("GET", f"{base}{path}?{urllib.parse.urlencode(params)}", headers=headers)
    doc = json.loads(body)
    if status != 200 or doc.get("status") != "success":
        raise AssertionError(f"{base}{path} {params}: {status} {body[:500]!r}")
    return doc["data"]


def metric_value(text, name, **labels):
    """A sample value from the text format, matched by name and labels."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return None


class Promlite(PromliteProcess):
    """`promlite serve` with auth on; extra arguments add remote-write settings."""

    def __init__(self, db, extra_args=()):
        args = [BIN, "serve", "--db", db, "--listen", "127.0.0.1:0", "--read-token", READ, "--write-token", WRITE]
        super().__init__(args + list(extra_args))

    def push(self, job, text):
        status, body = http(
            "POST",
            f"{self.url}/metrics/job/{job}",
            text.encode(),
            {"Authorization": f"Bearer {WRITE}", "Content-Type": "text/plain; version=0.0.4"},
        )
        assert status == 200, (status, body)

    def metrics(self):
        status, body = http("GET", f"{self.url}/metrics", headers={"Authorization": f"Bearer {READ}"})
        assert status == 200, (status, body)
        return body.decode()

    def sender(self, figure, name):
        return metric_value(self.metrics(), f"promlite_remote_write_{figure}", remote_name=name)

    def query(self, path, params):
        return get_json(self.url, path, params, READ)

    def stop(self, sig=signal.SIGTERM):
        return super().stop(sig)


class Prometheus:
    """Debian's Prometheus 2.42 with a generated config, ready when /-/ready answers."""

    def __init__(self, name, config, flags=(), port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=WORKDIR)
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(config)
        self.log_path = os.path.join(self.dir, "prometheus.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
                 f"--web.listen-address=127.0.0.1:{self.port}", *flags],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        PROCS.append(self.proc)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if http("GET", f"{self.url}/-/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"prometheus {name} did not start: {self.logs()}")

    def logs(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def query(self, path, params):
        return get_json(self.url, path, params)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def receiver(name, port=None):
    return Prometheus(name, "global:\n  scrape_interval: 15s\n", ["--web.enable-remote-write-receiver"], port)


def workload(prefix, jobs, instances, steps, end):
    """Pushes (job, body, samples) in time order: counters, a gauge and a histogram per instance."""
    first = (end // STEP - steps) * STEP + PHASE
    pushes = []
    for k in range(steps):
        t_ms = (first + k * STEP) * 1000
        for j, job in enumerate(jobs):
            lines = []
            for i in range(instances):
                inst = f"host-{i}:9100"
                ok = 100 * k * (i + 1) + j
                lines.append(f'{prefix}_requests_total{{instance="{inst}",code="200"}} {ok} {t_ms}')
                lines.append(f'{prefix}_requests_total{{instance="{inst}",code="500"}} {k * (j + 1)} {t_ms}')
                temp = round(20 + 5 * math.sin(k / 7 + i) + j, 3)
                lines.append(f'{prefix}_temperature_celsius{{instance="{inst}"}} {temp} {t_ms}')
                cum = 0
                for le, share in (("0.1", 5), ("0.5", 3), ("1", 1), ("+Inf", 1)):
                    cum += share * k * (i + 2)
                    lines.append(f'{prefix}_latency_seconds_bucket{{instance="{inst}",le="{le}"}} {cum} {t_ms}')
                lines.append(f'{prefix}_latency_seconds_count{{instance="{inst}"}} {cum} {t_ms}')
                lines.append(f'{prefix}_latency_seconds_sum{{instance="{inst}"}} {round(0.3 * cum, 3)} {t_ms}')
            # + push_time_seconds, which the push API adds to every push
            pushes.append((job, "\n".join(lines) + "\n", len(lines) + 1))
    return pushes, first, first + (steps - 1) * STEP


def normalize(result):
    """A query result as {labels: value or [(t, v)]}, for comparison."""
    out = {}
    for r in result:
        key = tuple(sorted(r["metric"].items()))
        if "value" in r:
            out[key] = (round(r["value"][0] * 1000), r["value"][1])
        else:
            out[key] = [(round(t * 1000), v) for t, v in r["values"]]
    return out


def close(a, b):
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    return fa == fb or abs(fa - fb) <= 1e-9 * max(abs(fa), abs(fb))


def raw_samples(server, selector, at):
    """Every stored sample of `selector` within an hour before `at`, as {labels: [(t, "v")]}."""
    return normalize(server.query("/api/v1/query", {"query": f"{selector}[1h]", "time": at})["result"])


def now_s():
    """Now, for raw reads that must include the push times (wall clock, after the samples)."""
    return int(time.time()) + 1


def wait_for(what, cond, timeout=90, detail=lambda: ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {detail()}")


class RemoteWriteFederateReadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.receiver = receiver("receiver")
        cls.promlite = Promlite(
            os.path.join(WORKDIR, "main.db"),
            ["--remote-write", f"{cls.receiver.url}/api/v1/write", "--remote-write-name", "prometheus",
             "--remote-write-flush-interval", "200ms", "--remote-write-batch-size", "500"],
        )
        port = cls.promlite.url.rsplit(":", 1)[1]
        cls.reader = Prometheus(
            "remote-read",
            f"""global:
  scrape_interval: 15s
remote_read:
  - url: {cls.promlite.url}/api/v1/read
    read_recent: true
    authorization:
      credentials: {READ}
""",
        )
        cls.federator = Prometheus(
            "federate",
            f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: promlite-federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{{__name__=~"e2e_.*"}}']
    authorization:
      credentials: {READ}
    static_configs:
      - targets: ['127.0.0.1:{port}']
""",
        )
        end = int(time.time()) - 30
        pushes, cls.first, cls.last = workload("e2e", ["api", "web", "db"], 4, 80, end)
        cls.total = sum(n for _, _, n in pushes)
        for job, body, _ in pushes:
            cls.promlite.push(job, body)
        wait_for(
            "promlite to deliver the workload",
            lambda: cls.promlite.sender("samples_sent_total", "prometheus") == cls.total
            and cls.promlite.sender("pending_samples", "prometheus") == 0,
            detail=lambda: cls.promlite.metrics()[-2500:] + cls.receiver.logs(),
        )
        # Evaluation times on whole steps (see PHASE).
        cls.t_end = (cls.last // STEP) * STEP + STEP

    @classmethod
    def tearDownClass(cls):
        for p in (cls.reader, cls.federator, cls.receiver):
            p.stop()
        assert cls.promlite.stop() == 0, "".join(cls.promlite.log)

    def test_sender_stats(self):
        p = self.promlite
        self.assertEqual(p.sender("samples_dropped_total", "prometheus"), 0)
        self.assertEqual(p.sender("running", "prometheus"), 1)
        self.assertEqual(p.sender("newest_sent_timestamp_seconds", "prometheus") >= self.last, True)

    def test_raw_samples_are_identical(self):
        at = now_s()
        ours = raw_samples(self.promlite, '{__name__=~".+"}', at)
        theirs = raw_samples(self.receiver, '{__name__=~".+"}', at)
        self.assertEqual(sum(len(v) for v in ours.values()), self.total)
        self.assertEqual(ours, theirs)

    def test_queries_agree(self):
        exprs = [
            "e2e_requests_total",
            "sum by (job) (rate(e2e_requests_total[5m]))",
            "histogram_quantile(0.9, sum by (le) (rate(e2e_latency_seconds_bucket[5m])))",
            "avg_over_time(e2e_temperature_celsius[10m])",
            "count by (code) (e2e_requests_total)",
            "topk(3, e2e_temperature_celsius)",
            'e2e_requests_total{code="500"} / ignoring(code) e2e_requests_total{code="200"}',
            "max_over_time(rate(e2e_requests_total[5m])[10m:1m])",
            'sum(rate(e2e_latency_seconds_sum{job=~"api|db"}[2m])) / sum(rate(e2e_latency_seconds_count[2m]))',
        ]
        for expr in exprs:
            for t in (self.t_end, self.t_end - 7 * 60):
                ours = normalize(self.promlite.query("/api/v1/query", {"query": expr, "time": t})["result"])
                theirs = normalize(self.receiver.query("/api/v1/query", {"query": expr, "time": t})["result"])
                self.assertTrue(theirs, expr)
                self.assert_same(ours, theirs, f"{expr} at {t}")
            params = {"query": expr, "start": self.first - PHASE + 5 * 60, "end": self.t_end, "step": 60}
            ours = normalize(self.promlite.query("/api/v1/query_range", params)["result"])
            theirs = normalize(self.receiver.query("/api/v1/query_range", params)["result"])
            self.assert_same(ours, theirs, f"range {expr}")

    def assert_same(self, ours, theirs, what):
        self.assertEqual(sorted(ours), sorted(theirs), what)
        for key, a in ours.items():
            b = theirs[key]
            pairs = [(a, b)] if isinstance(a, tuple) else list(zip(a, b))
            self.assertEqual(len(a), len(b), f"{what} {key}")
            for (ta, va), (tb, vb) in pairs:
                self.assertEqual(ta, tb, f"{what} {key}")
                self.assertTrue(close(va, vb), f"{what} {key} at {ta}: {va} != {vb}")

    def test_remote_read_prometheus_sees_the_data(self):
        ours = raw_samples(self.promlite, '{__name__=~"e2e_.*"}', self.t_end)
        theirs = raw_samples(self.reader, '{__name__=~"e2e_.*"}', self.t_end)
        self.assertTrue(ours)
        self.assertEqual(ours, theirs)
        expr = "sum by (job) (rate(e2e_requests_total[5m]))"
        a = normalize(self.promlite.query("/api/v1/query", {"query": expr, "time": self.t_end})["result"])
        b = normalize(self.reader.query("/api/v1/query", {"query": expr, "time": self.t_end})["result"])
        self.assert_same(a, b, expr)

    def test_federating_prometheus_sees_the_data(self):
        selector = '{__name__=~"e2e_.*"}'
        ours = normalize(self.promlite.query("/api/v1/query", {"query": selector, "time": self.last})["result"])
        wait_for(
            "the federation scrape",
            lambda: len(self.federator.query("/api/v1/query", {"query": selector, "time": self.last})["result"]) == len(ours),
            detail=self.federator.logs,
        )
        theirs = normalize(self.federator.query("/api/v1/query", {"query": selector, "time": self.last})["result"])
        # honor_labels keeps promlite's job/instance labels; samples keep their timestamps.
        self.assertEqual(ours, theirs)
        up = self.federator.query("/api/v1/query", {"query": 'up{job="promlite-federate"}'})["result"]
        self.assertEqual(up[0]["value"][1], "1")


class CrashTest(unittest.TestCase):
    """SIGKILL in the middle of sending a backlog; after a restart the receiver has every sample exactly once."""

    def test_kill_9_mid_send(self):
        port = free_port()
        db = os.path.join(WORKDIR, "crash.db")
        config = os.path.join(WORKDIR, "crash.toml")
        with open(config, "w") as f:
            f.write(
                f"""[[remote_write]]
name = "crashy"
url = "http://127.0.0.1:{port}/api/v1/write"
batch_size = 5
flush_interval = "50ms"
min_backoff = "10ms"
max_backoff = "200ms"
"""
            )
        # The receiver is not up yet: the whole workload queues in the file.
        promlite = Promlite(db, ["--config", config])
        pushes, _, _ = workload("crash", ["a", "b"], 3, 100, int(time.time()) - 30)
        total = sum(n for _, _, n in pushes)
        for job, body, _ in pushes:
            promlite.push(job, body)
        wait_for("the backlog", lambda: promlite.sender("pending_samples", "crashy") == total)

        rx = receiver("crash-receiver", port)
        observed = None
        deadline = time.time() + 60
        while time.time() < deadline:
            sent = promlite.sender("samples_sent_total", "crashy")
            if total * 0.1 <= sent <= total * 0.6:
                promlite.stop(signal.SIGKILL)
                observed = sent
                break
            if sent > total * 0.6:
                break
            time.sleep(0.005)
        self.assertIsNotNone(observed, "the kill did not land in the middle of sending")

        promlite = Promlite(db, ["--config", config])
        # The sender may be busy already: what is left plus what it handled
        # since the restart, from one snapshot, is the backlog it started with.
        handled_figures = ("samples_sent_total", "samples_dropped_total", "samples_skipped_total")
        text = promlite.metrics()
        backlog = sum(metric_value(text, f"promlite_remote_write_{f}", remote_name="crashy")
                      for f in ("pending_samples",) + handled_figures)
        self.assertGreater(backlog, 0)
        self.assertLess(backlog, total, "acknowledged progress survived the kill")
        # At most one batch (here one push commit, split into requests) is sent again.
        biggest_commit = max(n for _, _, n in pushes)
        self.assertLessEqual(backlog, total - observed + biggest_commit)
        wait_for("the rest", lambda: promlite.sender("pending_samples", "crashy") == 0)
        handled = sum(promlite.sender(f, "crashy") for f in handled_figures)
        # Requests of the interrupted batch that the killed process had
        # delivered are skipped, not sent again (and not counted here).
        self.assertLessEqual(handled, backlog)
        self.assertLess(backlog - handled, biggest_commit)

        at = now_s()
        ours = raw_samples(promlite, '{__name__=~"crash_.*|push_time_seconds"}', at)
        theirs = raw_samples(rx, '{__name__=~"crash_.*|push_time_seconds"}', at)
        self.assertEqual(sum(len(v) for v in ours.values()), total)
        self.assertEqual(ours, theirs, "the receiver has exactly promlite's samples")
        rx.stop()
        self.assertEqual(promlite.stop(), 0)


def histogram_series(result):
    """Histogram samples of a query result as {labels: [(t_ms, count, sum, buckets)]}, numbers as floats."""
    out = {}
    for r in result:
        key = tuple(sorted(r["metric"].items()))
        pairs = r.get("histograms") or ([r["histogram"]] if "histogram" in r else [])
        out[key] = [
            (round(t * 1000), float(h["count"]), float(h["sum"]),
             [(b[0], float(b[1]), float(b[2]), float(b[3])) for b in h.get("buckets", [])])
            for t, h in pairs
        ]
    return out


def same_histograms(a, b):
    """Equal histogram series; bucket bounds may differ in the last digits
    (promlite's bound table is correctly rounded, Prometheus's is off by an ulp or so)."""
    if sorted(a) != sorted(b):
        return False
    for key, xs in a.items():
        ys = b[key]
        if len(xs) != len(ys):
            return False
        for (ta, ca, sa, ba), (tb, cb, sb, bb) in zip(xs, ys):
            if ta != tb or not close(ca, cb) or not close(sa, sb) or len(ba) != len(bb):
                return False
            for (ra, la, ua, na), (rb, lb, ub, nb) in zip(ba, bb):
                if ra != rb or not close(na, nb):
                    return False
                if not all(x == y or abs(x - y) <= 1e-12 * max(abs(x), abs(y)) for x, y in ((la, lb), (ua, ub))):
                    return False
    return True


class NativeHistogramTest(unittest.TestCase):
    """Native histograms through remote write (both directions), PromQL and federation."""

    SELECTOR = "native_rpc_seconds"

    @classmethod
    def setUpClass(cls):
        flags = ["--enable-feature=native-histograms"]
        cls.target = Target()
        cls.receiver = Prometheus("nh-receiver", "global:\n  scrape_interval: 15s\n",
                                  ["--web.enable-remote-write-receiver", *flags])
        cls.promlite = Promlite(
            os.path.join(WORKDIR, "native.db"),
            ["--remote-write", f"{cls.receiver.url}/api/v1/write", "--remote-write-name", "nh",
             "--remote-write-flush-interval", "100ms"],
        )
        port = cls.promlite.url.rsplit(":", 1)[1]
        cls.source = Prometheus(
            "nh-source",
            f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: native
    static_configs:
      - targets: ['{cls.target.address}']
remote_write:
  - url: {cls.promlite.url}/api/v1/write
    send_native_histograms: true
    authorization:
      credentials: {WRITE}
    queue_config:
      batch_send_deadline: 200ms
""",
            flags,
        )
        cls.federator = Prometheus(
            "nh-federate",
            f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: promlite-federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{{__name__=~"native_.*"}}']
    authorization:
      credentials: {READ}
    static_configs:
      - targets: ['127.0.0.1:{port}']
""",
            flags,
        )
        wait_for(
            "the federating Prometheus to scrape histograms from promlite",
            lambda: cls.federated_count() >= 8,
            detail=lambda: cls.federator.logs() + cls.source.logs(),
        )
        # Stop the data: the source marks the series stale, and everything settles.
        cls.target.paused = True
        cls.at = now_s() + 5

        def settled():
            time.sleep(1)
            source = histogram_series(cls.raw(cls.source))
            ours = histogram_series(cls.raw(cls.promlite))
            return source and same_histograms(source, ours) and source == histogram_series(cls.raw(cls.source))

        wait_for("promlite to hold what the source Prometheus scraped", settled, detail=cls.source.logs)
        wait_for("the sender to drain", lambda: cls.promlite.sender("pending_samples", "nh") == 0)

    @classmethod
    def raw(cls, server):
        return server.query("/api/v1/query", {"query": f"{cls.SELECTOR}[1h]", "time": cls.at})["result"]

    @classmethod
    def federated_count(cls):
        result = cls.federator.query("/api/v1/query", {"query": f'{cls.SELECTOR}{{path="/a"}}[1h]', "time": now_s()})["result"]
        return sum(len(r.get("histograms", [])) for r in result)

    @classmethod
    def tearDownClass(cls):
        for p in (cls.source, cls.federator, cls.receiver):
            p.stop()
        cls.target.stop()
        assert cls.promlite.stop() == 0, "".join(cls.promlite.log)

    def test_promlite_stores_what_prometheus_remote_writes(self):
        ours = histogram_series(self.raw(self.promlite))
        self.assertEqual(len(ours), 2, ours.keys())
        for samples in ours.values():
            self.assertGreaterEqual(len(samples), 5)
            self.assertTrue(all(len(buckets) >= 6 for _, _, _, buckets in samples), "negative, zero and positive buckets")
        self.assertTrue(same_histograms(ours, histogram_series(self.raw(self.source))))

    def test_queries_agree_with_prometheus(self):
        # Evaluate between two scrapes, so no sample sits on a range boundary.
        ts = [t for _, samples in histogram_series(self.raw(self.source)).items() for t, *_ in samples]
        ts = sorted(set(ts))
        at = None
        for a, b in reversed(list(zip(ts, ts[1:]))):
            t = (a + b) // 2
            if all(abs(t - 60_000 - x) > 5 and abs(t - 5_000 - x) > 5 for x in ts):
                at = t / 1000
                break
        self.assertIsNotNone(at, ts)
        histogram_exprs = [
            "native_rpc_seconds",
            "rate(native_rpc_seconds[5s])",
            "sum by (job) (rate(native_rpc_seconds[5s]))",
            "sum(native_rpc_seconds)",
        ]
        for expr in histogram_exprs:
            q = {"query": expr, "time": at}
            ours = histogram_series(self.promlite.query("/api/v1/query", q)["result"])
            theirs = histogram_series(self.source.query("/api/v1/query", q)["result"])
            self.assertTrue(theirs, expr)
            self.assertTrue(same_histograms(ours, theirs), f"{expr}: {ours} != {theirs}")
        float_exprs = [
            "histogram_count(native_rpc_seconds)",
            "histogram_sum(rate(native_rpc_seconds[5s]))",
            "histogram_count(sum(rate(native_rpc_seconds[1m])))",
        ]
        for expr in float_exprs:
            q = {"query": expr, "time": at}
            ours = normalize(self.promlite.query("/api/v1/query", q)["result"])
            theirs = normalize(self.source.query("/api/v1/query", q)["result"])
            self.assertTrue(theirs, expr)
            self.assertEqual(sorted(ours), sorted(theirs), expr)
            for key, (t, v) in ours.items():
                self.assertEqual(t, theirs[key][0], expr)
                self.assertTrue(close(v, theirs[key][1]), f"{expr} {key}: {v} != {theirs[key][1]}")

    def test_sender_delivers_histograms_to_prometheus(self):
        self.assertEqual(self.promlite.sender("samples_dropped_total", "nh"), 0)
        ours = histogram_series(self.raw(self.promlite))
        theirs = histogram_series(self.raw(self.receiver))
        self.assertTrue(same_histograms(ours, theirs), f"{ours} != {theirs}")

    def test_federation_in_protobuf_carries_histograms(self):
        ours = histogram_series(self.raw(self.promlite))
        fed = histogram_series(self.raw(self.federator))
        fed_a = next(v for k, v in fed.items() if ("path", "/a") in k)
        self.assertGreaterEqual(len(fed_a), 5)
        ours_a = {s[0]: s for s in next(v for k, v in ours.items() if ("path", "/a") in k)}
        for sample in fed_a:
            # honor_labels keeps the labels, the federated sample keeps promlite's timestamp.
            self.assertTrue(same_histograms({"a": [sample]}, {"a": [ours_a[sample[0]]]}), sample)
        # Series labels survive federation (job and instance of the original scrape).
        self.assertEqual({dict(k)["job"] for k in fed}, {"native"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
