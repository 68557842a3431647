//! Durability and limits of the realtime core: a SIGKILL loses nothing any client saw, a
//! store outage loses nothing and flips readiness, updates held back for a joiner go out
//! in order, slow, stalled, silent and flooding clients are closed with their documented
//! codes (or dropped by TCP) while others keep working.

use std::time::{Duration, Instant};

use easel::domain::Role;
use easel_tests::board::{rebuild, shape_keys};
use easel_tests::yclient::{YClient, open, open_with_receive_buffer, sync_frame};
use easel_tests::{
    ServerProcess, TestDb, board_with, spawn_app_behind_proxy, spawn_app_with, spawn_pg_app_with,
    token,
};
use yrs::{GetString, ReadTxn, Text, Transact};

const BIN: &str = env!("CARGO_BIN_EXE_easel-test-server");
const T: Duration = Duration::from_secs(15);
const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_nothing_any_client_had_received() {
    let db = TestDb::create().await;
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("EASEL_DATA_DIR", dir_s.as_str()),
    ];
    let mut server = ServerProcess::start(BIN, &env).await;
    let board = {
        let store = easel::store::PostgresStore::connect(&url, 2, Duration::from_secs(5)).unwrap();
        use easel::store::Store;
        let b = store
            .create_board(&easel::store::NewBoard {
                id: easel::domain::BoardId::new(),
                name: easel::domain::BoardName::parse("Crash").unwrap(),
                owner: easel::domain::UserId::parse("alice").unwrap(),
            })
            .await
            .unwrap();
        store
            .add_member(
                b.id,
                &easel::domain::UserId::parse("bob").unwrap(),
                Role::Editor,
            )
            .await
            .unwrap();
        store.close().await;
        b.id.to_string()
    };
    let mut writers = Vec::new();
    for w in 0..3 {
        let url = server.ws_url(&board, &token("alice", false, HOUR));
        writers.push(tokio::spawn(async move {
            let mut c = YClient::connect(&url).await;
            c.until(T, |c| c.synced).await;
            for i in 0.. {
                c.draw(&format!("w{w}-{i}"), 20).await;
                c.pump(Duration::from_millis(3)).await;
                if c.closed.is_some() {
                    break;
                }
            }
        }));
    }
    let mut watcher = YClient::connect(&server.ws_url(&board, &token("bob", false, HOUR))).await;
    watcher.pump(Duration::from_millis(800)).await;
    server.kill9();
    watcher.closed(T).await;
    let seen = shape_keys(watcher.doc());
    for w in writers {
        let _ = w.await;
    }
    assert!(
        seen.len() > 20,
        "the watcher saw a real stream of edits: {}",
        seen.len()
    );

    let server = ServerProcess::start(BIN, &env).await;
    let mut fresh = YClient::connect(&server.ws_url(&board, &token("bob", false, HOUR))).await;
    assert!(fresh.until(T, |c| c.synced).await);
    let reloaded = shape_keys(fresh.doc());
    let lost: Vec<_> = seen.difference(&reloaded).collect();
    assert!(
        lost.is_empty(),
        "{} of {} seen shapes lost after SIGKILL: {lost:?}",
        lost.len(),
        seen.len()
    );
    println!(
        "SIGKILL: watcher had seen {} shapes, reloaded board holds {}",
        seen.len(),
        reloaded.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_loses_nothing_and_flips_readiness() {
    let (app, proxy) = spawn_app_behind_proxy(&[("EASEL_DB_TIMEOUT_MS", "500")]).await;
    let board = board_with(&app, "alice", &[("bob", Role::Editor)]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let mut b = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await && b.until(T, |c| c.synced).await);
    a.draw("before", 10).await;
    assert!(b.until(T, |c| shape_keys(c.doc()).contains("before")).await);

    proxy.cut();
    for i in 0..5 {
        a.draw(&format!("during-{i}"), 10).await;
    }
    b.pump(Duration::from_millis(700)).await;
    assert_eq!(
        shape_keys(b.doc()).len(),
        1,
        "nothing unsaved is fanned out"
    );
    assert_eq!(app.get("/readyz").await.status(), 503);
    // Handshakes cannot read anyone's access: refused with 503 (stock clients retry),
    // alone or in a crowd whose reads were gathered into one.
    let url = app.ws_url(&board, &token("bob", false, HOUR));
    assert_eq!(open(&url, None).await.err(), Some(503), "a lone joiner");
    let crowd = futures_util::future::join_all((0..8).map(|_| open(&url, None))).await;
    assert!(
        crowd.iter().all(|r| r.as_ref().err() == Some(&503)),
        "a crowd of joiners"
    );

    proxy.restore();
    assert!(
        b.until(T, |c| shape_keys(c.doc()).len() == 6).await,
        "saved and delivered once the store is back"
    );
    let mut c = YClient::connect(&url).await;
    assert!(
        c.until(T, |c| shape_keys(c.doc()).len() == 6).await,
        "joins work again"
    );
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/readyz").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "/readyz came back");
    let stored = app.load(&board).await;
    assert_eq!(
        stored.updates.len(),
        6,
        "every accepted update is in the log, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_closed_with_1013_while_others_keep_up() {
    let app = spawn_pg_app_with(&[("EASEL_OUTBOUND_QUEUE", "16")]).await;
    let board = board_with(
        &app,
        "alice",
        &[("bob", Role::Editor), ("slow", Role::Viewer)],
    )
    .await;
    let mut writer = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let mut fast = YClient::connect(&app.ws_url(&board, &token("bob", false, HOUR))).await;
    let mut slow = YClient::connect(&app.ws_url(&board, &token("slow", false, HOUR))).await;
    assert!(writer.until(T, |c| c.synced).await && fast.until(T, |c| c.synced).await);

    // Unloaded latency first, then under a slow consumer that never reads.
    let latency = |label: &str, samples: Vec<Duration>| {
        let mut s = samples;
        s.sort();
        let p99 = s[(s.len() * 99 / 100).min(s.len() - 1)];
        println!(
            "{label}: p50 {:?} p99 {:?} over {} edits",
            s[s.len() / 2],
            p99,
            s.len()
        );
        p99
    };
    let mut unloaded = Vec::new();
    for i in 0..50 {
        let started = Instant::now();
        writer.draw(&format!("u{i}"), 100).await;
        assert!(
            fast.until(T, |c| shape_keys(c.doc()).contains(&format!("u{i}")))
                .await
        );
        unloaded.push(started.elapsed());
    }
    latency("fan-out, unloaded", unloaded);
    let mut loaded = Vec::new();
    for i in 0..300 {
        let started = Instant::now();
        writer.draw(&format!("l{i}"), 60_000).await;
        assert!(
            fast.until(T, |c| shape_keys(c.doc()).contains(&format!("l{i}")))
                .await,
            "the fast member keeps up"
        );
        loaded.push(started.elapsed());
    }
    latency("fan-out, with a slow consumer in the room", loaded);
    let closed = slow
        .closed(Duration::from_secs(60))
        .await
        .expect("the slow consumer is closed");
    assert_eq!(closed.code, 1013, "{closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_pauses_reading_gets_every_update_in_order_once_it_reads_again() {
    let app = spawn_pg_app_with(&[
        ("EASEL_RATE_LIMIT", "100000"),
        ("EASEL_RATE_BURST", "100000"),
    ])
    .await;
    let board = board_with(&app, "alice", &[("paused", Role::Viewer)]).await;
    let mut writer = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let paused_url = app.ws_url(&board, &token("paused", false, HOUR));
    let mut paused = YClient::over(open_with_receive_buffer(&paused_url, 4096).await).await;
    assert!(writer.until(T, |c| c.synced).await && paused.until(T, |c| c.synced).await);

    // While it reads nothing, far more arrives for it than its socket and the server's
    // socket queue (32 frames) hold: the room keeps the rest in order (fewer than
    // EASEL_OUTBOUND_QUEUE) and hands it on as the socket drains.
    let n = 600;
    for i in 0..n {
        writer.draw(&format!("p{i}"), 5_000).await;
    }
    writer.pump(Duration::from_millis(500)).await;

    let mut out_of_order = false;
    let all = paused
        .until(Duration::from_secs(30), |c| {
            out_of_order |= c.doc().transact().has_missing_updates();
            shape_keys(c.doc()).len() == n
        })
        .await;
    assert!(
        !out_of_order,
        "an update arrived before the one it builds on"
    );
    assert!(all, "the paused member got every update");
    assert!(
        paused.closed(Duration::from_millis(200)).await.is_none(),
        "and stays connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_larger_than_one_store_batch_is_saved_once_the_store_is_back() {
    let (app, proxy) = spawn_app_behind_proxy(&[
        ("EASEL_DB_TIMEOUT_MS", "500"),
        ("EASEL_RATE_LIMIT", "100000"),
        ("EASEL_RATE_BURST", "100000"),
    ])
    .await;
    let board = board_with(&app, "alice", &[]).await;
    let url = app.ws_url(&board, &token("alice", false, HOUR));
    let mut a = YClient::connect(&url).await;
    let mut b = YClient::connect(&url).await;
    assert!(a.until(T, |c| c.synced).await && b.until(T, |c| c.synced).await);

    // More unsaved updates than the store takes in one append.
    let n = easel::store::MAX_APPEND_BATCH + 50;
    proxy.cut();
    for i in 0..n {
        a.draw(&format!("s{i}"), 1).await;
    }
    a.pump(Duration::from_millis(300)).await;
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut saved = 0;
    while saved < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        saved = shape_keys(&rebuild(&app.load(&board).await)).len();
    }
    assert_eq!(saved, n, "every update is saved once the store is back");
    // The members were too slow for such a burst (1013) or kept up; either way a fresh
    // joiner gets the whole board.
    drop((a, b));
    let mut c = YClient::connect(&url).await;
    assert!(
        c.until(T, |c| shape_keys(c.doc()).len() == n).await,
        "a joiner sees the whole board"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_held_for_a_joiner_who_left_still_go_out_in_order() {
    let (app, proxy) = spawn_app_behind_proxy(&[("EASEL_DB_TIMEOUT_MS", "500")]).await;
    let board = board_with(&app, "alice", &[]).await;
    let url = app.ws_url(&board, &token("alice", false, HOUR));
    let mut author = YClient::connect(&url).await;
    let mut watcher = YClient::connect(&url).await;
    let mut joiner = YClient::connect(&url).await;
    for c in [&mut author, &mut watcher, &mut joiner] {
        assert!(c.until(T, |c| c.synced).await);
    }
    let title = author.doc().get_or_insert_text("title");
    let type_at_end = async |c: &mut YClient, text: &str| {
        c.edit(|txn| {
            let end = title.len(txn);
            title.insert(txn, end, text)
        })
        .await
    };

    // With the store down, the first edit waits unsaved; a step 1 that arrives now waits
    // for it, and edits after that are held back for the joiner's sake.
    proxy.cut();
    type_at_end(&mut author, "ab").await;
    author.pump(Duration::from_millis(100)).await;
    let sv = yrs::updates::encoder::Encode::encode_v1(&joiner.doc().transact().state_vector());
    joiner.send_raw(sync_frame(0, &sv)).await;
    joiner.pump(Duration::from_millis(100)).await;
    type_at_end(&mut author, "cd").await;
    author.pump(Duration::from_millis(100)).await;
    // The joiner leaves before it is answered; the next edit builds on the held one.
    joiner.close().await;
    type_at_end(&mut author, "ef").await;
    author.pump(Duration::from_millis(100)).await;
    proxy.restore();

    // The watcher must receive every edit after the ones it builds on.
    let mut out_of_order = false;
    let done = watcher
        .until(Duration::from_secs(30), |c| {
            let title = c.doc().get_or_insert_text("title");
            let txn = c.doc().transact();
            out_of_order |= txn.has_missing_updates();
            title.get_string(&txn) == "abcdef"
        })
        .await;
    assert!(!out_of_order, "an edit arrived before the one it builds on");
    assert!(done, "the watcher got every edit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_its_place_freed() {
    // Room for two connections on this node: the writer and the one that stops reading.
    let app = spawn_pg_app_with(&[
        ("EASEL_MAX_CONNECTIONS", "2"),
        ("EASEL_PING_SECS", "1"),
        ("EASEL_SILENCE_TIMEOUT_SECS", "3"),
    ])
    .await;
    let board = board_with(&app, "alice", &[("stuck", Role::Viewer)]).await;
    let mut writer = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    let stuck_url = app.ws_url(&board, &token("stuck", false, HOUR));
    let mut stuck = YClient::over(open_with_receive_buffer(&stuck_url, 4096).await).await;
    assert!(writer.until(T, |c| c.synced).await && stuck.until(T, |c| c.synced).await);
    assert_eq!(
        open(&stuck_url, None).await.err(),
        Some(503),
        "the node is full"
    );

    // From now on it never reads nor closes, while a steady trickle (one shape redrawn,
    // 60 kB every 20 ms) fills its socket and then the server's queue for it: no close
    // frame can reach it any more, so TCP must give up on it and its place come free.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut again = 'freed: loop {
        for _ in 0..10 {
            writer.draw("big", 60_000).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match open(&stuck_url, None).await {
            Ok(ws) => break 'freed YClient::over(ws).await,
            Err(503) if Instant::now() < deadline => {}
            Err(status) => panic!("the stalled client's place was never freed (HTTP {status})"),
        }
    };
    assert!(again.until(T, |c| c.synced).await, "the freed place works");
    assert_eq!(shape_keys(again.doc()), ["big".to_owned()].into());
    drop(stuck);
}

#[tokio::test]
async fn silent_clients_are_closed_and_floods_are_cut() {
    let app = spawn_pg_app_with(&[
        ("EASEL_PING_SECS", "1"),
        ("EASEL_SILENCE_TIMEOUT_SECS", "2"),
        ("EASEL_RATE_LIMIT", "20"),
        ("EASEL_RATE_BURST", "40"),
        ("EASEL_MAX_ROOM_CONNECTIONS", "3"),
    ])
    .await;
    let board = board_with(&app, "alice", &[]).await;
    let url = app.ws_url(&board, &token("alice", false, HOUR));

    // A client that never answers pings nor sends anything is closed.
    let silent = YClient::connect(&url).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        silent.raw_close_code(T).await,
        Some(1001),
        "closed for silence"
    );

    // A flood past the burst is cut with 1008.
    let mut flood = YClient::connect(&url).await;
    for _ in 0..200 {
        flood.send_raw(vec![3]).await;
    }
    let closed = flood.closed(T).await.expect("closed for flooding");
    assert_eq!(closed.code, 1008, "{closed:?}");

    // A full room refuses at the handshake with HTTP 503 (stock clients retry later).
    let mut members = Vec::new();
    for _ in 0..3 {
        let mut c = YClient::connect(&url).await;
        assert!(c.until(T, |c| c.synced).await);
        members.push(c);
    }
    assert_eq!(open(&url, None).await.err(), Some(503));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updates_unsaved_at_shutdown_are_spilled_and_saved_at_the_next_start() {
    let data = tempfile::tempdir().unwrap();
    let data_s = data.path().display().to_string();
    let (mut app, proxy) =
        spawn_app_behind_proxy(&[("EASEL_DB_TIMEOUT_MS", "500"), ("EASEL_DATA_DIR", &data_s)])
            .await;
    let board = board_with(&app, "alice", &[]).await;
    let mut a = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(a.until(T, |c| c.synced).await);
    a.draw("before", 10).await;
    let mut saved = false;
    for _ in 0..100 {
        if app.load(&board).await.updates.len() == 1 {
            saved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(saved, "the first shape is saved");

    proxy.cut();
    for i in 0..5 {
        a.draw(&format!("during-{i}"), 10).await;
    }
    a.pump(Duration::from_millis(300)).await;
    app.stop().await;
    let spilled: Vec<_> = std::fs::read_dir(data.path().join("unsaved"))
        .expect("a spill directory")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".updates"))
        .collect();
    assert_eq!(spilled.len(), 1, "one spill file for the board");

    proxy.restore();
    let db = app.db.take().expect("a Postgres app");
    let url = db.url();
    let next = spawn_app_with(
        Some(db),
        &[("DATABASE_URL", &url), ("EASEL_DATA_DIR", &data_s)],
    )
    .await;
    let doc = rebuild(&next.load(&board).await);
    let mut want: Vec<String> = (0..5).map(|i| format!("during-{i}")).collect();
    want.push("before".into());
    want.sort();
    assert_eq!(shape_keys(&doc).into_iter().collect::<Vec<_>>(), want);
    assert!(
        !spilled[0].path().exists(),
        "the spill file is deleted once replayed"
    );
    let mut c = YClient::connect(&next.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(c.until(T, |c| shape_keys(c.doc()).len() == 6).await);
}
