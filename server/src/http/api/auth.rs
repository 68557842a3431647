//! Built-in accounts over REST: register, log in, log out, and who am I.
//!
//! Owns registration (a taken email answers like a new one), the session cookie and the
//! account views. Rate limits are `limits`' job, password hashing and tokens `auth`'s,
//! storage the store's.

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::AppState;
use super::super::error::{ApiError, ErrorBody};
use super::super::ws::TOKEN_COOKIE;
use super::audit;
use super::caller::Caller;
use crate::auth::{self, TokenRequest};
use crate::domain::{DisplayName, Email, NewPassword, Password, UserId};
use crate::rooms::AccessChange;
use crate::store::{NewUser, StoreError, User};

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// The user id (a token's `sub`).
    pub id: String,
    /// Email address; absent for users who exist only in tokens.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Whether the user is an administrator.
    pub admin: bool,
    /// Whether the account is disabled (only for accounts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.as_str().to_owned(),
            email: Some(u.email.clone()),
            name: Some(u.name.clone()),
            admin: u.admin,
            disabled: Some(u.disabled),
        }
    }
}

/// `POST /api/auth/register` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// Email address (unique, case-insensitive).
    #[schema(value_type = String, format = Email, max_length = 320)]
    pub email: Email,
    /// Display name, 1 to 100 characters, none of them control, invisible or
    /// direction-changing.
    #[schema(
        value_type = String,
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
    )]
    pub name: DisplayName,
    /// Password, 8 to 256 characters, no control characters.
    #[schema(value_type = String, min_length = 8, max_length = 256, pattern = r"\S")]
    pub password: NewPassword,
}

/// `POST /api/auth/register` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    /// The new account.
    pub user: UserView,
}

/// `POST /api/auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Email address.
    #[schema(value_type = String, format = Email, max_length = 320)]
    pub email: Email,
    /// Password (no control characters).
    #[schema(value_type = String, min_length = 1, max_length = 256)]
    pub password: Password,
}

/// `POST /api/auth/login` answer (the token is also set as the `easel_token` cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedIn {
    /// A bearer token for the API and the WebSocket.
    pub token: String,
    /// When the token expires, seconds since the Unix epoch.
    pub expires_at: u64,
    /// The account.
    pub user: UserView,
}

/// Creates an account (when `EASEL_OPEN_SIGNUP` allows it).
///
/// The answer does not tell whether the email already had an account: for a taken email
/// nothing is created, but the caller gets the same 201 and body (a fresh id, the email
/// and name given) after the same work, one password hash, so neither the content nor
/// the time taken gives it away. Whoever owns the address signs in with their own
/// password; the new one opens nothing. The attempt is audited as
/// `user.register_existing`.
#[utoipa::path(
    tag = "auth",
    request_body = Register,
    responses(
        (status = 201, description = "Account created, or the email already had one (nothing is created then; the answer looks the same)", body = Registered),
        (status = 400, description = "Malformed input or weak password", body = ErrorBody),
        (status = 403, description = "Sign-up is closed", body = ErrorBody),
        (status = 429, description = "Too many sign-ups from this address; see Retry-After", body = ErrorBody),
    )
)]
#[post("/auth/register")]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Register>,
) -> Result<HttpResponse, ApiError> {
    if !state.config.open_signup {
        return Err(ApiError::Forbidden("sign-up is closed on this server"));
    }
    state.limits.signup(req.peer_addr().map(|a| a.ip()))?;
    let Register {
        email,
        name,
        password,
    } = body.into_inner();
    let existing = state.store.find_user_by_email(email.as_str()).await?;
    // Hashed whether or not the email is taken: the answer must take as long either way.
    let hash = auth::hash_password(password.expose()).await?;
    let new = NewUser {
        id: UserId::parse(&Uuid::new_v4().to_string())?,
        email: email.into(),
        name: name.into(),
        password_hash: Some(hash),
        admin: false,
    };
    let created = match existing {
        Some(_) => None,
        None => match state.store.create_user(&new).await {
            Ok(user) => Some(user),
            // Registered by someone else between the check and now.
            Err(StoreError::Conflict(_)) => None,
            Err(e) => return Err(e.into()),
        },
    };
    let user = match created {
        Some(user) => {
            audit(
                &state,
                Some(user.id.as_str()),
                "user.register",
                None,
                None,
                None,
            )
            .await;
            UserView::from(&user)
        }
        None => {
            let target = existing.as_ref().map(|u| u.id.as_str());
            audit(&state, None, "user.register_existing", None, target, None).await;
            UserView {
                id: new.id.as_str().to_owned(),
                email: Some(new.email),
                name: Some(new.name),
                admin: false,
                disabled: Some(false),
            }
        }
    };
    Ok(HttpResponse::Created().json(Registered { user }))
}

/// Exchanges email and password for a token (also set as an HttpOnly cookie).
#[utoipa::path(
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in", body = LoggedIn),
        (status = 400, description = "Malformed input", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "Account disabled", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let email = body.email.as_str();
    state.limits.login(req.peer_addr().map(|a| a.ip()), email)?;
    let user = state.store.find_user_by_email(email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let ok = auth::verify_password(body.password.expose(), hash).await;
    let user = match user {
        Some(user) if ok => user,
        _ => {
            return Err(ApiError::Unauthorized(auth::AuthError::Invalid(
                "wrong email or password".into(),
            )));
        }
    };
    if user.disabled {
        return Err(ApiError::Forbidden("account disabled"));
    }
    let ttl = state.config.token_ttl;
    let token = state.keys.issue(&TokenRequest {
        name: Some(user.name.clone()),
        admin: user.admin,
        ..TokenRequest::new(user.id.clone(), ttl)
    })?;
    let expires_at = state.keys.verify(&token)?.expires_at;
    let cookie = session_cookie(&req, &state, token.clone(), ttl);
    Ok(HttpResponse::Ok().cookie(cookie).json(LoggedIn {
        token,
        expires_at,
        user: UserView::from(&user),
    }))
}

/// Revokes the caller's token and clears the cookie; WebSockets opened with the token
/// close at once (4401).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    if let Some(jti) = &caller.principal.jti {
        let expires_ms = (caller.principal.expires_at as i64).saturating_mul(1000);
        state
            .store
            .revoke_token(caller.user(), jti, expires_ms)
            .await?;
        let change = AccessChange::TokenRevoked {
            user: caller.user().clone(),
            jti: jti.clone(),
        };
        state.hub.change_access_everywhere(change).await;
    }
    let mut cookie = session_cookie(&req, &state, String::new(), Duration::ZERO);
    cookie.make_removal();
    Ok(HttpResponse::NoContent().cookie(cookie).finish())
}

/// The caller.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = UserView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Account disabled", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
#[get("/me")]
pub async fn me(caller: Caller) -> web::Json<UserView> {
    web::Json(match &caller.account {
        Some(user) => UserView::from(user),
        None => UserView {
            id: caller.user().as_str().to_owned(),
            email: None,
            name: caller.principal.name.clone(),
            admin: caller.principal.admin,
            disabled: None,
        },
    })
}

fn session_cookie(
    req: &HttpRequest,
    state: &AppState,
    value: String,
    ttl: Duration,
) -> Cookie<'static> {
    let secure = req.connection_info().scheme() == "https"
        || state
            .config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
    Cookie::build(TOKEN_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::seconds(ttl.as_secs() as i64))
        .finish()
}
