//! The fan-out floor server for `bench/`: the least a y-sync server can do to pass the
//! fan-out scenario. Clients of the same URL path share a room; every document update and
//! awareness message a client sends is relayed, byte for byte, to the room's other
//! clients, and every sync step 1 is answered with the step 2 of an empty document. No
//! document, no checks, no storage. Its latency and CPU under the fan-out load are what
//! this machine's network stack and a minimal tokio relay allow, the floor under every
//! server's.
//!
//! With `DATABASE_URL` set it is the **durable** fan-out floor: the least a server can do
//! that makes every update durable before anyone sees it, as Easel does, on Postgres or
//! (a `sqlite:` URL) in an SQLite file with WAL and a full fsync per commit, as Easel's
//! embedded store. Every update goes through one log task for all rooms, which appends
//! everything queued since its last write in one transaction (a group commit across rooms,
//! so as few commits as the load allows) with the driver Easel uses (sqlx), and relays
//! each update only once it is committed. Still no document and no checks; awareness is
//! relayed at once. It creates its one table (`relay_log`) if missing.
//!
//! Each connection has a reader (this task) and a writer task fed by an unbounded channel,
//! the common shape of a tokio WebSocket server; the writer sends what is queued in one
//! flush. Plain HTTP requests get `200 floor`. Listens on `$HOST:$PORT` (default
//! 127.0.0.1, a free port), with as many worker threads as cores.
//!
//! Run: `PORT=9000 relay-floor`, or `DATABASE_URL=postgres://... PORT=9000 relay-floor`

mod serve;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use std::str::FromStr;

use sqlx::PgPool;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// Every room's members, by URL path: connection id and the queue to its writer.
type Rooms = Arc<Mutex<HashMap<Arc<str>, Vec<(u64, mpsc::UnboundedSender<Message>)>>>>;

/// An update on its way to the log: its room, its sender, its bytes.
type Logged = (Arc<str>, u64, Bytes);

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Whether a client's message goes to the others: a sync update (0, 2) or awareness (1).
fn relayed(data: &Bytes) -> bool {
    data.starts_with(&[0, 2]) || data.first() == Some(&1)
}

/// Sends `data` from member `from` to the other members of `room`.
fn relay(rooms: &Rooms, room: &str, from: u64, data: Bytes) {
    let others: Vec<_> = rooms
        .lock()
        .expect("rooms lock")
        .get(room)
        .map(|members| {
            members
                .iter()
                .filter(|(other, _)| *other != from)
                .map(|(_, queue)| queue.clone())
                .collect()
        })
        .unwrap_or_default();
    for queue in others {
        let _ = queue.send(Message::Binary(data.clone()));
    }
}

/// Where the durable floor appends: a Postgres database, or an SQLite file in WAL mode with
/// a full fsync at every commit, as Easel's embedded store.
enum Log {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Log {
    /// Opens the log `DATABASE_URL` names (`sqlite:` for SQLite) and makes its table.
    async fn open(url: &str) -> Result<Self, sqlx::Error> {
        const TABLE: &str = "CREATE TABLE IF NOT EXISTS relay_log \
            (seq integer PRIMARY KEY, room text NOT NULL, data blob NOT NULL)";
        const PG_TABLE: &str = "CREATE TABLE IF NOT EXISTS relay_log \
            (seq bigserial PRIMARY KEY, room text NOT NULL, data bytea NOT NULL)";
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full);
            // SQLite has one writer: one connection, so that appends queue instead of
            // contending for the lock.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            sqlx::query(TABLE).execute(&pool).await?;
            Ok(Self::Sqlite(pool))
        } else {
            let pool = PgPool::connect(url).await?;
            sqlx::query(PG_TABLE).execute(&pool).await?;
            Ok(Self::Postgres(pool))
        }
    }

    /// Appends `batch` in one statement, committed when it returns.
    async fn append(&self, batch: &[Logged]) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                let room: Vec<&str> = batch.iter().map(|(r, _, _)| &**r).collect();
                let data: Vec<&[u8]> = batch.iter().map(|(_, _, d)| &d[..]).collect();
                sqlx::query(
                    "INSERT INTO relay_log (room, data) \
                     SELECT * FROM unnest($1::text[], $2::bytea[])",
                )
                .bind(room)
                .bind(data)
                .execute(pool)
                .await?;
            }
            Self::Sqlite(pool) => {
                // SQLite binds at most 32,766 parameters and has no arrays: a row of
                // placeholders per update, 500 rows a statement, all in one transaction.
                let mut tx = pool.begin().await?;
                for chunk in batch.chunks(500) {
                    let rows = vec!["(?, ?)"; chunk.len()].join(", ");
                    let sql = format!("INSERT INTO relay_log (room, data) VALUES {rows}");
                    // Only placeholders vary: the values are bound.
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (room, _, data) in chunk {
                        query = query.bind(&**room).bind(&data[..]);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

/// The durable floor's log task, one for every room: appends every update queued since its
/// last write in one statement (a group commit across rooms, the fewest commits this load
/// allows), then relays them in order.
async fn log(store: Log, rooms: Rooms, mut queue: mpsc::UnboundedReceiver<Logged>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = queue.try_recv() {
            batch.push(more);
        }
        if let Err(e) = store.append(&batch).await {
            // A floor that drops what it could not save would measure less than it must.
            eprintln!("relay-floor: appending to the log failed: {e}");
            std::process::exit(1);
        }
        for (room, from, data) in batch {
            relay(&rooms, &room, from, data);
        }
    }
}

async fn member(stream: TcpStream, rooms: Rooms, log: Option<mpsc::UnboundedSender<Logged>>) {
    let Some((ws, room)) = serve::accept(stream).await else {
        return;
    };
    let room: Arc<str> = room.into();
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                if sink.feed(more).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    rooms
        .lock()
        .expect("rooms lock")
        .entry(room.clone())
        .or_default()
        .push((id, tx.clone()));
    while let Some(Ok(message)) = source.next().await {
        let Message::Binary(data) = message else {
            continue;
        };
        if data.starts_with(&[0, 0]) {
            let _ = tx.send(Message::Binary(Bytes::from_static(&serve::EMPTY_STEP2)));
        } else if let Some(log) = log.as_ref().filter(|_| data.starts_with(&[0, 2])) {
            let _ = log.send((room.clone(), id, data));
        } else if relayed(&data) {
            relay(&rooms, &room, id, data);
        }
    }
    {
        let mut all = rooms.lock().expect("rooms lock");
        if let Some(members) = all.get_mut(&room) {
            members.retain(|(other, _)| *other != id);
            if members.is_empty() {
                all.remove(&room);
            }
        }
    }
    drop(tx);
    let _ = writer.await;
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let store = match std::env::var("DATABASE_URL") {
        Ok(url) => Some(Log::open(&url).await.map_err(std::io::Error::other)?),
        Err(_) => None,
    };
    let listener = serve::listen(if store.is_some() {
        "relay-floor (durable)"
    } else {
        "relay-floor"
    })
    .await?;
    let rooms = Rooms::default();
    let queue = store.map(|store| {
        let (queue, updates) = mpsc::unbounded_channel();
        tokio::spawn(log(store, rooms.clone(), updates));
        queue
    });
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(member(stream, rooms.clone(), queue.clone()));
    }
}
