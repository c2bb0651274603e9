//! MESSAGEs for an AOR with no binding are kept on the ring under the AOR's
//! key (sub-keys `m:`) and delivered when it next registers (DESIGN.md).
//!
//! Implementation notes:
//! - The sub-key is a hash of the sender's From URI, Call-ID and CSeq, so a
//!   retransmitted or re-sent MESSAGE is stored once (de-duplicated by
//!   sender sequence), on every replica like any value.
//! - The stored request has its Vias and Routes stripped; on delivery it is
//!   sent like a fresh request to each contact, and deleted from the ring on
//!   the first 2xx. A failed delivery leaves it for the next registration.
//! - The queue is bounded per AOR (486 past it) and every item expires.

use chord::{Id, OpError, OpOutcome};
use sha1::{Digest, Sha1};
use sip::{Header, Request};

use super::binding::{Binding, CONTACT_PREFIX};
use super::registrar::ring_failure;
use super::txns::ClientPurpose;
use super::{SipCore, StoreCtx, StoreOp};

/// Sub-key prefix of queued messages.
pub(super) const MESSAGE_PREFIX: &[u8] = b"m:";

/// What a mailbox store operation was for.
#[derive(Debug)]
pub(super) enum MailboxCtx {
    /// Counting the queue before storing the MESSAGE of `server`.
    Count { server: u64, key: Id },
    /// Storing it.
    Store { server: u64 },
    /// Reading contacts and queue after a registration.
    Deliver { key: Id },
    /// Deleting a delivered message.
    Delete,
}

/// A queued message being delivered.
pub(super) struct MailItem {
    key: Id,
    sub_key: Vec<u8>,
    version: u64,
    /// Delivery attempts still open (one per contact).
    open: usize,
    delivered: bool,
}

impl SipCore {
    /// Queues the MESSAGE of `server` for the AOR `key` (no binding now).
    pub(super) fn mailbox_store(&mut self, now_ms: u64, server: u64, key: Id) {
        let op = StoreOp::Get { key, prefix: MESSAGE_PREFIX.to_vec() };
        if self.start_store(op, StoreCtx::Mailbox(MailboxCtx::Count { server, key })).is_none() {
            self.reply(now_ms, server, 503, Some("Message store busy"));
        }
    }

    /// Looks for queued messages after `key` registered.
    pub(super) fn mailbox_deliver(&mut self, _now_ms: u64, key: Id) {
        let op = StoreOp::Get { key, prefix: Vec::new() };
        if self.start_store(op, StoreCtx::Mailbox(MailboxCtx::Deliver { key })).is_none() {
            tracing::warn!("queued messages not delivered now: store busy");
        }
    }

    pub(super) fn mailbox_store_done(&mut self, now_ms: u64, ctx: MailboxCtx, result: Result<OpOutcome, OpError>) {
        match ctx {
            MailboxCtx::Count { server, key } => self.mailbox_counted(now_ms, server, key, result),
            MailboxCtx::Store { server } => match result {
                Ok(_) => {
                    self.stats.messages_queued += 1;
                    self.reply(now_ms, server, 202, None);
                }
                Err(e) => {
                    let (status, reason) = ring_failure(&e);
                    self.reply(now_ms, server, status, Some(reason));
                }
            },
            MailboxCtx::Deliver { key } => match result {
                Ok(OpOutcome::Got { values, .. }) => self.mailbox_send(now_ms, key, values),
                Ok(_) => {}
                Err(e) => tracing::warn!("reading queued messages failed: {e}"),
            },
            MailboxCtx::Delete => {
                if let Err(e) = result {
                    tracing::warn!("deleting a delivered message failed (it may be delivered again): {e}");
                }
            }
        }
    }

    fn mailbox_counted(&mut self, now_ms: u64, server: u64, key: Id, result: Result<OpOutcome, OpError>) {
        let queued = match result {
            Ok(OpOutcome::Got { values, .. }) => values.len(),
            Ok(_) => 0,
            Err(e) => {
                let (status, reason) = ring_failure(&e);
                self.reply(now_ms, server, status, Some(reason));
                return;
            }
        };
        if queued >= self.cfg.max_queued_messages_per_aor {
            self.reply(now_ms, server, 486, Some("Mailbox Full"));
            return;
        }
        let Some(entry) = self.txns.server(server) else { return };
        let req = &entry.request;
        let mut h = Sha1::new();
        h.update(req.headers.from().map(|f| f.uri.to_string()).unwrap_or_default().as_bytes());
        h.update(b"\0");
        h.update(req.headers.call_id().unwrap_or("").as_bytes());
        h.update(req.headers.cseq().map_or(0, |c| c.seq).to_le_bytes());
        let mut sub_key = MESSAGE_PREFIX.to_vec();
        sub_key.extend(h.finalize().iter().flat_map(|b| format!("{b:02x}").into_bytes()));
        let mut stored = req.clone();
        stored.headers.retain(|h| !matches!(h, Header::Via(_) | Header::Route(_) | Header::MaxForwards(_)));
        let op = StoreOp::Put {
            key,
            sub_key,
            value: stored.to_bytes(),
            version: 1,
            ttl_ms: u64::from(self.cfg.queued_message_ttl_secs) * 1000,
        };
        if self.start_store(op, StoreCtx::Mailbox(MailboxCtx::Store { server })).is_none() {
            self.reply(now_ms, server, 503, Some("Message store busy"));
        }
    }

    /// Sends every queued message to every contact of the AOR.
    fn mailbox_send(&mut self, now_ms: u64, key: Id, values: Vec<chord::Value>) {
        let contacts: Vec<Binding> = values
            .iter()
            .filter(|v| v.sub_key.starts_with(CONTACT_PREFIX))
            .filter_map(|v| Binding::decode(&v.value).ok())
            .collect();
        for v in values.iter().filter(|v| v.sub_key.starts_with(MESSAGE_PREFIX)) {
            let Ok(sip::Message::Request(stored)) = sip::parse_datagram(&v.value, &self.cfg.limits) else {
                tracing::warn!("dropping an unreadable queued message");
                continue;
            };
            let planned: Vec<_> = contacts.iter().filter_map(|b| self.plan_branch(&stored, b)).collect();
            if planned.is_empty() {
                continue;
            }
            let item = self.next_id();
            self.mail.insert(item, MailItem { key, sub_key: v.sub_key.clone(), version: v.version, open: planned.len(), delivered: false });
            for p in planned {
                let mut req: Request = p.request;
                let branch = self.new_branch(&super::router::loop_hash(&req));
                let via = self.local.via(&p.dest, self.conn_kind(&p.dest), &branch);
                req.headers.prepend_via(via);
                req.headers.set(Header::MaxForwards(sip::DEFAULT_MAX_FORWARDS));
                if self.new_client(now_ms, req, p.dest, ClientPurpose::Mailbox { item }).is_none() {
                    self.mailbox_delivery_answer(now_ms, item, 500);
                }
            }
        }
    }

    /// A delivery attempt of mailbox item `item` ended with `status`.
    pub(super) fn mailbox_delivery_answer(&mut self, _now_ms: u64, item: u64, status: u16) {
        if status < 200 {
            return;
        }
        let Some(mail) = self.mail.get_mut(&item) else { return };
        mail.open = mail.open.saturating_sub(1);
        let delete = if (200..300).contains(&status) && !mail.delivered {
            mail.delivered = true;
            Some(StoreOp::Delete { key: mail.key, sub_key: mail.sub_key.clone(), version: mail.version + 1, ttl_ms: 3_600_000 })
        } else {
            None
        };
        if mail.open == 0 {
            self.mail.remove(&item);
        }
        if let Some(op) = delete {
            self.stats.messages_delivered_from_queue += 1;
            if self.start_store(op, StoreCtx::Mailbox(MailboxCtx::Delete)).is_none() {
                tracing::warn!("delivered message not deleted: store busy; it may be delivered again");
            }
        }
    }
}
