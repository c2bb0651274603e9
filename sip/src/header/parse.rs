//! Turns one header field's value into typed [`Header`]s.

use super::name::Kind;
use super::{CSeq, Contact, ContentType, Header, HeaderError, NameAddr, Via};
use crate::method::Method;
use crate::text::{all_in, comma_items, parse_decimal, NumberError, Scanner, TOKEN, WORD};

/// Parses `value` (unfolded and trimmed) of a typed header into `out`,
/// one entry per comma-separated value for the list headers.
/// Content-Length is not a [`Header`]; use [`parse_content_length`].
pub(crate) fn parse_into(kind: Kind, value: &str, out: &mut Vec<Header>) -> Result<(), HeaderError> {
    match kind {
        Kind::Via => each_item(value, out, |sc| Ok(Via::parse_from(sc)?.into())),
        Kind::Contact => each_item(value, out, |sc| Ok(Contact::parse_from(sc)?.into())),
        Kind::Route => each_item(value, out, |sc| Ok(Header::Route(Box::new(NameAddr::parse_from(sc)?)))),
        Kind::RecordRoute => each_item(value, out, |sc| {
            Ok(Header::RecordRoute(Box::new(NameAddr::parse_from(sc)?)))
        }),
        Kind::From => {
            out.push(Header::From(Box::new(NameAddr::parse(value)?)));
            Ok(())
        }
        Kind::To => {
            out.push(Header::To(Box::new(NameAddr::parse(value)?)));
            Ok(())
        }
        Kind::CallId => {
            out.push(Header::CallId(parse_call_id(value)?));
            Ok(())
        }
        Kind::CSeq => {
            out.push(Header::CSeq(CSeq::parse(value)?));
            Ok(())
        }
        Kind::MaxForwards => {
            let hops = parse_decimal(value, 255).map_err(|e| number_error(e, "Max-Forwards"))?;
            let hops = u8::try_from(hops).map_err(|_| HeaderError::OutOfRange { what: "Max-Forwards" })?;
            out.push(Header::MaxForwards(hops));
            Ok(())
        }
        Kind::Expires => {
            let secs = match parse_decimal(value, u64::from(u32::MAX)) {
                Ok(secs) => u32::try_from(secs).unwrap_or(u32::MAX),
                // RFC 4475 scalar02: a huge expiry may be treated as the maximum.
                Err(NumberError::TooLarge) => u32::MAX,
                Err(NumberError::NotDigits) => return Err(HeaderError::BadNumber { what: "Expires" }),
            };
            out.push(Header::Expires(secs));
            Ok(())
        }
        Kind::ContentType => {
            out.push(ContentType::parse(value)?.into());
            Ok(())
        }
        Kind::Supported => {
            out.push(Header::Supported(option_tags(value, true)?));
            Ok(())
        }
        Kind::Require => {
            out.push(Header::Require(option_tags(value, false)?));
            Ok(())
        }
        Kind::ProxyRequire => {
            out.push(Header::ProxyRequire(option_tags(value, false)?));
            Ok(())
        }
        Kind::Unsupported => {
            out.push(Header::Unsupported(option_tags(value, false)?));
            Ok(())
        }
        Kind::Allow => {
            let mut methods = Vec::new();
            if !value.is_empty() {
                for method in comma_items(value) {
                    if method.is_empty() {
                        return Err(HeaderError::EmptyItem);
                    }
                    methods.push(Method::parse(method).map_err(|_| HeaderError::BadToken { what: "method" })?);
                }
            }
            out.push(Header::Allow(methods));
            Ok(())
        }
        Kind::ContentLength => Err(HeaderError::TypedName(Kind::ContentLength.canonical())),
    }
}

/// Content-Length: `1*DIGIT`. Negative or huge values are errors, never a
/// count (RFC 4475 ncl).
pub(crate) fn parse_content_length(value: &str) -> Result<usize, HeaderError> {
    let len = parse_decimal(value, u64::from(u32::MAX)).map_err(|e| number_error(e, "Content-Length"))?;
    usize::try_from(len).map_err(|_| HeaderError::OutOfRange { what: "Content-Length" })
}

/// Values of untyped headers: any text but control characters (HTAB aside).
pub(crate) fn check_other_value(value: &str) -> Result<(), HeaderError> {
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(HeaderError::ControlCharacter);
    }
    Ok(())
}

fn number_error(error: NumberError, what: &'static str) -> HeaderError {
    match error {
        NumberError::NotDigits => HeaderError::BadNumber { what },
        NumberError::TooLarge => HeaderError::OutOfRange { what },
    }
}

/// Parses `item *(COMMA item)`. Each item parser stops where its grammar
/// ends (a quoted string or `<...>` may hold commas), so the list is read
/// in one pass with no separate splitting.
fn each_item(
    value: &str,
    out: &mut Vec<Header>,
    parse: impl Fn(&mut Scanner<'_>) -> Result<Header, HeaderError>,
) -> Result<(), HeaderError> {
    if value.is_empty() {
        return Err(HeaderError::Empty);
    }
    let mut sc = Scanner::new(value);
    loop {
        sc.skip_ws();
        if sc.at_end() || sc.peek() == Some(b',') {
            return Err(HeaderError::EmptyItem);
        }
        out.push(parse(&mut sc)?);
        sc.skip_ws();
        if sc.at_end() {
            return Ok(());
        }
        if !sc.eat(b',') {
            return Err(HeaderError::Trailing(sc.rest().to_owned()));
        }
    }
}

/// `callid = word [ "@" word ]`.
fn parse_call_id(value: &str) -> Result<String, HeaderError> {
    let valid = match value.split_once('@') {
        Some((local, host)) => all_in(local, &WORD) && all_in(host, &WORD),
        None => all_in(value, &WORD),
    };
    if !valid {
        return Err(HeaderError::BadCallId);
    }
    Ok(value.to_owned())
}

/// `option-tag *(COMMA option-tag)`, possibly empty when `allow_empty`.
fn option_tags(value: &str, allow_empty: bool) -> Result<Vec<String>, HeaderError> {
    if value.is_empty() {
        return if allow_empty { Ok(Vec::new()) } else { Err(HeaderError::Empty) };
    }
    comma_items(value)
        .map(|tag| {
            if tag.is_empty() {
                Err(HeaderError::EmptyItem)
            } else if all_in(tag, &TOKEN) {
                Ok(tag.to_owned())
            } else {
                Err(HeaderError::BadToken { what: "option tag" })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: Kind, value: &str) -> Result<Vec<Header>, HeaderError> {
        let mut out = Vec::new();
        parse_into(kind, value, &mut out).map(|()| out)
    }

    #[test]
    fn lists_split_into_values() {
        let vias = parse(Kind::Via, "SIP/2.0/TCP a;branch=z9hG4bK1 , SIP/2.0/UDP b").expect("valid");
        assert_eq!(vias.len(), 2);
        assert_eq!(parse(Kind::Via, "SIP/2.0/UDP 192.0.2.15;;,;,,").unwrap_err(), HeaderError::Param(crate::params::ParamError::EmptyName));
        assert_eq!(parse(Kind::Contact, "<sip:a@b>,").unwrap_err(), HeaderError::EmptyItem);
        assert_eq!(parse(Kind::Route, "").unwrap_err(), HeaderError::Empty);
        let contacts = parse(Kind::Contact, "\"A, B\" <sip:a@b>, sip:c@d;expires=5").expect("valid");
        assert_eq!(contacts.len(), 2);
    }

    #[test]
    fn scalars() {
        assert_eq!(parse(Kind::MaxForwards, "0068"), Ok(vec![Header::MaxForwards(68)]));
        assert_eq!(
            parse(Kind::MaxForwards, "300"),
            Err(HeaderError::OutOfRange { what: "Max-Forwards" })
        );
        assert_eq!(parse(Kind::Expires, "1".repeat(100).as_str()), Ok(vec![Header::Expires(u32::MAX)]));
        assert!(parse(Kind::Expires, "soon").is_err());
        assert_eq!(parse_content_length("150"), Ok(150));
        assert_eq!(
            parse_content_length("-999"),
            Err(HeaderError::BadNumber { what: "Content-Length" })
        );
        assert!(parse_content_length("99999999999").is_err());
    }

    #[test]
    fn call_ids() {
        let odd = "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{";
        assert_eq!(parse(Kind::CallId, odd), Ok(vec![Header::CallId(odd.into())]));
        assert_eq!(parse(Kind::CallId, "a b").unwrap_err(), HeaderError::BadCallId);
        assert_eq!(parse(Kind::CallId, "a@b@c").unwrap_err(), HeaderError::BadCallId);
        assert_eq!(parse(Kind::CallId, "").unwrap_err(), HeaderError::BadCallId);
    }

    #[test]
    fn option_tag_lists() {
        assert_eq!(
            parse(Kind::Require, "nothingSupportsThis, nothingSupportsThisEither"),
            Ok(vec![Header::Require(vec!["nothingSupportsThis".into(), "nothingSupportsThisEither".into()])])
        );
        assert_eq!(parse(Kind::Supported, ""), Ok(vec![Header::Supported(vec![])]));
        assert!(parse(Kind::Require, "").is_err());
        assert!(parse(Kind::Require, "a,,b").is_err());
        assert_eq!(
            parse(Kind::Allow, "INVITE,ACK, FOO"),
            Ok(vec![Header::Allow(vec![Method::Invite, Method::Ack, Method::Extension("FOO".into())])])
        );
    }

    #[test]
    fn other_values() {
        assert!(check_other_value("text\twith tab é").is_ok());
        assert!(check_other_value("nul\0").is_err());
        assert!(Header::other("X-Foo", "a\r\nVia: evil").is_err());
        assert_eq!(Header::other("Via", "x"), Err(HeaderError::TypedName("Via")));
        assert_eq!(Header::other("s", "hi").map(|h| h.to_string()), Ok("Subject: hi".into()));
        assert_eq!(Header::parse("m", "<sip:a@b>, *").map(|v| v.len()), Ok(2));
        assert!(Header::parse("l", "0").is_err());
    }
}
