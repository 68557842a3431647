//! Validated newtypes shared by every layer: board ids, user ids, roles, board names.
//!
//! Each type has a `parse` that is the only way to build it from outside input, so the
//! rest of the code can trust what it holds. This module does no I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest board name we accept, in characters.
pub const MAX_BOARD_NAME_CHARS: usize = 200;
/// Longest user id (the JWT `sub`) we accept, in bytes.
pub const MAX_USER_ID_BYTES: usize = 200;

/// Why a value from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A board id that is not a UUID.
    #[error("invalid board id {0:?}: expected a UUID")]
    BoardId(String),
    /// A user id that is empty, too long, or holds control characters.
    #[error("invalid user id: {0}")]
    UserId(&'static str),
    /// A role that is not `owner`, `editor` or `viewer`.
    #[error("invalid role {0:?}: expected owner, editor or viewer")]
    Role(String),
    /// A board name that is empty, too long, or holds control characters.
    #[error("invalid board name: {0}")]
    BoardName(&'static str),
}

/// The id of a board: a UUID, also the last path segment of its WebSocket URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BoardId(Uuid);

impl BoardId {
    /// A fresh, time-ordered board id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Parses a board id from text such as a URL segment.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Uuid::parse_str(s.trim())
            .map(Self)
            .map_err(|_| DomainError::BoardId(s.chars().take(64).collect()))
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// Wraps a UUID already parsed (such as a typed query parameter).
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }
}

impl Default for BoardId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for BoardId {
    fn from(u: Uuid) -> Self {
        Self(u)
    }
}

impl FromStr for BoardId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for BoardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of a user: the JWT `sub`. Built-in accounts use a UUID; external
/// identity providers may use any non-empty printable string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    /// Parses a user id: non-empty, at most [`MAX_USER_ID_BYTES`], no control characters.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.is_empty() {
            return Err(DomainError::UserId("must not be empty"));
        }
        if s.len() > MAX_USER_ID_BYTES {
            return Err(DomainError::UserId("longer than 200 bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(DomainError::UserId("contains control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<UserId> for String {
    fn from(u: UserId) -> Self {
        u.0
    }
}

impl FromStr for UserId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user's role on one board. Ordered by power: `Viewer < Editor < Owner`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May read the board and send awareness (cursors), never document updates.
    Viewer,
    /// May read and edit the board.
    Editor,
    /// May edit, manage members and share links, and delete the board.
    Owner,
}

impl Role {
    /// Parses `owner`, `editor` or `viewer` (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Self::Owner),
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            _ => Err(DomainError::Role(s.chars().take(32).collect())),
        }
    }

    /// The role's name as stored and sent on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }

    /// Whether this role may change the document.
    pub fn can_edit(&self) -> bool {
        *self >= Self::Editor
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A board's display name: trimmed, 1 to [`MAX_BOARD_NAME_CHARS`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BoardName(String);

impl BoardName {
    /// Parses a board name, trimming surrounding whitespace.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::BoardName("must not be empty"));
        }
        if s.chars().count() > MAX_BOARD_NAME_CHARS {
            return Err(DomainError::BoardName("longer than 200 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(DomainError::BoardName("contains control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BoardName {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BoardName> for String {
    fn from(n: BoardName) -> Self {
        n.0
    }
}

impl FromStr for BoardName {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for BoardName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_ids_round_trip_and_reject_garbage() {
        let id = BoardId::new();
        assert_eq!(BoardId::parse(&id.to_string()).unwrap(), id);
        assert!(matches!(
            BoardId::parse("nope"),
            Err(DomainError::BoardId(_))
        ));
        assert!(BoardId::parse("").is_err());
    }

    #[test]
    fn user_ids_are_bounded_and_printable() {
        assert_eq!(UserId::parse("alice").unwrap().as_str(), "alice");
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse(&"x".repeat(201)).is_err());
        assert!(UserId::parse("a\nb").is_err());
        assert!(UserId::parse(&"x".repeat(200)).is_ok());
    }

    #[test]
    fn roles_parse_and_order_by_power() {
        assert_eq!(Role::parse("Editor").unwrap(), Role::Editor);
        assert!(Role::parse("admin").is_err());
        assert!(Role::Owner > Role::Editor && Role::Editor > Role::Viewer);
        assert!(Role::Editor.can_edit() && !Role::Viewer.can_edit());
        for r in [Role::Owner, Role::Editor, Role::Viewer] {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
    }

    #[test]
    fn board_names_are_trimmed_and_bounded() {
        assert_eq!(BoardName::parse("  Plan  ").unwrap().as_str(), "Plan");
        assert!(BoardName::parse("   ").is_err());
        assert!(BoardName::parse(&"é".repeat(200)).is_ok());
        assert!(BoardName::parse(&"é".repeat(201)).is_err());
        assert!(BoardName::parse("a\u{0}b").is_err());
    }
}
