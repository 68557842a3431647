//! Room lifecycle over real sockets: concurrent first joins share one room, fresh joiners
//! get the current state however often it changed since the last one joined, and the
//! updates the board holds but cannot integrate yet; compaction by count and on unload
//! (v2 snapshots; v1 ones from before still load), graceful shutdown, document size cap,
//! and the unsaved backlog cap during a store outage.

use std::time::Duration;

use easel::domain::{BoardId, Role};
use easel::store::Encoding;
use easel_tests::board::{shape_count, shape_keys};
use easel_tests::yclient::{YClient, sync_frame};
use easel_tests::{
    TestApp, board_with, spawn_app_behind_proxy, spawn_app_with, spawn_pg_app_with,
    spawn_sqlite_app, token,
};
use yrs::updates::decoder::Decode;
use yrs::{GetString, Map, ReadTxn, Text, Transact};

const T: Duration = Duration::from_secs(15);
const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_joins_share_one_room() {
    let app = spawn_pg_app_with(&[]).await;
    let board = board_with(&app, "alice", &[]).await;
    let url = app.ws_url(&board, &token("alice", false, HOUR));
    let joins = (0..20).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let mut c = YClient::connect(&url).await;
            assert!(c.until(T, |c| c.synced).await);
            c
        })
    });
    let mut clients = Vec::new();
    for j in joins {
        clients.push(j.await.unwrap());
    }
    for (i, c) in clients.iter_mut().enumerate() {
        c.draw(&format!("s{i}"), 10).await;
    }
    for c in clients.iter_mut() {
        assert!(
            c.until(T, |c| shape_count(c.doc()) == 20).await,
            "nobody is stranded on a private copy of the room"
        );
    }
}

/// Joins as a fresh client and returns the shapes its sync step 2 held. Nobody edits while
/// it joins, so the step 2 alone brought them.
async fn fresh_join_sees(app: &TestApp, board: &str) -> Vec<String> {
    let mut c = YClient::connect(&app.ws_url(board, &token("alice", false, HOUR))).await;
    assert!(c.until(T, |c| c.synced).await, "the joiner syncs");
    let keys = shape_keys(c.doc()).into_iter().collect();
    c.close().await;
    keys
}

/// POSTs to the REST API as alice (the board's owner); returns the JSON answer.
async fn post_as_alice(
    app: &TestApp,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut req = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token("alice", false, HOUR));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "POST {path}: {}", res.status());
    res.json().await.unwrap()
}

#[tokio::test]
async fn fresh_joiners_get_every_edit_and_restore_made_since_the_last_one() {
    let app = spawn_sqlite_app().await;
    let board = board_with(&app, "alice", &[]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await);
    assert!(fresh_join_sees(&app, &board).await.is_empty());

    a.draw("s1", 10).await;
    a.pump(Duration::from_millis(100)).await;
    assert_eq!(fresh_join_sees(&app, &board).await, ["s1"]);
    assert_eq!(fresh_join_sees(&app, &board).await, ["s1"]);

    let version = post_as_alice(
        &app,
        &format!("/api/boards/{board}/versions"),
        Some(serde_json::json!({"name": "one shape"})),
    )
    .await;
    a.draw("s2", 10).await;
    a.pump(Duration::from_millis(100)).await;
    assert_eq!(fresh_join_sees(&app, &board).await, ["s1", "s2"]);

    let restore = format!(
        "/api/boards/{board}/versions/{}/restore",
        version["id"].as_str().unwrap()
    );
    post_as_alice(&app, &restore, None).await;
    assert_eq!(fresh_join_sees(&app, &board).await, ["s1"]);
}

/// Joins as a fresh client; returns the shapes it holds once synced and how many updates
/// came before its step 2 (the cached step 2's tail).
async fn fresh_join(app: &TestApp, board: &str) -> (Vec<String>, usize) {
    let mut c = YClient::connect(&app.ws_url(board, &token("alice", false, HOUR))).await;
    assert!(c.until(T, |c| c.synced).await, "the joiner syncs");
    let seen = (
        shape_keys(c.doc()).into_iter().collect(),
        c.updates_before_sync,
    );
    c.close().await;
    seen
}

#[tokio::test]
async fn fresh_joiners_get_recent_updates_before_a_cached_step_2_until_re_encoding_pays() {
    // A connection queue of 16 frames bounds the tail a joiner replays at 4 updates.
    let app = spawn_app_with(None, &[("EASEL_OUTBOUND_QUEUE", "16")]).await;
    let board = board_with(&app, "alice", &[]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await);
    let drawn = |n: usize| -> Vec<String> {
        let mut keys: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        keys.sort();
        keys
    };
    assert_eq!(fresh_join(&app, &board).await, (drawn(0), 0));
    for i in 0..3 {
        a.draw(&format!("s{i}"), 10).await;
        a.pump(Duration::from_millis(50)).await;
    }
    // The step 2 encoded for the first joiner, and the three saved updates since.
    assert_eq!(fresh_join(&app, &board).await, (drawn(3), 3));
    assert_eq!(fresh_join(&app, &board).await, (drawn(3), 3));
    for i in 3..10 {
        a.draw(&format!("s{i}"), 10).await;
        a.pump(Duration::from_millis(50)).await;
    }
    // Ten updates outgrew the tail: the next joiner gets a new encoding, and so does the
    // one after it, which then finds nothing to replay.
    assert_eq!(fresh_join(&app, &board).await, (drawn(10), 0));
    assert_eq!(fresh_join(&app, &board).await, (drawn(10), 0));
    a.draw("s10", 10).await;
    a.pump(Duration::from_millis(50)).await;
    assert_eq!(fresh_join(&app, &board).await, (drawn(11), 1));
}

#[tokio::test]
async fn boards_are_compacted_by_count_and_when_unloaded() {
    let app =
        spawn_pg_app_with(&[("EASEL_COMPACT_EVERY", "5"), ("EASEL_ROOM_IDLE_SECS", "1")]).await;
    let board = board_with(&app, "alice", &[]).await;
    let id = BoardId::parse(&board).unwrap();
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await);
    for i in 0..12 {
        a.draw(&format!("s{i}"), 10).await;
        a.pump(Duration::from_millis(20)).await;
    }
    let store = app.store().await;
    let mut compacted = false;
    for _ in 0..50 {
        let doc = store.load(id).await.unwrap();
        if let Some(s) = doc.snapshot.as_ref().filter(|s| s.seq >= 5) {
            assert_eq!(s.encoding, Encoding::V2, "compaction writes v2 snapshots");
            compacted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(compacted, "a snapshot was written after 5 logged updates");

    a.close().await;
    let mut folded = false;
    for _ in 0..50 {
        let doc = store.load(id).await.unwrap();
        if doc.updates.is_empty() && doc.snapshot.as_ref().is_some_and(|s| s.seq == doc.last_seq) {
            folded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(folded, "unloading folded the whole log into the snapshot");
    let mut b = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(
        b.until(T, |c| c.synced && shape_count(c.doc()) == 12).await,
        "the board reloads from its snapshot"
    );
}

#[tokio::test]
async fn shutdown_saves_and_closes_sockets_with_1001() {
    let app = spawn_pg_app_with(&[("EASEL_COMPACT_EVERY", "1000000")]).await;
    let board = board_with(&app, "alice", &[]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await);
    for i in 0..5 {
        a.draw(&format!("s{i}"), 10).await;
    }
    a.pump(Duration::from_millis(200)).await;
    app.stop().await;
    let closed = a.closed(T).await.expect("closed on shutdown");
    assert_eq!(closed.code, 1001, "{closed:?}");
    let doc = app
        .store()
        .await
        .load(BoardId::parse(&board).unwrap())
        .await
        .unwrap();
    assert!(doc.updates.is_empty(), "shutdown compacted the board");
    assert_eq!(
        doc.snapshot.map(|s| (s.seq, s.encoding)),
        Some((5, Encoding::V2))
    );
}

#[tokio::test]
async fn a_board_with_a_v1_snapshot_from_before_loads_and_its_next_snapshot_is_v2() {
    let app = spawn_pg_app_with(&[("EASEL_ROOM_IDLE_SECS", "1")]).await;
    let board = board_with(&app, "alice", &[]).await;
    let id = BoardId::parse(&board).unwrap();
    let store = app.store().await;
    // What a room wrote before snapshots were v2: three shapes in a v1 snapshot, two more
    // in the log after it.
    let doc = yrs::Doc::new();
    let elements = doc.get_or_insert_map("elements");
    let mut log = Vec::new();
    for i in 0..5 {
        let mut txn = doc.transact_mut();
        elements.insert(&mut txn, format!("old{i}"), i as f64);
        log.push(txn.encode_update_v1());
    }
    store.append_updates(id, &log).await.unwrap();
    let first_three = yrs::Doc::new();
    for update in &log[..3] {
        first_three
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(update).unwrap())
            .unwrap();
    }
    let v1 = first_three
        .transact()
        .encode_state_as_update_v1(&yrs::StateVector::default());
    assert!(store.compact(id, &v1, Encoding::V1, 3).await.unwrap());

    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(
        a.until(T, |c| c.synced && shape_count(c.doc()) == 5).await,
        "the v1 snapshot and the log after it load"
    );
    a.draw("new", 10).await;
    a.pump(Duration::from_millis(50)).await;
    a.close().await;
    let mut folded = None;
    for _ in 0..50 {
        let doc = store.load(id).await.unwrap();
        if doc.snapshot.as_ref().is_some_and(|s| s.seq == 6) {
            folded = Some(doc);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let folded = folded.expect("unloading compacted the board");
    assert_eq!(folded.snapshot.as_ref().unwrap().encoding, Encoding::V2);
    assert_eq!(shape_count(&easel_tests::board::rebuild(&folded)), 6);
    let mut b = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(
        b.until(T, |c| c.synced && shape_count(c.doc()) == 6).await,
        "the board reloads from its v2 snapshot"
    );
}

#[tokio::test]
async fn documents_over_the_size_cap_are_refused_with_4413() {
    let app = spawn_pg_app_with(&[("EASEL_MAX_DOC_BYTES", "4096")]).await;
    let board = board_with(&app, "alice", &[]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await);
    a.draw("small", 100).await;
    a.draw("huge", 8000).await;
    assert_eq!(a.closed(T).await.expect("closed").code, 4413);
    let mut b = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(
        b.until(T, |c| c.synced && shape_count(c.doc()) == 1).await,
        "the small shape stays, the huge one never landed"
    );
}

#[tokio::test]
async fn the_unsaved_backlog_is_bounded_during_an_outage() {
    let (app, proxy) = spawn_app_behind_proxy(&[
        ("EASEL_DB_TIMEOUT_MS", "300"),
        ("EASEL_MAX_PENDING_BYTES", "4096"),
    ])
    .await;
    let board = board_with(&app, "alice", &[("bob", Role::Editor)]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let mut b = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await && b.until(T, |c| c.synced).await);
    proxy.cut();
    a.draw("kept-1", 1000).await;
    a.draw("kept-2", 1000).await;
    a.pump(Duration::from_millis(200)).await;
    for i in 0..5 {
        a.draw(&format!("refused-{i}"), 1000).await;
    }
    assert_eq!(
        a.closed(T).await.expect("closed past the backlog").code,
        4503
    );
    proxy.restore();
    assert!(
        b.until(T, |c| shape_count(c.doc()) >= 2).await,
        "what was accepted is saved and delivered"
    );
    let doc = b.doc();
    let elements = doc.get_or_insert_map("elements");
    let txn = doc.transact();
    assert!(elements.contains_key(&txn, "kept-1") && elements.contains_key(&txn, "kept-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_board_deleted_by_another_process_closes_its_quiet_sockets() {
    let app = spawn_pg_app_with(&[("EASEL_BOARD_CHECK_SECS", "1")]).await;
    let board = board_with(&app, "alice", &[("vera", Role::Viewer)]).await;
    let mut viewer = YClient::connect(&app.ws_url(&board, &token("vera", false, HOUR))).await;
    assert!(viewer.until(T, |c| c.synced).await);
    // As `easel board delete` would, from outside the server.
    let store = app.store().await;
    store
        .delete_board(BoardId::parse(&board).unwrap())
        .await
        .unwrap();
    let closed = viewer.closed(T).await.expect("the viewer is closed");
    assert_eq!(closed.code, 4404, "{closed:?}");
}

#[tokio::test]
async fn joiners_get_the_updates_a_board_holds_until_their_dependencies_arrive() {
    let app = spawn_app_with(None, &[]).await;
    let board = board_with(&app, "alice", &[]).await;
    let url = app.ws_url(&board, &token("alice", false, HOUR));
    let mut a = YClient::connect(&url).await;
    let mut b = YClient::connect(&url).await;
    assert!(a.until(T, |c| c.synced).await && b.until(T, |c| c.synced).await);

    // Alice's edits reach the server out of order, as when her earlier ones were still on
    // a connection she had left: it holds the later ones, which build on text it has not
    // seen (an insertion after it, a deletion of part of it), and fans them out.
    let title = a.doc().get_or_insert_text("title");
    let edit = |f: &dyn Fn(&mut yrs::TransactionMut)| {
        let mut txn = a.doc().transact_mut();
        f(&mut txn);
        txn.encode_update_v1()
    };
    let first = edit(&|txn| title.insert(txn, 0, "ab"));
    let after = edit(&|txn| title.insert(txn, 2, "cd"));
    let delete = edit(&|txn| title.remove_range(txn, 0, 1));
    a.send_raw(sync_frame(2, &after)).await;
    a.send_raw(sync_frame(2, &delete)).await;
    b.pump(Duration::from_millis(300)).await;
    assert!(
        b.doc().transact().has_missing_updates(),
        "b waits for the text they build on"
    );

    // Newcomers join now: a fresh one, and one that brings its own edit.
    let mut fresh = YClient::connect(&url).await;
    let mut own = YClient::connect(&url).await;
    own.draw("own", 10).await;
    assert!(fresh.until(T, |c| c.synced).await && own.until(T, |c| c.synced).await);

    // Once the missing edit arrives, everyone holds the whole board.
    a.send_raw(sync_frame(2, &first)).await;
    let whole = |c: &YClient| {
        let text = c.doc().get_or_insert_text("title");
        let txn = c.doc().transact();
        text.get_string(&txn) == "bcd" && !txn.has_missing_updates()
    };
    for (name, c) in [("b", &mut b), ("fresh", &mut fresh), ("own", &mut own)] {
        assert!(c.until(T, whole).await, "{name} holds the whole title");
    }
}
