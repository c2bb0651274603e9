//! The Content-Type header (RFC 3261 §20.15).

use std::fmt;
use std::str::FromStr;

use super::HeaderError;
use crate::params::{parse_header_params, Params};
use crate::text::{Scanner, TOKEN};

/// `type/subtype;params`. The media type is kept in lower case (it is
/// case-insensitive), parameters as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType {
    /// `type/subtype`, lower case, e.g. `application/sdp`.
    pub media_type: String,
    /// Media type parameters (`boundary`, `charset`, ...).
    pub params: Params,
}

impl ContentType {
    /// A content type with no parameters; `media_type` is lowered.
    pub fn new(media_type: &str) -> ContentType {
        ContentType { media_type: media_type.to_ascii_lowercase(), params: Params::new() }
    }

    /// `application/sdp`, the body of every call set-up here.
    pub fn sdp() -> ContentType {
        ContentType::new("application/sdp")
    }

    /// True when the media type is `media_type` (case-insensitive, parameters ignored).
    pub fn is(&self, media_type: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type)
    }

    /// Parses `m-type SLASH m-subtype *(SEMI m-parameter)`.
    pub fn parse(value: &str) -> Result<ContentType, HeaderError> {
        let mut sc = Scanner::new(value);
        sc.skip_ws();
        let kind = sc.take_class(&TOKEN);
        sc.skip_ws();
        let slash = sc.eat(b'/');
        sc.skip_ws();
        let subtype = sc.take_class(&TOKEN);
        if kind.is_empty() || !slash || subtype.is_empty() {
            return Err(HeaderError::BadMediaType);
        }
        let params = parse_header_params(&mut sc)?;
        sc.skip_ws();
        if !sc.at_end() {
            return Err(HeaderError::Trailing(sc.rest().to_owned()));
        }
        let mut media_type = String::with_capacity(kind.len() + 1 + subtype.len());
        media_type.push_str(kind);
        media_type.push('/');
        media_type.push_str(subtype);
        media_type.make_ascii_lowercase();
        Ok(ContentType { media_type, params })
    }
}

impl FromStr for ContentType {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ContentType::parse(s)
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::output::write_clean(f, &self.media_type)?;
        self.params.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let ct = ContentType::parse("multipart/mixed;boundary=7a9cbec02ceef655").expect("valid");
        assert!(ct.is("multipart/MIXED"));
        assert_eq!(ct.params.value("boundary"), Some("7a9cbec02ceef655"));
        let ct = ContentType::parse(" Application / SDP ").expect("valid");
        assert_eq!(ct, ContentType::sdp());
        assert_eq!(ct.to_string(), "application/sdp");
        assert!(ContentType::parse("application").is_err());
        assert!(ContentType::parse("application/sdp x").is_err());
    }
}
