//! Function signatures: the table the type checker uses (argument types, how
//! many optional trailing arguments, return type, experimental flag). The
//! evaluator keeps its own implementation table; a test asserts both name the
//! same functions.

use super::ast::ValueType;

/// The signature of a PromQL function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSignature {
    /// Name as written in queries (functions are case-sensitive).
    pub name: &'static str,
    /// Types of the arguments. With `variadic != 0` the last type is repeated
    /// (or omitted, for optional arguments).
    pub arg_types: &'static [ValueType],
    /// `0`: exactly `arg_types.len()` arguments. `n > 0`: the last argument may
    /// be omitted or repeated up to `n` times in total. `-1`: the last argument
    /// may be omitted or repeated without limit.
    pub variadic: i32,
    /// The type of the result.
    pub return_type: ValueType,
    /// Whether Prometheus gates the function behind `--enable-feature=promql-experimental-functions`.
    pub experimental: bool,
}

impl FunctionSignature {
    /// Fewest arguments the function accepts.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.arg_types.len()
        } else {
            self.arg_types.len() - 1
        }
    }

    /// Most arguments the function accepts (`None` for unlimited).
    pub fn max_args(&self) -> Option<usize> {
        match self.variadic {
            0 => Some(self.arg_types.len()),
            n if n > 0 => Some(self.arg_types.len() - 1 + n as usize),
            _ => None,
        }
    }

    /// The expected type of argument `i` (the last type repeats for variadic functions).
    pub fn arg_type(&self, i: usize) -> Option<ValueType> {
        self.arg_types.get(i.min(self.arg_types.len().saturating_sub(1))).copied()
    }
}

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

const fn sig(
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    return_type: ValueType,
    experimental: bool,
) -> FunctionSignature {
    FunctionSignature { name, arg_types, variadic, return_type, experimental }
}

/// `f(instant vector) -> instant vector`
const fn vv(name: &'static str) -> FunctionSignature {
    sig(name, &[V], 0, V, false)
}

/// `f(range vector) -> instant vector`
const fn mv(name: &'static str) -> FunctionSignature {
    sig(name, &[M], 0, V, false)
}

/// `f(range vector) -> instant vector`, experimental.
const fn mv_exp(name: &'static str) -> FunctionSignature {
    sig(name, &[M], 0, V, true)
}

/// `f([instant vector]) -> instant vector`: date functions defaulting to `vector(time())`.
const fn date(name: &'static str) -> FunctionSignature {
    sig(name, &[V], 1, V, false)
}

/// Every function of Prometheus 3, sorted by name.
static FUNCTIONS: &[FunctionSignature] = &[
    vv("abs"),
    vv("absent"),
    mv("absent_over_time"),
    vv("acos"),
    vv("acosh"),
    vv("asin"),
    vv("asinh"),
    vv("atan"),
    vv("atanh"),
    mv("avg_over_time"),
    vv("ceil"),
    mv("changes"),
    sig("clamp", &[V, S, S], 0, V, false),
    sig("clamp_max", &[V, S], 0, V, false),
    sig("clamp_min", &[V, S], 0, V, false),
    vv("cos"),
    vv("cosh"),
    mv("count_over_time"),
    date("day_of_month"),
    date("day_of_week"),
    date("day_of_year"),
    date("days_in_month"),
    vv("deg"),
    mv("delta"),
    mv("deriv"),
    sig("double_exponential_smoothing", &[M, S, S], 0, V, true),
    sig("end", &[], 0, S, true),
    vv("exp"),
    mv_exp("first_over_time"),
    vv("floor"),
    vv("histogram_avg"),
    vv("histogram_count"),
    sig("histogram_fraction", &[S, S, V], 0, V, false),
    sig("histogram_quantile", &[S, V], 0, V, false),
    sig("histogram_quantiles", &[V, Str, S], -1, V, true),
    vv("histogram_stddev"),
    vv("histogram_stdvar"),
    vv("histogram_sum"),
    date("hour"),
    mv("idelta"),
    mv("increase"),
    sig("info", &[V, V], 1, V, true),
    mv("irate"),
    sig("label_join", &[V, Str, Str, Str], -1, V, false),
    sig("label_replace", &[V, Str, Str, Str, Str], 0, V, false),
    mv("last_over_time"),
    vv("ln"),
    vv("log10"),
    vv("log2"),
    mv_exp("mad_over_time"),
    sig("max_of", &[S, S], 0, S, true),
    mv("max_over_time"),
    sig("min_of", &[S, S], 0, S, true),
    mv("min_over_time"),
    date("minute"),
    date("month"),
    sig("pi", &[], 0, S, false),
    sig("predict_linear", &[M, S], 0, V, false),
    mv("present_over_time"),
    sig("quantile_over_time", &[S, M], 0, V, false),
    vv("rad"),
    sig("range", &[], 0, S, true),
    mv("rate"),
    mv("resets"),
    sig("round", &[V, S], 1, V, false),
    sig("scalar", &[V], 0, S, false),
    vv("sgn"),
    vv("sin"),
    vv("sinh"),
    vv("sort"),
    sig("sort_by_label", &[V, Str], -1, V, true),
    sig("sort_by_label_desc", &[V, Str], -1, V, true),
    vv("sort_desc"),
    vv("sqrt"),
    sig("start", &[], 0, S, true),
    sig("start_timestamp", &[V], 0, V, true),
    mv("stddev_over_time"),
    mv("stdvar_over_time"),
    sig("step", &[], 0, S, true),
    mv("sum_over_time"),
    vv("tan"),
    vv("tanh"),
    sig("time", &[], 0, S, false),
    vv("timestamp"),
    mv_exp("ts_of_first_over_time"),
    mv_exp("ts_of_last_over_time"),
    mv_exp("ts_of_max_over_time"),
    mv_exp("ts_of_min_over_time"),
    sig("vector", &[S], 0, V, false),
    date("year"),
];

/// The signature of function `name`, if there is such a function.
pub fn lookup(name: &str) -> Option<&'static FunctionSignature> {
    FUNCTIONS.binary_search_by(|f| f.name.cmp(name)).ok().map(|i| &FUNCTIONS[i])
}

/// Every function signature, sorted by name.
pub fn all() -> impl Iterator<Item = &'static FunctionSignature> {
    FUNCTIONS.iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_so_lookup_finds_every_entry() {
        for pair in FUNCTIONS.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        for f in all() {
            assert_eq!(lookup(f.name), Some(f));
        }
        assert_eq!(lookup("nope"), None);
        assert_eq!(lookup("Rate"), None, "function names are case-sensitive");
    }

    #[test]
    fn argument_counts_follow_variadic() {
        let round = lookup("round").unwrap();
        assert_eq!((round.min_args(), round.max_args()), (1, Some(2)));
        let join = lookup("label_join").unwrap();
        assert_eq!((join.min_args(), join.max_args()), (3, None));
        assert_eq!(join.arg_type(7), Some(ValueType::String));
        let time = lookup("time").unwrap();
        assert_eq!((time.min_args(), time.max_args(), time.arg_type(0)), (0, Some(0), None));
    }
}
