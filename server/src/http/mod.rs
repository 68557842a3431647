//! The HTTP transport: routes, shared state handed to handlers, and the web client.
//!
//! Owns the actix app: which path goes to which handler. Handlers reach storage only
//! through the [`Store`] trait and never see SQL; error mapping lives in `error.rs`; what
//! no route claims goes to the web client (`web_client.rs`).

mod access;
pub mod admissions;
pub mod api;
pub mod csrf;
pub mod error;
mod health;
pub mod limits;
pub mod web_client;
pub mod ws;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::auth::JwtKeys;
use crate::config::Config;
use crate::rooms::Hub;
use crate::store::Store;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Admission reads, gathered per board.
    pub admissions: Arc<admissions::Admissions>,
    /// The keys that verify tokens.
    pub keys: JwtKeys,
    /// The running configuration.
    pub config: Arc<Config>,
    /// The live rooms.
    pub hub: Arc<Hub>,
    /// The OpenAPI document, as JSON.
    pub openapi: Arc<String>,
    /// Conversions of whole boards (imports, JSON and SVG exports, version reads) allowed
    /// to run at once: each holds a decoded copy of a board.
    pub conversions: Arc<tokio::sync::Semaphore>,
    /// The request rate limits (logins, sign-ups).
    pub limits: Arc<limits::Limits>,
}

/// Registers every documented route: the REST API, the probes, metrics and the realtime
/// endpoint. The OpenAPI document is built from this same list, so it cannot miss one.
pub fn services(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(api::scope())
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(ws::board_socket);
}

/// The server `EASEL_METRICS_BIND` asks for: `GET /metrics` and nothing else, on one
/// worker, so metrics can stay on a private address while the public port answers 404.
pub fn metrics_server(listener: TcpListener) -> std::io::Result<Server> {
    Ok(HttpServer::new(|| {
        App::new()
            .route("/metrics", web::get().to(health::render_metrics))
            .default_service(web::to(error::not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run())
}

/// Registers shared state and extractor settings on an actix app.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .app_data(
                web::JsonConfig::default()
                    .limit(1 << 20)
                    .error_handler(error::json_error),
            )
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .app_data(web::QueryConfig::default().error_handler(error::query_error));
    }
}
