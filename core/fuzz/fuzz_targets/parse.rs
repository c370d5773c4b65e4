//! Fuzzes `promql::parse`: no input may panic, and whatever parses must print
//! (and pretty-print) to PromQL that parses back to the same canonical text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promlite::promql::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let Ok(expr) = parse(query) else { return };
    let printed = expr.to_string();
    let reparsed = parse(&printed).unwrap_or_else(|e| panic!("{query:?} printed as {printed:?}: {e}"));
    assert_eq!(reparsed.to_string(), printed, "printing {query:?} is not stable");
    let pretty = expr.pretty();
    let from_pretty = parse(&pretty).unwrap_or_else(|e| panic!("{query:?} pretty-printed as {pretty:?}: {e}"));
    assert_eq!(from_pretty.to_string(), printed, "pretty form of {query:?} reads back differently");
});
