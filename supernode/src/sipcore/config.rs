//! Tunables and limits of the registrar and proxy.

/// Registrar and proxy settings. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Shortest registration accepted (423 below it).
    pub min_expires_secs: u32,
    /// Longest registration granted; longer requests are shortened.
    pub max_expires_secs: u32,
    /// Registration length when the REGISTER names none.
    pub default_expires_secs: u32,
    /// Contacts one AOR may have (503 past it).
    pub max_bindings_per_aor: usize,
    /// Time a forked INVITE may go without a final answer (RFC 3261 timer C).
    pub timer_c_ms: u64,
    /// Requests received and not yet answered with a final response: the
    /// work in progress (503 past it).
    pub max_pending_requests: usize,
    /// Every transaction held, including finished ones that linger to
    /// absorb retransmissions (32 s over UDP, RFC 3261 timers J, L, M):
    /// the memory bound (503 past it).
    pub max_transactions: usize,
    /// Ring operations in flight (503 past it).
    pub max_store_ops: usize,
    /// Connections whose bindings are tracked for removal on close.
    pub max_tracked_bindings_per_flow: usize,
    /// Messages queued for an AOR with no binding (486 past it).
    pub max_queued_messages_per_aor: usize,
    /// How long a queued message waits for its recipient.
    pub queued_message_ttl_secs: u32,
    /// Parser limits (message size 64 KiB by default).
    pub limits: sip::Limits,
    /// RFC 3261 T1/T2/T4.
    pub timers: sip::transaction::Timers,
    /// Retry-After given with 503 answers, in seconds.
    pub retry_after_secs: u32,
    /// New requests each connection or UDP source may send.
    pub rate: super::rate::RateConfig,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            min_expires_secs: 60,
            max_expires_secs: 3600,
            default_expires_secs: 3600,
            max_bindings_per_aor: 16,
            timer_c_ms: 180_000,
            max_pending_requests: 20_000,
            max_transactions: 100_000,
            max_store_ops: 4_096,
            max_tracked_bindings_per_flow: 64,
            max_queued_messages_per_aor: 32,
            queued_message_ttl_secs: 24 * 3600,
            limits: sip::Limits::default(),
            timers: sip::transaction::Timers::default(),
            retry_after_secs: 5,
            rate: super::rate::RateConfig { per_sec: 200, burst: 400, max_tracked: 100_000 },
        }
    }
}
