//! Builds the [`Expr`] AST from the pest parse tree.
//!
//! pest recognises the token structure (`grammar.pest`); this module resolves
//! precedence with a `PrattParser`, decodes literals (numbers, durations,
//! strings with Go-style escapes), attaches postfix modifiers to the node they
//! apply to and reports the errors Prometheus reports while parsing. Type
//! errors are left to `check.rs`.

use std::cell::Cell;
use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use super::ast::*;
use super::{functions, lexer};
use crate::error::ParseError;
use crate::model::{MatchOp, Matcher, METRIC_NAME};

#[derive(pest_derive::Parser)]
#[grammar = "promql/grammar.pest"]
struct PromqlGrammar;

/// Deepest nesting accepted: brackets in the text, and the height of the tree
/// built from one operator sequence. Bounding it keeps the recursive parser,
/// checker, printer and evaluator far from the end of the stack.
pub const MAX_DEPTH: usize = 256;

type PResult<T> = Result<T, ParseError>;

/// Parses `query` into an (unchecked) expression.
pub(crate) fn parse_expr(query: &str) -> PResult<Expr> {
    check_nesting(query)?;
    if lexer::is_blank(query) {
        return Err(ParseError::new(query, 0..0, "no expression found in input"));
    }
    check_tokens(query)?;
    let mut pairs = PromqlGrammar::parse(Rule::query, query).map_err(|e| syntax_error(query, &e))?;
    let query_pair = pairs.next().expect("query rule always produces a pair");
    let expr_pair = query_pair.into_inner().next().expect("query contains an expression");
    Builder::new(query).expr(expr_pair)
}

/// Parses a selector with `=` matchers only into (name, value) pairs.
pub(crate) fn parse_series_pairs(text: &str) -> PResult<Vec<(String, String)>> {
    check_nesting(text)?;
    check_tokens(text)?;
    let mut pairs = PromqlGrammar::parse(Rule::series, text).map_err(|e| syntax_error(text, &e))?;
    let series = pairs.next().expect("series rule always produces a pair");
    let sel_pair = series.into_inner().next().expect("series contains a selector");
    let span = span_of(&sel_pair);
    let sel = Builder::new(text).vector_selector(sel_pair)?;
    let mut out = Vec::with_capacity(sel.matchers.len());
    for m in sel.matchers {
        if m.op != MatchOp::Equal {
            return Err(ParseError::new(text, span, format!("only \"=\" matchers are allowed in a series, got {m}")));
        }
        out.push((m.name, m.value));
    }
    Ok(out)
}

/// Rejects what Prometheus's lexer rejects, with its messages, and turns on
/// pest's tracking of the furthest position reached (for syntax errors).
fn check_tokens(query: &str) -> PResult<()> {
    static DETAIL: std::sync::Once = std::sync::Once::new();
    // Process-wide in pest; it roughly doubles parse time (~25 µs for a typical
    // query), which buys error positions at the real problem.
    DETAIL.call_once(|| pest::set_error_detail(true));
    match lexer::first_error(query) {
        Some(e) => Err(ParseError::new(query, e.span, e.message)),
        None => Ok(()),
    }
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    s.start()..s.end()
}

/// Rejects text nested deeper than [`MAX_DEPTH`] brackets before pest (which
/// recurses once per level) sees it. Strings and comments are skipped.
fn check_nesting(query: &str) -> PResult<()> {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::new(
                        query,
                        i..i + 1,
                        format!("expression nests deeper than the maximum of {MAX_DEPTH} levels"),
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn expr_pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left) | Op::infix(Rule::op_unless, Assoc::Left))
            .op(Op::infix(Rule::op_eql, Assoc::Left)
                | Op::infix(Rule::op_neq, Assoc::Left)
                | Op::infix(Rule::op_gtr, Assoc::Left)
                | Op::infix(Rule::op_lss, Assoc::Left)
                | Op::infix(Rule::op_gte, Assoc::Left)
                | Op::infix(Rule::op_lte, Assoc::Left)
                | Op::infix(Rule::op_trim_upper, Assoc::Left)
                | Op::infix(Rule::op_trim_lower, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left)
                | Op::infix(Rule::op_atan2, Assoc::Left))
            // Unary operators act like Prometheus's (`%prec MUL`): `-a * b` is
            // `(-a) * b`, `-2 ^ 2` is `-(2 ^ 2)`. pest parses a prefix operand
            // one level below the prefix's own, so they need a level of their
            // own between `*` and `^`.
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::pos))
            .op(Op::infix(Rule::op_pow, Assoc::Right))
    })
}

fn duration_pratt() -> &'static PrattParser<Rule> {
    static P: OnceLock<PrattParser<Rule>> = OnceLock::new();
    P.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::dur_add, Assoc::Left) | Op::infix(Rule::dur_sub, Assoc::Left))
            .op(Op::infix(Rule::dur_mul, Assoc::Left)
                | Op::infix(Rule::dur_div, Assoc::Left)
                | Op::infix(Rule::dur_mod, Assoc::Left))
            // As for expressions: between `*` and `^`.
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::pos))
            .op(Op::infix(Rule::dur_pow, Assoc::Right))
    })
}

/// Walks the parse tree; `depth` bounds the height of the tree being built.
struct Builder<'q> {
    query: &'q str,
    depth: Cell<usize>,
}

impl<'q> Builder<'q> {
    fn new(query: &'q str) -> Self {
        Builder { query, depth: Cell::new(0) }
    }

    fn err<T>(&self, span: Span, msg: impl Into<String>) -> PResult<T> {
        Err(ParseError::new(self.query, span, msg))
    }

    /// Accounts for `levels` more levels of tree below the current point.
    fn descend(&self, levels: usize, span: &Span) -> PResult<usize> {
        let before = self.depth.get();
        let after = before + levels;
        if after > MAX_DEPTH {
            return self.err(span.clone(), format!("expression nests deeper than the maximum of {MAX_DEPTH} levels"));
        }
        self.depth.set(after);
        Ok(before)
    }

    // -- expressions --------------------------------------------------------

    fn expr(&self, pair: Pair<'q, Rule>) -> PResult<Expr> {
        debug_assert_eq!(pair.as_rule(), Rule::expr);
        let span = span_of(&pair);
        let pairs = pair.into_inner();
        // Every operator in the sequence can add one level (prefix chains and `^`
        // chains recurse inside the Pratt parser itself), so reserve them up front.
        let ops = pairs.clone().filter(|p| p.as_rule() != Rule::operand).count();
        let saved = self.descend(ops + 1, &span)?;
        let result = self.fold_expr(pairs);
        self.depth.set(saved);
        result
    }

    fn fold_expr(&self, pairs: Pairs<'q, Rule>) -> PResult<Expr> {
        expr_pratt()
            .map_primary(|p| self.operand(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let neg = op.as_rule() == Rule::neg;
                let span = op.as_span().start()..rhs.span.end;
                // Prometheus folds a sign into a number literal right away.
                if let ExprKind::Number(v) = rhs.kind {
                    return Ok(Expr { span, kind: ExprKind::Number(if neg { -v } else { v }) });
                }
                Ok(Expr { span, kind: ExprKind::Unary(Unary { neg, expr: Box::new(rhs) }) })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let bin_op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_unless => BinaryOp::Unless,
                    Rule::op_atan2 => BinaryOp::Atan2,
                    Rule::op_eql => BinaryOp::Eql,
                    Rule::op_neq => BinaryOp::Neq,
                    Rule::op_gte => BinaryOp::Gte,
                    Rule::op_lte => BinaryOp::Lte,
                    Rule::op_gtr => BinaryOp::Gtr,
                    Rule::op_lss => BinaryOp::Lss,
                    Rule::op_trim_upper => BinaryOp::TrimUpper,
                    Rule::op_trim_lower => BinaryOp::TrimLower,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    Rule::op_mod => BinaryOp::Mod,
                    Rule::op_pow => BinaryOp::Pow,
                    r => unreachable!("not an infix operator: {r:?}"),
                };
                let modifiers = op.into_inner().find(|p| p.as_rule() == Rule::bin_mod).expect("operator has a bin_mod");
                let (return_bool, matching) = self.bin_mod(bin_op, modifiers)?;
                let span = lhs.span.start..rhs.span.end;
                Ok(Expr {
                    span,
                    kind: ExprKind::Binary(Binary {
                        op: bin_op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                        return_bool,
                        matching,
                    }),
                })
            })
            .parse(pairs)
    }

    fn bin_mod(&self, op: BinaryOp, pair: Pair<'q, Rule>) -> PResult<(bool, Option<VectorMatching>)> {
        let mut return_bool = false;
        let mut matching: Option<VectorMatching> = None;
        let default_card = if op.is_set_operator() { Cardinality::ManyToMany } else { Cardinality::OneToOne };
        let new_matching = || VectorMatching {
            card: default_card,
            on: false,
            labels: Vec::new(),
            has_clause: false,
            include: Vec::new(),
            fill_left: None,
            fill_right: None,
        };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::bool_mod => return_bool = true,
                Rule::matching => {
                    let m = matching.get_or_insert_with(new_matching);
                    let mut inner = part.into_inner();
                    m.on = inner.next().map(|k| k.as_rule()) == Some(Rule::on_kw);
                    m.has_clause = true;
                    m.labels = self.grouping_labels(inner.next().expect("matching has labels"))?;
                }
                Rule::group_mod => {
                    let m = matching.get_or_insert_with(new_matching);
                    let mut inner = part.into_inner();
                    let left = inner.next().map(|k| k.as_rule()) == Some(Rule::group_left_kw);
                    m.card = if left { Cardinality::ManyToOne } else { Cardinality::OneToMany };
                    if let Some(labels) = inner.next() {
                        m.include = self.grouping_labels(labels)?;
                    }
                }
                Rule::fill_mod => {
                    let m = matching.get_or_insert_with(new_matching);
                    let mut inner = part.into_inner();
                    let which = inner.next().expect("fill keyword").as_rule();
                    let v = self.signed_number(inner.next().expect("fill value"))?;
                    match which {
                        Rule::fill_left_kw => m.fill_left = Some(v),
                        Rule::fill_right_kw => m.fill_right = Some(v),
                        _ => {
                            m.fill_left = Some(v);
                            m.fill_right = Some(v);
                        }
                    }
                }
                r => unreachable!("unexpected rule in bin_mod: {r:?}"),
            }
        }
        Ok((return_bool, matching))
    }

    fn grouping_labels(&self, pair: Pair<'q, Rule>) -> PResult<Vec<String>> {
        pair.into_inner()
            .map(|p| match p.as_rule() {
                Rule::label_name => Ok(p.as_str().to_string()),
                _ => self.string(p),
            })
            .collect()
    }

    /// A primary expression followed by its postfix modifiers.
    fn operand(&self, pair: Pair<'q, Rule>) -> PResult<Expr> {
        let mut inner = pair.into_inner();
        let mut expr = self.primary(inner.next().expect("operand has a primary"))?;
        for post in inner {
            let post_span = span_of(&post);
            let full_span = expr.span.start..post_span.end;
            expr = match post.as_rule() {
                Rule::bracket => self.bracket(expr, post, full_span)?,
                Rule::offset_mod => {
                    let value = post.into_inner().last().expect("offset has a value");
                    let span = span_of(&value);
                    let d = self.top_level_duration(self.offset_value(value)?, span)?;
                    self.set_offset(expr, d, full_span)?
                }
                Rule::at_mod => {
                    let value = post.into_inner().next().expect("@ has a value");
                    let at = match value.as_rule() {
                        Rule::at_start => AtModifier::Start,
                        Rule::at_end => AtModifier::End,
                        _ => {
                            let span = span_of(&value);
                            let t = self.signed_number(value)?;
                            if !t.is_finite() || t.abs() >= i64::MAX as f64 / 1000.0 {
                                return self
                                    .err(span, format!("timestamp out of bounds for @ modifier: {}", format_go_f(t)));
                            }
                            AtModifier::Timestamp((t * 1000.0).round() as i64)
                        }
                    };
                    self.set_at(expr, at, full_span)?
                }
                Rule::anchored_mod => self.set_range_modifier(expr, RangeModifier::Anchored, full_span)?,
                Rule::smoothed_mod => self.set_range_modifier(expr, RangeModifier::Smoothed, full_span)?,
                r => unreachable!("unexpected postfix {r:?}"),
            };
        }
        Ok(expr)
    }

    fn bracket(&self, expr: Expr, pair: Pair<'q, Rule>, span: Span) -> PResult<Expr> {
        let bracket_span = span_of(&pair);
        let mut inner = pair.into_inner();
        let range = self.positive_duration(inner.next().expect("bracket has a range"))?;
        if inner.next().is_some() {
            // `:` seen: a subquery.
            let step = inner.next().map(|p| self.positive_duration(p)).transpose()?;
            let _ = self.descend(1, &span)?;
            return Ok(Expr {
                span,
                kind: ExprKind::Subquery(Subquery { expr: Box::new(expr), range, step, offset: None, at: None }),
            });
        }
        match expr.kind {
            ExprKind::VectorSelector(selector) => {
                if selector.offset.is_some() {
                    return self.err(bracket_span, "no offset modifiers allowed before range");
                }
                if selector.at.is_some() {
                    return self.err(bracket_span, "no @ modifiers allowed before range");
                }
                Ok(Expr { span, kind: ExprKind::MatrixSelector(MatrixSelector { selector, range }) })
            }
            _ => self.err(bracket_span, "ranges only allowed for vector selectors"),
        }
    }

    fn set_offset(&self, mut expr: Expr, d: DurationExpr, span: Span) -> PResult<Expr> {
        let slot = match &mut expr.kind {
            ExprKind::VectorSelector(s) => &mut s.offset,
            ExprKind::MatrixSelector(m) => &mut m.selector.offset,
            ExprKind::Subquery(s) => &mut s.offset,
            _ => return self.err(
                span,
                "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            ),
        };
        if slot.is_some() {
            return self.err(span, "offset may not be set multiple times");
        }
        *slot = Some(d);
        expr.span = span;
        Ok(expr)
    }

    fn set_at(&self, mut expr: Expr, at: AtModifier, span: Span) -> PResult<Expr> {
        let slot =
            match &mut expr.kind {
                ExprKind::VectorSelector(s) => &mut s.at,
                ExprKind::MatrixSelector(m) => &mut m.selector.at,
                ExprKind::Subquery(s) => &mut s.at,
                _ => return self.err(
                    span,
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ),
            };
        if slot.is_some() {
            return self.err(span, "@ <timestamp> may not be set multiple times");
        }
        *slot = Some(at);
        expr.span = span;
        Ok(expr)
    }

    fn set_range_modifier(&self, mut expr: Expr, m: RangeModifier, span: Span) -> PResult<Expr> {
        let word = match m {
            RangeModifier::Anchored => "anchored",
            RangeModifier::Smoothed => "smoothed",
        };
        let slot = match &mut expr.kind {
            ExprKind::VectorSelector(s) => &mut s.modifier,
            ExprKind::MatrixSelector(ms) => &mut ms.selector.modifier,
            ExprKind::Subquery(_) => return self.err(span, format!("{word} modifier is not supported for subqueries")),
            _ => return self.err(span, format!("{word} modifier not implemented")),
        };
        // Repeating the same modifier is harmless; mixing the two is not.
        if slot.is_some_and(|old| old != m) {
            return self.err(span, "anchored and smoothed modifiers cannot be used together");
        }
        *slot = Some(m);
        expr.span = span;
        Ok(expr)
    }

    fn primary(&self, pair: Pair<'q, Rule>) -> PResult<Expr> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::number_literal => ExprKind::Number(self.number_literal(pair)?),
            Rule::string_literal => ExprKind::String(self.string(pair)?),
            Rule::paren => {
                let inner = self.expr(pair.into_inner().next().expect("paren has an expression"))?;
                ExprKind::Paren(Box::new(inner))
            }
            Rule::aggregate => ExprKind::Aggregate(self.aggregate(pair)?),
            Rule::function_call => ExprKind::Call(self.call(pair)?),
            Rule::vector_selector => ExprKind::VectorSelector(self.vector_selector(pair)?),
            r => unreachable!("unexpected primary {r:?}"),
        };
        Ok(Expr { span, kind })
    }

    fn call_args(&self, pair: Pair<'q, Rule>) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::trailing_comma => {
                    return self.err(span_of(&p), "trailing commas not allowed in function call args")
                }
                _ => args.push(self.expr(p)?),
            }
        }
        Ok(args)
    }

    fn call(&self, pair: Pair<'q, Rule>) -> PResult<Call> {
        let mut inner = pair.into_inner();
        let name = inner.next().expect("call has a name");
        let func = name.as_str().to_string();
        if functions::lookup(&func).is_none() {
            return self.err(span_of(&name), format!("unknown function with name {func:?}"));
        }
        let args = self.call_args(inner.next().expect("call has arguments"))?;
        Ok(Call { func, args })
    }

    fn aggregate(&self, pair: Pair<'q, Rule>) -> PResult<Aggregate> {
        let span = span_of(&pair);
        let mut op = None;
        let mut args = None;
        let mut grouping = Vec::new();
        let mut without = false;
        let mut has_grouping = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::aggregate_op => op = AggregateOp::from_name(p.as_str()),
                Rule::call_args => args = Some(self.call_args(p)?),
                Rule::grouping => {
                    let mut inner = p.into_inner();
                    without = inner.next().map(|k| k.as_rule()) == Some(Rule::without_kw);
                    grouping = self.grouping_labels(inner.next().expect("grouping has labels"))?;
                    has_grouping = true;
                }
                r => unreachable!("unexpected rule in aggregate: {r:?}"),
            }
        }
        let op = op.expect("grammar only accepts known aggregation operators");
        let mut args = args.unwrap_or_default();
        if args.is_empty() {
            return self.err(span, "no arguments for aggregate expression provided");
        }
        let wanted = if op.takes_param() { 2 } else { 1 };
        if args.len() != wanted {
            return self.err(
                span,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {wanted}, got {}",
                    args.len()
                ),
            );
        }
        let expr = args.pop().expect("length checked");
        let param = args.pop().map(Box::new);
        Ok(Aggregate { op, expr: Box::new(expr), param, grouping, without, has_grouping })
    }

    fn vector_selector(&self, pair: Pair<'q, Rule>) -> PResult<VectorSelector> {
        let mut name: Option<String> = None;
        let mut matchers = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::metric_name => name = Some(p.as_str().to_string()),
                Rule::label_matchers => {
                    for item in p.into_inner() {
                        matchers.push(self.matcher_item(item)?);
                    }
                }
                r => unreachable!("unexpected rule in selector: {r:?}"),
            }
        }
        if let Some(n) = &name {
            matchers.insert(0, Matcher::equal(METRIC_NAME, n.clone()));
        }
        Ok(VectorSelector { name, matchers, offset: None, at: None, modifier: None })
    }

    fn matcher_item(&self, pair: Pair<'q, Rule>) -> PResult<Matcher> {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::quoted_metric_name => {
                let name = self.string(pair.into_inner().next().expect("quoted name has a string"))?;
                Ok(Matcher::equal(METRIC_NAME, name))
            }
            Rule::label_matcher => {
                let mut inner = pair.into_inner();
                let label = inner.next().expect("matcher has a label");
                let label = match label.as_rule() {
                    Rule::label_name => label.as_str().to_string(),
                    _ => self.string(label)?,
                };
                let op = match inner.next().expect("matcher has an operator").as_str() {
                    "=" => MatchOp::Equal,
                    "!=" => MatchOp::NotEqual,
                    "=~" => MatchOp::RegexMatch,
                    _ => MatchOp::RegexNoMatch,
                };
                let value = self.string(inner.next().expect("matcher has a value"))?;
                // Only a regex can make a matcher invalid.
                Matcher::new(op, label, value.clone()).map_err(|_| {
                    ParseError::new(
                        self.query,
                        span,
                        format!("invalid regular expression {value:?}: {}", regex_problem(&value)),
                    )
                })
            }
            r => unreachable!("unexpected matcher rule {r:?}"),
        }
    }

    // -- durations ----------------------------------------------------------

    fn dur_expr(&self, pair: Pair<'q, Rule>) -> PResult<DurationExpr> {
        let span = span_of(&pair);
        let pairs = pair.into_inner();
        let ops = pairs.clone().count();
        let saved = self.descend(ops + 1, &span)?;
        let result = duration_pratt()
            .map_primary(|p| self.dur_operand(p))
            .map_prefix(|op, rhs| Ok(apply_sign(op.as_rule() == Rule::neg, rhs?)))
            .map_infix(|lhs, op_pair, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op = match op_pair.as_rule() {
                    Rule::dur_add => BinaryOp::Add,
                    Rule::dur_sub => BinaryOp::Sub,
                    Rule::dur_mul => BinaryOp::Mul,
                    Rule::dur_div => BinaryOp::Div,
                    Rule::dur_mod => BinaryOp::Mod,
                    _ => BinaryOp::Pow,
                };
                let zero_divisor =
                    matches!(rhs, DurationExpr::Literal(0)) || matches!(rhs, DurationExpr::Number(v) if v == 0.0);
                if zero_divisor && matches!(op, BinaryOp::Div | BinaryOp::Mod) {
                    let what = if op == BinaryOp::Div { "division by zero" } else { "modulo by zero" };
                    return self.err(span_of(&op_pair), what);
                }
                Ok(DurationExpr::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) })
            })
            .parse(pairs);
        self.depth.set(saved);
        result
    }

    fn dur_operand(&self, pair: Pair<'q, Rule>) -> PResult<DurationExpr> {
        Ok(match pair.as_rule() {
            Rule::number_literal => {
                let inner = pair.into_inner().next().expect("number literal has a token");
                match inner.as_rule() {
                    Rule::duration_literal => DurationExpr::Literal(self.duration_ms(&inner)?),
                    _ => DurationExpr::Number(self.number(&inner)?),
                }
            }
            Rule::dur_step => DurationExpr::Step,
            Rule::dur_range => DurationExpr::Range,
            Rule::dur_min_of | Rule::dur_max_of => {
                let max = pair.as_rule() == Rule::dur_max_of;
                let mut inner = pair.into_inner();
                let a = self.dur_expr(inner.next().expect("first argument"))?;
                let b = self.dur_expr(inner.next().expect("second argument"))?;
                DurationExpr::MinMax { max, a: Box::new(a), b: Box::new(b) }
            }
            Rule::dur_paren => {
                DurationExpr::Paren(Box::new(self.dur_expr(pair.into_inner().next().expect("paren content"))?))
            }
            r => unreachable!("unexpected duration operand {r:?}"),
        })
    }

    fn offset_value(&self, pair: Pair<'q, Rule>) -> PResult<DurationExpr> {
        let mut inner = pair.into_inner();
        let first = inner.next().expect("offset value");
        match first.as_rule() {
            Rule::neg | Rule::pos => {
                let operand = self.dur_operand(inner.next().expect("signed offset has an operand"))?;
                Ok(apply_sign(first.as_rule() == Rule::neg, operand))
            }
            _ => self.dur_operand(first),
        }
    }

    /// A range or subquery step: like [`Self::top_level_duration`], and a plain
    /// number or literal must be positive.
    fn positive_duration(&self, pair: Pair<'q, Rule>) -> PResult<DurationExpr> {
        let span = span_of(&pair);
        let d = self.top_level_duration(self.dur_expr(pair)?, span.clone())?;
        match d {
            DurationExpr::Literal(ms) if ms <= 0 => self.err(span, "duration must be greater than 0"),
            d => Ok(d),
        }
    }

    /// A whole duration (range, step, offset) that is a plain number of
    /// seconds becomes a literal, as Prometheus turns it into a `time.Duration`
    /// (`[300]` is `[5m]`); expressions stay as written.
    fn top_level_duration(&self, d: DurationExpr, span: Span) -> PResult<DurationExpr> {
        // Prometheus keeps durations as int64 nanoseconds.
        const MAX_SECONDS: f64 = i64::MAX as f64 / 1e9;
        match d {
            // NaN is out of range too.
            DurationExpr::Number(v) if v.is_nan() || v.abs() > MAX_SECONDS => self.err(span, "duration out of range"),
            DurationExpr::Number(v) if v > 0.0 && v < 0.001 => {
                // Rounds to zero milliseconds; keep it positive so it is not "no duration".
                Ok(DurationExpr::Literal(1))
            }
            DurationExpr::Number(v) => Ok(DurationExpr::Literal((v * 1000.0).round() as i64)),
            DurationExpr::Literal(ms) if ms.unsigned_abs() / 1000 > MAX_SECONDS as u64 => {
                self.err(span, "duration out of range")
            }
            d => Ok(d),
        }
    }

    // -- literals -----------------------------------------------------------

    fn number_literal(&self, pair: Pair<'q, Rule>) -> PResult<f64> {
        let inner = pair.into_inner().next().expect("number literal has a token");
        match inner.as_rule() {
            // A duration used as a number is its length in seconds.
            Rule::duration_literal => Ok(self.duration_ms(&inner)? as f64 / 1000.0),
            _ => self.number(&inner),
        }
    }

    fn signed_number(&self, pair: Pair<'q, Rule>) -> PResult<f64> {
        let neg = pair.as_str().starts_with('-');
        let num = pair.into_inner().next().expect("signed number has a number");
        let v = match num.as_rule() {
            Rule::duration_literal => self.duration_ms(&num)? as f64 / 1000.0,
            _ => self.number(&num)?,
        };
        Ok(if neg { -v } else { v })
    }

    fn number(&self, pair: &Pair<'q, Rule>) -> PResult<f64> {
        let text = pair.as_str();
        match parse_number(text) {
            // Only `Inf` itself may be infinite; Go's ParseFloat rejects overflow.
            Some(v) if v.is_infinite() && !text.eq_ignore_ascii_case("inf") => self.err(
                span_of(pair),
                format!("error parsing number: strconv.ParseFloat: parsing {text:?}: value out of range"),
            ),
            Some(v) => Ok(v),
            None => self.err(span_of(pair), format!("bad number syntax: {text:?}")),
        }
    }

    fn duration_ms(&self, pair: &Pair<'q, Rule>) -> PResult<i64> {
        parse_duration_ms(pair.as_str()).map_err(|msg| ParseError::new(self.query, span_of(pair), msg))
    }

    fn string(&self, pair: Pair<'q, Rule>) -> PResult<String> {
        let span = span_of(&pair);
        unquote(pair.as_str()).map_err(|(offset, msg)| {
            let at = span.start + offset;
            ParseError::new(self.query, at..(at + 1).min(span.end), msg)
        })
    }
}

/// What is wrong with a regex, in one line (the regex crate's syntax errors
/// span several lines, with the problem on the last).
fn regex_problem(pattern: &str) -> String {
    match regex::Regex::new(&format!("^(?s:{pattern})$")) {
        Err(regex::Error::Syntax(text)) => {
            text.lines().rev().find_map(|l| l.strip_prefix("error: ")).unwrap_or(&text).to_string()
        }
        Err(e) => e.to_string(),
        Ok(_) => "not a valid regular expression".to_string(),
    }
}

/// A sign applied to a duration: `+d` is `d`, and a minus folds into a
/// literal or number (as Prometheus folds it into the number literal).
fn apply_sign(neg: bool, d: DurationExpr) -> DurationExpr {
    match (neg, d) {
        (false, d) => d,
        (true, DurationExpr::Literal(ms)) => DurationExpr::Literal(-ms),
        (true, DurationExpr::Number(v)) => DurationExpr::Number(-v),
        (true, d) => DurationExpr::Unary { neg: true, expr: Box::new(d) },
    }
}

/// `v` as Go's `%f` writes it (six decimals; `+Inf`, `-Inf`, `NaN`).
fn format_go_f(v: f64) -> String {
    super::printer::non_finite(v).map_or_else(|| format!("{v:.6}"), str::to_string)
}

/// Parses a PromQL number token: decimal (with `_` between digits), `0x`, `0o`,
/// `0b`, a leading-zero integer as octal (Go's base-0 rule), `Inf`, `NaN`.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    if text.eq_ignore_ascii_case("inf") {
        return Some(f64::INFINITY);
    }
    if text.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let s: String = text.chars().filter(|&c| c != '_').collect();
    let radix_digits = |digits: &str, radix: u32| -> Option<f64> {
        let mut v = 0f64;
        for c in digits.chars() {
            v = v * radix as f64 + c.to_digit(radix)? as f64;
        }
        Some(v)
    };
    let lower = s.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("0x") {
        return radix_digits(h, 16);
    }
    if let Some(o) = lower.strip_prefix("0o") {
        return radix_digits(o, 8);
    }
    if let Some(b) = lower.strip_prefix("0b") {
        return radix_digits(b, 2);
    }
    if s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return radix_digits(&s[1..], 8);
    }
    s.parse::<f64>().ok()
}

/// Parses a Prometheus duration (`1y2w3d4h5m6s7ms`, units in that order, each
/// at most once) into milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Result<i64, String> {
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 24 * 3600 * 1000),
        ("w", 7 * 24 * 3600 * 1000),
        ("d", 24 * 3600 * 1000),
        ("h", 3600 * 1000),
        ("m", 60 * 1000),
        ("s", 1000),
        ("ms", 1),
    ];
    let invalid = || format!("not a valid duration string: {text:?}");
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| "duration out of range".to_string())?;
        rest = &rest[digits..];
        let unit_len = if rest.starts_with("ms") { 2 } else { rest.chars().next().map_or(0, char::len_utf8) };
        let unit = &rest[..unit_len];
        let idx = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(invalid)?;
        if idx < next_unit {
            return Err(invalid());
        }
        next_unit = idx + 1;
        rest = &rest[unit_len..];
        total = n
            .checked_mul(UNITS[idx].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "duration out of range".to_string())?;
    }
    Ok(total)
}

/// Resolves a quoted string token. On error returns the byte offset within
/// `token` and a message.
pub(crate) fn unquote(token: &str) -> Result<String, (usize, String)> {
    let quote = token.as_bytes()[0];
    let body = &token[1..token.len() - 1];
    if quote == b'`' {
        return Ok(body.to_string());
    }
    if !body.contains('\\') {
        return Ok(body.to_string());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let at = i + 1; // offset in token of the backslash
        let Some((_, e)) = chars.next() else {
            return Err((at, "unterminated escape sequence".into()));
        };
        let simple = match e {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            c if c as u32 == quote as u32 => Some(quote),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let mut take = |n: usize| -> Option<String> {
            let mut s = String::with_capacity(n);
            for _ in 0..n {
                s.push(chars.next()?.1);
            }
            Some(s)
        };
        match e {
            'x' => {
                let v = take(2).and_then(|s| hex(&s)).ok_or((at, "invalid \\x escape sequence".to_string()))?;
                out.push(v as u8);
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let c = take(n)
                    .and_then(|s| hex(&s))
                    .and_then(char::from_u32)
                    .ok_or((at, format!("invalid \\{e} escape sequence")))?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            '0'..='7' => {
                let rest = take(2).ok_or((at, "invalid octal escape sequence".to_string()))?;
                let digits = format!("{e}{rest}");
                let v = u32::from_str_radix(&digits, 8)
                    .ok()
                    .filter(|v| *v <= 255)
                    .ok_or((at, "invalid octal escape sequence".to_string()))?;
                out.push(v as u8);
            }
            other => return Err((at, format!("unknown escape sequence {other:?}"))),
        }
    }
    // `\x` escapes can produce bytes that are not UTF-8; Rust strings cannot
    // hold them, so they become U+FFFD (Prometheus later rejects such names).
    Ok(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Turns a pest error into a Prometheus-style `unexpected …` message at the
/// furthest position the grammar reached.
fn syntax_error(query: &str, e: &pest::error::Error<Rule>) -> ParseError {
    use pest::error::{ErrorVariant, InputLocation};
    let located = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let ErrorVariant::CustomError { message } = &e.variant {
        return ParseError::new(query, located..located, message.clone());
    }
    let attempts = e.parse_attempts();
    let furthest = attempts.as_ref().map_or(located, |a| a.max_position.max(located));
    // The keyword checks in front of names look ahead into a word past where
    // any rule started; then the word itself is what is unexpected: a
    // reserved word (`a + ignoring(b)`) or one cut short (`foo offsetx`).
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let word_start = query[..furthest].trim_end_matches(is_word_char).len();
    let word = &query[word_start..furthest];
    let cut_short = query[furthest..].starts_with(is_word_char);
    let inside_word = !word.is_empty() && word_start >= located && (cut_short || is_reserved_word(word));
    let pos = if inside_word { word_start } else { furthest };
    let start = pos + query[pos..].len() - query[pos..].trim_start().len();
    let mut message = format!("unexpected {}", lexer::describe_token(query, start));
    // What pest tried inside a word says nothing about what should replace it.
    if let Some(a) = attempts.as_ref().filter(|_| !inside_word) {
        if let Some(context) =
            a.call_stacks().iter().find_map(|c| error_context(c.deepest.get_rule().or(c.parent.as_ref())?))
        {
            message.push_str(" in ");
            message.push_str(context);
        }
        // pest's token type is not exported; its text is enough here.
        if let Some(expected) = expected_tokens(a.expected_tokens().iter().map(|t| t.to_string())) {
            message.push_str(", expected ");
            message.push_str(&expected);
        }
    }
    let end = start + query[start..].chars().next().map_or(0, char::len_utf8);
    ParseError::new(query, start..end, message)
}

/// Words the grammar never takes as a name (`reserved` in `grammar.pest`).
fn is_reserved_word(word: &str) -> bool {
    const RESERVED: [&str; 8] = ["bool", "on", "ignoring", "group_left", "group_right", "atan2", "inf", "nan"];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// The construct being parsed, named as in Prometheus's messages.
fn error_context(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::label_matchers | Rule::label_matcher | Rule::quoted_metric_name => "label matching",
        Rule::grouping_labels | Rule::grouping => "grouping opts",
        Rule::aggregate => "aggregation",
        Rule::bracket | Rule::subquery_colon => "subquery or range",
        Rule::offset_mod | Rule::offset_value => "offset",
        Rule::at_mod | Rule::at_start | Rule::at_end => "@",
        Rule::fill_mod => "fill modifier",
        _ => return None,
    })
}

/// What could have come instead, when that is a short list of punctuation or
/// token kinds (not when any operator could continue the expression).
fn expected_tokens(tokens: impl Iterator<Item = String>) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for token in tokens {
        let name = match token.as_str() {
            " " | "\t" | "\n" | "\r" | "#" => continue,
            "," => "\",\"",
            ")" => "\")\"",
            "}" => "\"}\"",
            "]" => "\"]\"",
            ":" => "\":\"",
            "(" => "\"(\"",
            "=" | "!=" | "=~" | "!~" => "label matching operator",
            "\"" | "'" | "`" => "string",
            "0..9" => "number or duration",
            // Case-insensitive tokens are shown upper-cased.
            "START" | "END" => "start() or end()",
            _ => return None,
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    match out.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        [init @ .., last] => Some(format!("{} or {last}", init.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as a compact S-expression, to assert its shape.
    fn shape(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Number(v) => format!("{v}"),
            ExprKind::VectorSelector(vs) => vs.name.clone().unwrap_or_default(),
            ExprKind::Binary(b) => format!("({} {} {})", b.op.as_str(), shape(&b.lhs), shape(&b.rhs)),
            ExprKind::Unary(u) => format!("({} {})", if u.neg { "neg" } else { "pos" }, shape(&u.expr)),
            ExprKind::Paren(p) => format!("[{}]", shape(p)),
            other => format!("{other:?}"),
        }
    }

    fn parsed(q: &str) -> String {
        shape(&parse_expr(q).unwrap_or_else(|e| panic!("{q}: {e}")))
    }

    #[test]
    fn operator_precedence_and_associativity_follow_prometheus() {
        assert_eq!(parsed("-1*2"), "(* -1 2)");
        assert_eq!(parsed("-1^2"), "(neg (^ 1 2))");
        assert_eq!(parsed("-1^-2"), "(neg (^ 1 -2))");
        assert_eq!(parsed("+1 + -2 * 1"), "(+ 1 (* -2 1))");
        assert_eq!(parsed("-a * b"), "(* (neg a) b)");
        assert_eq!(parsed("- -a * b"), "(* (neg (neg a)) b)");
        assert_eq!(parsed("a + b * c ^ d ^ e"), "(+ a (* b (^ c (^ d e))))");
        assert_eq!(parsed("a - b - c"), "(- (- a b) c)");
        assert_eq!(parsed("a / b % c atan2 d"), "(atan2 (% (/ a b) c) d)");
        assert_eq!(parsed("a == b + c"), "(== a (+ b c))");
        assert_eq!(parsed("a </ b + c >/ d"), "(>/ (</ a (+ b c)) d)");
        assert_eq!(parsed("a or b and c unless d"), "(or a (unless (and b c) d))");
        assert_eq!(parsed("foo + bar or bla and blub"), "(or (+ foo bar) (and bla blub))");
        assert_eq!(parsed("1 < bool 2 - 1 * 2"), "(< 1 (- 2 (* 1 2)))");
        assert_eq!(parsed("(a + b) * c"), "(* [(+ a b)] c)");
    }

    #[test]
    fn duration_signs_fold_and_bind_like_unary_minus() {
        let range = |q: &str| match parse_expr(q).unwrap().kind {
            ExprKind::MatrixSelector(m) => m.range,
            other => panic!("{other:?}"),
        };
        assert_eq!(range("x[300]"), DurationExpr::Literal(300_000));
        assert_eq!(range("x[+5m]"), DurationExpr::Literal(300_000));
        let product = range("x[-5m * 2 + 1h]");
        let DurationExpr::Binary { op: BinaryOp::Add, lhs, .. } = product else { panic!("{product:?}") };
        assert_eq!(
            *lhs,
            DurationExpr::Binary {
                op: BinaryOp::Mul,
                lhs: Box::new(DurationExpr::Literal(-300_000)),
                rhs: Box::new(DurationExpr::Number(2.0))
            }
        );
        match parse_expr("x offset -2 ^ 2").unwrap().kind {
            ExprKind::Binary(b) => assert_eq!(shape(&b.rhs), "2", "the offset takes one term"),
            other => panic!("{other:?}"),
        }
    }
}
