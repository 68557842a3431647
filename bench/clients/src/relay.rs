//! The fan-out floor server for `bench/`: the least a y-sync server can do to pass the
//! fan-out scenario. Clients of the same URL path share a room; every document update and
//! awareness message a client sends is relayed, byte for byte, to the room's other
//! clients, and every sync step 1 is answered with the step 2 of an empty document. No
//! document, no checks, no storage. Its latency and CPU under the fan-out load are what
//! this machine's network stack and a minimal tokio relay allow, the floor under every
//! server's.
//!
//! Each connection has a reader (this task) and a writer task fed by an unbounded channel,
//! the common shape of a tokio WebSocket server; the writer sends what is queued in one
//! flush. Plain HTTP requests get `200 floor`. Listens on `$HOST:$PORT` (default
//! 127.0.0.1, a free port), with as many worker threads as cores.
//!
//! Run: `PORT=9000 relay-floor`

mod serve;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// Every room's members: connection id and the queue to its writer.
type Rooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::UnboundedSender<Message>)>>>>;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Whether a client's message goes to the others: a sync update (0, 2) or awareness (1).
fn relayed(data: &Bytes) -> bool {
    data.starts_with(&[0, 2]) || data.first() == Some(&1)
}

async fn member(stream: TcpStream, rooms: Rooms) {
    let Some((ws, room)) = serve::accept(stream).await else {
        return;
    };
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
        } else if relayed(&data) {
            let others: Vec<_> = rooms.lock().expect("rooms lock")[&room]
                .iter()
                .filter(|(other, _)| *other != id)
                .map(|(_, queue)| queue.clone())
                .collect();
            for queue in others {
                let _ = queue.send(Message::Binary(data.clone()));
            }
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
    let listener = serve::listen("relay-floor").await?;
    let rooms = Rooms::default();
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(member(stream, rooms.clone()));
    }
}
