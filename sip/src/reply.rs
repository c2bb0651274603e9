//! Replies to requests that failed to parse, built from their raw header
//! lines. (Being written.)
