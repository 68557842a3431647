//! The embedded SQLite backend: Easel with no database server, for one node.
//!
//! Owns the database file's two pools and what is SQLite-specific: WAL with full fsync so a
//! committed update survives power loss, `BEGIN IMMEDIATE` so a write transaction holds the
//! write lock from its start, a batch appended in one statement. The shared operations come
//! from `common.rs`.
//!
//! SQLite lets one connection write at a time. Writers on separate connections contend for
//! that lock and the losers sleep in the busy handler with growing back-off (up to 100 ms a
//! step), so every write goes through a pool of **one** connection (`writer`): writers
//! queue in the pool, in order, and never sleep on the lock. Reads use the other pool
//! (`pool`, many connections, opened `query_only` so a write sent there by mistake fails
//! instead of contending): under WAL they run alongside the writer and see everything it
//! has committed.
//!
//! The writer never checkpoints the WAL: SQLite's automatic checkpoint runs inside the
//! commit that crosses its threshold and would stall every queued writer for as long as it
//! copies and syncs the database file (100–250 ms measured). A checkpointer task runs
//! passive checkpoints on a read connection instead, after writes and at most once per
//! [`CHECKPOINT_GAP`]; a passive checkpoint never blocks the writer.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::common::impl_store;
use super::sql::{
    self, AuditRow, BoardRow, MemberRow, ShareLinkRow, UserRow, VersionRow, VersionStateRow,
    convert,
};
use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// Most rows one append statement inserts (SQLite binds at most 32,766 parameters).
const APPEND_ROWS: usize = 500;

/// Least time between two checkpoints of the WAL.
const CHECKPOINT_GAP: Duration = Duration::from_secs(1);

/// A [`Store`] in an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Read-only connections, for every read.
    pool: SqlitePool,
    /// The one connection every write goes through.
    writer: SqlitePool,
    checkpointer: Arc<Checkpointer>,
}

/// The task that checkpoints the WAL off the write path.
#[derive(Debug)]
struct Checkpointer {
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteStore {
    const LOCK_BOARD: &str = "SELECT last_seq FROM boards WHERE id = $1";

    /// Write transactions start with `BEGIN IMMEDIATE`, which takes the database's one
    /// write lock: feed writers are ordered already.
    const LOCK_FEED: Option<&str> = None;

    /// Write transactions hold the database's one write lock: a board's image uploads are
    /// ordered already.
    const LOCK_ASSETS: Option<&str> = None;

    /// SQLite cannot announce anything to other processes: readers poll the feed.
    async fn open_subscription(&self) -> Result<Option<Box<dyn Subscription>>> {
        Ok(None)
    }

    /// One process serves an SQLite store: there is nobody to relay to.
    async fn relay_messages(&self, _messages: &[String]) -> Result<()> {
        Ok(())
    }

    /// Caller `i` of an admission read, its parameters from `$first`.
    fn admission_row(i: usize, first: usize) -> String {
        format!("({i}, ${first}, ${}, ${})", first + 1, first + 2)
    }

    /// Opens (creating if needed) the database file at `path`, and its directory, with up
    /// to `max_connections` connections for reads and one more for writes. A directory it
    /// creates is 0700; the file is created 0600 before SQLite opens it (SQLite gives its
    /// WAL and shared-memory files the database file's mode), and the three are tightened
    /// to 0600 if an older version left them readable by others.
    pub async fn open(path: &Path, max_connections: u32, timeout: Duration) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_fs::create_dir_all(dir).map_err(StoreError::DataDir)?;
        }
        crate::private_fs::ensure_file(path).map_err(StoreError::DataDir)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            crate::private_fs::tighten(Path::new(&side)).map_err(StoreError::DataDir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(timeout);
        let wrote = Arc::new(Notify::new());
        let nudge = wrote.clone();
        // The writer first: it creates the file and switches it to WAL.
        // An embedded database's connections cannot drop: sqlx's ping before handing each
        // one out would only add a round trip to its worker thread per query.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(timeout)
            .test_before_acquire(false)
            .after_release(move |_, _| {
                nudge.notify_one();
                Box::pin(async { Ok(true) })
            })
            .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .test_before_acquire(false)
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(checkpoints(pool.clone(), wrote, stop.clone()));
        Ok(Self {
            pool,
            writer,
            checkpointer: Arc::new(Checkpointer {
                stop,
                task: Mutex::new(Some(task)),
            }),
        })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn close_pools(&self) {
        self.checkpointer.stop.cancel();
        let task = self
            .checkpointer
            .task
            .lock()
            .map_or(None, |mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
        self.writer.close().await;
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// Appends a batch in as few round trips to SQLite's thread as it can: a batch of up
    /// to [`APPEND_ROWS`] is one statement, atomic on its own (a writing statement takes
    /// the write lock before it reads, so numbers are visible in one order, with no gaps);
    /// a larger one is that statement per chunk inside one write transaction.
    async fn append_batch(&self, board: BoardId, updates: &[Vec<u8>], now: Millis) -> Result<i64> {
        if updates.len() <= APPEND_ROWS {
            let mut conn = self.writer.acquire().await?;
            return Self::append_rows(&mut conn, board, updates, now).await;
        }
        let mut tx = self.begin_write().await?;
        let mut last = 0;
        for chunk in updates.chunks(APPEND_ROWS) {
            last = Self::append_rows(&mut tx, board, chunk, now).await?;
        }
        tx.commit().await?;
        Ok(last)
    }

    /// One INSERT that numbers `rows` after the board's `last_seq` (read once, from a
    /// materialised CTE); the `board_updates_advance_seq` trigger moves `last_seq` along.
    /// Returns the last number given.
    async fn append_rows(
        conn: &mut sqlx::SqliteConnection,
        board: BoardId,
        rows: &[Vec<u8>],
        now: Millis,
    ) -> Result<i64> {
        let values: Vec<String> = (0..rows.len())
            .map(|i| format!("({}, ${})", i + 1, i + 3))
            .collect();
        let statement = format!(
            "WITH base (last) AS MATERIALIZED (SELECT last_seq FROM boards WHERE id = $1), \
             batch (ord, data) AS (VALUES {}) \
             INSERT INTO board_updates (board_id, seq, data, created_at) \
             SELECT $1, base.last + batch.ord, batch.data, $2 FROM base, batch \
             RETURNING seq",
            values.join(", ")
        );
        // Built from numbers and constants only: nothing a caller sent is in the text.
        let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(statement))
            .bind(board.as_uuid())
            .bind(now);
        for data in rows {
            query = query.bind(data);
        }
        let numbers = query.fetch_all(&mut *conn).await?;
        if numbers.len() != rows.len() {
            return Err(StoreError::NotFound("board"));
        }
        Ok(numbers.into_iter().max().unwrap_or_default())
    }
}

impl_store!(SqliteStore, Sqlite, Backend::Sqlite, MIGRATOR);

/// Checkpoints the WAL (passively: never waiting for the writer or readers) after each
/// burst of writes that `wrote` signals, at most once per [`CHECKPOINT_GAP`], until `stop`.
async fn checkpoints(pool: SqlitePool, wrote: Arc<Notify>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = wrote.notified() => {}
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %crate::telemetry::chain(&e), "WAL checkpoint failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(CHECKPOINT_GAP) => {}
        }
    }
}

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

    #[tokio::test]
    async fn the_checkpointer_moves_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("easel.db");
        let store = SqliteStore::open(&file, 2, Duration::from_secs(5))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let owner = UserId::parse("alice").expect("user id");
        let board = store
            .create_board(&NewBoard {
                id: BoardId::new(),
                name: BoardName::parse("b").expect("name"),
                owner,
            })
            .await
            .expect("board");
        let size = || std::fs::metadata(&file).map_or(0, |m| m.len());
        tokio::time::sleep(CHECKPOINT_GAP * 2).await;
        let before = size();
        let updates: Vec<Vec<u8>> = (0..50).map(|i| vec![i; 20_000]).collect();
        store
            .append_updates(board.id, &updates)
            .await
            .expect("append");
        let mut grown = false;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if size() >= before + 1_000_000 {
                grown = true;
                break;
            }
        }
        assert!(grown, "1 MB written did not reach the database file");
        store.close().await;
    }
}
