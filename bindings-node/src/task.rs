//! Database work run on the libuv thread pool (napi `AsyncTask`), so the
//! event loop keeps serving while a query or a large write runs.

use std::marker::PhantomData;
use std::sync::Arc;

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{Env, Task};
use promlite::Db;

use crate::error::{guard, rejection, Result};

type Work<T> = Box<dyn FnOnce(&Db) -> Result<T> + Send>;

/// One call against a shared `Db`: `work` runs off the event loop, its `T`
/// (already a plain Rust value) is converted to JS on the loop.
pub struct Job<T> {
    db: Arc<Db>,
    work: Option<Work<T>>,
    _output: PhantomData<fn() -> T>,
}

impl<T> Job<T> {
    /// A job running `work` against `db`.
    pub fn new(db: Arc<Db>, work: impl FnOnce(&Db) -> Result<T> + Send + 'static) -> Self {
        Job { db, work: Some(Box::new(work)), _output: PhantomData }
    }
}

impl<T> Task for Job<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = Result<T>;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let work = self.work.take().expect("napi computes a task once");
        let db = &self.db;
        // Errors travel as the value so `resolve` can reject with a coded JS error.
        Ok(guard(|| work(db)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<T> {
        output.map_err(|e| rejection(env, e))
    }
}
