//! Client transactions: INVITE (RFC 3261 §17.1.1 with RFC 6026's Accepted
//! state) and non-INVITE (§17.1.2).

use super::build::ack_for_non_2xx;
use super::outbox::Outbox;
use super::timers::{due, earliest, Retransmit, Timers};
use super::TxnError;
use crate::message::{Request, Response};
use crate::method::Method;
use crate::transaction_key::TransactionKey;

/// Where a [`ClientTransaction`] is. INVITE transactions use Calling,
/// Proceeding, Completed, Accepted, Terminated; non-INVITE ones Trying,
/// Proceeding, Completed, Terminated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// INVITE sent, no response yet (Timers A and B run).
    Calling,
    /// Non-INVITE request sent, no response yet (Timers E and F run).
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived (for INVITE: 300-699, ACK sent); absorbing
    /// its retransmissions until Timer D (INVITE) or K (non-INVITE).
    Completed,
    /// INVITE only: a 2xx arrived (RFC 6026); further 2xx are passed up
    /// until Timer M.
    Accepted,
    /// Done: drop the transaction once its queues are drained.
    Terminated,
}

/// What a [`ClientTransaction`] tells its TU, from
/// [`ClientTransaction::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// A response the TU must see: every provisional, the first final
    /// response, and (INVITE, Accepted) every further 2xx, which may come
    /// from other forks and each need their own ACK from the TU. Final
    /// response retransmissions in Completed are absorbed (the INVITE
    /// transaction re-sends its ACK for them).
    Response(Response),
    /// Timer B or F fired (or, after [`ClientTransaction::handle_cancel`],
    /// the INVITE got no final response within 64·T1): treat it as a 408.
    Timeout,
    /// The driver reported that sending failed; treat it as a 503 (§8.1.3.1).
    TransportError,
    /// The transaction is over; nothing follows this event.
    Terminated,
}

/// An RFC 3261 client transaction: sends one request, retransmits it on
/// unreliable transports, matches its responses and (INVITE) ACKs non-2xx
/// final responses. Sans-IO: time comes in as `now_ms` (monotonic ms,
/// any origin).
///
/// # Driving it
///
/// 1. [`ClientTransaction::new`] with the request, which must already have
///    its own top Via with a fresh RFC 3261 branch.
/// 2. After `new` and after every input, drain [`poll_transmit`] (send each
///    request to the next hop) and then [`poll_event`] (hand each event to
///    the TU), then ask [`poll_timeout`] when to call
///    [`handle_timeout`] next (`None`: no timer running).
/// 3. Inputs: [`handle_response`] for every response whose
///    [`TransactionKey::for_response`] equals [`key`]; [`handle_timeout`]
///    at or after the deadline; [`handle_transport_error`] when a send failed;
///    [`handle_cancel`] after sending a CANCEL for this INVITE.
/// 4. [`ClientEvent::Terminated`] is always the last event: drop the
///    transaction then (it ignores any further input).
///
/// An INVITE in Proceeding has no timer of its own (RFC 3261 leaves it to
/// the TU): a UA gives up with CANCEL plus [`handle_cancel`]; a proxy does
/// the same when its Timer C fires (§16.8).
///
/// [`poll_transmit`]: ClientTransaction::poll_transmit
/// [`poll_event`]: ClientTransaction::poll_event
/// [`poll_timeout`]: ClientTransaction::poll_timeout
/// [`handle_timeout`]: ClientTransaction::handle_timeout
/// [`handle_response`]: ClientTransaction::handle_response
/// [`handle_transport_error`]: ClientTransaction::handle_transport_error
/// [`handle_cancel`]: ClientTransaction::handle_cancel
/// [`key`]: ClientTransaction::key
#[derive(Clone, Debug)]
pub struct ClientTransaction {
    request: Request,
    key: TransactionKey,
    invite: bool,
    reliable: bool,
    timers: Timers,
    state: ClientState,
    /// Timer A or E.
    retransmit: Option<Retransmit>,
    /// Timer B or F, or the §9.1 guard after a CANCEL: reports Timeout.
    timeout_at_ms: Option<u64>,
    /// The §9.1 guard, kept apart so it still applies after Calling.
    cancel_guard_ms: Option<u64>,
    /// Timer D, K or M: ends the transaction quietly.
    linger_until_ms: Option<u64>,
    /// The ACK for the non-2xx final response, re-sent for its retransmissions.
    ack: Option<Request>,
    out: Outbox<Request, ClientEvent>,
}

impl ClientTransaction {
    /// Starts a transaction for `request` and queues its first send.
    /// `reliable` is true for TCP, TLS, SCTP and WebSocket (no
    /// retransmissions; Timers D and K are zero).
    ///
    /// Fails for ACK (never a transaction, §17) and for a request whose
    /// top Via has no RFC 3261 branch (the caller generates it, see
    /// [`crate::rfc3261_branch`]).
    pub fn new(now_ms: u64, request: Request, reliable: bool, timers: Timers) -> Result<Self, TxnError> {
        if request.method == Method::Ack {
            return Err(TxnError::AckIsNotATransaction);
        }
        // RFC 3261 §8.1.1.7: a client must send a cookie branch; the RFC 2543
        // fallback key is for matching what old peers send us.
        let key = TransactionKey::for_request(&request).filter(TransactionKey::is_rfc3261).ok_or(TxnError::NoRfc3261Branch)?;
        let invite = request.method == Method::Invite;
        let mut out = Outbox::default();
        out.send(request.clone());
        Ok(ClientTransaction {
            request,
            key,
            invite,
            reliable,
            timers,
            state: if invite { ClientState::Calling } else { ClientState::Trying },
            retransmit: (!reliable).then(|| Retransmit::start(now_ms, &timers)),
            timeout_at_ms: Some(now_ms.saturating_add(timers.timeout_ms())),
            cancel_guard_ms: None,
            linger_until_ms: None,
            ack: None,
            out,
        })
    }

    /// The key responses are matched by.
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }

    /// The request as first sent.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// True once Terminated.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientState::Terminated
    }

    /// A response from the transport. Responses that do not match
    /// [`ClientTransaction::key`] are ignored.
    pub fn handle_response(&mut self, now_ms: u64, response: Response) {
        if self.is_terminated() || TransactionKey::for_response(&response).as_ref() != Some(&self.key) {
            return;
        }
        if self.invite {
            self.invite_response(now_ms, response);
        } else {
            self.non_invite_response(now_ms, response);
        }
    }

    fn invite_response(&mut self, now_ms: u64, response: Response) {
        use ClientState::*;
        match (self.state, response.status) {
            (Calling | Proceeding, 100..=199) => {
                // §17.1.1.2: no retransmissions in Proceeding, and Timer B
                // only guards Calling.
                self.state = Proceeding;
                self.retransmit = None;
                self.timeout_at_ms = self.cancel_guard_ms;
                self.out.report_redundant(ClientEvent::Response(response));
            }
            (Calling | Proceeding, 200..=299) => {
                self.state = Accepted;
                self.stop_timers();
                self.linger_until_ms = Some(now_ms.saturating_add(self.timers.timeout_ms()));
                self.out.report(ClientEvent::Response(response));
            }
            (Calling | Proceeding, _) => {
                let ack = ack_for_non_2xx(&self.request, &response);
                self.out.send(ack.clone());
                self.ack = Some(ack);
                self.out.report(ClientEvent::Response(response));
                self.state = Completed;
                self.stop_timers();
                self.linger(now_ms, self.timers.timer_d_ms(self.reliable));
            }
            (Completed, 300..) => {
                if let Some(ack) = &self.ack {
                    self.out.resend(ack.clone());
                }
            }
            (Accepted, 200..=299) => self.out.report_redundant(ClientEvent::Response(response)),
            _ => {}
        }
    }

    fn non_invite_response(&mut self, now_ms: u64, response: Response) {
        use ClientState::*;
        match (self.state, response.status) {
            (Trying | Proceeding, 100..=199) => {
                // Timer E keeps running; it re-arms at T2 from now on.
                self.state = Proceeding;
                self.out.report_redundant(ClientEvent::Response(response));
            }
            (Trying | Proceeding, _) => {
                self.out.report(ClientEvent::Response(response));
                self.state = Completed;
                self.stop_timers();
                self.linger(now_ms, self.timers.timer_i_k_ms(self.reliable));
            }
            _ => {}
        }
    }

    /// Runs the timers that are due at `now_ms`. Each timer fires at most
    /// once per call.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.is_terminated() {
            return;
        }
        if due(self.timeout_at_ms, now_ms) {
            self.out.report(ClientEvent::Timeout);
            self.terminate();
            return;
        }
        if due(self.linger_until_ms, now_ms) {
            self.terminate();
            return;
        }
        let Some(mut retransmit) = self.retransmit else { return };
        if retransmit.at_ms > now_ms {
            return;
        }
        let next_ms = match self.state {
            // Timer A doubles without a cap; B ends it.
            ClientState::Calling => retransmit.interval_ms.saturating_mul(2),
            ClientState::Trying => retransmit.interval_ms.saturating_mul(2).min(self.timers.t2()),
            ClientState::Proceeding if !self.invite => self.timers.t2(),
            _ => {
                self.retransmit = None;
                return;
            }
        };
        self.out.resend(self.request.clone());
        retransmit.rearm(now_ms, next_ms);
        self.retransmit = Some(retransmit);
    }

    /// Sending failed (§17.1.1.2, §17.1.2.2): reports
    /// [`ClientEvent::TransportError`] and terminates.
    pub fn handle_transport_error(&mut self, _now_ms: u64) {
        if self.is_terminated() {
            return;
        }
        self.out.report(ClientEvent::TransportError);
        self.terminate();
    }

    /// The TU has sent a CANCEL for this INVITE. If no final response
    /// arrives within 64·T1 from now, the transaction reports
    /// [`ClientEvent::Timeout`] and terminates (RFC 3261 §9.1). No effect
    /// on non-INVITE transactions or after a final response.
    pub fn handle_cancel(&mut self, now_ms: u64) {
        if !self.invite || !matches!(self.state, ClientState::Calling | ClientState::Proceeding) {
            return;
        }
        let guard = now_ms.saturating_add(self.timers.timeout_ms());
        let guard = self.cancel_guard_ms.map_or(guard, |earlier| earlier.min(guard));
        self.cancel_guard_ms = Some(guard);
        self.timeout_at_ms = earliest(&[self.timeout_at_ms, Some(guard)]);
    }

    /// The next request to send: the first send, retransmissions, and the
    /// ACK for a non-2xx final response.
    pub fn poll_transmit(&mut self) -> Option<Request> {
        self.out.next_transmit()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.out.next_event()
    }

    /// When to call [`ClientTransaction::handle_timeout`] next; `None`
    /// when no timer runs (Proceeding INVITE, or Terminated).
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.is_terminated() {
            return None;
        }
        earliest(&[self.retransmit.map(|r| r.at_ms), self.timeout_at_ms, self.linger_until_ms])
    }

    fn stop_timers(&mut self) {
        self.retransmit = None;
        self.timeout_at_ms = None;
        self.cancel_guard_ms = None;
    }

    /// Arms Timer D or K, or terminates now if it is zero (reliable transports).
    fn linger(&mut self, now_ms: u64, linger_ms: u64) {
        if linger_ms == 0 {
            self.terminate();
        } else {
            self.linger_until_ms = Some(now_ms.saturating_add(linger_ms));
        }
    }

    fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.stop_timers();
        self.linger_until_ms = None;
        self.out.report(ClientEvent::Terminated);
    }
}
