"""Query results as pandas DataFrames (pandas is an optional dependency)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ._promlite import format_series

if TYPE_CHECKING:
    import pandas


def to_pandas(result: Mapping[str, Any]) -> "pandas.DataFrame":
    """Turn a result of ``Db.query_range`` or ``Db.query`` into a DataFrame.

    * ``matrix`` (range queries): one row per timestamp (a UTC
      ``DatetimeIndex`` named ``"timestamp"``), one column per series, named
      as Prometheus prints it (``up{job="api"}``); NaN where a series has no
      sample at that time.
    * ``vector``: one row per series, a column per label plus ``"timestamp"``
      and ``"value"``.
    * ``scalar``: one row with ``"timestamp"`` and ``"value"``.

    Raises ``ImportError`` if pandas is not installed and ``ValueError`` for a
    ``string`` result, for native-histogram samples (turn them into floats
    first, e.g. with ``histogram_quantile`` or ``histogram_count``) or for
    anything that is not a query result.
    """
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("promlite.to_pandas needs pandas: pip install pandas") from e

    kind = result.get("resultType") if isinstance(result, Mapping) else None
    data = result["result"] if kind else None
    if kind in ("matrix", "vector"):
        for s in data:
            if "histogram" in s or "histograms" in s:
                raise ValueError(
                    f"to_pandas takes float samples; {format_series(s['metric'])} has native histograms "
                    "(query histogram_count(), histogram_sum() or histogram_quantile() of them instead)"
                )
    if kind == "matrix":
        columns = {
            format_series(s["metric"]): pd.Series(
                [v for _, v in s["values"]],
                index=_datetimes(pd, [t for t, _ in s["values"]]),
                dtype="float64",
            )
            for s in data
        }
        frame = pd.DataFrame(columns) if columns else pd.DataFrame(index=_datetimes(pd, []))
        frame.index.name = "timestamp"
        return frame
    if kind == "vector":
        rows = [{**s["metric"], "timestamp": s["value"][0], "value": s["value"][1]} for s in data]
        frame = pd.DataFrame(rows, columns=_vector_columns(data))
        frame["timestamp"] = _datetimes(pd, list(frame["timestamp"]))
        frame["value"] = frame["value"].astype("float64")
        return frame
    if kind == "scalar":
        return pd.DataFrame({"timestamp": _datetimes(pd, [data[0]]), "value": [float(data[1])]})
    raise ValueError(f"to_pandas needs a matrix, vector or scalar query result, got {kind!r}")


def _datetimes(pd: Any, seconds: list) -> "pandas.DatetimeIndex":
    # Timestamps are whole milliseconds; round so float seconds convert exactly.
    return pd.DatetimeIndex(pd.to_datetime([round(t * 1000) for t in seconds], unit="ms", utc=True))


def _vector_columns(data: list) -> list:
    labels = sorted({name for s in data for name in s["metric"]})
    return labels + ["timestamp", "value"]
