//! RFC 3261 §17 client and server transactions (with RFC 6026), sans-IO.
//! (Being written.)
