"""A scrape target that exposes native histograms in the Prometheus protobuf
format (length-delimited io.prometheus.client.MetricFamily messages), which
is how Prometheus 2.42 scrapes native histograms. Python standard library
only: the few protobuf fields needed are encoded by hand.

Every scrape observes a fixed set of values more (so rates and quantiles have
something to work with); `Target.scrapes` counts the scrapes served. Once
`Target.paused` is set, scrapes fail (503), so the scraper marks the series
stale and the data stops changing.
"""

import http.server
import struct
import threading

CONTENT_TYPE = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

# Observations added on every scrape (seconds): spread over several buckets,
# one negative and one in the zero bucket.
OBSERVATIONS = (0.0004, 0.003, 0.02, 0.02, 0.11, 0.5, 1.7, 6.0, -0.25)
SCHEMA = 1
ZERO_THRESHOLD = 0.001


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def field_varint(no, n):
    return varint(no << 3) + varint(n)


def field_double(no, x):
    return varint(no << 3 | 1) + struct.pack("<d", x)


def field_bytes(no, b):
    return varint(no << 3 | 2) + varint(len(b)) + b


def bucket_index(v):
    """The exponential bucket of |v| in SCHEMA: the smallest i with 2^(i/2^SCHEMA) >= |v|."""
    base = 2 ** (2 ** -SCHEMA)
    i = 0
    while base ** i < v:
        i += 1
    while base ** (i - 1) >= v:
        i -= 1
    return i


class Histogram:
    def __init__(self):
        self.count = 0
        self.sum = 0.0
        self.zero = 0
        self.positive = {}
        self.negative = {}

    def observe(self, v):
        self.count += 1
        self.sum += v
        if abs(v) <= ZERO_THRESHOLD:
            self.zero += 1
        else:
            side = self.positive if v > 0 else self.negative
            i = bucket_index(abs(v))
            side[i] = side.get(i, 0) + 1

    @staticmethod
    def spans_and_deltas(buckets):
        """One span per run of consecutive indices; counts as deltas."""
        spans, deltas, prev_index, prev_count = [], [], None, 0
        for i in sorted(buckets):
            if prev_index is not None and i == prev_index + 1:
                spans[-1][1] += 1
            else:
                offset = i if prev_index is None else i - prev_index - 1
                spans.append([offset, 1])
            deltas.append(buckets[i] - prev_count)
            prev_index, prev_count = i, buckets[i]
        return spans, deltas

    def encode(self):
        """io.prometheus.client.Histogram, integer native form."""
        out = field_varint(1, self.count) + field_double(2, self.sum)
        out += field_varint(5, zigzag(SCHEMA)) + field_double(6, ZERO_THRESHOLD) + field_varint(7, self.zero)
        for span_no, delta_no, buckets in ((9, 10, self.negative), (12, 13, self.positive)):
            spans, deltas = self.spans_and_deltas(buckets)
            for offset, length in spans:
                out += field_bytes(span_no, field_varint(1, zigzag(offset)) + field_varint(2, length))
            for d in deltas:
                out += field_varint(delta_no, zigzag(d))
        return out


def metric_family(name, labels, histogram):
    metric = b"".join(field_bytes(1, field_bytes(1, k.encode()) + field_bytes(2, v.encode())) for k, v in labels)
    metric += field_bytes(7, histogram.encode())
    family = field_bytes(1, name.encode()) + field_bytes(2, b"Native test histogram.")
    family += field_varint(3, 4) + field_bytes(4, metric)  # type HISTOGRAM
    return varint(len(family)) + family


class Target:
    """Serves `native_rpc_seconds{path="/a"}` and `{path="/b"}` on a free loopback port."""

    def __init__(self):
        self.histograms = {"/a": Histogram(), "/b": Histogram()}
        self.scrapes = 0
        self.paused = False
        self.lock = threading.Lock()
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if target.paused:
                    self.send_error(503)
                    return
                with target.lock:
                    target.scrapes += 1
                    body = b""
                    for k, (path, h) in enumerate(sorted(target.histograms.items())):
                        for v in OBSERVATIONS[: len(OBSERVATIONS) - k]:
                            h.observe(v)
                        body += metric_family("native_rpc_seconds", [("path", path)], h)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
