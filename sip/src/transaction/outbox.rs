//! The bounded output queues of a transaction.
//!
//! Implementation notes: a remote party can make a transaction want to
//! send or report something as often as it likes (retransmitted requests
//! re-send the last response, retransmitted provisionals are passed up), so
//! a driver that falls behind must not let the queues grow. Outputs are of
//! two kinds: *essential* ones (the first send of a message, the first
//! final response, Timeout, Terminated ...) happen a bounded number of times
//! per transaction and are always queued; *redundant* ones (retransmissions,
//! repeated provisionals) are dropped when they would add nothing or when
//! the queue is full.

use std::collections::VecDeque;

/// Most redundant events kept waiting for `poll_event`.
pub(crate) const MAX_QUEUED_EVENTS: usize = 32;

/// Most messages kept waiting for `poll_transmit`; the TU's own sends fail
/// with [`super::TxnError::QueueFull`] past this.
pub(crate) const MAX_QUEUED_TRANSMITS: usize = 16;

#[derive(Clone, Debug)]
pub(crate) struct Outbox<M, E> {
    transmits: VecDeque<M>,
    events: VecDeque<E>,
}

impl<M, E> Default for Outbox<M, E> {
    fn default() -> Self {
        Outbox { transmits: VecDeque::new(), events: VecDeque::new() }
    }
}

impl<M, E> Outbox<M, E> {
    /// Queues a message that must go out (first send, ACK, TU response).
    pub(crate) fn send(&mut self, message: M) {
        self.transmits.push_back(message);
    }

    /// Queues a retransmission, unless something is already waiting: the
    /// waiting message reaches the peer just as well.
    pub(crate) fn resend(&mut self, message: M) {
        if self.transmits.is_empty() {
            self.transmits.push_back(message);
        }
    }

    /// True when the TU may queue one more message.
    pub(crate) fn has_room(&self) -> bool {
        self.transmits.len() < MAX_QUEUED_TRANSMITS
    }

    /// Queues an event that must reach the TU.
    pub(crate) fn report(&mut self, event: E) {
        self.events.push_back(event);
    }

    /// Queues an event the TU can do without, if there is room.
    pub(crate) fn report_redundant(&mut self, event: E) {
        if self.events.len() < MAX_QUEUED_EVENTS {
            self.events.push_back(event);
        }
    }

    pub(crate) fn next_transmit(&mut self) -> Option<M> {
        self.transmits.pop_front()
    }

    pub(crate) fn next_event(&mut self) -> Option<E> {
        self.events.pop_front()
    }
}
