//! Who may do what on a board: one rule shared by the WebSocket handshake and the REST API.
//!
//! Owns combining a verified token with the store's records into an [`Access`]: the
//! caller's membership, their account's admin flag, a token grant's fixed role, a guest's
//! share link (which must still exist and not have expired) and the token's id. It must
//! not map errors to responses (that is `error.rs`) and never touches rooms.

use super::admissions::Admissions;
use crate::auth::Principal;
use crate::domain::{BoardId, Role};
use crate::rooms::Access;
use crate::store::{Admission, StoreError, now_ms};

/// Why a caller has no access to a board.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The token was revoked (its holder logged out).
    #[error("token revoked")]
    Revoked,
    /// The caller's account is disabled.
    #[error("account disabled")]
    Disabled,
    /// The board does not exist.
    #[error("board not found")]
    NoBoard,
    /// The caller has no role on it.
    #[error("you have no access to this board")]
    NoRole,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The rules about a token and the account behind it, wherever they were read from: a
/// revoked token and a disabled account are refused, and an account's admin flag (not a
/// token minted before a change) says who is an admin. External and guest tokens have no
/// account. Returns whether the caller is an admin.
pub fn account_rules(
    principal: &Principal,
    revoked: bool,
    disabled: Option<bool>,
    admin: Option<bool>,
) -> Result<bool, AccessError> {
    if revoked {
        return Err(AccessError::Revoked);
    }
    if principal.external || principal.guest {
        return Ok(principal.admin);
    }
    if disabled == Some(true) {
        return Err(AccessError::Disabled);
    }
    Ok(admin.unwrap_or(principal.admin))
}

/// The caller's access to `board`, with the role each source gives, after the token and
/// account rules: everything read in one store query, which callers of the same board
/// arriving together share (joins come in storms).
pub async fn access_on(
    admissions: &Admissions,
    principal: &Principal,
    board: BoardId,
) -> Result<Access, AccessError> {
    let admission = admissions.read(principal, board).await?;
    access_from(principal, board, &admission)
}

/// Decides the caller's access to `board` from what the store said about it.
fn access_from(
    principal: &Principal,
    board: BoardId,
    admission: &Admission,
) -> Result<Access, AccessError> {
    let admin = account_rules(
        principal,
        admission.revoked,
        admission.disabled,
        admission.admin,
    )?;
    if !admission.board_exists {
        return Err(AccessError::NoBoard);
    }
    // An account's admin flag can change while the caller is connected; a token's claim,
    // where no account of this server backs it, cannot.
    let by_account = admission.admin.is_some() && !principal.external && !principal.guest;
    let fixed = [
        (admin && !by_account).then_some(Role::Owner),
        principal.grants.get(&board).copied(),
    ]
    .into_iter()
    .flatten()
    .max();
    let link = match (principal.link, admission.link) {
        (Some(id), Some((role, expires))) if expires.is_none_or(|at| at > now_ms()) => {
            Some((id, role))
        }
        _ => None,
    };
    let access = Access {
        user: principal.user.clone(),
        member: admission.member,
        fixed,
        admin: admin && by_account,
        link,
        jti: principal.jti.clone(),
    };
    if access.role().is_none() {
        return Err(AccessError::NoRole);
    }
    Ok(access)
}
