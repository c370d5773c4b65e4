//! Prometheus text exposition format (0.0.4) and OpenMetrics text parsing.
//!
//! The parser turns a body into samples plus family metadata (`# HELP`,
//! `# TYPE`, `# UNIT`). It is strict where a mistake would silently store
//! wrong data (bad numbers, duplicate label names, duplicate samples, a second
//! `# TYPE` for a family) and every error names the 1-based line it is on.
//! UTF-8 metric and label names in quotes (`{"my.metric", "a.b"="x"}`) are
//! accepted, as Prometheus 3 does.

use std::collections::{HashMap, HashSet};

use crate::db::{Batch, Db, MetricMetadata};
use crate::error::{Error, Result};
use crate::model::{is_legacy_label_name, Labels, METRIC_NAME};

/// The two text formats; they differ in timestamp unit and a few tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text format 0.0.4: timestamps in integer milliseconds.
    PrometheusText,
    /// OpenMetrics 1.0 text: timestamps in (fractional) seconds, exemplars,
    /// `# UNIT`, `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The format named by an HTTP `Content-Type`, falling back to sniffing
    /// the body (an OpenMetrics body ends with `# EOF`).
    pub(crate) fn detect(content_type: Option<&str>, text: &str) -> Format {
        match content_type {
            Some(ct) if ct.trim_start().starts_with("application/openmetrics-text") => Format::OpenMetrics,
            _ if text.trim_end().ends_with("# EOF") => Format::OpenMetrics,
            _ => Format::PrometheusText,
        }
    }
}

/// One sample line of an exposition body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpositionSample {
    /// The metric family the sample belongs to (`foo` for `foo_bucket` of histogram `foo`).
    pub family: String,
    /// The series, including `__name__`.
    pub labels: Labels,
    /// Milliseconds, if the line carried a timestamp.
    pub timestamp: Option<i64>,
    /// The value.
    pub value: f64,
}

/// A parsed body: samples in body order and metadata for every family that
/// had a `# HELP`, `# TYPE` or `# UNIT` line.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Exposition {
    pub samples: Vec<ExpositionSample>,
    pub metadata: Vec<MetricMetadata>,
}

/// Parses `text` and writes its samples and metadata to `db` in one commit.
pub(crate) fn ingest(db: &Db, text: &str, default_t: i64) -> Result<usize> {
    let exposition = parse(text, Format::detect(None, text))?;
    let mut batch = Batch::new();
    for s in &exposition.samples {
        batch.add(&s.labels, s.timestamp.unwrap_or(default_t), s.value);
    }
    for m in exposition.metadata {
        batch.add_metadata(m);
    }
    db.write(&batch)
}

/// Parses a whole body.
///
/// # Errors
/// [`Error::InvalidInput`] starting with `line N:`; nothing is returned on error.
pub(crate) fn parse(text: &str, format: Format) -> Result<Exposition> {
    let mut parser = Parser::new(format);
    for (i, line) in text.lines().enumerate() {
        parser.line(line).map_err(|msg| Error::invalid(format!("line {}: {msg}", i + 1)))?;
    }
    Ok(parser.finish())
}

/// Metric types the text formats allow after `# TYPE`.
const METRIC_TYPES: &[&str] =
    &["counter", "gauge", "histogram", "summary", "untyped", "unknown", "gaugehistogram", "info", "stateset"];

/// Series-name suffixes that still belong to a family of the given type.
fn family_suffixes(kind: &str) -> &'static [&'static str] {
    match kind {
        "counter" => &["_total", "_created"],
        "histogram" => &["_bucket", "_sum", "_count", "_created"],
        "gaugehistogram" => &["_bucket", "_gsum", "_gcount"],
        "summary" => &["_sum", "_count", "_created"],
        "info" => &["_info"],
        _ => &[],
    }
}

#[derive(Default)]
struct FamilyMeta {
    kind: Option<String>,
    help: Option<String>,
    unit: Option<String>,
}

struct Parser {
    format: Format,
    /// Family of the latest `# TYPE`/`# HELP`/`# UNIT` line, which the following samples may belong to.
    current_family: Option<String>,
    families: HashMap<String, FamilyMeta>,
    family_order: Vec<String>,
    samples: Vec<ExpositionSample>,
    seen: HashSet<(Labels, Option<i64>)>,
    saw_eof: bool,
}

impl Parser {
    fn new(format: Format) -> Self {
        Parser {
            format,
            current_family: None,
            families: HashMap::new(),
            family_order: Vec::new(),
            samples: Vec::new(),
            seen: HashSet::new(),
            saw_eof: false,
        }
    }

    fn line(&mut self, raw: &str) -> Result<(), String> {
        let line = raw.trim_start_matches([' ', '\t']);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.saw_eof {
            return Err("content after # EOF".into());
        }
        if line.trim().is_empty() {
            return Ok(());
        }
        match line.strip_prefix('#') {
            Some(comment) => self.comment(comment),
            None => self.sample(line),
        }
    }

    fn comment(&mut self, comment: &str) -> Result<(), String> {
        let rest = comment.trim_start_matches([' ', '\t']);
        if self.format == Format::OpenMetrics && rest.trim_end() == "EOF" {
            self.saw_eof = true;
            return Ok(());
        }
        let (keyword, rest) = split_word(rest);
        if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
            return Ok(()); // an ordinary comment
        }
        let (name, text) = split_metric_name(rest)?;
        let meta = match self.families.get_mut(&name) {
            Some(m) => m,
            None => {
                self.family_order.push(name.clone());
                self.families.entry(name.clone()).or_default()
            }
        };
        match keyword {
            "HELP" => {
                if meta.help.is_some() {
                    return Err(format!("second HELP line for metric name {name:?}"));
                }
                meta.help = Some(unescape_help(text, self.format));
            }
            "TYPE" => {
                let kind = text.trim();
                if !METRIC_TYPES.contains(&kind) {
                    return Err(format!("invalid metric type {kind:?} for metric {name:?}"));
                }
                if meta.kind.is_some() {
                    return Err(format!("second TYPE line for metric name {name:?}"));
                }
                meta.kind = Some(kind.to_string());
            }
            _ => {
                if meta.unit.is_some() {
                    return Err(format!("second UNIT line for metric name {name:?}"));
                }
                meta.unit = Some(text.trim().to_string());
            }
        }
        self.current_family = Some(name);
        Ok(())
    }

    fn sample(&mut self, line: &str) -> Result<(), String> {
        let mut cur = Cursor::new(line);
        let mut pairs: Vec<(String, String)> = Vec::new();
        if cur.peek() != Some(b'{') {
            pairs.push((METRIC_NAME.to_string(), cur.metric_name()?));
        }
        let mut blank = cur.skip_blanks();
        if cur.peek() == Some(b'{') {
            cur.label_set(&mut pairs)?;
            blank = cur.skip_blanks();
        }
        let name = match pairs.iter().find(|(n, _)| n == METRIC_NAME) {
            Some((_, v)) if !v.is_empty() => v.clone(),
            _ => return Err("sample has no metric name".into()),
        };
        if !blank || cur.at_end() {
            return Err(format!("expected a value after {:?}", cur.consumed()));
        }
        let value = parse_value(cur.word())?;
        let mut timestamp = None;
        if cur.skip_blanks() && !cur.at_end() && !self.at_exemplar(&cur) {
            timestamp = Some(self.parse_timestamp(cur.word())?);
        }
        cur.skip_blanks();
        if !cur.at_end() && !self.at_exemplar(&cur) {
            return Err(format!("unexpected {:?} after the sample", cur.rest()));
        }

        let mut names = HashSet::new();
        for (n, _) in &pairs {
            if !names.insert(n.as_str()) {
                return Err(format!("duplicate label name {n:?}"));
            }
        }
        let labels = Labels::from_pairs(pairs);
        if !self.seen.insert((labels.clone(), timestamp)) {
            return Err(format!("duplicate sample for series {labels}"));
        }
        let family = self.family_of(&name);
        self.samples.push(ExpositionSample { family, labels, timestamp, value });
        Ok(())
    }

    /// OpenMetrics exemplars (` # {…} v`) follow the sample; they are not stored.
    fn at_exemplar(&self, cur: &Cursor) -> bool {
        self.format == Format::OpenMetrics && cur.rest().starts_with('#')
    }

    fn parse_timestamp(&self, word: &str) -> Result<i64, String> {
        let bad = || format!("invalid timestamp {word:?}");
        match self.format {
            Format::PrometheusText => word.parse::<i64>().map_err(|_| bad()),
            Format::OpenMetrics => {
                let secs: f64 = word.parse().map_err(|_| bad())?;
                if !secs.is_finite() {
                    return Err(bad());
                }
                Ok((secs * 1000.0).round() as i64)
            }
        }
    }

    fn family_of(&self, series_name: &str) -> String {
        if let Some(family) = &self.current_family {
            if family == series_name {
                return family.clone();
            }
            let kind = self.families.get(family).and_then(|m| m.kind.as_deref()).unwrap_or("");
            if let Some(suffix) = series_name.strip_prefix(family.as_str()) {
                if family_suffixes(kind).contains(&suffix) {
                    return family.clone();
                }
            }
        }
        series_name.to_string()
    }

    fn finish(self) -> Exposition {
        let mut families = self.families;
        let metadata = self
            .family_order
            .into_iter()
            .map(|name| {
                let m = families.remove(&name).unwrap_or_default();
                let kind = match m.kind.as_deref() {
                    None | Some("untyped") => "unknown".to_string(),
                    Some(k) => k.to_string(),
                };
                MetricMetadata {
                    metric: name,
                    kind,
                    help: m.help.unwrap_or_default(),
                    unit: m.unit.unwrap_or_default(),
                }
            })
            .collect();
        Exposition { samples: self.samples, metadata }
    }
}

/// Splits off the first blank-separated word.
fn split_word(s: &str) -> (&str, &str) {
    match s.find([' ', '\t']) {
        Some(i) => (&s[..i], s[i..].trim_start_matches([' ', '\t'])),
        None => (s, ""),
    }
}

/// The metric name of a `# HELP`/`# TYPE`/`# UNIT` line (bare or quoted) and the text after it.
fn split_metric_name(s: &str) -> Result<(String, &str), String> {
    let mut cur = Cursor::new(s);
    let name = if cur.peek() == Some(b'"') { cur.quoted()? } else { cur.metric_name()? };
    if !cur.at_end() && !cur.skip_blanks() {
        return Err(format!("invalid metric name in {s:?}"));
    }
    Ok((name, cur.rest()))
}

fn parse_value(word: &str) -> Result<f64, String> {
    let v = match word {
        "+Inf" | "Inf" | "+inf" | "inf" => f64::INFINITY,
        "-Inf" | "-inf" => f64::NEG_INFINITY,
        "NaN" | "nan" => f64::NAN,
        _ if word.chars().any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') => {
            return Err(format!("invalid value {word:?}"));
        }
        _ => word.parse::<f64>().map_err(|_| format!("invalid value {word:?}"))?,
    };
    Ok(v)
}

/// HELP text escapes: `\\` and `\n` (OpenMetrics also `\"`); others stay as written.
fn unescape_help(text: &str, format: Format) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if format == Format::OpenMetrics => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A position within one line.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn consumed(&self) -> &'a str {
        &self.s[..self.pos]
    }

    /// Skips spaces and tabs; returns whether there were any.
    fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Everything up to the next blank.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while !matches!(self.peek(), None | Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {:?}", c as char, self.rest()))
        }
    }

    /// A legacy name made of `[a-zA-Z0-9_]` plus `:` when `colon` (not starting with a digit).
    fn ident(&mut self, colon: bool, what: &str) -> Result<String, String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let ok = c.is_ascii_alphabetic()
                || c == b'_'
                || (colon && c == b':')
                || (self.pos > start && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(format!("invalid {what} at {:?}", self.rest()));
        }
        Ok(self.s[start..self.pos].to_string())
    }

    fn metric_name(&mut self) -> Result<String, String> {
        self.ident(true, "metric name")
    }

    /// A double-quoted string with `\\`, `\"` and `\n` escapes.
    fn quoted(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err("unterminated quoted string".into())
    }

    /// `{name="value", …}`, where the first item may be a quoted metric name alone.
    fn label_set(&mut self, pairs: &mut Vec<(String, String)>) -> Result<(), String> {
        self.expect(b'{')?;
        let mut first = true;
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(());
            }
            let quoted = self.peek() == Some(b'"');
            let name = if quoted { self.quoted()? } else { self.ident(false, "label name")? };
            self.skip_blanks();
            if quoted && first && matches!(self.peek(), Some(b',' | b'}')) {
                // `{"metric.name", …}`: a UTF-8 metric name inside the braces.
                if pairs.iter().any(|(n, _)| n == METRIC_NAME) {
                    return Err("metric name given twice".into());
                }
                pairs.push((METRIC_NAME.to_string(), name));
            } else {
                if !quoted && !is_legacy_label_name(&name) {
                    return Err(format!("invalid label name {name:?}"));
                }
                self.expect(b'=')?;
                self.skip_blanks();
                let value = self.quoted()?;
                pairs.push((name, value));
            }
            first = false;
            self.skip_blanks();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(format!("expected \",\" or \"}}\" at {:?}", self.rest())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Exposition {
        parse(s, Format::PrometheusText).unwrap()
    }

    fn err(s: &str, format: Format) -> String {
        parse(s, format).unwrap_err().to_string()
    }

    #[test]
    fn parses_samples_labels_timestamps_and_metadata() {
        let e = text(
            "# HELP http_requests_total The total.\\nSecond line \\\\ done\n\
             # TYPE http_requests_total counter\n\
             http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
             http_requests_total{ method = \"get\" , code=\"400\", } 3\n\
             \n\
             # A plain comment\n\
             msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n\
             metric_without_labels -Inf\n",
        );
        assert_eq!(e.samples.len(), 4);
        let s = &e.samples[0];
        assert_eq!(s.labels.to_string(), r#"http_requests_total{code="200", method="post"}"#);
        assert_eq!((s.timestamp, s.value, s.family.as_str()), (Some(1395066363000), 1027.0, "http_requests_total"));
        assert_eq!(e.samples[1].labels.get("method"), Some("get"));
        assert_eq!(e.samples[1].timestamp, None);
        assert_eq!(e.samples[2].labels.get("path"), Some(r"C:\DIR\FILE.TXT"));
        assert_eq!(e.samples[2].labels.get("error"), Some("Cannot find file:\n\"FILE.TXT\""));
        assert_eq!(e.samples[2].value, 1.458255915e9);
        assert_eq!(e.samples[3].value, f64::NEG_INFINITY);
        assert_eq!(
            e.metadata,
            vec![MetricMetadata {
                metric: "http_requests_total".into(),
                kind: "counter".into(),
                help: "The total.\nSecond line \\ done".into(),
                unit: String::new(),
            }]
        );
    }

    #[test]
    fn histogram_series_belong_to_their_family() {
        let e = text(
            "# TYPE rpc histogram\n\
             rpc_bucket{le=\"0.5\"} 1\n\
             rpc_bucket{le=\"+Inf\"} 2\n\
             rpc_sum 3.5\n\
             rpc_count 2\n\
             rpc_other 1\n\
             # TYPE up gauge\n\
             up 1\n",
        );
        let families: Vec<&str> = e.samples.iter().map(|s| s.family.as_str()).collect();
        assert_eq!(families, ["rpc", "rpc", "rpc", "rpc", "rpc_other", "up"]);
        assert_eq!(e.metadata[0].kind, "histogram");
        assert_eq!(e.metadata[1].metric, "up");
    }

    #[test]
    fn special_values_and_untyped() {
        let e = text("# TYPE a untyped\na NaN\nb +Inf\n");
        assert!(e.samples[0].value.is_nan());
        assert_eq!(e.samples[1].value, f64::INFINITY);
        assert_eq!(e.metadata[0].kind, "unknown");
        assert!(parse("c 0x1p3\n", Format::PrometheusText).is_err());
    }

    #[test]
    fn utf8_names_in_quotes() {
        let e =
            text("{\"my.metric\", \"le.x\"=\"1\", job=\"a\"} 2\n# TYPE \"other.metric\" gauge\n{\"other.metric\"} 3\n");
        assert_eq!(e.samples[0].labels.metric_name(), Some("my.metric"));
        assert_eq!(e.samples[0].labels.get("le.x"), Some("1"));
        assert_eq!(e.samples[1].family, "other.metric");
        assert_eq!(e.metadata[0].metric, "other.metric");
    }

    #[test]
    fn openmetrics_timestamps_units_exemplars_and_eof() {
        let body = "# TYPE foo counter\n# UNIT foo seconds\n# HELP foo Help with \\\"quotes\\\".\n\
                    foo_total{a=\"b\"} 17.0 1520879607.789 # {trace_id=\"x\"} 1 1520879607.7\n\
                    foo_created 1520430000.123\n# EOF\n";
        assert_eq!(Format::detect(None, body), Format::OpenMetrics);
        let e = parse(body, Format::OpenMetrics).unwrap();
        assert_eq!(e.samples[0].timestamp, Some(1_520_879_607_789));
        assert_eq!(e.samples[0].family, "foo");
        assert_eq!(e.samples[1].family, "foo");
        assert_eq!(e.metadata[0].unit, "seconds");
        assert_eq!(e.metadata[0].help, "Help with \"quotes\".");
        assert!(err("a 1\n# EOF\nb 2\n", Format::OpenMetrics).contains("line 3: content after # EOF"));
        assert_eq!(Format::detect(Some("application/openmetrics-text; version=1.0.0"), "a 1\n"), Format::OpenMetrics);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("ok 1\nbad{a=\"1\" 2\n", "line 2: expected \",\" or \"}\""),
            ("a 1\nb 12x\n", "line 2: invalid value \"12x\""),
            ("a 1\nb\n", "line 2: expected a value after \"b\""),
            ("a 1 1.5\n", "line 1: invalid timestamp \"1.5\""),
            ("a{x=\"1\",x=\"2\"} 1\n", "line 1: duplicate label name \"x\""),
            ("a{x=\"1\"} 1\na{x=\"1\"} 2\n", "line 2: duplicate sample for series a{x=\"1\"}"),
            ("# TYPE a gauge\n# TYPE a counter\n", "line 2: second TYPE line for metric name \"a\""),
            ("# TYPE a nonsense\n", "line 1: invalid metric type \"nonsense\""),
            ("a{x=\"unterminated} 1\n", "line 1: unterminated quoted string"),
            ("{x=\"1\"} 1\n", "line 1: sample has no metric name"),
            ("a 1 2 3\n", "line 1: unexpected \"3\" after the sample"),
            ("1a 1\n", "line 1: invalid metric name"),
        ];
        for (body, want) in cases {
            let got = err(body, Format::PrometheusText);
            assert!(got.starts_with(want), "{body:?}: got {got:?}, want {want:?}");
        }
        // The same series at two timestamps is history, not a duplicate.
        assert_eq!(text("a 1 1000\na 2 2000\n").samples.len(), 2);
    }
}
