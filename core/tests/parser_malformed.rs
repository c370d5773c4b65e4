//! Malformed queries: each fails with a `ParseError` whose `line:col` is at
//! the problem and whose message is Prometheus's (its lexer's, parser's or
//! type checker's wording); nothing panics, and deep nesting is refused with
//! a clear error.

use promlite::promql::{parse, MAX_DEPTH};

/// `(query, line, column, message)`; columns count characters from 1.
const CASES: &[(&str, usize, usize, &str)] = &[
    // Nothing to parse.
    ("", 1, 1, "no expression found in input"),
    ("  # just a comment\n\n", 1, 1, "no expression found in input"),
    // Lexical errors, with Prometheus's lexer messages.
    (".", 1, 1, "unexpected character: '.'"),
    ("~foo", 1, 1, "unexpected character: '~'"),
    ("a ; b", 1, 3, "unexpected character: ';'"),
    ("foo}", 1, 4, "unexpected character: '}'"),
    ("{a=\"b\"}}", 1, 8, "unexpected character: '}'"),
    ("2.5.", 1, 1, "bad number or duration syntax: \"2.5.\""),
    ("100..4", 1, 1, "bad number or duration syntax: \"100..\""),
    ("0deadbeef", 1, 1, "bad number or duration syntax: \"0de\""),
    ("foo[5mm]", 1, 5, "bad number or duration syntax: \"5mm\""),
    ("sum by (1a) (foo)", 1, 9, "bad number or duration syntax: \"1\""),
    ("foo[1.5m]", 1, 5, "not a valid duration string: \"1.5m\""),
    ("foo offset 1ms5s", 1, 12, "not a valid duration string: \"1ms5s\""),
    ("foo[1m1h]", 1, 5, "not a valid duration string: \"1m1h\""),
    ("1 =~ 1", 1, 3, "unexpected character after '=': '~'"),
    ("1 !~ 1", 1, 3, "unexpected character after '!': '~'"),
    ("foo ! bar", 1, 5, "unexpected character after '!': ' '"),
    ("(", 1, 2, "unclosed left parenthesis"),
    ("((1)", 1, 5, "unclosed left parenthesis"),
    ("rate(x[5m]", 1, 11, "unclosed left parenthesis"),
    ("sum(rate(http_requests_total[5m])\n  by (job)", 2, 11, "unclosed left parenthesis"),
    ("(1))", 1, 4, "unexpected right parenthesis ')'"),
    ("rate(x[5m]))", 1, 12, "unexpected right parenthesis ')'"),
    ("foo[5m)", 1, 7, "unexpected right parenthesis ')'"),
    ("foo]", 1, 4, "unexpected right bracket ']'"),
    ("foo(5m]", 1, 7, "unexpected right bracket ']'"),
    ("foo{", 1, 5, "unexpected end of input inside braces"),
    ("foo{a=\"b\"", 1, 10, "unexpected end of input inside braces"),
    ("foo{a~\"b\"}", 1, 6, "unexpected character inside braces: '~'"),
    ("foo{1a=\"b\"}", 1, 5, "unexpected character inside braces: '1'"),
    ("foo{\"a\"=~1}", 1, 10, "unexpected character inside braces: '1'"),
    ("foo{a!b}", 1, 6, "unexpected character after '!' inside braces: 'b'"),
    ("foo{{}", 1, 5, "unexpected left brace '{'"),
    ("foo[5m", 1, 7, "unexpected end of input in duration expression"),
    ("x[5m:1m:2m]", 1, 8, "unexpected repeated colon in duration expression"),
    ("foo[5m{}]", 1, 7, "unexpected character in duration expression: '{'"),
    ("\"unterminated", 1, 1, "unterminated quoted string"),
    ("foo + 'a\nb'", 1, 7, "unterminated quoted string"),
    ("'\\'", 1, 1, "unterminated quoted string"),
    ("`abc", 1, 1, "unterminated raw string"),
    ("foo{a=\"\\q\"}", 1, 8, "unknown escape sequence U+0071 'q'"),
    ("foo{a=\"\\u12\"}", 1, 8, "escape sequence not terminated"),
    ("foo{a=\"\\777\"}", 1, 8, "escape sequence is an invalid Unicode code point"),
    ("\"\\xZZ\"", 1, 2, "illegal character U+005A 'Z' in escape sequence"),
    // Syntax errors: the unexpected token named as Prometheus names it.
    ("1+", 1, 3, "unexpected end of input"),
    ("foo +\n\n", 3, 1, "unexpected end of input"),
    ("*1", 1, 1, "unexpected <op:*>"),
    ("@@", 1, 1, "unexpected <op:@>"),
    ("foo ==== bar", 1, 7, "unexpected <op:==>"),
    ("foo bar", 1, 5, "unexpected identifier \"bar\""),
    ("1 2", 1, 3, "unexpected number \"2\""),
    ("1e309", 1, 1, "error parsing number: strconv.ParseFloat: parsing \"1e309\": value out of range"),
    ("label_replace(x, \"a\", \"b\" \"c\")", 1, 27, "unexpected string \"\\\"c\\\"\""),
    ("a - on(b) ignoring(c) d", 1, 11, "unexpected <ignoring>"),
    ("foo group_left bar", 1, 5, "unexpected <group_left>"),
    ("sum(x) by (a) by (b)", 1, 15, "unexpected <by>"),
    ("sum(x) without", 1, 15, "unexpected end of input in grouping opts, expected \"(\""),
    ("sum without (a) by (b) (x)", 1, 17, "unexpected <by>, expected \"(\""),
    ("sum without(x)", 1, 15, "unexpected end of input, expected \"(\""),
    ("sum by (job foo) (x)", 1, 13, "unexpected identifier \"foo\" in grouping opts, expected \")\" or \",\""),
    ("foo{a=\"b\" x}", 1, 11, "unexpected identifier \"x\" in label matching, expected \",\" or \"}\""),
    ("foo{a=}", 1, 7, "unexpected \"}\", expected string"),
    ("{a=\"b\"} {c=\"d\"}", 1, 9, "unexpected \"{\""),
    ("foo offset", 1, 11, "unexpected end of input in offset"),
    ("foo[5m] offset -", 1, 17, "unexpected end of input in offset"),
    ("foo @", 1, 6, "unexpected end of input in @"),
    ("foo @ start", 1, 12, "unexpected end of input in @, expected \"(\""),
    ("topk(, x)", 1, 6, "unexpected \",\""),
    ("1 < bool", 1, 9, "unexpected end of input"),
    // Errors raised while building the tree, with Prometheus's messages.
    ("topk(1,)", 1, 7, "trailing commas not allowed in function call args"),
    ("nonexistent_function(foo)", 1, 1, "unknown function with name \"nonexistent_function\""),
    ("Rate(foo[5m])", 1, 1, "unknown function with name \"Rate\""),
    ("sum()", 1, 1, "no arguments for aggregate expression provided"),
    ("topk(x)", 1, 1, "wrong number of arguments for aggregate expression provided, expected 2, got 1"),
    ("sum(foo, bar)", 1, 1, "wrong number of arguments for aggregate expression provided, expected 1, got 2"),
    (
        "1 offset 1d",
        1,
        1,
        "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    ),
    ("foo offset 1s offset 2s", 1, 1, "offset may not be set multiple times"),
    ("foo offset 5m @ 1 @ 2", 1, 1, "@ <timestamp> may not be set multiple times"),
    ("foo @ -Inf", 1, 7, "timestamp out of bounds for @ modifier: -Inf"),
    ("foo @ NaN", 1, 7, "timestamp out of bounds for @ modifier: NaN"),
    ("x[1m][2m]", 1, 6, "ranges only allowed for vector selectors"),
    ("(foo)[5m]", 1, 6, "ranges only allowed for vector selectors"),
    ("foo offset 5m[5m]", 1, 14, "no offset modifiers allowed before range"),
    ("foo @ 100 [5m]", 1, 11, "no @ modifiers allowed before range"),
    ("foo[-5m]", 1, 5, "duration must be greater than 0"),
    ("foo[0]", 1, 5, "duration must be greater than 0"),
    ("foo[5m:-1m]", 1, 8, "duration must be greater than 0"),
    ("foo[5m / 0]", 1, 8, "division by zero"),
    ("x offset 1e30", 1, 10, "duration out of range"),
    ("foo[5m:1s] anchored", 1, 1, "anchored modifier is not supported for subqueries"),
    ("1 anchored", 1, 1, "anchored modifier not implemented"),
    ("(rate(x[1m])) smoothed", 1, 1, "smoothed modifier not implemented"),
    ("foo smoothed anchored", 1, 1, "anchored and smoothed modifiers cannot be used together"),
    ("foo{job=\"api\",\n    instance=~\"a(b\"}", 2, 5, "invalid regular expression \"a(b\": unclosed group"),
    // Type errors, with Prometheus's messages.
    ("rate(foo)", 1, 6, "expected type range vector in call to function \"rate\", got instant vector"),
    ("abs(\"x\")", 1, 5, "expected type instant vector in call to function \"abs\", got string"),
    ("scalar(foo[1m])", 1, 8, "expected type instant vector in call to function \"scalar\", got range vector"),
    ("label_replace(up, \"a\")", 1, 1, "expected 5 argument(s) in call to \"label_replace\", got 2"),
    ("rate(foo[5m], 1)", 1, 1, "expected 1 argument(s) in call to \"rate\", got 2"),
    ("sum(foo[5m])", 1, 5, "expected type instant vector in aggregation expression, got range vector"),
    ("count_values(1, foo)", 1, 14, "expected type string in aggregation parameter, got scalar"),
    ("time() == time()", 1, 8, "comparisons between scalars must use BOOL modifier"),
    ("foo + bool bar", 1, 5, "bool modifier can only be used on comparison operators"),
    ("1 and foo", 1, 1, "set operator \"and\" not allowed in binary scalar expression"),
    ("foo == bool on(a) 1", 1, 1, "vector matching only allowed between instant vectors"),
    ("foo and on(a) group_left bar", 1, 1, "no grouping allowed for \"and\" operation"),
    ("foo * on(a) group_left(a) bar", 1, 5, "label \"a\" must not occur in ON and GROUP clause at once"),
    ("foo[5m] * 2", 1, 1, "binary expression must contain only scalar and instant vector types"),
    (
        "-foo[1m]",
        1,
        1,
        "unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
    ),
    ("(foo)[1m:][1m]", 1, 11, "ranges only allowed for vector selectors"),
    ("foo[5m][1h:]", 1, 1, "subquery is only allowed on instant vector, got matrix instead"),
    ("{}", 1, 1, "vector selector must contain at least one non-empty matcher"),
    ("sum(\n  {__name__=~\".*\"}\n)", 2, 3, "vector selector must contain at least one non-empty matcher"),
    ("foo{__name__=\"bar\"}", 1, 1, "metric name must not be set twice: \"foo\" or \"bar\""),
    (
        "sum(rate(x[5m]))\n  /\n  on(job) group_left(job) y",
        2,
        3,
        "label \"job\" must not occur in ON and GROUP clause at once",
    ),
];

#[test]
fn malformed_queries_report_prometheus_messages_at_the_problem() {
    let mut failures = Vec::new();
    for &(query, line, col, message) in CASES {
        match parse(query) {
            Ok(e) => failures.push(format!("{query:?} parsed as {e}")),
            Err(err) => {
                let want = format!("{line}:{col}: parse error: {message}");
                if err.to_string() != want {
                    failures.push(format!("{query:?}\n    want {want}\n    got  {err}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

fn depth_error(query: &str) -> String {
    parse(query).expect_err("too deep").message
}

#[test]
fn deep_nesting_is_refused_with_a_clear_error() {
    let too_deep = format!("expression nests deeper than the maximum of {MAX_DEPTH} levels");
    let n = 10_000;
    // Brackets are counted before the grammar recurses into them.
    let parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let err = parse(&parens).unwrap_err();
    assert_eq!(err.message, too_deep);
    assert_eq!(err.line_col(), (1, MAX_DEPTH + 1), "points at the first bracket too many");
    assert_eq!(depth_error(&format!("{}x{}", "sum(".repeat(n), ")".repeat(n))), too_deep);
    assert_eq!(depth_error(&format!("x{}", "[1m:]".repeat(n))), too_deep);
    assert_eq!(depth_error(&format!("x[{}1m{}]", "(".repeat(n), ")".repeat(n))), too_deep);
    // Inside a string brackets are text; the regex engine has its own limit.
    assert!(depth_error(&format!("{{a=~\"{}\"}}", "(".repeat(n))).starts_with("invalid regular expression"));
    // Operator chains build trees as tall as they are long.
    assert_eq!(depth_error(&format!("{}1", "-".repeat(n))), too_deep);
    assert_eq!(depth_error(&format!("1{}", "+1".repeat(n))), too_deep);
    assert_eq!(depth_error(&format!("2{}", "^2".repeat(n))), too_deep);
    assert_eq!(depth_error(&format!("x[1m{}]", "+1m".repeat(n))), too_deep);
    // Nesting within the limit parses, prints and re-parses.
    let ok = format!("{}1{}", "(".repeat(MAX_DEPTH / 2), ")".repeat(MAX_DEPTH / 2));
    assert_eq!(parse(&parse(&ok).unwrap().to_string()).unwrap(), parse(&ok).unwrap());
    let chain = format!("a{}", " or a".repeat(MAX_DEPTH / 2));
    assert!(parse(&chain).is_ok());
}

#[test]
fn odd_inputs_fail_cleanly() {
    let long_name = "a".repeat(100_000);
    let odd = [
        "\0".to_string(),
        "foo\0bar".to_string(),
        "métrique".to_string(),
        "foo{a=\"b\"} # ünïcödé\n+ 😀".to_string(),
        "\u{feff}foo".to_string(),
        format!("{long_name}{{"),
        format!("\"{long_name}"),
        "0x".to_string(),
        "1e".to_string(),
        "1_".to_string(),
        "foo[9999999999999999999999999y]".to_string(),
        "foo @ 99999999999999999999999999".to_string(),
        "x{a=~\"[\"}".to_string(),
        "{a=~\"(a{1000}){1000}\"}".to_string(),
    ];
    for q in &odd {
        let err = parse(q).expect_err(q);
        let (line, col) = err.line_col();
        assert!(line >= 1 && col >= 1, "{q:?}: {err}");
        assert!(!err.message.is_empty());
    }
    // Multi-byte characters before the problem count as one column each.
    let err = parse("\"é\" + 'ü' + ~").unwrap_err();
    assert_eq!(err.to_string(), "1:13: parse error: unexpected character: '~'");
}
