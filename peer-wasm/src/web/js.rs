//! Small helpers over js-sys: the clock, the seed, plain objects.

use wasm_bindgen::prelude::*;

/// Milliseconds on the page's monotonic clock (`performance.now()`).
pub fn now_ms() -> u64 {
    let performance = web_sys::window().and_then(|w| w.performance());
    let ms = performance.map_or_else(js_sys::Date::now, |p| p.now());
    // Non-negative and far below 2**53: the cast keeps the value.
    ms.max(0.0) as u64
}

/// 64 random bits from `crypto.getRandomValues` (Math.random if absent).
pub fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if crypto.and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok()).is_none() {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    u64::from_le_bytes(bytes)
}

/// A plain object being filled: `{ type, ...fields }`.
pub struct Obj(js_sys::Object);

impl Obj {
    /// `{ type: kind }`.
    pub fn event(kind: &str) -> Obj {
        Obj::new().set("type", kind)
    }

    pub fn new() -> Obj {
        Obj(js_sys::Object::new())
    }

    /// Sets a property (setting one on a fresh plain object cannot fail).
    pub fn set(self, key: &str, value: impl Into<JsValue>) -> Obj {
        let _ = js_sys::Reflect::set(&self.0, &key.into(), &value.into());
        self
    }

    pub fn into_js(self) -> JsValue {
        self.0.into()
    }
}

/// `obj[key]`, undefined when `obj` is not an object.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        js_sys::Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

pub fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64().filter(|v| v.is_finite() && *v >= 0.0)
}

pub fn get_bool(obj: &JsValue, key: &str) -> Option<bool> {
    get(obj, key).as_bool()
}

/// The strings of a JS array (other items skipped).
pub fn strings(array: &JsValue) -> Vec<String> {
    if !js_sys::Array::is_array(array) {
        return Vec::new();
    }
    js_sys::Array::from(array).iter().filter_map(|v| v.as_string()).collect()
}

pub fn string_array(items: &[String]) -> js_sys::Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

/// A JS `Error` with `message`, to throw from an exported method.
pub fn error(message: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&message.to_string()).into()
}
