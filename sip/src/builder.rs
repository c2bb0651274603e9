//! Builders, so no code assembles SIP by string formatting.
//!
//! ```
//! use sip::{Method, NameAddr, Request, Response, Uri, Via, Transport, rfc3261_branch};
//!
//! let aor = Uri::sip(Some("alice"), "example.org");
//! let register = Request::builder(Method::Register, Uri::sip(None, "example.org"))
//!     .via(Via::new(Transport::Wss, "df7jal23ls0d.invalid", None, &rfc3261_branch("a1")))
//!     .from(NameAddr::new(aor.clone()).with_tag("t1"))
//!     .to(NameAddr::new(aor))
//!     .call_id("c1@df7jal23ls0d.invalid")
//!     .cseq(1)
//!     .expires(600)
//!     .build();
//! let ok = Response::builder(&register, 200).to_tag("srv1").build();
//! assert_eq!(ok.headers.cseq(), register.headers.cseq());
//! assert_eq!(ok.headers.to().and_then(|t| t.tag()), Some("srv1"));
//! ```

use crate::header::{CSeq, Contact, ContentType, Header, NameAddr, Via};
use crate::message::{Request, Response};
use crate::method::Method;
use crate::uri::Uri;

/// Max-Forwards a new request gets unless told otherwise (RFC 3261 §8.1.1.6).
pub const DEFAULT_MAX_FORWARDS: u8 = 70;

/// Builds a [`Request`]; see [`Request::builder`].
#[derive(Clone, Debug)]
pub struct RequestBuilder {
    request: Request,
    max_forwards_set: bool,
}

impl Request {
    /// Starts a request. `build` adds `Max-Forwards: 70` unless
    /// [`RequestBuilder::max_forwards`] was called.
    pub fn builder(method: Method, uri: Uri) -> RequestBuilder {
        RequestBuilder { request: Request::new(method, uri), max_forwards_set: false }
    }
}

impl RequestBuilder {
    /// Adds a Via below those already added (add the top one first).
    pub fn via(mut self, via: Via) -> Self {
        self.request.headers.push(via.into());
        self
    }

    /// Sets Max-Forwards.
    pub fn max_forwards(mut self, hops: u8) -> Self {
        self.request.headers.set(Header::MaxForwards(hops));
        self.max_forwards_set = true;
        self
    }

    /// Sets From (give it a tag: RFC 3261 §8.1.1.3).
    pub fn from(mut self, from: NameAddr) -> Self {
        self.request.headers.set(Header::From(Box::new(from)));
        self
    }

    /// Sets To.
    pub fn to(mut self, to: NameAddr) -> Self {
        self.request.headers.set(Header::To(Box::new(to)));
        self
    }

    /// Sets Call-ID (it must be `word [ "@" word ]`; the caller makes it unique).
    pub fn call_id(mut self, call_id: impl Into<String>) -> Self {
        self.request.headers.set(Header::CallId(call_id.into()));
        self
    }

    /// Sets CSeq to `seq` and the request's method.
    pub fn cseq(mut self, seq: u32) -> Self {
        let method = self.request.method.clone();
        self.request.headers.set(Header::CSeq(CSeq { seq, method }));
        self
    }

    /// Adds a Contact.
    pub fn contact(mut self, contact: Contact) -> Self {
        self.request.headers.push(contact.into());
        self
    }

    /// Sets Expires.
    pub fn expires(mut self, secs: u32) -> Self {
        self.request.headers.set(Header::Expires(secs));
        self
    }

    /// Adds a Route after those already added.
    pub fn route(mut self, route: NameAddr) -> Self {
        self.request.headers.push(Header::Route(Box::new(route)));
        self
    }

    /// Adds any header (see [`Header::other`] for untyped ones).
    pub fn header(mut self, header: Header) -> Self {
        self.request.headers.push(header);
        self
    }

    /// Sets the body and its Content-Type. Content-Length is written from
    /// the body on output.
    pub fn body(mut self, content_type: ContentType, body: impl Into<Vec<u8>>) -> Self {
        self.request.headers.set(content_type.into());
        self.request.body = body.into();
        self
    }

    /// The request.
    pub fn build(mut self) -> Request {
        if !self.max_forwards_set && self.request.headers.max_forwards().is_none() {
            self.request.headers.set(Header::MaxForwards(DEFAULT_MAX_FORWARDS));
        }
        self.request
    }
}

/// Builds a [`Response`]; see [`Response::builder`].
#[derive(Clone, Debug)]
pub struct ResponseBuilder {
    response: Response,
}

impl Response {
    /// Starts a response to `request` (RFC 3261 §8.2.6.2): copies every Via
    /// in order, From, To, Call-ID and CSeq, with the usual reason phrase
    /// for `status` (which must be 100 to 699).
    pub fn builder(request: &Request, status: u16) -> ResponseBuilder {
        debug_assert!((100..=699).contains(&status), "status {status} is not 100-699");
        let mut response = Response::new(status);
        response.headers = request
            .headers
            .iter()
            .filter(|h| {
                matches!(
                    h,
                    Header::Via(_) | Header::From(_) | Header::To(_) | Header::CallId(_) | Header::CSeq(_)
                )
            })
            .cloned()
            .collect();
        ResponseBuilder { response }
    }
}

impl ResponseBuilder {
    /// Replaces the reason phrase.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.response.reason = reason.into();
        self
    }

    /// Adds a tag to To unless it has one (RFC 3261 §8.2.6.2: the UAS picks
    /// it; a retransmission must get the same tag, so the caller stores it).
    pub fn to_tag(mut self, tag: &str) -> Self {
        if let Some(to) = self.response.headers.to_mut() {
            if to.tag().is_none() {
                to.set_tag(tag);
            }
        }
        self
    }

    /// Copies the request's Record-Route values, as a UAS does on a
    /// dialog-creating response (RFC 3261 §12.1.1).
    pub fn record_route_from(mut self, request: &Request) -> Self {
        self.response
            .headers
            .extend(request.headers.record_routes().map(|rr| Header::RecordRoute(Box::new(rr.clone()))));
        self
    }

    /// Adds a Contact.
    pub fn contact(mut self, contact: Contact) -> Self {
        self.response.headers.push(contact.into());
        self
    }

    /// Adds any header.
    pub fn header(mut self, header: Header) -> Self {
        self.response.headers.push(header);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: ContentType, body: impl Into<Vec<u8>>) -> Self {
        self.response.headers.set(content_type.into());
        self.response.body = body.into();
        self
    }

    /// The response.
    pub fn build(self) -> Response {
        self.response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Transport;
    use crate::Message;

    fn invite() -> Request {
        let bob = Uri::sip(Some("bob"), "example.org");
        Request::builder(Method::Invite, bob.clone())
            .via(Via::new(Transport::Udp, "proxy.example.org", None, "z9hG4bKp"))
            .via(Via::new(Transport::Wss, "a.invalid", None, "z9hG4bKa"))
            .from(NameAddr::new(Uri::sip(Some("alice"), "example.org")).with_display_name("Alice").with_tag("1"))
            .to(NameAddr::new(bob))
            .call_id("abc@a.invalid")
            .cseq(314159)
            .contact(Contact::Addr(NameAddr::new(Uri::sip(Some("alice"), "a.invalid"))))
            .header(Header::RecordRoute(Box::new(NameAddr::new("sip:p.example.org;lr".parse().expect("valid")))))
            .header(Header::other("User-Agent", "test").expect("valid"))
            .body(ContentType::sdp(), b"v=0\r\n".to_vec())
            .build()
    }

    #[test]
    fn request_serializes_canonically_and_parses_back() {
        let req = invite();
        let text = String::from_utf8(req.to_bytes()).expect("ascii");
        assert_eq!(
            text,
            "INVITE sip:bob@example.org SIP/2.0\r\n\
             Via: SIP/2.0/UDP proxy.example.org;branch=z9hG4bKp\r\n\
             Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKa\r\n\
             From: \"Alice\" <sip:alice@example.org>;tag=1\r\n\
             To: <sip:bob@example.org>\r\n\
             Call-ID: abc@a.invalid\r\n\
             CSeq: 314159 INVITE\r\n\
             Contact: <sip:alice@a.invalid>\r\n\
             Record-Route: <sip:p.example.org;lr>\r\n\
             User-Agent: test\r\n\
             Content-Type: application/sdp\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 5\r\n\r\nv=0\r\n"
        );
        assert_eq!(Message::parse(text.as_bytes()), Ok(Message::Request(req)));
    }

    #[test]
    fn response_copies_the_right_headers() {
        let req = invite();
        let ringing = Response::builder(&req, 180).to_tag("b1").record_route_from(&req).build();
        assert_eq!(ringing.reason, "Ringing");
        assert_eq!(ringing.headers.vias().count(), 2);
        assert_eq!(ringing.headers.to().and_then(NameAddr::tag), Some("b1"));
        assert_eq!(ringing.headers.from(), req.headers.from());
        assert_eq!(ringing.headers.call_id(), Some("abc@a.invalid"));
        assert_eq!(ringing.headers.cseq(), req.headers.cseq());
        assert_eq!(ringing.headers.record_routes().count(), 1);
        assert_eq!(ringing.headers.contacts().count(), 0);
        assert!(ringing.check_mandatory().is_ok());
        // An existing To tag is kept.
        let again = Response::builder(&Request { headers: ringing.headers.clone(), ..req }, 200)
            .to_tag("other")
            .reason("Fine")
            .build();
        assert_eq!(again.headers.to().and_then(NameAddr::tag), Some("b1"));
        assert!(String::from_utf8_lossy(&again.to_bytes()).starts_with("SIP/2.0 200 Fine\r\n"));
    }

    #[test]
    fn max_forwards_default_and_override() {
        let uri = Uri::sip(None, "example.org");
        let req = Request::builder(Method::Options, uri.clone()).build();
        assert_eq!(req.headers.max_forwards(), Some(DEFAULT_MAX_FORWARDS));
        let req = Request::builder(Method::Options, uri).max_forwards(0).build();
        assert_eq!(req.headers.max_forwards(), Some(0));
    }
}
