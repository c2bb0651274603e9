//! Messages the transaction layer makes itself: the ACK for a non-2xx final
//! response (§17.1.1.3), CANCEL (§9.1), 100 Trying (§17.2.1, §8.2.6.1), and
//! the key a CANCEL is matched to its INVITE by (§9.2).

use crate::builder::DEFAULT_MAX_FORWARDS;
use crate::header::{CSeq, Header};
use crate::message::{Request, Response};
use crate::method::Method;
use crate::transaction_key::TransactionKey;

/// The CANCEL for `invite` (RFC 3261 §9.1): same Request-URI, Call-ID,
/// From, To (tags included) and CSeq number with method CANCEL, a single
/// Via equal to the INVITE's top Via (so it carries the INVITE's branch),
/// the INVITE's Route headers, and its Max-Forwards (70 if it had none).
///
/// Send it in its own non-INVITE [`super::ClientTransaction`], and only
/// once the INVITE has had a provisional response (§9.1: before that, wait;
/// a final response makes the CANCEL moot). Then call
/// [`super::ClientTransaction::handle_cancel`] on the INVITE's transaction.
pub fn cancel_for(invite: &Request) -> Request {
    let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
    let h = &invite.headers;
    if let Some(via) = h.top_via() {
        cancel.headers.push(via.clone().into());
    }
    cancel.headers.extend(h.routes().map(|r| Header::Route(Box::new(r.clone()))));
    cancel.headers.push(Header::MaxForwards(h.max_forwards().unwrap_or(DEFAULT_MAX_FORWARDS)));
    if let Some(from) = h.from() {
        cancel.headers.push(Header::From(Box::new(from.clone())));
    }
    if let Some(to) = h.to() {
        cancel.headers.push(Header::To(Box::new(to.clone())));
    }
    if let Some(call_id) = h.call_id() {
        cancel.headers.push(Header::CallId(call_id.to_owned()));
    }
    if let Some(cseq) = h.cseq() {
        cancel.headers.push(CSeq { seq: cseq.seq, method: Method::Cancel }.into());
    }
    cancel
}

/// The key of the INVITE server transaction a CANCEL cancels (RFC 3261
/// §9.2): the CANCEL's own key with method INVITE. `None` if `cancel` is
/// not a CANCEL or has no RFC 3261 branch.
///
/// A CANCEL has its own server transaction ([`TransactionKey::for_request`]
/// gives method CANCEL). A UAS or proxy looks this key up: no INVITE
/// transaction → answer the CANCEL 481; found → answer it 200 and, if the
/// INVITE has no final response yet, answer the INVITE 487 (a proxy
/// instead cancels its pending client transactions, §16.10).
pub fn invite_key_for_cancel(cancel: &Request) -> Option<TransactionKey> {
    if cancel.method != Method::Cancel {
        return None;
    }
    TransactionKey::for_request(cancel).map(|key| TransactionKey { method: Method::Invite, ..key })
}

/// The ACK an INVITE client transaction sends for a 300-699 response
/// (RFC 3261 §17.1.1.3): the INVITE's Request-URI, Call-ID, From and CSeq
/// number (method ACK), To from the response (with its tag), the INVITE's
/// top Via only, its Route headers, and its Max-Forwards.
pub(crate) fn ack_for_non_2xx(invite: &Request, response: &Response) -> Request {
    let mut ack = Request::new(Method::Ack, invite.uri.clone());
    let h = &invite.headers;
    if let Some(via) = h.top_via() {
        ack.headers.push(via.clone().into());
    }
    ack.headers.extend(h.routes().map(|r| Header::Route(Box::new(r.clone()))));
    ack.headers.push(Header::MaxForwards(h.max_forwards().unwrap_or(DEFAULT_MAX_FORWARDS)));
    if let Some(from) = h.from() {
        ack.headers.push(Header::From(Box::new(from.clone())));
    }
    if let Some(to) = response.headers.to().or_else(|| h.to()) {
        ack.headers.push(Header::To(Box::new(to.clone())));
    }
    if let Some(call_id) = h.call_id() {
        ack.headers.push(Header::CallId(call_id.to_owned()));
    }
    if let Some(cseq) = h.cseq() {
        ack.headers.push(CSeq { seq: cseq.seq, method: Method::Ack }.into());
    }
    ack
}

/// The 100 Trying an INVITE server transaction sends on its own: the
/// request's Via, From, To (no tag: §8.2.6.1), Call-ID, CSeq, and any
/// Timestamp (§8.2.6.1).
pub(crate) fn trying_for(request: &Request) -> Response {
    let mut trying = Response::builder(request, 100).build();
    for value in request.headers.other("Timestamp") {
        if let Ok(header) = Header::other("Timestamp", value) {
            trying.headers.push(header);
        }
    }
    trying
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n\
        Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\n\
        Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\n\
        Max-Forwards: 69\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
        To: Bob <sip:bob@biloxi.example.com>\r\nCall-ID: 3848276298220188511@atlanta.example.com\r\n\
        CSeq: 31862 INVITE\r\nTimestamp: 54\r\nContact: <sip:alice@pc33.atlanta.example.com>\r\n\
        Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";

    fn invite() -> Request {
        match Message::parse(INVITE.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cancel_copies_what_section_9_1_says() {
        let invite = invite();
        let cancel = cancel_for(&invite);
        assert_eq!(cancel.method, Method::Cancel);
        assert_eq!(cancel.uri, invite.uri);
        assert_eq!(cancel.headers.vias().collect::<Vec<_>>(), vec![invite.headers.top_via().expect("via")]);
        assert_eq!(cancel.headers.routes().count(), 2);
        assert_eq!(cancel.headers.max_forwards(), Some(69));
        assert_eq!(cancel.headers.from(), invite.headers.from());
        assert_eq!(cancel.headers.to(), invite.headers.to());
        assert_eq!(cancel.headers.call_id(), invite.headers.call_id());
        assert_eq!(cancel.headers.cseq(), Some(&CSeq { seq: 31862, method: Method::Cancel }));
        assert!(cancel.body.is_empty() && cancel.headers.contacts().next().is_none());
        assert!(cancel.check_mandatory().is_ok());
        let wire = cancel.to_bytes();
        assert!(Message::parse(&wire).is_ok());

        let invite_key = TransactionKey::for_request(&invite).expect("branch");
        assert_eq!(invite_key_for_cancel(&cancel), Some(invite_key));
        let cancel_key = TransactionKey::for_request(&cancel).expect("branch");
        assert_eq!(cancel_key.method, Method::Cancel);
        assert_eq!(invite_key_for_cancel(&invite), None);
    }

    #[test]
    fn ack_takes_to_from_the_response() {
        let invite = invite();
        let busy = Response::builder(&invite, 486).to_tag("b0b").build();
        let ack = ack_for_non_2xx(&invite, &busy);
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.uri, invite.uri);
        assert_eq!(ack.headers.vias().count(), 1);
        assert_eq!(ack.headers.top_via(), invite.headers.top_via());
        assert_eq!(ack.headers.routes().count(), 2);
        assert_eq!(ack.headers.to().and_then(|t| t.tag()), Some("b0b"));
        assert_eq!(ack.headers.from(), invite.headers.from());
        assert_eq!(ack.headers.cseq(), Some(&CSeq { seq: 31862, method: Method::Ack }));
        assert!(ack.body.is_empty());
        // The ACK matches the INVITE server transaction (§17.2.3).
        assert_eq!(TransactionKey::for_request(&ack), TransactionKey::for_request(&invite));
    }

    #[test]
    fn trying_has_no_tag_and_keeps_timestamp() {
        let trying = trying_for(&invite());
        assert_eq!(trying.status, 100);
        assert_eq!(trying.headers.to().and_then(|t| t.tag()), None);
        assert_eq!(trying.headers.other("Timestamp").collect::<Vec<_>>(), ["54"]);
        assert_eq!(trying.headers.vias().count(), 2);
    }
}
