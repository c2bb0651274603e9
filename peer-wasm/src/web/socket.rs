//! The SIP WebSocket (RFC 7118) with its callbacks owned by [`Socket`], so
//! dropping it removes them and closes the connection.

use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use super::{with_weak, WeakShared};

/// RFC 7118: the WebSocket subprotocol for SIP.
const SIP_SUBPROTOCOL: &str = "sip";

pub struct Socket {
    ws: WebSocket,
    pub url: String,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Starts connecting to `url`; the peer hears of it through `weak`.
    pub fn open(url: &str, weak: &WeakShared) -> Result<Socket, JsValue> {
        let ws = WebSocket::new_with_str(url, SIP_SUBPROTOCOL)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let me = weak.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| with_weak(&me, |inner| inner.on_socket_open()));
        let me = weak.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            let bytes = match data.as_string() {
                Some(text) => text.into_bytes(),
                None => js_sys::Uint8Array::new(&data).to_vec(),
            };
            with_weak(&me, |inner| inner.ua.handle_frame(super::js::now_ms(), &bytes));
        });
        let me = weak.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            with_weak(&me, |inner| inner.on_socket_close(e.code()));
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // An error is always followed by close, which does the work.
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket { ws, url: url.to_owned(), _on_open: on_open, _on_message: on_message, _on_close: on_close })
    }

    /// Sends one SIP message as one text frame. A failure shows up as the
    /// socket closing, which the close handler deals with.
    pub fn send(&self, text: &str) {
        let _ = self.ws.send_with_str(text);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        // Closing an already closed socket is harmless; nothing to report.
        let _ = self.ws.close();
    }
}
