//! What a room needs of the store: its board's log.
//!
//! Owns the narrow [`BoardLog`] interface (append, load, load after a sequence number,
//! compact up to one; a board that no longer exists answers [`StoreError::NotFound`]) and
//! its implementation over a [`Store`]. Rooms speak to
//! nothing else of the store, so their tests run against a log in memory. Knows nothing
//! of rooms, sockets or SQL.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::BoardId;
use crate::store::{Encoding, SeqRange, Store, StoreError, StoredDoc};

/// A board's durable log of updates and its snapshot, as a room uses them.
#[async_trait]
pub trait BoardLog: Send + Sync + 'static {
    /// Appends updates, atomically; their sequence numbers, gap-free and in commit order.
    async fn append(&self, board: BoardId, updates: &[Vec<u8>]) -> Result<SeqRange, StoreError>;
    /// The latest snapshot and every update after it.
    async fn load(&self, board: BoardId) -> Result<StoredDoc, StoreError>;
    /// What a room that applied the log up to `after` lacks: the snapshot when it covers
    /// more than `after`, then up to `limit` updates after both.
    async fn load_after(
        &self,
        board: BoardId,
        after: i64,
        limit: u32,
    ) -> Result<StoredDoc, StoreError>;
    /// Stores `state` as the snapshot covering the log up to `up_to_seq` and deletes the
    /// updates it covers; `false` when an equal or newer snapshot is stored already.
    async fn compact(
        &self,
        board: BoardId,
        state: &[u8],
        encoding: Encoding,
        up_to_seq: i64,
    ) -> Result<bool, StoreError>;
}

/// The [`BoardLog`] of a [`Store`].
pub struct StoreLog(pub Arc<dyn Store>);

#[async_trait]
impl BoardLog for StoreLog {
    async fn append(&self, board: BoardId, updates: &[Vec<u8>]) -> Result<SeqRange, StoreError> {
        self.0.append_updates(board, updates).await
    }

    async fn load(&self, board: BoardId) -> Result<StoredDoc, StoreError> {
        self.0.load(board).await
    }

    async fn load_after(
        &self,
        board: BoardId,
        after: i64,
        limit: u32,
    ) -> Result<StoredDoc, StoreError> {
        self.0.load_after(board, after, limit).await
    }

    async fn compact(
        &self,
        board: BoardId,
        state: &[u8],
        encoding: Encoding,
        up_to_seq: i64,
    ) -> Result<bool, StoreError> {
        self.0.compact(board, state, encoding, up_to_seq).await
    }
}
