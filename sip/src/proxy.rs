//! What a proxy does to a message it forwards (RFC 3261 §16.6, §16.7).
//!
//! These are edits on [`Headers`] and [`Request`]; deciding *when* to make
//! them (loose vs strict routing, which address to record-route) is the
//! proxy's job.
//!
//! ```
//! use sip::{parse_datagram, Limits, Message, NameAddr, Response, Transport, Via};
//!
//! let wire = b"INVITE sip:bob@example.org SIP/2.0\r\n\
//!     Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKa;rport\r\n\
//!     Route: <sip:me.example.org;lr>\r\nMax-Forwards: 70\r\n\
//!     From: <sip:alice@example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\n\
//!     Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
//! let Ok(Message::Request(mut invite)) = parse_datagram(wire, &Limits::default()) else { panic!() };
//! // Stamp where it really came from, take our own Route off, count the hop.
//! if let Some(via) = invite.headers.top_via_mut() {
//!     via.set_received("198.51.100.7");
//!     via.set_rport(50123);
//! }
//! invite.headers.pop_route();
//! if let Err(too_many) = invite.decrement_max_forwards() {
//!     let answer = Response::builder(&invite, too_many.status_code()).build();
//!     # let _ = answer;
//!     return Ok(());
//! }
//! invite.headers.prepend_record_route(NameAddr::new("sip:me.example.org;lr".parse()?));
//! invite.headers.prepend_via(Via::new(Transport::Tcp, "me.example.org", None, "z9hG4bKme1"));
//! let out = invite.to_bytes();
//! let again = sip::Message::parse(&out)?;
//! let vias: Vec<_> = again.headers().vias().map(|v| v.sent_by()).collect();
//! assert_eq!(vias, ["me.example.org", "a.invalid"]);
//! assert_eq!(again.headers().top_via().and_then(|v| v.branch()), Some("z9hG4bKme1"));
//! assert_eq!(again.headers().max_forwards(), Some(69));
//! # Ok::<(), sip::Error>(())
//! ```

use crate::header::{Header, NameAddr, Via};
use crate::headers::Headers;
use crate::message::Request;

/// Why a request cannot be forwarded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// Max-Forwards is already 0 (RFC 3261 §16.3 step 3; RFC 4475 zeromf).
    #[error("Max-Forwards reached 0")]
    TooManyHops,
}

impl ProxyError {
    /// The response to send: 483 Too Many Hops.
    pub fn status_code(&self) -> u16 {
        match self {
            ProxyError::TooManyHops => 483,
        }
    }
}

impl Headers {
    /// Adds `via` as the new top Via (RFC 3261 §16.6 step 8).
    pub fn prepend_via(&mut self, via: Via) {
        let at = self.position(|h| matches!(h, Header::Via(_))).unwrap_or(0);
        self.insert(at, via.into());
    }

    /// Removes the top Via, as a proxy does to a response (§16.7 step 3).
    pub fn remove_top_via(&mut self) -> Option<Via> {
        let at = self.position(|h| matches!(h, Header::Via(_)))?;
        match self.remove(at) {
            Some(Header::Via(via)) => Some(*via),
            _ => None,
        }
    }

    /// Adds `route` as the first Record-Route (§16.6 step 4).
    pub fn prepend_record_route(&mut self, route: NameAddr) {
        let at = self.position(|h| matches!(h, Header::RecordRoute(_))).unwrap_or(0);
        self.insert(at, Header::RecordRoute(Box::new(route)));
    }

    /// Removes and returns the first Route (§16.4: the proxy's own URI).
    pub fn pop_route(&mut self) -> Option<NameAddr> {
        let at = self.position(|h| matches!(h, Header::Route(_)))?;
        match self.remove(at) {
            Some(Header::Route(route)) => Some(*route),
            _ => None,
        }
    }
}

impl Request {
    /// Decrements Max-Forwards before forwarding and returns the new value.
    /// Absent, it becomes 70 (§16.6 step 3). At 0 the request must not be
    /// forwarded: [`ProxyError::TooManyHops`] (483).
    pub fn decrement_max_forwards(&mut self) -> Result<u8, ProxyError> {
        let hops = match self.headers.max_forwards() {
            None => crate::builder::DEFAULT_MAX_FORWARDS,
            Some(0) => return Err(ProxyError::TooManyHops),
            Some(hops) => hops - 1,
        };
        self.headers.set(Header::MaxForwards(hops));
        Ok(hops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Transport;
    use crate::{Message, Method, Uri};

    fn request(text: &str) -> Request {
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    const INVITE: &str = "INVITE sip:bob@example.org SIP/2.0\r\n\
        Route: <sip:p1.example.org;lr>, <sip:p2.example.org;lr>\r\n\
        Via: SIP/2.0/UDP a.example.org;branch=z9hG4bKa, SIP/2.0/UDP b.example.org;branch=z9hG4bKb\r\n\
        Record-Route: <sip:p0.example.org;lr>\r\n\
        Max-Forwards: 1\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn via_and_routes() {
        let mut req = request(INVITE);
        req.headers.prepend_via(Via::new(Transport::Tcp, "me.example.org", Some(5060), "z9hG4bKme"));
        let hosts: Vec<_> = req.headers.vias().map(|v| v.host.as_str()).collect();
        assert_eq!(hosts, ["me.example.org", "a.example.org", "b.example.org"]);
        assert_eq!(req.headers.remove_top_via().map(|v| v.host), Some("me.example.org".into()));
        assert_eq!(req.headers.vias().count(), 2);

        let route = req.headers.pop_route().expect("has routes");
        assert!(route.uri.as_sip().is_some_and(|u| u.host == "p1.example.org" && u.is_loose_route()));
        assert_eq!(req.headers.routes().count(), 1);

        req.headers.prepend_record_route(NameAddr::new("sip:me.example.org;lr".parse().expect("valid")));
        let rr: Vec<_> = req.headers.record_routes().map(|r| r.uri.to_string()).collect();
        assert_eq!(rr, ["sip:me.example.org;lr", "sip:p0.example.org;lr"]);
    }

    #[test]
    fn max_forwards() {
        let mut req = request(INVITE);
        assert_eq!(req.decrement_max_forwards(), Ok(0));
        assert_eq!(req.decrement_max_forwards(), Err(ProxyError::TooManyHops));
        assert_eq!(ProxyError::TooManyHops.status_code(), 483);
        let mut bare = Request::new(Method::Options, Uri::sip(None, "x"));
        assert_eq!(bare.decrement_max_forwards(), Ok(70));
        assert_eq!(bare.headers.remove_top_via(), None);
        assert_eq!(bare.headers.pop_route(), None);
    }
}
