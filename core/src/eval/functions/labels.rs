//! Functions that work on label sets: `label_replace`, `label_join`,
//! `sort_by_label`, `sort_by_label_desc` and `info`.

use std::cmp::Ordering;

use regex::Regex;

use super::super::engine::{merge_same_labelsets, Evaluator};
use super::super::series::{StepRange, Val};
use super::{arg, is_valid_label_name, string_arg};
use crate::error::{Error, Result};
use crate::model::{Labels, METRIC_NAME};
use crate::promql::Call;

pub(crate) fn label_replace(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let dst = string_arg(call, 1)?;
    let replacement = string_arg(call, 2)?;
    let src = string_arg(call, 3)?;
    let pattern = string_arg(call, 4)?;
    let regex = Regex::new(&format!("^(?s:{pattern})$"))
        .map_err(|_| Error::execution(format!("invalid regular expression in label_replace(): {pattern}")))?;
    if !is_valid_label_name(&dst) {
        return Err(Error::execution(format!("invalid destination label name in label_replace(): {dst}")));
    }
    let mut series = ev.eval_vector(arg(call, 0)?, r)?;
    for s in &mut series {
        let value = s.labels.get(&src).unwrap_or("").to_string();
        if let Some(caps) = regex.captures(&value) {
            let mut out = String::new();
            caps.expand(&replacement, &mut out);
            s.labels.set(&dst, &out);
            // Writing the name back keeps it.
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    Ok(Val::Vector(merge_same_labelsets(series)?))
}

pub(crate) fn label_join(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let dst = string_arg(call, 1)?;
    let sep = string_arg(call, 2)?;
    let mut sources = Vec::new();
    for i in 3..call.args.len() {
        let src = string_arg(call, i)?;
        if !is_valid_label_name(&src) {
            return Err(Error::execution(format!("invalid source label name in label_join(): {src}")));
        }
        sources.push(src);
    }
    if !is_valid_label_name(&dst) {
        return Err(Error::execution(format!("invalid destination label name in label_join(): {dst}")));
    }
    let mut series = ev.eval_vector(arg(call, 0)?, r)?;
    for s in &mut series {
        let joined = sources.iter().map(|src| s.labels.get(src).unwrap_or("")).collect::<Vec<_>>().join(&sep);
        s.labels.set(&dst, &joined);
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    Ok(Val::Vector(merge_same_labelsets(series)?))
}

/// Natural order of two strings: runs of digits compare as numbers, the rest
/// as text (the `natsort` order Prometheus uses for `sort_by_label`).
pub(crate) fn natural_less(a: &str, b: &str) -> bool {
    let ca = chunks(a);
    let cb = chunks(b);
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else { return false };
        let last_a = i == ca.len() - 1;
        let last_b = i == cb.len() - 1;
        match (parse_int(x), parse_int(y)) {
            (Some(nx), Some(ny)) if nx != ny => return nx < ny,
            (Some(_), Some(_)) => {}
            _ if x != y => return x < y,
            _ => {}
        }
        if last_a {
            return true;
        }
        if last_b {
            return false;
        }
    }
    false
}

fn parse_int(s: &str) -> Option<i64> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Splits into alternating runs of ASCII digits and non-digits.
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut digit: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let d = c.is_ascii_digit();
        if digit.is_some_and(|prev| prev != d) {
            out.push(&s[start..i]);
            start = i;
        }
        digit = Some(d);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn compare_by_labels(a: &Labels, b: &Labels, names: &[String]) -> Ordering {
    for name in names {
        let (x, y) = (a.get(name).unwrap_or(""), b.get(name).unwrap_or(""));
        if x == y {
            continue;
        }
        return if natural_less(x, y) { Ordering::Less } else { Ordering::Greater };
    }
    a.cmp(b)
}

fn sort_labels(ev: &mut Evaluator, call: &Call, r: StepRange, descending: bool) -> Result<Val> {
    let names: Vec<String> = (1..call.args.len()).map(|i| string_arg(call, i)).collect::<Result<_>>()?;
    let mut series = ev.eval_vector(arg(call, 0)?, r)?;
    if !r.is_instant() {
        ev.annotations.sort_in_range_query(&call.func);
        return Ok(Val::Vector(series));
    }
    series.sort_by(|a, b| {
        let o = compare_by_labels(&a.labels, &b.labels, &names);
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    Ok(Val::Vector(series))
}

pub(crate) fn sort_by_label(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    sort_labels(ev, call, r, false)
}

pub(crate) fn sort_by_label_desc(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    sort_labels(ev, call, r, true)
}

pub(crate) fn info(_: &mut Evaluator, call: &Call, _: StepRange) -> Result<Val> {
    Err(Error::execution(format!("function {:?} is not supported yet", call.func)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_digit_runs_as_numbers() {
        assert!(natural_less("a2", "a10"));
        assert!(!natural_less("a10", "a2"));
        assert!(natural_less("abc", "abd"));
        assert!(natural_less("a", "a1"), "a prefix sorts first");
        assert_eq!(chunks("ab12c3"), vec!["ab", "12", "c", "3"]);
    }
}
