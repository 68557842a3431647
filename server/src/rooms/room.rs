//! One live board: the task that owns its document, and the orchestration of its parts.
//!
//! Owns the room's loop and its one exit path ([`Room::finish`]): it takes commands from
//! connections and the hub, has accepted client updates applied to the document, hands
//! them to the journal (which saves them **before** anyone else sees them), fans out what
//! the journal saved and what it read of other processes' appends, keeps presence
//! (relayed to other processes), compacts, and unloads when idle. The parts each have a
//! module with one job: `document` (the Doc, its limits, the cached answer to fresh
//! joiners), `journal` (the board's log, in and out), `fanout` (members and delivery),
//! `presence`, `compaction`. Only this task touches the Doc. Knows nothing of sockets or
//! SQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use yrs::sync::AwarenessUpdate;
use yrs::{Doc, StateVector};

use super::compaction::Compaction;
use super::document::BoardDoc;
use super::fanout::{Member, Members, QueueLimits, Trouble};
use super::journal::{Done, Journal, Pending};
use super::log::BoardLog;
use super::presence::Presence;
use super::queued::{Meter, counted};
use super::{AccessChange, BoardState, ConnId, Joining, Kick, RestoreError, SERVER_CONN, Unloader};
use crate::cluster::{PeerMessage, Relay};
use crate::domain::BoardId;
use crate::metrics::metrics;
use crate::protocol::{self, ClientMessage, DocUpdate};
use crate::store::{LoggedUpdate, Snapshot, StoredDoc};

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
    /// How often a room with members reads its board's log even without news of new rows
    /// (a backstop for lost notifications; it also notices a board deleted elsewhere).
    pub board_check: Duration,
    /// How long another process's members stay present here without news from it; the
    /// room relays its own members' presence three times as often.
    pub presence_timeout: Duration,
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
    /// Another process's message about this board.
    Peer(Box<PeerMessage>),
}

/// News of the board's log for a room, from the hub: set without waiting for the room.
#[derive(Default)]
pub(super) struct Follow {
    /// The highest sequence number announced.
    head: AtomicI64,
    /// Read the log even without news (the announcements may have been missed).
    recheck: AtomicBool,
    wake: Notify,
}

impl Follow {
    /// The board's log reached `seq`.
    pub(super) fn advanced(&self, seq: i64) {
        self.head.fetch_max(seq, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// Announcements may have been missed: read the log.
    pub(super) fn recheck(&self) {
        self.recheck.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }
}

/// Why a room's loop ended.
enum Exit {
    /// The board was deleted: nothing more is saved.
    Deleted,
    /// The last member left long enough ago; everything is saved.
    Idle,
    /// The server is shutting down.
    Shutdown,
}

pub(super) struct Room {
    board: BoardId,
    doc: BoardDoc,
    presence: Presence,
    members: Members,
    log: Arc<dyn BoardLog>,
    journal: Journal,
    settings: RoomSettings,
    /// Sync step 1 requests waiting until everything in the Doc is durable.
    deferred: Vec<(ConnId, StateVector)>,
    /// Updates received while a step 1 was deferred (and after them, until they are
    /// applied), applied in arrival order once it is answered.
    held: Vec<(ConnId, DocUpdate)>,
    held_bytes: u64,
    compaction: Compaction,
    /// Bytes of the frames this room made that are still queued somewhere (or cached for
    /// joiners), each counted once however many members share it.
    queued: Meter,
    /// The board was deleted: the room stops without saving.
    deleted: bool,
    /// When the coalesced awareness message goes out.
    awareness_flush_at: Option<Instant>,
    /// Where presence goes to other processes; `None` when the store serves one process.
    relay: Option<Relay>,
    follow: Arc<Follow>,
}

/// What a room is made of besides its stored document.
pub(super) struct Parts {
    pub(super) board: BoardId,
    pub(super) log: Arc<dyn BoardLog>,
    pub(super) settings: RoomSettings,
    pub(super) member_count: Arc<AtomicUsize>,
    pub(super) relay: Option<Relay>,
    pub(super) follow: Arc<Follow>,
}

impl Room {
    pub(super) fn new(parts: Parts, stored: StoredDoc) -> Result<Self, String> {
        let Parts {
            board,
            log,
            settings,
            member_count,
            relay,
            follow,
        } = parts;
        let queued = Meter::default();
        let doc = BoardDoc::load(&stored, &queued, settings.outbound_queue)?;
        let logged_bytes: u64 = stored.updates.iter().map(|u| u.data.len() as u64).sum();
        Ok(Self {
            board,
            doc,
            presence: Presence::default(),
            members: Members::new(member_count),
            journal: Journal::new(board, log.clone(), stored.last_seq),
            log,
            settings,
            deferred: Vec::new(),
            held: Vec::new(),
            held_bytes: 0,
            compaction: Compaction::new(
                stored.snapshot.as_ref().map_or(0, |s| s.seq),
                stored.updates.len() as u64,
                logged_bytes,
            ),
            queued,
            deleted: false,
            awareness_flush_at: None,
            relay,
            follow,
        })
    }

    pub(super) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        shutdown: CancellationToken,
        unloader: Unloader,
    ) {
        let mut idle_since = Some(Instant::now());
        let mut check = interval_from_now(self.settings.board_check);
        let mut presence_tick = interval_from_now(self.settings.presence_timeout / 3);
        let waker = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        self.members.set_waker(waker);
        if let Some(relay) = &self.relay {
            // Members of other processes are shown here from the start, not from their
            // next move.
            relay.query(self.board);
        }
        let follow = self.follow.clone();
        let exit = loop {
            self.journal.start();
            let idle_deadline = idle_since
                .filter(|_| self.members.is_empty())
                .map(|t| t + self.settings.idle);
            let retry_at = self.journal.retry_at();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break Exit::Shutdown,
                },
                done = self.journal.finish(), if self.journal.busy() => self.on_done(done),
                gone = tokio::task::unconstrained(std::future::poll_fn(|cx| self.members.poll_drain(cx))), if self.members.has_backlogs() => {
                    for conn in gone {
                        self.leave(conn);
                    }
                }
                _ = sleep_until(retry_at), if retry_at.is_some() => self.journal.retry_due(),
                _ = sleep_until(self.awareness_flush_at), if self.awareness_flush_at.is_some() => self.flush_awareness(),
                () = follow.wake.notified() => {
                    self.journal.note_head(follow.head.load(Ordering::Relaxed));
                    if follow.recheck.swap(false, Ordering::Relaxed) {
                        self.journal.recheck();
                    }
                }
                _ = check.tick(), if !self.members.is_empty() => self.journal.recheck(),
                _ = presence_tick.tick(), if self.relay.is_some() => self.refresh_presence(),
                _ = sleep_until(idle_deadline), if idle_deadline.is_some() => {
                    if self.save_everything(Duration::from_secs(5)).await {
                        break Exit::Idle;
                    }
                    idle_since = Some(Instant::now());
                }
                _ = shutdown.cancelled() => break Exit::Shutdown,
            }
            if self.deleted {
                break Exit::Deleted;
            }
            if self.members.is_empty() {
                idle_since.get_or_insert_with(Instant::now);
            } else {
                idle_since = None;
            }
        };
        self.finish(exit, rx, unloader).await;
    }

    /// The one way out of a room: what is unsaved is saved (or spilled) unless the board is
    /// gone, everyone left is told why, other processes hear that this room's members are
    /// gone, and the hub forgets the room, handing back joins still queued.
    async fn finish(mut self, exit: Exit, rx: mpsc::Receiver<Command>, unloader: Unloader) {
        match exit {
            Exit::Deleted => tracing::info!(board_id = %self.board, "board deleted; room closed"),
            Exit::Idle => tracing::debug!(board_id = %self.board, "room unloaded"),
            Exit::Shutdown => {
                if !self.save_everything(Duration::from_secs(10)).await {
                    self.spill();
                }
                self.kick_all(Kick::ShuttingDown);
            }
        }
        let changes = self.presence.take_changes();
        if let (Some(relay), Some(local)) = (&self.relay, changes.local) {
            relay.awareness(self.board, local);
        }
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
                    if !self.members.contains(conn) {
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
                    state: self.doc.state_v1(),
                    seq: self.journal.applied(),
                    members: self.members.len(),
                });
            }
            Command::Restore { target, reply } => self.restore(&target, reply),
            Command::Delete => self.board_gone(),
            Command::Peer(message) => self.on_peer(*message),
        }
    }

    /// The board was deleted (here or elsewhere): nothing more is saved, and the room ends.
    fn board_gone(&mut self) {
        self.kick_all(Kick::BoardDeleted);
        self.drop_unsaved();
        self.deleted = true;
    }

    /// Makes the document's content equal to `target`'s as one ordinary change, saved and
    /// fanned out like any client's update; `reply` hears once it is saved.
    fn restore(&mut self, target: &Doc, reply: oneshot::Sender<Result<(), RestoreError>>) {
        // The change is in the Doc once made, so it is always queued: refusing it now
        // would leave the Doc ahead of the store and of every client. The size cap guards
        // against clients; a restore brings back a state the board already had.
        let update = self.doc.restore(target);
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
        for (conn, member) in self.members.iter_mut() {
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
        self.members
            .insert(conn, Member::new(who.access, role, who.out, who.kick));
        if reply.send(Ok(())).is_err() {
            self.remove(conn);
            return;
        }
        let step1 = protocol::encode_sync_step1(&self.doc.state_vector());
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
                if self.journal.has_unsaved() {
                    // One answer per member however many step 1s it sends meanwhile.
                    self.deferred.retain(|(c, _)| *c != conn);
                    self.deferred.push((conn, sv));
                } else {
                    self.send_step2(conn, &sv);
                }
            }
            ClientMessage::SyncStep2(update) | ClientMessage::Update(update) => {
                self.on_update(conn, update)
            }
            ClientMessage::Awareness(update) => self.on_awareness(conn, update),
            ClientMessage::QueryAwareness => {
                // Answered with the next awareness tick, once however often it asks.
                if let Some(member) = self.members.get_mut(conn) {
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
        let Some(member) = self.members.get(conn) else {
            return;
        };
        if !member.role.can_edit() {
            self.kick(conn, Kick::ReadOnly);
            return;
        }
        let len = update.raw.len() as u64;
        if self.journal.pending_bytes() + self.held_bytes + len > self.settings.max_pending_bytes {
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
        match self.doc.accept(update, self.settings.max_doc_bytes) {
            Ok(raw) => self.queue(conn, raw, None),
            Err(kick) => self.kick(conn, kick),
        }
    }

    /// Queues an update already applied to the Doc for saving, then fan-out.
    fn queue(
        &mut self,
        from: ConnId,
        raw: Vec<u8>,
        saved: Option<oneshot::Sender<Result<(), RestoreError>>>,
    ) {
        metrics().updates_applied.inc();
        self.journal.push(Pending {
            from,
            raw,
            received: Instant::now(),
            saved,
        });
    }

    /// Applies a member's awareness update (only its entry for its own client id counts);
    /// the change goes out with the next coalesced awareness message.
    fn on_awareness(&mut self, conn: ConnId, update: AwarenessUpdate) {
        let Some(member) = self.members.get(conn) else {
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

    /// Sends the coalesced awareness changes to everyone here, this process's own to the
    /// other processes, and everyone's awareness to the members who asked for it.
    fn flush_awareness(&mut self) {
        self.awareness_flush_at = None;
        let changes = self.presence.take_changes();
        if let Some(update) = changes.all {
            let frame = self.frame(protocol::encode_awareness(&update));
            self.broadcast(frame, None, false);
        }
        if let (Some(relay), Some(local)) = (&self.relay, changes.local) {
            relay.awareness(self.board, local);
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

    /// Every third of the presence timeout: this process's members' presence is relayed
    /// in full (other processes keep it while it is renewed), and other processes' that
    /// was not renewed within the timeout is removed (their process died or lost the
    /// database).
    fn refresh_presence(&mut self) {
        self.relay_presence();
        // No clock reading is older than the monotonic clock's start: nothing to expire.
        let Some(before) = Instant::now().checked_sub(self.settings.presence_timeout) else {
            return;
        };
        if self.presence.expire_remote(before) > 0 {
            self.schedule_awareness();
        }
    }

    /// Another process's message about this board.
    fn on_peer(&mut self, message: PeerMessage) {
        match message {
            PeerMessage::Awareness { update, .. } => {
                if self.presence.apply_remote(update, Instant::now()) > 0 {
                    self.schedule_awareness();
                }
            }
            PeerMessage::Query { .. } => self.relay_presence(),
        }
    }

    /// Relays the live states of this process's members in full, when there are any and
    /// other processes share the store.
    fn relay_presence(&self) {
        if let (Some(relay), Some(local)) = (&self.relay, self.presence.local()) {
            relay.awareness(self.board, local);
        }
    }

    /// Acts on what a log operation brought.
    fn on_done(&mut self, done: Done) {
        match done {
            Done::Saved(batch) => {
                for p in &batch {
                    self.compaction.logged(p.raw.len() as u64);
                }
                self.fan_out(batch);
                if !self.journal.has_unsaved() {
                    self.release_waiting();
                }
                self.maybe_compact();
            }
            Done::Read { snapshot, rows } => {
                if let Some(s) = snapshot {
                    self.apply_snapshot(s);
                }
                for row in rows {
                    self.apply_logged(row);
                }
                self.maybe_compact();
            }
            Done::Deleted => {
                tracing::info!(board_id = %self.board, "board deleted elsewhere");
                self.board_gone();
            }
            Done::Failed(e) => {
                metrics().store_errors.inc();
                tracing::warn!(board_id = %self.board, error = %crate::telemetry::chain(&e), retry_at = ?self.journal.retry_at(), "the board's log failed; retrying");
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
            self.fan_out_update(&p.raw, Some(p.from));
        }
    }

    /// Sends one saved update to every synced member but `except`, and to the cache for
    /// fresh joiners.
    fn fan_out_update(&mut self, raw: &[u8], except: Option<ConnId>) {
        let frame = self.frame(protocol::encode_update(raw));
        self.doc.cache(&frame, self.settings.outbound_queue);
        self.broadcast(frame, except, true);
    }

    /// Applies a row another process appended to the board's log, and fans it out as if
    /// it had arrived here. It is saved already, so it is never refused: limits were
    /// checked where it arrived.
    fn apply_logged(&mut self, row: LoggedUpdate) {
        match self.doc.apply_saved(&row.data) {
            Ok(()) => {
                self.compaction.logged(row.data.len() as u64);
                self.fan_out_update(&row.data, None);
            }
            // Loading the board would fail the same way; members keep what they have.
            Err(e) => {
                tracing::error!(board_id = %self.board, seq = row.seq, error = %e, "a logged update does not apply")
            }
        }
    }

    /// Another process compacted past rows this room had not read: what the snapshot holds
    /// beyond the Doc is applied and fanned out as one update.
    fn apply_snapshot(&mut self, s: Snapshot) {
        let seq = s.seq;
        match self.doc.missing_from(s) {
            Ok(data) => {
                self.apply_logged(LoggedUpdate { seq, data });
                self.compaction.covered(seq);
            }
            Err(e) => {
                tracing::error!(board_id = %self.board, seq, error = %e, "another process's snapshot does not load")
            }
        }
    }

    /// Compacts in the background once enough is logged and the Doc holds exactly the log
    /// up to the room's position: the snapshot covers that position and nothing more, so
    /// no process's row above it is ever deleted.
    fn maybe_compact(&mut self) {
        if !self
            .compaction
            .is_due(self.settings.compact_every, self.settings.compact_bytes)
        {
            return;
        }
        let Some(seq) = self.journal.settled() else {
            return;
        };
        if seq <= self.compaction.snapshot_seq {
            return;
        }
        let Some((encoded, memory)) = self.doc.compacting() else {
            tracing::debug!(board_id = %self.board, "compaction postponed: unintegrated updates");
            return;
        };
        self.compaction
            .start(self.log.clone(), self.board, encoded, seq, memory);
    }

    /// Saves every pending update, reads what other processes appended, and writes a
    /// snapshot, retrying until `within` passes; whether everything was saved.
    async fn save_everything(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            self.journal.start();
            if self.journal.busy() {
                let done = self.journal.finish().await;
                self.on_done(done);
                if self.deleted {
                    return true;
                }
                continue;
            }
            if !self.journal.has_unsaved() {
                if self.held.is_empty() {
                    break;
                }
                self.release_waiting();
                continue;
            }
            let Some(at) = self.journal.retry_at() else {
                break;
            };
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep_until(at.min(deadline)).await;
            if Instant::now() >= at {
                self.journal.retry_due();
            }
        }
        // A background compaction finishes first: the room does not end before it.
        self.compaction.finished().await;
        if let Some(seq) = self.journal.settled()
            && seq > self.compaction.snapshot_seq
            && let Some(encoded) = self.doc.encoded()
        {
            self.compaction
                .last(&*self.log, self.board, encoded, seq)
                .await;
        }
        true
    }

    /// The store stayed unreachable until shutdown: write what is unsaved, in order, to a
    /// spill file that the next start replays, rather than drop it.
    fn spill(&mut self) {
        let updates: Vec<Vec<u8>> = self
            .journal
            .take_unsaved()
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
        self.journal.take_unsaved();
        self.held.clear();
        self.held_bytes = 0;
    }

    fn send_step2(&mut self, conn: ConnId, sv: &StateVector) {
        let (before, frame) = self.doc.step2(sv, &self.queued);
        // The updates first, the step 2 last: once the client counts itself synced,
        // it holds everything (it keeps updates whose dependencies are still to come).
        for update in before {
            self.send_to(conn, update);
        }
        if let Some(member) = self.members.get_mut(conn) {
            member.synced = true;
        }
        self.send_to(conn, frame);
    }

    fn presence_of_everyone(&self) -> Option<Bytes> {
        let update = self.presence.everyone()?;
        Some(self.frame(protocol::encode_awareness(&update)))
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
                .saturating_add(self.doc.bytes() as usize),
        }
    }

    fn send_to(&mut self, conn: ConnId, frame: Bytes) {
        let limits = self.queue_limits();
        if let Some(trouble) = self.members.send_to(conn, frame, limits) {
            self.settle(conn, trouble);
        }
        self.shed();
    }

    /// Queues `frame` for every member but `except` (and, for document updates, but those
    /// not yet synced).
    fn broadcast(&mut self, frame: Bytes, except: Option<ConnId>, synced_only: bool) {
        let limits = self.queue_limits();
        for (conn, trouble) in self.members.broadcast(&frame, except, synced_only, limits) {
            self.settle(conn, trouble);
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
            .saturating_add(self.doc.bytes() as usize);
        let over = self.queued.get().saturating_sub(allowance);
        if over == 0 {
            return;
        }
        for (conn, queued) in self.members.heaviest(over) {
            tracing::debug!(board_id = %self.board, conn_id = conn, queued, "room queue over its limit");
            self.kick(conn, Kick::SlowConsumer);
        }
    }

    /// Acts on a member a frame could not reach.
    fn settle(&mut self, conn: ConnId, trouble: Trouble) {
        match trouble {
            Trouble::TooSlow => self.kick(conn, Kick::SlowConsumer),
            Trouble::Gone => self.leave(conn),
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
        for conn in self.members.conns() {
            self.kick(conn, why.clone());
        }
    }

    fn remove(&mut self, conn: ConnId) -> Option<Member> {
        let member = self.members.remove(conn);
        self.deferred.retain(|(c, _)| *c != conn);
        if member.is_some() {
            self.presence.leave(conn);
            if self.presence.has_changes() {
                self.schedule_awareness();
            }
        }
        member
    }
}

/// A timer ticking every `every`, first after one period, that skips what it missed.
fn interval_from_now(every: Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval_at(Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
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
