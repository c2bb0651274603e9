//! RFC 4475 §3.1.1: valid messages parse and round-trip, and the facts the
//! RFC names hold.

mod common;

use common::{parses, request, response, torture_bytes};
use sip::{parse_stream, Aor, Header, Limits, Method, Transport};

#[test]
fn torture_valid_wsinv() {
    let req = request(parses("valid/wsinv.sip"));
    assert_eq!(req.method, Method::Invite);
    assert!(req.uri.as_sip().is_some_and(|u| u.params.contains("unknownparam")));
    let h = &req.headers;
    assert_eq!(h.to().and_then(|t| t.tag()), Some("1918181833n"));
    let from = h.from().expect("From");
    assert_eq!(from.display_name.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(h.max_forwards(), Some(68));
    assert_eq!(h.cseq().map(|c| (c.seq, c.method.clone())), Some((9, Method::Invite)));
    let vias: Vec<_> = h.vias().collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].branch(), Some("390skdjuw"));
    assert_eq!(vias[1].transport, Transport::Tcp);
    assert_eq!(vias[1].host, "spindle.example.com");
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(h.other("Subject").collect::<Vec<_>>(), [""]);
    assert_eq!(
        h.other("newfangledheader").collect::<Vec<_>>(),
        ["newfangled value continued newfangled value"]
    );
    assert_eq!(h.other("UnknownHeaderWithUnusualValue").collect::<Vec<_>>(), [";;,,;;,;"]);
    let route = h.routes().next().expect("Route");
    assert!(route.uri.as_sip().is_some_and(|u| u.is_loose_route() && u.params.contains("unknown-no-value")));
    let contact = h.contacts().next().and_then(|c| c.addr()).expect("Contact");
    assert_eq!(contact.display_name.as_deref(), Some(r#"Quoted string """#));
    assert_eq!(contact.params.value("newparam"), Some("newvalue"));
    assert!(contact.params.contains("secondparam"));
    assert_eq!(contact.params.value("q"), Some("0.33"));
    assert_eq!(req.body.len(), 150);
}

#[test]
fn torture_valid_intmeth() {
    let req = request(parses("valid/intmeth.sip"));
    let method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(req.method, Method::Extension(method.into()));
    assert_eq!(req.headers.cseq().map(|c| &c.method), Some(&req.method));
    let uri = req.uri.as_sip().expect("sip URI");
    assert_eq!(uri.user.as_deref(), Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
    assert_eq!(uri.password.as_deref(), Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
    let to = req.headers.to().expect("To");
    assert_eq!(to.display_name.as_deref(), Some("BEL:\u{7} NUL:\0 DEL:\u{7f}"));
    let from = req.headers.from().expect("From");
    assert_eq!(from.display_name.as_deref(), Some("token1~` token2'+_ token3*%!.-"));
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert!(from.params.contains("fromParam''~+*_!.-%"));
    assert_eq!(req.headers.call_id(), Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
    assert_eq!(req.headers.top_via().and_then(|v| v.branch()), Some("z9hG4bK-.!%66*_+`'~"));
    assert_eq!(req.headers.max_forwards(), Some(255));
    assert_eq!(req.headers.other("extensionHeader-!.%*+_`'~").count(), 1);
}

#[test]
fn torture_valid_esc01() {
    let req = request(parses("valid/esc01.sip"));
    let uri = req.uri.as_sip().expect("sip URI");
    assert_eq!(uri.user.as_deref(), Some("sips%3Auser%40example.com"));
    assert_eq!(uri.host, "example.net");
    let to = &req.headers.to().expect("To").uri;
    assert_eq!(Aor::from_uri(to).map(|a| a.as_str().to_owned()), Ok("user@example.com".into()));
    let from = req.headers.from().and_then(|f| f.uri.as_sip()).expect("From");
    assert_eq!(from.user_unescaped().as_deref(), Some(&b"I have spaces"[..]));
    let contact = req.headers.contacts().next().and_then(|c| c.addr()).and_then(|a| a.uri.as_sip());
    let contact = contact.expect("Contact");
    assert!(contact.params.contains("%6C%72"));
    // Escapes are kept once, never decoded twice: %25%34%31 is "%41", not "A".
    assert_eq!(contact.params.value("n%61me"), Some("v%61lue%25%34%31"));
}

#[test]
fn torture_valid_escnull() {
    let req = request(parses("valid/escnull.sip"));
    assert_eq!(req.method, Method::Register);
    let to = req.headers.to().and_then(|t| t.uri.as_sip()).expect("To");
    assert_eq!(to.user_unescaped().as_deref(), Some(&b"null-\0-null"[..]));
    let contacts: Vec<_> = req.headers.contacts().filter_map(|c| c.addr()).collect();
    assert_eq!(contacts.len(), 2);
    let aors: Vec<_> = contacts.iter().map(|c| Aor::from_uri(&c.uri).expect("sip")).collect();
    assert_ne!(aors[0], aors[1], "unescaping must not cut the user short");
    assert_eq!(aors[0].as_str(), "%00@host5.example.com");
}

#[test]
fn torture_valid_esc02() {
    let req = request(parses("valid/esc02.sip"));
    assert_eq!(req.method, Method::Extension("RE%47IST%45R".into()));
    assert_ne!(req.method, Method::Register);
    assert_eq!(req.headers.contacts().count(), 2);
    assert_eq!(req.headers.other("C%6Fntact").collect::<Vec<_>>(), ["<sip:alias2@host2.example.com>"]);
    assert_eq!(req.headers.from().and_then(|f| f.display_name.as_deref()), Some("%Z%45"));
    assert_eq!(req.headers.top_via().and_then(|v| v.branch()), Some("z9hG4bK209%fzsnel234"));
}

#[test]
fn torture_valid_lwsdisp() {
    let req = request(parses("valid/lwsdisp.sip"));
    let from = req.headers.from().expect("From");
    assert_eq!(from.display_name.as_deref(), Some("caller"));
    assert_eq!(from.tag(), Some("323"));
}

#[test]
fn torture_valid_longreq() {
    let req = request(parses("valid/longreq.sip"));
    assert_eq!(req.headers.vias().count(), 34);
    let last = req.headers.vias().last().expect("Via");
    assert_eq!(last.received(), Some("192.0.2.5"));
    let to = req.headers.to().expect("To");
    assert!(to.display_name.as_deref().is_some_and(|d| d.contains("extremeextreme")));
    let to_uri = to.uri.as_sip().expect("sip");
    assert_eq!(to_uri.port, Some(6000));
    assert_eq!(to_uri.params.len(), 3);
    assert!(req.headers.from().and_then(|f| f.tag()).is_some_and(|t| t.len() > 100));
    assert_eq!(req.body.len(), 150);
}

#[test]
fn torture_valid_dblreq() {
    let bytes = torture_bytes("valid/dblreq.sip");
    let req = request(parses("valid/dblreq.sip"));
    assert_eq!(req.method, Method::Register);
    assert!(req.body.is_empty(), "the INVITE after the REGISTER is ignored");
    // On a stream the same bytes are two messages; the first is the REGISTER.
    let (first, consumed) = parse_stream(&bytes, &Limits::default()).expect("frames").expect("complete");
    assert_eq!(request(first), req);
    assert!(consumed < bytes.len());
}

#[test]
fn torture_valid_semiuri() {
    let req = request(parses("valid/semiuri.sip"));
    let uri = req.uri.as_sip().expect("sip");
    assert_eq!(uri.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(uri.host, "example.com");
    assert!(uri.params.is_empty());
    assert_eq!(
        req.headers.other("Accept").collect::<Vec<_>>(),
        ["application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag"]
    );
}

#[test]
fn torture_valid_transports() {
    let req = request(parses("valid/transports.sip"));
    let transports: Vec<_> = req.headers.vias().map(|v| v.transport.clone()).collect();
    assert_eq!(
        transports,
        [Transport::Udp, Transport::Sctp, Transport::Tls, Transport::Other("UNKNOWN".into()), Transport::Tcp]
    );
    assert_eq!(req.headers.call_id(), Some("transports.kijh4akdnaqjkwendsasfdj"));
}

#[test]
fn torture_valid_mpart01() {
    let req = request(parses("valid/mpart01.sip"));
    assert_eq!(req.method, Method::Message);
    assert_eq!(req.body.len(), 553);
    assert!(req.body.contains(&0));
    let ct = req.headers.content_type().expect("Content-Type");
    assert!(ct.is("multipart/mixed"));
    assert_eq!(ct.params.value("boundary"), Some("7a9cbec02ceef655"));
    assert_eq!(req.headers.top_via().and_then(|v| v.rport()), Some(None));
    assert_eq!(req.headers.other("Identity").count(), 1);
}

#[test]
fn torture_valid_unreason() {
    let resp = response(parses("valid/unreason.sip"));
    assert_eq!(resp.status, 200);
    assert!(resp.reason.starts_with("= 2**3 * 5**2 "));
    assert!(!resp.reason.is_ascii());
    assert_eq!(resp.body.len(), 154);
}

#[test]
fn torture_valid_noreason() {
    let resp = response(parses("valid/noreason.sip"));
    assert_eq!(resp.status, 100);
    assert_eq!(resp.reason, "");
    assert!(resp.headers.iter().any(|h| matches!(h, Header::Contact(_))));
}
