//! SIP over UDP (RFC 3261 §18): one message per datagram.

use std::sync::Arc;

use tokio::net::UdpSocket;

use crate::sip_driver::{SipHandle, SipInput};
use crate::sipcore::Flow;

/// Receives datagrams until the process ends. Sending happens in the SIP
/// task, on the same socket.
pub async fn serve(socket: Arc<UdpSocket>, sip: SipHandle, max_bytes: usize) {
    // One byte more than the limit, so an oversized datagram is seen as such
    // (the parser answers 513) rather than silently cut.
    let mut buf = vec![0u8; max_bytes + 1];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                if !sip.send(SipInput::Datagram { flow: Flow::Udp(from), bytes: buf[..n].to_vec() }).await {
                    return;
                }
            }
            // ICMP port unreachable from an earlier send shows up here on
            // some systems; it concerns that peer, not the socket.
            Err(e) => tracing::debug!("UDP receive error: {e}"),
        }
    }
}
