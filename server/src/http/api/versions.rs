//! Named versions over REST: save the current state under a name, list, read, restore.
//!
//! Owns the version views. A restore is a normal CRDT change made by the board's room, so
//! connected clients keep working and a restore can itself be undone by restoring again.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::AppState;
use super::super::error::{ApiError, ErrorBody};
use super::boards::{board_id, hub_error};
use super::caller::Caller;
use crate::document;
use crate::domain::{BoardId, Role, VersionName};
use crate::rooms::RestoreError;
use crate::store::{NewVersion, Version};

/// A version as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    /// The version id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The board's log sequence number it covers.
    pub seq: i64,
    /// Who saved it.
    pub created_by: Option<String>,
    /// When, milliseconds since the Unix epoch.
    pub created_at: i64,
}

impl From<&Version> for VersionView {
    fn from(v: &Version) -> Self {
        Self {
            id: v.id,
            name: v.label.clone(),
            seq: v.seq,
            created_by: v.created_by.as_ref().map(|u| u.as_str().to_owned()),
            created_at: v.created_at,
        }
    }
}

/// A board's versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    /// Newest first.
    pub items: Vec<VersionView>,
}

/// A version and its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionContent {
    /// The version.
    pub version: VersionView,
    /// Its content as the JSON export (`{"schema":1,"meta","elements","bindings","assets"}`).
    #[schema(value_type = Object)]
    pub document: Box<serde_json::value::RawValue>,
}

/// `POST /api/boards/{id}/versions` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    /// The name, 1 to 200 characters, none of them control, invisible or direction-changing.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: VersionName,
}

/// How long a restore waits for its change to be saved before answering 503.
const RESTORE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn version_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::BadRequest(format!("malformed version id: {raw:.64}")))
}

/// Saves the board's current state under a name (editors and owners), unless the board
/// already holds `EASEL_MAX_VERSIONS_PER_BOARD` versions (409).
#[utoipa::path(
    tag = "versions",
    params(("id" = Uuid, Path, description = "Board id")),
    request_body = CreateVersion,
    responses(
        (status = 201, description = "Saved", body = VersionView),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot save versions", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
        (status = 409, description = "The board already holds EASEL_MAX_VERSIONS_PER_BOARD versions", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[post("/boards/{id}/versions")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<CreateVersion>,
) -> Result<HttpResponse, ApiError> {
    let board = board_id(&path)?;
    caller.on_board(&state, board, Role::Editor).await?;
    let current = state.hub.state(board).await.map_err(hub_error)?;
    let version = state
        .store
        .create_version_within(
            &NewVersion {
                board,
                label: body.name.as_str(),
                seq: current.seq,
                state: &current.state,
                created_by: Some(caller.user()),
            },
            state.config.max_versions_per_board,
        )
        .await?;
    caller
        .audit(
            &state,
            "version.create",
            Some(board),
            Some(&version.id.to_string()),
            Some(serde_json::json!({ "name": version.label })),
        )
        .await;
    Ok(HttpResponse::Created().json(VersionView::from(&version)))
}

/// Lists a board's versions.
#[utoipa::path(
    tag = "versions",
    params(("id" = Uuid, Path, description = "Board id")),
    responses(
        (status = 200, description = "The versions", body = VersionList),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "No access", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards/{id}/versions")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<VersionList>, ApiError> {
    let board = board_id(&path)?;
    caller.on_board(&state, board, Role::Viewer).await?;
    let versions = state.store.list_versions(board).await?;
    Ok(web::Json(VersionList {
        items: versions.iter().map(VersionView::from).collect(),
    }))
}

async fn load(state: &AppState, board: BoardId, raw: &str) -> Result<(Version, Vec<u8>), ApiError> {
    let id = version_id(raw)?;
    Ok(state.store.get_version(board, id).await?)
}

/// A version's content, as the JSON export.
#[utoipa::path(
    tag = "versions",
    params(("id" = Uuid, Path, description = "Board id"), ("version" = Uuid, Path, description = "Version id")),
    responses(
        (status = 200, description = "The version", body = VersionContent),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "No access", body = ErrorBody),
        (status = 404, description = "No such board or version", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards/{id}/versions/{version}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<web::Json<VersionContent>, ApiError> {
    let (board, version) = path.into_inner();
    let board = board_id(&board)?;
    caller.on_board(&state, board, Role::Viewer).await?;
    let (version, bytes) = load(&state, board, &version).await?;
    // Converting a big board takes a while: off the worker thread, a few at a time,
    // straight to JSON text.
    let _turn = super::conversion_turn(&state).await?;
    let json = tokio::task::spawn_blocking(move || {
        let doc = document::doc_from_update(&bytes)?;
        Ok::<_, document::DocumentError>(document::write_json(&doc))
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))?
    .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let document = String::from_utf8(json)
        .ok()
        .and_then(|text| serde_json::value::RawValue::from_string(text).ok())
        .ok_or_else(|| ApiError::Internal("the JSON export is not JSON".into()))?;
    Ok(web::Json(VersionContent {
        version: VersionView::from(&version),
        document,
    }))
}

/// Makes a version the board's live content, for everyone connected, as a normal edit.
#[utoipa::path(
    tag = "versions",
    params(("id" = Uuid, Path, description = "Board id"), ("version" = Uuid, Path, description = "Version id")),
    responses(
        (status = 200, description = "Restored", body = VersionView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers cannot restore", body = ErrorBody),
        (status = 404, description = "No such board or version", body = ErrorBody),
        (status = 503, description = "Storage unavailable; try again", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[post("/boards/{id}/versions/{version}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<web::Json<VersionView>, ApiError> {
    let (board, version) = path.into_inner();
    let board = board_id(&board)?;
    caller.on_board(&state, board, Role::Editor).await?;
    let (version, bytes) = load(&state, board, &version).await?;
    let _turn = super::conversion_turn(&state).await?;
    let target = document::doc_from_update(&bytes).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let restored = tokio::time::timeout(RESTORE_WAIT, state.hub.restore(board, target))
        .await
        .map_err(|_| {
            ApiError::Unavailable(
                "the restore is applied but not saved yet (the database is slow or down); it is saved once the database answers",
            )
        })?;
    restored.map_err(|e| match e {
        RestoreError::Join(e) => hub_error(e),
        RestoreError::NotSaved => {
            ApiError::Unavailable("the restore could not be saved; try again")
        }
    })?;
    caller
        .audit(
            &state,
            "version.restore",
            Some(board),
            Some(&version.id.to_string()),
            Some(serde_json::json!({ "name": version.label })),
        )
        .await;
    Ok(web::Json(VersionView::from(&version)))
}
