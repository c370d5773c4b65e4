"""Series, label names and values, deletion (core `Db::series`, `label_*`, `delete_series`)."""

import pytest

import promlite
from conftest import T0


@pytest.fixture
def populated(db):
    with db.batch() as b:
        b.append('http_requests_total{job="api", code="200"}', T0, 1)
        b.append('http_requests_total{job="api", code="500"}', T0 + 100, 1)
        b.append('http_requests_total{job="web", code="200"}', T0, 1)
        b.append('up{job="api", instance="a:9090"}', T0 + 100, 1)
    return db


def test_series_with_one_selector(populated):
    got = populated.series('http_requests_total{job="api"}')
    assert got == [
        {"__name__": "http_requests_total", "code": "200", "job": "api"},
        {"__name__": "http_requests_total", "code": "500", "job": "api"},
    ]


def test_series_with_several_selectors_is_a_sorted_union(populated):
    got = populated.series(['up', 'http_requests_total{code="500"}', '{job="api", code="500"}'])
    assert got == [
        {"__name__": "http_requests_total", "code": "500", "job": "api"},
        {"__name__": "up", "instance": "a:9090", "job": "api"},
    ]


def test_series_with_regex_and_time_range(populated):
    got = populated.series('{__name__=~"http_.*", code!="500"}', start=T0, end=T0 + 50)
    assert [s["job"] for s in got] == ["api", "web"]
    # Only series with samples in [start, end] count.
    assert populated.series("up", start=T0, end=T0 + 50) == []
    assert len(populated.series("up", start=T0 + 100)) == 1


def test_label_names(populated):
    assert populated.label_names() == ["__name__", "code", "instance", "job"]
    assert populated.label_names("up") == ["__name__", "instance", "job"]
    assert populated.label_names(["up", 'http_requests_total{job="web"}']) == [
        "__name__",
        "code",
        "instance",
        "job",
    ]


def test_label_values(populated):
    assert populated.label_values("job") == ["api", "web"]
    assert populated.label_values("code", 'http_requests_total{job="api"}') == ["200", "500"]
    assert populated.label_values("__name__", end=T0 + 50) == ["http_requests_total"]
    assert populated.label_values("no_such_label") == []


def test_delete_series(populated):
    n = populated.delete_series('http_requests_total{job="api"}')
    assert n == 2
    assert populated.label_values("code") == ["200"]
    assert populated.series("http_requests_total") == [
        {"__name__": "http_requests_total", "code": "200", "job": "web"}
    ]


def test_delete_series_in_a_time_range_keeps_other_samples(db):
    db.append_many("d", [T0, T0 + 10, T0 + 20], [1, 2, 3])
    db.delete_series("d", start=T0 + 5, end=T0 + 15)
    [s] = db.query("d[30s]", time=T0 + 20)["result"]
    assert s["values"] == [[float(T0), 1.0], [T0 + 20.0, 3.0]]


def test_selectors_must_be_selectors(populated):
    with pytest.raises(promlite.QueryError, match="series selector"):
        populated.series("sum(up)")
    with pytest.raises(promlite.QueryError) as e:
        populated.series('up{job="api"')
    assert e.value.error_type == "bad_data"
    with pytest.raises(TypeError, match="selector"):
        populated.series(42)
    with pytest.raises(TypeError, match="selector"):
        populated.label_names([1, 2])
    with pytest.raises(ValueError, match="at least one selector"):
        populated.series([])
    with pytest.raises(promlite.QueryError, match="invalid regular expression") as e:
        populated.series('{job=~"("}')
    assert e.value.position == 1
