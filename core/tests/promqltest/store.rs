//! The data the scripts load, kept in a real promlite database file.

use std::path::{Path, PathBuf};

use promlite::promql::Expr;
use promlite::{Batch, Db, Error, Point, QueryOptions, QueryResult};

use super::nhcb;
use super::script::Load;
use super::series_desc::SeqValue;
use super::tsdb_hints::Hints;

/// A promlite database in a scratch directory; `clear` starts a new file.
pub struct Store {
    dir: PathBuf,
    name: String,
    generation: usize,
    db: Db,
    hints: Hints,
}

impl Store {
    pub fn open(dir: &Path, name: &str) -> Store {
        let path = dir.join(format!("{name}.0.db"));
        Store {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            generation: 0,
            db: Db::open(path).expect("open test database"),
            hints: Hints::default(),
        }
    }

    /// Wipes all data (a fresh database file).
    pub fn clear(&mut self) {
        self.generation += 1;
        let path = self.dir.join(format!("{}.{}.db", self.name, self.generation));
        self.db = Db::open(path).expect("open test database");
        self.hints = Hints::default();
    }

    /// Writes the samples of a `load` command (and for `load_with_nhcb` the
    /// native histograms its classic histograms convert to) in one batch.
    pub fn load(&mut self, load: &Load) -> Result<usize, String> {
        let mut batch = Batch::new();
        for s in &load.series {
            // Start timestamps are relative to each sample's own time.
            let start_at = |i: usize, t: i64| s.starts.get(i).copied().flatten().map(|offset| t + offset);
            let mut points: Vec<Point> = Vec::new();
            for (i, v) in s.values.iter().enumerate() {
                let t = i as i64 * load.interval;
                match (v, start_at(i, t)) {
                    (SeqValue::Float(f), None) => points.push(Point::new(t, *f)),
                    (SeqValue::Float(f), Some(st)) => batch.add_with_start(&s.labels, t, st, *f),
                    _ => {}
                }
            }
            if !points.is_empty() {
                batch.add_points(&s.labels, &points);
            }
            for (i, v) in s.values.iter().enumerate() {
                let t = i as i64 * load.interval;
                match v {
                    SeqValue::Float(_) => self.hints.float(&s.labels),
                    SeqValue::Histogram(h) => {
                        let mut h = h.h.clone();
                        self.hints.histogram(&s.labels, &mut h);
                        match start_at(i, t) {
                            Some(st) => batch.add_histogram_with_start(&s.labels, t, st, h),
                            None => batch.add_histogram(&s.labels, t, h),
                        }
                    }
                    SeqValue::Omitted => {}
                }
            }
        }
        if load.with_nhcb {
            for (labels, t, mut h) in nhcb::convert(&load.series, load.interval)? {
                self.hints.histogram(&labels, &mut h);
                batch.add_histogram(&labels, t, h);
            }
        }
        self.db.write(&batch).map_err(|e| e.to_string())
    }

    pub fn instant(&self, query: &str, t: i64, opts: &QueryOptions) -> Result<QueryResult, Error> {
        self.db.query_with(query, t, opts)
    }

    pub fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, Error> {
        self.db.query_range_with(query, start, end, step, opts)
    }

    /// Evaluates a parsed (possibly rewritten) expression against the database.
    pub fn evaluate(
        &self,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, Error> {
        promlite::eval::evaluate(&self.db, expr, start, end, step, opts)
    }
}
