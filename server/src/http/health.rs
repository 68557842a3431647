//! Liveness and readiness probes, and the Prometheus scrape endpoint (on the public port
//! unless `EASEL_METRICS_BIND` moves it to a port of its own).
//!
//! `/healthz` answers while the process runs; `/readyz` answers 200 only while the store
//! answers too, so a load balancer stops sending users to a node that cannot save.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use super::AppState;
use super::error::{ApiError, ErrorBody};

/// `GET /healthz`: the process is alive.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process runs: `{\"status\":\"ok\"}`", body = serde_json::Value))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store is reachable (200), or not (503 with a reason).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The database answers: `{\"status\":\"ready\",\"store\":\"postgres\"}`", body = serde_json::Value),
        (status = 503, description = "The database does not answer", body = ErrorBody),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let timeout = state.config.db_timeout;
    match tokio::time::timeout(timeout, state.store.ping()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(json!({
            "status": "ready",
            "store": state.store.backend(),
        }))),
        Ok(Err(e)) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "readiness: store unreachable");
            Err(ApiError::Unavailable("the database is unreachable"))
        }
        Err(_) => {
            tracing::warn!(?timeout, "readiness: store ping timed out");
            Err(ApiError::Unavailable("the database did not answer in time"))
        }
    }
}

/// `GET /metrics`: Prometheus text format; 404 here when `EASEL_METRICS_BIND` serves it
/// on another address.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
        (status = 404, description = "Metrics are served on EASEL_METRICS_BIND instead", body = ErrorBody),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if state.config.metrics_bind.is_some() {
        return super::error::not_found().await;
    }
    render_metrics().await
}

/// The metrics in the Prometheus text format, wherever they are served.
pub async fn render_metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::metrics().render())
}
