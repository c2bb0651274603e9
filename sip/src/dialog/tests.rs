//! Unit tests for dialogs: UAC and UAS creation, routing, CSeq rules.

use super::*;
use crate::header::{Contact, Transport};
use crate::Message;

fn request(text: &str) -> Request {
    match Message::parse(text.replace('\n', "\r\n").as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

fn response(text: &str) -> Response {
    match Message::parse(text.replace('\n', "\r\n").as_bytes()) {
        Ok(Message::Response(r)) => r,
        other => panic!("not a response: {other:?}"),
    }
}

fn via(branch: &str) -> Via {
    Via::new(Transport::Ws, "a.invalid", None, branch)
}

const INVITE: &str = "INVITE sip:bob@example.org SIP/2.0
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1
From: \"Alice\" <sip:alice@example.org>;tag=a1
To: <sip:bob@example.org>
Call-ID: c1@a.invalid
CSeq: 10 INVITE
Contact: <sip:alice@a.invalid;transport=ws;ob>
Content-Length: 0

";

/// The INVITE as bob receives it after two record-routing proxies.
const INVITE_AT_BOB: &str = "INVITE sip:bob@b.invalid;transport=ws SIP/2.0
Via: SIP/2.0/WS p2.example.org;branch=z9hG4bKp2
Via: SIP/2.0/WS p1.example.org;branch=z9hG4bKp1
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1
Record-Route: <sip:p2.example.org;lr>
Record-Route: <sip:p1.example.org;lr>
From: \"Alice\" <sip:alice@example.org>;tag=a1
To: <sip:bob@example.org>
Call-ID: c1@a.invalid
CSeq: 10 INVITE
Contact: <sip:alice@a.invalid;transport=ws;ob>
Content-Length: 0

";

const OK: &str = "SIP/2.0 200 OK
Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1
Record-Route: <sip:p2.example.org;lr>
Record-Route: <sip:p1.example.org;lr>
From: \"Alice\" <sip:alice@example.org>;tag=a1
To: <sip:bob@example.org>;tag=b1
Call-ID: c1@a.invalid
CSeq: 10 INVITE
Contact: <sip:bob@b.invalid;transport=ws>
Content-Length: 0

";

fn routes(req: &Request) -> Vec<String> {
    req.headers.routes().map(|r| r.uri.to_string()).collect()
}

#[test]
fn uac_dialog_from_2xx() {
    let mut d = Dialog::new_uac(&request(INVITE), &response(OK)).expect("dialog");
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(
        d.id(),
        &DialogId { call_id: "c1@a.invalid".into(), local_tag: "a1".into(), remote_tag: "b1".into() }
    );
    // Reversed Record-Route: the proxy nearest to us first.
    let set: Vec<_> = d.route_set().iter().map(|r| r.uri.to_string()).collect();
    assert_eq!(set, ["sip:p1.example.org;lr", "sip:p2.example.org;lr"]);
    let ack = d.ack(10, via("z9hG4bKack"));
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.headers.cseq(), Some(&CSeq { seq: 10, method: Method::Ack }));
    assert_eq!(ack.uri.to_string(), "sip:bob@b.invalid;transport=ws");
    assert_eq!(routes(&ack), ["sip:p1.example.org;lr", "sip:p2.example.org;lr"]);
    let bye = d.request(Method::Bye, via("z9hG4bKbye")).expect("bye");
    assert_eq!(bye.headers.cseq(), Some(&CSeq { seq: 11, method: Method::Bye }));
    assert_eq!(bye.headers.from().and_then(NameAddr::tag), Some("a1"));
    assert_eq!(bye.headers.to().and_then(NameAddr::tag), Some("b1"));
    assert_eq!(bye.headers.call_id(), Some("c1@a.invalid"));
    assert_eq!(bye.headers.top_via().and_then(Via::branch), Some("z9hG4bKbye"));
    assert!(bye.check_mandatory().is_ok());
    // The request parses back as written.
    assert_eq!(Message::parse(&bye.to_bytes()), Ok(Message::Request(bye)));
    assert_eq!(d.local_seq(), Some(11));
}

#[test]
fn uas_dialog_routes_in_order() {
    let invite = request(INVITE_AT_BOB);
    let mut d = Dialog::new_uas(&invite, "b1").expect("dialog");
    assert_eq!(d.state(), DialogState::Early);
    d.confirm();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.id().local_tag, "b1");
    assert_eq!(d.id().remote_tag, "a1");
    assert_eq!(d.remote_seq(), Some(10));
    let bye = d.request(Method::Bye, via("z9hG4bKb")).expect("bye");
    assert_eq!(bye.uri.to_string(), "sip:alice@a.invalid;transport=ws;ob");
    assert_eq!(routes(&bye), ["sip:p2.example.org;lr", "sip:p1.example.org;lr"]);
    assert_eq!(bye.headers.from().map(|f| f.to_string()).as_deref(), Some("<sip:bob@example.org>;tag=b1"));
    assert_eq!(bye.headers.to().map(|f| f.to_string()).as_deref(), Some("\"Alice\" <sip:alice@example.org>;tag=a1"));
    assert_eq!(bye.headers.cseq().map(|c| c.seq), Some(1));
    // The id a received in-dialog request maps to is ours.
    assert_eq!(DialogId::of_received_request(&invite), None);
    let mut again = invite.clone();
    again.headers.to_mut().expect("To").set_tag("b1");
    assert_eq!(DialogId::of_received_request(&again).as_ref(), Some(d.id()));
}

#[test]
fn remote_cseq_and_target_refresh() {
    let mut d = Dialog::new_uas(&request(INVITE_AT_BOB), "b1").expect("dialog");
    let mut reinvite = request(INVITE_AT_BOB);
    reinvite.headers.set(Header::CSeq(CSeq { seq: 11, method: Method::Invite }));
    reinvite.headers.retain(|h| !matches!(h, Header::Contact(_)));
    reinvite.headers.push(Contact::Addr(NameAddr::new("sip:alice@new.invalid;transport=ws".parse().expect("uri"))).into());
    assert_eq!(d.handle_request(&reinvite), Ok(()));
    assert_eq!(d.remote_target().to_string(), "sip:alice@new.invalid;transport=ws");
    assert_eq!(d.remote_seq(), Some(11));
    // A BYE with a lower CSeq is refused with 500 and changes nothing.
    let mut bye = reinvite.clone();
    bye.method = Method::Bye;
    bye.headers.set(Header::CSeq(CSeq { seq: 5, method: Method::Bye }));
    let err = d.handle_request(&bye).expect_err("out of order");
    assert_eq!(err, DialogError::CSeqOutOfOrder { got: 5, last: 11 });
    assert_eq!(err.status_code(), 500);
    // ACK reuses the INVITE's number and is not checked.
    let mut ack = reinvite.clone();
    ack.method = Method::Ack;
    ack.headers.set(Header::CSeq(CSeq { seq: 10, method: Method::Ack }));
    assert_eq!(d.handle_request(&ack), Ok(()));
    // A BYE with no Contact does not refresh the target.
    bye.headers.set(Header::CSeq(CSeq { seq: 12, method: Method::Bye }));
    bye.headers.retain(|h| !matches!(h, Header::Contact(_)));
    assert_eq!(d.handle_request(&bye), Ok(()));
    assert_eq!(d.remote_target().to_string(), "sip:alice@new.invalid;transport=ws");
}

#[test]
fn early_dialog_confirmed_by_2xx_recomputes_routes() {
    let ringing = response(&OK.replace("200 OK", "180 Ringing").replace("Contact: <sip:bob@b.invalid;transport=ws>\n", ""));
    let mut d = Dialog::new_uac(&request(INVITE), &ringing).expect("early dialog");
    assert_eq!(d.state(), DialogState::Early);
    // No Contact in the 1xx: the target is the Request-URI for now.
    assert_eq!(d.remote_target().to_string(), "sip:bob@example.org");
    let ok = response(&OK.replace("Record-Route: <sip:p1.example.org;lr>\n", ""));
    d.handle_response(&ok);
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.remote_target().to_string(), "sip:bob@b.invalid;transport=ws");
    assert_eq!(d.route_set().len(), 1);
    // A 2xx to a BYE refreshes nothing.
    let bye_ok = response(&OK.replace("10 INVITE", "11 BYE").replace("bob@b.invalid", "bob@c.invalid"));
    d.handle_response(&bye_ok);
    assert_eq!(d.remote_target().to_string(), "sip:bob@b.invalid;transport=ws");
}

#[test]
fn strict_router_first() {
    let ok = response(&OK.replace("<sip:p1.example.org;lr>", "<sip:p1.example.org>"));
    let mut d = Dialog::new_uac(&request(INVITE), &ok).expect("dialog");
    let bye = d.request(Method::Bye, via("z9hG4bKs")).expect("bye");
    assert_eq!(bye.uri.to_string(), "sip:p1.example.org");
    assert_eq!(routes(&bye), ["sip:p2.example.org;lr", "sip:bob@b.invalid;transport=ws"]);
}

#[test]
fn creation_errors() {
    let invite = request(INVITE);
    let trying = response(&OK.replace("200 OK", "100 Trying"));
    assert_eq!(Dialog::new_uac(&invite, &trying), Err(DialogError::NotDialogCreating(100)));
    let busy = response(&OK.replace("200 OK", "486 Busy Here"));
    assert_eq!(Dialog::new_uac(&invite, &busy), Err(DialogError::NotDialogCreating(486)));
    let untagged = response(&OK.replace(";tag=b1", ""));
    assert_eq!(Dialog::new_uac(&invite, &untagged), Err(DialogError::MissingTag("To")));
    let no_contact = response(&OK.replace("Contact: <sip:bob@b.invalid;transport=ws>\n", ""));
    assert_eq!(Dialog::new_uac(&invite, &no_contact), Err(DialogError::MissingContact));
    let wildcard = response(&OK.replace("<sip:bob@b.invalid;transport=ws>", "*"));
    assert_eq!(Dialog::new_uac(&invite, &wildcard), Err(DialogError::MissingContact));
    let no_from_tag = request(&INVITE_AT_BOB.replace(";tag=a1", ""));
    assert_eq!(Dialog::new_uas(&no_from_tag, "b1"), Err(DialogError::MissingTag("From")));
    let no_contact = request(&INVITE_AT_BOB.replace("Contact: <sip:alice@a.invalid;transport=ws;ob>\n", ""));
    assert_eq!(Dialog::new_uas(&no_contact, "b1"), Err(DialogError::MissingContact));
    assert_eq!(DialogError::MissingContact.status_code(), 400);
}

#[test]
fn cseq_space_is_bounded() {
    let invite = request(&INVITE.replace("CSeq: 10", &format!("CSeq: {MAX_CSEQ}")));
    let ok = response(&OK.replace("CSeq: 10", &format!("CSeq: {MAX_CSEQ}")));
    let mut d = Dialog::new_uac(&invite, &ok).expect("dialog");
    assert_eq!(d.request(Method::Bye, via("z9hG4bKx")), Err(DialogError::CSeqExhausted));
    // The ACK still works: it reuses the INVITE's number.
    assert_eq!(d.ack(MAX_CSEQ, via("z9hG4bKy")).headers.cseq().map(|c| c.seq), Some(MAX_CSEQ));
}
