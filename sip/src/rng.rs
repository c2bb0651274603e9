//! A small seeded generator for tags, branches, Call-IDs and instance ids,
//! shared by the user agent and the proxy.
//!
//! Why not `rand`: this crate takes no randomness from the system (it is
//! sans-IO; drivers seed it: the browser from `crypto.getRandomValues`,
//! the super-node from the OS, tests from a constant), and the browser
//! bundle is size-budgeted. The values only need to be unique and hard to
//! guess in practice, not cryptographic.

/// SplitMix64 (Steele, Lea, Flood 2014): one `u64` of state, good spread.
#[derive(Clone, Debug)]
pub struct Rng(u64);

/// Lower-case letters and digits: safe in tags, branches, Call-IDs and hosts.
const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0; the tiny modulo bias is harmless here).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// `len` characters of `[0-9a-z]`.
    pub fn token(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(ALPHABET[self.below(36) as usize])).collect()
    }

    /// A version 4 UUID in its usual text form.
    pub fn uuid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000; // version 4
        let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000; // RFC 4122 variant
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_uuids() {
        let mut rng = Rng::new(7);
        let a = rng.token(10);
        let b = rng.token(10);
        assert_eq!(a.len(), 10);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        let u = rng.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert!(Rng::new(1).below(5) < 5);
        assert_eq!(Rng::new(3).token(8), Rng::new(3).token(8));
    }
}
