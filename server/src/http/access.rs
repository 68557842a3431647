//! Who may do what on a board: one rule shared by the WebSocket handshake and the REST API.
//!
//! Owns combining a verified token with the store's records into an [`Access`]: the
//! caller's membership, an admin's or a token grant's fixed role, and a guest's share link
//! (which must still exist and not have expired). It must not map errors to responses
//! (that is `error.rs`) and never touches rooms.

use crate::auth::Principal;
use crate::domain::{BoardId, Role};
use crate::rooms::Access;
use crate::store::{Admission, Store, StoreError, now_ms};

/// Why a caller has no access to a board.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
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

/// The caller's access to `board`, with the role each source gives (one store query).
pub async fn access_on(
    store: &dyn Store,
    principal: &Principal,
    board: BoardId,
) -> Result<Access, AccessError> {
    let admission = store
        .admission(
            &principal.user,
            principal.jti.as_deref(),
            board,
            principal.link,
        )
        .await?;
    access_from(principal, board, &admission)
}

/// Decides the caller's access to `board` from what the store said about it.
pub fn access_from(
    principal: &Principal,
    board: BoardId,
    admission: &Admission,
) -> Result<Access, AccessError> {
    if !admission.board_exists {
        return Err(AccessError::NoBoard);
    }
    let fixed = [
        principal.admin.then_some(Role::Owner),
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
        link,
    };
    if access.role().is_none() {
        return Err(AccessError::NoRole);
    }
    Ok(access)
}
