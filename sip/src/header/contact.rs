//! The Contact header (RFC 3261 §20.10, RFC 5626 `+sip.instance`).

use std::fmt;
use std::str::FromStr;

use super::{HeaderError, NameAddr};
use crate::text::{parse_decimal, NumberError, Scanner};

/// One Contact value: `*` (only in a REGISTER that removes all bindings) or an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contact {
    /// `Contact: *`.
    Wildcard,
    /// An address with contact parameters (`expires`, `q`, `+sip.instance`, ...).
    Addr(NameAddr),
}

impl Contact {
    /// Parses one Contact value (no commas).
    pub fn parse(value: &str) -> Result<Contact, HeaderError> {
        let mut sc = Scanner::new(value);
        let contact = Contact::parse_from(&mut sc)?;
        sc.skip_ws();
        if !sc.at_end() {
            return Err(HeaderError::Trailing(sc.rest().to_owned()));
        }
        Ok(contact)
    }

    /// Parses one value, stopping before whatever follows (a `,` in a list).
    pub(crate) fn parse_from(sc: &mut Scanner<'_>) -> Result<Contact, HeaderError> {
        sc.skip_ws();
        if sc.eat(b'*') {
            return Ok(Contact::Wildcard);
        }
        let addr = NameAddr::parse_from(sc)?;
        if let Some(expires) = addr.params.get("expires") {
            // Checked here so `expires_secs` can be infallible. A value past
            // 2**32-1 saturates (RFC 4475 scalar02 allows treating it as large).
            match parse_decimal(expires.unwrap_or(""), u64::MAX) {
                Ok(_) | Err(NumberError::TooLarge) => {}
                Err(NumberError::NotDigits) => {
                    return Err(HeaderError::BadNumber { what: "Contact expires" })
                }
            }
        }
        Ok(Contact::Addr(addr))
    }

    /// The address, unless this is the wildcard.
    pub fn addr(&self) -> Option<&NameAddr> {
        match self {
            Contact::Addr(addr) => Some(addr),
            Contact::Wildcard => None,
        }
    }

    /// The `expires` contact parameter in seconds, saturated at `u32::MAX`.
    pub fn expires_secs(&self) -> Option<u32> {
        let raw = self.addr()?.params.value("expires")?;
        match parse_decimal(raw, u64::from(u32::MAX)) {
            Ok(secs) => u32::try_from(secs).ok(),
            Err(NumberError::TooLarge) => Some(u32::MAX),
            Err(NumberError::NotDigits) => None,
        }
    }

    /// The RFC 5626 instance id: the `+sip.instance` value without its quotes
    /// and angle brackets, e.g. `urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6`.
    pub fn sip_instance(&self) -> Option<String> {
        let value = self.addr()?.params.get_unquoted("+sip.instance")?;
        let inner = value.strip_prefix('<').and_then(|v| v.strip_suffix('>'));
        Some(inner.unwrap_or(&value).to_owned())
    }

    /// The `q` preference, as written (`0.5`).
    pub fn q(&self) -> Option<&str> {
        self.addr()?.params.value("q")
    }
}

impl FromStr for Contact {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Contact::parse(s)
    }
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contact::Wildcard => f.write_str("*"),
            Contact::Addr(addr) => addr.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_contact() {
        let c = Contact::parse(
            r#"<sip:k3j4h5g6@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";expires=600"#,
        )
        .expect("valid");
        assert_eq!(c.expires_secs(), Some(600));
        assert_eq!(c.sip_instance().as_deref(), Some("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
        assert_eq!(c.addr().and_then(|a| a.uri.as_sip()).and_then(|u| u.transport()), Some("ws"));
    }

    #[test]
    fn wildcard_and_limits() {
        assert_eq!(Contact::parse(" * "), Ok(Contact::Wildcard));
        assert_eq!(Contact::Wildcard.to_string(), "*");
        assert_eq!(Contact::Wildcard.expires_secs(), None);
        let big = Contact::parse("<sip:user@host129.example.com>;expires=280297596632815").expect("valid");
        assert_eq!(big.expires_secs(), Some(u32::MAX));
        assert!(Contact::parse("<sip:a@b>;expires=soon").is_err());
        let q = Contact::parse("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33").expect("valid");
        assert_eq!(q.q(), Some("0.33"));
    }
}
