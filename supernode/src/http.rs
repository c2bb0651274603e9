//! The HTTP side of a super-node: static files, the `/sip` WebSocket and
//! the status API.

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::Semaphore;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::ring::{RingHandle, RingReport};
use crate::{sip_ws, store_api};

/// RFC 7118 §4: the WebSocket subprotocol for SIP.
pub const SIP_SUBPROTOCOL: &str = "sip";

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub(crate) config: Arc<Config>,
    pub(crate) ring: RingHandle,
    /// Bounds the number of browser connections (one permit each).
    ws_permits: Arc<Semaphore>,
}

impl AppState {
    /// State for a node with this configuration and ring.
    pub fn new(config: Arc<Config>, ring: RingHandle) -> AppState {
        AppState { ws_permits: Arc::new(Semaphore::new(config.max_ws_connections)), config, ring }
    }
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let files = ServeDir::new(&state.config.www_dir);
    let mut router = Router::new().route("/sip", get(sip_upgrade)).route("/api/ring", get(ring_status));
    if state.config.enable_store_api {
        router = router.nest("/api/store", store_api::routes());
    }
    router.fallback_service(files).with_state(state)
}

async fn ring_status(State(state): State<AppState>) -> Response {
    match state.ring.status().await {
        Ok(node) => {
            let links = state.ring.links();
            Json(RingReport { node, links: links.snapshot(), link_counters: links.counters() }).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn sip_upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    // RFC 7118 §4.1: the server must answer with the `sip` subprotocol; a
    // client that did not offer it is not speaking SIP and is refused.
    if !ws_offers_sip(&ws) {
        return (StatusCode::BAD_REQUEST, "WebSocket subprotocol `sip` required").into_response();
    }
    let Ok(permit) = state.ws_permits.clone().try_acquire_owned() else {
        tracing::warn!("refusing WebSocket: {} connections already open", state.config.max_ws_connections);
        return (StatusCode::SERVICE_UNAVAILABLE, [("Retry-After", "5")], "too many connections").into_response();
    };
    let max_bytes = state.config.max_sip_message_bytes;
    ws.protocols([SIP_SUBPROTOCOL])
        .max_message_size(max_bytes)
        .max_frame_size(max_bytes)
        .on_upgrade(move |socket| sip_ws::run(socket, permit))
}

fn ws_offers_sip(ws: &WebSocketUpgrade) -> bool {
    ws.requested_protocols().any(|p| p.to_str().is_ok_and(|p| p.trim().eq_ignore_ascii_case(SIP_SUBPROTOCOL)))
}
