//! Prints an [`Expr`](super::Expr) back as PromQL, in the canonical form
//! Prometheus's `String()` produces: `sum by (job) (rate(x[5m]))`, durations
//! as `5m`, `offset -5m`, `@ 100.000`, matchers sorted, strings double-quoted.
//! Parsing the output gives the same tree (up to matcher order and clauses
//! that mean nothing, such as `by ()`).

use std::fmt::{self, Write};

use super::ast::*;
use crate::model::{is_legacy_label_name, Matcher, METRIC_NAME};

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self)
    }
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_duration_expr(f, self)
    }
}

fn write_expr(f: &mut impl Write, e: &Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Number(v) => f.write_str(&format_number(*v)),
        ExprKind::String(s) => write_go_quoted(f, s),
        ExprKind::VectorSelector(vs) => {
            write_selector_body(f, vs)?;
            write_at(f, vs.at)?;
            write_range_modifier(f, vs.modifier)?;
            write_offset(f, vs.offset.as_ref())
        }
        ExprKind::MatrixSelector(ms) => {
            let vs = &ms.selector;
            write_selector_body(f, vs)?;
            write!(f, "[{}]", ms.range)?;
            write_range_modifier(f, vs.modifier)?;
            write_at(f, vs.at)?;
            write_offset(f, vs.offset.as_ref())
        }
        ExprKind::Subquery(sq) => {
            write_expr(f, &sq.expr)?;
            f.write_str(&subquery_suffix(sq))
        }
        ExprKind::Call(c) => {
            f.write_str(&c.func)?;
            f.write_char('(')?;
            for (i, arg) in c.args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_expr(f, arg)?;
            }
            f.write_char(')')
        }
        ExprKind::Aggregate(a) => {
            f.write_str(&aggregate_header(a))?;
            f.write_char('(')?;
            if let Some(p) = &a.param {
                write_expr(f, p)?;
                f.write_str(", ")?;
            }
            write_expr(f, &a.expr)?;
            f.write_char(')')
        }
        ExprKind::Binary(b) => {
            match b.lhs.kind {
                // `+Inf ^ 2` would read as `+(Inf ^ 2)`.
                ExprKind::Number(v) if b.op == BinaryOp::Pow && v == f64::INFINITY => f.write_str("Inf")?,
                _ => write_expr(f, &b.lhs)?,
            }
            f.write_char(' ')?;
            f.write_str(&binary_operator(b))?;
            f.write_char(' ')?;
            write_expr(f, &b.rhs)
        }
        ExprKind::Unary(u) => {
            f.write_char(if u.neg { '-' } else { '+' })?;
            write_expr(f, &u.expr)
        }
        ExprKind::Paren(inner) => {
            f.write_char('(')?;
            write_expr(f, inner)?;
            f.write_char(')')
        }
    }
}

/// `sum`, `sum by (a, b) `, `topk without () `: the operator and its grouping
/// (with Prometheus's trailing space), everything before the `(`.
pub(super) fn aggregate_header(a: &Aggregate) -> String {
    let mut s = a.op.as_str().to_string();
    if a.without {
        s.push_str(" without (");
        s.push_str(&label_list(&a.grouping));
        s.push_str(") ");
    } else if !a.grouping.is_empty() {
        s.push_str(" by (");
        s.push_str(&label_list(&a.grouping));
        s.push_str(") ");
    }
    s
}

/// The operator with its modifiers: `+`, `== bool`, `* on (a) group_left (b)`,
/// `+ fill (0)`.
pub(super) fn binary_operator(b: &Binary) -> String {
    let mut s = b.op.as_str().to_string();
    if b.return_bool {
        s.push_str(" bool");
    }
    let Some(m) = &b.matching else { return s };
    let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
    if !m.labels.is_empty() || m.on || grouped {
        s.push_str(if m.on { " on (" } else { " ignoring (" });
        s.push_str(&label_list(&m.labels));
        s.push(')');
    }
    if grouped {
        s.push_str(if m.card == Cardinality::ManyToOne { " group_left (" } else { " group_right (" });
        s.push_str(&label_list(&m.include));
        s.push(')');
    }
    match (m.fill_left, m.fill_right) {
        // Like Prometheus, a shared value is one `fill`; NaN never equals itself.
        (Some(l), Some(r)) if l == r => {
            let _ = write!(s, " fill ({})", format_float_g(l));
        }
        (l, r) => {
            if let Some(l) = l {
                let _ = write!(s, " fill_left ({})", format_float_g(l));
            }
            if let Some(r) = r {
                let _ = write!(s, " fill_right ({})", format_float_g(r));
            }
        }
    }
    s
}

/// `[range:step] @ t offset d` of a subquery.
pub(super) fn subquery_suffix(sq: &Subquery) -> String {
    let mut s = format!("[{}:", sq.range);
    if let Some(step) = &sq.step {
        let _ = write!(s, "{step}");
    }
    s.push(']');
    let _ = write_at(&mut s, sq.at);
    let _ = write_offset(&mut s, sq.offset.as_ref());
    s
}

/// `name{a="b",c=~"d"}` without modifiers. The matcher the metric name
/// produced is folded back into the name; the others are sorted as text.
fn write_selector_body(f: &mut impl Write, vs: &VectorSelector) -> fmt::Result {
    let name = vs.name.as_deref().unwrap_or("");
    let mut matchers: Vec<String> = vs
        .matchers
        .iter()
        .filter(|m| !(m.name == METRIC_NAME && m.op == crate::MatchOp::Equal && !name.is_empty() && m.value == name))
        .map(format_matcher)
        .collect();
    f.write_str(name)?;
    if matchers.is_empty() {
        return Ok(());
    }
    matchers.sort();
    f.write_char('{')?;
    f.write_str(&matchers.join(","))?;
    f.write_char('}')
}

fn format_matcher(m: &Matcher) -> String {
    let mut s = String::new();
    write_label_name(&mut s, &m.name);
    s.push_str(m.op.as_str());
    let _ = write_go_quoted(&mut s, &m.value);
    s
}

fn write_label_name(s: &mut String, name: &str) {
    if is_legacy_label_name(name) {
        s.push_str(name);
    } else {
        let _ = write_go_quoted(s, name);
    }
}

fn label_list(labels: &[String]) -> String {
    let mut s = String::new();
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        write_label_name(&mut s, l);
    }
    s
}

fn write_at(f: &mut impl Write, at: Option<AtModifier>) -> fmt::Result {
    match at {
        None => Ok(()),
        Some(AtModifier::Start) => f.write_str(" @ start()"),
        Some(AtModifier::End) => f.write_str(" @ end()"),
        Some(AtModifier::Timestamp(ms)) => {
            // `%.3f` of the seconds, computed exactly from the milliseconds.
            let sign = if ms < 0 { "-" } else { "" };
            let abs = ms.unsigned_abs();
            write!(f, " @ {sign}{}.{:03}", abs / 1000, abs % 1000)
        }
    }
}

fn write_range_modifier(f: &mut impl Write, m: Option<RangeModifier>) -> fmt::Result {
    match m {
        None => Ok(()),
        Some(RangeModifier::Anchored) => f.write_str(" anchored"),
        Some(RangeModifier::Smoothed) => f.write_str(" smoothed"),
    }
}

fn write_offset(f: &mut impl Write, offset: Option<&DurationExpr>) -> fmt::Result {
    match offset {
        // Prometheus cannot tell `offset 0` from no offset and prints neither.
        None | Some(DurationExpr::Literal(0)) => Ok(()),
        Some(d) => write!(f, " offset {d}"),
    }
}

fn write_duration_expr(f: &mut impl Write, d: &DurationExpr) -> fmt::Result {
    match d {
        DurationExpr::Literal(ms) => f.write_str(&format_duration(*ms)),
        DurationExpr::Number(v) => f.write_str(&format_number(*v)),
        DurationExpr::Step => f.write_str("step()"),
        DurationExpr::Range => f.write_str("range()"),
        DurationExpr::Unary { neg, expr } => {
            if *neg {
                f.write_char('-')?;
            }
            write_duration_expr(f, expr)
        }
        DurationExpr::Binary { op, lhs, rhs } => {
            write_duration_expr(f, lhs)?;
            write!(f, " {} ", op.as_str())?;
            write_duration_expr(f, rhs)
        }
        DurationExpr::MinMax { max, a, b } => {
            f.write_str(if *max { "max_of(" } else { "min_of(" })?;
            write_duration_expr(f, a)?;
            f.write_str(", ")?;
            write_duration_expr(f, b)?;
            f.write_char(')')
        }
        DurationExpr::Paren(inner) => {
            f.write_char('(')?;
            write_duration_expr(f, inner)?;
            f.write_char(')')
        }
    }
}

/// A duration the way Prometheus's `model.Duration` prints it: `1h30m`,
/// `500ms`, `0s`; years and weeks only when the whole duration is a multiple
/// of them (`2w`, but `8d`). Negative durations get a leading `-`.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    const UNITS: [(&str, u64, bool); 7] = [
        ("y", 365 * 24 * 3600 * 1000, true),
        ("w", 7 * 24 * 3600 * 1000, true),
        ("d", 24 * 3600 * 1000, false),
        ("h", 3600 * 1000, false),
        ("m", 60 * 1000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (unit, size, only_if_exact) in UNITS {
        if only_if_exact && !rest.is_multiple_of(size) {
            continue;
        }
        let n = rest / size;
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
            rest -= n * size;
        }
    }
    out
}

/// A number literal as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it:
/// shortest digits that read back exactly, never an exponent; `+Inf`, `-Inf`, `NaN`.
pub fn format_number(v: f64) -> String {
    // Rust's shortest round-trip formatting never uses an exponent either.
    non_finite(v).map_or_else(|| format!("{v}"), str::to_string)
}

/// How Go writes a float that is not finite: `NaN`, `+Inf`, `-Inf`.
pub(super) fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        None
    }
}

/// A float as Go's `%v` writes it: shortest digits, with an exponent
/// (`1e+21`, `1e-05`) outside `1e-4 <= |v| < 1e21`.
pub fn format_float_g(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return format_number(v);
    }
    let exp = v.abs().log10().floor() as i32;
    if (-4..21).contains(&exp) {
        return format_number(v);
    }
    let sci = format!("{v:e}");
    let (mantissa, exponent) = sci.split_once('e').expect("{:e} always writes an exponent");
    let exponent: i32 = exponent.parse().expect("exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

/// Writes `s` as Go's `strconv.Quote` does: double quotes, `\"` and `\\`,
/// the short escapes for control characters and `\xHH` / `\uHHHH` for the rest.
pub fn write_go_quoted(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\u{07}' => f.write_str("\\a")?,
            '\u{08}' => f.write_str("\\b")?,
            '\u{0c}' => f.write_str("\\f")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{0b}' => f.write_str("\\v")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::parse;

    fn canon(q: &str) -> String {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).to_string()
    }

    #[test]
    fn prints_prometheus_canonical_form() {
        let cases = [
            ("sum by(job)(rate(x[300s]))", "sum by (job) (rate(x[5m]))"),
            ("sum(rate(x[5m])) by (job)", "sum by (job) (rate(x[5m]))"),
            ("SUM without(a,b) (x)", "sum without (a, b) (x)"),
            ("sum by () (x)", "sum(x)"),
            ("topk(3, x)", "topk(3, x)"),
            ("count_values('v', x)", r#"count_values("v", x)"#),
            ("foo offset 5m", "foo offset 5m"),
            ("foo offset -5m", "foo offset -5m"),
            ("foo offset 90", "foo offset 1m30s"),
            ("foo offset 0", "foo"),
            ("foo @ 100", "foo @ 100.000"),
            ("foo @ 1.5 offset 1h", "foo @ 1.500 offset 1h"),
            ("foo offset 1h @ 1.5", "foo @ 1.500 offset 1h"),
            ("foo[5m] @ start()", "foo[5m] @ start()"),
            ("foo @ end()", "foo @ end()"),
            ("foo[1h30m] offset 1w", "foo[1h30m] offset 1w"),
            ("foo[8d]", "foo[8d]"),
            ("foo[14d]", "foo[2w]"),
            ("foo[1500ms]", "foo[1s500ms]"),
            ("foo[1.5]", "foo[1s500ms]"),
            ("foo[365d]", "foo[1y]"),
            (r#"foo{b="1", a=~"x.*"}"#, r#"foo{a=~"x.*",b="1"}"#),
            (r#"{__name__="foo"}"#, r#"{__name__="foo"}"#),
            (r#"{"my.metric", "a.b"!="c"}"#, r#"{"a.b"!="c",__name__="my.metric"}"#),
            ("rate(x[5m:])", "rate(x[5m:])"),
            ("x[1h:5m] offset 10m", "x[1h:5m] offset 10m"),
            ("x[1h:5m] @ 10 offset -10m", "x[1h:5m] @ 10.000 offset -10m"),
            ("a+b*c", "a + b * c"),
            ("(a+b)*c", "(a + b) * c"),
            ("a == bool b", "a == bool b"),
            ("a * on(x,y) group_left(z) b", "a * on (x, y) group_left (z) b"),
            ("a * ignoring(x) group_right b", "a * ignoring (x) group_right () b"),
            ("a + on() b", "a + on () b"),
            ("a + ignoring() b", "a + b"),
            ("a and on(x) b", "a and on (x) b"),
            ("a + fill(0) b", "a + fill (0) b"),
            ("a + fill_left(1) fill_right(2) b", "a + fill_left (1) fill_right (2) b"),
            ("a + on(x) fill_right(1e30) b", "a + on (x) fill_right (1e+30) b"),
            ("-a", "-a"),
            ("+a", "+a"),
            ("-1", "-1"),
            ("- - 1", "1"),
            ("-1 * x", "-1 * x"),
            ("-2 ^ 2", "-2 ^ 2"),
            ("Inf ^ 2", "Inf ^ 2"),
            ("+Inf * 2", "+Inf * 2"),
            ("0x1f", "31"),
            ("1e3", "1000"),
            ("1e-7", "0.0000001"),
            ("Inf", "+Inf"),
            ("-inf", "-Inf"),
            ("nan", "NaN"),
            // Prometheus keeps a "was a duration" flag and prints `1h`; our AST holds the number.
            ("1h", "3600"),
            (r#""a\"b\n\u00e9\x07""#, r#""a\"b\né\a""#),
            ("`raw\\n`", r#""raw\\n""#),
            ("label_join(x, 'a', ',', 'b', 'c')", r#"label_join(x, "a", ",", "b", "c")"#),
            ("foo[5m] anchored", "foo[5m] anchored"),
            ("foo smoothed offset 1m", "foo smoothed offset 1m"),
            ("foo[5m] @ 5 offset 1m smoothed", "foo[5m] smoothed @ 5.000 offset 1m"),
            ("foo[5m+1m]", "foo[5m + 1m]"),
            ("foo[2 * (1h - 5m)]", "foo[2 * (1h - 5m)]"),
            ("foo[-5m+35m]", "foo[-5m + 35m]"),
            ("foo[step() * 2]", "foo[step() * 2]"),
            ("foo offset min_of(step(), 1s)", "foo offset min_of(step(), 1s)"),
            ("foo offset -(step())", "foo offset -(step())"),
            ("foo[max_of(range(), 5m):+1m]", "foo[max_of(range(), 5m):1m]"),
            ("a </ 2", "a </ 2"),
            ("a >/ on(x) b", "a >/ on (x) b"),
            ("sum by (\"a.b\") (x)", "sum by (\"a.b\") (x)"),
        ];
        for (input, want) in cases {
            assert_eq!(canon(input), want, "printing {input}");
            assert_eq!(canon(want), want, "printing is idempotent for {want}");
        }
    }

    #[test]
    fn durations_format_like_model_duration() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(1), "1ms");
        assert_eq!(format_duration(90_000), "1m30s");
        assert_eq!(format_duration(-300_000), "-5m");
        assert_eq!(format_duration(8 * 86_400_000), "8d");
        assert_eq!(format_duration(7 * 86_400_000), "1w");
        assert_eq!(format_duration(366 * 86_400_000), "366d");
        assert_eq!(format_duration(730 * 86_400_000), "2y");
        assert_eq!(format_duration(3_723_004), "1h2m3s4ms");
    }

    #[test]
    fn floats_format_like_go() {
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(-0.0), "-0");
        assert_eq!(format_number(1e21), "1000000000000000000000");
        assert_eq!(format_float_g(1e21), "1e+21");
        assert_eq!(format_float_g(1e20), "100000000000000000000");
        assert_eq!(format_float_g(0.0001), "0.0001");
        assert_eq!(format_float_g(0.00001), "1e-05");
        assert_eq!(format_float_g(-1.5e-7), "-1.5e-07");
        assert_eq!(format_float_g(f64::NEG_INFINITY), "-Inf");
    }
}
