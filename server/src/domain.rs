//! Validated newtypes shared by every layer: ids, roles, and every string a client sends
//! (emails, passwords, display names, board and version names, search text, link secrets).
//!
//! Each type has a `parse` that is the only way to build it from outside input, and the
//! string types deserialize through it, so a request body or query that holds one is
//! checked before any handler runs. This is the one place that decides which characters
//! a client string may hold: no control characters anywhere (C0, DEL, C1, and the line and
//! paragraph separators), and in emails and names shown to other people no characters
//! that are invisible or change the text's direction ([`is_invisible`]). This module does
//! no I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest board name we accept, in characters.
pub const MAX_BOARD_NAME_CHARS: usize = 200;
/// Longest user id (the JWT `sub`) we accept, in bytes.
pub const MAX_USER_ID_BYTES: usize = 200;
/// Longest display name (an account's or a guest's), in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// Longest version name, in characters.
pub const MAX_VERSION_NAME_CHARS: usize = 200;
/// Longest search or filter text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Longest email address, in bytes.
pub const MAX_EMAIL_BYTES: usize = 320;
/// Shortest accepted new password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in characters (bounds the hashing work one request can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest share-link secret we look up, in characters.
pub const MAX_LINK_SECRET_CHARS: usize = 128;

/// Why a value from outside was refused. Messages never repeat a password.
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
    /// A board name that is empty, too long, or holds forbidden characters.
    #[error("invalid board name: {0}")]
    BoardName(&'static str),
    /// An email address that is malformed, too long, or holds forbidden characters.
    #[error("invalid email address: {0}")]
    Email(&'static str),
    /// A display name that is empty, too long, or holds forbidden characters.
    #[error("invalid name: {0}")]
    DisplayName(&'static str),
    /// A version name that is empty, too long, or holds forbidden characters.
    #[error("invalid version name: {0}")]
    VersionName(&'static str),
    /// Search or filter text that is too long or holds control characters.
    #[error("invalid search text: {0}")]
    SearchText(&'static str),
    /// A password that breaks the rules (the message never holds the password).
    #[error("password {0}")]
    Password(&'static str),
    /// A share-link secret that cannot be one.
    #[error("invalid link: {0}")]
    LinkSecret(&'static str),
}

/// Whether `c` is a control character: C0 (NUL, tab, newline...), DEL, C1, and the line
/// and paragraph separators U+2028/U+2029. No client string may hold one.
pub fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `c` is invisible or changes the direction of the text around it: the bidi
/// embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
/// U+061C), zero-width spaces and joiners (U+200B–U+200D, U+2060, U+FEFF), the invisible
/// operators and deprecated format characters (U+2061–U+2064, U+206A–U+206F), and the
/// invisible fillers used for blank-looking names (soft hyphen, combining grapheme joiner,
/// Hangul fillers, U+17B4/U+17B5, U+180E). Names shown to others refuse them, except the
/// two joiners between two non-ASCII visible characters, where emoji sequences and Persian
/// or Indic words need them.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// Checks text shown to other people: no control characters, and nothing invisible or
/// direction-changing, except a zero-width joiner or non-joiner between two non-ASCII
/// visible characters, where emoji sequences (👩‍💻) and Persian or Indic words need them.
/// Between ASCII letters a joiner only hides a look-alike ("ad\u{200D}min"), so it is refused.
fn check_visible(s: &str) -> Result<(), &'static str> {
    if s.chars().any(is_control) {
        return Err("contains control characters");
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !is_invisible(c) {
            continue;
        }
        let joins_non_ascii = (c == ZWJ || c == ZWNJ)
            && i > 0
            && [chars[i - 1], chars.get(i + 1).copied().unwrap_or('a')]
                .iter()
                .all(|n| !n.is_ascii() && !is_invisible(*n) && !n.is_whitespace());
        if !joins_non_ascii {
            return Err("contains invisible or direction-changing characters");
        }
    }
    Ok(())
}

/// Trims `s` and checks it is a visible name of 1 to `max` characters.
fn visible_name(s: &str, max: usize) -> Result<String, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.chars().count() > max {
        return Err("too long");
    }
    check_visible(s)?;
    Ok(s.to_owned())
}

/// The conversions every validated string type shares: deserializing and `FromStr` through
/// `parse`, `Display`, and back into a `String`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
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
        if s.chars().any(is_control) {
            return Err(DomainError::UserId("contains control characters"));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype!(UserId);

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

/// A board's display name: trimmed, 1 to [`MAX_BOARD_NAME_CHARS`] characters, nothing
/// control, invisible or direction-changing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BoardName(String);

impl BoardName {
    /// Parses a board name, trimming surrounding whitespace.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        visible_name(s, MAX_BOARD_NAME_CHARS)
            .map(Self)
            .map_err(|e| DomainError::BoardName(too_long_as(e, "longer than 200 characters")))
    }
}

string_newtype!(BoardName);

/// Says how long is too long in the message of a name's refusal.
fn too_long_as(e: &'static str, too_long: &'static str) -> &'static str {
    if e == "too long" { too_long } else { e }
}

/// A person's display name (an account's, a guest's): trimmed, 1 to
/// [`MAX_DISPLAY_NAME_CHARS`] characters, nothing control, invisible or direction-changing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a display name, trimming surrounding whitespace.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        visible_name(s, MAX_DISPLAY_NAME_CHARS)
            .map(Self)
            .map_err(|e| DomainError::DisplayName(too_long_as(e, "longer than 100 characters")))
    }
}

string_newtype!(DisplayName);

/// A named version's name: trimmed, 1 to [`MAX_VERSION_NAME_CHARS`] characters, nothing
/// control, invisible or direction-changing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VersionName(String);

impl VersionName {
    /// Parses a version name, trimming surrounding whitespace.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        visible_name(s, MAX_VERSION_NAME_CHARS)
            .map(Self)
            .map_err(|e| DomainError::VersionName(too_long_as(e, "longer than 200 characters")))
    }
}

string_newtype!(VersionName);

/// An email address, the login of an account: trimmed and lowercased, `local@domain` with
/// both parts non-empty, at most [`MAX_EMAIL_BYTES`], no whitespace, control, invisible or
/// direction-changing characters. The store applies the same rules to what it keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an email address, trimming and lowercasing it.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let email = s.trim().to_lowercase();
        if email.len() > MAX_EMAIL_BYTES {
            return Err(DomainError::Email("longer than 320 bytes"));
        }
        if email.chars().any(|c| is_control(c) || is_invisible(c)) {
            return Err(DomainError::Email(
                "contains control, invisible or direction-changing characters",
            ));
        }
        if email.chars().any(char::is_whitespace) {
            return Err(DomainError::Email("contains whitespace"));
        }
        match email.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(Self(email)),
            _ => Err(DomainError::Email("expected name@domain")),
        }
    }
}

string_newtype!(Email);

/// Text to search or filter by, from a query string (`?q=`, `?action=`): at most
/// [`MAX_SEARCH_CHARS`] characters and no control characters. It is matched against
/// stored text, never shown to others, so it may hold anything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SearchText(String);

impl SearchText {
    /// Parses search text as given (not trimmed: it is matched as typed).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.chars().count() > MAX_SEARCH_CHARS {
            return Err(DomainError::SearchText("longer than 200 characters"));
        }
        if s.chars().any(is_control) {
            return Err(DomainError::SearchText("contains control characters"));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype!(SearchText);

/// A share link's secret as a client presents it (a path segment): 1 to
/// [`MAX_LINK_SECRET_CHARS`] URL-safe base64 characters, as `auth` makes them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct LinkSecret(String);

impl LinkSecret {
    /// Parses a link secret.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.is_empty() || s.chars().count() > MAX_LINK_SECRET_CHARS {
            return Err(DomainError::LinkSecret("not a link this server made"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(DomainError::LinkSecret(
                "a link holds only letters, digits, - and _",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The secret as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LinkSecret {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

/// A password as a client gives it: 1 to [`MAX_PASSWORD_CHARS`] characters, any of them
/// printable (spaces, any script, emoji, invisible characters: it is never shown), no
/// control characters (NUL, tab, newline...), which no keyboard types into a password
/// field. Checked at login as at sign-up. Never printed: `Debug` shows `[redacted]`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    /// Parses a password as given (not trimmed: spaces count).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.is_empty() {
            return Err(DomainError::Password("must not be empty"));
        }
        if s.chars().count() > MAX_PASSWORD_CHARS {
            return Err(DomainError::Password("must be at most 256 characters"));
        }
        if s.chars().any(is_control) {
            return Err(DomainError::Password(
                "must not contain control characters (such as NUL, tab or newline)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The password itself: only to hash or verify it, never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Password {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A password chosen for a new account: a [`Password`] of at least [`MIN_PASSWORD_CHARS`]
/// characters that is not only whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct NewPassword(Password);

impl NewPassword {
    /// Parses a new password against the policy.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let password = Password::parse(s)?;
        if s.chars().count() < MIN_PASSWORD_CHARS {
            return Err(DomainError::Password("must be at least 8 characters"));
        }
        if s.chars().all(char::is_whitespace) {
            return Err(DomainError::Password("must not be only whitespace"));
        }
        Ok(Self(password))
    }

    /// The password itself: only to hash it, never to print it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl TryFrom<String> for NewPassword {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
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
        assert!(BoardName::parse("\u{202e}nalP").is_err());
        assert!(BoardName::parse("Pl\u{200b}an").is_err());
    }

    /// Every kind of character the rules treat differently, in one place.
    const CONTROLS: [&str; 8] = [
        "\u{0}", "\t", "\n", "\r", "\u{1b}", "\u{7f}", "\u{85}", "\u{2028}",
    ];
    const INVISIBLES: [&str; 12] = [
        "\u{202e}", "\u{202a}", "\u{2066}", "\u{2069}", "\u{200e}", "\u{200f}", "\u{61c}",
        "\u{200b}", "\u{2060}", "\u{feff}", "\u{ad}", "\u{3164}",
    ];

    #[test]
    fn names_refuse_control_and_invisible_characters_anywhere() {
        for bad in CONTROLS.iter().chain(&INVISIBLES) {
            let name = format!("Ann{bad}a");
            assert!(DisplayName::parse(&name).is_err(), "{name:?}");
            assert!(BoardName::parse(&name).is_err(), "{name:?}");
            assert!(VersionName::parse(&name).is_err(), "{name:?}");
            if !bad.chars().all(char::is_whitespace) {
                assert!(
                    DisplayName::parse(&format!("{bad}Anna")).is_err(),
                    "{bad:?}"
                );
            }
        }
        for bad in [
            "ad\u{200d}min",
            "ad\u{200c}min",
            "\u{200d}😀",
            "😀\u{200d}",
            "é\u{200d}\u{200d}é",
        ] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_accept_every_script_and_emoji_sequences() {
        for good in [
            "Zoë",
            "José Ñúñez",
            "計画",
            "خطة العمل",
            "שלום",
            "Москва",
            "👩\u{200d}💻 dev",
            "می\u{200c}خواهم",
            "क्\u{200d}ष",
            "🎨",
        ] {
            assert_eq!(DisplayName::parse(good).unwrap().as_str(), good);
            assert_eq!(BoardName::parse(good).unwrap().as_str(), good);
            assert_eq!(VersionName::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(DisplayName::parse("  Ann  ").unwrap().as_str(), "Ann");
        assert!(DisplayName::parse(" ").is_err());
        assert!(DisplayName::parse(&"x".repeat(100)).is_ok());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(VersionName::parse(&"é".repeat(200)).is_ok());
        assert!(VersionName::parse(&"é".repeat(201)).is_err());
    }

    #[test]
    fn emails_are_normalised_and_plain() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert!(Email::parse("zoë@exämple.com").is_ok());
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a da@example.com",
            "a\u{0}@example.com",
            "a@exa\u{202e}mple.com",
            "a\u{200b}@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "x".repeat(320));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn search_text_refuses_only_control_characters() {
        assert_eq!(SearchText::parse("").unwrap().as_str(), "");
        assert_eq!(SearchText::parse(" road ").unwrap().as_str(), " road ");
        assert!(SearchText::parse("board.create").is_ok());
        assert!(
            SearchText::parse("\u{200b}").is_ok(),
            "may look for anything stored"
        );
        for bad in CONTROLS {
            assert!(SearchText::parse(&format!("a{bad}b")).is_err(), "{bad:?}");
        }
        assert!(SearchText::parse(&"x".repeat(200)).is_ok());
        assert!(SearchText::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn link_secrets_are_url_safe_base64() {
        assert!(LinkSecret::parse("YmsDXzfwOVrZSRSa89u8h4a_N7R9hUJdlZG-KqhsuD0").is_ok());
        for bad in ["", "a b", "a\u{0}b", "a/b", "a.b", "é", &"x".repeat(129)] {
            assert!(LinkSecret::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_may_hold_any_printable_character_but_no_control_character() {
        for good in [
            "12345678",
            "pässwörd",
            "correct horse battery",
            "  spaced  ",
            "🔑🔑🔑🔑🔑🔑🔑🔑",
            "\u{202e}reversed!",
        ] {
            assert_eq!(NewPassword::parse(good).unwrap().expose(), good);
        }
        assert!(NewPassword::parse(&"x".repeat(256)).is_ok());
        for bad in ["", "1234567", "        ", &"x".repeat(257)] {
            assert!(NewPassword::parse(bad).is_err(), "{bad:?}");
        }
        for bad in CONTROLS {
            let pw = format!("password{bad}123");
            assert!(NewPassword::parse(&pw).is_err(), "{pw:?}");
            assert!(Password::parse(&pw).is_err(), "{pw:?}");
        }
        assert!(
            Password::parse("short").is_ok(),
            "login takes any length the policy ever allowed"
        );
        let e = NewPassword::parse("hunter2").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(
            format!("{:?}", Password::parse("hunter22").unwrap()),
            "[redacted]"
        );
        assert!(!format!("{:?}", NewPassword::parse("hunter22").unwrap()).contains("hunter"));
    }

    #[test]
    fn strings_deserialize_through_their_checks() {
        let ok: DisplayName = serde_json::from_str("\"Ann\"").unwrap();
        assert_eq!(ok.as_str(), "Ann");
        for bad in ["\"A\\u0000\"", "\"\\u202eA\""] {
            assert!(serde_json::from_str::<DisplayName>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<BoardName>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<NewPassword>("\"short\"").is_err());
        assert!(serde_json::from_str::<Email>("\"nobody\"").is_err());
    }
}
