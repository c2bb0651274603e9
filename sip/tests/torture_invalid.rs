//! RFC 4475 §3.1.2: invalid messages are rejected with the right status
//! code, or handled as shared/sip-torture/README.md allows. Where the RFC
//! lets an element be liberal, the choice made is asserted and named
//! "choice" below.

mod common;

use common::{datagram, parses, rejected, request, torture_bytes};
use sip::{parse_stream, HeaderError, Limits, ParamError, ParseError, UriError};

fn header_error(err: &ParseError) -> (&str, &HeaderError) {
    match err {
        ParseError::BadHeader { name, source, .. } => (name.as_str(), source),
        other => panic!("expected a header error, got {other:?}"),
    }
}

#[test]
fn torture_invalid_badinv01() {
    let err = rejected("invalid/badinv01.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(header_error(&err), ("Via", &HeaderError::Param(ParamError::EmptyName)));
    assert_eq!(err.to_string(), "line 7: Via: parameter: empty parameter name");
}

#[test]
fn torture_invalid_clerr() {
    let err = rejected("invalid/clerr.sip");
    assert_eq!(err.status_code(), 400);
    assert!(matches!(err, ParseError::ContentLengthExceedsDatagram { content_length: 9999, .. }));
    // On a stream: wait for the rest (the driver closes the connection on timeout).
    let bytes = torture_bytes("invalid/clerr.sip");
    assert_eq!(parse_stream(&bytes, &Limits::default()), Ok(None));
}

#[test]
fn torture_invalid_ncl() {
    let err = rejected("invalid/ncl.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(header_error(&err), ("Content-Length", &HeaderError::BadNumber { what: "Content-Length" }));
    let bytes = torture_bytes("invalid/ncl.sip");
    assert!(parse_stream(&bytes, &Limits::default()).is_err(), "a stream closes");
}

#[test]
fn torture_invalid_scalar02() {
    let err = rejected("invalid/scalar02.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(header_error(&err), ("CSeq", &HeaderError::OutOfRange { what: "CSeq number" }));
}

#[test]
fn torture_invalid_scalarlg() {
    // A response: the error means "discard it".
    let err = rejected("invalid/scalarlg.sip");
    assert_eq!(header_error(&err), ("CSeq", &HeaderError::OutOfRange { what: "CSeq number" }));
}

#[test]
fn torture_invalid_quotbal() {
    // Choice: no inferring of the closing quote.
    let err = rejected("invalid/quotbal.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(header_error(&err), ("To", &HeaderError::BadQuotedString));
}

#[test]
fn torture_invalid_ltgtruri() {
    // Choice: 400, the brackets are not ignored.
    let err = rejected("invalid/ltgtruri.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(err, ParseError::BadRequestUri(UriError::BadScheme));
}

#[test]
fn torture_invalid_lwsruri() {
    let err = rejected("invalid/lwsruri.sip");
    assert_eq!(err.status_code(), 400);
    assert!(matches!(err, ParseError::BadStartLine { .. }), "{err:?}");
}

#[test]
fn torture_invalid_lwsstart() {
    // Choice: reject rather than tolerate the extra spaces.
    let err = rejected("invalid/lwsstart.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(err, ParseError::BadStartLine { reason: "extra whitespace in the request line" });
}

#[test]
fn torture_invalid_trws() {
    // Choice: reject rather than tolerate the trailing spaces.
    let err = rejected("invalid/trws.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(err, ParseError::BadStartLine { reason: "whitespace after the SIP-Version" });
}

#[test]
fn torture_invalid_escruri() {
    // Choice: 400 rather than stripping the headers.
    let err = rejected("invalid/escruri.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(err, ParseError::RequestUriHeaders);
}

#[test]
fn torture_invalid_baddate() {
    // Choice: tolerated. Date is not interpreted by this crate; the value is
    // kept verbatim for whoever cares (and may reject it then).
    let req = request(parses("invalid/baddate.sip"));
    assert_eq!(req.headers.other("Date").collect::<Vec<_>>(), ["Fri, 01 Jan 2010 16:00:00 EST"]);
}

#[test]
fn torture_invalid_regbadct() {
    // Choice: no inferring of the angle brackets.
    let err = rejected("invalid/regbadct.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(header_error(&err), ("Contact", &HeaderError::UriNeedsAngleBrackets));
}

#[test]
fn torture_invalid_badaspec() {
    // Choice: 400 rather than ignoring the spaces inside <>.
    let err = rejected("invalid/badaspec.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(header_error(&err), ("To", &HeaderError::Uri(UriError::BadScheme)));
}

#[test]
fn torture_invalid_baddn() {
    // The archive form has no empty line after the headers: as a datagram
    // the head is unterminated; on a stream we would wait for more.
    let bytes = torture_bytes("invalid/baddn.sip");
    assert_eq!(bytes.len(), 331);
    let err = rejected("invalid/baddn.sip");
    assert_eq!(err, ParseError::UnterminatedHead);
    assert_eq!(err.status_code(), 400);
    assert_eq!(parse_stream(&bytes, &Limits::default()), Ok(None));
    // With the final CRLF some copies add, the unquoted display name is the
    // error (choice: no inferring of the quotes).
    let mut completed = bytes.clone();
    completed.extend_from_slice(b"\r\n");
    let err = datagram(&completed).expect_err("bad display name");
    assert_eq!(err.status_code(), 400);
    assert_eq!(header_error(&err).0, "From");
}

#[test]
fn torture_invalid_badvers() {
    let err = rejected("invalid/badvers.sip");
    assert_eq!(err.status_code(), 505);
    assert_eq!(err, ParseError::VersionNotSupported { version: "SIP/7.0".into() });
}

#[test]
fn torture_invalid_mismatch01() {
    let err = rejected("invalid/mismatch01.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(
        err,
        ParseError::CSeqMethodMismatch { method: "OPTIONS".into(), cseq_method: "INVITE".into() }
    );
}

#[test]
fn torture_invalid_mismatch02() {
    // Choice: 400 (the RFC allows it; 501 is preferred by an element that
    // knows it does not implement NEWMETHOD, which the parser cannot know).
    let err = rejected("invalid/mismatch02.sip");
    assert_eq!(err.status_code(), 400);
    assert_eq!(
        err,
        ParseError::CSeqMethodMismatch { method: "NEWMETHOD".into(), cseq_method: "INVITE".into() }
    );
}

#[test]
fn torture_invalid_bigcode() {
    // A response: the error means "drop it".
    let err = rejected("invalid/bigcode.sip");
    assert_eq!(err, ParseError::BadStatusCode { code: "4294967301".into() });
}
