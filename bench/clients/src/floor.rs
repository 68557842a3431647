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

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// Sync (0), step 2 (1), an update of 2 bytes: the empty v1 update `[0, 0]`.
const EMPTY_STEP2: [u8; 5] = [0, 1, 2, 0, 0];

/// The longest request head read while telling a WebSocket upgrade from a plain request.
const MAX_HEAD: usize = 8192;

/// Whether the request waiting on `stream` asks for a WebSocket; reads nothing.
async fn is_upgrade(stream: &TcpStream) -> std::io::Result<bool> {
    let mut head = vec![0; MAX_HEAD];
    loop {
        let n = stream.peek(&mut head).await?;
        let seen = &head[..n];
        let complete = seen.windows(4).any(|w| w == b"\r\n\r\n");
        if complete || n == MAX_HEAD || n == 0 {
            let text = String::from_utf8_lossy(seen).to_ascii_lowercase();
            return Ok(text.contains("upgrade: websocket"));
        }
        // Part of the head is in; peeking leaves the socket readable, so wait a little
        // rather than spin on it.
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

async fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    match is_upgrade(&stream).await {
        Ok(true) => {}
        Ok(false) => {
            let mut scratch = vec![0; MAX_HEAD];
            let _ = stream.read(&mut scratch).await;
            let _ = stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nfloor",
                )
                .await;
            return;
        }
        Err(_) => return,
    }
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Binary(data) = message
            && data.starts_with(&[0, 0])
            && ws
                .send(Message::Binary(EMPTY_STEP2.to_vec().into()))
                .await
                .is_err()
        {
            return;
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".to_owned());
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|e| std::io::Error::other(format!("HOST/PORT: {e}")))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // As Easel's: a join storm's SYNs must not overflow the accept queue.
    let listener: TcpListener = socket.listen(4096)?;
    println!("storm-floor listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(serve(stream));
    }
}
