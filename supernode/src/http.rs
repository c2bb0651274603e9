//! The HTTP side of a super-node: static files and the `/sip` WebSocket.

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::Semaphore;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::sip_ws;

/// RFC 7118 §4: the WebSocket subprotocol for SIP.
pub const SIP_SUBPROTOCOL: &str = "sip";

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    config: Arc<Config>,
    /// Bounds the number of browser connections (one permit each).
    ws_permits: Arc<Semaphore>,
}

/// Binds the HTTP listener and serves until the process stops.
pub async fn serve(config: Config) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.http_listen).await?;
    let local = listener.local_addr()?;
    tracing::info!(
        "serving http://{local}/ (www dir {}), SIP over WebSocket at ws://{local}/sip",
        config.www_dir.display()
    );
    let state = AppState {
        ws_permits: Arc::new(Semaphore::new(config.max_ws_connections)),
        config: Arc::new(config),
    };
    axum::serve(listener, router(state)).await
}

/// The routes; split out so tests can serve it on their own listener.
pub fn router(state: AppState) -> Router {
    let files = ServeDir::new(&state.config.www_dir);
    Router::new()
        .route("/sip", get(sip_upgrade))
        .fallback_service(files)
        .with_state(state)
}

async fn sip_upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let Ok(permit) = state.ws_permits.clone().try_acquire_owned() else {
        tracing::warn!("refusing WebSocket: {} connections already open", state.config.max_ws_connections);
        return (StatusCode::SERVICE_UNAVAILABLE, [("Retry-After", "5")], "too many connections")
            .into_response();
    };
    let max_bytes = state.config.max_sip_message_bytes;
    // RFC 7118 §4.1: the server must answer with the `sip` subprotocol; a
    // client that did not offer it is not speaking SIP and is refused.
    if !ws_offers_sip(&ws) {
        return (StatusCode::BAD_REQUEST, "WebSocket subprotocol `sip` required").into_response();
    }
    ws.protocols([SIP_SUBPROTOCOL])
        .max_message_size(max_bytes)
        .max_frame_size(max_bytes)
        .on_upgrade(move |socket| sip_ws::run(socket, permit))
}

fn ws_offers_sip(ws: &WebSocketUpgrade) -> bool {
    ws.requested_protocols()
        .any(|p| p.to_str().is_ok_and(|p| p.trim().eq_ignore_ascii_case(SIP_SUBPROTOCOL)))
}
