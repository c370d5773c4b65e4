//! The data model shared by storage and PromQL: label sets, matchers and points.

use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;
use regex::Regex;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

/// The label that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// Bit pattern of Prometheus's stale marker, a NaN distinct from ordinary NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The Prometheus stale marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the stale marker (and not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample of a series: a timestamp in milliseconds and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The sample value (may be NaN, ±Inf or the stale marker).
    pub v: f64,
}

impl Point {
    /// Creates a point.
    pub fn new(t: i64, v: f64) -> Self {
        Point { t, v }
    }
}

/// One native-histogram sample of a series: a timestamp in milliseconds and
/// a histogram (shared: cloning is cheap).
#[derive(Debug, Clone, PartialEq)]
pub struct HPoint {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The histogram.
    pub h: Arc<crate::histogram::FloatHistogram>,
}

impl HPoint {
    /// Creates a histogram point.
    pub fn new(t: i64, h: crate::histogram::FloatHistogram) -> Self {
        HPoint { t, h: Arc::new(h) }
    }
}

/// One label: a name and a value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// Label name.
    pub name: String,
    /// Label value (any UTF-8).
    pub value: String,
}

/// A label set, sorted by name with unique names; empty values are dropped
/// (in Prometheus an empty value means "label not present"). Cloning is
/// cheap (the labels are shared); changing a clone copies it first.
#[derive(Debug, Clone, Default, Eq, PartialOrd, Ord)]
pub struct Labels(Arc<Vec<Label>>);

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        // Shared labels are equal without comparing them.
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

// Hashes the labels themselves, consistent with `eq` (pointer-equal implies equal).
impl std::hash::Hash for Labels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_slice().hash(state);
    }
}

impl Labels {
    /// An empty label set.
    pub fn new() -> Self {
        Labels::default()
    }

    /// Builds a label set from pairs; sorts, drops empty values, and keeps the
    /// last value for a repeated name.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let mut v: Vec<Label> = pairs.into_iter().map(|(n, v)| Label { name: n.into(), value: v.into() }).collect();
        v.retain(|l| !l.value.is_empty());
        // Stable sort keeps input order among equal names, so dedup keeps the last.
        v.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out: Vec<Label> = Vec::with_capacity(v.len());
        for l in v {
            match out.last_mut() {
                Some(last) if last.name == l.name => *last = l,
                _ => out.push(l),
            }
        }
        Labels(Arc::new(out))
    }

    /// Parses a series written as a selector, e.g. `up{job="api"}` or
    /// `{"my.metric", code="200"}`. Only `=` matchers are allowed.
    ///
    /// # Errors
    /// [`Error::Parse`] when the text is not a valid series selector.
    pub fn parse(text: &str) -> Result<Labels> {
        crate::promql::parse_series(text)
    }

    /// Checks that the set has a metric name and valid names (Prometheus 3
    /// accepts any UTF-8 name; names must be non-empty and must not be `__`-reserved
    /// duplicates). Used before storing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the offending label.
    pub fn validate_for_storage(&self) -> Result<()> {
        if self.get(METRIC_NAME).is_none() {
            return Err(Error::invalid(format!("series {self} has no metric name")));
        }
        for l in self.0.iter() {
            if l.name.is_empty() {
                return Err(Error::invalid(format!("series {self} has an empty label name")));
            }
        }
        Ok(())
    }

    /// Value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.binary_search_by(|l| l.name.as_str().cmp(name)).ok().map(|i| self.0[i].value.as_str())
    }

    /// The metric name, if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Sets (or with an empty value, removes) a label, keeping the set sorted.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                Arc::make_mut(&mut self.0).remove(i);
            }
            Ok(i) if self.0[i].value == value => {}
            Ok(i) => Arc::make_mut(&mut self.0)[i].value = value.to_string(),
            Err(_) if value.is_empty() => {}
            Err(i) => Arc::make_mut(&mut self.0).insert(i, Label { name: name.to_string(), value: value.to_string() }),
        }
    }

    /// Removes a label if present.
    pub fn remove(&mut self, name: &str) {
        self.set(name, "");
    }

    /// A copy without the metric name.
    pub fn without_metric_name(&self) -> Labels {
        if self.get(METRIC_NAME).is_none() {
            return self.clone();
        }
        Labels(Arc::new(self.0.iter().filter(|l| l.name != METRIC_NAME).cloned().collect()))
    }

    /// Iterates labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The labels as a slice, sorted by name.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Consumes the set into its sorted labels.
    pub fn into_vec(self) -> Vec<Label> {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Whether `name` is a legacy (pre-UTF-8) metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_legacy_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Whether `name` is a legacy label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Writes `s` as a double-quoted PromQL string literal.
pub fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Labels {
    /// Prometheus style: `name{a="1", b="2"}`; names that are not legacy are quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        let quoted_name = matches!(name, Some(n) if !is_legacy_metric_name(n));
        if let (Some(n), false) = (name, quoted_name) {
            f.write_str(n)?;
        }
        let rest: Vec<&Label> = self.0.iter().filter(|l| l.name != METRIC_NAME).collect();
        if rest.is_empty() && !quoted_name && name.is_some() {
            return Ok(());
        }
        f.write_str("{")?;
        let mut first = true;
        if let (Some(n), true) = (name, quoted_name) {
            write_quoted(f, n)?;
            first = false;
        }
        for l in rest {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if is_legacy_label_name(&l.name) {
                f.write_str(&l.name)?;
            } else {
                write_quoted(f, &l.name)?;
            }
            f.write_str("=")?;
            write_quoted(f, &l.value)?;
        }
        f.write_str("}")
    }
}

/// The four label matcher kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (fully anchored RE2-style regex)
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

impl MatchOp {
    /// The operator as written in PromQL.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }
}

/// Most compiled regexes kept for reuse, and the longest pattern kept.
const REGEX_CACHE_ENTRIES: usize = 512;
const REGEX_CACHE_MAX_PATTERN: usize = 4096;

/// Compiled PromQL regexes by pattern: dashboards send the same queries again
/// and again, and compiling a regex costs more than running a small selector.
static REGEX_CACHE: Mutex<Option<FxHashMap<String, Regex>>> = Mutex::new(None);

/// `pattern` compiled as PromQL uses it: anchored at both ends, and with `(?s)`
/// so `.` matches newlines, as Prometheus does. Compiled regexes are shared
/// (a `Regex` clone is a reference count).
pub(crate) fn anchored_regex(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    if let Some(regex) = REGEX_CACHE.lock().as_ref().and_then(|cache| cache.get(pattern)) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(&format!("^(?s:{pattern})$"))?;
    if pattern.len() <= REGEX_CACHE_MAX_PATTERN {
        let mut guard = REGEX_CACHE.lock();
        let cache = guard.get_or_insert_with(FxHashMap::default);
        if cache.len() >= REGEX_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(pattern.to_string(), regex.clone());
    }
    Ok(regex)
}

/// A label matcher such as `job=~"api|web"`. Regexes are fully anchored, as in Prometheus.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Label name the matcher applies to.
    pub name: String,
    /// Kind of match.
    pub op: MatchOp,
    /// The value or regex source as written.
    pub value: String,
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// Creates a matcher, compiling the regex for `=~`/`!~`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the regex does not compile.
    pub fn new(op: MatchOp, name: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let value = value.into();
        let regex = match op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(
                anchored_regex(&value)
                    .map_err(|e| Error::invalid(format!("invalid regular expression {value:?}: {e}")))?,
            ),
            _ => None,
        };
        Ok(Matcher { name, op, value, regex })
    }

    /// An `=` matcher (never fails).
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher { name: name.into(), op: MatchOp::Equal, value: value.into(), regex: None }
    }

    /// Whether a label value satisfies the matcher. A missing label is the empty string.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => self.value == value,
            MatchOp::NotEqual => self.value != value,
            MatchOp::RegexMatch => self.regex.as_ref().is_some_and(|r| r.is_match(value)),
            MatchOp::RegexNoMatch => !self.regex.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }

    /// Whether the matcher matches the empty string (i.e. also series lacking the label).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// Whether the label set satisfies the matcher.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_legacy_label_name(&self.name) {
            f.write_str(&self.name)?;
        } else {
            write_quoted(f, &self.name)?;
        }
        f.write_str(self.op.as_str())?;
        write_quoted(f, &self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sorted_deduped_and_printed() {
        let l = Labels::from_pairs([("b", "2"), ("__name__", "up"), ("a", "1"), ("b", "3"), ("c", "")]);
        assert_eq!(l.to_string(), r#"up{a="1", b="3"}"#);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
        let q = Labels::from_pairs([("__name__", "my.metric"), ("a.b", "x\"y")]);
        assert_eq!(q.to_string(), r#"{"my.metric", "a.b"="x\"y"}"#);
    }

    #[test]
    fn matchers_are_anchored() {
        let m = Matcher::new(MatchOp::RegexMatch, "job", "api|web").unwrap();
        assert!(m.matches("api"));
        assert!(!m.matches("xapi"));
        assert!(!m.matches(""));
        let n = Matcher::new(MatchOp::RegexNoMatch, "job", "a.*").unwrap();
        assert!(n.matches("b") && !n.matches("abc"));
        assert!(Matcher::new(MatchOp::RegexMatch, "x", "(").is_err());
    }

    #[test]
    fn cached_regexes_behave_like_fresh_ones_beyond_the_cache_size() {
        // More patterns than the cache holds, each asked for twice: the second
        // (cached) answer must match exactly what the first did.
        for round in 0..2 {
            for i in 0..REGEX_CACHE_ENTRIES + 10 {
                let r = anchored_regex(&format!("a{i}|b.")).unwrap();
                assert!(r.is_match(&format!("a{i}")) && r.is_match("b\n"), "round {round}, pattern {i}");
                assert!(!r.is_match(&format!("xa{i}")) && !r.is_match("b"), "round {round}, pattern {i}");
            }
        }
        let long = "x".repeat(REGEX_CACHE_MAX_PATTERN + 1);
        assert!(anchored_regex(&long).unwrap().is_match(&long));
        assert!(anchored_regex("(").is_err());
        assert!(anchored_regex("(").is_err(), "errors are not cached as successes");
    }

    #[test]
    fn stale_marker_is_distinct_from_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(stale_nan().is_nan());
    }
}
