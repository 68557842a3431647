//! Share links over REST: create, list and revoke them (owners and admins), and redeem one.
//!
//! Owns the link views and redemption: a signed-in user becomes a member with the link's
//! role; an anonymous guest (when `EASEL_GUEST_LINKS=true`) gets a token for that one board.
//! Revoking a link removes what it granted, on live connections too. Link secrets are made
//! and hashed by `auth`; only their hash is stored, so a link is shown once.

use std::time::Duration;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::AppState;
use super::super::error::{ApiError, ErrorBody};
use super::boards::board_id;
use super::caller::{Caller, authenticate, request_token};
use crate::auth::{self, TokenRequest};
use crate::domain::{DisplayName, LinkSecret, Role, UserId};
use crate::rooms::AccessChange;
use crate::store::{NewLink, ShareLink, StoreError, now_ms};

/// Longest a link may stay valid: one year.
pub const MAX_LINK_SECS: u64 = 365 * 86_400;

/// `POST /api/boards/{id}/links` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    /// `editor` or `viewer`.
    pub role: Role,
    /// Seconds until the link expires (1 to one year); absent: never.
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub expires_in_secs: Option<u64>,
}

/// A link as listed (its secret is shown only when it is created).
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    /// The link id.
    pub id: Uuid,
    /// The role it grants.
    pub role: Role,
    /// Who created it.
    pub created_by: Option<String>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Expiry, milliseconds since the Unix epoch; absent: never.
    pub expires_at: Option<i64>,
    /// Whether it has expired.
    pub expired: bool,
}

impl From<&ShareLink> for LinkView {
    fn from(l: &ShareLink) -> Self {
        Self {
            id: l.id,
            role: l.role,
            created_by: l.created_by.as_ref().map(|u| u.as_str().to_owned()),
            created_at: l.created_at,
            expires_at: l.expires_at,
            expired: l.expires_at.is_some_and(|at| at <= now_ms()),
        }
    }
}

/// A new link, with its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedLink {
    /// The link id (to revoke it).
    pub id: Uuid,
    /// The secret; redeem it with `POST /api/links/{token}/join`.
    pub token: String,
    /// A URL to hand out.
    pub url: String,
    /// The role it grants.
    pub role: Role,
    /// Expiry, milliseconds since the Unix epoch; absent: never.
    pub expires_at: Option<i64>,
}

/// A board's links.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkList {
    /// The links, newest first.
    pub items: Vec<LinkView>,
}

/// `POST /api/links/{token}/join` body (optional; guests give a display name).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinLink {
    /// A guest's display name, 1 to 100 characters, none of them control, invisible or
    /// direction-changing.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub name: Option<DisplayName>,
}

/// What redeeming a link gives.
#[derive(Debug, Serialize, ToSchema)]
pub struct Joined {
    /// The board.
    pub board_id: Uuid,
    /// The caller's role on it now.
    pub role: Role,
    /// For guests: a token for this board only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Creates a share link granting `editor` or `viewer`.
#[utoipa::path(
    tag = "links",
    params(("id" = Uuid, Path, description = "Board id")),
    request_body = CreateLink,
    responses(
        (status = 201, description = "Created; the token is shown only now", body = CreatedLink),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[post("/boards/{id}/links")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<CreateLink>,
) -> Result<HttpResponse, ApiError> {
    let board = board_id(&path)?;
    if body.role == Role::Owner {
        return Err(ApiError::BadRequest(
            "a link grants editor or viewer, never owner".into(),
        ));
    }
    let expires_at = match body.expires_in_secs {
        Some(secs) if secs == 0 || secs > MAX_LINK_SECS => {
            return Err(ApiError::BadRequest(format!(
                "expires_in_secs must be 1 to {MAX_LINK_SECS}"
            )));
        }
        Some(secs) => Some(now_ms() + secs as i64 * 1000),
        None => None,
    };
    caller.on_board(&state, board, Role::Owner).await?;
    let (token, hash) = auth::new_link_token();
    let link = state
        .store
        .create_link(&NewLink {
            id: Uuid::new_v4(),
            board,
            token_hash: &hash,
            role: body.role,
            created_by: Some(caller.user()),
            expires_at,
        })
        .await?;
    caller
        .audit(
            &state,
            "link.create",
            Some(board),
            Some(&link.id.to_string()),
            Some(serde_json::json!({ "role": link.role, "expires_at": link.expires_at })),
        )
        .await;
    let base = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    Ok(HttpResponse::Created().json(CreatedLink {
        id: link.id,
        url: format!("{base}/join/{token}"),
        token,
        role: link.role,
        expires_at: link.expires_at,
    }))
}

/// Lists a board's share links.
#[utoipa::path(
    tag = "links",
    params(("id" = Uuid, Path, description = "Board id")),
    responses(
        (status = 200, description = "The links", body = LinkList),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards/{id}/links")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<LinkList>, ApiError> {
    let board = board_id(&path)?;
    caller.on_board(&state, board, Role::Owner).await?;
    let links = state.store.list_links(board).await?;
    Ok(web::Json(LinkList {
        items: links.iter().map(LinkView::from).collect(),
    }))
}

/// Revokes a link: guests who came through it and members it added lose access at once.
#[utoipa::path(
    tag = "links",
    params(("id" = Uuid, Path, description = "Board id"), ("link" = Uuid, Path, description = "Link id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board or link", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[delete("/boards/{id}/links/{link}")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (board, link) = path.into_inner();
    let board = board_id(&board)?;
    let link = Uuid::parse_str(&link)
        .map_err(|_| ApiError::BadRequest(format!("malformed link id: {link:.64}")))?;
    caller.on_board(&state, board, Role::Owner).await?;
    let removed = state.store.delete_link(board, link).await?;
    for user in removed {
        let change = AccessChange::Member { user, role: None };
        state.hub.change_access(board, change).await;
    }
    state
        .hub
        .change_access(board, AccessChange::LinkRevoked(link))
        .await;
    caller
        .audit(
            &state,
            "link.revoke",
            Some(board),
            Some(&link.to_string()),
            None,
        )
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Redeems a link: signed-in users become members with its role; anonymous guests (when
/// the server allows them) get a token for this board only.
#[utoipa::path(
    tag = "links",
    params(("token" = String, Path, description = "The link's secret", min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9_-]+$")),
    request_body(content = Option<JoinLink>, description = "A guest's display name"),
    responses(
        (status = 200, description = "Joined", body = Joined),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Sign in to use this link", body = ErrorBody),
        (status = 403, description = "Disabled account", body = ErrorBody),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 410, description = "The link has expired", body = ErrorBody),
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
#[post("/links/{token}/join")]
pub async fn join(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<Joined>, ApiError> {
    let body = join_body(&req, &body)?;
    let token = request_token(&req);
    let caller = match token.as_deref() {
        Some(t) => Some(authenticate(&state, Some(t)).await?),
        None => None,
    };
    let secret = LinkSecret::parse(&path)?;
    let link = state
        .store
        .find_link(&auth::hash_link_token(secret.as_str()))
        .await?
        .ok_or(ApiError::NotFound("link"))?;
    if link.expires_at.is_some_and(|at| at <= now_ms()) {
        return Err(ApiError::Gone("this link has expired"));
    }
    match caller.filter(|c| !c.principal.guest) {
        Some(caller) => {
            let role = state
                .store
                .join_via_link(link.board, caller.user(), link.id, link.role)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound(_) => ApiError::NotFound("board"),
                    other => other.into(),
                })?;
            state
                .hub
                .change_access(
                    link.board,
                    AccessChange::Member {
                        user: caller.user().clone(),
                        role: Some(role),
                    },
                )
                .await;
            caller
                .audit(
                    &state,
                    "link.join",
                    Some(link.board),
                    Some(&link.id.to_string()),
                    Some(serde_json::json!({ "role": role })),
                )
                .await;
            Ok(web::Json(Joined {
                board_id: link.board.as_uuid(),
                role,
                token: None,
            }))
        }
        None if state.config.guest_links => {
            let name = body.name.ok_or_else(|| {
                ApiError::BadRequest("a guest needs a name: give {\"name\": ...}".into())
            })?;
            let ttl = match link.expires_at {
                Some(at) => {
                    let left = Duration::from_millis((at - now_ms()).max(1) as u64);
                    left.min(state.config.token_ttl)
                }
                None => state.config.token_ttl,
            };
            let guest = UserId::parse(&format!("guest:{}", Uuid::new_v4()))?;
            let token = state.keys.issue(&TokenRequest {
                name: Some(name.into()),
                link: Some(link.id),
                guest: true,
                ..TokenRequest::new(guest, ttl)
            })?;
            Ok(web::Json(Joined {
                board_id: link.board.as_uuid(),
                role: link.role,
                token: Some(token),
            }))
        }
        None => Err(ApiError::Unauthorized(crate::auth::AuthError::Missing)),
    }
}

/// The optional JSON body of a redemption. Parsed here rather than by actix's `Json`
/// extractor, which logs the request path, and so the link's secret, when a body does not
/// parse.
fn join_body(req: &HttpRequest, body: &[u8]) -> Result<JoinLink, ApiError> {
    if body.is_empty() {
        return Ok(JoinLink::default());
    }
    let json = req.mime_type().ok().flatten().is_some_and(|m| {
        m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
    });
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "expected Content-Type: application/json".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))
}
