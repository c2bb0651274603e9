//! Wire format of a ring link: one WebSocket binary message per frame, a
//! protocol version byte followed by the postcard encoding of [`Frame`].
//!
//! Implementation notes:
//! - The version byte comes first and outside postcard so a node can tell an
//!   incompatible peer from a corrupt frame and log the right reason.
//! - Size is bounded twice: tungstenite refuses larger WebSocket messages
//!   while reading, and [`encode`] refuses to build one we could not send.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Version of the ring-link frame format. Bumped on any incompatible change.
pub const LINK_PROTOCOL_VERSION: u8 = 1;

/// Longest accepted ring address in a hello, in bytes.
pub const HELLO_ADDR_MAX_BYTES: usize = 256;

/// One frame on a ring link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Frame<M> {
    /// First frame from the side that connected: the ring address it
    /// advertises, so the acceptor can send back over this same link.
    Hello { addr: String },
    /// A payload for the node (ring protocol or relayed SIP).
    Msg(M),
}

/// Why a frame could not be decoded or encoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The frame was empty: not even a version byte.
    #[error("empty frame")]
    Empty,
    /// The peer speaks another version of the link protocol.
    #[error("link protocol version {got}, this node speaks {LINK_PROTOCOL_VERSION}")]
    Version { got: u8 },
    /// The body is not a valid postcard encoding of a frame.
    #[error("undecodable frame body: {0}")]
    Body(postcard::Error),
    /// The frame is larger than the configured limit.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    /// A hello carried an address that is empty, too long or not printable ASCII.
    #[error("hello with an invalid ring address")]
    BadHello,
}

/// Encodes a frame, refusing one larger than `max_bytes`.
pub fn encode<M: Serialize>(frame: &Frame<M>, max_bytes: usize) -> Result<Vec<u8>, FrameError> {
    let out = postcard::to_extend(frame, vec![LINK_PROTOCOL_VERSION]).map_err(FrameError::Body)?;
    if out.len() > max_bytes {
        return Err(FrameError::TooLarge { len: out.len(), max: max_bytes });
    }
    Ok(out)
}

/// Decodes a frame, checking the version, size and hello address.
pub fn decode<M: DeserializeOwned>(bytes: &[u8], max_bytes: usize) -> Result<Frame<M>, FrameError> {
    if bytes.len() > max_bytes {
        return Err(FrameError::TooLarge { len: bytes.len(), max: max_bytes });
    }
    let (&version, body) = bytes.split_first().ok_or(FrameError::Empty)?;
    if version != LINK_PROTOCOL_VERSION {
        return Err(FrameError::Version { got: version });
    }
    let frame: Frame<M> = postcard::from_bytes(body).map_err(FrameError::Body)?;
    if let Frame::Hello { addr } = &frame {
        if !valid_addr(addr) {
            return Err(FrameError::BadHello);
        }
    }
    Ok(frame)
}

/// A ring address we accept from the wire: bounded, printable ASCII.
pub fn valid_addr(addr: &str) -> bool {
    !addr.is_empty() && addr.len() <= HELLO_ADDR_MAX_BYTES && addr.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let f: Frame<Vec<u8>> = Frame::Msg(vec![1, 2, 3]);
        let bytes = encode(&f, 1024).expect("small frame encodes");
        assert_eq!(bytes[0], LINK_PROTOCOL_VERSION);
        assert_eq!(decode::<Vec<u8>>(&bytes, 1024).expect("decodes"), f);
    }

    #[test]
    fn rejects_other_version_empty_and_garbage() {
        assert!(matches!(decode::<u32>(&[], 64), Err(FrameError::Empty)));
        assert!(matches!(decode::<u32>(&[9, 0], 64), Err(FrameError::Version { got: 9 })));
        assert!(matches!(decode::<u32>(&[LINK_PROTOCOL_VERSION, 7, 7, 7], 64), Err(FrameError::Body(_))));
    }

    #[test]
    fn bounds_size_both_ways() {
        let f: Frame<Vec<u8>> = Frame::Msg(vec![0; 100]);
        assert!(matches!(encode(&f, 50), Err(FrameError::TooLarge { .. })));
        let bytes = encode(&f, 1000).expect("fits");
        assert!(matches!(decode::<Vec<u8>>(&bytes, 50), Err(FrameError::TooLarge { .. })));
    }

    #[test]
    fn rejects_bad_hello_address() {
        let f: Frame<u8> = Frame::Hello { addr: "ws://a b".into() };
        let bytes = encode(&f, 1000).expect("fits");
        assert!(matches!(decode::<u8>(&bytes, 1000), Err(FrameError::BadHello)));
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::ring::payload::{validate, RingPayload};

    proptest! {
        /// Whatever a peer sends, decoding and validating a ring frame
        /// returns a value or an error: never a panic.
        #[test]
        fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut framed = vec![LINK_PROTOCOL_VERSION];
            framed.extend_from_slice(&bytes);
            for candidate in [&bytes[..], &framed[..]] {
                if let Ok(Frame::Msg(p)) = decode::<RingPayload>(candidate, 1 << 20) {
                    let _ = validate(&p, &chord::Config::default(), 65536);
                }
            }
        }
    }
}
