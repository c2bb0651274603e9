//! What a ring link carries: ring protocol messages and relayed SIP.

use serde::{Deserialize, Serialize};

/// The payload of a ring-link frame.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum RingPayload {
    /// A Chord message for the ring core.
    Chord(chord::Message),
    /// A SIP message relayed between super-nodes, as serialized bytes.
    Sip(Vec<u8>),
}

/// Checks a payload against the node's limits before it reaches the cores.
pub fn validate(payload: &RingPayload, ring: &chord::Config, max_sip_bytes: usize) -> Result<(), String> {
    match payload {
        RingPayload::Chord(msg) => msg.validate(ring).map_err(|e| format!("ring message out of bounds: {e}")),
        RingPayload::Sip(bytes) if bytes.len() > max_sip_bytes => {
            Err(format!("relayed SIP message of {} bytes exceeds {max_sip_bytes}", bytes.len()))
        }
        RingPayload::Sip(_) => Ok(()),
    }
}
