//! The user agent's transactions: `sip::transaction` client and server
//! transactions kept in two bounded tables, with what each request was for.
//!
//! Implementation notes: the WebSocket is a reliable transport (RFC 7118),
//! so the transactions never retransmit; they still match responses and
//! ACKs, generate the ACK for a non-2xx, re-send our last response to a
//! retransmitted request, and run Timers B/F (a request nobody answers ends
//! as 408) and L (RFC 6026 Accepted: later 2xx from other forks).

use sip::transaction::{
    ClientEvent, ClientTransaction, ServerRequestOutcome, ServerTransaction, Timers,
    TransactionKey, TxnError,
};
use sip::{Request, Response};

use super::event::{CallHandle, MessageHandle};

/// Over a WebSocket: no retransmissions, zero linger timers.
const RELIABLE: bool = true;
/// Most transactions per table; past it the oldest is dropped (its late
/// answer is then ignored like a stray).
const MAX_TRANSACTIONS: usize = 64;

/// What a request was for, so its response reaches the right handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// REGISTER (refresh or removal).
    Register,
    /// The INVITE of a call.
    Invite(CallHandle),
    /// A CANCEL of a call's INVITE.
    Cancel(CallHandle),
    /// A BYE of a call (0: a dialog we only set up to hang it up).
    Bye(CallHandle),
    /// A MESSAGE.
    Message(MessageHandle),
}

/// The transactions of the user agent.
#[derive(Debug, Default)]
pub struct Txns {
    client: Vec<(ClientTransaction, Purpose)>,
    server: Vec<ServerTransaction>,
    timers: Timers,
}

/// How a received request relates to the server transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A new request, now in its own transaction: the TU handles it.
    New,
    /// A retransmission or an ACK for a non-2xx: absorbed.
    Absorbed,
    /// An ACK for a 2xx: the TU's (the dialog's).
    AckForTu,
    /// No RFC 3261 branch: answer 400 statelessly.
    NoBranch,
}

impl Txns {
    /// Starts a client transaction for `request` (top Via with a fresh
    /// branch). Its first send comes out of [`Txns::poll_transmit`].
    pub fn start(&mut self, now_ms: u64, request: Request, purpose: Purpose) -> Result<(), TxnError> {
        let txn = ClientTransaction::new(now_ms, request, RELIABLE, self.timers)?;
        if self.client.len() >= MAX_TRANSACTIONS {
            self.client.remove(0);
        }
        self.client.push((txn, purpose));
        Ok(())
    }

    /// Passes a response to its client transaction; gives it back if none
    /// matches (a stray: RFC 6026 §7.2 has the UA core drop it, unless it
    /// is a 2xx to an INVITE that needs an ACK).
    pub fn handle_response(&mut self, now_ms: u64, response: Response) -> Option<Response> {
        let Some(key) = TransactionKey::for_response(&response) else { return Some(response) };
        match self.client.iter_mut().find(|(t, _)| t.key() == &key) {
            Some((txn, _)) => {
                txn.handle_response(now_ms, response);
                None
            }
            None => Some(response),
        }
    }

    /// Tells the INVITE transaction of `invite` that we sent a CANCEL for
    /// it (RFC 3261 §9.1: it then gives up after 64·T1 without a final).
    pub fn handle_cancel_sent(&mut self, now_ms: u64, invite: &Request) {
        let Some(key) = TransactionKey::for_request(invite) else { return };
        if let Some((txn, _)) = self.client.iter_mut().find(|(t, _)| t.key() == &key) {
            txn.handle_cancel(now_ms);
        }
    }

    /// Classifies a received request, starting a server transaction for a
    /// new one.
    pub fn handle_request(&mut self, now_ms: u64, request: &Request) -> Incoming {
        let Some(key) = TransactionKey::for_request(request) else {
            return if request.method == sip::Method::Ack { Incoming::AckForTu } else { Incoming::NoBranch };
        };
        if let Some(txn) = self.server.iter_mut().find(|t| t.key() == &key) {
            match txn.handle_request(now_ms, request) {
                ServerRequestOutcome::Retransmission | ServerRequestOutcome::Ack => return Incoming::Absorbed,
                ServerRequestOutcome::AckForTu => return Incoming::AckForTu,
                ServerRequestOutcome::Unmatched => {}
            }
        }
        if request.method == sip::Method::Ack {
            return Incoming::AckForTu;
        }
        match ServerTransaction::new(now_ms, request, RELIABLE, self.timers) {
            Ok(txn) => {
                self.server.retain(|t| t.key() != &key);
                if self.server.len() >= MAX_TRANSACTIONS {
                    self.server.remove(0);
                }
                self.server.push(txn);
                Incoming::New
            }
            Err(_) => Incoming::NoBranch,
        }
    }

    /// Sends `response` through the server transaction of its request;
    /// `Some(response)` back when there is none (send it statelessly) or
    /// the transaction refuses it.
    pub fn respond(&mut self, now_ms: u64, response: Response) -> Option<Response> {
        let Some(key) = TransactionKey::for_response(&response) else { return Some(response) };
        let Some(txn) = self.server.iter_mut().find(|t| t.key() == &key) else { return Some(response) };
        // A refusal means our own state machine is off (e.g. a second final);
        // dropping that response is the safe outcome.
        let _ = txn.respond(now_ms, response);
        None
    }

    /// Runs every due timer.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        for (txn, _) in &mut self.client {
            if txn.poll_timeout().is_some_and(|t| t <= now_ms) {
                txn.handle_timeout(now_ms);
            }
        }
        for txn in &mut self.server {
            if txn.poll_timeout().is_some_and(|t| t <= now_ms) {
                txn.handle_timeout(now_ms);
            }
        }
    }

    /// The connection dropped: every client transaction fails (its answer
    /// would come on the lost connection) and server transactions are
    /// forgotten (their responses have nowhere to go).
    pub fn handle_disconnected(&mut self, now_ms: u64) {
        for (txn, _) in &mut self.client {
            txn.handle_transport_error(now_ms);
        }
        self.server.clear();
    }

    /// The next message a transaction sends.
    pub fn poll_transmit(&mut self) -> Option<sip::Message> {
        for (txn, _) in &mut self.client {
            if let Some(request) = txn.poll_transmit() {
                return Some(request.into());
            }
        }
        for txn in &mut self.server {
            if let Some(response) = txn.poll_transmit() {
                return Some(response.into());
            }
        }
        None
    }

    /// The next client transaction event, with its purpose. Terminated
    /// transactions are dropped here (server ones too: their events,
    /// Timer H's AckTimeout included, change nothing for a UA over a
    /// reliable transport).
    pub fn poll_event(&mut self) -> Option<(Purpose, ClientEvent)> {
        for txn in &mut self.server {
            while txn.poll_event().is_some() {}
        }
        self.server.retain(|t| !t.is_terminated());
        let mut found = None;
        for (txn, purpose) in &mut self.client {
            if let Some(event) = txn.poll_event() {
                found = Some((*purpose, event));
                break;
            }
        }
        if found.is_none() {
            self.client.retain(|(t, _)| !t.is_terminated());
        }
        found
    }

    /// The earliest timer of any transaction.
    pub fn poll_timeout(&self) -> Option<u64> {
        let client = self.client.iter().filter_map(|(t, _)| t.poll_timeout());
        let server = self.server.iter().filter_map(ServerTransaction::poll_timeout);
        client.chain(server).min()
    }
}
