"""End-to-end tests of `promlite serve` with real clients.

Run through tests/e2e/run.sh, which installs the clients and sets PROMLITE_BIN.
One promlite server (auth on, small body limit) serves most tests; the
Prometheus and shutdown tests start their own processes. Every process listens
on 127.0.0.1 with a free port, works in a temp dir, and is stopped at the end.
"""

import base64
import gzip
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import requests
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import (
    basic_auth_handler,
    delete_from_gateway,
    push_to_gateway,
    pushadd_to_gateway,
)

from processes import PROCS, PromliteProcess, free_port, workdir

BIN = os.environ["PROMLITE_BIN"]
READ = "e2e-read-token"
WRITE = "e2e-write-token"
CONFIG_WRITER = "e2e-config-writer"
MAX_BODY = 65536

WORKDIR = workdir("promlite-e2e-")


class Promlite(PromliteProcess):
    """A `promlite serve` process; tokens come from a flag, the environment and a config file."""

    def __init__(self, db, extra_args=()):
        config = os.path.join(WORKDIR, "promlite.toml")
        with open(config, "w") as f:
            f.write(f'write_tokens = ["{CONFIG_WRITER}"]\nmax_body_bytes = {MAX_BODY}\n')
        env = dict(os.environ, PROMLITE_READ_TOKENS=READ)
        args = [BIN, "serve", "--db", db, "--listen", "127.0.0.1:0", "--write-token", WRITE, "--config", config]
        super().__init__(args + list(extra_args), env)

    def stop(self, sig=signal.SIGTERM):
        return super().stop(sig)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


SERVER = None


def setUpModule():
    global SERVER
    SERVER = Promlite(os.path.join(WORKDIR, "main.db"))


def tearDownModule():
    assert SERVER.stop() == 0, "".join(SERVER.log)


def api(path, params=None, token=READ, method=None, form=None):
    """A query-API call: GET with params, or a form-encoded POST when `form` is given."""
    headers = bearer(token) if token else {}
    if form is not None:
        return requests.request(method or "POST", SERVER.url + path, data=form, headers=headers, timeout=30)
    return requests.request(method or "GET", SERVER.url + path, params=params, headers=headers, timeout=30)


def data(resp):
    assert resp.status_code == 200, (resp.status_code, resp.text)
    body = resp.json()
    assert body["status"] == "success", body
    return body["data"]


def instant(expr, t=None):
    params = {"query": expr}
    if t is not None:
        params["time"] = t
    return data(api("/api/v1/query", params))


def series_names(match):
    return sorted(json.dumps(s, sort_keys=True) for s in data(api("/api/v1/series", {"match[]": match})))


def stored_metric_names():
    return data(api("/api/v1/label/__name__/values"))


def push(method, path, body, token=WRITE, headers=None):
    h = {"Content-Type": "text/plain; version=0.0.4"}
    h.update(bearer(token) if token else {})
    h.update(headers or {})
    return requests.request(method, SERVER.url + path, data=body, headers=h, timeout=30)


def write_handler(url, method, timeout, headers, data):
    return basic_auth_handler(url, method, timeout, headers, data, "metrics", WRITE)


class PromtoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        now = int(time.time())
        cls.t = now - 30
        lines = []
        for i, ts in enumerate(range(now - 120, now - 29, 30)):
            lines.append(f'e2e_temp{{room="a"}} {20 + i} {ts * 1000}')
            lines.append(f'e2e_temp{{room="b"}} {30 + i} {ts * 1000}')
        r = push("PUT", "/metrics/job/promtool", "\n".join(lines) + "\n")
        assert r.status_code == 200, r.text
        # promtool takes the token as the Basic auth password in the URL.
        parts = urllib.parse.urlsplit(SERVER.url)
        cls.url = f"http://metrics:{READ}@{parts.netloc}"

    def promtool(self, *args):
        out = subprocess.run(["promtool", "query", *args], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_instant(self):
        out = self.promtool("instant", f"--time={self.t}", self.url, 'e2e_temp{room="a"}')
        self.assertRegex(out, r'e2e_temp\{job="promtool", room="a"\} => 23 @\[%d\]' % self.t)
        out = self.promtool("-o", "json", "instant", f"--time={self.t}", self.url, "sum(e2e_temp)")
        self.assertEqual(json.loads(out), [{"metric": {}, "value": [self.t, "56"]}])

    def test_range(self):
        out = self.promtool("-o", "json", "range", f"--start={self.t - 90}", f"--end={self.t}", "--step=30s", self.url, 'e2e_temp{room="b"}')
        got = json.loads(out)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["values"], [[self.t - 90 + 30 * i, str(30 + i)] for i in range(4)])

    def test_series(self):
        out = self.promtool("series", "--match=e2e_temp", self.url)
        self.assertEqual(
            sorted(out.split()),
            sorted(['{__name__="e2e_temp",', 'job="promtool",', 'room="a"}', '{__name__="e2e_temp",', 'job="promtool",', 'room="b"}']),
        )

    def test_labels(self):
        self.assertEqual(self.promtool("labels", self.url, "room").split(), ["a", "b"])

    def test_bad_token_is_refused(self):
        bad = self.url.replace(READ, "wrong")
        out = subprocess.run(["promtool", "query", "instant", bad, "e2e_temp"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("401", out.stderr + out.stdout)


class PushTest(unittest.TestCase):
    """prometheus_client against /metrics/job/...: the Pushgateway semantics."""

    def setUp(self):
        self.reg = CollectorRegistry()
        self.done = Counter("e2e_jobs_done", "Jobs done.", ["kind"], registry=self.reg)
        self.last = Gauge("e2e_last_success", "Last success.", registry=self.reg)
        self.key = {"instance": "host/1"}  # a '/' makes the client base64-encode the value

    def push(self, fn, registry=None):
        fn(SERVER.url, job="e2e-batch", registry=registry or self.reg, grouping_key=self.key, handler=write_handler)

    def current(self, expr):
        return {json.dumps(s["metric"], sort_keys=True): s["value"][1] for s in instant(expr)["result"]}

    def test_push_pushadd_delete(self):
        self.done.labels("x").inc(3)
        self.done.labels("y").inc(1)
        self.last.set(42)
        self.push(push_to_gateway)
        labels = {"instance": "host/1", "job": "e2e-batch"}
        got = self.current('{job="e2e-batch"}')
        self.assertEqual(got[json.dumps(dict(labels, __name__="e2e_last_success"), sort_keys=True)], "42")
        self.assertEqual(got[json.dumps(dict(labels, __name__="e2e_jobs_done_total", kind="x"), sort_keys=True)], "3")
        self.assertIn(json.dumps(dict(labels, __name__="push_time_seconds"), sort_keys=True), got)
        # prometheus_client's 0.0.4 text names the counter family with its _total suffix.
        md = data(api("/api/v1/metadata", {"metric": "e2e_jobs_done_total"}))
        self.assertEqual(md["e2e_jobs_done_total"], [{"type": "counter", "help": "Jobs done.", "unit": ""}])

        # pushadd (POST) replaces only e2e_jobs_done: kind="y" goes stale, e2e_last_success stays.
        reg2 = CollectorRegistry()
        Counter("e2e_jobs_done", "Jobs done.", ["kind"], registry=reg2).labels("x").inc(5)
        time.sleep(0.01)
        self.push(pushadd_to_gateway, reg2)
        got = self.current('{job="e2e-batch",__name__=~"e2e_jobs_done_total|e2e_last_success"}')
        self.assertEqual(
            sorted(got.values()), ["42", "5"], got
        )  # kind="y" is gone (stale marker), the gauge was kept

        # push (PUT) with only the gauge: the counter family goes stale.
        reg3 = CollectorRegistry()
        Gauge("e2e_last_success", "Last success.", registry=reg3).set(43)
        time.sleep(0.01)
        self.push(push_to_gateway, reg3)
        got = self.current('{job="e2e-batch",__name__=~"e2e_jobs_done_total|e2e_last_success"}')
        self.assertEqual(list(got.values()), ["43"], got)

        # The pushed sample is still stored before its stale marker (which range functions skip).
        hist = instant('count_over_time(e2e_jobs_done_total{kind="y"}[1m])')["result"]
        self.assertEqual([s["value"][1] for s in hist], ["1"])

        # delete: everything in the group, push_time_seconds included, goes stale.
        time.sleep(0.01)
        delete_from_gateway(SERVER.url, job="e2e-batch", grouping_key=self.key, handler=write_handler)
        self.assertEqual(self.current('{job="e2e-batch"}'), {})

    def test_empty_grouping_value_and_gzip_body(self):
        body = gzip.compress(b"e2e_gz 7\n")
        r = push("PUT", "/metrics/job/e2e-gz/zone@base64/=/rack/r1", body, headers={"Content-Encoding": "gzip"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(series_names("e2e_gz"), [json.dumps({"__name__": "e2e_gz", "job": "e2e-gz", "rack": "r1"}, sort_keys=True)])


class PrometheusRemoteWriteTest(unittest.TestCase):
    """Debian's Prometheus 2.42 scrapes itself and remote-writes into promlite."""

    def test_prometheus_remote_write(self):
        port = free_port()
        tmp = tempfile.mkdtemp(dir=WORKDIR)
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(
                f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: e2e-prometheus
    static_configs:
      - targets: ["127.0.0.1:{port}"]
remote_write:
  - url: {SERVER.url}/api/v1/write
    authorization:
      credentials: {CONFIG_WRITER}
    queue_config:
      batch_send_deadline: 1s
      max_samples_per_send: 500
    metadata_config:
      send_interval: 2s
"""
            )
        log_path = os.path.join(tmp, "prometheus.log")
        with open(log_path, "w") as log:
            prom = subprocess.Popen(
                ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        PROCS.append(prom)
        try:
            deadline = time.time() + 90
            up = []
            while time.time() < deadline:
                up = instant('up{job="e2e-prometheus"}')["result"]
                md = data(api("/api/v1/metadata", {"metric": "prometheus_build_info"}))
                if up and md and len(data(api("/api/v1/query_range", {"query": 'up{job="e2e-prometheus"}', "start": time.time() - 60, "end": time.time(), "step": 1}))["result"][0]["values"]) >= 3:
                    break
                time.sleep(0.5)
            if not up:
                with open(log_path) as log:
                    self.fail("no remote-written samples arrived: " + log.read()[-3000:])
            self.assertEqual(up[0]["value"][1], "1")
            self.assertEqual(md["prometheus_build_info"][0]["type"], "gauge")

            # The same query at a time both have answers the same on both servers.
            t = up[0]["value"][0] - 2
            prom_url = f"http://127.0.0.1:{port}"
            for expr in ['prometheus_build_info{job="e2e-prometheus"}', 'count by (job) ({job="e2e-prometheus", __name__=~"prometheus_tsdb_.*"})', 'scrape_samples_scraped{job="e2e-prometheus"}']:
                ours = instant(expr, t)["result"]
                theirs = requests.get(prom_url + "/api/v1/query", params={"query": expr, "time": t}, timeout=30).json()["data"]["result"]
                self.assertTrue(theirs, expr)
                self.assertEqual(ours, theirs, expr)
        finally:
            prom.terminate()
            prom.wait(timeout=60)


class GrafanaReplayTest(unittest.TestCase):
    """The calls Grafana's Prometheus data source makes, as it makes them (form-encoded POSTs)."""

    @classmethod
    def setUpClass(cls):
        now = int(time.time())
        body = "".join(f'grafana_http_requests_total{{code="{c}",handler="/api"}} {i * 10 + n} {(now - 300 + 15 * i) * 1000}\n' for i in range(20) for n, c in enumerate(["200", "500"]))
        assert push("PUT", "/metrics/job/grafana", "# HELP grafana_http_requests_total Requests.\n# TYPE grafana_http_requests_total counter\n" + body).status_code == 200
        cls.now = now

    def check_vector_or_matrix(self, d, result_type):
        self.assertEqual(d["resultType"], result_type)
        for s in d["result"]:
            self.assertIsInstance(s["metric"], dict)
            points = [s["value"]] if result_type == "vector" else s["values"]
            for ts, v in points:
                self.assertIsInstance(ts, (int, float))
                self.assertIsInstance(v, str)
                float(v)

    def test_save_and_test_data_source(self):
        info = data(api("/api/v1/status/buildinfo"))
        self.assertRegex(info["version"], r"^\d+\.\d+\.\d+")
        d = data(api("/api/v1/query", form={"query": "1+1", "time": str(self.now)}))
        self.assertEqual(d, {"resultType": "scalar", "result": [self.now, "2"]})
        self.assertEqual(data(api("/api/v1/rules")), {"groups": []})

    def test_dashboard_panel(self):
        form = {"query": "sum by (code) (rate(grafana_http_requests_total[1m]))", "start": str(self.now - 300), "end": str(self.now), "step": "15"}
        d = data(api("/api/v1/query_range", form=form))
        self.check_vector_or_matrix(d, "matrix")
        self.assertEqual(sorted(s["metric"]["code"] for s in d["result"]), ["200", "500"])
        d = data(api("/api/v1/query", form={"query": "grafana_http_requests_total", "time": str(self.now - 20)}))
        self.check_vector_or_matrix(d, "vector")
        self.assertEqual(len(d["result"]), 2)
        self.assertEqual(data(api("/api/v1/query_exemplars", form={"query": "grafana_http_requests_total", "start": str(self.now - 300), "end": str(self.now)})), [])

    def test_label_browser_and_metric_picker(self):
        rng = {"start": str(self.now - 3600), "end": str(self.now)}
        names = data(api("/api/v1/labels", form=rng))
        self.assertTrue({"__name__", "code", "handler", "job"} <= set(names), names)
        self.assertTrue(all(isinstance(n, str) for n in names))
        metrics = data(api("/api/v1/label/__name__/values", dict(rng)))
        self.assertIn("grafana_http_requests_total", metrics)
        codes = data(api("/api/v1/label/code/values", {"match[]": 'grafana_http_requests_total{job="grafana"}', **rng}))
        self.assertEqual(codes, ["200", "500"])
        series = data(api("/api/v1/series", form={"match[]": "grafana_http_requests_total", **rng}))
        self.assertEqual(len(series), 2)
        self.assertTrue(all(s["__name__"] == "grafana_http_requests_total" for s in series))
        md = data(api("/api/v1/metadata"))
        self.assertEqual(md["grafana_http_requests_total"], [{"type": "counter", "help": "Requests.", "unit": ""}])
        for entries in md.values():
            for e in entries:
                self.assertEqual(set(e), {"type", "help", "unit"})


class RejectionTest(unittest.TestCase):
    """Auth matrix, oversized bodies, malformed input, bad parameters: right status, nothing stored."""

    def assertNothingStored(self, metric="e2e_rejected"):
        self.assertFalse(data(api("/api/v1/series", {"match[]": metric})), f"{metric} was stored")

    def test_auth_matrix(self):
        creds = {"none": None, "wrong": "wrong-token", "read": READ, "write": WRITE, "config writer": CONFIG_WRITER}
        for name, token in creds.items():
            # read endpoints
            for path in ["/api/v1/query?query=1", "/api/v1/labels", "/api/v1/status/buildinfo", "/metrics"]:
                r = requests.get(SERVER.url + path, headers=bearer(token) if token else {}, timeout=30)
                want = {"none": 401, "wrong": 401, "read": 200}.get(name, 403)
                self.assertEqual(r.status_code, want, (name, path, r.text))
                if want == 401:
                    self.assertIn("Basic", r.headers.get("WWW-Authenticate", ""))
            # write endpoints, also with Basic auth
            want = {"none": 401, "wrong": 401, "read": 403}.get(name, 200)
            auth = ("metrics", token) if token else None
            path = f"/metrics/job/e2e-auth-{name.replace(' ', '-')}"
            r = requests.put(SERVER.url + path, data="e2e_auth_pushed 1\n", auth=auth, timeout=30)
            self.assertEqual(r.status_code, want, (name, r.text))
            r = requests.post(SERVER.url + "/api/v1/write", data=b"", auth=auth, timeout=30)
            self.assertEqual(r.status_code, {200: 400}.get(want, want), (name, r.text))  # an empty body is not a WriteRequest
        # Only the allowed pushes stored anything.
        groups = data(api("/api/v1/label/job/values", {"match[]": "e2e_auth_pushed"}))
        self.assertEqual(groups, ["e2e-auth-config-writer", "e2e-auth-write"])
        for path in ["/-/healthy", "/-/ready"]:
            self.assertEqual(requests.get(SERVER.url + path, timeout=30).status_code, 200)

    def test_oversized_bodies(self):
        big = "".join(f'e2e_rejected{{i="{i}"}} {i}\n' for i in range(5000))
        self.assertGreater(len(big), MAX_BODY)
        r = push("PUT", "/metrics/job/e2e-big", big)
        self.assertEqual(r.status_code, 413, r.text)
        # gzip does not get around the limit: it applies to the decoded body.
        r = push("PUT", "/metrics/job/e2e-big", gzip.compress(big.encode()), headers={"Content-Encoding": "gzip"})
        self.assertEqual(r.status_code, 413, r.text)
        r = requests.post(SERVER.url + "/api/v1/write", data=os.urandom(MAX_BODY + 1), headers={**bearer(WRITE), "Content-Encoding": "snappy"}, timeout=30)
        self.assertEqual(r.status_code, 413, r.text)
        self.assertNothingStored()

    def test_malformed_exposition(self):
        cases = {
            "e2e_rejected 1\ne2e_rejected{a=\"1\" 2\n": "line 2",
            "e2e_rejected 1\ne2e_rejected2 one\n": "line 2: invalid value",
            "# TYPE e2e_rejected gauge\n# TYPE e2e_rejected counter\ne2e_rejected 1\n": "line 2: second TYPE line",
            "e2e_rejected{a=\"1\",a=\"2\"} 1\n": "line 1: duplicate label name",
        }
        for body, message in cases.items():
            for method in ["PUT", "POST"]:
                r = push(method, "/metrics/job/e2e-malformed", body)
                self.assertEqual(r.status_code, 400, (body, r.text))
                self.assertIn(message, r.text)
        self.assertNothingStored()
        self.assertNothingStored("e2e_rejected2")

    def test_malformed_remote_write(self):
        h = {**bearer(WRITE), "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}
        r = requests.post(SERVER.url + "/api/v1/write", data=b"\xff\x00garbage", headers=h, timeout=30)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("snappy", r.text)
        # A valid snappy block (uncompressed literal) holding bytes that are not a WriteRequest.
        junk = b"\xff\xff\xff\xff"
        block = bytes([len(junk)]) + bytes([(len(junk) - 1) << 2]) + junk
        r = requests.post(SERVER.url + "/api/v1/write", data=block, headers=h, timeout=30)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("protobuf", r.text)

    def test_bad_parameters(self):
        cases = [
            ("/api/v1/query", {"query": "sum(", "time": "1"}, "parse error"),
            ("/api/v1/query", {"query": "up", "time": "noon"}, 'invalid parameter "time"'),
            ("/api/v1/query_range", {"query": "up", "start": "0", "end": "60"}, 'invalid parameter "step"'),
            ("/api/v1/query_range", {"query": "up", "start": "60", "end": "0", "step": "15"}, "end timestamp must not be before start time"),
            ("/api/v1/query_range", {"query": "up", "start": "0", "end": "1000000", "step": "1"}, "11,000 points"),
            ("/api/v1/series", {}, "no match[] parameter provided"),
            ("/api/v1/series", {"match[]": "up{"}, 'invalid parameter "match[]"'),
            ("/api/v1/labels", {"limit": "-3"}, "limit must be non-negative"),
        ]
        for path, params, message in cases:
            for r in [api(path, params), api(path, form=params)]:
                self.assertEqual(r.status_code, 400, (path, params, r.text))
                body = r.json()
                self.assertEqual((body["status"], body["errorType"]), ("error", "bad_data"))
                self.assertIn(message, body["error"])


class ShutdownTest(unittest.TestCase):
    def test_sigterm_and_sigint_commit_and_close(self):
        db = os.path.join(WORKDIR, "shutdown.db")
        for sig in [signal.SIGTERM, signal.SIGINT]:
            s = Promlite(db)
            r = requests.put(s.url + f"/metrics/job/shutdown-{sig.name}", data="e2e_shutdown 1\n", headers=bearer(WRITE), timeout=30)
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(s.stop(sig), 0, "".join(s.log))
            self.assertIn("database closed", "".join(s.log))
        s = Promlite(db)
        try:
            r = requests.get(s.url + "/api/v1/label/job/values", params={"match[]": "e2e_shutdown"}, headers=bearer(READ), timeout=30)
            self.assertEqual(data(r), ["shutdown-SIGINT", "shutdown-SIGTERM"])
        finally:
            self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
