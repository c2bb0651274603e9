//! SIP and SIPS URIs (RFC 3261 §19.1), and every other absolute URI kept
//! opaque so that an unknown scheme still parses (a registrar or proxy then
//! answers 416 or 400 as fits).
//!
//! Implementation notes: the user part, password, parameters and URI headers
//! are stored as written, `%HH` escapes included. Unescaping is a question of
//! meaning, not syntax (RFC 4475 §3.1.1.3: `value%41` must never become
//! `valueA` by a second unescape), so it is left to accessors such as
//! [`SipUri::user_unescaped`] and to [`crate::Aor`]. The scheme is
//! case-insensitive and written back in lower case.
//!
//! The user part may legally contain `;`, `?`, `/` and `,` (RFC 3261
//! `user-unreserved`), but never a raw `@`, and neither may the host,
//! parameters or headers; so the first `@` ends the userinfo. That is how
//! `sip:user;par=u%40example.net@example.com` gets the user
//! `user;par=u%40example.net` (RFC 4475 §3.1.1.9).

mod parse;

pub(crate) use parse::parse_host;
use parse::{escape_user, parse_sip, unescape};

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::output::write_clean;
use crate::params::{ParamError, Params};
use crate::text::{all_in, find_byte, ABSOLUTE_URI, SCHEME};

/// What is wrong with a URI.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// No `scheme:` prefix, or a scheme with characters RFC 3986 does not allow.
    #[error("missing or malformed URI scheme")]
    BadScheme,
    /// The user part is empty or holds a character that must be escaped.
    #[error("malformed user part")]
    BadUser,
    /// The password holds a character that must be escaped.
    #[error("malformed password")]
    BadPassword,
    /// The host is missing or is not a host name, IPv4 address or `[IPv6]` reference.
    #[error("missing or malformed host")]
    BadHost,
    /// The port is not a number from 0 to 65535.
    #[error("malformed port")]
    BadPort,
    /// A URI parameter is malformed.
    #[error("URI parameter: {0}")]
    Param(#[from] ParamError),
    /// The `?name=value&...` header part is malformed.
    #[error("malformed URI headers")]
    BadHeaders,
    /// Characters after the end of the URI (whitespace, `>`, ...).
    #[error("unexpected {0:?} in URI")]
    Trailing(String),
    /// The part after `scheme:` of a non-SIP URI is empty or holds
    /// whitespace, `<`, `>` or `"`.
    #[error("malformed {0} URI")]
    BadOpaque(String),
}

/// A URI: SIP/SIPS, parsed; anything else, opaque.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// Any other scheme (`tel:`, `urn:`, `http:` ...), kept verbatim.
    Other(AbsoluteUri),
}

/// A `sip:` or `sips:` URI.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SipUri {
    /// `true` for `sips:`.
    pub secure: bool,
    /// The user part as written (escaped). Never empty when present.
    pub user: Option<String>,
    /// The password as written (escaped). Deprecated by RFC 3261 but legal.
    pub password: Option<String>,
    /// Host name, IPv4 address, or IPv6 reference with its brackets, as written.
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=ws;lr`), values escaped as written.
    pub params: Params,
    /// URI headers (`?Route=...`), as written.
    pub headers: Vec<UriHeader>,
}

/// One `name=value` of a URI's header part (escaped, as written).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UriHeader {
    /// Header name, escaped.
    pub name: String,
    /// Header value, escaped; may be empty.
    pub value: String,
}

/// A non-SIP absolute URI, kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AbsoluteUri {
    text: String,
    scheme_len: usize,
}

impl AbsoluteUri {
    /// The scheme as written (compare it case-insensitively).
    pub fn scheme(&self) -> &str {
        self.text.get(..self.scheme_len).unwrap_or("")
    }

    /// The whole URI.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Uri {
    /// Parses a URI with nothing around it (no `<>`, no whitespace).
    pub fn parse(s: &str) -> Result<Uri, UriError> {
        let colon = find_byte(s, b':').ok_or(UriError::BadScheme)?;
        let scheme = s.get(..colon).unwrap_or("");
        let rest = s.get(colon + 1..).unwrap_or("");
        if scheme.eq_ignore_ascii_case("sip") {
            return parse_sip(rest, false).map(Uri::Sip);
        }
        if scheme.eq_ignore_ascii_case("sips") {
            return parse_sip(rest, true).map(Uri::Sip);
        }
        let first_is_alpha = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
        if !first_is_alpha || !all_in(scheme, &SCHEME) {
            return Err(UriError::BadScheme);
        }
        if !all_in(rest, &ABSOLUTE_URI) {
            return Err(UriError::BadOpaque(scheme.to_owned()));
        }
        Ok(Uri::Other(AbsoluteUri { text: s.to_owned(), scheme_len: colon }))
    }

    /// `sip:user@host`, escaping whatever in `user` needs it.
    pub fn sip(user: Option<&str>, host: &str) -> Uri {
        let mut uri = SipUri::new(host);
        uri.user = user.map(escape_user);
        Uri::Sip(uri)
    }

    /// The scheme: `sip`, `sips`, or the other scheme as written.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(uri) if uri.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Other(other) => other.scheme(),
        }
    }

    /// True for `sip:` and `sips:` URIs.
    pub fn is_sip(&self) -> bool {
        matches!(self, Uri::Sip(_))
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(uri) => Some(uri),
            Uri::Other(_) => None,
        }
    }

    /// The SIP URI, mutably, if this is one.
    pub fn as_sip_mut(&mut self) -> Option<&mut SipUri> {
        match self {
            Uri::Sip(uri) => Some(uri),
            Uri::Other(_) => None,
        }
    }
}

impl SipUri {
    /// `sip:host` with nothing else.
    pub fn new(host: impl Into<String>) -> SipUri {
        SipUri {
            secure: false,
            user: None,
            password: None,
            host: host.into(),
            port: None,
            params: Params::new(),
            headers: Vec::new(),
        }
    }

    /// Sets the user part from unescaped text, escaping what needs it.
    pub fn with_user(mut self, user: &str) -> Self {
        self.user = Some(escape_user(user));
        self
    }

    /// Sets the port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets a URI parameter; `value` must already be escaped.
    pub fn with_param(mut self, name: &str, value: Option<&str>) -> Self {
        self.params.set(name, value);
        self
    }

    /// The user part with every `%HH` decoded. Bytes, because `%00` or
    /// `%FF` are legal and are not text.
    pub fn user_unescaped(&self) -> Option<Cow<'_, [u8]>> {
        self.user.as_deref().map(unescape)
    }

    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&str> {
        self.params.value("transport")
    }

    /// True when the URI carries `lr` (a loose router, RFC 3261 §16.4).
    pub fn is_loose_route(&self) -> bool {
        self.params.contains("lr")
    }

    /// `host[:port]`.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

impl FromStr for Uri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uri::parse(s)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(uri) => uri.fmt(f),
            Uri::Other(other) => write_clean(f, &other.text),
        }
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(user) = &self.user {
            write_clean(f, user)?;
            if let Some(password) = &self.password {
                f.write_str(":")?;
                write_clean(f, password)?;
            }
            f.write_str("@")?;
        }
        write_clean(f, &self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        self.params.fmt(f)?;
        for (i, header) in self.headers.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            write_clean(f, &header.name)?;
            f.write_str("=")?;
            write_clean(f, &header.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        match Uri::parse(s) {
            Ok(Uri::Sip(uri)) => uri,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn full_sip_uri() {
        let uri = sip("sips:alice:secret@Example.COM:5061;transport=tcp;lr?subject=hi&x=");
        assert!(uri.secure);
        assert_eq!(uri.user.as_deref(), Some("alice"));
        assert_eq!(uri.password.as_deref(), Some("secret"));
        assert_eq!(uri.host, "Example.COM");
        assert_eq!(uri.port, Some(5061));
        assert_eq!(uri.transport(), Some("tcp"));
        assert!(uri.is_loose_route());
        assert_eq!(uri.headers.len(), 2);
        assert_eq!(uri.headers[1].value, "");
        assert_eq!(
            uri.to_string(),
            "sips:alice:secret@Example.COM:5061;transport=tcp;lr?subject=hi&x="
        );
    }

    #[test]
    fn user_part_with_reserved_characters() {
        let uri = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(uri.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(uri.host, "example.com");
        assert!(uri.params.is_empty());
        let uri = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
        assert_eq!(uri.user.as_deref(), Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
        assert_eq!(uri.password.as_deref(), Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
    }

    #[test]
    fn escapes_are_kept_and_decoded_on_demand() {
        let uri = sip("sip:null-%00-null@example.com");
        assert_eq!(uri.user_unescaped().as_deref(), Some(&b"null-\0-null"[..]));
        assert_eq!(uri.to_string(), "sip:null-%00-null@example.com");
        let uri = sip("sip:%75se%72@example.com");
        assert_eq!(uri.user_unescaped().as_deref(), Some(&b"user"[..]));
    }

    #[test]
    fn ipv6_and_no_user() {
        let uri = sip("sip:[2001:db8::1]:5060;maddr=[::1]");
        assert_eq!(uri.host, "[2001:db8::1]");
        assert_eq!(uri.port, Some(5060));
        assert_eq!(uri.params.value("maddr"), Some("[::1]"));
        assert_eq!(sip("SIP:127.0.0.1:5080").to_string(), "sip:127.0.0.1:5080");
    }

    #[test]
    fn other_schemes_are_opaque() {
        for s in ["nobodyKnowsThisScheme:totallyopaquecontent", "soap.beep://192.0.2.103:3002", "isbn:2983792873", "tel:+1-201-555-0123"] {
            let uri = Uri::parse(s).expect(s);
            assert!(!uri.is_sip());
            assert_eq!(uri.to_string(), s);
        }
        assert_eq!(Uri::parse("urn:uuid:1").expect("valid").scheme(), "urn");
    }

    #[test]
    fn rejects() {
        let bad = [
            ("sip:", UriError::BadHost),
            ("sip:@host", UriError::BadUser),
            ("sip:a@b@c", UriError::Trailing("@c".into())),
            ("sip:user@example.com; lr", UriError::Param(ParamError::EmptyName)),
            ("sip:user@example.com lr", UriError::Trailing(" lr".into())),
            ("sip:host:70000", UriError::BadPort),
            ("sip:host:", UriError::BadPort),
            ("sip:a%4@host", UriError::BadUser),
            ("sip:host;;", UriError::Param(ParamError::EmptyName)),
            ("sip:host?x", UriError::BadHeaders),
            ("sip:[::1", UriError::BadHost),
            ("<sip:user@example.com>", UriError::BadScheme),
            (" sip:x", UriError::BadScheme),
            ("1abc:x", UriError::BadScheme),
            ("abc:", UriError::BadOpaque("abc".into())),
            ("abc:a b", UriError::BadOpaque("abc".into())),
        ];
        for (s, err) in bad {
            assert_eq!(Uri::parse(s), Err(err), "{s}");
        }
    }

    #[test]
    fn builders_escape_the_user() {
        let uri = Uri::sip(Some("al ice@home"), "example.org");
        assert_eq!(uri.to_string(), "sip:al%20ice%40home@example.org");
        assert_eq!(Uri::parse(&uri.to_string()), Ok(uri));
        let uri = SipUri::new("example.org").with_user("bob").with_port(5060).with_param("transport", Some("ws"));
        assert_eq!(uri.to_string(), "sip:bob@example.org:5060;transport=ws");
    }
}
