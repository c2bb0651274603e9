//! The CSeq header (RFC 3261 §20.16).

use std::fmt;
use std::str::FromStr;

use super::HeaderError;
use crate::method::Method;
use crate::text::{parse_decimal, NumberError, Scanner, DIGIT, TOKEN};

/// Largest sequence number RFC 3261 §8.1.1.5 allows (below 2**31).
pub const MAX_CSEQ: u32 = (1 << 31) - 1;

/// `CSeq: <seq> <method>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// Sequence number, at most [`MAX_CSEQ`].
    pub seq: u32,
    /// The method of the request (of the request answered, on a response).
    pub method: Method,
}

impl CSeq {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(value: &str) -> Result<CSeq, HeaderError> {
        let mut sc = Scanner::new(value);
        sc.skip_ws();
        let digits = sc.take_class(&DIGIT);
        let seq = parse_decimal(digits, u64::from(MAX_CSEQ)).map_err(|e| match e {
            NumberError::NotDigits => HeaderError::BadNumber { what: "CSeq number" },
            NumberError::TooLarge => HeaderError::OutOfRange { what: "CSeq number" },
        })?;
        if !sc.skip_ws() {
            return Err(HeaderError::BadToken { what: "CSeq method" });
        }
        let method = sc.take_class(&TOKEN);
        sc.skip_ws();
        if !sc.at_end() {
            return Err(HeaderError::Trailing(sc.rest().to_owned()));
        }
        let method = Method::parse(method).map_err(|_| HeaderError::BadToken { what: "CSeq method" })?;
        let seq = u32::try_from(seq).map_err(|_| HeaderError::OutOfRange { what: "CSeq number" })?;
        Ok(CSeq { seq, method })
    }
}

impl FromStr for CSeq {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CSeq::parse(s)
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_limits() {
        assert_eq!(
            CSeq::parse("0009  INVITE"),
            Ok(CSeq { seq: 9, method: Method::Invite })
        );
        assert_eq!(CSeq::parse("2147483647 ACK").map(|c| c.seq), Ok(MAX_CSEQ));
        assert_eq!(
            CSeq::parse("2147483648 ACK"),
            Err(HeaderError::OutOfRange { what: "CSeq number" })
        );
        assert_eq!(
            CSeq::parse("36893488147419103232 REGISTER"),
            Err(HeaderError::OutOfRange { what: "CSeq number" })
        );
        assert!(CSeq::parse("INVITE").is_err());
        assert!(CSeq::parse("1INVITE").is_err());
        assert!(CSeq::parse("1 INVITE x").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
        assert_eq!(CSeq { seq: 3, method: Method::Bye }.to_string(), "3 BYE");
    }
}
