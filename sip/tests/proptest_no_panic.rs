//! Property: no input makes the parsers panic, whatever the framing, and
//! whatever they accept round-trips. Inputs are arbitrary bytes, and RFC
//! 4475 messages with random bytes flipped, inserted and deleted (which
//! reach far deeper into the grammar than random bytes do).

mod common;

use proptest::prelude::*;
use sip::{keepalive_len, parse_datagram, parse_stream, Limits};

const SEEDS: [&str; 8] = [
    "valid/wsinv.sip",
    "valid/intmeth.sip",
    "valid/esc01.sip",
    "valid/longreq.sip",
    "valid/mpart01.sip",
    "valid/unreason.sip",
    "semantic/regescrt.sip",
    "invalid/badinv01.sip",
];

fn small_limits() -> Limits {
    Limits { max_message_bytes: 2048, max_header_count: 20, max_header_line_bytes: 256 }
}

/// Parses `bytes` every way there is; whatever is accepted must round-trip.
fn exercise(bytes: &[u8]) {
    for limits in [Limits::default(), small_limits()] {
        if let Ok(message) = parse_datagram(bytes, &limits) {
            let wire = message.to_bytes();
            let relaxed = Limits { max_message_bytes: usize::MAX, max_header_count: usize::MAX, max_header_line_bytes: usize::MAX };
            let again = parse_datagram(&wire, &relaxed).expect("canonical output parses");
            assert_eq!(again, message);
        }
        if let Ok(Some((_, consumed))) = parse_stream(bytes, &limits) {
            assert!(consumed <= bytes.len());
        }
        // Every prefix of a stream either waits, fails, or yields a message.
        let cut = bytes.len() / 2;
        let _ = parse_stream(bytes.get(..cut).unwrap_or_default(), &limits);
    }
    assert!(keepalive_len(bytes) <= bytes.len());
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"\r\n \t:;,<>\"\\%@=/?*".to_vec()),
    ];
    let edit = prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Flip(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
    ];
    prop::collection::vec(edit, 1..8)
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        if bytes.is_empty() {
            break;
        }
        match *edit {
            Edit::Flip(at, b) => {
                let at = at % bytes.len();
                bytes[at] = b;
            }
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Edit::Delete(at) => {
                bytes.remove(at % bytes.len());
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(SIP/2.0 |INVITE sip:a@b SIP/2.0\r\n)?[ -~\r\n\t]{0,300}") {
        exercise(text.as_bytes());
    }

    #[test]
    fn mutated_torture_messages_never_panic(seed in 0..SEEDS.len(), edits in edits()) {
        let bytes = apply(common::torture_bytes(SEEDS[seed]), &edits);
        exercise(&bytes);
    }
}
