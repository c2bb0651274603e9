//! Sans-IO SIP (RFC 3261) for the super-node and the browser peer alike:
//! message model, parser, serializer, URIs, builders, proxy edits and AOR
//! keys. No sockets, no clock, no randomness; builds for `wasm32`.
//!
//! # Layout
//!
//! | module | holds |
//! |---|---|
//! | `framing` | [`parse_datagram`] (UDP, WebSocket), [`parse_stream`] (TCP/TLS), [`keepalive_len`] |
//! | `parse` | start line and header lines → typed headers; [`ParseError`] with its SIP status |
//! | `limits` | [`Limits`]: message size, header count, header line length |
//! | `message` | [`Message`], [`Request`], [`Response`]; canonical serialization |
//! | `headers` | [`Headers`]: ordered list with typed getters |
//! | `header/` | [`Header`] and the typed values: [`Via`], [`NameAddr`] (From/To/Route/Record-Route), [`Contact`], [`CSeq`], [`ContentType`]; [`HeaderError`] |
//! | `uri/` | [`Uri`] ([`SipUri`] or opaque [`AbsoluteUri`]); `uri/parse.rs` the SIP URI grammar |
//! | `params` | [`Params`]: `;name=value` lists of URIs and headers |
//! | `method`, `status` | [`Method`]; [`reason_phrase`] |
//! | `builder` | [`RequestBuilder`], [`ResponseBuilder`] |
//! | `proxy` | prepend/remove Via, Record-Route, pop Route, Max-Forwards |
//! | `aor` | [`Aor`]: canonical `user@host` and its SHA-1 ring key |
//! | `transaction_key` | [`TransactionKey`]: top Via branch + sent-by + method |
//! | `transaction/` | RFC 3261 §17 + RFC 6026 [`transaction::ClientTransaction`], [`transaction::ServerTransaction`], [`transaction::Timers`], [`transaction::cancel_for`] |
//! | `reply` | [`reply::reply_to_unparsable`]: 400/413/505/513 for bytes that did not parse |
//! | `rng` | [`rng::Rng`]: the seeded generator for tags, branches and Call-IDs |
//! | `uri_eq` | [`uri_eq`] (RFC 3261 §19.1.4) and [`uri_key`] for maps of contacts |
//! | `text` | character classes and the scanner every parser uses |
//! | `output` | quoting, and CR/LF scrubbing of every value written |
//! | `error` | [`Error`], wrapping every module's error |
//!
//! # Parsing
//!
//! ```
//! let bytes = b"REGISTER sip:example.org SIP/2.0\r\n\
//!     Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n\
//!     From: <sip:alice@example.org>;tag=1928301774\r\n\
//!     To: <sip:alice@example.org>\r\n\
//!     Call-ID: a84b4c76e66710\r\nCSeq: 1 REGISTER\r\n\
//!     Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;expires=600\r\n\
//!     Content-Length: 0\r\n\r\n";
//! let sip::Message::Request(req) = sip::parse_datagram(bytes, &sip::Limits::default())? else {
//!     unreachable!()
//! };
//! let aor = sip::Aor::from_uri(&req.headers.to().unwrap().uri)?;
//! assert_eq!(aor.as_str(), "alice@example.org");
//! assert_eq!(req.headers.contacts().next().unwrap().expires_secs(), Some(600));
//! # Ok::<(), sip::Error>(())
//! ```
//!
//! Errors carry the response to send: `err.status_code()` (400, 413, 505,
//! 513 ...). Typed getters return `Option`: the parser has validated every
//! typed header and rejected duplicated singletons, so there is nothing
//! left to fail.

mod aor;
mod builder;
pub mod dialog;
mod error;
mod framing;
mod header;
mod headers;
mod limits;
mod message;
mod method;
mod output;
mod params;
mod parse;
mod proxy;
pub mod reply;
pub mod rng;
mod status;
mod text;
pub mod transaction;
mod transaction_key;
mod uri;
mod uri_eq;

pub use aor::{Aor, AorError, AorKey};
pub use builder::{RequestBuilder, ResponseBuilder, DEFAULT_MAX_FORWARDS};
pub use error::Error;
pub use framing::{keepalive_len, parse_datagram, parse_stream};
pub use header::{
    rfc3261_branch, CSeq, Contact, ContentType, Header, HeaderError, NameAddr, OtherHeader,
    Transport, Via, MAGIC_COOKIE, MAX_CSEQ,
};
pub use headers::Headers;
pub use limits::Limits;
pub use message::{Message, MessageError, Request, Response};
pub use method::{Method, MethodError};
pub use params::{ParamError, Params};
pub use parse::ParseError;
pub use proxy::ProxyError;
pub use status::reason_phrase;
pub use transaction_key::TransactionKey;
pub use uri::{AbsoluteUri, SipUri, Uri, UriError, UriHeader};
pub use uri_eq::{uri_eq, uri_key};
