//! Counters of the SIP core, served by the status API.

use serde::Serialize;

/// Counters since start, plus a few gauges filled in on read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub requests_in: u64,
    pub responses_in: u64,
    pub retransmissions_in: u64,
    /// Messages that failed to parse or lacked mandatory headers.
    pub malformed_in: u64,
    pub stray_responses: u64,
    pub responses_out_1xx: u64,
    pub responses_out_2xx: u64,
    pub responses_out_3xx: u64,
    pub responses_out_4xx: u64,
    pub responses_out_5xx: u64,
    pub responses_out_6xx: u64,
    pub requests_forwarded: u64,
    pub registrations: u64,
    pub bindings_removed_on_close: u64,
    pub overload_503: u64,
    /// Requests refused (503) because their flow sent too many.
    pub rate_limited: u64,
    /// Requests let through untracked because the rate table was full.
    pub rate_untracked: u64,
    pub store_ops_refused: u64,
    pub messages_queued: u64,
    pub messages_delivered_from_queue: u64,
    /// Gauges.
    pub connections: u64,
    pub transactions: u64,
    pub pending_requests: u64,
    pub store_ops_in_flight: u64,
}

impl Stats {
    pub(super) fn count_response_out(&mut self, status: u16) {
        match status / 100 {
            1 => self.responses_out_1xx += 1,
            2 => self.responses_out_2xx += 1,
            3 => self.responses_out_3xx += 1,
            4 => self.responses_out_4xx += 1,
            5 => self.responses_out_5xx += 1,
            _ => self.responses_out_6xx += 1,
        }
    }
}
