//! SIP URI comparison (RFC 3261 §19.1.4): [`uri_eq`], and [`uri_key`] for
//! hash maps.
//!
//! Implementation notes: every component is first put in a canonical form.
//! `%HH` escapes of unreserved characters (alphanumerics, `-_.!~*'()`, and
//! the `[` `]` that parameters may hold) are decoded, because §19.1.4 makes
//! `%61lice` equal to `alice`; escapes of reserved characters (`;/?:@&=+$,`),
//! of `%` and of anything that cannot appear literally stay escaped with
//! upper-case hex, because an escaped reserved character is data, not
//! syntax, and is not equal to the character itself. The user part and
//! password keep their case; everything else is lowered. Both functions
//! use the same canonical forms, which is what makes [`uri_key`] agree with
//! [`uri_eq`].

use crate::params::Params;
use crate::text::hex_value;
use crate::uri::SipUri;

/// URI parameters that must match whenever either URI has them (§19.1.4:
/// user, ttl, method and maddr; transport too, since its absence and
/// `transport=udp` "can resolve to different transports").
const SIGNIFICANT_PARAMS: [&str; 5] = ["transport", "user", "ttl", "method", "maddr"];

/// RFC 3261 §19.1.4 equality of two SIP URIs.
///
/// - `sip:` never equals `sips:`.
/// - User and password compare case-sensitively, host case-insensitively,
///   both after decoding escapes of unreserved characters.
/// - User, password and port must be present in both or neither
///   (`sip:h` is not `sip:h:5060`).
/// - transport, user, ttl, method and maddr parameters must match if either
///   URI has one; any other parameter is compared only if both have it.
/// - URI headers must be the same set in both (any order).
///
/// Host names are compared as text: no DNS, no IPv6 address normalisation
/// (`[::1]` is not `[0::1]`). The relation is not transitive (RFC 3261 says
/// so: `;security=on` and `;security=off` both equal the bare URI).
pub fn uri_eq(a: &SipUri, b: &SipUri) -> bool {
    a.secure == b.secure
        && canon_opt(a.user.as_deref(), false) == canon_opt(b.user.as_deref(), false)
        && canon_opt(a.password.as_deref(), false) == canon_opt(b.password.as_deref(), false)
        && canon(&a.host, true) == canon(&b.host, true)
        && a.port == b.port
        && params_eq(&canon_params(&a.params), &canon_params(&b.params))
        && canon_headers(a) == canon_headers(b)
}

/// A canonical string for `uri`, for hash maps (a registrar's contacts):
/// `uri_eq(a, b)` implies `uri_key(a) == uri_key(b)`.
///
/// It holds the scheme, user, password, lowered host, port, the transport,
/// user, ttl, method and maddr parameters (sorted), and the URI headers
/// (sorted), all in canonical form. Other parameters are left out: since
/// §19.1.4 equality ignores a parameter only one URI has, no key that
/// included them could keep the implication. The approximation is that
/// URIs differing only in such a parameter (`;ob`, `;security=on` vs
/// `;security=off`) share a key, so a registrar treats a refresh that
/// changed one as the same contact and replaces the binding, which is what
/// it wants.
pub fn uri_key(uri: &SipUri) -> String {
    let mut key = String::from(if uri.secure { "sips:" } else { "sip:" });
    if let Some(user) = &uri.user {
        key.push_str(&canon(user, false));
        if let Some(password) = &uri.password {
            key.push(':');
            key.push_str(&canon(password, false));
        }
        key.push('@');
    }
    key.push_str(&canon(&uri.host, true));
    if let Some(port) = uri.port {
        key.push_str(&format!(":{port}"));
    }
    let params = canon_params(&uri.params);
    for name in SIGNIFICANT_PARAMS {
        if let Some(value) = first(&params, name) {
            key.push(';');
            key.push_str(name);
            if let Some(value) = value {
                key.push('=');
                key.push_str(value);
            }
        }
    }
    for (i, (name, value)) in canon_headers(uri).iter().enumerate() {
        key.push(if i == 0 { '?' } else { '&' });
        key.push_str(name);
        key.push('=');
        key.push_str(value);
    }
    key
}

type CanonParams = Vec<(String, Option<String>)>;

fn params_eq(a: &CanonParams, b: &CanonParams) -> bool {
    a.iter().chain(b.iter()).map(|(name, _)| name.as_str()).all(|name| {
        let (in_a, in_b) = (first(a, name), first(b, name));
        match (in_a, in_b) {
            (Some(x), Some(y)) => x == y,
            (None, None) => true,
            // Present in one only: fatal for the significant ones.
            _ => !SIGNIFICANT_PARAMS.contains(&name),
        }
    })
}

/// The value of the first parameter called `name` (canonical name):
/// `Some(None)` for a valueless one.
fn first<'a>(params: &'a CanonParams, name: &str) -> Option<Option<&'a str>> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_deref())
}

fn canon_params(params: &Params) -> CanonParams {
    params.iter().map(|(name, value)| (canon(name, true), value.map(|v| canon(v, true)))).collect()
}

/// Headers as a sorted list: order does not matter, repetitions do.
fn canon_headers(uri: &SipUri) -> Vec<(String, String)> {
    let mut headers: Vec<_> = uri.headers.iter().map(|h| (canon(&h.name, true), canon(&h.value, true))).collect();
    headers.sort();
    headers
}

fn canon_opt(s: Option<&str>, fold_case: bool) -> Option<String> {
    s.map(|s| canon(s, fold_case))
}

/// True for the characters whose escapes are decoded.
fn decodes(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-_.!~*'()[]".contains(&byte)
}

/// The canonical form of an escaped component (see the module notes).
fn canon(s: &str, fold_case: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = match (byte, bytes.get(i + 1).and_then(|b| hex_value(*b)), bytes.get(i + 2).and_then(|b| hex_value(*b))) {
            (b'%', Some(hi), Some(lo)) => Some((hi << 4) | lo),
            _ => None,
        };
        let (literal, width) = match escaped {
            Some(decoded) if decodes(decoded) => (decoded, 3),
            Some(kept) => {
                out.push_str(&format!("%{kept:02X}"));
                i += 3;
                continue;
            }
            None => (byte, 1),
        };
        let literal = if fold_case { literal.to_ascii_lowercase() } else { literal };
        // Parsed URIs are ASCII; anything else is escaped so the key stays text.
        if literal.is_ascii_graphic() {
            out.push(char::from(literal));
        } else {
            out.push_str(&format!("%{literal:02X}"));
        }
        i += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::Uri;

    fn sip(s: &str) -> SipUri {
        match Uri::parse(s) {
            Ok(Uri::Sip(uri)) => uri,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn assert_equal(a: &str, b: &str) {
        let (a, b) = (sip(a), sip(b));
        assert!(uri_eq(&a, &b), "{a} should equal {b}");
        assert!(uri_eq(&b, &a), "{b} should equal {a}");
        assert_eq!(uri_key(&a), uri_key(&b));
    }

    fn assert_unequal(a: &str, b: &str) {
        let (a, b) = (sip(a), sip(b));
        assert!(!uri_eq(&a, &b), "{a} should differ from {b}");
        assert!(!uri_eq(&b, &a), "{b} should differ from {a}");
    }

    #[test]
    fn rfc3261_equal_pairs() {
        assert_equal("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp");
        assert_equal("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5");
        assert_equal("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
        assert_equal("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on");
        assert_equal(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
        );
        assert_equal(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
        );
    }

    #[test]
    fn rfc3261_unequal_pairs() {
        assert_unequal("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP");
        assert_unequal("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
        assert_unequal("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
        assert_unequal("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp");
        assert_unequal("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting");
        assert_unequal("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");
        // Not transitive: both equal the bare URI, not each other.
        assert_unequal("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off");
    }

    #[test]
    fn other_rules() {
        assert_unequal("sip:alice@atlanta.com", "sips:alice@atlanta.com");
        assert_unequal("sip:atlanta.com", "sip:alice@atlanta.com");
        assert_unequal("sip:alice@atlanta.com", "sip:alice:pw@atlanta.com");
        assert_unequal("sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com");
        for param in ["user=phone", "ttl=1", "method=INVITE", "maddr=239.255.255.1"] {
            assert_unequal("sip:alice@atlanta.com", &format!("sip:alice@atlanta.com;{param}"));
        }
        // An escaped reserved character is data, not the character.
        assert_unequal("sip:a%3Bb@h", "sip:a;b@h");
        assert_equal("sip:a%3bb@h", "sip:a%3Bb@h");
        assert_equal("sip:h;maddr=%5B::1%5D", "sip:h;maddr=[::1]");
        assert_equal("sip:h;lr", "sip:h;LR");
        assert_unequal("sip:h;lr", "sip:h;lr=on");
        assert_equal("sip:[2001:DB8::1]:5060", "sip:[2001:db8::1]:5060");
        assert_unequal("sip:h?a=1&a=1", "sip:h?a=1");
        assert_equal("sip:null-%00-null@h", "sip:null-%00-null@h");
        assert_unequal("sip:null-%00-null@h", "sip:null-@h");
    }

    #[test]
    fn keys() {
        assert_eq!(
            uri_key(&sip("sip:%61lice:s%65cret@AtLanTa.CoM:5060;ob;Transport=TCP;lr?B=2&a=%2a")),
            "sip:alice:secret@atlanta.com:5060;transport=tcp?a=*&b=2"
        );
        assert_eq!(uri_key(&sip("sips:h")), "sips:h");
        assert_eq!(uri_key(&sip("sip:null-%00-null@h")), "sip:null-%00-null@h");
        // The approximation: parameters other than the five are left out.
        assert_eq!(uri_key(&sip("sip:c@h;security=on")), uri_key(&sip("sip:c@h;security=off")));
        assert_ne!(uri_key(&sip("sip:c@h")), uri_key(&sip("sip:c@h;transport=udp")));
        assert_ne!(uri_key(&sip("sip:a%3Bb@h")), uri_key(&sip("sip:a;b@h")));
    }
}
