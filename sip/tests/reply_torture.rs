//! `reply_to_unparsable` on every RFC 4475 message the parser rejects: a
//! request gets a reply that carries its Via values, Call-ID and CSeq
//! verbatim; a response gets none.

mod common;

use std::path::PathBuf;

use common::{datagram, torture_bytes};
use sip::reply::reply_to_unparsable;
use sip::{reason_phrase, Message, ParseError};

/// Every torture file the datagram parser rejects, with its error.
fn rejected_files() -> Vec<(String, Vec<u8>, ParseError)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/sip-torture");
    let mut out = Vec::new();
    for dir in ["invalid", "semantic", "valid"] {
        let mut names: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|entry| entry.expect("readable dir").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sip"))
            .collect();
        names.sort();
        for name in names {
            let rel = format!("{dir}/{name}");
            let bytes = torture_bytes(&rel);
            if let Err(err) = datagram(&bytes) {
                out.push((rel, bytes, err));
            }
        }
    }
    out
}

/// The raw value of every header line called `full` or `compact` in the
/// head, trimmed (none of the torture files folds these).
fn raw_values(bytes: &[u8], full: &str, compact: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| {
            let name = name.trim();
            name.eq_ignore_ascii_case(full) || name.eq_ignore_ascii_case(compact)
        })
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}

/// The files whose copied headers are themselves the defect, so that the
/// verbatim reply does not parse either, and the header at fault.
const DEFECT_IN_COPIED_HEADER: [(&str, &str); 6] = [
    ("invalid/badinv01.sip", "Via"),
    ("invalid/badvers.sip", "Via"),
    ("invalid/quotbal.sip", "To"),
    ("invalid/baddn.sip", "From"),
    ("invalid/badaspec.sip", "To"),
    ("invalid/scalar02.sip", "CSeq"),
];

#[test]
fn every_rejected_request_gets_a_reply_carrying_its_identifiers() {
    let files = rejected_files();
    assert!(files.len() >= 19, "expected most of invalid/ to be rejected, got {}", files.len());
    let mut replied = 0;
    for (rel, bytes, err) in files {
        let status = err.status_code();
        let reply = reply_to_unparsable(&bytes, status, reason_phrase(status), "srv7");
        let stem = rel.rsplit('/').next().and_then(|n| n.strip_suffix(".sip")).expect("file name");
        if bytes.starts_with(b"SIP/2.0") {
            assert_eq!(reply, None, "{rel}: a response is never answered");
            continue;
        }
        let reply = reply.unwrap_or_else(|| panic!("{rel} ({err}) got no reply"));
        replied += 1;
        let text = String::from_utf8(reply.clone()).expect("replies are text");
        assert!(text.starts_with(&format!("SIP/2.0 {status} ")), "{rel}: {text}");
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{rel}: {text}");
        // Verbatim copies, in order.
        let vias = raw_values(&bytes, "Via", "v");
        assert!(!vias.is_empty(), "{rel}");
        let copied: Vec<_> = text.lines().filter_map(|l| l.strip_prefix("Via: ")).collect();
        assert_eq!(copied, vias, "{rel}");
        for (full, compact) in [("Call-ID", "i"), ("CSeq", "CSeq"), ("From", "f")] {
            if let Some(value) = raw_values(&bytes, full, compact).first() {
                assert!(text.contains(&format!("\r\n{full}: {value}\r\n")), "{rel}: {full}\n{text}");
            }
        }
        // Every torture Call-ID starts with its file's name.
        let call_id = raw_values(&bytes, "Call-ID", "i");
        assert!(call_id.first().is_some_and(|c| c.starts_with(stem)), "{rel}: {call_id:?}");

        match (datagram(&reply), DEFECT_IN_COPIED_HEADER.iter().find(|(f, _)| *f == rel)) {
            (Ok(Message::Response(parsed)), None) => {
                assert_eq!(parsed.status, status, "{rel}");
                assert!(parsed.headers.call_id().is_some_and(|c| c.starts_with(stem)), "{rel}");
                let request_cseq = raw_values(&bytes, "CSeq", "CSeq");
                let cseq = parsed.headers.cseq().map(|c| c.to_string());
                assert_eq!(cseq.as_deref().map(|c| c.split_whitespace().collect::<Vec<_>>()),
                    request_cseq.first().map(|c| c.split_whitespace().collect::<Vec<_>>()), "{rel}");
                assert!(parsed.headers.to().and_then(|t| t.tag()).is_some(), "{rel}");
                assert!(parsed.check_mandatory().is_ok(), "{rel}");
            }
            (Err(ParseError::BadHeader { name, .. }), Some((_, at_fault))) => {
                assert_eq!(name, *at_fault, "{rel}");
            }
            (other, expected) => panic!("{rel}: reply parse {other:?}, expected defect {expected:?}\n{text}"),
        }
    }
    assert!(replied >= 15, "only {replied} replies");
}

#[test]
fn the_rfc_4475_answers() {
    let reply_for = |rel: &str| {
        let bytes = torture_bytes(rel);
        let status = datagram(&bytes).expect_err(rel).status_code();
        (status, reply_to_unparsable(&bytes, status, reason_phrase(status), "t").is_some())
    };
    assert_eq!(reply_for("invalid/badvers.sip"), (505, true));
    assert_eq!(reply_for("invalid/clerr.sip"), (400, true));
    assert_eq!(reply_for("invalid/ncl.sip"), (400, true));
    assert!(!reply_for("invalid/bigcode.sip").1);
    assert!(!reply_for("invalid/scalarlg.sip").1);
}
