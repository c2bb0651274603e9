//! Server transactions: INVITE (RFC 3261 §17.2.1 with RFC 6026's Accepted
//! state) and non-INVITE (§17.2.2).

use super::build::trying_for;
use super::outbox::Outbox;
use super::timers::{due, earliest, Retransmit, Timers};
use super::TxnError;
use crate::message::{Request, Response};
use crate::method::Method;
use crate::transaction_key::TransactionKey;

/// How long an INVITE server transaction waits for the TU's first response
/// before sending 100 Trying itself (§17.2.1).
pub const TRYING_DELAY_MS: u64 = 200;

/// Where a [`ServerTransaction`] is. INVITE transactions use Proceeding,
/// Completed, Confirmed, Accepted, Terminated; non-INVITE ones Trying,
/// Proceeding, Completed, Terminated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Non-INVITE: request received, no response yet.
    Trying,
    /// INVITE: from the start until a final response; non-INVITE: after a
    /// provisional response.
    Proceeding,
    /// A final response was sent (INVITE: 300-699, retransmitted by Timer G
    /// until an ACK or Timer H; non-INVITE: any, held until Timer J).
    Completed,
    /// INVITE: the ACK for the 300-699 arrived; absorbing ACK
    /// retransmissions until Timer I.
    Confirmed,
    /// INVITE: a 2xx was sent (RFC 6026). The TU retransmits it itself
    /// (§13.3.1.4) through [`ServerTransaction::respond`]; retransmitted
    /// INVITEs are absorbed; Timer L ends it.
    Accepted,
    /// Done: drop the transaction once its queues are drained.
    Terminated,
}

/// What a [`ServerTransaction`] tells its TU, from
/// [`ServerTransaction::poll_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// Timer H fired: no ACK came for the 300-699 response.
    AckTimeout,
    /// The driver reported that sending a response failed.
    TransportError,
    /// The transaction is over; nothing follows this event.
    Terminated,
}

/// What [`ServerTransaction::handle_request`] made of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerRequestOutcome {
    /// A retransmission of the request: absorbed. If a response had been
    /// sent, the last one is queued again for [`ServerTransaction::poll_transmit`]
    /// (an INVITE with no response yet gets 100 Trying at once).
    Retransmission,
    /// An ACK for the 300-699 response (or a retransmission of it): absorbed.
    Ack,
    /// An ACK that arrived in Accepted (RFC 6026 §7.1): an ACK for the 2xx
    /// that reused the INVITE's branch. Pass it to the TU (dialog layer)
    /// as if no transaction had matched.
    AckForTu,
    /// Not this transaction's (another key), or the transaction is
    /// Terminated: handle the request as if no transaction had matched.
    Unmatched,
}

/// An RFC 3261 server transaction: absorbs request retransmissions,
/// re-sends the last response for them, retransmits 300-699 responses to
/// INVITE on unreliable transports until the ACK, and lingers to catch
/// stragglers. Sans-IO: time comes in as `now_ms` (monotonic ms, any origin).
///
/// # Driving it
///
/// 1. For a request whose [`TransactionKey::for_request`] matches no live
///    transaction (and that is not an ACK), [`ServerTransaction::new`], then
///    pass the request to the TU.
/// 2. Requests that match (retransmissions, and ACKs, which map to the
///    INVITE's key) go to [`handle_request`]; act on its
///    [`ServerRequestOutcome`].
/// 3. The TU answers with [`respond`] (any number of 1xx, then one final;
///    for INVITE, 2xx retransmissions after a 2xx).
/// 4. After `new` and after every input, drain [`poll_transmit`] (send each
///    response per §18.2.2, usually back where the request came from),
///    then [`poll_event`], then ask [`poll_timeout`] when to call
///    [`handle_timeout`] next. [`handle_transport_error`] when a send failed.
/// 5. [`ServerEvent::Terminated`] is always the last event: drop the
///    transaction then (it ignores any further input).
///
/// The TU must send a final response eventually: until it does, the
/// transaction has no timer that ends it (a proxy relies on its client
/// transactions' Timers B/F and its own Timer C for that).
///
/// [`handle_request`]: ServerTransaction::handle_request
/// [`respond`]: ServerTransaction::respond
/// [`poll_transmit`]: ServerTransaction::poll_transmit
/// [`poll_event`]: ServerTransaction::poll_event
/// [`poll_timeout`]: ServerTransaction::poll_timeout
/// [`handle_timeout`]: ServerTransaction::handle_timeout
/// [`handle_transport_error`]: ServerTransaction::handle_transport_error
#[derive(Clone, Debug)]
pub struct ServerTransaction {
    key: TransactionKey,
    /// For an RFC 2543 request (fallback key): its top Via as text, which
    /// responses must carry, since a response has no key of that kind.
    rfc2543_via: Option<String>,
    invite: bool,
    reliable: bool,
    timers: Timers,
    state: ServerState,
    /// INVITE: the 100 Trying to send if the TU is silent for 200 ms.
    trying: Option<Response>,
    trying_at_ms: Option<u64>,
    /// The last response sent, re-sent for request retransmissions.
    last_response: Option<Response>,
    /// Timer G.
    retransmit: Option<Retransmit>,
    /// Timer H: reports AckTimeout.
    ack_timeout_at_ms: Option<u64>,
    /// Timer I, J or L: ends the transaction quietly.
    linger_until_ms: Option<u64>,
    out: Outbox<Response, ServerEvent>,
}

impl ServerTransaction {
    /// Starts a transaction for a request that matched none. `reliable` is
    /// true for TCP, TLS, SCTP and WebSocket (no retransmissions; Timers I
    /// and J are zero).
    ///
    /// Fails for ACK (an ACK that matches nothing belongs to the TU: it
    /// acknowledges a 2xx) and for a request without a Via
    /// ([`TxnError::NoRfc3261Branch`]). An RFC 2543 request (no cookie
    /// branch) gets the §17.2.3 fallback key of [`TransactionKey::for_request`].
    pub fn new(now_ms: u64, request: &Request, reliable: bool, timers: Timers) -> Result<Self, TxnError> {
        if request.method == Method::Ack {
            return Err(TxnError::AckIsNotATransaction);
        }
        let key = TransactionKey::for_request(request).ok_or(TxnError::NoRfc3261Branch)?;
        let invite = request.method == Method::Invite;
        let rfc2543_via = (!key.is_rfc3261()).then(|| request.headers.top_via().map(ToString::to_string)).flatten();
        Ok(ServerTransaction {
            key,
            rfc2543_via,
            invite,
            reliable,
            timers,
            state: if invite { ServerState::Proceeding } else { ServerState::Trying },
            trying: invite.then(|| trying_for(request)),
            trying_at_ms: invite.then(|| now_ms.saturating_add(TRYING_DELAY_MS)),
            last_response: None,
            retransmit: None,
            ack_timeout_at_ms: None,
            linger_until_ms: None,
            out: Outbox::default(),
        })
    }

    /// The key requests are matched by (for INVITE, ACKs share it).
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// True once Terminated.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }

    /// The last response sent, if any.
    pub fn last_response(&self) -> Option<&Response> {
        self.last_response.as_ref()
    }

    /// A request from the transport that matched this transaction's key:
    /// a retransmission of the original request, or an ACK.
    pub fn handle_request(&mut self, now_ms: u64, request: &Request) -> ServerRequestOutcome {
        use ServerState::*;
        if self.is_terminated() || TransactionKey::for_request(request).as_ref() != Some(&self.key) {
            return ServerRequestOutcome::Unmatched;
        }
        if request.method == Method::Ack {
            return match self.state {
                Completed => {
                    self.state = Confirmed;
                    self.retransmit = None;
                    self.ack_timeout_at_ms = None;
                    self.linger(now_ms, self.timers.timer_i_k_ms(self.reliable));
                    ServerRequestOutcome::Ack
                }
                Accepted => ServerRequestOutcome::AckForTu,
                _ => ServerRequestOutcome::Ack,
            };
        }
        match self.state {
            Proceeding => match (&self.last_response, self.trying.take()) {
                (Some(last), _) => self.out.resend(last.clone()),
                // The client is retransmitting: say 100 now rather than
                // waiting out the 200 ms.
                (None, Some(trying)) => {
                    self.trying_at_ms = None;
                    self.out.send(trying.clone());
                    self.last_response = Some(trying);
                }
                (None, None) => {}
            },
            Completed => {
                if let Some(last) = &self.last_response {
                    self.out.resend(last.clone());
                }
            }
            // Trying: nothing to re-send yet. Accepted: the TU retransmits
            // its 2xx on its own schedule (RFC 6026 §7.1). Confirmed: done.
            Trying | Accepted | Confirmed | Terminated => {}
        }
        ServerRequestOutcome::Retransmission
    }

    /// The TU sends `response` (status 100-699, built from the request so
    /// its top Via and CSeq match).
    ///
    /// Allowed: 1xx before any final response; one final response; and
    /// for INVITE, further 2xx in Accepted (the TU's 2xx retransmissions,
    /// or a proxy forwarding other forks' 2xx). Anything else is
    /// [`TxnError::NotAllowed`]; more than 16 unsent messages is
    /// [`TxnError::QueueFull`].
    pub fn respond(&mut self, now_ms: u64, response: Response) -> Result<(), TxnError> {
        use ServerState::*;
        let status = response.status;
        if !(100..=699).contains(&status) {
            return Err(TxnError::BadStatus(status));
        }
        let belongs = match &self.rfc2543_via {
            None => TransactionKey::for_response(&response).as_ref() == Some(&self.key),
            Some(via) => {
                response.headers.top_via().map(ToString::to_string).as_ref() == Some(via)
                    && response.headers.cseq().is_some_and(|c| c.method == self.key.method)
            }
        };
        if !belongs {
            return Err(TxnError::WrongTransaction);
        }
        let allowed = matches!(
            (self.invite, self.state, status),
            (true, Proceeding, _) | (true, Accepted, 200..=299) | (false, Trying | Proceeding, _)
        );
        if !allowed {
            return Err(TxnError::NotAllowed { state: self.state, status });
        }
        if !self.out.has_room() {
            return Err(TxnError::QueueFull);
        }
        self.trying = None;
        self.trying_at_ms = None;
        self.out.send(response.clone());
        self.last_response = Some(response);
        match (self.invite, status) {
            (_, 100..=199) => self.state = Proceeding,
            (true, 200..=299) => {
                if self.state != Accepted {
                    self.state = Accepted;
                    self.linger_until_ms = Some(now_ms.saturating_add(self.timers.timeout_ms()));
                }
            }
            (true, _) => {
                self.state = Completed;
                self.retransmit = (!self.reliable).then(|| Retransmit::start(now_ms, &self.timers));
                self.ack_timeout_at_ms = Some(now_ms.saturating_add(self.timers.timeout_ms()));
            }
            (false, _) => {
                self.state = Completed;
                self.linger(now_ms, self.timers.timer_j_ms(self.reliable));
            }
        }
        Ok(())
    }

    /// Runs the timers that are due at `now_ms`. Each timer fires at most
    /// once per call.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.is_terminated() {
            return;
        }
        if due(self.ack_timeout_at_ms, now_ms) {
            self.out.report(ServerEvent::AckTimeout);
            self.terminate();
            return;
        }
        if due(self.linger_until_ms, now_ms) {
            self.terminate();
            return;
        }
        if due(self.trying_at_ms, now_ms) {
            self.trying_at_ms = None;
            if let Some(trying) = self.trying.take() {
                self.out.send(trying.clone());
                self.last_response = Some(trying);
            }
        }
        if let Some(mut retransmit) = self.retransmit.filter(|r| r.at_ms <= now_ms) {
            if let Some(last) = &self.last_response {
                self.out.resend(last.clone());
            }
            // Timer G doubles up to T2.
            retransmit.rearm(now_ms, retransmit.interval_ms.saturating_mul(2).min(self.timers.t2()));
            self.retransmit = Some(retransmit);
        }
    }

    /// Sending a response failed (§17.2.4). Reports
    /// [`ServerEvent::TransportError`]. In Completed (INVITE or not) and in
    /// non-INVITE Proceeding the transaction then terminates; in INVITE
    /// Proceeding and Accepted it stays (RFC 6026: the TU may still answer,
    /// and Timer L ends Accepted). In Trying and Confirmed nothing was being
    /// sent, so the report is ignored.
    pub fn handle_transport_error(&mut self, _now_ms: u64) {
        use ServerState::*;
        match (self.invite, self.state) {
            (_, Trying | Confirmed | Terminated) => {}
            (true, Proceeding | Accepted) => self.out.report_redundant(ServerEvent::TransportError),
            (_, Proceeding | Completed | Accepted) => {
                self.out.report(ServerEvent::TransportError);
                self.terminate();
            }
        }
    }

    /// The next response to send.
    pub fn poll_transmit(&mut self) -> Option<Response> {
        self.out.next_transmit()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.out.next_event()
    }

    /// When to call [`ServerTransaction::handle_timeout`] next; `None`
    /// when no timer runs (waiting for the TU, or Terminated).
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.is_terminated() {
            return None;
        }
        earliest(&[
            self.trying_at_ms,
            self.retransmit.map(|r| r.at_ms),
            self.ack_timeout_at_ms,
            self.linger_until_ms,
        ])
    }

    /// Arms Timer I or J, or terminates now if it is zero (reliable transports).
    fn linger(&mut self, now_ms: u64, linger_ms: u64) {
        if linger_ms == 0 {
            self.terminate();
        } else {
            self.linger_until_ms = Some(now_ms.saturating_add(linger_ms));
        }
    }

    fn terminate(&mut self) {
        self.state = ServerState::Terminated;
        self.trying = None;
        self.trying_at_ms = None;
        self.retransmit = None;
        self.ack_timeout_at_ms = None;
        self.linger_until_ms = None;
        self.out.report(ServerEvent::Terminated);
    }
}
