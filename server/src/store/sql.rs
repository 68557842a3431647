//! SQL text and row types shared by both backends.
//!
//! Every statement here is portable between Postgres and SQLite (both accept `$N`
//! placeholders). Statements that differ per backend live in that backend's file.
//! Owns the mapping from rows to the store's types; knows nothing beyond SQL.

use uuid::Uuid;

use super::{
    Admission, Asset, AuditEntry, Board, Encoding, LoggedUpdate, Member, ShareLink, Snapshot,
    StoreError, StoredDoc, User, Version,
};
use crate::domain::{BoardId, Role, UserId};

pub(super) const INSERT_BOARD: &str = concat!(
    "INSERT INTO boards (id, name, owner, created_at, updated_at, archived_at, last_seq) ",
    "VALUES ($1, $2, $3, $4, $4, NULL, 0) ",
    "RETURNING id, name, owner, created_at, updated_at, archived_at, last_seq"
);
pub(super) const GET_BOARD: &str = "SELECT id, name, owner, created_at, updated_at, archived_at, last_seq FROM boards WHERE id = $1";
pub(super) const LIST_BOARDS: &str = concat!(
    "SELECT b.id, b.name, b.owner, b.created_at, b.updated_at, b.archived_at, b.last_seq FROM boards b ",
    "WHERE ($1 IS NULL OR EXISTS (SELECT 1 FROM board_members m WHERE m.board_id = b.id AND m.user_id = $1)) ",
    "AND ($2 IS NULL OR lower(b.name) LIKE $2 ESCAPE '\\') ",
    "AND (($3 = 0 AND b.archived_at IS NULL) OR $3 = 1 OR ($3 = 2 AND b.archived_at IS NOT NULL)) ",
    "AND ($4 IS NULL OR b.updated_at < $4 OR (b.updated_at = $4 AND b.id < $5)) ",
    "ORDER BY b.updated_at DESC, b.id DESC LIMIT $6"
);
pub(super) const RENAME_BOARD: &str = concat!(
    "UPDATE boards SET name = $2, updated_at = $3 WHERE id = $1 ",
    "RETURNING id, name, owner, created_at, updated_at, archived_at, last_seq"
);
pub(super) const ARCHIVE_BOARD: &str = concat!(
    "UPDATE boards SET archived_at = CASE WHEN $2 THEN COALESCE(archived_at, $3) ELSE NULL END, updated_at = $3 ",
    "WHERE id = $1 RETURNING id, name, owner, created_at, updated_at, archived_at, last_seq"
);
pub(super) const DELETE_BOARD: &str = "DELETE FROM boards WHERE id = $1";

pub(super) const INSERT_MEMBER: &str =
    "INSERT INTO board_members (board_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)";
pub(super) const MEMBER_ROLE: &str =
    "SELECT role FROM board_members WHERE board_id = $1 AND user_id = $2";
pub(super) const COUNT_OWNERS: &str =
    "SELECT COUNT(*) FROM board_members WHERE board_id = $1 AND role = 'owner'";
pub(super) const UPDATE_MEMBER: &str = "UPDATE board_members SET role = $3, via_link = NULL WHERE board_id = $1 AND user_id = $2 \
     RETURNING user_id, role, created_at";
pub(super) const DELETE_MEMBER: &str =
    "DELETE FROM board_members WHERE board_id = $1 AND user_id = $2";
pub(super) const LIST_MEMBERS: &str = "SELECT user_id, role, created_at FROM board_members WHERE board_id = $1 \
     ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END, created_at, user_id";
pub(super) const ROLE_OF: &str = "SELECT m.role FROM boards b \
     LEFT JOIN board_members m ON m.board_id = b.id AND m.user_id = $2 WHERE b.id = $1";

/// Followed by one bound user id, then `AND board_id IN (...)` built at run time.
pub(super) const ROLES_ON: &str = "SELECT board_id, role FROM board_members WHERE user_id = ";

pub(super) const INSERT_LINK: &str = "INSERT INTO share_links \
     (id, board_id, token_hash, role, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     RETURNING id, board_id, role, created_by, created_at, expires_at";
pub(super) const LIST_LINKS: &str = "SELECT id, board_id, role, created_by, created_at, expires_at \
     FROM share_links WHERE board_id = $1 ORDER BY created_at DESC, id DESC";
pub(super) const GET_LINK: &str = "SELECT id, board_id, role, created_by, created_at, expires_at \
     FROM share_links WHERE board_id = $1 AND id = $2";
pub(super) const LINK_BY_HASH: &str = "SELECT id, board_id, role, created_by, created_at, expires_at \
     FROM share_links WHERE token_hash = $1";
pub(super) const LINK_ON_BOARD: &str = "SELECT id FROM share_links WHERE board_id = $1 AND id = $2";
pub(super) const DELETE_LINK_MEMBERS: &str = "DELETE FROM board_members \
     WHERE board_id = $1 AND via_link = $2 AND role <> 'owner' RETURNING user_id";
pub(super) const DELETE_LINK: &str = "DELETE FROM share_links WHERE board_id = $1 AND id = $2";
pub(super) const INSERT_LINK_MEMBER: &str = "INSERT INTO board_members \
     (board_id, user_id, role, created_at, via_link) VALUES ($1, $2, $3, $4, $5)";
pub(super) const RAISE_LINK_MEMBER: &str =
    "UPDATE board_members SET role = $3, via_link = $4 WHERE board_id = $1 AND user_id = $2";
/// A board's stored document in one statement, read as one snapshot: its `last_seq`
/// (part 0), its snapshot if any (1), then the log after the snapshot in order (2).
pub(super) const LOAD: &str = "\
     SELECT 0 AS part, last_seq AS seq, NULL AS data, NULL AS encoding FROM boards WHERE id = $1 \
     UNION ALL SELECT 1, seq, state, encoding FROM board_snapshots WHERE board_id = $1 \
     UNION ALL SELECT 2, seq, data, NULL FROM board_updates WHERE board_id = $1 AND seq > \
         COALESCE((SELECT seq FROM board_snapshots WHERE board_id = $1), 0) \
     ORDER BY part, seq";
/// What a reader that applied a board's log up to `$2` is missing, in [`LOAD`]'s shape:
/// its `last_seq`, its snapshot only if it covers more than `$2` (a compaction removed
/// rows the reader never read), then at most `$3` rows after both, in order.
pub(super) const LOAD_AFTER: &str = "\
     SELECT 0 AS part, last_seq AS seq, NULL AS data, NULL AS encoding FROM boards WHERE id = $1 \
     UNION ALL SELECT 1, seq, state, encoding FROM board_snapshots WHERE board_id = $1 AND seq > $2 \
     UNION ALL SELECT * FROM (SELECT 2, seq, data, NULL FROM board_updates \
         WHERE board_id = $1 AND seq > $2 AND seq > \
         COALESCE((SELECT seq FROM board_snapshots WHERE board_id = $1), 0) \
         ORDER BY seq LIMIT $3) AS tail \
     ORDER BY part, seq";
pub(super) const SNAPSHOT_SEQ: &str = "SELECT seq FROM board_snapshots WHERE board_id = $1";
pub(super) const UPSERT_SNAPSHOT: &str = "INSERT INTO board_snapshots \
     (board_id, seq, state, encoding, created_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (board_id) DO UPDATE SET seq = excluded.seq, state = excluded.state, \
     encoding = excluded.encoding, created_at = excluded.created_at";
pub(super) const DELETE_COVERED: &str =
    "DELETE FROM board_updates WHERE board_id = $1 AND seq <= $2";

pub(super) const STORED_SIZE: &str = "SELECT CAST(\
     COALESCE((SELECT length(s.state) FROM board_snapshots s WHERE s.board_id = b.id), 0) + \
     COALESCE((SELECT SUM(length(u.data)) FROM board_updates u WHERE u.board_id = b.id), 0) \
     AS BIGINT) FROM boards b WHERE b.id = $1";

pub(super) const INSERT_ASSET: &str = "INSERT INTO board_assets \
     (board_id, id, mime, width, height, bytes, size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     RETURNING board_id, id, mime, width, height, size, created_at";
pub(super) const FIND_ASSET: &str = "SELECT board_id, id, mime, width, height, size, created_at \
     FROM board_assets WHERE board_id = $1 AND id = $2";
pub(super) const GET_ASSET: &str = "SELECT board_id, id, mime, width, height, size, created_at, bytes \
     FROM board_assets WHERE board_id = $1 AND id = $2";
pub(super) const ASSET_BYTES: &str =
    "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM board_assets WHERE board_id = $1";

pub(super) const INSERT_VERSION: &str = "INSERT INTO board_versions \
     (id, board_id, label, seq, state, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(super) const COUNT_VERSIONS: &str = "SELECT COUNT(*) FROM board_versions WHERE board_id = $1";
pub(super) const LIST_VERSIONS: &str = "SELECT id, board_id, label, seq, created_by, created_at \
     FROM board_versions WHERE board_id = $1 ORDER BY created_at DESC, id DESC";
pub(super) const GET_VERSION: &str = "SELECT id, board_id, label, seq, created_by, created_at, state \
     FROM board_versions WHERE board_id = $1 AND id = $2";

pub(super) const INSERT_USER: &str = "INSERT INTO users (id, email, name, password_hash, admin, disabled, created_at) \
     VALUES ($1, $2, $3, $4, $5, FALSE, $6) \
     RETURNING id, email, name, password_hash, admin, disabled, created_at";
pub(super) const GET_USER: &str =
    "SELECT id, email, name, password_hash, admin, disabled, created_at FROM users WHERE id = $1";
pub(super) const USER_BY_EMAIL: &str = "SELECT id, email, name, password_hash, admin, disabled, created_at FROM users WHERE email = $1";
pub(super) const LIST_USERS: &str = "SELECT id, email, name, password_hash, admin, disabled, created_at FROM users \
     WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2";
pub(super) const DISABLE_USER: &str = "UPDATE users SET disabled = $2 WHERE id = $1 \
     RETURNING id, email, name, password_hash, admin, disabled, created_at";
pub(super) const SET_ADMIN: &str = "UPDATE users SET admin = $2 WHERE id = $1 \
     RETURNING id, email, name, password_hash, admin, disabled, created_at";
pub(super) const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2 WHERE id = $1";
pub(super) const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM boards), \
     (SELECT COUNT(*) FROM boards WHERE archived_at IS NOT NULL), \
     (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM users WHERE disabled)";

pub(super) const INSERT_AUDIT: &str = "INSERT INTO audit_log \
     (at, actor, action, board_id, target, details) VALUES ($1, $2, $3, $4, $5, $6) \
     RETURNING id, at, actor, action, board_id, target, details";
pub(super) const LIST_AUDIT: &str = "SELECT id, at, actor, action, board_id, target, details FROM audit_log \
     WHERE ($1 IS NULL OR board_id = $1) AND ($2 IS NULL OR actor = $2) AND ($3 IS NULL OR action = $3) \
     AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";

pub(super) const INSERT_EVENT: &str =
    "INSERT INTO access_events (created_at, payload) VALUES ($1, $2)";
pub(super) const LATEST_EVENT: &str = "SELECT COALESCE(MAX(id), 0) FROM access_events";
pub(super) const EVENTS_AFTER: &str =
    "SELECT id, created_at, payload FROM access_events WHERE id > $1 ORDER BY id LIMIT $2";
pub(super) const PRUNE_EVENTS: &str = "DELETE FROM access_events WHERE created_at < $1";

pub(super) const PURGE_REVOKED: &str = "DELETE FROM revoked_tokens WHERE expires_at < $1";
pub(super) const INSERT_REVOKED: &str =
    "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
pub(super) const IS_REVOKED: &str = "SELECT jti FROM revoked_tokens WHERE jti = $1";

/// A `boards` row.
#[derive(sqlx::FromRow)]
pub(super) struct BoardRow {
    id: Uuid,
    name: String,
    owner: String,
    created_at: i64,
    updated_at: i64,
    archived_at: Option<i64>,
    last_seq: i64,
}

impl TryFrom<BoardRow> for Board {
    type Error = StoreError;
    fn try_from(r: BoardRow) -> Result<Self, StoreError> {
        Ok(Board {
            id: BoardId::from(r.id),
            name: r.name,
            owner: UserId::parse(&r.owner)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            archived_at: r.archived_at,
            last_seq: r.last_seq,
        })
    }
}

/// A row of [`LOAD`].
#[derive(sqlx::FromRow)]
pub(super) struct LoadRow {
    part: i32,
    seq: i64,
    data: Option<Vec<u8>>,
    encoding: Option<String>,
}

/// The stored document [`LOAD`]'s rows describe, in the order it returns them.
pub(super) fn stored_doc(rows: Vec<LoadRow>) -> Result<StoredDoc, StoreError> {
    let mut rows = rows.into_iter();
    let last_seq = match rows.next() {
        Some(LoadRow { part: 0, seq, .. }) => seq,
        _ => return Err(StoreError::NotFound("board")),
    };
    let mut doc = StoredDoc {
        snapshot: None,
        updates: Vec::new(),
        last_seq,
    };
    for row in rows {
        match (row.part, row.data, row.encoding) {
            (1, Some(state), Some(encoding)) => {
                doc.snapshot = Some(Snapshot {
                    seq: row.seq,
                    state,
                    encoding: Encoding::parse(&encoding)?,
                });
            }
            (2, Some(data), None) => doc.updates.push(LoggedUpdate { seq: row.seq, data }),
            (part, ..) => {
                return Err(StoreError::Invalid(format!(
                    "unexpected row (part {part}) loading a board"
                )));
            }
        }
    }
    Ok(doc)
}

/// A `board_members` row.
#[derive(sqlx::FromRow)]
pub(super) struct MemberRow {
    user_id: String,
    role: String,
    created_at: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Member {
            user: UserId::parse(&r.user_id)?,
            role: Role::parse(&r.role)?,
            added_at: r.created_at,
        })
    }
}

/// A `board_versions` row without its state.
#[derive(sqlx::FromRow)]
pub(super) struct VersionRow {
    id: Uuid,
    board_id: Uuid,
    label: String,
    seq: i64,
    created_by: Option<String>,
    created_at: i64,
}

impl TryFrom<VersionRow> for Version {
    type Error = StoreError;
    fn try_from(r: VersionRow) -> Result<Self, StoreError> {
        Ok(Version {
            id: r.id,
            board: BoardId::from(r.board_id),
            label: r.label,
            seq: r.seq,
            created_by: r.created_by.as_deref().map(UserId::parse).transpose()?,
            created_at: r.created_at,
        })
    }
}

/// A `board_versions` row with its state.
#[derive(sqlx::FromRow)]
pub(super) struct VersionStateRow {
    #[sqlx(flatten)]
    version: VersionRow,
    state: Vec<u8>,
}

impl TryFrom<VersionStateRow> for (Version, Vec<u8>) {
    type Error = StoreError;
    fn try_from(r: VersionStateRow) -> Result<Self, StoreError> {
        Ok((r.version.try_into()?, r.state))
    }
}

/// A `board_assets` row without its bytes.
#[derive(sqlx::FromRow)]
pub(super) struct AssetRow {
    board_id: Uuid,
    id: String,
    mime: String,
    width: i32,
    height: i32,
    size: i64,
    created_at: i64,
}

impl TryFrom<AssetRow> for Asset {
    type Error = StoreError;
    fn try_from(r: AssetRow) -> Result<Self, StoreError> {
        let pixels = |n: i32| {
            u32::try_from(n).map_err(|_| StoreError::Invalid(format!("stored asset dimension {n}")))
        };
        Ok(Asset {
            board: BoardId::from(r.board_id),
            id: r.id,
            mime: r.mime,
            width: pixels(r.width)?,
            height: pixels(r.height)?,
            size: r.size,
            created_at: r.created_at,
        })
    }
}

/// A `board_assets` row with its bytes.
#[derive(sqlx::FromRow)]
pub(super) struct AssetBytesRow {
    #[sqlx(flatten)]
    asset: AssetRow,
    bytes: Vec<u8>,
}

impl TryFrom<AssetBytesRow> for (Asset, Vec<u8>) {
    type Error = StoreError;
    fn try_from(r: AssetBytesRow) -> Result<Self, StoreError> {
        Ok((r.asset.try_into()?, r.bytes))
    }
}

/// A `users` row.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    admin: bool,
    disabled: bool,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId::parse(&r.id)?,
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            admin: r.admin,
            disabled: r.disabled,
            created_at: r.created_at,
        })
    }
}

/// A `share_links` row without its token hash.
#[derive(sqlx::FromRow)]
pub(super) struct ShareLinkRow {
    id: Uuid,
    board_id: Uuid,
    role: String,
    created_by: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
}

impl TryFrom<ShareLinkRow> for ShareLink {
    type Error = StoreError;
    fn try_from(r: ShareLinkRow) -> Result<Self, StoreError> {
        Ok(ShareLink {
            id: r.id,
            board: BoardId::from(r.board_id),
            role: Role::parse(&r.role)?,
            created_by: r.created_by.as_deref().map(UserId::parse).transpose()?,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

/// An `audit_log` row.
#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    id: i64,
    at: i64,
    actor: Option<String>,
    action: String,
    board_id: Option<Uuid>,
    target: Option<String>,
    details: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        let details = r
            .details
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("stored audit details are not JSON: {e}")))?;
        Ok(AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            board: r.board_id.map(BoardId::from),
            target: r.target,
            details,
        })
    }
}

/// Converts rows, failing on the first that does not map.
pub(super) fn convert<R, T: TryFrom<R, Error = StoreError>>(
    rows: Vec<R>,
) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

/// Everything admitting each of several callers to board `$1` depends on, in one round
/// trip: `rows` are the callers as `VALUES` rows `(i, user_id, jti, link)`, written by the
/// backend (Postgres needs their types spelled out). Answers one row per caller, by `i`.
pub(super) fn admissions(rows: &[String]) -> String {
    format!(
        concat!(
            "WITH req (i, user_id, jti, link) AS (VALUES {}) ",
            "SELECT req.i AS i, ",
            "EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = req.jti) AS revoked, ",
            "(SELECT u.disabled FROM users u WHERE u.id = req.user_id) AS disabled, ",
            "(SELECT u.admin FROM users u WHERE u.id = req.user_id) AS admin, ",
            "EXISTS (SELECT 1 FROM boards b WHERE b.id = $1) AS board_exists, ",
            "(SELECT m.role FROM board_members m WHERE m.board_id = $1 AND m.user_id = req.user_id) AS member, ",
            "(SELECT l.role FROM share_links l WHERE l.id = req.link AND l.board_id = $1) AS link_role, ",
            "(SELECT l.expires_at FROM share_links l WHERE l.id = req.link AND l.board_id = $1) AS link_expires ",
            "FROM req ORDER BY req.i"
        ),
        rows.join(", ")
    )
}

/// A row of [`admissions`].
#[derive(sqlx::FromRow)]
pub(super) struct AdmissionRow {
    pub i: i64,
    pub revoked: bool,
    pub disabled: Option<bool>,
    pub admin: Option<bool>,
    pub board_exists: bool,
    pub member: Option<String>,
    pub link_role: Option<String>,
    pub link_expires: Option<i64>,
}

impl TryFrom<AdmissionRow> for Admission {
    type Error = StoreError;
    fn try_from(row: AdmissionRow) -> Result<Self, StoreError> {
        let link = match row.link_role {
            Some(role) => Some((Role::parse(&role)?, row.link_expires)),
            None => None,
        };
        Ok(Admission {
            revoked: row.revoked,
            disabled: row.disabled,
            admin: row.admin,
            board_exists: row.board_exists,
            member: row.member.as_deref().map(Role::parse).transpose()?,
            link,
        })
    }
}
