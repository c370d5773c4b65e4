//! A scan of the query with the rules of Prometheus's lexer, used only for
//! error reporting. pest does the real parsing; this pass gives lexical
//! errors Prometheus's wording (`unclosed left parenthesis`, `unterminated
//! quoted string`, `bad number or duration syntax: "2.5."`, …) and names the
//! token a syntax error is about the way Prometheus does (`identifier "foo"`,
//! `<op:*>`, `<by>`, `end of input`).

use std::ops::Range;

use super::parser::parse_duration_ms;
use super::printer::write_go_quoted;

/// A lexical error: where it is and Prometheus's message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LexError {
    pub span: Range<usize>,
    pub message: String,
}

/// The first lexical error in `query`, if any.
pub(super) fn first_error(query: &str) -> Option<LexError> {
    Scanner::new(query).run().err()
}

/// Whether `query` holds nothing but blanks and comments.
pub(super) fn is_blank(query: &str) -> bool {
    let mut s = Scanner::new(query);
    s.skip_blanks_and_comments();
    s.pos == query.len()
}

/// How Prometheus names the token that starts at (or after blanks from) `pos`
/// in "unexpected …" messages.
pub(super) fn describe_token(query: &str, pos: usize) -> String {
    let mut s = Scanner::new(query);
    s.pos = pos.min(query.len());
    s.skip_blanks_and_comments();
    let start = s.pos;
    let Some(c) = s.peek() else { return "end of input".to_string() };
    let text = |end: usize| &query[start..end];
    if is_alpha(c) || c == ':' {
        s.eat_while(|c| is_alpha_numeric(c) || c == ':');
        let word = text(s.pos);
        let lower = word.to_ascii_lowercase();
        return match lower.as_str() {
            "and" | "or" | "unless" | "atan2" => format!("<op:{word}>"),
            "sum" | "avg" | "count" | "min" | "max" | "group" | "stddev" | "stdvar" | "topk" | "bottomk"
            | "count_values" | "quantile" | "limitk" | "limit_ratio" => format!("<aggr:{word}>"),
            "bool" | "by" | "group_left" | "group_right" | "ignoring" | "offset" | "on" | "without" | "start"
            | "end" | "step" | "range" | "anchored" | "smoothed" => format!("<{word}>"),
            "inf" | "nan" => format!("number {}", quote_item(word)),
            _ if word.contains(':') => format!("metric identifier {}", quote_item(word)),
            _ => format!("identifier {}", quote_item(word)),
        };
    }
    if c.is_ascii_digit() || (c == '.' && s.peek_at(1).is_some_and(|d| d.is_ascii_digit())) {
        return match s.number_or_duration() {
            Ok(true) => format!("duration {}", quote_item(text(s.pos))),
            _ => format!("number {}", quote_item(text(s.pos))),
        };
    }
    if matches!(c, '"' | '\'' | '`') {
        s.bump();
        let _ = if c == '`' { s.raw_string(start) } else { s.quoted_string(c, start) };
        return format!("string {}", quote_item(text(s.pos)));
    }
    for op in ["==", "!=", ">=", "<=", "</", ">/", "=~", "!~"] {
        if query[start..].starts_with(op) {
            return format!("<op:{op}>");
        }
    }
    match c {
        '+' | '-' | '*' | '/' | '%' | '^' | '<' | '>' | '@' => format!("<op:{c}>"),
        _ => quote_item(&c.to_string()),
    }
}

/// `%q` of a token as Prometheus's `Item.String` writes it: at most ten
/// characters, then `...`.
fn quote_item(text: &str) -> String {
    let mut out = String::new();
    if text.chars().count() > 10 {
        let head: String = text.chars().take(10).collect();
        let _ = write_go_quoted(&mut out, &head);
        out.push_str("...");
    } else {
        let _ = write_go_quoted(&mut out, text);
    }
    out
}

/// `%q` of a character as Go writes it: `'~'`, `'\n'`, `'é'`.
fn quote_char(c: char) -> String {
    let mut s = String::new();
    let _ = write_go_quoted(&mut s, &c.to_string());
    let inner = &s[1..s.len() - 1];
    let inner = if inner == "\\\"" {
        "\""
    } else if c == '\'' {
        "\\'"
    } else {
        inner
    };
    format!("'{inner}'")
}

/// `%#U` of a character as Go writes it: `U+0071 'q'`.
fn unicode_char(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alpha_numeric(c: char) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

type Scan<T = ()> = Result<T, LexError>;

struct Scanner<'q> {
    input: &'q str,
    pos: usize,
    paren_depth: usize,
}

impl<'q> Scanner<'q> {
    fn new(input: &'q str) -> Self {
        Scanner { input, pos: 0, paren_depth: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.input[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn eat_while(&mut self, f: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&f) {
            self.bump();
        }
    }

    fn error<T>(&self, start: usize, message: impl Into<String>) -> Scan<T> {
        Err(LexError { span: start..self.pos.max(start), message: message.into() })
    }

    fn skip_blanks_and_comments(&mut self) {
        loop {
            self.eat_while(is_space);
            if self.peek() == Some('#') {
                self.eat_while(|c| c != '\n' && c != '\r');
            } else {
                return;
            }
        }
    }

    fn run(mut self) -> Scan {
        loop {
            self.skip_blanks_and_comments();
            let start = self.pos;
            let Some(c) = self.bump() else {
                if self.paren_depth > 0 {
                    return self.error(start, "unclosed left parenthesis");
                }
                return Ok(());
            };
            match c {
                ',' | '*' | '/' | '%' | '+' | '-' | '^' | '@' | '<' | '>' => {
                    if matches!(c, '<' | '>') {
                        self.eat("=/");
                    }
                }
                '=' => match self.peek() {
                    Some('=') => {
                        self.bump();
                    }
                    Some('~') => return self.error(start, "unexpected character after '=': '~'"),
                    _ => {}
                },
                '!' => match self.bump() {
                    Some('=') => {}
                    other => {
                        return self.error(
                            start,
                            format!("unexpected character after '!': {}", quote_char(other.unwrap_or('\u{fffd}'))),
                        )
                    }
                },
                '"' | '\'' => self.quoted_string(c, start)?,
                '`' => self.raw_string(start)?,
                '(' => self.paren_depth += 1,
                ')' => {
                    if self.paren_depth == 0 {
                        return self.error(start, "unexpected right parenthesis ')'");
                    }
                    self.paren_depth -= 1;
                }
                '{' => self.braces()?,
                '[' => self.brackets()?,
                ']' => return self.error(start, "unexpected right bracket ']'"),
                c if c.is_ascii_digit() || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) => {
                    self.pos = start;
                    self.number_or_duration()?;
                }
                c if is_alpha(c) || c == ':' => self.eat_while(|c| is_alpha_numeric(c) || c == ':'),
                c => return self.error(start, format!("unexpected character: {}", quote_char(c))),
            }
        }
    }

    /// Inside `{…}`; the `{` has been read.
    fn braces(&mut self) -> Scan {
        loop {
            self.skip_blanks_and_comments();
            let start = self.pos;
            let Some(c) = self.bump() else {
                return self.error(start, "unexpected end of input inside braces");
            };
            match c {
                '}' => return Ok(()),
                ',' => {}
                '=' => {
                    self.eat("~");
                }
                '!' => match self.bump() {
                    Some('~' | '=') => {}
                    other => {
                        return self.error(
                            start,
                            format!(
                                "unexpected character after '!' inside braces: {}",
                                quote_char(other.unwrap_or('\u{fffd}'))
                            ),
                        )
                    }
                },
                '"' | '\'' => self.quoted_string(c, start)?,
                '`' => self.raw_string(start)?,
                '{' => return self.error(start, "unexpected left brace '{'"),
                c if is_alpha(c) => self.eat_while(is_alpha_numeric),
                c => return self.error(start, format!("unexpected character inside braces: {}", quote_char(c))),
            }
        }
    }

    /// Inside `[…]` (a range, subquery or duration expression); the `[` has been read.
    fn brackets(&mut self) -> Scan {
        let mut colons = 0;
        loop {
            self.eat_while(is_space);
            let start = self.pos;
            let Some(c) = self.bump() else {
                return self.error(start, "unexpected end of input in duration expression");
            };
            match c {
                ']' => return Ok(()),
                ':' => {
                    colons += 1;
                    if colons > 1 {
                        return self.error(start, "unexpected repeated colon in duration expression");
                    }
                }
                '(' => self.paren_depth += 1,
                ')' => {
                    if self.paren_depth == 0 {
                        return self.error(start, "unexpected right parenthesis ')'");
                    }
                    self.paren_depth -= 1;
                }
                '+' | '-' | '*' | '/' | '%' | '^' | ',' => {}
                '[' => return self.error(start, "unexpected left bracket '['"),
                c if c.is_ascii_digit() || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) => {
                    self.pos = start;
                    self.number_or_duration()?;
                }
                // Function names (`step()`, `min_of(…)`); the grammar checks which.
                c if is_alpha(c) => self.eat_while(is_alpha_numeric),
                c => {
                    return self.error(start, format!("unexpected character in duration expression: {}", quote_char(c)))
                }
            }
        }
    }

    /// A string after its opening quote (at `start`), with Go's escape rules.
    fn quoted_string(&mut self, quote: char, start: usize) -> Scan {
        loop {
            match self.bump() {
                None | Some('\n') => return self.error(start, "unterminated quoted string"),
                Some('\\') => self.escape(quote)?,
                Some(c) if c == quote => return Ok(()),
                Some(_) => {}
            }
        }
    }

    fn escape(&mut self, quote: char) -> Scan {
        let start = self.pos - 1;
        let (digits, base, max) = match self.bump() {
            None => return self.error(start, "escape sequence not terminated"),
            Some(c) if "abfnrtv\\".contains(c) || c == quote => return Ok(()),
            Some('0'..='7') => {
                self.pos -= 1;
                (3, 8, 255)
            }
            Some('x') => (2, 16, 255),
            Some('u') => (4, 16, 0x10ffff),
            Some('U') => (8, 16, 0x10ffff),
            Some(c) => return self.error(start, format!("unknown escape sequence {}", unicode_char(c))),
        };
        let mut value: u32 = 0;
        for _ in 0..digits {
            match self.bump() {
                None => return self.error(start, "escape sequence not terminated"),
                Some(c) => match c.to_digit(base) {
                    Some(d) => value = value * base + d,
                    None if c == quote || c == '\n' => return self.error(start, "escape sequence not terminated"),
                    None => {
                        return self.error(start, format!("illegal character {} in escape sequence", unicode_char(c)))
                    }
                },
            }
        }
        if value > max || (0xd800..0xe000).contains(&value) {
            return self.error(start, "escape sequence is an invalid Unicode code point");
        }
        Ok(())
    }

    /// A raw string after its opening backtick (at `start`).
    fn raw_string(&mut self, start: usize) -> Scan {
        match self.input[self.pos..].find('`') {
            Some(i) => {
                self.pos += i + 1;
                Ok(())
            }
            None => {
                self.pos = self.input.len();
                self.error(start, "unterminated raw string")
            }
        }
    }

    /// A number or duration token; `Ok(true)` for a duration.
    fn number_or_duration(&mut self) -> Scan<bool> {
        let start = self.pos;
        if self.number() {
            return Ok(false);
        }
        if self.duration_rest() {
            let text = &self.input[start..self.pos];
            if let Err(message) = parse_duration_ms(text) {
                return self.error(start, message);
            }
            return Ok(true);
        }
        let text = &self.input[start..self.pos];
        let mut quoted = String::new();
        let _ = write_go_quoted(&mut quoted, text);
        self.error(start, format!("bad number or duration syntax: {quoted}"))
    }

    /// Prometheus's number scan: decimal with one `.` and one exponent,
    /// `_` between digits, or hex; not followed by a letter or digit.
    fn number(&mut self) -> bool {
        let start = self.pos;
        let hex = self.eat("0") && self.eat("xX");
        if hex {
            self.eat("_");
            self.eat_while(|c| c.is_ascii_hexdigit() || c == '_');
        } else {
            let (mut dot, mut exp) = (false, false);
            self.eat(".");
            self.eat("0123456789");
            while let Some(c) = self.peek() {
                match c {
                    '.' => {
                        self.bump();
                        if dot || self.eat("_.") {
                            return false;
                        }
                        dot = true;
                    }
                    'e' | 'E' => {
                        self.bump();
                        if exp {
                            return false;
                        }
                        exp = true;
                        self.eat("+-");
                        if self.eat("._eE") || self.peek().is_none() {
                            return false;
                        }
                    }
                    '_' => {
                        self.bump();
                        if self.eat("._eE") || self.peek().is_none() {
                            return false;
                        }
                    }
                    c if c.is_ascii_digit() => self.eat_while(|c| c.is_ascii_digit()),
                    _ => break,
                }
            }
        }
        self.pos != start && !self.peek().is_some_and(is_alpha_numeric)
    }

    /// The unit part of a duration after its first number: `m`, `ms`,
    /// `h30m`, …; the exact order of units is checked by the parser.
    fn duration_rest(&mut self) -> bool {
        if !self.eat("smhdwy") {
            return false;
        }
        self.eat("s");
        while self.eat("0123456789") {
            self.eat_while(|c| c.is_ascii_digit());
            if !self.eat("smhdw") {
                return false;
            }
            self.eat("s");
        }
        match self.peek() {
            Some(c) if is_alpha_numeric(c) => {
                self.bump();
                false
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(q: &str) -> Option<(usize, String)> {
        first_error(q).map(|e| (e.span.start, e.message))
    }

    #[test]
    fn valid_queries_scan_cleanly() {
        for q in [
            "sum by (job) (rate(x{a=~\"b.*\", c!~'d'}[5m:1m] offset -1h30m @ 100.5))",
            "a </ 2 >/ 3 >= 4 <= 5 != 6 == 7",
            "foo{\"my.metric\", `raw`=\"x\\\"y\\u00e9\\x41\\101\"}",
            "x[step() * 2 + min_of(range(), 1h)] # comment (",
            "0x1F + 1_000 + .5 + 5. + 1e-3 + 1.5e+3 + Inf",
            "{__name__=~\"job:.*\"} and on (a) group_left (b) job:rate5m",
        ] {
            assert_eq!(error(q), None, "{q}");
        }
    }

    #[test]
    fn lexical_errors_use_prometheus_messages() {
        let cases = [
            ("(", 1, "unclosed left parenthesis"),
            ("sum(rate(x[5m])", 15, "unclosed left parenthesis"),
            ("(1))", 3, "unexpected right parenthesis ')'"),
            ("foo]", 3, "unexpected right bracket ']'"),
            ("foo{", 4, "unexpected end of input inside braces"),
            ("foo{a=\"b\"", 9, "unexpected end of input inside braces"),
            ("foo{a~\"b\"}", 5, "unexpected character inside braces: '~'"),
            ("foo{a!b}", 5, "unexpected character after '!' inside braces: 'b'"),
            ("foo{{}", 4, "unexpected left brace '{'"),
            ("foo[5m", 6, "unexpected end of input in duration expression"),
            ("foo[5m:1m:]", 9, "unexpected repeated colon in duration expression"),
            ("foo[5m{}]", 6, "unexpected character in duration expression: '{'"),
            ("1 =~ 1", 2, "unexpected character after '=': '~'"),
            ("1 !~ 1", 2, "unexpected character after '!': '~'"),
            (".", 0, "unexpected character: '.'"),
            ("foo}", 3, "unexpected character: '}'"),
            ("a ; b", 2, "unexpected character: ';'"),
            ("\"abc", 0, "unterminated quoted string"),
            ("x + 'a\nb'", 4, "unterminated quoted string"),
            ("`abc", 0, "unterminated raw string"),
            ("\"\\q\"", 1, "unknown escape sequence U+0071 'q'"),
            ("\"\\xZZ\"", 1, "illegal character U+005A 'Z' in escape sequence"),
            ("\"\\uD800\"", 1, "escape sequence is an invalid Unicode code point"),
            ("2.5.", 0, "bad number or duration syntax: \"2.5.\""),
            ("100..4", 0, "bad number or duration syntax: \"100..\""),
            ("0deadbeef", 0, "bad number or duration syntax: \"0de\""),
            ("foo[1y2y]", 4, "bad number or duration syntax: \"1y2\""),
            ("foo[1.5m]", 4, "not a valid duration string: \"1.5m\""),
            ("foo offset 1m1h", 11, "not a valid duration string: \"1m1h\""),
        ];
        for (q, pos, msg) in cases {
            assert_eq!(error(q), Some((pos, msg.to_string())), "{q:?}");
        }
    }

    #[test]
    fn tokens_are_named_like_prometheus() {
        assert_eq!(describe_token("foo bar", 3), "identifier \"bar\"");
        assert_eq!(describe_token("x", 1), "end of input");
        assert_eq!(describe_token("*1", 0), "<op:*>");
        assert_eq!(describe_token("a == b", 1), "<op:==>");
        assert_eq!(describe_token("x by", 1), "<by>");
        assert_eq!(describe_token("x sum", 1), "<aggr:sum>");
        assert_eq!(describe_token("x and", 1), "<op:and>");
        assert_eq!(describe_token("x 5m", 1), "duration \"5m\"");
        assert_eq!(describe_token("x 1.5", 1), "number \"1.5\"");
        assert_eq!(describe_token("x \"ab\"", 1), "string \"\\\"ab\\\"\"");
        assert_eq!(describe_token("x http_requests_total", 1), "identifier \"http_reque\"...");
        assert_eq!(describe_token("x job:rate", 1), "metric identifier \"job:rate\"");
        assert_eq!(describe_token("x )", 1), "\")\"");
        assert!(is_blank("  # only a comment\n\t"));
        assert!(!is_blank(" 1 "));
    }
}
