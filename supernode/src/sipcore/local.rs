//! Who this super-node is on the SIP side: its addresses per transport and
//! the URIs it puts in Via, Record-Route and Path-style routes.
//!
//! Implementation notes:
//! - A Record-Route (and the route stored with a binding) names the flow
//!   towards the device in its user part (a flow token) and the super-node
//!   in a `ring` parameter holding its ring `host:port`. Any super-node can
//!   then forward a request carrying that route over a ring link, and the
//!   owner delivers it on the flow. The host:port is the address facing the
//!   device's transport, so a UDP phone that uses the route sends to our
//!   UDP port.

use std::net::SocketAddr;

use sip::{NameAddr, SipUri, Transport, Uri, Via};

use super::flow::{ConnKind, Flow};

/// URI parameter naming the super-node (its ring `host:port`).
pub const RING_PARAM: &str = "ring";

/// This super-node's addresses.
#[derive(Debug, Clone)]
pub struct Local {
    /// SIP over UDP.
    pub udp: Option<SocketAddr>,
    /// SIP over TCP.
    pub tcp: Option<SocketAddr>,
    /// The HTTP server carrying SIP over WebSocket.
    pub ws: SocketAddr,
    /// Ring address (`ws://host:port`).
    pub ring_addr: String,
    /// `host:port` part of `ring_addr`, as written in `ring=` parameters.
    pub ring_host_port: String,
    ring_host: String,
    ring_port: Option<u16>,
}

impl Local {
    /// `ring_addr` must look like `ws://host:port`.
    pub fn new(udp: Option<SocketAddr>, tcp: Option<SocketAddr>, ws: SocketAddr, ring_addr: &str) -> Local {
        let ring_host_port = ring_addr.strip_prefix("ws://").unwrap_or(ring_addr).trim_end_matches('/').to_owned();
        let (ring_host, ring_port) = match ring_host_port.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => (h.to_owned(), p.parse().ok()),
            _ => (ring_host_port.clone(), None),
        };
        Local { udp, tcp, ws, ring_addr: ring_addr.to_owned(), ring_host_port, ring_host, ring_port }
    }

    /// The ring address a `ring=` parameter names.
    pub fn ring_addr_of(param: &str) -> String {
        format!("ws://{param}")
    }

    /// Whether `host:port` is one of our SIP-facing addresses.
    fn is_our_host_port(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        [self.udp, self.tcp, Some(self.ws)].into_iter().flatten().any(|a| {
            a.ip().to_string() == host && port.unwrap_or(5060) == a.port()
        })
    }

    /// Whether a Route URI points at this super-node.
    pub fn is_ours(&self, uri: &SipUri) -> bool {
        match uri.params.value(RING_PARAM) {
            Some(ring) => ring == self.ring_host_port,
            None => self.is_our_host_port(&uri.host, uri.port),
        }
    }

    /// Whether a Request-URI addresses this super-node itself rather than
    /// a user: no user part (a domain, for REGISTER and OPTIONS pings), or
    /// one of our own addresses.
    pub fn is_addressed_to_us(&self, uri: &Uri) -> bool {
        match uri.as_sip() {
            Some(u) => u.user.is_none() || self.is_ours(u),
            None => false,
        }
    }

    /// The transport and sent-by for a Via on a request sent over `flow`.
    pub fn via(&self, flow: &Flow, kind: Option<ConnKind>, branch: &str) -> Via {
        let (transport, addr) = match (flow, kind) {
            (Flow::Udp(_), _) => (Transport::Udp, self.udp.unwrap_or(self.ws)),
            (Flow::Conn(_), Some(ConnKind::Tcp)) => (Transport::Tcp, self.tcp.unwrap_or(self.ws)),
            (Flow::Conn(_), _) => (Transport::Ws, self.ws),
            (Flow::Ring(_), _) => {
                // The ring link is a WebSocket; name it by the ring address.
                return Via::new(Transport::Ws, self.ring_host.clone(), self.ring_port, branch);
            }
        };
        let mut via = Via::new(transport, addr.ip().to_string(), Some(addr.port()), branch);
        if matches!(flow, Flow::Udp(_)) {
            // RFC 3581: ask the next hop to answer to the port we send from.
            via.params.set("rport", None);
        }
        via
    }

    /// A loose-routing URI for this super-node whose user part is the flow
    /// token of a flow of kind `kind` (None: UDP).
    pub fn route_uri(&self, token: &str, kind: Option<ConnKind>) -> NameAddr {
        let (addr, transport) = match kind {
            None => (self.udp.unwrap_or(self.ws), None),
            Some(ConnKind::Tcp) => (self.tcp.unwrap_or(self.ws), Some("tcp")),
            Some(ConnKind::Ws) => (self.ws, Some("ws")),
        };
        let mut uri = SipUri::new(addr.ip().to_string()).with_user(token).with_port(addr.port());
        if let Some(t) = transport {
            uri = uri.with_param("transport", Some(t));
        }
        uri = uri.with_param("lr", None).with_param(RING_PARAM, Some(&self.ring_host_port));
        NameAddr::new(Uri::Sip(uri))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Local {
        Local::new(
            Some("127.0.0.1:5060".parse().expect("addr")),
            Some("127.0.0.1:5060".parse().expect("addr")),
            "127.0.0.1:8080".parse().expect("addr"),
            "ws://127.0.0.1:7000",
        )
    }

    #[test]
    fn recognises_its_routes_and_addresses() {
        let l = local();
        let r = l.route_uri("c1-abc", Some(ConnKind::Ws));
        let text = r.to_string();
        assert!(text.contains("ring=127.0.0.1:7000") && text.contains(";lr") && text.contains("transport=ws"), "{text}");
        let Uri::Sip(u) = &r.uri else { panic!("sip uri") };
        assert!(l.is_ours(u));
        let other: Uri = "sip:x@127.0.0.1:9999;lr;ring=127.0.0.1:7001".parse().expect("uri");
        assert!(!l.is_ours(other.as_sip().expect("sip")));
        let plain: Uri = "sip:127.0.0.1:5060;lr".parse().expect("uri");
        assert!(l.is_ours(plain.as_sip().expect("sip")));
        assert!(l.is_addressed_to_us(&"sip:example.org".parse().expect("uri")));
        assert!(!l.is_addressed_to_us(&"sip:bob@example.org".parse().expect("uri")));
        assert!(!l.is_addressed_to_us(&"tel:+15551234".parse().expect("uri")));
    }

    #[test]
    fn via_per_transport() {
        let l = local();
        let v = l.via(&Flow::Udp("127.0.0.1:5080".parse().expect("addr")), None, "z9hG4bKx");
        assert_eq!(v.to_string(), "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx;rport");
        let v = l.via(&Flow::Ring("ws://127.0.0.1:7001".into()), None, "z9hG4bKy");
        assert_eq!(v.sent_by(), "127.0.0.1:7000");
    }
}
