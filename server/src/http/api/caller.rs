//! The authenticated caller of a REST route, as an actix extractor.
//!
//! Owns reading the token (an `Authorization: Bearer` header, else the `easel_token`
//! cookie), verifying it, refusing revoked tokens (logout) and disabled accounts, and the
//! role checks handlers share. It must not decide anything about boards beyond asking
//! `access.rs`.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::super::AppState;
use super::super::access::{access_on, account_rules};
use super::super::error::ApiError;
use super::super::ws::TOKEN_COOKIE;
use crate::auth::{AuthError, Principal};
use crate::domain::{BoardId, Role, UserId};
use crate::rooms::Access;
use crate::store::{StoreError, User};

/// A caller whose token verified, whose token is not revoked and whose account (if it has
/// one) is enabled.
#[derive(Debug, Clone)]
pub struct Caller {
    /// What the token says.
    pub principal: Principal,
    /// The caller's account, when the token belongs to a built-in account.
    pub account: Option<User>,
}

impl Caller {
    /// The caller's user id.
    pub fn user(&self) -> &UserId {
        &self.principal.user
    }

    /// Refuses anyone but administrators (403).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.principal.admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden("administrators only"))
        }
    }

    /// Refuses guests, who may only use the board their link opened (403).
    pub fn require_user(&self) -> Result<(), ApiError> {
        if self.principal.guest {
            Err(ApiError::Forbidden("guests cannot do this; sign in"))
        } else {
            Ok(())
        }
    }

    /// Records in the audit log that the caller did `action` (through the store, like every audit entry).
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        board: Option<BoardId>,
        target: Option<&str>,
        details: Option<serde_json::Value>,
    ) {
        super::audit(
            state,
            Some(self.user().as_str()),
            action,
            board,
            target,
            details,
        )
        .await;
    }

    /// The caller's access to `board`, refused (403, or 404 for no such board) unless it
    /// gives at least `needed`.
    pub async fn on_board(
        &self,
        state: &AppState,
        board: BoardId,
        needed: Role,
    ) -> Result<Access, ApiError> {
        let access = access_on(&state.admissions, &self.principal, board).await?;
        match access.role() {
            Some(role) if role >= needed => Ok(access),
            _ => Err(ApiError::Forbidden(match needed {
                Role::Owner => "only the board's owners may do this",
                Role::Editor => "only editors may do this",
                Role::Viewer => "you have no access to this board",
            })),
        }
    }
}

/// The token a request carries: a bearer header first, then the cookie.
pub fn request_token(req: &HttpRequest) -> Option<String> {
    bearer_token(req).or_else(|| req.cookie(TOKEN_COOKIE).map(|c| c.value().to_owned()))
}

/// The token of an `Authorization: Bearer` header, if the request has one.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
}

/// Verifies a token and checks it against the store: not revoked, account not disabled.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<Caller, ApiError> {
    let mut principal = state.keys.verify(token.ok_or(AuthError::Missing)?)?;
    let revoked = match &principal.jti {
        Some(jti) => state.store.is_token_revoked(jti).await?,
        None => false,
    };
    let account = if principal.external || principal.guest {
        None
    } else {
        match state.store.get_user(&principal.user).await {
            Ok(user) => Some(user),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        }
    };
    principal.admin = account_rules(
        &principal,
        revoked,
        account.as_ref().map(|u| u.disabled),
        account.as_ref().map(|u| u.admin),
    )?;
    Ok(Caller { principal, account })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = request_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            authenticate(&state, token.as_deref()).await
        })
    }
}
