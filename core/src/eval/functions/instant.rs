//! Functions over instant vectors and scalars: math, clamping, rounding,
//! dates, `timestamp`, `scalar`/`vector`, `absent`, sorting, and the query
//! bounds (`time`, `step`, `start`, `end`, `range`).

use super::super::engine::{merge_same_labelsets, Evaluator, SampleField};
use super::super::series::{StepRange, StepSeries, Val};
use super::{absent_labels, arg, unparen};
use crate::error::Result;
use crate::model::{Labels, Point};
use crate::promql::{Call, ExprKind};

/// Applies `f` to every sample of the single vector argument; drops the name.
pub(crate) fn map_samples(ev: &mut Evaluator, call: &Call, r: StepRange, f: fn(f64) -> f64) -> Result<Val> {
    map_with_params(ev, call, r, |v, _| Some(f(v)))
}

/// Evaluates the vector argument (first) and the scalar arguments (the rest),
/// then maps each float sample with its step's scalar values; `None` drops
/// the sample. Histogram samples are dropped, as Prometheus does.
fn map_with_params(
    ev: &mut Evaluator,
    call: &Call,
    r: StepRange,
    f: impl Fn(f64, &[f64]) -> Option<f64>,
) -> Result<Val> {
    let mut series = ev.eval_vector(arg(call, 0)?, r)?;
    let mut params = Vec::with_capacity(call.args.len().saturating_sub(1));
    for a in &call.args[1..] {
        params.push(ev.eval_scalar(a, r)?);
    }
    let mut step_params = vec![0.0; params.len()];
    for s in &mut series {
        s.hpoints.clear();
        s.points.retain_mut(|p| {
            let k = r.index(p.t);
            for (sp, values) in step_params.iter_mut().zip(&params) {
                *sp = values[k];
            }
            match f(p.v, &step_params) {
                Some(v) => {
                    p.v = v;
                    true
                }
                None => false,
            }
        });
        ev.drop_name(s);
    }
    series.retain(|s| !s.points.is_empty());
    if !ev.delayed_name_removal() {
        series = merge_same_labelsets(series)?;
    }
    Ok(Val::Vector(series))
}

/// Go's `math.Max`: NaN wins, then +Inf.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN wins, then -Inf.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn clamp_value(v: f64, min: f64, max: f64) -> Option<f64> {
    // An empty interval yields nothing at that step.
    if max < min {
        return None;
    }
    Some(go_max(min, go_min(max, v)))
}

pub(crate) fn clamp(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    map_with_params(ev, call, r, |v, p| clamp_value(v, p[0], p[1]))
}

pub(crate) fn clamp_max(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    map_with_params(ev, call, r, |v, p| clamp_value(v, f64::NEG_INFINITY, p[0]))
}

pub(crate) fn clamp_min(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    map_with_params(ev, call, r, |v, p| clamp_value(v, p[0], f64::INFINITY))
}

pub(crate) fn round(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    map_with_params(ev, call, r, |v, p| {
        // Rounding to the inverse avoids some floating point noise; ties round up.
        let inverse = 1.0 / p.first().copied().unwrap_or(1.0);
        Some((v * inverse + 0.5).floor() / inverse)
    })
}

pub(crate) fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

/// `timestamp(v)`: the time of each sample in seconds. For a selector
/// argument that is the stored sample's own timestamp.
pub(crate) fn timestamp(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let a = unparen(arg(call, 0)?);
    let mut series = match &a.kind {
        ExprKind::VectorSelector(sel) => ev.vector_selector(sel, r, SampleField::Time)?,
        _ => {
            let mut s = ev.eval_vector(a, r)?;
            for series in &mut s {
                series.points.iter_mut().for_each(|p| p.v = p.t as f64 / 1000.0);
                if !series.hpoints.is_empty() {
                    let hpoints = std::mem::take(&mut series.hpoints);
                    series.points.extend(hpoints.iter().map(|h| Point::new(h.t, h.t as f64 / 1000.0)));
                    series.points.sort_by_key(|p| p.t);
                }
            }
            s
        }
    };
    for s in &mut series {
        ev.drop_name(s);
    }
    if !ev.delayed_name_removal() {
        series = merge_same_labelsets(series)?;
    }
    Ok(Val::Vector(series))
}

/// A scalar that is the same at every step.
fn constant(r: StepRange, v: f64) -> Val {
    Val::Scalar(vec![v; r.len()])
}

pub(crate) fn time(_: &mut Evaluator, _: &Call, r: StepRange) -> Result<Val> {
    Ok(Val::Scalar(r.iter().map(|t| t as f64 / 1000.0).collect()))
}

pub(crate) fn pi(_: &mut Evaluator, _: &Call, r: StepRange) -> Result<Val> {
    Ok(constant(r, std::f64::consts::PI))
}

pub(crate) fn step(ev: &mut Evaluator, _: &Call, r: StepRange) -> Result<Val> {
    Ok(constant(r, ev.durations.step_ms as f64 / 1000.0))
}

pub(crate) fn range(ev: &mut Evaluator, _: &Call, r: StepRange) -> Result<Val> {
    Ok(constant(r, ev.durations.range_ms as f64 / 1000.0))
}

pub(crate) fn start(ev: &mut Evaluator, _: &Call, r: StepRange) -> Result<Val> {
    Ok(constant(r, ev.query_start as f64 / 1000.0))
}

pub(crate) fn end(ev: &mut Evaluator, _: &Call, r: StepRange) -> Result<Val> {
    Ok(constant(r, ev.query_end as f64 / 1000.0))
}

fn scalar_pair(ev: &mut Evaluator, call: &Call, r: StepRange, f: fn(f64, f64) -> f64) -> Result<Val> {
    let a = ev.eval_scalar(arg(call, 0)?, r)?;
    let b = ev.eval_scalar(arg(call, 1)?, r)?;
    Ok(Val::Scalar(a.iter().zip(&b).map(|(x, y)| f(*x, *y)).collect()))
}

pub(crate) fn min_of(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    scalar_pair(ev, call, r, go_min)
}

pub(crate) fn max_of(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    scalar_pair(ev, call, r, go_max)
}

/// `scalar(v)`: the single float sample's value, NaN when there is not
/// exactly one (histograms do not count).
pub(crate) fn scalar(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let series = ev.eval_vector(arg(call, 0)?, r)?;
    let mut out = vec![f64::NAN; r.len()];
    let mut count = vec![0u32; r.len()];
    for s in &series {
        for p in &s.points {
            let k = r.index(p.t);
            count[k] += 1;
            out[k] = if count[k] == 1 { p.v } else { f64::NAN };
        }
    }
    Ok(Val::Scalar(out))
}

pub(crate) fn vector(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let values = ev.eval_scalar(arg(call, 0)?, r)?;
    let points = values.iter().enumerate().map(|(k, v)| Point::new(r.ts(k), *v)).collect();
    Ok(Val::Vector(vec![StepSeries::floats(Labels::new(), false, points)]))
}

/// `absent(v)`: 1 at the steps where `v` has no sample.
pub(crate) fn absent(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let a = arg(call, 0)?;
    let series = ev.eval_vector(a, r)?;
    let mut present = vec![false; r.len()];
    for s in &series {
        for t in s.points.iter().map(|p| p.t).chain(s.hpoints.iter().map(|p| p.t)) {
            present[r.index(t)] = true;
        }
    }
    let points: Vec<Point> =
        r.iter().enumerate().filter(|(k, _)| !present[*k]).map(|(_, t)| Point::new(t, 1.0)).collect();
    if points.is_empty() {
        return Ok(Val::Vector(Vec::new()));
    }
    Ok(Val::Vector(vec![StepSeries::floats(absent_labels(a), false, points)]))
}

/// Orders the samples of an instant evaluation; over a range the order is
/// always by labels, which Prometheus points out with a warning. Histogram
/// samples have no order and are dropped.
fn sort_by_value(ev: &mut Evaluator, call: &Call, r: StepRange, descending: bool) -> Result<Val> {
    let mut series = ev.eval_vector(arg(call, 0)?, r)?;
    if series.iter().any(|s| !s.hpoints.is_empty()) {
        series.iter_mut().for_each(|s| s.hpoints.clear());
        series.retain(|s| !s.points.is_empty());
    }
    if !r.is_instant() {
        ev.annotations.sort_in_range_query(&call.func);
        return Ok(Val::Vector(series));
    }
    series.sort_by(|a, b| {
        let (x, y) = (a.points[0].v, b.points[0].v);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ if descending => y.partial_cmp(&x).expect("not NaN"),
            _ => x.partial_cmp(&y).expect("not NaN"),
        }
    });
    Ok(Val::Vector(series))
}

pub(crate) fn sort(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    sort_by_value(ev, call, r, false)
}

pub(crate) fn sort_desc(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    sort_by_value(ev, call, r, true)
}

/// `start_timestamp(v)` needs per-sample start timestamps, which promlite
/// does not store: the result is always empty.
/// `start_timestamp(v)`: the start timestamp (seconds; 0 when it has none)
/// of each sample an instant selector picks. Only samples read straight
/// from storage carry one, so any other expression gives nothing.
pub(crate) fn start_timestamp(ev: &mut Evaluator, call: &Call, r: StepRange) -> Result<Val> {
    let a = unparen(arg(call, 0)?);
    let ExprKind::VectorSelector(sel) = &a.kind else {
        let _ = ev.eval_vector(a, r)?;
        return Ok(Val::Vector(Vec::new()));
    };
    let mut series = ev.vector_selector(sel, r, SampleField::StartTime)?;
    for s in &mut series {
        ev.drop_name(s);
    }
    if !ev.delayed_name_removal() {
        series = merge_same_labelsets(series)?;
    }
    Ok(Val::Vector(series))
}

// ---------------------------------------------------------------------------
// Dates (UTC)

/// Year, month (1-12) and day (1-31) of a day number counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm, over 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub(crate) fn days_in(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The calendar fields date functions read, for a Unix time in seconds.
pub(crate) struct Date {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub weekday: u32,
    pub yearday: u32,
    pub hour: u32,
    pub minute: u32,
}

fn date_of(secs: i64) -> Date {
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let yearday = (1..month).map(|m| days_in(year, m)).sum::<u32>() + day;
    Date {
        year,
        month,
        day,
        weekday: (days + 4).rem_euclid(7) as u32,
        yearday,
        hour: (in_day / 3600) as u32,
        minute: ((in_day / 60) % 60) as u32,
    }
}

/// Converts a float to seconds the way Go's `int64(f)` does on amd64:
/// truncation, with NaN and out-of-range values becoming the minimum int64.
fn go_int64(v: f64) -> i64 {
    if v.is_nan() || !(i64::MIN as f64..i64::MAX as f64).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// Date functions take a vector of timestamps, or default to `vector(time())`.
pub(crate) fn date_function(ev: &mut Evaluator, call: &Call, r: StepRange, f: fn(&Date) -> f64) -> Result<Val> {
    if call.args.is_empty() {
        let points = r.iter().map(|t| Point::new(t, f(&date_of(t.div_euclid(1000))))).collect();
        return Ok(Val::Vector(vec![StepSeries::floats(Labels::new(), false, points)]));
    }
    map_with_params(ev, call, r, |v, _| Some(f(&date_of(go_int64(v)))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_the_calendar() {
        let d = date_of(0);
        assert_eq!((d.year, d.month, d.day, d.weekday, d.yearday, d.hour), (1970, 1, 1, 4, 1, 0));
        // 2024-02-29T13:45:00Z, a Thursday and day 60 of a leap year.
        let d = date_of(1_709_214_300);
        assert_eq!((d.year, d.month, d.day, d.weekday, d.yearday, d.hour, d.minute), (2024, 2, 29, 4, 60, 13, 45));
        assert_eq!(days_in(2024, 2), 29);
        assert_eq!(days_in(2100, 2), 28);
        let before_epoch = date_of(-1);
        assert_eq!((before_epoch.year, before_epoch.month, before_epoch.day, before_epoch.hour), (1969, 12, 31, 23));
    }

    #[test]
    fn clamp_and_go_min_max_propagate_nan() {
        assert_eq!(clamp_value(5.0, 0.0, 3.0), Some(3.0));
        assert_eq!(clamp_value(5.0, 3.0, 0.0), None);
        assert!(clamp_value(f64::NAN, 0.0, 3.0).unwrap().is_nan());
        assert!(go_min(1.0, f64::NAN).is_nan());
        assert_eq!(sgn(-0.5), -1.0);
    }
}
