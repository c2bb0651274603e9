//! SIP over TCP (RFC 3261 §18.3): messages framed by Content-Length.
//!
//! Implementation notes:
//! - The buffer never grows past the message size limit: the stream parser
//!   refuses a head or body that would, and a framing error closes the
//!   connection after the error reply (RFC 4475 ncl, mcl01).
//! - Connections are bounded by a semaphore; one over the limit is closed
//!   at once.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};

use crate::sip_driver::{SipHandle, SipInput, CONN_QUEUE_LEN};
use crate::sipcore::{ConnKind, Flow};

/// Accepts connections until the process ends.
pub async fn serve(listener: TcpListener, sip: SipHandle, limits: sip::Limits, max_connections: usize) {
    let permits = Arc::new(Semaphore::new(max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("SIP TCP accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!("refusing SIP TCP connection from {peer}: {max_connections} open");
            continue;
        };
        let sip = sip.clone();
        tokio::spawn(async move {
            serve_one(stream, sip, limits).await;
            drop(permit);
        });
    }
}

async fn serve_one(stream: TcpStream, sip: SipHandle, limits: sip::Limits) {
    // One SIP message per write: Nagle would hold the second of two quick
    // writes (ACK then BYE) until the peer's delayed ACK.
    let _ = stream.set_nodelay(true);
    let id = sip.conn_id();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CONN_QUEUE_LEN);
    if !sip.send(SipInput::ConnOpened { id, kind: ConnKind::Tcp, tx }).await {
        return;
    }
    let (mut reader, mut writer) = stream.into_split();
    let writer_task = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    'read: loop {
        // Frame every complete message already buffered.
        loop {
            match sip::parse_stream(&buf, &limits) {
                Ok(Some((msg, used))) => {
                    let raw: Vec<u8> = buf.drain(..used).collect();
                    sip.send(SipInput::Parsed { flow: Flow::Conn(id), parsed: Ok(msg), raw }).await;
                }
                Ok(None) => {
                    // Only keep-alive CRLFs, or an incomplete message.
                    let ka = sip::keepalive_len(&buf);
                    if ka > 0 && ka == buf.len() {
                        buf.clear();
                    }
                    break;
                }
                Err(e) => {
                    let raw = std::mem::take(&mut buf);
                    tracing::info!("closing SIP TCP conn#{id}: {e}");
                    sip.send(SipInput::Parsed { flow: Flow::Conn(id), parsed: Err(e), raw }).await;
                    break 'read;
                }
            }
        }
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    sip.send(SipInput::ConnClosed { id }).await;
    // Let the error reply (if any) go out before the socket closes.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), writer_task).await;
}
