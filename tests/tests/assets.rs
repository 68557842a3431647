//! Images on boards over REST, against the real server on both backends: uploads of each
//! accepted type read back byte for byte with their real dimensions and caching headers,
//! the refusals (SVG and other content, size and per-board bounds, viewers, outsiders,
//! cross-site cookies), share-link guests reading them, and a deleted board's images gone.

use std::time::Duration;

use easel::domain::{BoardId, Role};
use easel::store::StoreError;
use easel_tests::images::{self, SVG_WITH_SCRIPT};
use easel_tests::{TestApp, board_with, spawn_app_with, spawn_pg_app_with, token};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

const HOUR: Duration = Duration::from_secs(3600);

/// Runs each body once on Postgres and once on SQLite, each server with `vars`.
macro_rules! on_both_backends {
    ($($name:ident => $vars:expr),* $(,)?) => {
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name(&easel_tests::spawn_pg_app_with($vars).await).await;
            })*
        }
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(&easel_tests::spawn_app_with(None, $vars).await).await;
            })*
        }
    };
}

on_both_backends!(
    each_image_type_is_stored_and_served_back_as_it_was => &[],
    what_is_not_an_accepted_image_is_refused => &[],
    uploads_and_boards_are_bounded => &[
        ("EASEL_MAX_ASSET_BYTES", "20000"),
        ("EASEL_MAX_BOARD_ASSET_BYTES", "30000"),
    ],
    only_editors_upload_and_only_readers_read => &[("EASEL_GUEST_LINKS", "true")],
    deleting_a_board_deletes_its_images => &[],
);

fn assets_path(board: &str) -> String {
    format!("/api/boards/{board}/assets")
}

async fn upload(app: &TestApp, board: &str, user: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{}{}", app.address, assets_path(board)))
        .bearer_auth(token(user, false, HOUR))
        .header("Content-Type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn fetch(
    app: &TestApp,
    board: &str,
    asset: &str,
    bearer: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = app
        .client
        .get(format!("{}{}/{asset}", app.address, assets_path(board)));
    if let Some(bearer) = bearer {
        req = req.bearer_auth(bearer);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Asserts the body is the API's JSON error with this code.
fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

async fn each_image_type_is_stored_and_served_back_as_it_was(app: &TestApp) {
    let board = board_with(app, "alice", &[("vera", Role::Viewer)]).await;
    let alice = token("alice", false, HOUR);
    let vera = token("vera", false, HOUR);
    for (bytes, mime, w, h) in [
        (images::png(3, 2, 1), "image/png", 3, 2),
        (images::jpeg(16, 9), "image/jpeg", 16, 9),
        (images::gif(5, 4, 3), "image/gif", 5, 4),
        (images::webp(7, 3, 4), "image/webp", 7, 3),
    ] {
        let (status, body) = upload(app, &board, "alice", bytes.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{mime}: {body}");
        let id = body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            id,
            easel::image::asset_id(&bytes),
            "{mime}: keyed by SHA-256"
        );
        assert_eq!(
            body,
            json!({"id": id, "mime": mime, "w": w, "h": h, "hash": id, "bytes": bytes.len()}),
        );

        for reader in [&alice, &vera] {
            let (status, headers, served) = fetch(app, &board, &id, Some(reader)).await;
            assert_eq!(status, StatusCode::OK, "{mime}");
            assert_eq!(served, bytes, "{mime}: the same bytes");
            assert_eq!(header(&headers, "content-type"), mime);
            assert_eq!(
                header(&headers, "cache-control"),
                "private, max-age=31536000, immutable"
            );
            assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
            assert_eq!(header(&headers, "etag"), format!("\"{id}\""));
        }

        // A cache holding the tag is told it is current.
        let res = app
            .client
            .get(format!("{}{}/{id}", app.address, assets_path(&board)))
            .bearer_auth(&vera)
            .header("If-None-Match", format!("\"{id}\""))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{mime}");
        assert!(res.bytes().await.unwrap().is_empty());

        // The same bytes again are the same asset, whatever Content-Type claims.
        let res = app
            .client
            .post(format!("{}{}", app.address, assets_path(&board)))
            .bearer_auth(&alice)
            .header("Content-Type", "image/svg+xml")
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            body,
            "{mime}: idempotent"
        );
    }
}

async fn what_is_not_an_accepted_image_is_refused(app: &TestApp) {
    let board = board_with(app, "alice", &[]).await;
    let png = images::png(4, 4, 9);
    let mut truncated = png.clone();
    truncated.truncate(20);
    let mut too_wide = png.clone();
    too_wide[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    for (what, bytes, says) in [
        ("an SVG", SVG_WITH_SCRIPT.to_vec(), "SVG"),
        (
            "plain text",
            b"just some text, no image here".to_vec(),
            "PNG, JPEG, GIF or WebP",
        ),
        ("nothing", Vec::new(), "PNG, JPEG, GIF or WebP"),
        (
            "HTML",
            b"<html><script>alert(1)</script></html>".to_vec(),
            "PNG, JPEG, GIF or WebP",
        ),
        ("a truncated PNG", truncated, "damaged"),
        ("a 20000-pixel-wide PNG header", too_wide, "16384"),
    ] {
        let (status, body) = upload(app, &board, "alice", bytes).await;
        assert_error(
            status,
            &body,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{what}: {message}");
    }

    let alice = token("alice", false, HOUR);
    let (status, _, body) = fetch(app, &board, &"0".repeat(64), Some(&alice)).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, _, body) = fetch(app, &board, "not-a-hash", Some(&alice)).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    let (status, body) = upload(app, &BoardId::new().to_string(), "alice", png).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn uploads_and_boards_are_bounded(app: &TestApp) {
    // This server: 20,000 bytes an image, 30,000 a board.
    let board = board_with(app, "alice", &[]).await;
    let big = images::noisy_png(80, 80, 1);
    assert!(big.len() > 20_000, "{} bytes", big.len());
    let (status, body) = upload(app, &board, "alice", big).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EASEL_MAX_ASSET_BYTES"),
        "{body}"
    );

    let first = images::noisy_png(70, 70, 2);
    let second = images::noisy_png(70, 70, 3);
    assert!((15_000..20_000).contains(&first.len()), "{}", first.len());
    let (status, stored) = upload(app, &board, "alice", first.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    let (status, body) = upload(app, &board, "alice", second.clone()).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EASEL_MAX_BOARD_ASSET_BYTES"),
        "{body}"
    );
    // What the board holds already takes no more room.
    let (status, again) = upload(app, &board, "alice", first).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &stored));
    // The bound is per board.
    let other = board_with(app, "alice", &[]).await;
    let (status, _) = upload(app, &other, "alice", second).await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn only_editors_upload_and_only_readers_read(app: &TestApp) {
    let board = board_with(
        app,
        "alice",
        &[("eddie", Role::Editor), ("vera", Role::Viewer)],
    )
    .await;
    let png = images::png(2, 2, 5);
    let (status, body) = upload(app, &board, "eddie", png.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();

    let (status, body) = upload(app, &board, "vera", images::png(2, 2, 6)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = upload(app, &board, "mallory", images::png(2, 2, 7)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let res = app
        .client
        .post(format!("{}{}", app.address, assets_path(&board)))
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let mallory = token("mallory", false, HOUR);
    let (status, _, body) = fetch(app, &board, &id, Some(&mallory)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an outsider cannot read");
    assert!(!body.windows(png.len()).any(|w| w == png));
    let (status, _, _) = fetch(app, &board, &id, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A share link's guest reads the board's images as they read the board.
    let link: Value = app
        .client
        .post(format!("{}/api/boards/{board}/links", app.address))
        .bearer_auth(token("alice", false, HOUR))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let joined: Value = app
        .client
        .post(format!(
            "{}/api/links/{}/join",
            app.address,
            link["token"].as_str().unwrap()
        ))
        .json(&json!({"name": "Visitor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guest = joined["token"].as_str().expect("a guest token");
    let (status, _, served) = fetch(app, &board, &id, Some(guest)).await;
    assert_eq!((status, served), (StatusCode::OK, png.clone()));

    // The session cookie uploads only from the server's own pages.
    let cookie = format!("easel_token={}", token("eddie", false, HOUR));
    let post = |origin: Option<&str>| {
        let mut req = app
            .client
            .post(format!("{}{}", app.address, assets_path(&board)))
            .header("Cookie", &cookie)
            .body(images::png(3, 3, 8));
        if let Some(origin) = origin {
            req = req.header("Origin", HeaderValue::from_str(origin).unwrap());
        }
        req.send()
    };
    assert_eq!(post(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(
        post(Some("https://evil.example")).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(Some(&app.address)).await.unwrap().status(),
        StatusCode::CREATED
    );
    let res = app
        .client
        .get(format!("{}{}/{id}", app.address, assets_path(&board)))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "an <img> reads with the cookie"
    );
}

async fn deleting_a_board_deletes_its_images(app: &TestApp) {
    let board = board_with(app, "alice", &[]).await;
    let kept = board_with(app, "alice", &[]).await;
    let png = images::png(8, 8, 1);
    let (_, body) = upload(app, &board, "alice", png.clone()).await;
    let id = body["id"].as_str().unwrap().to_owned();
    upload(app, &kept, "alice", png.clone()).await;

    let res = app
        .client
        .delete(format!("{}/api/boards/{board}", app.address))
        .bearer_auth(token("alice", false, HOUR))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let store = app.store().await;
    let board_id = BoardId::parse(&board).unwrap();
    assert!(matches!(
        store.get_asset(board_id, &id).await,
        Err(StoreError::NotFound("asset"))
    ));
    let alice = token("alice", false, HOUR);
    let (status, _, _) = fetch(app, &board, &id, Some(&alice)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, served) = fetch(app, &kept, &id, Some(&alice)).await;
    assert_eq!(
        (status, served),
        (StatusCode::OK, png),
        "other boards keep theirs"
    );
    store.close().await;
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_before_it_is_read() {
    let app = spawn_app_with(None, &[("EASEL_MAX_ASSET_BYTES", "1024")]).await;
    let board = board_with(&app, "alice", &[]).await;
    // The declared length alone is enough: 64 MiB are never buffered.
    let res = app
        .client
        .post(format!("{}{}", app.address, assets_path(&board)))
        .bearer_auth(token("alice", false, HOUR))
        .body(vec![0u8; 64 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(app.get("/healthz").await.status().is_success());
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let app = spawn_pg_app_with(&[]).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let upload = &doc["paths"]["/api/boards/{id}/assets"]["post"];
    assert!(upload["requestBody"]["content"]["application/octet-stream"].is_object());
    for status in ["201", "403", "409", "413", "415"] {
        assert!(upload["responses"][status].is_object(), "POST {status}");
    }
    let get = &doc["paths"]["/api/boards/{id}/assets/{asset_id}"]["get"];
    for mime in ["image/png", "image/jpeg", "image/gif", "image/webp"] {
        assert!(
            get["responses"]["200"]["content"][mime].is_object(),
            "{mime}"
        );
    }
}

#[tokio::test]
async fn an_image_on_a_board_exports_as_drawn_and_loads_from_the_assets_route() {
    let app = spawn_app_with(None, &[]).await;
    let alice = token("alice", false, HOUR);
    let png = images::png(64, 48, 3);
    let id = easel::image::asset_id(&png);
    // What the web client writes for a pasted image: an `image` element naming the asset,
    // and the asset's entry with what the upload answered.
    let drawn = json!({
        "schema": 1,
        "meta": {},
        "elements": {
            "photo": {"type": "image", "index": "a0", "geom": {"x": 10, "y": 20, "w": 64, "h": 48, "rot": 0},
                      "assetId": id, "createdBy": "alice", "locked": false}
        },
        "bindings": {},
        "assets": { id.clone(): {"mime": "image/png", "w": 64, "h": 48, "hash": id} }
    });
    let res = app
        .client
        .post(format!("{}/api/boards/import?format=json", app.address))
        .bearer_auth(&alice)
        .json(&drawn)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let board = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, stored) = upload(&app, &board, "alice", png.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        drawn["assets"][&id],
        json!({"mime": stored["mime"], "w": stored["w"], "h": stored["h"], "hash": stored["hash"]}),
        "the upload's answer is the document's asset entry"
    );

    let export = |format: &'static str| {
        app.client
            .get(format!(
                "{}/api/boards/{board}/export?format={format}",
                app.address
            ))
            .bearer_auth(&alice)
            .send()
    };
    let exported: Value = export("json").await.unwrap().json().await.unwrap();
    assert_eq!(exported["elements"], drawn["elements"]);
    assert_eq!(exported["assets"], drawn["assets"]);

    let svg = export("svg").await.unwrap().text().await.unwrap();
    let href = format!("/api/boards/{board}/assets/{id}");
    assert!(
        svg.contains(&format!(
            r#"<image href="{href}" x="10" y="20" width="64" height="48""#
        )),
        "{svg}"
    );
    let res = app
        .client
        .get(format!("{}{href}", app.address))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
}
