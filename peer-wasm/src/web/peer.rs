//! The JavaScript API: the exported `Peer` class (documented in the
//! README's "JavaScript API" section; keep the two in step).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::js::{self, now_ms, Obj};
use super::{hosts_io, media, with, with_weak, Inner, Settings, Shared};
use crate::hosts::HostCache;
use crate::ua::{Config, Rng, UserAgent};

/// Default key of the host cache in localStorage.
const STORAGE_KEY: &str = "p2psip.hosts";
/// Default limit on ICE gathering before the SDP goes out anyway.
const ICE_GATHERING_TIMEOUT_MS: u64 = 1_000;

/// A browser SIP peer. `new Peer(options, onEvent)`; see the README.
#[wasm_bindgen]
pub struct Peer {
    shared: Shared,
}

#[wasm_bindgen]
impl Peer {
    /// Creates a peer. `options` (all optional): `hosts` (super-node base
    /// URLs, default the page's origin), `iceServers`,
    /// `iceGatheringTimeoutMs`, `registerExpiresSecs`, `storageKey` (null:
    /// no localStorage), `userAgent`. `onEvent(event)` gets every event.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, on_event: js_sys::Function) -> Peer {
        let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
        let configured = match js::get(&options, "hosts") {
            hosts if js_sys::Array::is_array(&hosts) => js::strings(&hosts),
            _ => vec![origin.clone()],
        };
        let storage_key = match js::get(&options, "storageKey") {
            v if v.is_null() => None,
            v => Some(v.as_string().unwrap_or_else(|| STORAGE_KEY.to_owned())),
        };
        let saved = storage_key.as_deref().map(hosts_io::load).unwrap_or_default();
        let hosts = HostCache::new(configured.iter().map(String::as_str), saved.iter().map(String::as_str));
        let mut config = Config {
            secure: hosts.hosts().first().is_some_and(|h| h.starts_with("https:")),
            ..Config::default()
        };
        if let Some(secs) = js::get_f64(&options, "registerExpiresSecs") {
            config.register_expires_secs = secs.min(f64::from(u32::MAX)) as u32;
        }
        if let Some(agent) = js::get_string(&options, "userAgent") {
            config.user_agent = agent;
        }
        let settings = Settings {
            ice_servers: match js::get(&options, "iceServers") {
                servers if js_sys::Array::is_array(&servers) => servers.unchecked_into(),
                _ => js_sys::Array::new(),
            },
            ice_gathering_timeout_ms: js::get_f64(&options, "iceGatheringTimeoutMs")
                .map_or(ICE_GATHERING_TIMEOUT_MS, |ms| ms as u64),
            storage_key,
        };
        let seed = js::seed();
        let shared = Rc::new_cyclic(|me| {
            let on_hide = me.clone();
            // Unregister when the page goes away (the super-node also drops
            // the binding when the WebSocket closes; this is the polite way).
            let page_hide = hosts_io::Listener::window("pagehide", move |_| {
                with_weak(&on_hide, |inner| inner.ua.unregister(now_ms()));
            });
            RefCell::new(Inner {
                ua: UserAgent::new(config, seed),
                on_event,
                settings,
                hosts,
                rng: Rng::new(seed ^ 0x5eed),
                socket: None,
                reconnect: None,
                ua_timer: None,
                media: Vec::new(),
                offers: Vec::new(),
                pending: Vec::new(),
                closed: false,
                me: me.clone(),
                _page_hide: page_hide,
            })
        });
        Peer { shared }
    }

    /// Connects to the first super-node of the host cache; on a drop the
    /// next one is tried, with backoff, and the registration redone.
    pub fn connect(&self) {
        with(&self.shared, Inner::connect);
    }

    /// Registers `aor` (`sip:alice@example.org` or `alice@example.org`),
    /// now or when connected, and keeps it registered.
    pub fn register(&self, aor: &str, display_name: Option<String>) -> Result<(), JsValue> {
        with(&self.shared, |inner| inner.ua.register(now_ms(), aor, display_name.as_deref())).map_err(js::error)
    }

    /// Removes the registration.
    pub fn unregister(&self) {
        with(&self.shared, |inner| inner.ua.unregister(now_ms()));
    }

    /// Calls `to` (`sip:bob@example.org`, `bob@example.org`, or `bob` in
    /// our domain); `options.video` adds the camera. Returns the call id.
    pub fn call(&self, to: &str, options: JsValue) -> Result<u32, JsValue> {
        let video = js::get_bool(&options, "video").unwrap_or(false);
        let call = with(&self.shared, |inner| inner.ua.start_call(to)).map_err(js::error)?;
        media::start_offer(Rc::downgrade(&self.shared), call, video);
        Ok(call)
    }

    /// Answers an incoming call; `options.video` (default true) sends the
    /// camera if the caller offered video.
    pub fn answer(&self, call: u32, options: JsValue) -> Result<(), JsValue> {
        let video = js::get_bool(&options, "video").unwrap_or(true);
        let offer = with(&self.shared, |inner| {
            let offer = inner.offers.iter().position(|(c, _)| *c == call).map(|i| inner.offers.remove(i).1);
            offer.ok_or_else(|| js::error(format!("no incoming call {call} to answer")))
        })?;
        media::start_answer(Rc::downgrade(&self.shared), call, video, offer);
        Ok(())
    }

    /// Declines an incoming call: `status` 486 (busy) or 603 (decline, the default).
    pub fn decline(&self, call: u32, status: Option<u16>) -> Result<(), JsValue> {
        with(&self.shared, |inner| inner.ua.reject(now_ms(), call, status.unwrap_or(603))).map_err(js::error)
    }

    /// Hangs up: CANCEL before the answer, BYE after, 603 if still ringing here.
    pub fn hangup(&self, call: u32) -> Result<(), JsValue> {
        with(&self.shared, |inner| inner.ua.hangup(now_ms(), call)).map_err(js::error)
    }

    /// Sends a text message; returns its id (see the `messageStatus` event).
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(&self, to: &str, text: &str) -> Result<u32, JsValue> {
        with(&self.shared, |inner| inner.ua.send_message(now_ms(), to, text)).map_err(js::error)
    }

    /// Plays DTMF tones (`0-9`, `*`, `#`, `A-D`, `,` pause) in a call's audio.
    #[wasm_bindgen(js_name = sendDtmf)]
    pub fn send_dtmf(&self, call: u32, tones: &str) -> Result<(), JsValue> {
        if tones.is_empty() || !tones.bytes().all(|b| b"0123456789ABCDabcd#*,".contains(&b)) {
            return Err(js::error(format!("not DTMF tones: {tones:?}")));
        }
        let pc = self.peer_connection(call).ok_or_else(|| js::error(format!("no media for call {call}")))?;
        let dtmf = pc
            .get_senders()
            .iter()
            .filter_map(|s| s.dyn_into::<web_sys::RtcRtpSender>().ok())
            .filter(|s| s.track().is_some_and(|t| t.kind() == "audio"))
            .find_map(|s| s.dtmf())
            .ok_or_else(|| js::error("no audio sender with DTMF"))?;
        // No borrow is held here: if the browser throws, nothing stays locked.
        dtmf.insert_dtmf(tones);
        Ok(())
    }

    /// The RTCPeerConnection of a call (for stats), if it has one.
    #[wasm_bindgen(js_name = peerConnection)]
    pub fn peer_connection(&self, call: u32) -> Option<web_sys::RtcPeerConnection> {
        self.shared.borrow().media_of(call).map(|m| m.pc.clone())
    }

    /// The host cache: super-node base URLs in the order they are tried.
    pub fn hosts(&self) -> js_sys::Array {
        js::string_array(self.shared.borrow().hosts.hosts())
    }

    /// The super-node currently (or last) connected to.
    #[wasm_bindgen(js_name = currentHost)]
    pub fn current_host(&self) -> Option<String> {
        self.shared.borrow().hosts.current().map(str::to_owned)
    }

    /// Our Contact URI and RFC 5626 instance id.
    pub fn identity(&self) -> JsValue {
        let inner = self.shared.borrow();
        Obj::new().set("contact", inner.ua.contact_uri()).set("instance", inner.ua.instance_id()).into_js()
    }

    /// Unregisters, hangs up every call and closes the connection for good.
    pub fn close(&self) {
        with(&self.shared, |inner| {
            inner.closed = true;
            let now = now_ms();
            inner.ua.unregister(now);
            let calls: Vec<u32> = inner.media.iter().map(|(c, _)| *c).collect();
            for call in calls {
                let _ = inner.ua.hangup(now, call);
            }
            inner.reconnect = None;
        });
        // After the flush above sent the goodbyes: close the socket.
        with(&self.shared, |inner| {
            if let Some(socket) = inner.socket.take() {
                drop(socket);
                inner.ua.handle_disconnected(now_ms());
            }
        });
    }
}
