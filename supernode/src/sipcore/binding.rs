//! A registration as stored on the ring: one value per contact under the
//! AOR's key, with the route to reach the device.
//!
//! Implementation notes:
//! - Sub-keys are `c:` plus the instance id (RFC 5626 `+sip.instance`) or,
//!   without one, the contact URI; long ones are hashed to fit the ring's
//!   sub-key bound. Queued messages use `m:` sub-keys under the same key.
//! - The value is postcard with a leading format version, so a super-node
//!   can refuse (and log) a record written by an incompatible version.

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// Sub-key prefix of contact bindings.
pub const CONTACT_PREFIX: &[u8] = b"c:";
/// Longest sub-key written as is; longer ones are hashed.
const SUB_KEY_MAX_BYTES: usize = 200;
/// Format version of [`Binding`] values.
const BINDING_FORMAT: u8 = 1;

/// One contact of an AOR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The Contact URI as registered: the Request-URI of requests to it.
    pub contact: String,
    /// The route to the device through the super-node it is attached to:
    /// `sip:TOKEN@host:port;lr;ring=...`.
    pub path: String,
    /// Ring address of that super-node.
    pub supernode: String,
    /// `+sip.instance`, if the device sent one.
    pub instance: Option<String>,
    /// Call-ID and CSeq of the REGISTER that wrote it (RFC 3261 §10.3 step 7).
    pub call_id: String,
    pub cseq: u32,
    /// The `q` value as registered.
    pub q: Option<String>,
}

/// Why a stored value could not be read as a binding.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    /// Written by a super-node with another binding format.
    #[error("binding format {0} is not supported")]
    Format(u8),
    /// Not a valid encoding.
    #[error("undecodable binding: {0}")]
    Decode(#[from] postcard::Error),
    /// Empty value.
    #[error("empty binding value")]
    Empty,
}

impl Binding {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        // Plain strings and integers always serialise.
        postcard::to_extend(self, vec![BINDING_FORMAT]).expect("Binding is postcard-serialisable")
    }

    /// Reads stored bytes.
    pub fn decode(bytes: &[u8]) -> Result<Binding, BindingError> {
        let (&format, body) = bytes.split_first().ok_or(BindingError::Empty)?;
        if format != BINDING_FORMAT {
            return Err(BindingError::Format(format));
        }
        Ok(postcard::from_bytes(body)?)
    }

    /// The sub-key this binding is stored under.
    pub fn sub_key(instance: Option<&str>, contact_uri: &str) -> Vec<u8> {
        let id = instance.unwrap_or(contact_uri);
        let mut key = CONTACT_PREFIX.to_vec();
        if id.len() <= SUB_KEY_MAX_BYTES {
            key.extend_from_slice(id.as_bytes());
        } else {
            key.push(b'#');
            key.extend(Sha1::digest(id.as_bytes()).iter().flat_map(|b| format!("{b:02x}").into_bytes()));
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_format_check() {
        let b = Binding {
            contact: "sip:a@h.invalid;transport=ws".into(),
            path: "sip:c1-00@127.0.0.1:8080;lr;ring=127.0.0.1:7000".into(),
            supernode: "ws://127.0.0.1:7000".into(),
            instance: Some("<urn:uuid:1>".into()),
            call_id: "x".into(),
            cseq: 3,
            q: None,
        };
        assert_eq!(Binding::decode(&b.encode()).expect("decodes"), b);
        let mut other = b.encode();
        other[0] = 9;
        assert!(matches!(Binding::decode(&other), Err(BindingError::Format(9))));
        assert!(matches!(Binding::decode(&[]), Err(BindingError::Empty)));
        assert!(Binding::decode(&[BINDING_FORMAT, 0xff]).is_err());
    }

    #[test]
    fn sub_keys_are_bounded() {
        assert_eq!(Binding::sub_key(Some("<urn:uuid:1>"), "sip:x"), b"c:<urn:uuid:1>".to_vec());
        assert_eq!(Binding::sub_key(None, "sip:x@y"), b"c:sip:x@y".to_vec());
        let long = "sip:".to_owned() + &"a".repeat(1000);
        let k = Binding::sub_key(None, &long);
        assert!(k.len() <= 2 + 1 + 40 && k.starts_with(b"c:#"));
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A stored value written by anyone decodes or fails cleanly.
        #[test]
        fn arbitrary_values_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Binding::decode(&bytes);
            let mut v = vec![BINDING_FORMAT];
            v.extend_from_slice(&bytes);
            let _ = Binding::decode(&v);
        }
    }
}
