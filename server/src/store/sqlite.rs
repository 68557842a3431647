//! The embedded SQLite backend: Easel with no database server, for one node.
//!
//! Owns the database file's pool and what is SQLite-specific: WAL with full fsync so a
//! committed update survives power loss, `BEGIN IMMEDIATE` so writers queue instead of
//! failing to upgrade a read lock, row-by-row batch inserts. The shared operations come
//! from `common.rs`.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::common::impl_store;
use super::sql::{
    self, AuditRow, BoardRow, MemberRow, ShareLinkRow, UserRow, VersionRow, VersionStateRow,
    convert,
};
use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// A [`Store`] in an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    const LOCK_BOARD: &str = "SELECT last_seq FROM boards WHERE id = $1";

    /// Opens (creating if needed) the database file at `path`, and its directory.
    pub async fn open(path: &Path, max_connections: u32, timeout: Duration) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(StoreError::DataDir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn begin_snapshot(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin().await
    }

    async fn insert_updates(
        tx: &mut Transaction<'static, Sqlite>,
        board: BoardId,
        first: i64,
        updates: &[Vec<u8>],
        now: Millis,
    ) -> Result<()> {
        for (seq, data) in (first..).zip(updates) {
            sqlx::query("INSERT INTO board_updates (board_id, seq, data, created_at) VALUES ($1, $2, $3, $4)")
                .bind(board.as_uuid())
                .bind(seq)
                .bind(data)
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

impl_store!(SqliteStore, Sqlite, Backend::Sqlite, MIGRATOR);
