//! Addresses of record: canonical form and 160-bit ring key (DESIGN.md
//! "Identifiers").
//!
//! The canonical form is `user@host` (or `host` when there is no user):
//! scheme, password, port, parameters and headers dropped; host lowered;
//! user kept case-sensitive (RFC 3261 §19.1.4). In the user part a `%HH`
//! escape of an *unreserved* character is decoded, because RFC 3261
//! §19.1.4 makes it equal to the character itself; any other escape is
//! kept, with upper-case hex, because decoding it would change meaning
//! (`%40` is not an `@`) or yield bytes that are not text (`%00`, RFC 4475
//! escnull). So `sip:%75se%72@Example.COM` and `sips:user@example.com:5061`
//! are the same AOR, `user@example.com`.

use std::fmt;

use sha1::{Digest, Sha1};

use crate::text::{hex_value, UNRESERVED};
use crate::uri::{SipUri, Uri};

/// Why a URI has no AOR.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AorError {
    /// Not a SIP or SIPS URI (RFC 4475 unksm2: a registrar answers 400).
    #[error("{scheme}: URI is not a SIP or SIPS address of record")]
    NotSip {
        /// The scheme found.
        scheme: String,
    },
}

impl AorError {
    /// The response to send: 400 (RFC 4475 §3.3.4). A proxy routing on the
    /// Request-URI answers 416 instead, which it tells by [`Uri::is_sip`].
    pub fn status_code(&self) -> u16 {
        400
    }
}

/// A 160-bit ring key: SHA-1 of the canonical AOR.
pub type AorKey = [u8; 20];

/// A canonical address of record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aor(String);

impl Aor {
    /// The AOR of a SIP or SIPS URI.
    pub fn from_uri(uri: &Uri) -> Result<Aor, AorError> {
        match uri {
            Uri::Sip(sip) => Ok(Aor::from_sip(sip)),
            Uri::Other(other) => Err(AorError::NotSip { scheme: other.scheme().to_owned() }),
        }
    }

    /// The AOR of a SIP or SIPS URI.
    pub fn from_sip(uri: &SipUri) -> Aor {
        let mut out = String::with_capacity(uri.host.len() + uri.user.as_ref().map_or(0, |u| u.len() + 1));
        if let Some(user) = &uri.user {
            canonical_user(user, &mut out);
            out.push('@');
        }
        out.extend(uri.host.chars().map(|c| c.to_ascii_lowercase()));
        Aor(out)
    }

    /// `user@host`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-1 of [`Aor::as_str`]: where the bindings live on the ring.
    pub fn key(&self) -> AorKey {
        Sha1::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Display for Aor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends the canonical form of an escaped user part (see the module doc).
fn canonical_user(user: &str, out: &mut String) {
    let bytes = user.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = |j: usize| bytes.get(i + j).and_then(|b| hex_value(*b));
        match (byte, hex(1), hex(2)) {
            (b'%', Some(hi), Some(lo)) => {
                let decoded = hi << 4 | lo;
                if UNRESERVED[usize::from(decoded)] {
                    out.push(char::from(decoded));
                } else {
                    out.push_str(&format!("%{decoded:02X}"));
                }
                i += 3;
            }
            _ => {
                // A parsed user part is ASCII; anything else came from code
                // that set the field directly and is kept as is.
                out.push(char::from(byte));
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aor(s: &str) -> Aor {
        Aor::from_uri(&s.parse().expect("valid URI")).expect("SIP URI")
    }

    fn hex(key: AorKey) -> String {
        key.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(aor("sip:alice@example.org").as_str(), "alice@example.org");
        assert_eq!(aor("sips:alice:pw@EXAMPLE.org:5061;transport=tcp?x=y").as_str(), "alice@example.org");
        assert_eq!(aor("sip:%75se%72@Example.COM"), aor("sip:user@example.com"));
        assert_ne!(aor("sip:Alice@example.org"), aor("sip:alice@example.org"));
        assert_eq!(aor("sip:null-%00-null@example.com").as_str(), "null-%00-null@example.com");
        assert_ne!(aor("sip:%00@h"), aor("sip:%00%00@h"));
        assert_eq!(aor("sip:sips%3auser%40example.com@example.net").as_str(), "sips%3Auser%40example.com@example.net");
        assert_eq!(aor("sip:example.org").as_str(), "example.org");
        assert_eq!(aor("sip:+1555;user=phone@GW.example.net").as_str(), "+1555;user=phone@gw.example.net");
    }

    #[test]
    fn key_is_sha1_of_canonical_form() {
        // sha1sum of the 17 bytes "alice@example.org".
        assert_eq!(hex(aor("sip:alice@example.org").key()), "45a6b241a242c97f0492d382c390dfa335aac986");
        assert_eq!(aor("SIPS:alice@Example.Org:5061").key(), aor("sip:alice@example.org").key());
    }

    #[test]
    fn non_sip_is_an_error() {
        let err = Aor::from_uri(&"isbn:2983792873".parse().expect("valid")).unwrap_err();
        assert_eq!(err, AorError::NotSip { scheme: "isbn".into() });
        assert_eq!(err.status_code(), 400);
    }
}
