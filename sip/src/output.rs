//! How values are written: quoted strings, and scrubbing CR/LF from any
//! text that code (not the parser) may have put into a field.
//!
//! Implementation notes: the typed fields are public, so nothing stops a
//! caller from putting `"\r\nVia: ..."` into a display name or a Call-ID.
//! Every `Display` impl in this crate writes free text through
//! [`write_clean`] or [`Quoted`], so such a value can make a message
//! invalid but can never inject a header line or break the framing.

use std::fmt;

/// Writes `s` as a `quoted-string`. CR and LF cannot be represented at all,
/// so they become spaces; other control characters become quoted-pairs.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    // Runs of ordinary text are written as slices; only special bytes (all
    // ASCII, so every slice boundary is a char boundary) are handled one by one.
    let mut plain_from = 0;
    for (i, byte) in s.bytes().enumerate() {
        let special = matches!(byte, b'\r' | b'\n' | b'"' | b'\\' | 0x7f) || (byte < 0x20 && byte != b'\t');
        if !special {
            continue;
        }
        f.write_str(s.get(plain_from..i).unwrap_or(""))?;
        if byte == b'\r' || byte == b'\n' {
            f.write_str(" ")?;
        } else {
            // `"`, `\` and control characters become quoted-pairs.
            write!(f, "\\{}", char::from(byte))?;
        }
        plain_from = i + 1;
    }
    f.write_str(s.get(plain_from..).unwrap_or(""))?;
    f.write_str("\"")
}

/// Writes `s` with CR and LF replaced by spaces, so a value set by code can
/// never break the framing of the message it ends up in.
pub(crate) fn write_clean(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if !s.bytes().any(|b| b == b'\r' || b == b'\n') {
        return f.write_str(s);
    }
    for (i, piece) in s.split(['\r', '\n']).enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        f.write_str(piece)?;
    }
    Ok(())
}

/// Displays a string as a `quoted-string`.
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_quoted(f, self.0)
    }
}

/// Displays a string with CR/LF replaced by spaces.
pub(crate) struct Clean<'a>(pub(crate) &'a str);

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_clean(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_it_must() {
        assert_eq!(Quoted("plain").to_string(), "\"plain\"");
        assert_eq!(Quoted("a\"b\\c").to_string(), "\"a\\\"b\\\\c\"");
        assert_eq!(Quoted("tab\there").to_string(), "\"tab\there\"");
        assert_eq!(Quoted("nul\0").to_string(), "\"nul\\\0\"");
        assert_eq!(Quoted("line\r\nbreak").to_string(), "\"line  break\"");
        assert_eq!(Quoted("é").to_string(), "\"é\"");
    }

    #[test]
    fn cleaning_removes_line_breaks() {
        assert_eq!(Clean("a\r\nVia: x").to_string(), "a  Via: x");
        assert_eq!(Clean("fine").to_string(), "fine");
    }
}
