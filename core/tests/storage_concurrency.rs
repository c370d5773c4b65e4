//! One writer and several readers on one shared `Db`: readers never see half
//! a commit, never see time go backwards, and never block the writer out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use promlite::{Batch, Db, Labels, Matcher};

const SERIES: usize = 60;
const SCRAPES: i64 = 1500;

fn series_labels(i: usize) -> Labels {
    Labels::parse(&format!(r#"conc{{i="{i}"}}"#)).unwrap()
}

/// Checks one read: every series has the same samples (commits are atomic and
/// each commit adds one sample to every series), in order, with values that
/// match their timestamps. Returns the number of scrapes seen.
fn check_snapshot(db: &Db) -> usize {
    let got = db.select(&[Matcher::equal("__name__", "conc")], i64::MIN, i64::MAX).unwrap();
    if got.is_empty() {
        return 0;
    }
    assert_eq!(got.len(), SERIES, "a commit creates all series at once");
    let n = got[0].points.len();
    for s in &got {
        assert_eq!(s.points.len(), n, "series {} saw a different number of commits", s.labels);
        for (k, p) in s.points.iter().enumerate() {
            assert_eq!(p.t, k as i64 * 1000, "samples in order, none missing");
            assert_eq!(p.v, (k * 10) as f64 + s.labels.get("i").unwrap().parse::<f64>().unwrap());
        }
    }
    n
}

fn run(db: Arc<Db>) {
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (db, done) = (db.clone(), done.clone());
            thread::spawn(move || {
                let mut last = 0;
                let mut reads = 0;
                while !done.load(Ordering::SeqCst) {
                    let n = check_snapshot(&db);
                    assert!(n >= last, "a later read saw fewer commits ({n} < {last})");
                    last = n;
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let all: Vec<Labels> = (0..SERIES).map(series_labels).collect();
    for k in 0..SCRAPES {
        let mut b = Batch::new();
        for (i, l) in all.iter().enumerate() {
            b.add(l, k * 1000, (k * 10) as f64 + i as f64);
        }
        db.write(&b).unwrap();
        if k % 300 == 150 {
            // Maintenance while readers run must not change what they see.
            db.compact().unwrap();
        }
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert_eq!(check_snapshot(&db), SCRAPES as usize);
}

#[test]
fn readers_see_whole_commits_while_a_file_database_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db =
        Arc::new(Db::open_with(dir.path().join("c.db"), promlite::Options::default().fsync_on_commit(false)).unwrap());
    run(db);
}

#[test]
fn readers_see_whole_commits_in_memory() {
    run(Arc::new(Db::open_in_memory().unwrap()));
}

#[test]
fn db_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Db>();
}
