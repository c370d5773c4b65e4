"""Native histograms: writing them (dict or promqltest notation) and query
results in the Prometheus API shape (core modules `histogram`, `value`)."""

import math

import pytest

import promlite
from conftest import T0

RPC = {"__name__": "rpc_seconds", "job": "api"}


def test_histograms_from_dicts_and_notation_come_back_in_the_api_shape(db):
    db.append_histogram(
        RPC,
        T0,
        {
            "schema": 0,
            "count": 4,
            "sum": 6.5,
            "zero_threshold": 0.001,
            "zero_count": 1,
            "positive_spans": [(0, 2)],
            "positive_buckets": [1, 2],
            "counter_reset_hint": "not_reset",
        },
    )
    db.append_histogram(RPC, T0 + 60, "{{schema:0 count:10 sum:20 z_bucket:2 z_bucket_w:0.001 buckets:[3 5]}}")

    r = db.query("rpc_seconds", time=T0 + 60)
    assert r == {
        "resultType": "vector",
        "result": [
            {
                "metric": RPC,
                "histogram": [
                    T0 + 60.0,
                    {
                        "count": 10.0,
                        "sum": 20.0,
                        "buckets": [[3, -0.001, 0.001, 2.0], [0, 0.5, 1.0, 3.0], [0, 1.0, 2.0, 5.0]],
                    },
                ],
            }
        ],
    }
    m = db.query("rpc_seconds[2m]", time=T0 + 60)
    [s] = m["result"]
    assert "values" not in s, "only histogram samples"
    assert [t for t, _ in s["histograms"]] == [T0, T0 + 60.0]
    assert s["histograms"][0][1] == {
        "count": 4.0,
        "sum": 6.5,
        "buckets": [[3, -0.001, 0.001, 1.0], [0, 0.5, 1.0, 1.0], [0, 1.0, 2.0, 2.0]],
    }
    # PromQL over them gives floats again.
    q = db.query("histogram_count(rpc_seconds) - histogram_count(rpc_seconds offset 1m)", time=T0 + 60)
    assert q["result"][0]["value"] == [T0 + 60.0, 6.0]


def test_series_with_both_kinds_in_a_range_query(db):
    with db.batch() as b:
        b.append("mixed", T0, 1.0)
        b.append_histogram("mixed", T0 + 30, {"count": 2, "sum": 1, "positive_spans": [(1, 1)], "positive_buckets": [2]})
    [s] = db.query_range("mixed", T0, T0 + 30, 30)["result"]
    assert s["values"] == [[float(T0), 1.0]]
    assert s["histograms"] == [[T0 + 30.0, {"count": 2.0, "sum": 1.0, "buckets": [[0, 1.0, 2.0, 2.0]]}]]


def test_custom_bucket_histograms_and_empty_ones(db):
    db.append_histogram(
        "size_bytes",
        T0,
        {"schema": -53, "count": 3, "sum": 250, "custom_values": [10, 100], "positive_spans": [(1, 2)], "positive_buckets": [1, 2]},
    )
    db.append_histogram("empty", T0, {})
    got = {s["metric"]["__name__"]: s["histogram"][1] for s in db.query('{__name__=~"size_bytes|empty"}', time=T0)["result"]}
    assert got["size_bytes"]["buckets"] == [[0, 10.0, 100.0, 1.0], [0, 100.0, math.inf, 2.0]]
    assert got["empty"] == {"count": 0.0, "sum": 0.0}, "no buckets key without observations"


def test_malformed_histograms_are_refused_and_nothing_is_written(db):
    bad = {"count": 3, "positive_spans": [(0, 1)], "positive_buckets": [1, 2]}
    with pytest.raises(promlite.InvalidInputError, match="spans hold 1 buckets, but 2 bucket counts"):
        db.append_histogram(RPC, T0, bad)
    batch = promlite.Batch()
    batch.append(RPC, T0, 1.0)
    with pytest.raises(promlite.InvalidInputError, match="negative count"):
        batch.append_histogram(RPC, T0, {"count": 1, "positive_spans": [(0, 1)], "positive_buckets": [-1]})
    assert len(batch) == 1, "the refused histogram was not added"
    with pytest.raises(ValueError, match='unknown histogram field "bukets"'):
        db.append_histogram(RPC, T0, {"bukets": [1]})
    with pytest.raises(ValueError, match="counter_reset_hint"):
        db.append_histogram(RPC, T0, {"counter_reset_hint": "maybe"})
    with pytest.raises(ValueError, match='histogram field "positive_spans"'):
        db.append_histogram(RPC, T0, {"positive_spans": [1, 2]})
    with pytest.raises(promlite.InvalidInputError, match="parse|notation|expected|unknown"):
        db.append_histogram(RPC, T0, "{{schema:0 cont:1}}")
    with pytest.raises(TypeError, match="a histogram must be a dict"):
        db.append_histogram(RPC, T0, 3.5)
    assert db.query("rpc_seconds", time=T0)["result"] == []


def test_to_pandas_refuses_histograms_with_a_hint(db):
    pytest.importorskip("pandas")
    db.append_histogram(RPC, T0, "{{count:1 buckets:[1]}}")
    with pytest.raises(ValueError, match="histogram_quantile"):
        promlite.to_pandas(db.query("rpc_seconds", time=T0))
