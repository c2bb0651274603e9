//! 160-bit identifiers on the Chord circle and interval arithmetic.
//!
//! Implementation notes:
//! - An [`Id`] is 20 big-endian bytes, the output size of SHA-1, so a key's
//!   hash is its position on the circle without conversion.
//! - Intervals are tested through clockwise distances (`x - a` modulo 2^160)
//!   rather than by case analysis on `a < b`, which makes wraparound fall out
//!   of the arithmetic. The degenerate interval with `a == b` follows the
//!   Chord convention: `(a, a)` is the whole circle except `a`, and `(a, a]`
//!   is the whole circle (a ring of one node owns every key).
//! - Serde writes a hex string to human-readable formats (the JSON status
//!   endpoint) and 20 raw bytes to binary ones (postcard on ring links).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha1::{Digest, Sha1};

/// Number of bytes in an identifier.
pub const ID_BYTES: usize = 20;
/// Number of bits in an identifier (and fingers in a full finger table).
pub const ID_BITS: usize = ID_BYTES * 8;

/// Errors from parsing an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The hex text was not exactly 40 characters long.
    #[error("identifier must be 40 hex digits, got {0} characters")]
    WrongLength(usize),
    /// The text held a character that is not a hex digit.
    #[error("identifier holds a non-hex character")]
    NotHex,
}

/// A position on the 2^160 identifier circle.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Id([u8; ID_BYTES]);

impl Id {
    /// The identifier 0.
    pub const ZERO: Id = Id([0; ID_BYTES]);
    /// The identifier 2^160 - 1.
    pub const MAX: Id = Id([0xff; ID_BYTES]);

    /// Wraps 20 big-endian bytes.
    pub const fn from_bytes(bytes: [u8; ID_BYTES]) -> Id {
        Id(bytes)
    }

    /// The 20 big-endian bytes.
    pub const fn as_bytes(&self) -> &[u8; ID_BYTES] {
        &self.0
    }

    /// SHA-1 of `data`: the id of a key or of a node's advertised address.
    pub fn hash(data: &[u8]) -> Id {
        let digest = Sha1::digest(data);
        let mut out = [0u8; ID_BYTES];
        out.copy_from_slice(&digest);
        Id(out)
    }

    /// An id whose low 64 bits are `v` and the rest zero (tests, examples).
    pub fn from_u64(v: u64) -> Id {
        let mut out = [0u8; ID_BYTES];
        out[ID_BYTES - 8..].copy_from_slice(&v.to_be_bytes());
        Id(out)
    }

    /// The top 64 bits, handy for plots and cheap comparisons in tests.
    pub fn high_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(b)
    }

    /// `self + other` modulo 2^160.
    pub fn wrapping_add(&self, other: &Id) -> Id {
        let (ah, al) = self.limbs();
        let (bh, bl) = other.limbs();
        let (lo, carry) = al.overflowing_add(bl);
        Id::from_limbs(ah.wrapping_add(bh).wrapping_add(u32::from(carry)), lo)
    }

    /// `self - other` modulo 2^160: the clockwise distance from `other` to `self`.
    pub fn wrapping_sub(&self, other: &Id) -> Id {
        let (h, l) = sub_limbs(self.limbs(), other.limbs());
        Id::from_limbs(h, l)
    }

    /// The id as (top 32 bits, low 128 bits): arithmetic on two machine
    /// words instead of twenty bytes, since lookups do it in a loop.
    fn limbs(&self) -> (u32, u128) {
        let (hi, lo) = self.0.split_at(4);
        let mut h = [0u8; 4];
        h.copy_from_slice(hi);
        let mut l = [0u8; 16];
        l.copy_from_slice(lo);
        (u32::from_be_bytes(h), u128::from_be_bytes(l))
    }

    fn from_limbs(hi: u32, lo: u128) -> Id {
        let mut out = [0u8; ID_BYTES];
        out[..4].copy_from_slice(&hi.to_be_bytes());
        out[4..].copy_from_slice(&lo.to_be_bytes());
        Id(out)
    }

    /// 2^`bit` (for `bit < 160`); `bit >= 160` wraps to zero.
    pub fn pow2(bit: usize) -> Id {
        let mut out = [0u8; ID_BYTES];
        if bit < ID_BITS {
            out[ID_BYTES - 1 - bit / 8] = 1 << (bit % 8);
        }
        Id(out)
    }

    /// The start of finger `i`: `self + 2^i` modulo 2^160.
    pub fn finger_start(&self, i: usize) -> Id {
        self.wrapping_add(&Id::pow2(i))
    }

    /// Clockwise distance from `self` to `to`.
    pub fn distance_to(&self, to: &Id) -> Id {
        to.wrapping_sub(self)
    }

    /// Is `self` in the open interval `(a, b)` going clockwise from `a`?
    /// `(a, a)` is the whole circle except `a`.
    pub fn in_open(&self, a: &Id, b: &Id) -> bool {
        let al = a.limbs();
        let dx = sub_limbs(self.limbs(), al);
        if dx == (0, 0) {
            return false;
        }
        if a == b {
            return true;
        }
        dx < sub_limbs(b.limbs(), al)
    }

    /// Is `self` in the half-open interval `(a, b]` going clockwise from `a`?
    /// `(a, a]` is the whole circle.
    pub fn in_half_open(&self, a: &Id, b: &Id) -> bool {
        if a == b {
            return true;
        }
        let al = a.limbs();
        let dx = sub_limbs(self.limbs(), al);
        dx != (0, 0) && dx <= sub_limbs(b.limbs(), al)
    }
}

/// `a - b` modulo 2^160 on (top 32 bits, low 128 bits) limbs; the tuple
/// order is the numeric order, so results compare directly.
fn sub_limbs(a: (u32, u128), b: (u32, u128)) -> (u32, u128) {
    let (lo, borrow) = a.1.overflowing_sub(b.1);
    (a.0.wrapping_sub(b.0).wrapping_sub(u32::from(borrow)), lo)
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Eight digits identify a node in logs; the full id is in Display.
        write!(f, "Id({:08x}…)", self.high_u64() >> 32)
    }
}

impl FromStr for Id {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Id, IdError> {
        let bytes = s.as_bytes();
        if bytes.len() != ID_BYTES * 2 {
            return Err(IdError::WrongLength(bytes.len()));
        }
        let mut out = [0u8; ID_BYTES];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or(IdError::NotHex)?;
            let lo = hex_value(pair[1]).ok_or(IdError::NotHex)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Id(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Id(<[u8; ID_BYTES]>::deserialize(d)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id = Id::hash(b"ws://127.0.0.1:7001");
        let text = id.to_string();
        assert_eq!(text.len(), 40);
        assert_eq!(text.parse::<Id>(), Ok(id));
        assert_eq!("zz".parse::<Id>(), Err(IdError::WrongLength(2)));
        assert_eq!("g".repeat(40).parse::<Id>(), Err(IdError::NotHex));
    }

    #[test]
    fn sha1_of_empty_is_known() {
        assert_eq!(
            Id::hash(b"").to_string(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
    }

    #[test]
    fn intervals_wrap() {
        let a = Id::from_u64(10);
        let b = Id::from_u64(20);
        assert!(Id::from_u64(15).in_open(&a, &b));
        assert!(!a.in_open(&a, &b));
        assert!(!b.in_open(&a, &b));
        assert!(b.in_half_open(&a, &b));
        // Wrapping interval (20, 10) holds 0 and MAX but not 15.
        assert!(Id::ZERO.in_open(&b, &a));
        assert!(Id::MAX.in_open(&b, &a));
        assert!(!Id::from_u64(15).in_open(&b, &a));
        // Degenerate intervals.
        assert!(b.in_open(&a, &a));
        assert!(!a.in_open(&a, &a));
        assert!(a.in_half_open(&a, &a));
    }

    #[test]
    fn arithmetic() {
        assert_eq!(Id::MAX.wrapping_add(&Id::from_u64(1)), Id::ZERO);
        assert_eq!(Id::ZERO.wrapping_sub(&Id::from_u64(1)), Id::MAX);
        assert_eq!(Id::pow2(0), Id::from_u64(1));
        assert_eq!(Id::pow2(63), Id::from_u64(1 << 63));
        assert_eq!(Id::pow2(159).as_bytes()[0], 0x80);
    }
}
