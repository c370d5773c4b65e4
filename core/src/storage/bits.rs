//! Bit-level writer and reader, plus the varint and zigzag helpers the chunk
//! and log formats share. Bits are written most-significant first.

use crate::error::{Error, Result};

/// Appends bits to a byte vector.
#[derive(Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Pending bits, left-aligned in the low `pending` bits of `acc`.
    acc: u64,
    pending: u32,
}

impl BitWriter {
    pub(crate) fn with_bytes(bytes: Vec<u8>) -> Self {
        BitWriter { bytes, acc: 0, pending: 0 }
    }

    /// Writes the low `n` bits of `value` (`n` ≤ 64).
    #[inline]
    pub(crate) fn write(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        if n > 32 {
            self.write(value >> 32, n - 32);
            self.write(value & 0xffff_ffff, 32);
            return;
        }
        let value = value & ((1u64 << n) - 1);
        self.acc = (self.acc << n) | value;
        self.pending += n;
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
        self.acc &= (1u64 << self.pending) - 1;
    }

    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write(bit as u64, 1);
    }

    /// Pads the last byte with zero bits and returns the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.pending > 0 {
            self.bytes.push((self.acc << (8 - self.pending)) as u8);
        }
        self.bytes
    }
}

/// Reads bits written by [`BitWriter`]; every read is bounds-checked so corrupt
/// input yields an error, never a panic.
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    next: usize,
    /// Buffered bits, left-aligned (the next bit is bit 63). Bits past `avail`
    /// are either zero or the stream's true next bits, so reloading them is harmless.
    buf: u64,
    avail: u32,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, next: 0, buf: 0, avail: 0 }
    }

    /// Tops the buffer up to at least 56 bits (fewer only at the end of the input).
    #[inline(always)]
    fn refill(&mut self) {
        if self.next + 8 <= self.bytes.len() {
            let word = u64::from_be_bytes(self.bytes[self.next..self.next + 8].try_into().expect("8 bytes"));
            self.buf |= word >> self.avail;
            self.next += ((63 - self.avail) >> 3) as usize;
            self.avail |= 56;
        } else {
            self.refill_tail();
        }
    }

    #[cold]
    fn refill_tail(&mut self) {
        while self.avail <= 56 && self.next < self.bytes.len() {
            self.buf |= (self.bytes[self.next] as u64) << (56 - self.avail);
            self.avail += 8;
            self.next += 1;
        }
    }

    /// Reads `n` bits, `n` ≤ 56.
    #[inline(always)]
    pub(crate) fn read(&mut self, n: u32) -> Result<u64> {
        debug_assert!(n <= 56);
        if n == 0 {
            return Ok(0);
        }
        if self.avail < n {
            self.refill();
            if self.avail < n {
                return Err(truncated());
            }
        }
        let v = self.buf >> (64 - n);
        self.buf <<= n;
        self.avail -= n;
        Ok(v)
    }

    /// Reads `n` bits, `n` ≤ 64.
    #[inline]
    pub(crate) fn read_wide(&mut self, n: u32) -> Result<u64> {
        if n <= 56 {
            return self.read(n);
        }
        let hi = self.read(n - 32)?;
        let lo = self.read(32)?;
        Ok((hi << 32) | lo)
    }

    #[inline(always)]
    pub(crate) fn read_bit(&mut self) -> Result<bool> {
        Ok(self.read(1)? == 1)
    }

    /// Reads a unary prefix: counts one bits up to `max`; a zero ends the
    /// prefix early and is consumed, after `max` ones no zero follows.
    #[inline(always)]
    pub(crate) fn read_unary(&mut self, max: u32) -> Result<u32> {
        if self.avail < max + 1 {
            self.refill();
        }
        let ones = (!self.buf).leading_zeros().min(max);
        let used = if ones == max { ones } else { ones + 1 };
        if used > self.avail {
            return Err(truncated());
        }
        self.buf <<= used;
        self.avail -= used;
        Ok(ones)
    }

    /// Reads a unary bucket number (at most `widths.len() - 1` ones) and then
    /// that bucket's `widths[b]` payload bits, in one step when they fit the buffer.
    #[inline(always)]
    pub(crate) fn read_bucketed(&mut self, widths: &[u32; 6]) -> Result<u64> {
        const MAX: u32 = 5;
        if self.avail < 48 {
            self.refill();
        }
        let ones = (!self.buf).leading_zeros().min(MAX);
        let prefix = if ones == MAX { MAX } else { ones + 1 };
        let width = widths[ones as usize];
        let total = prefix + width;
        if total < 64 && total <= self.avail {
            let v = if width == 0 { 0 } else { (self.buf << prefix) >> (64 - width) };
            self.buf <<= total;
            self.avail -= total;
            return Ok(v);
        }
        let b = self.read_unary(MAX)?;
        self.read_wide(widths[b as usize])
    }
}

fn truncated() -> Error {
    Error::Corrupt("chunk ends early".into())
}

/// Maps signed integers to unsigned so that small magnitudes stay small.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends `v` as a LEB128 varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint at `*pos`, advancing it.
#[inline]
pub(crate) fn get_varint(bytes: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*pos).ok_or_else(|| Error::Corrupt("varint ends early".into()))?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return Err(Error::Corrupt("varint overflows 64 bits".into()));
        }
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return Ok(v);
        }
        shift += 7;
        if shift > 63 {
            return Err(Error::Corrupt("varint overflows 64 bits".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_at_every_width() {
        let mut w = BitWriter::default();
        let mut expected = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..500u32 {
            x = x.rotate_left(13).wrapping_mul(0x2545_f491_4f6c_dd1d);
            let n = i % 65;
            let v = if n == 64 { x } else { x & ((1u64 << n) - 1) };
            w.write(v, n);
            expected.push((v, n));
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for (v, n) in expected {
            assert_eq!(r.read_wide(n).unwrap(), v, "width {n}");
        }
    }

    #[test]
    fn unary_prefixes_round_trip_and_truncation_is_an_error() {
        let mut w = BitWriter::default();
        for ones in [0u32, 1, 2, 5, 5, 3] {
            for _ in 0..ones {
                w.write_bit(true);
            }
            if ones < 5 {
                w.write_bit(false);
            }
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for ones in [0u32, 1, 2, 5, 5, 3] {
            assert_eq!(r.read_unary(5).unwrap(), ones);
        }
        let mut r = BitReader::new(&[0xff]);
        assert!(r.read(16).is_err());
    }

    #[test]
    fn varints_and_zigzag() {
        let mut out = Vec::new();
        let values = [0u64, 1, 127, 128, 300, u64::MAX, 1 << 63];
        for v in values {
            put_varint(&mut out, v);
        }
        let mut pos = 0;
        for v in values {
            assert_eq!(get_varint(&out, &mut pos).unwrap(), v);
        }
        assert!(get_varint(&[0x80, 0x80], &mut 0).is_err());
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -12345] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }
}
