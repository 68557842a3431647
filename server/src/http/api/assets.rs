//! Images on boards over REST: upload (editors and owners) and read (anyone who may read
//! the board, share-link guests included).
//!
//! Owns the two asset routes, reading an upload's body within `EASEL_MAX_ASSET_BYTES`, and
//! the headers images are served with. What an image is comes from `image` (its bytes,
//! never the client's `Content-Type`); the bytes live in the store. The document's `assets`
//! map (`{mime, w, h, hash}`) is the client's to write: these routes never touch documents.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::AppState;
use super::super::error::{ApiError, ErrorBody};
use super::boards::board_id;
use super::caller::Caller;
use crate::domain::Role;
use crate::image::{self, is_asset_id};
use crate::store::{Asset, NewAsset};

/// `Cache-Control` of an image: its URL names its content, so it never changes; `private`
/// because only the board's readers may see it.
const CACHE_FOREVER: &str = "private, max-age=31536000, immutable";

/// `Content-Security-Policy` of an image opened on its own: nothing may run or load.
const NOTHING_RUNS: &str = "default-src 'none'; sandbox";

/// A stored image, as the upload answers it. The `mime`, `w`, `h` and `hash` fields are
/// what the document's `assets` map holds under `id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetView {
    /// The asset id: the SHA-256 of the bytes, lowercase hex (the same as `hash`).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub id: String,
    /// The image type, read from the bytes.
    #[schema(example = "image/png")]
    pub mime: String,
    /// Width in pixels, from the image's header.
    pub w: u32,
    /// Height in pixels, from the image's header.
    pub h: u32,
    /// The SHA-256 of the bytes, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// Size in bytes.
    pub bytes: i64,
}

impl From<&Asset> for AssetView {
    fn from(a: &Asset) -> Self {
        Self {
            id: a.id.clone(),
            mime: a.mime.clone(),
            w: a.width,
            h: a.height,
            hash: a.id.clone(),
            bytes: a.size,
        }
    }
}

/// Stores an image for the board (editors and owners). The body is the image file itself;
/// its type and dimensions are read from its bytes, whatever the `Content-Type` says.
/// Uploading bytes the board already holds stores nothing new and answers the same.
#[utoipa::path(
    tag = "assets",
    operation_id = "upload_asset",
    params(("id" = Uuid, Path, description = "Board id")),
    request_body(content = Vec<u8>, description = "The image file: PNG, JPEG, GIF or WebP, at most EASEL_MAX_ASSET_BYTES (any Content-Type; the type is read from the bytes)", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored (or already stored: the same bytes keep one copy)", body = AssetView),
        (status = 400, description = "Malformed id or unreadable body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers and non-members cannot upload", body = ErrorBody),
        (status = 404, description = "No such board", body = ErrorBody),
        (status = 409, description = "The board's images would take more than EASEL_MAX_BOARD_ASSET_BYTES", body = ErrorBody),
        (status = 413, description = "The image is larger than EASEL_MAX_ASSET_BYTES", body = ErrorBody),
        (status = 415, description = "Not a PNG, JPEG, GIF or WebP image (SVG is refused), or a side of 0 or over 16384 pixels", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[post("/boards/{id}/assets")]
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let board = board_id(&path)?;
    caller.on_board(&state, board, Role::Editor).await?;
    let bytes = super::read_body(
        &req,
        payload,
        state.config.max_asset_bytes,
        "an image",
        "EASEL_MAX_ASSET_BYTES",
    )
    .await?;
    let sniffed = image::sniff(&bytes)?;
    let asset = state
        .store
        .put_asset(
            &NewAsset {
                board,
                mime: sniffed.mime,
                width: sniffed.width,
                height: sniffed.height,
                bytes: &bytes,
            },
            state.config.max_board_asset_bytes,
        )
        .await?;
    caller
        .audit(
            &state,
            "asset.upload",
            Some(board),
            Some(&asset.id),
            Some(serde_json::json!({ "mime": asset.mime, "bytes": asset.size })),
        )
        .await;
    Ok(HttpResponse::Created().json(AssetView::from(&asset)))
}

/// One of the board's images, to anyone who may read the board. Its URL names its content,
/// so it is cached for good; `ETag` is its hash.
#[utoipa::path(
    tag = "assets",
    operation_id = "get_asset",
    params(
        ("id" = Uuid, Path, description = "Board id"),
        ("asset_id" = String, Path, description = "Asset id: the SHA-256 of the image, lowercase hex", pattern = "^[0-9a-f]{64}$"),
    ),
    responses(
        (status = 200, description = "The image, with Cache-Control: private, max-age=31536000, immutable and X-Content-Type-Options: nosniff",
            content(
                (Vec<u8> = "image/png"),
                (Vec<u8> = "image/jpeg"),
                (Vec<u8> = "image/gif"),
                (Vec<u8> = "image/webp"),
            ),
            headers(
                ("ETag" = String, description = "The asset id, quoted"),
                ("Cache-Control" = String, description = "private, max-age=31536000, immutable"),
            )
        ),
        (status = 304, description = "Not modified: If-None-Match named this asset"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "No access", body = ErrorBody),
        (status = 404, description = "No such board, or the board holds no such asset", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/boards/{id}/assets/{asset_id}")]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (board, asset) = path.into_inner();
    let board = board_id(&board)?;
    caller.on_board(&state, board, Role::Viewer).await?;
    if !is_asset_id(&asset) {
        return Err(ApiError::BadRequest(format!(
            "malformed asset id: {asset:.64} (expected 64 lowercase hex digits)"
        )));
    }
    let etag = format!("\"{asset}\"");
    // The id is the content's hash: a client holding that tag holds these very bytes.
    let mut response = if names_etag(&req, &etag) {
        HttpResponse::NotModified().finish()
    } else {
        let (asset, bytes) = state.store.get_asset(board, &asset).await?;
        HttpResponse::Ok().content_type(asset.mime).body(bytes)
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, CACHE_FOREVER),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, NOTHING_RUNS),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    Ok(response)
}

/// Whether the request's `If-None-Match` names `etag`.
fn names_etag(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag)
}
