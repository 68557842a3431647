//! Admission reads gathered per board: concurrent handshakes share one store query.
//!
//! Owns batching only. A caller asks for its [`Admission`] and waits; one task per board
//! reads everyone waiting with one [`Store::admissions`] query, then everyone who arrived
//! meanwhile, until nobody waits. A lone caller waits for nothing but its own query; a
//! reconnect storm of a thousand clients costs a handful of queries instead of a thousand.
//! Deciding what an admission allows is `access.rs`'s job; this module never looks inside.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::auth::Principal;
use crate::domain::{BoardId, UserId};
use crate::metrics::metrics;
use crate::store::{Admission, AdmissionCaller, MAX_ADMISSIONS, Store, StoreError};

/// Reads admissions to boards, gathering concurrent reads of one board into one query.
pub struct Admissions {
    store: Arc<dyn Store>,
    waiting: Arc<Mutex<HashMap<BoardId, Vec<Waiter>>>>,
    tasks: TaskTracker,
}

/// A caller waiting for its admission.
struct Waiter {
    user: UserId,
    jti: Option<String>,
    link: Option<Uuid>,
    answer: oneshot::Sender<Answer>,
}

/// What a waiting caller hears.
enum Answer {
    /// Its admission.
    Read(Admission),
    /// The read failed: a caller read alone gets the error itself.
    Failed(StoreError),
    /// The batch it was in failed: it reads alone, so that it gets its own error.
    ReadAlone,
}

impl Admissions {
    /// Reads admissions from `store`, on tasks tracked by `tasks`.
    pub fn new(store: Arc<dyn Store>, tasks: TaskTracker) -> Self {
        Self {
            store,
            waiting: Arc::default(),
            tasks,
        }
    }

    /// What admitting `principal` to `board` depends on (see [`Store::admissions`]).
    pub async fn read(
        &self,
        principal: &Principal,
        board: BoardId,
    ) -> Result<Admission, StoreError> {
        let (answer, answered) = oneshot::channel();
        let waiter = Waiter {
            user: principal.user.clone(),
            jti: principal.jti.clone(),
            link: principal.link,
            answer,
        };
        let start_reader = {
            let mut waiting = self.waiting.lock().expect("admissions lock");
            match waiting.get_mut(&board) {
                // A reader is at work on this board: it takes this caller in its next batch.
                Some(queue) => {
                    queue.push(waiter);
                    false
                }
                None => {
                    waiting.insert(board, vec![waiter]);
                    true
                }
            }
        };
        if start_reader {
            // Its own task, so that a handshake given up half-way strands nobody.
            self.tasks.spawn(read_batches(
                self.store.clone(),
                self.waiting.clone(),
                board,
            ));
        }
        match answered.await {
            Ok(Answer::Read(admission)) => Ok(admission),
            Ok(Answer::Failed(e)) => Err(e),
            // The batch failed, or its reader died: read alone.
            Ok(Answer::ReadAlone) | Err(_) => {
                self.store
                    .admission(
                        &principal.user,
                        principal.jti.as_deref(),
                        board,
                        principal.link,
                    )
                    .await
            }
        }
    }
}

/// Answers the callers waiting for `board`, batch after batch, until none waits. The board
/// leaves the waiting map only when its queue is found empty under the lock, so a caller
/// that queued is always answered, by this reader or by the next one started.
async fn read_batches(
    store: Arc<dyn Store>,
    waiting: Arc<Mutex<HashMap<BoardId, Vec<Waiter>>>>,
    board: BoardId,
) {
    // Should this task end early (a panic), the callers queued behind it read alone
    // instead of waiting forever.
    let mut leave = Leave {
        waiting: &waiting,
        board,
        armed: true,
    };
    loop {
        let batch: Vec<Waiter> = {
            let mut queues = leave.waiting.lock().expect("admissions lock");
            let queue = queues.entry(board).or_default();
            if queue.is_empty() {
                queues.remove(&board);
                leave.armed = false;
                return;
            }
            let n = queue.len().min(MAX_ADMISSIONS);
            queue.drain(..n).collect()
        };
        let callers: Vec<AdmissionCaller<'_>> = batch
            .iter()
            .map(|w| AdmissionCaller {
                user: &w.user,
                jti: w.jti.as_deref(),
                link: w.link,
            })
            .collect();
        metrics().admission_batch.observe(callers.len() as f64);
        match store.admissions(board, &callers).await {
            Ok(admissions) => {
                for (waiter, admission) in batch.into_iter().zip(admissions) {
                    let _ = waiter.answer.send(Answer::Read(admission));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(waiter) = batch.into_iter().next() {
                    let _ = waiter.answer.send(Answer::Failed(e));
                }
            }
            Err(e) => {
                tracing::debug!(board_id = %board, error = %crate::telemetry::chain(&e), "batched admission read failed; callers read alone");
                for waiter in batch {
                    let _ = waiter.answer.send(Answer::ReadAlone);
                }
            }
        }
    }
}

/// Removes a board's queue if its reader ends before emptying it, dropping the waiters'
/// answer channels (they then read alone). Until the reader ends, the queue is its own:
/// other callers only add to it.
struct Leave<'a> {
    waiting: &'a Mutex<HashMap<BoardId, Vec<Waiter>>>,
    board: BoardId,
    armed: bool,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut waiting = self
                .waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            waiting.remove(&self.board);
        }
    }
}
