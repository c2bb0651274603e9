//! Fuzzes both framings and checks what the parser promises:
//! - no panic on any input;
//! - a stream parse consumes no more than it was given;
//! - anything accepted serializes to bytes that parse back to the same
//!   message and serialize to the same bytes (a fixed point);
//! - a request that parses can be answered and proxied, and the results
//!   serialize to messages that parse;
//! - `reply_to_unparsable` never panics and frames what it writes.
//!
//! Run: `cd sip/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run parse`

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::{
    parse_datagram, parse_stream, Aor, Limits, Message, Request, Response, TransactionKey,
    Transport, Via,
};

/// The canonical form of an accepted message may be a little longer than
/// the input (a Content-Length line, quotes around a display name), so the
/// re-parse does not apply the size limits the input was held to.
fn relaxed() -> Limits {
    Limits { max_message_bytes: usize::MAX, max_header_count: usize::MAX, max_header_line_bytes: usize::MAX }
}

fn check(message: &Message) {
    let wire = message.to_bytes();
    let again = match parse_datagram(&wire, &relaxed()) {
        Ok(again) => again,
        Err(e) => panic!("canonical output does not parse: {e}\n{}", String::from_utf8_lossy(&wire)),
    };
    assert_eq!(&again, message, "round trip changed the message");
    assert_eq!(again.to_bytes(), wire, "serialization is not a fixed point");
    let headers = message.headers();
    let _ = (headers.top_via().map(Via::has_rfc3261_branch), headers.call_id(), headers.cseq());
    for contact in headers.contacts() {
        let _ = (contact.expires_secs(), contact.sip_instance(), contact.q());
    }
    if let Some(to) = headers.to() {
        if let Ok(aor) = Aor::from_uri(&to.uri) {
            let _ = aor.key();
        }
    }
    match message {
        Message::Request(request) => check_request(request),
        Message::Response(response) => {
            let _ = TransactionKey::for_response(response);
        }
    }
}

fn check_request(request: &Request) {
    let _ = TransactionKey::for_request(request);
    if let Some(uri) = request.uri.as_sip() {
        assert!(sip::uri_eq(uri, uri), "a URI equals itself");
        let _ = sip::uri_key(uri);
    }
    let answer = Response::builder(request, 200).to_tag("fuzz").record_route_from(request).build();
    let wire = answer.to_bytes();
    assert!(parse_datagram(&wire, &relaxed()).is_ok(), "our answer does not parse:\n{}", String::from_utf8_lossy(&wire));
    let mut forwarded = request.clone();
    if forwarded.decrement_max_forwards().is_ok() {
        forwarded.headers.prepend_via(Via::new(Transport::Tcp, "proxy.invalid", Some(5060), "z9hG4bKfuzz"));
        let _ = forwarded.headers.pop_route();
        let wire = forwarded.to_bytes();
        assert!(parse_datagram(&wire, &relaxed()).is_ok(), "forwarded request does not parse:\n{}", String::from_utf8_lossy(&wire));
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Some(reply) = sip::reply::reply_to_unparsable(data, 400, "Bad Request", "fuzz") {
        assert!(reply.ends_with(b"\r\nContent-Length: 0\r\n\r\n"), "reply head is framed");
    }
    if let Ok(message) = parse_datagram(data, &limits) {
        check(&message);
    }
    if let Ok(Some((message, consumed))) = parse_stream(data, &limits) {
        assert!(consumed <= data.len());
        check(&message);
    }
});
