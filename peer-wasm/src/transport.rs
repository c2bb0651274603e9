//! The WebSocket to a super-node, with its callbacks owned by [`Peer`] so
//! they are dropped (and the socket closed) with it.

use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, Event, WebSocket};

/// RFC 7118: the WebSocket subprotocol for SIP.
const SIP_SUBPROTOCOL: &str = "sip";

/// A browser SIP peer. Events are delivered to the callback given to the
/// constructor as plain objects `{ type, ... }`.
#[wasm_bindgen]
pub struct Peer {
    on_event: js_sys::Function,
    socket: Option<Socket>,
}

/// A live WebSocket and the closures the browser calls on it.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        // Closing an already closed socket is harmless; nothing to report.
        let _ = self.ws.close();
    }
}

#[wasm_bindgen]
impl Peer {
    /// Creates a peer; `on_event(event)` receives every event.
    #[wasm_bindgen(constructor)]
    pub fn new(on_event: js_sys::Function) -> Peer {
        Peer { on_event, socket: None }
    }

    /// Opens the WebSocket to a super-node's `/sip` endpoint.
    pub fn connect(&mut self, url: &str) -> Result<(), JsValue> {
        self.socket = None;
        let ws = WebSocket::new_with_str(url, SIP_SUBPROTOCOL)?;
        let notify = self.on_event.clone();
        let ws_for_open = ws.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| {
            emit(&notify, "ws", &[("state", "open".into()), ("protocol", ws_for_open.protocol().into())]);
        });
        let notify = self.on_event.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            emit(&notify, "ws", &[("state", "closed".into()), ("code", e.code().into()), ("reason", e.reason().into())]);
        });
        let notify = self.on_event.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_| {
            emit(&notify, "ws", &[("state", "error".into())]);
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        emit(&self.on_event, "ws", &[("state", "connecting".into()), ("url", url.into())]);
        self.socket = Some(Socket { ws, _on_open: on_open, _on_close: on_close, _on_error: on_error });
        Ok(())
    }
}

/// Calls the page's callback with `{ type: kind, ...fields }`.
fn emit(callback: &js_sys::Function, kind: &str, fields: &[(&str, JsValue)]) {
    let event = js_sys::Object::new();
    // Setting a property on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(&event, &"type".into(), &kind.into());
    for (name, value) in fields {
        let _ = js_sys::Reflect::set(&event, &(*name).into(), value);
    }
    if let Err(e) = callback.call1(&JsValue::NULL, &event) {
        web_sys::console::error_2(&"peer event handler threw".into(), &e);
    }
}
