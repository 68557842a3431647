//! A board's members over REST: list, set a role, remove (owners and admins only).
//!
//! Owns the member views. A change reaches the board's live connections at once through
//! the `Hub`: a demoted editor becomes read-only, a removed member is disconnected (4403).
//! The store keeps at least one owner per board.

use actix_web::{HttpResponse, delete, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::AppState;
use super::super::error::{ApiError, ErrorBody};
use super::boards::board_id;
use super::caller::Caller;
use crate::domain::{BoardId, Role, UserId};
use crate::rooms::AccessChange;
use crate::store::{Member, StoreError};

/// A member as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// The user id.
    pub user: String,
    /// Their role.
    pub role: Role,
    /// When they were added, milliseconds since the Unix epoch.
    pub added_at: i64,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            user: m.user.as_str().to_owned(),
            role: m.role,
            added_at: m.added_at,
        }
    }
}

/// A board's members, owners first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    /// The members.
    pub items: Vec<MemberView>,
}

/// `PUT /api/boards/{id}/members/{user}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    /// `owner`, `editor` or `viewer`.
    pub role: Role,
}

/// Applies a membership change to the board's live connections and records it.
async fn member_changed(
    state: &AppState,
    caller: &Caller,
    board: BoardId,
    user: UserId,
    role: Option<Role>,
) {
    let (action, details) = match role {
        Some(role) => ("member.set", Some(serde_json::json!({ "role": role }))),
        None => ("member.remove", None),
    };
    let change = AccessChange::Member {
        user: user.clone(),
        role,
    };
    state.hub.change_access(board, change).await;
    caller
        .audit(state, action, Some(board), Some(user.as_str()), details)
        .await;
}

/// Parses a `/boards/{id}/members/{user}` path and checks the caller owns the board.
async fn owned_member(
    state: &AppState,
    caller: &Caller,
    (board, user): (String, String),
) -> Result<(BoardId, UserId), ApiError> {
    let (board, user) = (board_id(&board)?, UserId::parse(&user)?);
    caller.on_board(state, board, Role::Owner).await?;
    Ok((board, user))
}

/// Lists a board's members.
#[utoipa::path(
    tag = "members",
    params(("id" = Uuid, Path, description = "Board id")),
    responses(
        (status = 200, description = "The members", body = MemberList),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards/{id}/members")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<MemberList>, ApiError> {
    let id = board_id(&path)?;
    caller.on_board(&state, id, Role::Owner).await?;
    let members = state.store.list_members(id).await?;
    Ok(web::Json(MemberList {
        items: members.iter().map(MemberView::from).collect(),
    }))
}

/// Adds a member or changes their role; live connections follow at once.
#[utoipa::path(
    tag = "members",
    params(("id" = Uuid, Path, description = "Board id"), ("user" = String, Path, description = "User id")),
    request_body = SetRole,
    responses(
        (status = 200, description = "The membership", body = MemberView),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
        (status = 409, description = "Would leave the board without an owner", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[put("/boards/{id}/members/{user}")]
pub async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<SetRole>,
) -> Result<web::Json<MemberView>, ApiError> {
    let (board, user) = owned_member(&state, &caller, path.into_inner()).await?;
    let role = body.role;
    let member = match state.store.set_member_role(board, &user, role).await {
        Err(StoreError::NotFound("member")) => state.store.add_member(board, &user, role).await?,
        other => other?,
    };
    member_changed(&state, &caller, board, user, Some(role)).await;
    Ok(web::Json(MemberView::from(&member)))
}

/// Removes a member; their live connections close with 4403.
#[utoipa::path(
    tag = "members",
    params(("id" = Uuid, Path, description = "Board id"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board or member", body = ErrorBody),
        (status = 409, description = "Would leave the board without an owner", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[delete("/boards/{id}/members/{user}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (board, user) = owned_member(&state, &caller, path.into_inner()).await?;
    state.store.remove_member(board, &user).await?;
    member_changed(&state, &caller, board, user, None).await;
    Ok(HttpResponse::NoContent().finish())
}
