//! The operator's HTTP API (axum):
//!
//! * `POST /requests/{id}/input` — a client's private input (EZKL input JSON) for a
//!   hashed-input request; refused (400) unless it hashes to the request's on-chain input hash,
//!   404 for a request not seen yet, 409 when the request does not wait for input, 503 when the
//!   queue is full;
//! * `GET /requests/{id}` — the job: state, transaction hash, error;
//! * `GET /health` — liveness and the last block watched;
//! * `GET /metrics` — Prometheus text: queue depth and jobs per state, proofs, failures, missed
//!   deadlines, prove seconds.

use super::Shared;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::watch;

pub async fn serve(s: Arc<Shared>, listener: tokio::net::TcpListener, mut stopped: watch::Receiver<bool>) {
    let app = Router::new()
        .route("/requests/{id}/input", post(post_input))
        .route("/requests/{id}", get(get_request))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(s);
    let shutdown = async move {
        let _ = stopped.changed().await;
    };
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        tracing::error!("HTTP API: {e}");
    }
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "error": msg.into() }))).into_response()
}

async fn post_input(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: String) -> Response {
    let job = match s.store.get(&id).await {
        Ok(Some(j)) => j,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("request {id} is unknown here (not one of this operator's models, or not yet {} blocks deep)", s.config.confirmations)),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if job.state != "waiting_input" {
        return error(StatusCode::CONFLICT, format!("request {id} does not wait for an input (state {})", job.state));
    }
    let queued = match s.store.counts().await {
        Ok(c) => c.iter().filter(|(st, _)| st == "queued").map(|(_, n)| *n).sum::<i64>(),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if queued >= s.config.queue_limit {
        return error(StatusCode::SERVICE_UNAVAILABLE, format!("the proving queue is full ({queued} jobs); retry later"));
    }
    let data: zkinfer_onnx::data::InputData = match serde_json::from_str(&body) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not EZKL input JSON ({{\"input_data\": [[...]]}}): {e}")),
    };
    let Some(model) = s.models.get(&job.model_id) else { return error(StatusCode::INTERNAL_SERVER_ERROR, "model not loaded") };
    let onchain: Vec<String> = serde_json::from_str(&job.inputs).unwrap_or_default();
    let mine = match crate::operator::request_inputs(&model.compiled, &data) {
        Ok(v) => v.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if mine != onchain {
        return error(StatusCode::BAD_REQUEST, format!("the input does not hash to request {id}'s input hash {}", onchain.join(",")));
    }
    match s.store.set_input(&id, &body).await {
        Ok(true) => (StatusCode::ACCEPTED, Json(json!({ "request": id, "state": "queued" }))).into_response(),
        Ok(false) => error(StatusCode::CONFLICT, format!("request {id} no longer waits for an input")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn get_request(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match s.store.get(&id).await {
        Ok(Some(j)) => Json(j).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("request {id} is unknown here")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn health(State(s): State<Arc<Shared>>) -> Response {
    Json(json!({ "status": "ok", "last_block": s.metrics.last_block.load(Ordering::Relaxed), "operator": s.conn.address.to_string() })).into_response()
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    let counts = s.store.counts().await.unwrap_or_default();
    let m = &s.metrics;
    let queued: i64 = counts.iter().filter(|(st, _)| st == "queued" || st == "waiting_input").map(|(_, n)| n).sum();
    let mut out = String::new();
    out.push_str("# HELP zkinfer_queue_depth Jobs waiting for input or a prover.\n# TYPE zkinfer_queue_depth gauge\n");
    out.push_str(&format!("zkinfer_queue_depth {queued}\n"));
    out.push_str("# HELP zkinfer_jobs Jobs per state.\n# TYPE zkinfer_jobs gauge\n");
    for (st, n) in &counts {
        out.push_str(&format!("zkinfer_jobs{{state=\"{st}\"}} {n}\n"));
    }
    for (name, help, v) in [
        ("zkinfer_proofs_total", "Proofs made.", m.proofs.load(Ordering::Relaxed)),
        ("zkinfer_failures_total", "Job attempts that failed.", m.failures.load(Ordering::Relaxed)),
        ("zkinfer_deadline_missed_total", "Requests whose deadline could not be met.", m.deadline_missed.load(Ordering::Relaxed)),
    ] {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"));
    }
    out.push_str(&format!(
        "# HELP zkinfer_prove_seconds_total Seconds spent proving.\n# TYPE zkinfer_prove_seconds_total counter\nzkinfer_prove_seconds_total {:.3}\n",
        m.prove_millis.load(Ordering::Relaxed) as f64 / 1000.0
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
