"""promlite.to_pandas: query results as DataFrames."""

import math

import pandas as pd
import pytest

import promlite
from conftest import T0

UTC = "UTC"


def ts(seconds):
    return pd.Timestamp(seconds, unit="s", tz=UTC)


def test_matrix_becomes_one_column_per_series():
    result = {
        "resultType": "matrix",
        "result": [
            {"metric": {"__name__": "up", "job": "api"}, "values": [[T0, 1.0], [T0 + 15.5, 0.0]]},
            {"metric": {"job": "web"}, "values": [[T0 + 15.5, 1.0]]},
        ],
    }
    df = promlite.to_pandas(result)
    assert list(df.columns) == ['up{job="api"}', '{job="web"}']
    assert list(df.index) == [ts(T0), pd.Timestamp(T0 * 1000 + 15500, unit="ms", tz=UTC)]
    assert df.index.name == "timestamp"
    assert df['up{job="api"}'].tolist() == [1.0, 0.0]
    web = df['{job="web"}'].tolist()
    assert math.isnan(web[0]) and web[1] == 1.0


def test_vector_becomes_one_row_per_series():
    result = {
        "resultType": "vector",
        "result": [
            {"metric": {"job": "api"}, "value": [T0, 2.0]},
            {"metric": {"job": "web", "zone": "b"}, "value": [T0, 3.0]},
        ],
    }
    df = promlite.to_pandas(result)
    assert list(df.columns) == ["job", "zone", "timestamp", "value"]
    assert df["job"].tolist() == ["api", "web"]
    assert df["value"].tolist() == [2.0, 3.0]
    assert df["timestamp"].tolist() == [ts(T0), ts(T0)]


def test_scalar_and_empty_results():
    df = promlite.to_pandas({"resultType": "scalar", "result": [T0, 4.0]})
    assert df.to_dict("list") == {"timestamp": [ts(T0)], "value": [4.0]}
    empty = promlite.to_pandas({"resultType": "matrix", "result": []})
    assert empty.empty and empty.index.name == "timestamp"


def test_non_results_are_rejected():
    with pytest.raises(ValueError, match="string"):
        promlite.to_pandas({"resultType": "string", "result": [T0, "x"]})
    with pytest.raises(ValueError):
        promlite.to_pandas([1, 2, 3])


def test_to_pandas_on_a_real_range_query(db):
    db.append_many('temp{room="a"}', [T0, T0 + 60, T0 + 120], [20, 21, 22])
    df = promlite.to_pandas(db.query_range("temp * 2", T0, T0 + 120, 60))
    assert list(df.columns) == ['{room="a"}']
    assert df['{room="a"}'].tolist() == [40.0, 42.0, 44.0]
    assert list(df.index) == [ts(T0), ts(T0 + 60), ts(T0 + 120)]


def test_format_series():
    assert promlite.format_series({"__name__": "up", "job": "api"}) == 'up{job="api"}'
    assert promlite.format_series({"__name__": "my.metric", "a": 'x"y'}) == '{"my.metric", a="x\\"y"}'
