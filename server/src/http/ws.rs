//! `GET /ws/boards/{board_id}`: the WebSocket handshake and the connection loop.
//!
//! Owns admission (Origin, token, role and capacity are all checked while handling the
//! upgrade request, before any room is touched) and each connection's one `select!` over
//! inbound frames, pings, token expiry and kicks. The room writes outbound frames straight
//! into actix-ws's queue through the connection's [`Outbox`]. Decoding is `protocol`'s
//! job; applying is the room's. A refused client gets no board data: the
//! upgrade completes and the socket closes at once with 4401/4403/4404 and a reason.

use std::num::NonZeroU32;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{AggregatedMessage, Session};
use bytes::Bytes;
use futures_util::Sink;
use governor::clock::MonotonicClock;
use governor::{Quota, RateLimiter};
use serde::Deserialize;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::AppState;
use super::access::{AccessError, access_on};
use super::error::{ApiError, ErrorBody, SocketClose};
use crate::auth::{AuthError, Principal};
use crate::config::{Config, Realtime};
use crate::domain::BoardId;
use crate::metrics::metrics;
use crate::protocol;
use crate::rooms::{Access, AccessChange, ConnId, Gone, Joining, Kick, Outbox, RoomHandle};

/// The cookie a browser may carry its token in.
pub const TOKEN_COOKIE: &str = "easel_token";

#[derive(Deserialize)]
struct Params {
    token: Option<String>,
}

/// Who may join, as decided at the handshake.
struct Admitted {
    board: BoardId,
    access: Access,
    principal: Principal,
    /// The hub's access epoch before access was read from the store.
    epoch: u64,
}

/// `GET /ws/boards/{board_id}`: the realtime endpoint (y-sync over WebSocket).
#[utoipa::path(
    tag = "realtime",
    params(
        ("board_id" = String, Path, description = "Board id"),
        ("token" = Option<String>, Query, description = "The JWT (or send the easel_token cookie)"),
    ),
    responses(
        (status = 101, description = "Upgraded. Refusals (bad token, no role, no such board) complete the upgrade and close at once with 4401/4403/4404 and a reason; see docs/realtime.md for every close code."),
        (status = 400, description = "Not a WebSocket upgrade", body = ErrorBody),
        (status = 403, description = "Origin not allowed", body = ErrorBody),
        (status = 503, description = "Node or board at its connection limit, database down, or shutting down; retry", body = ErrorBody),
    )
)]
#[get("/ws/boards/{board_id}")]
pub async fn board_socket(
    req: HttpRequest,
    body: web::Payload,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !is_websocket_upgrade(&req) {
        return Err(ApiError::BadRequest(
            "this endpoint needs a WebSocket upgrade".into(),
        ));
    }
    if !origin_allowed(&req, &state.config) {
        metrics().rejected.with_label_values(&["origin"]).inc();
        return Err(ApiError::Forbidden("origin not allowed"));
    }
    let realtime = &state.config.realtime;
    if state.hub.is_shutting_down() {
        return Err(ApiError::Unavailable("the server is shutting down"));
    }
    if state.hub.connections() >= realtime.max_connections {
        metrics().rejected.with_label_values(&["node_full"]).inc();
        return Err(ApiError::Unavailable(
            "this server is at its connection limit",
        ));
    }
    let epoch = state.hub.access_epoch();
    let decision = admit(&req, &path, &state, epoch).await?;
    if let Ok(a) = &decision
        && state.hub.members(a.board) >= realtime.max_room_connections
    {
        metrics().rejected.with_label_values(&["room_full"]).inc();
        return Err(ApiError::Unavailable(
            "this board is at its connection limit",
        ));
    }
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::BadRequest(format!("websocket handshake failed: {e}")))?;
    match decision {
        Err(refusal) => {
            metrics()
                .rejected
                .with_label_values(&[refusal.label()])
                .inc();
            tracing::debug!(code = refusal.code(), reason = %refusal, "websocket refused");
            actix_web::rt::spawn(async move {
                let _ = session.close(Some(refusal.reason())).await;
            });
        }
        Ok(admitted) => {
            let stream = stream
                .max_frame_size(realtime.max_message_bytes)
                .aggregate_continuations()
                .max_continuation_size(realtime.max_message_bytes);
            let realtime = realtime.clone();
            actix_web::rt::spawn(connection(
                session,
                stream,
                state.clone(),
                admitted,
                realtime,
            ));
        }
    }
    Ok(response)
}

/// Checks token and role. `Err(ApiError)` refuses with an HTTP status (store down);
/// `Ok(Err(close))` completes the upgrade and closes with a 44xx code.
async fn admit(
    req: &HttpRequest,
    path: &str,
    state: &AppState,
    epoch: u64,
) -> Result<Result<Admitted, SocketClose>, ApiError> {
    let token = web::Query::<Params>::from_query(req.query_string())
        .ok()
        .and_then(|p| p.into_inner().token)
        .or_else(|| req.cookie(TOKEN_COOKIE).map(|c| c.value().to_owned()));
    let principal = match token.as_deref().map(|t| state.keys.verify(t)) {
        None => return Ok(Err(AuthError::Missing.into())),
        Some(Err(e)) => return Ok(Err(e.into())),
        Some(Ok(p)) => p,
    };
    let Ok(board) = BoardId::parse(path) else {
        return Ok(Err(SocketClose::NotFound));
    };
    let access = match access_on(&state.admissions, &principal, board).await {
        Ok(access) => access,
        Err(AccessError::Store(e)) => return Err(e.into()),
        Err(refused) => return Ok(Err(refused.into())),
    };
    Ok(Ok(Admitted {
        board,
        access,
        principal,
        epoch,
    }))
}

fn is_websocket_upgrade(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Requests without an Origin come from non-browser clients and are allowed; browsers
/// must come from an allowed origin: this server's own, `EASEL_PUBLIC_URL`'s or one of
/// `EASEL_ALLOWED_ORIGINS` (the rule cookie-carrying REST requests follow too).
fn origin_allowed(req: &HttpRequest, config: &Config) -> bool {
    req.headers().get(header::ORIGIN).is_none() || super::csrf::origin_allowed(req, Some(config))
}

/// A connection's [`Outbox`]: actix-ws's bounded queue to the socket, filled by the room.
struct SocketOutbox(Session);

impl Outbox for SocketOutbox {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Gone>> {
        Pin::new(&mut self.0).poll_ready(cx).map_err(|_| Gone)
    }

    fn send(&mut self, frame: Bytes) -> Result<(), Gone> {
        Pin::new(&mut self.0)
            .start_send(actix_ws::Message::Binary(frame))
            .map_err(|_| Gone)
    }
}

#[tracing::instrument(skip_all, fields(board_id = %admitted.board, conn_id))]
async fn connection(
    mut session: Session,
    mut stream: actix_ws::AggregatedMessageStream,
    state: web::Data<AppState>,
    admitted: Admitted,
    realtime: Realtime,
) {
    let hub = &state.hub;
    let conn: ConnId = hub.next_conn_id();
    tracing::Span::current().record("conn_id", conn);
    let (kick, mut kicked) = oneshot::channel();
    let joining = Joining {
        conn,
        access: admitted.access.clone(),
        out: Box::new(SocketOutbox(session.clone())),
        kick,
    };
    let room = match hub.join(admitted.board, joining).await {
        Ok(room) => room,
        Err(e) => {
            let _ = session.close(Some(SocketClose::from(e).reason())).await;
            return;
        }
    };
    if hub.access_epoch() != admitted.epoch {
        recheck_access(&state, &admitted).await;
    }
    let close = serve(
        &mut session,
        &mut stream,
        &room,
        conn,
        &mut kicked,
        &admitted,
        &realtime,
    )
    .await;
    room.leave(conn).await;
    hub.connection_closed();
    tracing::debug!(
        code = close.as_ref().map(SocketClose::code),
        "connection closed"
    );
    if let Some(reason) = &close {
        metrics()
            .rejected
            .with_label_values(&[reason.label()])
            .inc();
    }
    let _ = session.close(close.map(|c| c.reason())).await;
}

/// An access change applied between the handshake's lookup and the join reached no room,
/// or a room without this connection: read the access again now that the connection is in
/// the room, and hand the room any difference.
async fn recheck_access(state: &AppState, admitted: &Admitted) {
    let (board, user) = (admitted.board, &admitted.principal.user);
    let (member, admin, link) = match access_on(&state.admissions, &admitted.principal, board).await
    {
        Ok(now) => (now.member, now.admin, now.link),
        Err(AccessError::NoRole) => (None, false, None),
        Err(AccessError::NoBoard) => return state.hub.board_deleted(board).await,
        Err(AccessError::Disabled) => {
            let change = AccessChange::UserDisabled(user.clone());
            return state.hub.change_access(board, change).await;
        }
        Err(AccessError::Revoked) => {
            if let Some(jti) = &admitted.access.jti {
                let change = AccessChange::TokenRevoked {
                    user: user.clone(),
                    jti: jti.clone(),
                };
                state.hub.change_access(board, change).await;
            }
            return;
        }
        Err(e @ AccessError::Store(_)) => {
            tracing::debug!(error = %crate::telemetry::chain(&e), "access recheck skipped");
            return;
        }
    };
    if admin != admitted.access.admin {
        let change = AccessChange::Admin {
            user: user.clone(),
            admin,
        };
        state.hub.change_access(board, change).await;
    }
    if member != admitted.access.member {
        let change = AccessChange::Member {
            user: user.clone(),
            role: member,
        };
        state.hub.change_access(board, change).await;
    }
    if let (Some((revoked, _)), None) = (admitted.access.link, link) {
        state
            .hub
            .change_access(board, AccessChange::LinkRevoked(revoked))
            .await;
    }
}

/// The connection loop; returns why it ended (`None`: the client closed or vanished).
#[allow(clippy::too_many_arguments)]
async fn serve(
    session: &mut Session,
    stream: &mut actix_ws::AggregatedMessageStream,
    room: &RoomHandle,
    conn: ConnId,
    kicked: &mut oneshot::Receiver<Kick>,
    admitted: &Admitted,
    realtime: &Realtime,
) -> Option<SocketClose> {
    let per_sec = NonZeroU32::new(realtime.rate_per_sec).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(realtime.rate_burst).unwrap_or(per_sec);
    // governor's default clock probes the CPU with `cpuid` each time one is made, which a
    // virtual machine traps: that cost every handshake of a join storm ~3 % of its CPU.
    let limiter = RateLimiter::direct_with_clock(
        Quota::per_second(per_sec).allow_burst(burst),
        MonotonicClock,
    );
    let limits = protocol::FrameLimits {
        max_messages: protocol::MAX_MESSAGES_PER_FRAME,
        max_awareness_bytes: realtime.max_awareness_bytes,
        max_memory: protocol::scan::memory_cap(realtime.max_message_bytes as u64),
    };
    let mut ping =
        tokio::time::interval_at(Instant::now() + realtime.ping_every, realtime.ping_every);
    let mut last_heard = Instant::now();
    let expiry = tokio::time::sleep_until(expiry_instant(admitted.principal.expires_at));
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            biased;
            // A member dropped without a reason is one whose socket the room found closed.
            why = &mut *kicked => return why.ok().map(SocketClose::Kicked),
            msg = stream.recv() => {
                last_heard = Instant::now();
                match msg {
                    Some(Ok(AggregatedMessage::Binary(bytes))) => {
                        metrics().bytes_in.inc_by(bytes.len() as u64);
                        let decoded = protocol::decode_frame(&bytes, &limits);
                        // Every message counts against the rate, at least one per frame.
                        let cost = decoded.as_ref().map_or(1, Vec::len).max(1);
                        let within = NonZeroU32::new(cost as u32)
                            .is_some_and(|n| matches!(limiter.check_n(n), Ok(Ok(()))));
                        if !within {
                            return Some(SocketClose::RateLimited);
                        }
                        match decoded {
                            Ok(messages) if messages.is_empty() => {}
                            Ok(messages) => {
                                for m in &messages {
                                    metrics().messages_in.with_label_values(&[m.kind()]).inc();
                                }
                                if !room.send(conn, messages).await {
                                    return Some(SocketClose::Kicked(Kick::ShuttingDown));
                                }
                            }
                            Err(e) => return Some(SocketClose::Malformed(e)),
                        }
                    }
                    Some(Ok(AggregatedMessage::Text(_))) => return Some(SocketClose::TextFrame),
                    Some(Ok(AggregatedMessage::Ping(p))) => {
                        if session.pong(&p).await.is_err() {
                            return None;
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {}
                    Some(Ok(AggregatedMessage::Close(_))) | None => return None,
                    Some(Err(actix_ws::ProtocolError::Overflow)) => return Some(SocketClose::TooBig),
                    Some(Err(_)) => return Some(SocketClose::Protocol),
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= realtime.silence_timeout {
                    return Some(SocketClose::Silent);
                }
                if session.ping(b"").await.is_err() {
                    return None;
                }
            }
            _ = &mut expiry => return Some(SocketClose::Unauthorized(AuthError::Expired.to_string())),
        }
    }
}

fn expiry_instant(exp: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let left = exp.saturating_sub(now);
    Instant::now() + Duration::from_secs(left.min(10 * 365 * 86_400))
}
