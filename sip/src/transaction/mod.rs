//! RFC 3261 §17 client and server transactions, with RFC 6026's Accepted
//! states, sans-IO.
//!
//! | file | holds |
//! |---|---|
//! | `client.rs` | [`ClientTransaction`], [`ClientState`], [`ClientEvent`] |
//! | `server.rs` | [`ServerTransaction`], [`ServerState`], [`ServerEvent`], [`ServerRequestOutcome`] |
//! | `timers.rs` | [`Timers`] (T1, T2, T4 and the timers derived from them) |
//! | `build.rs` | [`cancel_for`], [`invite_key_for_cancel`], the ACK for non-2xx, 100 Trying |
//! | `outbox.rs` | the bounded output queues |
//!
//! # Routing inputs to transactions
//!
//! A driver keeps a map from [`TransactionKey`] to transaction, one map for
//! client and one for server transactions:
//!
//! - a response: [`TransactionKey::for_response`] → that client
//!   transaction's [`ClientTransaction::handle_response`]; no match → the
//!   TU (a UA core drops it, RFC 6026 §7.2; a proxy forwards it statelessly
//!   if it is a 2xx to INVITE, §16.7).
//! - a request: [`TransactionKey::for_request`] (an ACK maps to its
//!   INVITE's key) → that server transaction's
//!   [`ServerTransaction::handle_request`]; no match, or
//!   [`ServerRequestOutcome::Unmatched`]: an ACK goes to the TU (it
//!   acknowledges a 2xx), anything else starts a [`ServerTransaction::new`]
//!   and goes to the TU.
//! - a CANCEL also has its own server transaction; its INVITE is found with
//!   [`invite_key_for_cancel`].
//!
//! ```
//! use sip::transaction::{ClientEvent, ClientTransaction, ServerTransaction, Timers};
//! use sip::{Method, NameAddr, Request, Response, Transport, Uri, Via, rfc3261_branch};
//!
//! let bob = Uri::sip(Some("bob"), "example.org");
//! let options = Request::builder(Method::Options, bob.clone())
//!     .via(Via::new(Transport::Udp, "a.example.org", None, &rfc3261_branch("x1")))
//!     .from(NameAddr::new(Uri::sip(Some("alice"), "example.org")).with_tag("a1"))
//!     .to(NameAddr::new(bob))
//!     .call_id("c1@a.example.org")
//!     .cseq(1)
//!     .build();
//! let timers = Timers::default();
//! let mut client = ClientTransaction::new(0, options, false, timers)?;
//! let sent = client.poll_transmit().expect("the first send");
//! // ... the server side receives it:
//! let mut server = ServerTransaction::new(10, &sent, false, timers)?;
//! server.respond(20, Response::builder(&sent, 200).to_tag("b1").build())?;
//! let ok = server.poll_transmit().expect("the 200");
//! // ... and the client gets the answer.
//! client.handle_response(30, ok);
//! assert!(matches!(client.poll_event(), Some(ClientEvent::Response(r)) if r.status == 200));
//! // Over UDP both linger to absorb retransmissions (Timers K and J).
//! assert_eq!(client.poll_timeout(), Some(30 + 5000));
//! assert_eq!(server.poll_timeout(), Some(20 + 32_000));
//! # Ok::<(), sip::transaction::TxnError>(())
//! ```
//!
//! # Implementation notes
//!
//! - **RFC 2543 peers.** A request whose top Via branch lacks the magic
//!   cookie (or is the bare cookie, RFC 4475 badbranch) is matched by the
//!   §17.2.3 fallback: [`TransactionKey::for_request`] hashes the fields
//!   that section names (RFC 4475 wsinv, longreq and inv2543 are valid and
//!   must be accepted). Client transactions still require an RFC 3261
//!   branch ([`TxnError::NoRfc3261Branch`]): we never send without one.
//! - **Timers.** All derive from [`Timers`]. Reliable transports get no
//!   retransmissions (A, E, G) and zero D, I, J, K; B, F, H, L, M stay
//!   64·T1. A zero timer moves to Terminated inside the same call.
//! - **What ends a transaction.** Timers do, except in two states RFC 3261
//!   leaves to the TU: an INVITE client in Proceeding (the TU sends CANCEL
//!   and calls [`ClientTransaction::handle_cancel`], after which 64·T1
//!   bounds it) and a server transaction before the TU's final response.
//!   Once the TU has done its part, every transaction is Terminated within
//!   64·T1 (at least 32 s for Timer D) of its last input.
//! - **Bounds.** Output queues are bounded whatever the remote sends and
//!   however late the driver drains them (see `outbox.rs`); each timer fires
//!   at most once per `handle_timeout` call, so a driver that wakes late
//!   gets one retransmission, not a burst. A transaction holds one request
//!   (client) or the last response (server) and a generated ACK or 100.
//! - **The 2xx to INVITE** is the TU's (RFC 6026): a UAS core retransmits
//!   it through [`ServerTransaction::respond`] until its ACK, which arrives
//!   as a new request (its own branch); a UAC core ACKs each 2xx it gets
//!   as [`ClientEvent::Response`] itself.

mod build;
mod client;
mod outbox;
mod server;
mod timers;

#[cfg(test)]
mod tests;

pub use build::{cancel_for, invite_key_for_cancel};
pub use client::{ClientEvent, ClientState, ClientTransaction};
pub use server::{ServerEvent, ServerRequestOutcome, ServerState, ServerTransaction, TRYING_DELAY_MS};
pub use timers::Timers;

pub use crate::transaction_key::TransactionKey;

/// Why a transaction could not be created or could not take a response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    /// The request's top Via has no RFC 3261 branch (magic cookie plus an
    /// identifier), or there is no Via: an RFC 2543 peer or a broken one.
    /// A server answers 400 statelessly ([`TxnError::status_code`]).
    #[error("no RFC 3261 branch in the top Via")]
    NoRfc3261Branch,
    /// ACK never starts a transaction (§17): the ACK for a non-2xx is part
    /// of the INVITE transaction, the ACK for a 2xx belongs to the TU.
    #[error("ACK does not start a transaction")]
    AckIsNotATransaction,
    /// A response status outside 100-699.
    #[error("status {0} is not 100-699")]
    BadStatus(u16),
    /// The response's top Via branch, sent-by or CSeq method is not this
    /// transaction's: it was not built from this transaction's request.
    #[error("response does not belong to this transaction")]
    WrongTransaction,
    /// The state does not allow this response (a provisional after a final,
    /// a second final, a non-2xx after a 2xx ...).
    #[error("a {status} response is not allowed in state {state:?}")]
    NotAllowed {
        /// The transaction's state.
        state: ServerState,
        /// The refused status.
        status: u16,
    },
    /// Too many responses wait in the transmit queue: the driver is not
    /// draining [`ServerTransaction::poll_transmit`].
    #[error("transmit queue full")]
    QueueFull,
}

impl TxnError {
    /// The response a server should send for a request that caused this,
    /// if the error is about the request (only [`TxnError::NoRfc3261Branch`]:
    /// 400). The others are the local TU's mistakes.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            TxnError::NoRfc3261Branch => Some(400),
            _ => None,
        }
    }
}
