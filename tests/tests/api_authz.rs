//! The REST API's authorization matrix: every route × every kind of caller, table-driven.
//!
//! Each row names a route as the OpenAPI document does, and the status each caller gets.
//! The test also reads `/api/openapi.json` and fails if a route exists without a row (or a
//! row without a route), so a new route cannot be added without deciding who may call it.
//! Every (row, caller) pair gets a fresh board, link and version, so destructive routes
//! (delete, revoke, logout) do not disturb the next call.

use std::collections::BTreeSet;
use std::time::Duration;

use easel::auth::{Claims, JwtKeys};
use easel::config::Secret;
use easel::domain::{BoardId, BoardName, Role, UserId};
use easel::store::{NewAsset, NewBoard, NewLink, NewUser, NewVersion, Store};
use easel_tests::{TEST_JWT_SECRET, TestApp, spawn_app_with, spawn_pg_app_with, token};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Other,
    Viewer,
    Editor,
    Owner,
    Admin,
    Disabled,
    Expired,
}

const ACTORS: [Actor; 8] = [
    Actor::Anonymous,
    Actor::Other,
    Actor::Viewer,
    Actor::Editor,
    Actor::Owner,
    Actor::Admin,
    Actor::Disabled,
    Actor::Expired,
];

/// What one call needs: a fresh board with members, a link, a version, an image, and a
/// spare user.
struct Fixture {
    board: BoardId,
    link: Uuid,
    link_token: String,
    version: Uuid,
    asset: String,
}

enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
}

struct Row {
    method: &'static str,
    path: &'static str,
    body: fn(&Fixture) -> Body,
    /// Expected status for Anonymous, Other, Viewer, Editor, Owner, Admin, Disabled, Expired.
    expect: [u16; 8],
}

fn none(_: &Fixture) -> Body {
    Body::None
}

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    vec![
        Row { method: "POST", path: "/api/auth/register", body: |_| { Body::Json( json!({"email": format!("{}@example.com", Uuid::new_v4()), "name": "New", "password": PASSWORD}), ) }, expect: [201, 201, 201, 201, 201, 201, 201, 201] },
        Row { method: "POST", path: "/api/auth/login", body: |_| Body::Json(json!({"email": "owner@example.com", "password": PASSWORD})), expect: [200, 200, 200, 200, 200, 200, 200, 200] },
        Row { method: "POST", path: "/api/auth/logout", body: none, expect: [401, 204, 204, 204, 204, 204, 403, 401] },
        Row { method: "GET", path: "/api/me", body: none, expect: [401, 200, 200, 200, 200, 200, 403, 401] },
        Row { method: "POST", path: "/api/boards", body: |_| Body::Json(json!({"name": "Mine"})), expect: [401, 201, 201, 201, 201, 201, 403, 401] },
        Row { method: "GET", path: "/api/boards", body: none, expect: [401, 200, 200, 200, 200, 200, 403, 401] },
        Row { method: "POST", path: "/api/boards/import", body: |_| { Body::Bytes( br#"{"schema":1,"meta":{},"elements":{},"bindings":{},"assets":{}}"#.to_vec(), ) }, expect: [401, 201, 201, 201, 201, 201, 403, 401] },
        Row { method: "GET", path: "/api/boards/{id}", body: none, expect: [401, 403, 200, 200, 200, 200, 403, 401] },
        Row { method: "PATCH", path: "/api/boards/{id}", body: |_| Body::Json(json!({"name": "Renamed"})), expect: [401, 403, 403, 403, 200, 200, 403, 401] },
        Row { method: "DELETE", path: "/api/boards/{id}", body: none, expect: [401, 403, 403, 403, 204, 204, 403, 401] },
        Row { method: "GET", path: "/api/boards/{id}/export", body: none, expect: [401, 403, 200, 200, 200, 200, 403, 401] },
        Row { method: "GET", path: "/api/boards/{id}/members", body: none, expect: [401, 403, 403, 403, 200, 200, 403, 401] },
        Row { method: "PUT", path: "/api/boards/{id}/members/{user}", body: |_| Body::Json(json!({"role": "viewer"})), expect: [401, 403, 403, 403, 200, 200, 403, 401] },
        Row { method: "DELETE", path: "/api/boards/{id}/members/{user}", body: none, expect: [401, 403, 403, 403, 204, 204, 403, 401] },
        Row { method: "POST", path: "/api/boards/{id}/links", body: |_| Body::Json(json!({"role": "viewer", "expires_in_secs": 3600})), expect: [401, 403, 403, 403, 201, 201, 403, 401] },
        Row { method: "GET", path: "/api/boards/{id}/links", body: none, expect: [401, 403, 403, 403, 200, 200, 403, 401] },
        Row { method: "DELETE", path: "/api/boards/{id}/links/{link}", body: none, expect: [401, 403, 403, 403, 204, 204, 403, 401] },
        Row { method: "POST", path: "/api/links/{token}/join", body: none, expect: [401, 200, 200, 200, 200, 200, 403, 401] },
        Row { method: "POST", path: "/api/boards/{id}/versions", body: |_| Body::Json(json!({"name": "Checkpoint"})), expect: [401, 403, 403, 201, 201, 201, 403, 401] },
        Row { method: "GET", path: "/api/boards/{id}/versions", body: none, expect: [401, 403, 200, 200, 200, 200, 403, 401] },
        Row { method: "GET", path: "/api/boards/{id}/versions/{version}", body: none, expect: [401, 403, 200, 200, 200, 200, 403, 401] },
        Row { method: "POST", path: "/api/boards/{id}/versions/{version}/restore", body: none, expect: [401, 403, 403, 200, 200, 200, 403, 401] },
        Row { method: "POST", path: "/api/boards/{id}/assets", body: |_| Body::Bytes(easel_tests::images::png(2, 2, 0)), expect: [401, 403, 403, 201, 201, 201, 403, 401] },
        Row { method: "GET", path: "/api/boards/{id}/assets/{asset_id}", body: none, expect: [401, 403, 200, 200, 200, 200, 403, 401] },
        Row { method: "GET", path: "/api/admin/stats", body: none, expect: [401, 403, 403, 403, 403, 200, 403, 401] },
        Row { method: "GET", path: "/api/admin/users", body: none, expect: [401, 403, 403, 403, 403, 200, 403, 401] },
        Row { method: "PATCH", path: "/api/admin/users/{id}", body: |_| Body::Json(json!({"disabled": true})), expect: [401, 403, 403, 403, 403, 200, 403, 401] },
        Row { method: "GET", path: "/api/admin/audit", body: none, expect: [401, 403, 403, 403, 403, 200, 403, 401] },
        Row { method: "GET", path: "/healthz", body: none, expect: [200; 8] },
        Row { method: "GET", path: "/readyz", body: none, expect: [200; 8] },
        Row { method: "GET", path: "/metrics", body: none, expect: [200; 8] },
        // Without an upgrade; the WebSocket's own refusals are tested in realtime.rs.
        Row { method: "GET", path: "/ws/boards/{board_id}", body: none, expect: [400; 8] },
    ]
}

fn user(name: &str) -> UserId {
    UserId::parse(&format!("u-{name}")).unwrap()
}

async fn create_accounts(store: &dyn Store) {
    let hash = easel::auth::hash_password(PASSWORD).await.unwrap();
    for (name, admin) in [
        ("other", false),
        ("viewer", false),
        ("editor", false),
        ("owner", false),
        ("admin", true),
        ("disabled", false),
        ("spare", false),
    ] {
        store
            .create_user(&NewUser {
                id: user(name),
                email: format!("{name}@example.com"),
                name: name.to_owned(),
                password_hash: Some(hash.clone()),
                admin,
            })
            .await
            .unwrap();
    }
    store
        .set_user_disabled(&user("disabled"), true)
        .await
        .unwrap();
}

async fn fixture(store: &dyn Store) -> Fixture {
    let board = store
        .create_board(&NewBoard {
            id: BoardId::new(),
            name: BoardName::parse("Matrix").unwrap(),
            owner: user("owner"),
        })
        .await
        .unwrap()
        .id;
    for (name, role) in [
        ("viewer", Role::Viewer),
        ("editor", Role::Editor),
        ("disabled", Role::Owner),
        ("spare", Role::Editor),
    ] {
        store.add_member(board, &user(name), role).await.unwrap();
    }
    let (link_token, hash) = easel::auth::new_link_token();
    let link = store
        .create_link(&NewLink {
            id: Uuid::new_v4(),
            board,
            token_hash: &hash,
            role: Role::Viewer,
            created_by: Some(&user("owner")),
            expires_at: None,
        })
        .await
        .unwrap()
        .id;
    let empty = yrs::ReadTxn::encode_state_as_update_v1(
        &yrs::Transact::transact(&yrs::Doc::new()),
        &yrs::StateVector::default(),
    );
    let version = store
        .create_version(&NewVersion {
            board,
            label: "v1",
            seq: 0,
            state: &empty,
            created_by: Some(&user("owner")),
        })
        .await
        .unwrap()
        .id;
    let asset = store
        .put_asset(
            &NewAsset {
                board,
                mime: "image/png",
                width: 2,
                height: 2,
                bytes: &easel_tests::images::png(2, 2, 1),
            },
            u64::MAX,
        )
        .await
        .unwrap()
        .id;
    Fixture {
        board,
        link,
        link_token,
        version,
        asset,
    }
}

fn token_for(actor: Actor) -> Option<String> {
    let hour = Duration::from_secs(3600);
    match actor {
        Actor::Anonymous => None,
        Actor::Other => Some(token("u-other", false, hour)),
        Actor::Viewer => Some(token("u-viewer", false, hour)),
        Actor::Editor => Some(token("u-editor", false, hour)),
        Actor::Owner => Some(token("u-owner", false, hour)),
        Actor::Admin => Some(token("u-admin", true, hour)),
        Actor::Disabled => Some(token("u-disabled", false, hour)),
        Actor::Expired => {
            let keys = JwtKeys::from_secret(&Secret::new(TEST_JWT_SECRET));
            let claims: Claims = serde_json::from_value(json!({
                "sub": "u-owner",
                "exp": std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    - 3600,
            }))
            .unwrap();
            Some(keys.sign(&claims).unwrap())
        }
    }
}

fn concrete(path: &str, f: &Fixture) -> String {
    path.replace(
        "{id}/members/{user}",
        &format!("{}/members/u-spare", f.board),
    )
    .replace("/admin/users/{id}", "/admin/users/u-spare")
    .replace("{id}", &f.board.to_string())
    .replace("{board_id}", &f.board.to_string())
    .replace("{link}", &f.link.to_string())
    .replace("{version}", &f.version.to_string())
    .replace("{asset_id}", &f.asset)
    .replace("{token}", &f.link_token)
}

async fn call(app: &TestApp, row: &Row, actor: Actor, f: &Fixture) -> (u16, Value) {
    let mut url = format!("{}{}", app.address, concrete(row.path, f));
    if row.path.ends_with("/export") {
        url.push_str("?format=json");
    }
    if row.path.ends_with("/import") {
        url.push_str("?format=json");
    }
    let method = Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut req = app.client.request(method, url);
    if let Some(t) = token_for(actor) {
        req = req.bearer_auth(t);
    }
    req = match (row.body)(f) {
        Body::None => req,
        Body::Json(v) => req.json(&v),
        Body::Bytes(b) => req.body(b),
    };
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_table_says_on_postgres() {
    let app = spawn_pg_app_with(&[("EASEL_LOGIN_ATTEMPTS_PER_MINUTE", "1000")]).await;
    matrix(&app).await;
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_table_says_on_sqlite() {
    let app = spawn_app_with(None, &[("EASEL_LOGIN_ATTEMPTS_PER_MINUTE", "1000")]).await;
    matrix(&app).await;
}

async fn matrix(app: &TestApp) {
    let store = app.store().await;
    create_accounts(store.as_ref()).await;

    let mut failures = Vec::new();
    for row in rows() {
        for (i, actor) in ACTORS.iter().enumerate() {
            let f = fixture(store.as_ref()).await;
            let (status, body) = call(app, &row, *actor, &f).await;
            if status != row.expect[i] {
                failures.push(format!(
                    "{} {} as {actor:?}: expected {}, got {status} {body}",
                    row.method, row.path, row.expect[i]
                ));
            }
            if status >= 400 {
                let code = body["error"]["code"].as_str();
                if code.is_none() || body["error"]["message"].as_str().is_none() {
                    failures.push(format!(
                        "{} {} as {actor:?}: error body not in the standard shape: {body}",
                        row.method, row.path
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_table_and_the_openapi_document_list_the_same_routes() {
    let app = spawn_pg_app_with(&[]).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3."),
        "not an OpenAPI 3 document"
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let table: BTreeSet<String> = rows()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let missing_rows: Vec<_> = documented.difference(&table).collect();
    let missing_routes: Vec<_> = table.difference(&documented).collect();
    assert!(
        missing_rows.is_empty() && missing_routes.is_empty(),
        "routes without a row: {missing_rows:?}; rows without a route: {missing_routes:?}"
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().expect("responses");
            let errors: Vec<_> = responses
                .iter()
                .filter(|(status, _)| status.as_str() >= "400")
                .collect();
            assert!(!errors.is_empty(), "{method} {path} documents no error");
            for (status, response) in errors {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{method} {path} {status}: errors use the one JSON shape"
                );
            }
        }
    }
}
