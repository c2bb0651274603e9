//! One browser's SIP-over-WebSocket connection (RFC 7118): one SIP message
//! per frame both ways.

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use crate::sip_driver::{SipHandle, SipInput, CONN_QUEUE_LEN};
use crate::sipcore::{ConnKind, Flow};

/// Serves one WebSocket until it closes. The permit is held for the
/// connection's lifetime so the connection count stays bounded.
pub async fn run(socket: WebSocket, _permit: OwnedSemaphorePermit, sip: SipHandle, peer: std::net::SocketAddr) {
    let id = sip.conn_id();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CONN_QUEUE_LEN);
    if !sip.send(SipInput::ConnOpened { id, kind: ConnKind::Ws, tx }).await {
        return;
    }
    tracing::info!("SIP WebSocket opened: conn#{id} from {peer}");
    let (mut sink, mut stream) = socket.split();
    let reason = loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(bytes) = out else { break "closed by the super-node".to_owned() };
                // Text frames for text (what browsers' SIP stacks expect);
                // binary only for bodies that are not UTF-8.
                let frame = match String::from_utf8(bytes) {
                    Ok(text) => Message::Text(text.into()),
                    Err(e) => Message::Binary(e.into_bytes().into()),
                };
                if let Err(e) = sink.send(frame).await {
                    break format!("write: {e}");
                }
            }
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    sip.send(SipInput::Datagram { flow: Flow::Conn(id), bytes: text.as_bytes().to_vec() }).await;
                }
                Some(Ok(Message::Binary(bytes))) => {
                    sip.send(SipInput::Datagram { flow: Flow::Conn(id), bytes: bytes.to_vec() }).await;
                }
                Some(Ok(Message::Close(_))) | None => break "closed by peer".to_owned(),
                Some(Ok(_)) => {} // ping/pong
                Some(Err(e)) => break format!("read: {e}"),
            }
        }
    };
    let _ = sink.close().await;
    sip.send(SipInput::ConnClosed { id }).await;
    tracing::info!("SIP WebSocket closed: conn#{id} ({reason})");
}
