//! A room's journal: its updates on their way into the board's log, and the log's rows
//! other processes appended, on their way into the room.
//!
//! Owns the updates applied to the Doc but not yet saved (saved in order, a batch at a
//! time: group commit), the one log operation in flight (an append, or a read of rows
//! after the room's position), retries with backoff while the store is down, and the
//! room's position in the log: [`Journal::applied`], the highest sequence number up to
//! which the room holds every row without a gap. A room's own append can land after rows
//! of other processes it has not read yet; those ranges are remembered ([`Journal`]'s
//! `ours`) so the read that fills the gap skips the room's own rows, and the position
//! moves past them only once everything below is read. A snapshot covers exactly the
//! position, so a compaction never deletes a row the room has not applied.
//!
//! One operation at a time: a read never races the room's own append, so a row it returns
//! is never the room's own update in disguise. Knows nothing of members, the Doc or yrs;
//! speaks to the store only through [`BoardLog`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::log::BoardLog;
use super::{ConnId, RestoreError};
use crate::domain::BoardId;
use crate::metrics::metrics;
use crate::store::{LoggedUpdate, MAX_APPEND_BATCH, SeqRange, Snapshot, StoreError, StoredDoc};

/// Most rows one read of the log returns; a longer gap is read a page at a time.
pub(super) const READ_PAGE: u32 = 1_000;

/// The longest wait before retrying a failed log operation.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// An update applied to the Doc, waiting to be saved.
pub(super) struct Pending {
    /// Who sent it ([`super::SERVER_CONN`] for the server's own changes).
    pub(super) from: ConnId,
    /// Its bytes, as saved and fanned out.
    pub(super) raw: Vec<u8>,
    /// When it arrived.
    pub(super) received: Instant,
    /// Told once the update is saved and fanned out (a restore waits for it).
    pub(super) saved: Option<oneshot::Sender<Result<(), RestoreError>>>,
}

/// What a finished log operation brought.
pub(super) enum Done {
    /// A batch of the room's updates was saved: fan it out.
    Saved(Vec<Pending>),
    /// What other processes appended, in order: apply it and fan it out. The snapshot
    /// comes first when a compaction elsewhere removed rows this room had not read.
    Read {
        snapshot: Option<Snapshot>,
        rows: Vec<LoggedUpdate>,
    },
    /// The board is gone.
    Deleted,
    /// The operation failed; it is retried after [`Journal::retry_at`].
    Failed(StoreError),
}

enum Io {
    Append(JoinHandle<Result<SeqRange, StoreError>>, Vec<Pending>),
    Read(JoinHandle<Result<StoredDoc, StoreError>>),
}

/// The journal of one room.
pub(super) struct Journal {
    board: BoardId,
    log: Arc<dyn BoardLog>,
    pending: Vec<Pending>,
    pending_bytes: u64,
    io: Option<Io>,
    retry_at: Option<Instant>,
    backoff: Duration,
    /// Every row up to here is in the Doc.
    applied: i64,
    /// The room's own appended ranges above `applied`, in order.
    ours: Vec<SeqRange>,
    /// The highest sequence number the board's log is known to have reached.
    head: i64,
    /// Read the log even without news of new rows (a backstop, or after a listener was
    /// lost).
    recheck: bool,
}

impl Journal {
    /// A journal for a room that holds the board's log up to `applied`.
    pub(super) fn new(board: BoardId, log: Arc<dyn BoardLog>, applied: i64) -> Self {
        Self {
            board,
            log,
            pending: Vec::new(),
            pending_bytes: 0,
            io: None,
            retry_at: None,
            backoff: Duration::ZERO,
            applied,
            ours: Vec::new(),
            head: applied,
            recheck: false,
        }
    }

    /// Queues an update applied to the Doc for saving.
    pub(super) fn push(&mut self, pending: Pending) {
        self.pending_bytes += pending.raw.len() as u64;
        self.pending.push(pending);
    }

    /// Bytes applied but not yet saved.
    pub(super) fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    /// Whether the Doc holds updates not yet saved (queued, or being appended).
    pub(super) fn has_unsaved(&self) -> bool {
        !self.pending.is_empty() || matches!(self.io, Some(Io::Append(..)))
    }

    /// The highest sequence number up to which the Doc holds the whole log.
    pub(super) fn applied(&self) -> i64 {
        self.applied
    }

    /// The log is known to have reached `seq` (a notification, or the room's own append).
    pub(super) fn note_head(&mut self, seq: i64) {
        self.head = self.head.max(seq);
    }

    /// Asks for a read of the log even without news of new rows.
    pub(super) fn recheck(&mut self) {
        self.recheck = true;
    }

    /// Whether rows of other processes may be missing.
    fn behind(&self) -> bool {
        self.recheck || !self.ours.is_empty() || self.head > self.applied
    }

    /// The position a snapshot of the Doc covers exactly: `Some` when the Doc holds
    /// nothing beyond the log up to [`Journal::applied`] (nothing unsaved, nothing of its
    /// own above a gap, nothing in flight).
    pub(super) fn settled(&self) -> Option<i64> {
        (self.pending.is_empty() && self.io.is_none() && self.ours.is_empty())
            .then_some(self.applied)
    }

    /// Whether a log operation is in flight.
    pub(super) fn busy(&self) -> bool {
        self.io.is_some()
    }

    /// When the next try after a failure is due.
    pub(super) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The retry is due: operations may start again.
    pub(super) fn retry_due(&mut self) {
        self.retry_at = None;
    }

    /// Starts the next log operation if none is in flight and none waits for a retry:
    /// saving what is unsaved first (the members who sent it wait for it), then reading
    /// what other processes appended.
    pub(super) fn start(&mut self) {
        if self.io.is_some() || self.retry_at.is_some() {
            return;
        }
        let (log, board) = (self.log.clone(), self.board);
        if !self.pending.is_empty() {
            // A backlog from a store outage may exceed what one append takes: save it in
            // order, one batch after the other.
            let rest = self
                .pending
                .split_off(self.pending.len().min(MAX_APPEND_BATCH));
            let batch = std::mem::replace(&mut self.pending, rest);
            let updates: Vec<Vec<u8>> = batch.iter().map(|p| p.raw.clone()).collect();
            metrics().persist_batch.observe(updates.len() as f64);
            let handle = tokio::spawn(async move {
                let timer = metrics().persist_seconds.start_timer();
                let result = log.append(board, &updates).await;
                timer.observe_duration();
                result
            });
            self.io = Some(Io::Append(handle, batch));
        } else if self.behind() {
            let after = self.applied;
            metrics().log_reads.inc();
            let handle = tokio::spawn(async move { log.load_after(board, after, READ_PAGE).await });
            self.io = Some(Io::Read(handle));
        }
    }

    /// Waits for the operation in flight; pending forever when there is none.
    pub(super) async fn finish(&mut self) -> Done {
        let Some(io) = self.io.as_mut() else {
            return std::future::pending().await;
        };
        let done = match io {
            Io::Append(handle, batch) => {
                let result = joined(handle.await);
                let batch = std::mem::take(batch);
                self.io = None;
                self.appended(result, batch)
            }
            Io::Read(handle) => {
                let result = joined(handle.await);
                self.io = None;
                self.read(result)
            }
        };
        if let Done::Failed(_) = done {
            self.backoff = (self.backoff * 2).clamp(Duration::from_millis(50), MAX_BACKOFF);
            self.retry_at = Some(Instant::now() + self.backoff);
        } else {
            self.backoff = Duration::ZERO;
        }
        done
    }

    fn appended(&mut self, result: Result<SeqRange, StoreError>, batch: Vec<Pending>) -> Done {
        match result {
            Ok(range) => {
                self.pending_bytes -= batch.iter().map(|p| p.raw.len() as u64).sum::<u64>();
                self.note_head(range.last);
                if self.ours.is_empty() && range.first == self.applied + 1 {
                    self.applied = range.last;
                } else {
                    // Rows of other processes landed first: the read that follows fills
                    // the gap, and moves past this range once it is reached.
                    self.ours.push(range);
                }
                Done::Saved(batch)
            }
            Err(StoreError::NotFound(_)) => Done::Deleted,
            Err(e) => {
                // Keep the batch, in order, ahead of anything newer.
                let mut batch = batch;
                batch.append(&mut self.pending);
                self.pending = batch;
                Done::Failed(e)
            }
        }
    }

    fn read(&mut self, result: Result<StoredDoc, StoreError>) -> Done {
        let stored = match result {
            Ok(stored) => stored,
            Err(StoreError::NotFound(_)) => return Done::Deleted,
            Err(e) => return Done::Failed(e),
        };
        let before = self.applied;
        self.recheck = stored.updates.len() >= READ_PAGE as usize;
        let snapshot = stored.snapshot.filter(|s| s.seq > self.applied);
        if let Some(s) = &snapshot {
            self.applied = s.seq;
        }
        let mut rows = Vec::with_capacity(stored.updates.len());
        for row in stored.updates {
            if row.seq <= self.applied {
                continue;
            }
            if row.seq != self.applied + 1 {
                // Rows are visible in commit order, so this cannot happen; stop here
                // rather than skip one, and read again later.
                tracing::warn!(board_id = %self.board, applied = self.applied, seq = row.seq, "a gap in the log; reading again later");
                break;
            }
            self.applied = row.seq;
            if !self
                .ours
                .iter()
                .any(|r| r.first <= row.seq && row.seq <= r.last)
            {
                rows.push(row);
            }
        }
        self.ours.retain(|r| r.last > self.applied);
        self.note_head(stored.last_seq);
        if self.applied == before && self.head > self.applied && !self.recheck {
            // Nothing to read where news said there would be (its rows were rolled
            // back, or the news was wrong): wait for the next news or backstop.
            self.head = self.applied;
        }
        metrics().log_followed.inc_by(rows.len() as u64);
        Done::Read { snapshot, rows }
    }

    /// Takes every update not yet saved, in order (to spill them at shutdown).
    pub(super) fn take_unsaved(&mut self) -> Vec<Pending> {
        self.pending_bytes = 0;
        std::mem::take(&mut self.pending)
    }
}

fn joined<T>(
    joined: Result<Result<T, StoreError>, tokio::task::JoinError>,
) -> Result<T, StoreError> {
    joined.unwrap_or_else(|e| Err(StoreError::Invalid(format!("store task failed: {e}"))))
}
