//! Deterministic tests of a room's orderings, with the board's log and the members'
//! sockets in memory and tokio's clock paused: the interleavings end-to-end tests can only
//! hope to hit (a joiner held while a write is in flight, a store outage and its retry,
//! compaction during appends, another process's row landing while a local write is in
//! flight). Touches nothing outside the process.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

use super::log::BoardLog;
use super::room::{Command, Follow, Parts, Room, RoomSettings};
use super::*;
use crate::domain::{BoardId, UserId};
use crate::protocol::{self, FrameLimits};
use crate::store::{Encoding, LoggedUpdate, SeqRange, Snapshot, StoreError, StoredDoc};

/// A board's log in memory, shared with "another process" that appends to it directly.
struct MemLog {
    state: Mutex<Stored>,
    /// Appends wait for a permit while `holding`.
    gate: Semaphore,
    holding: std::sync::atomic::AtomicBool,
    /// The next this many operations fail as if the database were down.
    failing: AtomicUsize,
    appends: AtomicUsize,
    reads: AtomicUsize,
}

#[derive(Default)]
struct Stored {
    snapshot: Option<Snapshot>,
    rows: Vec<LoggedUpdate>,
    last_seq: i64,
}

impl Default for MemLog {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            gate: Semaphore::new(0),
            holding: Default::default(),
            failing: AtomicUsize::new(0),
            appends: AtomicUsize::new(0),
            reads: AtomicUsize::new(0),
        }
    }
}

impl MemLog {
    fn hold(&self) {
        self.holding.store(true, Ordering::SeqCst);
    }

    fn release(&self) {
        self.holding.store(false, Ordering::SeqCst);
        self.gate.add_permits(1_000);
    }

    fn fail_next(&self, n: usize) {
        self.failing.store(n, Ordering::SeqCst);
    }

    fn down(&self) -> Result<(), StoreError> {
        let failing = self.failing.load(Ordering::SeqCst);
        if failing > 0 {
            self.failing.store(failing - 1, Ordering::SeqCst);
            return Err(StoreError::Invalid("the database is down".into()));
        }
        Ok(())
    }

    /// Another process appends `update` to the log; its sequence number.
    fn append_elsewhere(&self, update: Vec<u8>) -> i64 {
        let mut s = self.state.lock().unwrap();
        s.last_seq += 1;
        let seq = s.last_seq;
        s.rows.push(LoggedUpdate { seq, data: update });
        seq
    }

    fn stored(&self) -> StoredDoc {
        let s = self.state.lock().unwrap();
        let covered = s.snapshot.as_ref().map_or(0, |x| x.seq);
        StoredDoc {
            snapshot: s.snapshot.clone(),
            updates: s.rows.iter().filter(|r| r.seq > covered).cloned().collect(),
            last_seq: s.last_seq,
        }
    }
}

#[async_trait]
impl BoardLog for MemLog {
    async fn append(&self, _board: BoardId, updates: &[Vec<u8>]) -> Result<SeqRange, StoreError> {
        if self.holding.load(Ordering::SeqCst) {
            self.gate.acquire().await.unwrap().forget();
        }
        self.down()?;
        self.appends.fetch_add(1, Ordering::SeqCst);
        let mut s = self.state.lock().unwrap();
        let first = s.last_seq + 1;
        for u in updates {
            s.last_seq += 1;
            let seq = s.last_seq;
            s.rows.push(LoggedUpdate {
                seq,
                data: u.clone(),
            });
        }
        Ok(SeqRange {
            first,
            last: s.last_seq,
        })
    }

    async fn load(&self, _board: BoardId) -> Result<StoredDoc, StoreError> {
        self.down()?;
        Ok(self.stored())
    }

    async fn load_after(
        &self,
        _board: BoardId,
        after: i64,
        limit: u32,
    ) -> Result<StoredDoc, StoreError> {
        self.down()?;
        self.reads.fetch_add(1, Ordering::SeqCst);
        let s = self.state.lock().unwrap();
        let covered = s.snapshot.as_ref().map_or(0, |x| x.seq);
        Ok(StoredDoc {
            snapshot: s.snapshot.clone().filter(|x| x.seq > after),
            updates: s
                .rows
                .iter()
                .filter(|r| r.seq > after && r.seq > covered)
                .take(limit as usize)
                .cloned()
                .collect(),
            last_seq: s.last_seq,
        })
    }

    async fn compact(
        &self,
        _board: BoardId,
        state: &[u8],
        encoding: Encoding,
        up_to_seq: i64,
    ) -> Result<bool, StoreError> {
        self.down()?;
        let mut s = self.state.lock().unwrap();
        assert!(up_to_seq <= s.last_seq, "compacting past the log's end");
        if s.snapshot.as_ref().is_some_and(|x| x.seq >= up_to_seq) {
            return Ok(false);
        }
        s.snapshot = Some(Snapshot {
            seq: up_to_seq,
            state: state.to_vec(),
            encoding,
        });
        s.rows.retain(|r| r.seq > up_to_seq);
        Ok(true)
    }
}

/// A member's socket in memory: it takes every frame.
struct MemOut(Arc<Mutex<Vec<Bytes>>>);

impl Outbox for MemOut {
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Gone>> {
        Poll::Ready(Ok(()))
    }

    fn send(&mut self, frame: Bytes) -> Result<(), Gone> {
        self.0.lock().unwrap().push(frame);
        Ok(())
    }
}

/// A client of the room: what it received, applied to its own Doc.
struct Client {
    conn: ConnId,
    doc: Doc,
    frames: Arc<Mutex<Vec<Bytes>>>,
    read: usize,
    step2s: usize,
    /// The text as the step 2 left it.
    at_step2: Option<String>,
}

impl Client {
    /// Applies the frames received since the last call.
    fn pump(&mut self) {
        let frames: Vec<Bytes> = self.frames.lock().unwrap()[self.read..].to_vec();
        self.read += frames.len();
        for frame in frames {
            let (update, step2) = match Message::decode_v1(&frame).unwrap() {
                Message::Sync(SyncMessage::SyncStep2(u)) => (u, true),
                Message::Sync(SyncMessage::Update(u)) => (u, false),
                _ => continue,
            };
            self.doc
                .transact_mut()
                .apply_update(Update::decode_v1(&update).unwrap())
                .unwrap();
            if step2 {
                self.step2s += 1;
                self.at_step2 = Some(text_of(&self.doc, "t"));
            }
        }
    }

    fn text(&mut self) -> String {
        self.pump();
        text_of(&self.doc, "t")
    }
}

struct Harness {
    board: BoardId,
    tx: mpsc::Sender<Command>,
    follow: Arc<Follow>,
    shutdown: CancellationToken,
    room: tokio::task::JoinHandle<()>,
    next_conn: ConnId,
}

fn settings(compact_every: u64) -> RoomSettings {
    RoomSettings {
        idle: Duration::from_secs(3600),
        compact_every,
        compact_bytes: u64::MAX,
        max_doc_bytes: 64 << 20,
        max_pending_bytes: 64 << 20,
        outbound_queue: 1_024,
        max_queued_bytes: 64 << 20,
        max_room_queued_bytes: 256 << 20,
        command_queue: 64,
        spill_dir: std::env::temp_dir(),
        board_check: Duration::from_secs(30),
        presence_timeout: Duration::from_secs(15),
    }
}

impl Harness {
    async fn start(log: Arc<MemLog>, compact_every: u64) -> Self {
        let board = BoardId::new();
        let stored = log.load(board).await.unwrap();
        let follow = Arc::new(Follow::default());
        let parts = Parts {
            board,
            log: log.clone(),
            settings: settings(compact_every),
            member_count: Arc::default(),
            relay: None,
            follow: follow.clone(),
        };
        let room = Room::new(parts, stored).unwrap();
        let (tx, rx) = mpsc::channel(64);
        let rooms = Arc::new(Mutex::new(HashMap::new()));
        let unloader = Unloader {
            rooms,
            board,
            slot: Arc::default(),
        };
        let shutdown = CancellationToken::new();
        let room = tokio::spawn(room.run(rx, shutdown.clone(), unloader));
        Self {
            board,
            tx,
            follow,
            shutdown,
            room,
            next_conn: 1,
        }
    }

    /// A member joins and sends its sync step 1 (answered once its state is saved).
    async fn join(&mut self) -> Client {
        let conn = self.next_conn;
        self.next_conn += 1;
        let frames = Arc::new(Mutex::new(Vec::new()));
        let (kick, _) = oneshot::channel();
        let who = Joining {
            conn,
            access: Access {
                user: UserId::parse(&format!("user{conn}")).unwrap(),
                member: Some(Role::Editor),
                fixed: None,
                admin: false,
                link: None,
                jti: None,
            },
            out: Box::new(MemOut(frames.clone())),
            kick,
        };
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Join {
                who: Box::new(who),
                reply,
            })
            .await
            .unwrap();
        assert!(answer.await.unwrap().is_ok());
        let client = Client {
            conn,
            doc: Doc::with_client_id(conn),
            frames,
            read: 0,
            step2s: 0,
            at_step2: None,
        };
        let step1 = protocol::encode_sync_step1(&StateVector::default());
        self.send(conn, &step1).await;
        client
    }

    async fn send(&self, conn: ConnId, frame: &[u8]) {
        let limits = FrameLimits {
            max_messages: 16,
            max_awareness_bytes: 1 << 16,
            max_memory: 1 << 30,
        };
        let messages = protocol::decode_frame(frame, &limits).unwrap();
        self.tx
            .send(Command::Messages { conn, messages })
            .await
            .unwrap();
    }

    /// `client` types `s` at the end of the shared text and sends the update.
    async fn type_text(&self, client: &mut Client, s: &str) {
        client.pump();
        let text = client.doc.get_or_insert_text("t");
        let before = client.doc.transact().state_vector();
        {
            let mut txn = client.doc.transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, len, s);
        }
        let update = client.doc.transact().encode_diff_v1(&before);
        self.send(client.conn, &protocol::encode_update(&update))
            .await;
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.room.await.unwrap();
    }
}

/// An update another process's client made: `s` typed into a text of its own.
fn elsewhere(id: u64, s: &str) -> Vec<u8> {
    let doc = Doc::with_client_id(id);
    let text = doc.get_or_insert_text(format!("other{id}").as_str());
    text.insert(&mut doc.transact_mut(), 0, s);
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

/// Lets the room and its store tasks run until `done` holds (the clock is paused: time
/// only moves when everything waits).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

/// Waits until every client has had its sync step 2.
async fn synced(clients: &mut [&mut Client]) {
    until("every client synced", || {
        clients.iter_mut().all(|c| {
            c.pump();
            c.step2s == 1
        })
    })
    .await;
}

/// The stored document, rebuilt.
fn rebuilt(log: &MemLog) -> Doc {
    snapshot::rebuild(&log.stored()).unwrap()
}

fn text_of(doc: &Doc, name: &str) -> String {
    let text = doc.get_or_insert_text(name);
    text.get_string(&doc.transact())
}

/// The stored log is whole: no row a snapshot covers is left, and the rows after it run
/// without a gap to the last number.
fn assert_log_is_whole(log: &MemLog) {
    let stored = log.stored();
    let mut next = stored.snapshot.as_ref().map_or(0, |s| s.seq) + 1;
    for row in &stored.updates {
        assert_eq!(row.seq, next, "a gap or a duplicate in the log");
        next += 1;
    }
    assert_eq!(next - 1, stored.last_seq);
}

#[tokio::test(start_paused = true)]
async fn a_joiner_waits_for_the_write_in_flight_and_updates_after_it_stay_in_order() {
    let log = Arc::new(MemLog::default());
    let mut h = Harness::start(log.clone(), 1_000).await;
    let mut ada = h.join().await;
    synced(&mut [&mut ada]).await;

    log.hold();
    h.type_text(&mut ada, "one ").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        log.appends.load(Ordering::SeqCst),
        0,
        "the write waits in flight"
    );
    let mut bob = h.join().await;
    h.type_text(&mut ada, "two").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    bob.pump();
    assert_eq!(
        bob.step2s, 0,
        "no step 2 while the Doc holds an unsaved update"
    );

    log.release();
    until("bob has both", || bob.text() == "one two").await;
    assert_eq!(bob.step2s, 1);
    assert_eq!(
        bob.at_step2.as_deref(),
        Some("one "),
        "the step 2 showed the saved state; the update held meanwhile came after it"
    );
    assert_eq!(text_of(&rebuilt(&log), "t"), "one two");
    assert_log_is_whole(&log);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_store_outage_delays_fan_out_until_the_retry_saves() {
    let log = Arc::new(MemLog::default());
    let mut h = Harness::start(log.clone(), 1_000).await;
    let mut ada = h.join().await;
    let mut bob = h.join().await;
    synced(&mut [&mut ada, &mut bob]).await;

    log.fail_next(4);
    h.type_text(&mut ada, "saved late").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(bob.text(), "", "nothing is fanned out before it is saved");
    until("the retry saved it", || bob.text() == "saved late").await;
    assert_eq!(
        log.failing.load(Ordering::SeqCst),
        0,
        "every failure was retried"
    );
    assert_eq!(log.appends.load(Ordering::SeqCst), 1, "saved exactly once");
    assert_eq!(text_of(&rebuilt(&log), "t"), "saved late");
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_row_from_another_process_landing_during_a_local_write_is_applied_before_compaction() {
    let log = Arc::new(MemLog::default());
    // Compact after every update: the old room compacted up to its own append and
    // deleted the other process's row it had never applied.
    let mut h = Harness::start(log.clone(), 1).await;
    let mut ada = h.join().await;
    let mut bob = h.join().await;
    synced(&mut [&mut ada, &mut bob]).await;

    log.hold();
    h.type_text(&mut ada, "local").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Another process's row commits first and announces itself.
    let theirs = log.append_elsewhere(elsewhere(900, "remote"));
    h.follow.advanced(theirs);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        log.reads.load(Ordering::SeqCst),
        0,
        "no read races the room's own append"
    );
    log.release();

    until("both members have both", || {
        ada.pump();
        bob.pump();
        text_of(&bob.doc, "t") == "local" && text_of(&bob.doc, "other900") == "remote"
    })
    .await;
    assert_eq!(text_of(&ada.doc, "other900"), "remote");
    until("compacted", || log.stored().snapshot.is_some()).await;
    h.stop().await;
    let doc = rebuilt(&log);
    assert_eq!(text_of(&doc, "t"), "local");
    assert_eq!(
        text_of(&doc, "other900"),
        "remote",
        "compaction kept the row it had not applied"
    );
    assert_log_is_whole(&log);
}

#[tokio::test(start_paused = true)]
async fn compaction_during_busy_appends_from_two_processes_loses_and_duplicates_nothing() {
    let log = Arc::new(MemLog::default());
    let mut h = Harness::start(log.clone(), 3).await;
    let mut ada = h.join().await;
    synced(&mut [&mut ada]).await;
    let mut expected_remote = BTreeSet::new();
    for i in 0..40u64 {
        h.type_text(&mut ada, &format!("{i},")).await;
        if i % 3 == 0 {
            let id = 1_000 + i;
            let seq = log.append_elsewhere(elsewhere(id, "x"));
            expected_remote.insert(id);
            if i % 2 == 0 {
                // Some announcements are lost: the backstop or the next gap finds them.
                h.follow.advanced(seq);
            }
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let typed: String = (0..40).map(|i| format!("{i},")).collect();
    h.follow.recheck();
    until("ada has everything", || {
        ada.pump();
        text_of(&ada.doc, "t") == typed
            && expected_remote
                .iter()
                .all(|id| text_of(&ada.doc, &format!("other{id}")) == "x")
    })
    .await;
    h.stop().await;
    assert_log_is_whole(&log);
    let stored = log.stored();
    assert!(stored.snapshot.is_some(), "it compacted on the way");
    let doc = rebuilt(&log);
    assert_eq!(text_of(&doc, "t"), typed, "no local update lost or doubled");
    for id in &expected_remote {
        assert_eq!(text_of(&doc, &format!("other{id}")), "x");
    }
}

#[tokio::test(start_paused = true)]
async fn a_room_far_behind_catches_up_from_another_process_snapshot() {
    let log = Arc::new(MemLog::default());
    let mut h = Harness::start(log.clone(), 1_000).await;
    let mut ada = h.join().await;
    synced(&mut [&mut ada]).await;
    // Another process writes, then compacts past everything this room has read.
    let other = Doc::with_client_id(777);
    let text = other.get_or_insert_text("other777");
    for i in 0..5 {
        let before = other.transact().state_vector();
        text.insert(&mut other.transact_mut(), i, "y");
        log.append_elsewhere(other.transact().encode_diff_v1(&before));
    }
    let last = log.stored().last_seq;
    let state = other
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    assert!(
        log.compact(h.board, &state, Encoding::V1, last)
            .await
            .unwrap()
    );
    h.follow.advanced(last);
    until("ada has the snapshot's content", || {
        ada.pump();
        text_of(&ada.doc, "other777") == "yyyyy"
    })
    .await;
    h.type_text(&mut ada, "after").await;
    until("saved", || text_of(&rebuilt(&log), "t") == "after").await;
    h.stop().await;
    let doc = rebuilt(&log);
    assert_eq!(text_of(&doc, "other777"), "yyyyy");
    assert_eq!(text_of(&doc, "t"), "after");
    assert_log_is_whole(&log);
}
