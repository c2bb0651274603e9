//! Properties of `reply_to_unparsable` (never panics, bounded, never
//! answers a response, always writes one well-framed head) and of
//! `uri_eq` / `uri_key` (reflexive, symmetric, and equal URIs share a key).

mod common;

use proptest::prelude::*;
use sip::reply::{reply_to_unparsable, MAX_COPIED_BYTES};
use sip::{uri_eq, uri_key, SipUri, Uri};

const SEEDS: [&str; 6] = [
    "invalid/badinv01.sip",
    "invalid/badvers.sip",
    "invalid/quotbal.sip",
    "valid/wsinv.sip",
    "valid/longreq.sip",
    "semantic/inv2543.sip",
];

fn check_reply(bytes: &[u8], status: u16, reason: &str, tag: &str) {
    let Some(reply) = reply_to_unparsable(bytes, status, reason, tag) else { return };
    let text = String::from_utf8(reply).expect("replies are text");
    assert!(text.starts_with("SIP/2.0 "));
    assert!(text.ends_with("\r\nContent-Length: 0\r\n\r\n"));
    // One head: no blank line before the end, no bare CR or LF.
    assert_eq!(text.matches("\r\n\r\n").count(), 1, "{text:?}");
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "{text:?}");
    assert_eq!(text.matches('\r').count(), text.matches("\r\n").count(), "{text:?}");
    assert!(text.contains("\r\nVia: "));
    assert!(text.len() <= MAX_COPIED_BYTES + 512 + reason.len().min(128) + 200, "{}", text.len());
    let first = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(bytes.len());
    assert!(!bytes[first..].starts_with(b"SIP/"), "answered a response");
}

fn edited(seed: usize, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = common::torture_bytes(SEEDS[seed % SEEDS.len()]);
    for &(at, byte, kind) in edits {
        let at = at % (bytes.len() + 1);
        match kind % 3 {
            0 if at < bytes.len() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

/// URIs from a small alphabet so that equal pairs are common: case
/// changes, escapes of unreserved and reserved characters, parameters in
/// any order, present or not.
fn uri_text() -> impl Strategy<Value = String> {
    let user = prop::sample::select(vec!["", "alice@", "%61lice@", "ALICE@", "a%3Bb@", "a;b@", "alice:pw@", "alice:%70w@"]);
    let host = prop::sample::select(vec!["atlanta.com", "AtLanTa.CoM", "[2001:db8::1]", "192.0.2.4"]);
    let port = prop::sample::select(vec!["", ":5060", ":6000"]);
    let param = prop::sample::select(vec![
        ";transport=tcp", ";Transport=TCP", ";transport=udp", ";user=phone", ";ttl=1", ";method=INVITE",
        ";maddr=239.255.255.1", ";lr", ";LR", ";lr=on", ";security=on", ";security=off", ";%6Cr", ";newparam=5",
    ]);
    let header = prop::sample::select(vec!["subject=project%20x", "Subject=Project%20X", "priority=urgent", "to=sip:bob%40b"]);
    let secure = any::<bool>();
    (secure, user, host, port, prop::collection::vec(param, 0..3), prop::collection::vec(header, 0..3)).prop_map(
        |(secure, user, host, port, params, headers)| {
            let mut s = format!("{}:{user}{host}{port}{}", if secure { "sips" } else { "sip" }, params.concat());
            if !headers.is_empty() {
                s.push('?');
                s.push_str(&headers.join("&"));
            }
            s
        },
    )
}

fn sip_uri(text: &str) -> Option<SipUri> {
    match Uri::parse(text) {
        Ok(Uri::Sip(uri)) => Some(uri),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn reply_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512),
                                   status in 0u16..1000, reason in ".{0,40}", tag in ".{0,20}") {
        check_reply(&bytes, status, &reason, &tag);
    }

    #[test]
    fn reply_never_panics_on_mutated_requests(seed in 0usize..SEEDS.len(),
                                              edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..12)) {
        check_reply(&edited(seed, &edits), 400, "Bad Request", "t1");
    }

    #[test]
    fn equal_uris_share_a_key(a in uri_text(), b in uri_text()) {
        let (Some(a), Some(b)) = (sip_uri(&a), sip_uri(&b)) else { return Ok(()) };
        prop_assert!(uri_eq(&a, &a));
        prop_assert_eq!(uri_eq(&a, &b), uri_eq(&b, &a));
        if uri_eq(&a, &b) {
            prop_assert_eq!(uri_key(&a), uri_key(&b), "{} = {}", a, b);
        }
        // The key of a key is itself: it is a canonical URI.
        let key = uri_key(&a);
        if let Some(again) = sip_uri(&key) {
            prop_assert_eq!(uri_key(&again), key);
        }
    }
}
