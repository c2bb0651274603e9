//! Where a request goes: checks every proxy makes (RFC 3261 §16.3), Route
//! processing with flow tokens, requests for the super-node itself, and the
//! location lookup on the ring.
//!
//! Implementation notes:
//! - Route processing pops every route that names this super-node. A popped
//!   route with a flow token that names a flow other than the one the
//!   request came on is the target (RFC 5626 §5.3); one naming the arrival
//!   flow means "from that device, carry on" (an in-dialog request on its
//!   way out).
//! - A remaining route naming another super-node (`ring=`) is followed over
//!   a ring link. Routes to anything else are refused (403): a super-node
//!   is not an open relay to arbitrary hosts.
//! - Loop detection hashes the fields RFC 3261 §16.6 item 8 names into the
//!   first part of our branch; a request that carries one of our Vias with
//!   the same hash has come back to us (482).

use chord::{Id, OpError, OpOutcome};
use sha1::{Digest, Sha1};
use sip::{Aor, Header, Method, Request, Uri};

use super::binding::{Binding, CONTACT_PREFIX};
use super::fork::Planned;
use super::local::{Local, RING_PARAM};
use super::{Flow, SipCore, StoreCtx, StoreOp};

/// Methods this super-node answers itself or forwards.
pub(super) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, SUBSCRIBE, NOTIFY, REFER";

/// A location lookup waiting for the ring.
#[derive(Debug)]
pub(super) struct LocateCtx {
    pub server: u64,
    pub key: Id,
}

/// What Route processing decided.
enum Target {
    /// A local flow named by a flow token in one of our routes.
    Flow(Flow),
    /// Another super-node, named by the next route.
    Ring(String),
    /// No route left: the Request-URI decides.
    RequestUri,
}

impl SipCore {
    /// Routes a request that has a server transaction.
    pub(super) fn route_request(&mut self, now_ms: u64, server: u64) {
        let Some(entry) = self.txns.server(server) else { return };
        let mut req = entry.request.clone();
        let source = entry.source.clone();
        if let Err((status, reason, headers)) = self.proxy_checks(&req) {
            self.reply_with(now_ms, server, status, reason, headers);
            return;
        }
        let target = match self.process_routes(&mut req, &source) {
            Ok(t) => t,
            Err(status) => {
                self.reply(now_ms, server, status, None);
                return;
            }
        };
        match target {
            Target::Flow(flow) => {
                if !self.flow_alive(&flow) {
                    // RFC 5626 §5.3: the flow the token names has failed.
                    self.reply(now_ms, server, 430, Some("Flow Failed"));
                    return;
                }
                self.forward(now_ms, server, vec![Planned { request: req, dest: flow }], 0);
            }
            Target::Ring(addr) => self.forward(now_ms, server, vec![Planned { request: req, dest: Flow::Ring(addr) }], 0),
            Target::RequestUri => self.route_by_request_uri(now_ms, server, req),
        }
    }

    /// RFC 3261 §16.3 checks. Err carries the response to send.
    #[allow(clippy::type_complexity)]
    fn proxy_checks(&mut self, req: &Request) -> Result<(), (u16, Option<&'static str>, Vec<Header>)> {
        let to_us = self.local.is_addressed_to_us(&req.uri) && req.headers.routes().next().is_none();
        if req.headers.max_forwards() == Some(0) && !(to_us && matches!(req.method, Method::Options | Method::Register)) {
            return Err((483, None, Vec::new()));
        }
        if !matches!(req.uri, Uri::Sip(_)) {
            return Err((416, None, Vec::new()));
        }
        let unsupported: Vec<String> = req.headers.proxy_require().map(str::to_owned).collect();
        if !unsupported.is_empty() {
            return Err((420, None, vec![Header::Unsupported(unsupported)]));
        }
        let hash = loop_hash(req);
        let looped = req.headers.vias().any(|v| {
            self.is_our_via(v) && v.branch().is_some_and(|b| b.get(7..7 + hash.len()) == Some(hash.as_str()))
        });
        if looped {
            return Err((482, None, Vec::new()));
        }
        Ok(())
    }

    fn is_our_via(&self, via: &sip::Via) -> bool {
        let sent_by = via.sent_by();
        sent_by == self.local.ring_host_port
            || [self.local.udp, self.local.tcp, Some(self.local.ws)].into_iter().flatten().any(|a| sent_by == a.to_string())
    }

    /// Pops our routes and decides the target. Err is a response status.
    fn process_routes(&mut self, req: &mut Request, source: &Flow) -> Result<Target, u16> {
        loop {
            let Some(top) = req.headers.routes().next() else { return Ok(Target::RequestUri) };
            let Some(uri) = top.uri.as_sip() else { return Err(416) };
            if !self.local.is_ours(uri) {
                return match uri.params.value(RING_PARAM) {
                    Some(ring) => Ok(Target::Ring(Local::ring_addr_of(ring))),
                    None => Err(403),
                };
            }
            let token_flow = uri.user.as_deref().and_then(|t| self.tokens.check(t));
            req.headers.pop_route();
            if let Some(flow) = token_flow {
                if &flow != source {
                    return Ok(Target::Flow(flow));
                }
            }
        }
    }

    /// No route left: answer requests for the super-node itself, handle
    /// REGISTER, and look the Request-URI's AOR up on the ring.
    fn route_by_request_uri(&mut self, now_ms: u64, server: u64, req: Request) {
        if req.method == Method::Register {
            self.register(now_ms, server);
            return;
        }
        if self.local.is_addressed_to_us(&req.uri) {
            match req.method {
                Method::Options => {
                    let mut headers = typed("Allow", ALLOW);
                    headers.extend(typed("Accept", "application/sdp"));
                    self.reply_with(now_ms, server, 200, None, headers);
                }
                _ => {
                    self.reply_with(now_ms, server, 405, None, typed("Allow", "OPTIONS, REGISTER"));
                }
            }
            return;
        }
        let aor = match Aor::from_uri(&req.uri) {
            Ok(a) => a,
            Err(e) => {
                self.reply(now_ms, server, e.status_code(), None);
                return;
            }
        };
        let key = Id::from_bytes(aor.key());
        let op = StoreOp::Get { key, prefix: CONTACT_PREFIX.to_vec() };
        if self.start_store(op, StoreCtx::Locate(LocateCtx { server, key })).is_none() {
            self.reply(now_ms, server, 503, Some("Location service busy"));
        }
    }

    /// The contacts of the target AOR arrived from the ring.
    pub(super) fn locate_done(&mut self, now_ms: u64, ctx: LocateCtx, result: Result<OpOutcome, OpError>) {
        let Some(entry) = self.txns.server(ctx.server) else { return };
        if entry.answered {
            return; // cancelled meanwhile
        }
        let req = entry.request.clone();
        let values = match result {
            Ok(OpOutcome::Got { values, .. }) => values,
            Ok(other) => {
                tracing::error!("location lookup got {other:?}");
                self.reply(now_ms, ctx.server, 500, None);
                return;
            }
            Err(e) => {
                tracing::warn!("location lookup for {} failed: {e}", req.uri);
                self.reply(now_ms, ctx.server, 503, Some("Location service unavailable"));
                return;
            }
        };
        let mut planned = Vec::new();
        let mut unreachable = 0;
        for v in values {
            let binding = match Binding::decode(&v.value) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!("skipping unreadable binding: {e}");
                    continue;
                }
            };
            match self.plan_branch(&req, &binding) {
                Some(p) => planned.push(p),
                None => unreachable += 1,
            }
        }
        if planned.is_empty() && unreachable == 0 {
            if req.method == Method::Message {
                self.mailbox_store(now_ms, ctx.server, ctx.key);
            } else {
                self.reply(now_ms, ctx.server, 404, None);
            }
            return;
        }
        self.forward(now_ms, ctx.server, planned, unreachable);
    }

    /// The request for one contact: Request-URI retargeted to the contact,
    /// routed through the super-node the device is attached to.
    pub(super) fn plan_branch(&self, req: &Request, binding: &Binding) -> Option<Planned> {
        let mut contact: Uri = binding.contact.parse().ok()?;
        // A contact may carry escaped headers (RFC 4475 regescrt) and keeps
        // them in the binding, but a Request-URI must not (RFC 3261 §19.1.5;
        // RFC 4475 escruri): drop them, never turn them into headers.
        if let Uri::Sip(u) = &mut contact {
            u.headers.clear();
        }
        let path: sip::NameAddr = binding.path.parse().ok()?;
        let path_uri = path.uri.as_sip()?;
        let mut request = req.clone();
        request.uri = contact;
        if self.local.is_ours(path_uri) {
            let flow = self.tokens.check(path_uri.user.as_deref()?)?;
            if !self.flow_alive(&flow) {
                return None;
            }
            Some(Planned { request, dest: flow })
        } else {
            let ring = path_uri.params.value(RING_PARAM)?;
            request.headers.insert(route_insert_index(&request), Header::Route(Box::new(path.clone())));
            Some(Planned { request, dest: Flow::Ring(Local::ring_addr_of(ring)) })
        }
    }

    /// An ACK for a 2xx: forwarded statelessly along its route (RFC 3261
    /// §16.11); nothing answers it.
    pub(super) fn forward_ack(&mut self, _now_ms: u64, source: Flow, mut req: Request) {
        if req.headers.max_forwards() == Some(0) {
            return;
        }
        let dest = match self.process_routes(&mut req, &source) {
            Ok(Target::Flow(f)) => f,
            Ok(Target::Ring(a)) => Flow::Ring(a),
            Ok(Target::RequestUri) | Err(_) => {
                tracing::debug!("ACK with no route to follow dropped");
                return;
            }
        };
        let branch = self.new_branch(&loop_hash(&req));
        if req.decrement_max_forwards().is_err() {
            return;
        }
        let via = self.local.via(&dest, self.conn_kind(&dest), &branch);
        req.headers.prepend_via(via);
        self.stats.requests_forwarded += 1;
        self.send(dest, req.to_bytes());
    }

    /// A branch id whose first part is `hash` (see [`loop_hash`]).
    pub(super) fn new_branch(&mut self, hash: &str) -> String {
        format!("{}{}.{}", sip::MAGIC_COOKIE, hash, self.rng.token(12))
    }
}

/// Headers parsed from constant text (typed where the crate types them).
fn typed(name: &str, value: &str) -> Vec<Header> {
    // Our own constants parse; an empty list would only drop the header.
    Header::parse(name, value).unwrap_or_default()
}

/// Where a Route goes so it is the first Route header.
fn route_insert_index(req: &Request) -> usize {
    req.headers.position(|h| matches!(h, Header::Route(_))).unwrap_or(req.headers.len())
}

/// Hash of what identifies a request on its path (RFC 3261 §16.6 item 8),
/// 8 hex digits; taken on the request as received.
pub(super) fn loop_hash(req: &Request) -> String {
    let mut h = Sha1::new();
    h.update(req.uri.to_string().as_bytes());
    for part in [
        req.headers.from().and_then(|f| f.tag()),
        req.headers.to().and_then(|t| t.tag()),
        req.headers.call_id(),
    ] {
        h.update(part.unwrap_or("").as_bytes());
        h.update(b"\0");
    }
    h.update(req.headers.cseq().map(|c| c.seq).unwrap_or(0).to_le_bytes());
    for r in req.headers.routes() {
        h.update(r.to_string().as_bytes());
    }
    h.finalize()[..4].iter().map(|b| format!("{b:02x}")).collect()
}
