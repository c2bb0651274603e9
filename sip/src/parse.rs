//! Parsing the head of a message: start line, header lines, unfolding,
//! limits. Framing (where the head and body end) is in `framing.rs`.
//!
//! Implementation notes: the head is one `&str` (validated as UTF-8 once),
//! split at LF with memchr speed. A header value that is not folded is
//! parsed straight from that slice; only folded values are copied, to
//! replace each fold by one space (RFC 3261 §7.3.1).

use crate::header::name::{classify, Kind, Name};
use crate::header::{
    check_other_value, parse_content_length, parse_into, Header, HeaderError, OtherHeader,
};
use crate::headers::Headers;
use crate::limits::Limits;
use crate::method::Method;
use crate::text::{all_in, split_at_byte, trim_ws, trim_ws_end, TOKEN};
use crate::uri::{Uri, UriError};

/// Why a message could not be parsed, and where.
///
/// [`ParseError::status_code`] is the response a server should send when
/// the message was a request. A malformed response is dropped instead
/// (RFC 4475 bigcode, scalarlg).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but CRLF keep-alives (or nothing at all).
    #[error("empty message")]
    Empty,
    /// The message (or, on a stream, its unfinished head) is larger than
    /// [`Limits::max_message_bytes`].
    #[error("message is larger than the {limit_bytes}-byte limit")]
    MessageTooLarge {
        /// The limit in force.
        limit_bytes: usize,
    },
    /// Content-Length announces a body that takes the message past
    /// [`Limits::max_message_bytes`].
    #[error("Content-Length {content_length} takes the message past the {limit_bytes}-byte limit")]
    BodyTooLarge {
        /// The announced body length.
        content_length: usize,
        /// The limit in force.
        limit_bytes: usize,
    },
    /// More header values than [`Limits::max_header_count`].
    #[error("more than {limit} header values")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// A header field longer than [`Limits::max_header_line_bytes`].
    #[error("line {line}: header field longer than {limit_bytes} bytes")]
    HeaderLineTooLong {
        /// 1-based line number where the field starts.
        line: usize,
        /// The limit in force.
        limit_bytes: usize,
    },
    /// The request or status line is longer than
    /// [`Limits::max_header_line_bytes`] (for a request, the Request-URI is
    /// what makes it long: 414).
    #[error("line 1: start line longer than {limit_bytes} bytes")]
    StartLineTooLong {
        /// The limit in force.
        limit_bytes: usize,
    },
    /// A datagram without the empty line that ends the header section.
    #[error("header section is not terminated by an empty line")]
    UnterminatedHead,
    /// The start line or a header is not UTF-8.
    #[error("line {line}: invalid UTF-8")]
    InvalidUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// A line ends in LF without CR, or holds a lone CR.
    #[error("line {line}: line does not end in CRLF")]
    BadLineEnd {
        /// 1-based line number.
        line: usize,
    },
    /// The request or status line is malformed.
    #[error("line 1: {reason}")]
    BadStartLine {
        /// What is wrong.
        reason: &'static str,
    },
    /// The Request-URI is malformed.
    #[error("line 1: Request-URI: {0}")]
    BadRequestUri(UriError),
    /// The Request-URI carries `?headers` (RFC 4475 escruri).
    #[error("line 1: Request-URI must not have headers")]
    RequestUriHeaders,
    /// `SIP/x.y` with a version other than 2.0 (RFC 4475 badvers).
    #[error("line 1: SIP version {version:?} is not supported")]
    VersionNotSupported {
        /// The version as received.
        version: String,
    },
    /// A status code that is not three digits from 100 to 699 (RFC 4475 bigcode).
    #[error("line 1: status code {code:?} is not 100-699")]
    BadStatusCode {
        /// The code as received (cut to 16 bytes).
        code: String,
    },
    /// A header line without a colon, with a bad name, or a continuation
    /// line with nothing to continue.
    #[error("line {line}: {reason}")]
    BadHeaderLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A header value is malformed.
    #[error("line {line}: {name}: {source}")]
    BadHeader {
        /// 1-based line number where the field starts.
        line: usize,
        /// The header name as received.
        name: String,
        /// What is wrong with the value.
        source: HeaderError,
    },
    /// A second From, To, Call-ID, CSeq, Max-Forwards, Expires,
    /// Content-Type or Content-Length (RFC 4475 multi01, mcl01).
    #[error("line {line}: duplicate {name} header")]
    DuplicateHeader {
        /// 1-based line number of the duplicate.
        line: usize,
        /// The header's full name.
        name: &'static str,
    },
    /// No Content-Length on a stream transport (RFC 3261 §18.3).
    #[error("Content-Length is required on a stream transport")]
    MissingContentLength,
    /// Content-Length larger than the rest of the datagram (RFC 4475 clerr).
    #[error("Content-Length {content_length} exceeds the {available_bytes} bytes left in the datagram")]
    ContentLengthExceedsDatagram {
        /// The announced length.
        content_length: usize,
        /// What the datagram holds after the head.
        available_bytes: usize,
    },
    /// The CSeq method differs from the request method (RFC 4475 mismatch01/02).
    #[error("CSeq method {cseq_method} does not match request method {method}")]
    CSeqMethodMismatch {
        /// The request-line method.
        method: String,
        /// The CSeq method.
        cseq_method: String,
    },
}

impl ParseError {
    /// The response a server should send for a request that failed so.
    pub fn status_code(&self) -> u16 {
        match self {
            ParseError::BodyTooLarge { .. } => 413,
            ParseError::MessageTooLarge { .. }
            | ParseError::TooManyHeaders { .. }
            | ParseError::HeaderLineTooLong { .. } => 513,
            ParseError::VersionNotSupported { .. } => 505,
            ParseError::StartLineTooLong { .. } => 414,
            _ => 400,
        }
    }
}

/// The parsed start line.
pub(crate) enum StartLine {
    Request { method: Method, uri: Uri },
    Response { status: u16, reason: String },
}

/// A parsed head: the message minus its body.
pub(crate) struct Head {
    pub(crate) start: StartLine,
    pub(crate) headers: Headers,
    pub(crate) content_length: Option<usize>,
}

/// Parses `head`: the start line and header lines, each ending in CRLF,
/// without the empty line that closes the section.
pub(crate) fn parse_head(head: &str, limits: &Limits) -> Result<Head, ParseError> {
    let mut lines = Lines(head).peekable();
    let first = lines.next().ok_or(ParseError::Empty)?;
    if first.len() > limits.max_header_line_bytes {
        return Err(ParseError::StartLineTooLong { limit_bytes: limits.max_header_line_bytes });
    }
    let start = parse_start_line(strip_cr(first, 1)?)?;
    // A typical request has around a dozen header values.
    let mut headers = Headers::with_capacity(16);
    let mut seen_singletons: u32 = 0;
    let mut content_length = None;
    let mut line_no = 1;
    while let Some(raw) = lines.next() {
        line_no += 1;
        let field_line = line_no;
        let line = strip_cr(raw, line_no)?;
        let mut folded: Option<String> = None;
        while let Some(next) = lines.peek() {
            if !next.starts_with([' ', '\t']) {
                break;
            }
            line_no += 1;
            let continuation = trim_ws(strip_cr(next, line_no)?);
            lines.next();
            let value = folded.get_or_insert_with(|| trim_ws_end(line).to_owned());
            value.push(' ');
            value.push_str(continuation);
        }
        let field = folded.as_deref().unwrap_or(line);
        if field.len() > limits.max_header_line_bytes {
            return Err(ParseError::HeaderLineTooLong {
                line: field_line,
                limit_bytes: limits.max_header_line_bytes,
            });
        }
        let bad_line = |reason| ParseError::BadHeaderLine { line: field_line, reason };
        if field.starts_with([' ', '\t']) {
            return Err(bad_line("continuation line with no header to continue"));
        }
        let (name, value) = split_at_byte(field, b':').ok_or_else(|| bad_line("missing ':'"))?;
        let name = trim_ws_end(name);
        if !all_in(name, &TOKEN) {
            return Err(bad_line("header name is not a token"));
        }
        let value = trim_ws(value);
        let bad_value = |source| ParseError::BadHeader { line: field_line, name: name.to_owned(), source };
        match classify(name) {
            Name::Typed(kind) => {
                if kind.is_singleton() {
                    if seen_singletons & kind.bit() != 0 {
                        return Err(ParseError::DuplicateHeader { line: field_line, name: kind.canonical() });
                    }
                    seen_singletons |= kind.bit();
                }
                if kind == Kind::ContentLength {
                    content_length = Some(parse_content_length(value).map_err(bad_value)?);
                } else {
                    parse_into(kind, value, headers.list_mut()).map_err(bad_value)?;
                }
            }
            Name::Other(full_name) => {
                check_other_value(value).map_err(bad_value)?;
                headers.push(Header::Other(OtherHeader::new_unchecked(full_name, value)));
            }
        }
        if headers.len() > limits.max_header_count {
            return Err(ParseError::TooManyHeaders { limit: limits.max_header_count });
        }
    }
    if let (StartLine::Request { method, .. }, Some(cseq)) = (&start, headers.cseq()) {
        if cseq.method != *method {
            return Err(ParseError::CSeqMethodMismatch {
                method: method.to_string(),
                cseq_method: cseq.method.to_string(),
            });
        }
    }
    Ok(Head { start, headers, content_length })
}

/// The lines of the head, each with its CR but without its LF. A plain
/// loop rather than `split('\n')`: lines are short, and memchr's set-up
/// costs more than it saves on them.
struct Lines<'a>(&'a str);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.0.is_empty() {
            return None;
        }
        let (line, rest) = split_at_byte(self.0, b'\n').unwrap_or((self.0, ""));
        self.0 = rest;
        Some(line)
    }
}

/// Removes the CR of a line split at LF; a missing CR is an error. A lone
/// CR inside a line is not looked for here: no header, URI or reason-phrase
/// grammar admits a control character, so value validation rejects it.
fn strip_cr(line: &str, line_no: usize) -> Result<&str, ParseError> {
    line.strip_suffix('\r').ok_or(ParseError::BadLineEnd { line: line_no })
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let bad = |reason| ParseError::BadStartLine { reason };
    if line.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let (version, rest) = line.split_once(' ').ok_or_else(|| bad("status line has no status code"))?;
        check_version(version)?;
        // Tolerate a missing SP before an empty reason phrase.
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = match code.parse::<u16>() {
            Ok(status) if code.len() == 3 && (100..=699).contains(&status) => status,
            _ => {
                let shown: String = code.chars().take(16).collect();
                return Err(ParseError::BadStatusCode { code: shown });
            }
        };
        if check_other_value(reason).is_err() {
            return Err(bad("control character in the reason phrase"));
        }
        return Ok(StartLine::Response { status, reason: reason.to_owned() });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version
    let (method, rest) = line.split_once(' ').ok_or_else(|| bad("request line has no Request-URI"))?;
    let (uri, version) = rest.rsplit_once(' ').ok_or_else(|| bad("request line has no SIP-Version"))?;
    if version.is_empty() {
        return Err(bad("whitespace after the SIP-Version"));
    }
    check_version(version)?;
    if uri.is_empty() || uri.contains([' ', '\t']) {
        return Err(bad("extra whitespace in the request line"));
    }
    let method = Method::parse(method).map_err(|_| bad("method is not a token"))?;
    let uri = Uri::parse(uri).map_err(ParseError::BadRequestUri)?;
    if uri.as_sip().is_some_and(|u| !u.headers.is_empty()) {
        return Err(ParseError::RequestUriHeaders);
    }
    Ok(StartLine::Request { method, uri })
}

/// `SIP/2.0`, case-insensitive; another well-formed version is a 505.
fn check_version(version: &str) -> Result<(), ParseError> {
    let numbers = version
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .and_then(|_| version.get(4..));
    let well_formed = numbers
        .and_then(|n| n.split_once('.'))
        .is_some_and(|(major, minor)| {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            digits(major) && digits(minor)
        });
    if !well_formed {
        return Err(ParseError::BadStartLine { reason: "malformed SIP-Version" });
    }
    if numbers != Some("2.0") {
        let shown: String = version.chars().take(16).collect();
        return Err(ParseError::VersionNotSupported { version: shown });
    }
    Ok(())
}
