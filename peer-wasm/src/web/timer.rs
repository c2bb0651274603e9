//! `setTimeout` with its closure owned: dropping the [`Timer`] cancels it.

use wasm_bindgen::prelude::*;

/// A pending timeout.
pub struct Timer {
    id: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Calls `f` once after `delay_ms`. `None` without a window (never on a page).
    pub fn after(delay_ms: u64, f: impl FnMut() + 'static) -> Option<Timer> {
        let callback = Closure::<dyn FnMut()>::new(f);
        let delay = i32::try_from(delay_ms).unwrap_or(i32::MAX);
        let id = web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(callback.as_ref().unchecked_ref(), delay)
            .ok()?;
        Some(Timer { id, _callback: callback })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // Clearing a timeout that already fired is harmless. Dropping the
        // closure from inside its own call is safe: wasm-bindgen defers
        // freeing it until the call returns.
        if let Some(window) = web_sys::window() {
            window.clear_timeout_with_handle(self.id);
        }
    }
}
