//! Prints an [`Expr`](super::Expr) back as PromQL.

use std::fmt;

use super::ast::Expr;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.kind)
    }
}
