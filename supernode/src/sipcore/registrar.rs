//! REGISTER (RFC 3261 §10.3) with the ring as the location store.
//!
//! Implementation notes:
//! - One read of the AOR's contacts, then one write per changed contact,
//!   then the 200 listing every contact with its remaining time. The
//!   registrar keeps nothing itself; any super-node can serve any AOR.
//! - Ring versions order writes: each write carries the stored version + 1.
//!   A write refused as stale (a concurrent REGISTER or a tombstone left by
//!   an earlier unregistration) is retried with the version the ring
//!   reports, at most `WRITE_RETRIES` times.
//! - Call-ID/CSeq ordering (§10.3 step 7): a REGISTER with the same Call-ID
//!   and a CSeq not above the stored one fails with 500, unless it is the
//!   same CSeq retransmitted, which server transactions already absorb.
//! - Bindings made over a connection are remembered so they can be removed
//!   when it closes.

use chord::{Id, OpError, OpOutcome};
use sip::{Aor, Contact, Header};

use super::binding::{Binding, CONTACT_PREFIX};
use super::{Flow, SipCore, StoreCtx, StoreOp, TrackedBinding};

/// Stale-version retries per contact write.
const WRITE_RETRIES: u32 = 3;
/// How long a removed contact's tombstone stays, in ms.
const TOMBSTONE_TTL_MS: u64 = 3_600_000;

/// A REGISTER in progress.
pub(super) struct Registration {
    server: u64,
    source: Flow,
    key: Id,
    call_id: String,
    cseq: u32,
    wildcard: bool,
    contacts: Vec<RegContact>,
    /// Contacts stored before this request (from the read).
    existing: Vec<Existing>,
    phase: Phase,
}

enum Phase {
    Reading,
    Writing { pending: Vec<Write>, failed: Option<(u16, &'static str)> },
}

struct RegContact {
    uri: String,
    sub_key: Vec<u8>,
    expires_secs: u32,
    instance: Option<String>,
    q: Option<String>,
}

struct Existing {
    sub_key: Vec<u8>,
    binding: Binding,
    version: u64,
    ttl_ms: u64,
}

/// A write in flight (kept to retry it).
struct Write {
    op_id: u64,
    op: StoreOp,
    retries: u32,
}

impl SipCore {
    /// A REGISTER whose routes are processed; `server` is its transaction.
    pub(super) fn register(&mut self, now_ms: u64, server: u64) {
        let Some(entry) = self.txns.server(server) else { return };
        let req = entry.request.clone();
        let source = entry.source.clone();
        if matches!(source, Flow::Ring(_)) {
            self.reply(now_ms, server, 403, Some("Register with your own super-node"));
            return;
        }
        let Some(to) = req.headers.to() else { return };
        // RFC 4475 unksm2: the To of a REGISTER must be a SIP AOR.
        let aor = match to.uri.as_sip().map(Aor::from_sip) {
            Some(a) => a,
            None => {
                self.reply(now_ms, server, 400, Some("To must be a SIP or SIPS address of record"));
                return;
            }
        };
        let header_expires = req.headers.expires();
        let mut wildcard = false;
        let mut contacts = Vec::new();
        let mut too_brief = false;
        for c in req.headers.contacts() {
            match c {
                Contact::Wildcard => wildcard = true,
                Contact::Addr(addr) => {
                    if !addr.uri.is_sip() {
                        self.reply(now_ms, server, 400, Some("Contact must be a SIP or SIPS URI"));
                        return;
                    }
                    let requested = c.expires_secs().or(header_expires).unwrap_or(self.cfg.default_expires_secs);
                    if requested != 0 && requested < self.cfg.min_expires_secs {
                        too_brief = true;
                    }
                    let uri = addr.uri.to_string();
                    let instance = c.sip_instance();
                    contacts.push(RegContact {
                        sub_key: Binding::sub_key(instance.as_deref(), &canonical_contact(&addr.uri)),
                        uri,
                        expires_secs: requested.min(self.cfg.max_expires_secs),
                        instance,
                        q: c.q().map(str::to_owned),
                    });
                }
            }
        }
        if wildcard && (!contacts.is_empty() || header_expires != Some(0)) {
            self.reply(now_ms, server, 400, Some("Contact: * needs Expires: 0 and no other contact"));
            return;
        }
        if too_brief {
            let min = Header::other("Min-Expires", &self.cfg.min_expires_secs.to_string()).expect("digits");
            self.reply_with(now_ms, server, 423, None, vec![min]);
            return;
        }
        if contacts.len() > self.cfg.max_bindings_per_aor {
            self.reply(now_ms, server, 503, Some("Too many contacts"));
            return;
        }
        let (call_id, cseq) = (req.headers.call_id().unwrap_or("").to_owned(), req.headers.cseq().map_or(0, |c| c.seq));
        let key = Id::from_bytes(aor.key());
        let reg_id = self.next_id();
        self.regs.insert(
            reg_id,
            Registration { server, source, key, call_id, cseq, wildcard, contacts, existing: Vec::new(), phase: Phase::Reading },
        );
        let op = StoreOp::Get { key, prefix: CONTACT_PREFIX.to_vec() };
        if self.start_store(op, StoreCtx::Register { reg: reg_id }).is_none() {
            self.regs.remove(&reg_id);
            self.reply(now_ms, server, 503, Some("Registrar busy"));
        }
        tracing::debug!("REGISTER for {aor}");
    }

    /// A store result for registration `reg_id` (its read or one write).
    pub(super) fn registrar_store_done(&mut self, now_ms: u64, reg_id: u64, op_id: u64, result: Result<OpOutcome, OpError>) {
        let Some(reg) = self.regs.get_mut(&reg_id) else { return };
        match &mut reg.phase {
            Phase::Reading => match result {
                Ok(OpOutcome::Got { values, .. }) => {
                    reg.existing = values
                        .into_iter()
                        .filter_map(|v| match Binding::decode(&v.value) {
                            Ok(binding) => Some(Existing { sub_key: v.sub_key, binding, version: v.version, ttl_ms: v.ttl_ms }),
                            Err(e) => {
                                tracing::warn!("ignoring unreadable binding: {e}");
                                None
                            }
                        })
                        .collect();
                    self.registrar_write(now_ms, reg_id);
                }
                Ok(other) => self.registrar_fail(now_ms, reg_id, 500, "unexpected ring answer", &format!("{other:?}")),
                Err(e) => {
                    let (status, reason) = ring_failure(&e);
                    self.registrar_fail(now_ms, reg_id, status, reason, &e.to_string());
                }
            },
            Phase::Writing { .. } => self.registrar_write_done(now_ms, reg_id, op_id, result),
        }
    }

    /// Works out the changes and starts the writes.
    fn registrar_write(&mut self, now_ms: u64, reg_id: u64) {
        let Some(reg) = self.regs.get(&reg_id) else { return };
        let mut ops = Vec::new();
        if reg.wildcard {
            for e in &reg.existing {
                if e.binding.call_id == reg.call_id && reg.cseq <= e.binding.cseq {
                    return self.registrar_fail(now_ms, reg_id, 500, "Out of order", "stale CSeq");
                }
                ops.push(delete(reg.key, &e.sub_key, e.version));
            }
        } else {
            let mut live = reg.existing.iter().filter(|e| !reg.contacts.iter().any(|c| c.sub_key == e.sub_key)).count();
            let (source, token_kind) = (reg.source.clone(), self.conn_kind(&reg.source));
            let Some(token) = self.tokens.mint(&source) else { return };
            let path = self.local.route_uri(&token, token_kind).to_string();
            for c in &reg.contacts {
                let old = reg.existing.iter().find(|e| e.sub_key == c.sub_key);
                if let Some(old) = old {
                    if old.binding.call_id == reg.call_id && reg.cseq <= old.binding.cseq {
                        return self.registrar_fail(now_ms, reg_id, 500, "Out of order", "stale CSeq");
                    }
                }
                let version = old.map_or(1, |o| o.version + 1);
                if c.expires_secs == 0 {
                    if old.is_some() {
                        ops.push(delete(reg.key, &c.sub_key, version - 1));
                    }
                    continue;
                }
                live += 1;
                let binding = Binding {
                    contact: c.uri.clone(),
                    path: path.clone(),
                    supernode: self.local.ring_addr.clone(),
                    instance: c.instance.clone(),
                    call_id: reg.call_id.clone(),
                    cseq: reg.cseq,
                    q: c.q.clone(),
                };
                ops.push(StoreOp::Put {
                    key: reg.key,
                    sub_key: c.sub_key.clone(),
                    value: binding.encode(),
                    version,
                    ttl_ms: u64::from(c.expires_secs) * 1000,
                });
            }
            if live > self.cfg.max_bindings_per_aor {
                return self.registrar_fail(now_ms, reg_id, 503, "Too many contacts", "binding limit");
            }
        }
        if ops.is_empty() {
            return self.registrar_ok(now_ms, reg_id);
        }
        let mut pending = Vec::new();
        for op in ops {
            let Some(op_id) = self.start_store(op.clone(), StoreCtx::Register { reg: reg_id }) else {
                return self.registrar_fail(now_ms, reg_id, 503, "Registrar busy", "store op limit");
            };
            pending.push(Write { op_id, op, retries: 0 });
        }
        if let Some(reg) = self.regs.get_mut(&reg_id) {
            reg.phase = Phase::Writing { pending, failed: None };
        }
    }

    fn registrar_write_done(&mut self, now_ms: u64, reg_id: u64, op_id: u64, result: Result<OpOutcome, OpError>) {
        let Some(reg) = self.regs.get_mut(&reg_id) else { return };
        let Phase::Writing { pending, failed } = &mut reg.phase else { return };
        let Some(pos) = pending.iter().position(|w| w.op_id == op_id) else { return };
        let mut write = pending.remove(pos);
        match result {
            Ok(_) => {
                let (key, sub_key, version, is_put) = match &write.op {
                    StoreOp::Put { key, sub_key, version, .. } => (*key, sub_key.clone(), *version, true),
                    StoreOp::Delete { key, sub_key, version, .. } => (*key, sub_key.clone(), *version, false),
                    StoreOp::Get { .. } => return,
                };
                let source = reg.source.clone();
                // Record the written version so the 200 lists it.
                if let Some(e) = reg.existing.iter_mut().find(|e| e.sub_key == sub_key) {
                    e.version = version;
                }
                if is_put {
                    self.track_binding(&source, TrackedBinding { key, sub_key, version });
                } else {
                    self.untrack_binding(&source, &key, &sub_key);
                }
            }
            Err(OpError::Stale { current_version }) if write.retries < WRITE_RETRIES => {
                write.retries += 1;
                match &mut write.op {
                    StoreOp::Put { version, .. } | StoreOp::Delete { version, .. } => *version = current_version + 1,
                    StoreOp::Get { .. } => {}
                }
                let op = write.op.clone();
                let source_ctx = StoreCtx::Register { reg: reg_id };
                let Some(new_id) = self.start_store(op, source_ctx) else {
                    return self.registrar_fail(now_ms, reg_id, 503, "Registrar busy", "store op limit");
                };
                write.op_id = new_id;
                if let Some(Registration { phase: Phase::Writing { pending, .. }, .. }) = self.regs.get_mut(&reg_id) {
                    pending.push(write);
                }
                return;
            }
            Err(e) => {
                if failed.is_none() {
                    *failed = Some(ring_failure(&e));
                }
                tracing::warn!("registration write failed: {e}");
            }
        }
        let Some(reg) = self.regs.get(&reg_id) else { return };
        let Phase::Writing { pending, failed } = &reg.phase else { return };
        if !pending.is_empty() {
            return;
        }
        match *failed {
            Some((status, reason)) => self.registrar_fail(now_ms, reg_id, status, reason, "write failed"),
            None => self.registrar_ok(now_ms, reg_id),
        }
    }

    /// 200 OK listing every current contact with its remaining time.
    fn registrar_ok(&mut self, now_ms: u64, reg_id: u64) {
        let Some(reg) = self.regs.remove(&reg_id) else { return };
        let mut headers = Vec::new();
        if !reg.wildcard {
            for e in reg.existing.iter().filter(|e| !reg.contacts.iter().any(|c| c.sub_key == e.sub_key)) {
                headers.extend(contact_header(&e.binding.contact, e.binding.instance.as_deref(), e.ttl_ms / 1000));
            }
            for c in reg.contacts.iter().filter(|c| c.expires_secs > 0) {
                headers.extend(contact_header(&c.uri, c.instance.as_deref(), u64::from(c.expires_secs)));
            }
        }
        self.stats.registrations += 1;
        // Messages are only queued while an AOR has no binding, so only a
        // contact that was not bound before can have any waiting.
        let registered = !reg.wildcard
            && reg.contacts.iter().any(|c| c.expires_secs > 0 && !reg.existing.iter().any(|e| e.sub_key == c.sub_key));
        self.reply_with(now_ms, reg.server, 200, None, headers);
        if registered {
            self.mailbox_deliver(now_ms, reg.key);
        }
    }

    fn registrar_fail(&mut self, now_ms: u64, reg_id: u64, status: u16, reason: &'static str, detail: &str) {
        let Some(reg) = self.regs.remove(&reg_id) else { return };
        tracing::info!("REGISTER failed with {status} {reason}: {detail}");
        self.reply(now_ms, reg.server, status, Some(reason));
    }
}

fn delete(key: Id, sub_key: &[u8], stored_version: u64) -> StoreOp {
    StoreOp::Delete { key, sub_key: sub_key.to_vec(), version: stored_version + 1, ttl_ms: TOMBSTONE_TTL_MS }
}

/// The response and reason for a failed ring operation.
pub(super) fn ring_failure(e: &OpError) -> (u16, &'static str) {
    match e {
        OpError::Busy => (503, "Location service busy"),
        OpError::KeyFull | OpError::StoreFull => (503, "Location store full"),
        OpError::TooLarge | OpError::BadTtl => (413, "Binding too large"),
        OpError::Stale { .. } => (500, "Concurrent registration"),
        OpError::Timeout | OpError::HopLimit | OpError::NotMember => (503, "Location service unavailable"),
    }
}

/// A Contact header `<uri>;expires=N[;+sip.instance="…"]` for a 200.
fn contact_header(uri: &str, instance: Option<&str>, expires_secs: u64) -> Option<Header> {
    let mut value = format!("<{uri}>;expires={expires_secs}");
    if let Some(i) = instance {
        value.push_str(&format!(";+sip.instance=\"{i}\""));
    }
    Header::parse("Contact", &value).ok().and_then(|h| h.into_iter().next())
}

/// The contact URI text used to recognise the same contact across
/// REGISTERs (RFC 3261 §19.1.4 equality).
fn canonical_contact(uri: &sip::Uri) -> String {
    match uri.as_sip() {
        Some(u) => sip::uri_key(u),
        None => uri.to_string(),
    }
}

