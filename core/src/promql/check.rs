//! Type checking after parsing: every check Prometheus's parser makes once the
//! tree is built (`checkAST`), with its messages, in its order (children before
//! their parent, except that a call's argument count comes first), reporting
//! the first failure with the span of the offending node.

use super::ast::*;
use super::functions;
use crate::error::ParseError;
use crate::model::METRIC_NAME;

type CheckResult = Result<(), ParseError>;

/// Checks `expr` (parsed from `query`).
pub(crate) fn check(query: &str, expr: &Expr) -> CheckResult {
    Checker { query }.expr(expr)
}

/// The name Prometheus's `ValueType` prints as (`matrix`, `vector`, …), used
/// by the one message that does not use the documented names.
fn raw_type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Scalar => "scalar",
        ValueType::Vector => "vector",
        ValueType::Matrix => "matrix",
        ValueType::String => "string",
    }
}

struct Checker<'q> {
    query: &'q str,
}

impl Checker<'_> {
    fn fail(&self, span: Span, msg: impl Into<String>) -> CheckResult {
        Err(ParseError::new(self.query, span, msg))
    }

    /// Checks `e` and then that it has type `want`.
    fn expect_type(&self, e: &Expr, want: ValueType, context: &str) -> CheckResult {
        self.expr(e)?;
        let got = e.value_type();
        if got != want {
            return self
                .fail(e.span.clone(), format!("expected type {} in {context}, got {}", want.name(), got.name()));
        }
        Ok(())
    }

    fn expr(&self, e: &Expr) -> CheckResult {
        match &e.kind {
            ExprKind::Number(_) | ExprKind::String(_) => Ok(()),
            ExprKind::VectorSelector(vs) => self.vector_selector(vs, e.span.clone(), false),
            ExprKind::MatrixSelector(ms) => self.vector_selector(&ms.selector, e.span.clone(), false),
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Subquery(sq) => {
                self.expr(&sq.expr)?;
                let t = sq.expr.value_type();
                if t != ValueType::Vector {
                    return self.fail(
                        e.span.clone(),
                        format!("subquery is only allowed on instant vector, got {} instead", raw_type_name(t)),
                    );
                }
                Ok(())
            }
            ExprKind::Unary(u) => {
                self.expr(&u.expr)?;
                let t = u.expr.value_type();
                if !matches!(t, ValueType::Scalar | ValueType::Vector) {
                    return self.fail(
                        e.span.clone(),
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                            t.name()
                        ),
                    );
                }
                Ok(())
            }
            ExprKind::Aggregate(a) => self.aggregate(a),
            ExprKind::Call(c) => self.call(c, e.span.clone()),
            ExprKind::Binary(b) => self.binary(b, e.span.clone()),
        }
    }

    fn vector_selector(&self, vs: &VectorSelector, span: Span, bypass_empty_check: bool) -> CheckResult {
        if let Some(name) = &vs.name {
            // The parser puts the matcher for the name written outside the braces first.
            if let Some(dup) = vs.matchers.iter().skip(1).find(|m| m.name == METRIC_NAME) {
                return self.fail(span, format!("metric name must not be set twice: {name:?} or {:?}", dup.value));
            }
            // A metric name is itself a non-empty matcher.
            return Ok(());
        }
        if !bypass_empty_check && vs.matchers.iter().all(|m| m.matches_empty()) {
            return self.fail(span, "vector selector must contain at least one non-empty matcher");
        }
        Ok(())
    }

    fn aggregate(&self, a: &Aggregate) -> CheckResult {
        self.expect_type(&a.expr, ValueType::Vector, "aggregation expression")?;
        let param_type = match a.op {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Quantile
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => ValueType::Scalar,
            AggregateOp::CountValues => ValueType::String,
            _ => return Ok(()),
        };
        match &a.param {
            Some(p) => self.expect_type(p, param_type, "aggregation parameter"),
            None => Ok(()),
        }
    }

    fn call(&self, c: &Call, span: Span) -> CheckResult {
        let Some(sig) = functions::lookup(&c.func) else {
            // The parser rejects unknown functions; nothing to check here.
            return Ok(());
        };
        let n = c.args.len();
        let declared = sig.arg_types.len();
        let count_error = if sig.variadic == 0 {
            (n != declared).then(|| format!("expected {declared} argument(s) in call to {:?}, got {n}", c.func))
        } else if n < sig.min_args() {
            Some(format!("expected at least {} argument(s) in call to {:?}, got {n}", sig.min_args(), c.func))
        } else {
            sig.max_args()
                .filter(|&max| n > max)
                .map(|max| format!("expected at most {max} argument(s) in call to {:?}, got {n}", c.func))
        };
        if let Some(msg) = count_error {
            return self.fail(span, msg);
        }

        // info()'s second argument must be a bare label selector, which is
        // exempt from the empty-matcher rule.
        let is_info = c.func == "info";
        if is_info && n > 1 {
            let arg = &c.args[1];
            let t = arg.value_type();
            if t != ValueType::Vector {
                return self.fail(
                    span,
                    format!(
                        "expected type {} in call to function \"info\", got {}",
                        ValueType::Vector.name(),
                        t.name()
                    ),
                );
            }
            match &arg.kind {
                ExprKind::VectorSelector(vs) if vs.name.is_some() => {
                    return self.fail(arg.span.clone(), "expected label selectors only, got vector selector instead")
                }
                ExprKind::VectorSelector(_) => {}
                _ => return self.fail(arg.span.clone(), "expected label selectors only"),
            }
        }

        for (i, arg) in c.args.iter().enumerate() {
            if i >= declared && sig.variadic == 0 {
                break;
            }
            let want = sig.arg_type(i).expect("a function taking arguments declares their types");
            match &arg.kind {
                ExprKind::VectorSelector(vs) if is_info && i == 1 => {
                    self.vector_selector(vs, arg.span.clone(), true)?
                }
                _ => self.expr(arg)?,
            }
            let got = arg.value_type();
            if got != want {
                return self.fail(
                    arg.span.clone(),
                    format!("expected type {} in call to function {:?}, got {}", want.name(), c.func, got.name()),
                );
            }
        }
        Ok(())
    }

    /// The operator and its modifiers, without the blanks around them.
    fn operator_span(&self, b: &Binary) -> Span {
        let bytes = self.query.as_bytes();
        let mut start = b.lhs.span.end;
        while start < b.rhs.span.start && bytes[start].is_ascii_whitespace() {
            start += 1;
        }
        let mut end = b.rhs.span.start;
        while end > start && bytes[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        start..end
    }

    fn binary(&self, b: &Binary, span: Span) -> CheckResult {
        self.expr(&b.lhs)?;
        self.expr(&b.rhs)?;
        let (lt, rt) = (b.lhs.value_type(), b.rhs.value_type());

        if b.return_bool && !b.op.is_comparison() {
            return self.fail(self.operator_span(b), "bool modifier can only be used on comparison operators");
        }
        if b.op.is_comparison() && !b.return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar {
            return self.fail(self.operator_span(b), "comparisons between scalars must use BOOL modifier");
        }
        if let Some(m) = &b.matching {
            if m.on {
                if let Some(l) = m.labels.iter().find(|l| m.include.contains(l)) {
                    return self.fail(
                        self.operator_span(b),
                        format!("label {l:?} must not occur in ON and GROUP clause at once"),
                    );
                }
            }
        }
        for (side, t) in [(&b.lhs, lt), (&b.rhs, rt)] {
            if !matches!(t, ValueType::Scalar | ValueType::Vector) {
                return self
                    .fail(side.span.clone(), "binary expression must contain only scalar and instant vector types");
            }
        }

        if let Some(m) = &b.matching {
            let fills = m.fill_left.is_some() || m.fill_right.is_some();
            if lt != ValueType::Vector || rt != ValueType::Vector {
                if !m.labels.is_empty() {
                    return self.fail(span, "vector matching only allowed between instant vectors");
                }
                if fills {
                    return self.fail(span, "filling in missing series only allowed between instant vectors");
                }
            } else if b.op.is_set_operator() {
                if matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany) {
                    return self.fail(span, format!("no grouping allowed for {:?} operation", b.op.as_str()));
                }
                if fills {
                    return self.fail(span, "filling in missing series not allowed for set operators");
                }
            }
        }

        if b.op.is_set_operator() && (lt == ValueType::Scalar || rt == ValueType::Scalar) {
            return self
                .fail(span, format!("set operator {:?} not allowed in binary scalar expression", b.op.as_str()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::promql::parse;

    /// Asserts that `query` fails the type check with `message` at 1-based `col`.
    #[track_caller]
    fn fails(query: &str, col: usize, message: &str) {
        let err = parse(query).expect_err(query);
        assert_eq!(err.message, message, "message for {query}");
        assert_eq!(err.line_col(), (1, col), "position of {message:?} in {query}");
    }

    #[track_caller]
    fn passes(query: &str) {
        if let Err(e) = parse(query) {
            panic!("{query} should type-check: {e}");
        }
    }

    #[test]
    fn function_arguments() {
        fails("rate(some_metric)", 6, "expected type range vector in call to function \"rate\", got instant vector");
        fails("abs(x[5m])", 5, "expected type instant vector in call to function \"abs\", got range vector");
        fails("floor()", 1, "expected 1 argument(s) in call to \"floor\", got 0");
        fails("floor(a, b)", 1, "expected 1 argument(s) in call to \"floor\", got 2");
        fails("round()", 1, "expected at least 1 argument(s) in call to \"round\", got 0");
        fails("round(a, 1, 2)", 1, "expected at most 2 argument(s) in call to \"round\", got 3");
        fails("label_join(a, \"x\")", 1, "expected at least 3 argument(s) in call to \"label_join\", got 2");
        fails(
            "label_join(a, \"x\", \",\", 1)",
            25,
            "expected type string in call to function \"label_join\", got scalar",
        );
        fails("time(1)", 1, "expected 0 argument(s) in call to \"time\", got 1");
        fails("vector(\"a\")", 8, "expected type scalar in call to function \"vector\", got string");
        fails(
            "histogram_quantile(a, b)",
            20,
            "expected type scalar in call to function \"histogram_quantile\", got instant vector",
        );
        // The argument's own problems come before its type.
        fails(
            "rate(-x[5m])",
            6,
            "unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
        );
        passes("label_join(a, \"x\", \",\", \"b\", \"c\", \"d\")");
        passes("day_of_week()");
        passes("round(x)");
        passes("sort_by_label(x, \"a\", \"b\")");
        passes("double_exponential_smoothing(x[5m], 0.5, 0.5)");
    }

    #[test]
    fn info_function() {
        passes("info(up, {k8s_cluster_name=~\".+\"})");
        passes("info(up, {})");
        passes("info(up)");
        fails("info(up, target_info)", 10, "expected label selectors only, got vector selector instead");
        fails("info(up, -{a=\"b\"})", 10, "expected label selectors only");
        fails("info(up, 1)", 1, "expected type instant vector in call to function \"info\", got scalar");
    }

    #[test]
    fn aggregations() {
        fails("sum(x[5m])", 5, "expected type instant vector in aggregation expression, got range vector");
        fails("sum(1)", 5, "expected type instant vector in aggregation expression, got scalar");
        fails("topk(a, b)", 6, "expected type scalar in aggregation parameter, got instant vector");
        fails("quantile(\"x\", b)", 10, "expected type scalar in aggregation parameter, got string");
        fails("limitk(a, b)", 8, "expected type scalar in aggregation parameter, got instant vector");
        fails("limit_ratio(a, b)", 13, "expected type scalar in aggregation parameter, got instant vector");
        fails("count_values(5, b)", 14, "expected type string in aggregation parameter, got scalar");
        passes("count_values(\"v\", b)");
        passes("topk(scalar(x), b)");
        passes("quantile(0.5, b) by (job)");
        // The aggregated expression is checked before the parameter.
        fails("topk(a, b[1m])", 9, "expected type instant vector in aggregation expression, got range vector");
    }

    #[test]
    fn binary_operators() {
        fails("1 == 1", 3, "comparisons between scalars must use BOOL modifier");
        passes("1 == bool 1");
        fails("foo + bool bar", 5, "bool modifier can only be used on comparison operators");
        fails("foo and bool 10", 5, "bool modifier can only be used on comparison operators");
        fails("1 and 1", 1, "set operator \"and\" not allowed in binary scalar expression");
        fails("foo or 1", 1, "set operator \"or\" not allowed in binary scalar expression");
        fails("1 unless foo", 1, "set operator \"unless\" not allowed in binary scalar expression");
        fails("foo * on(a) group_left(a) bar", 5, "label \"a\" must not occur in ON and GROUP clause at once");
        passes("foo * ignoring(a) group_left(a) bar");
        fails("foo + on(bar) 1", 1, "vector matching only allowed between instant vectors");
        passes("foo + on() 1");
        fails("foo + fill(0) 1", 1, "filling in missing series only allowed between instant vectors");
        fails("foo and fill(0) bar", 1, "filling in missing series not allowed for set operators");
        fails("foo and on(a) group_left(b) bar", 1, "no grouping allowed for \"and\" operation");
        fails("foo or ignoring(a) group_right bar", 1, "no grouping allowed for \"or\" operation");
        fails("foo[5m] + 1", 1, "binary expression must contain only scalar and instant vector types");
        fails("1 + \"a\"", 5, "binary expression must contain only scalar and instant vector types");
        fails("foo * rate(bar)", 12, "expected type range vector in call to function \"rate\", got instant vector");
        passes("foo >/ 2");
        passes("2 </ 3"); // Prometheus rejects this only when evaluating.
        fails("foo </ bool 2", 5, "bool modifier can only be used on comparison operators");
        // The operator position skips newlines and blanks.
        let err = parse("1\n  ==\n 1").unwrap_err();
        assert_eq!(err.line_col(), (2, 3));
    }

    #[test]
    fn selectors() {
        fails("{}", 1, "vector selector must contain at least one non-empty matcher");
        fails("{x=\"\"}", 1, "vector selector must contain at least one non-empty matcher");
        fails("{x=~\".*\"}", 1, "vector selector must contain at least one non-empty matcher");
        fails("{x!~\".+\"}", 1, "vector selector must contain at least one non-empty matcher");
        fails("sum({x=\"\"}[5m])", 5, "vector selector must contain at least one non-empty matcher");
        passes("{x=~\".+\"}");
        passes("{x!=\"\"}");
        passes("{x=\"\", y=\"a\"}");
        fails("foo{__name__=\"bar\"}", 1, "metric name must not be set twice: \"foo\" or \"bar\"");
        fails("foo{a=\"1\", __name__=~\"b.*\"}", 1, "metric name must not be set twice: \"foo\" or \"b.*\"");
        passes("{__name__=\"foo\", __name__!=\"bar\"}");
    }

    #[test]
    fn subqueries_and_unary() {
        fails("foo[5m][10m:1m]", 1, "subquery is only allowed on instant vector, got matrix instead");
        fails("1[5m:1m]", 1, "subquery is only allowed on instant vector, got scalar instead");
        fails("\"x\"[5m:]", 1, "subquery is only allowed on instant vector, got string instead");
        passes("rate(foo[5m])[10m:1m]");
        passes("(1 + foo)[10m:]");
        fails(
            "-\"string\"",
            1,
            "unary expression only allowed on expressions of type scalar or instant vector, got \"string\"",
        );
        fails(
            "-test[5m]",
            1,
            "unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
        );
        passes("-(foo)");
    }
}
