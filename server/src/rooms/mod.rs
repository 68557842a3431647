//! Live boards: one [`room`] task per board in use, and the [`Hub`] that finds or loads it.
//!
//! Owns the lifecycle of rooms: load a board from the store on first join (exactly once
//! under concurrent first joins), hand connections to it, unload it when idle, and shut
//! every room down in order. Knows nothing of HTTP or SQL: it speaks to the store through
//! the [`Store`] trait and to connections through channels.

mod room;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{OnceCell, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::domain::{BoardId, Role};
use crate::metrics::metrics;
use crate::protocol::ClientMessage;
use crate::store::{Store, StoreError};

pub use room::RoomSettings;

/// Identifies one WebSocket connection for the lifetime of the process.
pub type ConnId = u64;

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

/// What a connection hands the room when it joins.
pub struct Joining {
    /// The connection.
    pub conn: ConnId,
    /// What it may do.
    pub role: Role,
    /// Where the room sends it frames (bounded; full means too slow).
    pub out: mpsc::Sender<Bytes>,
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

type Slot = Arc<OnceCell<RoomHandle>>;

/// Finds, loads and unloads rooms; one per node.
pub struct Hub {
    rooms: Arc<Mutex<HashMap<BoardId, Slot>>>,
    store: Arc<dyn Store>,
    settings: RoomSettings,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    next_conn: AtomicU64,
    connections: Arc<AtomicUsize>,
}

impl Hub {
    /// A hub over `store`.
    pub fn new(store: Arc<dyn Store>, settings: RoomSettings) -> Self {
        Self {
            rooms: Arc::default(),
            store,
            settings,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            next_conn: AtomicU64::new(1),
            connections: Arc::default(),
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
        let slot = self.rooms.lock().expect("hub lock").get(&board).cloned();
        slot.and_then(|s| s.get().map(|h| h.members.load(Ordering::Relaxed)))
            .unwrap_or(0)
    }

    /// Whether the hub is shutting down.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// Joins `who` to `board`'s room, loading the board first if no room holds it.
    pub async fn join(&self, board: BoardId, who: Joining) -> Result<RoomHandle, JoinError> {
        let mut who = who;
        loop {
            if self.shutdown.is_cancelled() {
                return Err(JoinError::ShuttingDown);
            }
            let slot = self
                .rooms
                .lock()
                .expect("hub lock")
                .entry(board)
                .or_default()
                .clone();
            let handle = match slot
                .get_or_try_init(|| self.load(board, slot.clone()))
                .await
            {
                Ok(h) => h.clone(),
                Err(e) => {
                    self.forget(board, &slot);
                    return Err(e);
                }
            };
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
            self.forget(board, &slot);
        }
    }

    /// Records that a connection closed (after it left its room).
    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
        metrics().connections.dec();
    }

    /// Stops every room: each saves what it holds, compacts, and closes its connections
    /// with "going away". Returns when all rooms have finished.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }

    fn forget(&self, board: BoardId, slot: &Slot) {
        let mut rooms = self.rooms.lock().expect("hub lock");
        if rooms.get(&board).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            rooms.remove(&board);
        }
    }

    async fn load(&self, board: BoardId, slot: Slot) -> Result<RoomHandle, JoinError> {
        let stored = match self.store.load(board).await {
            Ok(s) => s,
            Err(StoreError::NotFound(_)) => return Err(JoinError::NotFound),
            Err(e) => return Err(JoinError::Load(e)),
        };
        let (tx, rx) = mpsc::channel(self.settings.command_queue);
        let members = Arc::new(AtomicUsize::new(0));
        let unload = Unloader {
            rooms: self.rooms.clone(),
            board,
            slot,
        };
        let room = room::Room::new(
            board,
            stored,
            self.store.clone(),
            self.settings.clone(),
            members.clone(),
        )
        .map_err(JoinError::Corrupt)?;
        let shutdown = self.shutdown.clone();
        self.tracker.spawn(async move {
            metrics().rooms.inc();
            room.run(rx, shutdown, unload).await;
            metrics().rooms.dec();
        });
        Ok(RoomHandle { tx, members })
    }
}

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
