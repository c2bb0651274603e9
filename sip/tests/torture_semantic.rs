//! RFC 4475 §3.2–3.4: messages that parse, and whose handling is up to the
//! transaction or application layer. The facts the parser can see are
//! asserted; the two framing/duplicate cases (mcl01, multi01) are rejected.

mod common;

use common::{parses, rejected, request, response, torture_bytes};
use sip::{parse_stream, Aor, Header, Limits, MessageError, ParseError, ProxyError, TransactionKey};

#[test]
fn torture_semantic_badbranch() {
    let req = request(parses("semantic/badbranch.sip"));
    let via = req.headers.top_via().expect("Via");
    assert_eq!(via.branch(), Some("z9hG4bK"));
    assert!(!via.has_rfc3261_branch());
    let key = TransactionKey::for_request(&req).expect("RFC 2543 fallback key (§17.2.3)");
    assert!(!key.is_rfc3261());
}

#[test]
fn torture_semantic_insuf() {
    let req = request(parses("semantic/insuf.sip"));
    let err = req.check_mandatory().expect_err("no To, From, Call-ID");
    assert_eq!(err, MessageError::MissingHeader("To"));
    assert_eq!(err.status_code(), 400);
}

#[test]
fn torture_semantic_unkscm() {
    let req = request(parses("semantic/unkscm.sip"));
    assert!(!req.uri.is_sip());
    assert_eq!(req.uri.scheme(), "nobodyKnowsThisScheme");
}

#[test]
fn torture_semantic_novelsc() {
    let req = request(parses("semantic/novelsc.sip"));
    assert_eq!(req.uri.scheme(), "soap.beep");
    assert_eq!(req.uri.to_string(), "soap.beep://192.0.2.103:3002");
}

#[test]
fn torture_semantic_unksm2() {
    let req = request(parses("semantic/unksm2.sip"));
    let to = req.headers.to().expect("To");
    assert_eq!(to.uri.scheme(), "isbn");
    assert_eq!(Aor::from_uri(&to.uri).map_err(|e| e.status_code()), Err(400));
    assert_eq!(req.headers.from().map(|f| f.uri.scheme()), Some("http"));
    let contact = req.headers.contacts().next().and_then(|c| c.addr()).expect("Contact");
    assert_eq!(contact.uri.to_string(), "name:John_Smith");
}

#[test]
fn torture_semantic_bext01() {
    let req = request(parses("semantic/bext01.sip"));
    assert_eq!(req.headers.require().collect::<Vec<_>>(), ["nothingSupportsThis", "nothingSupportsThisEither"]);
    assert_eq!(
        req.headers.proxy_require().collect::<Vec<_>>(),
        ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]
    );
}

#[test]
fn torture_semantic_invut() {
    let req = request(parses("semantic/invut.sip"));
    assert_eq!(req.headers.content_type().map(|c| c.media_type.as_str()), Some("application/unknownformat"));
    assert_eq!(req.body.len(), 40);
}

#[test]
fn torture_semantic_regaut01() {
    let req = request(parses("semantic/regaut01.sip"));
    assert_eq!(
        req.headers.other("Authorization").collect::<Vec<_>>(),
        ["NoOneKnowsThisScheme opaque-data=here"]
    );
}

#[test]
fn torture_semantic_multi01() {
    // Choice: rejected at parse time, so typed getters never face two values.
    let err = rejected("semantic/multi01.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(err, ParseError::DuplicateHeader { line: 7, name: "CSeq" });
}

#[test]
fn torture_semantic_mcl01() {
    let err = rejected("semantic/mcl01.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(err, ParseError::DuplicateHeader { line: 9, name: "Content-Length" });
    let bytes = torture_bytes("semantic/mcl01.sip");
    assert!(parse_stream(&bytes, &Limits::default()).is_err(), "a stream closes");
}

#[test]
fn torture_semantic_bcast() {
    let resp = response(parses("semantic/bcast.sip"));
    let hosts: Vec<_> = resp.headers.vias().map(|v| v.host.as_str()).collect();
    assert_eq!(hosts, ["192.0.2.198", "255.255.255.255"]);
}

#[test]
fn torture_semantic_zeromf() {
    let mut req = request(parses("semantic/zeromf.sip"));
    assert_eq!(req.headers.max_forwards(), Some(0));
    assert_eq!(req.decrement_max_forwards(), Err(ProxyError::TooManyHops));
    assert_eq!(ProxyError::TooManyHops.status_code(), 483);
}

#[test]
fn torture_semantic_cparam01() {
    let req = request(parses("semantic/cparam01.sip"));
    let contact = req.headers.contacts().next().and_then(|c| c.addr()).expect("Contact");
    assert!(contact.params.contains("unknownparam"), "a contact parameter");
    assert!(contact.uri.as_sip().is_some_and(|u| !u.params.contains("unknownparam")), "not a URI parameter");
}

#[test]
fn torture_semantic_cparam02() {
    let req = request(parses("semantic/cparam02.sip"));
    let contact = req.headers.contacts().next().and_then(|c| c.addr()).expect("Contact");
    assert!(!contact.params.contains("unknownparam"));
    assert!(contact.uri.as_sip().is_some_and(|u| u.params.contains("unknownparam")), "a URI parameter");
}

#[test]
fn torture_semantic_regescrt() {
    let req = request(parses("semantic/regescrt.sip"));
    let contact = req.headers.contacts().next().and_then(|c| c.addr()).and_then(|a| a.uri.as_sip());
    let headers = &contact.expect("Contact").headers;
    assert_eq!(headers.len(), 1);
    assert_eq!((headers[0].name.as_str(), headers[0].value.as_str()), ("Route", "%3Csip:sip.example.com%3E"));
}

#[test]
fn torture_semantic_sdp01() {
    let req = request(parses("semantic/sdp01.sip"));
    assert_eq!(req.headers.other("Accept").collect::<Vec<_>>(), ["text/nobodyKnowsThis"]);
    assert!(req.headers.content_type().is_some_and(|c| c.is("application/sdp")));
}

#[test]
fn torture_semantic_inv2543() {
    let bytes = torture_bytes("semantic/inv2543.sip");
    let req = request(parses("semantic/inv2543.sip"));
    // No Content-Length: over UDP the body runs to the end of the datagram.
    let head_len = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    assert_eq!(req.body.len(), bytes.len() - head_len);
    assert_eq!(req.headers.max_forwards(), None);
    assert_eq!(req.headers.from().and_then(|f| f.tag()), None);
    assert_eq!(req.headers.top_via().and_then(|v| v.branch()), None);
    assert!(TransactionKey::for_request(&req).is_some_and(|k| !k.is_rfc3261()), "§17.2.3 fallback");
    assert!(req.check_mandatory().is_ok());
    // On a stream, Content-Length is mandatory.
    assert_eq!(parse_stream(&bytes, &Limits::default()), Err(ParseError::MissingContentLength));
    assert!(req.headers.record_routes().next().is_some());
    assert!(req.headers.iter().all(|h| !matches!(h, Header::MaxForwards(_))));
}
