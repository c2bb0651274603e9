//! Flows: where a SIP message came from and where a response or request
//! must go, and the flow tokens that name a flow inside a Route URI.
//!
//! Implementation notes:
//! - A peer is reached over the connection it registered on (RFC 5626
//!   style): the registrar stores a Path-like route whose user part is a
//!   flow token, and the super-node that minted it delivers requests
//!   carrying it on that flow. This is what lets browsers and NATed phones
//!   receive calls.
//! - Tokens carry a MAC keyed with a per-process secret (RFC 5626 §5.2), so
//!   a remote party cannot forge a token and inject requests into someone
//!   else's flow.

use std::fmt;
use std::net::SocketAddr;

use sha1::{Digest, Sha1};

/// The transport of a connection-oriented flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnKind {
    /// SIP over WebSocket (RFC 7118), a browser.
    Ws,
    /// SIP over TCP (RFC 3261 §18).
    Tcp,
}

/// Where SIP comes from or goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flow {
    /// A WebSocket or TCP connection, by the id the driver gave it.
    Conn(u64),
    /// A UDP peer.
    Udp(SocketAddr),
    /// Another super-node, by its advertised ring address.
    Ring(String),
}

impl Flow {
    /// Whether the transport retransmits for us (RFC 3261 §17 timers differ).
    pub fn is_reliable(&self) -> bool {
        !matches!(self, Flow::Udp(_))
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flow::Conn(id) => write!(f, "conn#{id}"),
            Flow::Udp(addr) => write!(f, "udp:{addr}"),
            Flow::Ring(addr) => write!(f, "ring:{addr}"),
        }
    }
}

/// Mints and checks flow tokens for local flows (connections and UDP peers).
#[derive(Debug, Clone)]
pub struct FlowTokens {
    secret: [u8; 16],
}

/// Bytes of MAC kept in a token (hex-encoded: twice as many characters).
const MAC_BYTES: usize = 8;

impl FlowTokens {
    /// `secret` must be unpredictable (the driver draws it at start).
    pub fn new(secret: [u8; 16]) -> Self {
        FlowTokens { secret }
    }

    /// The token naming `flow`; ring flows have none.
    pub fn mint(&self, flow: &Flow) -> Option<String> {
        let body = match flow {
            Flow::Conn(id) => format!("c{id:x}"),
            Flow::Udp(addr) => match addr {
                SocketAddr::V4(a) => format!("u4{}p{:x}", hex(&a.ip().octets()), a.port()),
                SocketAddr::V6(a) => format!("u6{}p{:x}", hex(&a.ip().octets()), a.port()),
            },
            Flow::Ring(_) => return None,
        };
        let mac = self.mac(&body);
        Some(format!("{body}-{mac}"))
    }

    /// The flow a token names, if the token is well-formed and genuine.
    pub fn check(&self, token: &str) -> Option<Flow> {
        let (body, mac) = token.rsplit_once('-')?;
        if mac.len() != 2 * MAC_BYTES || self.mac(body) != mac {
            return None;
        }
        if let Some(id) = body.strip_prefix('c') {
            return u64::from_str_radix(id, 16).ok().map(Flow::Conn);
        }
        let (ip_hex, port_hex) = body.get(2..)?.split_once('p')?;
        let port = u16::from_str_radix(port_hex, 16).ok()?;
        let ip = unhex(ip_hex)?;
        let ip: std::net::IpAddr = match (body.get(..2)?, ip.len()) {
            ("u4", 4) => std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).into(),
            ("u6", 16) => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&ip);
                std::net::Ipv6Addr::from(octets).into()
            }
            _ => return None,
        };
        Some(Flow::Udp(SocketAddr::new(ip, port)))
    }

    fn mac(&self, body: &str) -> String {
        let mut h = Sha1::new();
        h.update(self.secret);
        h.update(body.as_bytes());
        h.update(self.secret);
        hex(&h.finalize()[..MAC_BYTES])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_resist_forgery() {
        let t = FlowTokens::new([7; 16]);
        for flow in [
            Flow::Conn(0),
            Flow::Conn(u64::MAX),
            Flow::Udp("127.0.0.1:5060".parse().expect("addr")),
            Flow::Udp("[::1]:65535".parse().expect("addr")),
        ] {
            let token = t.mint(&flow).expect("local flows have tokens");
            assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{token}");
            assert_eq!(t.check(&token), Some(flow));
        }
        let token = t.mint(&Flow::Conn(5)).expect("token");
        let forged = token.replacen("c5", "c6", 1);
        assert_eq!(t.check(&forged), None);
        assert_eq!(FlowTokens::new([8; 16]).check(&token), None, "another node's secret");
        for junk in ["", "-", "c5", "c5-zz", "u4zz-0000000000000000", "u4ab-0123456789abcdef"] {
            assert_eq!(t.check(junk), None, "{junk}");
        }
        assert_eq!(t.mint(&Flow::Ring("ws://x:1".into())), None);
    }
}
