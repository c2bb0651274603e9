//! Client transactions of the user agent: which request a response answers
//! and when a request has gone unanswered too long.
//!
//! Implementation notes: over a WebSocket (reliable, RFC 7118) a client
//! transaction never retransmits (RFC 3261 §17.1.1.2 and §17.1.2.2 stop
//! Timers A and E on reliable transports), so what is left is matching by
//! branch and Timers B and F (64·T1). This module is the one place that
//! knows about transactions: when `sip::transaction` lands, its client
//! transactions replace `ClientTxns` behind the same three calls
//! (`start`, `handle_response`, `handle_timeout`).

use sip::{Method, Request, Response};

use super::event::{CallHandle, MessageHandle};

/// Timer B / F: 64 × T1 (500 ms).
pub const TRANSACTION_TIMEOUT_MS: u64 = 32_000;
/// Most transactions in flight; past it the oldest is forgotten (its
/// response, if any, is then ignored like a stray).
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
    /// A BYE of a call.
    Bye(CallHandle),
    /// A MESSAGE.
    Message(MessageHandle),
}

#[derive(Clone, Debug)]
struct ClientTxn {
    branch: String,
    method: Method,
    purpose: Purpose,
    /// Timer B or F; an INVITE clears it at the first provisional response
    /// (the proxy's timer C bounds the ringing, RFC 3261 §16.6).
    deadline_ms: Option<u64>,
}

/// The client transactions in flight.
#[derive(Clone, Debug, Default)]
pub struct ClientTxns {
    list: Vec<ClientTxn>,
}

/// A response matched to its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matched {
    /// What the request was for.
    pub purpose: Purpose,
    /// The transaction is over (final response).
    pub finished: bool,
}

impl ClientTxns {
    /// Tracks `request` (just sent, branch on its top Via).
    pub fn start(&mut self, now_ms: u64, request: &Request, purpose: Purpose) {
        let Some(branch) = request.headers.top_via().and_then(|v| v.branch()) else { return };
        if self.list.len() >= MAX_TRANSACTIONS {
            self.list.remove(0);
        }
        self.list.push(ClientTxn {
            branch: branch.to_owned(),
            method: request.method.clone(),
            purpose,
            deadline_ms: Some(now_ms + TRANSACTION_TIMEOUT_MS),
        });
    }

    /// Matches a response by top Via branch and CSeq method (§17.1.3).
    pub fn handle_response(&mut self, response: &Response) -> Option<Matched> {
        let branch = response.headers.top_via()?.branch()?;
        let method = &response.headers.cseq()?.method;
        let index = self.list.iter().position(|t| t.branch == branch && &t.method == method)?;
        let purpose = self.list[index].purpose;
        if response.status >= 200 {
            self.list.remove(index);
            return Some(Matched { purpose, finished: true });
        }
        if self.list[index].method == Method::Invite {
            self.list[index].deadline_ms = None;
        }
        Some(Matched { purpose, finished: false })
    }

    /// The earliest deadline.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.list.iter().filter_map(|t| t.deadline_ms).min()
    }

    /// Removes and returns the transactions whose deadline has passed.
    pub fn handle_timeout(&mut self, now_ms: u64) -> Vec<Purpose> {
        let mut expired = Vec::new();
        self.list.retain(|t| {
            let over = t.deadline_ms.is_some_and(|d| d <= now_ms);
            if over {
                expired.push(t.purpose);
            }
            !over
        });
        expired
    }

    /// Removes and returns every transaction (the connection dropped: no
    /// response can come back on it).
    pub fn drain(&mut self) -> Vec<Purpose> {
        self.list.drain(..).map(|t| t.purpose).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip::{NameAddr, Transport, Uri, Via};

    fn request(method: Method, branch: &str) -> Request {
        let uri = Uri::sip(Some("bob"), "example.org");
        Request::builder(method, uri.clone())
            .via(Via::new(Transport::Ws, "a.invalid", None, branch))
            .from(NameAddr::new(uri.clone()).with_tag("t"))
            .to(NameAddr::new(uri))
            .call_id("c")
            .cseq(1)
            .build()
    }

    #[test]
    fn matches_and_times_out() {
        let mut txns = ClientTxns::default();
        let invite = request(Method::Invite, "z9hG4bK1");
        let message = request(Method::Message, "z9hG4bK2");
        txns.start(0, &invite, Purpose::Invite(1));
        txns.start(10, &message, Purpose::Message(7));
        assert_eq!(txns.poll_timeout(), Some(TRANSACTION_TIMEOUT_MS));
        let trying = Response::builder(&invite, 100).build();
        assert_eq!(txns.handle_response(&trying), Some(Matched { purpose: Purpose::Invite(1), finished: false }));
        // The INVITE no longer times out; the MESSAGE does.
        assert_eq!(txns.poll_timeout(), Some(10 + TRANSACTION_TIMEOUT_MS));
        assert_eq!(txns.handle_timeout(10 + TRANSACTION_TIMEOUT_MS), vec![Purpose::Message(7)]);
        // A CANCEL shares the INVITE's branch but not its method.
        let cancel = request(Method::Cancel, "z9hG4bK1");
        assert_eq!(txns.handle_response(&Response::builder(&cancel, 200).build()), None);
        let ok = Response::builder(&invite, 200).build();
        assert_eq!(txns.handle_response(&ok), Some(Matched { purpose: Purpose::Invite(1), finished: true }));
        assert_eq!(txns.handle_response(&ok), None);
        txns.start(0, &message, Purpose::Register);
        assert_eq!(txns.drain(), vec![Purpose::Register]);
        assert_eq!(txns.poll_timeout(), None);
    }

    #[test]
    fn bounded() {
        let mut txns = ClientTxns::default();
        for i in 0..100 {
            txns.start(i, &request(Method::Message, &format!("z9hG4bK{i}")), Purpose::Message(i as u32));
        }
        assert_eq!(txns.list.len(), MAX_TRANSACTIONS);
    }
}
