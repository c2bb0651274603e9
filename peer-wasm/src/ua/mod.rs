//! The SIP user agent, sans-IO: registration, calls, MESSAGE.
//!
//! [`UserAgent`] never touches the browser. The driver feeds it
//! `handle_*(now_ms, …)` inputs and commands (`register`, `start_call`,
//! `accept` …) and after each one drains the outputs, in this order:
//! [`UserAgent::poll_transmit`] until `None` (SIP text to send on the
//! WebSocket), [`UserAgent::poll_event`] until `None` (what to tell the page
//! and the media driver), then [`UserAgent::poll_timeout`] (when to call
//! [`UserAgent::handle_timeout`]). Time is milliseconds on any monotonic
//! clock; randomness comes from the seed given to [`UserAgent::new`].
//!
//! Implementation notes: the queues hold the outputs of one input only,
//! because the driver drains them after every call; that is what bounds
//! them. SDP is opaque here: the driver's RTCPeerConnection makes the offer
//! and answer, the agent carries them in INVITE and 200 and only reads the
//! `m=` lines to tell the page whether an offer has video.

mod call;
mod call_in;
mod call_out;
mod event;
mod local;
mod message;
mod register;
mod txn;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use sip::transaction::ClientEvent;
use sip::{Limits, Message, Method, Request, Response};

pub use event::{CallHandle, CallPhase, Event, MessageHandle, RegistrationState, UaError};
pub use sip::rng::Rng;

use call_in::Call;
use local::Local;
use register::Registration;
use txn::{Incoming, Purpose, Txns};

/// Most calls at once; one more INVITE gets 486 Busy Here.
pub const MAX_CALLS: usize = 8;

/// Settings of the user agent.
#[derive(Clone, Debug)]
pub struct Config {
    /// Registration lifetime asked for; the registrar may grant less, or
    /// ask for more with 423.
    pub register_expires_secs: u32,
    /// The WebSocket is `wss:` (Via transport WSS).
    pub secure: bool,
    /// The User-Agent header.
    pub user_agent: String,
    /// How long an answered incoming call waits for the ACK before hanging
    /// up (RFC 3261 §13.3.1.4: 64·T1).
    pub ack_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            register_expires_secs: 600,
            secure: false,
            user_agent: concat!("p2p-sip-peer/", env!("CARGO_PKG_VERSION")).to_owned(),
            ack_timeout_ms: 32_000,
        }
    }
}

/// The outputs waiting for the driver.
#[derive(Debug, Default)]
struct Io {
    connected: bool,
    transmits: VecDeque<String>,
    events: VecDeque<Event>,
}

impl Io {
    /// Queues a message for the WebSocket; dropped when there is none (the
    /// transaction then times out or is failed by `handle_disconnected`).
    fn send(&mut self, message: impl Into<Message>) {
        if self.connected {
            self.transmits.push_back(message.into().to_string());
        }
    }

    fn emit(&mut self, event: Event) {
        self.events.push_back(event);
    }
}

/// See the module doc.
#[derive(Debug)]
pub struct UserAgent {
    config: Config,
    local: Local,
    io: Io,
    txns: Txns,
    registration: Registration,
    calls: Vec<Call>,
    next_call: CallHandle,
    next_message: MessageHandle,
    limits: Limits,
}

impl UserAgent {
    /// A user agent; `seed` feeds every tag, branch and Call-ID it makes.
    pub fn new(config: Config, seed: u64) -> UserAgent {
        let mut rng = Rng::new(seed);
        let registration = Registration::new(&mut rng, config.register_expires_secs);
        let local = Local::new(rng, config.secure, &config.user_agent);
        UserAgent {
            config,
            local,
            io: Io::default(),
            txns: Txns::default(),
            registration,
            calls: Vec::new(),
            next_call: 1,
            next_message: 1,
            limits: Limits::default(),
        }
    }

    /// Our Contact URI (`sip:…@….invalid;transport=ws;ob`).
    pub fn contact_uri(&self) -> String {
        self.local.contact_uri().to_string()
    }

    /// The RFC 5626 instance id (`urn:uuid:…`).
    pub fn instance_id(&self) -> &str {
        self.local.instance()
    }

    /// The phase of a call, `None` once it ended (or never existed).
    pub fn call_phase(&self, call: CallHandle) -> Option<CallPhase> {
        self.calls.iter().find(|c| c.handle == call).map(|c| c.phase)
    }

    /// The WebSocket opened: registers again if a registration is wanted.
    pub fn handle_connected(&mut self, now_ms: u64) {
        self.io.connected = true;
        self.refresh_registration(now_ms);
        self.pump(now_ms);
    }

    /// The WebSocket closed. Requests in flight fail (their answers would
    /// come back on the lost connection); established calls keep their media
    /// and are ended by the page or by the peer's BYE.
    pub fn handle_disconnected(&mut self, now_ms: u64) {
        self.io.connected = false;
        self.io.transmits.clear();
        self.txns.handle_disconnected(now_ms);
        self.pump(now_ms);
        self.registration_lost();
    }

    /// A WebSocket frame arrived (one SIP message per frame, RFC 7118).
    /// Garbage is dropped: it has no Via to answer to.
    pub fn handle_frame(&mut self, now_ms: u64, frame: &[u8]) {
        match sip::parse_datagram(frame, &self.limits) {
            Ok(Message::Request(request)) => self.handle_request(now_ms, request),
            Ok(Message::Response(response)) => {
                if let Some(stray) = self.txns.handle_response(now_ms, response) {
                    // A 2xx to an INVITE whose transaction is gone.
                    self.handle_stray_response(now_ms, &stray);
                }
            }
            Err(_) => {}
        }
        self.pump(now_ms);
    }

    /// Time passed: transaction timers, registration refresh, missing ACKs.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.txns.handle_timeout(now_ms);
        if self.registration.refresh_due(now_ms) {
            self.refresh_registration(now_ms);
        }
        self.check_ack_timeouts(now_ms);
        self.pump(now_ms);
    }

    /// The next SIP message to send.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.io.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.io.events.pop_front()
    }

    /// When to call [`UserAgent::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<u64> {
        let calls = self.calls.iter().filter_map(Call::deadline_ms).min();
        [self.txns.poll_timeout(), self.registration.poll_timeout(), calls].into_iter().flatten().min()
    }

    /// Moves what the transactions want to send to the WebSocket queue and
    /// hands their events to the handlers, until neither has more (handlers
    /// may start transactions: a CANCEL, a BYE, a REGISTER retry).
    fn pump(&mut self, now_ms: u64) {
        loop {
            while let Some(message) = self.txns.poll_transmit() {
                self.io.send(message);
            }
            let Some((purpose, event)) = self.txns.poll_event() else { return };
            match event {
                ClientEvent::Response(response) => self.handle_response(now_ms, purpose, &response),
                ClientEvent::Timeout => self.fail_transaction(now_ms, purpose, 408, "Request Timeout"),
                // A lost connection: the registration is redone on reconnect.
                ClientEvent::TransportError if purpose == Purpose::Register => {}
                ClientEvent::TransportError => self.fail_transaction(now_ms, purpose, 503, "Connection lost"),
                ClientEvent::Terminated => {}
            }
        }
    }

    /// Starts a client transaction for a request we made (its first send
    /// comes out of the next `pump`).
    fn send_request(&mut self, now_ms: u64, request: Request, purpose: Purpose) {
        self.txns
            .start(now_ms, request, purpose)
            .expect("our requests are never ACK and always carry an RFC 3261 branch from Local::via");
    }

    /// Sends a response through its server transaction (or statelessly).
    fn respond(&mut self, now_ms: u64, response: Response) {
        if let Some(stateless) = self.txns.respond(now_ms, response) {
            self.io.send(stateless);
        }
    }

    fn handle_response(&mut self, now_ms: u64, purpose: Purpose, response: &Response) {
        let finished = response.status >= 200;
        match purpose {
            Purpose::Register if finished => self.handle_register_response(now_ms, response),
            Purpose::Invite(call) => self.handle_invite_response(now_ms, call, response),
            Purpose::Message(id) if finished => self.io.emit(Event::MessageStatus {
                message: id,
                code: response.status,
                reason: response.reason.clone(),
            }),
            // CANCEL and BYE outcomes change nothing: the call already moved on.
            _ => {}
        }
    }

    /// A request went unanswered (408) or its connection dropped (503).
    fn fail_transaction(&mut self, now_ms: u64, purpose: Purpose, code: u16, reason: &str) {
        match purpose {
            Purpose::Register => self.registration_failed(now_ms, code, reason),
            Purpose::Invite(call) => self.end_call(call, code, reason),
            Purpose::Message(id) => {
                self.io.emit(Event::MessageStatus { message: id, code, reason: reason.to_owned() })
            }
            Purpose::Cancel(_) | Purpose::Bye(_) => {}
        }
    }

    fn handle_request(&mut self, now_ms: u64, request: Request) {
        let is_ack = request.method == Method::Ack;
        if request.check_mandatory().is_err() {
            // Without Via, From, To, Call-ID and CSeq there is no one to
            // answer; with them the 400 goes back the Via path.
            if request.headers.top_via().is_some() && !is_ack {
                self.io.send(Response::builder(&request, 400).build());
            }
            return;
        }
        match self.txns.handle_request(now_ms, &request) {
            Incoming::Absorbed => return,
            Incoming::AckForTu => return self.handle_ack(&request),
            Incoming::NoBranch => {
                let reason = "Missing RFC 3261 branch";
                return self.io.send(Response::builder(&request, 400).reason(reason).build());
            }
            Incoming::New => {}
        }
        if let Some(tag) = request.headers.require().find(|t| *t != "outbound") {
            let unsupported = sip::Header::Unsupported(vec![tag.to_owned()]);
            return self.respond(now_ms, Response::builder(&request, 420).header(unsupported).build());
        }
        match request.method {
            Method::Invite => self.handle_invite(now_ms, request),
            Method::Cancel => self.handle_cancel(now_ms, &request),
            Method::Bye => self.handle_bye(now_ms, &request),
            Method::Message => self.handle_message(now_ms, &request),
            Method::Options | Method::Info => {
                let ok = Response::builder(&request, 200).header(local::allow()).build();
                self.respond(now_ms, ok);
            }
            _ => self.respond(now_ms, Response::builder(&request, 405).header(local::allow()).build()),
        }
    }

    fn call_index(&self, call: CallHandle) -> Result<usize, UaError> {
        self.calls.iter().position(|c| c.handle == call).ok_or(UaError::NoSuchCall(call))
    }
}
