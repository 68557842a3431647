//! Boards over REST: create, list, read with live stats, rename/archive, delete, and
//! export/import of their documents.
//!
//! Owns the board views and who may touch a board's metadata. Documents are converted by
//! `document`; live state comes from the `Hub` (a deleted board's sockets close with 4404).

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use yrs::{ReadTxn, StateVector, Transact};

use super::super::AppState;
use super::super::error::{ApiError, ErrorBody};
use super::caller::Caller;
use crate::document;
use crate::domain::{BoardId, BoardName, Role, SearchText};
use crate::protocol::scan;
use crate::rooms::JoinError;
use crate::store::{ArchivedFilter, Board, BoardCursor, BoardQuery, NewBoard};

/// Parses a board id from a path segment (400 when malformed).
pub(super) fn board_id(raw: &str) -> Result<BoardId, ApiError> {
    BoardId::parse(raw).map_err(|_| ApiError::BadRequest(format!("malformed board id: {raw:.64}")))
}

/// Maps a hub failure to an API error.
pub(super) fn hub_error(e: JoinError) -> ApiError {
    match e {
        JoinError::NotFound => ApiError::NotFound("board"),
        JoinError::ShuttingDown => ApiError::Unavailable("the server is shutting down"),
        JoinError::Load(e) => e.into(),
        JoinError::Corrupt(msg) => ApiError::Internal(msg.into()),
    }
}

/// A board as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardView {
    /// The board id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The user who created it.
    pub owner: String,
    /// The caller's role on it (admins act as owners).
    pub role: Option<Role>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Last change to the board or its document, milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// Whether it is archived.
    pub archived: bool,
    /// When it was archived.
    pub archived_at: Option<i64>,
    /// Live figures (only when reading one board).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<BoardStats>,
}

/// Live figures about a board.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardStats {
    /// Connections open on it right now (on this node).
    pub connected: usize,
    /// Bytes its stored document takes (snapshot plus log).
    pub document_bytes: i64,
    /// Last edit of its document, milliseconds since the Unix epoch.
    pub last_edit_at: i64,
}

impl BoardView {
    pub(super) fn new(board: &Board, role: Option<Role>) -> Self {
        Self {
            id: board.id.as_uuid(),
            name: board.name.clone(),
            owner: board.owner.as_str().to_owned(),
            role,
            created_at: board.created_at,
            updated_at: board.updated_at,
            archived: board.archived_at.is_some(),
            archived_at: board.archived_at,
            stats: None,
        }
    }
}

/// `POST /api/boards` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBoard {
    /// The name, 1 to 200 characters, none of them control, invisible or direction-changing.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: BoardName,
}

/// `PATCH /api/boards/{id}` body: what to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBoard {
    /// A new name, 1 to 200 characters, none of them control, invisible or direction-changing.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<BoardName>,
    /// Archive (`true`) or unarchive (`false`).
    pub archived: Option<bool>,
}

/// Archive filter for listings.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Archived {
    /// Active boards only.
    #[default]
    Exclude,
    /// Archived and active boards.
    Include,
    /// Archived boards only.
    Only,
}

/// `GET /api/boards` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only boards whose name contains this text (case-insensitive; at most 200
    /// characters, no control characters).
    #[param(value_type = Option<String>, max_length = 200)]
    pub q: Option<SearchText>,
    /// Archive filter (default `exclude`).
    pub archived: Option<Archived>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
    /// Admins see every board; `mine=true` shows only boards they are a member of.
    pub mine: Option<bool>,
}

/// One page of boards, most recently updated first.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardList {
    /// The boards.
    pub items: Vec<BoardView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Export and import formats.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The whole document as one binary Yjs update (v1).
    Yjs,
    /// The board's shapes as plain JSON (`{"schema":1,"meta","elements","bindings","assets"}`).
    Json,
    /// The board rendered as an SVG image (export only).
    Svg,
}

/// `GET /api/boards/{id}/export` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `yjs`, `json` or `svg`.
    pub format: Format,
}

/// `POST /api/boards/import` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `yjs` or `json`: the format of the body.
    pub format: Format,
    /// The new board's name (default: the document's `meta.title`, else "Imported board").
    #[param(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub name: Option<BoardName>,
}

/// Creates a board; the caller becomes its owner.
#[utoipa::path(
    tag = "boards",
    request_body = CreateBoard,
    responses(
        (status = 201, description = "Created", body = BoardView),
        (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Guests and disabled accounts cannot create boards", body = ErrorBody),
        (status = 429, description = "Too many boards created within the hour (EASEL_BOARDS_PER_HOUR); see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[post("/boards")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateBoard>,
) -> Result<HttpResponse, ApiError> {
    caller.require_user()?;
    let allowance = allow_new_board(&state, &caller)?;
    let board = create_for(&state, &caller, body.into_inner().name, allowance).await?;
    caller
        .audit(&state, "board.create", Some(board.id), None, None)
        .await;
    Ok(HttpResponse::Created().json(BoardView::new(&board, Some(Role::Owner))))
}

/// Lists the caller's boards (admins: every board), most recently updated first.
#[utoipa::path(
    tag = "boards",
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = BoardList),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Guest or disabled account", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<web::Json<BoardList>, ApiError> {
    caller.require_user()?;
    let query = query.into_inner();
    let all = caller.principal.admin && !query.mine.unwrap_or(false);
    let page = state
        .store
        .list_boards(&BoardQuery {
            member: (!all).then(|| caller.user().clone()),
            name_contains: query.q.map(String::from).filter(|q| !q.is_empty()),
            archived: match query.archived.unwrap_or_default() {
                Archived::Exclude => ArchivedFilter::Exclude,
                Archived::Include => ArchivedFilter::Include,
                Archived::Only => ArchivedFilter::Only,
            },
            limit: query.limit.unwrap_or(0),
            after: query
                .cursor
                .as_deref()
                .map(BoardCursor::parse)
                .transpose()?,
        })
        .await?;
    let ids: Vec<BoardId> = page.items.iter().map(|b| b.id).collect();
    let roles = state.store.roles_on(caller.user(), &ids).await?;
    let items = page
        .items
        .iter()
        .map(|b| {
            let role = roles
                .get(&b.id)
                .copied()
                .or(caller.principal.admin.then_some(Role::Owner));
            BoardView::new(b, role)
        })
        .collect();
    Ok(web::Json(BoardList {
        items,
        next: page.next.map(|c| c.encode()),
    }))
}

/// A board's metadata and live figures.
#[utoipa::path(
    tag = "boards",
    params(("id" = Uuid, Path, description = "Board id")),
    responses(
        (status = 200, description = "The board", body = BoardView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "No access", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<BoardView>, ApiError> {
    let id = board_id(&path)?;
    let access = caller.on_board(&state, id, Role::Viewer).await?;
    let board = state.store.get_board(id).await?;
    let mut view = BoardView::new(&board, access.role());
    view.stats = Some(BoardStats {
        connected: state.hub.members(id),
        document_bytes: state.store.stored_size(id).await?,
        last_edit_at: board.updated_at,
    });
    Ok(web::Json(view))
}

/// Renames, archives or unarchives a board (owners and admins).
#[utoipa::path(
    tag = "boards",
    params(("id" = Uuid, Path, description = "Board id")),
    request_body = UpdateBoard,
    responses(
        (status = 200, description = "The updated board", body = BoardView),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[patch("/boards/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<UpdateBoard>,
) -> Result<web::Json<BoardView>, ApiError> {
    let id = board_id(&path)?;
    let body = body.into_inner();
    if body.name.is_none() && body.archived.is_none() {
        return Err(ApiError::BadRequest(
            "nothing to change: give name and/or archived".into(),
        ));
    }
    let name = body.name;
    let access = caller.on_board(&state, id, Role::Owner).await?;
    let mut board = state.store.get_board(id).await?;
    if let Some(name) = &name {
        board = state.store.rename_board(id, name).await?;
    }
    if let Some(archived) = body.archived {
        board = state.store.set_archived(id, archived).await?;
    }
    caller.audit(&state,
        "board.update",
        Some(id),
        None,
        Some(serde_json::json!({ "name": name.map(|n| n.as_str().to_owned()), "archived": body.archived })),
    )
    .await;
    Ok(web::Json(BoardView::new(&board, access.role())))
}

/// Deletes a board and everything in it; its live connections close with 4404.
#[utoipa::path(
    tag = "boards",
    params(("id" = Uuid, Path, description = "Board id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[delete("/boards/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = board_id(&path)?;
    caller.on_board(&state, id, Role::Owner).await?;
    state.store.delete_board(id).await?;
    state.hub.board_deleted(id).await;
    caller
        .audit(&state, "board.delete", Some(id), None, None)
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Exports a board's document as a Yjs update, plain JSON or SVG.
#[utoipa::path(
    tag = "boards",
    params(("id" = Uuid, Path, description = "Board id"), ExportQuery),
    responses(
        (status = 200, description = "The document", content(
            (Vec<u8> = "application/octet-stream"),
            (serde_json::Value = "application/json"),
            (String = "image/svg+xml"),
        )),
        (status = 400, description = "Bad id or format", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "No access", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards/{id}/export")]
pub async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = board_id(&path)?;
    caller.on_board(&state, id, Role::Viewer).await?;
    let current = state.hub.state(id).await.map_err(hub_error)?;
    let format = query.format;
    let (body, content_type, ext) = match format {
        Format::Yjs => (current.state, "application/octet-stream", "yjs"),
        Format::Json | Format::Svg => {
            // Converting a big board takes a while: off the worker thread, a few at a time.
            let _turn = super::conversion_turn(&state).await?;
            // An exported SVG loads the board's images from the assets route, through
            // EASEL_PUBLIC_URL when set so a saved file still points at this server.
            let images_at = format!(
                "{}/api/boards/{id}/assets/",
                state
                    .config
                    .public_url
                    .as_deref()
                    .unwrap_or("")
                    .trim_end_matches('/')
            );
            let converted = tokio::task::spawn_blocking(move || {
                let doc = document::doc_from_update(&current.state)?;
                Ok::<_, document::DocumentError>(match format {
                    Format::Json => (document::write_json(&doc), "application/json", "json"),
                    _ => (
                        document::render_svg(&doc, Some(&images_at)).into_bytes(),
                        "image/svg+xml",
                        "svg",
                    ),
                })
            });
            converted
                .await
                .map_err(|e| ApiError::Internal(Box::new(e)))?
                .map_err(|e| ApiError::Internal(Box::new(e)))?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"board-{id}.{ext}\""),
        ))
        .body(body))
}

/// Creates a board from a `yjs` or `json` export; the caller becomes its owner.
#[utoipa::path(
    tag = "boards",
    params(ImportQuery),
    request_body(content = Vec<u8>, description = "The export: a binary Yjs update, or the JSON export", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Created", body = BoardView),
        (status = 400, description = "The body is not a valid export", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Guest or disabled account", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "A form's content type (text/plain, application/x-www-form-urlencoded, multipart/form-data)", body = ErrorBody),
        (status = 429, description = "Too many boards created within the hour (EASEL_BOARDS_PER_HOUR); see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[post("/boards/import")]
pub async fn import(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    refuse_form_bodies(&req)?;
    caller.require_user()?;
    let allowance = allow_new_board(&state, &caller)?;
    let limit = state.config.realtime.max_message_bytes;
    let body =
        super::read_body(&req, payload, limit, "an import", "EASEL_MAX_MESSAGE_BYTES").await?;
    let max_doc_bytes = state.config.realtime.max_doc_bytes;
    let format = query.format;
    let _turn = super::conversion_turn(&state).await?;
    let decoded = tokio::task::spawn_blocking(move || imported(format, &body, max_doc_bytes))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let (initial, title) = decoded.map_err(import_error)?;
    let name = match query.into_inner().name {
        Some(name) => name,
        None => match title.as_deref().map(BoardName::parse) {
            Some(Ok(name)) => name,
            _ => BoardName::parse("Imported board")?,
        },
    };
    let board = create_for(&state, &caller, name, allowance).await?;
    if let Err(e) = state.store.append_updates(board.id, &[initial]).await {
        let _ = state.store.delete_board(board.id).await;
        return Err(e.into());
    }
    let board = state.store.get_board(board.id).await?;
    caller
        .audit(&state, "board.import", Some(board.id), None, None)
        .await;
    Ok(HttpResponse::Created().json(BoardView::new(&board, Some(Role::Owner))))
}

/// Leave to create one board, counted against the caller's `EASEL_BOARDS_PER_HOUR`:
/// [`create_for`] takes one, so no way of making a board can skip the count.
struct BoardAllowance(());

/// Counts a board the caller is about to create (429 past `EASEL_BOARDS_PER_HOUR`), before
/// any work is done for it.
fn allow_new_board(state: &AppState, caller: &Caller) -> Result<BoardAllowance, ApiError> {
    state.limits.new_board(caller.user())?;
    Ok(BoardAllowance(()))
}

/// Creates a board whose first owner is the caller.
async fn create_for(
    state: &AppState,
    caller: &Caller,
    name: BoardName,
    _allowance: BoardAllowance,
) -> Result<Board, ApiError> {
    let new = NewBoard {
        id: BoardId::new(),
        name,
        owner: caller.user().clone(),
    };
    Ok(state.store.create_board(&new).await?)
}

/// An import's body as the board's first state (a v1 update) and its title, checked against
/// the board limits: `EASEL_MAX_DOC_BYTES` encoded, and the memory it may take (see
/// [`scan::memory_cap`]).
fn imported(
    format: Format,
    body: &[u8],
    max_doc_bytes: u64,
) -> Result<(Vec<u8>, Option<String>), document::DocumentError> {
    let max_memory = scan::memory_cap(max_doc_bytes);
    let doc = match format {
        Format::Json => document::doc_from_update(&document::import_json(body)?)?,
        Format::Yjs => document::doc_from_client_update(body, max_memory)?,
        Format::Svg => {
            return Err(document::DocumentError::Invalid(
                "svg exports cannot be imported; use yjs or json".into(),
            ));
        }
    };
    let initial = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let memory = scan::memory_of(&initial);
    if initial.len() as u64 > max_doc_bytes || memory > max_memory {
        return Err(document::DocumentError::TooLarge(format!(
            "the board would be {} bytes ({memory} in memory); this server allows {max_doc_bytes} ({max_memory} in memory)",
            initial.len()
        )));
    }
    Ok((initial, document::title(&doc)))
}

/// The content types an HTML form can send to another site without asking it first.
const FORM_TYPES: [&str; 3] = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// Refuses (415) a body an HTML form could have sent: the import reads its body raw rather
/// than through the JSON extractor, so it must refuse them itself, or a form on another
/// site could post an export.
fn refuse_form_bodies(req: &HttpRequest) -> Result<(), ApiError> {
    let kind = req.content_type();
    if FORM_TYPES
        .iter()
        .any(|form| form.eq_ignore_ascii_case(kind))
    {
        return Err(ApiError::UnsupportedMediaType(
            "send an import as application/json or application/octet-stream".into(),
        ));
    }
    Ok(())
}

fn import_error(e: document::DocumentError) -> ApiError {
    match e {
        document::DocumentError::TooLarge(msg) => ApiError::TooLarge(msg),
        other => ApiError::BadRequest(other.to_string()),
    }
}
