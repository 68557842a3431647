//! Access changes reach open sockets at once, wherever they are made (finding 4): a
//! logout closes that token's socket, a demoted admin loses the owner role on live
//! sockets, and the `easel` command line, run as a separate process against the database
//! of a running server, closes or downgrades its sockets, on Postgres and on SQLite, with
//! `EASEL_BOARD_CHECK_SECS` at an hour so its polling cannot explain anything. A server
//! whose Postgres listener lost its connection catches up from the change table.
//!
//! Delays are printed, never asserted: every wait has a generous timeout.

use std::time::{Duration, Instant};

use easel::domain::{BoardId, Role, UserId};
use easel::store::{NewUser, Store};
use easel_tests::board::shape_keys;
use easel_tests::yclient::{Closed, YClient};
use easel_tests::{
    TestApp, board_with, run_cli, spawn_app_behind_proxy, spawn_app_with, spawn_pg_app_with, token,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_easel-test-server");
/// How long to wait for anything that should happen: far longer than it takes.
const WAIT: Duration = Duration::from_secs(30);
const HOUR: Duration = Duration::from_secs(3600);
/// Keeps the old once-a-while existence check out of the picture.
const NO_BOARD_CHECK: (&str, &str) = ("EASEL_BOARD_CHECK_SECS", "3600");

async fn pg_app() -> TestApp {
    spawn_pg_app_with(&[NO_BOARD_CHECK]).await
}

async fn sqlite_app() -> TestApp {
    spawn_app_with(None, &[NO_BOARD_CHECK]).await
}

/// Calls the REST API with a token; returns the status and the JSON body.
async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token);
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

/// Registers `name` and logs in; returns the user id and a token.
async fn sign_up(app: &TestApp, name: &str) -> (String, String) {
    let (email, password) = (format!("{name}@example.com"), format!("{name}-password-1"));
    let res = app
        .client
        .post(format!("{}/api/auth/register", app.address))
        .json(&json!({"email": email, "name": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, log_in(app, &email, &password).await)
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> String {
    let res = app
        .client
        .post(format!("{}/api/auth/login", app.address))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "login {email}");
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Connects and waits for the initial sync.
async fn join(app: &TestApp, board: &str, token: &str) -> YClient {
    let mut client = YClient::connect(&app.ws_url(board, token)).await;
    assert!(client.until(WAIT, |c| c.synced).await, "synced");
    client
}

async fn draw(client: &mut YClient, key: &str) {
    client.draw(key, 8).await;
}

/// Waits until `client` sees the shape `key`.
async fn sees(client: &mut YClient, key: &str) {
    assert!(
        client
            .until(WAIT, |c| shape_keys(c.doc()).contains(key))
            .await,
        "{key} arrived"
    );
}

/// Waits for the server to close `client`; prints how long it took since `since`.
async fn closed_by_server(client: &mut YClient, what: &str, since: Instant) -> Closed {
    let closed = client
        .closed(WAIT)
        .await
        .unwrap_or_else(|| panic!("{what}: the socket stayed open"));
    println!(
        "{what}: closed with {} after {:?}",
        closed.code,
        since.elapsed()
    );
    closed
}

/// The shapes a fresh connection receives: everything the board accepted.
async fn board_shapes(app: &TestApp, board: &str, token: &str) -> Vec<String> {
    let client = join(app, board, token).await;
    let keys = shape_keys(client.doc()).into_iter().collect();
    client.close().await;
    keys
}

// (1) Logout closes the token's socket.

async fn logout_closes_the_tokens_socket(app: TestApp) {
    let (_, phone) = sign_up(&app, "alice").await;
    let laptop = log_in(&app, "alice@example.com", "alice-password-1").await;
    let (status, board) = call(
        &app,
        &laptop,
        "POST",
        "/api/boards",
        Some(json!({"name": "B"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let board = board["id"].as_str().unwrap().to_owned();

    let mut on_phone = join(&app, &board, &phone).await;
    let mut on_laptop = join(&app, &board, &laptop).await;
    draw(&mut on_phone, "before-logout").await;
    sees(&mut on_laptop, "before-logout").await;

    let started = Instant::now();
    let (status, _) = call(&app, &phone, "POST", "/api/auth/logout", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The attack: keep writing on the socket after logging out.
    draw(&mut on_phone, "after-logout").await;
    let closed = closed_by_server(&mut on_phone, "logout", started).await;
    assert_eq!(closed.code, 4401, "{closed:?}");
    assert_eq!(closed.reason, "signed out");

    // The same user's other token is untouched.
    draw(&mut on_laptop, "laptop-after").await;
    sees(&mut on_laptop, "laptop-after").await;
    assert_eq!(on_laptop.closed, None);
    assert_eq!(
        board_shapes(&app, &board, &laptop).await,
        ["before-logout", "laptop-after"],
        "the write after logout was never applied"
    );
    let (status, _) = call(&app, &phone, "GET", "/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut again = YClient::connect(&app.ws_url(&board, &phone)).await;
    assert_eq!(again.closed(WAIT).await.map(|c| c.code), Some(4401));
}

#[tokio::test]
async fn logout_closes_the_tokens_socket_on_postgres() {
    logout_closes_the_tokens_socket(pg_app().await).await;
}

#[tokio::test]
async fn logout_closes_the_tokens_socket_on_sqlite() {
    logout_closes_the_tokens_socket(sqlite_app().await).await;
}

// (2) Demoting an admin takes the owner role off their live sockets; promoting grants it.

#[tokio::test]
async fn an_admin_flag_change_reaches_live_sockets() {
    let app = spawn_pg_app_with(&[
        NO_BOARD_CHECK,
        ("EASEL_ADMIN_EMAIL", "root@example.com"),
        ("EASEL_ADMIN_PASSWORD", "root-password-1"),
    ])
    .await;
    let root = log_in(&app, "root@example.com", "root-password-1").await;
    let (_, alice) = sign_up(&app, "alice").await;
    let (ada_id, ada) = sign_up(&app, "ada").await;
    let new_board = |name: &'static str| {
        let (app, alice) = (&app, alice.clone());
        async move {
            let (_, b) = call(
                app,
                &alice,
                "POST",
                "/api/boards",
                Some(json!({"name": name})),
            )
            .await;
            b["id"].as_str().unwrap().to_owned()
        }
    };
    // Ada is a viewer of `viewed` and nothing on `foreign`.
    let (viewed, foreign) = (new_board("viewed").await, new_board("foreign").await);
    let path = format!("/api/boards/{viewed}/members/{ada_id}");
    let (status, _) = call(&app, &alice, "PUT", &path, Some(json!({"role": "viewer"}))).await;
    assert_eq!(status, StatusCode::OK);
    let mut alice_viewed = join(&app, &viewed, &alice).await;
    let mut alice_foreign = join(&app, &foreign, &alice).await;

    // Promoted while connected as a viewer: her socket may edit at once.
    let mut ada_viewed = join(&app, &viewed, &ada).await;
    let admin = |on: bool| {
        let (app, root, path) = (&app, root.clone(), format!("/api/admin/users/{ada_id}"));
        async move {
            let (status, body) = call(app, &root, "PATCH", &path, Some(json!({"admin": on}))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["admin"], on);
        }
    };
    admin(true).await;
    draw(&mut ada_viewed, "as-admin").await;
    sees(&mut alice_viewed, "as-admin").await;
    assert_eq!(ada_viewed.closed, None);

    // As an admin she owns a board she is not a member of.
    let mut ada_foreign = join(&app, &foreign, &ada).await;
    draw(&mut ada_foreign, "admin-on-foreign").await;
    sees(&mut alice_foreign, "admin-on-foreign").await;

    // Demoted: no role left on `foreign` (closed), a viewer again on `viewed`.
    let started = Instant::now();
    admin(false).await;
    let closed = closed_by_server(&mut ada_foreign, "admin demoted (no membership)", started).await;
    assert_eq!(closed.code, 4403, "{closed:?}");
    draw(&mut ada_viewed, "after-demotion").await;
    let closed =
        closed_by_server(&mut ada_viewed, "demoted admin's write as viewer", started).await;
    assert_eq!(closed.code, 4403, "{closed:?}");
    assert_eq!(
        board_shapes(&app, &viewed, &alice).await,
        ["as-admin"],
        "the demoted admin's write was never applied"
    );
}

// (3) The command line, a separate process, reaches the sockets of a running server.

/// Runs the real `easel` binary against `app`'s database, as an operator would on the
/// server's machine; returns when it has exited (its change is committed).
async fn easel(app: &TestApp, args: &[&str]) -> String {
    let url = app.db.as_ref().map(|db| db.url());
    run_cli(BIN, app.data_dir.path(), url.as_deref(), args).await
}

async fn account(store: &dyn Store, id: &str, admin: bool) {
    store
        .create_user(&NewUser {
            id: UserId::parse(id).unwrap(),
            email: format!("{id}@example.com"),
            name: id.to_owned(),
            password_hash: None,
            admin,
        })
        .await
        .unwrap();
}

async fn the_command_line_reaches_live_sockets(app: TestApp) {
    let store = app.store().await;
    account(&*store, "erin", true).await;
    account(&*store, "frank", false).await;
    store.close().await;
    let board = board_with(
        &app,
        "alice",
        &[
            ("bob", Role::Editor),
            ("carol", Role::Editor),
            ("frank", Role::Editor),
        ],
    )
    .await;
    let doomed = board_with(&app, "alice", &[("bob", Role::Viewer)]).await;
    let ws = |user: &str, admin: bool| token(user, admin, HOUR);
    let mut alice = join(&app, &board, &ws("alice", false)).await;
    let mut bob = join(&app, &board, &ws("bob", false)).await;
    let mut carol = join(&app, &board, &ws("carol", false)).await;
    let mut erin = join(&app, &board, &ws("erin", true)).await;
    let mut frank = join(&app, &board, &ws("frank", false)).await;
    let mut on_doomed = [
        join(&app, &doomed, &ws("alice", false)).await,
        join(&app, &doomed, &ws("bob", false)).await,
    ];
    draw(&mut erin, "by-admin").await;
    sees(&mut alice, "by-admin").await;

    // `board revoke`: a removed member is disconnected.
    easel(&app, &["board", "revoke", &board, "bob"]).await;
    let done = Instant::now();
    let closed = closed_by_server(&mut bob, "easel board revoke", done).await;
    assert_eq!(closed.code, 4403, "{closed:?}");

    // `board grant` to a lower role: the next write is refused and applied nowhere.
    easel(&app, &["board", "grant", &board, "carol", "viewer"]).await;
    let done = Instant::now();
    // Carol's socket stays open as a viewer; a round trip through the room (Alice's shape
    // reaching her) does not prove the change arrived, so wait for the refusal itself.
    let mut attempt = 0;
    let (closed, last) = loop {
        attempt += 1;
        let shape = format!("carol-{attempt}");
        draw(&mut carol, &shape).await;
        if let Some(c) = carol.closed(Duration::from_millis(100)).await {
            break (c, shape);
        }
        assert!(done.elapsed() < WAIT, "carol was never demoted");
    };
    println!(
        "easel board grant (demotion): next write refused with {} after {:?}",
        closed.code,
        done.elapsed()
    );
    assert_eq!(closed.code, 4403, "{closed:?}");

    // `admin update-user --admin false`: the admin is no owner any more, and no member.
    easel(&app, &["admin", "update-user", "erin", "--admin", "false"]).await;
    let done = Instant::now();
    let closed = closed_by_server(&mut erin, "easel admin update-user --admin false", done).await;
    assert_eq!(closed.code, 4403, "{closed:?}");

    // `admin update-user --disabled true`: every socket of the account closes.
    easel(
        &app,
        &[
            "admin",
            "update-user",
            "frank@example.com",
            "--disabled",
            "true",
        ],
    )
    .await;
    let done = Instant::now();
    let closed =
        closed_by_server(&mut frank, "easel admin update-user --disabled true", done).await;
    assert_eq!(closed.code, 4403, "{closed:?}");

    // `board delete`: everyone on the board is disconnected with 4404.
    easel(&app, &["board", "delete", &doomed]).await;
    let done = Instant::now();
    for client in &mut on_doomed {
        let closed = closed_by_server(client, "easel board delete", done).await;
        assert_eq!(closed.code, 4404, "{closed:?}");
    }

    // Alice, whom nothing concerned, kept her socket; only what was allowed was applied.
    draw(&mut alice, "still-here").await;
    sees(&mut alice, "still-here").await;
    assert_eq!(alice.closed, None);
    let shapes = board_shapes(&app, &board, &ws("alice", false)).await;
    assert!(shapes.contains(&"by-admin".to_owned()) && shapes.contains(&"still-here".to_owned()));
    assert!(
        !shapes.contains(&last),
        "carol's refused write was never applied: {shapes:?}"
    );
}

#[tokio::test]
async fn the_command_line_reaches_live_sockets_on_postgres() {
    the_command_line_reaches_live_sockets(pg_app().await).await;
}

#[tokio::test]
async fn the_command_line_reaches_live_sockets_on_sqlite() {
    the_command_line_reaches_live_sockets(sqlite_app().await).await;
}

// (4) A listener that lost its connection catches up from the table.

/// How many change-feed listeners are connected to the test's own database, and their ids.
async fn listeners(conn: &mut sqlx::PgConnection) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'easel-events'",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

async fn until_listeners(conn: &mut sqlx::PgConnection, done: impl Fn(&[i32]) -> bool) -> Vec<i32> {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = listeners(conn).await;
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "listeners stayed at {now:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_listener_that_lost_its_connection_catches_up_from_the_table() {
    // The server reaches Postgres through a proxy this test owns and cuts; the test's own
    // changes go straight to Postgres, as another node's or the command line's would.
    // Polling while the listener is down is slowed to a second, the board check is off.
    let (app, proxy) =
        spawn_app_behind_proxy(&[NO_BOARD_CHECK, ("EASEL_EVENT_POLL_MS", "1000")]).await;
    let db = app.db.as_ref().unwrap();
    let mut admin = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let direct =
        easel::store::PostgresStore::connect(&db.url(), 2, Duration::from_secs(5)).unwrap();
    let board = board_with(
        &app,
        "alice",
        &[
            ("bob", Role::Editor),
            ("carol", Role::Editor),
            ("dave", Role::Editor),
        ],
    )
    .await;
    let board_id = BoardId::parse(&board).unwrap();
    let mut bob = join(&app, &board, &token("bob", false, HOUR)).await;
    let mut carol = join(&app, &board, &token("carol", false, HOUR)).await;
    let mut dave = join(&app, &board, &token("dave", false, HOUR)).await;
    let first = until_listeners(&mut admin, |l| l.len() == 1).await;

    // The listener's backend is terminated: the server opens a new one.
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(first[0])
        .execute(&mut admin)
        .await
        .unwrap();
    let started = Instant::now();
    let second = until_listeners(&mut admin, |l| l.len() == 1 && l[0] != first[0]).await;
    println!(
        "listener re-opened {:?} after its backend was terminated",
        started.elapsed()
    );
    assert_ne!(first, second);
    direct
        .remove_member(board_id, &UserId::parse("bob").unwrap())
        .await
        .unwrap();
    let done = Instant::now();
    let closed = closed_by_server(&mut bob, "removal after the listener came back", done).await;
    assert_eq!(closed.code, 4403, "{closed:?}");

    // The server loses Postgres altogether. A change committed while no listener is
    // connected is announced to nobody; the server finds it in the table once it is back.
    proxy.cut();
    until_listeners(&mut admin, |l| l.is_empty()).await;
    direct
        .remove_member(board_id, &UserId::parse("carol").unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(carol.closed, None);
    carol.pump(Duration::from_millis(200)).await;
    assert_eq!(carol.closed, None, "nothing could have told the server yet");
    proxy.restore();
    let restored = Instant::now();
    let closed = closed_by_server(&mut carol, "removal missed while disconnected", restored).await;
    assert_eq!(closed.code, 4403, "{closed:?}");
    until_listeners(&mut admin, |l| l.len() == 1).await;
    println!(
        "listener back {:?} after the proxy was restored",
        restored.elapsed()
    );

    // And it listens again.
    direct
        .remove_member(board_id, &UserId::parse("dave").unwrap())
        .await
        .unwrap();
    let done = Instant::now();
    let closed = closed_by_server(&mut dave, "removal after reconnecting", done).await;
    assert_eq!(closed.code, 4403, "{closed:?}");
    direct.close().await;
}
