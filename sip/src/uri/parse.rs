//! The SIP URI grammar (RFC 3261 §19.1.1, §25.1) and `%HH` escaping.

use std::borrow::Cow;

use super::{SipUri, UriError, UriHeader};
use crate::params::parse_uri_params;
use crate::text::{
    hex_value, is_escaped_text, parse_decimal, split_at_byte, Scanner, DIGIT, HNV_CHAR, HOST, IPV6,
    PASSWORD, USER,
};

/// Escapes text for the user part of a SIP URI.
pub(crate) fn escape_user(user: &str) -> String {
    let mut out = String::with_capacity(user.len());
    for byte in user.bytes() {
        if USER[usize::from(byte)] {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes every well-formed `%HH`; anything else passes through.
pub(crate) fn unescape(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = |j: usize| bytes.get(i + j).and_then(|b| hex_value(*b));
        match (byte, hex(1), hex(2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

pub(super) fn parse_sip(rest: &str, secure: bool) -> Result<SipUri, UriError> {
    let (userinfo, hostpart) = match split_at_byte(rest, b'@') {
        Some((userinfo, hostpart)) => (Some(userinfo), hostpart),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(userinfo) => {
            let (user, password) = match split_at_byte(userinfo, b':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            if !is_escaped_text(user, &USER) {
                return Err(UriError::BadUser);
            }
            if let Some(password) = password {
                if !password.is_empty() && !is_escaped_text(password, &PASSWORD) {
                    return Err(UriError::BadPassword);
                }
            }
            (Some(user.to_owned()), password.map(str::to_owned))
        }
    };
    let mut sc = Scanner::new(hostpart);
    let host = parse_host(&mut sc).ok_or(UriError::BadHost)?.to_owned();
    let port = if sc.eat(b':') {
        let digits = sc.take_class(&DIGIT);
        let port = parse_decimal(digits, u64::from(u16::MAX)).map_err(|_| UriError::BadPort)?;
        Some(u16::try_from(port).map_err(|_| UriError::BadPort)?)
    } else {
        None
    };
    let params = parse_uri_params(&mut sc)?;
    let headers = if sc.eat(b'?') { parse_uri_headers(&mut sc)? } else { Vec::new() };
    if !sc.at_end() {
        return Err(UriError::Trailing(sc.rest().to_owned()));
    }
    Ok(SipUri { secure, user, password, host, port, params, headers })
}

/// `hostname / IPv4address / "[" IPv6address "]"`, returned as written.
pub(crate) fn parse_host<'a>(sc: &mut Scanner<'a>) -> Option<&'a str> {
    let start = sc.pos();
    if sc.eat(b'[') {
        let inner = sc.take_class(&IPV6);
        if !inner.contains(':') || !sc.eat(b']') {
            return None;
        }
        return Some(sc.since(start));
    }
    let host = sc.take_class(&HOST);
    (!host.is_empty()).then_some(host)
}

fn parse_uri_headers(sc: &mut Scanner<'_>) -> Result<Vec<UriHeader>, UriError> {
    let mut headers = Vec::new();
    loop {
        let name = sc.take_escaped(&HNV_CHAR).ok_or(UriError::BadHeaders)?;
        if name.is_empty() || !sc.eat(b'=') {
            return Err(UriError::BadHeaders);
        }
        let value = sc.take_escaped(&HNV_CHAR).ok_or(UriError::BadHeaders)?;
        headers.push(UriHeader { name: name.to_owned(), value: value.to_owned() });
        if !sc.eat(b'&') {
            return Ok(headers);
        }
    }
}
