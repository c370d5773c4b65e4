//! The data the scripts load, kept in a real promlite database file.

use std::path::{Path, PathBuf};

use promlite::promql::Expr;
use promlite::{Batch, Db, Error, Point, QueryOptions, QueryResult};

use super::script::Load;
use super::series_desc::SeqValue;

/// A promlite database in a scratch directory; `clear` starts a new file.
pub struct Store {
    dir: PathBuf,
    name: String,
    generation: usize,
    db: Db,
}

impl Store {
    pub fn open(dir: &Path, name: &str) -> Store {
        let path = dir.join(format!("{name}.0.db"));
        Store { dir: dir.to_path_buf(), name: name.to_string(), generation: 0, db: Db::open(path).expect("open test database") }
    }

    /// Wipes all data (a fresh database file).
    pub fn clear(&mut self) {
        self.generation += 1;
        let path = self.dir.join(format!("{}.{}.db", self.name, self.generation));
        self.db = Db::open(path).expect("open test database");
    }

    /// Writes the float samples of a `load` command in one batch.
    pub fn load(&mut self, load: &Load) -> Result<usize, Error> {
        let mut batch = Batch::new();
        for s in &load.series {
            let points: Vec<Point> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match v {
                    SeqValue::Float(f) => Some(Point::new(i as i64 * load.interval, *f)),
                    _ => None,
                })
                .collect();
            if !points.is_empty() {
                batch.add_points(&s.labels, &points);
            }
        }
        self.db.write(&batch)
    }

    pub fn instant(&self, query: &str, t: i64, opts: &QueryOptions) -> Result<QueryResult, Error> {
        self.db.query_with(query, t, opts)
    }

    pub fn range(&self, query: &str, start: i64, end: i64, step: i64, opts: &QueryOptions) -> Result<QueryResult, Error> {
        self.db.query_range_with(query, start, end, step, opts)
    }

    /// Evaluates a parsed (possibly rewritten) expression against the database.
    pub fn evaluate(&self, expr: &Expr, start: i64, end: i64, step: i64, opts: &QueryOptions) -> Result<QueryResult, Error> {
        promlite::eval::evaluate(&self.db, expr, start, end, step, opts)
    }
}
