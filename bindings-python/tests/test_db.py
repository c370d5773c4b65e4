"""Opening, closing, appending and batches (core module `db`)."""

import math
from datetime import datetime, timedelta, timezone

import pytest

import promlite
from conftest import T0


def value_at(db, expr, t):
    """The single value of an instant query, or None for an empty result."""
    result = db.query(expr, time=t)["result"]
    assert len(result) <= 1, result
    return result[0]["value"][1] if result else None


def test_append_and_query_round_trip(db):
    db.append('http_requests_total{job="api", code="200"}', T0, 42)
    r = db.query("http_requests_total", time=T0)
    assert r == {
        "resultType": "vector",
        "result": [
            {
                "metric": {"__name__": "http_requests_total", "code": "200", "job": "api"},
                "value": [float(T0), 42.0],
            }
        ],
    }
    t, v = r["result"][0]["value"]
    assert type(t) is float and type(v) is float


def test_series_as_dict_is_the_same_series(db):
    db.append({"__name__": "up", "job": "api"}, T0, 1)
    db.append('up{job="api"}', T0 + 15, 2)
    assert db.series("up") == [{"__name__": "up", "job": "api"}]
    assert value_at(db, "up", T0 + 15) == 2.0


def test_timestamps_accept_int_float_and_datetime(db):
    utc = timezone.utc
    db.append("a", T0, 1)
    db.append("b", T0 + 0.25, 2)
    db.append("c", datetime.fromtimestamp(T0 + 1, utc), 3)
    # Naive datetimes are local time, as datetime.timestamp() has it.
    db.append("d", datetime.fromtimestamp(T0 + 2), 4)
    # Each sample's own timestamp comes back through a range selector.
    stamps = {
        s["metric"]["__name__"]: [t for t, _ in s["values"]]
        for s in db.query('{__name__=~"a|b|c|d"}[10s]', time=T0 + 2)["result"]
    }
    assert stamps == {"a": [T0], "b": [T0 + 0.25], "c": [T0 + 1.0], "d": [T0 + 2.0]}


def test_float_seconds_round_to_milliseconds(db):
    db.append("m", T0 + 0.1234, 1)
    db.append("m", T0 + 0.9996, 2)
    [s] = db.query("m[5s]", time=T0 + 1)["result"]
    assert [round(t * 1000) for t, _ in s["values"]] == [T0 * 1000 + 123, T0 * 1000 + 1000]


def test_special_float_values_round_trip(db):
    db.append("pos_inf", T0, math.inf)
    db.append("neg_inf", T0, -math.inf)
    db.append("not_a_number", T0, math.nan)
    assert value_at(db, "pos_inf", T0) == math.inf
    assert value_at(db, "neg_inf", T0) == -math.inf
    assert math.isnan(value_at(db, "not_a_number", T0))


def test_bad_timestamps_are_rejected(db):
    with pytest.raises(TypeError, match="timestamp"):
        db.append("x", "yesterday", 1)
    with pytest.raises(TypeError, match="bool"):
        db.append("x", True, 1)
    with pytest.raises(ValueError, match="finite"):
        db.append("x", math.nan, 1)
    with pytest.raises(ValueError, match="range"):
        db.append("x", 10**30, 1)


def test_data_survives_reopen(db_path):
    with promlite.open(db_path) as db:
        db.append('up{job="api"}', T0, 1)
    with promlite.open(str(db_path)) as db:
        assert db.series("up") == [{"__name__": "up", "job": "api"}]
        assert value_at(db, "up", T0) == 1.0


def test_context_manager_closes(db_path):
    with promlite.open(db_path) as db:
        assert not db.closed
        assert db.path == str(db_path)
    assert db.closed
    assert "closed" in repr(db)


def test_use_after_close_raises(db_path):
    db = promlite.open(db_path)
    db.close()
    db.close()  # closing twice is fine
    for call in (
        lambda: db.append("up", T0, 1),
        lambda: db.query("up", time=T0),
        lambda: db.series("up"),
        lambda: db.label_names(),
    ):
        with pytest.raises(promlite.StorageError, match="database is closed") as e:
            call()
        assert e.value.error_type == "internal"


def test_append_many_from_lists(db):
    n = db.append_many("seq", [T0, T0 + 1, T0 + 2], [1, 2.5, 3])
    assert n == 3
    [s] = db.query("seq[10s]", time=T0 + 2)["result"]
    assert s["values"] == [[T0, 1.0], [T0 + 1, 2.5], [T0 + 2, 3.0]]


def test_append_many_length_mismatch_writes_nothing(db):
    with pytest.raises(ValueError, match="differ in length"):
        db.append_many("seq", [T0, T0 + 1], [1])
    assert db.series("seq") == []


def test_batch_commits_many_series_at_once(db):
    with db.batch() as b:
        b.append('cpu{core="0"}', T0, 0.5)
        b.append('cpu{core="1"}', T0, 0.25)
        b.append_many({"__name__": "mem"}, [T0, T0 + 1], [10, 11])
        assert len(b) == 4
        # Nothing is visible before the block ends.
        assert db.series("cpu") == []
    assert len(db.series("cpu")) == 2
    assert value_at(db, "sum(cpu)", T0) == 0.75
    assert value_at(db, "mem", T0 + 1) == 11.0


def test_batch_is_discarded_when_the_block_raises(db):
    with pytest.raises(RuntimeError):
        with db.batch() as b:
            b.append("cpu", T0, 1)
            raise RuntimeError("boom")
    assert db.series("cpu") == []


def test_standalone_batch_and_write(db):
    b = promlite.Batch()
    b.append("x", T0, 1)
    b.append_many("y", [T0, T0 + 1], [1, 2])
    assert len(b) == 3
    assert "3 samples" in repr(b)
    assert db.write(b) == 3
    assert db.label_values("__name__") == ["x", "y"]


def test_batch_with_invalid_series_writes_nothing(db):
    b = promlite.Batch()
    b.append("good", T0, 1)
    b.append({"job": "no name"}, T0, 1)
    with pytest.raises(promlite.InvalidInputError, match="metric name") as e:
        db.write(b)
    assert e.value.error_type == "bad_data"
    assert db.series("good") == []


def test_series_without_metric_name_is_rejected(db):
    with pytest.raises(promlite.InvalidInputError):
        db.append({"job": "api"}, T0, 1)


def test_bad_series_string_reports_position(db):
    with pytest.raises(promlite.QueryError) as e:
        db.append('up{job="api"', T0, 1)
    assert e.value.error_type == "bad_data"
    assert e.value.line == 1 and e.value.column >= 1
    assert str(e.value).startswith(f"1:{e.value.column}: parse error")
    with pytest.raises(promlite.QueryError, match="only \"=\" matchers"):
        db.append('up{job=~"a.*"}', T0, 1)


def test_series_argument_type_is_checked(db):
    with pytest.raises(TypeError, match="selector string"):
        db.append(42, T0, 1)


def test_open_options_reach_the_query_engine(db_path):
    with promlite.open(db_path) as db:
        db.append("g", T0, 1)
    # With the default 5m lookback the sample is visible 200 s later...
    with promlite.open(db_path) as db:
        assert value_at(db, "g", T0 + 200) == 1.0
    # ...but not with a 100 s lookback (given as a timedelta or as seconds).
    with promlite.open(db_path, lookback_delta=timedelta(seconds=100)) as db:
        assert value_at(db, "g", T0 + 200) is None
    with promlite.open(db_path, lookback_delta=100) as db:
        assert value_at(db, "g", T0 + 99) == 1.0


def test_max_samples_option_limits_queries(db_path):
    with promlite.open(db_path, max_samples=5) as db:
        db.append_many("many", list(range(T0, T0 + 10)), [1.0] * 10)
        with pytest.raises(promlite.QueryError, match="too many samples") as e:
            db.query("many[1m]", time=T0 + 10)
        assert e.value.error_type == "execution"


def test_fsync_off_still_persists_across_reopen(db_path):
    with promlite.open(db_path, fsync_on_commit=False) as db:
        db.append("fast", T0, 1)
    with promlite.open(db_path) as db:
        assert value_at(db, "fast", T0) == 1.0


def test_a_file_has_one_writing_handle_per_process(db_path):
    with promlite.open(db_path) as db:
        with pytest.raises(promlite.InvalidInputError, match="already open for writing"):
            promlite.open(db_path)
        # Read-only handles may be opened alongside the writer.
        db.append("shared", T0, 1)
        with promlite.open(db_path, read_only=True) as reader:
            assert reader.series("shared") == [{"__name__": "shared"}]
    # Once closed, the file can be opened for writing again.
    promlite.open(db_path).close()


def test_retention_drops_old_samples(db_path):
    with promlite.open(db_path, retention=timedelta(minutes=1)) as db:
        db.append("old", T0, 1)
        db.append("new", T0 + 120, 2)
        db.apply_retention()
        assert db.label_values("__name__") == ["new"]
    # Without a retention nothing is dropped.
    with promlite.open(db_path) as db:
        db.append("old", T0, 1)
        assert db.apply_retention() == 0
        assert db.label_values("__name__") == ["new", "old"]


def test_compact_and_size(db):
    for i in range(20):  # one commit per sample: many small chunks
        db.append("c", T0 + i, i)
    assert db.size_bytes() > 0
    stats = db.compact()
    assert set(stats) == {"series_rewritten", "chunks_before", "chunks_after"}
    assert stats["chunks_after"] <= stats["chunks_before"]
    assert db.series("c", start=T0, end=T0 + 19) == [{"__name__": "c"}]


def test_flush_keeps_data_and_refuses_read_only(db_path):
    with promlite.open(db_path) as db:
        db.append_many("f", list(range(T0, T0 + 500)), [1.0] * 500)
        db.flush()
        assert db.series("f") == [{"__name__": "f"}]
    with promlite.open(db_path, read_only=True) as db:
        with pytest.raises(promlite.InvalidInputError):
            db.flush()


def test_bad_options_are_rejected(db_path):
    with pytest.raises(TypeError):
        promlite.open(db_path, no_such_option=1)
    with pytest.raises(ValueError, match="retention"):
        promlite.open(db_path, retention=-1)
    with pytest.raises(ValueError, match="lookback_delta"):
        promlite.open(db_path, lookback_delta=0)
    with pytest.raises(TypeError, match="query_timeout"):
        promlite.open(db_path, query_timeout="soon")


def test_read_only_refuses_writes(db_path):
    with promlite.open(db_path) as db:
        db.append("ro", T0, 1)
    with promlite.open(db_path, read_only=True) as db:
        with pytest.raises(promlite.InvalidInputError, match="read-only"):
            db.append("ro", T0 + 1, 2)
        assert value_at(db, "ro", T0 + 1) == 1.0


def test_unopenable_paths_raise(tmp_path):
    with pytest.raises(promlite.StorageError) as e:
        promlite.open(tmp_path / "missing-dir" / "x.db")
    assert e.value.error_type == "internal"
    with pytest.raises(promlite.StorageError, match="directory"):
        promlite.open(tmp_path)
    with pytest.raises(promlite.InvalidInputError, match="does not exist"):
        promlite.open(tmp_path / "absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()


def test_foreign_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"not a database, just text\n" * 100)
    before = path.read_bytes()
    with pytest.raises(promlite.StorageError):
        promlite.open(path)
    assert path.read_bytes() == before
