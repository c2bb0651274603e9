//! State machine tests against RFC 3261 §17 (Figures 5 to 8) and RFC 6026
//! (its Figures 5 and 7). Times are in ms from an arbitrary origin.

mod client;
mod server;

use crate::{Message, Method, NameAddr, Request, Response, Transport, Uri, Via};

/// A request as a UA would build it, with its own branch.
pub(super) fn request(method: Method, branch: &str) -> Request {
    let bob = Uri::sip(Some("bob"), "biloxi.example.com");
    Request::builder(method, bob.clone())
        .via(Via::new(Transport::Udp, "pc33.atlanta.example.com", None, &crate::rfc3261_branch(branch)))
        .route(NameAddr::new("sip:p1.example.com;lr".parse().expect("valid URI")))
        .from(NameAddr::new(Uri::sip(Some("alice"), "atlanta.example.com")).with_tag("9fxced76sl"))
        .to(NameAddr::new(bob))
        .call_id("3848276298220188511@atlanta.example.com")
        .cseq(31862)
        .build()
}

pub(super) fn invite() -> Request {
    request(Method::Invite, "inv1")
}

pub(super) fn options() -> Request {
    request(Method::Options, "opt1")
}

/// A response to `req` with a To tag (none on 100).
pub(super) fn response(req: &Request, status: u16) -> Response {
    let builder = Response::builder(req, status);
    if status == 100 { builder.build() } else { builder.to_tag("b0b").build() }
}

/// Parses a message written out as text (CRLF line ends added).
pub(super) fn parse_request(text: &str) -> Request {
    match Message::parse(text.replace('\n', "\r\n").as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

/// Everything a poll function yields until `None`.
pub(super) fn drain<T>(mut poll: impl FnMut() -> Option<T>) -> Vec<T> {
    std::iter::from_fn(&mut poll).collect()
}
