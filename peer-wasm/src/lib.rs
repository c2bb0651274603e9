//! Browser peer: a SIP user agent compiled to WebAssembly.
//!
//! # Layout
//! Sans-IO logic (no web-sys; time and randomness come in as arguments;
//! tested natively with `cargo test -p peer-wasm`):
//! - [`ua`]: the user agent: registration, calls, MESSAGE, on top of
//!   `sip` (messages, dialogs, transactions). `ua/txn.rs` holds the
//!   transactions, `ua/call*.rs` the calls, `ua/register.rs` the
//!   registration, `ua/tests/` a two-agent harness with a small proxy.
//! - [`hosts`]: the host cache of super-nodes and the reconnect backoff.
//! - [`sdp`]: the little read from SDP (which media an offer has).
//!
//! Thin browser drivers (`web/`, wasm32 only): `peer.rs` the exported
//! `Peer` class (the JavaScript API in the README), `mod.rs` the shared
//! state and event delivery, `socket.rs` the WebSocket, `timer.rs`
//! setTimeout, `media.rs` RTCPeerConnection and getUserMedia,
//! `hosts_io.rs` localStorage, `/api/hosts` and the pagehide listener.
//! Every JS closure is owned by the struct it serves and dropped with it.

pub mod hosts;
pub mod sdp;
pub mod ua;

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use web::Peer;

/// Runs once when the module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // Panics show a Rust message in the console instead of "unreachable".
    console_error_panic_hook::set_once();
}

/// The crate version, so the page can show which build it runs.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
