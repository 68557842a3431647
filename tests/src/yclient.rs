//! A minimal y-sync client over a real WebSocket (tokio-tungstenite + yrs), for tests.
//!
//! It speaks the protocol the way the stock y-websocket client does: on open it sends
//! its sync step 1, answers the server's step 1 with step 2, applies step 2 and updates,
//! and sends one message per frame.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::{Awareness, AwarenessUpdate};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::{Doc, Map, ReadTxn, StateVector, Transact, TransactionMut, Update};

/// A raw client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a socket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The close code (1006 when the socket dropped without a close frame).
    pub code: u16,
    /// The close reason.
    pub reason: String,
    /// Binary frames received before the close.
    pub frames_before: usize,
}

/// A test client holding its own copy of the board.
pub struct YClient {
    ws: Ws,
    /// The client's document.
    pub awareness: Awareness,
    /// Whether the server's step 2 has arrived.
    pub synced: bool,
    /// Set once the socket closed.
    pub closed: Option<Closed>,
    /// Document updates that arrived before the server's step 2.
    pub updates_before_sync: usize,
    frames: usize,
}

/// Encodes a sync message `[0, sub, payload]`.
pub fn sync_frame(sub: u32, payload: &[u8]) -> Vec<u8> {
    let mut e = EncoderV1::new();
    e.write_var(0u32);
    e.write_var(sub);
    e.write_buf(payload);
    e.to_vec()
}

/// Encodes an awareness message.
pub fn awareness_frame(update: &AwarenessUpdate) -> Vec<u8> {
    let mut e = EncoderV1::new();
    e.write_var(1u32);
    e.write_buf(update.encode_v1());
    e.to_vec()
}

/// Opens a raw WebSocket with optional extra headers; `Err` carries the HTTP status.
pub async fn open(url: &str, origin: Option<&str>) -> Result<Ws, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().expect("ws url");
    if let Some(o) = origin {
        req.headers_mut().insert("Origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

/// Opens a raw WebSocket whose TCP receive buffer is held to `bytes`, for a client that
/// should stall after little traffic (the kernel would otherwise grow it to many MB).
pub async fn open_with_receive_buffer(url: &str, bytes: u32) -> Ws {
    let parsed = reqwest::Url::parse(url).expect("ws url");
    let addr = parsed
        .socket_addrs(|| None)
        .expect("address")
        .into_iter()
        .next()
        .expect("an address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
    let tcp = socket.connect(addr).await.expect("connect");
    let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
        .await
        .expect("websocket handshake");
    ws
}

/// For a raw socket that never read: drains it to its end and returns the code of the
/// close frame the server sent, if any.
pub async fn raw_close_code(mut ws: Ws, timeout: Duration) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    let MaybeTlsStream::Plain(tcp) = ws.get_mut() else {
        return None;
    };
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(timeout, tcp.read_to_end(&mut bytes)).await;
    bytes
        .windows(4)
        .rev()
        .find(|w| w[0] == 0x88 && w[1] >= 2 && w[1] <= 125)
        .map(|w| u16::from_be_bytes([w[2], w[3]]))
}

impl YClient {
    /// Connects and sends sync step 1.
    pub async fn connect(url: &str) -> Self {
        let ws = open(url, None)
            .await
            .unwrap_or_else(|s| panic!("HTTP {s} at handshake"));
        Self::over(ws).await
    }

    /// Wraps an open socket and sends sync step 1.
    pub async fn over(ws: Ws) -> Self {
        Self::resume(ws, Awareness::new(Doc::new())).await
    }

    /// Reconnects with an existing document (edits made offline are synced).
    pub async fn reconnect(url: &str, awareness: Awareness) -> Self {
        let ws = open(url, None)
            .await
            .unwrap_or_else(|s| panic!("HTTP {s} at handshake"));
        Self::resume(ws, awareness).await
    }

    /// Closes the socket and keeps the document, as a client going offline does.
    pub async fn go_offline(mut self) -> Awareness {
        let _ = self.ws.close(None).await;
        self.awareness
    }

    async fn resume(ws: Ws, awareness: Awareness) -> Self {
        let mut me = Self {
            ws,
            awareness,
            synced: false,
            updates_before_sync: 0,
            closed: None,
            frames: 0,
        };
        let sv = me.awareness.doc().transact().state_vector().encode_v1();
        me.send_raw(sync_frame(0, &sv)).await;
        me
    }

    /// The client's document.
    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }

    /// Sends raw bytes as one binary frame (ignores a closed socket).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(WsMessage::Binary(bytes.into())).await;
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        let _ = self.ws.send(WsMessage::Text(text.into())).await;
    }

    /// Edits the local document and sends the change as one update.
    pub async fn edit(&mut self, f: impl FnOnce(&mut TransactionMut)) {
        let update = {
            let mut txn = self.awareness.doc().transact_mut();
            f(&mut txn);
            txn.encode_update_v1()
        };
        self.send_raw(sync_frame(2, &update)).await;
    }

    /// Adds (or replaces) a shape `key` with a `bytes`-long value in the `elements` map.
    pub async fn draw(&mut self, key: &str, bytes: usize) {
        let elements = self.doc().get_or_insert_map("elements");
        let value = "x".repeat(bytes);
        self.edit(|txn| {
            elements.insert(txn, key.to_owned(), value);
        })
        .await;
    }

    /// Sets this client's awareness state and sends it.
    pub async fn set_awareness(&mut self, state: serde_json::Value) {
        self.awareness.set_local_state(state).unwrap();
        let update = self
            .awareness
            .update_with_clients([self.awareness.client_id()])
            .unwrap();
        self.send_raw(awareness_frame(&update)).await;
    }

    /// Reads and handles frames until `done` holds or `timeout` passes; returns whether it held.
    /// The deadline holds even while frames keep arriving faster than they are handled.
    pub async fn until(&mut self, timeout: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(self) {
            if self.closed.is_some() || tokio::time::Instant::now() >= deadline {
                return false;
            }
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return done(self),
                Ok(msg) => self.handle(msg).await,
            }
        }
        true
    }

    /// Handles frames for a while (to let traffic settle).
    pub async fn pump(&mut self, duration: Duration) {
        self.until(duration, |_| false).await;
    }

    /// Waits for the server to close the socket; returns how.
    pub async fn closed(&mut self, timeout: Duration) -> Option<Closed> {
        self.until(timeout, |c| c.closed.is_some()).await;
        self.closed.clone()
    }

    /// Closes from the client side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while self.ws.next().await.is_some() {}
        })
        .await;
    }

    /// For a client that never read: drains the raw socket to its end and returns the code
    /// of the close frame the server sent, if any. (Reading through tungstenite would try to
    /// answer the queued pings on a socket the server already shut.)
    pub async fn raw_close_code(self, timeout: Duration) -> Option<u16> {
        raw_close_code(self.ws, timeout).await
    }

    /// Drops the TCP connection without a close handshake.
    pub fn drop_abruptly(self) {
        drop(self);
    }

    async fn handle(
        &mut self,
        msg: Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>,
    ) {
        match msg {
            Some(Ok(WsMessage::Binary(bytes))) => {
                self.frames += 1;
                self.on_frame(&bytes).await;
            }
            Some(Ok(WsMessage::Close(frame))) => self.set_closed(frame),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => self.set_closed(None),
        }
    }

    fn set_closed(&mut self, frame: Option<CloseFrame>) {
        if self.closed.is_none() {
            self.closed = Some(match frame {
                Some(f) => Closed {
                    code: f.code.into(),
                    reason: f.reason.to_string(),
                    frames_before: self.frames,
                },
                None => Closed {
                    code: 1006,
                    reason: String::new(),
                    frames_before: self.frames,
                },
            });
        }
    }

    async fn on_frame(&mut self, bytes: &[u8]) {
        let mut cursor = Cursor::new(bytes);
        let kind: u32 = cursor.read_var().expect("message type");
        match kind {
            0 => {
                let sub: u32 = cursor.read_var().unwrap();
                let payload = cursor.read_buf().unwrap().to_vec();
                match sub {
                    0 => {
                        let sv = StateVector::decode_v1(&payload).unwrap();
                        let diff = self
                            .awareness
                            .doc()
                            .transact()
                            .encode_state_as_update_v1(&sv);
                        self.send_raw(sync_frame(1, &diff)).await;
                    }
                    1 | 2 => {
                        let update = Update::decode_v1(&payload).unwrap();
                        self.awareness
                            .doc()
                            .transact_mut()
                            .apply_update(update)
                            .unwrap();
                        if sub == 1 {
                            self.synced = true;
                        } else if !self.synced {
                            self.updates_before_sync += 1;
                        }
                    }
                    other => panic!("server sent unknown sync type {other}"),
                }
            }
            1 => {
                let payload = cursor.read_buf().unwrap();
                let update = AwarenessUpdate::decode_v1(payload).unwrap();
                self.awareness.apply_update(update).unwrap();
            }
            other => panic!("server sent message type {other}, which stock clients do not know"),
        }
        assert!(
            !cursor.has_content(),
            "the server sent more than one message in a frame"
        );
    }

    /// Binary frames received on the current socket.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Other clients' awareness states that are present.
    pub fn peers(&self) -> Vec<String> {
        let me = self.awareness.client_id();
        self.awareness
            .iter()
            .filter(|(id, s)| *id != me && s.data.is_some())
            .map(|(_, s)| s.data.unwrap().to_string())
            .collect()
    }
}
