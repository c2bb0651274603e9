//! [`Error`]: every error of this crate in one type, for callers that
//! do not care which step failed but need the SIP answer.

use crate::aor::AorError;
use crate::header::HeaderError;
use crate::message::MessageError;
use crate::method::MethodError;
use crate::params::ParamError;
use crate::parse::ParseError;
use crate::proxy::ProxyError;
use crate::uri::UriError;

/// Any error of this crate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A message could not be parsed or framed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A URI is malformed.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// A header value is malformed.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A parameter list is malformed.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// A method is not a token.
    #[error(transparent)]
    Method(#[from] MethodError),
    /// A message lacks a mandatory header.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// A request cannot be forwarded.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// A URI has no address of record.
    #[error(transparent)]
    Aor(#[from] AorError),
}

impl Error {
    /// The response a server should send for a request that caused this.
    pub fn status_code(&self) -> u16 {
        match self {
            Error::Parse(e) => e.status_code(),
            Error::Message(e) => e.status_code(),
            Error::Proxy(e) => e.status_code(),
            Error::Aor(e) => e.status_code(),
            Error::Uri(_) | Error::Header(_) | Error::Param(_) | Error::Method(_) => 400,
        }
    }
}
