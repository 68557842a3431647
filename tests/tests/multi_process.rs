//! Several `easel serve` processes on one Postgres database (issue 15): what one process
//! accepts reaches the clients of the others, nothing is lost or duplicated when they write
//! and compact the same board at once, a process whose database connection was cut catches
//! up without a restart, access changes and deletions made anywhere close sockets
//! everywhere, a SIGKILLed process loses nothing anyone saw, and awareness crosses
//! processes and goes away with the process that held it.
//!
//! Every server here is a real process (`ServerProcess`) with its own data directory; the
//! tests own their database and read it directly to check what was stored. They touch no
//! server code. Every wait is an `until` loop with a generous timeout, never a timing.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use easel::domain::{BoardId, Role};
use easel_tests::board::{rebuild, shape_keys};
use easel_tests::yclient::YClient;
use easel_tests::{Node, ServerProcess, TcpProxy, TestDb, pg_board_with, pg_store, run_cli, token};
use sqlx::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_easel-test-server");
/// How long to wait for anything that should happen: far longer than it takes.
const T: Duration = Duration::from_secs(20);
const HOUR: Duration = Duration::from_secs(3600);
/// Keeps the once-a-while existence check of live rooms out of the picture.
const NO_BOARD_CHECK: (&str, &str) = ("EASEL_BOARD_CHECK_SECS", "3600");

/// A fresh database and two nodes on it with the same settings, not yet started.
async fn two_nodes(vars: &[(&str, &str)]) -> (TestDb, Node, Node) {
    let db = TestDb::create().await;
    let (a, b) = (Node::new(&db.url(), vars), Node::new(&db.url(), vars));
    (db, a, b)
}

/// Starts both nodes, one after the other (each migrates the database at start).
async fn start_both(a: &Node, b: &Node) -> (ServerProcess, ServerProcess) {
    let a = a.start(BIN).await;
    let b = b.start(BIN).await;
    (a, b)
}

/// Connects `user` to `board` on `server` and waits for the initial sync.
async fn join(server: &ServerProcess, board: &str, user: &str) -> YClient {
    let mut c = YClient::connect(&server.ws_url(board, &token(user, false, HOUR))).await;
    assert!(c.until(T, |c| c.synced).await, "{user} synced");
    c
}

/// The keys `{prefix}-0` ..= `{prefix}-{n-1}`.
fn keys(prefix: &str, n: usize) -> BTreeSet<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

/// Draws the shapes `{prefix}-0` .. `{prefix}-{n-1}`, reading what arrives in between.
async fn write(c: &mut YClient, prefix: &str, n: usize) {
    for i in 0..n {
        c.draw(&format!("{prefix}-{i}"), 16).await;
        c.pump(Duration::from_millis(2)).await;
    }
}

/// Joins `board` on `server` as alice and draws `n` shapes named after `prefix`, in a task
/// of its own so writers on several processes write at the same time.
fn spawn_writer(
    server: &ServerProcess,
    board: &str,
    prefix: &'static str,
    n: usize,
) -> tokio::task::JoinHandle<YClient> {
    let url = server.ws_url(board, &token("alice", false, HOUR));
    tokio::spawn(async move {
        let mut c = YClient::connect(&url).await;
        assert!(c.until(T, |c| c.synced).await, "writer {prefix} synced");
        write(&mut c, prefix, n).await;
        c
    })
}

/// What the database holds for `board`, read directly.
async fn stored(url: &str, board: &str) -> easel::store::StoredDoc {
    let store = pg_store(url);
    let doc = store.load(BoardId::parse(board).unwrap()).await.unwrap();
    store.close().await;
    doc
}

/// The shapes of the document the database holds for `board`.
async fn stored_keys(url: &str, board: &str) -> BTreeSet<String> {
    shape_keys(&rebuild(&stored(url, board).await))
}

/// Waits (bounded by [`T`]) until the board's log has reached sequence number `seq`, so
/// everything sent has been accepted by some process before the test goes on.
async fn until_logged(url: &str, board: &str, seq: i64) {
    let deadline = tokio::time::Instant::now() + T;
    while stored(url, board).await.last_seq < seq && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Shows how far apart two key sets are, for failure messages.
fn missing(want: &BTreeSet<String>, have: &BTreeSet<String>) -> String {
    let gone: Vec<_> = want.difference(have).collect();
    format!(
        "{} of {} missing, e.g. {:?}",
        gone.len(),
        want.len(),
        &gone[..gone.len().min(5)]
    )
}

/// Stops a server with SIGTERM and checks it exited cleanly.
async fn stop(server: &mut ServerProcess) {
    let status = server.stop().await;
    assert!(status.success(), "graceful stop exited with {status}");
}

/// Runs the `easel` command line against the database at `database_url`.
async fn easel(database_url: &str, args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    run_cli(BIN, dir.path(), Some(database_url), args).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_lose_nothing_and_see_each_other() {
    let (db, a_node, b_node) = two_nodes(&[("EASEL_COMPACT_EVERY", "50")]).await;
    let (mut a, mut b) = start_both(&a_node, &b_node).await;
    let board = pg_board_with(&db.url(), "alice", &[]).await;

    let on_a = spawn_writer(&a, &board, "a", 300);
    let on_b = spawn_writer(&b, &board, "b", 300);
    let (mut wa, mut wb) = (on_a.await.unwrap(), on_b.await.unwrap());
    let all: BTreeSet<String> = keys("a", 300).union(&keys("b", 300)).cloned().collect();

    for (name, c) in [("A", &mut wa), ("B", &mut wb)] {
        let saw_all = c.until(T, |c| shape_keys(c.doc()) == all).await;
        assert!(
            saw_all,
            "the writer on {name} sees both writers' shapes: {}",
            missing(&all, &shape_keys(c.doc()))
        );
    }
    wa.close().await;
    wb.close().await;
    stop(&mut a).await;
    stop(&mut b).await;

    let kept = stored_keys(&db.url(), &board).await;
    assert!(kept == all, "the store: {}", missing(&all, &kept));
    let a = a_node.start(BIN).await;
    let mut fresh = join(&a, &board, "alice").await;
    assert!(
        fresh.until(T, |c| shape_keys(c.doc()) == all).await,
        "a fresh client after a restart: {}",
        missing(&all, &shape_keys(fresh.doc()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_late_joiner_gets_everything_written_on_both() {
    let (db, a_node, b_node) = two_nodes(&[]).await;
    let (a, b) = start_both(&a_node, &b_node).await;
    let board = pg_board_with(&db.url(), "alice", &[("carol", Role::Viewer)]).await;

    // The writers stay connected, so both rooms stay loaded while the late joiner comes.
    let on_a = spawn_writer(&a, &board, "a", 100);
    let on_b = spawn_writer(&b, &board, "b", 100);
    let (_wa, _wb) = (on_a.await.unwrap(), on_b.await.unwrap());
    let all: BTreeSet<String> = keys("a", 100).union(&keys("b", 100)).cloned().collect();
    until_logged(&db.url(), &board, 200).await;
    let kept = stored_keys(&db.url(), &board).await;
    assert!(
        kept == all,
        "both processes saved: {}",
        missing(&all, &kept)
    );

    let mut late = join(&b, &board, "carol").await;
    assert!(
        late.until(T, |c| shape_keys(c.doc()) == all).await,
        "the late joiner on B: {}",
        missing(&all, &shape_keys(late.doc()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_compactions_lose_and_duplicate_nothing() {
    let (db, a_node, b_node) = two_nodes(&[("EASEL_COMPACT_EVERY", "5")]).await;
    let (mut a, mut b) = start_both(&a_node, &b_node).await;
    let board = pg_board_with(&db.url(), "alice", &[]).await;

    let (writers, per_writer) = (["a0", "a1", "a2", "b0", "b1", "b2"], 60);
    let tasks: Vec<_> = writers
        .iter()
        .map(|w| {
            let server = if w.starts_with('a') { &a } else { &b };
            spawn_writer(server, &board, w, per_writer)
        })
        .collect();
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await.unwrap());
    }
    let all: BTreeSet<String> = writers.iter().flat_map(|w| keys(w, per_writer)).collect();
    until_logged(&db.url(), &board, all.len() as i64).await;
    for c in clients {
        c.close().await;
    }
    stop(&mut a).await;
    stop(&mut b).await;

    let doc = stored(&db.url(), &board).await;
    let snapshot_seq = doc.snapshot.as_ref().map_or(0, |s| s.seq);
    assert!(
        doc.snapshot.is_some(),
        "compaction ran (every 5 updates, {} of them)",
        all.len()
    );
    assert!(
        snapshot_seq <= doc.last_seq,
        "the snapshot ({snapshot_seq}) is not ahead of the log ({})",
        doc.last_seq
    );
    let seqs: Vec<i64> = doc.updates.iter().map(|u| u.seq).collect();
    let want: Vec<i64> = (snapshot_seq + 1..=doc.last_seq).collect();
    assert_eq!(
        seqs, want,
        "the log after the snapshot is contiguous, without duplicates"
    );
    let mut conn = sqlx::PgConnection::connect(&db.url()).await.unwrap();
    let covered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM board_updates WHERE board_id = $1 AND seq <= $2")
            .bind(uuid::Uuid::parse_str(&board).unwrap())
            .bind(snapshot_seq)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.ok();
    assert_eq!(covered, 0, "no log row the snapshot covers is left");
    let kept = shape_keys(&rebuild(&doc));
    assert!(kept == all, "the stored document: {}", missing(&all, &kept));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cut_listener_catches_up_without_restart() {
    let db = TestDb::create().await;
    let proxy = TcpProxy::start(db.server_addr()).await;
    let a_node = Node::new(&db.url_via(proxy.addr()), &[]);
    let b_node = Node::new(&db.url(), &[]);
    let (a, b) = start_both(&a_node, &b_node).await;
    let board = pg_board_with(&db.url(), "alice", &[("bob", Role::Editor)]).await;
    let mut on_a = join(&a, &board, "alice").await;
    let mut on_b = join(&b, &board, "bob").await;
    on_b.draw("before", 8).await;
    assert!(
        on_a.until(T, |c| shape_keys(c.doc()).contains("before"))
            .await,
        "A follows B before the cut"
    );

    proxy.cut();
    write(&mut on_b, "cut", 50).await;
    on_a.pump(Duration::from_secs(1)).await;
    proxy.restore();
    let mut want = keys("cut", 50);
    want.insert("before".into());
    assert!(
        on_a.until(T, |c| shape_keys(c.doc()) == want).await,
        "A's client, with A never restarted, catches up: {}",
        missing(&want, &shape_keys(on_a.doc()))
    );
    on_a.draw("from-a", 8).await;
    assert!(
        on_b.until(T, |c| shape_keys(c.doc()).contains("from-a"))
            .await,
        "a write on A reaches B after the outage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn access_changes_cross_processes() {
    let (db, a_node, b_node) = two_nodes(&[NO_BOARD_CHECK]).await;
    let (a, b) = start_both(&a_node, &b_node).await;
    let board = pg_board_with(&db.url(), "alice", &[("bob", Role::Editor)]).await;

    // Removed through A's API: bob's socket on B closes with 4403. The change feed's
    // backstop read runs every 5 s, so a close well within that came from the announcement.
    let mut bob = join(&b, &board, "bob").await;
    let res = reqwest::Client::new()
        .delete(format!(
            "http://127.0.0.1:{}/api/boards/{board}/members/bob",
            a.port
        ))
        .bearer_auth(token("alice", false, HOUR))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::NO_CONTENT);
    let closed = bob
        .closed(Duration::from_secs(4))
        .await
        .expect("bob's socket on B closes");
    assert_eq!(closed.code, 4403, "{closed:?}");

    // Deleted with the command line: the sockets on both processes close with 4404.
    let mut on_a = join(&a, &board, "alice").await;
    let mut on_b = join(&b, &board, "alice").await;
    easel(&db.url(), &["board", "delete", &board]).await;
    for (name, c) in [("A", &mut on_a), ("B", &mut on_b)] {
        let closed = c
            .closed(Duration::from_secs(4))
            .await
            .unwrap_or_else(|| panic!("the socket on {name} closes"));
        assert_eq!(closed.code, 4404, "on {name}: {closed:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_of_one_process_loses_nothing_anyone_saw() {
    let (db, a_node, b_node) = two_nodes(&[]).await;
    let (mut a, mut b) = start_both(&a_node, &b_node).await;
    let board = pg_board_with(&db.url(), "alice", &[("carol", Role::Viewer)]).await;

    // Two writers on A write until A dies; one on B writes until told to stop.
    let on_a: Vec<_> = (0..2)
        .map(|w| {
            let url = a.ws_url(&board, &token("alice", false, HOUR));
            tokio::spawn(async move {
                let mut c = YClient::connect(&url).await;
                c.until(T, |c| c.synced).await;
                for i in 0.. {
                    c.draw(&format!("a{w}-{i}"), 16).await;
                    c.pump(Duration::from_millis(5)).await;
                    if c.closed.is_some() {
                        break;
                    }
                }
            })
        })
        .collect();
    let stop_b = Arc::new(AtomicBool::new(false));
    let on_b = {
        let (url, stop_b) = (
            b.ws_url(&board, &token("alice", false, HOUR)),
            stop_b.clone(),
        );
        tokio::spawn(async move {
            let mut c = YClient::connect(&url).await;
            assert!(c.until(T, |c| c.synced).await, "B's writer synced");
            let mut i = 0;
            // A closed socket ends the loop too: sends and reads on it return at once, so
            // the loop would never yield and a failing test could never shut down.
            while !stop_b.load(Ordering::SeqCst) && c.closed.is_none() {
                c.draw(&format!("b-{i}"), 16).await;
                c.pump(Duration::from_millis(5)).await;
                i += 1;
            }
            c
        })
    };
    let mut observer = join(&b, &board, "carol").await;
    let from = |c: &YClient, prefix: &str| {
        shape_keys(c.doc())
            .iter()
            .filter(|k| k.starts_with(prefix))
            .count()
    };
    assert!(
        observer.until(T, |c| from(c, "a") >= 20).await,
        "B's observer sees A's writers before the kill (saw {})",
        from(&observer, "a")
    );

    a.kill9();
    for w in on_a {
        w.await.unwrap();
    }
    let at_kill = from(&observer, "b-");
    assert!(
        observer.until(T, |c| from(c, "b-") >= at_kill + 20).await,
        "B keeps serving after A died"
    );
    stop_b.store(true, Ordering::SeqCst);
    let writer = on_b.await.unwrap();
    let written = shape_keys(writer.doc());
    assert!(
        observer
            .until(T, |c| shape_keys(c.doc()).is_superset(&written))
            .await,
        "the observer gets everything B's writer drew: {}",
        missing(&written, &shape_keys(observer.doc()))
    );
    let seen: BTreeSet<String> = written
        .union(&shape_keys(observer.doc()))
        .cloned()
        .collect();

    let mut newcomer = join(&b, &board, "carol").await;
    assert!(
        newcomer
            .until(T, |c| shape_keys(c.doc()).is_superset(&seen))
            .await,
        "a new client on B gets everything: {}",
        missing(&seen, &shape_keys(newcomer.doc()))
    );
    for c in [writer, observer, newcomer] {
        c.close().await;
    }
    stop(&mut b).await;

    let kept = stored_keys(&db.url(), &board).await;
    assert!(
        kept.is_superset(&seen),
        "the store: {}",
        missing(&seen, &kept)
    );
    let b = b_node.start(BIN).await;
    let mut fresh = join(&b, &board, "carol").await;
    assert!(
        fresh
            .until(T, |c| shape_keys(c.doc()).is_superset(&seen))
            .await,
        "a fresh client after a restart: {}",
        missing(&seen, &shape_keys(fresh.doc()))
    );
}

/// Two processes with `presence_timeout_ms` as their `EASEL_PRESENCE_TIMEOUT_MS`, a client
/// on each, and the one on A announcing itself: returns once B's client sees it.
async fn present_on_both(
    presence_timeout_ms: &str,
) -> (TestDb, ServerProcess, ServerProcess, YClient, YClient) {
    let (db, a_node, b_node) =
        two_nodes(&[("EASEL_PRESENCE_TIMEOUT_MS", presence_timeout_ms)]).await;
    let (a, b) = start_both(&a_node, &b_node).await;
    let board = pg_board_with(&db.url(), "alice", &[("bob", Role::Editor)]).await;
    let mut on_a = join(&a, &board, "alice").await;
    let mut on_b = join(&b, &board, "bob").await;
    on_a.set_awareness(serde_json::json!({"user": "ada-on-a"}))
        .await;
    assert!(
        on_b.until(T, |c| c.peers().iter().any(|p| p.contains("ada-on-a")))
            .await,
        "B's client sees the awareness set on A (peers: {:?})",
        on_b.peers()
    );
    (db, a, b, on_a, on_b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn awareness_crosses_processes_and_vanishes_with_its_process() {
    let (_db, mut a, _b, _on_a, mut on_b) = present_on_both("2000").await;
    a.kill9();
    assert!(
        on_b.until(Duration::from_secs(10), |c| c.peers().is_empty())
            .await,
        "the presence of a SIGKILLed process times out (peers: {:?})",
        on_b.peers()
    );
    assert!(on_b.closed.is_none(), "B's client stays connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn awareness_of_a_process_stopped_gracefully_vanishes_at_once() {
    // A presence timeout far beyond the wait: only an announcement at shutdown explains it.
    let (_db, mut a, _b, _on_a, mut on_b) = present_on_both("600000").await;
    stop(&mut a).await;
    assert!(
        on_b.until(Duration::from_secs(10), |c| c.peers().is_empty())
            .await,
        "the presence of a stopped process goes with it (peers: {:?})",
        on_b.peers()
    );
    assert!(on_b.closed.is_none(), "B's client stays connected");
}
