//! Command line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// A super-node: SIP registrar and proxy whose location service is a Chord ring.
#[derive(Debug, Clone, Parser)]
#[command(name = "supernode", version)]
pub struct Config {
    /// Address of the HTTP server (call page, `/sip` WebSocket, status API).
    #[arg(long, env = "SUPERNODE_HTTP_LISTEN", default_value = "127.0.0.1:8080")]
    pub http_listen: SocketAddr,

    /// Directory served at `/` (the call page and the built `pkg/`).
    #[arg(long, env = "SUPERNODE_WWW_DIR", default_value = "www")]
    pub www_dir: PathBuf,

    /// Largest SIP message accepted on any transport, in bytes.
    #[arg(long, env = "SUPERNODE_MAX_SIP_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_sip_message_bytes: usize,

    /// Most browser WebSocket connections served at once; more get HTTP 503.
    #[arg(long, env = "SUPERNODE_MAX_WS_CONNECTIONS", default_value_t = 10_000)]
    pub max_ws_connections: usize,
}
