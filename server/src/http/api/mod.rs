//! The REST API under `/api`: accounts, boards, members, share links, versions, images,
//! export/import and administration, plus its OpenAPI document.
//!
//! Owns the routes, their request/response shapes and who may call them. Every route is
//! registered through `utoipa-actix-web`, so the OpenAPI document at `/api/openapi.json`
//! lists exactly the routes that exist. Handlers reach storage only through the `Store`
//! trait and live rooms only through the `Hub`; errors become responses in `error.rs`.

mod admin;
mod assets;
mod auth;
mod boards;
mod caller;
mod links;
mod members;
mod versions;

use actix_web::{HttpResponse, web};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope::Scope;

use super::AppState;
use super::error::ErrorBody;
use crate::domain::BoardId;
use crate::telemetry::chain;

pub use caller::{Caller, authenticate, bearer_token, request_token};

/// Whole-board conversions (imports, JSON and SVG exports, version reads) that may run at
/// once. Each holds a decoded copy of a board, up to `EASEL_MAX_DOC_BYTES`' memory bound;
/// more wait their turn for up to [`CONVERSION_WAIT`], then get 503.
pub const CONCURRENT_CONVERSIONS: usize = 2;

/// How long a conversion waits for its turn before the request gets 503.
pub const CONVERSION_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Waits for a turn to convert a whole board (see [`CONCURRENT_CONVERSIONS`]).
pub(super) async fn conversion_turn(
    state: &AppState,
) -> Result<tokio::sync::SemaphorePermit<'_>, super::error::ApiError> {
    match tokio::time::timeout(CONVERSION_WAIT, state.conversions.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(super::error::ApiError::Unavailable(
            "too many boards are being converted; try again shortly",
        )),
    }
}

/// Reads a raw request body of at most `max` bytes: a declared `Content-Length` over it is
/// refused before anything is read, and the body is never buffered past it. The 413 says
/// what the body is (`what`, e.g. "an image") and which setting bounds it (`setting`).
pub(super) async fn read_body(
    req: &actix_web::HttpRequest,
    mut payload: web::Payload,
    max: usize,
    what: &str,
    setting: &str,
) -> Result<Vec<u8>, super::error::ApiError> {
    use futures_util::StreamExt;
    let too_large = || {
        super::error::ApiError::TooLarge(format!("{what} may hold at most {max} bytes ({setting})"))
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.map_or(0, |len| len as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| super::error::ApiError::BadRequest(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The OpenAPI document's fixed parts; the paths come from the registered routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Easel API",
        description = "Accounts, boards, members, share links, versions, images, export/import and administration for Easel, the self-hosted collaborative whiteboard. Every error has the body `{\"error\":{\"code\",\"message\"}}`."
    ),
    modifiers(&Security),
    components(schemas(boards::Archived, boards::Format, ErrorBody)),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "boards", description = "Boards and their documents"),
        (name = "members", description = "Who may use a board"),
        (name = "links", description = "Share links"),
        (name = "versions", description = "Named versions of a board"),
        (name = "assets", description = "Images placed on a board"),
        (name = "admin", description = "Administration (admins only)"),
        (name = "realtime", description = "The y-sync WebSocket"),
        (name = "operations", description = "Probes and metrics"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("easel_token"))),
        );
    }
}

/// Adds the failures any route can answer with to every operation: 500 and 503 always,
/// 403 on every state-changing method (the cross-site check in `csrf.rs`), 413 and 415
/// where a body is read, so the document holds every status the API sends.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            let changes = [false, true, true, true, true];
            for (op, changes) in operations.into_iter().zip(changes) {
                let Some(op) = op else { continue };
                let mut common = vec![
                    ("500", "Internal error (details are logged, not sent)"),
                    (
                        "503",
                        "The database is unreachable or the server is stopping; retry",
                    ),
                ];
                if changes {
                    common.push((
                        "403",
                        "Cross-site request refused: the session cookie without an allowed Origin",
                    ));
                }
                if op.request_body.is_some() {
                    common.push(("413", "The body is too large"));
                    common.push(("415", "Wrong Content-Type"));
                }
                for (status, description) in common {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description));
                }
            }
        }
    }
}

/// Every `/api` route, for registering on a `utoipa-actix-web` app.
pub fn scope() -> Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope("/api")
        .default_service(web::to(super::error::not_found))
        .route("/openapi.json", web::get().to(openapi_json))
        .service(auth::register)
        .service(auth::login)
        .service(auth::logout)
        .service(auth::me)
        .service(boards::create)
        .service(boards::list)
        .service(boards::import)
        .service(boards::get)
        .service(boards::update)
        .service(boards::delete)
        .service(boards::export)
        .service(members::list)
        .service(members::put)
        .service(members::remove)
        .service(links::create)
        .service(links::list)
        .service(links::revoke)
        .service(links::join)
        .service(versions::create)
        .service(versions::list)
        .service(versions::get)
        .service(versions::restore)
        .service(assets::upload)
        .service(assets::get)
        .service(admin::stats)
        .service(admin::users)
        .service(admin::set_disabled)
        .service(admin::audit_log)
}

/// The OpenAPI document of every route `http::services` registers, as JSON. Built once at start:
/// the paths come from the registered handlers themselves, so none can be missing.
pub fn openapi_document() -> String {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::services)
        .split_for_parts();
    let mut doc = doc;
    CommonResponses.modify(&mut doc);
    doc.to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// `GET /api/openapi.json`.
async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.as_str().to_owned())
}

/// Records who did what to which board. A failure is logged, not returned: the change it
/// describes has already happened.
pub(super) async fn audit(
    state: &AppState,
    actor: Option<&str>,
    action: &str,
    board: Option<BoardId>,
    target: Option<&str>,
    details: Option<serde_json::Value>,
) {
    let entry = crate::store::NewAudit {
        actor,
        action,
        board,
        target,
        details,
    };
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::warn!(action, error = %chain(&e), "could not write the audit log");
    }
}
