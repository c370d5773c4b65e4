//! PromQL front end: the pest grammar, the parser into the [`Expr`] AST, the
//! printer (AST back to PromQL), function signatures and the type checker.

mod ast;

pub use ast::*;

use crate::error::{ParseError, Result};
use crate::model::Labels;

/// Parses and type-checks a PromQL expression.
///
/// # Errors
/// A [`ParseError`] with the byte span and a Prometheus-style message.
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    let _ = query;
    todo!("parser")
}

/// Parses a series written as a selector with only `=` matchers, e.g.
/// `http_requests_total{job="api",code="200"}`, into its label set.
///
/// # Errors
/// [`crate::Error::Parse`] for invalid text or non-`=` matchers.
pub fn parse_series(text: &str) -> Result<Labels> {
    let _ = text;
    todo!("parser")
}

impl Expr {
    /// The type this expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        todo!("type of expression")
    }
}
