//! Messages as bytes: postcard, a compact binary form of the serde types. Bytes rather than
//! structured clones: one buffer per message, handed over without a copy, and pixel arrays that
//! stay packed (a `Vec<u8>` tagged `serde_bytes` is one copy, not a number per pixel).

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a message could not be {action}: {why}")]
pub struct WireError {
    action: &'static str,
    why: String,
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // The protocol's types are plain data (no maps, no unbounded recursion): postcard cannot
    // fail on them, so a failure is a bug in a new type; it shows as an empty, undecodable
    // message on the other side rather than a panic here.
    postcard::to_allocvec(value).unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    postcard::from_bytes(bytes).map_err(|e| WireError { action: "read", why: e.to_string() })
}
