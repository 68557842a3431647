//! What `bench/`'s floor servers share: the listening socket and the handshake. A plain
//! HTTP request (the benchmark's readiness probe) gets `200 floor` and is closed; a
//! WebSocket upgrade is accepted, with the request's path (the room) kept. Owns no
//! protocol: each floor decides what to answer.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// The longest request head read while telling a WebSocket upgrade from a plain request.
const MAX_HEAD: usize = 8192;

/// Sync (0), step 2 (1), an update of 2 bytes: the empty v1 update `[0, 0]`.
pub const EMPTY_STEP2: [u8; 5] = [0, 1, 2, 0, 0];

/// Listens on `$HOST:$PORT` (default 127.0.0.1, a free port) and prints the address.
pub async fn listen(name: &str) -> std::io::Result<TcpListener> {
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
    let listener = socket.listen(4096)?;
    println!("{name} listening on {}", listener.local_addr()?);
    Ok(listener)
}

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

/// Completes a WebSocket handshake on `stream` (Nagle off, as every server here), or
/// answers a plain request; `None` when there is no WebSocket to serve.
pub async fn accept(mut stream: TcpStream) -> Option<(WebSocketStream<TcpStream>, String)> {
    let _ = stream.set_nodelay(true);
    if !is_upgrade(&stream).await.ok()? {
        let mut scratch = vec![0; MAX_HEAD];
        let _ = stream.read(&mut scratch).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nfloor")
            .await;
        return None;
    }
    let mut path = String::new();
    // The callback's signature is tungstenite's, error type included.
    #[allow(clippy::result_large_err)]
    let keep_path = |req: &Request, resp: Response| {
        path = req.uri().path().to_owned();
        Ok(resp)
    };
    let ws = tokio_tungstenite::accept_hdr_async(stream, keep_path)
        .await
        .ok()?;
    Some((ws, path))
}
