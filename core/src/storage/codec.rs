//! The chunk codec: a run of samples of one series, compressed.
//!
//! Layout (see `docs/storage.md`):
//!
//! ```text
//! varint  n                       number of samples (≥ 1)
//! u8      flags                   bits 0-2 timestamp preset, 3-5 value preset, 6-7 value mode
//! u8      scale                   only in the integer value modes: values are integers / 10^scale
//! varint  zigzag(t0)              first timestamp
//! varint  t1 - t0                 only if n ≥ 2 (timestamps strictly increase)
//! bits    dod(t2..)               timestamp delta-of-deltas, bucketed by the timestamp preset
//! bits    values                  XOR (Gorilla) or integer delta / delta-of-delta, see below
//! ```
//!
//! Values are stored in one of three modes, chosen per chunk by size:
//! - XOR: the first value's 64 bits, then Gorilla's XOR-with-previous encoding.
//!   Exact for every bit pattern (NaN payloads, the stale marker, -0.0).
//! - Integer delta / integer delta-of-delta: when every value is exactly
//!   `k / 10^scale` for integers `k` (counters, most gauges), the integers are
//!   stored as zigzag deltas (or delta-of-deltas) in buckets.
//!
//! Bucketed integers are written as a unary bucket number followed by that
//! bucket's payload bits; each stream picks the bucket table ("preset") that
//! makes it smallest.

use super::bits::{get_varint, put_varint, unzigzag, zigzag, BitReader, BitWriter};
use crate::error::{Error, Result};
use crate::model::Point;

/// Payload widths of the buckets of each preset. A width of 0 means the bucket
/// holds exactly zero. The last bucket always holds 64 bits.
const PRESETS: [[u32; 6]; 8] = [
    [0, 5, 9, 16, 32, 64],
    [0, 7, 12, 20, 32, 64],
    [3, 7, 12, 20, 32, 64],
    [5, 9, 14, 24, 40, 64],
    [7, 12, 16, 24, 40, 64],
    [0, 3, 7, 12, 24, 64],
    [10, 14, 20, 28, 40, 64],
    [14, 20, 28, 36, 48, 64],
];
const BUCKETS: u32 = 6;

const MODE_XOR: u8 = 0;
const MODE_INT_DELTA: u8 = 1;
const MODE_INT_DOD: u8 = 2;

/// Largest decimal scale tried for the integer modes.
const MAX_SCALE: u32 = 9;
const POW10: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/// Integers beyond ±2^53 are not all representable as f64.
const MAX_EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// Which bucket a zigzagged value falls in under `preset`.
#[inline]
fn bucket_of(preset: &[u32; 6], zz: u64) -> usize {
    let width = 64 - zz.leading_zeros();
    let mut b = 0;
    while b < BUCKETS as usize - 1 {
        let w = preset[b];
        if (w == 0 && zz == 0) || (w > 0 && width <= w) {
            return b;
        }
        b += 1;
    }
    b
}

#[inline]
fn prefix_len(bucket: usize) -> u32 {
    if bucket as u32 == BUCKETS - 1 {
        bucket as u32
    } else {
        bucket as u32 + 1
    }
}

/// Bits needed to write `values` under each preset.
fn preset_costs(values: impl Iterator<Item = u64>) -> [u64; 8] {
    let mut costs = [0u64; 8];
    for zz in values {
        for (p, cost) in PRESETS.iter().zip(costs.iter_mut()) {
            let b = bucket_of(p, zz);
            *cost += (prefix_len(b) + p[b]) as u64;
        }
    }
    costs
}

fn cheapest(costs: &[u64; 8]) -> (u8, u64) {
    let (i, c) = costs.iter().enumerate().min_by_key(|(_, c)| **c).expect("presets are not empty");
    (i as u8, *c)
}

#[inline]
fn write_bucketed(w: &mut BitWriter, preset: &[u32; 6], zz: u64) {
    let b = bucket_of(preset, zz);
    // Unary bucket number: b ones, then a zero unless it is the last bucket.
    if prefix_len(b) > 0 {
        let ones = b as u32;
        let prefix = if b as u32 == BUCKETS - 1 { (1u64 << ones) - 1 } else { ((1u64 << ones) - 1) << 1 };
        w.write(prefix, prefix_len(b));
    }
    w.write(zz, preset[b]);
}

#[inline(always)]
fn read_bucketed(r: &mut BitReader<'_>, preset: &[u32; 6]) -> Result<u64> {
    r.read_bucketed(preset)
}

/// The smallest decimal scale at which every value is an exact integer, if any.
fn integer_scale(points: &[Point]) -> Option<u32> {
    let mut scale = 0u32;
    for p in points {
        while scale <= MAX_SCALE && !is_exact_at(p.v, scale) {
            scale += 1;
        }
        if scale > MAX_SCALE {
            return None;
        }
    }
    // A value exact at a smaller scale may not be exact at the final one.
    points.iter().all(|p| is_exact_at(p.v, scale)).then_some(scale)
}

#[inline]
fn is_exact_at(v: f64, scale: u32) -> bool {
    let scaled = v * POW10[scale as usize];
    if !scaled.is_finite() || scaled.abs() > MAX_EXACT_INT {
        return false;
    }
    let k = scaled.round();
    (k / POW10[scale as usize]).to_bits() == v.to_bits()
}

/// Encodes `points` (sorted by strictly increasing timestamp, at least one).
pub(crate) fn encode(points: &[Point]) -> Vec<u8> {
    assert!(!points.is_empty(), "a chunk holds at least one sample");
    debug_assert!(points.windows(2).all(|w| w[0].t < w[1].t), "chunk points must be strictly increasing");
    let n = points.len();

    // Timestamp delta-of-deltas (wrapping, so any i64 round-trips).
    let ts_dods = points.windows(3).map(|w| {
        let d1 = w[1].t.wrapping_sub(w[0].t);
        let d2 = w[2].t.wrapping_sub(w[1].t);
        zigzag(d2.wrapping_sub(d1))
    });
    let (ts_preset, _) = cheapest(&preset_costs(ts_dods.clone()));

    // Value mode: integer modes when exact, whichever of the three is smallest.
    let mut mode = MODE_XOR;
    let mut val_preset = 0u8;
    let mut scale = 0u32;
    let mut ints: Vec<i64> = Vec::new();
    if let Some(s) = integer_scale(points) {
        scale = s;
        ints = points.iter().map(|p| (p.v * POW10[s as usize]).round() as i64).collect();
        let deltas = ints.windows(2).map(|w| zigzag(w[1].wrapping_sub(w[0])));
        let (dp, dcost) = cheapest(&preset_costs(deltas));
        let dods = ints.windows(3).map(|w| zigzag((w[2].wrapping_sub(w[1])).wrapping_sub(w[1].wrapping_sub(w[0]))));
        let (ddp, mut ddcost) = cheapest(&preset_costs(dods));
        if n >= 2 {
            // The first delta is written with the dod preset too.
            let b = bucket_of(&PRESETS[ddp as usize], zigzag(ints[1].wrapping_sub(ints[0])));
            ddcost += (prefix_len(b) + PRESETS[ddp as usize][b]) as u64;
        }
        let xor_cost = xor_bits(points);
        if dcost.min(ddcost) < xor_cost {
            if ddcost < dcost {
                mode = MODE_INT_DOD;
                val_preset = ddp;
            } else {
                mode = MODE_INT_DELTA;
                val_preset = dp;
            }
        }
    }

    let mut out = Vec::with_capacity(16 + n * 2);
    put_varint(&mut out, n as u64);
    out.push(ts_preset | (val_preset << 3) | (mode << 6));
    if mode != MODE_XOR {
        out.push(scale as u8);
    }
    put_varint(&mut out, zigzag(points[0].t));
    if n >= 2 {
        put_varint(&mut out, points[1].t.wrapping_sub(points[0].t) as u64);
    }
    if mode != MODE_XOR {
        put_varint(&mut out, zigzag(ints[0]));
    }
    let mut w = BitWriter::with_bytes(out);
    let tp = &PRESETS[ts_preset as usize];
    for zz in ts_dods {
        write_bucketed(&mut w, tp, zz);
    }
    let vp = &PRESETS[val_preset as usize];
    match mode {
        MODE_INT_DELTA => {
            for pair in ints.windows(2) {
                write_bucketed(&mut w, vp, zigzag(pair[1].wrapping_sub(pair[0])));
            }
        }
        MODE_INT_DOD => {
            if n >= 2 {
                write_bucketed(&mut w, vp, zigzag(ints[1].wrapping_sub(ints[0])));
            }
            for t in ints.windows(3) {
                write_bucketed(&mut w, vp, zigzag((t[2].wrapping_sub(t[1])).wrapping_sub(t[1].wrapping_sub(t[0]))));
            }
        }
        _ => write_xor(&mut w, points),
    }
    w.finish()
}

/// Gorilla XOR state: the leading/trailing zero window of the last written value.
struct XorWindow {
    leading: u32,
    trailing: u32,
}

impl XorWindow {
    fn initial() -> Self {
        // No window yet: forces the first non-zero XOR to write a new one.
        XorWindow { leading: u32::MAX, trailing: 0 }
    }
}

/// Bits `write_xor` would produce (without writing them).
fn xor_bits(points: &[Point]) -> u64 {
    let mut bits = 64u64;
    let mut win = XorWindow::initial();
    let mut prev = points[0].v.to_bits();
    for p in &points[1..] {
        let cur = p.v.to_bits();
        let x = cur ^ prev;
        prev = cur;
        if x == 0 {
            bits += 1;
            continue;
        }
        let (lead, trail) = (x.leading_zeros().min(63), x.trailing_zeros());
        if win.leading != u32::MAX && lead >= win.leading && trail >= win.trailing {
            bits += 2 + (64 - win.leading - win.trailing) as u64;
        } else {
            bits += 2 + 6 + 6 + (64 - lead - trail) as u64;
            win = XorWindow { leading: lead, trailing: trail };
        }
    }
    bits
}

fn write_xor(w: &mut BitWriter, points: &[Point]) {
    let mut prev = points[0].v.to_bits();
    w.write(prev, 64);
    let mut win = XorWindow::initial();
    for p in &points[1..] {
        let cur = p.v.to_bits();
        let x = cur ^ prev;
        prev = cur;
        if x == 0 {
            w.write_bit(false);
            continue;
        }
        let (lead, trail) = (x.leading_zeros().min(63), x.trailing_zeros());
        if win.leading != u32::MAX && lead >= win.leading && trail >= win.trailing {
            w.write(0b10, 2);
            w.write(x >> win.trailing, 64 - win.leading - win.trailing);
        } else {
            let sig = 64 - lead - trail;
            w.write(0b11, 2);
            w.write(lead as u64, 6);
            w.write((sig - 1) as u64, 6);
            w.write(x >> trail, sig);
            win = XorWindow { leading: lead, trailing: trail };
        }
    }
}

/// The header of a chunk: sample count and first timestamp, read without decoding.
pub(crate) fn header(chunk: &[u8]) -> Result<(usize, i64)> {
    let mut pos = 0;
    let n = get_varint(chunk, &mut pos)? as usize;
    let flags = *chunk.get(pos).ok_or_else(|| corrupt("missing flags"))?;
    pos += 1;
    if flags >> 6 != MODE_XOR {
        pos += 1;
    }
    let t0 = unzigzag(get_varint(chunk, &mut pos)?);
    Ok((n, t0))
}

/// Decodes a chunk, appending its samples to `out`.
pub(crate) fn decode_into(chunk: &[u8], out: &mut Vec<Point>) -> Result<()> {
    let mut pos = 0;
    let n = get_varint(chunk, &mut pos)? as usize;
    if n == 0 || n > chunk.len() * 8 + 2 {
        return Err(corrupt("implausible sample count"));
    }
    let flags = *chunk.get(pos).ok_or_else(|| corrupt("missing flags"))?;
    pos += 1;
    let (ts_preset, val_preset, mode) = (flags & 7, (flags >> 3) & 7, flags >> 6);
    if mode > MODE_INT_DOD {
        return Err(corrupt("unknown value mode"));
    }
    let mut scale = 0usize;
    if mode != MODE_XOR {
        scale = *chunk.get(pos).ok_or_else(|| corrupt("missing scale"))? as usize;
        pos += 1;
        if scale > MAX_SCALE as usize {
            return Err(corrupt("bad scale"));
        }
    }
    let t0 = unzigzag(get_varint(chunk, &mut pos)?);
    let d1 = if n >= 2 { get_varint(chunk, &mut pos)? as i64 } else { 0 };
    let k0 = if mode != MODE_XOR { unzigzag(get_varint(chunk, &mut pos)?) } else { 0 };

    let start = out.len();
    out.reserve(n);
    let mut r = BitReader::new(&chunk[pos..]);
    // Timestamps first (values are filled in below).
    out.push(Point { t: t0, v: 0.0 });
    if n >= 2 {
        let mut t = t0.wrapping_add(d1);
        let mut delta = d1;
        out.push(Point { t, v: 0.0 });
        let tp = &PRESETS[ts_preset as usize];
        for _ in 2..n {
            delta = delta.wrapping_add(unzigzag(read_bucketed(&mut r, tp)?));
            t = t.wrapping_add(delta);
            out.push(Point { t, v: 0.0 });
        }
    }
    let points = &mut out[start..];
    let vp = &PRESETS[val_preset as usize];
    match mode {
        MODE_XOR => {
            let mut prev = r.read_wide(64)?;
            points[0].v = f64::from_bits(prev);
            let mut win = XorWindow::initial();
            for p in &mut points[1..] {
                if r.read_bit()? {
                    if !r.read_bit()? {
                        if win.leading == u32::MAX {
                            return Err(corrupt("XOR window used before it was set"));
                        }
                        let sig = 64 - win.leading - win.trailing;
                        prev ^= r.read_wide(sig)? << win.trailing;
                    } else {
                        let lead = r.read(6)? as u32;
                        let sig = r.read(6)? as u32 + 1;
                        if lead + sig > 64 {
                            return Err(corrupt("XOR window out of range"));
                        }
                        let trail = 64 - lead - sig;
                        prev ^= r.read_wide(sig)? << trail;
                        win = XorWindow { leading: lead, trailing: trail };
                    }
                }
                p.v = f64::from_bits(prev);
            }
        }
        _ => {
            let div = POW10[scale];
            let mut k = k0;
            points[0].v = k as f64 / div;
            let mut delta = 0i64;
            for (i, p) in points.iter_mut().enumerate().skip(1) {
                let step = unzigzag(read_bucketed(&mut r, vp)?);
                if mode == MODE_INT_DELTA || i == 1 {
                    delta = step;
                } else {
                    delta = delta.wrapping_add(step);
                }
                k = k.wrapping_add(delta);
                p.v = k as f64 / div;
            }
        }
    }
    Ok(())
}

/// Decodes a whole chunk.
pub(crate) fn decode(chunk: &[u8]) -> Result<Vec<Point>> {
    let mut out = Vec::new();
    decode_into(chunk, &mut out)?;
    Ok(out)
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("chunk: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{is_stale_nan, stale_nan};
    use rand::{Rng, SeedableRng};

    fn assert_round_trip(points: &[Point]) -> usize {
        let bytes = encode(points);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.len(), points.len());
        for (a, b) in points.iter().zip(&back) {
            assert_eq!(a.t, b.t);
            assert_eq!(a.v.to_bits(), b.v.to_bits(), "value {} at {} came back as {}", a.v, a.t, b.v);
        }
        assert_eq!(header(&bytes).unwrap(), (points.len(), points[0].t));
        bytes.len()
    }

    fn series(ts: impl IntoIterator<Item = i64>, mut v: impl FnMut(usize) -> f64) -> Vec<Point> {
        ts.into_iter().enumerate().map(|(i, t)| Point::new(t, v(i))).collect()
    }

    #[test]
    fn special_values_keep_their_bits() {
        let specials = [
            f64::NAN,
            stale_nan(),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::from_bits(0x7ff8_dead_beef_0001),
            1.5,
        ];
        let pts = series(0..specials.len() as i64, |i| specials[i]);
        assert_round_trip(&pts);
        let back = decode(&encode(&pts)).unwrap();
        assert!(is_stale_nan(back[1].v) && !is_stale_nan(back[0].v));
    }

    #[test]
    fn extreme_and_negative_timestamps() {
        assert_round_trip(&[Point::new(i64::MIN, 1.0), Point::new(-5, 2.0), Point::new(i64::MAX, 3.0)]);
        assert_round_trip(&[Point::new(-1_000_000_000_000, 1.0), Point::new(-999_999_999_999, 2.0)]);
        assert_round_trip(&[Point::new(42, 7.0)]);
        assert_round_trip(&series((0..300).map(|i| i * 15_000 - 86_400_000), |i| i as f64));
    }

    #[test]
    fn random_data_round_trips() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for round in 0..400 {
            let n = rng.gen_range(1..300);
            let mut t = rng.gen_range(-1i64 << 50..1i64 << 50);
            let mut ts = Vec::with_capacity(n);
            for _ in 0..n {
                ts.push(t);
                t += match round % 4 {
                    0 => 15_000 + rng.gen_range(-20..20),
                    1 => rng.gen_range(1..1_000_000_000),
                    2 => 1,
                    _ => rng.gen_range(1..100),
                };
            }
            let mut acc = 0.0f64;
            let pts = series(ts, |_| match round % 5 {
                0 => rng.gen::<f64>() * 1e6,
                1 => {
                    acc += rng.gen_range(0..100) as f64;
                    acc
                }
                2 => f64::from_bits(rng.gen()),
                3 => (rng.gen_range(-10_000..10_000) as f64) / 100.0,
                _ => [f64::NAN, stale_nan(), 1.0, f64::INFINITY][rng.gen_range(0..4)],
            });
            assert_round_trip(&pts);
        }
    }

    #[test]
    fn regular_counters_compress_well() {
        // A 15 s scrape with a few ms of jitter and a counter growing by ~50 a scrape.
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let ts: Vec<i64> = (0..240).map(|i| 1_700_000_000_123 + i * 15_000 + rng.gen_range(0..10)).collect();
        let mut c = 1e6;
        let pts = series(ts, |_| {
            c += rng.gen_range(40..60) as f64;
            c
        });
        let size = assert_round_trip(&pts);
        assert!(size < 240 * 3, "{size} bytes for 240 counter samples");
        // A constant value at exact intervals costs about two bits per sample.
        let flat = series((0..240).map(|i| i * 15_000), |_| 3.0);
        assert!(assert_round_trip(&flat) < 80);
    }

    #[test]
    fn corrupt_chunks_are_errors_not_panics() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let pts = series((0..100).map(|i| i * 1000), |i| i as f64 * 0.37);
        let good = encode(&pts);
        for _ in 0..2000 {
            let mut bad = good.clone();
            let cut = rng.gen_range(0..bad.len());
            if rng.gen_bool(0.5) {
                bad.truncate(cut);
            } else {
                bad[cut] ^= 1 << rng.gen_range(0..8);
            }
            let _ = decode(&bad);
        }
        assert!(decode(&[]).is_err());
        assert!(decode(&[5, 0xff]).is_err());
    }
}
