//! Stateful forwarding (RFC 3261 §16.6–16.10): one client transaction per
//! branch, provisional and 2xx responses passed upstream at once, the best
//! final response chosen when every branch has failed, CANCEL sent to
//! branches still ringing, and timer C on INVITEs.
//!
//! Implementation notes:
//! - Record-Route: for a dialog-creating request the super-node adds one
//!   route per local flow involved, each carrying that flow's token: the
//!   caller's flow (when the caller is attached here) first, the callee's
//!   (when attached here) on top. In-dialog requests then find their way
//!   with no dialog state here (see `router`).
//! - A CANCEL is only sent on a branch that has seen a provisional response
//!   (RFC 3261 §9.1); until then it is remembered and sent when one comes.
//! - Responses the caller cannot act on are mapped: 503 becomes 500
//!   (§16.7 item 6) and 430 Flow Failed, meaningful only to the edge proxy,
//!   becomes 480.

use sip::{Method, NameAddr, Request, Response};

use super::router::loop_hash;
use super::txns::ClientPurpose;
use super::{Flow, SipCore, TimerKey};

/// A request ready to go to one destination.
pub(super) struct Planned {
    pub request: Request,
    pub dest: Flow,
}

struct Branch {
    client: Option<u64>,
    /// The request as sent (for CANCEL).
    request: Request,
    dest: Flow,
    provisional: bool,
    done: bool,
    cancel_pending: bool,
    cancel_sent: bool,
}

/// One forwarded request and its branches.
pub(super) struct Fork {
    server: u64,
    method: Method,
    branches: Vec<Branch>,
    /// Best final non-2xx so far, with its rank (lower is better).
    best: Option<(u32, Response)>,
    got_2xx: bool,
    final_sent: bool,
    cancelled: bool,
}

/// Replaces the Vias of a response coming back from a branch with those of
/// the request as we received it (RFC 3261 §16.7 item 3 pops ours; the
/// rest must be what we forwarded).
fn restore_vias(resp: &mut Response, received: &Request) {
    let at = resp.headers.position(|h| matches!(h, sip::Header::Via(_))).unwrap_or(0);
    resp.headers.retain(|h| !matches!(h, sip::Header::Via(_)));
    for (i, via) in received.headers.vias().enumerate() {
        resp.headers.insert(at + i, sip::Header::from(via.clone()));
    }
}

/// Rank of a final response for §16.7's choice: 6xx first, then the lowest
/// class; within a class, answers that say something about the callee
/// (486, 603...) before generic failures of reachability.
fn rank(status: u16) -> u32 {
    let class = u32::from(status / 100);
    let weak = u32::from(matches!(status, 408 | 430 | 480 | 500 | 503));
    if class == 6 {
        0
    } else {
        class * 10 + weak
    }
}

impl SipCore {
    /// Forwards `planned` branches for the request of `server`.
    /// `unreachable` branches were dropped already (their flow is gone).
    pub(super) fn forward(&mut self, now_ms: u64, server: u64, planned: Vec<Planned>, unreachable: usize) {
        let Some(entry) = self.txns.server(server) else { return };
        if planned.is_empty() {
            let reason = if unreachable > 0 { Some("Temporarily Unavailable") } else { None };
            self.reply(now_ms, server, 480, reason);
            return;
        }
        let hash = loop_hash(&entry.request);
        let source = entry.source.clone();
        let method = entry.request.method.clone();
        let dialog_creating = matches!(method, Method::Invite | Method::Subscribe | Method::Refer)
            && entry.request.headers.to().and_then(|t| t.tag()).is_none();
        let fork_id = self.next_id();
        let mut branches = Vec::with_capacity(planned.len());
        for p in planned {
            let mut req = p.request;
            if req.decrement_max_forwards().is_err() {
                continue; // checked before routing; cannot happen
            }
            if dialog_creating {
                if let Some(rr) = self.record_route_for(&source) {
                    req.headers.prepend_record_route(rr);
                }
                if p.dest != source {
                    if let Some(rr) = self.record_route_for(&p.dest) {
                        req.headers.prepend_record_route(rr);
                    }
                }
            }
            let branch = self.new_branch(&hash);
            let via = self.local.via(&p.dest, self.conn_kind(&p.dest), &branch);
            req.headers.prepend_via(via);
            branches.push(Branch {
                client: None,
                request: req,
                dest: p.dest,
                provisional: false,
                done: false,
                cancel_pending: false,
                cancel_sent: false,
            });
        }
        let requests: Vec<(Request, Flow)> = branches.iter().map(|b| (b.request.clone(), b.dest.clone())).collect();
        self.forks.insert(
            fork_id,
            Fork { server, method: method.clone(), branches, best: None, got_2xx: false, final_sent: false, cancelled: false },
        );
        if let Some(e) = self.txns.server_mut(server) {
            e.fork = Some(fork_id);
        }
        if method == Method::Invite {
            self.timers.set(&TimerKey::ForkC(fork_id), Some(now_ms + self.cfg.timer_c_ms));
        }
        for (index, (req, dest)) in requests.into_iter().enumerate() {
            let client = self.new_client(now_ms, req, dest, ClientPurpose::Branch { fork: fork_id, index });
            match (client, self.forks.get_mut(&fork_id)) {
                (Some(c), Some(f)) => f.branches[index].client = Some(c),
                (None, Some(_)) => self.branch_failed(now_ms, fork_id, index, 500),
                _ => {}
            }
        }
    }

    /// A Record-Route naming `flow` through this super-node (none for ring
    /// flows: the super-node on the other side adds its own).
    fn record_route_for(&self, flow: &Flow) -> Option<NameAddr> {
        let token = self.tokens.mint(flow)?;
        Some(self.local.route_uri(&token, self.conn_kind(flow)))
    }

    /// A response on branch `index` of `fork_id`.
    pub(super) fn branch_response(&mut self, now_ms: u64, fork_id: u64, index: usize, mut resp: Response) {
        let status = resp.status;
        if status == 100 {
            // Not passed on (hop by hop, §16.7 item 4), but it is a
            // provisional response: a CANCEL may now be sent (§9.1).
            let pending_cancel = match self.forks.get_mut(&fork_id).and_then(|f| f.branches.get_mut(index)) {
                Some(b) => {
                    b.provisional = true;
                    b.cancel_pending && !b.cancel_sent
                }
                None => false,
            };
            if pending_cancel {
                self.cancel_branch(now_ms, fork_id, index);
            }
            return;
        }
        let Some(server) = self.forks.get(&fork_id).map(|f| f.server) else { return };
        // Our Via off, and the rest exactly as the request came: a callee
        // that mangled them must not stop the answer reaching the caller
        // (or leave our server transaction waiting for ever).
        match self.txns.server(server) {
            Some(entry) => restore_vias(&mut resp, &entry.request),
            None => {
                resp.headers.remove_top_via();
            }
        }
        let Some(fork) = self.forks.get_mut(&fork_id) else { return };
        let Some(branch) = fork.branches.get_mut(index) else { return };
        if status < 200 {
            branch.provisional = true;
            let cancel_now = branch.cancel_pending && !branch.cancel_sent;
            let forward = !fork.final_sent;
            let is_invite = fork.method == Method::Invite;
            if cancel_now {
                self.cancel_branch(now_ms, fork_id, index);
            }
            if forward {
                if is_invite && !self.forks.get(&fork_id).is_some_and(|f| f.cancelled) {
                    // §16.7 item 2: a provisional response resets timer C.
                    self.timers.set(&TimerKey::ForkC(fork_id), Some(now_ms + self.cfg.timer_c_ms));
                }
                self.respond(now_ms, server, resp);
            }
            return;
        }
        let was_done = branch.done;
        branch.done = true;
        if status < 300 {
            fork.got_2xx = true;
            // Every 2xx goes upstream (§16.7 item 5), even late ones.
            self.respond(now_ms, server, resp);
            self.cancel_all(now_ms, fork_id);
            self.maybe_finish(now_ms, fork_id);
            return;
        }
        if was_done {
            return; // timer C already gave up on this branch
        }
        let r = rank(status);
        if fork.best.as_ref().is_none_or(|(best, _)| r < *best) {
            fork.best = Some((r, resp));
        }
        if status >= 600 {
            self.cancel_all(now_ms, fork_id);
        }
        self.maybe_finish(now_ms, fork_id);
    }

    /// Branch `index` failed without a response (time-out, flow gone).
    pub(super) fn branch_failed(&mut self, now_ms: u64, fork_id: u64, index: usize, status: u16) {
        let Some(fork) = self.forks.get_mut(&fork_id) else { return };
        let Some(branch) = fork.branches.get_mut(index) else { return };
        if branch.done {
            return;
        }
        branch.done = true;
        let resp = Response::builder(&branch.request, status).build();
        let mut resp = resp;
        resp.headers.remove_top_via();
        let r = rank(status);
        if fork.best.as_ref().is_none_or(|(best, _)| r < *best) {
            fork.best = Some((r, resp));
        }
        self.maybe_finish(now_ms, fork_id);
    }

    /// Sends the best final response once every branch is done; drops the
    /// fork when nothing more can happen on it.
    fn maybe_finish(&mut self, now_ms: u64, fork_id: u64) {
        let Some(fork) = self.forks.get_mut(&fork_id) else { return };
        if !fork.branches.iter().all(|b| b.done) {
            return;
        }
        self.timers.set(&TimerKey::ForkC(fork_id), None);
        let server = fork.server;
        let answer = if !fork.got_2xx && !fork.final_sent { fork.best.take() } else { None };
        fork.final_sent = true;
        self.forks.remove(&fork_id);
        if let Some((_, mut resp)) = answer {
            match resp.status {
                503 => {
                    resp.status = 500;
                    resp.reason = sip::reason_phrase(500).to_owned();
                }
                430 => {
                    resp.status = 480;
                    resp.reason = sip::reason_phrase(480).to_owned();
                }
                _ => {}
            }
            // A response we synthesised for a dead branch has no To tag yet.
            if resp.headers.to().and_then(|t| t.tag()).is_none() {
                let tag = self.txns.server(server).map(|e| e.to_tag.clone()).unwrap_or_default();
                if let Some(to) = resp.headers.to_mut() {
                    to.set_tag(&tag);
                }
            }
            self.respond(now_ms, server, resp);
        }
    }

    /// Cancels every branch still pending.
    fn cancel_all(&mut self, now_ms: u64, fork_id: u64) {
        let Some(fork) = self.forks.get_mut(&fork_id) else { return };
        if fork.method != Method::Invite {
            return; // CANCEL only affects INVITE (§9)
        }
        let pending: Vec<usize> = fork.branches.iter().enumerate().filter(|(_, b)| !b.done).map(|(i, _)| i).collect();
        for index in pending {
            self.cancel_branch(now_ms, fork_id, index);
        }
    }

    fn cancel_branch(&mut self, now_ms: u64, fork_id: u64, index: usize) {
        let Some(fork) = self.forks.get_mut(&fork_id) else { return };
        let Some(branch) = fork.branches.get_mut(index) else { return };
        if branch.cancel_sent {
            return;
        }
        if !branch.provisional {
            branch.cancel_pending = true;
            return;
        }
        branch.cancel_sent = true;
        let cancel = sip::transaction::cancel_for(&branch.request);
        let (dest, client) = (branch.dest.clone(), branch.client);
        // The INVITE transaction now waits at most 64·T1 for the 487.
        if let Some(entry) = client.and_then(|c| self.txns.client_mut(c)) {
            entry.txn.handle_cancel(now_ms);
        }
        if let Some(c) = client {
            self.drive_client(now_ms, c);
        }
        self.new_client(now_ms, cancel, dest, ClientPurpose::Cancel);
    }

    /// Timer C fired: branches still pending are given up (408), and those
    /// that rang are cancelled.
    pub(super) fn fork_timer_c(&mut self, now_ms: u64, fork_id: u64) {
        let Some(fork) = self.forks.get(&fork_id) else { return };
        let pending: Vec<usize> = fork.branches.iter().enumerate().filter(|(_, b)| !b.done).map(|(i, _)| i).collect();
        tracing::info!("timer C expired on a fork with {} pending branches", pending.len());
        for index in pending {
            self.cancel_branch(now_ms, fork_id, index);
            self.branch_failed(now_ms, fork_id, index, 408);
        }
    }

    /// The upstream transaction ended (e.g. the caller's connection
    /// closed): nobody waits for the branches any more; cancel them.
    pub(super) fn fork_server_gone(&mut self, now_ms: u64, fork_id: u64) {
        if let Some(fork) = self.forks.get_mut(&fork_id) {
            fork.final_sent = true;
        }
        self.cancel_all(now_ms, fork_id);
    }

    /// A CANCEL arrived (it has its own server transaction `cancel`).
    pub(super) fn cancel_request(&mut self, now_ms: u64, cancel: u64) {
        let Some(entry) = self.txns.server(cancel) else { return };
        let mut invite_key = entry.key.clone();
        invite_key.method = Method::Invite;
        let Some(invite) = self.txns.server_by_key(&invite_key) else {
            self.reply(now_ms, cancel, 481, None);
            return;
        };
        self.reply(now_ms, cancel, 200, None);
        let (fork, answered) = match self.txns.server(invite) {
            Some(e) => (e.fork, e.answered),
            None => return,
        };
        match fork {
            Some(fork_id) => {
                if let Some(f) = self.forks.get_mut(&fork_id) {
                    f.cancelled = true;
                }
                self.cancel_all(now_ms, fork_id);
            }
            // Still looking the callee up: nothing to cancel downstream.
            None if !answered => self.reply(now_ms, invite, 487, None),
            None => {}
        }
    }
}
