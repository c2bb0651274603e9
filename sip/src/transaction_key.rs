//! Transaction matching keys (RFC 3261 §17.1.3, §17.2.3), the hook for the
//! transaction layer that will live in this crate.
//!
//! Only RFC 3261 branches (magic cookie and something after it) give a key.
//! A request without one (RFC 2543 peers, RFC 4475 badbranch) gets `None`;
//! this crate does not implement the RFC 2543 fallback, so a server should
//! answer such a request statelessly (400) or handle it without a transaction.

use crate::message::{Request, Response};
use crate::method::Method;

/// Identifies the transaction a message belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// The top Via branch, cookie included.
    pub branch: String,
    /// The top Via sent-by, host lowered: `host[:port]`.
    pub sent_by: String,
    /// The method of the request that created the transaction: an ACK maps
    /// to INVITE (it matches the INVITE server transaction of a non-2xx);
    /// CANCEL stays CANCEL (it has its own transaction).
    pub method: Method,
}

impl TransactionKey {
    /// The server transaction a request belongs to.
    pub fn for_request(request: &Request) -> Option<TransactionKey> {
        let method = match &request.method {
            Method::Ack => Method::Invite,
            other => other.clone(),
        };
        Self::from_top_via(&request.headers, method)
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
    fn no_key_without_a_real_branch() {
        let bare = request("OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK\r\n\r\n");
        assert_eq!(TransactionKey::for_request(&bare), None);
        let old = request("OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n\r\n");
        assert_eq!(TransactionKey::for_request(&old), None);
    }
}
