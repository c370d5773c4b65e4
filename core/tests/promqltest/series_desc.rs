//! Series descriptions of the promqltest format: `metric{a="b"} 1+2x3 _ stale`.

use std::sync::Arc;

use promlite::histogram::FloatHistogram;
use promlite::{stale_nan, Labels};

/// One value of an expanded sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqValue {
    /// `_`: no sample at this position.
    Omitted,
    /// A float (the stale marker is the stale NaN).
    Float(f64),
    /// A native histogram `{{…}}`.
    Histogram(Arc<ExpectedHistogram>),
}

/// A histogram as written in a script, with whether its counter-reset hint
/// was spelled out (only then do results have to match it, as in Prometheus).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedHistogram {
    pub h: FloatHistogram,
    pub hint_set: bool,
}

/// Parses a Prometheus duration (`5m`, `1h30m`, `500ms`, `0`) into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(0);
    }
    const UNITS: [(&str, i64); 7] = [
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
        ("w", 604_800_000),
        ("y", 31_536_000_000),
    ];
    let mut rest = s;
    let mut total = 0i64;
    if rest.is_empty() {
        return Err(format!("empty duration {s:?}"));
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("not a valid duration string: {s:?}"));
        }
        let n: i64 = rest[..digits].parse().map_err(|e| format!("{e}"))?;
        rest = &rest[digits..];
        let (unit, len) = UNITS
            .iter()
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())
            .ok_or_else(|| format!("not a valid duration string: {s:?}"))?;
        total += n * len;
        rest = &rest[unit.len()..];
    }
    Ok(total)
}

/// Parses a number as the promqltest harness does (Go's `ParseInt(s, 0, 64)`
/// then `ParseFloat`): decimal, hex, `Inf`, `NaN`, exponents, a sign.
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()? as f64
    } else if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else {
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Splits `line` into the series part and the values part. The series ends
/// at the closing brace of its label set, or at the first blank without one.
pub fn split_series(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut in_quote: Option<u8> = None;
    let mut depth = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match in_quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    in_quote = None;
                }
            }
            None => match c {
                b'"' | b'\'' | b'`' => in_quote = Some(c),
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return (&line[..=i], line[i + 1..].trim());
                    }
                }
                b' ' | b'\t' if depth == 0 => return (&line[..i], line[i..].trim()),
                _ => {}
            },
        }
        i += 1;
    }
    (line, "")
}

/// Parses `metric{labels} values…` into labels and the expanded values.
pub fn parse_series_line(line: &str) -> Result<(Labels, Vec<SeqValue>), String> {
    let (series, values) = split_series(line.trim());
    let labels = Labels::parse(series).map_err(|e| format!("bad series {series:?}: {e}"))?;
    Ok((labels, parse_values(values)?))
}

/// The labels of a `…@st` line and its start timestamps (`None`: no start).
pub type StartLine = (Labels, Vec<Option<i64>>);

/// Parses a start-timestamp line `metric{labels}@st …` into the labels and
/// the start timestamps relative to each value's time: `_` (none), a signed
/// duration `-30s`, `A(+|-)BxN` (N+1 of them: A, A±B, …) or `AxN`.
/// `None` when the line is not a start-timestamp line.
pub fn parse_start_line(line: &str) -> Option<Result<StartLine, String>> {
    let (series, rest) = split_series(line.trim());
    let (series, values) =
        if let Some(s) = series.strip_suffix("@st") { (s, rest) } else { (series, rest.strip_prefix("@st")?.trim()) };
    Some((|| {
        let labels = Labels::parse(series).map_err(|e| format!("bad series {series:?}: {e}"))?;
        let mut out = Vec::new();
        for item in values.split_whitespace() {
            expand_start_item(item, &mut out).map_err(|e| format!("bad start timestamp {item:?}: {e}"))?;
        }
        Ok((labels, out))
    })())
}

fn expand_start_item(item: &str, out: &mut Vec<Option<i64>>) -> Result<(), String> {
    if item == "_" {
        out.push(None);
        return Ok(());
    }
    let (first, rest) = leading_duration(item)?;
    let (step, count) = if rest.is_empty() {
        out.push(Some(first));
        return Ok(());
    } else if let Some(n) = rest.strip_prefix('x') {
        (0, n)
    } else {
        let (step, tail) = leading_duration(rest)?;
        (step, tail.strip_prefix('x').ok_or("expected xN after the step")?)
    };
    let n: usize = count.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    out.extend((0..=n as i64).map(|k| Some(first + k * step)));
    Ok(())
}

/// Reads a signed duration (`-1m30s`, `+5ms`, `0`) from the front of `s`;
/// returns it in milliseconds and the rest.
fn leading_duration(s: &str) -> Result<(i64, &str), String> {
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    // Digits and unit letters; `x` (repetition) and signs end the duration.
    let len = body.bytes().take_while(|b| b.is_ascii_digit() || b"smhdwy".contains(b)).count();
    if len == 0 {
        return Err(format!("expected a duration in {s:?}"));
    }
    let ms = parse_duration(&body[..len])?;
    Ok((sign * ms, &body[len..]))
}

/// Splits the values part into items; histogram literals `{{…}}` may contain blanks.
fn items(values: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = values.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        let mut depth = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b' ' | b'\t' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        out.push(&values[start..i]);
    }
    out
}

/// Expands a values part: `a`, `_`, `_xN`, `stale`, `axN`, `a+bxN`, `a-bxN`, `{{…}}`.
pub fn parse_values(values: &str) -> Result<Vec<SeqValue>, String> {
    let mut out = Vec::new();
    for item in items(values) {
        expand_item(item, &mut out).map_err(|e| format!("bad value {item:?}: {e}"))?;
    }
    Ok(out)
}

/// Expands `{{A}}`, `{{A}}xN` (N+1 copies), `{{A}}+{{B}}xN` and
/// `{{A}}-{{B}}xN` (A, A±B, A±2B, …: N+1 values).
fn expand_histograms(item: &str, out: &mut Vec<SeqValue>) -> Result<(), String> {
    let (first, used) = FloatHistogram::parse_test_notation_prefix(item).map_err(|e| e.to_string())?;
    let mut hint_set = item[..used].contains("counter_reset_hint");
    let rest = &item[used..];
    let value = |h: FloatHistogram, hint_set: bool| SeqValue::Histogram(Arc::new(ExpectedHistogram { h, hint_set }));
    if rest.is_empty() {
        out.push(value(first, hint_set));
        return Ok(());
    }
    if let Some(n) = rest.strip_prefix('x') {
        let n: usize = n.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
        out.extend(std::iter::repeat_n(value(first, hint_set), n + 1));
        return Ok(());
    }
    let add = match rest.as_bytes()[0] {
        b'+' => true,
        b'-' => false,
        _ => return Err(format!("unexpected {rest:?} after a histogram")),
    };
    let (inc, used) = FloatHistogram::parse_test_notation_prefix(&rest[1..]).map_err(|e| e.to_string())?;
    hint_set |= rest[1..=used].contains("counter_reset_hint");
    let n = rest[1 + used..].strip_prefix('x').ok_or("expected xN after the increment")?;
    let n: usize = n.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    let mut cur = first;
    out.push(value(cur.clone(), hint_set));
    for _ in 0..n {
        if cur.schema > inc.schema {
            return Err(format!(
                "error combining histograms: cannot merge from schema {} to {}",
                inc.schema, cur.schema
            ));
        }
        let combined = if add { cur.add(&inc) } else { cur.sub(&inc) };
        combined.map_err(|e| format!("error combining histograms: {e}"))?;
        out.push(value(cur.clone(), hint_set));
    }
    Ok(())
}

fn expand_item(item: &str, out: &mut Vec<SeqValue>) -> Result<(), String> {
    if item.starts_with("{{") {
        return expand_histograms(item, out);
    }
    if item == "_" {
        out.push(SeqValue::Omitted);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        let n: usize = n.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
        out.extend(std::iter::repeat_n(SeqValue::Omitted, n));
        return Ok(());
    }
    if item == "stale" {
        out.push(SeqValue::Float(stale_nan()));
        return Ok(());
    }
    let (first, rest) = leading_number(item)?;
    if rest.is_empty() {
        out.push(SeqValue::Float(first));
        return Ok(());
    }
    let (step, count) = if let Some(n) = rest.strip_prefix('x') {
        (0.0, n)
    } else {
        let (step, tail) = leading_number(rest)?;
        let n = tail.strip_prefix('x').ok_or("expected xN after the step")?;
        (step, n)
    };
    let n: usize = count.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    let mut v = first;
    for _ in 0..=n {
        out.push(SeqValue::Float(v));
        v += step;
    }
    Ok(())
}

/// Reads a signed number from the front of `s`; returns it and the rest.
fn leading_number(s: &str) -> Result<(f64, &str), String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
        i += 1;
    }
    let body = &s[i..];
    let lower = body.to_ascii_lowercase();
    let len = if lower.starts_with("inf") || lower.starts_with("nan") {
        3
    } else {
        // No hex here: in `0+0x10` the `x` is the repetition.
        let mut j = 0;
        let b = body.as_bytes();
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
            j += 1;
        }
        if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
            let mut k = j + 1;
            if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                k += 1;
            }
            if k < b.len() && b[k].is_ascii_digit() {
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                j = k;
            }
        }
        j
    };
    if len == 0 {
        return Err(format!("expected a number in {s:?}"));
    }
    let end = i + len;
    let v = parse_number(&s[..end]).ok_or_else(|| format!("bad number {:?}", &s[..end]))?;
    Ok((v, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(v: &[SeqValue]) -> Vec<f64> {
        v.iter().map(|x| if let SeqValue::Float(f) = x { *f } else { -999.0 }).collect()
    }

    fn counts(v: &[SeqValue]) -> Vec<f64> {
        v.iter().map(|x| if let SeqValue::Histogram(h) = x { h.h.count } else { -999.0 }).collect()
    }

    #[test]
    fn expands_the_value_notation() {
        assert_eq!(floats(&parse_values("1+2x3").unwrap()), vec![1.0, 3.0, 5.0, 7.0]);
        assert_eq!(floats(&parse_values("-1-1x2 5x1").unwrap()), vec![-1.0, -2.0, -3.0, 5.0, 5.0]);
        assert_eq!(floats(&parse_values("1e-3 -Inf").unwrap()), vec![0.001, f64::NEG_INFINITY]);
        assert_eq!(floats(&parse_values("0+0x2").unwrap()), vec![0.0, 0.0, 0.0]);
        assert_eq!(parse_values("_ _x2").unwrap(), vec![SeqValue::Omitted; 3]);
        assert_eq!(parse_values("{{schema:1 sum:3}}x2 1").unwrap().len(), 4);
        let grown = parse_values("{{count:1 buckets:[1]}}+{{count:2 buckets:[2]}}x2 _").unwrap();
        assert_eq!(counts(&grown[..3]), vec![1.0, 3.0, 5.0]);
        assert_eq!(grown[3], SeqValue::Omitted);
        let shrunk = parse_values("{{count:5}}-{{count:2 counter_reset_hint:gauge}}x1").unwrap();
        assert_eq!(counts(&shrunk), vec![5.0, 3.0]);
        assert!(matches!(&shrunk[1], SeqValue::Histogram(h) if h.hint_set));
        assert!(parse_values("{{schema:0}}+{{schema:1}}x1").is_ok(), "a finer increment is merged down");
        assert!(parse_values("{{schema:1}}+{{schema:0}}x1").is_err());
        assert!(promlite::is_stale_nan(floats(&parse_values("stale").unwrap())[0]));
    }

    #[test]
    fn splits_series_from_values() {
        assert_eq!(split_series(r#"a{b="x y}"} 1 2"#), (r#"a{b="x y}"}"#, "1 2"));
        assert_eq!(split_series("metric 1"), ("metric", "1"));
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("0").unwrap(), 0);
        assert_eq!(parse_duration("500ms").unwrap(), 500);
    }

    #[test]
    fn expands_start_timestamp_lines() {
        let (labels, starts) = parse_start_line(r#"a{b="c"}@st _ -30s-1mx2 +1m 0 -1msx1"#).unwrap().unwrap();
        assert_eq!(labels, Labels::parse(r#"a{b="c"}"#).unwrap());
        let want = [None, Some(-30_000), Some(-90_000), Some(-150_000), Some(60_000), Some(0), Some(-1), Some(-1)];
        assert_eq!(starts, want);
        let (_, starts) = parse_start_line("series@st 1ms-1mx1 0-1mx1").unwrap().unwrap();
        assert_eq!(starts, vec![Some(1), Some(1 - 60_000), Some(0), Some(-60_000)]);
        assert!(parse_start_line("series 1 2").is_none());
        assert!(parse_start_line("series@st 1q").unwrap().is_err());
    }
}
