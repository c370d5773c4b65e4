"""Write throughput through the Python binding, by input shape.

Run: bash bindings-python/run-tests.sh --co -q >/dev/null   # builds + installs into target/python-venv
     target/python-venv/bin/python bindings-python/bench/bench_append.py

Prints samples/s for each way of writing the same N samples (one series, a
fresh database each time, best of 3) and its time relative to numpy
`append_many`, measured in the same run.
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import promlite

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
T0 = 1_700_000_000


def timed(write, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d, promlite.open(Path(d) / "bench.db", fsync_on_commit=False) as db:
            start = time.perf_counter()
            write(db)
            best = min(best, time.perf_counter() - start)
    return best


ts = T0 + np.arange(N, dtype=np.float64)
vs = np.random.default_rng(1).random(N)
ts_list, vs_list = ts.tolist(), vs.tolist()


def per_sample_batch(db):
    with db.batch() as b:
        for t, v in zip(ts_list, vs_list):
            b.append("bench", t, v)


cases = {
    "append_many(numpy float64)": lambda db: db.append_many("bench", ts, vs),
    "append_many(numpy datetime64)": lambda db: db.append_many(
        "bench", (ts * 1000).astype("datetime64[ms]"), vs
    ),
    "append_many(list)": lambda db: db.append_many("bench", ts_list, vs_list),
    "batch.append per sample": per_sample_batch,
}
results = {name: timed(f) for name, f in cases.items()}
base = results["append_many(numpy float64)"]
print(f"{N} samples, one series, fsync_on_commit=False")
for name, secs in results.items():
    print(f"{name:32s} {N / secs / 1e6:7.2f} M samples/s   {secs / base:6.2f}x the time of numpy")
