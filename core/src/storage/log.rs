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

use super::bits::{get_varint, put_varint, unzigzag, zigzag};
use crate::error::{Error, Result};

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

/// The number of entries in a log record, without decoding them.
pub(crate) fn count(bytes: &[u8]) -> Result<u64> {
    get_varint(bytes, &mut 0)
}

/// Decodes a log record, calling `f` for every entry in order.
pub(crate) fn decode(bytes: &[u8], mut f: impl FnMut(LogEntry)) -> Result<()> {
    let mut pos = 0;
    let count = get_varint(bytes, &mut pos)?;
    let (mut id, mut t) = (0i64, 0i64);
    for _ in 0..count {
        id = id.wrapping_add(unzigzag(get_varint(bytes, &mut pos)?));
        t = t.wrapping_add(unzigzag(get_varint(bytes, &mut pos)?));
        let raw = bytes.get(pos..pos + 8).ok_or_else(|| Error::Corrupt("head log record ends early".into()))?;
        pos += 8;
        let v = f64::from_bits(u64::from_le_bytes(raw.try_into().expect("8 bytes")));
        f(LogEntry { series_id: id, t, v });
    }
    if pos != bytes.len() {
        return Err(Error::Corrupt("head log record has trailing bytes".into()));
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
}
