//! Browser peer: a SIP user agent compiled to WebAssembly.
//!
//! # Layout
//! Sans-IO logic (no web-sys; time and randomness come in as arguments;
//! tested natively with `cargo test -p peer-wasm`):
//! - [`ua`]: the user agent: registration, calls, MESSAGE, client
//!   transactions, on top of `sip` (messages, dialogs).
//! - [`hosts`]: the host cache of super-nodes and the reconnect backoff.
//! - [`sdp`]: the little read from SDP (which media an offer has).
//!
//! Thin browser drivers (`web`, wasm32 only): the exported `Peer` class and
//! its JavaScript events; the WebSocket, timer, RTCPeerConnection and
//! getUserMedia, localStorage and `/api/hosts` glue. Every JS closure is
//! owned by the struct it serves and dropped with it.

pub mod hosts;
pub mod sdp;
pub mod ua;

#[cfg(target_arch = "wasm32")]
mod web;
