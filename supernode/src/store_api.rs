//! `/api/store`: raw access to ring values, for operators' tests and
//! benchmarks (off unless `--enable-store-api`).
//!
//! Keys are strings hashed with SHA-1 onto the ring, as AORs are; values
//! and sub-keys are UTF-8 in the path and body, returned as text.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chord::{Id, OpError, OpOutcome};
use serde::{Deserialize, Serialize};

use crate::http::AppState;
use crate::ring::RingError;

/// TTL of a value written without `ttl_ms`: one hour.
const DEFAULT_TTL_MS: u64 = 3_600_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{key}", get(get_key))
        .route("/{key}/{sub_key}", put(put_value).delete(delete_value))
}

#[derive(Deserialize)]
struct WriteParams {
    version: u64,
    ttl_ms: Option<u64>,
}

#[derive(Serialize)]
struct GetAnswer {
    key: String,
    id: String,
    hops: u8,
    from: String,
    values: Vec<ValueOut>,
}

#[derive(Serialize)]
struct ValueOut {
    sub_key: String,
    value: String,
    version: u64,
    ttl_ms: u64,
}

#[derive(Serialize)]
struct WriteAnswer {
    hops: u8,
    stored_at: String,
}

async fn get_key(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let id = Id::hash(key.as_bytes());
    match state.ring.get(id, None).await {
        Ok((OpOutcome::Got { from, values }, hops)) => Json(GetAnswer {
            key,
            id: id.to_string(),
            hops,
            from: from.addr.to_string(),
            values: values
                .into_iter()
                .map(|v| ValueOut {
                    sub_key: String::from_utf8_lossy(&v.sub_key).into_owned(),
                    value: String::from_utf8_lossy(&v.value).into_owned(),
                    version: v.version,
                    ttl_ms: v.ttl_ms,
                })
                .collect(),
        })
        .into_response(),
        Ok((other, _)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected outcome {other:?}")).into_response(),
        Err(e) => error_response(e),
    }
}

async fn put_value(
    State(state): State<AppState>,
    Path((key, sub_key)): Path<(String, String)>,
    Query(p): Query<WriteParams>,
    body: Bytes,
) -> Response {
    let id = Id::hash(key.as_bytes());
    let ttl_ms = p.ttl_ms.unwrap_or(DEFAULT_TTL_MS);
    written(state.ring.put(id, sub_key.into_bytes(), body.to_vec(), p.version, ttl_ms).await)
}

async fn delete_value(
    State(state): State<AppState>,
    Path((key, sub_key)): Path<(String, String)>,
    Query(p): Query<WriteParams>,
) -> Response {
    let id = Id::hash(key.as_bytes());
    let ttl_ms = p.ttl_ms.unwrap_or(DEFAULT_TTL_MS);
    written(state.ring.delete(id, sub_key.into_bytes(), p.version, ttl_ms).await)
}

fn written(result: Result<(OpOutcome, u8), RingError>) -> Response {
    match result {
        Ok((OpOutcome::Stored { stored_at }, hops)) => {
            Json(WriteAnswer { hops, stored_at: stored_at.addr.to_string() }).into_response()
        }
        Ok((other, _)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected outcome {other:?}")).into_response(),
        Err(e) => error_response(e),
    }
}

fn error_response(e: RingError) -> Response {
    let status = match &e {
        RingError::Op(OpError::Stale { .. }) => StatusCode::CONFLICT,
        RingError::Op(OpError::TooLarge | OpError::BadTtl) => StatusCode::PAYLOAD_TOO_LARGE,
        RingError::Op(OpError::KeyFull | OpError::StoreFull) => StatusCode::INSUFFICIENT_STORAGE,
        RingError::Op(OpError::Timeout) => StatusCode::GATEWAY_TIMEOUT,
        RingError::Op(_) | RingError::Overloaded | RingError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, e.to_string()).into_response()
}
