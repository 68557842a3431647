//! One live board: the task that owns its `yrs::Doc` and `Awareness`.
//!
//! Owns applying client messages, making every accepted update durable in the store
//! **before** anyone else sees it (group commit: updates that arrive while a write is in
//! flight share the next one), fanning out, awareness, compaction and idle unload. It is
//! the only code that touches its Doc. Knows nothing of sockets or SQL.
//!
//! A fresh client (empty state vector) is answered from a cached sync step 2 of the whole
//! document plus the updates saved since it was encoded ([`FreshJoin`]): encoding a big
//! board takes far longer than sending it, joins come in bursts, and re-encoding after
//! every edit would make the first joiner after each edit pay it. A room loaded from the
//! store starts with the snapshot and the log after it. Every update, a restore's included,
//! reaches the cache the way it reaches members (saved, in order, in `fan_out`); a tail
//! grown past [`FreshJoin`]'s bounds is dropped, and the next joiner re-encodes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use yrs::encoding::write::Write;
use yrs::sync::AwarenessUpdate;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::{Doc, ReadTxn, StateVector, Transact};

use super::presence::Presence;
use super::queued::{Meter, counted};
use super::snapshot::{self, Encoded, ForStore};
use super::{
    Access, AccessChange, BoardState, ConnId, Gone, Joining, Kick, Outbox, RestoreError,
    SERVER_CONN, Unloader,
};
use crate::domain::{BoardId, Role};
use crate::metrics::metrics;
use crate::protocol::{self, ClientMessage, DocUpdate, scan};
use crate::store::{MAX_APPEND_BATCH, SeqRange, Store, StoreError, StoredDoc};

/// How long awareness changes gather before they go out as one message, in a room of up
/// to 150 members; bigger rooms gather longer (see [`awareness_interval`]).
pub const AWARENESS_COALESCE: Duration = Duration::from_millis(15);

/// The longest awareness changes gather, whatever the size of the room.
pub const AWARENESS_COALESCE_MAX: Duration = Duration::from_millis(100);

/// How long awareness changes gather in a room of `members`: every flush sends one message
/// to each member, so a crowd's cursors would cost members² messages a second at a fixed
/// pace. 100 µs per member keeps a room's awareness traffic near 10,000 messages a second
/// from 150 members up, until cursors slow to 10 updates a second (1,000 members).
pub fn awareness_interval(members: usize) -> Duration {
    let per_member = Duration::from_micros(100).saturating_mul(members as u32);
    per_member.clamp(AWARENESS_COALESCE, AWARENESS_COALESCE_MAX)
}

/// A v1 update that changes nothing: the state of an empty document.
const EMPTY_UPDATE: &[u8] = &[0, 0];

/// Most updates a fresh joiner is sent after the cached step 2 instead of a new encoding.
const FRESH_TAIL_MAX_UPDATES: usize = 256;

/// Tail bytes a fresh joiner may be sent beyond a quarter of the cached step 2.
const FRESH_TAIL_MIN_BYTES: usize = 256 << 10;

/// The answer to a client with an empty state vector: the whole document encoded once as
/// a sync step 2 (`base`), and the updates saved since, as the frames that fanned them out.
struct FreshJoin {
    base: Bytes,
    tail: Vec<Bytes>,
    tail_bytes: usize,
}

impl FreshJoin {
    /// `base`, answered after the update frames in `tail`.
    fn new(base: Bytes, tail: Vec<Bytes>) -> Self {
        Self {
            tail_bytes: tail.iter().map(Bytes::len).sum(),
            base,
            tail,
        }
    }

    /// Adds a saved update; `None` once the tail is no longer worth replaying: past
    /// [`FRESH_TAIL_MAX_UPDATES`] or a quarter of the connection queue (`queue`, so that a
    /// joiner is never closed as too slow by its own sync), or past a quarter of the base
    /// plus [`FRESH_TAIL_MIN_BYTES`]. The next joiner then re-encodes.
    fn extended(mut self, frame: Bytes, queue: usize) -> Option<Self> {
        self.tail_bytes += frame.len();
        self.tail.push(frame);
        let fits = self.tail.len() <= FRESH_TAIL_MAX_UPDATES.min(queue / 4)
            && self.tail_bytes <= self.base.len() / 4 + FRESH_TAIL_MIN_BYTES;
        fits.then_some(self)
    }
}

/// Limits and timings of every room.
#[derive(Debug, Clone)]
pub struct RoomSettings {
    /// Unload a room this long after its last member left.
    pub idle: Duration,
    /// Compact when this many updates are logged after the snapshot.
    pub compact_every: u64,
    /// Compact when this many bytes are logged after the snapshot.
    pub compact_bytes: u64,
    /// Refuse updates that would grow the document past this many bytes (close 4413).
    pub max_doc_bytes: u64,
    /// Most bytes of accepted-but-unsaved updates a room holds while the store is down.
    pub max_pending_bytes: u64,
    /// Frames a member's backlog holds, once its socket's queue is full, before it counts
    /// as too slow (close 1013).
    pub outbound_queue: usize,
    /// Bytes queued for one member (its backlog and its socket's queue), beyond one copy of
    /// the whole document, before it counts as too slow (close 1013).
    pub max_queued_bytes: usize,
    /// Bytes queued for all of a room's members together (a frame several share counts
    /// once), beyond one copy of the whole document; past it the members holding the most
    /// are closed as too slow.
    pub max_room_queued_bytes: usize,
    /// Commands queued for one room before senders wait.
    pub command_queue: usize,
    /// Where updates still unsaved at shutdown are written (see `spill`).
    pub spill_dir: std::path::PathBuf,
    /// How often a room with members checks its board still exists.
    pub board_check: Duration,
}

/// What a room is asked to do. Kept small (the join is boxed): a room's command channel
/// holds its slots in blocks of 32 from the start, so every byte here costs 32 per room.
pub(super) enum Command {
    Join {
        who: Box<Joining>,
        reply: oneshot::Sender<Result<(), Box<Joining>>>,
    },
    Messages {
        conn: ConnId,
        messages: Vec<ClientMessage>,
    },
    Leave {
        conn: ConnId,
    },
    Access(AccessChange),
    Delete,
    State {
        reply: oneshot::Sender<BoardState>,
    },
    Restore {
        target: Doc,
        reply: oneshot::Sender<Result<(), RestoreError>>,
    },
}

struct Member {
    access: Access,
    role: Role,
    /// Whether it has been sent sync step 2. Until then it gets no live updates: its step 2,
    /// computed from the saved document, will hold them, and a client that receives an
    /// update before the state it builds on must park it as pending.
    synced: bool,
    out: Box<dyn Outbox>,
    /// Frames its outbox had no room for yet, oldest first; everything after the first
    /// waits here too, so frames never overtake each other.
    backlog: VecDeque<Bytes>,
    /// Bytes of its frames still queued anywhere (backlog, socket queue).
    queued: Meter,
    /// It asked for everyone's awareness: answered with the next awareness tick.
    wants_presence: bool,
    kick: Option<oneshot::Sender<Kick>>,
}

/// What became of a frame offered to a member.
enum Delivery {
    /// In the transport's queue.
    Sent,
    /// In the member's backlog, until its outbox has room.
    Backlogged,
    /// The backlog is full: the member cannot keep up.
    TooSlow,
    /// The socket is closed.
    Gone,
}

impl Member {
    /// Hands `frame` to the outbox, or to the backlog while the outbox is full (`cx` is
    /// woken when it has room) or the backlog holds older frames. Too slow once it holds
    /// `limits.frames` frames in its backlog, or more than `limits.bytes` bytes queued.
    fn offer(&mut self, frame: Bytes, limits: QueueLimits, cx: &mut Context<'_>) -> Delivery {
        if self.queued.get() > limits.bytes {
            return Delivery::TooSlow;
        }
        let frame = counted(frame, &self.queued);
        if self.backlog.is_empty() {
            match self.out.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    return match self.put(frame) {
                        Ok(()) => Delivery::Sent,
                        Err(Gone) => Delivery::Gone,
                    };
                }
                Poll::Ready(Err(Gone)) => return Delivery::Gone,
                Poll::Pending => {}
            }
        } else if self.backlog.len() >= limits.frames {
            return Delivery::TooSlow;
        }
        self.backlog.push_back(frame);
        Delivery::Backlogged
    }

    /// Moves backlogged frames to the outbox while it has room; `Ok(true)` once the
    /// backlog is empty, `Ok(false)` while the outbox is full (`cx` is woken).
    fn drain(&mut self, cx: &mut Context<'_>) -> Result<bool, Gone> {
        while !self.backlog.is_empty() {
            match self.out.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    let frame = self.backlog.pop_front().expect("a backlogged frame");
                    self.put(frame)?;
                }
                Poll::Ready(Err(gone)) => return Err(gone),
                Poll::Pending => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Queues `frame` on the outbox, which has room, and counts it as sent.
    fn put(&mut self, frame: Bytes) -> Result<(), Gone> {
        let len = frame.len() as u64;
        self.out.send(frame)?;
        metrics().messages_out.inc();
        metrics().bytes_out.inc_by(len);
        Ok(())
    }
}

/// How much one member may have queued before it counts as too slow.
#[derive(Debug, Clone, Copy)]
struct QueueLimits {
    frames: usize,
    bytes: usize,
}

struct Pending {
    from: ConnId,
    raw: Vec<u8>,
    received: Instant,
    /// Told once the update is saved and fanned out (a restore waits for it).
    saved: Option<oneshot::Sender<Result<(), RestoreError>>>,
}

type Flush = (JoinHandle<Result<SeqRange, StoreError>>, Vec<Pending>);

pub(super) struct Room {
    board: BoardId,
    doc: Doc,
    presence: Presence,
    members: HashMap<ConnId, Member>,
    member_count: Arc<AtomicUsize>,
    store: Arc<dyn Store>,
    settings: RoomSettings,
    /// Applied to the Doc, not yet handed to the store.
    pending: Vec<Pending>,
    pending_bytes: u64,
    /// Handed to the store, not yet committed.
    inflight: Option<Flush>,
    /// Sync step 1 requests waiting until everything in the Doc is durable.
    deferred: Vec<(ConnId, StateVector)>,
    /// Updates received while a step 1 was deferred (and after them, until they are
    /// applied), applied in arrival order once it is answered.
    held: Vec<(ConnId, DocUpdate)>,
    held_bytes: u64,
    retry_at: Option<Instant>,
    backoff: Duration,
    last_seq: i64,
    snapshot_seq: i64,
    logged_updates: u64,
    logged_bytes: u64,
    doc_bytes: u64,
    /// What the document took in memory at its last compaction (or load), as estimated by
    /// the update pre-scan; the compaction task replaces it with its own estimate.
    memory_base: Arc<AtomicU64>,
    /// What the updates applied since added to it.
    memory_since: u64,
    /// How deep every item of the document sits, so no update can nest shared types
    /// deeper than the pre-scan allows.
    levels: scan::Levels,
    /// Bytes of the frames this room made that are still queued somewhere (or cached for
    /// joiners), each counted once however many members share it.
    queued: Meter,
    /// What answers an empty state vector, while it stays cheaper than re-encoding.
    full_state: Option<FreshJoin>,
    /// The compaction running in the background, if any.
    compacting: Option<tokio::task::JoinHandle<()>>,
    /// The board was deleted: the room stops without saving.
    deleted: bool,
    /// When the coalesced awareness message goes out.
    awareness_flush_at: Option<Instant>,
    /// Members with frames in their backlog.
    backlogged: HashSet<ConnId>,
    /// This room's task, woken when a full outbox has room again.
    waker: Waker,
}

impl Room {
    pub(super) fn new(
        board: BoardId,
        stored: StoredDoc,
        store: Arc<dyn Store>,
        settings: RoomSettings,
        member_count: Arc<AtomicUsize>,
    ) -> Result<Self, String> {
        let rebuilt = snapshot::rebuild_with_base(&stored)?;
        // The Doc's whole state is the snapshot (or nothing) and the log after it.
        let base = protocol::encode_sync_step2(rebuilt.base_v1.as_deref().unwrap_or(EMPTY_UPDATE));
        let mut full_state = Some(FreshJoin::new(Bytes::from(base), Vec::new()));
        let queued = Meter::default();
        for u in &stored.updates {
            let Some(fresh) = full_state.take() else {
                break;
            };
            let frame = counted(Bytes::from(protocol::encode_update(&u.data)), &queued);
            full_state = fresh.extended(frame, settings.outbound_queue);
        }
        let doc_memory = rebuilt.base_v1.as_deref().map_or(0, scan::memory_of)
            + stored
                .updates
                .iter()
                .map(|u| scan::memory_of(&u.data))
                .sum::<u64>();
        let mut levels = scan::Levels::default();
        for bytes in rebuilt
            .base_v1
            .iter()
            .chain(stored.updates.iter().map(|u| &u.data))
        {
            // Bytes stored before the pre-scan existed may not pass it: they count as
            // nothing known, which only makes the board stricter.
            if let Ok(placed) = scan::item_levels(bytes, &levels, scan::Strictness::Record) {
                levels.record(&placed);
            }
        }
        Ok(Self {
            board,
            doc: rebuilt.doc,
            presence: Presence::default(),
            members: HashMap::new(),
            member_count,
            store,
            settings,
            pending: Vec::new(),
            pending_bytes: 0,
            inflight: None,
            deferred: Vec::new(),
            held: Vec::new(),
            held_bytes: 0,
            retry_at: None,
            backoff: Duration::ZERO,
            last_seq: stored.last_seq,
            snapshot_seq: stored.snapshot.as_ref().map_or(0, |s| s.seq),
            logged_updates: stored.updates.len() as u64,
            logged_bytes: stored.updates.iter().map(|u| u.data.len() as u64).sum(),
            // As after a compaction: the whole state in the wire's encoding.
            doc_bytes: rebuilt.base_v1.as_ref().map_or(0, |b| b.len() as u64)
                + stored
                    .updates
                    .iter()
                    .map(|u| u.data.len() as u64)
                    .sum::<u64>(),
            memory_base: Arc::new(AtomicU64::new(doc_memory)),
            levels,
            memory_since: 0,
            queued,
            full_state,
            compacting: None,
            deleted: false,
            awareness_flush_at: None,
            backlogged: HashSet::new(),
            waker: Waker::noop().clone(),
        })
    }

    pub(super) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        shutdown: CancellationToken,
        unloader: Unloader,
    ) {
        let mut idle_since = Some(Instant::now());
        let mut check = tokio::time::interval_at(
            Instant::now() + self.settings.board_check,
            self.settings.board_check,
        );
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut checking: Option<JoinHandle<Result<(), StoreError>>> = None;
        self.waker = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        loop {
            self.maybe_start_flush();
            let idle_deadline = idle_since
                .filter(|_| self.members.is_empty())
                .map(|t| t + self.settings.idle);
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        self.handle(cmd);
                        if self.deleted {
                            unloader.unload();
                            reject_joins(rx);
                            tracing::info!(board_id = %self.board, "board deleted; room closed");
                            return;
                        }
                        if self.members.is_empty() && idle_since.is_none() {
                            idle_since = Some(Instant::now());
                        } else if !self.members.is_empty() {
                            idle_since = None;
                        }
                    }
                    None => break,
                },
                result = wait_flush(&mut self.inflight), if self.inflight.is_some() => self.on_flushed(result),
                gone = tokio::task::unconstrained(std::future::poll_fn(|cx| drain_backlogs(&mut self.members, &mut self.backlogged, cx))), if !self.backlogged.is_empty() => {
                    for conn in gone {
                        self.leave(conn);
                    }
                }
                _ = sleep_until(self.retry_at), if self.retry_at.is_some() => self.retry_at = None,
                _ = sleep_until(self.awareness_flush_at), if self.awareness_flush_at.is_some() => self.flush_awareness(),
                _ = check.tick(), if checking.is_none() && !self.members.is_empty() => {
                    let (store, board) = (self.store.clone(), self.board);
                    checking = Some(tokio::spawn(async move { store.get_board(board).await.map(drop) }));
                }
                exists = wait_check(&mut checking), if checking.is_some() => {
                    if let Err(StoreError::NotFound(_)) = exists {
                        self.kick_all(Kick::BoardDeleted);
                        self.drop_unsaved();
                        unloader.unload();
                        reject_joins(rx);
                        tracing::info!(board_id = %self.board, "board deleted elsewhere; room closed");
                        return;
                    }
                }
                _ = sleep_until(idle_deadline), if idle_deadline.is_some() => {
                    if self.save_everything(Duration::from_secs(5)).await {
                        unloader.unload();
                        reject_joins(rx);
                        tracing::debug!(board_id = %self.board, "room unloaded");
                        return;
                    }
                    idle_since = Some(Instant::now());
                }
                _ = shutdown.cancelled() => break,
            }
        }
        // Shutting down: save what is unsaved, then tell everyone to come back later.
        if !self.save_everything(Duration::from_secs(10)).await {
            self.spill();
        }
        self.kick_all(Kick::ShuttingDown);
        unloader.unload();
        reject_joins(rx);
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Join { who, reply } => self.join(*who, reply),
            Command::Messages { conn, messages } => {
                // A frame's step 1s are answered once, for the last of them: each answer
                // may be the whole board.
                let last_step1 = messages
                    .iter()
                    .rposition(|m| matches!(m, ClientMessage::SyncStep1(_)));
                for (i, m) in messages.into_iter().enumerate() {
                    if !self.members.contains_key(&conn) {
                        break;
                    }
                    if matches!(m, ClientMessage::SyncStep1(_)) && Some(i) != last_step1 {
                        continue;
                    }
                    self.on_message(conn, m);
                }
            }
            Command::Leave { conn } => self.leave(conn),
            Command::Access(change) => self.change_access(&change),
            Command::State { reply } => {
                let _ = reply.send(BoardState {
                    state: self
                        .doc
                        .transact()
                        .encode_state_as_update_v1(&StateVector::default()),
                    seq: self.last_seq,
                    members: self.members.len(),
                });
            }
            Command::Restore { target, reply } => self.restore(&target, reply),
            Command::Delete => {
                self.kick_all(Kick::BoardDeleted);
                self.drop_unsaved();
                self.deleted = true;
            }
        }
    }

    /// Makes the document's content equal to `target`'s as one ordinary change, saved and
    /// fanned out like any client's update; `reply` hears once it is saved.
    fn restore(&mut self, target: &Doc, reply: oneshot::Sender<Result<(), RestoreError>>) {
        // The change is in the Doc once made, so it is always queued: refusing it now
        // would leave the Doc ahead of the store and of every client. The size cap guards
        // against clients; a restore brings back a state the board already had.
        let update = crate::document::restore(&self.doc, target);
        if update.is_empty() {
            let _ = reply.send(Ok(()));
            return;
        }
        self.queue(SERVER_CONN, update, Some(reply));
    }

    /// Re-evaluates every affected connection: a lower role applies to its next message, no
    /// role at all closes it (4403), a revoked token closes the connections opened with it.
    fn change_access(&mut self, change: &AccessChange) {
        let mut revoked: Vec<(ConnId, Kick)> = Vec::new();
        for (conn, member) in &mut self.members {
            let access = &mut member.access;
            let why = match change {
                AccessChange::Member { user, role } if *user == access.user => {
                    access.member = *role;
                    "you are no longer a member of this board"
                }
                AccessChange::LinkRevoked(id) if access.link.is_some_and(|(l, _)| l == *id) => {
                    access.link = None;
                    "the share link was revoked"
                }
                AccessChange::UserDisabled(user) if *user == access.user => {
                    revoked.push((*conn, Kick::Revoked("account disabled")));
                    continue;
                }
                AccessChange::Admin { user, admin } if *user == access.user => {
                    access.admin = *admin;
                    "you are no longer an administrator"
                }
                AccessChange::TokenRevoked { user, jti }
                    if *user == access.user && access.jti.as_deref() == Some(jti.as_str()) =>
                {
                    revoked.push((*conn, Kick::SignedOut));
                    continue;
                }
                _ => continue,
            };
            match access.role() {
                Some(role) => member.role = role,
                None => revoked.push((*conn, Kick::Revoked(why))),
            }
        }
        for (conn, kick) in revoked {
            self.kick(conn, kick);
        }
    }

    fn join(&mut self, who: Joining, reply: oneshot::Sender<Result<(), Box<Joining>>>) {
        let conn = who.conn;
        let Some(role) = who.access.role() else {
            let _ = who.kick.send(Kick::Revoked("no role on this board"));
            let _ = reply.send(Ok(()));
            return;
        };
        let member = Member {
            synced: false,
            access: who.access,
            role,
            out: who.out,
            backlog: VecDeque::new(),
            queued: Meter::default(),
            wants_presence: false,
            kick: Some(who.kick),
        };
        self.members.insert(conn, member);
        self.member_count
            .store(self.members.len(), Ordering::Relaxed);
        if reply.send(Ok(())).is_err() {
            self.remove(conn);
            return;
        }
        let step1 = protocol::encode_sync_step1(&self.doc.transact().state_vector());
        self.send_to(conn, Bytes::from(step1));
        if let Some(msg) = self.presence_of_everyone() {
            self.send_to(conn, msg);
        }
    }

    fn leave(&mut self, conn: ConnId) {
        self.remove(conn);
    }

    fn on_message(&mut self, conn: ConnId, msg: ClientMessage) {
        match msg {
            ClientMessage::SyncStep1(sv) => {
                if self.pending.is_empty() && self.inflight.is_none() {
                    self.send_step2(conn, &sv);
                } else {
                    // One answer per member however many step 1s it sends meanwhile.
                    self.deferred.retain(|(c, _)| *c != conn);
                    self.deferred.push((conn, sv));
                }
            }
            ClientMessage::SyncStep2(update) | ClientMessage::Update(update) => {
                self.on_update(conn, update)
            }
            ClientMessage::Awareness(update) => self.on_awareness(conn, update),
            ClientMessage::QueryAwareness => {
                // Answered with the next awareness tick, once however often it asks.
                if let Some(member) = self.members.get_mut(&conn) {
                    member.wants_presence = true;
                    self.schedule_awareness();
                }
            }
            ClientMessage::Auth => {}
        }
    }

    fn on_update(&mut self, conn: ConnId, update: DocUpdate) {
        if update.is_empty() {
            return;
        }
        let Some(member) = self.members.get(&conn) else {
            return;
        };
        if !member.role.can_edit() {
            self.kick(conn, Kick::ReadOnly);
            return;
        }
        let len = update.raw.len() as u64;
        if self.pending_bytes + self.held_bytes + len > self.settings.max_pending_bytes {
            self.kick(conn, Kick::BacklogFull);
            return;
        }
        if !self.deferred.is_empty() || !self.held.is_empty() {
            // A joiner waits for a step 2 that reveals only saved state: hold new updates
            // back until what is in flight is saved and the joiner is answered, so it waits
            // at most two writes however busy the room is. Once anything is held, so is
            // everything after it, even if the joiner left meanwhile: an update applied
            // ahead of the held ones it builds on would reach everyone out of order.
            self.held_bytes += len;
            self.held.push((conn, update));
            return;
        }
        self.apply(conn, update);
    }

    /// Applies an accepted update to the Doc and queues it for saving.
    fn apply(&mut self, conn: ConnId, update: DocUpdate) {
        let len = update.raw.len() as u64;
        let memory = update.shape.memory(update.raw.len());
        if self.doc_bytes + len > self.settings.max_doc_bytes
            || self.doc_memory() + memory > scan::memory_cap(self.settings.max_doc_bytes)
        {
            self.kick(conn, Kick::DocumentTooLarge);
            return;
        }
        let placed = match scan::item_levels(&update.raw, &self.levels, scan::Strictness::Refuse) {
            Ok(placed) => placed,
            Err(e) => {
                self.kick(conn, Kick::Invalid(e.to_string()));
                return;
            }
        };
        self.memory_since += memory;
        self.levels.record(&placed);
        let applied = self.doc.transact_mut().apply_update(update.update);
        if let Err(e) = applied {
            // It may have changed part of the Doc, which no saved update describes.
            self.full_state = None;
            self.kick(conn, Kick::Invalid(format!("update does not apply: {e}")));
            return;
        }
        self.queue(conn, update.raw, None);
    }

    /// Queues an update already applied to the Doc for saving, then fan-out.
    fn queue(
        &mut self,
        from: ConnId,
        raw: Vec<u8>,
        saved: Option<oneshot::Sender<Result<(), RestoreError>>>,
    ) {
        let len = raw.len() as u64;
        if from == SERVER_CONN {
            self.memory_since += scan::memory_of(&raw);
            if let Ok(placed) = scan::item_levels(&raw, &self.levels, scan::Strictness::Record) {
                self.levels.record(&placed);
            }
        }
        self.doc_bytes += len;
        self.pending_bytes += len;
        metrics().updates_applied.inc();
        self.pending.push(Pending {
            from,
            raw,
            received: Instant::now(),
            saved,
        });
    }

    /// Applies a member's awareness update (only its entry for its own client id counts);
    /// the change goes out with the next coalesced awareness message.
    fn on_awareness(&mut self, conn: ConnId, update: AwarenessUpdate) {
        let Some(member) = self.members.get(&conn) else {
            return;
        };
        let applied = self.presence.apply(conn, &member.access.user, update);
        if applied.refused > 0 {
            metrics()
                .rejected
                .with_label_values(&["awareness_not_own"])
                .inc_by(applied.refused as u64);
            tracing::debug!(board_id = %self.board, conn_id = conn, refused = applied.refused, "awareness for client ids the connection does not own dropped");
        }
        if applied.changed > 0 {
            self.schedule_awareness();
        }
    }

    /// Changes that arrive within [`awareness_interval`] go out together as one message per
    /// member (the sender included, as the stock client expects its own state back), so a
    /// room where many people move their cursors, or a crowd joins at once, sends each
    /// member one message per tick instead of one per change; queries are answered on the
    /// same tick.
    fn schedule_awareness(&mut self) {
        if self.awareness_flush_at.is_none() {
            self.awareness_flush_at = Some(Instant::now() + awareness_interval(self.members.len()));
        }
    }

    /// Sends the coalesced awareness changes to everyone, and everyone's awareness to the
    /// members who asked for it.
    fn flush_awareness(&mut self) {
        self.awareness_flush_at = None;
        if let Some(update) = self.presence.take_changes() {
            let frame = self.frame(protocol::encode_awareness(&update));
            self.broadcast(frame, None, false);
        }
        let asked: Vec<ConnId> = self
            .members
            .iter_mut()
            .filter(|(_, m)| m.wants_presence)
            .map(|(conn, m)| {
                m.wants_presence = false;
                *conn
            })
            .collect();
        if let Some(everyone) = asked.first().and_then(|_| self.presence_of_everyone()) {
            for conn in asked {
                self.send_to(conn, everyone.clone());
            }
        }
    }

    fn maybe_start_flush(&mut self) {
        if self.inflight.is_some() || self.pending.is_empty() || self.retry_at.is_some() {
            return;
        }
        // A backlog from a store outage may exceed what one append takes: save it in
        // order, one batch after the other.
        let rest = self
            .pending
            .split_off(self.pending.len().min(MAX_APPEND_BATCH));
        let batch = std::mem::replace(&mut self.pending, rest);
        let updates: Vec<Vec<u8>> = batch.iter().map(|p| p.raw.clone()).collect();
        let (store, board) = (self.store.clone(), self.board);
        metrics().persist_batch.observe(updates.len() as f64);
        let handle = tokio::spawn(async move {
            let timer = metrics().persist_seconds.start_timer();
            let result = store.append_updates(board, &updates).await;
            timer.observe_duration();
            result
        });
        self.inflight = Some((handle, batch));
    }

    fn on_flushed(&mut self, result: (Result<SeqRange, StoreError>, Vec<Pending>)) {
        let (result, batch) = result;
        match result {
            Ok(range) => {
                let bytes: u64 = batch.iter().map(|p| p.raw.len() as u64).sum();
                self.pending_bytes -= bytes;
                self.last_seq = range.last;
                self.logged_updates += batch.len() as u64;
                self.logged_bytes += bytes;
                self.backoff = Duration::ZERO;
                self.fan_out(batch);
                if self.pending.is_empty() {
                    self.release_waiting();
                    if self.logged_updates >= self.settings.compact_every
                        || self.logged_bytes >= self.settings.compact_bytes
                    {
                        self.start_compaction();
                    }
                }
            }
            Err(StoreError::NotFound(_)) => {
                self.kick_all(Kick::BoardDeleted);
                self.drop_unsaved();
                self.deleted = true;
            }
            Err(e) => {
                // Keep the batch, in order, ahead of anything newer, and retry with backoff.
                let mut batch = batch;
                batch.append(&mut self.pending);
                self.pending = batch;
                self.backoff =
                    (self.backoff * 2).clamp(Duration::from_millis(50), Duration::from_secs(5));
                self.retry_at = Some(Instant::now() + self.backoff);
                metrics().store_errors.inc();
                tracing::warn!(board_id = %self.board, error = %crate::telemetry::chain(&e), retry_in = ?self.backoff, "saving updates failed");
            }
        }
    }

    /// Everything in the Doc is saved: answer the joiners waiting for step 2, then apply
    /// the updates held back meanwhile.
    fn release_waiting(&mut self) {
        for (conn, sv) in std::mem::take(&mut self.deferred) {
            self.send_step2(conn, &sv);
        }
        self.held_bytes = 0;
        for (conn, update) in std::mem::take(&mut self.held) {
            self.apply(conn, update);
        }
    }

    /// Sends each saved update to every synced member but its author. Updates are not
    /// merged: yrs's `merge_updates` can drop content when updates depend on each other,
    /// which would leave clients diverged with no way to notice.
    fn fan_out(&mut self, batch: Vec<Pending>) {
        for mut p in batch {
            if let Some(saved) = p.saved.take() {
                let _ = saved.send(Ok(()));
            }
            metrics()
                .fanout_seconds
                .observe(p.received.elapsed().as_secs_f64());
            let frame = self.frame(protocol::encode_update(&p.raw));
            let limit = self.settings.outbound_queue;
            self.full_state = self
                .full_state
                .take()
                .and_then(|f| f.extended(frame.clone(), limit));
            self.broadcast(frame, Some(p.from), true);
        }
    }

    /// The document's state for a snapshot, or `None` while it holds updates that cannot be
    /// integrated yet (their dependencies have not arrived: the log keeps those, so the
    /// board is not compacted until they integrate). Not yet checked nor in its stored
    /// encoding: see [`for_store`].
    fn snapshot_state(&self) -> Option<Encoded> {
        let txn = self.doc.transact();
        if txn.has_missing_updates() {
            tracing::debug!(board_id = %self.board, "compaction postponed: unintegrated updates");
            return None;
        }
        Some(Encoded::new(&txn))
    }

    /// Compacts in the background. Transcoding the snapshot and checking it take longer
    /// than encoding it, so they happen off the room's task, which goes on serving.
    fn start_compaction(&mut self) {
        if self.compacting.as_ref().is_some_and(|c| !c.is_finished()) {
            // One at a time; the counters stay up, so the next save starts the next.
            return;
        }
        let Some(encoded) = self.snapshot_state() else {
            return;
        };
        let (store, board, seq) = (self.store.clone(), self.board, self.last_seq);
        self.snapshot_seq = seq;
        self.logged_updates = 0;
        self.logged_bytes = 0;
        self.doc_bytes = encoded.v1_len() as u64;
        // Until the task has its own estimate of the document, the running one stands.
        self.memory_base.store(self.doc_memory(), Ordering::Relaxed);
        self.memory_since = 0;
        let memory_base = self.memory_base.clone();
        self.compacting = Some(tokio::spawn(async move {
            let Some(encoded) = for_store(board, encoded, Some(memory_base)).await else {
                return;
            };
            if let Err(e) = store
                .compact(board, &encoded.state, encoded.encoding, seq)
                .await
            {
                tracing::warn!(board_id = %board, error = %crate::telemetry::chain(&e), "compaction failed; the log is kept");
            }
        }));
    }

    /// Writes every pending update and a snapshot, retrying until `deadline` passes.
    async fn save_everything(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if let Some(flush) = self.inflight.take() {
                let mut slot = Some(flush);
                let result = wait_flush(&mut slot).await;
                self.on_flushed(result);
            }
            if self.pending.is_empty() && self.held.is_empty() {
                break;
            }
            if self.pending.is_empty() {
                self.release_waiting();
            }
            if Instant::now() >= deadline {
                return false;
            }
            if let Some(at) = self.retry_at.take() {
                tokio::time::sleep_until(at.min(deadline)).await;
            }
            self.maybe_start_flush();
        }
        // A background compaction finishes first: the room does not end before it.
        if let Some(compacting) = self.compacting.take() {
            let _ = compacting.await;
        }
        if self.last_seq > self.snapshot_seq
            && let Some(encoded) = self.snapshot_state()
            && let Some(encoded) = for_store(self.board, encoded, None).await
        {
            let stored =
                self.store
                    .compact(self.board, &encoded.state, encoded.encoding, self.last_seq);
            match stored.await {
                Ok(_) => self.snapshot_seq = self.last_seq,
                Err(e) => {
                    tracing::warn!(board_id = %self.board, error = %crate::telemetry::chain(&e), "final compaction failed; the log is kept")
                }
            }
        }
        true
    }

    /// The store stayed unreachable until shutdown: write what is unsaved, in order, to a
    /// spill file that the next start replays, rather than drop it.
    fn spill(&mut self) {
        let updates: Vec<Vec<u8>> = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|p| p.raw)
            .chain(
                std::mem::take(&mut self.held)
                    .into_iter()
                    .map(|(_, u)| u.raw),
            )
            .collect();
        match crate::spill::write(&self.settings.spill_dir, self.board, &updates) {
            Ok(path) => tracing::warn!(
                board_id = %self.board,
                unsaved = updates.len(),
                file = %path.display(),
                "store unreachable at shutdown; unsaved updates spilled to disk for the next start"
            ),
            Err(e) => tracing::error!(
                board_id = %self.board,
                unsaved = updates.len(),
                error = %e,
                "store unreachable at shutdown and the spill file failed: updates lost"
            ),
        }
    }

    /// The board is gone: nothing left to save.
    fn drop_unsaved(&mut self) {
        self.pending.clear();
        self.pending_bytes = 0;
        self.held.clear();
        self.held_bytes = 0;
    }

    fn send_step2(&mut self, conn: ConnId, sv: &StateVector) {
        let (before, frame) = if sv.is_empty() {
            let fresh = self.full_state.get_or_insert_with(|| {
                let (unintegrated, step2) = encode_step2(&self.doc, sv);
                FreshJoin::new(step2, unintegrated)
            });
            (fresh.tail.clone(), fresh.base.clone())
        } else {
            let (unintegrated, step2) = encode_step2(&self.doc, sv);
            let queued = &self.queued;
            let unintegrated = unintegrated.into_iter().map(|f| counted(f, queued));
            (unintegrated.collect(), counted(step2, queued))
        };
        // The updates first, the step 2 last: once the client counts itself synced,
        // it holds everything (it keeps updates whose dependencies are still to come).
        for update in before {
            self.send_to(conn, update);
        }
        if let Some(member) = self.members.get_mut(&conn) {
            member.synced = true;
        }
        self.send_to(conn, frame);
    }

    fn presence_of_everyone(&self) -> Option<Bytes> {
        let update = self.presence.everyone()?;
        Some(self.frame(protocol::encode_awareness(&update)))
    }

    /// What the document takes in memory, as the pre-scan estimates it.
    fn doc_memory(&self) -> u64 {
        self.memory_base
            .load(Ordering::Relaxed)
            .saturating_add(self.memory_since)
    }

    /// A frame this room sends, counted on its meter while any copy is queued.
    fn frame(&self, message: Vec<u8>) -> Bytes {
        counted(Bytes::from(message), &self.queued)
    }

    /// What one member may hold queued: a number of frames, and bytes beyond one copy of
    /// the document (a joiner's sync step 2 is that big).
    fn queue_limits(&self) -> QueueLimits {
        QueueLimits {
            frames: self.settings.outbound_queue,
            bytes: self
                .settings
                .max_queued_bytes
                .saturating_add(self.doc_bytes as usize),
        }
    }

    fn send_to(&mut self, conn: ConnId, frame: Bytes) {
        let limit = self.queue_limits();
        let Some(member) = self.members.get_mut(&conn) else {
            return;
        };
        let delivery = unbudgeted(&self.waker, |cx| member.offer(frame, limit, cx));
        self.settle(conn, delivery);
        self.shed();
    }

    /// Queues `frame` for every member but `except` (and, for document updates, but those
    /// not yet synced).
    fn broadcast(&mut self, frame: Bytes, except: Option<ConnId>, synced_only: bool) {
        let limit = self.queue_limits();
        let members = &mut self.members;
        let not_sent: Vec<(ConnId, Delivery)> = unbudgeted(&self.waker, |cx| {
            members
                .iter_mut()
                .filter(|(conn, member)| Some(**conn) != except && (member.synced || !synced_only))
                .map(|(conn, member)| (*conn, member.offer(frame.clone(), limit, cx)))
                .filter(|(_, delivery)| !matches!(delivery, Delivery::Sent))
                .collect()
        });
        for (conn, delivery) in not_sent {
            self.settle(conn, delivery);
        }
        self.shed();
    }

    /// Keeps the bytes queued for the whole room within `EASEL_MAX_ROOM_QUEUED_BYTES` (plus
    /// one copy of the document): past it, the members holding the most are closed as too
    /// slow until what they hold covers the excess.
    fn shed(&mut self) {
        let allowance = self
            .settings
            .max_room_queued_bytes
            .saturating_add(self.doc_bytes as usize);
        let mut over = self.queued.get().saturating_sub(allowance);
        if over == 0 {
            return;
        }
        let mut heaviest: Vec<(usize, ConnId)> = self
            .members
            .iter()
            .map(|(conn, m)| (m.queued.get(), *conn))
            .filter(|(queued, _)| *queued > 0)
            .collect();
        heaviest.sort_unstable_by(|a, b| b.cmp(a));
        for (queued, conn) in heaviest {
            if over == 0 {
                break;
            }
            tracing::debug!(board_id = %self.board, conn_id = conn, queued, "room queue over its limit");
            self.kick(conn, Kick::SlowConsumer);
            over = over.saturating_sub(queued);
        }
    }

    /// Acts on what became of a frame offered to `conn`.
    fn settle(&mut self, conn: ConnId, delivery: Delivery) {
        match delivery {
            Delivery::Sent => {}
            Delivery::Backlogged => {
                self.backlogged.insert(conn);
            }
            Delivery::TooSlow => self.kick(conn, Kick::SlowConsumer),
            Delivery::Gone => self.leave(conn),
        }
    }

    fn kick(&mut self, conn: ConnId, why: Kick) {
        if let Some(mut member) = self.remove(conn) {
            tracing::debug!(board_id = %self.board, conn_id = conn, reason = %why, "dropping connection");
            if let Some(kick) = member.kick.take() {
                let _ = kick.send(why);
            }
        }
    }

    fn kick_all(&mut self, why: Kick) {
        let conns: Vec<ConnId> = self.members.keys().copied().collect();
        for conn in conns {
            self.kick(conn, why.clone());
        }
    }

    fn remove(&mut self, conn: ConnId) -> Option<Member> {
        let member = self.members.remove(&conn);
        self.member_count
            .store(self.members.len(), Ordering::Relaxed);
        self.deferred.retain(|(c, _)| *c != conn);
        self.backlogged.remove(&conn);
        if member.is_some() {
            self.presence.leave(conn);
            if self.presence.has_changes() {
                self.schedule_awareness();
            }
        }
        member
    }
}

/// `encoded` in its stored encoding, checked on a blocking thread before it replaces the
/// log it covers (a snapshot that does not load is a lost board); `None` when it fails,
/// and the log stays.
async fn for_store(
    board: BoardId,
    encoded: Encoded,
    memory: Option<Arc<AtomicU64>>,
) -> Option<ForStore> {
    let checked = tokio::task::spawn_blocking(move || {
        if let Some(memory) = memory {
            memory.store(encoded.memory(), Ordering::Relaxed);
        }
        encoded.for_store()
    })
    .await;
    match checked {
        Ok(Ok(ready)) => {
            if let Some(why) = &ready.v2_refused {
                tracing::warn!(board_id = %board, error = %why, "snapshot stored as v1");
            }
            Some(ready)
        }
        Ok(Err(e)) => {
            tracing::error!(board_id = %board, error = %e, "snapshot failed its check; keeping the log");
            None
        }
        Err(e) => {
            tracing::error!(board_id = %board, error = %e, "snapshot check failed; keeping the log");
            None
        }
    }
}

/// The frames that bring a client at `sv` up to the document's state: update frames for
/// what the document holds but cannot integrate yet (its dependencies have not arrived),
/// then the sync step 2 of everything integrated. The unintegrated parts are not merged
/// into the step 2 as yrs's `encode_state_as_update_v1` does: that merge can lose content
/// or panic, and what it drops never reaches the client, since it was fanned out before.
fn encode_step2(doc: &Doc, sv: &StateVector) -> (Vec<Bytes>, Bytes) {
    let txn = doc.transact();
    let mut unintegrated = Vec::new();
    if txn.has_missing_updates() {
        let store = txn.store();
        if let Some(pending) = store.pending_update() {
            let update = pending.update.encode_v1();
            unintegrated.push(Bytes::from(protocol::encode_update(&update)));
        }
        if let Some(deletes) = store.pending_ds() {
            // An update with no structs and only this delete set.
            let mut encoder = EncoderV1::new();
            encoder.write_var(0u32);
            deletes.encode(&mut encoder);
            unintegrated.push(Bytes::from(protocol::encode_update(&encoder.to_vec())));
        }
    }
    let step2 = protocol::encode_sync_step2(&txn.encode_diff_v1(sv));
    (unintegrated, Bytes::from(step2))
}

/// Runs `f` with the room's waker, outside tokio's cooperative budget: offering a frame
/// never waits, and a budget spent by the room's other work would make outboxes that have
/// room look full, sending a large room's fan-out the long way, through the backlogs.
fn unbudgeted<T>(waker: &Waker, f: impl FnOnce(&mut Context<'_>) -> T) -> T {
    let mut f = Some(f);
    let once = std::future::poll_fn(|cx| Poll::Ready(f.take().expect("polled once")(cx)));
    let mut once = std::pin::pin!(tokio::task::unconstrained(once));
    match once.as_mut().poll(&mut Context::from_waker(waker)) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("a poll_fn that is always ready"),
    }
}

/// Moves backlogged frames into members' outboxes while they have room. Ready, with the
/// members whose socket closed meanwhile, once every backlog is empty or a socket closed;
/// pending (every full outbox wakes the room) while backlogs wait.
fn drain_backlogs(
    members: &mut HashMap<ConnId, Member>,
    backlogged: &mut HashSet<ConnId>,
    cx: &mut Context<'_>,
) -> Poll<Vec<ConnId>> {
    let mut gone = Vec::new();
    backlogged.retain(|conn| {
        let Some(member) = members.get_mut(conn) else {
            return false;
        };
        match member.drain(cx) {
            Ok(empty) => !empty,
            Err(Gone) => {
                gone.push(*conn);
                false
            }
        }
    });
    if backlogged.is_empty() || !gone.is_empty() {
        Poll::Ready(gone)
    } else {
        Poll::Pending
    }
}

async fn wait_flush(inflight: &mut Option<Flush>) -> (Result<SeqRange, StoreError>, Vec<Pending>) {
    let (handle, batch) = inflight.as_mut().expect("a flush in flight");
    let result = match handle.await {
        Ok(r) => r,
        Err(e) => Err(StoreError::Invalid(format!("store task failed: {e}"))),
    };
    let batch = std::mem::take(batch);
    *inflight = None;
    (result, batch)
}

/// Waits for the board-existence check in flight; a failed task counts as "exists".
async fn wait_check(
    checking: &mut Option<JoinHandle<Result<(), StoreError>>>,
) -> Result<(), StoreError> {
    let result = match checking.as_mut() {
        Some(handle) => handle.await.unwrap_or(Ok(())),
        None => Ok(()),
    };
    *checking = None;
    result
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// After a room stops, joins still queued are handed back so the hub retries on a new room.
fn reject_joins(mut rx: mpsc::Receiver<Command>) {
    rx.close();
    while let Ok(cmd) = rx.try_recv() {
        if let Command::Join { who, reply } = cmd {
            let _ = reply.send(Err(who));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awareness_gathers_longer_in_bigger_rooms() {
        assert_eq!(awareness_interval(0), AWARENESS_COALESCE);
        assert_eq!(awareness_interval(150), AWARENESS_COALESCE);
        assert_eq!(awareness_interval(500), Duration::from_millis(50));
        assert_eq!(awareness_interval(1_000), AWARENESS_COALESCE_MAX);
        assert_eq!(awareness_interval(usize::MAX), AWARENESS_COALESCE_MAX);
        let mut last = Duration::ZERO;
        for members in (0..3_000).step_by(7) {
            let now = awareness_interval(members);
            assert!(now >= last, "{members} members");
            last = now;
        }
    }
}
