//! The browser client, served as a single-page app from `EASEL_WEB_DIR` (default
//! `./web/dist`, what `npm run build` in `web/` writes).
//!
//! Owns every request no route claimed: a file of the web directory is served as it is,
//! and any other GET or HEAD of a client route (`/`, `/boards/{id}`, `/join/{secret}` ...)
//! gets `index.html`, so the client's router can read the URL. It also owns the caching
//! and security headers of those answers and the page shown while the client is not built.
//! It must not answer for the server's own routes: `/api/*`, `/ws/*`, `/healthz`,
//! `/readyz` and `/metrics` keep their JSON 404, and so do other methods than GET and HEAD.
//!
//! Caching: Vite names the files under `assets/` after a hash of their content, so they are
//! cached for a year as immutable; everything else (`index.html`, the service worker
//! `sw.js`, `manifest.webmanifest`, icons) keeps its name across releases and is served
//! with `no-cache` (revalidated with its `ETag` on every use), so a new release is picked
//! up at once and a service worker script is never held stale. A path whose last segment
//! has an extension (`/assets/missing.js`, `/favicon.ico`) names a file: when there is no
//! such file it is a 404, never `index.html`, so a broken deploy shows up as one.

use std::path::Path;

use actix_files::{NamedFile, PathBufWrap};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::error::error_body;

/// The `Content-Security-Policy` of the client's HTML: its own scripts only, images also
/// from `blob:` and `data:` URLs (pasted and exported pictures), inline styles (the canvas
/// UI sets them), WebSockets to any host (`'self'` does not cover `ws:` everywhere), its
/// service worker and manifest, and no framing, `<base>` or foreign form targets.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' blob: data:; \
     style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; worker-src 'self'; \
     manifest-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// `Cache-Control` of the hashed files under `assets/`: their name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of every other file: keep it, but ask the server (ETag) before each use.
pub const REVALIDATE: &str = "no-cache";

/// The folder of the web directory whose files have content-hashed names.
const HASHED_DIR: &str = "assets";

/// Paths the server's own routes own: no client route may shadow them.
const SERVER_PREFIXES: [&str; 2] = ["/api", "/ws"];
const SERVER_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Shown for `/` and client routes while `EASEL_WEB_DIR` holds no `index.html`.
const NOT_BUILT_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Easel: the web client is not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eee;padding:0 .25rem}</style>
</head>
<body>
<h1>Easel is running, but its web client is not built</h1>
<p>The server found no <code>index.html</code> in <code>EASEL_WEB_DIR</code> (default
<code>./web/dist</code>, relative to the directory the server was started in).</p>
<p>Build it with <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, or
start Easel with <code>./scripts/run</code>, then reload this page.</p>
<p>The REST API (<code>/api</code>, described at <code>/api/openapi.json</code>) and the
realtime endpoint (<code>/ws/boards/{id}</code>) work without it.</p>
</body>
</html>
"#;

/// The default service: a file of the web directory, `index.html` for a client route, the
/// not-built page, or a JSON 404.
pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::HEAD) || is_server_path(req.path()) {
        return super::error::not_found().await;
    }
    // `..`, hidden segments (`.git`, `.env`), an encoded `/` and the like: no such file.
    let Ok(relative) = PathBufWrap::parse_req_path(&req, false) else {
        return no_such_file();
    };
    let relative: &Path = relative.as_ref();
    let dir = &state.config.web_dir;
    if !relative.as_os_str().is_empty() {
        let candidate = dir.join(relative);
        if tokio::fs::metadata(&candidate)
            .await
            .is_ok_and(|m| m.is_file())
        {
            return match NamedFile::open_async(&candidate).await {
                Ok(file) => file_response(&req, file, relative),
                Err(e) => {
                    tracing::warn!(path = %candidate.display(), error = %e, "cannot open a web client file");
                    no_such_file()
                }
            };
        }
        if names_a_file(relative) {
            return no_such_file();
        }
    }
    let index = dir.join("index.html");
    match NamedFile::open_async(&index).await {
        Ok(file) => file_response(&req, file, Path::new("index.html")),
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %index.display(), error = %e, "cannot open the web client's index.html");
            }
            not_built()
        }
    }
}

/// Whether the server's own routes own `path` (their unknown sub-paths are JSON 404s).
fn is_server_path(path: &str) -> bool {
    SERVER_PATHS.contains(&path)
        || SERVER_PREFIXES.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// Whether a path names a file rather than a client route: its last segment has an extension.
fn names_a_file(relative: &Path) -> bool {
    relative.extension().is_some()
}

/// A file of the web directory, with the caching its name allows and the security headers.
fn file_response(req: &HttpRequest, file: NamedFile, relative: &Path) -> HttpResponse {
    let hashed = relative
        .components()
        .next()
        .is_some_and(|first| first.as_os_str() == HASHED_DIR);
    let html = file.content_type().essence_str() == "text/html";
    let mut response = file.disable_content_disposition().into_response(req);
    let headers = response.headers_mut();
    let cache = if hashed { IMMUTABLE } else { REVALIDATE };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    security_headers(headers, html);
    response
}

/// `X-Content-Type-Options` and `Referrer-Policy` on everything served from here (a share
/// link's `/join/{secret}` page must not leak its URL to other sites); the CSP on HTML.
fn security_headers(headers: &mut header::HeaderMap, html: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
}

/// A 404 for a path that names a file the web directory does not hold.
fn no_such_file() -> HttpResponse {
    let mut response = error_body(StatusCode::NOT_FOUND, "not_found", "no such file");
    security_headers(response.headers_mut(), false);
    response
}

/// The page saying the web client is not built. 200, so it reads as a page rather than an
/// outage (`/readyz` is the probe); never stored, so the built client replaces it at once.
fn not_built() -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(NOT_BUILT_PAGE);
    security_headers(response.headers_mut(), true);
    response
}

/// Whether `dir` holds a built client (its `index.html`), for the warning at start.
pub fn is_built(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_own_paths_are_not_client_routes() {
        for path in [
            "/api",
            "/api/",
            "/api/nope",
            "/ws",
            "/ws/boards/x",
            "/healthz",
            "/readyz",
            "/metrics",
        ] {
            assert!(is_server_path(path), "{path}");
        }
        for path in ["/", "/apis", "/wsx", "/boards/1", "/healthz2", "/signin"] {
            assert!(!is_server_path(path), "{path}");
        }
    }

    #[test]
    fn a_last_segment_with_an_extension_names_a_file() {
        assert!(names_a_file(Path::new("assets/app-1.js")));
        assert!(names_a_file(Path::new("favicon.ico")));
        assert!(!names_a_file(Path::new("boards/0195-abc")));
        assert!(!names_a_file(Path::new("signin")));
    }
}
