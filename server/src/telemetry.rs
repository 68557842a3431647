//! Logging: the tracing subscriber and a span per HTTP request.
//!
//! Owns how log lines look and what a request span records. Request spans record the
//! method, the path without its query string (which may carry a token) and with share-link
//! secrets redacted, and the status; never headers, cookies or bodies.

use std::borrow::Cow;
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
        path = %loggable_path(req.path()),
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

/// What a redacted path segment is replaced by.
const REDACTED: &str = "[redacted]";

/// The path as logs may show it: the share-link secret in `/api/links/{secret}/...` and in
/// the web client's `/join/{secret}` is replaced by `[redacted]`. Segments are compared
/// percent-decoded and case-insensitively, as the router could match them, so an escaped
/// spelling (`/api/%6Cinks/...`) is caught too; empty segments are skipped.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    let mut before: [String; 2] = Default::default();
    let mut redacted = false;
    let mut out = Vec::new();
    for segment in path.split('/') {
        if segment.is_empty() {
            out.push(segment);
            continue;
        }
        let secret = before[1] == "join" || (before[0] == "api" && before[1] == "links");
        redacted |= secret;
        out.push(if secret { REDACTED } else { segment });
        let decoded = percent_encoding::percent_decode_str(segment)
            .decode_utf8_lossy()
            .to_lowercase();
        before = [std::mem::take(&mut before[1]), decoded];
    }
    if redacted {
        Cow::Owned(out.join("/"))
    } else {
        Cow::Borrowed(path)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_link_secrets_are_redacted_from_paths() {
        for (path, logged) in [
            ("/api/links/s3cr3t/join", "/api/links/[redacted]/join"),
            ("/api/links/s3cr3t", "/api/links/[redacted]"),
            ("/api/%6Cinks/s3cr3t/join", "/api/%6Cinks/[redacted]/join"),
            ("/API/LINKS/s3cr3t/JOIN", "/API/LINKS/[redacted]/JOIN"),
            (
                "//api//links//s3cr3t//join",
                "//api//links//[redacted]//join",
            ),
            ("/join/s3cr3t", "/join/[redacted]"),
            ("/%6Aoin/s3cr3t", "/%6Aoin/[redacted]"),
        ] {
            assert_eq!(loggable_path(path), logged, "{path}");
        }
    }

    #[test]
    fn other_paths_are_logged_as_they_are() {
        for path in [
            "/api/boards",
            "/api/boards/0190a5c4-0000-7000-8000-000000000000/links",
            "/api/boards/0190a5c4-0000-7000-8000-000000000000/links/0190a5c4-0000-7000-8000-000000000001",
            "/ws/boards/0190a5c4-0000-7000-8000-000000000000",
            "/",
            "",
        ] {
            assert!(
                matches!(loggable_path(path), Cow::Borrowed(p) if p == path),
                "{path}"
            );
        }
    }
}
