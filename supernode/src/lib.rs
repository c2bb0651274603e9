//! Super-node: the native process of the P2P-SIP system.
//!
//! # Layout
//! - [`config`]: command line and environment (clap).
//! - [`http`]: the axum server: the call page from `www/`, SIP over WebSocket
//!   at `/sip` (RFC 7118, subprotocol `sip`).
//! - [`sipcore`]: the registrar and proxy, a sans-IO state machine over
//!   `sip` (messages, transactions) and the ring's store.
//! - [`sip_driver`]: the task that owns the core and carries out its IO.
//! - [`sip_ws`], [`sip_tcp`], [`sip_udp`]: the SIP transports.
//! - [`hosts`]: the super-node directory on the ring (`/api/hosts`).
//! - [`ring`]: links to other super-nodes and the driver of the Chord core.
//! - [`server`]: assembles the node and runs it until a stop signal.
//! - [`store_api`]: opt-in raw access to ring values for tests and benches.
//!
//! The protocol logic is sans-IO: the crates `sip` and `chord`, and
//! [`sipcore`] here (no tokio inside). The other modules only move bytes
//! and time between those state machines and the network.

pub mod config;
pub mod http;
pub mod hosts;
pub mod ring;
pub mod server;
pub mod sip_driver;
pub mod sip_tcp;
pub mod sip_udp;
pub mod sip_ws;
pub mod sipcore;
pub mod store_api;
