//! Attacks on the realtime core, reproduced against the real server: messages that made
//! yrs recurse until the process aborted, stalled readers that made the server hold
//! gigabytes, presence spoofing, and small inputs that cost far more memory than their
//! size. Each test checks the attacker gets the documented close code or status, the
//! server stays up for everyone else, nothing of the attack reaches the board, and (where
//! memory was the attack) the server's memory stays within a bound the test prints.
//! Memory is read from a real `easel serve` process (`/proc/PID/status`).

use std::collections::HashMap;
use std::time::Duration;

use easel::domain::Role;
use easel_tests::yclient::{YClient, awareness_frame, open_with_receive_buffer, sync_frame};
use easel_tests::{ServerProcess, TestDb, board_with, spawn_app, spawn_sqlite_app, token};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use yrs::sync::AwarenessUpdate;
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::{ClientID, Map, ReadTxn, Transact};

const BIN: &str = env!("CARGO_BIN_EXE_easel-test-server");
const T: Duration = Duration::from_secs(15);
const HOUR: Duration = Duration::from_secs(3600);

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A v1 update whose one item, in the root array `r`, holds a value nested `depth` deep
/// (arrays in arrays, or maps in maps).
fn nested_update(client: u64, depth: usize, maps: bool) -> Vec<u8> {
    let mut u = Vec::new();
    for n in [1, 1, client, 0] {
        varint(&mut u, n);
    }
    u.extend([8, 1, 1, b'r', 1]);
    for _ in 0..depth {
        u.extend(if maps {
            &[118u8, 1, 1, b'k'][..]
        } else {
            &[117u8, 1][..]
        });
    }
    u.extend([126, 0]);
    u
}

/// A v1 update creating one shared map by `client` at `clock`: in the root array `r`, or
/// inside the map created at `parent_clock`.
fn map_update(client: u64, clock: u32, parent_clock: Option<u32>) -> Vec<u8> {
    let mut u = Vec::new();
    for n in [1, 1, client, clock as u64] {
        varint(&mut u, n);
    }
    u.push(7);
    match parent_clock {
        None => u.extend([1, 1, b'r']),
        Some(p) => {
            u.push(0);
            varint(&mut u, client);
            varint(&mut u, p as u64);
        }
    }
    u.extend([1, 0]);
    u
}

/// `(VmRSS, VmHWM)` of a process, in MB.
fn memory_of(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

/// A real `easel serve` process on a fresh Postgres database, and a board on it owned by
/// `alice` with `members`.
async fn server_process(
    env: &[(&str, &str)],
    members: &[(&str, Role)],
) -> (ServerProcess, TestDb, tempfile::TempDir, String) {
    use easel::store::Store;
    let db = TestDb::create().await;
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().display().to_string();
    let mut all = vec![
        ("DATABASE_URL", url.as_str()),
        ("EASEL_DATA_DIR", dir_s.as_str()),
    ];
    all.extend_from_slice(env);
    let server = ServerProcess::start(BIN, &all).await;
    let store = easel::store::PostgresStore::connect(&url, 2, Duration::from_secs(5)).unwrap();
    let board = store
        .create_board(&easel::store::NewBoard {
            id: easel::domain::BoardId::new(),
            name: easel::domain::BoardName::parse("Target").unwrap(),
            owner: easel::domain::UserId::parse("alice").unwrap(),
        })
        .await
        .unwrap();
    for (user, role) in members {
        let user = easel::domain::UserId::parse(user).unwrap();
        store.add_member(board.id, &user, *role).await.unwrap();
    }
    store.close().await;
    (server, db, dir, board.id.to_string())
}

/// Whether the board, as stored, holds anything in the root array the attacks write to.
async fn stored_attack(app: &easel_tests::TestApp, board: &str) -> bool {
    let doc = easel_tests::board::rebuild(&app.load(board).await);
    let txn = doc.transact();
    txn.get_array("r")
        .is_some_and(|r| yrs::Array::len(&r, &txn) > 0)
}

#[tokio::test]
async fn one_deeply_nested_message_closes_its_sender_and_nothing_else() {
    for app in [spawn_app().await, spawn_sqlite_app().await] {
        let board = board_with(&app, "alice", &[("vic", Role::Viewer)]).await;
        let mut alice = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
        assert!(alice.until(T, |c| c.synced).await);
        // Any role, an update or a sync step 2, arrays or maps: decoding it used to
        // overflow the stack and abort the whole process.
        let attacks = [
            ("vic", 2, nested_update(7, 10_000, false)),
            ("vic", 1, nested_update(7, 10_000, true)),
            ("alice", 2, nested_update(8, 50_000, false)),
            ("alice", 1, nested_update(8, 33, true)),
        ];
        for (user, sub, update) in attacks {
            let mut attacker =
                YClient::connect(&app.ws_url(&board, &token(user, false, HOUR))).await;
            assert!(attacker.until(T, |c| c.synced).await);
            attacker.send_raw(sync_frame(sub, &update)).await;
            let closed = attacker.closed(T).await.expect("the attacker is closed");
            assert_eq!(closed.code, 1007, "{user} {sub}: {closed:?}");
            assert!(closed.reason.contains("nested"), "{closed:?}");
        }
        // The server is up, the room works, and nothing of the attacks was applied.
        assert_eq!(app.get("/healthz").await.status(), 200);
        alice.draw("after", 10).await;
        let mut late = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
        assert!(
            late.until(T, |c| c.synced
                && c.doc().transact().get_map("elements").is_some())
                .await
        );
        assert!(late.doc().transact().get_array("r").is_none());
        assert!(!stored_attack(&app, &board).await);
        // A nesting within the limit is an ordinary edit.
        alice
            .send_raw(sync_frame(2, &nested_update(9, 20, false)))
            .await;
        assert!(
            late.until(T, |c| c.doc().transact().get_array("r").is_some())
                .await
        );
    }
}

#[tokio::test]
async fn shared_types_nested_across_many_updates_stop_at_the_limit() {
    let app = spawn_app().await;
    let board = board_with(&app, "alice", &[]).await;
    let mut alice = YClient::connect(&app.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(alice.until(T, |c| c.synced).await);
    // Each update nests one more map in the last one; deleting the top of a chain a few
    // thousand deep used to overflow the stack in yrs's recursive delete.
    let mut sent = 0;
    for clock in 0..200u32 {
        alice
            .send_raw(sync_frame(2, &map_update(5, clock, clock.checked_sub(1))))
            .await;
        sent += 1;
        if alice.closed.is_some() {
            break;
        }
        alice.pump(Duration::from_millis(2)).await;
    }
    let closed = alice.closed(T).await.expect("the nesting is refused");
    assert_eq!(closed.code, 1007, "{closed:?}");
    assert!((33..=40).contains(&sent), "refused after {sent} updates");
    let mut saved = 0;
    for _ in 0..100 {
        saved = app.load(&board).await.updates.len();
        if saved == 32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(saved, 32, "32 levels saved, none deeper");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_deeply_nested_import_is_a_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/api/boards/import?format=yjs", app.address))
        .bearer_auth(token("alice", false, HOUR))
        .header("Content-Type", "application/octet-stream")
        .body(nested_update(3, 10_000, false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nested"),
        "{body}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// A client that stops reading: a raw socket with a tiny receive buffer.
async fn stalled(url: &str) -> easel_tests::yclient::Ws {
    open_with_receive_buffer(url, 4096).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_reader_asking_for_everyone_is_closed_within_its_byte_budget() {
    let (server, _db, _dir, board) = server_process(&[], &[("vic", Role::Viewer)]).await;
    let pid = server.child.id();
    // Forty members, each with an awareness state just under the 8 KiB cap.
    let mut members = Vec::new();
    for i in 0..40 {
        let mut m = YClient::connect(&server.ws_url(&board, &token("alice", false, HOUR))).await;
        assert!(m.until(T, |c| c.synced).await);
        m.set_awareness(
            serde_json::json!({"user": {"name": format!("m{i}")}, "pad": "x".repeat(8000)}),
        )
        .await;
        members.push(m);
    }
    for m in &mut members {
        m.pump(Duration::from_millis(20)).await;
    }
    // The issue's attack as it was: a 1 MiB state, and 1,200 queries in one frame.
    let url = server.ws_url(&board, &token("vic", false, HOUR));
    let mut big = YClient::connect(&url).await;
    big.set_awareness(serde_json::json!({"pad": "x".repeat(1 << 20)}))
        .await;
    assert_eq!(big.closed(T).await.expect("closed").code, 1009);
    let mut many = YClient::connect(&url).await;
    many.send_raw(vec![3; 1200]).await;
    assert_eq!(many.closed(T).await.expect("closed").code, 1008);

    // Within every per-message limit: queries at the sustained rate, never reading.
    let (before, _) = memory_of(pid);
    let mut ws = stalled(&url).await;
    let mut closed = false;
    for _ in 0..2_000 {
        if ws.send(Message::Binary(vec![3].into())).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(6)).await;
    }
    let (after, peak) = memory_of(pid);
    println!(
        "stalled reader asking for 40 x 8 KiB states: RSS {before:.0} MB before, peak {peak:.0} MB, {after:.0} MB after"
    );
    let code = easel_tests::yclient::raw_close_code(ws, T).await;
    assert!(closed || code.is_some(), "the stalled reader was closed");
    assert_eq!(code, Some(1013), "closed as too slow");
    assert!(
        peak - before < 200.0,
        "the server grew by {:.0} MB for one stalled reader",
        peak - before
    );
    // Everyone else is still served.
    members[0].draw("still", 10).await;
    assert!(
        members[1]
            .until(T, |c| c.doc().transact().get_map("elements").is_some())
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_reader_asking_for_the_board_is_closed_within_its_byte_budget() {
    let (server, _db, _dir, board) = server_process(&[], &[("vic", Role::Viewer)]).await;
    let pid = server.child.id();
    let mut alice = YClient::connect(&server.ws_url(&board, &token("alice", false, HOUR))).await;
    assert!(alice.until(T, |c| c.synced).await);
    for i in 0..16 {
        alice.draw(&format!("s{i}"), 64 << 10).await;
    }
    alice.pump(Duration::from_millis(500)).await;
    let url = server.ws_url(&board, &token("vic", false, HOUR));
    // 1,200 step 1s in one frame: too many messages.
    let mut many = YClient::connect(&url).await;
    let mut frame = Vec::new();
    let unknown = {
        let mut sv = Vec::new();
        varint(&mut sv, 1);
        varint(&mut sv, 424_242);
        varint(&mut sv, 1);
        sv
    };
    for _ in 0..1200 {
        frame.extend(sync_frame(0, &unknown));
    }
    many.send_raw(frame).await;
    assert_eq!(many.closed(T).await.expect("closed").code, 1008);

    // A step 1 per frame at the sustained rate, each answered with the whole 1 MiB board
    // encoded for it alone, never read.
    let (before, _) = memory_of(pid);
    let mut ws = stalled(&url).await;
    for _ in 0..1_000 {
        if ws
            .send(Message::Binary(sync_frame(0, &unknown).into()))
            .await
            .is_err()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(6)).await;
    }
    let (after, peak) = memory_of(pid);
    println!(
        "stalled reader asking for a 1 MiB board: RSS {before:.0} MB before, peak {peak:.0} MB, {after:.0} MB after"
    );
    assert_eq!(
        easel_tests::yclient::raw_close_code(ws, T).await,
        Some(1013)
    );
    assert!(
        peak - before < 200.0,
        "the server grew by {:.0} MB for one stalled reader",
        peak - before
    );
}

/// An awareness update for one client id.
fn presence(id: u64, clock: u32, json: &str) -> Vec<u8> {
    awareness_frame(&AwarenessUpdate {
        clients: HashMap::from([(
            ClientID::new(id),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        )]),
    })
}

#[tokio::test]
async fn nobody_can_speak_for_another_connection() {
    let app = spawn_app().await;
    let board = board_with(&app, "ada", &[("mallory", Role::Viewer)]).await;
    let mut ada = YClient::connect(&app.ws_url(&board, &token("ada", false, HOUR))).await;
    let mut watcher = YClient::connect(&app.ws_url(&board, &token("ada", false, HOUR))).await;
    assert!(ada.until(T, |c| c.synced).await && watcher.until(T, |c| c.synced).await);
    ada.set_awareness(serde_json::json!({"user": {"name": "Ada"}, "cursor": [1, 2]}))
        .await;
    assert!(
        watcher
            .until(T, |c| c.peers().iter().any(|p| p.contains("Ada")))
            .await
    );
    let ada_id = ada.awareness.client_id().get();

    let mut mallory = YClient::connect(&app.ws_url(&board, &token("mallory", false, HOUR))).await;
    assert!(mallory.until(T, |c| c.synced).await);
    // Overwrite Ada's name and cursor, delete her entry, claim her id with a later clock.
    mallory
        .send_raw(presence(
            ada_id,
            50,
            r#"{"user":{"name":"Mallory"},"cursor":[9,9]}"#,
        ))
        .await;
    mallory.send_raw(presence(ada_id, 51, "null")).await;
    mallory
        .set_awareness(serde_json::json!({"user": {"name": "M"}}))
        .await;
    // A second id of Mallory's own is refused too: one connection, one presence.
    mallory
        .send_raw(presence(99, 1, r#"{"user":{"name":"Ghost"}}"#))
        .await;
    watcher.pump(Duration::from_millis(300)).await;
    let peers = watcher.peers();
    assert!(peers.iter().any(|p| p.contains("Ada")), "{peers:?}");
    assert!(
        !peers
            .iter()
            .any(|p| p.contains("Mallory") || p.contains("Ghost")),
        "{peers:?}"
    );
    // A newcomer sees Ada as she set herself, and Mallory as herself.
    let mut newcomer = YClient::connect(&app.ws_url(&board, &token("ada", false, HOUR))).await;
    assert!(
        newcomer
            .until(T, |c| c.synced && c.peers().len() == 2)
            .await
    );
    let state = |c: &YClient, id: u64| {
        c.awareness
            .iter()
            .find(|(cid, _)| cid.get() == id)
            .and_then(|(_, s)| s.data.map(|d| d.to_string()))
    };
    assert!(state(&newcomer, ada_id).unwrap().contains("Ada"));
    // When Mallory leaves, exactly her state goes; Ada's stays.
    mallory.close().await;
    assert!(watcher.until(T, |c| c.peers().len() == 1).await);
    assert!(state(&watcher, ada_id).unwrap().contains("Ada"));
    // And when Ada says she is gone, she is.
    ada.send_raw(presence(
        ada_id,
        ada.awareness.meta(ada.awareness.client_id()).unwrap().0 + 1,
        "null",
    ))
    .await;
    assert!(watcher.until(T, |c| c.peers().is_empty()).await);
    let mut last = YClient::connect(&app.ws_url(&board, &token("ada", false, HOUR))).await;
    assert!(last.until(T, |c| c.synced).await);
    last.pump(Duration::from_millis(200)).await;
    assert!(
        last.peers().is_empty(),
        "no ghost of a removed state: {:?}",
        last.peers()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn small_inputs_cannot_buy_large_memory() {
    let (server, _db, _dir, board) = server_process(
        &[("EASEL_MAX_DOC_BYTES", "8388608")],
        &[("bob", Role::Editor)],
    )
    .await;
    let pid = server.child.id();
    let url = server.ws_url(&board, &token("bob", false, HOUR));
    let (start, _) = memory_of(pid);

    // 16 MiB of one-byte messages in one frame (it took 730 MB to decode).
    let mut flood = YClient::connect(&url).await;
    flood.send_raw(vec![3; 16 << 20]).await;
    assert_eq!(flood.closed(T).await.expect("closed").code, 1008);
    let (_, peak) = memory_of(pid);
    println!("16 MiB frame of 16 million messages: RSS {start:.0} MB before, peak {peak:.0} MB");
    assert!(peak - start < 150.0, "grew by {:.0} MB", peak - start);

    // Half a million map keys in one 6 MB update (519 MB held): under the encoded cap of
    // 8 MiB, over the memory the cap allows.
    let keys = {
        let doc = yrs::Doc::new();
        let map = doc.get_or_insert_map("r");
        let mut txn = doc.transact_mut();
        for i in 0..500_000 {
            map.insert(&mut txn, i.to_string(), yrs::Any::Null);
        }
        txn.encode_update_v1()
    };
    assert!(keys.len() < 8 << 20);
    let mut keyer = YClient::connect(&url).await;
    assert!(keyer.until(T, |c| c.synced).await);
    keyer.send_raw(sync_frame(2, &keys)).await;
    assert_eq!(keyer.closed(T).await.expect("closed").code, 4413);
    let (_, peak) = memory_of(pid);
    println!("500,000 keys in a 6 MB update: peak {peak:.0} MB");
    assert!(peak - start < 400.0, "grew by {:.0} MB", peak - start);

    // Four million nulls in a 4 MB update: refused before decoding (a frame may not cost
    // more than 20 times EASEL_MAX_MESSAGE_BYTES decoded); the same in smaller updates
    // stops at the board's memory bound.
    let nulls = |n: u32| {
        let mut u = vec![1, 1, 1, 0, 8, 1, 1, b'r'];
        varint(&mut u, n as u64);
        u.extend(std::iter::repeat_n(126u8, n as usize));
        u.push(0);
        u
    };
    let mut nuller = YClient::connect(&url).await;
    assert!(nuller.until(T, |c| c.synced).await);
    let mut clock = 0u32;
    let mut refused = None;
    for _ in 0..100 {
        let mut u = Vec::new();
        for n in [1, 1, 11, clock as u64] {
            varint(&mut u, n);
        }
        u.extend_from_slice(&nulls(1_000_000)[4..]);
        nuller.send_raw(sync_frame(2, &u)).await;
        clock += 1_000_000;
        if let Some(closed) = nuller.closed(Duration::from_millis(300)).await {
            refused = Some(closed.code);
            break;
        }
    }
    assert_eq!(refused, Some(4413), "the board's memory is bounded");
    let (_, peak) = memory_of(pid);
    println!("one million nulls per update until refused: peak {peak:.0} MB");
    assert!(peak - start < 600.0, "grew by {:.0} MB", peak - start);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whole_board_conversions_take_turns() {
    const SHAPES: usize = 60_000;
    let (server, _db, _dir, _board) = server_process(&[], &[]).await;
    let pid = server.child.id();
    let address = format!("http://127.0.0.1:{}", server.port);
    let client = reqwest::Client::new();
    let keys = {
        let doc = yrs::Doc::new();
        let map = doc.get_or_insert_map("elements");
        let mut txn = doc.transact_mut();
        for i in 0..SHAPES {
            map.insert(&mut txn, format!("shape-{i}"), yrs::Any::Null);
        }
        txn.encode_update_v1()
    };
    let (start, _) = memory_of(pid);
    // Six imports at once: they take turns, two at a time, and all succeed.
    let imports = (0..6).map(|_| {
        let (client, url, body) = (
            client.clone(),
            format!("{address}/api/boards/import?format=yjs&name=Copy"),
            keys.clone(),
        );
        tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token("alice", false, HOUR))
                .header("Content-Type", "application/octet-stream")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
    });
    let mut boards = Vec::new();
    for import in imports {
        boards.push(import.await.unwrap());
    }
    let (_, peak) = memory_of(pid);
    println!(
        "6 concurrent imports of a {} KB board of {SHAPES} keys: RSS {start:.0} MB before, peak {peak:.0} MB",
        keys.len() >> 10
    );
    // Six JSON exports at once, written straight to text.
    let exports = boards.iter().map(|board| {
        let (client, url) = (
            client.clone(),
            format!("{address}/api/boards/{board}/export?format=json"),
        );
        tokio::spawn(async move {
            let response = client
                .get(url)
                .bearer_auth(token("alice", false, HOUR))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let json: serde_json::Value = response.json().await.unwrap();
            json["elements"].as_object().unwrap().len()
        })
    });
    for export in exports {
        assert_eq!(export.await.unwrap(), SHAPES);
    }
    let (_, peak) = memory_of(pid);
    println!("and 6 concurrent JSON exports of them: peak {peak:.0} MB");
    assert!(peak - start < 200.0, "grew by {:.0} MB", peak - start);
}
