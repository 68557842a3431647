//! The realtime core over real WebSockets: sync, durability, awareness, refusals, limits.

use std::time::Duration;

use easel::domain::Role;
use easel_tests::board::shape_count;
use easel_tests::yclient::{YClient, open};
use easel_tests::{board_with, spawn_app, spawn_app_with, spawn_pg_app_with, token};
use yrs::{Map, Transact};

const T: Duration = Duration::from_secs(10);
const HOUR: Duration = Duration::from_secs(3600);

fn shapes(c: &YClient) -> usize {
    shape_count(c.doc())
}

async fn draw(c: &mut YClient, from: usize, n: usize) {
    for i in from..from + n {
        c.draw(&format!("shape-{i}"), 10).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_reach_other_clients_and_survive_a_restart() {
    let app = spawn_app().await;
    let board = board_with(&app, "alice", &[("bob", Role::Editor)]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let mut b = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await && b.until(T, |c| c.synced).await);
    draw(&mut a, 0, 100).await;
    assert!(
        b.until(T, |c| shapes(c) == 100).await,
        "bob sees all 100 shapes"
    );
    draw(&mut b, 100, 5).await;
    assert!(a.until(T, |c| shapes(c) == 105).await, "alice sees bob's");

    // Everything anyone saw is in the store, and a restarted server serves it.
    app.stop().await;
    let url = app.db.as_ref().unwrap().url();
    let again = spawn_app_with(None, &[("DATABASE_URL", &url)]).await;
    let mut c = YClient::connect(&again.ws_url(&board, &token("bob", false, HOUR))).await;
    assert!(
        c.until(T, |c| c.synced && shapes(c) == 105).await,
        "a fresh client gets the full board"
    );
}

#[tokio::test]
async fn refusals_send_no_board_data() {
    let app = spawn_app().await;
    let board = board_with(&app, "alice", &[("viewer", Role::Viewer)]).await;
    let store = app.store().await;
    let id = easel::domain::BoardId::parse(&board).unwrap();
    store.append_updates(id, &[secret_update()]).await.unwrap();

    let keys =
        |secret: &str| easel::auth::JwtKeys::from_secret(&easel::config::Secret::new(secret));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |exp: u64, nbf: Option<u64>| easel::auth::Claims {
        sub: "alice".into(),
        exp,
        nbf,
        ..Default::default()
    };
    let test_keys = keys(easel_tests::TEST_JWT_SECRET);
    let none_alg = {
        use base64::Engine;
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.",
            b(r#"{"alg":"none","typ":"JWT"}"#),
            b(&format!(r#"{{"sub":"alice","exp":{}}}"#, now + 600))
        )
    };
    let cases: Vec<(&str, String, String, u16)> = vec![
        (
            "no token",
            format!("ws://127.0.0.1:{}/ws/boards/{board}", app.port),
            String::new(),
            4401,
        ),
        (
            "garbage token",
            app.ws_url(&board, "garbage"),
            String::new(),
            4401,
        ),
        (
            "wrong signature",
            app.ws_url(
                &board,
                &keys("another-secret-another-secret-0000")
                    .sign(&claims(now + 600, None))
                    .unwrap(),
            ),
            String::new(),
            4401,
        ),
        (
            "alg none",
            app.ws_url(&board, &none_alg),
            String::new(),
            4401,
        ),
        (
            "expired",
            app.ws_url(&board, &test_keys.sign(&claims(now - 600, None)).unwrap()),
            String::new(),
            4401,
        ),
        (
            "not yet valid",
            app.ws_url(
                &board,
                &test_keys.sign(&claims(now + 600, Some(now + 300))).unwrap(),
            ),
            String::new(),
            4401,
        ),
        (
            "not a member",
            app.ws_url(&board, &token("mallory", false, HOUR)),
            String::new(),
            4403,
        ),
        (
            "unknown board",
            app.ws_url(
                &uuid::Uuid::new_v4().to_string(),
                &token("alice", false, HOUR),
            ),
            String::new(),
            4404,
        ),
        (
            "malformed board id",
            app.ws_url("not-a-board", &token("alice", false, HOUR)),
            String::new(),
            4404,
        ),
    ];
    for (name, url, _, code) in cases {
        let ws = open(&url, None)
            .await
            .unwrap_or_else(|s| panic!("{name}: HTTP {s}"));
        let mut c = YClient::over(ws).await;
        let closed = c
            .closed(T)
            .await
            .unwrap_or_else(|| panic!("{name}: not closed"));
        assert_eq!(closed.code, code, "{name}: {closed:?}");
        assert_eq!(
            closed.frames_before, 0,
            "{name}: no board data before the close"
        );
        assert!(!closed.reason.is_empty(), "{name}: a reason is given");
        assert_eq!(shapes(&c), 0, "{name}");
    }

    // A foreign Origin is a plain HTTP 403; the server's own origin and no origin pass.
    let url = app.ws_url(&board, &token("alice", false, HOUR));
    assert_eq!(
        open(&url, Some("https://evil.example")).await.err(),
        Some(403)
    );
    assert!(
        open(&url, Some(&format!("http://127.0.0.1:{}", app.port)))
            .await
            .is_ok()
    );
    // A plain GET is a 400.
    let res = app.get(&format!("/ws/boards/{board}")).await;
    assert_eq!(res.status(), 400);

    // Valid editor, viewer and admin are accepted and receive the board.
    for user in ["alice", "viewer"] {
        let mut c = YClient::connect(&app.ws_url(&board, &token(user, false, HOUR))).await;
        assert!(
            c.until(T, |c| c.synced && shapes(c) == 1).await,
            "{user} gets the board"
        );
    }
    let mut admin = YClient::connect(&app.ws_url(&board, &token("root", true, HOUR))).await;
    assert!(
        admin.until(T, |c| c.synced && shapes(c) == 1).await,
        "admins may open any board"
    );
}

fn secret_update() -> Vec<u8> {
    let doc = yrs::Doc::new();
    let elements = doc.get_or_insert_map("elements");
    let mut txn = doc.transact_mut();
    elements.insert(&mut txn, "secret", "only members may see this");
    txn.encode_update_v1()
}

#[tokio::test]
async fn viewers_read_and_point_but_never_write() {
    let app = spawn_app().await;
    let board = board_with(&app, "alice", &[("vic", Role::Viewer)]).await;
    let mut alice = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let mut vic = YClient::connect(&app.ws_url(&board, &token("vic", false, HOUR))).await;
    assert!(alice.until(T, |c| c.synced).await && vic.until(T, |c| c.synced).await);
    draw(&mut alice, 0, 3).await;
    assert!(
        vic.until(T, |c| shapes(c) == 3).await,
        "viewers receive everything"
    );
    vic.set_awareness(serde_json::json!({"user": {"name": "Vic"}, "cursor": [1, 2]}))
        .await;
    assert!(
        alice
            .until(T, |c| c.peers().iter().any(|p| p.contains("Vic")))
            .await,
        "viewers' cursors are relayed"
    );

    draw(&mut vic, 100, 1).await;
    let closed = vic
        .closed(T)
        .await
        .expect("the viewer's write closes its socket");
    assert_eq!(closed.code, 4403, "{closed:?}");
    alice.pump(Duration::from_millis(300)).await;
    assert_eq!(shapes(&alice), 3, "the write never reached others");
    let stored = app.load(&board).await;
    assert_eq!(stored.updates.len(), 3, "nor the store");
    assert!(
        alice.until(T, |c| c.peers().is_empty()).await,
        "and the viewer's cursor vanished"
    );
}

#[tokio::test]
async fn awareness_arrives_is_echoed_and_is_removed_on_disconnect() {
    let app = spawn_app().await;
    let board = board_with(&app, "alice", &[("bob", Role::Editor)]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let mut b = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await && b.until(T, |c| c.synced).await);
    b.set_awareness(serde_json::json!({"user": {"name": "Bob"}}))
        .await;
    assert!(a.until(T, |c| c.peers().len() == 1).await);
    // A late joiner gets everyone's awareness on join.
    let mut c = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(
        c.until(T, |c| c.synced
            && c.peers().iter().any(|p| p.contains("Bob")))
            .await
    );
    b.drop_abruptly();
    assert!(
        a.until(T, |c| c.peers().is_empty()).await,
        "ghosts vanish when a socket drops"
    );
    assert!(c.until(T, |c| c.peers().is_empty()).await);
}

#[tokio::test]
async fn hostile_frames_close_only_the_sender() {
    let app = spawn_pg_app_with(&[("EASEL_MAX_MESSAGE_BYTES", "65536")]).await;
    let board = board_with(&app, "alice", &[("bob", Role::Editor)]).await;
    let mut good = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(good.until(T, |c| c.synced).await);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "garbage awareness",
            vec![1, 5, 0xde, 0xad, 0xbe, 0xef, 0x42],
            1007,
        ),
        ("truncated update", vec![0, 2, 50, 1, 2, 3], 1007),
        (
            "huge varint length",
            vec![0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            1007,
        ),
        ("unknown sync type", vec![0, 7, 0], 1007),
        ("oversize frame", vec![1; 70_000], 1009),
    ];
    for (name, bytes, code) in cases {
        let mut bad = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
        bad.send_raw(bytes).await;
        let closed = bad
            .closed(T)
            .await
            .unwrap_or_else(|| panic!("{name}: not closed"));
        assert_eq!(closed.code, code, "{name}: {closed:?}");
    }
    let mut texty = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
    texty.send_text("hello").await;
    assert_eq!(texty.closed(T).await.unwrap().code, 1003);

    draw(&mut good, 0, 2).await;
    let mut check = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
    assert!(
        check.until(T, |c| c.synced && shapes(c) == 2).await,
        "the room kept working"
    );
}

#[tokio::test]
async fn deleted_boards_and_expired_tokens_close_with_permanent_codes() {
    let app = spawn_app().await;
    let board = board_with(&app, "alice", &[]).await;
    let mut a =
        YClient::connect(&app.ws_url(&board, &token("alice", false, Duration::from_secs(2)))).await;
    assert!(a.until(T, |c| c.synced).await);
    let closed = a.closed(T).await.expect("closed when the token expires");
    assert_eq!(closed.code, 4401, "{closed:?}");

    let mut b = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(b.until(T, |c| c.synced).await);
    app.store()
        .await
        .delete_board(easel::domain::BoardId::parse(&board).unwrap())
        .await
        .unwrap();
    draw(&mut b, 0, 1).await;
    assert_eq!(b.closed(T).await.expect("closed").code, 4404);
}

#[tokio::test]
async fn metrics_count_connections_updates_and_refusals() {
    let app = spawn_app().await;
    let board = board_with(&app, "alice", &[("vic", Role::Viewer)]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await);
    draw(&mut a, 0, 3).await;
    let mut vic = YClient::connect(&app.ws_url(&board, &token("vic", false, HOUR))).await;
    assert!(vic.until(T, |c| c.synced && shapes(c) == 3).await);
    draw(&mut vic, 10, 1).await;
    assert_eq!(vic.closed(T).await.unwrap().code, 4403);

    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(value("easel_connections") >= 1.0, "{text}");
    assert!(value("easel_rooms") >= 1.0);
    assert!(value("easel_updates_applied_total") >= 3.0);
    assert!(value("easel_persist_batch_size_count") >= 1.0);
    assert!(value("easel_fanout_seconds_count") >= 1.0);
    assert!(value("easel_messages_in_total{kind=\"update\"}") >= 3.0);
    assert!(value("easel_bytes_out_total") > 0.0);
    assert!(value("easel_rejected_total{reason=\"read_only\"}") >= 1.0);
}
