//! Warnings and infos a query returns next to its value, worded as Prometheus
//! words them (clients and the conformance tests compare the text).

use crate::value::format_value;

/// Collected annotations, each message at most once, in the order first seen.
#[derive(Debug, Default, Clone)]
pub(crate) struct Annotations {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl Annotations {
    pub fn warn(&mut self, msg: String) {
        let msg = format!("PromQL warning: {msg}");
        if !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    pub fn info(&mut self, msg: String) {
        let msg = format!("PromQL info: {msg}");
        if !self.infos.contains(&msg) {
            self.infos.push(msg);
        }
    }

    /// `rate`/`increase` over a series whose name says it is not a counter.
    pub fn possible_non_counter(&mut self, metric: &str) {
        self.info(format!(
            "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
            go_quote_str(metric)
        ));
    }

    pub fn invalid_quantile(&mut self, q: f64) {
        self.warn(format!("quantile value should be between 0 and 1, got {}", go_g(q)));
    }

    pub fn invalid_ratio(&mut self, r: f64, capped: f64) {
        self.warn(format!("ratio value should be between -1 and 1, got {}, capping to {}", go_g(r), go_g(capped)));
    }

    pub fn bad_bucket_label(&mut self, metric: &str, le: &str) {
        self.warn(format!(
            "bucket label \"le\" is missing or has a malformed value of {} for metric name {}",
            go_quote_str(le),
            go_quote_str(metric)
        ));
    }

    pub fn forced_monotonicity(&mut self, metric: &str) {
        self.info(format!(
            "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {}",
            go_quote_str(metric)
        ));
    }

    pub fn sort_in_range_query(&mut self, func: &str) {
        let _ = func;
        self.warn("sort is ineffective for range queries since results are always ordered by labels".to_string());
    }
}

/// Go's `%q` of a string.
fn go_quote_str(s: &str) -> String {
    super::series::go_quote(s)
}

/// Go's `%g` of a float for the simple values annotations carry.
pub(crate) fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        // Go switches to exponent form for small and huge values: 1e-05, 1e+21.
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format_value(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_prefixed_and_deduplicated() {
        let mut a = Annotations::default();
        a.possible_non_counter("foo");
        a.possible_non_counter("foo");
        a.invalid_quantile(f64::NAN);
        a.invalid_ratio(1.1, 1.0);
        assert_eq!(
            a.infos,
            vec!["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\""]
        );
        assert_eq!(
            a.warnings,
            vec![
                "PromQL warning: quantile value should be between 0 and 1, got NaN",
                "PromQL warning: ratio value should be between -1 and 1, got 1.1, capping to 1"
            ]
        );
    }

    #[test]
    fn go_g_formats_like_go() {
        assert_eq!(go_g(1.1), "1.1");
        assert_eq!(go_g(-1.0), "-1");
        assert_eq!(go_g(0.00001), "1e-05");
        assert_eq!(go_g(f64::INFINITY), "+Inf");
    }
}
