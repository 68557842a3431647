//! The web client served as a single-page app, on the real server: files of a web
//! directory the test writes, `index.html` for client routes, caching and security
//! headers, 404s for missing files, the server's own routes untouched, and the page shown
//! while the client is not built.

use easel_tests::{TestApp, spawn_app_with};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const INDEX: &str = "<!doctype html><html><head><title>Easel</title>\
    <script type=\"module\" src=\"/assets/app-abc123.js\"></script></head><body></body></html>";
const APP_JS: &str = "console.log('easel');";
const SW_JS: &str = "self.addEventListener('fetch', () => {});";
const MANIFEST: &str = r#"{"name":"Easel","start_url":"/"}"#;
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; \
    connect-src 'self' ws: wss:; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; \
    base-uri 'self'; form-action 'self'";

/// A built client as Vite writes it, in `root/dist`, with a secret beside it that must
/// never be served.
fn web_dir() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let dist = root.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    std::fs::write(dist.join("assets/app-abc123.js"), APP_JS).unwrap();
    std::fs::write(dist.join("sw.js"), SW_JS).unwrap();
    std::fs::write(dist.join("manifest.webmanifest"), MANIFEST).unwrap();
    std::fs::write(dist.join(".env"), "SECRET=1").unwrap();
    std::fs::write(root.path().join("secret.txt"), "outside the web dir").unwrap();
    root
}

async fn app_serving(dir: &std::path::Path) -> TestApp {
    let dir = dir.display().to_string();
    spawn_app_with(None, &[("EASEL_WEB_DIR", &dir)]).await
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A JSON 404 in the one error shape.
    fn json_404(&self, what: &str) {
        assert_eq!(self.status, StatusCode::NOT_FOUND, "{what}: {}", self.body);
        assert_eq!(
            self.json()["error"]["code"],
            "not_found",
            "{what}: {}",
            self.body
        );
    }

    /// `index.html`, as a client route answers it.
    fn index(&self, what: &str) {
        assert_eq!(self.status, StatusCode::OK, "{what}");
        assert_eq!(self.body, INDEX, "{what}");
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{what}: {:?}",
            self.header("content-type")
        );
        assert_eq!(self.header("cache-control"), Some("no-cache"), "{what}");
        assert_eq!(self.header("content-security-policy"), Some(CSP), "{what}");
        self.hardened(what);
    }

    /// The headers everything served from the web directory carries.
    fn hardened(&self, what: &str) {
        assert_eq!(
            self.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            self.header("referrer-policy"),
            Some("same-origin"),
            "{what}"
        );
    }
}

async fn request(app: &TestApp, method: Method, path: &str) -> Answer {
    let res = app
        .client
        .request(method, format!("{}{path}", app.address))
        .send()
        .await
        .expect("a response");
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.text().await.expect("a body"),
    }
}

async fn get(app: &TestApp, path: &str) -> Answer {
    request(app, Method::GET, path).await
}

#[tokio::test]
async fn client_routes_get_index_html_without_caching_and_with_the_csp() {
    let dir = web_dir();
    let app = app_serving(&dir.path().join("dist")).await;
    for path in [
        "/",
        "/signin",
        "/dashboard",
        "/boards/0195d3c0-0000-7000-8000-000000000000",
        "/join/some-link-secret",
        "/index.html",
        "/boards/x/y/z?token=t",
    ] {
        get(&app, path).await.index(path);
    }
    let head = request(&app, Method::HEAD, "/boards/abc").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty(), "HEAD has no body");
    assert_eq!(head.header("cache-control"), Some("no-cache"));
    assert_eq!(head.header("content-security-policy"), Some(CSP));
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_other_files_are_revalidated() {
    let dir = web_dir();
    let app = app_serving(&dir.path().join("dist")).await;

    let js = get(&app, "/assets/app-abc123.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.body, APP_JS);
    assert!(
        js.header("content-type")
            .is_some_and(|t| t.contains("javascript")),
        "{:?}",
        js.header("content-type")
    );
    assert_eq!(
        js.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(js.header("content-security-policy"), None, "HTML only");
    js.hardened("asset");

    let sw = get(&app, "/sw.js").await;
    assert_eq!(sw.status, StatusCode::OK);
    assert_eq!(sw.body, SW_JS);
    assert_eq!(
        sw.header("cache-control"),
        Some("no-cache"),
        "a service worker script is never cached long"
    );
    sw.hardened("sw.js");

    let manifest = get(&app, "/manifest.webmanifest").await;
    assert_eq!(manifest.status, StatusCode::OK);
    assert_eq!(manifest.body, MANIFEST);
    assert_eq!(manifest.header("cache-control"), Some("no-cache"));
    assert_eq!(manifest.header("content-disposition"), None);
    manifest.hardened("manifest");

    // no-cache means "revalidate": the ETag makes that a 304 without the body.
    let res = app.get("/").await;
    let etag = res.headers()["etag"].clone();
    let again = app
        .client
        .get(format!("{}/signin", app.address))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[CACHE_CONTROL], "no-cache");
}

#[tokio::test]
async fn a_missing_file_is_a_404_never_index_html() {
    let dir = web_dir();
    let app = app_serving(&dir.path().join("dist")).await;
    for path in [
        "/assets/missing.js",
        "/favicon.ico",
        "/boards/x/picture.png",
        // Hidden files and escapes from the web directory name no file either.
        "/.env",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets%2f..%2f..%2fsecret.txt",
    ] {
        let answer = get(&app, path).await;
        answer.json_404(path);
        assert!(!answer.body.contains("SECRET"), "{path}");
        assert!(!answer.body.contains("outside"), "{path}");
        answer.hardened(path);
    }
}

#[tokio::test]
async fn the_servers_own_routes_keep_their_answers() {
    let dir = web_dir();
    let app = app_serving(&dir.path().join("dist")).await;
    for path in ["/api/nope", "/api", "/ws/nope", "/ws/boards"] {
        get(&app, path).await.json_404(path);
    }
    let health = get(&app, "/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(get(&app, "/readyz").await.json()["status"], "ready");
    let metrics = get(&app, "/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(get(&app, "/api/openapi.json").await.json()["paths"].is_object());
    let ws = get(&app, "/ws/boards/0195d3c0-0000-7000-8000-000000000000").await;
    assert_eq!(ws.status, StatusCode::BAD_REQUEST, "not an upgrade");
    // Other methods on client routes and files: the JSON 404 as before.
    for (method, path) in [
        (Method::POST, "/signin"),
        (Method::PUT, "/"),
        (Method::DELETE, "/boards/x"),
        (Method::POST, "/assets/app-abc123.js"),
    ] {
        request(&app, method.clone(), path)
            .await
            .json_404(&format!("{method} {path}"));
    }
}

#[tokio::test]
async fn without_a_built_client_pages_say_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    let app = app_serving(&dist).await;
    for path in ["/", "/signin", "/boards/abc"] {
        let page = get(&app, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{path}"
        );
        assert!(page.body.contains("not built"), "{path}: {}", page.body);
        assert!(
            page.body.contains("npm ci &amp;&amp; npm run build"),
            "{path}"
        );
        assert!(page.body.contains("./scripts/run"), "{path}");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(page.header("content-security-policy"), Some(CSP), "{path}");
        page.hardened(path);
    }
    get(&app, "/favicon.ico").await.json_404("a file");
    get(&app, "/api/nope").await.json_404("an API route");

    // Building the client while the server runs: it is served at once, no restart.
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    get(&app, "/signin").await.index("after the build");
}
