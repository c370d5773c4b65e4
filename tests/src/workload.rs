//! A deterministic, realistic scrape workload for benchmarks: targets in five
//! jobs, each exposing request counters, a CPU-seconds counter, two gauges and
//! a classic histogram (11 buckets + `_sum` + `_count`), 20 series a target.
//! Scrapes every 15 s at millisecond timestamps off the round second, with
//! values that change at nearly every scrape and occasional counter resets
//! (target restarts).

use promlite::{Labels, Point};

/// Series per target.
pub const SERIES_PER_TARGET: usize = 20;
/// Jobs the targets are spread over.
pub const JOBS: [&str; 5] = ["api", "web", "db", "cache", "queue"];
/// Histogram bucket bounds (`le`), the last one is `+Inf`.
pub const BUCKETS: [&str; 11] = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"];
const BUCKET_BOUNDS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, f64::INFINITY];

/// The shape of a workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Number of scrape targets (20 series each).
    pub targets: usize,
    /// Number of scrape rounds.
    pub scrapes: usize,
    /// Scrape interval in ms.
    pub interval_ms: i64,
    /// Time of the first scrape round, ms.
    pub start_ms: i64,
    /// Seed for every random choice.
    pub seed: u64,
}

impl Workload {
    /// At least `series` series (rounded up to whole targets) over `hours`, 15 s interval.
    pub fn new(series: usize, hours: f64) -> Workload {
        let interval_ms = 15_000;
        Workload {
            targets: series.div_ceil(SERIES_PER_TARGET),
            scrapes: (hours * 3_600_000.0 / interval_ms as f64).round() as usize,
            interval_ms,
            // 2026-01-01T00:00:00Z
            start_ms: 1_767_225_600_000,
            seed: 42,
        }
    }

    /// Reads the size from `PROMLITE_BENCH_SERIES` / `PROMLITE_BENCH_HOURS`, else the defaults.
    pub fn from_env(default_series: usize, default_hours: f64) -> Workload {
        let series = std::env::var("PROMLITE_BENCH_SERIES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_series);
        let hours = std::env::var("PROMLITE_BENCH_HOURS").ok().and_then(|v| v.parse().ok()).unwrap_or(default_hours);
        Workload::new(series, hours)
    }

    /// Number of series.
    pub fn series_count(&self) -> usize {
        self.targets * SERIES_PER_TARGET
    }

    /// Total samples the workload produces.
    pub fn sample_count(&self) -> usize {
        self.series_count() * self.scrapes
    }

    /// Time of the last scrape round's start, ms.
    pub fn end_ms(&self) -> i64 {
        self.start_ms + (self.scrapes as i64 - 1) * self.interval_ms
    }

    /// The label sets of all series; sample indexes refer to this order.
    pub fn series_labels(&self) -> Vec<Labels> {
        let mut out = Vec::with_capacity(self.series_count());
        for target in 0..self.targets {
            let job = JOBS[target % JOBS.len()];
            let instance = format!("10.0.{}.{}:9100", target / 250, target % 250);
            let base = |name: &str| {
                vec![("__name__", name.to_string()), ("job", job.to_string()), ("instance", instance.clone())]
            };
            for method in ["GET", "POST"] {
                for code in ["200", "500"] {
                    let mut l = base("http_requests_total");
                    l.push(("method", method.into()));
                    l.push(("code", code.into()));
                    out.push(Labels::from_pairs(l));
                }
            }
            out.push(Labels::from_pairs(base("process_cpu_seconds_total")));
            out.push(Labels::from_pairs(base("process_resident_memory_bytes")));
            out.push(Labels::from_pairs(base("node_load1")));
            for le in BUCKETS {
                let mut l = base("http_request_duration_seconds_bucket");
                l.push(("le", le.into()));
                out.push(Labels::from_pairs(l));
            }
            out.push(Labels::from_pairs(base("http_request_duration_seconds_sum")));
            out.push(Labels::from_pairs(base("http_request_duration_seconds_count")));
        }
        out
    }

    /// Iterates over scrape rounds; each yields one sample for every series.
    pub fn rounds(&self) -> Rounds {
        let mut rng = Rng(self.seed);
        let offsets = (0..self.targets).map(|_| (rng.next() % self.interval_ms as u64) as i64).collect();
        Rounds { w: self.clone(), round: 0, rng, offsets, values: vec![0.0; self.series_count()], gauges_init: false }
    }
}

/// Iterator over scrape rounds: `(round, samples)` with samples as `(series index, point)`.
pub struct Rounds {
    w: Workload,
    round: usize,
    rng: Rng,
    offsets: Vec<i64>,
    values: Vec<f64>,
    gauges_init: bool,
}

impl Iterator for Rounds {
    type Item = Vec<(usize, Point)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.round >= self.w.scrapes {
            return None;
        }
        let mut out = Vec::with_capacity(self.w.series_count());
        for target in 0..self.w.targets {
            let base = target * SERIES_PER_TARGET;
            let t = self.w.start_ms
                + self.round as i64 * self.w.interval_ms
                + self.offsets[target]
                + (self.rng.next() % 4) as i64;
            let v = &mut self.values[base..base + SERIES_PER_TARGET];
            if !self.gauges_init {
                v[5] = (100 + self.rng.next() % 400) as f64 * 1_048_576.0;
                v[6] = (self.rng.next() % 400) as f64 / 100.0;
            }
            // A target restart resets its counters (about once per 8 hours).
            if self.round > 0 && self.rng.next().is_multiple_of(1920) {
                for (i, x) in v.iter_mut().enumerate() {
                    if i != 5 && i != 6 {
                        *x = 0.0;
                    }
                }
            }
            let load = 1 + (target % 7) as u64;
            for x in &mut v[0..4] {
                *x += (self.rng.next() % (40 * load)) as f64;
            }
            v[4] += (self.rng.next() % 300) as f64 / 100.0;
            // Memory moves in 4 KiB pages; load1 in hundredths.
            v[5] = (v[5] + ((self.rng.next() % 2049) as f64 - 1024.0) * 4096.0).max(4096.0);
            v[6] = ((v[6] * 100.0 + (self.rng.next() % 41) as f64 - 20.0).max(0.0)).round() / 100.0;
            // Histogram: this scrape's requests, each with a latency.
            let requests = 10 + self.rng.next() % (20 * load);
            let mut sum = 0.0;
            let mut per_bucket = [0u64; 11];
            for _ in 0..requests {
                // Log-uniform between 2 ms and about 6 s.
                let u = (self.rng.next() % 1_000_000) as f64 / 1_000_000.0;
                let latency = 0.002 * 10f64.powf(u * 3.5);
                sum += latency;
                for (b, bound) in BUCKET_BOUNDS.iter().enumerate() {
                    if latency <= *bound {
                        per_bucket[b] += 1;
                    }
                }
            }
            for b in 0..11 {
                v[7 + b] += per_bucket[b] as f64;
            }
            v[18] = ((v[18] + sum) * 1e6).round() / 1e6;
            v[19] += requests as f64;
            for (i, x) in v.iter().enumerate() {
                out.push((base + i, Point::new(t, *x)));
            }
        }
        self.gauges_init = true;
        self.round += 1;
        Some(out)
    }
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_shape_and_determinism() {
        let w = Workload::new(10_000, 6.0);
        assert_eq!(w.series_count(), 10_000);
        assert_eq!(w.scrapes, 1440);
        let labels = w.series_labels();
        assert_eq!(labels.len(), 10_000);
        let unique: std::collections::HashSet<_> = labels.iter().collect();
        assert_eq!(unique.len(), labels.len(), "every series is distinct");
        let small = Workload::new(100, 0.5);
        let a: Vec<_> = small.rounds().collect();
        let b: Vec<_> = small.rounds().collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 120);
        // Timestamps are off the round second, and values change at most scrapes.
        let off_second = a.iter().flatten().filter(|(_, p)| p.t % 1000 != 0).count();
        assert!(off_second > a.len() * 100 * 9 / 10);
        let changed = (1..a.len())
            .flat_map(|r| (0..100).map(move |s| (r, s)))
            .filter(|&(r, s)| a[r][s].1.v != a[r - 1][s].1.v)
            .count();
        assert!(changed as f64 > 0.9 * (119 * 100) as f64, "{changed}");
        // Histogram buckets are cumulative.
        for round in &a {
            for target in 0..5 {
                let b = &round[target * 20 + 7..target * 20 + 18];
                assert!(b.windows(2).all(|w| w[0].1.v <= w[1].1.v));
                assert_eq!(b[10].1.v, round[target * 20 + 19].1.v, "+Inf bucket equals _count");
            }
        }
    }
}
