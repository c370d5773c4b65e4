//! Functions that work on label sets: `label_replace`, `label_join`,
//! `sort_by_label`, `sort_by_label_desc` and `info`.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::super::engine::{instant_points, instant_samples, merge_same_labelsets, Evaluator, SampleField};
use super::super::output::OutputBuilder;
use super::super::series::{go_labels_string, StepCursor, StepRange, StepSeries, Val};
use super::{arg, is_valid_label_name, string_arg};
use crate::error::{Error, Result};
use crate::model::{Labels, MatchOp, Matcher, METRIC_NAME};
use crate::promql::{Call, Expr, ExprKind, VectorSelector};

pub(crate) fn label_replace(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let dst = string_arg(call, 1)?;
    let replacement = string_arg(call, 2)?;
    let src = string_arg(call, 3)?;
    let pattern = string_arg(call, 4)?;
    let regex = crate::model::anchored_regex(&pattern)
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

/// Labels that identify the target an info metric describes.
const IDENTIFYING_LABELS: [&str; 2] = ["instance", "job"];

/// The `@`/`offset` of the first selector in `e`: the info series are read
/// over the same time window.
fn first_selector(e: &Expr) -> Option<&VectorSelector> {
    match &e.kind {
        ExprKind::VectorSelector(s) => Some(s),
        ExprKind::MatrixSelector(m) => Some(&m.selector),
        ExprKind::Subquery(s) => first_selector(&s.expr),
        ExprKind::Paren(e) => first_selector(e),
        ExprKind::Unary(u) => first_selector(&u.expr),
        ExprKind::Call(c) => c.args.iter().find_map(first_selector),
        ExprKind::Aggregate(a) => a.param.as_deref().and_then(first_selector).or_else(|| first_selector(&a.expr)),
        ExprKind::Binary(b) => first_selector(&b.lhs).or_else(|| first_selector(&b.rhs)),
        ExprKind::Number(_) | ExprKind::String(_) => None,
    }
}

/// `info(v, {selector})`: adds the data labels of matching info series
/// (by default `target_info`), joined on `instance` and `job`.
pub(crate) fn info(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let base_expr = arg(call, 0)?;
    let base = ev.eval_vector(base_expr, r)?;
    let selector: Vec<Matcher> = match call.args.get(1).map(|a| &super::unparen(a).kind) {
        Some(ExprKind::VectorSelector(s)) => s.matchers.clone(),
        Some(_) => return Err(Error::execution("the second argument of info() must be a label selector")),
        None => Vec::new(),
    };
    let mut name_matchers: Vec<Matcher> = selector.iter().filter(|m| m.name == METRIC_NAME).cloned().collect();
    if name_matchers.is_empty() {
        name_matchers.push(Matcher::equal(METRIC_NAME, "target_info"));
    } else if name_matchers.iter().all(|m| matches!(m.op, MatchOp::NotEqual | MatchOp::RegexNoMatch)) {
        // Only exclusions: info metrics are still the `*_info` ones.
        name_matchers.push(Matcher::new(MatchOp::RegexMatch, METRIC_NAME, ".+_info")?);
    }
    let data_matchers: Vec<Matcher> = selector.iter().filter(|m| m.name != METRIC_NAME).cloned().collect();
    let is_info_series = |l: &Labels| {
        let name = l.get(METRIC_NAME).unwrap_or("");
        name_matchers.iter().all(|m| m.matches(name))
    };
    let ignored: Vec<bool> = base.iter().map(|s| is_info_series(&s.labels)).collect();

    // Values of the identifying labels of the series to enrich.
    let mut id_values: Vec<(&str, Vec<String>)> = Vec::new();
    for (s, _) in base.iter().zip(&ignored).filter(|(_, ignored)| !**ignored) {
        for name in IDENTIFYING_LABELS {
            if let Some(v) = s.labels.get(name) {
                match id_values.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, vals)) if !vals.iter().any(|x| x == v) => vals.push(v.to_string()),
                    Some(_) => {}
                    None => id_values.push((name, vec![v.to_string()])),
                }
            }
        }
    }
    let mut infos: Vec<StepSeries> = Vec::new();
    if !id_values.is_empty() {
        let mut matchers: Vec<Matcher> = name_matchers.clone();
        for (name, vals) in &id_values {
            let re = vals.iter().map(|v| regex::escape(v)).collect::<Vec<_>>().join("|");
            matchers.push(Matcher::new(MatchOp::RegexMatch, *name, re)?);
        }
        matchers.extend(data_matchers.iter().cloned());
        let (at, offset) = match first_selector(base_expr) {
            Some(s) => (ev.resolve_at(&s.at), ev.offset_ms(&s.offset)?),
            None => (None, 0),
        };
        let (start, end) = at.map_or((r.start, r.end), |t| (t, t));
        let lookback = ev.lookback();
        for s in ev.select(&matchers, start - lookback + 1 - offset, end - offset)? {
            if !s.histograms.is_empty()
                && !instant_samples(&s, None, 0, lookback, r, SampleField::Value).hpoints.is_empty()
            {
                return Err(Error::execution(format!(
                    "this should be an info metric, with float samples: {}",
                    go_labels_string(&s.labels)
                )));
            }
            // The value is the sample's own timestamp: the newest info wins a conflict.
            let points = instant_points(&s.points, None, 0, lookback, r, SampleField::Time, &[]);
            if !points.is_empty() {
                infos.push(StepSeries::floats(s.labels, false, points));
            }
        }
    }
    combine_with_info(&base, &ignored, &infos, &data_matchers, r).map(Val::Vector)
}

/// The join key of a series for info metric `name`: the name plus the identifying labels.
fn info_signature(name: &str, labels: &Labels) -> Labels {
    let mut sig = Labels::from_pairs(IDENTIFYING_LABELS.iter().filter_map(|n| labels.get(n).map(|v| (*n, v))));
    sig.set(METRIC_NAME, name);
    sig
}

fn combine_with_info(
    base: &[StepSeries],
    ignored: &[bool],
    infos: &[StepSeries],
    data_matchers: &[Matcher],
    r: StepRange,
) -> Result<Vec<StepSeries>> {
    let mut info_names: Vec<&str> = infos.iter().filter_map(|s| s.labels.get(METRIC_NAME)).collect();
    info_names.sort_unstable();
    info_names.dedup();
    let info_sigs: Vec<Labels> =
        infos.iter().map(|s| info_signature(s.labels.get(METRIC_NAME).unwrap_or(""), &s.labels)).collect();
    let base_sigs: Vec<Vec<Labels>> =
        base.iter().map(|s| info_names.iter().map(|n| info_signature(n, &s.labels)).collect()).collect();
    let all_match_empty = data_matchers.iter().all(|m| m.matches(""));
    let mut out = OutputBuilder::new(r.is_instant());
    let mut bcur = StepCursor::new(base.len());
    let mut icur = StepCursor::new(infos.len());
    let mut current: HashMap<&Labels, (usize, f64)> = HashMap::new();
    let mut slots: HashMap<Labels, usize> = HashMap::new();
    for ts in r.iter() {
        current.clear();
        for (j, s) in infos.iter().enumerate() {
            let Some(sample_t) = icur.value_at(j, s, ts) else { continue };
            match current.get(&info_sigs[j]) {
                Some(&(k, t)) if t == sample_t => {
                    return Err(Error::execution(format!(
                        "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                        go_labels_string(&infos[k].labels),
                        (t * 1000.0) as i64,
                        go_labels_string(&s.labels),
                        (sample_t * 1000.0) as i64
                    )));
                }
                Some(&(_, t)) if t > sample_t => {}
                _ => {
                    current.insert(&info_sigs[j], (j, sample_t));
                }
            }
        }
        for (i, s) in base.iter().enumerate() {
            let Some(v) = bcur.value_at(i, s, ts) else { continue };
            let labels = if ignored[i] {
                s.labels.clone()
            } else {
                let mut added = Labels::new();
                let mut matched_any = false;
                for sig in &base_sigs[i] {
                    let Some(&(j, _)) = current.get(sig) else { continue };
                    matched_any = true;
                    for l in infos[j].labels.iter().filter(|l| l.name != METRIC_NAME) {
                        if !data_matchers.is_empty() && !data_matchers.iter().any(|m| m.name == l.name) {
                            continue;
                        }
                        if added.get(&l.name).is_some_and(|v| v != l.value) {
                            return Err(Error::execution(format!("conflicting label: {}", l.name)));
                        }
                        if s.labels.get(&l.name).is_none() {
                            added.set(&l.name, &l.value);
                        }
                    }
                }
                if !matched_any && !all_match_empty {
                    continue;
                }
                let mut labels = s.labels.clone();
                for l in added.iter() {
                    labels.set(&l.name, &l.value);
                }
                labels
            };
            let slot = match slots.get(&labels) {
                Some(&slot) => slot,
                None => {
                    let slot = out.slot(&labels, false);
                    slots.insert(labels, slot);
                    slot
                }
            };
            out.push(slot, ts, v)?;
        }
    }
    Ok(out.finish())
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
