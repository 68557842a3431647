//! The change feed's data: the access changes the store records, how they are encoded in
//! the `access_events` table, and the wake-ups a backend may push when one is recorded.
//!
//! Owns [`Event`] (one row's payload: small JSON, tagged by kind), [`FeedEvent`] (a row as
//! read back), [`Notice`] (what a notification on the `easel_events` channel says) and the
//! [`Subscription`] a backend hands out. Every write that changes who may do what records
//! its event in the same transaction as the change (see `common.rs`); reading the feed and
//! acting on it is the `feed` module's job. Knows nothing of rooms, sockets or HTTP.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Millis, Result};
use crate::domain::{BoardId, Role, UserId};

/// The Postgres notification channel the change feed announces new rows on.
pub const CHANNEL: &str = "easel_events";

/// A change to who may do what, as recorded in the change feed. Each carries the state
/// after the change (not a difference), so applying one twice is the same as once, and
/// applying the feed in order leaves live connections as the store says they should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Event {
    /// A user's membership of a board: their role from now on, `None` once removed.
    Member {
        /// The board.
        #[serde(rename = "b")]
        board: BoardId,
        /// The user.
        #[serde(rename = "u")]
        user: UserId,
        /// Their role now.
        #[serde(rename = "r")]
        role: Option<Role>,
    },
    /// A share link was deleted: guests who came through it lose what it gave them.
    LinkRevoked {
        /// The board it opened.
        #[serde(rename = "b")]
        board: BoardId,
        /// The link.
        #[serde(rename = "l")]
        link: Uuid,
    },
    /// An account was disabled (`true`) or enabled again.
    UserDisabled {
        /// The account.
        #[serde(rename = "u")]
        user: UserId,
        /// Whether it is disabled now.
        #[serde(rename = "d")]
        disabled: bool,
    },
    /// An account's administrator flag changed.
    Admin {
        /// The account.
        #[serde(rename = "u")]
        user: UserId,
        /// Whether it is an administrator now.
        #[serde(rename = "a")]
        admin: bool,
    },
    /// A token was revoked before it expired (its holder logged out).
    TokenRevoked {
        /// The user the token names.
        #[serde(rename = "u")]
        user: UserId,
        /// The token's id (`jti`).
        #[serde(rename = "j")]
        jti: String,
    },
    /// A board was deleted with everything on it.
    BoardDeleted {
        /// The board.
        #[serde(rename = "b")]
        board: BoardId,
    },
    /// A kind this version does not know (written by a newer one) or a payload that does not
    /// decode: readers skip it.
    #[serde(other)]
    Unknown,
}

impl Event {
    /// The payload stored in the feed's row.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"k":"unknown"}"#.to_owned())
    }

    /// Reads a stored payload back; anything it cannot read is [`Event::Unknown`].
    pub fn decode(payload: &str) -> Self {
        serde_json::from_str(payload).unwrap_or(Event::Unknown)
    }
}

/// One row of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// Its id: increasing in the order the changes committed.
    pub id: i64,
    /// When it was recorded.
    pub at: Millis,
    /// The change.
    pub event: Event,
}

/// What a notification on [`CHANNEL`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The feed row with this id committed.
    Event(i64),
    /// A board's log grew: its rows up to `seq` committed (payload `u:<board>:<seq>`).
    Log {
        /// The board.
        board: BoardId,
        /// Its last sequence number now.
        seq: i64,
    },
    /// A message one process relays to the others (payload `r:<message>`); opaque here.
    Relay(String),
    /// A payload this version does not know: ignored (kinds added later must not confuse
    /// older nodes sharing the database).
    Other,
}

/// The prefix of a [`Notice::Log`] payload.
pub const LOG_PREFIX: &str = "u:";

/// The prefix of a [`Notice::Relay`] payload.
pub const RELAY_PREFIX: &str = "r:";

impl Notice {
    /// Parses a notification's payload.
    pub fn parse(payload: &str) -> Self {
        if let Some(rest) = payload.strip_prefix(LOG_PREFIX) {
            let parsed = rest.split_once(':').and_then(|(board, seq)| {
                Some(Notice::Log {
                    board: BoardId::parse(board).ok()?,
                    seq: seq.parse().ok()?,
                })
            });
            return parsed.unwrap_or(Notice::Other);
        }
        if let Some(rest) = payload.strip_prefix(RELAY_PREFIX) {
            return Notice::Relay(rest.to_owned());
        }
        payload.trim().parse().map_or(Notice::Other, Notice::Event)
    }
}

/// Wake-ups pushed by the database when a feed row commits, on a connection of their own.
#[async_trait]
pub trait Subscription: Send {
    /// Waits for the next notification. An error means the connection was lost and
    /// notifications may have been missed: drop this subscription, open a new one, and
    /// read the feed from the last id applied.
    async fn next(&mut self) -> Result<Notice>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_small_payloads() {
        let board = BoardId::new();
        let user = UserId::parse("alice").unwrap();
        let events = [
            Event::Member {
                board,
                user: user.clone(),
                role: Some(Role::Editor),
            },
            Event::Member {
                board,
                user: user.clone(),
                role: None,
            },
            Event::LinkRevoked {
                board,
                link: Uuid::new_v4(),
            },
            Event::UserDisabled {
                user: user.clone(),
                disabled: true,
            },
            Event::Admin {
                user: user.clone(),
                admin: false,
            },
            Event::TokenRevoked {
                user: user.clone(),
                jti: "0f9c2a".into(),
            },
            Event::BoardDeleted { board },
        ];
        for event in events {
            let payload = event.encode();
            assert!(payload.len() < 120, "{payload}");
            assert_eq!(Event::decode(&payload), event, "{payload}");
        }
        assert_eq!(
            Event::Member {
                board,
                user,
                role: Some(Role::Viewer)
            }
            .encode(),
            format!(r#"{{"k":"member","b":"{board}","u":"alice","r":"viewer"}}"#)
        );
    }

    #[test]
    fn what_cannot_be_read_is_unknown() {
        for payload in [
            r#"{"k":"board_log","b":"x","s":12}"#,
            r#"{"k":"member","b":"not-a-uuid","u":"alice","r":null}"#,
            r#"{"k":"admin","u":"","a":true}"#,
            "not json",
            "",
        ] {
            assert_eq!(Event::decode(payload), Event::Unknown, "{payload}");
        }
    }

    #[test]
    fn notices_carry_the_row_id() {
        assert_eq!(Notice::parse("42"), Notice::Event(42));
        assert_eq!(Notice::parse(" 7\n"), Notice::Event(7));
        assert_eq!(Notice::parse("board 1 12"), Notice::Other);
        assert_eq!(Notice::parse(""), Notice::Other);
    }

    #[test]
    fn notices_of_a_log_and_relayed_messages() {
        let board = BoardId::new();
        assert_eq!(
            Notice::parse(&format!("u:{board}:17")),
            Notice::Log { board, seq: 17 }
        );
        assert_eq!(Notice::parse("u:not-a-board:17"), Notice::Other);
        assert_eq!(Notice::parse(&format!("u:{board}:x")), Notice::Other);
        assert_eq!(
            Notice::parse("r:a|anything:at all"),
            Notice::Relay("a|anything:at all".into())
        );
    }
}
