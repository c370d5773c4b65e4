//! Encoding of one native-histogram sample as stored in `hsamples.data`.
//!
//! ```text
//! u8      counter reset hint (0 unknown, 1 reset, 2 not reset, 3 gauge)
//! varint  zigzag(schema)
//! f64×4   zero_threshold, zero_count, count, sum (little endian, exact bits)
//! spans   positive, then negative: varint n, n × (varint zigzag(offset), varint length)
//! floats  positive buckets, negative buckets, custom values: varint n, n × f64
//! ```

use super::bits::{get_varint, put_varint, unzigzag, zigzag};
use crate::error::{Error, Result};
use crate::histogram::{BucketSpan, CounterResetHint, FloatHistogram};

pub(crate) fn encode(h: &FloatHistogram) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + 8 * (h.positive_buckets.len() + h.negative_buckets.len()));
    out.push(match h.counter_reset_hint {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    });
    put_varint(&mut out, zigzag(h.schema as i64));
    for f in [h.zero_threshold, h.zero_count, h.count, h.sum] {
        out.extend_from_slice(&f.to_bits().to_le_bytes());
    }
    for spans in [&h.positive_spans, &h.negative_spans] {
        put_varint(&mut out, spans.len() as u64);
        for s in spans.iter() {
            put_varint(&mut out, zigzag(s.offset as i64));
            put_varint(&mut out, s.length as u64);
        }
    }
    for floats in [&h.positive_buckets, &h.negative_buckets, &h.custom_values] {
        put_varint(&mut out, floats.len() as u64);
        for f in floats.iter() {
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
    }
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Result<FloatHistogram> {
    let corrupt = || Error::Corrupt("histogram sample ends early or is malformed".into());
    let mut pos = 0;
    let hint = match bytes.first().ok_or_else(corrupt)? {
        0 => CounterResetHint::Unknown,
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => return Err(corrupt()),
    };
    pos += 1;
    let schema = i32::try_from(unzigzag(get_varint(bytes, &mut pos)?)).map_err(|_| corrupt())?;
    let float = |pos: &mut usize| -> Result<f64> {
        let raw = bytes.get(*pos..*pos + 8).ok_or_else(corrupt)?;
        *pos += 8;
        Ok(f64::from_bits(u64::from_le_bytes(raw.try_into().expect("8 bytes"))))
    };
    let (zero_threshold, zero_count, count, sum) =
        (float(&mut pos)?, float(&mut pos)?, float(&mut pos)?, float(&mut pos)?);
    let mut spans = || -> Result<Vec<BucketSpan>> {
        let n = get_varint(bytes, &mut pos)? as usize;
        if n > bytes.len() {
            return Err(corrupt());
        }
        (0..n)
            .map(|_| {
                let offset = i32::try_from(unzigzag(get_varint(bytes, &mut pos)?)).map_err(|_| corrupt())?;
                let length = u32::try_from(get_varint(bytes, &mut pos)?).map_err(|_| corrupt())?;
                Ok(BucketSpan { offset, length })
            })
            .collect()
    };
    let (positive_spans, negative_spans) = (spans()?, spans()?);
    let mut floats = || -> Result<Vec<f64>> {
        let n = get_varint(bytes, &mut pos)? as usize;
        if n > bytes.len() / 8 {
            return Err(corrupt());
        }
        (0..n).map(|_| float(&mut pos)).collect()
    };
    let (positive_buckets, negative_buckets, custom_values) = (floats()?, floats()?, floats()?);
    if pos != bytes.len() {
        return Err(corrupt());
    }
    Ok(FloatHistogram {
        counter_reset_hint: hint,
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive_spans,
        negative_spans,
        positive_buckets,
        negative_buckets,
        custom_values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_and_truncation_is_an_error() {
        let h = FloatHistogram {
            counter_reset_hint: CounterResetHint::Gauge,
            schema: -53,
            zero_threshold: 0.001,
            zero_count: 2.0,
            count: 20.5,
            sum: -3.25,
            positive_spans: vec![BucketSpan { offset: -2, length: 2 }, BucketSpan { offset: 3, length: 1 }],
            negative_spans: vec![BucketSpan { offset: 0, length: 1 }],
            positive_buckets: vec![1.0, 2.0, 3.5],
            negative_buckets: vec![f64::NAN],
            custom_values: vec![5.0, 10.0],
        };
        let bytes = encode(&h);
        let back = decode(&bytes).unwrap();
        assert_eq!(format!("{back:?}"), format!("{h:?}"));
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
        assert_eq!(decode(&encode(&FloatHistogram::default())).unwrap(), FloatHistogram::default());
    }
}
