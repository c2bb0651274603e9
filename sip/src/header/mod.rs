//! Header fields: the typed [`Header`] enum, its value types, and the
//! errors a header value can have.
//!
//! Implementation notes: the headers a registrar, proxy or user agent acts
//! on are parsed into typed values while the message is parsed, which also
//! validates them (RFC 4475 wants a 400 for a broken Via or To). Everything
//! else is an [`OtherHeader`] kept verbatim, apart from unfolding. A header
//! line with several comma-separated values (Via, Contact, Route,
//! Record-Route) becomes one [`Header`] per value, which RFC 3261 §7.3.1
//! says is equivalent and which makes "remove the top Via" a simple
//! removal. Content-Length is not stored at all: it is derived from the body
//! when the message is written, so it can never disagree with it.

mod contact;
mod content_type;
mod cseq;
pub(crate) mod name;
mod name_addr;
mod parse;
mod via;

use std::borrow::Cow;
use std::fmt;

pub use contact::Contact;
pub use content_type::ContentType;
pub use cseq::{CSeq, MAX_CSEQ};
pub use name_addr::NameAddr;
pub use via::{rfc3261_branch, Transport, Via, MAGIC_COOKIE};

pub(crate) use parse::{check_other_value, parse_content_length, parse_into};

use crate::method::Method;
use crate::params::ParamError;
use crate::output::{write_clean, Clean};
use crate::text;
use crate::uri::UriError;
use name::{classify, Kind, Name};

/// What is wrong with a header value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The value is empty where the header needs one.
    #[error("empty value")]
    Empty,
    /// A comma-separated list has an empty item (`a,,b` or a trailing comma).
    #[error("empty item in a comma-separated list")]
    EmptyItem,
    /// A URI in the value is malformed.
    #[error("URI: {0}")]
    Uri(#[from] UriError),
    /// A header parameter is malformed.
    #[error("parameter: {0}")]
    Param(#[from] ParamError),
    /// A quoted string is unterminated or holds a raw control character.
    #[error("unterminated or malformed quoted string")]
    BadQuotedString,
    /// A quoted display name is not followed by `<`.
    #[error("expected '<' after the display name")]
    ExpectedAngleBracket,
    /// `<` without its `>`.
    #[error("missing '>' after the URI")]
    UnclosedAngleBracket,
    /// A URI with `?headers` outside angle brackets (RFC 3261 §20).
    #[error("a URI with headers must be enclosed in '<' '>'")]
    UriNeedsAngleBrackets,
    /// Characters left after a complete value.
    #[error("unexpected {0:?}")]
    Trailing(String),
    /// The Via sent-protocol is not `SIP/2.0/<transport>`.
    #[error("sent-protocol is not SIP/2.0/<transport>")]
    BadSentProtocol,
    /// The Via sent-by host or port is missing or malformed.
    #[error("malformed sent-by host or port")]
    BadSentBy,
    /// A number is missing or is not a number.
    #[error("{what} is not a number")]
    BadNumber {
        /// Which number.
        what: &'static str,
    },
    /// A number is outside the range the header allows.
    #[error("{what} is out of range")]
    OutOfRange {
        /// Which number.
        what: &'static str,
    },
    /// A token is missing or holds a character not allowed in a token.
    #[error("{what} is not a token")]
    BadToken {
        /// Which token.
        what: &'static str,
    },
    /// The Call-ID is not `word [ "@" word ]`.
    #[error("malformed Call-ID")]
    BadCallId,
    /// A media type is not `type/subtype`.
    #[error("malformed media type")]
    BadMediaType,
    /// A raw control character (other than HTAB) in a header value.
    #[error("control character in header value")]
    ControlCharacter,
    /// A header name is empty or is not a token.
    #[error("header name {0:?} is not a token")]
    BadName(String),
    /// [`Header::other`] was given the name of a typed header, or
    /// [`Header::parse`] was given Content-Length (derived from the body).
    #[error("{0} must be set through its typed value")]
    TypedName(&'static str),
}

/// One header field value. A line with several comma-separated values
/// becomes several of these.
///
/// The large values are boxed so a `Header` is 40 bytes: a message's header
/// list then stays small enough for the allocator's fast path (this was
/// worth about 15% of parse time). `From<Via>`, `From<Contact>`,
/// `From<CSeq>` and `From<ContentType>` build the unambiguous variants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    /// `Via` (compact `v`).
    Via(Box<Via>),
    /// `From` (compact `f`).
    From(Box<NameAddr>),
    /// `To` (compact `t`).
    To(Box<NameAddr>),
    /// `Call-ID` (compact `i`), validated as `word [ "@" word ]`.
    CallId(String),
    /// `CSeq`.
    CSeq(CSeq),
    /// `Max-Forwards`, 0 to 255.
    MaxForwards(u8),
    /// `Contact` (compact `m`).
    Contact(Box<Contact>),
    /// `Expires` in seconds, saturated at `u32::MAX`.
    Expires(u32),
    /// `Route`.
    Route(Box<NameAddr>),
    /// `Record-Route`.
    RecordRoute(Box<NameAddr>),
    /// `Content-Type` (compact `c`).
    ContentType(Box<ContentType>),
    /// `Supported` option tags (compact `k`); may be empty.
    Supported(Vec<String>),
    /// `Require` option tags.
    Require(Vec<String>),
    /// `Proxy-Require` option tags.
    ProxyRequire(Vec<String>),
    /// `Unsupported` option tags.
    Unsupported(Vec<String>),
    /// `Allow` methods; may be empty.
    Allow(Vec<Method>),
    /// Any other header, verbatim.
    Other(OtherHeader),
}

/// A header this crate does not type: name as written (compact forms of
/// well-known headers expanded), value unfolded and trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherHeader {
    name: Cow<'static, str>,
    value: Box<str>,
}

/// Common untyped header names, borrowed rather than allocated when a
/// message spells them this way.
fn intern_name(name: &str) -> Cow<'static, str> {
    Cow::Borrowed(match name {
        "User-Agent" => "User-Agent",
        "Server" => "Server",
        "Accept" => "Accept",
        "Allow-Events" => "Allow-Events",
        "Authorization" => "Authorization",
        "Proxy-Authorization" => "Proxy-Authorization",
        "WWW-Authenticate" => "WWW-Authenticate",
        "Proxy-Authenticate" => "Proxy-Authenticate",
        "Date" => "Date",
        "Subject" => "Subject",
        "Event" => "Event",
        "Session-Expires" => "Session-Expires",
        "Min-Expires" => "Min-Expires",
        "Retry-After" => "Retry-After",
        "Path" => "Path",
        "Warning" => "Warning",
        _ => return Cow::Owned(name.to_owned()),
    })
}

impl OtherHeader {
    /// For the parser, which has validated both already.
    pub(crate) fn new_unchecked(name: &str, value: &str) -> OtherHeader {
        OtherHeader { name: intern_name(name), value: value.into() }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl Header {
    /// An untyped header, for anything the enum has no variant for
    /// (`User-Agent`, `Authorization`, `Subject` ...). Fails if `name` is
    /// not a token, names a typed header, or `value` holds a control character.
    pub fn other(name: &str, value: &str) -> Result<Header, HeaderError> {
        if !text::all_in(name, &text::TOKEN) {
            return Err(HeaderError::BadName(name.to_owned()));
        }
        match classify(name) {
            Name::Typed(kind) => Err(HeaderError::TypedName(kind.canonical())),
            Name::Other(name) => {
                let value = text::trim_ws(value);
                parse::check_other_value(value)?;
                Ok(Header::Other(OtherHeader::new_unchecked(name, value)))
            }
        }
    }

    /// Parses `value` as a header called `name`, typed if the name is known:
    /// `Header::parse("Contact", "<sip:a@b>, <sip:c@d>")` gives two values.
    pub fn parse(name: &str, value: &str) -> Result<Vec<Header>, HeaderError> {
        if !text::all_in(name, &text::TOKEN) {
            return Err(HeaderError::BadName(name.to_owned()));
        }
        let mut out = Vec::new();
        match classify(name) {
            Name::Typed(Kind::ContentLength) => {
                return Err(HeaderError::TypedName(Kind::ContentLength.canonical()))
            }
            Name::Typed(kind) => parse_into(kind, text::trim_ws(value), &mut out)?,
            Name::Other(_) => out.push(Header::other(name, value)?),
        }
        Ok(out)
    }

    /// The full header name written on output.
    pub fn name(&self) -> &str {
        match self {
            Header::Other(other) => &other.name,
            typed => typed.kind().map_or("", Kind::canonical),
        }
    }

    /// The typed kind, `None` for [`Header::Other`].
    pub(crate) fn kind(&self) -> Option<Kind> {
        Some(match self {
            Header::Via(_) => Kind::Via,
            Header::From(_) => Kind::From,
            Header::To(_) => Kind::To,
            Header::CallId(_) => Kind::CallId,
            Header::CSeq(_) => Kind::CSeq,
            Header::MaxForwards(_) => Kind::MaxForwards,
            Header::Contact(_) => Kind::Contact,
            Header::Expires(_) => Kind::Expires,
            Header::Route(_) => Kind::Route,
            Header::RecordRoute(_) => Kind::RecordRoute,
            Header::ContentType(_) => Kind::ContentType,
            Header::Supported(_) => Kind::Supported,
            Header::Require(_) => Kind::Require,
            Header::ProxyRequire(_) => Kind::ProxyRequire,
            Header::Unsupported(_) => Kind::Unsupported,
            Header::Allow(_) => Kind::Allow,
            Header::Other(_) => return None,
        })
    }

    /// True when both are the same typed header, or untyped with the same
    /// name (case-insensitive).
    pub fn same_name(&self, other: &Header) -> bool {
        match (self, other) {
            (Header::Other(a), Header::Other(b)) => a.name.eq_ignore_ascii_case(&b.name),
            _ => self.kind().is_some() && self.kind() == other.kind(),
        }
    }

    /// Writes just the value.
    fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        }
        match self {
            Header::Via(via) => write!(f, "{via}"),
            Header::From(addr) | Header::To(addr) | Header::Route(addr) | Header::RecordRoute(addr) => {
                write!(f, "{addr}")
            }
            Header::CallId(id) => write_clean(f, id),
            Header::CSeq(cseq) => write!(f, "{cseq}"),
            Header::MaxForwards(hops) => write!(f, "{hops}"),
            Header::Contact(contact) => write!(f, "{contact}"),
            Header::Expires(secs) => write!(f, "{secs}"),
            Header::ContentType(ct) => write!(f, "{ct}"),
            Header::Supported(tags)
            | Header::Require(tags)
            | Header::ProxyRequire(tags)
            | Header::Unsupported(tags) => {
                let tags: Vec<Clean<'_>> = tags.iter().map(|t| Clean(t)).collect();
                list(f, &tags)
            }
            Header::Allow(methods) => list(f, methods),
            Header::Other(other) => write_clean(f, &other.value),
        }
    }

    /// The value alone, as it is written on the wire.
    pub fn value_string(&self) -> String {
        struct Value<'a>(&'a Header);
        impl fmt::Display for Value<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_value(f)
            }
        }
        Value(self).to_string()
    }
}

impl From<Via> for Header {
    fn from(via: Via) -> Header {
        Header::Via(Box::new(via))
    }
}

impl From<Contact> for Header {
    fn from(contact: Contact) -> Header {
        Header::Contact(Box::new(contact))
    }
}

impl From<CSeq> for Header {
    fn from(cseq: CSeq) -> Header {
        Header::CSeq(cseq)
    }
}

impl From<ContentType> for Header {
    fn from(content_type: ContentType) -> Header {
        Header::ContentType(Box::new(content_type))
    }
}

impl fmt::Display for Header {
    /// `Name: value`, without the CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_clean(f, self.name())?;
        f.write_str(": ")?;
        self.fmt_value(f)
    }
}
