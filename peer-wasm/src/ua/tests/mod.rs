//! Native tests of the user agent: two agents and a small record-routing
//! proxy between them, all driven by hand on a virtual clock.

mod calls;
mod register;

use sip::{Header, Limits, Message, NameAddr, Request, Response, Transport, Uri, Via};

use super::{Config, Event, UserAgent};

pub const PROXY_HOST: &str = "proxy.test";

/// Two user agents (0 and 1) behind one proxy, plus what the proxy saw.
pub struct Net {
    pub now_ms: u64,
    pub uas: [UserAgent; 2],
    /// Registered contacts: AOR text → (agent, contact URI).
    bindings: Vec<(String, usize, Uri)>,
    /// Expires the proxy grants.
    pub grant_expires_secs: u32,
    /// Min-Expires: shorter registrations get 423.
    pub min_expires_secs: u32,
    /// Every message each agent sent, parsed.
    pub sent: [Vec<Message>; 2],
    pub events: [Vec<Event>; 2],
    /// Drop instead of delivering (a dead link).
    pub drop_all: bool,
    /// Record-Route added to every INVITE (as the super-nodes do).
    pub record_route: bool,
}

fn parse(text: &str) -> Message {
    sip::parse_datagram(text.as_bytes(), &Limits::default()).expect("the agent sends valid SIP")
}

impl Net {
    pub fn new() -> Net {
        let mut net = Net {
            now_ms: 1_000,
            uas: [UserAgent::new(Config::default(), 1), UserAgent::new(Config::default(), 2)],
            bindings: Vec::new(),
            grant_expires_secs: 300,
            min_expires_secs: 60,
            sent: [Vec::new(), Vec::new()],
            events: [Vec::new(), Vec::new()],
            drop_all: false,
            record_route: true,
        };
        for ua in &mut net.uas {
            ua.handle_connected(net.now_ms);
        }
        net
    }

    /// Registers agent 0 as alice and 1 as bob, and checks both succeeded.
    pub fn registered() -> Net {
        let mut net = Net::new();
        net.uas[0].register(net.now_ms, "sip:alice@example.org", Some("Alice")).expect("valid");
        net.uas[1].register(net.now_ms, "bob@example.org", None).expect("valid");
        net.run();
        for side in 0..2 {
            assert!(net.take_events(side).iter().any(|e| matches!(e, Event::Registration { state: super::RegistrationState::Registered, .. })));
        }
        net
    }

    /// Delivers messages until nobody has anything to send.
    pub fn run(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            for side in 0..2 {
                while let Some(text) = self.uas[side].poll_transmit() {
                    moved = true;
                    let message = parse(&text);
                    self.sent[side].push(message.clone());
                    if !self.drop_all {
                        self.proxy(side, message);
                    }
                }
                while let Some(event) = self.uas[side].poll_event() {
                    self.events[side].push(event);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("messages still flowing after 100 rounds");
    }

    /// Moves the clock to `at_ms` firing the agents' timers on the way.
    pub fn advance_to(&mut self, at_ms: u64) {
        loop {
            let next = self.uas.iter().filter_map(UserAgent::poll_timeout).min();
            match next {
                Some(t) if t <= at_ms => {
                    self.now_ms = self.now_ms.max(t);
                    for ua in &mut self.uas {
                        ua.handle_timeout(self.now_ms);
                    }
                    self.run();
                }
                _ => break,
            }
        }
        self.now_ms = at_ms;
    }

    pub fn take_events(&mut self, side: usize) -> Vec<Event> {
        std::mem::take(&mut self.events[side])
    }

    /// The requests of `method` agent `side` sent.
    pub fn sent_requests(&self, side: usize, method: &sip::Method) -> Vec<Request> {
        self.sent[side].iter().filter_map(|m| m.as_request()).filter(|r| &r.method == method).cloned().collect()
    }

    pub fn sent_responses(&self, side: usize) -> Vec<Response> {
        self.sent[side].iter().filter_map(|m| m.as_response()).cloned().collect()
    }

    fn deliver(&mut self, to: usize, message: Message) {
        self.uas[to].handle_frame(self.now_ms, message.to_string().as_bytes());
    }

    fn proxy(&mut self, from: usize, message: Message) {
        match message {
            Message::Response(mut response) => {
                // Our Via on top: pop it and pass the response back.
                let ours = response.headers.top_via().is_some_and(|v| v.host == PROXY_HOST);
                if ours {
                    response.headers.remove_top_via();
                    self.deliver(1 - from, response.into());
                }
            }
            Message::Request(request) if request.method == sip::Method::Register => self.register(from, request),
            Message::Request(mut request) => {
                if request.headers.routes().next().is_some_and(|r| r.uri.as_sip().is_some_and(|u| u.host == PROXY_HOST)) {
                    request.headers.pop_route();
                }
                let aor = sip::Aor::from_uri(&request.uri).map(|a| a.as_str().to_owned()).unwrap_or_default();
                let binding = self.bindings.iter().find(|(a, _, contact)| *a == aor || *contact == request.uri).cloned();
                let Some((_, to, contact)) = binding else {
                    if request.method != sip::Method::Ack {
                        self.deliver(from, Response::builder(&request, 404).build().into());
                    }
                    return;
                };
                request.uri = contact;
                if request.method == sip::Method::Invite {
                    self.deliver(from, Response::builder(&request, 100).build().into());
                    if self.record_route {
                        request.headers.prepend_record_route(NameAddr::new(format!("sip:{PROXY_HOST};lr").parse().expect("valid")));
                    }
                }
                let branch = format!("z9hG4bKproxy{}", request.headers.top_via().and_then(|v| v.branch()).unwrap_or(""));
                request.headers.prepend_via(Via::new(Transport::Ws, PROXY_HOST, None, &branch));
                self.deliver(to, request.into());
            }
        }
    }

    fn register(&mut self, from: usize, request: Request) {
        let aor = request.headers.to().and_then(|t| sip::Aor::from_uri(&t.uri).ok()).map(|a| a.as_str().to_owned()).unwrap_or_default();
        let expires = request.headers.expires().unwrap_or(3600);
        if expires != 0 && expires < self.min_expires_secs {
            let mut too_brief = Response::builder(&request, 423).build();
            too_brief.headers.push(Header::other("Min-Expires", &self.min_expires_secs.to_string()).expect("valid"));
            self.deliver(from, too_brief.into());
            return;
        }
        let contact = request.headers.contacts().find_map(|c| c.addr()).cloned().expect("the agent sends a Contact");
        self.bindings.retain(|(a, side, _)| !(a == &aor && *side == from));
        let mut ok = Response::builder(&request, 200).build();
        if expires != 0 {
            self.bindings.push((aor, from, contact.uri.clone()));
            let granted = expires.min(self.grant_expires_secs).to_string();
            ok.headers.push(sip::Contact::Addr(contact.with_param("expires", Some(&granted))).into());
        }
        self.deliver(from, ok.into());
    }
}
