//! The embedded SQLite backend: Easel with no database server, for one node.
//!
//! Owns the database file's two pools and what is SQLite-specific: WAL with full fsync so a
//! committed update survives power loss, `BEGIN IMMEDIATE` so a write transaction holds the
//! write lock from its start, row-by-row batch inserts. The shared operations come from
//! `common.rs`.
//!
//! SQLite lets one connection write at a time. Writers on separate connections contend for
//! that lock and the losers sleep in the busy handler with growing back-off (up to 100 ms a
//! step), so every write goes through a pool of **one** connection (`writer`): writers
//! queue in the pool, in order, and never sleep on the lock. Reads use the other pool
//! (`pool`, many connections, opened `query_only` so a write sent there by mistake fails
//! instead of contending): under WAL they run alongside the writer and see everything it
//! has committed.

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
    /// Read-only connections, for every read.
    pool: SqlitePool,
    /// The one connection every write goes through.
    writer: SqlitePool,
}

impl SqliteStore {
    const LOCK_BOARD: &str = "SELECT last_seq FROM boards WHERE id = $1";

    /// Opens (creating if needed) the database file at `path`, and its directory, with up
    /// to `max_connections` connections for reads and one more for writes.
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
        // The writer first: it creates the file and switches it to WAL.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(timeout)
            .connect_with(options.clone())
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        Ok(Self { pool, writer })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn close_pools(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_cannot_write_and_the_writer_can() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("easel.db"), 2, Duration::from_secs(5))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let insert = "INSERT INTO revoked_tokens (jti, expires_at) VALUES ('j', 0)";
        let refused = sqlx::query(insert).execute(&store.pool).await;
        assert!(
            matches!(&refused, Err(sqlx::Error::Database(db)) if db.message().contains("readonly")),
            "a write on the read pool was not refused: {refused:?}"
        );
        sqlx::query(insert)
            .execute(store.writer())
            .await
            .expect("the writer writes");
        assert!(store.is_token_revoked("j").await.expect("read"));
    }
}
