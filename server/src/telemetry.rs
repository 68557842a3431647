//! Logging: the tracing subscriber and a span per HTTP request.
//!
//! Owns how log lines look and what a request span records. Request spans record the
//! method, the path without its query string (which may carry a token) and the status;
//! never headers, cookies or bodies.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber (logs go to stderr). Safe to call more than once: later
/// calls do nothing, so tests may each call it.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Middleware: runs each request inside a span and logs its outcome once.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let span = tracing::info_span!(
        "http",
        method = %req.method(),
        path = %req.path(),
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _enter = span.enter();
    match &result {
        Ok(res) => {
            let status = res.status().as_u16();
            span.record("status", status);
            if res.status().is_server_error() {
                tracing::warn!(elapsed_ms, "request failed");
            } else {
                tracing::debug!(elapsed_ms, "request done");
            }
        }
        Err(e) => tracing::warn!(elapsed_ms, error = %e, "request error"),
    }
    result
}

/// An error and all its causes on one line, for logs.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
