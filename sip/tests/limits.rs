//! Each limit of [`Limits`] is an error value with the right status code,
//! never a panic, on both framings.

use sip::{parse_datagram, parse_stream, Limits, ParseError};

fn register(extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "REGISTER sip:example.org SIP/2.0\r\n\
         Via: SIP/2.0/TCP a.example.org;branch=z9hG4bK1\r\n\
         To: <sip:alice@example.org>\r\nFrom: <sip:alice@example.org>;tag=1\r\n\
         Call-ID: 1@a\r\nCSeq: 1 REGISTER\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn message_size_limit() {
    let limits = Limits { max_message_bytes: 400, ..Limits::default() };
    let big = register("", &"x".repeat(300));
    // The head fits, the body takes it over: 413 on both framings.
    let err = parse_datagram(&big, &limits).unwrap_err();
    assert_eq!(err, ParseError::BodyTooLarge { content_length: 300, limit_bytes: 400 });
    assert_eq!(err.status_code(), 413);
    // A datagram whose header section alone is too large: 513.
    let fat_head = register(&format!("X-Pad: {}\r\n", "p".repeat(450)), "");
    assert_eq!(parse_datagram(&fat_head, &limits), Err(ParseError::MessageTooLarge { limit_bytes: 400 }));
    // On a stream the Content-Length alone tells, before the body arrives.
    let head_only = big.get(..big.len() - 300).unwrap();
    let err = parse_stream(head_only, &limits).unwrap_err();
    assert!(matches!(err, ParseError::BodyTooLarge { content_length: 300, .. }));
    assert_eq!(err.status_code(), 413);
    // A head that never ends is cut off at the limit.
    let endless = [b"OPTIONS sip:a SIP/2.0\r\nX: ".as_slice(), &[b'y'; 500]].concat();
    assert_eq!(parse_stream(&endless, &limits), Err(ParseError::MessageTooLarge { limit_bytes: 400 }));
    assert_eq!(parse_stream(&endless[..300], &limits), Ok(None));
    // Default: 64 KiB.
    assert_eq!(Limits::default().max_message_bytes, 65536);
    let default_big = register("", &"x".repeat(70_000));
    assert_eq!(parse_datagram(&default_big, &Limits::default()).unwrap_err().status_code(), 413);
}

#[test]
fn header_count_limit() {
    let limits = Limits { max_header_count: 7, ..Limits::default() };
    let many = register("Subject: a\r\nSubject: b\r\nSubject: c\r\n", "");
    let err = parse_datagram(&many, &limits).unwrap_err();
    assert_eq!(err, ParseError::TooManyHeaders { limit: 7 });
    assert_eq!(err.status_code(), 513);
    // Comma-separated values count one each.
    let vias = register("Via: SIP/2.0/UDP b, SIP/2.0/UDP c, SIP/2.0/UDP d\r\n", "");
    assert!(parse_datagram(&vias, &limits).is_err());
    assert!(parse_datagram(&vias, &Limits::default()).is_ok());
}

#[test]
fn line_length_limit() {
    let limits = Limits { max_header_line_bytes: 64, ..Limits::default() };
    let long = register(&format!("Subject: {}\r\n", "z".repeat(60)), "");
    let err = parse_datagram(&long, &limits).unwrap_err();
    assert_eq!(err, ParseError::HeaderLineTooLong { line: 7, limit_bytes: 64 });
    assert_eq!(err.status_code(), 513);
    assert_eq!(err.to_string(), "line 7: header field longer than 64 bytes");
    // Folding does not get around it: the limit is on the unfolded field.
    let folded = register(&format!("Subject: {}\r\n {}\r\n", "z".repeat(40), "z".repeat(40)), "");
    assert!(matches!(parse_datagram(&folded, &limits), Err(ParseError::HeaderLineTooLong { line: 7, .. })));
    let long_uri = format!("OPTIONS sip:{}@example.org SIP/2.0\r\n\r\n", "u".repeat(100));
    let err = parse_datagram(long_uri.as_bytes(), &limits).unwrap_err();
    assert_eq!(err.status_code(), 414);
}

#[test]
fn keepalives_and_pipelining_on_a_stream() {
    let one = register("", "hello");
    let stream = [b"\r\n\r\n".as_slice(), &one, &one].concat();
    assert_eq!(sip::keepalive_len(&stream), 4);
    let (first, used) = parse_stream(&stream, &Limits::default()).unwrap().unwrap();
    assert_eq!(used, 4 + one.len());
    assert_eq!(first.body(), b"hello");
    let (second, used2) = parse_stream(&stream[used..], &Limits::default()).unwrap().unwrap();
    assert_eq!(second, first);
    assert_eq!(used2, one.len());
    assert_eq!(parse_stream(b"\r\n\r\n", &Limits::default()), Ok(None));
    assert_eq!(parse_datagram(b"\r\n\r\n", &Limits::default()), Err(ParseError::Empty));
    // Every strict prefix waits for more.
    for cut in 0..one.len() {
        assert_eq!(parse_stream(&one[..cut], &Limits::default()), Ok(None), "cut at {cut}");
    }
}

#[test]
fn bad_bytes_are_located() {
    let mut bad = register("Subject: caf\u{e9}\r\n", "");
    let at = bad.iter().position(|b| *b == 0xc3).unwrap();
    bad[at] = 0xff;
    assert_eq!(parse_datagram(&bad, &Limits::default()), Err(ParseError::InvalidUtf8 { line: 7 }));
    let bare_lf = b"OPTIONS sip:a SIP/2.0\nVia: SIP/2.0/UDP h\r\n\r\n";
    assert_eq!(parse_datagram(bare_lf, &Limits::default()), Err(ParseError::BadLineEnd { line: 1 }));
    let lone_cr = b"OPTIONS sip:a SIP/2.0\r\nSubject: a\rb\r\n\r\n";
    assert!(parse_datagram(lone_cr, &Limits::default()).is_err());
}
