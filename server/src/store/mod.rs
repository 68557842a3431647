//! Durable storage of boards, members, users, board documents, the images placed on boards,
//! share links, the audit log, revoked tokens and the change feed of access changes.
//!
//! Owns the [`Store`] trait, its data types and [`StoreError`], and the two backends
//! (Postgres for production and multi-node, SQLite embedded). Every write that changes who
//! may do what records an [`Event`] in the change feed in the same transaction. It deals
//! in bytes: it knows nothing of yrs, WebSockets or HTTP. Every backend passes the same
//! contract suite (`tests/tests/store_contract.rs`).

mod common;
mod events;
mod postgres;
mod sql;
mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Serialize;
use uuid::Uuid;

use crate::config::{Config, Database};
use crate::domain::{BoardId, BoardName, DomainError, Role, UserId};
use crate::image::{asset_id, is_asset_id};

pub use events::{CHANNEL, Event, FeedEvent, LOG_PREFIX, Notice, RELAY_PREFIX, Subscription};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Most rows one page of a listing may hold.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Most updates one `append_updates` call may carry.
pub const MAX_APPEND_BATCH: usize = 10_000;
/// Longest version label, in characters.
pub const MAX_VERSION_LABEL_CHARS: usize = 200;
/// Most boards one query of `roles_on` asks about; longer lists are split (bind-parameter limits).
const ROLES_ON_CHUNK: usize = 1000;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named thing (board, member, user, version, link) does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The thing already exists (a member already on the board, an email already registered).
    #[error("{0}")]
    Conflict(&'static str),
    /// The change would leave a board without an owner.
    #[error("a board must keep at least one owner")]
    LastOwner,
    /// The board already holds this many named versions, the most allowed.
    #[error("the board already holds {0} versions, the most allowed")]
    TooManyVersions(u32),
    /// Storing the asset would make the board's assets take more than this many bytes.
    #[error("the board's images would take more than {0} bytes, the most allowed")]
    AssetsFull(u64),
    /// The input breaks a rule the store enforces.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The database could not be reached (connection refused, pool timeout, I/O error).
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The database answered with an error.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite data directory or database file could not be created or made private.
    #[error("cannot create the data directory or the database file")]
    DataDir(#[source] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound("row"),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => StoreError::Unavailable(e),
            sqlx::Error::Database(ref db) if is_unavailable_code(db.code().as_deref()) => {
                StoreError::Unavailable(e)
            }
            other => StoreError::Database(other),
        }
    }
}

impl From<DomainError> for StoreError {
    fn from(e: DomainError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

/// Postgres "cannot connect now", admin shutdown and friends; SQLite busy/locked.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "53300" | "5" | "6")
    )
}

impl StoreError {
    /// Whether retrying later may succeed (the database was unreachable).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch: how every timestamp is stored.
pub type Millis = i64;

/// The current time in [`Millis`].
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A board's metadata (its document lives in the log and snapshots).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Board {
    /// The board's id.
    pub id: BoardId,
    /// Its display name.
    pub name: String,
    /// The user who created it.
    pub owner: UserId,
    /// When it was created.
    pub created_at: Millis,
    /// Last change to its metadata or its document.
    pub updated_at: Millis,
    /// When it was archived, if it is.
    pub archived_at: Option<Millis>,
    /// Sequence number of the last update appended to its log (0 if none).
    pub last_seq: i64,
}

/// What creating a board needs.
#[derive(Debug, Clone)]
pub struct NewBoard {
    /// The id to give it (callers choose, so retries are idempotent).
    pub id: BoardId,
    /// Its name.
    pub name: BoardName,
    /// Its creator, who becomes its first owner.
    pub owner: UserId,
}

/// Which boards a listing includes, by archive state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArchivedFilter {
    /// Only boards that are not archived.
    #[default]
    Exclude = 0,
    /// Archived and active boards alike.
    Include = 1,
    /// Only archived boards.
    Only = 2,
}

/// Where a board listing resumes: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardCursor {
    /// `updated_at` of the last row seen.
    pub updated_at: Millis,
    /// `id` of the last row seen.
    pub id: BoardId,
}

impl BoardCursor {
    /// Opaque text for clients to hand back.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.updated_at, self.id.as_uuid().simple())
    }

    /// Parses what [`BoardCursor::encode`] produced.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::Invalid("malformed cursor".into());
        let (ms, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(Self {
            updated_at: ms.parse().map_err(|_| bad())?,
            id: BoardId::parse(id).map_err(|_| bad())?,
        })
    }
}

/// A board listing request. Results are sorted by `updated_at` descending, then id.
#[derive(Debug, Clone, Default)]
pub struct BoardQuery {
    /// Only boards this user is a member of.
    pub member: Option<UserId>,
    /// Only boards whose name contains this text (case-insensitive).
    pub name_contains: Option<String>,
    /// Archive filter.
    pub archived: ArchivedFilter,
    /// Page size, 1..=[`MAX_PAGE_SIZE`] (0 means the default of 50).
    pub limit: u32,
    /// Resume after this row.
    pub after: Option<BoardCursor>,
}

impl BoardQuery {
    fn page_size(&self) -> Result<u32> {
        match self.limit {
            0 => Ok(50),
            n if n <= MAX_PAGE_SIZE => Ok(n),
            n => Err(StoreError::Invalid(format!(
                "page size {n} exceeds {MAX_PAGE_SIZE}"
            ))),
        }
    }

    fn name_pattern(&self) -> Option<String> {
        self.name_contains.as_deref().map(|s| {
            let escaped = s
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        })
    }
}

/// One page of boards.
#[derive(Debug, Clone)]
pub struct BoardPage {
    /// The boards on this page.
    pub items: Vec<Board>,
    /// Where the next page starts, if there is one.
    pub next: Option<BoardCursor>,
}

impl BoardPage {
    fn from_rows(mut items: Vec<Board>, page_size: u32) -> Self {
        let next = if items.len() > page_size as usize {
            items.truncate(page_size as usize);
            items.last().map(|b| BoardCursor {
                updated_at: b.updated_at,
                id: b.id,
            })
        } else {
            None
        };
        Self { items, next }
    }
}

/// A user's membership of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The user.
    pub user: UserId,
    /// Their role on the board.
    pub role: Role,
    /// When they were added.
    pub added_at: Millis,
}

/// The sequence numbers given to one appended batch, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    /// The first update's sequence number.
    pub first: i64,
    /// The last update's sequence number.
    pub last: i64,
}

/// A compacted state of a board's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The last log sequence number this state includes.
    pub seq: i64,
    /// The encoded state (a yrs update; opaque here).
    pub state: Vec<u8>,
    /// Which update encoding `state` is in.
    pub encoding: Encoding,
}

/// The yrs update encoding a snapshot's bytes are in; the store only records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The v1 encoding, the one on the wire and in the log.
    V1,
    /// The v2 encoding: smaller on real documents.
    V2,
}

impl Encoding {
    /// The name the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::V1 => "v1",
            Encoding::V2 => "v2",
        }
    }

    /// Reads a stored name back.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "v1" => Ok(Encoding::V1),
            "v2" => Ok(Encoding::V2),
            other => Err(StoreError::Invalid(format!(
                "unknown snapshot encoding {other:?}"
            ))),
        }
    }
}

/// One update from a board's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedUpdate {
    /// Its sequence number.
    pub seq: i64,
    /// The update bytes (yrs v1 update encoding; opaque here).
    pub data: Vec<u8>,
}

/// Everything needed to rebuild a board's document: the latest snapshot, then the log after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredDoc {
    /// The latest snapshot, if any.
    pub snapshot: Option<Snapshot>,
    /// Every update after the snapshot, in sequence order.
    pub updates: Vec<LoggedUpdate>,
    /// The board's last sequence number.
    pub last_seq: i64,
}

/// A named, saved state of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// The version's id.
    pub id: Uuid,
    /// The board it belongs to.
    pub board: BoardId,
    /// Its label.
    pub label: String,
    /// The log sequence number its state covers.
    pub seq: i64,
    /// Who saved it, if known.
    pub created_by: Option<UserId>,
    /// When it was saved.
    pub created_at: Millis,
}

/// What saving a version needs.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// The board.
    pub board: BoardId,
    /// The label, 1..=[`MAX_VERSION_LABEL_CHARS`] characters.
    pub label: &'a str,
    /// The log sequence number the state covers.
    pub seq: i64,
    /// The encoded state.
    pub state: &'a [u8],
    /// Who saves it.
    pub created_by: Option<&'a UserId>,
}

impl NewVersion<'_> {
    fn validated_label(&self) -> Result<String> {
        let label = self.label.trim();
        if label.is_empty() || label.chars().count() > MAX_VERSION_LABEL_CHARS {
            return Err(StoreError::Invalid(format!(
                "version label must be 1 to {MAX_VERSION_LABEL_CHARS} characters"
            )));
        }
        Ok(label.to_owned())
    }
}

/// A built-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The user id (the JWT `sub`).
    pub id: UserId,
    /// Email, stored lowercased; unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// The argon2 hash of the password, if the account has one.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Whether the user is an administrator.
    pub admin: bool,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: Millis,
}

/// What creating an account needs.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The id to give it.
    pub id: UserId,
    /// Email (lowercased by the store).
    pub email: String,
    /// Display name.
    pub name: String,
    /// The password hash, if any.
    pub password_hash: Option<String>,
    /// Whether the user is an administrator.
    pub admin: bool,
}

impl NewUser {
    fn normalized_email(&self) -> Result<String> {
        let email = self.email.trim().to_lowercase();
        let valid = email.len() <= 320
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(StoreError::Invalid("email address is malformed".into()));
        }
        Ok(email)
    }
}

/// A user listing request, in id order.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Page size, 1..=[`MAX_PAGE_SIZE`] (0 means 50).
    pub limit: u32,
    /// Resume after this user id.
    pub after: Option<UserId>,
}

/// One page of users.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// The users on this page.
    pub items: Vec<User>,
    /// The id to pass as `after` for the next page, if there is one.
    pub next: Option<UserId>,
}

impl UserPage {
    fn from_rows(mut items: Vec<User>, page_size: u32) -> Self {
        let next = if items.len() > page_size as usize {
            items.truncate(page_size as usize);
            items.last().map(|u| u.id.clone())
        } else {
            None
        };
        Self { items, next }
    }
}

/// The image types a board may hold, by MIME type: the raster images every browser shows.
pub const ASSET_MIME_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// An image stored for a board (its bytes come with [`Store::get_asset`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asset {
    /// The board it belongs to.
    pub board: BoardId,
    /// Its id: the SHA-256 of its bytes, in lowercase hex ([`asset_id`]).
    pub id: String,
    /// Its MIME type, one of [`ASSET_MIME_TYPES`].
    pub mime: String,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// How many bytes it takes.
    pub size: i64,
    /// When it was first stored.
    pub created_at: Millis,
}

/// What storing an image needs. The store does not look inside the bytes: the caller has
/// checked they are an image of this type and size.
#[derive(Debug, Clone)]
pub struct NewAsset<'a> {
    /// The board it belongs to.
    pub board: BoardId,
    /// Its MIME type, one of [`ASSET_MIME_TYPES`].
    pub mime: &'a str,
    /// Its width in pixels (> 0).
    pub width: u32,
    /// Its height in pixels (> 0).
    pub height: u32,
    /// The image file (not empty).
    pub bytes: &'a [u8],
}

impl NewAsset<'_> {
    fn validate(&self) -> Result<()> {
        if !ASSET_MIME_TYPES.contains(&self.mime) {
            return Err(StoreError::Invalid(format!(
                "unsupported asset type {:?}",
                self.mime
            )));
        }
        if self.width == 0
            || self.height == 0
            || self.width > i32::MAX as u32
            || self.height > i32::MAX as u32
        {
            return Err(StoreError::Invalid(format!(
                "asset dimensions {}x{} out of range",
                self.width, self.height
            )));
        }
        if self.bytes.is_empty() {
            return Err(StoreError::Invalid("an asset must not be empty".into()));
        }
        Ok(())
    }
}

/// A link that lets whoever holds its token join a board. Its token is never stored, only
/// a hash of it, and is not part of this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareLink {
    /// The link's id.
    pub id: Uuid,
    /// The board it opens.
    pub board: BoardId,
    /// The role it grants: editor or viewer, never owner.
    pub role: Role,
    /// Who created it, if known.
    pub created_by: Option<UserId>,
    /// When it was created.
    pub created_at: Millis,
    /// When it stops working, if ever.
    pub expires_at: Option<Millis>,
}

/// What creating a share link needs.
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    /// The id to give it.
    pub id: Uuid,
    /// The board it opens.
    pub board: BoardId,
    /// A hash of its token (unique across all links).
    pub token_hash: &'a [u8],
    /// The role it grants; [`Role::Owner`] is refused.
    pub role: Role,
    /// Who creates it.
    pub created_by: Option<&'a UserId>,
    /// When it stops working, if ever.
    pub expires_at: Option<Millis>,
}

impl NewLink<'_> {
    fn validated_role(&self) -> Result<Role> {
        link_role(self.role)
    }
}

/// Refuses a role no share link may grant.
fn link_role(role: Role) -> Result<Role> {
    if role == Role::Owner {
        return Err(StoreError::Invalid(
            "a share link cannot grant the owner role".into(),
        ));
    }
    Ok(role)
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Its id, increasing with time.
    pub id: i64,
    /// When it happened.
    pub at: Millis,
    /// Who did it (a user id, or a name such as `cli`), if known.
    pub actor: Option<String>,
    /// What was done, such as `board.delete`.
    pub action: String,
    /// The board it concerns, if any (the board may since have been deleted).
    pub board: Option<BoardId>,
    /// The thing acted on within the board or the server (a user id, a link id), if any.
    pub target: Option<String>,
    /// Anything else worth keeping, as JSON.
    pub details: Option<serde_json::Value>,
}

/// What appending an audit entry needs.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    /// Who did it.
    pub actor: Option<&'a str>,
    /// What was done; must not be blank.
    pub action: &'a str,
    /// The board it concerns.
    pub board: Option<BoardId>,
    /// The thing acted on.
    pub target: Option<&'a str>,
    /// Anything else worth keeping.
    pub details: Option<serde_json::Value>,
}

impl NewAudit<'_> {
    fn validated_action(&self) -> Result<&str> {
        let action = self.action.trim();
        if action.is_empty() {
            return Err(StoreError::Invalid(
                "an audit action must not be blank".into(),
            ));
        }
        Ok(action)
    }

    fn details_json(&self) -> Result<Option<String>> {
        self.details
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("audit details are not JSON: {e}")))
    }
}

/// An audit log listing request, newest first. Filters combine with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries about this board.
    pub board: Option<BoardId>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only entries with this action.
    pub action: Option<String>,
    /// Page size, 1..=[`MAX_PAGE_SIZE`] (0 means 50).
    pub limit: u32,
    /// Only entries with an id below this one (the previous page's `next`).
    pub before: Option<i64>,
}

/// One page of the audit log.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The entries on this page, newest first.
    pub items: Vec<AuditEntry>,
    /// The id to pass as `before` for the next page, if there is one.
    pub next: Option<i64>,
}

impl AuditPage {
    fn from_rows(mut items: Vec<AuditEntry>, page_size: u32) -> Self {
        let next = if items.len() > page_size as usize {
            items.truncate(page_size as usize);
            items.last().map(|e| e.id)
        } else {
            None
        };
        Self { items, next }
    }
}

/// Most callers [`Store::admissions`] reads at once (three parameters each, well within
/// both databases' limits).
pub const MAX_ADMISSIONS: usize = 500;

/// Who asks to be admitted to a board: the token's user, its id and its share link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionCaller<'a> {
    /// The user the token names.
    pub user: &'a UserId,
    /// The token's id, if it has one (revocation is by id).
    pub jti: Option<&'a str>,
    /// The share link the token was issued for, if any.
    pub link: Option<Uuid>,
}

/// Everything deciding whether a caller may open a board, read in one round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    /// Whether the token's `jti` was revoked (logged out).
    pub revoked: bool,
    /// Whether the caller's account is disabled (`None`: the caller has no account).
    pub disabled: Option<bool>,
    /// Whether the caller's account is an administrator's (`None`: no account).
    pub admin: Option<bool>,
    /// Whether the board exists.
    pub board_exists: bool,
    /// The caller's role as a member of the board.
    pub member: Option<Role>,
    /// The share link's role and expiry, when the link exists and belongs to the board.
    pub link: Option<(Role, Option<Millis>)>,
}

/// How many boards and users the server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All boards, archived included.
    pub boards: i64,
    /// Archived boards.
    pub archived_boards: i64,
    /// All accounts, disabled included.
    pub users: i64,
    /// Disabled accounts.
    pub disabled_users: i64,
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Postgres.
    Postgres,
    /// Embedded SQLite.
    Sqlite,
}

/// Durable storage for everything Easel keeps. Both backends implement it identically.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Applies pending schema migrations.
    async fn migrate(&self) -> Result<()>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;
    /// Closes the connection pool, waiting for connections in use.
    async fn close(&self);

    /// Creates a board and makes its creator an owner, atomically.
    async fn create_board(&self, new: &NewBoard) -> Result<Board>;
    /// Fetches a board's metadata.
    async fn get_board(&self, id: BoardId) -> Result<Board>;
    /// Lists boards, newest change first.
    async fn list_boards(&self, query: &BoardQuery) -> Result<BoardPage>;
    /// Renames a board.
    async fn rename_board(&self, id: BoardId, name: &BoardName) -> Result<Board>;
    /// Archives (`true`) or restores (`false`) a board.
    async fn set_archived(&self, id: BoardId, archived: bool) -> Result<Board>;
    /// Deletes a board and everything it holds: members, log, snapshots, versions, assets.
    /// Records [`Event::BoardDeleted`].
    async fn delete_board(&self, id: BoardId) -> Result<()>;

    /// Adds a member; [`StoreError::Conflict`] if they already are one. Records
    /// [`Event::Member`].
    async fn add_member(&self, board: BoardId, user: &UserId, role: Role) -> Result<Member>;
    /// Changes a member's role; refuses to demote the last owner. The membership no longer
    /// counts as granted by a share link. Records [`Event::Member`].
    async fn set_member_role(&self, board: BoardId, user: &UserId, role: Role) -> Result<Member>;
    /// Removes a member; refuses to remove the last owner. Records [`Event::Member`].
    async fn remove_member(&self, board: BoardId, user: &UserId) -> Result<()>;
    /// Lists a board's members, owners first.
    async fn list_members(&self, board: BoardId) -> Result<Vec<Member>>;
    /// A user's role on a board, `None` if not a member; [`StoreError::NotFound`] if no such board.
    async fn role_of(&self, board: BoardId, user: &UserId) -> Result<Option<Role>>;
    /// A user's roles on several boards at once; boards they are not a member of (or that do
    /// not exist) are absent from the map.
    async fn roles_on(&self, user: &UserId, boards: &[BoardId]) -> Result<HashMap<BoardId, Role>>;

    /// Creates a share link; [`StoreError::Invalid`] if its role is owner,
    /// [`StoreError::NotFound`] if the board does not exist.
    async fn create_link(&self, new: &NewLink<'_>) -> Result<ShareLink>;
    /// Lists a board's share links, newest first, expired ones included;
    /// [`StoreError::NotFound`] if no such board.
    async fn list_links(&self, board: BoardId) -> Result<Vec<ShareLink>>;
    /// Fetches one of a board's share links; `NotFound("link")` if it has no such link.
    async fn get_link(&self, board: BoardId, id: Uuid) -> Result<ShareLink>;
    /// Finds the link whose token has this hash, expired or not (the caller checks).
    async fn find_link(&self, token_hash: &[u8]) -> Result<Option<ShareLink>>;
    /// Deletes a share link and the memberships it granted (never an owner's), atomically;
    /// returns the users who lost their membership, in id order. `NotFound("link")` if the
    /// board has no such link. Records [`Event::Member`] for each user who lost their
    /// membership, then [`Event::LinkRevoked`].
    async fn delete_link(&self, board: BoardId, id: Uuid) -> Result<Vec<UserId>>;
    /// Makes `user` a member through `link` (one of the board's links) with `role`, or, if
    /// they already are one, keeps the higher of their role and `role`; the membership counts
    /// as the link's only when the link raised it. Returns the role they now hold.
    /// `NotFound("board")` or `NotFound("link")` if either is missing (expiry is the
    /// caller's to check); [`StoreError::Invalid`] for the owner role. Records
    /// [`Event::Member`] when the membership changed.
    async fn join_via_link(
        &self,
        board: BoardId,
        user: &UserId,
        link: Uuid,
        role: Role,
    ) -> Result<Role>;

    /// Appends updates to a board's log, atomically, and returns their sequence numbers:
    /// per board strictly increasing and gap-free, and visible to readers in that order.
    async fn append_updates(&self, board: BoardId, updates: &[Vec<u8>]) -> Result<SeqRange>;
    /// The latest snapshot plus every logged update after it, read consistently.
    async fn load(&self, board: BoardId) -> Result<StoredDoc>;
    /// What a reader that applied the board's log up to `after` lacks, read consistently:
    /// the snapshot only if it covers more than `after` (another process compacted rows
    /// this reader never read), then up to `limit` logged updates after both, in order.
    /// `last_seq` says whether more remain.
    async fn load_after(&self, board: BoardId, after: i64, limit: u32) -> Result<StoredDoc>;
    /// Stores `state` (in `encoding`) as the snapshot covering the log up to `up_to_seq`
    /// and deletes the updates it covers, in one transaction. Returns `false` (and changes
    /// nothing) when an equal or newer snapshot is already stored.
    async fn compact(
        &self,
        board: BoardId,
        state: &[u8],
        encoding: Encoding,
        up_to_seq: i64,
    ) -> Result<bool>;

    /// Saves a named version of a board.
    async fn create_version(&self, new: &NewVersion<'_>) -> Result<Version> {
        self.create_version_within(new, u32::MAX).await
    }
    /// Saves a named version of a board unless it already holds `max` of them
    /// ([`StoreError::TooManyVersions`]). Counting and saving are one transaction with the
    /// board's row locked, so saves racing each other cannot pass `max` together.
    async fn create_version_within(&self, new: &NewVersion<'_>, max: u32) -> Result<Version>;
    /// Lists a board's versions, newest first.
    async fn list_versions(&self, board: BoardId) -> Result<Vec<Version>>;
    /// Fetches a version and its state.
    async fn get_version(&self, board: BoardId, version: Uuid) -> Result<(Version, Vec<u8>)>;
    /// How many bytes a board's document takes: its snapshot plus its logged updates;
    /// [`StoreError::NotFound`] if no such board.
    async fn stored_size(&self, board: BoardId) -> Result<i64>;

    /// Stores an image for a board under the [`asset_id`] of its bytes, unless the board's
    /// assets would then take more than `max_board_bytes` ([`StoreError::AssetsFull`]).
    /// Storing bytes the board already holds changes nothing and returns what is stored.
    /// Summing and storing are one transaction, ordered after any other upload to the board
    /// (never holding the board's row, which live edits update), so uploads racing each
    /// other cannot pass the bound together. `NotFound("board")` if no such
    /// board; [`StoreError::Invalid`] for a type, dimensions or bytes [`NewAsset`] refuses.
    async fn put_asset(&self, new: &NewAsset<'_>, max_board_bytes: u64) -> Result<Asset>;
    /// One of a board's assets and its bytes; `NotFound("asset")` if the board holds no such
    /// asset or does not exist.
    async fn get_asset(&self, board: BoardId, id: &str) -> Result<(Asset, Vec<u8>)>;

    /// Creates an account; [`StoreError::Conflict`] if the email is taken.
    async fn create_user(&self, new: &NewUser) -> Result<User>;
    /// Fetches an account by id.
    async fn get_user(&self, id: &UserId) -> Result<User>;
    /// Fetches an account by email (case-insensitive), if there is one.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// Lists accounts in id order.
    async fn list_users(&self, query: &UserQuery) -> Result<UserPage>;
    /// Disables or re-enables an account. Records [`Event::UserDisabled`].
    async fn set_user_disabled(&self, id: &UserId, disabled: bool) -> Result<User>;
    /// Grants or withdraws administrator rights; [`StoreError::NotFound`] if no such user.
    /// Records [`Event::Admin`].
    async fn set_user_admin(&self, id: &UserId, admin: bool) -> Result<User>;
    /// Replaces an account's password hash; [`StoreError::NotFound`] if no such user,
    /// [`StoreError::Invalid`] if the hash is empty.
    async fn set_password(&self, id: &UserId, hash: &str) -> Result<()>;

    /// Appends an entry to the audit log.
    async fn append_audit(&self, entry: &NewAudit<'_>) -> Result<AuditEntry>;
    /// Lists the audit log, newest first.
    async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage>;

    /// Records that the token with id `jti`, issued to `user`, is revoked until
    /// `expires_at`; revoking it again changes nothing. Purges revocations whose tokens have
    /// expired. Records [`Event::TokenRevoked`].
    async fn revoke_token(&self, user: &UserId, jti: &str, expires_at: Millis) -> Result<()>;
    /// Whether the token with id `jti` was revoked.
    async fn is_token_revoked(&self, jti: &str) -> Result<bool>;

    /// The id of the newest event in the change feed, 0 if there is none: where a reader
    /// with nothing to catch up on starts.
    async fn latest_event_id(&self) -> Result<i64>;
    /// Up to `limit` events of the change feed with ids above `after`, in id order, which is
    /// the order their changes committed: a reader that remembers the last id it applied
    /// never misses one nor sees one twice. Payloads it cannot read are [`Event::Unknown`].
    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<FeedEvent>>;
    /// Deletes the change feed's events recorded before `before`; returns how many.
    async fn prune_events(&self, before: Millis) -> Result<u64>;
    /// Opens a connection of its own on which the database announces each new event of
    /// the change feed (Postgres `LISTEN`). `None` where the backend cannot push (SQLite):
    /// poll [`Store::events_after`] instead.
    async fn subscribe(&self) -> Result<Option<Box<dyn Subscription>>>;
    /// Hands `messages`, in order, to every process subscribed to the store
    /// ([`Notice::Relay`]), in one round trip, best effort: nothing is stored. Does nothing
    /// where a single process serves the store (SQLite). Postgres caps a message near
    /// 8,000 bytes.
    async fn relay(&self, messages: &[String]) -> Result<()>;

    /// How many boards and users there are.
    async fn counts(&self) -> Result<Counts>;
    /// Reads, in one query, what admitting each caller to `board` depends on: whether its
    /// token is revoked, its account's flags, the board's existence, its membership and its
    /// share link. Answers in the order asked; at most [`MAX_ADMISSIONS`] callers.
    async fn admissions(
        &self,
        board: BoardId,
        callers: &[AdmissionCaller<'_>],
    ) -> Result<Vec<Admission>>;

    /// [`Store::admissions`] for one caller.
    async fn admission(
        &self,
        user: &UserId,
        jti: Option<&str>,
        board: BoardId,
        link: Option<Uuid>,
    ) -> Result<Admission> {
        let caller = AdmissionCaller { user, jti, link };
        self.admissions(board, &[caller])
            .await?
            .pop()
            .ok_or(StoreError::NotFound("admission"))
    }
}

/// Opens the store the configuration selects (Postgres for `DATABASE_URL`, SQLite otherwise).
/// Connections are made lazily, so this succeeds even while the database is down.
pub async fn open(config: &Config) -> Result<Arc<dyn Store>> {
    Ok(match &config.database {
        Database::Postgres(url) => Arc::new(PostgresStore::connect(
            url.expose(),
            config.db_max_connections,
            config.db_timeout,
        )?),
        Database::Sqlite(path) => {
            Arc::new(SqliteStore::open(path, config.db_max_connections, config.db_timeout).await?)
        }
    })
}

fn page_size(limit: u32) -> Result<u32> {
    BoardQuery {
        limit,
        ..Default::default()
    }
    .page_size()
}

fn validate_batch(updates: &[Vec<u8>]) -> Result<()> {
    if updates.is_empty() {
        return Err(StoreError::Invalid("no updates to append".into()));
    }
    if updates.len() > MAX_APPEND_BATCH {
        return Err(StoreError::Invalid(format!(
            "more than {MAX_APPEND_BATCH} updates in one batch"
        )));
    }
    Ok(())
}

fn validate_up_to(up_to_seq: i64, last_seq: i64) -> Result<()> {
    if up_to_seq < 0 || up_to_seq > last_seq {
        return Err(StoreError::Invalid(format!(
            "cannot compact up to seq {up_to_seq}: the log ends at {last_seq}"
        )));
    }
    Ok(())
}

/// Maps a unique-key violation to [`StoreError::Conflict`], anything else through `From`.
fn conflict_on_unique(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => e.into(),
    }
}
