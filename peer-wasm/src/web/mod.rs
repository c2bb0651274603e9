//! Browser drivers around the sans-IO [`UserAgent`]: the exported [`Peer`]
//! class, the WebSocket with failover, one timer, RTCPeerConnections and
//! the host cache in localStorage.
//!
//! Implementation notes: all state is one [`Inner`] behind
//! `Rc<RefCell<_>>`; JS callbacks and async tasks hold a `Weak` so the
//! closures owned by `Inner` make no reference cycle. Every entry point goes
//! through [`with`]: it borrows, runs the change, drains the agent
//! (`flush`), releases the borrow, and only then calls the page's event
//! handler, so a handler may call back into the peer (answer from inside
//! the `incoming` event) without a double borrow. Nothing that can throw
//! is called while the borrow is held (an exception would unwind past the
//! borrow guard and leave the peer locked): JS options are checked when the
//! peer is made, and throwing browser calls go through `catch` bindings.

mod hosts_io;
mod js;
mod media;
mod peer;
mod socket;
mod timer;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;

use crate::hosts::{Attempt, HostCache};
use crate::ua::{CallHandle, CallPhase, Event, Rng, UserAgent};
use js::{now_ms, Obj};
use media::Media;
use socket::Socket;
use timer::Timer;

pub use peer::Peer;

type Shared = Rc<RefCell<Inner>>;
type WeakShared = Weak<RefCell<Inner>>;

/// What the page configured (see the README's JS API section).
#[derive(Clone)]
struct Settings {
    /// Always an array (empty when not configured).
    ice_servers: js_sys::Array,
    ice_gathering_timeout_ms: u64,
    /// localStorage key of the host cache; `None` keeps it in memory only.
    storage_key: Option<String>,
}

/// Everything the peer holds; see the module doc.
struct Inner {
    ua: UserAgent,
    on_event: js_sys::Function,
    settings: Settings,
    hosts: HostCache,
    rng: Rng,
    socket: Option<Socket>,
    /// A connection attempt waiting out its backoff.
    reconnect: Option<Timer>,
    /// The agent's next timeout and the timer set for it.
    ua_timer: Option<(u64, Timer)>,
    media: Vec<(CallHandle, Media)>,
    /// Offers of incoming calls not yet answered.
    offers: Vec<(CallHandle, String)>,
    /// Events for the page, delivered once the borrow is released.
    pending: Vec<JsValue>,
    /// The page closed the peer: no more reconnecting.
    closed: bool,
    me: WeakShared,
    _page_hide: Option<hosts_io::Listener>,
}

/// Runs `f` on the peer, drains the agent, then delivers the page's events.
fn with<R>(shared: &Shared, f: impl FnOnce(&mut Inner) -> R) -> R {
    let (result, events, callback) = {
        let mut inner = shared.borrow_mut();
        let result = f(&mut inner);
        inner.flush();
        (result, std::mem::take(&mut inner.pending), inner.on_event.clone())
    };
    for event in events {
        if let Err(e) = callback.call1(&JsValue::NULL, &event) {
            web_sys::console::error_2(&"p2p peer: event handler threw".into(), &e);
        }
    }
    result
}

/// [`with`] for callbacks: nothing happens once the peer is gone.
fn with_weak(weak: &WeakShared, f: impl FnOnce(&mut Inner)) {
    if let Some(shared) = weak.upgrade() {
        with(&shared, f);
    }
}

impl Inner {
    fn emit(&mut self, event: Obj) {
        self.pending.push(event.into_js());
    }

    /// Sends what the agent wants sent, acts on its events, re-arms its timer.
    fn flush(&mut self) {
        while let Some(text) = self.ua.poll_transmit() {
            if let Some(socket) = &self.socket {
                socket.send(&text);
            }
        }
        while let Some(event) = self.ua.poll_event() {
            self.on_ua_event(event);
        }
        self.arm_ua_timer();
    }

    fn arm_ua_timer(&mut self) {
        let Some(at_ms) = self.ua.poll_timeout() else {
            self.ua_timer = None;
            return;
        };
        if self.ua_timer.as_ref().is_some_and(|(armed, _)| *armed == at_ms) {
            return;
        }
        let me = self.me.clone();
        // +1 ms: a timer may fire on the very millisecond, before the clock
        // has passed the deadline.
        let delay_ms = at_ms.saturating_sub(now_ms()) + 1;
        self.ua_timer = Timer::after(delay_ms, move || {
            with_weak(&me, |inner| {
                inner.ua_timer = None;
                inner.ua.handle_timeout(now_ms());
            })
        })
        .map(|timer| (at_ms, timer));
    }

    fn on_ua_event(&mut self, event: Event) {
        let js = match event {
            Event::Registration { state, aor, expires_secs, code, reason } => Obj::event("registration")
                .set("state", state.as_str())
                .set("aor", aor)
                .set("expires", expires_secs)
                .set("code", code)
                .set("reason", reason),
            Event::Incoming { call, from, display_name, sdp, video } => {
                self.offers.push((call, sdp));
                Obj::event("incoming").set("call", call).set("from", from).set("displayName", display_name).set("video", video)
            }
            Event::Call { call, phase, code, reason } => {
                if phase == CallPhase::Ended {
                    // Dropping the media closes the RTCPeerConnection and stops the tracks.
                    self.media.retain(|(c, _)| *c != call);
                    self.offers.retain(|(c, _)| *c != call);
                }
                Obj::event("call").set("call", call).set("state", phase.as_str()).set("code", code).set("reason", reason)
            }
            Event::RemoteAnswer { call, sdp } => {
                if let Some((_, media)) = self.media.iter().find(|(c, _)| *c == call) {
                    media::apply_answer(self.me.clone(), call, media.pc.clone(), sdp);
                }
                return;
            }
            Event::Message { from, display_name, text } => {
                Obj::event("message").set("from", from).set("displayName", display_name).set("text", text)
            }
            Event::MessageStatus { message, code, reason } => Obj::event("messageStatus")
                .set("id", message)
                .set("code", code)
                .set("reason", reason)
                .set("ok", (200..300).contains(&code)),
        };
        self.emit(js);
    }

    // ---- connection and failover ----

    /// Connects to the first host of the cache.
    fn connect(&mut self) {
        self.closed = false;
        self.socket = None;
        match self.hosts.first() {
            Some(attempt) => self.attempt(attempt),
            None => self.emit(Obj::event("connection").set("state", "disconnected").set("reason", "no super-node known")),
        }
    }

    fn attempt(&mut self, attempt: Attempt) {
        self.reconnect = None;
        if attempt.delay_ms == 0 {
            return self.open(&attempt.ws_url);
        }
        self.emit(
            Obj::event("connection")
                .set("state", "waiting")
                .set("url", attempt.ws_url.as_str())
                .set("retryInMs", attempt.delay_ms as f64),
        );
        let me = self.me.clone();
        let url = attempt.ws_url;
        self.reconnect = Timer::after(attempt.delay_ms, move || with_weak(&me, |inner| inner.open(&url)));
    }

    fn open(&mut self, url: &str) {
        self.reconnect = None;
        self.emit(Obj::event("connection").set("state", "connecting").set("url", url));
        match Socket::open(url, &self.me) {
            Ok(socket) => self.socket = Some(socket),
            // A malformed URL or a blocked port: treat it as a failed attempt.
            Err(_) => self.on_socket_close(1006),
        }
    }

    fn on_socket_open(&mut self) {
        let now = now_ms();
        self.hosts.handle_open(now);
        let url = self.socket.as_ref().map(|s| s.url.clone()).unwrap_or_default();
        self.emit(Obj::event("connection").set("state", "connected").set("url", url));
        self.ua.handle_connected(now);
        if let Some(host) = self.hosts.current() {
            hosts_io::fetch_hosts(self.me.clone(), host.to_owned());
        }
    }

    fn on_socket_close(&mut self, code: u16) {
        let now = now_ms();
        let url = self.socket.take().map(|s| s.url.clone()).unwrap_or_default();
        self.ua.handle_disconnected(now);
        self.emit(Obj::event("connection").set("state", "disconnected").set("url", url).set("code", code));
        if self.closed {
            return;
        }
        if let Some(next) = self.hosts.handle_close(now, &mut self.rng) {
            self.attempt(next);
        }
    }

    /// Adds hosts a super-node reported, saving and announcing the cache if
    /// it grew.
    fn add_hosts(&mut self, reported: &[String]) {
        if self.hosts.add(reported.iter().map(String::as_str)) {
            if let Some(key) = &self.settings.storage_key {
                hosts_io::save(key, self.hosts.hosts());
            }
            let list = js::string_array(self.hosts.hosts());
            self.emit(Obj::event("hosts").set("hosts", list));
        }
    }

    fn media_of(&self, call: CallHandle) -> Option<&Media> {
        self.media.iter().find(|(c, _)| *c == call).map(|(_, m)| m)
    }

    /// Ends a call whose media failed, telling the page why.
    fn fail_media(&mut self, call: CallHandle, why: &str) {
        self.emit(Obj::event("error").set("call", call).set("message", why));
        // The call may already be gone (hung up meanwhile): nothing to do then.
        let _ = self.ua.fail_call(now_ms(), call, why);
    }
}
