//! Turning series into remote-write request bodies: keep/drop, external
//! labels, per-series time order, and requests of at most `batch_size`
//! samples (float samples and native histograms alike).

use crate::model::{HPoint, Labels, Point};
use crate::remote::config::Prepared;
use crate::remote::prompb::{self, TimeSeries, WriteRequest};

/// One request ready to post.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// Snappy-compressed protobuf `WriteRequest`.
    pub body: Vec<u8>,
    /// Samples in it.
    pub samples: usize,
    /// The newest sample timestamp in it (ms).
    pub newest_t: i64,
}

/// Requests built from a set of series, plus how many samples were left
/// out (by keep/drop, or overwritten by a later write of the same timestamp).
#[derive(Debug, Default)]
pub(crate) struct Requests {
    pub requests: Vec<Request>,
    pub skipped: usize,
}

/// Accumulates series into requests of at most `batch_size` samples. A
/// series larger than the room left is split in time order across
/// consecutive requests, so every series is sent oldest first.
pub(crate) struct RequestBuilder<'a> {
    prepared: &'a Prepared,
    current: WriteRequest,
    current_samples: usize,
    current_newest: i64,
    out: Requests,
}

/// A sample kind a `TimeSeries` carries: float samples or native histograms.
pub(crate) trait WireSample: Clone {
    fn t(&self) -> i64;
    /// Appends the samples to the matching list of `ts`.
    fn push_all(samples: &[Self], ts: &mut TimeSeries);
}

impl WireSample for Point {
    fn t(&self) -> i64 {
        self.t
    }
    fn push_all(samples: &[Self], ts: &mut TimeSeries) {
        ts.samples.extend(samples.iter().map(|p| prompb::Sample { value: p.v, timestamp: p.t }));
    }
}

impl WireSample for HPoint {
    fn t(&self) -> i64 {
        self.t
    }
    fn push_all(samples: &[Self], ts: &mut TimeSeries) {
        ts.histograms.extend(samples.iter().map(|p| prompb::Histogram::from_float_histogram(&p.h, p.t)));
    }
}

impl<'a> RequestBuilder<'a> {
    pub fn new(prepared: &'a Prepared) -> Self {
        RequestBuilder {
            prepared,
            current: WriteRequest::default(),
            current_samples: 0,
            current_newest: i64::MIN,
            out: Requests::default(),
        }
    }

    /// Adds a series' float or histogram samples, already in time order
    /// with unique timestamps.
    pub fn add_sorted<S: WireSample>(&mut self, labels: &Labels, samples: &[S]) {
        if samples.is_empty() {
            return;
        }
        if !self.prepared.selects(labels) {
            self.out.skipped += samples.len();
            return;
        }
        let wire = self.prepared.wire_labels(labels);
        let batch_size = self.prepared.config.batch_size;
        let mut rest = samples;
        while !rest.is_empty() {
            let room = batch_size - self.current_samples;
            let (now, later) = rest.split_at(room.min(rest.len()));
            let mut ts = TimeSeries { labels: wire.clone(), ..Default::default() };
            S::push_all(now, &mut ts);
            self.current.timeseries.push(ts);
            self.current_samples += now.len();
            self.current_newest = self.current_newest.max(now.last().map_or(i64::MIN, |p| p.t()));
            if self.current_samples == batch_size {
                self.flush();
            }
            rest = later;
        }
    }

    /// Adds a series' samples in commit order: sorted by time, and of equal
    /// timestamps only the last written (what storage keeps, and what a
    /// receiver that refuses duplicate timestamps accepts).
    pub fn add_in_commit_order<S: WireSample>(&mut self, labels: &Labels, samples: &[S]) {
        let mut sorted = samples.to_vec();
        // Stable: equal timestamps stay in commit order, so the last is the newest write.
        sorted.sort_by_key(|p| p.t());
        let mut unique: Vec<S> = Vec::with_capacity(sorted.len());
        for p in sorted {
            match unique.last_mut() {
                Some(last) if last.t() == p.t() => *last = p,
                _ => unique.push(p),
            }
        }
        self.out.skipped += samples.len() - unique.len();
        self.add_sorted(labels, &unique);
    }

    /// Finishes the request being filled, if it has samples.
    fn flush(&mut self) {
        if self.current_samples == 0 {
            return;
        }
        let request = std::mem::take(&mut self.current);
        self.out.requests.push(Request {
            body: prompb::encode_write_request(&request),
            samples: self.current_samples,
            newest_t: self.current_newest,
        });
        self.current_samples = 0;
        self.current_newest = i64::MIN;
    }

    /// Takes the requests that are full, leaving the one being filled.
    pub fn take_full(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.out.requests)
    }

    /// Takes the requests built so far (the last may be partly filled).
    pub fn take(&mut self) -> Requests {
        self.flush();
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::config::RemoteWriteConfig;
    use prost::Message;

    fn decode(r: &Request) -> WriteRequest {
        let raw = prompb::snappy_decompress(&r.body, 1 << 20).unwrap();
        WriteRequest::decode(raw.as_slice()).unwrap()
    }

    fn points(ts: &[(i64, f64)]) -> Vec<Point> {
        ts.iter().map(|&(t, v)| Point::new(t, v)).collect()
    }

    #[test]
    fn splits_series_across_requests_in_time_order() {
        let prepared = RemoteWriteConfig::new("rw", "http://x.example/w").batch_size(3).prepare().unwrap();
        let mut b = RequestBuilder::new(&prepared);
        let a = Labels::parse("a").unwrap();
        b.add_sorted(&a, &points(&[(1, 1.0), (2, 2.0)]));
        b.add_sorted(&Labels::parse("b").unwrap(), &points(&[(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)]));
        let out = b.take();
        let sizes: Vec<usize> = out.requests.iter().map(|r| r.samples).collect();
        assert_eq!(sizes, [3, 3]);
        let first = decode(&out.requests[0]);
        assert_eq!(first.timeseries.len(), 2);
        assert_eq!(first.timeseries[1].samples[0].timestamp, 1);
        let second = decode(&out.requests[1]);
        let ts: Vec<i64> = second.timeseries[0].samples.iter().map(|s| s.timestamp).collect();
        assert_eq!(ts, [2, 3, 4], "the rest of b, in order");
        assert_eq!(out.requests[1].newest_t, 4);
    }

    #[test]
    fn commit_order_becomes_time_order_with_the_last_write_winning() {
        let prepared = RemoteWriteConfig::new("rw", "http://x.example/w").prepare().unwrap();
        let mut b = RequestBuilder::new(&prepared);
        b.add_in_commit_order(&Labels::parse("a").unwrap(), &points(&[(5, 1.0), (3, 2.0), (5, 9.0), (4, 3.0)]));
        let out = b.take();
        let sent: Vec<(i64, f64)> =
            decode(&out.requests[0]).timeseries[0].samples.iter().map(|s| (s.timestamp, s.value)).collect();
        assert_eq!(sent, [(3, 2.0), (4, 3.0), (5, 9.0)]);
        assert_eq!(out.skipped, 1, "the overwritten sample is not sent");
    }

    #[test]
    fn histograms_are_split_ordered_and_counted_like_float_samples() {
        let prepared = RemoteWriteConfig::new("rw", "http://x.example/w").batch_size(3).prepare().unwrap();
        let mut b = RequestBuilder::new(&prepared);
        let h = |count: f64| crate::FloatHistogram { count, sum: count, ..Default::default() };
        let m = Labels::parse("m").unwrap();
        b.add_sorted(&m, &points(&[(1, 1.0), (2, 2.0)]));
        let hs: Vec<HPoint> =
            [(30, 3.0), (10, 1.0), (30, 4.0), (20, 2.0)].iter().map(|&(t, c)| HPoint::new(t, h(c))).collect();
        b.add_in_commit_order(&m, &hs);
        let out = b.take();
        assert_eq!(out.skipped, 1, "the overwritten histogram");
        let sizes: Vec<usize> = out.requests.iter().map(|r| r.samples).collect();
        assert_eq!(sizes, [3, 2]);
        let first = decode(&out.requests[0]);
        assert_eq!(first.timeseries[0].samples.len(), 2);
        assert_eq!(first.timeseries[1].histograms.len(), 1);
        let second = decode(&out.requests[1]);
        let sent: Vec<(i64, f64)> = first.timeseries[1]
            .histograms
            .iter()
            .chain(&second.timeseries[0].histograms)
            .map(|w| (w.timestamp, w.to_float_histogram().unwrap().count))
            .collect();
        assert_eq!(sent, [(10, 1.0), (20, 2.0), (30, 4.0)]);
        assert_eq!(out.requests[1].newest_t, 30);
    }

    #[test]
    fn skipped_series_are_counted_not_sent() {
        let prepared = RemoteWriteConfig::new("rw", "http://x.example/w").drop_matching("secret").prepare().unwrap();
        let mut b = RequestBuilder::new(&prepared);
        b.add_sorted(&Labels::parse("secret").unwrap(), &points(&[(1, 1.0), (2, 1.0)]));
        let out = b.take();
        assert!(out.requests.is_empty());
        assert_eq!(out.skipped, 2);
    }
}
