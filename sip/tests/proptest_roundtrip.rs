//! Property: any message the API can build serializes to bytes that parse
//! back to the same message, and serializing again gives the same bytes.
//! A second property feeds the same messages through wire-level noise the
//! grammar allows (compact names, odd case, extra whitespace, leading
//! CRLFs) and expects the same message back.

use proptest::prelude::*;
use sip::{
    parse_datagram, parse_stream, CSeq, Contact, ContentType, Header, Limits, Message, Method,
    NameAddr, Params, Request, Response, SipUri, Transport, Uri, UriHeader, Via,
};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,11}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9-]{0,8}){0,3}",
        "(25[0-5]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|1[0-9]{2}|[1-9]?[0-9])){3}",
        Just("[2001:db8::7]".to_owned()),
    ]
}

/// A user part in wire form: user characters and well-formed escapes.
fn user() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[A-Za-z0-9_.!~*'()&=+$,;?/-]",
            "%[0-9A-F]{2}",
        ],
        1..8,
    )
    .prop_map(|parts| parts.concat())
}

fn uri_params() -> impl Strategy<Value = Params> {
    prop::collection::vec(("[a-z][a-z0-9-]{0,6}", prop::option::of("[A-Za-z0-9_.:%/-]{1,8}")), 0..3).prop_map(
        |pairs| {
            let mut params = Params::new();
            for (name, value) in pairs {
                // Escape a stray '%' so the value stays well-formed.
                let value = value.map(|v| v.replace('%', "%25"));
                params.push(&name, value.as_deref());
            }
            params
        },
    )
}

/// Header parameter values: a token, none, or a quoted string of any text
/// but CR/LF (which a quoted string cannot carry).
fn header_params() -> impl Strategy<Value = Params> {
    let value = prop_oneof![
        token().prop_map(|t| (Some(t), false)),
        "[^\r\n]{0,10}".prop_map(|text| (Some(text), true)),
        Just((None, false)),
    ];
    prop::collection::vec(("[a-z+][a-z0-9.-]{0,8}", value), 0..4).prop_map(|pairs| {
        let mut params = Params::new();
        for (name, (value, quoted)) in pairs {
            match value {
                Some(text) if quoted => params.set_quoted(&name, &text),
                value => params.push(&name, value.as_deref()),
            }
        }
        params
    })
}

fn sip_uri() -> impl Strategy<Value = Uri> {
    (
        any::<bool>(),
        prop::option::of(user()),
        host(),
        prop::option::of(any::<u16>()),
        uri_params(),
        prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,6}", "[A-Za-z0-9%]{0,6}"), 0..2),
    )
        .prop_map(|(secure, user, host, port, params, headers)| {
            let headers = headers
                .into_iter()
                .map(|(name, value)| UriHeader { name, value: value.replace('%', "%25") })
                .collect();
            Uri::Sip(SipUri { secure, user, password: None, host, port, params, headers })
        })
}

fn uri() -> impl Strategy<Value = Uri> {
    prop_oneof![
        4 => sip_uri(),
        1 => "(tel|urn|http|x-y\\.z):[A-Za-z0-9:/.;=+-]{1,12}".prop_map(|s| s.parse::<Uri>().expect("valid absolute URI")),
    ]
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (prop::option::of("[^\r\n]{0,12}"), uri(), header_params()).prop_map(|(display_name, uri, params)| {
        NameAddr { display_name, uri, params }
    })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Ack),
        Just(Method::Register),
        Just(Method::Message),
        token().prop_map(|t| Method::parse(&t).expect("a token is a method")),
    ]
}

fn via() -> impl Strategy<Value = Via> {
    let transport = prop_oneof![
        Just(Transport::Udp),
        Just(Transport::Tcp),
        Just(Transport::Wss),
        "X[A-Z]{1,4}".prop_map(Transport::Other),
    ];
    (transport, host(), prop::option::of(any::<u16>()), "[A-Za-z0-9]{1,10}", header_params()).prop_map(
        |(transport, host, port, branch, mut params)| {
            params.remove("rport");
            let mut via = Via::new(transport, host, port, &format!("z9hG4bK{branch}"));
            for (name, value) in params.iter() {
                if !name.eq_ignore_ascii_case("branch") {
                    via.params.push(name, value);
                }
            }
            via
        },
    )
}

fn other_header() -> impl Strategy<Value = Header> {
    ("X-[A-Za-z0-9-]{1,10}", "([^\\x00-\\x1f\\x7f ][^\\x00-\\x08\\x0a-\\x1f\\x7f]{0,20}[^\\x00-\\x1f\\x7f ])?")
        .prop_map(|(name, value)| Header::other(&name, &value).expect("valid other header"))
}

fn header() -> impl Strategy<Value = Header> {
    prop_oneof![
        via().prop_map(Header::from),
        name_addr().prop_map(|a| Header::Route(Box::new(a))),
        name_addr().prop_map(|a| Header::RecordRoute(Box::new(a))),
        name_addr().prop_map(|a| Contact::Addr(a).into()),
        Just(Contact::Wildcard.into()),
        prop::collection::vec(token(), 0..3).prop_map(Header::Supported),
        prop::collection::vec(token(), 1..3).prop_map(Header::Require),
        other_header(),
    ]
}

fn headers() -> impl Strategy<Value = Vec<Header>> {
    (
        name_addr(),
        name_addr(),
        "[A-Za-z0-9.!%*_+`'~()<>:/?{}-]{1,10}(@[a-z0-9.]{1,8})?",
        (0..=sip::MAX_CSEQ, method()),
        prop::option::of(any::<u8>()),
        prop::option::of(any::<u32>()),
        prop::collection::vec(header(), 0..8),
    )
        .prop_map(|(from, to, call_id, (seq, method), max_forwards, expires, rest)| {
            let mut list = vec![
                Header::From(Box::new(from)),
                Header::To(Box::new(to)),
                Header::CallId(call_id),
                CSeq { seq, method }.into(),
            ];
            list.extend(max_forwards.map(Header::MaxForwards));
            list.extend(expires.map(Header::Expires));
            list.extend(rest);
            list
        })
}

fn body() -> impl Strategy<Value = (Option<ContentType>, Vec<u8>)> {
    prop_oneof![
        Just((None, Vec::new())),
        prop::collection::vec(any::<u8>(), 1..64).prop_map(|b| (Some(ContentType::new("application/octet-stream")), b)),
        "v=0\r\n[a-z]=[ -~]{0,20}\r\n".prop_map(|s| (Some(ContentType::sdp()), s.into_bytes())),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let request = (uri(), headers(), body()).prop_map(|(mut uri, mut list, (content_type, body))| {
        // A Request-URI never carries headers (RFC 4475 escruri is rejected).
        if let Some(sip) = uri.as_sip_mut() {
            sip.headers.clear();
        }
        // The CSeq method must match the request method (RFC 4475 mismatch01).
        let method = list
            .iter()
            .find_map(|h| match h {
                Header::CSeq(c) => Some(c.method.clone()),
                _ => None,
            })
            .unwrap_or(Method::Options);
        list.extend(content_type.map(Header::from));
        Message::Request(Request { method, uri, headers: list.into_iter().collect(), body })
    });
    let response = (100u16..=699, "[^\r\n\\x00-\\x08\\x0a-\\x1f\\x7f]{0,20}", headers(), body()).prop_map(
        |(status, reason, mut list, (content_type, body))| {
            list.extend(content_type.map(Header::from));
            Message::Response(Response { status, reason, headers: list.into_iter().collect(), body })
        },
    );
    prop_oneof![request, response]
}

/// Rewrites canonical wire bytes with noise the grammar allows.
fn noisy(wire: &[u8], seed: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(wire).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("canonical output has a head");
    let body_bytes = wire.get(head.len() + 4..).expect("body follows the head");
    let mut out = String::from("\r\n\r\n");
    let mut lines = head.split("\r\n");
    out.push_str(lines.next().expect("start line"));
    out.push_str("\r\n");
    let mut bits = seed;
    let mut next = || {
        bits = bits.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        bits >> 33
    };
    for line in lines {
        let (name, value) = line.split_once(": ").expect("canonical header line");
        let compact = match name {
            "Via" => "v",
            "From" => "f",
            "To" => "t",
            "Call-ID" => "i",
            "Contact" => "m",
            "Content-Length" => "l",
            "Content-Type" => "c",
            "Supported" => "k",
            _ => name,
        };
        // Untyped names are kept as written, so only typed ones change case.
        let typed = compact != name || ["CSeq", "Max-Forwards", "Expires", "Route", "Record-Route", "Require"].contains(&name);
        let name: String = if next() % 2 == 0 { compact.to_owned() } else { name.to_owned() };
        let name: String = if typed {
            name.chars()
                .map(|c| if next() % 2 == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect()
        } else {
            name
        };
        let gap = [" ", "", "\t", "  "][(next() % 4) as usize];
        out.push_str(&format!("{name}{gap}:{}{value}\r\n", [" ", "   ", "\t", "\r\n "][(next() % 4) as usize]));
    }
    out.push_str("\r\n");
    let _ = body;
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body_bytes);
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn serialize_parse_is_a_fixed_point(message in message()) {
        let wire = message.to_bytes();
        let parsed = parse_datagram(&wire, &Limits::default());
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed, String::from_utf8_lossy(&wire));
        let parsed = parsed.expect("checked above");
        prop_assert_eq!(&parsed, &message, "\n{}", String::from_utf8_lossy(&wire));
        prop_assert_eq!(parsed.to_bytes(), wire.clone());
        let streamed = parse_stream(&wire, &Limits::default()).expect("frames").expect("complete");
        prop_assert_eq!(streamed, (message, wire.len()));
    }

    #[test]
    fn wire_noise_parses_to_the_same_message(message in message(), seed in any::<u64>()) {
        let wire = message.to_bytes();
        let noisy = noisy(&wire, seed);
        let parsed = parse_datagram(&noisy, &Limits::default());
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed, String::from_utf8_lossy(&noisy));
        prop_assert_eq!(parsed.expect("checked above"), message, "\n{}", String::from_utf8_lossy(&noisy));
    }
}
