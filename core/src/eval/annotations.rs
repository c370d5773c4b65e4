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

    /// `rate`/`increase` met a sample whose start timestamp overlaps the previous sample.
    pub fn start_time_overlap(&mut self, metric: &str) {
        self.warn(format!(
            "sample has start time that overlaps with previous sample timestamp for metric {}",
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
        self.warn(with_metric_name(
            format!("bucket label \"le\" is missing or has a malformed value of {}", go_quote_str(le)),
            metric,
        ));
    }

    pub fn forced_monotonicity(&mut self, metric: &str) {
        self.info(with_metric_name(
            "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)".into(),
            metric,
        ));
    }

    /// A range or binary operation met floats and histograms where it cannot mix them.
    pub fn mixed_floats_histograms(&mut self, metric: &str) {
        self.warn(format!("encountered a mix of histograms and floats for metric name {}", go_quote_str(metric)));
    }

    /// `sum`/`avg` met floats and histograms in one group.
    pub fn mixed_floats_histograms_aggregation(&mut self) {
        self.warn("encountered a mix of histograms and floats for aggregation".to_string());
    }

    /// A float-only range function skipped the histograms of a mixed window.
    pub fn histogram_ignored_in_mixed_range(&mut self, metric: &str) {
        self.info(format!(
            "ignored histograms in a range containing both floats and histograms for metric name {}",
            go_quote_str(metric)
        ));
    }

    /// A float-only aggregation (`min`, `topk`, …) skipped a histogram.
    pub fn histogram_ignored_in_aggregation(&mut self, op: &str) {
        self.info(format!("ignored histogram in {op} aggregation"));
    }

    /// A counter function (`rate`, `irate`, …) read a gauge histogram.
    pub fn native_histogram_not_counter(&mut self, metric: &str) {
        self.warn(format!("this native histogram metric is not a counter: {}", go_quote_str(metric)));
    }

    /// A gauge function (`delta`, `idelta`) read a counter histogram.
    pub fn native_histogram_not_gauge(&mut self, metric: &str) {
        self.warn(format!("this native histogram metric is not a gauge: {}", go_quote_str(metric)));
    }

    /// Histograms with exponential and with custom buckets cannot be combined.
    pub fn mixed_exponential_custom_histograms(&mut self, metric: &str) {
        self.warn(format!(
            "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {}",
            go_quote_str(metric)
        ));
    }

    /// A binary operator is not defined between these sample types.
    pub fn incompatible_types_in_binop(&mut self, lhs: &str, op: &str, rhs: &str) {
        self.info(format!(
            "incompatible sample types encountered for binary operator {}: {lhs} {op} {rhs}",
            go_quote_str(op)
        ));
    }

    /// A binary operator met two histograms whose buckets cannot be combined.
    pub fn incompatible_bucket_layout_in_binop(&mut self, op: &str) {
        self.warn(format!("incompatible bucket layout encountered for binary operator {op}"));
    }

    /// `histogram_quantile`/`histogram_fraction` found a classic and a native
    /// histogram for the same series; `metric` is empty when names are dropped early.
    pub fn mixed_classic_native_histograms(&mut self, metric: &str) {
        self.warn(with_metric_name("vector contains a mix of classic and native histograms".into(), metric));
    }

    /// Histograms combined across samples carried contradicting counter-reset hints.
    pub fn counter_reset_collision(&mut self, operation: &str) {
        self.warn(format!("conflicting counter resets during histogram {operation}"));
    }

    /// Custom-bucket histograms with different bounds were combined on their common bounds.
    pub fn mismatched_custom_buckets(&mut self, operation: &str) {
        self.info(format!("mismatched custom buckets were reconciled during {operation}"));
    }

    pub fn quantile_nan_result(&mut self, metric: &str) {
        self.info(with_metric_name("input to histogram_quantile has NaN observations, result is NaN".into(), metric));
    }

    pub fn quantile_nan_skew(&mut self, metric: &str) {
        self.info(with_metric_name(
            "input to histogram_quantile has NaN observations, result is skewed higher".into(),
            metric,
        ));
    }

    pub fn fraction_nans(&mut self, metric: &str) {
        self.info(with_metric_name(
            "input to histogram_fraction has NaN observations, which are excluded from all fractions".into(),
            metric,
        ));
    }

    pub fn sort_in_range_query(&mut self, func: &str) {
        let _ = func;
        self.warn("sort is ineffective for range queries since results are always ordered by labels".to_string());
    }
}

/// Prometheus's `maybeAddMetricName`: the message, naming the metric if known.
fn with_metric_name(msg: String, metric: &str) -> String {
    if metric.is_empty() {
        msg
    } else {
        format!("{msg} for metric name {}", go_quote_str(metric))
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
            vec![
                "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\""
            ]
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
