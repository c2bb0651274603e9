//! Browser peer: a SIP user agent compiled to WebAssembly.
//!
//! # Layout
//! - [`transport`]: the SIP-over-WebSocket connection (RFC 7118) and its
//!   browser callbacks.
//!
//! The page talks to this crate only through the exported [`Peer`] class;
//! events reach the page through one JavaScript callback.

use wasm_bindgen::prelude::*;

mod transport;

pub use transport::Peer;

/// Runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // Panics show a Rust message in the console instead of "unreachable".
    console_error_panic_hook::set_once();
}

/// The crate version, so the page can show which build it runs.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
