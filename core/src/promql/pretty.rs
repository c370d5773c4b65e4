//! The pretty printer behind `/api/v1/format_query`, with the output of
//! Prometheus's `parser.Prettify`: a node whose one-line form is longer than
//! 100 bytes is split, its children go on their own lines indented by two
//! spaces per level; anything that fits stays on one line.

use super::ast::*;
use super::printer::{aggregate_header, binary_operator, subquery_suffix};

/// Longest one-line form Prometheus leaves unsplit.
const MAX_LINE: usize = 100;
const INDENT: &str = "  ";

impl Expr {
    /// The expression formatted over several lines, as Prometheus's
    /// `format_query` endpoint returns it.
    pub fn pretty(&self) -> String {
        Prettifier { max_line: MAX_LINE }.node(self, 0)
    }
}

struct Prettifier {
    max_line: usize,
}

impl Prettifier {
    /// Formats `e` at depth `level`. The result starts with the indentation of
    /// its level, which the parent has put on a fresh line.
    fn node(&self, e: &Expr, level: usize) -> String {
        let indent = INDENT.repeat(level);
        let one_line = e.to_string();
        if one_line.len() <= self.max_line {
            // Like Prometheus, a subquery that fits is not indented.
            return match e.kind {
                ExprKind::Subquery(_) => one_line,
                _ => indent + &one_line,
            };
        }
        match &e.kind {
            ExprKind::Aggregate(a) => {
                let mut s = indent.clone() + &aggregate_header(a) + "(\n";
                if let Some(p) = &a.param {
                    s += &self.node(p, level + 1);
                    s += ",\n";
                }
                s + &self.node(&a.expr, level + 1) + "\n" + &indent + ")"
            }
            ExprKind::Binary(b) => {
                self.node(&b.lhs, level + 1)
                    + "\n"
                    + &indent
                    + &binary_operator(b)
                    + "\n"
                    + &self.node(&b.rhs, level + 1)
            }
            ExprKind::Call(c) if !c.args.is_empty() => {
                let args: Vec<String> = c.args.iter().map(|a| self.node(a, level + 1)).collect();
                indent.clone() + &c.func + "(\n" + &args.join(",\n") + "\n" + &indent + ")"
            }
            ExprKind::Paren(inner) => indent.clone() + "(\n" + &self.node(inner, level + 1) + "\n" + &indent + ")",
            ExprKind::Subquery(sq) => self.node(&sq.expr, level) + &subquery_suffix(sq),
            ExprKind::Unary(u) => {
                let child = self.node(&u.expr, level);
                indent + if u.neg { "-" } else { "+" } + child.trim()
            }
            // Selectors, literals and argument-less calls are never split.
            _ => indent + &one_line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::parse;

    /// Prometheus's own prettifier tests use a 10-byte line limit.
    fn narrow(q: &str) -> String {
        let e = parse(q).unwrap_or_else(|err| panic!("{q}: {err}"));
        Prettifier { max_line: 10 }.node(&e, 0)
    }

    #[track_caller]
    fn check(input: &str, want: &str) {
        assert_eq!(narrow(input), want, "prettifying {input}");
    }

    #[test]
    fn aggregations() {
        check("sum(foo)", "sum(foo)");
        check("sum by() (task:errors:rate10s{job=\"s\"})", "sum(\n  task:errors:rate10s{job=\"s\"}\n)");
        check(
            "sum(task:errors:rate10s{job=\"s\"}) without(job,foo)",
            "sum without (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)",
        );
        check("topk(10, ask:errors:rate10s{job=\"s\"})", "topk(\n  10,\n  ask:errors:rate10s{job=\"s\"}\n)");
        check(
            "sum by(job,foo) # Comment 1.\n(sum by(job,foo) ( # Comment 2.\ntask:errors:rate10s{job=\"s\"}))",
            "sum by (job, foo) (\n  sum by (job, foo) (\n    task:errors:rate10s{job=\"s\"}\n  )\n)",
        );
    }

    #[test]
    fn binary_expressions() {
        check("a+b", "a + b");
        check("a == bool 1", "  a\n== bool\n  1");
        check("a + ignoring(job) b", "  a\n+ ignoring (job)\n  b");
        check("foo_1 + foo_2 + foo_3", "    foo_1\n  +\n    foo_2\n+\n  foo_3");
        check("foo + baar + foo_3", "  foo + baar\n+\n  foo_3");
        check(
            "foo_1 + ignoring(foo) foo_2 + ignoring(job) group_left foo_3 + on(instance) group_right foo_4",
            "      foo_1\n    + ignoring (foo)\n      foo_2\n  + ignoring (job) group_left ()\n    foo_3\n+ on (instance) group_right ()\n  foo_4",
        );
    }

    #[test]
    fn calls_parens_and_unary() {
        check("rate(foo[1m])", "rate(\n  foo[1m]\n)");
        check(
            "rate(long_vector_selector[10m:1m] @ start() offset 1m)",
            "rate(\n  long_vector_selector[10m:1m] @ start() offset 1m\n)",
        );
        check("histogram_quantile(0.9, rate(foo[1m]))", "histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)");
        check(
            "max_over_time(rate(demo_api_request_duration_seconds_count[1m])[1m:] @ start() offset 1m)",
            "max_over_time(\n  rate(\n    demo_api_request_duration_seconds_count[1m]\n  )[1m:] @ start() offset 1m\n)",
        );
        check("(foo)", "(foo)");
        check("((_foo_long_))", "(\n  (\n    _foo_long_\n  )\n)");
        check("(foo_long + bar_long)", "(\n    foo_long\n  +\n    bar_long\n)");
        check("a @ 1", "a @ 1.000");
        check("-1", "-1");
        check("(-vector_selector)", "(\n  -vector_selector\n)");
        check(
            "-histogram_quantile(0.9, -rate(foo[1m] @ start()))",
            "-histogram_quantile(\n  0.9,\n  -rate(\n    foo[1m] @ start()\n  )\n)",
        );
        check("rate(foo[-5m+35m])", "rate(\n  foo[-5m + 35m]\n)");
    }

    #[test]
    fn real_world_queries_at_the_default_width() {
        let short = parse("sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))").unwrap();
        assert_eq!(short.pretty(), "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))");
        let long = parse(
            "min by (job, integration) (rate(alertmanager_notifications_failed_total{job=\"alertmanager\", integration=~\".*\"}[5m]) / rate(alertmanager_notifications_total{job=\"alertmanager\", integration=\"~.*\"}[5m])) > 0.01",
        )
        .unwrap();
        assert_eq!(
            long.pretty(),
            "  min by (job, integration) (
      rate(alertmanager_notifications_failed_total{integration=~\".*\",job=\"alertmanager\"}[5m])
    /
      rate(alertmanager_notifications_total{integration=\"~.*\",job=\"alertmanager\"}[5m])
  )
>
  0.01"
        );
        // A query split over lines parses back to the same expression.
        assert_eq!(parse(&long.pretty()).unwrap().to_string(), long.to_string());
    }
}
