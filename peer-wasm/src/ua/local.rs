//! Who we are on the wire: our address, Contact, Via host, and the fresh
//! tags, branches and Call-IDs every new request needs.

use sip::{rfc3261_branch, Contact, Header, Method, NameAddr, SipUri, Transport, Uri, Via};

use super::event::UaError;
use sip::rng::Rng;

/// Shown as From when calling before registering (RFC 3261 §8.1.1.3 style).
const ANONYMOUS: &str = "sip:anonymous@anonymous.invalid";

/// Methods we accept, for Allow.
pub fn allow() -> Header {
    Header::Allow(vec![
        Method::Invite,
        Method::Ack,
        Method::Cancel,
        Method::Bye,
        Method::Options,
        Method::Message,
        Method::Info,
    ])
}

/// See the module doc.
#[derive(Debug)]
pub struct Local {
    pub rng: Rng,
    /// Our made-up host (RFC 7118 §5: a browser has no reachable address).
    host: String,
    transport: Transport,
    contact_uri: Uri,
    instance: String,
    /// `None` when the configured text is not a valid header value.
    user_agent: Option<Header>,
    /// Our address of record once `register` was called.
    pub aor: Option<NameAddr>,
}

impl Local {
    pub fn new(mut rng: Rng, secure: bool, user_agent: &str) -> Local {
        let host = format!("{}.invalid", rng.token(12));
        let user = rng.token(8);
        // `ob`: RFC 5626 outbound, the edge proxy reaches us over this flow.
        let contact_uri = SipUri::new(host.clone())
            .with_user(&user)
            .with_param("transport", Some("ws"))
            .with_param("ob", None);
        let instance = format!("urn:uuid:{}", rng.uuid());
        Local {
            rng,
            host,
            transport: if secure { Transport::Wss } else { Transport::Ws },
            contact_uri: Uri::Sip(contact_uri),
            instance,
            user_agent: Header::other("User-Agent", user_agent).ok(),
            aor: None,
        }
    }

    pub fn contact_uri(&self) -> &Uri {
        &self.contact_uri
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Our Contact with the instance id (RFC 5626 §4.1).
    pub fn contact(&self) -> Contact {
        let mut addr = NameAddr::new(self.contact_uri.clone());
        addr.params.set_quoted("+sip.instance", &format!("<{}>", self.instance));
        Contact::Addr(addr)
    }

    /// A Via with a fresh branch.
    pub fn via(&mut self) -> Via {
        let branch = rfc3261_branch(&self.rng.token(16));
        Via::new(self.transport.clone(), self.host.clone(), None, &branch)
    }

    pub fn tag(&mut self) -> String {
        self.rng.token(10)
    }

    pub fn call_id(&mut self) -> String {
        format!("{}@{}", self.rng.token(20), self.host)
    }

    /// The User-Agent header, if the configured one is valid.
    pub fn user_agent(&self) -> Option<Header> {
        self.user_agent.clone()
    }

    /// Our From address with a fresh tag: the AOR, or anonymous.
    pub fn from(&mut self) -> NameAddr {
        let tag = self.tag();
        let addr = self.aor.clone().unwrap_or_else(|| {
            NameAddr::new(Uri::parse(ANONYMOUS).expect("the anonymous URI constant is valid"))
        });
        addr.with_tag(&tag)
    }

    /// Reads a target the page typed: a `sip:`/`sips:` URI, `user@host`,
    /// or a bare user in our own domain.
    pub fn target(&self, input: &str) -> Result<Uri, UaError> {
        let input = input.trim();
        let bad = || UaError::BadAddress(input.to_owned());
        let lower = input.to_ascii_lowercase();
        let text = if lower.starts_with("sip:") || lower.starts_with("sips:") {
            input.to_owned()
        } else if input.contains(':') {
            // Another scheme (`tel:`, `https:` …): not ours to call.
            return Err(bad());
        } else if input.contains('@') {
            format!("sip:{input}")
        } else {
            let domain = self.aor.as_ref().and_then(|a| a.uri.as_sip()).map(|u| u.host.clone()).ok_or_else(bad)?;
            format!("sip:{input}@{domain}")
        };
        let uri = Uri::parse(&text).map_err(|_| bad())?;
        // A target needs a user part: we call people, not hosts.
        match uri.as_sip() {
            Some(sip) if sip.user.is_some() && sip.headers.is_empty() => Ok(uri),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let mut local = Local::new(Rng::new(1), false, "t");
        assert_eq!(local.target("bob").ok(), None);
        local.aor = Some(NameAddr::new(Uri::sip(Some("alice"), "example.org")));
        assert_eq!(local.target(" bob ").map(|u| u.to_string()), Ok("sip:bob@example.org".into()));
        assert_eq!(local.target("bob@x.org").map(|u| u.to_string()), Ok("sip:bob@x.org".into()));
        assert_eq!(local.target("SIP:bob@x.org").map(|u| u.to_string()), Ok("sip:bob@x.org".into()));
        assert!(local.target("sip:x.org").is_err());
        assert!(local.target("tel:+123").is_err());
        assert!(local.target("bo b@x").is_err());
        assert!(local.target("").is_err());
        let contact = local.contact().to_string();
        assert!(contact.contains(";transport=ws;ob>;+sip.instance=\"<urn:uuid:"), "{contact}");
        assert_eq!(local.via().transport, Transport::Ws);
        assert!(local.via().has_rfc3261_branch());
        assert!(local.from().tag().is_some());
    }
}
