//! Plumbing shared by the benchmarks: each measurement runs in a child
//! process (`<bench> --phase …`) that prints one `RESULT key=value …` line,
//! so peak memory is that measurement's alone.

use std::process::Command;

/// The measurements a child reported.
pub struct Measures(pub Vec<(String, f64)>);

impl Measures {
    /// The value reported under `key`; panics if the child did not report it.
    pub fn get(&self, key: &str) -> f64 {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v).unwrap_or_else(|| panic!("no {key} in the result"))
    }
}

/// Runs this benchmark executable again with `--phase` and `args`, and
/// parses the `RESULT` line it prints.
pub fn run_phase(args: &[&str]) -> Measures {
    let exe = std::env::current_exe().expect("path of the running benchmark");
    let out = Command::new(exe).arg("--phase").args(args).output().expect("benchmark child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")).expect("a RESULT line");
    eprintln!("{}: {line}", args.first().copied().unwrap_or(""));
    Measures(
        line.split_whitespace()
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("key=value");
                (k.to_string(), v.parse().expect("a number"))
            })
            .collect(),
    )
}

/// Peak resident memory of this process so far, in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Run without `--bench` (as `cargo test --benches` does), a benchmark only
/// proves it still works: this shrinks the workload to a tiny one, whose
/// numbers mean nothing.
pub fn shrink_workload_unless_benching(args: &[String]) {
    if !args.iter().any(|a| a == "--bench") {
        std::env::set_var("PROMLITE_BENCH_SERIES", "100");
        std::env::set_var("PROMLITE_BENCH_HOURS", "0.5");
    }
}
