//! Evaluation of duration expressions (`[5m]`, `[step()*2]`, `offset min_of(range(), 1h)`).
//!
//! Arithmetic happens in seconds as floating point, like Prometheus; the
//! result is rounded to milliseconds.

use crate::error::{Error, Result};
use crate::promql::{BinaryOp, DurationExpr};

/// What `step()` and `range()` resolve to: the top-level query's step and
/// `end - start`, both in milliseconds (0 for instant queries).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DurationContext {
    pub step_ms: i64,
    pub range_ms: i64,
}

impl DurationContext {
    /// Value of `d` in milliseconds.
    pub fn eval_ms(&self, d: &DurationExpr) -> Result<i64> {
        let secs = self.eval_secs(d)?;
        if !secs.is_finite() {
            return Err(Error::execution(format!("duration expression evaluates to an invalid value: {secs}")));
        }
        let ms = (secs * 1000.0).round();
        if ms.abs() >= i64::MAX as f64 {
            return Err(Error::execution("duration out of range"));
        }
        Ok(ms as i64)
    }

    /// A range or subquery step: must be positive.
    pub fn eval_positive_ms(&self, d: &DurationExpr, what: &str) -> Result<i64> {
        let ms = self.eval_ms(d)?;
        if ms <= 0 {
            return Err(Error::execution(format!("{what} must be greater than 0, got {}", format_ms(ms))));
        }
        Ok(ms)
    }

    fn eval_secs(&self, d: &DurationExpr) -> Result<f64> {
        Ok(match d {
            DurationExpr::Literal(ms) => *ms as f64 / 1000.0,
            DurationExpr::Number(s) => *s,
            DurationExpr::Step => self.step_ms as f64 / 1000.0,
            DurationExpr::Range => self.range_ms as f64 / 1000.0,
            DurationExpr::Unary { neg, expr } => {
                let v = self.eval_secs(expr)?;
                if *neg {
                    -v
                } else {
                    v
                }
            }
            DurationExpr::Paren(e) => self.eval_secs(e)?,
            DurationExpr::MinMax { max, a, b } => {
                let (a, b) = (self.eval_secs(a)?, self.eval_secs(b)?);
                if *max {
                    a.max(b)
                } else {
                    a.min(b)
                }
            }
            DurationExpr::Binary { op, lhs, rhs } => {
                let (l, r) = (self.eval_secs(lhs)?, self.eval_secs(rhs)?);
                match op {
                    BinaryOp::Add => l + r,
                    BinaryOp::Sub => l - r,
                    BinaryOp::Mul => l * r,
                    BinaryOp::Div => {
                        if r == 0.0 {
                            return Err(Error::execution("division by zero in duration expression"));
                        }
                        l / r
                    }
                    BinaryOp::Mod => {
                        if r == 0.0 {
                            return Err(Error::execution("modulo by zero in duration expression"));
                        }
                        l % r
                    }
                    BinaryOp::Pow => l.powf(r),
                    other => {
                        return Err(Error::execution(format!(
                            "operator {:?} is not allowed in duration expressions",
                            other.as_str()
                        )))
                    }
                }
            }
        })
    }
}

/// A millisecond duration in Prometheus's notation (`1m30s`, `500ms`, `-5m`).
pub(crate) fn format_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    for (unit, len) in [
        ("y", 31_536_000_000u64),
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if rest >= len {
            out.push_str(&format!("{}{unit}", rest / len));
            rest %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::{parse, ExprKind};

    fn range_of(q: &str) -> DurationExpr {
        match parse(q).unwrap().kind {
            ExprKind::MatrixSelector(m) => m.range,
            ExprKind::Subquery(s) => s.range,
            k => panic!("not a range: {k:?}"),
        }
    }

    #[test]
    fn arithmetic_is_in_seconds() {
        let ctx = DurationContext { step_ms: 15_000, range_ms: 3_600_000 };
        assert_eq!(ctx.eval_ms(&range_of("x[2m*(10+5)]")).unwrap(), 1_800_000);
        assert_eq!(ctx.eval_ms(&range_of("x[1h30m % 1h]")).unwrap(), 1_800_000);
        assert_eq!(ctx.eval_ms(&range_of("x[((((8 - 2) / 3) * 7s) % 4) + 8000ms]")).unwrap(), 10_000);
        assert_eq!(ctx.eval_ms(&range_of("x[step()+1ms]")).unwrap(), 15_001);
        assert_eq!(ctx.eval_ms(&range_of("x[max_of(min_of(range(), 1h), 1ms)]")).unwrap(), 3_600_000);
        assert!(ctx.eval_positive_ms(&range_of("x[-5m+5m]"), "range").is_err());
    }

    #[test]
    fn formats_durations_like_prometheus() {
        assert_eq!(format_ms(90_000), "1m30s");
        assert_eq!(format_ms(-300_000), "-5m");
        assert_eq!(format_ms(1), "1ms");
    }
}
