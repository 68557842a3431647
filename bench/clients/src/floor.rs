//! The join storm's floor server for `bench/`: the least a y-sync server can do for a
//! client to count as synced. It completes the WebSocket handshake, answers every sync
//! step 1 with the step 2 of an empty document, and does nothing else: no document, no
//! relaying, no awareness. The storm's sync times against it are what the joiners, the
//! machine's network stack and a minimal server allow, the floor under every server's.
//!
//! Plain HTTP requests (the benchmark's readiness probe) get `200 floor`. Listens on
//! `$HOST:$PORT` (default 127.0.0.1, a free port), with as many worker threads as cores.
//!
//! Run: `PORT=9000 storm-floor`

mod serve;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

async fn answer(stream: TcpStream) {
    let Some((mut ws, _)) = serve::accept(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Binary(data) = message
            && data.starts_with(&[0, 0])
            && ws
                .send(Message::Binary(serve::EMPTY_STEP2.to_vec().into()))
                .await
                .is_err()
        {
            return;
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = serve::listen("storm-floor").await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(answer(stream));
    }
}
