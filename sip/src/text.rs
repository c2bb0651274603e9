//! Lexical building blocks shared by the URI and header parsers.
//!
//! RFC 3261 §25 defines a handful of character classes; each is a 256-entry
//! table here so a class test is a single load in the hot loops. The
//! [`Scanner`] walks a `&str` byte by byte and never indexes out of bounds:
//! every access goes through `get`, so malformed input becomes `None` or an
//! empty slice instead of a panic.
//!
//! Implementation notes: every class table holds ASCII bytes only. A scan that
//! stops at the first byte outside an ASCII class therefore always stops on a
//! UTF-8 character boundary, which is what makes the `str` slicing in
//! [`Scanner`] sound without `unsafe`.

use std::borrow::Cow;

/// A byte class: `true` at every byte value that belongs to the class.
pub(crate) type Class = [bool; 256];

/// Builds a class from "all ASCII letters and digits" (when `alnum`) plus `extra`.
const fn class(alnum: bool, extra: &[u8]) -> Class {
    let mut table = [false; 256];
    if alnum {
        let mut byte = 0usize;
        while byte < 128 {
            if (byte as u8).is_ascii_alphanumeric() {
                table[byte] = true;
            }
            byte += 1;
        }
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// Visible ASCII except the characters that delimit a URI inside a header.
const fn absolute_uri_class() -> Class {
    let mut table = [false; 256];
    let mut byte = 0x21usize;
    while byte < 0x7f {
        table[byte] = !matches!(byte as u8, b'<' | b'>' | b'"');
        byte += 1;
    }
    table
}

/// `token` (RFC 3261 §25.1).
pub(crate) static TOKEN: Class = class(true, b"-.!%*_+`'~");
/// `word`, the Call-ID alphabet.
pub(crate) static WORD: Class = class(true, b"-.!%*_+`'~()<>:\\\"/[]?{}");
/// `unreserved` = alphanum / mark.
pub(crate) static UNRESERVED: Class = class(true, b"-_.!~*'()");
/// `user` characters other than escapes: unreserved / user-unreserved.
pub(crate) static USER: Class = class(true, b"-_.!~*'()&=+$,;?/");
/// `password` characters other than escapes.
pub(crate) static PASSWORD: Class = class(true, b"-_.!~*'()&=+$,");
/// `paramchar` of URI parameters, other than escapes.
pub(crate) static PARAM_CHAR: Class = class(true, b"-_.!~*'()[]/:&+$");
/// `hname` / `hvalue` characters of URI headers, other than escapes.
pub(crate) static HNV_CHAR: Class = class(true, b"-_.!~*'()[]/?:+$");
/// Host names and IPv4 addresses. `_` is not in the grammar but is common in
/// the wild; accepting it costs nothing and refusing it breaks real peers.
pub(crate) static HOST: Class = class(true, b"-._");
/// Inside `[...]` of an IPv6 reference.
pub(crate) static IPV6: Class = class(true, b":.");
/// Unquoted `gen-value` of a header parameter: token / host (IPv6 included).
pub(crate) static GEN_VALUE: Class = class(true, b"-.!%*_+`'~:[]");
/// URI scheme characters after the first letter.
pub(crate) static SCHEME: Class = class(true, b"+-.");
/// Decimal digits.
pub(crate) static DIGIT: Class = class(false, b"0123456789");
/// The body of a non-SIP absolute URI, kept opaque.
pub(crate) static ABSOLUTE_URI: Class = absolute_uri_class();

/// True for SP and HTAB, the only whitespace left after unfolding.
#[inline]
pub(crate) fn is_ws(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Trims SP and HTAB (not other Unicode whitespace) from both ends.
#[inline]
pub(crate) fn trim_ws(s: &str) -> &str {
    trim_ws_end(trim_ws_start(s))
}

/// Trims SP and HTAB from the start.
#[inline]
pub(crate) fn trim_ws_start(s: &str) -> &str {
    let skip = s.bytes().take_while(|b| is_ws(*b)).count();
    // The skipped bytes are ASCII, so `skip` is a char boundary.
    s.get(skip..).unwrap_or("")
}

/// Trims SP and HTAB from the end.
#[inline]
pub(crate) fn trim_ws_end(s: &str) -> &str {
    let cut = s.bytes().rev().take_while(|b| is_ws(*b)).count();
    s.get(..s.len() - cut).unwrap_or("")
}

/// Offset of the first `byte` (ASCII) in `s`. Eight bytes per step
/// (SWAR): the strings searched here are short lines and values, where a
/// memchr call costs more in set-up than it saves.
#[inline]
pub(crate) fn find_byte(s: &str, byte: u8) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bytes = s.as_bytes();
    let pattern = LOW * u64::from(byte);
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*chunk) ^ pattern;
        // The lowest set bit marks the first zero byte of `x` (the classic
        // has-zero-byte trick; later bytes may be false positives).
        let zero = x.wrapping_sub(LOW) & !x & HIGH;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = bytes.get(i..).unwrap_or_default();
    tail.iter().position(|b| *b == byte).map(|p| i + p)
}

/// `s` split around the first `byte` (ASCII), which is dropped.
#[inline]
pub(crate) fn split_at_byte(s: &str, byte: u8) -> Option<(&str, &str)> {
    let at = find_byte(s, byte)?;
    // `at` is an ASCII byte, so both sides are on char boundaries.
    Some((s.get(..at).unwrap_or(""), s.get(at + 1..).unwrap_or("")))
}

/// True when every byte of a non-empty `s` is in `class`.
#[inline]
pub(crate) fn all_in(s: &str, class: &Class) -> bool {
    !s.is_empty() && s.bytes().all(|b| class[usize::from(b)])
}

/// True when `s` is non-empty and made of `class` bytes and well-formed `%HH` escapes.
pub(crate) fn is_escaped_text(s: &str, class: &Class) -> bool {
    let mut scanner = Scanner::new(s);
    scanner.take_escaped(class).is_some_and(|t| !t.is_empty()) && scanner.at_end()
}

/// Value of an ASCII hex digit.
#[inline]
pub(crate) fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A decimal number that did not fit or was not a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Empty, or a byte other than `0-9`.
    NotDigits,
    /// More than the allowed maximum.
    TooLarge,
}

/// Parses `1*DIGIT` (leading zeros allowed) up to `max`.
pub(crate) fn parse_decimal(s: &str, max: u64) -> Result<u64, NumberError> {
    if s.is_empty() {
        return Err(NumberError::NotDigits);
    }
    let mut value: u64 = 0;
    for byte in s.bytes() {
        if !byte.is_ascii_digit() {
            return Err(NumberError::NotDigits);
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(byte - b'0')))
            .filter(|v| *v <= max)
            .ok_or(NumberError::TooLarge)?;
    }
    Ok(value)
}

/// A forward-only cursor over a `&str`.
#[derive(Clone, Debug)]
pub(crate) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    /// The next byte, if any.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Byte offset of the cursor.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Everything from the cursor on.
    #[inline]
    pub(crate) fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    /// Moves the cursor forward by `len` bytes of an ASCII prefix already seen.
    #[inline]
    pub(crate) fn skip(&mut self, len: usize) {
        self.pos = (self.pos + len).min(self.text.len());
    }

    /// Consumes `byte` if it is next.
    #[inline]
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips SP/HTAB; says whether there was any.
    #[inline]
    pub(crate) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// The slice between two offsets this scanner produced (always on char
    /// boundaries, see the module notes); empty if that invariant were broken.
    #[inline]
    fn slice(&self, start: usize, end: usize) -> &'a str {
        debug_assert!(self.text.is_char_boundary(start) && self.text.is_char_boundary(end));
        self.text.get(start..end).unwrap_or("")
    }

    /// Everything from offset `start` (an earlier [`Scanner::pos`]) to the cursor.
    #[inline]
    pub(crate) fn since(&self, start: usize) -> &'a str {
        self.slice(start.min(self.pos), self.pos)
    }

    /// Takes the longest run of bytes in `class` (possibly empty).
    #[inline]
    pub(crate) fn take_class(&mut self, class: &Class) -> &'a str {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        while bytes.get(self.pos).is_some_and(|b| class[usize::from(*b)]) {
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    /// Takes bytes up to (not including) the first ASCII byte in `stops`, or to the end.
    #[inline]
    pub(crate) fn take_until(&mut self, stops: &[u8]) -> &'a str {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        while bytes.get(self.pos).is_some_and(|b| !stops.contains(b)) {
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    /// Takes `class` bytes and `%HH` escapes; `None` on a malformed escape.
    pub(crate) fn take_escaped(&mut self, class: &Class) -> Option<&'a str> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(self.pos) {
                Some(b) if class[usize::from(*b)] => self.pos += 1,
                Some(b'%') => {
                    let hex = |i: usize| bytes.get(self.pos + i).and_then(|b| hex_value(*b));
                    hex(1)?;
                    hex(2)?;
                    self.pos += 3;
                }
                _ => break,
            }
        }
        Some(self.slice(start, self.pos))
    }

    /// Takes a `quoted-string`, quotes included, if the cursor is on `"`.
    ///
    /// `None` when it is unterminated or holds a raw control character
    /// (RFC 3261 allows those only as quoted-pairs).
    pub(crate) fn take_quoted(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let mut i = self.pos + 1;
        loop {
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                    match *bytes.get(i + 1)? {
                        b'\r' | b'\n' => return None,
                        b if b.is_ascii() => i += 2,
                        _ => return None,
                    }
                }
                b'\t' => i += 1,
                b if b < 0x20 || b == 0x7f => return None,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        Some(self.slice(start, self.pos))
    }
}

/// The content of a validated `quoted-string` (quotes included), unescaped.
pub(crate) fn unquote(raw: &str) -> Cow<'_, str> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Items of a comma-separated list that cannot hold quotes or brackets
/// (option tags, methods), trimmed; empty items are kept for the caller to
/// reject.
pub(crate) fn comma_items(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let current = rest?;
        Some(trim_ws(match split_at_byte(current, b',') {
            Some((item, after)) => {
                rest = Some(after);
                item
            }
            None => {
                rest = None;
                current
            }
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_limits() {
        assert_eq!(parse_decimal("0068", 255), Ok(68));
        assert_eq!(parse_decimal("256", 255), Err(NumberError::TooLarge));
        assert_eq!(parse_decimal("", 9), Err(NumberError::NotDigits));
        assert_eq!(parse_decimal("-1", 9), Err(NumberError::NotDigits));
        assert_eq!(
            parse_decimal("36893488147419103232", u64::MAX),
            Err(NumberError::TooLarge)
        );
    }

    #[test]
    fn quoted_strings() {
        let mut s = Scanner::new(r#""a \"b\" c" rest"#);
        assert_eq!(s.take_quoted(), Some(r#""a \"b\" c""#));
        assert_eq!(s.rest(), " rest");
        assert_eq!(unquote(r#""a \"b\" c""#), r#"a "b" c"#);
        assert_eq!(Scanner::new("\"open").take_quoted(), None);
        assert_eq!(Scanner::new("\"a\u{1}\"").take_quoted(), None);
        assert_eq!(Scanner::new("\"\\").take_quoted(), None);
        assert_eq!(Scanner::new("\"\\é\"").take_quoted(), None);
        assert_eq!(Scanner::new("\"é\"").take_quoted(), Some("\"é\""));
    }

    #[test]
    fn byte_search() {
        for (hay, byte, want) in [
            ("", b'x', None),
            ("abc", b'c', Some(2)),
            ("0123456789abcdef\n", b'\n', Some(16)),
            ("01234567\x01\n", b'\n', Some(9)),
            ("é\u{100}:x", b':', Some(4)),
            ("0123456701234567", b'9', None),
        ] {
            assert_eq!(find_byte(hay, byte), want, "{hay:?}");
            assert_eq!(find_byte(hay, byte), hay.bytes().position(|b| b == byte), "{hay:?}");
        }
    }

    #[test]
    fn escapes() {
        assert!(is_escaped_text("a%41b", &USER));
        assert!(!is_escaped_text("a%4", &USER));
        assert!(!is_escaped_text("a%zz", &USER));
        assert!(!is_escaped_text("", &USER));
        assert!(!is_escaped_text("a b", &USER));
    }
}
