//! Talk between the processes serving one store: what one process's rooms tell the
//! others' beyond the board's log, which the rooms follow on their own.
//!
//! Owns the messages (a room's presence, and a new room's question for everyone's
//! presence), their text form, this process's [`NodeId`], and the publisher task that
//! hands them to the store (Postgres `NOTIFY`, read back by every process's change-feed
//! listener) without ever making a room wait: relaying is best effort, a full queue drops
//! the message. A faster path (Redis) would be another publisher and listener behind the
//! same [`Relay`] and [`PeerMessage`]. Knows nothing of SQL, sockets or rooms' insides.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;
use yrs::sync::AwarenessUpdate;
use yrs::updates::encoder::Encode;

use crate::domain::BoardId;
use crate::metrics::metrics;
use crate::protocol::decode_awareness;
use crate::store::Store;

/// The longest message relayed: Postgres refuses notifications of 8,000 bytes or more.
pub const MAX_MESSAGE: usize = 7_800;

/// Messages waiting for the publisher before new ones are dropped.
const QUEUE: usize = 1_024;

/// Most messages handed to the store in one round trip.
const BATCH: usize = 64;

/// Identifies one running process among those sharing a store (new at every start).
pub type NodeId = Uuid;

/// What one process tells the others about a board.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerMessage {
    /// Presence of the sender's members: changes, or all of them as a refresh.
    Awareness {
        /// The sender.
        node: NodeId,
        /// The board.
        board: BoardId,
        /// The states (removals as `null`).
        update: AwarenessUpdate,
    },
    /// The sender just opened a room for the board: everyone with one relays its presence.
    Query {
        /// The sender.
        node: NodeId,
        /// The board.
        board: BoardId,
    },
}

impl PeerMessage {
    /// The process that sent it.
    pub fn node(&self) -> NodeId {
        match self {
            PeerMessage::Awareness { node, .. } | PeerMessage::Query { node, .. } => *node,
        }
    }

    /// The board it is about.
    pub fn board(&self) -> BoardId {
        match self {
            PeerMessage::Awareness { board, .. } | PeerMessage::Query { board, .. } => *board,
        }
    }

    /// Its text forms: `q|node|board`, or `a|node|board|base64` for presence, split into
    /// several messages when one would be too long (a single state too long to relay is
    /// left out).
    pub fn encode(&self) -> Vec<String> {
        match self {
            PeerMessage::Query { node, board } => vec![format!("q|{node}|{board}")],
            PeerMessage::Awareness {
                node,
                board,
                update,
            } => {
                let head = format!("a|{node}|{board}|");
                let whole = encoded(&head, update);
                if whole.len() <= MAX_MESSAGE {
                    return vec![whole];
                }
                update
                    .clients
                    .iter()
                    .map(|(id, entry)| {
                        let one = AwarenessUpdate {
                            clients: [(*id, entry.clone())].into(),
                        };
                        encoded(&head, &one)
                    })
                    .filter(|m| m.len() <= MAX_MESSAGE)
                    .collect()
            }
        }
    }

    /// Reads a message back; `None` for anything malformed or unknown.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(4, '|');
        let kind = parts.next()?;
        let node = Uuid::parse_str(parts.next()?).ok()?;
        let board = BoardId::parse(parts.next()?).ok()?;
        match (kind, parts.next()) {
            ("q", None) => Some(PeerMessage::Query { node, board }),
            ("a", Some(data)) => {
                let bytes = STANDARD_NO_PAD.decode(data).ok()?;
                let update = decode_awareness(&bytes, MAX_MESSAGE).ok()?;
                Some(PeerMessage::Awareness {
                    node,
                    board,
                    update,
                })
            }
            _ => None,
        }
    }
}

fn encoded(head: &str, update: &AwarenessUpdate) -> String {
    let mut text = String::from(head);
    STANDARD_NO_PAD.encode_string(update.encode_v1(), &mut text);
    text
}

/// A room's way to tell the other processes; cheap to clone, never waits.
#[derive(Clone)]
pub struct Relay {
    node: NodeId,
    tx: mpsc::Sender<String>,
}

impl Relay {
    /// Relays the presence of this process's members of `board`.
    pub fn awareness(&self, board: BoardId, update: AwarenessUpdate) {
        self.send(PeerMessage::Awareness {
            node: self.node,
            board,
            update,
        });
    }

    /// Asks the processes with a room for `board` to relay their members' presence.
    pub fn query(&self, board: BoardId) {
        self.send(PeerMessage::Query {
            node: self.node,
            board,
        });
    }

    fn send(&self, message: PeerMessage) {
        for text in message.encode() {
            if self.tx.try_send(text).is_err() {
                metrics().relay_dropped.inc();
            }
        }
    }
}

/// Starts the publisher for this process (`node`): it hands every message relayed to the
/// store, in order, those queued together in one round trip, and ends once every
/// [`Relay`] is dropped and its queue is empty.
pub fn start(store: Arc<dyn Store>, node: NodeId) -> (Relay, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
    let task = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            if let Err(e) = store.relay(&batch).await {
                metrics().relay_dropped.inc_by(batch.len() as u64);
                tracing::debug!(error = %crate::telemetry::chain(&e), "relaying to other processes failed");
            }
            batch.clear();
        }
    });
    (Relay { node, tx }, task)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc as StdArc;

    use yrs::ClientID;
    use yrs::sync::awareness::AwarenessUpdateEntry;

    use super::*;

    fn update(states: &[(u64, &str)]) -> AwarenessUpdate {
        AwarenessUpdate {
            clients: states
                .iter()
                .map(|(id, json)| {
                    (
                        ClientID::new(*id),
                        AwarenessUpdateEntry {
                            clock: 1,
                            json: StdArc::from(*json),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn messages_round_trip() {
        let (node, board) = (Uuid::new_v4(), BoardId::new());
        let query = PeerMessage::Query { node, board };
        assert_eq!(
            PeerMessage::decode(&query.encode()[0]).as_ref(),
            Some(&query)
        );
        let presence = PeerMessage::Awareness {
            node,
            board,
            update: update(&[(1, r#"{"n":"Ada"}"#), (2, "null")]),
        };
        let texts = presence.encode();
        assert_eq!(texts.len(), 1);
        assert_eq!(PeerMessage::decode(&texts[0]), Some(presence));
    }

    #[test]
    fn long_presence_is_split_and_a_state_too_long_is_left_out() {
        let (node, board) = (Uuid::new_v4(), BoardId::new());
        let big = format!(r#"{{"n":"{}"}}"#, "x".repeat(3_000));
        let huge = format!(r#"{{"n":"{}"}}"#, "x".repeat(MAX_MESSAGE));
        let states: Vec<(u64, &str)> = vec![(1, &big), (2, &big), (3, &big), (4, &huge)];
        let texts = PeerMessage::Awareness {
            node,
            board,
            update: update(&states),
        }
        .encode();
        assert_eq!(texts.len(), 3);
        let mut ids: Vec<u64> = texts
            .iter()
            .map(|t| {
                assert!(t.len() <= MAX_MESSAGE);
                match PeerMessage::decode(t) {
                    Some(PeerMessage::Awareness { update, .. }) => {
                        update.clients.keys().next().unwrap().get()
                    }
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        ids.sort();
        assert_eq!(ids, [1, 2, 3]);
    }

    #[test]
    fn malformed_messages_are_refused() {
        let (node, board) = (Uuid::new_v4(), BoardId::new());
        for text in [
            String::new(),
            "q".into(),
            format!("q|{node}"),
            format!("q|nope|{board}"),
            format!("x|{node}|{board}"),
            format!("a|{node}|{board}"),
            format!("a|{node}|{board}|!!!"),
            format!("a|{node}|{board}|BQ"),
        ] {
            assert_eq!(PeerMessage::decode(&text), None, "{text}");
        }
    }
}
