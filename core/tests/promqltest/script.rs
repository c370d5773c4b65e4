//! Parses promqltest scripts into commands (Prometheus's
//! `promql/promqltest/README.md` describes the format).

use promlite::Labels;
use regex::Regex;

use super::series_desc::{parse_duration, parse_number, parse_series_line, parse_start_line, SeqValue};

/// A series to load: labels and values, one per `interval` from 0.
#[derive(Debug, Clone)]
pub struct LoadSeries {
    pub labels: Labels,
    pub values: Vec<SeqValue>,
    /// Start timestamps from the series' `…@st` line, relative to each
    /// value's own time (index-aligned with `values`; `None`: no start).
    pub starts: Vec<Option<i64>>,
}

#[derive(Debug, Clone)]
pub struct Load {
    pub interval: i64,
    /// `load_with_nhcb`: classic histograms also become native histograms.
    pub with_nhcb: bool,
    pub series: Vec<LoadSeries>,
}

/// How an annotation or error message is matched.
#[derive(Debug, Clone)]
pub enum MessageMatch {
    Any,
    Exact(String),
    Regex(Regex),
}

impl MessageMatch {
    pub fn matches(&self, s: &str) -> bool {
        match self {
            MessageMatch::Any => true,
            MessageMatch::Exact(m) => m == s,
            MessageMatch::Regex(r) => r.is_match(s),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            MessageMatch::Any => "any".into(),
            MessageMatch::Exact(m) => format!("message {m:?}"),
            MessageMatch::Regex(r) => format!("pattern {:?}", r.as_str()),
        }
    }
}

/// What the result should be.
#[derive(Debug, Clone, Default)]
pub enum Expected {
    /// No result lines: an empty vector or matrix.
    #[default]
    Nothing,
    Scalar(f64),
    String(String),
    /// Series with their values; the position (1-based) is checked for ordered results.
    Series(Vec<(Labels, Vec<SeqValue>)>),
}

#[derive(Debug, Clone)]
pub enum EvalKind {
    Instant { at: i64 },
    Range { start: i64, end: i64, step: i64 },
}

#[derive(Debug, Clone)]
pub struct Eval {
    pub line: usize,
    pub query: String,
    pub kind: EvalKind,
    pub fail: Option<MessageMatch>,
    pub ordered: bool,
    /// Old `eval_warn` / `eval_info`: at least one annotation of the kind.
    pub any_warn: bool,
    pub any_info: bool,
    pub warn: Vec<MessageMatch>,
    pub info: Vec<MessageMatch>,
    pub no_warn: bool,
    pub no_info: bool,
    /// `expect range vector from … to … step …` (instant queries returning a matrix).
    pub range_vector: Option<(i64, i64, i64)>,
    pub expected: Expected,
    /// The text of the expectation lines, for failure reports.
    pub expected_text: Vec<String>,
}

impl Eval {
    /// Whether the case is exempt from the range-mode consistency check.
    pub fn exclude_from_range_check(&self) -> bool {
        self.range_vector.is_some() || matches!(self.expected, Expected::String(_))
    }
}

#[derive(Debug, Clone)]
pub enum Command {
    Load(Load),
    Clear,
    Eval(Box<Eval>),
}

/// Lines trimmed, comment lines blanked (a blank line ends a block).
fn lines(input: &str) -> Vec<String> {
    input
        .split('\n')
        .map(|l| {
            let t = l.trim();
            if t.starts_with('#') {
                String::new()
            } else {
                t.to_string()
            }
        })
        .collect()
}

struct Patterns {
    load: Regex,
    instant: Regex,
    range: Regex,
    expect: Regex,
    expect_range: Regex,
}

fn patterns() -> Patterns {
    Patterns {
        load: Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").unwrap(),
        instant: Regex::new(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$").unwrap(),
        range: Regex::new(r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$")
            .unwrap(),
        expect: Regex::new(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$").unwrap(),
        expect_range: Regex::new(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$").unwrap(),
    }
}

/// Parses a whole script. Errors name the (1-based) line.
pub fn parse_script(input: &str) -> Result<Vec<Command>, String> {
    let p = patterns();
    let lines = lines(input);
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if word == "clear" {
            cmds.push(Command::Clear);
            i += 1;
        } else if word.starts_with("load") {
            let (next, load) = parse_load(&p, &lines, i)?;
            cmds.push(Command::Load(load));
            i = next;
        } else if word.starts_with("eval") {
            let (next, eval) = parse_eval(&p, &lines, i)?;
            cmds.push(Command::Eval(Box::new(eval)));
            i = next;
        } else {
            return Err(format!("line {}: invalid command {l:?}", i + 1));
        }
    }
    Ok(cmds)
}

fn parse_load(p: &Patterns, lines: &[String], start: usize) -> Result<(usize, Load), String> {
    let caps = p.load.captures(&lines[start]).ok_or_else(|| format!("line {}: invalid load command", start + 1))?;
    let interval = parse_duration(&caps[2]).map_err(|e| format!("line {}: {e}", start + 1))?;
    let mut load = Load { interval, with_nhcb: caps.get(1).is_some(), series: Vec::new() };
    let mut starts: Vec<(Labels, Vec<Option<i64>>)> = Vec::new();
    let mut i = start + 1;
    while i < lines.len() && !lines[i].is_empty() {
        let l = &lines[i];
        let at = |e: String| format!("line {}: {e}", i + 1);
        // `metric@st …`: start timestamps for the values of `metric`'s own line.
        if let Some(parsed) = parse_start_line(l) {
            starts.push(parsed.map_err(at)?);
        } else {
            let (labels, values) = parse_series_line(l).map_err(at)?;
            load.series.push(LoadSeries { labels, values, starts: Vec::new() });
        }
        i += 1;
    }
    for (labels, offsets) in starts {
        let series = load
            .series
            .iter_mut()
            .find(|s| s.labels == labels)
            .ok_or_else(|| format!("line {}: start timestamps for {labels}, which has no values", start + 1))?;
        series.starts = offsets;
    }
    Ok((i, load))
}

fn message_match(kind: Option<&str>, text: Option<&str>) -> Result<MessageMatch, String> {
    match (kind, text) {
        (Some("msg"), Some(t)) => Ok(MessageMatch::Exact(t.trim().to_string())),
        (Some("regex"), Some(t)) => Regex::new(t.trim()).map(MessageMatch::Regex).map_err(|e| e.to_string()),
        _ => Ok(MessageMatch::Any),
    }
}

fn parse_eval(p: &Patterns, lines: &[String], start: usize) -> Result<(usize, Eval), String> {
    let line = &lines[start];
    let at = |e: String| format!("line {}: {e}", start + 1);
    let (modifier, query, kind) = if let Some(c) = p.instant.captures(line) {
        let t = c.get(2).map_or(Ok(0), |m| parse_duration(m.as_str())).map_err(at)?;
        (c.get(1).map(|m| m.as_str().to_string()), c[3].to_string(), EvalKind::Instant { at: t })
    } else if let Some(c) = p.range.captures(line) {
        let start_t = parse_duration(&c[2]).map_err(at)?;
        let end_t = parse_duration(&c[3]).map_err(at)?;
        let step = parse_duration(&c[4]).map_err(at)?;
        (
            c.get(1).map(|m| m.as_str().to_string()),
            c[5].to_string(),
            EvalKind::Range { start: start_t, end: end_t, step },
        )
    } else {
        return Err(at(format!("invalid eval command {line:?}")));
    };
    let mut eval = Eval {
        line: start + 1,
        query,
        kind,
        fail: None,
        ordered: false,
        any_warn: false,
        any_info: false,
        warn: Vec::new(),
        info: Vec::new(),
        no_warn: false,
        no_info: false,
        range_vector: None,
        expected: Expected::Nothing,
        expected_text: Vec::new(),
    };
    match modifier.as_deref() {
        Some("fail") => eval.fail = Some(MessageMatch::Any),
        Some("ordered") => eval.ordered = true,
        Some("warn") => eval.any_warn = true,
        Some("info") => eval.any_info = true,
        _ => {}
    }
    let mut series: Vec<(Labels, Vec<SeqValue>)> = Vec::new();
    let mut i = start + 1;
    while i < lines.len() && !lines[i].is_empty() {
        let l = lines[i].clone();
        i += 1;
        eval.expected_text.push(l.clone());
        if eval.fail.is_some() {
            if let Some(m) = l.strip_prefix("expected_fail_message") {
                eval.fail = Some(MessageMatch::Exact(m.trim().to_string()));
                break;
            }
            if let Some(m) = l.strip_prefix("expected_fail_regexp") {
                eval.fail = Some(MessageMatch::Regex(Regex::new(m.trim()).map_err(|e| at(e.to_string()))?));
                break;
            }
        }
        if l.starts_with("expect range vector") {
            let c = p.expect_range.captures(&l).ok_or_else(|| at(format!("bad range vector directive {l:?}")))?;
            eval.range_vector = Some((
                parse_duration(&c[1]).map_err(at)?,
                parse_duration(&c[2]).map_err(at)?,
                parse_duration(&c[3]).map_err(at)?,
            ));
            continue;
        }
        if let Some(s) = l.strip_prefix("expect string") {
            eval.expected = Expected::String(unquote(s.trim()).ok_or_else(|| at(format!("bad string {s:?}")))?);
            continue;
        }
        if l.split(' ').next() == Some("expect") {
            let c = p.expect.captures(&l).ok_or_else(|| at(format!("invalid expect statement {l:?}")))?;
            let m = message_match(c.get(2).map(|m| m.as_str()), c.get(3).map(|m| m.as_str())).map_err(at)?;
            match &c[1] {
                "fail" => eval.fail = Some(m),
                "ordered" => eval.ordered = true,
                "warn" => eval.warn.push(m),
                "info" => eval.info.push(m),
                "no_warn" => eval.no_warn = true,
                _ => eval.no_info = true,
            }
            continue;
        }
        if let Some(v) = parse_scalar_line(&l) {
            eval.expected = Expected::Scalar(v);
            break;
        }
        let (labels, values) = parse_series_line(&l).map_err(at)?;
        series.push((labels, values));
    }
    if !series.is_empty() {
        eval.expected = Expected::Series(series);
    }
    Ok((i, eval))
}

/// A line that is just a number (Go's `ParseInt(s, 0, 64)`, then `ParseFloat`).
fn parse_scalar_line(l: &str) -> Option<f64> {
    if l.contains(char::is_whitespace) || l.contains('{') {
        return None;
    }
    parse_number(l)
}

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` literals.
fn unquote(s: &str) -> Option<String> {
    if s.len() >= 2 && s.starts_with('`') && s.ends_with('`') {
        return Some(s[1..s.len() - 1].to_string());
    }
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let mut out = String::new();
        let mut chars = s[1..s.len() - 1].chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        return Some(out);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loads_evals_and_expectations() {
        let script = r#"
# comment
load 5m
    up{job="a"}@st _ -1m +30s
    up{job="a"} 1+1x2

eval instant at 10m up
    expect warn msg: boo
    expect no_info
    up{job="a"} 3

eval range from 0 to 10m step 5m up
    {job="a"} 1 2 3

eval_fail instant at 0 foo(
    expected_fail_message boom

eval instant at 1m 1
    1

clear
"#;
        let cmds = parse_script(script).unwrap();
        assert_eq!(cmds.len(), 6);
        let Command::Load(l) = &cmds[0] else { panic!() };
        assert_eq!((l.interval, l.series.len(), l.series[0].values.len()), (300_000, 1, 3));
        assert_eq!(l.series[0].starts, vec![None, Some(-60_000), Some(30_000)]);
        let orphan = parse_script("load 1m\n    nope@st _ 1m\n");
        assert!(orphan.unwrap_err().contains("has no values"));
        let Command::Eval(e) = &cmds[1] else { panic!() };
        assert!(matches!(e.kind, EvalKind::Instant { at: 600_000 }));
        assert_eq!(e.warn.len(), 1);
        assert!(e.no_info);
        let Command::Eval(e) = &cmds[2] else { panic!() };
        assert!(matches!(e.kind, EvalKind::Range { start: 0, end: 600_000, step: 300_000 }));
        let Command::Eval(e) = &cmds[3] else { panic!() };
        assert!(matches!(&e.fail, Some(MessageMatch::Exact(m)) if m == "boom"));
        let Command::Eval(e) = &cmds[4] else { panic!() };
        assert!(matches!(e.expected, Expected::Scalar(v) if v == 1.0));
        assert!(matches!(cmds[5], Command::Clear));
    }
}
