//! One browser's SIP-over-WebSocket connection (RFC 7118).

use axum::extract::ws::{Message, WebSocket};
use tokio::sync::OwnedSemaphorePermit;

/// Serves one WebSocket until it closes. The permit is held for the
/// connection's lifetime so the connection count stays bounded.
pub async fn run(mut socket: WebSocket, _permit: OwnedSemaphorePermit) {
    tracing::info!("SIP WebSocket opened");
    while let Some(frame) = socket.recv().await {
        match frame {
            Ok(Message::Text(_) | Message::Binary(_)) => {
                tracing::debug!("SIP frame received (no SIP handling yet)");
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::info!("SIP WebSocket error: {e}");
                break;
            }
        }
    }
    tracing::info!("SIP WebSocket closed");
}
