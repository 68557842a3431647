//! Building and running the server: `Application::build(config)` opens the store, applies
//! migrations, binds the listener and starts HTTP; `run_until_stopped` waits for the end.
//!
//! Owns the start-up and shutdown order: stop accepting, let in-flight requests finish
//! (up to `EASEL_SHUTDOWN_TIMEOUT_SECS`), then close the store's pool. A second signal
//! exits at once. Start-up also creates the first administrator (`EASEL_ADMIN_EMAIL`) when
//! no account has that email, starts following the change feed before serving, and starts
//! the metrics server on `EASEL_METRICS_BIND` when it is set (stopped with the app). On the
//! embedded SQLite store it first takes the store's [`ServeLock`], held until the store is
//! closed, so a second server on the same file refuses to start. With `EASEL_TLS_CERT` and
//! `EASEL_TLS_KEY` set it serves HTTPS/WSS on `EASEL_BIND` with the [`Tls`] material, whose
//! `SIGHUP` reload runs until the server stops (metrics stay plain HTTP).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use utoipa_actix_web::AppExt;

use crate::auth::{JwtKeys, hash_password};
use crate::config::{Config, Database, FirstAdmin};
use crate::domain::UserId;
use crate::feed::{self, FeedSettings};
use crate::http::{self, AppState};
use crate::rooms::{Hub, RoomSettings};
use crate::serve_lock::ServeLock;
use crate::spill;
use crate::store::{self, NewUser, Store, StoreError};
use crate::telemetry;
use crate::tls::Tls;

/// Pending connections the kernel queues before the server accepts them (capped by
/// `net.core.somaxconn`).
const LISTEN_BACKLOG: i32 = 4096;

/// A built, listening, not yet awaited Easel server.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    /// Held on the embedded SQLite store until the store is closed.
    serve_lock: Option<ServeLock>,
    /// Reloads the TLS certificate on `SIGHUP` while serving TLS.
    tls_reload: Option<tokio::task::JoinHandle<()>>,
}

/// Stops a running [`Application`] in the documented order.
#[derive(Clone)]
pub struct Shutdown {
    server: ServerHandle,
    hub: Arc<Hub>,
}

impl Shutdown {
    /// Refuses new WebSockets, saves and snapshots every room, closes its sockets with
    /// 1001, then stops HTTP (in-flight requests finish). The store closes after.
    pub async fn shutdown(&self) {
        self.hub.shutdown().await;
        self.server.stop(true).await;
    }
}

impl Application {
    /// Takes the SQLite store's [`ServeLock`] (on SQLite), opens and migrates the store,
    /// creates the first administrator if configured and missing, binds `config.bind`
    /// (port 0 picks a free port) and starts serving. Fails with the cause when another
    /// server holds the SQLite store, the store cannot be migrated or the address cannot be
    /// bound.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let serve_lock = match &config.database {
            Database::Sqlite(path) => Some(ServeLock::acquire(path)?),
            Database::Postgres(_) => None,
        };
        let tls = config.tls.clone().map(Tls::load).transpose()?.map(Arc::new);
        let keys = JwtKeys::from_config(&config).context("loading the JWT signing key")?;
        let store = store::open(&config).await.context("opening the store")?;
        store
            .migrate()
            .await
            .context("applying database migrations")?;
        crate::private_fs::warn_if_open(&config.data_dir, "EASEL_DATA_DIR");
        let spill_dir = config.data_dir.join("unsaved");
        let replayed = spill::replay(&spill_dir, store.as_ref())
            .await
            .context("saving the updates left unsaved at the last shutdown")?;
        if replayed > 0 {
            tracing::info!(
                replayed,
                "updates left unsaved at the last shutdown are now saved"
            );
        }
        if let Some(admin) = &config.first_admin {
            ensure_first_admin(&*store, admin)
                .await
                .context("creating the first administrator (EASEL_ADMIN_EMAIL)")?;
        }
        let listener =
            listen(config.bind).with_context(|| format!("binding EASEL_BIND={}", config.bind))?;
        let port = listener.local_addr()?.port();
        let metrics = match config.metrics_bind {
            Some(addr) => {
                let listener =
                    listen(addr).with_context(|| format!("binding EASEL_METRICS_BIND={addr}"))?;
                let port = listener.local_addr()?.port();
                tracing::info!(port, "metrics are served on their own port");
                Some((port, http::metrics_server(listener)?))
            }
            None => None,
        };
        if !http::web_client::is_built(&config.web_dir) {
            tracing::warn!(dir = %config.web_dir.display(), "EASEL_WEB_DIR holds no index.html: the web client is not built (npm ci && npm run build in web/); / shows how to build it");
        }
        let shutdown_timeout = config.shutdown_timeout.as_secs();
        let workers = config.workers;
        let r = &config.realtime;
        let unacknowledged = r.silence_timeout;
        let hub = Arc::new(Hub::new(
            store.clone(),
            RoomSettings {
                idle: r.room_idle,
                compact_every: r.compact_every,
                compact_bytes: r.compact_bytes,
                max_doc_bytes: r.max_doc_bytes,
                max_pending_bytes: r.max_pending_bytes,
                outbound_queue: r.outbound_queue,
                max_queued_bytes: r.max_queued_bytes,
                max_room_queued_bytes: r.max_room_queued_bytes,
                command_queue: 256,
                spill_dir,
                board_check: r.board_check,
                presence_timeout: r.presence_timeout,
            },
        ));
        hub.return_freed_memory(std::time::Duration::from_secs(2));
        feed::follow(
            store.clone(),
            hub.clone(),
            FeedSettings::with_poll(r.event_poll),
        )
        .await
        .context("reading the change feed")?;
        let state = AppState {
            store: store.clone(),
            admissions: Arc::new(http::admissions::Admissions::new(
                store.clone(),
                hub.tracker(),
            )),
            keys,
            openapi: Arc::new(http::api::openapi_document()),
            conversions: Arc::new(tokio::sync::Semaphore::new(
                http::api::CONCURRENT_CONVERSIONS,
            )),
            limits: Arc::new(http::limits::Limits::new(&config)),
            config: Arc::new(config),
            hub: hub.clone(),
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(http::csrf::same_origin))
                .wrap(from_fn(telemetry::request_span))
                .into_utoipa_app()
                .configure(http::services)
                .into_app()
                .configure(http::configure(state.clone()))
                .default_service(web::to(http::web_client::serve))
        })
        // actix leaves Nagle on by default; small fan-out frames would wait for ACKs.
        .tcp_nodelay(true)
        .on_connect(move |conn, _| limit_unacknowledged(conn, unacknowledged));
        let server = match workers {
            Some(n) => server.workers(n),
            None => server,
        };
        let (server, tls_reload) = match tls {
            Some(tls) => (
                server.listen_rustls_0_23(listener, tls.server_config()?)?,
                Some(
                    tls.reload_on_sighup()
                        .context("listening for SIGHUP to reload the TLS certificate")?,
                ),
            ),
            None => (server.listen(listener)?, None),
        };
        let server = server
            .disable_signals()
            .shutdown_timeout(shutdown_timeout)
            .run();
        let tls = tls_reload.is_some();
        tracing::info!(port, tls, backend = ?store.backend(), "easel is listening");
        Ok(Self {
            port,
            server,
            metrics,
            store,
            hub,
            serve_lock,
            tls_reload,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on when `EASEL_METRICS_BIND` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// A handle that shuts the server down gracefully.
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown {
            server: self.server.handle(),
            hub: self.hub.clone(),
        }
    }

    /// Stops gracefully on the first SIGINT or SIGTERM, and exits at once on the second.
    pub fn stop_on_signals(&self) {
        let handle = self.shutdown_handle();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!(
                "shutting down: saving boards, closing sockets (signal again to exit now)"
            );
            let stopping = tokio::spawn(async move { handle.shutdown().await });
            wait_for_signal().await;
            tracing::warn!("second signal: exiting now");
            stopping.abort();
            std::process::exit(130);
        });
    }

    /// Serves until stopped, then stops the metrics server, closes the store and releases
    /// the SQLite store's lock.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = match self.metrics {
            Some((_, metrics)) => {
                let stop = metrics.handle();
                let served = async {
                    let result = self.server.await;
                    stop.stop(true).await;
                    result
                };
                let (result, metrics) = tokio::join!(served, metrics);
                if let Err(e) = metrics {
                    tracing::error!(error = %e, "the metrics server failed");
                }
                result
            }
            None => self.server.await,
        };
        if let Some(reload) = self.tls_reload {
            reload.abort();
        }
        self.hub.shutdown().await;
        self.store.close().await;
        drop(self.serve_lock);
        tracing::info!("easel stopped");
        result.context("running the HTTP server")
    }
}

/// Has TCP abort a connection whose peer leaves sent data unacknowledged, or keeps its
/// receive window shut, for `limit` (`TCP_USER_TIMEOUT`). A client that stops reading
/// would otherwise hold its socket, the buffers queued on it and its connection slot for
/// as long as it stays connected: once actix-ws's queue is full, nothing above the socket
/// can close it, since closing means sending a close frame. Plain and TLS connections alike.
fn limit_unacknowledged(conn: &dyn std::any::Any, limit: std::time::Duration) {
    use actix_tls::accept::rustls_0_23::TlsStream;
    use actix_web::rt::net::TcpStream;
    let tcp = conn
        .downcast_ref::<TcpStream>()
        .or_else(|| Some(conn.downcast_ref::<TlsStream<TcpStream>>()?.get_ref().0));
    if let Some(tcp) = tcp
        && let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(limit))
    {
        tracing::warn!(error = %e, "cannot set TCP_USER_TIMEOUT on a connection");
    }
}

/// Binds the server's socket. std listens with a backlog of 128: a crowd of clients
/// reconnecting at once would overflow it, and every dropped SYN costs its client a
/// one-second retransmit.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    socket2::SockRef::from(&listener).listen(LISTEN_BACKLOG)?;
    Ok(listener)
}

/// Creates the `EASEL_ADMIN_EMAIL` account as an administrator unless an account with that
/// email exists, which is then left as it is (its password and role included). An existing
/// account that is not an enabled administrator (someone registered the address before the
/// variable was set) is logged as a warning saying what to do, since it leaves the server
/// without the administrator the operator asked for.
async fn ensure_first_admin(store: &dyn Store, admin: &FirstAdmin) -> anyhow::Result<()> {
    if let Some(existing) = store.find_user_by_email(&admin.email).await? {
        let problem = match (existing.admin, existing.disabled) {
            (true, false) => {
                tracing::debug!(email = %admin.email, "the first administrator exists: left unchanged");
                return Ok(());
            }
            (false, _) => "is not an administrator",
            (true, true) => "is a disabled administrator",
        };
        tracing::warn!(
            user_id = %existing.id,
            email = %existing.email,
            "EASEL_ADMIN_EMAIL names an account that {problem}: it was registered before the \
             variable was set, perhaps by someone else, so no administrator was created and the \
             account was left unchanged. Check who owns it. To get an administrator, set \
             EASEL_ADMIN_EMAIL to an address no account uses, or run `easel admin create-user \
             --admin`; that administrator can then grant or remove this account's rights \
             (PATCH /api/admin/users/{{id}})"
        );
        return Ok(());
    }
    let new = NewUser {
        id: UserId::parse(&uuid::Uuid::now_v7().to_string())?,
        email: admin.email.clone(),
        name: FIRST_ADMIN_NAME.to_owned(),
        password_hash: Some(hash_password(admin.password.expose()).await?),
        admin: true,
    };
    match store.create_user(&new).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, email = %user.email, "created the first administrator");
            Ok(())
        }
        // Another node starting at the same moment created it first.
        Err(StoreError::Conflict(_)) => {
            tracing::debug!(email = %admin.email, "the first administrator exists: left unchanged");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The display name given to the account `EASEL_ADMIN_EMAIL` creates.
const FIRST_ADMIN_NAME: &str = "Administrator";

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    /// The kernel reports a listening socket's backlog in `tcpi_sacked` of `TCP_INFO`.
    fn backlog_of(listener: &TcpListener) -> u32 {
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut info as *mut libc::tcp_info).cast(),
                &mut len,
            )
        };
        assert_eq!(
            rc,
            0,
            "getsockopt(TCP_INFO): {}",
            std::io::Error::last_os_error()
        );
        info.tcpi_sacked
    }

    #[test]
    fn the_listener_queues_a_crowd_of_connections() {
        let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .expect("reading net.core.somaxconn")
            .trim()
            .parse()
            .expect("net.core.somaxconn is a number");
        let plain = TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        assert_eq!(backlog_of(&plain), 128.min(somaxconn));
        assert_eq!(backlog_of(&ours), (LISTEN_BACKLOG as u32).min(somaxconn));
    }
}
