//! Live boards: one `room` task per board in use, and the [`Hub`] that finds or loads it.
//!
//! Owns the lifecycle of rooms: load a board from the store on first join (exactly once
//! under concurrent first joins), hand connections to it, unload it when idle, and shut
//! every room down in order; pass on news of other processes (a board's log grew, their
//! presence) to the room it concerns without waiting on it. Knows nothing of HTTP or SQL:
//! rooms speak to the store through [`BoardLog`], and to connections through channels and
//! each one's [`Outbox`].

mod compaction;
mod document;
mod fanout;
mod fresh;
mod journal;
pub mod log;
mod presence;
mod queued;
mod room;
pub mod snapshot;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{OnceCell, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use uuid::Uuid;
use yrs::{ReadTxn, StateVector, Transact};

use crate::cluster::{self, NodeId, PeerMessage, Relay};
use crate::domain::{BoardId, Role, UserId};
use crate::metrics::metrics;
use crate::protocol::ClientMessage;
use crate::store::{Backend, Store, StoreError};

use log::{BoardLog, StoreLog};
pub use room::RoomSettings;

/// Identifies one WebSocket connection for the lifetime of the process.
pub type ConnId = u64;

/// The author of changes the server makes itself (restores); no connection has this id.
pub const SERVER_CONN: ConnId = 0;

/// Why a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The board could not be opened.
    #[error(transparent)]
    Join(#[from] JoinError),
    /// The room stopped before the change was saved (store down, shutdown, deletion).
    #[error("the restore was not saved")]
    NotSaved,
}

/// Why a room dropped a connection. `http/error.rs` maps each to a close code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Kick {
    /// Its outbound queue was full: it could not keep up.
    #[error("too slow to keep up; reconnect to resync")]
    SlowConsumer,
    /// A viewer sent a document update.
    #[error("read-only: viewers cannot edit this board")]
    ReadOnly,
    /// Accepting the update would make the document larger than allowed.
    #[error("document too large")]
    DocumentTooLarge,
    /// The board was deleted.
    #[error("board deleted")]
    BoardDeleted,
    /// The store is unreachable and the room's backlog of unsaved updates is full.
    #[error("storage unavailable; try again later")]
    BacklogFull,
    /// The server is shutting down.
    #[error("server shutting down")]
    ShuttingDown,
    /// A frame or update could not be decoded or applied.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// The board failed to load.
    #[error("board unavailable; try again later")]
    Unavailable,
    /// The connection's access was taken away (membership removed, link revoked, account
    /// disabled).
    #[error("access revoked: {0}")]
    Revoked(&'static str),
    /// The token the connection opened with was revoked (its holder logged out).
    #[error("signed out")]
    SignedOut,
}

/// Where a connection's powers on a board come from. The room keeps it per connection and
/// re-evaluates it whenever an [`AccessChange`] arrives, so a change takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Who is connected.
    pub user: UserId,
    /// Their role as a member of the board, if they are one.
    pub member: Option<Role>,
    /// A role that account and membership changes do not affect: a grant in the token, or
    /// the admin claim of a token no account of this server backs (an external issuer's).
    pub fixed: Option<Role>,
    /// Whether their account is an administrator's, which makes them an owner of every
    /// board for as long as it stays one.
    pub admin: bool,
    /// The share link a guest came through, and the role it gives.
    pub link: Option<(Uuid, Role)>,
    /// The id (`jti`) of the token the connection opened with: revoking it closes it.
    pub jti: Option<String>,
}

impl Access {
    /// The strongest role any source gives, `None` if none gives one.
    pub fn role(&self) -> Option<Role> {
        [
            self.member,
            self.fixed,
            self.admin.then_some(Role::Owner),
            self.link.map(|(_, r)| r),
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

/// A change to who may do what on a board, applied to live connections at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessChange {
    /// A user's membership changed: their new role, or `None` when they were removed.
    Member {
        /// The user.
        user: UserId,
        /// Their role from now on.
        role: Option<Role>,
    },
    /// A share link was revoked: guests who came through it lose that role.
    LinkRevoked(Uuid),
    /// A user's account was disabled: every connection of theirs closes.
    UserDisabled(UserId),
    /// A user's account became an administrator's (`true`: owner of every board) or stopped
    /// being one (their connections fall back on their other roles, or close).
    Admin {
        /// The user.
        user: UserId,
        /// Whether they are an administrator now.
        admin: bool,
    },
    /// A token was revoked (its holder logged out): connections opened with it close.
    TokenRevoked {
        /// The user the token names.
        user: UserId,
        /// The token's id (`jti`).
        jti: String,
    },
}

/// A board's document as the room holds it (or as stored, when no room is live).
#[derive(Debug, Clone)]
pub struct BoardState {
    /// The whole document as one yrs v1 update.
    pub state: Vec<u8>,
    /// The last log sequence number saved.
    pub seq: i64,
    /// Connections in the room now.
    pub members: usize,
}

/// Why joining a room failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The board does not exist.
    #[error("board not found")]
    NotFound,
    /// The server is shutting down.
    #[error("server shutting down")]
    ShuttingDown,
    /// The board could not be loaded.
    #[error("loading the board failed")]
    Load(#[source] StoreError),
    /// The stored document does not decode.
    #[error("the stored document is corrupt: {0}")]
    Corrupt(String),
}

/// The transport's queue of frames to one socket, as a room sees it. The room writes to it
/// directly, without a task in between, and never waits on it: when it is full the room
/// keeps the member's frames in order in a backlog of its own, bounded by
/// `EASEL_OUTBOUND_QUEUE` (past that the connection is too slow: 1013).
pub trait Outbox: Send {
    /// Whether one more frame fits now (`Ready(Ok)`), later (`Pending`: `cx` is woken when
    /// it does), or never (`Ready(Err)`: the socket is closed).
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Gone>>;
    /// Queues `frame`; call only after `poll_ready` returned `Ready(Ok(()))`.
    fn send(&mut self, frame: Bytes) -> Result<(), Gone>;
}

/// The socket behind an [`Outbox`] is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// What a connection hands the room when it joins.
pub struct Joining {
    /// The connection.
    pub conn: ConnId,
    /// Who it is and where its role comes from.
    pub access: Access,
    /// Where the room sends it frames.
    pub out: Box<dyn Outbox>,
    /// Where the room says why it dropped the connection.
    pub kick: oneshot::Sender<Kick>,
}

/// A connection's way to talk to its room.
#[derive(Clone)]
pub struct RoomHandle {
    tx: mpsc::Sender<room::Command>,
    members: Arc<AtomicUsize>,
}

impl RoomHandle {
    /// Sends decoded messages from `conn`; waits while the room is busy (backpressure).
    /// Returns false if the room is gone.
    pub async fn send(&self, conn: ConnId, messages: Vec<ClientMessage>) -> bool {
        self.tx
            .send(room::Command::Messages { conn, messages })
            .await
            .is_ok()
    }

    /// Tells the room `conn` left.
    pub async fn leave(&self, conn: ConnId) {
        let _ = self.tx.send(room::Command::Leave { conn }).await;
    }
}

/// A board's place in the hub: its room once loaded, and the news of its log, which
/// arrives from the moment loading starts (a row committed while the board was being read
/// is announced before the room exists, and must not be missed).
#[derive(Default)]
struct RoomSlot {
    handle: OnceCell<RoomHandle>,
    follow: Arc<room::Follow>,
}

type Slot = Arc<RoomSlot>;

/// Finds, loads and unloads rooms; one per node.
pub struct Hub {
    rooms: Arc<Mutex<HashMap<BoardId, Slot>>>,
    store: Arc<dyn Store>,
    log: Arc<dyn BoardLog>,
    node: NodeId,
    /// Where rooms relay presence to other processes (Postgres only), and the task that
    /// publishes it, taken at shutdown once every room has finished.
    relay: Mutex<Option<(Relay, tokio::task::JoinHandle<()>)>>,
    settings: RoomSettings,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    next_conn: AtomicU64,
    connections: Arc<AtomicUsize>,
    access_epoch: AtomicU64,
}

impl Hub {
    /// A hub over `store`. On Postgres, where several processes may serve the same boards,
    /// its rooms relay presence to the others (call from within the runtime).
    pub fn new(store: Arc<dyn Store>, settings: RoomSettings) -> Self {
        let node = Uuid::new_v4();
        let relay =
            (store.backend() == Backend::Postgres).then(|| cluster::start(store.clone(), node));
        Self {
            rooms: Arc::default(),
            log: Arc::new(StoreLog(store.clone())),
            node,
            relay: Mutex::new(relay),
            store,
            settings,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            next_conn: AtomicU64::new(1),
            connections: Arc::default(),
            access_epoch: AtomicU64::new(0),
        }
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Connections open on this node.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Members of a board's room right now (0 if not loaded).
    pub fn members(&self, board: BoardId) -> usize {
        self.live(board)
            .map_or(0, |h| h.members.load(Ordering::Relaxed))
    }

    /// Rooms live on this node.
    pub fn rooms(&self) -> usize {
        self.live_rooms().len()
    }

    /// Whether the hub is shutting down.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// Joins `who` to `board`'s room, loading the board first if no room holds it.
    pub async fn join(&self, board: BoardId, who: Joining) -> Result<RoomHandle, JoinError> {
        let mut who = Box::new(who);
        loop {
            if self.shutdown.is_cancelled() {
                return Err(JoinError::ShuttingDown);
            }
            let handle = self.room(board).await?;
            let (reply, answer) = oneshot::channel();
            match handle.tx.send(room::Command::Join { who, reply }).await {
                Ok(()) => match answer.await {
                    Ok(Ok(())) => {
                        self.connections.fetch_add(1, Ordering::Relaxed);
                        metrics().connections.inc();
                        return Ok(handle);
                    }
                    Ok(Err(back)) => who = back,
                    Err(_) => return Err(JoinError::ShuttingDown),
                },
                Err(mpsc::error::SendError(room::Command::Join { who: back, .. })) => who = back,
                Err(_) => return Err(JoinError::ShuttingDown),
            }
            // The room was unloading: it is gone from the map now, so the next turn loads a
            // fresh one from the store, which holds everything the old one had.
            self.forget_room(board, &handle);
        }
    }

    /// Counts the access changes (roles, links, accounts, deletions) this hub has applied.
    /// A handshake that read access from the store before a change and joined after it
    /// sees this move, and reads again; otherwise the change reached its room after the
    /// join and was applied to the new connection too.
    pub fn access_epoch(&self) -> u64 {
        self.access_epoch.load(Ordering::SeqCst)
    }

    /// Applies an access change to the board's live connections (nothing to do when no
    /// room holds the board: new connections read access from the store).
    pub async fn change_access(&self, board: BoardId, change: AccessChange) {
        self.access_epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(room) = self.live(board) {
            let _ = room.tx.send(room::Command::Access(change)).await;
        }
    }

    /// Applies an account-wide access change (such as a disabled account) to every room.
    pub async fn change_access_everywhere(&self, change: AccessChange) {
        self.access_epoch.fetch_add(1, Ordering::SeqCst);
        for room in self.live_rooms() {
            let _ = room.tx.send(room::Command::Access(change.clone())).await;
        }
    }

    /// The board's log reached `seq` (another process appended to it): its room, if live
    /// here, reads and fans out what it lacks.
    pub fn log_advanced(&self, board: BoardId, seq: i64) {
        let slot = self.rooms.lock().expect("hub lock").get(&board).cloned();
        if let Some(slot) = slot {
            slot.follow.advanced(seq);
        }
    }

    /// News of the logs may have been missed (the listening connection was lost): every
    /// live room reads its board's log.
    pub fn recheck_logs(&self) {
        let slots: Vec<Slot> = self
            .rooms
            .lock()
            .expect("hub lock")
            .values()
            .cloned()
            .collect();
        for slot in slots {
            slot.follow.recheck();
        }
    }

    /// Hands another process's message to the room it concerns, if live here; dropped
    /// when that room is busy (presence is best effort) or the message is this process's.
    pub fn from_peer(&self, message: PeerMessage) {
        if message.node() == self.node {
            return;
        }
        if let Some(room) = self.live(message.board()) {
            let _ = room.tx.try_send(room::Command::Peer(Box::new(message)));
        }
    }

    /// A token that stops the hub's tasks (rooms, and other realtime tasks tracked with
    /// [`Hub::tracker`]) when [`Hub::shutdown`] begins.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Closes a deleted board's room: every connection gets "board deleted" (4404) and
    /// nothing more is saved.
    pub async fn board_deleted(&self, board: BoardId) {
        self.access_epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(room) = self.live(board) {
            let _ = room.tx.send(room::Command::Delete).await;
        }
    }

    /// The board's document now: from its room when one is live (including updates still
    /// being saved), else as stored.
    pub async fn state(&self, board: BoardId) -> Result<BoardState, JoinError> {
        if let Some(room) = self.live(board) {
            let (reply, answer) = oneshot::channel();
            if room.tx.send(room::Command::State { reply }).await.is_ok()
                && let Ok(state) = answer.await
            {
                return Ok(state);
            }
        }
        let stored = match self.store.load(board).await {
            Ok(s) => s,
            Err(StoreError::NotFound(_)) => return Err(JoinError::NotFound),
            Err(e) => return Err(JoinError::Load(e)),
        };
        let seq = stored.last_seq;
        let state = off_thread(move || {
            let doc = snapshot::rebuild(&stored)?;
            Ok(doc
                .transact()
                .encode_state_as_update_v1(&StateVector::default()))
        })
        .await?;
        Ok(BoardState {
            state,
            seq,
            members: 0,
        })
    }

    /// Makes `target`'s content the board's live content, as one ordinary change that every
    /// connected client receives; returns once it is saved. Loads the board if no room
    /// holds it.
    pub async fn restore(&self, board: BoardId, target: yrs::Doc) -> Result<(), RestoreError> {
        loop {
            if self.shutdown.is_cancelled() {
                return Err(JoinError::ShuttingDown.into());
            }
            let room = self.room(board).await?;
            let (reply, answer) = oneshot::channel();
            let cmd = room::Command::Restore {
                target: target.clone(),
                reply,
            };
            if room.tx.send(cmd).await.is_err() {
                self.forget_room(board, &room);
                continue;
            }
            return match answer.await {
                Ok(result) => result,
                Err(_) => Err(RestoreError::NotSaved),
            };
        }
    }

    /// The board's room, loading it when no room holds it.
    async fn room(&self, board: BoardId) -> Result<RoomHandle, JoinError> {
        let slot = self
            .rooms
            .lock()
            .expect("hub lock")
            .entry(board)
            .or_default()
            .clone();
        match slot
            .handle
            .get_or_try_init(|| self.load(board, slot.clone()))
            .await
        {
            Ok(h) => Ok(h.clone()),
            Err(e) => {
                self.forget(board, &slot);
                Err(e)
            }
        }
    }

    /// Drops `room` from the map if it is still the board's room (it stopped).
    fn forget_room(&self, board: BoardId, room: &RoomHandle) {
        let mut rooms = self.rooms.lock().expect("hub lock");
        let same = rooms
            .get(&board)
            .and_then(|s| s.handle.get())
            .is_some_and(|h| h.tx.same_channel(&room.tx));
        if same {
            rooms.remove(&board);
        }
    }

    fn live(&self, board: BoardId) -> Option<RoomHandle> {
        let slot = self.rooms.lock().expect("hub lock").get(&board).cloned();
        slot.and_then(|s| s.handle.get().cloned())
    }

    fn live_rooms(&self) -> Vec<RoomHandle> {
        let rooms = self.rooms.lock().expect("hub lock");
        rooms
            .values()
            .filter_map(|s| s.handle.get().cloned())
            .collect()
    }

    /// Hands the heap memory freed by closed connections and unloaded rooms back to the
    /// operating system, checking every `every`: glibc keeps freed pages in its arenas, so
    /// without this a node's RSS stays at its peak after a crowd leaves. Runs until
    /// [`Hub::shutdown`].
    pub fn return_freed_memory(&self, every: Duration) {
        let shutdown = self.shutdown.clone();
        let connections = self.connections.clone();
        let rooms = self.rooms.clone();
        self.tracker.spawn(async move {
            let mut tick = tokio::time::interval(every);
            let mut before = (0, 0);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let now = (
                    connections.load(Ordering::Relaxed),
                    rooms.lock().expect("hub lock").len(),
                );
                if now.0 < before.0 || now.1 < before.1 {
                    let _ = tokio::task::spawn_blocking(trim_heap).await;
                }
                before = now;
            }
        });
    }

    /// Records that a connection closed (after it left its room).
    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
        metrics().connections.dec();
    }

    /// The tracker [`Hub::shutdown`] waits on, for other short tasks of the realtime path
    /// (such as admission reads) to be tracked with the rooms.
    pub fn tracker(&self) -> TaskTracker {
        self.tracker.clone()
    }

    /// Stops every room: each saves what it holds, compacts, and closes its connections
    /// with "going away". Returns when all rooms have finished.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        // Every room has told the other processes its members left: let that go out.
        let relay = self.relay.lock().expect("hub lock").take();
        if let Some((relay, publishing)) = relay {
            drop(relay);
            let _ = tokio::time::timeout(Duration::from_secs(2), publishing).await;
        }
    }

    fn forget(&self, board: BoardId, slot: &Slot) {
        let mut rooms = self.rooms.lock().expect("hub lock");
        if rooms.get(&board).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            rooms.remove(&board);
        }
    }

    async fn load(&self, board: BoardId, slot: Slot) -> Result<RoomHandle, JoinError> {
        let stored = match self.log.load(board).await {
            Ok(s) => s,
            Err(StoreError::NotFound(_)) => return Err(JoinError::NotFound),
            Err(e) => return Err(JoinError::Load(e)),
        };
        let (tx, rx) = mpsc::channel(self.settings.command_queue);
        let members = Arc::new(AtomicUsize::new(0));
        let follow = slot.follow.clone();
        let unload = Unloader {
            rooms: self.rooms.clone(),
            board,
            slot,
        };
        let parts = room::Parts {
            board,
            log: self.log.clone(),
            settings: self.settings.clone(),
            member_count: members.clone(),
            relay: self
                .relay
                .lock()
                .expect("hub lock")
                .as_ref()
                .map(|(r, _)| r.clone()),
            follow,
        };
        let room = off_thread(move || room::Room::new(parts, stored)).await?;
        let shutdown = self.shutdown.clone();
        self.tracker.spawn(async move {
            metrics().rooms.inc();
            room.run(rx, shutdown, unload).await;
            metrics().rooms.dec();
        });
        Ok(RoomHandle { tx, members })
    }
}

/// Rebuilds a stored board on a blocking thread: decoding a big one takes a while, and the
/// worker thread's other connections would wait for it.
async fn off_thread<T: Send + 'static>(
    rebuild: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, JoinError> {
    tokio::task::spawn_blocking(rebuild)
        .await
        .map_err(|e| JoinError::Corrupt(format!("loading the board failed: {e}")))?
        .map_err(JoinError::Corrupt)
}

/// Returns the free pages at the top of every glibc arena to the operating system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    // SAFETY: malloc_trim only releases memory the allocator holds as free; it takes the
    // arena locks itself and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

/// Lets a room remove itself from the hub's map, and only itself.
pub(crate) struct Unloader {
    rooms: Arc<Mutex<HashMap<BoardId, Slot>>>,
    board: BoardId,
    slot: Slot,
}

impl Unloader {
    fn unload(&self) {
        let mut rooms = self.rooms.lock().expect("hub lock");
        if rooms
            .get(&self.board)
            .is_some_and(|s| Arc::ptr_eq(s, &self.slot))
        {
            rooms.remove(&self.board);
        }
    }
}
