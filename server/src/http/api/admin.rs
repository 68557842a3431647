//! Administration over REST (admins only): figures, accounts, disabling an account, and
//! the audit log.
//!
//! Owns the admin views. Disabling an account closes its live connections, and changing
//! its admin flag changes their powers, through the `Hub`, at once; everything else is
//! read from the store.

use actix_web::{get, patch, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::super::AppState;
use super::super::error::{ApiError, ErrorBody};
use super::auth::UserView;
use super::caller::Caller;
use crate::domain::{BoardId, SearchText, UserId};
use crate::rooms::AccessChange;
use crate::store::{AuditEntry, AuditQuery, UserQuery};

/// `GET /api/admin/stats` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// Boards, archived included.
    pub boards: i64,
    /// Archived boards.
    pub archived_boards: i64,
    /// Accounts.
    pub users: i64,
    /// Disabled accounts.
    pub disabled_users: i64,
    /// Rooms live on this node.
    pub live_rooms: usize,
    /// WebSocket connections open on this node.
    pub connections: usize,
}

/// Paging for account listings.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<UserId>,
}

/// One page of accounts, in id order.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// The accounts.
    pub items: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// `PATCH /api/admin/users/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// Disable (`true`: their live connections close) or re-enable the account.
    pub disabled: Option<bool>,
    /// Grant or remove the admin role (takes effect at once, on their open connections too).
    pub admin: Option<bool>,
}

/// Audit log filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries about this board.
    pub board: Option<Uuid>,
    /// Only entries by this user.
    #[param(value_type = Option<String>)]
    pub actor: Option<UserId>,
    /// Only this action, such as `board.delete` or `member.set`.
    #[param(value_type = Option<String>, max_length = 200)]
    pub action: Option<SearchText>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub before: Option<i64>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Entry id (increasing).
    pub id: i64,
    /// When, milliseconds since the Unix epoch.
    pub at: i64,
    /// Who did it.
    pub actor: Option<String>,
    /// What: `board.create`, `board.delete`, `member.set`, `link.revoke`, `version.restore`, ...
    pub action: String,
    /// The board concerned.
    pub board: Option<Uuid>,
    /// The user, link or version concerned.
    pub target: Option<String>,
    /// Details of the change.
    pub details: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            board: e.board.map(|b| b.as_uuid()),
            target: e.target,
            details: e.details,
        }
    }
}

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// The entries.
    pub items: Vec<AuditView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<i64>,
}

/// Counts of boards and accounts, and this node's live rooms and connections.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Figures", body = Stats),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/admin/stats")]
pub async fn stats(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<Stats>, ApiError> {
    caller.require_admin()?;
    let counts = state.store.counts().await?;
    Ok(web::Json(Stats {
        boards: counts.boards,
        archived_boards: counts.archived_boards,
        users: counts.users,
        disabled_users: counts.disabled_users,
        live_rooms: state.hub.rooms(),
        connections: state.hub.connections(),
    }))
}

/// Lists accounts.
#[utoipa::path(
    tag = "admin",
    params(UsersQuery),
    responses(
        (status = 200, description = "One page", body = UserList),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/admin/users")]
pub async fn users(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<UsersQuery>,
) -> Result<web::Json<UserList>, ApiError> {
    caller.require_admin()?;
    let query = query.into_inner();
    let page = state
        .store
        .list_users(&UserQuery {
            limit: query.limit.unwrap_or(0),
            after: query.cursor,
        })
        .await?;
    Ok(web::Json(UserList {
        items: page.items.iter().map(UserView::from).collect(),
        next: page.next.map(|u| u.as_str().to_owned()),
    }))
}

/// Disables or re-enables an account, or changes its admin role.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[patch("/admin/users/{id}")]
pub async fn set_disabled(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<UpdateUser>,
) -> Result<web::Json<UserView>, ApiError> {
    caller.require_admin()?;
    let id = UserId::parse(&path)?;
    if body.disabled.is_none() && body.admin.is_none() {
        return Err(ApiError::BadRequest(
            "nothing to change: give disabled and/or admin".into(),
        ));
    }
    if &id == caller.user() && (body.disabled == Some(true) || body.admin == Some(false)) {
        return Err(ApiError::BadRequest(
            "you cannot disable your own account or drop your own admin role".into(),
        ));
    }
    let mut user = state.store.get_user(&id).await?;
    if let Some(admin) = body.admin {
        user = state.store.set_user_admin(&id, admin).await?;
        let change = AccessChange::Admin {
            user: id.clone(),
            admin,
        };
        state.hub.change_access_everywhere(change).await;
    }
    if let Some(disabled) = body.disabled {
        user = state.store.set_user_disabled(&id, disabled).await?;
        if disabled {
            state
                .hub
                .change_access_everywhere(AccessChange::UserDisabled(id.clone()))
                .await;
        }
    }
    caller
        .audit(
            &state,
            "user.update",
            None,
            Some(id.as_str()),
            Some(serde_json::json!({ "disabled": body.disabled, "admin": body.admin })),
        )
        .await;
    Ok(web::Json(UserView::from(&user)))
}

/// Who did what to which board, and when.
#[utoipa::path(
    tag = "admin",
    params(AuditParams),
    responses(
        (status = 200, description = "One page, newest first", body = AuditList),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/admin/audit")]
pub async fn audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditParams>,
) -> Result<web::Json<AuditList>, ApiError> {
    caller.require_admin()?;
    let query = query.into_inner();
    let page = state
        .store
        .list_audit(&AuditQuery {
            board: query.board.map(BoardId::from_uuid),
            actor: query.actor.map(String::from),
            action: query.action.map(String::from),
            limit: query.limit.unwrap_or(0),
            before: query.before,
        })
        .await?;
    Ok(web::Json(AuditList {
        items: page.items.into_iter().map(AuditView::from).collect(),
        next: page.next,
    }))
}
