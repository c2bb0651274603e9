//! The HTTP side of a super-node: static files, the `/sip` WebSocket and
//! the status API.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::sync::Semaphore;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Config;
use crate::ring::{RingHandle, RingReport};
use crate::sip_driver::SipHandle;
use crate::{hosts, sip_ws, store_api};

/// RFC 7118 §4: the WebSocket subprotocol for SIP.
pub const SIP_SUBPROTOCOL: &str = "sip";

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub(crate) config: Arc<Config>,
    pub(crate) ring: RingHandle,
    pub(crate) sip: SipHandle,
    /// Bounds the number of browser connections (one permit each).
    ws_permits: Arc<Semaphore>,
}

impl AppState {
    /// State for a node with this configuration, ring and SIP task.
    pub fn new(config: Arc<Config>, ring: RingHandle, sip: SipHandle) -> AppState {
        AppState { ws_permits: Arc::new(Semaphore::new(config.max_ws_connections)), config, ring, sip }
    }
}

/// The routes. Static files and the host list may be used from any origin:
/// the embeddable widget loads the peer from the super-node that served it.
pub fn router(state: AppState) -> Router {
    let cors = SetResponseHeaderLayer::if_not_present(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    let files = ServeDir::new(&state.config.www_dir);
    let public = Router::new().route("/api/hosts", get(hosts_list)).fallback_service(files).layer(cors);
    let mut router = Router::new()
        .route("/sip", get(sip_upgrade))
        .route("/api/ring", get(ring_status))
        .route("/api/sip", get(sip_status));
    if state.config.enable_store_api {
        router = router.nest("/api/store", store_api::routes());
    }
    router.merge(public).with_state(state)
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

async fn sip_status(State(state): State<AppState>) -> Response {
    match state.sip.stats().await {
        Some(stats) => Json(stats).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "SIP core stopped").into_response(),
    }
}

#[derive(Serialize)]
struct Hosts {
    hosts: Vec<String>,
}

async fn hosts_list(State(state): State<AppState>) -> Response {
    match hosts::list(&state.ring).await {
        Ok(hosts) => Json(Hosts { hosts }).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn sip_upgrade(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>, ws: WebSocketUpgrade) -> Response {
    // RFC 7118 §4.1: the server must answer with the `sip` subprotocol; a
    // client that did not offer it is not speaking SIP and is refused.
    if !ws_offers_sip(&ws) {
        return (StatusCode::BAD_REQUEST, "WebSocket subprotocol `sip` required").into_response();
    }
    let Ok(permit) = state.ws_permits.clone().try_acquire_owned() else {
        tracing::warn!("refusing WebSocket: {} connections already open", state.config.max_ws_connections);
        return (StatusCode::SERVICE_UNAVAILABLE, [("Retry-After", "5")], "too many connections").into_response();
    };
    // Frames up to twice the SIP limit reach the SIP layer, which answers
    // an oversized message with 413/513 and keeps the connection; only
    // beyond that does the WebSocket layer cut the connection off.
    let max_frame_bytes = state.config.max_sip_message_bytes.saturating_mul(2);
    let sip = state.sip.clone();
    ws.protocols([SIP_SUBPROTOCOL])
        .max_message_size(max_frame_bytes)
        .max_frame_size(max_frame_bytes)
        .on_upgrade(move |socket| sip_ws::run(socket, permit, sip, peer))
}

fn ws_offers_sip(ws: &WebSocketUpgrade) -> bool {
    ws.requested_protocols().any(|p| p.to_str().is_ok_and(|p| p.trim().eq_ignore_ascii_case(SIP_SUBPROTOCOL)))
}
