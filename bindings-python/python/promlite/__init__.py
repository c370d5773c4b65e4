"""promlite — the SQLite of metrics, for Python.

Prometheus-style time series in one SQLite file, queried with PromQL::

    import promlite

    with promlite.open("metrics.db") as db:
        db.append('up{job="api"}', 1700000000, 1)
        db.query("sum by (job) (up)", time=1700000000)

Timestamps are Unix seconds (``int``/``float``) or ``datetime`` objects, as in
the Prometheus HTTP API. Query results have the shape of that API's ``data``
object, with timestamps and values as floats.
"""

from ._pandas import to_pandas
from ._promlite import (
    Batch,
    Db,
    Error,
    InvalidInputError,
    QueryError,
    StorageError,
    __version__,
    format_series,
    open,
)

__all__ = [
    "Batch",
    "Db",
    "Error",
    "InvalidInputError",
    "QueryError",
    "StorageError",
    "__version__",
    "format_series",
    "open",
    "to_pandas",
]
