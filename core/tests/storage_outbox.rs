//! The durable change feed (`outbox_*`): every sample committed after
//! subscribing is read back in commit order, survives reopen, and is gone
//! once acknowledged.

use promlite::{Batch, Db, Labels, Point};

fn labels(s: &str) -> Labels {
    Labels::parse(s).unwrap()
}

#[test]
fn feed_delivers_every_commit_after_subscribing_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.db");
    let db = Db::open(&path).unwrap();
    db.append(&labels("before"), 1, 1.0).unwrap();
    db.outbox_subscribe("rw").unwrap();
    assert!(db.outbox_read("rw", 100).unwrap().series.is_empty(), "nothing from before subscribing");
    let a = labels(r#"a{x="1"}"#);
    for t in 0..10 {
        let mut b = Batch::new();
        b.add(&a, t, t as f64);
        b.add(&labels("b"), t, -(t as f64));
        db.write(&b).unwrap();
    }
    // Out of order and into chunks: still in the feed, in commit order.
    let mut b = Batch::new();
    for t in 100..400 {
        b.add(&a, t, 0.5);
    }
    db.write(&b).unwrap();
    db.append(&a, 50, 50.0).unwrap();

    let first = db.outbox_read("rw", 5).unwrap();
    assert_eq!(first.samples, 6, "whole commits until at least 5 samples");
    assert_eq!(first.series[0].0, a);
    assert_eq!(first.series[0].1, vec![Point::new(0, 0.0), Point::new(1, 1.0), Point::new(2, 2.0)]);
    // Reading again without ack gives the same.
    assert_eq!(db.outbox_read("rw", 5).unwrap(), first);
    db.outbox_ack("rw", first.next_seq).unwrap();
    drop(db);

    let db = Db::open(&path).unwrap();
    let rest = db.outbox_read("rw", 10_000).unwrap();
    assert_eq!(rest.samples, 14 + 300 + 1);
    let a_points = &rest.series.iter().find(|(l, _)| *l == a).unwrap().1;
    assert_eq!(a_points.first().unwrap().t, 3);
    assert_eq!(a_points.last().unwrap(), &Point::new(50, 50.0), "commit order, not time order");
    db.outbox_ack("rw", rest.next_seq).unwrap();
    assert_eq!(db.outbox_read("rw", 10).unwrap().samples, 0);
    let c = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = c.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 0, "acknowledged rows are deleted");
}

#[test]
fn feeds_are_independent_and_unsubscribing_frees_rows() {
    let db = Db::open_in_memory().unwrap();
    db.outbox_subscribe("one").unwrap();
    db.outbox_subscribe("two").unwrap();
    db.append(&labels("m"), 1, 1.0).unwrap();
    let one = db.outbox_read("one", 10).unwrap();
    db.outbox_ack("one", one.next_seq).unwrap();
    assert_eq!(db.outbox_read("one", 10).unwrap().samples, 0);
    assert_eq!(db.outbox_read("two", 10).unwrap().samples, 1, "the other feed still has it");
    db.outbox_subscribe("two").unwrap();
    assert_eq!(db.outbox_read("two", 10).unwrap().samples, 1, "subscribing again keeps the position");
    db.outbox_unsubscribe("two").unwrap();
    assert!(db.outbox_read("two", 10).is_err());
    assert!(db.outbox_ack("nope", 5).is_err());
    let mut b = Batch::new();
    b.put_kv("outbox/evil", Some(vec![0; 8]));
    assert!(db.write(&b).is_err(), "the cursor prefix is reserved");
}

#[test]
fn feed_carries_native_histograms_in_commit_order_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hfeed.db");
    let h = |text: &str| promlite::FloatHistogram::parse_test_notation(text).unwrap();
    let db = Db::open(&path).unwrap();
    db.outbox_subscribe("rw").unwrap();
    let (mixed, only_h) = (labels("mixed"), labels(r#"only_h{le_style="native"}"#));
    db.append(&mixed, 1_000, 1.0).unwrap();
    let mut b = Batch::new();
    b.add(&mixed, 2_000, 2.0);
    b.add_histogram(&mixed, 3_000, h("{{schema:0 count:2 sum:3 buckets:[2]}}"));
    b.add_histogram(&only_h, 3_000, h("{{schema:-53 count:1 sum:0.5 custom_values:[1] buckets:[1]}}"));
    db.write(&b).unwrap();
    let mut b = Batch::new();
    b.add_histogram(&only_h, 1_000, h("{{schema:-53 count:4 sum:9 custom_values:[1] offset:1 buckets:[4]}}"));
    db.write(&b).unwrap();
    drop(db);

    let db = Db::open(&path).unwrap();
    let read = db.outbox_read("rw", 1_000).unwrap();
    assert_eq!(read.samples, 5);
    let floats: Vec<(String, Vec<Point>)> = read.series.iter().map(|(l, p)| (l.to_string(), p.clone())).collect();
    assert_eq!(floats, vec![("mixed".to_string(), vec![Point::new(1_000, 1.0), Point::new(2_000, 2.0)])]);
    let histograms: Vec<(String, Vec<(i64, f64)>)> =
        read.histograms.iter().map(|(l, hs)| (l.to_string(), hs.iter().map(|p| (p.t, p.h.count)).collect())).collect();
    assert_eq!(
        histograms,
        vec![
            ("mixed".to_string(), vec![(3_000, 2.0)]),
            (r#"only_h{le_style="native"}"#.to_string(), vec![(3_000, 1.0), (1_000, 4.0)]),
        ],
        "commit order, not time order"
    );
    assert_eq!(read.histograms[1].1[1].h.custom_values, [1.0]);
    // Whole commits: the first alone holds one sample.
    assert_eq!(db.outbox_read("rw", 1).unwrap().samples, 1);
    db.outbox_ack("rw", read.next_seq).unwrap();
    assert_eq!(db.outbox_read("rw", 10).unwrap().samples, 0);
}

#[test]
fn malformed_histograms_are_refused_and_nothing_of_the_batch_is_stored() {
    let db = Db::open_in_memory().unwrap();
    db.outbox_subscribe("rw").unwrap();
    let mut bad = promlite::FloatHistogram::parse_test_notation("{{schema:0 count:3 buckets:[1 2]}}").unwrap();
    bad.positive_buckets.push(5.0);
    let mut b = Batch::new();
    b.add(&labels("fine"), 1, 1.0);
    b.add_histogram(&labels("h"), 2, bad);
    let e = db.write(&b).unwrap_err();
    assert_eq!(e.kind(), promlite::ErrorKind::BadData);
    assert!(e.to_string().contains("series h, sample at 2: invalid native histogram: positive side"), "{e}");
    assert_eq!(db.outbox_read("rw", 10).unwrap().samples, 0);
    assert!(db.select(&[promlite::Matcher::equal("__name__", "fine")], 0, 10).unwrap().is_empty());
}
