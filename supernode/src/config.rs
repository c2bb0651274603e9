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

    /// Address the ring listener binds (WebSocket links from other super-nodes).
    /// Port 0 picks a free port.
    #[arg(long, env = "SUPERNODE_RING_LISTEN", default_value = "127.0.0.1:7000")]
    pub ring_listen: SocketAddr,

    /// Ring address advertised to other super-nodes; defaults to
    /// `ws://<ring-listen>` with the port actually bound.
    #[arg(long, env = "SUPERNODE_RING_ADVERTISE")]
    pub ring_advertise: Option<String>,

    /// Ring address of any member to join through (`ws://host:port`); none
    /// starts a new ring.
    #[arg(long, env = "SUPERNODE_JOIN")]
    pub join: Option<String>,

    /// Ring id as 40 hex digits; defaults to SHA-1 of the advertised address.
    #[arg(long, env = "SUPERNODE_NODE_ID")]
    pub node_id: Option<String>,

    /// Stabilize period (fix-fingers follows it), in milliseconds.
    #[arg(long, env = "SUPERNODE_STABILIZE_INTERVAL_MS", default_value_t = 1_000)]
    pub stabilize_interval_ms: u64,

    /// Replica maintenance period, in milliseconds.
    #[arg(long, env = "SUPERNODE_REPLICATE_INTERVAL_MS", default_value_t = 2_000)]
    pub replicate_interval_ms: u64,

    /// Time-out of one ring request to one node, in milliseconds.
    #[arg(long, env = "SUPERNODE_REQUEST_TIMEOUT_MS", default_value_t = 2_000)]
    pub request_timeout_ms: u64,

    /// Successor list length r.
    #[arg(long, env = "SUPERNODE_SUCCESSORS", default_value_t = 8)]
    pub successors: usize,

    /// Replication factor k (the responsible node and k-1 successors).
    #[arg(long, env = "SUPERNODE_REPLICAS", default_value_t = 3)]
    pub replicas: usize,

    /// Serve `/api/store` (read and write raw ring values). Off by default:
    /// it is for operators' tests and benchmarks, not for the public.
    #[arg(long, env = "SUPERNODE_ENABLE_STORE_API")]
    pub enable_store_api: bool,

    /// Address for SIP over UDP and TCP (RFC 3261), the same port for both.
    /// Port 0 picks a free port (TCP then takes the same number).
    #[arg(long, env = "SUPERNODE_SIP_LISTEN", default_value = "127.0.0.1:5060")]
    pub sip_listen: SocketAddr,

    /// Public base URL of this node's HTTP server, as browsers should reach
    /// it (shared with other super-nodes for the browsers' host cache);
    /// defaults to `http://<http-listen>` with the port actually bound.
    #[arg(long, env = "SUPERNODE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// RFC 3261 timer C: how long a forwarded INVITE may go unanswered, ms.
    #[arg(long, env = "SUPERNODE_TIMER_C_MS", default_value_t = 180_000)]
    pub timer_c_ms: u64,

    /// Shortest registration accepted (423 Interval Too Brief below it).
    #[arg(long, env = "SUPERNODE_MIN_EXPIRES_SECS", default_value_t = 60)]
    pub min_expires_secs: u32,

    /// Contacts one address of record may register.
    #[arg(long, env = "SUPERNODE_MAX_BINDINGS_PER_AOR", default_value_t = 16)]
    pub max_bindings_per_aor: usize,

    /// MESSAGEs kept for an address with no binding (486 past it).
    #[arg(long, env = "SUPERNODE_MAX_QUEUED_MESSAGES_PER_AOR", default_value_t = 32)]
    pub max_queued_messages_per_aor: usize,

    /// New SIP requests per second each connection or UDP source may send
    /// (bursts of twice that); more get 503. 0 turns the limit off.
    #[arg(long, env = "SUPERNODE_MAX_REQUESTS_PER_SEC_PER_FLOW", default_value_t = 200)]
    pub max_requests_per_sec_per_flow: u32,

    /// Requests in progress (received, not yet answered) at once; more get
    /// 503 with Retry-After.
    #[arg(long, env = "SUPERNODE_MAX_PENDING_REQUESTS", default_value_t = 20_000)]
    pub max_pending_requests: usize,

    /// SIP transactions held at once, including finished ones kept to
    /// absorb retransmissions (32 s over UDP); bounds memory.
    #[arg(long, env = "SUPERNODE_MAX_TRANSACTIONS", default_value_t = 100_000)]
    pub max_transactions: usize,

    /// Most SIP TCP connections open at once.
    #[arg(long, env = "SUPERNODE_MAX_SIP_TCP_CONNECTIONS", default_value_t = 10_000)]
    pub max_sip_tcp_connections: usize,

    /// Largest SIP message accepted on any transport, in bytes.
    #[arg(long, env = "SUPERNODE_MAX_SIP_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_sip_message_bytes: usize,

    /// Most browser WebSocket connections served at once; more get HTTP 503.
    #[arg(long, env = "SUPERNODE_MAX_WS_CONNECTIONS", default_value_t = 10_000)]
    pub max_ws_connections: usize,

    /// Most ring links open at once.
    #[arg(long, env = "SUPERNODE_MAX_RING_LINKS", default_value_t = 512)]
    pub max_ring_links: usize,
}

impl Config {
    /// The registrar and proxy configuration these options describe.
    pub fn sip_core(&self) -> crate::sipcore::CoreConfig {
        let limits = sip::Limits { max_message_bytes: self.max_sip_message_bytes, ..sip::Limits::default() };
        crate::sipcore::CoreConfig {
            min_expires_secs: self.min_expires_secs,
            max_bindings_per_aor: self.max_bindings_per_aor,
            max_queued_messages_per_aor: self.max_queued_messages_per_aor,
            timer_c_ms: self.timer_c_ms,
            max_pending_requests: self.max_pending_requests,
            max_transactions: self.max_transactions,
            limits,
            rate: crate::sipcore::rate::RateConfig {
                per_sec: self.max_requests_per_sec_per_flow,
                burst: self.max_requests_per_sec_per_flow.saturating_mul(2),
                max_tracked: 100_000,
            },
            ..crate::sipcore::CoreConfig::default()
        }
    }

    /// The Chord configuration these options describe.
    pub fn chord(&self) -> chord::Config {
        chord::Config {
            successor_list_len: self.successors,
            replication_factor: self.replicas,
            stabilize_interval_ms: self.stabilize_interval_ms,
            fix_fingers_interval_ms: self.stabilize_interval_ms,
            replicate_interval_ms: self.replicate_interval_ms,
            request_timeout_ms: self.request_timeout_ms,
            ..chord::Config::default()
        }
    }
}
