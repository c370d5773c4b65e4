"""Instant and range queries and their result shapes (core module `eval`, `value`)."""

import time
from datetime import datetime, timedelta, timezone

import pytest

import promlite
from conftest import T0


@pytest.fixture
def counters(db):
    for job, rate in (("api", 1), ("web", 2)):
        ts = [T0 + i * 15 for i in range(21)]  # 5 minutes at 15 s
        db.append_many({"__name__": "requests_total", "job": job}, ts, [i * 15 * rate for i in range(21)])
    return db


def test_vector_result(counters):
    r = counters.query("sum by (job) (rate(requests_total[1m]))", time=T0 + 300)
    assert r["resultType"] == "vector"
    got = {s["metric"]["job"]: s["value"] for s in r["result"]}
    assert got == {"api": [T0 + 300.0, pytest.approx(1.0)], "web": [T0 + 300.0, pytest.approx(2.0)]}


def test_matrix_result_from_query_range(counters):
    r = counters.query_range('requests_total{job="api"}', T0, T0 + 60, 30)
    assert r == {
        "resultType": "matrix",
        "result": [
            {
                "metric": {"__name__": "requests_total", "job": "api"},
                "values": [[T0 + 0.0, 0.0], [T0 + 30.0, 30.0], [T0 + 60.0, 60.0]],
            }
        ],
    }


def test_query_range_accepts_datetimes_and_timedelta(counters):
    start = datetime.fromtimestamp(T0, timezone.utc)
    r = counters.query_range("sum(requests_total)", start, start + timedelta(minutes=1), timedelta(seconds=20))
    [s] = r["result"]
    assert s["metric"] == {}
    assert [t for t, _ in s["values"]] == [T0, T0 + 20, T0 + 40, T0 + 60]
    assert s["values"][-1][1] == 60.0 + 120.0


def test_range_selector_in_instant_query_is_a_matrix(counters):
    r = counters.query('requests_total{job="web"}[30s]', time=T0 + 30)
    assert r["resultType"] == "matrix"
    [s] = r["result"]
    assert s["values"] == [[T0 + 15.0, 30.0], [T0 + 30.0, 60.0]]


def test_scalar_and_string_results(db):
    assert db.query("1 + 2", time=T0) == {"resultType": "scalar", "result": [float(T0), 3.0]}
    assert db.query('"hello"', time=T0) == {"resultType": "string", "result": [float(T0), "hello"]}


def test_time_defaults_to_now(db):
    # A second back: a timestamp rounded to the millisecond may lie just after
    # the "now" of a query made within the same millisecond.
    db.append("now_metric", time.time() - 1, 7)
    [s] = db.query("now_metric")["result"]
    assert s["value"][1] == 7.0
    assert abs(s["value"][0] - time.time()) < 60


def test_empty_result(db):
    assert db.query("absent_metric", time=T0) == {"resultType": "vector", "result": []}


def test_parse_error_has_position(db):
    with pytest.raises(promlite.QueryError) as e:
        db.query("sum(rate(x[5m])", time=T0)
    err = e.value
    assert isinstance(err, promlite.Error)
    assert err.error_type == "bad_data"
    assert err.query == "sum(rate(x[5m])"
    assert err.line == 1
    assert 1 <= err.column <= len(err.query) + 1
    assert err.position == err.column - 1
    assert str(err).startswith(f"1:{err.column}: parse error:")


def test_parse_error_position_counts_characters_on_later_lines(db):
    q = 'sum(\n  "é" + )'
    with pytest.raises(promlite.QueryError) as e:
        db.query(q, time=T0)
    err = e.value
    assert err.line == 2
    # position is a character offset into the query, consistent with line/column.
    assert err.position == len("sum(\n") + err.column - 1
    assert q[err.position] in "+)"


def test_execution_error(db):
    for i in range(2):
        db.append({"__name__": "left", "i": str(i)}, T0, i)
        db.append({"__name__": "right", "i": str(i)}, T0, i)
    with pytest.raises(promlite.QueryError) as e:
        db.query("left + on() right", time=T0)
    assert e.value.error_type == "execution"
    assert not hasattr(e.value, "position")


def test_step_must_be_positive(db):
    with pytest.raises(ValueError, match="step"):
        db.query_range("up", T0, T0 + 10, 0)
    with pytest.raises(ValueError, match="step"):
        db.query_range("up", T0, T0 + 10, -5)
