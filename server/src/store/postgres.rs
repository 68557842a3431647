//! The Postgres backend: production, and the source of truth when several nodes share boards.
//!
//! Owns the connection pool and what is Postgres-specific: `SELECT ... FOR UPDATE` row
//! locks that keep sequence numbers gap-free and in commit order, the `UNNEST` batch
//! insert, repeatable-read loads, the advisory locks ordering the change feed's writers and
//! a board's image uploads, the change feed's `LISTEN` subscription, and the `NOTIFY`s that
//! tell other processes a board's log grew or relay their messages. The shared operations come from `common.rs`. One pool serves reads and
//! writes alike: Postgres runs writers concurrently, row locks order them. A subscription
//! has a connection of its own (application name `easel-events`), outside the pool.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};

use super::common::impl_store;
use super::sql::{
    self, AuditRow, BoardRow, MemberRow, ShareLinkRow, UserRow, VersionRow, VersionStateRow,
    convert,
};
use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a pooled connection may sit idle before it is checked with a ping when it is
/// next handed out.
const PING_IDLE_AFTER: Duration = Duration::from_secs(10);

/// A [`Store`] on Postgres.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

/// The application name of a change-feed subscription's connection, as `pg_stat_activity`
/// shows it.
const LISTENER_APPLICATION_NAME: &str = "easel-events";

impl PostgresStore {
    const LOCK_BOARD: &str = "SELECT last_seq FROM boards WHERE id = $1 FOR UPDATE";

    /// Writers of the change feed queue on this lock (held to their commit), so a row's id
    /// is drawn only after every earlier row committed: a reader reading after the last id
    /// it saw never skips a row that was still committing. The key is arbitrary, fixed.
    const LOCK_FEED: Option<&str> = Some("SELECT pg_advisory_xact_lock(7378651243829477)");

    /// Uploads of images to one board queue on this lock (held to their commit), so the
    /// sum of the board's asset sizes each reads stays true until it stores. Not the board
    /// row's lock: live edits update that row, and must not wait while an image is written.
    /// The two-key form's space is apart from the change feed's one-key lock.
    const LOCK_ASSETS: Option<&str> =
        Some("SELECT pg_advisory_xact_lock(1163086156, hashtext($1::text))");

    /// Caller `i` of an admission read, its parameters from `$first`: Postgres cannot infer
    /// the types of parameters in `VALUES`, so they are spelled out.
    fn admission_row(i: usize, first: usize) -> String {
        format!(
            "({i}::int8, ${first}::text, ${}::text, ${}::uuid)",
            first + 1,
            first + 2
        )
    }

    /// Builds a lazily-connecting pool for `url`; fails only on a malformed URL.
    pub fn connect(url: &str, max_connections: u32, timeout: Duration) -> Result<Self> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|_| StoreError::Invalid("DATABASE_URL is not a valid Postgres URL".into()))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            // sqlx pings every connection it hands out, a second round trip per query.
            // A connection that sat idle is the one a restarted server or a firewall may
            // have dropped: ping only those; a busy one that broke fails its query, which
            // callers retry (rooms) or answer with 503 (requests).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(options.application_name("easel"));
        Ok(Self { pool })
    }

    /// Listens on the change feed's channel on a connection of its own. It does not
    /// reconnect by itself: a lost connection ends the subscription with an error, so the
    /// reader knows notifications may have been missed and catches up from the table.
    async fn open_subscription(&self) -> Result<Option<Box<dyn Subscription>>> {
        let options = (*self.pool.connect_options())
            .clone()
            .application_name(LISTENER_APPLICATION_NAME);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.pool.options().get_acquire_timeout())
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await?;
        Ok(Some(Box::new(Listening(listener))))
    }

    /// Announces `messages`, in order, to every process listening on [`CHANNEL`]
    /// (`r:<message>` each), in one statement.
    async fn relay_messages(&self, messages: &[String]) -> Result<()> {
        sqlx::query(
            "SELECT pg_notify($1, $2 || m)::text FROM UNNEST($3::text[]) WITH ORDINALITY AS t(m, i) \
             ORDER BY i",
        )
        .bind(CHANNEL)
        .bind(RELAY_PREFIX)
        .bind(messages)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Postgres lets writers run concurrently: its writer is the one pool.
    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn close_pools(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// One statement, so one round trip and one implicit transaction: the UPDATE numbers
    /// the batch and holds the board row's write lock until the INSERT beside it commits, so
    /// a second appender to the board waits, and numbers become visible in one order, with
    /// no gaps (Postgres runs every data-modifying part of a `WITH` to completion). The
    /// same statement announces the board's new last number on [`CHANNEL`]
    /// (`u:<board>:<seq>`): Postgres delivers it when the rows commit, so other processes
    /// following the board read them as soon as they are visible.
    async fn append_batch(&self, board: BoardId, updates: &[Vec<u8>], now: Millis) -> Result<i64> {
        sqlx::query_scalar(
            "WITH bumped AS (\
                 UPDATE boards SET last_seq = last_seq + $2, updated_at = $3 WHERE id = $1 \
                 RETURNING last_seq), \
             inserted AS (\
                 INSERT INTO board_updates (board_id, seq, data, created_at) \
                 SELECT $1, bumped.last_seq - $2 + t.ord, t.data, $3 \
                 FROM bumped, UNNEST($4::bytea[]) WITH ORDINALITY AS t(data, ord)) \
             SELECT last_seq, pg_notify($5, $6 || $1::text || ':' || last_seq)::text FROM bumped",
        )
        .bind(board.as_uuid())
        .bind(updates.len() as i64)
        .bind(now)
        .bind(updates)
        .bind(CHANNEL)
        .bind(LOG_PREFIX)
        .fetch_optional(self.writer())
        .await?
        .ok_or(StoreError::NotFound("board"))
    }
}

impl_store!(PostgresStore, Postgres, Backend::Postgres, MIGRATOR);

/// A `LISTEN` on the change feed's channel.
struct Listening(PgListener);

#[async_trait::async_trait]
impl Subscription for Listening {
    async fn next(&mut self) -> Result<Notice> {
        match self.0.try_recv().await? {
            Some(notification) => Ok(Notice::parse(notification.payload())),
            None => Err(StoreError::Unavailable(sqlx::Error::Io(
                std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "the change feed's listening connection was lost",
                ),
            ))),
        }
    }
}
