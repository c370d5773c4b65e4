"""Many Python threads sharing one Db: the GIL is released around core calls."""

import threading
import time

import promlite
from conftest import T0

WRITERS = 4
SAMPLES = 250


def test_threads_write_and_query_concurrently(db):
    errors = []
    done = threading.Event()
    seen_counts = {}  # reader -> totals it saw, in order

    def writer(w):
        try:
            for i in range(SAMPLES):
                db.append({"__name__": "work", "writer": str(w)}, T0 + i, i)
        except Exception as e:  # reported below; a thread's exception is otherwise lost
            errors.append(e)

    def reader(n):
        seen = seen_counts.setdefault(n, [])
        try:
            while not done.is_set():
                r = db.query("count_over_time(work[1h])", time=T0 + SAMPLES)
                seen.append(sum(s["value"][1] for s in r["result"]))
                db.label_values("writer")
        except Exception as e:
            errors.append(e)

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    readers = [threading.Thread(target=reader, args=(n,)) for n in range(2)]
    for t in writers + readers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()

    assert errors == []
    # Each reader sees commits accumulate: its totals never go down or overshoot.
    for seen in seen_counts.values():
        assert seen, "reader never ran a query"
        assert seen == sorted(seen)
        assert all(0 <= c <= WRITERS * SAMPLES for c in seen)
    r = db.query("count_over_time(work[1h])", time=T0 + SAMPLES)
    assert sorted(s["value"][1] for s in r["result"]) == [float(SAMPLES)] * WRITERS
    assert db.label_values("writer") == [str(w) for w in range(WRITERS)]


def test_batches_from_threads_are_atomic(db):
    def writer(w):
        with db.batch() as b:
            for i in range(100):
                b.append({"__name__": "batched", "writer": str(w), "i": str(i)}, T0, 1)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.query("count(batched)", time=T0)["result"][0]["value"][1] == 400.0


def test_close_waits_for_running_calls(db_path):
    db = promlite.open(db_path)
    db.append_many("c", list(range(T0, T0 + 1000)), [1.0] * 1000)
    outcomes = []

    def reader():
        for _ in range(50):
            try:
                r = db.query("sum_over_time(c[1h])", time=T0 + 1000)
                outcomes.append(r["result"][0]["value"][1])
            except promlite.StorageError as e:
                outcomes.append(str(e))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    db.close()
    for t in threads:
        t.join()
    # Every call either ran to completion on the open database or saw it closed.
    assert set(outcomes) <= {1000.0, "database is closed"}
    assert len(outcomes) == 150


def test_the_gil_is_released_while_core_works(db):
    # While a thread is inside a core call, another Python thread can only run
    # if the call released the GIL. Record when the main thread runs and check
    # some of those moments fall inside a call.
    import numpy as np

    n = 200_000
    ts = T0 + np.arange(n, dtype=np.float64)
    values = np.ones(n)
    calls = []

    def worker():
        for i in range(5):
            start = time.perf_counter()
            db.append_many({"__name__": "heavy", "i": str(i)}, ts, values)
            calls.append((start, time.perf_counter()))

    ticks = []
    t = threading.Thread(target=worker)
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    # The worker may yield the GIL just before or after a call, so only the
    # middle half of each call counts.
    middles = [(s + (e - s) / 4, e - (e - s) / 4) for s, e in calls]
    inside = [x for x in ticks if any(lo < x < hi for lo, hi in middles)]
    assert inside, f"main thread never ran during {len(calls)} core calls"
