//! End-to-end flows over real HTTP and WebSockets, on Postgres and on SQLite: accounts,
//! boards, share links, live role changes, versions, export and import.

use std::time::Duration;

use easel_tests::yclient::YClient as Client;
use easel_tests::{TestApp, spawn_app_with, spawn_pg_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapPrelim, MapRef, Transact, TransactionMut, Update};

const WAIT: Duration = Duration::from_secs(10);

/// A signed-in (or anonymous) caller of the REST API.
struct Api<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl<'a> Api<'a> {
    fn anonymous(app: &'a TestApp) -> Self {
        Self { app, token: None }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .app
            .client
            .request(method, format!("{}{path}", self.app.address));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let bytes = res.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>, want: u16) -> Value {
        let (status, body) = self.send(method, path, body).await;
        assert_eq!(status.as_u16(), want, "{method} {path}: {body}");
        body
    }

    async fn bytes(&self, path: &str) -> (String, Vec<u8>) {
        let mut req = self.app.client.get(format!("{}{path}", self.app.address));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        (kind, res.bytes().await.unwrap().to_vec())
    }

    async fn register_and_login(app: &'a TestApp, name: &str) -> (Self, String) {
        let anon = Self::anonymous(app);
        let email = format!("{name}@example.com");
        let password = format!("{name}-password-123");
        let created = anon
            .ok(
                "POST",
                "/api/auth/register",
                Some(json!({"email": email, "name": name, "password": password})),
                201,
            )
            .await;
        let id = created["user"]["id"].as_str().unwrap().to_owned();
        assert_eq!(created["user"]["email"], email.as_str());
        assert_eq!(created["user"]["admin"], false);
        let res = app
            .client
            .post(format!("{}/api/auth/login", app.address))
            .json(&json!({"email": email.to_uppercase(), "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("easel_token="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["user"]["id"], id.as_str());
        let token = body["token"].as_str().unwrap().to_owned();
        (
            Self {
                app,
                token: Some(token),
            },
            id,
        )
    }

    fn ws_url(&self, board: &str) -> String {
        self.app.ws_url(board, self.token.as_deref().unwrap())
    }
}

/// Adds a rectangle element in the board schema.
fn add_rect(txn: &mut TransactionMut, elements: &MapRef, id: &str, x: f64) {
    let el = elements.insert(txn, id.to_owned(), MapPrelim::default());
    el.insert(txn, "type", "rect");
    el.insert(txn, "index", format!("a{x}"));
    el.insert(
        txn,
        "geom",
        Any::from_json(&format!(r#"{{"x":{x},"y":10,"w":100,"h":50,"rot":0}}"#)).unwrap(),
    );
    el.insert(txn, "stroke", "#1e1e1e");
}

fn element_ids(json: &Value) -> Vec<String> {
    let mut ids: Vec<String> = json["elements"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

fn doc_keys(doc: &Doc) -> Vec<String> {
    let elements = doc.get_or_insert_map("elements");
    let txn = doc.transact();
    let mut keys: Vec<String> = elements.keys(&txn).map(str::to_owned).collect();
    keys.sort();
    keys
}

async fn draw(client: &mut Client, id: &str, x: f64) {
    let elements = client.doc().get_or_insert_map("elements");
    client.edit(|txn| add_rect(txn, &elements, id, x)).await;
}

/// The whole story from the issue, on one backend.
async fn full_flow(app: &TestApp) {
    let (alice, _alice_id) = Api::register_and_login(app, "alice").await;
    let (bob, bob_id) = Api::register_and_login(app, "bob").await;
    let me = alice.ok("GET", "/api/me", None, 200).await;
    assert_eq!(me["name"], "alice");

    let board = alice
        .ok("POST", "/api/boards", Some(json!({"name": "Roadmap"})), 201)
        .await;
    assert_eq!(board["role"], "owner");
    let id = board["id"].as_str().unwrap().to_owned();

    // Invite Bob by an editor link.
    let link = alice
        .ok(
            "POST",
            &format!("/api/boards/{id}/links"),
            Some(json!({"role": "editor", "expires_in_secs": 3600})),
            201,
        )
        .await;
    let secret = link["token"].as_str().unwrap();
    assert!(link["url"].as_str().unwrap().ends_with(secret));
    let joined = bob
        .ok("POST", &format!("/api/links/{secret}/join"), None, 200)
        .await;
    assert_eq!(joined["board_id"], id.as_str());
    assert_eq!(joined["role"], "editor");
    let listed = bob.ok("GET", "/api/boards", None, 200).await;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(listed["items"][0]["role"], "editor");

    // Bob draws over the WebSocket; Alice sees it.
    let mut bob_ws = Client::connect(&bob.ws_url(&id)).await;
    let mut alice_ws = Client::connect(&alice.ws_url(&id)).await;
    draw(&mut bob_ws, "shape-bob", 10.0).await;
    assert!(
        alice_ws
            .until(WAIT, |c| doc_keys(c.doc()) == ["shape-bob"])
            .await
    );
    let stats = alice
        .ok("GET", &format!("/api/boards/{id}"), None, 200)
        .await;
    assert_eq!(stats["stats"]["connected"], 2);
    assert!(stats["stats"]["document_bytes"].as_i64().unwrap() > 0);

    // Save a version with Bob's shape.
    let version = alice
        .ok(
            "POST",
            &format!("/api/boards/{id}/versions"),
            Some(json!({"name": "Bob's first shape"})),
            201,
        )
        .await;
    let version_id = version["id"].as_str().unwrap().to_owned();

    // Demote Bob to viewer: his next write is refused and reaches nobody.
    alice
        .ok(
            "PUT",
            &format!("/api/boards/{id}/members/{bob_id}"),
            Some(json!({"role": "viewer"})),
            200,
        )
        .await;
    bob_ws.pump(Duration::from_millis(200)).await;
    draw(&mut bob_ws, "shape-refused", 20.0).await;
    let closed = bob_ws.closed(WAIT).await.expect("bob's socket closes");
    assert_eq!(closed.code, 4403, "{closed:?}");

    // Alice draws on; then restores the version: her shape goes, Bob's stays.
    draw(&mut alice_ws, "shape-alice", 30.0).await;
    let mut watcher = Client::connect(&bob.ws_url(&id)).await;
    assert!(
        watcher
            .until(WAIT, |c| doc_keys(c.doc()) == ["shape-alice", "shape-bob"])
            .await
    );
    alice
        .ok(
            "POST",
            &format!("/api/boards/{id}/versions/{version_id}/restore"),
            None,
            200,
        )
        .await;
    assert!(
        alice_ws
            .until(WAIT, |c| doc_keys(c.doc()) == ["shape-bob"])
            .await
    );
    assert!(
        watcher
            .until(WAIT, |c| doc_keys(c.doc()) == ["shape-bob"])
            .await
    );
    let stored = easel_tests::board::rebuild(&app.load(&id).await);
    assert_eq!(doc_keys(&stored), ["shape-bob"], "the restore is saved");

    // Export in all three formats.
    let (kind, yjs) = alice
        .bytes(&format!("/api/boards/{id}/export?format=yjs"))
        .await;
    assert_eq!(kind, "application/octet-stream");
    let from_yjs = Doc::new();
    from_yjs
        .transact_mut()
        .apply_update(Update::decode_v1(&yjs).unwrap())
        .unwrap();
    assert_eq!(doc_keys(&from_yjs), ["shape-bob"]);
    let (kind, json_bytes) = alice
        .bytes(&format!("/api/boards/{id}/export?format=json"))
        .await;
    assert!(kind.starts_with("application/json"));
    let exported: Value = serde_json::from_slice(&json_bytes).unwrap();
    assert_eq!(exported["schema"], 1);
    assert_eq!(element_ids(&exported), ["shape-bob"]);
    assert_eq!(exported["elements"]["shape-bob"]["type"], "rect");
    assert_eq!(exported["elements"]["shape-bob"]["geom"]["w"], 100);
    let (kind, svg) = alice
        .bytes(&format!("/api/boards/{id}/export?format=svg"))
        .await;
    assert!(kind.starts_with("image/svg+xml"));
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("<svg") && svg.contains("<rect"), "{svg}");

    // Import the JSON export: a new board with the same shapes.
    let res = app
        .client
        .post(format!(
            "{}/api/boards/import?format=json&name=Copy",
            app.address
        ))
        .bearer_auth(alice.token.as_deref().unwrap())
        .body(json_bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let copy: Value = res.json().await.unwrap();
    assert_eq!(copy["name"], "Copy");
    let copy_id = copy["id"].as_str().unwrap();
    let (_, copy_json) = alice
        .bytes(&format!("/api/boards/{copy_id}/export?format=json"))
        .await;
    let copy_json: Value = serde_json::from_slice(&copy_json).unwrap();
    assert_eq!(copy_json["elements"], exported["elements"]);

    // The audit log recorded the story.
    let store = app.store().await;
    let board_id = easel::domain::BoardId::parse(&id).unwrap();
    let audit: Vec<String> = store
        .list_audit(&easel::store::AuditQuery {
            board: Some(board_id),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "board.create",
        "link.create",
        "link.join",
        "member.set",
        "version.create",
        "version.restore",
    ] {
        assert!(
            audit.iter().any(|a| a == action),
            "{action} missing from {audit:?}"
        );
    }

    // Deleting the board closes live sockets with 4404.
    alice
        .ok("DELETE", &format!("/api/boards/{id}"), None, 204)
        .await;
    let closed = alice_ws.closed(WAIT).await.expect("alice's socket closes");
    assert_eq!(closed.code, 4404);
    alice
        .ok("GET", &format!("/api/boards/{id}"), None, 404)
        .await;
    let closed = watcher
        .closed(WAIT)
        .await
        .expect("the viewer's socket closes");
    assert_eq!(closed.code, 4404);
}

#[tokio::test]
async fn the_whole_story_on_postgres() {
    let app = spawn_pg_app_with(&[]).await;
    full_flow(&app).await;
}

#[tokio::test]
async fn the_whole_story_on_sqlite() {
    let app = spawn_app_with(None, &[]).await;
    full_flow(&app).await;
}

#[tokio::test]
async fn revoking_links_and_disabling_accounts_reach_live_sockets() {
    let app = spawn_pg_app_with(&[
        ("EASEL_GUEST_LINKS", "true"),
        ("EASEL_ADMIN_EMAIL", "root@example.com"),
        ("EASEL_ADMIN_PASSWORD", "root-password-123"),
    ])
    .await;
    let anon = Api::anonymous(&app);
    let root = anon
        .ok(
            "POST",
            "/api/auth/login",
            Some(json!({"email": "root@example.com", "password": "root-password-123"})),
            200,
        )
        .await;
    assert_eq!(root["user"]["admin"], true);
    let root_id = root["user"]["id"].as_str().unwrap().to_owned();
    let root = Api {
        app: &app,
        token: Some(root["token"].as_str().unwrap().to_owned()),
    };
    let (alice, _) = Api::register_and_login(&app, "alice").await;
    let (carol, carol_id) = Api::register_and_login(&app, "carol").await;
    let id = alice
        .ok("POST", "/api/boards", Some(json!({"name": "Shared"})), 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An anonymous guest joins through an editor link, draws, and loses access on revoke.
    let link = alice
        .ok(
            "POST",
            &format!("/api/boards/{id}/links"),
            Some(json!({"role": "editor"})),
            201,
        )
        .await;
    let secret = link["token"].as_str().unwrap();
    anon.ok("POST", &format!("/api/links/{secret}/join"), None, 400)
        .await;
    let guest = anon
        .ok(
            "POST",
            &format!("/api/links/{secret}/join"),
            Some(json!({"name": "Visitor"})),
            200,
        )
        .await;
    assert_eq!(guest["role"], "editor");
    let guest = Api {
        app: &app,
        token: Some(guest["token"].as_str().unwrap().to_owned()),
    };
    guest.ok("GET", "/api/boards", None, 403).await;
    let mut guest_ws = Client::connect(&guest.ws_url(&id)).await;
    draw(&mut guest_ws, "by-guest", 5.0).await;
    let mut alice_ws = Client::connect(&alice.ws_url(&id)).await;
    assert!(
        alice_ws
            .until(WAIT, |c| doc_keys(c.doc()) == ["by-guest"])
            .await
    );
    let link_id = link["id"].as_str().unwrap();
    alice
        .ok(
            "DELETE",
            &format!("/api/boards/{id}/links/{link_id}"),
            None,
            204,
        )
        .await;
    let closed = guest_ws
        .closed(WAIT)
        .await
        .expect("the guest is disconnected");
    assert_eq!(closed.code, 4403, "{closed:?}");
    anon.ok(
        "POST",
        &format!("/api/links/{secret}/join"),
        Some(json!({"name": "Visitor"})),
        404,
    )
    .await;

    // A member whose account an admin disables is disconnected and locked out.
    alice
        .ok(
            "PUT",
            &format!("/api/boards/{id}/members/{carol_id}"),
            Some(json!({"role": "editor"})),
            200,
        )
        .await;
    let mut carol_ws = Client::connect(&carol.ws_url(&id)).await;
    carol_ws.pump(Duration::from_millis(200)).await;
    root.ok(
        "PATCH",
        &format!("/api/admin/users/{carol_id}"),
        Some(json!({"disabled": true})),
        200,
    )
    .await;
    let closed = carol_ws.closed(WAIT).await.expect("carol is disconnected");
    assert_eq!(closed.code, 4403, "{closed:?}");
    carol.ok("GET", "/api/me", None, 403).await;
    root.ok(
        "PATCH",
        &format!("/api/admin/users/{root_id}"),
        Some(json!({"admin": false})),
        400,
    )
    .await;
    let stats = root.ok("GET", "/api/admin/stats", None, 200).await;
    assert_eq!(stats["disabled_users"], 1);
    assert_eq!(stats["users"], 3);

    // Removing a member disconnects them too; logging out revokes the token.
    let (dave, dave_id) = Api::register_and_login(&app, "dave").await;
    alice
        .ok(
            "PUT",
            &format!("/api/boards/{id}/members/{dave_id}"),
            Some(json!({"role": "viewer"})),
            200,
        )
        .await;
    let mut dave_ws = Client::connect(&dave.ws_url(&id)).await;
    dave_ws.pump(Duration::from_millis(200)).await;
    alice
        .ok(
            "DELETE",
            &format!("/api/boards/{id}/members/{dave_id}"),
            None,
            204,
        )
        .await;
    assert_eq!(
        dave_ws
            .closed(WAIT)
            .await
            .expect("dave is disconnected")
            .code,
        4403
    );
    dave.ok("POST", "/api/auth/logout", None, 204).await;
    dave.ok("GET", "/api/me", None, 401).await;
}

#[tokio::test]
async fn logins_are_rate_limited_and_errors_do_not_tell_accounts_apart() {
    let app = spawn_app_with(None, &[("EASEL_LOGIN_ATTEMPTS_PER_MINUTE", "5")]).await;
    let _ = Api::register_and_login(&app, "erin").await;
    let anon = Api::anonymous(&app);
    let wrong = anon
        .send(
            "POST",
            "/api/auth/login",
            Some(json!({"email": "erin@example.com", "password": "not-her-password"})),
        )
        .await;
    let unknown = anon
        .send(
            "POST",
            "/api/auth/login",
            Some(json!({"email": "nobody@example.com", "password": "not-her-password"})),
        )
        .await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong, unknown,
        "unknown email and wrong password look alike"
    );
    let mut limited = None;
    for _ in 0..10 {
        let res = app
            .client
            .post(format!("{}/api/auth/login", app.address))
            .json(&json!({"email": "erin@example.com", "password": "guess"}))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(res);
            break;
        }
    }
    let res = limited.expect("the account is rate-limited");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
}

#[tokio::test]
async fn closed_signup_and_malformed_input_get_clear_errors() {
    let app = spawn_app_with(None, &[("EASEL_OPEN_SIGNUP", "false")]).await;
    let anon = Api::anonymous(&app);
    let (status, body) = anon
        .send(
            "POST",
            "/api/auth/register",
            Some(json!({"email": "x@example.com", "name": "X", "password": "long-enough-pw"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");

    let owner = Api {
        app: &app,
        token: Some(easel_tests::token(
            "owner-1",
            false,
            Duration::from_secs(600),
        )),
    };
    for (method, path, body, want) in [
        ("GET", "/api/boards/not-a-uuid", None, 400),
        (
            "POST",
            "/api/boards",
            Some(json!({"name": "ok", "extra": 1})),
            400,
        ),
        ("POST", "/api/boards", Some(json!({"name": ""})), 400),
        ("GET", "/api/boards?limit=100000", None, 400),
        ("GET", "/api/boards?unknown=1", None, 400),
        ("GET", "/api/boards?cursor=garbage", None, 400),
        (
            "GET",
            "/api/boards/00000000-0000-0000-0000-000000000000",
            None,
            404,
        ),
        ("POST", "/api/links/nope/join", None, 404),
    ] {
        let (status, body) = owner.send(method, path, body).await;
        assert_eq!(status.as_u16(), want, "{method} {path}: {body}");
        assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
    }
    let huge = "x".repeat(2 << 20);
    let (status, body) = owner
        .send("POST", "/api/boards", Some(json!({"name": huge})))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn a_host_application_grants_one_board_in_its_token() {
    let app = spawn_app_with(None, &[]).await;
    let owner = Api {
        app: &app,
        token: Some(easel_tests::token(
            "host-admin",
            false,
            Duration::from_secs(600),
        )),
    };
    let id = owner
        .ok(
            "POST",
            "/api/boards",
            Some(json!({"name": "Embedded"})),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = owner
        .ok("POST", "/api/boards", Some(json!({"name": "Private"})), 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = easel::auth::JwtKeys::from_secret(&easel::config::Secret::new(
        easel_tests::TEST_JWT_SECRET,
    ));
    let grant = |role: easel::domain::Role| {
        let board = easel::domain::BoardId::parse(&id).unwrap();
        keys.issue(&easel::auth::TokenRequest {
            grants: [(board, role)].into(),
            ..easel::auth::TokenRequest::new(
                easel::domain::UserId::parse("host-user-7").unwrap(),
                Duration::from_secs(600),
            )
        })
        .unwrap()
    };
    let editor = Api {
        app: &app,
        token: Some(grant(easel::domain::Role::Editor)),
    };
    let board = editor
        .ok("GET", &format!("/api/boards/{id}"), None, 200)
        .await;
    assert_eq!(board["role"], "editor");
    editor
        .ok("GET", &format!("/api/boards/{other}"), None, 403)
        .await;
    let mut ws = Client::connect(&editor.ws_url(&id)).await;
    draw(&mut ws, "granted", 1.0).await;
    let mut watcher = Client::connect(&owner.ws_url(&id)).await;
    assert!(
        watcher
            .until(WAIT, |c| doc_keys(c.doc()) == ["granted"])
            .await
    );

    let viewer = Api {
        app: &app,
        token: Some(grant(easel::domain::Role::Viewer)),
    };
    let mut ws = Client::connect(&viewer.ws_url(&id)).await;
    ws.pump(Duration::from_millis(100)).await;
    draw(&mut ws, "refused", 2.0).await;
    assert_eq!(ws.closed(WAIT).await.expect("closed").code, 4403);
    match easel_tests::yclient::open(&viewer.ws_url(&other), None).await {
        Ok(ws) => {
            let mut refused = Client::over(ws).await;
            let closed = refused.closed(WAIT).await.expect("refused");
            assert_eq!(closed.code, 4403);
        }
        Err(status) => panic!("the handshake failed with HTTP {status}"),
    }
}
