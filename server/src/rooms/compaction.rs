//! When and how a room folds its board's log into a snapshot.
//!
//! Owns the counts of what was logged since the last snapshot, the one compaction that may
//! run at a time, and the writing of a snapshot: checked and put in its stored encoding on
//! a blocking thread (a snapshot that does not load is a lost board), then stored through
//! [`BoardLog::compact`], which deletes only the rows it covers. The room decides what the
//! snapshot covers (see `journal`). Knows nothing of members or presence.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::task::JoinHandle;

use super::log::BoardLog;
use super::snapshot::{Encoded, ForStore};
use crate::domain::BoardId;

/// A room's compaction state.
pub(super) struct Compaction {
    /// The sequence number the stored snapshot covers.
    pub(super) snapshot_seq: i64,
    logged_updates: u64,
    logged_bytes: u64,
    running: Option<JoinHandle<()>>,
}

impl Compaction {
    /// After a load: the snapshot covers `snapshot_seq`, and `updates` of `bytes` follow.
    pub(super) fn new(snapshot_seq: i64, updates: u64, bytes: u64) -> Self {
        Self {
            snapshot_seq,
            logged_updates: updates,
            logged_bytes: bytes,
            running: None,
        }
    }

    /// One more update of `bytes` was logged.
    pub(super) fn logged(&mut self, bytes: u64) {
        self.logged_updates += 1;
        self.logged_bytes += bytes;
    }

    /// A snapshot now covers `seq` (this room's, or another process's).
    pub(super) fn covered(&mut self, seq: i64) {
        self.snapshot_seq = seq;
        self.logged_updates = 0;
        self.logged_bytes = 0;
    }

    /// Whether enough is logged to compact (`every` updates or `bytes` bytes), and none runs.
    pub(super) fn is_due(&self, every: u64, bytes: u64) -> bool {
        (self.logged_updates >= every || self.logged_bytes >= bytes)
            && self.running.as_ref().is_none_or(|c| c.is_finished())
    }

    /// Compacts in the background: `encoded` becomes the snapshot covering `seq`.
    /// Transcoding and checking it take longer than encoding it, so they happen off the
    /// room's task; `memory` receives the snapshot's own estimate of the document.
    pub(super) fn start(
        &mut self,
        log: Arc<dyn BoardLog>,
        board: BoardId,
        encoded: Encoded,
        seq: i64,
        memory: Arc<AtomicU64>,
    ) {
        self.covered(seq);
        self.running = Some(tokio::spawn(async move {
            if let Some(encoded) = for_store(board, encoded, Some(memory)).await
                && let Err(e) = log
                    .compact(board, &encoded.state, encoded.encoding, seq)
                    .await
            {
                tracing::warn!(board_id = %board, error = %crate::telemetry::chain(&e), "compaction failed; the log is kept");
            }
        }));
    }

    /// Waits for the compaction running, if any.
    pub(super) async fn finished(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
    }

    /// Compacts now (the room's last act before it ends): `encoded` covering `seq`.
    pub(super) async fn last(
        &mut self,
        log: &dyn BoardLog,
        board: BoardId,
        encoded: Encoded,
        seq: i64,
    ) {
        let Some(encoded) = for_store(board, encoded, None).await else {
            return;
        };
        match log
            .compact(board, &encoded.state, encoded.encoding, seq)
            .await
        {
            Ok(_) => self.covered(seq),
            Err(e) => {
                tracing::warn!(board_id = %board, error = %crate::telemetry::chain(&e), "final compaction failed; the log is kept")
            }
        }
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
