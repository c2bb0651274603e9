//! Where a message starts and ends: datagrams and streams (RFC 3261 §18.3).
//!
//! - [`parse_datagram`]: UDP datagrams and WebSocket messages (RFC 7118
//!   carries one SIP message per WebSocket message, so it frames like a
//!   datagram). Content-Length, if present, must fit in the buffer; bytes
//!   after the body are ignored (RFC 4475 dblreq); without Content-Length
//!   the body runs to the end (RFC 4475 inv2543).
//! - [`parse_stream`]: TCP/TLS byte streams. Content-Length is required;
//!   leading CRLFs (keep-alives, RFC 5626 §3.5.1) are skipped.
//!
//! Implementation notes: the head is found by validating the buffer as UTF-8
//! up to the first invalid byte (usually the whole buffer, at SIMD speed) and
//! searching that prefix for CRLFCRLF. The body may be any bytes, which is
//! why the prefix, not the whole buffer, is searched.

use crate::limits::Limits;
use crate::message::{Message, Request, Response};
use crate::parse::{parse_head, Head, ParseError, StartLine};
use crate::text::find_byte;

/// Parses one datagram (or WebSocket message) holding one SIP message.
pub fn parse_datagram(buf: &[u8], limits: &Limits) -> Result<Message, ParseError> {
    if buf.len() > limits.max_message_bytes {
        return Err(oversized_datagram(buf, limits));
    }
    let rest = buf.get(keepalive_len(buf)..).unwrap_or_default();
    if rest.is_empty() {
        return Err(ParseError::Empty);
    }
    let (head_text, body_start) = match find_head(rest) {
        HeadSearch::Found { head, body_start } => (head, body_start),
        HeadSearch::Incomplete => return Err(ParseError::UnterminatedHead),
        HeadSearch::InvalidUtf8 { line } => return Err(ParseError::InvalidUtf8 { line }),
    };
    let head = parse_head(head_text, limits)?;
    let available = rest.get(body_start..).unwrap_or_default();
    let body = match head.content_length {
        Some(len) => available.get(..len).ok_or(ParseError::ContentLengthExceedsDatagram {
            content_length: len,
            available_bytes: available.len(),
        })?,
        None => available,
    };
    Ok(build(head, body))
}

/// Why a datagram over the size limit is refused: when its header section
/// fits and it is the body that takes it over, 413 (the request entity is
/// too large); otherwise 513 (the message is).
fn oversized_datagram(buf: &[u8], limits: &Limits) -> ParseError {
    let too_large = ParseError::MessageTooLarge { limit_bytes: limits.max_message_bytes };
    let window = buf.get(..limits.max_message_bytes).unwrap_or(buf);
    let rest = window.get(keepalive_len(window)..).unwrap_or_default();
    match find_head(rest) {
        HeadSearch::Found { head, body_start } => match parse_head(head, limits) {
            Ok(h) => ParseError::BodyTooLarge {
                content_length: h.content_length.unwrap_or(buf.len().saturating_sub(body_start)),
                limit_bytes: limits.max_message_bytes,
            },
            Err(_) => too_large,
        },
        _ => too_large,
    }
}

/// Parses the first message in a stream buffer.
///
/// - `Ok(None)`: the buffer holds only part of a message (or only CRLF
///   keep-alives); read more and call again with the grown buffer.
/// - `Ok(Some((message, consumed)))`: drop `consumed` bytes (leading
///   keep-alives included) from the front of the buffer.
/// - `Err(_)`: the stream cannot be resynchronised; answer if possible
///   ([`ParseError::status_code`]) and close the connection.
///
/// A driver that wants to answer RFC 5626 CRLFCRLF pings calls
/// [`keepalive_len`] first and drains what it reports.
pub fn parse_stream(buf: &[u8], limits: &Limits) -> Result<Option<(Message, usize)>, ParseError> {
    let skipped = keepalive_len(buf);
    let too_large = ParseError::MessageTooLarge { limit_bytes: limits.max_message_bytes };
    if skipped > limits.max_message_bytes {
        return Err(too_large);
    }
    let rest = buf.get(skipped..).unwrap_or_default();
    if rest.is_empty() {
        return Ok(None);
    }
    let (head_text, body_start) = match find_head(rest) {
        HeadSearch::Found { head, body_start } => (head, body_start),
        HeadSearch::Incomplete if rest.len() > limits.max_message_bytes => return Err(too_large),
        HeadSearch::Incomplete => return Ok(None),
        HeadSearch::InvalidUtf8 { line } => return Err(ParseError::InvalidUtf8 { line }),
    };
    if body_start > limits.max_message_bytes {
        return Err(too_large);
    }
    let head = parse_head(head_text, limits)?;
    let content_length = head.content_length.ok_or(ParseError::MissingContentLength)?;
    let total = body_start.saturating_add(content_length);
    if total > limits.max_message_bytes {
        return Err(ParseError::BodyTooLarge {
            content_length,
            limit_bytes: limits.max_message_bytes,
        });
    }
    match rest.get(body_start..total) {
        Some(body) => Ok(Some((build(head, body), skipped + total))),
        None => Ok(None),
    }
}

/// Length of the CRLF keep-alives at the front of `buf` (whole CRLF pairs).
pub fn keepalive_len(buf: &[u8]) -> usize {
    buf.chunks_exact(2).take_while(|pair| *pair == b"\r\n").count() * 2
}

enum HeadSearch<'a> {
    /// `head` runs through the CRLF of the last header line; the body
    /// starts at `body_start`.
    Found { head: &'a str, body_start: usize },
    /// No CRLFCRLF yet.
    Incomplete,
    /// A byte that is not UTF-8 before the end of the head.
    InvalidUtf8 { line: usize },
}

fn find_head(buf: &[u8]) -> HeadSearch<'_> {
    let (text, invalid) = match std::str::from_utf8(buf) {
        Ok(text) => (text, false),
        Err(error) => {
            let valid = buf.get(..error.valid_up_to()).unwrap_or_default();
            let text = std::str::from_utf8(valid).unwrap_or_default();
            // error_len() is None when the buffer merely ends mid-character.
            (text, error.error_len().is_some())
        }
    };
    match find_blank_line(text) {
        Some(end) => HeadSearch::Found {
            head: text.get(..end + 2).unwrap_or_default(),
            body_start: end + 4,
        },
        None if invalid => HeadSearch::InvalidUtf8 { line: text.matches('\n').count() + 1 },
        None => HeadSearch::Incomplete,
    }
}

/// Offset of the first CRLFCRLF: the first LF that is preceded by CR and
/// followed by CRLF. Jumping from LF to LF is cheaper than a substring search
/// on heads of a few hundred bytes.
fn find_blank_line(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    loop {
        let lf = from + find_byte(text.get(from..)?, b'\n')?;
        if lf >= 1 && bytes.get(lf - 1) == Some(&b'\r') && bytes.get(lf + 1..lf + 3) == Some(b"\r\n") {
            return Some(lf - 1);
        }
        from = lf + 1;
    }
}

fn build(head: Head, body: &[u8]) -> Message {
    let Head { start, headers, .. } = head;
    match start {
        StartLine::Request { method, uri } => Message::Request(Request {
            method,
            uri,
            headers,
            body: body.to_vec(),
        }),
        StartLine::Response { status, reason } => Message::Response(Response {
            status,
            reason,
            headers,
            body: body.to_vec(),
        }),
    }
}

impl Message {
    /// Parses one complete message with default [`Limits`], framed as a
    /// datagram. Shorthand for [`parse_datagram`].
    pub fn parse(buf: &[u8]) -> Result<Message, ParseError> {
        parse_datagram(buf, &Limits::default())
    }
}
