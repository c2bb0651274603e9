//! The super-node directory browsers use for failover: every node keeps its
//! public URL on the ring under one well-known key, refreshed before it
//! expires, and `GET /api/hosts` reads it back.
//!
//! Implementation notes:
//! - The ring is the only shared state, so the directory lives there like
//!   any binding: sub-key = the node's ring address, value = its public
//!   URL, a short TTL so crashed nodes drop out by themselves.
//! - Versions come from the wall clock (milliseconds since 1970): a node
//!   that restarts must not lose to its own older entry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chord::{Id, OpOutcome};

use crate::ring::RingHandle;

/// Key of the directory on the ring.
pub fn directory_key() -> Id {
    Id::hash(b"p2psip:supernodes")
}

/// How long an entry lives without a refresh.
const ENTRY_TTL: Duration = Duration::from_secs(60);
/// How often a node refreshes its entry.
const REFRESH_EVERY: Duration = Duration::from_secs(20);
/// Most hosts returned.
const MAX_HOSTS: usize = 32;

fn wall_clock_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Keeps this node's entry fresh until the process ends.
pub async fn advertise(ring: RingHandle, public_url: String) {
    let sub_key = ring.me().addr.as_str().as_bytes().to_vec();
    let mut first = true;
    loop {
        let ttl_ms = u64::try_from(ENTRY_TTL.as_millis()).unwrap_or(u64::MAX);
        match ring.put(directory_key(), sub_key.clone(), public_url.clone().into_bytes(), wall_clock_ms(), ttl_ms).await {
            Ok(_) => {
                if first {
                    tracing::info!("listed in the super-node directory as {public_url}");
                    first = false;
                }
            }
            Err(e) => tracing::debug!("directory refresh failed (retrying): {e}"),
        }
        let wait = if first { Duration::from_secs(1) } else { REFRESH_EVERY };
        tokio::time::sleep(wait).await;
    }
}

/// Removes this node's entry (on a graceful stop).
pub async fn withdraw(ring: &RingHandle) {
    let sub_key = ring.me().addr.as_str().as_bytes().to_vec();
    let _ = ring.delete(directory_key(), sub_key, wall_clock_ms(), 60_000).await;
}

/// The public URLs of the listed super-nodes.
pub async fn list(ring: &RingHandle) -> Result<Vec<String>, crate::ring::RingError> {
    let (outcome, _) = ring.get(directory_key(), None).await?;
    let OpOutcome::Got { values, .. } = outcome else { return Ok(Vec::new()) };
    Ok(values.into_iter().filter_map(|v| String::from_utf8(v.value).ok()).take(MAX_HOSTS).collect())
}
