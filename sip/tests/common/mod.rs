//! Helpers shared by the RFC 4475 torture tests.
#![allow(dead_code)]

use std::path::PathBuf;

use sip::{parse_datagram, parse_stream, Limits, Message, ParseError, Request, Response};

/// The bytes of `shared/sip-torture/<rel>`, read at test time (the torture
/// files live beside the repository, never inside it).
pub fn torture_bytes(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/sip-torture").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses a datagram with default limits.
pub fn datagram(bytes: &[u8]) -> Result<Message, ParseError> {
    parse_datagram(bytes, &Limits::default())
}

/// Parses `rel` as a datagram, which must succeed, and checks the round
/// trip: serialize then parse gives the same message (over datagram and
/// stream framing), and serializing that again gives the same bytes.
pub fn parses(rel: &str) -> Message {
    let bytes = torture_bytes(rel);
    let message = datagram(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_round_trip(&message);
    message
}

/// Serialize → parse → serialize is a fixed point.
pub fn assert_round_trip(message: &Message) {
    let wire = message.to_bytes();
    let again = datagram(&wire).unwrap_or_else(|e| {
        panic!("reparse failed: {e}\n{}", String::from_utf8_lossy(&wire))
    });
    assert_eq!(&again, message, "reparse differs:\n{}", String::from_utf8_lossy(&wire));
    assert_eq!(again.to_bytes(), wire, "serialization is not a fixed point");
    let (streamed, consumed) = parse_stream(&wire, &Limits::default())
        .expect("canonical output frames on a stream")
        .expect("canonical output is complete");
    assert_eq!(consumed, wire.len());
    assert_eq!(&streamed, message);
}

/// The datagram parse error of `rel`.
pub fn rejected(rel: &str) -> ParseError {
    match datagram(&torture_bytes(rel)) {
        Ok(m) => panic!("{rel} parsed:\n{m}"),
        Err(e) => e,
    }
}

pub fn request(message: Message) -> Request {
    match message {
        Message::Request(r) => r,
        Message::Response(r) => panic!("expected a request, got {}", r.status),
    }
}

pub fn response(message: Message) -> Response {
    match message {
        Message::Response(r) => r,
        Message::Request(r) => panic!("expected a response, got {}", r.method),
    }
}
