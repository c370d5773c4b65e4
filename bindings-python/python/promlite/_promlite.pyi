"""Type stubs for the native module ``promlite._promlite``."""

import os
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union, final

__version__: str

#: Unix seconds, or a datetime (naive datetimes are local time).
_Timestamp = Union[int, float, datetime]
#: Seconds, or a timedelta.
_DurationLike = Union[int, float, timedelta]
#: A selector-style string such as ``'up{job="api"}'``, or a dict of labels including ``__name__``.
_SeriesLike = Union[str, Mapping[str, str]]
#: One series selector, or several (their results are united, as repeated ``match[]``).
_Selectors = Union[str, Sequence[str]]
#: The Prometheus API ``data`` object: ``{"resultType": ..., "result": ...}``.
_QueryResult = Dict[str, Any]
#: A native histogram: the promqltest notation ``"{{schema:0 count:3 sum:2 buckets:[1 2]}}"``, or a dict of
#: its fields (``schema``, ``count``, ``sum``, ``zero_threshold``, ``zero_count``, ``positive_spans`` /
#: ``negative_spans`` as ``(offset, length)`` pairs, ``positive_buckets`` / ``negative_buckets``,
#: ``custom_values``, ``counter_reset_hint``).
_HistogramLike = Union[str, Mapping[str, Any]]
#: A remote-write sender's stats (see ``Db.remote_write_stats``).
_SenderStats = Dict[str, Any]

class Error(Exception):
    """Base class of every error promlite raises."""

    error_type: str

class QueryError(Error):
    """A PromQL expression or selector failed to parse, or a query failed while running."""

    query: str
    position: int
    line: int
    column: int

class InvalidInputError(Error):
    """An argument or input is invalid."""

class StorageError(Error):
    """The database could not be read or written, is not a promlite database, or is closed."""

def open(
    path: Union[str, os.PathLike[str]],
    *,
    read_only: bool = False,
    fsync_on_commit: bool = True,
    retention: Optional[_DurationLike] = None,
    lookback_delta: Optional[_DurationLike] = None,
    max_samples: Optional[int] = None,
    query_timeout: Optional[_DurationLike] = None,
    default_subquery_step: Optional[_DurationLike] = None,
) -> Db:
    """Opens (creating if needed) the database at ``path`` and returns a ``Db``."""

def format_series(labels: Mapping[str, str]) -> str:
    """Formats a label dict the way Prometheus prints a series: ``up{job="api"}``."""

@final
class Db:
    """A promlite database. Create one with ``promlite.open(path)``."""

    @property
    def path(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def append(self, series: _SeriesLike, timestamp: _Timestamp, value: float) -> None: ...
    def append_many(self, series: _SeriesLike, timestamps: Iterable[_Timestamp], values: Iterable[float]) -> int: ...
    def append_histogram(self, series: _SeriesLike, timestamp: _Timestamp, histogram: _HistogramLike) -> None: ...
    def batch(self) -> Batch: ...
    def write(self, batch: Batch) -> int: ...
    def query(self, expr: str, time: Optional[_Timestamp] = None) -> _QueryResult: ...
    def query_range(
        self, expr: str, start: _Timestamp, end: _Timestamp, step: _DurationLike
    ) -> _QueryResult: ...
    def series(
        self, match: _Selectors, start: Optional[_Timestamp] = None, end: Optional[_Timestamp] = None
    ) -> List[Dict[str, str]]: ...
    def label_names(
        self,
        match: Optional[_Selectors] = None,
        start: Optional[_Timestamp] = None,
        end: Optional[_Timestamp] = None,
    ) -> List[str]: ...
    def label_values(
        self,
        name: str,
        match: Optional[_Selectors] = None,
        start: Optional[_Timestamp] = None,
        end: Optional[_Timestamp] = None,
    ) -> List[str]: ...
    def delete_series(
        self, match: _Selectors, start: Optional[_Timestamp] = None, end: Optional[_Timestamp] = None
    ) -> int: ...
    def ingest_exposition(self, text: str, timestamp: Optional[_Timestamp] = None) -> int: ...
    def ingest_registry(self, registry: Any = None, timestamp: Optional[_Timestamp] = None) -> int: ...
    def apply_retention(self) -> int: ...
    def compact(self) -> Dict[str, int]: ...
    def flush(self) -> None: ...
    def remote_write_add(
        self,
        name: str,
        url: str,
        *,
        bearer_token: Optional[str] = None,
        basic_auth: Optional[Tuple[str, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        external_labels: Optional[Mapping[str, str]] = None,
        keep: Optional[_Selectors] = None,
        drop: Optional[_Selectors] = None,
        batch_size: Optional[int] = None,
        flush_interval: Optional[_DurationLike] = None,
        timeout: Optional[_DurationLike] = None,
        min_backoff: Optional[_DurationLike] = None,
        max_backoff: Optional[_DurationLike] = None,
    ) -> None: ...
    def remote_write_remove(self, name: str) -> bool: ...
    def remote_write_stats(self) -> List[_SenderStats]: ...
    def remote_write_backfill(
        self,
        url: str,
        start: _Timestamp,
        end: _Timestamp,
        *,
        name: str = "backfill",
        bearer_token: Optional[str] = None,
        basic_auth: Optional[Tuple[str, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        external_labels: Optional[Mapping[str, str]] = None,
        keep: Optional[_Selectors] = None,
        drop: Optional[_Selectors] = None,
        batch_size: Optional[int] = None,
        timeout: Optional[_DurationLike] = None,
        min_backoff: Optional[_DurationLike] = None,
        max_backoff: Optional[_DurationLike] = None,
    ) -> Dict[str, int]: ...
    def size_bytes(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Db: ...
    def __exit__(self, *exc_info: object) -> bool: ...

@final
class Batch:
    """Samples for many series, committed together."""

    def __init__(self) -> None: ...
    def append(self, series: _SeriesLike, timestamp: _Timestamp, value: float) -> None: ...
    def append_many(self, series: _SeriesLike, timestamps: Iterable[_Timestamp], values: Iterable[float]) -> None: ...
    def append_histogram(self, series: _SeriesLike, timestamp: _Timestamp, histogram: _HistogramLike) -> None: ...
    def __len__(self) -> int: ...
    def __enter__(self) -> Batch: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
