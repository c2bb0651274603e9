//! Requests, responses, and their canonical serialization.
//!
//! Output is canonical: full header names, one value per header line in the
//! stored order, CRLF line ends, and `Content-Length` always written last,
//! computed from the body. Parsing that output gives back an equal message,
//! and writing it again gives the same bytes.

use std::fmt;

use crate::headers::Headers;
use crate::method::Method;
use crate::status::reason_phrase;
use crate::output::write_clean;
use crate::uri::Uri;

/// What is wrong with a message as a whole (as opposed to its syntax).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A header RFC 3261 §8.1.1 requires is absent (RFC 4475 insuf).
    #[error("missing mandatory {0} header")]
    MissingHeader(&'static str),
}

impl MessageError {
    /// The response a server should send: 400.
    pub fn status_code(&self) -> u16 {
        400
    }
}

/// A SIP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

/// A SIP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method of the request line.
    pub method: Method,
    /// The Request-URI. Must not carry URI headers (`?name=value`): the
    /// parser rejects those (RFC 4475 escruri), so a request built with
    /// them would not parse back.
    pub uri: Uri,
    /// Header fields (Content-Length excluded; it is derived from `body`).
    pub headers: Headers,
    /// The body, bytes. Its length is the Content-Length: the parser cut it
    /// to the Content-Length received, and output always writes `body.len()`.
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100 to 699.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Header fields (Content-Length excluded; it is derived from `body`).
    pub headers: Headers,
    /// The body, bytes.
    pub body: Vec<u8>,
}

impl Message {
    /// The header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// The header fields, mutably.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        }
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// The request, if this is one.
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }

    /// The response, if this is one.
    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Message::Request(r) => r.write_to(out),
            Message::Response(r) => r.write_to(out),
        }
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

impl Request {
    /// A request with no headers and no body; see also [`Request::builder`].
    pub fn new(method: Method, uri: Uri) -> Request {
        Request { method, uri, headers: Headers::new(), body: Vec::new() }
    }

    /// Checks the headers every request needs: Via, To, From, Call-ID and
    /// CSeq. Max-Forwards is not required, so RFC 2543 peers still work
    /// (RFC 4475 inv2543); a proxy adds it when forwarding.
    pub fn check_mandatory(&self) -> Result<(), MessageError> {
        check_common(&self.headers)
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_message(out, &StartLine::Request(self), &self.headers, &self.body);
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        self.write_to(&mut out);
        out
    }
}

impl Response {
    /// A response with the usual reason phrase, no headers and no body;
    /// see also [`Response::builder`].
    pub fn new(status: u16) -> Response {
        Response {
            status,
            reason: reason_phrase(status).to_owned(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Checks the headers every response needs: Via, To, From, Call-ID, CSeq.
    pub fn check_mandatory(&self) -> Result<(), MessageError> {
        check_common(&self.headers)
    }

    /// True for 1xx.
    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_message(out, &StartLine::Response(self), &self.headers, &self.body);
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        self.write_to(&mut out);
        out
    }
}

fn check_common(headers: &Headers) -> Result<(), MessageError> {
    let missing = if headers.top_via().is_none() {
        "Via"
    } else if headers.to().is_none() {
        "To"
    } else if headers.from().is_none() {
        "From"
    } else if headers.call_id().is_none() {
        "Call-ID"
    } else if headers.cseq().is_none() {
        "CSeq"
    } else {
        return Ok(());
    };
    Err(MessageError::MissingHeader(missing))
}

enum StartLine<'a> {
    Request(&'a Request),
    Response(&'a Response),
}

/// The start line, headers, Content-Length and the empty line.
struct Head<'a> {
    start: &'a StartLine<'a>,
    headers: &'a Headers,
    body_len: usize,
}

impl fmt::Display for Head<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.start {
            StartLine::Request(r) => write!(f, "{} {} SIP/2.0\r\n", r.method, r.uri)?,
            StartLine::Response(r) => {
                write!(f, "SIP/2.0 {} ", r.status)?;
                write_clean(f, &r.reason)?;
                f.write_str("\r\n")?;
            }
        }
        for header in self.headers {
            write!(f, "{header}\r\n")?;
        }
        write!(f, "Content-Length: {}\r\n\r\n", self.body_len)
    }
}

/// `fmt::Write` into a byte buffer.
struct ByteWriter<'a>(&'a mut Vec<u8>);

impl fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn write_message(out: &mut Vec<u8>, start: &StartLine<'_>, headers: &Headers, body: &[u8]) {
    let head = Head { start, headers, body_len: body.len() };
    fmt::write(&mut ByteWriter(out), format_args!("{head}"))
        .expect("ByteWriter never fails and our Display impls only pass writer errors on");
    out.extend_from_slice(body);
}

impl fmt::Display for Request {
    /// The wire form, with a non-UTF-8 body shown lossily; use
    /// [`Request::to_bytes`] for the exact bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = StartLine::Request(self);
        write!(f, "{}", Head { start: &start, headers: &self.headers, body_len: self.body.len() })?;
        f.write_str(&String::from_utf8_lossy(&self.body))
    }
}

impl fmt::Display for Response {
    /// The wire form, with a non-UTF-8 body shown lossily; use
    /// [`Response::to_bytes`] for the exact bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = StartLine::Response(self);
        write!(f, "{}", Head { start: &start, headers: &self.headers, body_len: self.body.len() })?;
        f.write_str(&String::from_utf8_lossy(&self.body))
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Request(r) => r.fmt(f),
            Message::Response(r) => r.fmt(f),
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Message::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Message::Response(r)
    }
}
