//! Writes a few series into a database file and reads them back: with
//! matchers, with label listings and with PromQL.
//!
//! Run: `cargo run -p promlite --example basic -- [path]` (default `./example.db`).

use promlite::{Batch, Db, Labels, MatchOp, Matcher, Value};

fn main() -> Result<(), promlite::Error> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "example.db".into());
    let db = Db::open(&path)?;

    // One commit: a minute of 15 s scrapes of two counters.
    let now_ms = 1_767_225_600_000;
    let mut batch = Batch::new();
    for (code, rate) in [("200", 10.0), ("500", 0.5)] {
        let series = Labels::parse(&format!(r#"http_requests_total{{job="api",code="{code}"}}"#))?;
        for i in 0..5 {
            batch.add(&series, now_ms + i * 15_000, rate * (i * 15) as f64);
        }
    }
    db.write(&batch)?;

    // Raw samples by matchers.
    let errors = [Matcher::equal("__name__", "http_requests_total"), Matcher::new(MatchOp::RegexMatch, "code", "5..")?];
    for s in db.select(&errors, i64::MIN, i64::MAX)? {
        println!("{}: {} samples, last {:?}", s.labels, s.points.len(), s.points.last());
    }
    println!("codes: {:?}", db.label_values("code", &[], i64::MIN, i64::MAX)?);

    // PromQL at the last scrape.
    match db.query("sum by (code) (rate(http_requests_total[1m]))", now_ms + 60_000)? {
        Value::Vector(v) => {
            for s in v {
                println!("rate {} = {}", s.labels, s.v);
            }
        }
        other => println!("{other:?}"),
    }
    db.close()
}
