//! Head log records: the samples one commit added to the in-memory heads,
//! stored as one `head_log` row so that a commit costs one row, not one per
//! series. Replayed into the heads when a database is opened.
//!
//! ```text
//! varint count
//! count × { varint zigzag(series_id - previous series_id)
//!           varint zigzag(t - previous t)
//!           8 bytes value, little endian (exact bits) }
//! ```
//!
//! Change-feed (`outbox`) rows hold every sample of a commit. A commit of
//! float samples only is one head log record, as above. A commit with native
//! histograms is a second kind of record, told apart by its first byte: a
//! head log record never starts with a zero count.
//!
//! ```text
//! u8      0
//! varint  total samples (floats + histograms)
//! bytes   head log record of the float samples (count may be 0)
//! varint  n
//! n × { varint zigzag(series_id - previous series_id)
//!       varint zigzag(t - previous t)
//!       varint len, len bytes: the histogram as stored in `hsamples` (hcodec) }
//! ```

use super::bits::{get_varint, put_varint, unzigzag, zigzag};
use crate::error::{Error, Result};
use crate::histogram::FloatHistogram;

/// One logged sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogEntry {
    pub series_id: i64,
    pub t: i64,
    pub v: f64,
}

/// Builds one log record.
#[derive(Default)]
pub(crate) struct LogRecord {
    entries: Vec<LogEntry>,
}

impl LogRecord {
    pub(crate) fn push(&mut self, series_id: i64, t: i64, v: f64) {
        self.entries.push(LogEntry { series_id, t, v });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.entries.len() * 12);
        put_varint(&mut out, self.entries.len() as u64);
        let (mut prev_id, mut prev_t) = (0i64, 0i64);
        for e in &self.entries {
            put_varint(&mut out, zigzag(e.series_id.wrapping_sub(prev_id)));
            put_varint(&mut out, zigzag(e.t.wrapping_sub(prev_t)));
            out.extend_from_slice(&e.v.to_bits().to_le_bytes());
            prev_id = e.series_id;
            prev_t = e.t;
        }
        out
    }
}

/// Decodes a log record, calling `f` for every entry in order.
pub(crate) fn decode(bytes: &[u8], f: impl FnMut(LogEntry)) -> Result<()> {
    let mut pos = 0;
    decode_at(bytes, &mut pos, f)?;
    if pos != bytes.len() {
        return Err(Error::Corrupt("head log record has trailing bytes".into()));
    }
    Ok(())
}

/// Decodes the log record starting at `pos`, leaving `pos` after it.
fn decode_at(bytes: &[u8], pos: &mut usize, mut f: impl FnMut(LogEntry)) -> Result<()> {
    let count = get_varint(bytes, pos)?;
    let (mut id, mut t) = (0i64, 0i64);
    for _ in 0..count {
        id = id.wrapping_add(unzigzag(get_varint(bytes, pos)?));
        t = t.wrapping_add(unzigzag(get_varint(bytes, pos)?));
        let raw = bytes.get(*pos..*pos + 8).ok_or_else(|| Error::Corrupt("head log record ends early".into()))?;
        *pos += 8;
        let v = f64::from_bits(u64::from_le_bytes(raw.try_into().expect("8 bytes")));
        f(LogEntry { series_id: id, t, v });
    }
    Ok(())
}

/// First byte of a change-feed record that holds native histograms.
const WITH_HISTOGRAMS: u8 = 0;

/// Builds one change-feed record: every sample of a commit.
#[derive(Default)]
pub(crate) struct OutboxRecord {
    floats: LogRecord,
    /// `(series_id, t, hcodec bytes)` in commit order.
    histograms: Vec<(i64, i64, Vec<u8>)>,
}

impl OutboxRecord {
    pub(crate) fn push(&mut self, series_id: i64, t: i64, v: f64) {
        self.floats.push(series_id, t, v);
    }

    /// Adds a histogram sample, already encoded as `hsamples` stores it.
    pub(crate) fn push_histogram(&mut self, series_id: i64, t: i64, encoded: Vec<u8>) {
        self.histograms.push((series_id, t, encoded));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.floats.is_empty() && self.histograms.is_empty()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        if self.histograms.is_empty() {
            return self.floats.encode();
        }
        let mut out = vec![WITH_HISTOGRAMS];
        put_varint(&mut out, (self.floats.entries.len() + self.histograms.len()) as u64);
        out.extend_from_slice(&self.floats.encode());
        put_varint(&mut out, self.histograms.len() as u64);
        let (mut prev_id, mut prev_t) = (0i64, 0i64);
        for (id, t, data) in &self.histograms {
            put_varint(&mut out, zigzag(id.wrapping_sub(prev_id)));
            put_varint(&mut out, zigzag(t.wrapping_sub(prev_t)));
            put_varint(&mut out, data.len() as u64);
            out.extend_from_slice(data);
            (prev_id, prev_t) = (*id, *t);
        }
        out
    }
}

/// The number of samples in a change-feed record, without decoding them.
pub(crate) fn outbox_count(bytes: &[u8]) -> Result<u64> {
    let mut pos = 0;
    if bytes.first() == Some(&WITH_HISTOGRAMS) {
        pos = 1;
    }
    get_varint(bytes, &mut pos)
}

/// Decodes a change-feed record: `float` for every float sample, then
/// `histogram(series_id, t, h)` for every histogram sample, each in commit order.
pub(crate) fn decode_outbox(
    bytes: &[u8],
    float: impl FnMut(LogEntry),
    mut histogram: impl FnMut(i64, i64, FloatHistogram),
) -> Result<()> {
    if bytes.first() != Some(&WITH_HISTOGRAMS) {
        return decode(bytes, float);
    }
    let corrupt = |what: &str| Error::Corrupt(format!("change-feed record {what}"));
    let mut pos = 1;
    let total = get_varint(bytes, &mut pos)?;
    let mut floats = 0u64;
    let mut float = float;
    decode_at(bytes, &mut pos, |e| {
        floats += 1;
        float(e)
    })?;
    let n = get_varint(bytes, &mut pos)?;
    if floats.checked_add(n) != Some(total) {
        return Err(corrupt("counts do not add up"));
    }
    let (mut id, mut t) = (0i64, 0i64);
    for _ in 0..n {
        id = id.wrapping_add(unzigzag(get_varint(bytes, &mut pos)?));
        t = t.wrapping_add(unzigzag(get_varint(bytes, &mut pos)?));
        let len = usize::try_from(get_varint(bytes, &mut pos)?).map_err(|_| corrupt("ends early"))?;
        let data = bytes.get(pos..).and_then(|rest| rest.get(..len)).ok_or_else(|| corrupt("ends early"))?;
        pos += len;
        histogram(id, t, super::hcodec::decode(data)?);
    }
    if pos != bytes.len() {
        return Err(corrupt("has trailing bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{is_stale_nan, stale_nan};

    #[test]
    fn records_round_trip_exact_bits() {
        let mut rec = LogRecord::default();
        let input = [(3, 1_000, 1.5), (1, -7, stale_nan()), (900, i64::MAX, f64::NAN), (2, i64::MIN, -0.0)];
        for (id, t, v) in input {
            rec.push(id, t, v);
        }
        let bytes = rec.encode();
        let mut out = Vec::new();
        decode(&bytes, |e| out.push(e)).unwrap();
        assert_eq!(out.len(), input.len());
        for (e, (id, t, v)) in out.iter().zip(input) {
            assert_eq!((e.series_id, e.t, e.v.to_bits()), (id, t, v.to_bits()));
        }
        assert!(is_stale_nan(out[1].v));
        assert!(decode(&bytes[..bytes.len() - 1], |_| {}).is_err());
    }

    /// `(series_id, t, histogram)` of a decoded change-feed record.
    type HistogramEntry = (i64, i64, FloatHistogram);

    fn decode_all(bytes: &[u8]) -> Result<(Vec<LogEntry>, Vec<HistogramEntry>)> {
        let (mut floats, mut histograms) = (Vec::new(), Vec::new());
        decode_outbox(bytes, |e| floats.push(e), |id, t, h| histograms.push((id, t, h)))?;
        Ok((floats, histograms))
    }

    #[test]
    fn float_only_feed_records_are_head_log_records() {
        let mut rec = OutboxRecord::default();
        rec.push(4, 10, 1.0);
        rec.push(2, 5, 2.0);
        let bytes = rec.encode();
        let mut plain = LogRecord::default();
        plain.push(4, 10, 1.0);
        plain.push(2, 5, 2.0);
        assert_eq!(bytes, plain.encode(), "older readers read these unchanged");
        assert_eq!(outbox_count(&bytes).unwrap(), 2);
        let (floats, histograms) = decode_all(&bytes).unwrap();
        assert_eq!(floats.len(), 2);
        assert!(histograms.is_empty());
    }

    #[test]
    fn feed_records_with_histograms_round_trip_and_truncation_is_an_error() {
        let h = |text: &str| FloatHistogram::parse_test_notation(text).unwrap();
        let (h1, h2) =
            (h("{{schema:0 count:3 sum:2 buckets:[1 2]}}"), h("{{schema:-53 count:1 custom_values:[5] buckets:[1]}}"));
        let mut rec = OutboxRecord::default();
        rec.push(7, 1_000, 0.5);
        rec.push_histogram(9, 2_000, super::super::hcodec::encode(&h1));
        rec.push_histogram(3, -5, super::super::hcodec::encode(&h2));
        let bytes = rec.encode();
        assert_eq!(bytes[0], WITH_HISTOGRAMS);
        assert_eq!(outbox_count(&bytes).unwrap(), 3);
        let (floats, histograms) = decode_all(&bytes).unwrap();
        assert_eq!((floats[0].series_id, floats[0].t, floats[0].v), (7, 1_000, 0.5));
        assert_eq!(histograms, vec![(9, 2_000, h1.clone()), (3, -5, h2)]);

        let mut only = OutboxRecord::default();
        only.push_histogram(1, 1, super::super::hcodec::encode(&h1));
        assert_eq!(decode_all(&only.encode()).unwrap().1.len(), 1, "a commit of histograms only");

        for cut in 1..bytes.len() {
            assert!(decode_all(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_all(&longer).is_err());
    }
}
