"""Prometheus text format and prometheus_client registries (core module `exposition`)."""

import pytest

import promlite
from conftest import T0

EXPOSITION = """\
# HELP jobs_processed_total Jobs processed.
# TYPE jobs_processed_total counter
jobs_processed_total{queue="fast"} 10
jobs_processed_total{queue="slow"} 3 1700000005000
# TYPE temperature_celsius gauge
temperature_celsius 21.5
"""


def test_ingest_exposition(db):
    assert db.ingest_exposition(EXPOSITION, timestamp=T0) == 3
    r = db.query("jobs_processed_total", time=T0 + 10)["result"]
    got = {s["metric"]["queue"]: s["value"] for s in r}
    # Samples without a timestamp get the given one; explicit timestamps win.
    assert got == {"fast": [T0 + 10.0, 10.0], "slow": [T0 + 10.0, 3.0]}
    [s] = db.query("temperature_celsius[1m]", time=T0 + 10)["result"]
    assert s["values"] == [[float(T0), 21.5]]
    [s] = db.query('jobs_processed_total{queue="slow"}[1m]', time=T0 + 10)["result"]
    assert s["values"] == [[T0 + 5.0, 3.0]]


def test_bad_exposition_writes_nothing(db):
    bad = EXPOSITION + "this line is {not valid\n"
    with pytest.raises(promlite.InvalidInputError) as e:
        db.ingest_exposition(bad, timestamp=T0)
    assert e.value.error_type == "bad_data"
    assert db.label_names() == []



def test_ingest_registry_collects_counters_gauges_and_histograms(db):
    import prometheus_client

    registry = prometheus_client.CollectorRegistry()
    c = prometheus_client.Counter("orders", "Orders placed.", ["shop"], registry=registry)
    g = prometheus_client.Gauge("queue_depth", "Items waiting.", registry=registry)
    h = prometheus_client.Histogram("latency_seconds", "Latency.", buckets=[0.1, 1], registry=registry)
    c.labels(shop="north").inc(3)
    g.set(7)
    for v in (0.05, 0.5, 5):
        h.observe(v)

    assert db.ingest_registry(registry, timestamp=T0) > 0
    assert db.query("orders_total", time=T0)["result"] == [
        {"metric": {"__name__": "orders_total", "shop": "north"}, "value": [float(T0), 3.0]}
    ]
    assert db.query("queue_depth", time=T0)["result"][0]["value"] == [float(T0), 7.0]
    buckets = {
        s["metric"]["le"]: s["value"][1] for s in db.query("latency_seconds_bucket", time=T0)["result"]
    }
    assert buckets == {"0.1": 1.0, "1.0": 2.0, "+Inf": 3.0}
    assert db.query("latency_seconds_count", time=T0)["result"][0]["value"][1] == 3.0
