"""NumPy and pandas inputs to append_many, including a large one."""

import numpy as np
import pandas as pd
import pytest

import promlite
from conftest import T0

N = 1_000_000


def test_large_append_many_from_numpy(db):
    ts = T0 + np.arange(N, dtype=np.float64)  # one sample a second, ~11.6 days
    values = np.sin(np.arange(N) / 1000.0)
    assert db.append_many('big{src="numpy"}', ts, values) == N
    end = T0 + N - 1
    r = db.query("count_over_time(big[12d])", time=end)
    assert r["result"][0]["value"][1] == float(N)
    r = db.query("sum_over_time(big[12d])", time=end)
    assert r["result"][0]["value"][1] == pytest.approx(values.sum(), rel=1e-9)
    # Spot-check single points: last value and one in the middle.
    [s] = db.query("big[1s]", time=end)["result"]
    assert s["values"] == [[float(end), float(values[-1])]]
    mid = T0 + N // 2
    [s] = db.query("big[1s]", time=mid)["result"]
    assert s["values"] == [[float(mid), float(values[N // 2])]]


def test_numpy_dtypes(db):
    db.append_many("ints", np.array([T0, T0 + 1], dtype=np.int64), np.array([1, 2], dtype=np.int32))
    db.append_many("floats32", np.array([T0, T0 + 1], dtype=np.uint32), np.array([0.5, 1.5], dtype=np.float32))
    # Non-contiguous arrays are fine too.
    db.append_many("strided", np.arange(T0, T0 + 10)[::5], np.arange(10.0)[::5])
    [s] = db.query("ints[5s]", time=T0 + 1)["result"]
    assert s["values"] == [[float(T0), 1.0], [T0 + 1.0, 2.0]]
    [s] = db.query("floats32[5s]", time=T0 + 1)["result"]
    assert s["values"] == [[float(T0), 0.5], [T0 + 1.0, 1.5]]
    [s] = db.query("strided[10s]", time=T0 + 5)["result"]
    assert s["values"] == [[float(T0), 0.0], [T0 + 5.0, 5.0]]


def test_datetime64_and_pandas_inputs(db):
    stamps = np.array(["2023-11-14T22:13:20", "2023-11-14T22:13:20.500"], dtype="datetime64[ns]")
    db.append_many("dt64", stamps, [1, 2])
    index = pd.date_range("2023-11-14T22:13:20", periods=3, freq="10s", tz="UTC")
    db.append_many("pandas_series", index, pd.Series([1.0, 2.0, 3.0]))
    # Object arrays (timezone-aware Timestamps) are converted one by one.
    db.append_many("objects", np.array(list(index), dtype=object), [4, 5, 6])

    [s] = db.query("dt64[5s]", time=T0 + 1)["result"]
    assert s["values"] == [[float(T0), 1.0], [T0 + 0.5, 2.0]]
    for name, first in (("pandas_series", 1.0), ("objects", 4.0)):
        [s] = db.query(f"{name}[1m]", time=T0 + 20)["result"]
        assert s["values"] == [[float(T0), first], [T0 + 10.0, first + 1], [T0 + 20.0, first + 2]]


def test_bad_arrays_are_rejected(db):
    with pytest.raises(ValueError, match="one-dimensional"):
        db.append_many("x", np.zeros((2, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="NaT"):
        db.append_many("x", np.array(["NaT", "2023-01-01"], dtype="datetime64[s]"), [1, 2])
    with pytest.raises(ValueError, match="finite"):
        db.append_many("x", np.array([T0, np.nan]), [1, 2])
    with pytest.raises(ValueError, match="differ in length"):
        db.append_many("x", np.arange(3.0), np.arange(2.0))
    assert db.series("x") == []
