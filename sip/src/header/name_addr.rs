//! `name-addr` / `addr-spec` values: From, To, Contact, Route, Record-Route.
//!
//! Implementation notes: the two forms are told apart by the first byte that
//! is neither a token character nor whitespace. In `caller <sip:...>` (or
//! `caller<sip:...>`, RFC 4475 lwsdisp) that byte is `<`; in an addr-spec
//! such as `sip:a@b;tag=x` it is the scheme's `:`. Searching for the first
//! `<` instead would misread `sip:a@b;+sip.instance="<urn:...>"`. In the
//! addr-spec form the URI ends at the first `;` or whitespace, and anything
//! after it is a header parameter (RFC 3261 §20: a URI holding `;`, `,` or
//! `?` must be in angle brackets), which is what RFC 4475 cparam01 tests.

use std::fmt;
use std::str::FromStr;

use super::HeaderError;
use crate::output::Quoted;
use crate::params::{parse_header_params, Params};
use crate::text::{is_ws, unquote, Scanner, TOKEN};
use crate::uri::Uri;

/// A display name, a URI and header parameters (`tag`, `expires`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted and unescaped. Written back quoted.
    pub display_name: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters after the address (not URI parameters).
    pub params: Params,
}

impl NameAddr {
    /// An address with no display name and no parameters.
    pub fn new(uri: Uri) -> Self {
        NameAddr { display_name: None, uri, params: Params::new() }
    }

    /// Sets the display name (free text; it is quoted on output).
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets a header parameter (value in wire form: token, host or quoted string).
    pub fn with_param(mut self, name: &str, value: Option<&str>) -> Self {
        self.params.set(name, value);
        self
    }

    /// Sets the `tag` parameter.
    pub fn with_tag(mut self, tag: &str) -> Self {
        self.set_tag(tag);
        self
    }

    /// The `tag` parameter (From/To dialog identifiers).
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// Sets or replaces the `tag` parameter.
    pub fn set_tag(&mut self, tag: &str) {
        self.params.set("tag", Some(tag));
    }

    /// Parses a single `name-addr` or `addr-spec` with its parameters.
    pub fn parse(value: &str) -> Result<NameAddr, HeaderError> {
        let mut sc = Scanner::new(value);
        let addr = NameAddr::parse_from(&mut sc)?;
        sc.skip_ws();
        if !sc.at_end() {
            return Err(HeaderError::Trailing(sc.rest().to_owned()));
        }
        Ok(addr)
    }

    /// Parses one value and its parameters, stopping before whatever
    /// follows (a `,` in a list).
    pub(crate) fn parse_from(sc: &mut Scanner<'_>) -> Result<NameAddr, HeaderError> {
        sc.skip_ws();
        let (display_name, uri) = if sc.peek() == Some(b'"') {
            let raw = sc.take_quoted().ok_or(HeaderError::BadQuotedString)?;
            sc.skip_ws();
            if !sc.eat(b'<') {
                return Err(HeaderError::ExpectedAngleBracket);
            }
            (Some(unquote(raw).into_owned()), bracketed_uri(sc)?)
        } else {
            let rest = sc.rest();
            let first_other = rest.bytes().position(|b| !TOKEN[usize::from(b)] && !is_ws(b));
            match first_other {
                Some(lt) if rest.as_bytes().get(lt) == Some(&b'<') => {
                    let words = rest.get(..lt).unwrap_or("");
                    sc.skip(lt + 1);
                    (display_from_tokens(words), bracketed_uri(sc)?)
                }
                _ => (None, addr_spec(sc)?),
            }
        };
        let params = parse_header_params(sc)?;
        Ok(NameAddr { display_name, uri, params })
    }
}

/// `*(token LWS)` before `<`, joined by single spaces; `None` if empty.
fn display_from_tokens(words: &str) -> Option<String> {
    let mut out = String::new();
    for word in words.split([' ', '\t']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

/// The URI after `<`, up to and including `>`. No whitespace is allowed
/// inside (RFC 4475 badaspec), which [`Uri::parse`] enforces.
fn bracketed_uri(sc: &mut Scanner<'_>) -> Result<Uri, HeaderError> {
    let text = sc.take_until(b">");
    if !sc.eat(b'>') {
        return Err(HeaderError::UnclosedAngleBracket);
    }
    Ok(Uri::parse(text)?)
}

/// A bare URI: up to `;`, `,` or whitespace, and without URI headers.
fn addr_spec(sc: &mut Scanner<'_>) -> Result<Uri, HeaderError> {
    let text = sc.take_until(b"; \t,");
    if text.contains('?') {
        // RFC 4475 regbadct: escaped headers need the URI in <>.
        return Err(HeaderError::UriNeedsAngleBrackets);
    }
    Ok(Uri::parse(text)?)
}

impl FromStr for NameAddr {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NameAddr::parse(s)
    }
}

impl fmt::Display for NameAddr {
    /// Always the `name-addr` form: the angle brackets make the output
    /// unambiguous whatever the URI holds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.display_name {
            write!(f, "{} ", Quoted(name))?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::UriError;

    fn na(s: &str) -> NameAddr {
        NameAddr::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn quoted_display_name() {
        let a = na(r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#);
        assert_eq!(a.display_name.as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(a.tag(), Some("98asjd8"));
        assert_eq!(a.to_string(), r#""J Rosenberg \\\"" <sip:jdrosen@example.com>;tag=98asjd8"#);
    }

    #[test]
    fn token_display_name_without_space() {
        let a = na("caller<sip:caller@example.com>;tag=323");
        assert_eq!(a.display_name.as_deref(), Some("caller"));
        let a = na("token1~` token2'+_   token3*%!.- <sip:mundane@example.com>");
        assert_eq!(a.display_name.as_deref(), Some("token1~` token2'+_ token3*%!.-"));
        assert_eq!(na("<sip:a@b>").display_name, None);
    }

    #[test]
    fn addr_spec_params_are_header_params() {
        let a = na("sip:+19725552222@gw1.example.net;unknownparam");
        assert!(a.params.contains("unknownparam"));
        assert!(a.uri.as_sip().is_some_and(|u| u.params.is_empty()));
        let a = na("<sip:+19725552222@gw1.example.net;unknownparam>");
        assert!(a.params.is_empty());
        assert!(a.uri.as_sip().is_some_and(|u| u.params.contains("unknownparam")));
        let a = na("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
        assert_eq!(a.tag(), Some("1918181833n"));
        let a = na(r#"sip:a@b;+sip.instance="<urn:uuid:1>";expires=60"#);
        assert_eq!(a.params.value("expires"), Some("60"));
        assert_eq!(a.to_string(), r#"<sip:a@b>;+sip.instance="<urn:uuid:1>";expires=60"#);
    }

    #[test]
    fn other_schemes() {
        assert_eq!(na("isbn:2983792873").uri.scheme(), "isbn");
        assert_eq!(na("<http://www.example.com>;tag=3234233").uri.scheme(), "http");
    }

    #[test]
    fn invalid_forms() {
        let cases = [
            (r#""Mr. J. User <sip:j.user@example.com>"#, HeaderError::BadQuotedString),
            ("Bell, Alexander <sip:a.g.bell@example.com>;tag=43", HeaderError::Uri(UriError::BadScheme)),
            ("< sip:t.watson@example.org >", HeaderError::Uri(UriError::BadScheme)),
            ("<sip:t.watson@example.org >", HeaderError::Uri(UriError::Trailing(" ".into()))),
            ("sip:user@example.com?Route=%3Csip:sip.example.com%3E", HeaderError::UriNeedsAngleBrackets),
            ("<sip:a@b", HeaderError::UnclosedAngleBracket),
            (r#""x" sip:a@b"#, HeaderError::ExpectedAngleBracket),
            ("<sip:a@b> junk", HeaderError::Trailing("junk".into())),
            ("\"Joe\" <sip:joe@example.org>;;;;", HeaderError::Param(crate::params::ParamError::EmptyName)),
            ("", HeaderError::Uri(UriError::BadScheme)),
        ];
        for (s, err) in cases {
            assert_eq!(NameAddr::parse(s), Err(err), "{s}");
        }
    }

    #[test]
    fn display_names_round_trip() {
        let a = NameAddr::new(Uri::sip(Some("a"), "b")).with_display_name("BEL:\u{7} \"q\" \\");
        let text = a.to_string();
        assert_eq!(text, "\"BEL:\\\u{7} \\\"q\\\" \\\\\" <sip:a@b>");
        assert_eq!(na(&text), a);
    }
}
