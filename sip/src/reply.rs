//! Replies to requests that failed to parse (RFC 4475 §3.1.2: a server
//! still owes a 400, 413, 505 or 513), built from their raw header lines.
//!
//! Implementation notes: a message that failed to parse cannot be trusted
//! to have any well-formed header, so this scans the bytes leniently, the
//! way the sender will read our answer: the first line must look like a
//! request line (a method token, whitespace, and `SIP/` further on; a
//! status line is never answered); header lines end at LF with or without
//! CR; names are case-insensitive and may be compact (`v`, `f`, `t`, `i`);
//! folded lines are joined with one space; the scan stops at the first
//! empty line or the end of the bytes. Content-Length is never read, so a
//! lying one (RFC 4475 clerr, ncl) changes nothing.
//!
//! The reply copies every Via value, From, To, Call-ID and CSeq verbatim
//! (RFC 3261 §8.2.6.2), because the sender matches the reply to its
//! transaction by its own top Via branch and CSeq and will recognise its
//! own bytes even where our parser does not (RFC 4475 badvers has
//! `Via: SIP/7.0/UDP ...` and wants a 505). So the reply parses with this
//! crate's parser exactly when the copied values do; when the defect is in
//! one of them (badvers, badinv01, quotbal, baddn, badaspec, scalar02) the
//! reply carries the defect back to its author, which is the point.
//! Values that are not UTF-8 or hold control characters other than HTAB
//! are dropped rather than copied, so the reply never carries a CR or LF
//! it did not write itself.

use crate::text::TOKEN;

/// Most bytes of header values copied into a reply (From, To, Call-ID and
/// CSeq first, then Via values in order while they fit).
pub const MAX_COPIED_BYTES: usize = 8 * 1024;

/// Only this much of the input is scanned for header lines.
pub const MAX_SCANNED_BYTES: usize = 64 * 1024;

/// Longest reason phrase written.
const MAX_REASON_BYTES: usize = 128;

/// The response to send for `bytes`, a request that failed to parse: a
/// status line with `status` (300-699) and `reason`, every Via, From, To
/// (with `;tag=to_tag` added when it has no tag; `to_tag` is cut to its
/// token characters), Call-ID, CSeq, and `Content-Length: 0`.
///
/// `None` when there is nothing to answer: the bytes do not start (after
/// CRLF keep-alives) with something like a request line, the message is a
/// response, it has no usable Via (the reply could not be matched), or the
/// status is not 300-699. Never panics, whatever the bytes.
///
/// ```
/// let bad = b"OPTIONS sip:t.watson@example.org SIP/7.0\r\n\
///     v: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n\
///     f: <sip:a@example.com>;tag=q\r\nt: <sip:t@example.org>\r\n\
///     i: badvers.31417@c.example.com\r\nCSeq: 1 OPTIONS\r\n\r\n";
/// let reply = sip::reply::reply_to_unparsable(bad, 505, "Version Not Supported", "x1").unwrap();
/// assert_eq!(
///     String::from_utf8(reply).unwrap(),
///     "SIP/2.0 505 Version Not Supported\r\n\
///      Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n\
///      From: <sip:a@example.com>;tag=q\r\nTo: <sip:t@example.org>;tag=x1\r\n\
///      Call-ID: badvers.31417@c.example.com\r\nCSeq: 1 OPTIONS\r\n\
///      Content-Length: 0\r\n\r\n"
/// );
/// ```
pub fn reply_to_unparsable(bytes: &[u8], status: u16, reason: &str, to_tag: &str) -> Option<Vec<u8>> {
    if !(300..=699).contains(&status) {
        return None;
    }
    let start = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n'))?;
    let bytes = bytes.get(start..)?;
    let bytes = bytes.get(..bytes.len().min(MAX_SCANNED_BYTES))?;
    let mut lines = bytes.split(|b| *b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    if !looks_like_request_line(lines.next()?) {
        return None;
    }
    let copied = Copied::scan(lines);
    copied.write(status, reason, to_tag)
}

/// The headers a reply copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wanted {
    Via,
    From,
    To,
    CallId,
    CSeq,
}

impl Wanted {
    fn classify(name: &[u8]) -> Option<Wanted> {
        let is = |full: &str, compact: &str| name.eq_ignore_ascii_case(full.as_bytes()) || name.eq_ignore_ascii_case(compact.as_bytes());
        if is("Via", "v") {
            Some(Wanted::Via)
        } else if is("From", "f") {
            Some(Wanted::From)
        } else if is("To", "t") {
            Some(Wanted::To)
        } else if is("Call-ID", "i") {
            Some(Wanted::CallId)
        } else if name.eq_ignore_ascii_case(b"CSeq") {
            Some(Wanted::CSeq)
        } else {
            None
        }
    }
}

/// The values found, each as it will be written.
#[derive(Default)]
struct Copied {
    vias: Vec<String>,
    from: Option<String>,
    to: Option<String>,
    call_id: Option<String>,
    cseq: Option<String>,
}

impl Copied {
    fn scan<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Copied {
        let mut copied = Copied::default();
        // The header being read (folded lines extend it), if it is wanted.
        let mut current: Option<(Wanted, Vec<u8>)> = None;
        for line in lines {
            if line.is_empty() {
                break;
            }
            if matches!(line.first(), Some(b' ' | b'\t')) {
                if let Some((_, value)) = &mut current {
                    // A value past the cap is dropped later; stop growing it.
                    if value.len() <= MAX_COPIED_BYTES {
                        value.push(b' ');
                        value.extend_from_slice(trim(line));
                    }
                }
                continue;
            }
            copied.finish(current.take());
            let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
            let (name, value) = (trim(line.get(..colon).unwrap_or_default()), line.get(colon + 1..).unwrap_or_default());
            current = Wanted::classify(name).map(|wanted| (wanted, trim(value).to_vec()));
        }
        copied.finish(current);
        copied
    }

    /// Keeps a finished header value if it is clean text: every Via, the
    /// first of the others.
    fn finish(&mut self, header: Option<(Wanted, Vec<u8>)>) {
        let Some((wanted, value)) = header else { return };
        let Ok(value) = String::from_utf8(trim(&value).to_vec()) else { return };
        if value.is_empty() || value.len() > MAX_COPIED_BYTES || value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return;
        }
        let slot = match wanted {
            Wanted::Via => {
                self.vias.push(value);
                return;
            }
            Wanted::From => &mut self.from,
            Wanted::To => &mut self.to,
            Wanted::CallId => &mut self.call_id,
            Wanted::CSeq => &mut self.cseq,
        };
        slot.get_or_insert(value);
    }

    fn write(mut self, status: u16, reason: &str, to_tag: &str) -> Option<Vec<u8>> {
        let tag: String = to_tag.chars().filter(|c| c.is_ascii() && TOKEN[usize::from(*c as u8)]).take(64).collect();
        if let Some(to) = &mut self.to {
            if !tag.is_empty() && !has_tag(to) {
                to.push_str(";tag=");
                to.push_str(&tag);
            }
        }
        let mut budget = MAX_COPIED_BYTES;
        let mut singletons = Vec::new();
        for (name, value) in [("From", self.from), ("To", self.to), ("Call-ID", self.call_id), ("CSeq", self.cseq)] {
            if let Some(value) = value.filter(|v| v.len() <= budget) {
                budget -= value.len();
                singletons.push((name, value));
            }
        }
        let mut vias = Vec::new();
        for via in self.vias {
            if via.len() > budget {
                break;
            }
            budget -= via.len();
            vias.push(via);
        }
        if vias.is_empty() {
            return None;
        }
        let reason: String = reason
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .scan(0, |len, c| {
                *len += c.len_utf8();
                (*len <= MAX_REASON_BYTES).then_some(c)
            })
            .collect();
        let mut out = format!("SIP/2.0 {status} {reason}\r\n");
        for via in vias {
            out.push_str(&format!("Via: {via}\r\n"));
        }
        for (name, value) in singletons {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("Content-Length: 0\r\n\r\n");
        Some(out.into_bytes())
    }
}

/// A method token, whitespace, and `SIP/` somewhere after it; not a
/// status line.
fn looks_like_request_line(line: &[u8]) -> bool {
    if line.get(..4).is_some_and(|start| start.eq_ignore_ascii_case(b"SIP/")) {
        return false;
    }
    let method_len = line.iter().take_while(|b| TOKEN[usize::from(**b)]).count();
    let rest = line.get(method_len..).unwrap_or_default();
    method_len > 0
        && matches!(rest.first(), Some(b' ' | b'\t'))
        && rest.windows(4).any(|w| w.eq_ignore_ascii_case(b"SIP/"))
}

/// True when a To value has a `tag` parameter: a `;` outside quotes and
/// angle brackets, then `tag`, then `=` (whitespace allowed around them).
fn has_tag(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (mut in_quotes, mut in_angle, mut i) = (false, false, 0);
    while let Some(&byte) = bytes.get(i) {
        i += 1;
        match byte {
            b'\\' if in_quotes => i += 1,
            b'"' => in_quotes = !in_quotes,
            b'<' if !in_quotes => in_angle = true,
            b'>' if !in_quotes => in_angle = false,
            b';' if !in_quotes && !in_angle => {
                let rest = bytes.get(i..).unwrap_or_default();
                let rest = trim(rest);
                let name_len = rest.iter().take_while(|b| TOKEN[usize::from(**b)]).count();
                let after = trim(rest.get(name_len..).unwrap_or_default());
                if rest.get(..name_len).is_some_and(|n| n.eq_ignore_ascii_case(b"tag")) && after.first() == Some(&b'=') {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Strips spaces and tabs at both ends.
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Option<String> {
        reply_to_unparsable(text.as_bytes(), 400, "Bad Request", "srv1").map(|b| String::from_utf8(b).expect("we write text"))
    }

    #[test]
    fn compact_folded_and_case_insensitive_headers() {
        let text = "\r\n\r\nINVITE  sip:x  SIP/2.0\nV: SIP/2.0/UDP a;branch=z9hG4bK1,\n SIP/2.0/UDP b;branch=z9hG4bK2\r\n\
            via:SIP/2.0/TCP c\r\nF: <sip:f@x>;tag=1\r\nT: \"Bob; tag=no\" <sip:t@x;tag=no>\r\nI: cid\r\n\
            cseq: 7\r\n\tINVITE\r\nContent-Length: 99999\r\nFrom: <sip:second@x>\r\n\r\nv: SIP/2.0/UDP body\r\n";
        assert_eq!(
            reply(text).as_deref(),
            Some(
                "SIP/2.0 400 Bad Request\r\n\
                 Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n\
                 Via: SIP/2.0/TCP c\r\nFrom: <sip:f@x>;tag=1\r\n\
                 To: \"Bob; tag=no\" <sip:t@x;tag=no>;tag=srv1\r\nCall-ID: cid\r\nCSeq: 7 INVITE\r\n\
                 Content-Length: 0\r\n\r\n"
            )
        );
    }

    #[test]
    fn existing_tags_are_kept() {
        for to in ["<sip:t@x>;tag=a", "sip:t@x ; TAG = a", "sip:t@x;tag=a"] {
            let text = format!("BYE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nTo: {to}\r\n\r\n");
            let reply = reply(&text).expect("has a Via");
            assert!(reply.contains(&format!("To: {to}\r\n")), "{reply}");
        }
    }

    #[test]
    fn nothing_to_answer() {
        assert_eq!(reply(""), None);
        assert_eq!(reply("\r\n\r\n"), None);
        assert_eq!(reply("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\n\r\n"), None, "a response");
        assert_eq!(reply("sip/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\n\r\n"), None, "a response");
        assert_eq!(reply("GET / HTTP/1.1\r\nVia: SIP/2.0/UDP a\r\n\r\n"), None, "not SIP");
        assert_eq!(reply(" INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n\r\n"), None);
        assert_eq!(reply("INVITE sip:x SIP/2.0\r\nFrom: <sip:a@b>\r\n\r\n"), None, "no Via");
        assert_eq!(reply("INVITE sip:x SIP/2.0\r\n\r\nVia: SIP/2.0/UDP a\r\n"), None, "Via in the body");
        assert_eq!(reply("INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP \x01a\r\n\r\n"), None, "control character");
        let ok = "INVITE sip:x SIP/2.0\r\nVia: a\r\n\r\n".as_bytes();
        assert_eq!(reply_to_unparsable(ok, 200, "OK", "t"), None, "not an error status");
        let latin1 = b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP \xe9\r\n\r\n";
        assert_eq!(reply_to_unparsable(latin1, 400, "Bad", "t"), None);
    }

    #[test]
    fn reason_and_tag_cannot_inject_lines() {
        let text = "INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nTo: <sip:t@x>\r\n\r\n";
        let out = reply_to_unparsable(text.as_bytes(), 400, "Bad\r\nX: y", "t\r\nX: z").expect("has a Via");
        let out = String::from_utf8(out).expect("text");
        assert!(out.starts_with("SIP/2.0 400 Bad  X: y\r\n"), "{out}");
        assert!(out.contains("To: <sip:t@x>;tag=tXz\r\n"), "{out}");
        assert_eq!(out.matches("\r\n").count(), 5);
    }

    #[test]
    fn copies_are_capped() {
        let long_via = format!("SIP/2.0/UDP {};branch=z9hG4bK1", "h".repeat(3000));
        let mut text = String::from("INVITE sip:x SIP/2.0\r\n");
        for _ in 0..10 {
            text.push_str(&format!("Via: {long_via}\r\n"));
        }
        text.push_str(&format!("Call-ID: {}\r\n\r\n", "c".repeat(9000)));
        let out = reply(&text).expect("the first Vias fit");
        assert_eq!(out.matches("Via: ").count(), 2);
        assert!(!out.contains("Call-ID"), "too long to copy");
        assert!(out.len() < MAX_COPIED_BYTES + 200);
        let huge = format!("INVITE sip:x SIP/2.0\r\nVia: {}\r\n\r\n", "v".repeat(MAX_COPIED_BYTES + 1));
        assert_eq!(reply(&huge), None);
    }
}
