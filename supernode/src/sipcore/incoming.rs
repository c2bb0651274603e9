//! The front door: every message from every flow comes through here.
//!
//! Implementation notes:
//! - A request that fails to parse still gets its answer (400, 413, 505,
//!   513) when its Via can be read; a malformed response is dropped. Both
//!   are counted.
//! - RFC 3581: the source address of a UDP request is written into its top
//!   Via (`received`, `rport`), and server transactions answer to the
//!   flow the request came from, so NATed phones get their responses.
//! - A retransmitted request goes to its transaction; an ACK matching an
//!   INVITE transaction is absorbed there; other ACKs (to 2xx) and every
//!   new request are routed.

use sip::transaction::ServerRequestOutcome;
use sip::{Message, Method, ParseError, Request, Response, TransactionKey};

use super::{Flow, SipCore};

impl SipCore {
    pub(super) fn incoming(&mut self, now_ms: u64, flow: Flow, parsed: Result<Message, ParseError>, raw: &[u8]) {
        if let Flow::Conn(id) = &flow {
            if !self.conns.contains_key(id) {
                return; // closed meanwhile
            }
        }
        let msg = match parsed {
            Ok(m) => m,
            Err(ParseError::Empty) => return, // CRLF keep-alive
            Err(e) => {
                self.stats.malformed_in += 1;
                tracing::info!("malformed SIP from {flow}: {e}");
                self.reply_unparsable(flow, raw, e.status_code());
                return;
            }
        };
        match msg {
            Message::Request(req) => {
                self.stats.requests_in += 1;
                self.incoming_request(now_ms, flow, req, raw);
            }
            Message::Response(resp) => {
                self.stats.responses_in += 1;
                self.incoming_response(now_ms, flow, resp);
            }
        }
    }

    /// Answers a request we could not parse (or that lacks mandatory
    /// headers) from its raw bytes, if they carry a Via to answer to.
    fn reply_unparsable(&mut self, flow: Flow, raw: &[u8], status: u16) {
        let tag = self.rng.token(12);
        if let Some(reply) = sip::reply::reply_to_unparsable(raw, status, sip::reason_phrase(status), &tag) {
            self.stats.count_response_out(status);
            self.send(flow, reply);
        }
    }

    fn incoming_request(&mut self, now_ms: u64, flow: Flow, mut req: Request, raw: &[u8]) {
        if let Err(e) = req.check_mandatory() {
            self.stats.malformed_in += 1;
            tracing::info!("request from {flow} refused: {e}");
            self.reply_unparsable(flow, raw, e.status_code());
            return;
        }
        if let Flow::Udp(addr) = &flow {
            if let Some(via) = req.headers.top_via_mut() {
                let ip = addr.ip().to_string();
                if via.host.trim_start_matches('[').trim_end_matches(']') != ip {
                    via.set_received(&ip);
                }
                if via.rport().is_some() {
                    via.set_received(&ip);
                    via.set_rport(addr.port());
                }
            }
        }
        // Every request has a key (RFC 2543 ones the §17.2.3 fallback), as
        // check_mandatory above guarantees a Via.
        let Some(key) = TransactionKey::for_request(&req) else {
            self.stats.malformed_in += 1;
            self.reply_unparsable(flow, raw, 400);
            return;
        };
        let known = self.txns.server_by_key(&key);
        // New work counts against the flow's rate; retransmissions do not.
        if known.is_none() && !self.rate.allow(now_ms, &flow) {
            self.stats.rate_limited += 1;
            if req.method != Method::Ack {
                self.reply_stateless(flow, &req, 503, Some("Too Many Requests From You"));
            }
            return;
        }
        if req.method == Method::Ack {
            // An ACK for a non-2xx ends at its INVITE transaction; one for a
            // 2xx (its own branch, or one the transaction hands back) goes
            // on along the dialog's route.
            let absorbed = match self.txns.server_by_key(&key) {
                Some(id) => self.server_request(now_ms, id, &req) == Some(ServerRequestOutcome::Ack),
                None => false,
            };
            if !absorbed {
                self.forward_ack(now_ms, flow, req);
            }
            return;
        }
        if let Some(id) = self.txns.server_by_key(&key) {
            self.stats.retransmissions_in += 1;
            self.server_request(now_ms, id, &req);
            return;
        }
        if self.txns.unanswered() >= self.cfg.max_pending_requests {
            self.stats.overload_503 += 1;
            self.reply_stateless(flow, &req, 503, Some("Too many requests in progress"));
            return;
        }
        if self.txns.len() >= self.cfg.max_transactions {
            self.stats.overload_503 += 1;
            self.reply_stateless(flow, &req, 503, Some("Too many transactions"));
            return;
        }
        let Some(server) = self.new_server(now_ms, flow.clone(), key, req) else { return };
        if self.txns.server(server).is_some_and(|s| s.request.method == Method::Invite) {
            // RFC 3261 §16.2: a stateful proxy answers 100 to stop upstream
            // INVITE retransmissions while it works.
            self.reply(now_ms, server, 100, None);
        }
        if self.txns.server(server).is_some_and(|s| s.request.method == Method::Cancel) {
            self.cancel_request(now_ms, server);
        } else {
            self.route_request(now_ms, server);
        }
    }

    fn incoming_response(&mut self, now_ms: u64, flow: Flow, resp: Response) {
        match TransactionKey::for_response(&resp).and_then(|k| self.txns.client_by_key(&k)) {
            Some(id) => self.client_response(now_ms, id, resp),
            None => {
                // RFC 6026 §8.4: a proxy drops stray responses.
                self.stats.stray_responses += 1;
                tracing::debug!("stray {} response from {flow} dropped", resp.status);
            }
        }
    }

    /// A response sent without a transaction (the request could not get
    /// one). `reason` overrides the standard phrase.
    pub(super) fn reply_stateless(&mut self, flow: Flow, req: &Request, status: u16, reason: Option<&str>) {
        let tag = self.rng.token(12);
        let mut b = Response::builder(req, status).to_tag(&tag);
        if let Some(r) = reason {
            b = b.reason(r);
        }
        if status == 503 {
            b = b.header(sip::Header::other("Retry-After", &self.cfg.retry_after_secs.to_string()).expect("digits are a valid header value"));
        }
        self.stats.count_response_out(status);
        self.send(flow, b.build().to_bytes());
    }
}
