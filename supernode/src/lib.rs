//! Super-node: the native process of the P2P-SIP system.
//!
//! # Layout
//! - [`config`]: command line and environment (clap).
//! - [`http`]: the axum server: the call page from `www/`, SIP over WebSocket
//!   at `/sip` (RFC 7118, subprotocol `sip`).
//! - [`sip_ws`]: one task per browser WebSocket.
//! - [`ring`]: links to other super-nodes and the driver of the Chord core.
//! - [`server`]: assembles the node and runs it until a stop signal.
//! - [`store_api`]: opt-in raw access to ring values for tests and benches.
//!
//! The protocol logic lives in the sans-IO crates `sip` and `chord`; the
//! modules here only move bytes and time between those state machines and
//! the network.

pub mod config;
pub mod http;
pub mod ring;
pub mod server;
pub mod sip_ws;
pub mod store_api;
