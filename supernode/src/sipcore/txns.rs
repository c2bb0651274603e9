//! Server and client transactions of the proxy (RFC 3261 §17, from
//! `sip::transaction`), their flows and what they serve.
//!
//! Implementation notes:
//! - Transactions are numbered; an index by transaction key routes incoming
//!   messages to them. Each one's next deadline lives in the core's timer
//!   queue, re-armed after every input it gets.
//! - Every input to a transaction is followed by `drive_*`, which sends what
//!   it queued on its flow and acts on its events, so no output is left
//!   behind.

use std::collections::HashMap;

use sip::transaction::{ClientEvent, ClientTransaction, ServerEvent, ServerRequestOutcome, ServerTransaction};
use sip::{Request, Response, TransactionKey};

use super::{Flow, SipCore, TimerKey};

/// A request we answer.
pub(super) struct ServerEntry {
    pub txn: ServerTransaction,
    pub key: TransactionKey,
    /// Where the request came from; responses go back there.
    pub source: Flow,
    /// The request as received (after received/rport).
    pub request: Request,
    /// To tag of the responses we generate ourselves.
    pub to_tag: String,
    /// The fork forwarding it, if any.
    pub fork: Option<u64>,
    /// A final response has been sent.
    pub answered: bool,
}

/// What a client transaction is for.
#[derive(Debug, Clone, Copy)]
pub(super) enum ClientPurpose {
    /// Branch `index` of fork `fork`.
    Branch { fork: u64, index: usize },
    /// A CANCEL we sent; its answer changes nothing.
    Cancel,
    /// Delivery of a queued MESSAGE (mailbox item `item`).
    Mailbox { item: u64 },
}

/// A request we sent.
pub(super) struct ClientEntry {
    pub txn: ClientTransaction,
    pub key: TransactionKey,
    pub dest: Flow,
    pub purpose: ClientPurpose,
}

/// The transaction tables.
#[derive(Default)]
pub(super) struct Txns {
    servers: HashMap<u64, ServerEntry>,
    /// Server entries not yet `answered`.
    unanswered: usize,
    server_keys: HashMap<TransactionKey, u64>,
    clients: HashMap<u64, ClientEntry>,
    client_keys: HashMap<TransactionKey, u64>,
}

impl Txns {
    pub fn len(&self) -> usize {
        self.servers.len() + self.clients.len()
    }

    /// Requests still waiting for their final response.
    pub fn unanswered(&self) -> usize {
        self.unanswered
    }

    pub fn server_by_key(&self, key: &TransactionKey) -> Option<u64> {
        self.server_keys.get(key).copied()
    }

    pub fn client_by_key(&self, key: &TransactionKey) -> Option<u64> {
        self.client_keys.get(key).copied()
    }

    pub fn server(&self, id: u64) -> Option<&ServerEntry> {
        self.servers.get(&id)
    }

    pub fn server_mut(&mut self, id: u64) -> Option<&mut ServerEntry> {
        self.servers.get_mut(&id)
    }

    pub fn client_mut(&mut self, id: u64) -> Option<&mut ClientEntry> {
        self.clients.get_mut(&id)
    }

    fn remove_server(&mut self, id: u64) -> Option<ServerEntry> {
        let e = self.servers.remove(&id)?;
        self.server_keys.remove(&e.key);
        if !e.answered {
            self.unanswered -= 1;
        }
        Some(e)
    }

    /// Marks a server entry answered (a final response went out).
    fn mark_answered(&mut self, id: u64) {
        if let Some(e) = self.servers.get_mut(&id) {
            if !e.answered {
                e.answered = true;
                self.unanswered -= 1;
            }
        }
    }

    fn remove_client(&mut self, id: u64) -> Option<ClientEntry> {
        let e = self.clients.remove(&id)?;
        self.client_keys.remove(&e.key);
        Some(e)
    }

    /// Client transactions sending to `flow`.
    pub fn clients_to(&self, flow: &Flow) -> Vec<u64> {
        self.clients.iter().filter(|(_, c)| &c.dest == flow).map(|(id, _)| *id).collect()
    }

    /// Server transactions answering to `flow`.
    pub fn servers_from(&self, flow: &Flow) -> Vec<u64> {
        self.servers.iter().filter(|(_, s)| &s.source == flow).map(|(id, _)| *id).collect()
    }
}

impl SipCore {
    /// Opens a server transaction for `request`; None if the request cannot
    /// have one (then it has been answered statelessly).
    pub(super) fn new_server(&mut self, now_ms: u64, source: Flow, key: TransactionKey, request: Request) -> Option<u64> {
        let txn = match ServerTransaction::new(now_ms, &request, source.is_reliable(), self.cfg.timers) {
            Ok(t) => t,
            Err(e) => {
                tracing::info!("no transaction for {} from {source}: {e}", request.method);
                self.reply_stateless(source, &request, 400, None);
                return None;
            }
        };
        let id = self.next_id();
        let to_tag = self.rng.token(12);
        self.txns.server_keys.insert(key.clone(), id);
        self.txns.servers.insert(id, ServerEntry { txn, key, source, request, to_tag, fork: None, answered: false });
        self.txns.unanswered += 1;
        self.drive_server(now_ms, id);
        Some(id)
    }

    /// Sends a response we generate ourselves (with our To tag).
    pub(super) fn reply(&mut self, now_ms: u64, server: u64, status: u16, reason: Option<&str>) {
        self.reply_with(now_ms, server, status, reason, Vec::new());
    }

    /// Like `reply`, with extra headers.
    pub(super) fn reply_with(&mut self, now_ms: u64, server: u64, status: u16, reason: Option<&str>, headers: Vec<sip::Header>) {
        let Some(entry) = self.txns.server(server) else { return };
        let mut b = Response::builder(&entry.request, status);
        if status > 100 {
            b = b.to_tag(&entry.to_tag);
        }
        if let Some(r) = reason {
            b = b.reason(r);
        }
        if status == 503 {
            b = b.header(sip::Header::other("Retry-After", &self.cfg.retry_after_secs.to_string()).expect("digits are a valid header value"));
        }
        for h in headers {
            b = b.header(h);
        }
        let resp = b.build();
        self.respond(now_ms, server, resp);
    }

    /// Sends `resp` through the server transaction `server`.
    pub(super) fn respond(&mut self, now_ms: u64, server: u64, resp: Response) {
        let Some(entry) = self.txns.server_mut(server) else { return };
        let status = resp.status;
        let sent = match entry.txn.respond(now_ms, resp) {
            Ok(()) => Some(status),
            Err(e) => {
                tracing::debug!("response {status} not sent: {e}");
                // A final answer must go out, or the transaction (which has
                // no timer before its final response) would never end.
                if status >= 200 && !entry.answered {
                    let fallback = Response::builder(&entry.request, 500).to_tag(&entry.to_tag).build();
                    entry.txn.respond(now_ms, fallback).is_ok().then_some(500)
                } else {
                    None
                }
            }
        };
        if let Some(status) = sent {
            self.stats.count_response_out(status);
            if status >= 200 {
                self.txns.mark_answered(server);
            }
        }
        self.drive_server(now_ms, server);
    }

    /// A retransmission or ACK for an existing server transaction.
    pub(super) fn server_request(&mut self, now_ms: u64, server: u64, req: &Request) -> Option<ServerRequestOutcome> {
        let outcome = self.txns.server_mut(server).map(|entry| entry.txn.handle_request(now_ms, req));
        self.drive_server(now_ms, server);
        outcome
    }

    pub(super) fn server_timeout(&mut self, now_ms: u64, server: u64) {
        if let Some(entry) = self.txns.server_mut(server) {
            entry.txn.handle_timeout(now_ms);
        }
        self.drive_server(now_ms, server);
    }

    pub(super) fn drive_server(&mut self, now_ms: u64, server: u64) {
        let Some(entry) = self.txns.server_mut(server) else { return };
        let mut out = Vec::new();
        while let Some(resp) = entry.txn.poll_transmit() {
            out.push(resp.to_bytes());
        }
        let mut terminated = false;
        while let Some(ev) = entry.txn.poll_event() {
            match ev {
                ServerEvent::Terminated => terminated = true,
                ServerEvent::AckTimeout => tracing::debug!("no ACK for the final response to {}", entry.request.method),
                ServerEvent::TransportError => tracing::debug!("transport error answering {}", entry.request.method),
            }
        }
        let deadline = entry.txn.poll_timeout();
        let source = entry.source.clone();
        for bytes in out {
            self.send(source.clone(), bytes);
        }
        if terminated {
            self.timers.set(&TimerKey::Server(server), None);
            if let Some(e) = self.txns.remove_server(server) {
                if let Some(fork) = e.fork {
                    self.fork_server_gone(now_ms, fork);
                }
            }
        } else {
            self.timers.set(&TimerKey::Server(server), deadline);
        }
    }

    /// Sends `request` to `dest` in a new client transaction.
    pub(super) fn new_client(&mut self, now_ms: u64, request: Request, dest: Flow, purpose: ClientPurpose) -> Option<u64> {
        let key = TransactionKey::for_request(&request)?;
        let txn = match ClientTransaction::new(now_ms, request, dest.is_reliable(), self.cfg.timers) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("cannot send request to {dest}: {e}");
                return None;
            }
        };
        let id = self.next_id();
        self.txns.client_keys.insert(key.clone(), id);
        self.txns.clients.insert(id, ClientEntry { txn, key, dest, purpose });
        self.stats.requests_forwarded += 1;
        self.drive_client(now_ms, id);
        Some(id)
    }

    pub(super) fn client_response(&mut self, now_ms: u64, client: u64, resp: Response) {
        if let Some(entry) = self.txns.clients.get_mut(&client) {
            entry.txn.handle_response(now_ms, resp);
        }
        self.drive_client(now_ms, client);
    }

    pub(super) fn client_timeout(&mut self, now_ms: u64, client: u64) {
        if let Some(entry) = self.txns.clients.get_mut(&client) {
            entry.txn.handle_timeout(now_ms);
        }
        self.drive_client(now_ms, client);
    }

    pub(super) fn drive_client(&mut self, now_ms: u64, client: u64) {
        let Some(entry) = self.txns.clients.get_mut(&client) else { return };
        let mut out = Vec::new();
        while let Some(req) = entry.txn.poll_transmit() {
            out.push(req.to_bytes());
        }
        let mut events = Vec::new();
        while let Some(ev) = entry.txn.poll_event() {
            events.push(ev);
        }
        let deadline = entry.txn.poll_timeout();
        let (dest, purpose) = (entry.dest.clone(), entry.purpose);
        for bytes in out {
            self.send(dest.clone(), bytes);
        }
        let mut terminated = false;
        for ev in events {
            match ev {
                ClientEvent::Response(resp) => self.client_event_response(now_ms, purpose, resp),
                ClientEvent::Timeout => self.client_event_failed(now_ms, purpose, 408),
                ClientEvent::TransportError => self.client_event_failed(now_ms, purpose, 480),
                ClientEvent::Terminated => terminated = true,
            }
        }
        if terminated {
            self.timers.set(&TimerKey::Client(client), None);
            self.txns.remove_client(client);
        } else {
            self.timers.set(&TimerKey::Client(client), deadline);
        }
    }

    fn client_event_response(&mut self, now_ms: u64, purpose: ClientPurpose, resp: Response) {
        match purpose {
            ClientPurpose::Branch { fork, index } => self.branch_response(now_ms, fork, index, resp),
            ClientPurpose::Cancel => {}
            ClientPurpose::Mailbox { item } => self.mailbox_delivery_answer(now_ms, item, resp.status),
        }
    }

    fn client_event_failed(&mut self, now_ms: u64, purpose: ClientPurpose, status: u16) {
        match purpose {
            ClientPurpose::Branch { fork, index } => self.branch_failed(now_ms, fork, index, status),
            ClientPurpose::Cancel => {}
            ClientPurpose::Mailbox { item } => self.mailbox_delivery_answer(now_ms, item, status),
        }
    }

    /// `flow` is gone: requests waiting on it fail; responses to it have
    /// nowhere to go, so their transactions end.
    pub(super) fn flow_failed(&mut self, now_ms: u64, flow: &Flow) {
        for client in self.txns.clients_to(flow) {
            if let Some(entry) = self.txns.clients.get_mut(&client) {
                entry.txn.handle_transport_error(now_ms);
            }
            self.drive_client(now_ms, client);
        }
        if matches!(flow, Flow::Conn(_)) {
            for server in self.txns.servers_from(flow) {
                if let Some(entry) = self.txns.server_mut(server) {
                    entry.txn.handle_transport_error(now_ms);
                }
                self.drive_server(now_ms, server);
            }
        }
    }
}
