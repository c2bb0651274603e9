//! The host cache's browser side: localStorage and `GET /api/hosts`; and
//! the page-lifecycle listener (unregister when the page goes away).

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{js, with_weak, WeakShared};

/// Hosts saved by an earlier visit (empty if none or unreadable).
pub fn load(key: &str) -> Vec<String> {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let Some(text) = storage.and_then(|s| s.get_item(key).ok().flatten()) else { return Vec::new() };
    js_sys::JSON::parse(&text).map(|v| js::strings(&v)).unwrap_or_default()
}

/// Saves the cache. Storage may be full or disabled; the cache then lives
/// in memory only, which is all that is lost.
pub fn save(key: &str, hosts: &[String]) {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    if let (Some(storage), Ok(text)) = (storage, js_sys::JSON::stringify(&js::string_array(hosts))) {
        let _ = storage.set_item(key, &String::from(text));
    }
}

/// Asks `host` for the live super-nodes (`{"hosts": [...]}`) and adds them.
pub fn fetch_hosts(weak: WeakShared, host: String) {
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(hosts) = fetch_json(&format!("{host}/api/hosts")).await else { return };
        let list = js::strings(&js::get(&hosts, "hosts"));
        with_weak(&weak, |inner| inner.add_hosts(&list));
    });
}

async fn fetch_json(url: &str) -> Result<JsValue, JsValue> {
    let window = web_sys::window().ok_or_else(|| js::error("no window"))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url)).await?.dyn_into()?;
    if !response.ok() {
        return Err(js::error(format!("{url}: HTTP {}", response.status())));
    }
    JsFuture::from(response.json()?).await
}

/// A window event listener, removed when dropped.
pub struct Listener {
    event: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub fn window(event: &'static str, f: impl FnMut(web_sys::Event) + 'static) -> Option<Listener> {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        web_sys::window()?.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref()).ok()?;
        Some(Listener { event, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback(self.event, self.callback.as_ref().unchecked_ref());
        }
    }
}
