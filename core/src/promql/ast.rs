//! The PromQL abstract syntax tree: plain data, every node with its byte span
//! in the query. `Display` prints an expression back as valid PromQL.

use std::ops::Range;

use crate::model::Matcher;

/// Byte range of a node within the query text.
pub type Span = Range<usize>;

/// A PromQL expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// Where the expression is in the query.
    pub span: Span,
    /// What the expression is.
    pub kind: ExprKind,
}

/// The kinds of PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number literal (`1`, `0x1f`, `1e3`, `Inf`, `NaN`; a duration literal used as a number is in seconds).
    Number(f64),
    /// A string literal (quotes and escapes resolved).
    String(String),
    /// An instant vector selector: `foo{job="api"} offset 5m @ 100`.
    VectorSelector(VectorSelector),
    /// A range vector selector: `foo[5m]`.
    MatrixSelector(MatrixSelector),
    /// A subquery: `rate(foo[5m])[1h:1m]`.
    Subquery(Subquery),
    /// A function call.
    Call(Call),
    /// An aggregation: `sum by (job) (x)`.
    Aggregate(Aggregate),
    /// A binary operation.
    Binary(Binary),
    /// Unary minus or plus.
    Unary(Unary),
    /// A parenthesised expression.
    Paren(Box<Expr>),
}

/// The four PromQL value types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A number.
    Scalar,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
    /// A string.
    String,
}

impl ValueType {
    /// The name Prometheus uses in messages (`scalar`, `instant vector`, `range vector`, `string`).
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }
}

/// The `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtModifier {
    /// `@ <unix seconds>`, stored in milliseconds.
    Timestamp(i64),
    /// `@ start()`
    Start,
    /// `@ end()`
    End,
}

/// Extended range selector modifiers (experimental in Prometheus 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeModifier {
    /// `anchored`
    Anchored,
    /// `smoothed`
    Smoothed,
}

/// A duration: a literal, or (with duration expressions) arithmetic over
/// literals, numbers, `step()`, `range()`, `min_of`, `max_of`. Evaluates to seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// A duration literal such as `5m` or `1h30m`, in milliseconds.
    Literal(i64),
    /// A plain number, in seconds (`[300]`, `offset 60`).
    Number(f64),
    /// `step()`: the query step (0 for instant queries).
    Step,
    /// `range()`: the query range `end - start` (0 for instant queries).
    Range,
    /// `-d` or `+d`.
    Unary {
        /// True for minus.
        neg: bool,
        /// The operand.
        expr: Box<DurationExpr>,
    },
    /// `a op b` with `op` one of `+ - * / % ^`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<DurationExpr>,
        /// Right operand.
        rhs: Box<DurationExpr>,
    },
    /// `min_of(a, b)` (`max == false`) or `max_of(a, b)`.
    MinMax {
        /// True for `max_of`.
        max: bool,
        /// First argument.
        a: Box<DurationExpr>,
        /// Second argument.
        b: Box<DurationExpr>,
    },
    /// `( d )`
    Paren(Box<DurationExpr>),
}

/// `foo{a="b"}` with its modifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name if written before the braces (also present in `matchers` as `__name__=`).
    pub name: Option<String>,
    /// All matchers, including the one for the metric name.
    pub matchers: Vec<Matcher>,
    /// `offset d` (positive looks back in time).
    pub offset: Option<DurationExpr>,
    /// `@ t`.
    pub at: Option<AtModifier>,
    /// `anchored` / `smoothed`.
    pub modifier: Option<RangeModifier>,
}

/// `selector[range]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// The selector, carrying offset/@/anchored/smoothed.
    pub selector: VectorSelector,
    /// The range.
    pub range: DurationExpr,
}

/// `expr[range:step]` with optional modifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    /// The inner instant-vector expression.
    pub expr: Box<Expr>,
    /// The range.
    pub range: DurationExpr,
    /// The resolution; `None` means the engine's default evaluation interval.
    pub step: Option<DurationExpr>,
    /// `offset d`.
    pub offset: Option<DurationExpr>,
    /// `@ t`.
    pub at: Option<AtModifier>,
}

/// A function call `name(args…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Function name as written (lower case in Prometheus's function table).
    pub func: String,
    /// Arguments.
    pub args: Vec<Expr>,
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `avg`
    Avg,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `count`
    Count,
    /// `count_values`
    CountValues,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `quantile`
    Quantile,
    /// `limitk`
    Limitk,
    /// `limit_ratio`
    LimitRatio,
}

impl AggregateOp {
    /// Every aggregation operator.
    pub const ALL: [AggregateOp; 14] = [
        AggregateOp::Sum,
        AggregateOp::Min,
        AggregateOp::Max,
        AggregateOp::Avg,
        AggregateOp::Group,
        AggregateOp::Stddev,
        AggregateOp::Stdvar,
        AggregateOp::Count,
        AggregateOp::CountValues,
        AggregateOp::Topk,
        AggregateOp::Bottomk,
        AggregateOp::Quantile,
        AggregateOp::Limitk,
        AggregateOp::LimitRatio,
    ];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Avg => "avg",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Count => "count",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// Looks up an operator by keyword (case-insensitive, as PromQL keywords are).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the operator takes a parameter before the expression.
    pub fn takes_param(self) -> bool {
        matches!(
            self,
            AggregateOp::CountValues
                | AggregateOp::Topk
                | AggregateOp::Bottomk
                | AggregateOp::Quantile
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
        )
    }
}

/// `op [param,] expr` with `by`/`without` grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The operator.
    pub op: AggregateOp,
    /// The aggregated expression.
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `quantile`, `count_values`, … .
    pub param: Option<Box<Expr>>,
    /// Labels in `by (…)` / `without (…)`.
    pub grouping: Vec<String>,
    /// True for `without`.
    pub without: bool,
    /// Whether a `by`/`without` clause was written at all (`sum by () (x)` vs `sum(x)`).
    pub has_grouping: bool,
}

/// Binary operators, including the set operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `</`: trims a native histogram's observations above a threshold.
    TrimUpper,
    /// `>/`: trims a native histogram's observations below a threshold.
    TrimLower,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Gtr => ">",
            BinaryOp::Lss => "<",
            BinaryOp::Gte => ">=",
            BinaryOp::Lte => "<=",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
        }
    }

    /// `==`, `!=`, `>`, `<`, `>=`, `<=`.
    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Eql | BinaryOp::Neq | BinaryOp::Gtr | BinaryOp::Lss | BinaryOp::Gte | BinaryOp::Lte)
    }

    /// `and`, `or`, `unless`.
    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }

    /// Binding strength, higher binds tighter (Prometheus: `or` < `and unless` <
    /// comparisons and trims < `+ -` < `* / % atan2` < `^`).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Gtr
            | BinaryOp::Lss
            | BinaryOp::Gte
            | BinaryOp::Lte
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Atan2 => 5,
            BinaryOp::Pow => 6,
        }
    }

    /// Only `^` is right-associative.
    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }
}

/// How series on both sides of a vector/vector operation are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// Default for arithmetic/comparison.
    OneToOne,
    /// `group_left`
    ManyToOne,
    /// `group_right`
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// `on`/`ignoring`, `group_left`/`group_right` and `fill` modifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    /// Matching cardinality.
    pub card: Cardinality,
    /// True for `on(…)`, false for `ignoring(…)` (or no clause).
    pub on: bool,
    /// Labels listed in `on`/`ignoring`.
    pub labels: Vec<String>,
    /// Whether an `on`/`ignoring` clause was written (`on()` differs from none).
    pub has_clause: bool,
    /// Extra labels listed in `group_left(…)` / `group_right(…)`.
    pub include: Vec<String>,
    /// `fill_left(v)` or `fill(v)`: value for a missing left-hand sample.
    pub fill_left: Option<f64>,
    /// `fill_right(v)` or `fill(v)`: value for a missing right-hand sample.
    pub fill_right: Option<f64>,
}

/// `lhs op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Binary {
    /// The operator.
    pub op: BinaryOp,
    /// Left operand.
    pub lhs: Box<Expr>,
    /// Right operand.
    pub rhs: Box<Expr>,
    /// The `bool` modifier on comparisons.
    pub return_bool: bool,
    /// Matching modifiers, if any were written.
    pub matching: Option<VectorMatching>,
}

/// `-expr` or `+expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unary {
    /// True for minus.
    pub neg: bool,
    /// The operand.
    pub expr: Box<Expr>,
}
