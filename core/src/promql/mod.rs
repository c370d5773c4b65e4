//! PromQL front end: the pest grammar, the parser into the [`Expr`] AST, the
//! printer (AST back to PromQL), the pretty printer behind `format_query`,
//! function signatures and the type checker.

mod ast;
mod check;
pub mod functions;
mod lexer;
mod parser;
mod pretty;
mod printer;

pub use ast::*;
pub use parser::MAX_DEPTH;
pub use printer::{format_duration, format_number};

use crate::error::{ParseError, Result};
use crate::model::Labels;

/// Parses and type-checks a PromQL expression.
///
/// # Errors
/// A [`ParseError`] with the byte span and a Prometheus-style message.
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    let expr = parser::parse_expr(query)?;
    check::check(query, &expr)?;
    Ok(expr)
}

/// Parses a series selector such as `up{job=~"api|web"}` (the `match[]` of
/// the Prometheus API) into its matchers. Offsets, `@` and range modifiers are
/// not allowed; like any selector it needs one matcher that doesn't match "".
///
/// # Errors
/// A [`ParseError`] for invalid text or an expression that is not a selector.
pub fn parse_selector(text: &str) -> Result<Vec<crate::model::Matcher>, ParseError> {
    let expr = parse(text)?;
    match expr.kind {
        ExprKind::VectorSelector(vs) if vs.offset.is_none() && vs.at.is_none() && vs.modifier.is_none() => {
            Ok(vs.matchers)
        }
        _ => Err(ParseError::new(text, expr.span, "expected a series selector such as up{job=\"api\"}")),
    }
}

/// Parses a series written as a selector with only `=` matchers, e.g.
/// `http_requests_total{job="api",code="200"}`, into its label set.
///
/// # Errors
/// [`crate::Error::Parse`] for invalid text or non-`=` matchers.
pub fn parse_series(text: &str) -> Result<Labels> {
    Ok(Labels::from_pairs(parser::parse_series_pairs(text)?))
}

impl Expr {
    /// The type this expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match &self.kind {
            ExprKind::Number(_) => ValueType::Scalar,
            ExprKind::String(_) => ValueType::String,
            ExprKind::VectorSelector(_) | ExprKind::Aggregate(_) => ValueType::Vector,
            ExprKind::MatrixSelector(_) | ExprKind::Subquery(_) => ValueType::Matrix,
            ExprKind::Call(c) => functions::lookup(&c.func).map_or(ValueType::Vector, |f| f.return_type),
            ExprKind::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar && b.rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            ExprKind::Unary(u) => u.expr.value_type(),
            ExprKind::Paren(e) => e.value_type(),
        }
    }
}
