//! Parameter lists: `;name=value` on URIs and on header values.
//!
//! Values are stored as they appear on the wire: a quoted header-parameter
//! value keeps its quotes and escapes, a URI-parameter value keeps its `%HH`
//! escapes. That keeps round trips exact and leaves the decision to unquote or
//! unescape to the code that knows what the parameter means (see
//! [`Params::get_unquoted`]). Names compare case-insensitively, as RFC 3261
//! §7.3.1 says.

use std::borrow::Cow;
use std::fmt;

use crate::output::{write_clean, Quoted};
use crate::text::{self, Scanner, GEN_VALUE, PARAM_CHAR, TOKEN};

/// What is wrong with a parameter list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A `;` with no parameter name after it (e.g. `;;`).
    #[error("empty parameter name")]
    EmptyName,
    /// `name=` with nothing after the `=`.
    #[error("parameter {name:?} has an empty value")]
    EmptyValue {
        /// The parameter's name.
        name: String,
    },
    /// A quoted value that is unterminated or holds a raw control character.
    #[error("parameter {name:?} has a malformed quoted value")]
    BadQuotedValue {
        /// The parameter's name.
        name: String,
    },
    /// A `%` not followed by two hex digits in a URI parameter.
    #[error("malformed %HH escape in a URI parameter")]
    BadEscape,
}

/// One parameter; `value` is `None` for a valueless one such as `;lr`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Param {
    name: Cow<'static, str>,
    value: Option<String>,
}

/// The name, borrowed from a static table when it is a common one, so
/// parsing `;tag=...;branch=...;lr` allocates only for values.
fn intern(name: &str) -> Cow<'static, str> {
    Cow::Borrowed(match name {
        "tag" => "tag",
        "branch" => "branch",
        "received" => "received",
        "rport" => "rport",
        "transport" => "transport",
        "lr" => "lr",
        "ob" => "ob",
        "maddr" => "maddr",
        "user" => "user",
        "expires" => "expires",
        "q" => "q",
        "reg-id" => "reg-id",
        "+sip.instance" => "+sip.instance",
        "+sip.ice" => "+sip.ice",
        "gr" => "gr",
        "ttl" => "ttl",
        "boundary" => "boundary",
        "charset" => "charset",
        _ => return Cow::Owned(name.to_owned()),
    })
}

/// An ordered parameter list. Order is kept; lookups take the first match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Params {
    list: Vec<Param>,
}

impl Params {
    /// An empty list.
    pub fn new() -> Self {
        Params::default()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `(name, value)` pairs in order; values as on the wire.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> + '_ {
        self.list.iter().map(|p| (p.name.as_ref(), p.value.as_deref()))
    }

    /// `None` if absent, `Some(None)` if present without a value, else `Some(Some(value))`.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.list
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_deref())
    }

    /// The value of `name`, if it is present and has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    /// The value of `name` with surrounding quotes and quoted-pairs removed.
    pub fn get_unquoted(&self, name: &str) -> Option<Cow<'_, str>> {
        let raw = self.value(name)?;
        Some(if raw.starts_with('"') { text::unquote(raw) } else { Cow::Borrowed(raw) })
    }

    /// True when `name` is present, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to `value`, replacing the first existing one or appending.
    ///
    /// `value` goes on the wire as given, so it must be a token, a host, or a
    /// quoted string already (use [`Params::set_quoted`] for free text).
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_owned);
        match self.list.iter_mut().find(|p| p.name.eq_ignore_ascii_case(name)) {
            Some(param) => param.value = value,
            None => self.list.push(Param { name: intern(name), value }),
        }
    }

    /// Sets `name` to `text` as a quoted string (quotes and escapes added).
    pub fn set_quoted(&mut self, name: &str, text: &str) {
        self.set(name, Some(&Quoted(text).to_string()));
    }

    /// Appends a parameter even if one with the same name exists.
    pub fn push(&mut self, name: &str, value: Option<&str>) {
        self.list.push(Param { name: intern(name), value: value.map(str::to_owned) });
    }

    /// Removes every parameter called `name`; says whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|p| !p.name.eq_ignore_ascii_case(name));
        self.list.len() != before
    }

    /// Builder form of [`Params::set`].
    pub fn with(mut self, name: &str, value: Option<&str>) -> Self {
        self.set(name, value);
        self
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for param in &self.list {
            f.write_str(";")?;
            write_clean(f, &param.name)?;
            if let Some(value) = &param.value {
                f.write_str("=")?;
                write_clean(f, value)?;
            }
        }
        Ok(())
    }
}

/// Parses `*( SEMI generic-param )` of a header value, where `SEMI` and
/// `EQUAL` may have whitespace around them. Stops before anything that is
/// not a `;` (after whitespace), leaving it for the caller to judge.
pub(crate) fn parse_header_params(sc: &mut Scanner<'_>) -> Result<Params, ParamError> {
    let mut params = Params::new();
    loop {
        sc.skip_ws();
        if !sc.eat(b';') {
            return Ok(params);
        }
        sc.skip_ws();
        let name = sc.take_class(&TOKEN);
        if name.is_empty() {
            return Err(ParamError::EmptyName);
        }
        // Only skip the whitespace before '=' if an '=' follows, so the
        // caller still sees where the parameter ended.
        let mut look = sc.clone();
        look.skip_ws();
        let value = if look.eat(b'=') {
            *sc = look;
            sc.skip_ws();
            let value = if sc.peek() == Some(b'"') {
                sc.take_quoted().ok_or_else(|| ParamError::BadQuotedValue {
                    name: name.to_owned(),
                })?
            } else {
                sc.take_class(&GEN_VALUE)
            };
            if value.is_empty() {
                return Err(ParamError::EmptyValue { name: name.to_owned() });
            }
            Some(value.to_owned())
        } else {
            None
        };
        params.list.push(Param { name: intern(name), value });
    }
}

/// Parses `*( ";" uri-parameter )` inside a URI: no whitespace, no quotes,
/// `%HH` escapes kept as written.
pub(crate) fn parse_uri_params(sc: &mut Scanner<'_>) -> Result<Params, ParamError> {
    let mut params = Params::new();
    while sc.eat(b';') {
        let name = sc.take_escaped(&PARAM_CHAR).ok_or(ParamError::BadEscape)?;
        if name.is_empty() {
            return Err(ParamError::EmptyName);
        }
        let value = if sc.eat(b'=') {
            let value = sc.take_escaped(&PARAM_CHAR).ok_or(ParamError::BadEscape)?;
            if value.is_empty() {
                return Err(ParamError::EmptyValue { name: name.to_owned() });
            }
            Some(value.to_owned())
        } else {
            None
        };
        params.list.push(Param { name: intern(name), value });
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Result<(Params, String), ParamError> {
        let mut sc = Scanner::new(s);
        let params = parse_header_params(&mut sc)?;
        Ok((params, sc.rest().to_owned()))
    }

    #[test]
    fn header_params_with_whitespace_and_quotes() {
        let (params, rest) =
            header(" ;   tag    = 1918181833n ; q = 0.33;+sip.instance=\"<urn:uuid:1>\";lr x")
                .expect("valid");
        assert_eq!(params.value("TAG"), Some("1918181833n"));
        assert_eq!(params.value("q"), Some("0.33"));
        assert_eq!(params.value("+sip.instance"), Some("\"<urn:uuid:1>\""));
        assert_eq!(params.get_unquoted("+sip.instance").as_deref(), Some("<urn:uuid:1>"));
        assert_eq!(params.get("lr"), Some(None));
        assert_eq!(params.get("nope"), None);
        assert_eq!(rest, "x");
        assert_eq!(
            params.to_string(),
            ";tag=1918181833n;q=0.33;+sip.instance=\"<urn:uuid:1>\";lr"
        );
    }

    #[test]
    fn header_param_errors() {
        assert_eq!(header(";;").unwrap_err(), ParamError::EmptyName);
        assert!(matches!(header(";a=").unwrap_err(), ParamError::EmptyValue { .. }));
        assert!(matches!(header(";a=\"x").unwrap_err(), ParamError::BadQuotedValue { .. }));
    }

    #[test]
    fn uri_params_keep_escapes() {
        let mut sc = Scanner::new(";%6C%72;n%61me=v%61lue%25%34%31?x");
        let params = parse_uri_params(&mut sc).expect("valid");
        assert_eq!(params.get("%6C%72"), Some(None));
        assert_eq!(params.value("n%61me"), Some("v%61lue%25%34%31"));
        assert_eq!(sc.rest(), "?x");
        assert_eq!(
            parse_uri_params(&mut Scanner::new(";a=%4")).unwrap_err(),
            ParamError::BadEscape
        );
    }

    #[test]
    fn mutation() {
        let mut params = Params::new().with("branch", Some("z9hG4bK1")).with("rport", None);
        params.set("RPORT", Some("5060"));
        params.set_quoted("text", "say \"hi\"");
        assert_eq!(params.to_string(), ";branch=z9hG4bK1;rport=5060;text=\"say \\\"hi\\\"\"");
        assert!(params.remove("text"));
        assert!(!params.remove("text"));
        assert_eq!(params.len(), 2);
    }
}
