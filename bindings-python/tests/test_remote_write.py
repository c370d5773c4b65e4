"""Remote write from Python (core module `remote`): senders, stats, removal
and backfill against a scripted receiver on a free loopback port."""

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import promlite
from conftest import T0


class Receiver:
    """Answers each POST with the next scripted status (then 204) and keeps its headers."""

    def __init__(self, script=()):
        self.script = list(script)
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 204
                    receiver.requests.append((dict(self.headers), body, status))
                reply = b"" if status < 300 else b"scripted failure"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/write"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self):
        with self.lock:
            return [r for r in self.requests if r[2] < 300]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


FAST = {"flush_interval": 0.02, "min_backoff": 0.005, "max_backoff": timedelta(milliseconds=20)}


def stats(db, name):
    return next(s for s in db.remote_write_stats() if s["name"] == name)


def wait_for(what, cond):
    deadline = time.time() + 20
    while not cond():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_a_sender_delivers_with_auth_headers_and_selectors(db, receiver):
    db.remote_write_add(
        "main",
        receiver.url,
        bearer_token="py-token",
        headers={"X-Scope-OrgID": "team-py"},
        external_labels={"replica": "py"},
        drop='{__name__=~"go_.*"}',
        batch_size=3,
        **FAST,
    )
    for t in range(6):
        with db.batch() as b:
            b.append('up{job="api"}', T0 + t, 1)
            b.append("go_goroutines", T0 + t, 7)
    wait_for("delivery", lambda: stats(db, "main")["samples_sent"] == 6)
    wait_for("the ack", lambda: stats(db, "main")["pending_samples"] == 0)
    s = stats(db, "main")
    assert s["running"] is True and s["url"] == receiver.url
    assert (s["samples_skipped"], s["samples_dropped"], s["retries"]) == (6, 0, 0)
    assert s["newest_sent_timestamp"] == float(T0 + 5)
    assert s["last_error"] is None and s["lag_seconds"] == 0.0
    assert len(receiver.accepted()) >= 2, "batches of at most 3 samples"
    for headers, body, _ in receiver.accepted():
        assert headers["Authorization"] == "Bearer py-token"
        assert headers["X-Scope-OrgID"] == "team-py"
        assert headers["Content-Encoding"] == "snappy"
        assert body


def test_retries_and_drops_are_counted(db):
    receiver = Receiver(script=[503, 429, 400])
    try:
        db.remote_write_add("flaky", receiver.url, **FAST)
        db.append("m", T0, 1)
        wait_for("the drop", lambda: stats(db, "flaky")["samples_dropped"] == 1)
        db.append("m", T0 + 1, 2)
        wait_for("the next delivery", lambda: stats(db, "flaky")["samples_sent"] == 1)
        s = stats(db, "flaky")
        assert (s["retries"], s["requests_failed"], s["requests_dropped"]) == (2, 3, 1)
        assert "HTTP 400" in s["last_error"]
    finally:
        receiver.stop()


def test_senders_survive_reopening_and_can_be_removed(db_path, receiver):
    with promlite.open(db_path) as db:
        db.remote_write_add("kept", receiver.url, **FAST)
    with promlite.open(db_path) as db:
        db.append("m", T0, 1)
        (s,) = db.remote_write_stats()
        assert (s["name"], s["running"], s["pending_samples"]) == ("kept", False, 1)
        db.remote_write_add("kept", receiver.url, **FAST)
        wait_for("the queued sample", lambda: stats(db, "kept")["samples_sent"] == 1)
        assert db.remote_write_remove("kept") is True
        assert db.remote_write_remove("kept") is False
        assert db.remote_write_stats() == []


def test_backfill_sends_a_range_from_a_read_only_database(db_path, receiver):
    with promlite.open(db_path) as db:
        db.append_many('history{job="a"}', [T0 + i for i in range(30)], [float(i) for i in range(30)])
        db.append_many('history{job="b"}', [T0 + i for i in range(30)], [float(i) for i in range(30)])
    with promlite.open(db_path, read_only=True) as ro:
        report = ro.remote_write_backfill(
            receiver.url, T0 + 5, T0 + 24, keep=['{job="a"}'], batch_size=8, basic_auth=("u", "p")
        )
        assert report == {"series": 1, "samples_sent": 20, "requests_sent": 3, "samples_dropped": 0}
        assert all(h["Authorization"] == "Basic dTpw" for h, _, _ in receiver.accepted())
        with pytest.raises(promlite.InvalidInputError, match="read-only"):
            ro.remote_write_add("x", receiver.url)


def test_bad_settings_raise(db, receiver):
    with pytest.raises(promlite.InvalidInputError, match="must start with http"):
        db.remote_write_add("x", "localhost:9090")
    with pytest.raises(promlite.InvalidInputError, match="keep selector"):
        db.remote_write_add("x", receiver.url, keep="rate(x[5m])")
    with pytest.raises(TypeError, match="not both"):
        db.remote_write_add("x", receiver.url, bearer_token="t", basic_auth=("u", "p"))
    with pytest.raises(TypeError, match="strings to strings"):
        db.remote_write_add("x", receiver.url, headers={"X-A": 1})
    with pytest.raises(TypeError):
        db.remote_write_add("x", receiver.url, bogus=1)
    with pytest.raises(ValueError, match="flush_interval"):
        db.remote_write_add("x", receiver.url, flush_interval=-1)
    assert db.remote_write_stats() == []
    db.close()
    with pytest.raises(promlite.StorageError, match="closed"):
        db.remote_write_stats()
