//! The Via header (RFC 3261 §20.42, §18.2.1 `received`, RFC 3581 `rport`).

use std::fmt;
use std::str::FromStr;

use super::HeaderError;
use crate::params::{parse_header_params, Params};
use crate::text::{parse_decimal, Scanner, DIGIT, TOKEN};
use crate::uri::parse_host;

/// Prefix of every RFC 3261 branch; its absence means an RFC 2543 peer.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// A branch id for a new client transaction: the magic cookie then `unique`,
/// which the caller draws from its own randomness (this crate has none).
pub fn rfc3261_branch(unique: &str) -> String {
    format!("{MAGIC_COOKIE}{unique}")
}

/// The transport of a Via (`SIP/2.0/<transport>`), case-insensitive on input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// SCTP.
    Sctp,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
    /// Any other token, as written.
    Other(String),
}

impl Transport {
    fn parse(token: &str) -> Transport {
        const KNOWN: [(&str, Transport); 6] = [
            ("UDP", Transport::Udp),
            ("TCP", Transport::Tcp),
            ("TLS", Transport::Tls),
            ("SCTP", Transport::Sctp),
            ("WS", Transport::Ws),
            ("WSS", Transport::Wss),
        ];
        KNOWN
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map_or_else(|| Transport::Other(token.to_owned()), |(_, t)| t.clone())
    }

    /// The token as sent: upper case for the known ones.
    pub fn as_str(&self) -> &str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Other(token) => token,
        }
    }
}

/// One Via value: `SIP/2.0/UDP host:port;branch=...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// The transport the request was sent over.
    pub transport: Transport,
    /// sent-by host as written (IPv6 with brackets).
    pub host: String,
    /// sent-by port, if given.
    pub port: Option<u16>,
    /// Parameters: `branch`, `received`, `rport`, `maddr`, `ttl`, others.
    pub params: Params,
}

impl Via {
    /// A Via with the given branch (see [`rfc3261_branch`]).
    pub fn new(transport: Transport, host: impl Into<String>, port: Option<u16>, branch: &str) -> Via {
        Via {
            transport,
            host: host.into(),
            port,
            params: Params::new().with("branch", Some(branch)),
        }
    }

    /// Parses one Via value (no commas).
    pub fn parse(value: &str) -> Result<Via, HeaderError> {
        let mut sc = Scanner::new(value);
        let via = Via::parse_from(&mut sc)?;
        sc.skip_ws();
        if !sc.at_end() {
            return Err(HeaderError::Trailing(sc.rest().to_owned()));
        }
        Ok(via)
    }

    /// Parses one value, stopping before whatever follows (a `,` in a list).
    pub(crate) fn parse_from(sc: &mut Scanner<'_>) -> Result<Via, HeaderError> {
        // sent-protocol = "SIP" SLASH "2.0" SLASH transport, SLASH = SWS "/" SWS
        sc.skip_ws();
        let name = sc.take_class(&TOKEN);
        sc.skip_ws();
        let slash1 = sc.eat(b'/');
        sc.skip_ws();
        let version = sc.take_class(&TOKEN);
        sc.skip_ws();
        let slash2 = sc.eat(b'/');
        sc.skip_ws();
        let transport = sc.take_class(&TOKEN);
        if !name.eq_ignore_ascii_case("SIP") || !slash1 || version != "2.0" || !slash2 || transport.is_empty() {
            return Err(HeaderError::BadSentProtocol);
        }
        if !sc.skip_ws() {
            return Err(HeaderError::BadSentBy);
        }
        let host = parse_host(sc).ok_or(HeaderError::BadSentBy)?.to_owned();
        // sent-by = host [ COLON port ], COLON = SWS ":" SWS
        let mut look = sc.clone();
        look.skip_ws();
        let port = if look.eat(b':') {
            look.skip_ws();
            *sc = look;
            let digits = sc.take_class(&DIGIT);
            let port = parse_decimal(digits, u64::from(u16::MAX)).map_err(|_| HeaderError::BadSentBy)?;
            Some(u16::try_from(port).map_err(|_| HeaderError::BadSentBy)?)
        } else {
            None
        };
        let params = parse_header_params(sc)?;
        let via = Via { transport: Transport::parse(transport), host, port, params };
        if let Some(Some(rport)) = via.params.get("rport") {
            if parse_decimal(rport, u64::from(u16::MAX)).is_err() {
                return Err(HeaderError::OutOfRange { what: "rport" });
            }
        }
        Ok(via)
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// True when the branch starts with the magic cookie and has something
    /// after it (RFC 4475 badbranch has the bare cookie: not usable as an id).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&str> {
        self.params.value("received")
    }

    /// Sets `received` to the source address of the request (RFC 3261 §18.2.1).
    /// IPv6 addresses go without brackets.
    pub fn set_received(&mut self, address: &str) {
        self.params.set("received", Some(address));
    }

    /// `None` if absent, `Some(None)` if the client asked for it (valueless
    /// `;rport`), `Some(Some(port))` once a server filled it in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// Fills in `rport` with the source port (RFC 3581 §4).
    pub fn set_rport(&mut self, port: u16) {
        self.params.set("rport", Some(&port.to_string()));
    }

    /// `host[:port]` as written in the Via.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

impl FromStr for Via {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Via::parse(s)
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SIP/2.0/")?;
        crate::output::write_clean(f, self.transport.as_str())?;
        f.write_str(" ")?;
        crate::output::write_clean(f, &self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        self.params.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_spacing() {
        let via = Via::parse("SIP  /   2.0  /UDP    192.0.2.2;branch=390skdjuw").expect("valid");
        assert_eq!(via.transport, Transport::Udp);
        assert_eq!(via.host, "192.0.2.2");
        assert_eq!(via.branch(), Some("390skdjuw"));
        assert!(!via.has_rfc3261_branch());
        let via = Via::parse("SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239").expect("valid");
        assert_eq!(via.branch(), Some("z9hG4bK30239"));
        assert!(via.has_rfc3261_branch());
        assert_eq!(via.to_string(), "SIP/2.0/UDP 192.168.255.111;branch=z9hG4bK30239");
    }

    #[test]
    fn received_and_rport() {
        let mut via = Via::parse("SIP/2.0/WSS df7jal23ls0d.invalid : 443;branch=z9hG4bKx;rport").expect("valid");
        assert_eq!(via.transport, Transport::Wss);
        assert_eq!(via.port, Some(443));
        assert_eq!(via.rport(), Some(None));
        via.set_received("192.0.2.7");
        via.set_rport(50123);
        assert_eq!(via.received(), Some("192.0.2.7"));
        assert_eq!(via.rport(), Some(Some(50123)));
        assert_eq!(
            via.to_string(),
            "SIP/2.0/WSS df7jal23ls0d.invalid:443;branch=z9hG4bKx;rport=50123;received=192.0.2.7"
        );
        let v6 = Via::parse("SIP/2.0/UDP [2001:db8::9]:5060;received=2001:db8::9").expect("valid");
        assert_eq!(v6.host, "[2001:db8::9]");
        assert_eq!(v6.received(), Some("2001:db8::9"));
        assert_eq!(v6.sent_by(), "[2001:db8::9]:5060");
    }

    #[test]
    fn other_transport_and_bare_cookie() {
        let via = Via::parse("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bK").expect("valid");
        assert_eq!(via.transport, Transport::Other("UNKNOWN".into()));
        assert!(!via.has_rfc3261_branch());
    }

    #[test]
    fn rejects() {
        for bad in [
            "SIP/7.0/UDP c.example.com",
            "SIP/2.0 host",
            "SIP/2.0/UDP",
            "SIP/2.0/UDPhost",
            "SIP/2.0/UDP host:99999",
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0/UDP host;rport=x",
            "SIP/2.0/UDP host junk",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn branch_helper() {
        let via = Via::new(Transport::Udp, "h", Some(5060), &rfc3261_branch("abc"));
        assert_eq!(via.to_string(), "SIP/2.0/UDP h:5060;branch=z9hG4bKabc");
    }
}
