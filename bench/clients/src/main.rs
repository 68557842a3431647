//! The join storm's joiners for `bench/`: N y-sync clients that open one board at the same
//! instant, each sending sync step 1 and an awareness state on open as y-websocket's
//! provider does, answering the server's step 1, and counting what arrives.
//!
//! Why this exists: driven from one Node thread, 1,000 joiners cost the load generator
//! 200–370 ms of its own before any server is involved (the storm's "floor"), more than the
//! 110 ms the storm's sync target allows. These are the same clients on one Rust thread.
//! Owns nothing of Easel: it speaks the wire protocol only (plain y-sync, or Hocuspocus'
//! framing), and never decodes a document.
//!
//! It talks to `bench/lib/scenarios.js` over stdio, one JSON object per line:
//! - once every client synced or gave up: `{"syncMs": [..], "syncBytes": [..],
//!   "failures": {reason: count}, "allSyncedMs": ms, "cpuMs": ms}` (`syncMs` and
//!   `syncBytes` for the synced clients, in the same order; `cpuMs`: CPU time this process
//!   used so far, user and kernel);
//! - then it reads commands from stdin, one per line: `awareness` prints
//!   `{"awarenessFrames": n}` (awareness messages received by all clients so far), and
//!   `leave` closes every socket and prints `{"leaveMs": ms, "dropped": n, "closeCodes":
//!   {code: count}}` (`dropped`: sockets the server closed before `leave`), then exits.
//!
//! Run: `storm-clients --url ws://127.0.0.1:8080/ws/boards/ID?token=T --clients 1000`

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncBufReadExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// Message types of y-sync (and Hocuspocus, which adds 4..10).
const MSG_SYNC: u64 = 0;
const MSG_AWARENESS: u64 = 1;
const MSG_AUTH: u64 = 2;
const MSG_QUERY_AWARENESS: u64 = 3;
const HP_SYNC_REPLY: u64 = 4;
const HP_PING: u8 = 9;
const HP_PONG: u8 = 10;
/// Sync sub-messages.
const STEP1: u64 = 0;
const STEP2: u64 = 1;
const UPDATE: u64 = 2;

/// How long `leave` waits for a socket's close handshake before dropping it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(about = "The join storm's joiners for Easel's benchmark")]
struct Args {
    /// WebSocket URL every client opens.
    #[arg(long)]
    url: String,
    /// Wire framing: plain y-sync, or Hocuspocus' (document name before each message).
    #[arg(long, value_enum, default_value = "ysync")]
    flavor: Flavor,
    /// Hocuspocus: the document name.
    #[arg(long, default_value = "")]
    doc_name: String,
    /// Hocuspocus: the token its Auth message carries.
    #[arg(long, default_value = "")]
    token: String,
    /// How many clients join.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// A client not synced after this long counts as failed.
    #[arg(long, default_value_t = 60_000)]
    sync_timeout_ms: u64,
    /// Source addresses 127.0.0.2..=127.0.0.(1+N) the clients spread over, so ephemeral
    /// ports never run out.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=250))]
    source_addresses: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Flavor {
    Ysync,
    Hocuspocus,
}

/// What every client shares.
struct Shared {
    args: Args,
    target: SocketAddr,
    awareness_frames: AtomicU64,
}

impl Shared {
    /// A message of `kind` with `payload`, framed for the flavour.
    fn frame(&self, kind: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        if self.args.flavor == Flavor::Hocuspocus {
            write_bytes(&mut out, self.args.doc_name.as_bytes());
        }
        write_var(&mut out, kind);
        out.extend_from_slice(payload);
        out
    }
}

/// How one client's join went, reported as soon as it is known.
enum Joined {
    Synced { ms: f64, bytes: u64 },
    Failed(String),
}

/// How one client ended.
struct Ended {
    /// The close code of a socket the server closed before `leave`.
    dropped: Option<u16>,
}

type Ws = WebSocketStream<TcpStream>;

fn write_var(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_var(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn read_var(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// One client's side of the protocol.
struct Client {
    shared: Arc<Shared>,
    /// The client's awareness message, sent on open and when the server asks.
    awareness: Vec<u8>,
    synced: bool,
    sync_bytes: u64,
}

impl Client {
    fn new(shared: Arc<Shared>, i: usize) -> Self {
        let client_id = (u64::from(std::process::id()) << 20 | i as u64) & 0xffff_ffff;
        let state = serde_json::json!({
            "user": { "name": format!("user {i}"), "color": "#1971c2" },
            "cursor": { "x": i % 1000, "y": i / 1000 },
        });
        let mut update = Vec::new();
        write_var(&mut update, 1);
        write_var(&mut update, client_id);
        write_var(&mut update, 1);
        write_bytes(&mut update, state.to_string().as_bytes());
        let mut payload = Vec::new();
        write_bytes(&mut payload, &update);
        Self {
            awareness: shared.frame(MSG_AWARENESS, &payload),
            shared,
            synced: false,
            sync_bytes: 0,
        }
    }

    /// What goes out on open: (Hocuspocus' auth,) step 1 of an empty document, awareness.
    fn opening(&self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        if self.shared.args.flavor == Flavor::Hocuspocus {
            let mut auth = vec![0];
            write_bytes(&mut auth, self.shared.args.token.as_bytes());
            frames.push(self.shared.frame(MSG_AUTH, &auth));
        }
        frames.push(self.shared.frame(MSG_SYNC, &[STEP1 as u8, 1, 0]));
        frames.push(self.awareness.clone());
        frames
    }

    /// Reads one inbound message; returns what to answer, if anything.
    fn on_message(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        if self.shared.args.flavor == Flavor::Hocuspocus && data == [HP_PING] {
            return Some(vec![HP_PONG]);
        }
        let mut pos = 0;
        if self.shared.args.flavor == Flavor::Hocuspocus {
            let name = read_var(data, &mut pos)? as usize;
            pos += name;
        }
        match read_var(data, &mut pos)? {
            MSG_SYNC | HP_SYNC_REPLY => match read_var(data, &mut pos)? {
                STEP1 => Some(self.shared.frame(MSG_SYNC, &[STEP2 as u8, 2, 0, 0])),
                STEP2 => {
                    self.sync_bytes += read_var(data, &mut pos)?;
                    self.synced = true;
                    None
                }
                UPDATE => {
                    if !self.synced {
                        self.sync_bytes += read_var(data, &mut pos)?;
                    }
                    None
                }
                _ => None,
            },
            MSG_AWARENESS => {
                self.shared.awareness_frames.fetch_add(1, Ordering::Relaxed);
                None
            }
            MSG_QUERY_AWARENESS => Some(self.awareness.clone()),
            _ => None,
        }
    }
}

async fn connect(shared: &Shared, i: usize) -> Result<Ws, String> {
    let source = Ipv4Addr::new(
        127,
        0,
        0,
        2 + (i % usize::from(shared.args.source_addresses)) as u8,
    );
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::from((source, 0)))
        .map_err(|e| format!("bind: {e}"))?;
    let stream = socket
        .connect(shared.target)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let (ws, _) = tokio_tungstenite::client_async(shared.args.url.as_str(), stream)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

/// One client: joins, reports, keeps the socket until `leave`, then closes it.
async fn run(
    shared: Arc<Shared>,
    i: usize,
    joined: mpsc::UnboundedSender<Joined>,
    mut leave: watch::Receiver<bool>,
) -> Ended {
    let started = Instant::now();
    let mut client = Client::new(shared.clone(), i);
    let mut ws = match connect(&shared, i).await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = joined.send(Joined::Failed(e));
            return Ended { dropped: None };
        }
    };
    for frame in client.opening() {
        if let Err(e) = ws.send(Message::Binary(frame.into())).await {
            let _ = joined.send(Joined::Failed(format!("send: {e}")));
            return Ended { dropped: None };
        }
    }
    let deadline = started + Duration::from_millis(shared.args.sync_timeout_ms);
    let mut reported = false;
    loop {
        let next = tokio::select! {
            next = ws.next() => next,
            _ = tokio::time::sleep_until(deadline), if !reported => {
                reported = true;
                let _ = joined.send(Joined::Failed("not synced in time".to_owned()));
                continue;
            }
            _ = leave.wait_for(|l| *l) => break,
        };
        match next {
            Some(Ok(Message::Binary(data))) => {
                if let Some(answer) = client.on_message(&data) {
                    let _ = ws.send(Message::Binary(answer.into())).await;
                }
                if client.synced && !reported {
                    reported = true;
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    let _ = joined.send(Joined::Synced {
                        ms,
                        bytes: client.sync_bytes,
                    });
                }
            }
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map_or(1005, |f| u16::from(f.code));
                if !reported {
                    let _ = joined.send(Joined::Failed(format!("closed before sync: {code}")));
                }
                return Ended {
                    dropped: Some(code),
                };
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                if !reported {
                    let _ = joined.send(Joined::Failed(format!("socket: {e}")));
                }
                return Ended {
                    dropped: Some(1006),
                };
            }
            None => {
                if !reported {
                    let _ = joined.send(Joined::Failed("socket ended before sync".to_owned()));
                }
                return Ended {
                    dropped: Some(1006),
                };
            }
        }
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = ws.close(None).await;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    Ended { dropped: None }
}

fn target_of(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("{url}: only ws:// URLs"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .parse()
        .map_err(|e| format!("{url}: the host must be an IP address and port ({e})"))
}

/// CPU time the main thread (where every client runs) has used, in ms: the first field
/// of `/proc/self/schedstat`, in ns.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e6)
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let target = target_of(&args.url)?;
    let n = args.clients;
    let shared = Arc::new(Shared {
        args,
        target,
        awareness_frames: AtomicU64::new(0),
    });
    let (joined_tx, mut joined_rx) = mpsc::unbounded_channel();
    let (leave_tx, leave_rx) = watch::channel(false);
    let started = Instant::now();
    let clients: Vec<_> = (0..n)
        .map(|i| tokio::spawn(run(shared.clone(), i, joined_tx.clone(), leave_rx.clone())))
        .collect();
    drop(joined_tx);

    let (mut sync_ms, mut sync_bytes) = (Vec::new(), Vec::new());
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    for _ in 0..n {
        match joined_rx.recv().await {
            Some(Joined::Synced { ms, bytes }) => {
                sync_ms.push(ms);
                sync_bytes.push(bytes);
            }
            Some(Joined::Failed(why)) => *failures.entry(why).or_default() += 1,
            None => break,
        }
    }
    print(serde_json::json!({
        "syncMs": sync_ms,
        "syncBytes": sync_bytes,
        "failures": failures,
        "allSyncedMs": started.elapsed().as_secs_f64() * 1000.0,
        "cpuMs": cpu_ms(),
    }));

    let mut commands = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = commands.next_line().await {
        match line.trim() {
            "awareness" => print(serde_json::json!({
                "awarenessFrames": shared.awareness_frames.load(Ordering::Relaxed),
            })),
            "leave" => break,
            other => eprintln!("storm-clients: unknown command {other:?}"),
        }
    }
    let leaving = Instant::now();
    let _ = leave_tx.send(true);
    let mut dropped = 0;
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    for client in clients {
        if let Ok(Ended {
            dropped: Some(code),
        }) = client.await
        {
            dropped += 1;
            *codes.entry(code.to_string()).or_default() += 1;
        }
    }
    print(serde_json::json!({
        "leaveMs": leaving.elapsed().as_secs_f64() * 1000.0,
        "dropped": dropped,
        "closeCodes": codes,
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            write_var(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_var(&out, &mut pos), Some(v));
            assert_eq!(pos, out.len());
        }
        assert_eq!(read_var(&[0x80], &mut 0), None, "truncated");
    }

    #[test]
    fn targets_are_read_from_ws_urls() {
        assert_eq!(
            target_of("ws://127.0.0.1:9000/ws/boards/x?token=t"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 9000)))
        );
        assert_eq!(
            target_of("ws://127.0.0.1:9000?x"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 9000)))
        );
        assert!(target_of("wss://127.0.0.1:9000/").is_err());
        assert!(target_of("ws://localhost:9000/").is_err());
    }
}
