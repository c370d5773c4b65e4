//! Crash safety: a writer in a child process is killed with SIGKILL at random
//! moments, many times over one file. After each kill the file must pass
//! `PRAGMA integrity_check`, hold every batch the child reported as committed,
//! and hold each other batch either completely or not at all.
//!
//! The child is this test binary, re-run with `PROMLITE_CRASH_CHILD` set.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use promlite::{Batch, Db, Labels, Matcher, Options};

const SERIES: usize = 40;
const ROUNDS: usize = 25;

fn series_labels(i: usize) -> Labels {
    Labels::parse(&format!(r#"crash{{i="{i}"}}"#)).unwrap()
}

/// Batch `k` writes sample `(k * 1000, k)` to every series; every fifth batch
/// also rewrites an older sample of every series (an out-of-order merge into chunks).
fn batch(k: i64) -> Batch {
    let mut b = Batch::new();
    for i in 0..SERIES {
        let l = series_labels(i);
        b.add(&l, k * 1000, k as f64);
        if k % 5 == 0 && k > 300 {
            b.add(&l, (k - 300) * 1000, (k - 300) as f64);
        }
    }
    b
}

/// The child: continues from where the file ends and acknowledges each commit on stdout.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var("PROMLITE_CRASH_CHILD") else { return };
    let db = Db::open_with(&path, Options::default()).unwrap();
    let start = db
        .select(&[Matcher::equal("i", "0")], i64::MIN, i64::MAX)
        .unwrap()
        .first()
        .and_then(|s| s.points.last().map(|p| p.t / 1000 + 1))
        .unwrap_or(0);
    println!("START {start}");
    for k in start.. {
        db.write(&batch(k)).unwrap();
        println!("ACK {k}");
    }
}

#[test]
fn committed_batches_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().unwrap();
    let mut acked: i64 = -1;
    let mut seed = 0x2545_f491u64;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env("PROMLITE_CRASH_CHILD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let run_for = Duration::from_millis(50 + (seed >> 33) % 700);
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The test harness may print its own text before ours on a line.
                if let Some((_, k)) = line.split_once("ACK ") {
                    last = Some(k.trim().parse::<i64>().unwrap());
                } else if let Some((_, s)) = line.split_once("START ") {
                    let _ = tx.send(s.trim().parse::<i64>().unwrap());
                }
            }
            last
        });
        // Kill at a random moment after the child has opened the file.
        let start = rx.recv_timeout(Duration::from_secs(60));
        std::thread::sleep(run_for);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let last = reader.join().unwrap();
        let start = start.expect("child started and opened the file");
        // The batch in flight at the previous kill may have committed unacknowledged.
        assert!(
            start == acked + 1 || start == acked + 2,
            "round {round}: the child resumed at {start} after {acked} acknowledged batches"
        );
        acked = acked.max(start - 1);
        if let Some(last) = last {
            acked = last;
        }
        verify(&path, acked);
    }
    println!("{ROUNDS} kills, {acked} batches acknowledged");
    assert!(acked > 600, "the child made progress past several chunk cuts ({acked} batches)");
}

fn verify(path: &std::path::Path, acked: i64) {
    {
        let c = rusqlite::Connection::open(path).unwrap();
        let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }
    // Read-only, so the next child recovers from the state the crash left.
    let db = Db::open_with(path, Options::default().read_only(true)).unwrap();
    let got = db.select(&[Matcher::equal("__name__", "crash")], i64::MIN, i64::MAX).unwrap();
    if acked < 0 {
        return;
    }
    assert_eq!(got.len(), SERIES);
    let n = got[0].points.len() as i64;
    // Every acknowledged batch, and possibly the one in flight, completely.
    assert!(n == acked + 1 || n == acked + 2, "{n} batches stored, {acked} acknowledged");
    for s in &got {
        assert_eq!(s.points.len() as i64, n, "series {} is missing part of a batch", s.labels);
        for (k, p) in s.points.iter().enumerate() {
            assert_eq!((p.t, p.v), (k as i64 * 1000, k as f64));
        }
    }
}
