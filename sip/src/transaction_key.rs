//! Transaction matching keys (RFC 3261 §17.1.3, §17.2.3).
//!
//! An RFC 3261 branch (magic cookie and something after it) is the key. A
//! request without one (RFC 2543 peers; RFC 4475 wsinv, longreq, inv2543,
//! badbranch) gets the §17.2.3 fallback: a key hashed from the
//! Request-URI, From tag, Call-ID, CSeq number and top Via, the fields
//! that section matches on. Its To tag is left out, so the ACK for a
//! non-2xx final response (which carries the server's To tag) still finds
//! its INVITE, and a CANCEL (same fields, its own method) finds it through
//! the method. Responses only ever get RFC 3261 keys: clients must put a
//! cookie branch in their requests.

use sha1::{Digest, Sha1};

use crate::header::MAGIC_COOKIE;
use crate::message::{Request, Response};
use crate::method::Method;

/// Identifies the transaction a message belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// The top Via branch, cookie included; for an RFC 2543 request,
    /// `rfc2543-` and a hash (see the module docs).
    pub branch: String,
    /// The top Via sent-by, host lowered: `host[:port]`.
    pub sent_by: String,
    /// The method of the request that created the transaction: an ACK maps
    /// to INVITE (it matches the INVITE server transaction of a non-2xx);
    /// CANCEL stays CANCEL (it has its own transaction).
    pub method: Method,
}

impl TransactionKey {
    /// The server transaction a request belongs to; None only without a
    /// Via.
    pub fn for_request(request: &Request) -> Option<TransactionKey> {
        let method = match &request.method {
            Method::Ack => Method::Invite,
            other => other.clone(),
        };
        let via = request.headers.top_via()?;
        if via.has_rfc3261_branch() {
            return Self::from_top_via(&request.headers, method);
        }
        let mut h = Sha1::new();
        h.update(request.uri.to_string().as_bytes());
        for part in [request.headers.from().and_then(|f| f.tag()), request.headers.call_id()] {
            h.update([0]);
            h.update(part.unwrap_or("").as_bytes());
        }
        h.update(request.headers.cseq().map_or(0, |c| c.seq).to_be_bytes());
        h.update(via.to_string().as_bytes());
        let hash: String = h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
        Some(TransactionKey { branch: format!("rfc2543-{hash}"), sent_by: via.sent_by().to_ascii_lowercase(), method })
    }

    /// Whether the key is an RFC 3261 branch (not the RFC 2543 fallback).
    pub fn is_rfc3261(&self) -> bool {
        self.branch.len() > MAGIC_COOKIE.len() && self.branch.starts_with(MAGIC_COOKIE)
    }

    /// The client transaction a response belongs to (method from CSeq).
    pub fn for_response(response: &Response) -> Option<TransactionKey> {
        let method = response.headers.cseq()?.method.clone();
        Self::from_top_via(&response.headers, method)
    }

    fn from_top_via(headers: &crate::Headers, method: Method) -> Option<TransactionKey> {
        let via = headers.top_via()?;
        if !via.has_rfc3261_branch() {
            return None;
        }
        Some(TransactionKey {
            branch: via.branch()?.to_owned(),
            sent_by: via.sent_by().to_ascii_lowercase(),
            method,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, Response};

    fn request(text: &str) -> Request {
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ack_matches_invite_and_response_matches_request() {
        let invite = request("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP A.example:5060;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\n\r\n");
        let ack = request("ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a.example:5060;branch=z9hG4bK1\r\nCSeq: 1 ACK\r\n\r\n");
        let key = TransactionKey::for_request(&invite).expect("RFC 3261 branch");
        assert_eq!(TransactionKey::for_request(&ack), Some(key.clone()));
        let ok = Response::builder(&invite, 200).build();
        assert_eq!(TransactionKey::for_response(&ok), Some(key));
    }

    #[test]
    fn rfc2543_requests_get_the_fallback_key() {
        let bare = request("OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n");
        let key = TransactionKey::for_request(&bare).expect("fallback key");
        assert!(key.branch.starts_with("rfc2543-") && !key.is_rfc3261());
        let invite = request("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 7 INVITE\r\n\r\n");
        // The ACK for a non-2xx carries the server's To tag: same transaction.
        let ack = request("ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: <sip:a@h>;tag=f\r\nTo: <sip:b@h>;tag=s\r\nCall-ID: c\r\nCSeq: 7 ACK\r\n\r\n");
        assert_eq!(TransactionKey::for_request(&invite), TransactionKey::for_request(&ack));
        // Another CSeq is another transaction.
        let next = request("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 8 INVITE\r\n\r\n");
        assert_ne!(TransactionKey::for_request(&invite), TransactionKey::for_request(&next));
        let no_via = request("OPTIONS sip:b@h SIP/2.0\r\nCall-ID: c\r\n\r\n");
        assert_eq!(TransactionKey::for_request(&no_via), None);
    }
}
