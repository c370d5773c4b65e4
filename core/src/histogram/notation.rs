//! Prometheus's test notation for native histograms, as the promqltest files
//! and promtool unit tests write them:
//! `{{schema:0 count:4 sum:10 z_bucket:1 z_bucket_w:0.001 buckets:[1 2 1] n_buckets:[1]}}`.

use std::fmt;

use super::buckets::{compact_side, is_exponential_schema};
use super::{BucketSpan, CounterResetHint, FloatHistogram, CUSTOM_BUCKETS_SCHEMA};
use crate::error::{Error, Result};

impl FloatHistogram {
    /// Parses one histogram in test notation, e.g.
    /// `{{schema:0 count:4 sum:10 buckets:[1 2 1]}}`. Keys: `schema`, `count`,
    /// `sum`, `z_bucket`, `z_bucket_w`, `buckets`, `offset`, `n_buckets`,
    /// `n_offset`, `custom_values`, `counter_reset_hint`
    /// (`unknown`/`reset`/`not_reset`/`gauge`); all optional, each at most once.
    /// Each side's buckets form one span starting at its offset.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the byte position of the problem.
    pub fn parse_test_notation(text: &str) -> Result<FloatHistogram> {
        let (h, used) = Self::parse_test_notation_prefix(text)?;
        if !text[used..].trim().is_empty() {
            return Err(notation_error(used, "unexpected text after the histogram"));
        }
        Ok(h)
    }

    /// Parses a histogram in test notation at the start of `text` (after
    /// optional whitespace) and returns it with the number of bytes consumed
    /// (through the closing `}}`), so that callers can go on parsing what
    /// follows, e.g. the `+{{…}}x3` of an expanding series.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the byte position of the problem.
    pub fn parse_test_notation_prefix(text: &str) -> Result<(FloatHistogram, usize)> {
        let mut p = NotationParser { text, pos: 0 };
        let fields = p.histogram()?;
        Ok((fields.build(p.pos)?, p.pos))
    }
}

fn notation_error(pos: usize, msg: impl fmt::Display) -> Error {
    Error::invalid(format!("invalid histogram notation at byte {pos}: {msg}"))
}

/// The fields as written, before they are checked and assembled.
#[derive(Default)]
struct Fields {
    seen: Vec<&'static str>,
    schema: Option<i64>,
    count: f64,
    sum: f64,
    zero_count: f64,
    zero_threshold: f64,
    positive: Vec<f64>,
    offset: i64,
    negative: Vec<f64>,
    negative_offset: i64,
    custom_values: Option<Vec<f64>>,
    hint: CounterResetHint,
}

impl Fields {
    fn build(self, end: usize) -> Result<FloatHistogram> {
        let schema = self.schema.unwrap_or(0);
        let schema =
            i32::try_from(schema).ok().filter(|&s| is_exponential_schema(s) || s == CUSTOM_BUCKETS_SCHEMA).ok_or_else(
                || notation_error(end, format!("schema {schema} is neither -4..=8 nor -53 (custom buckets)")),
            )?;
        let custom = schema == CUSTOM_BUCKETS_SCHEMA;
        if !custom && self.custom_values.is_some() {
            return Err(notation_error(end, "custom_values needs schema -53"));
        }
        if custom && (!self.negative.is_empty() || self.zero_count != 0.0) {
            return Err(notation_error(end, "histograms with custom buckets have no negative or zero buckets"));
        }
        let offset =
            |o: i64| i32::try_from(o).map_err(|_| notation_error(end, format!("bucket offset {o} is out of range")));
        let span = |buckets: &[f64], offset: i32| {
            if buckets.is_empty() {
                Vec::new()
            } else {
                vec![BucketSpan { offset, length: buckets.len() as u32 }]
            }
        };
        let positive_spans = span(&self.positive, offset(self.offset)?);
        let negative_spans = span(&self.negative, offset(self.negative_offset)?);
        Ok(FloatHistogram {
            counter_reset_hint: self.hint,
            schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count,
            count: self.count,
            sum: self.sum,
            positive_spans,
            negative_spans,
            positive_buckets: self.positive,
            negative_buckets: self.negative,
            custom_values: self.custom_values.unwrap_or_default(),
        })
    }
}

const KEYS: [&str; 11] = [
    "schema",
    "count",
    "sum",
    "z_bucket",
    "z_bucket_w",
    "buckets",
    "offset",
    "n_buckets",
    "n_offset",
    "custom_values",
    "counter_reset_hint",
];

struct NotationParser<'a> {
    text: &'a str,
    pos: usize,
}

impl NotationParser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn expect(&mut self, token: &str) -> Result<()> {
        if !self.rest().starts_with(token) {
            return Err(notation_error(self.pos, format!("expected {token:?}")));
        }
        self.pos += token.len();
        Ok(())
    }

    /// A run of characters up to whitespace, `]`, `}` or `:`.
    fn word(&mut self) -> (usize, &str) {
        let start = self.pos;
        let rest = self.rest();
        let len = rest.find(|c: char| c.is_whitespace() || matches!(c, ']' | '}' | ':' | '[')).unwrap_or(rest.len());
        self.pos += len;
        (start, &self.text[start..start + len])
    }

    fn histogram(&mut self) -> Result<Fields> {
        self.skip_ws();
        self.expect("{{")?;
        let mut f = Fields::default();
        loop {
            self.skip_ws();
            if self.rest().starts_with("}}") {
                self.pos += 2;
                return Ok(f);
            }
            if self.rest().is_empty() {
                return Err(notation_error(self.pos, "missing closing \"}}\""));
            }
            let (at, key) = self.word();
            let Some(&key) = KEYS.iter().find(|k| **k == key) else {
                let what = if key.is_empty() { "a key".to_string() } else { format!("a key, found {key:?}") };
                return Err(notation_error(at, format!("expected {what}")));
            };
            if f.seen.contains(&key) {
                return Err(notation_error(at, format!("duplicate key {key:?} in histogram")));
            }
            f.seen.push(key);
            self.skip_ws();
            self.expect(":")?;
            self.skip_ws();
            match key {
                "schema" => f.schema = Some(self.integer()?),
                "offset" => f.offset = self.integer()?,
                "n_offset" => f.negative_offset = self.integer()?,
                "count" => f.count = self.float()?,
                "sum" => f.sum = self.float()?,
                "z_bucket" => f.zero_count = self.float()?,
                "z_bucket_w" => f.zero_threshold = self.float()?,
                "buckets" => f.positive = self.list()?,
                "n_buckets" => f.negative = self.list()?,
                "custom_values" => f.custom_values = Some(self.list()?),
                "counter_reset_hint" => f.hint = self.hint()?,
                _ => unreachable!("every key in KEYS is handled"),
            }
        }
    }

    fn integer(&mut self) -> Result<i64> {
        let (at, word) = self.word();
        parse_integer(word).ok_or_else(|| notation_error(at, format!("expected an integer, found {word:?}")))
    }

    fn float(&mut self) -> Result<f64> {
        let (at, word) = self.word();
        parse_float(word).ok_or_else(|| notation_error(at, format!("expected a number, found {word:?}")))
    }

    fn list(&mut self) -> Result<Vec<f64>> {
        self.expect("[")?;
        let mut values = Vec::new();
        loop {
            self.skip_ws();
            if self.rest().starts_with(']') {
                self.pos += 1;
                return Ok(values);
            }
            if self.rest().is_empty() || self.rest().starts_with('}') {
                return Err(notation_error(self.pos, "missing closing \"]\""));
            }
            values.push(self.float()?);
        }
    }

    fn hint(&mut self) -> Result<CounterResetHint> {
        let (at, word) = self.word();
        CounterResetHint::from_name(word).ok_or_else(|| {
            notation_error(at, format!("counter_reset_hint must be unknown, reset, not_reset or gauge, found {word:?}"))
        })
    }
}

/// A decimal or `0x` hexadecimal integer with optional sign.
fn parse_integer(word: &str) -> Option<i64> {
    let (negative, digits) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    let magnitude = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        None => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A float as Go's `strconv.ParseFloat` reads the common cases: decimals,
/// exponents, `Inf`/`+Inf`/`-Inf`/`NaN` in any case.
fn parse_float(word: &str) -> Option<f64> {
    if word.is_empty() || word.contains('_') {
        return None;
    }
    word.parse::<f64>().ok().or_else(|| parse_integer(word).map(|i| i as f64))
}

/// Formats a float like Go's `%g`: shortest representation, exponent form
/// (`1e+06`, `1.5e-07`) below 1e-4 and from 1e6 on, `+Inf`, `-Inf`, `NaN`.
pub(crate) fn go_format_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponents are integers");
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        format!("{v}")
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, key: &str, values: &[f64]) -> fmt::Result {
    write!(f, " {key}:[")?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        f.write_str(&go_format_g(*v))?;
    }
    f.write_str("]")
}

/// Writes one side's buckets as a single span (`offset:` + `buckets:`),
/// leaving out empty buckets at either end. (Only absurd bucket indices,
/// more than a million buckets apart, stay separate spans; they are written
/// one after the other, which the notation cannot read back.)
fn write_side(
    f: &mut fmt::Formatter<'_>,
    offset_key: &str,
    buckets_key: &str,
    spans: &[BucketSpan],
    buckets: &[f64],
) -> fmt::Result {
    let (spans, buckets) = compact_side(spans, buckets, u32::MAX);
    let mut rest = buckets.as_slice();
    for span in spans {
        if span.offset != 0 {
            write!(f, " {offset_key}:{}", span.offset)?;
        }
        let (these, others) = rest.split_at(span.length as usize);
        write_list(f, buckets_key, these)?;
        rest = others;
    }
    Ok(())
}

/// The test notation, which [`FloatHistogram::parse_test_notation`] reads
/// back: like Prometheus's `TestExpression`, except that the schema is always
/// written. Zero fields are left out; each side's buckets are written as one
/// span from the first to the last non-empty bucket.
impl fmt::Display for FloatHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{schema:{}", self.schema)?;
        for (key, v) in [
            ("count", self.count),
            ("sum", self.sum),
            ("z_bucket", self.zero_count),
            ("z_bucket_w", self.zero_threshold),
        ] {
            if v != 0.0 {
                write!(f, " {key}:{}", go_format_g(v))?;
            }
        }
        if self.uses_custom_buckets() {
            write_list(f, "custom_values", &self.custom_values)?;
        }
        if self.counter_reset_hint != CounterResetHint::Unknown {
            write!(f, " counter_reset_hint:{}", self.counter_reset_hint.name())?;
        }
        write_side(f, "offset", "buckets", &self.positive_spans, &self.positive_buckets)?;
        write_side(f, "n_offset", "n_buckets", &self.negative_spans, &self.negative_buckets)?;
        f.write_str("}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> FloatHistogram {
        FloatHistogram::parse_test_notation(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        FloatHistogram::parse_test_notation(s).unwrap_err().to_string()
    }

    #[test]
    fn parses_every_key() {
        let h = parse(
            "{{schema:1 count:9 sum:-2.5 z_bucket:1 z_bucket_w:0.001 offset:-2 buckets:[1 2] n_offset:3 n_buckets:[4 0 1] counter_reset_hint:gauge}}",
        );
        assert_eq!(h.schema, 1);
        assert_eq!((h.count, h.sum, h.zero_count, h.zero_threshold), (9.0, -2.5, 1.0, 0.001));
        assert_eq!(h.positive_spans, vec![BucketSpan { offset: -2, length: 2 }]);
        assert_eq!(h.positive_buckets, vec![1.0, 2.0]);
        assert_eq!(h.negative_spans, vec![BucketSpan { offset: 3, length: 3 }]);
        assert_eq!(h.negative_buckets, vec![4.0, 0.0, 1.0]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        assert!(h.custom_values.is_empty());
    }

    #[test]
    fn defaults_and_special_values() {
        assert_eq!(parse("{{}}"), FloatHistogram::default());
        let h = parse("  {{ count:Inf sum:NaN z_bucket:+Inf buckets:[1.78264E+50 1e-6 -0] }}  ");
        assert_eq!(h.count, f64::INFINITY);
        assert!(h.sum.is_nan());
        assert_eq!(h.zero_count, f64::INFINITY);
        assert_eq!(h.positive_buckets, vec![1.78264e50, 1e-6, -0.0]);
        let h = parse("{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1] counter_reset_hint:not_reset}}");
        assert!(h.uses_custom_buckets());
        assert_eq!(h.custom_values, vec![5.0, 10.0]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::NotCounterReset);
        assert_eq!(parse("{{schema:0x2}}").schema, 2);
    }

    #[test]
    fn prefix_parsing_reports_the_bytes_used() {
        let text = " {{sum:1 count:1}}+{{count:2}}x3";
        let (h, used) = FloatHistogram::parse_test_notation_prefix(text).unwrap();
        assert_eq!(h.count, 1.0);
        assert_eq!(&text[used..], "+{{count:2}}x3");
    }

    #[test]
    fn bad_input_gets_a_clear_error_with_position() {
        assert_eq!(
            err("{{count:1 count:2}}"),
            "invalid histogram notation at byte 10: duplicate key \"count\" in histogram"
        );
        assert_eq!(err("{{foo:1}}"), "invalid histogram notation at byte 2: expected a key, found \"foo\"");
        assert_eq!(err("{{count:x}}"), "invalid histogram notation at byte 8: expected a number, found \"x\"");
        assert_eq!(err("{{schema:1.5}}"), "invalid histogram notation at byte 9: expected an integer, found \"1.5\"");
        assert_eq!(err("{{count:1"), "invalid histogram notation at byte 9: missing closing \"}}\"");
        assert_eq!(err("{{buckets:[1 2}}"), "invalid histogram notation at byte 14: missing closing \"]\"");
        assert_eq!(err("count:1"), "invalid histogram notation at byte 0: expected \"{{\"");
        assert_eq!(err("{{count:1}} x"), "invalid histogram notation at byte 11: unexpected text after the histogram");
        assert!(err("{{schema:9}}").contains("schema 9 is neither"));
        assert!(err("{{counter_reset_hint:maybe}}").contains("must be unknown, reset, not_reset or gauge"));
        assert!(err("{{custom_values:[1]}}").contains("custom_values needs schema -53"));
        assert!(err("{{schema:-53 n_buckets:[1]}}").contains("no negative or zero buckets"));
        assert!(err("{{offset:99999999999 buckets:[1]}}").contains("out of range"));
        assert_eq!(FloatHistogram::parse_test_notation("{{count:-}}").unwrap_err().kind(), crate::ErrorKind::BadData);
    }

    #[test]
    fn go_g_formatting() {
        for (v, s) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.78264e219, "1.78264e+219"),
            (-2.5, "-2.5"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(go_format_g(v), s, "{v}");
        }
    }

    #[test]
    fn display_writes_test_notation_that_parses_back() {
        let text = "{{schema:0 count:4 sum:10 buckets:[1 2 1]}}";
        assert_eq!(parse(text).to_string(), text);
        let text = "{{schema:-53 count:1 sum:1 custom_values:[5 10] counter_reset_hint:gauge offset:1 buckets:[1]}}";
        assert_eq!(parse(text).to_string(), text);
        let text = "{{schema:3 count:1e+100 sum:-1.5e-07 z_bucket:1 z_bucket_w:0.001 offset:-1 buckets:[1 0 2] n_offset:2 n_buckets:[3]}}";
        let h = parse(text);
        assert_eq!(h.to_string(), text);
        assert_eq!(parse(&h.to_string()), h);
        assert_eq!(FloatHistogram::default().to_string(), "{{schema:0}}");
    }

    #[test]
    fn display_joins_spans_and_trims_empty_edge_buckets() {
        let h = FloatHistogram {
            count: 3.0,
            positive_spans: vec![BucketSpan { offset: -1, length: 2 }, BucketSpan { offset: 2, length: 2 }],
            positive_buckets: vec![0.0, 1.0, 2.0, 0.0],
            ..Default::default()
        };
        assert_eq!(h.to_string(), "{{schema:0 count:3 buckets:[1 0 0 2]}}");
    }

    #[test]
    fn garbage_never_panics() {
        let valid = "{{schema:-53 count:9 sum:-2.5 z_bucket_w:0.001 offset:-2 buckets:[1 2] custom_values:[1 2] counter_reset_hint:gauge}}";
        let mut inputs: Vec<String> =
            (0..valid.len()).filter(|&i| valid.is_char_boundary(i)).map(|i| valid[..i].to_string()).collect();
        inputs.extend(
            [
                "{{",
                "}}",
                "{{:}}",
                "{{count:}}",
                "{{buckets:[}}",
                "{{é:1}}",
                "{{count:1é}}",
                "{{schema:-99999999999999999999}}",
            ]
            .map(String::from),
        );
        for (i, c) in valid.char_indices() {
            for replacement in ["", " ", "[", "]", "}", ":", "x", "é"] {
                inputs.push(format!("{}{replacement}{}", &valid[..i], &valid[i + c.len_utf8()..]));
            }
        }
        for input in inputs {
            let _ = FloatHistogram::parse_test_notation(&input);
        }
    }

    #[test]
    fn every_histogram_in_the_promql_test_data_parses() {
        let dir = super::super::promql_testdata_dir();
        let entries = std::fs::read_dir(&dir).unwrap();
        let mut parsed = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "test") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut rest = text.as_str();
            while let Some(start) = rest.find("{{") {
                let (h, used) = FloatHistogram::parse_test_notation_prefix(&rest[start..]).unwrap_or_else(|e| {
                    panic!("{}: {e}: {}", path.display(), &rest[start..start + 60.min(rest.len() - start)])
                });
                assert_eq!(parse(&h.to_string()).to_string(), h.to_string());
                parsed += 1;
                rest = &rest[start + used..];
            }
        }
        assert!(parsed > 700, "only {parsed} histograms found");
    }
}
