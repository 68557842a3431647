//! Shared helpers for Easel's integration tests: a fresh Postgres database per test,
//! `spawn_app()` that starts the real server on port 0, and a TCP proxy a test can cut
//! to simulate a database outage without touching the shared Postgres server.
//!
//! Nothing here is used by the server itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub mod board;
pub mod images;
pub mod yclient;

use easel::config::Config;
use easel::startup::Application;
use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The server every test database is created on. Override with `EASEL_TEST_DATABASE_URL`;
/// the default is what `scripts/test` sets up.
pub fn admin_database_url() -> String {
    std::env::var("EASEL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://easel_test:easel_test@127.0.0.1:5432/postgres".into())
}

/// A JWT secret the test apps share, so tests can mint tokens for them.
pub const TEST_JWT_SECRET: &str = "easel-integration-tests-secret-0123456789";

/// A Postgres database created for one test and dropped when this value is dropped.
pub struct TestDb {
    name: String,
    admin_url: String,
}

impl TestDb {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Self {
        let admin_url = admin_database_url();
        let name = format!("easel_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot reach the test Postgres at {admin_url} (run scripts/test): {e}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        Self { name, admin_url }
    }

    /// A URL for this database.
    pub fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }

    /// A URL for this database, reached through `addr` instead of the real server.
    pub fn url_via(&self, addr: SocketAddr) -> String {
        let url = self.url();
        let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
        let (creds, after_at) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
        let path = &after_at[after_at.find('/').unwrap_or(after_at.len())..];
        let at = if creds.is_empty() {
            String::new()
        } else {
            format!("{creds}@")
        };
        format!("{scheme}://{at}{addr}{path}")
    }

    /// The real server's address, for a proxy to forward to.
    pub fn server_addr(&self) -> SocketAddr {
        let url = self.url();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let host_port = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let host_port = &host_port[..host_port.find('/').unwrap_or(host_port.len())];
        let host_port = if host_port.contains(':') {
            host_port.to_string()
        } else {
            format!("{host_port}:5432")
        };
        host_port
            .replace("localhost", "127.0.0.1")
            .parse()
            .expect("host:port of the test Postgres")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async context guarantees: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A running Easel server for one test.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The port it listens on.
    pub port: u16,
    /// The port `/metrics` is served on when `EASEL_METRICS_BIND` is set.
    pub metrics_port: Option<u16>,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// Its database, dropped with the app (absent for SQLite apps).
    pub db: Option<TestDb>,
    /// Its data directory, removed with the app.
    pub data_dir: tempfile::TempDir,
    shutdown: easel::startup::Shutdown,
    /// The task serving the app, until [`TestApp::stop`] waits for it.
    running: std::sync::Mutex<Option<tokio::task::JoinHandle<anyhow::Result<()>>>>,
}

impl TestApp {
    /// `GET address + path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request to the test app")
    }

    /// Stops the server gracefully (saves rooms, closes sockets with 1001) and waits until
    /// it has closed its store, so another app may then serve the same SQLite file.
    pub async fn stop(&self) {
        self.shutdown.shutdown().await;
        let running = self.running.lock().expect("the serving task").take();
        if let Some(running) = running {
            running
                .await
                .expect("the serving task")
                .expect("the app stops cleanly");
        }
    }
}

/// Starts the real server on port 0 against a fresh, migrated Postgres database.
pub async fn spawn_app() -> TestApp {
    let db = TestDb::create().await;
    let url = db.url();
    spawn_app_with(Some(db), &[("DATABASE_URL", &url)]).await
}

/// Starts the real server on port 0 against a fresh Postgres database, with extra settings.
pub async fn spawn_pg_app_with(vars: &[(&str, &str)]) -> TestApp {
    let db = TestDb::create().await;
    let url = db.url();
    let mut all = vec![("DATABASE_URL", url.as_str())];
    all.extend_from_slice(vars);
    spawn_app_with(Some(db), &all).await
}

/// Starts the real server against a fresh Postgres database reached through a
/// [`TcpProxy`] the test owns, so it can cut the database off and bring it back.
pub async fn spawn_app_behind_proxy(vars: &[(&str, &str)]) -> (TestApp, TcpProxy) {
    let db = TestDb::create().await;
    let proxy = TcpProxy::start(db.server_addr()).await;
    let url = db.url_via(proxy.addr());
    let mut all = vec![("DATABASE_URL", url.as_str())];
    all.extend_from_slice(vars);
    (spawn_app_with(Some(db), &all).await, proxy)
}

/// Starts the real server on port 0 against an embedded SQLite file in a temp dir.
pub async fn spawn_sqlite_app() -> TestApp {
    spawn_app_with(None, &[]).await
}

/// Starts the real server with extra environment settings on top of the test defaults.
pub async fn spawn_app_with(db: Option<TestDb>, vars: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut env: HashMap<String, String> = HashMap::from([
        ("EASEL_BIND".into(), "127.0.0.1:0".into()),
        (
            "EASEL_DATA_DIR".into(),
            data_dir.path().display().to_string(),
        ),
        ("EASEL_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        (
            "EASEL_LOG".into(),
            std::env::var("EASEL_TEST_LOG").unwrap_or_else(|_| "error".into()),
        ),
        ("EASEL_DB_TIMEOUT_MS".into(), "2000".into()),
        ("EASEL_SHUTDOWN_TIMEOUT_SECS".into(), "5".into()),
    ]);
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
    easel::telemetry::init(&config);
    let app = Application::build(config).await.expect("build the app");
    let port = app.port();
    let metrics_port = app.metrics_port();
    let shutdown = app.shutdown_handle();
    let running = tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_port,
        client: reqwest::Client::new(),
        db,
        data_dir,
        shutdown,
        running: std::sync::Mutex::new(Some(running)),
    }
}

/// A TCP proxy owned by one test: forwards to `upstream` until cut, so a test can make a
/// server unreachable (and reachable again) without touching the server itself.
pub struct TcpProxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    kill: watch::Sender<u64>,
}

impl TcpProxy {
    /// Starts forwarding from a fresh local port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let cut = Arc::new(AtomicBool::new(false));
        let (kill, _) = watch::channel(0u64);
        let (cut2, kill2) = (cut.clone(), kill.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if cut2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut killed = kill2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = killed.changed() => {}
                    }
                });
            }
        });
        Self { addr, cut, kill }
    }

    /// Where clients should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every open connection and refuses new ones until [`TcpProxy::restore`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.kill.send_modify(|n| *n += 1);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl TestApp {
    /// The WebSocket URL of a board, with a token.
    pub fn ws_url(&self, board: &str, token: &str) -> String {
        format!(
            "ws://127.0.0.1:{}/ws/boards/{board}?token={token}",
            self.port
        )
    }

    /// What the store holds for a board, read through a separate pool.
    pub async fn load(&self, board: &str) -> easel::store::StoredDoc {
        let store = self.store().await;
        let doc = store
            .load(easel::domain::BoardId::parse(board).unwrap())
            .await
            .unwrap();
        store.close().await;
        doc
    }

    /// The store this app runs on, opened separately (as another process would).
    pub async fn store(&self) -> std::sync::Arc<dyn easel::store::Store> {
        let store: std::sync::Arc<dyn easel::store::Store> = match &self.db {
            Some(db) => std::sync::Arc::new(
                easel::store::PostgresStore::connect(
                    &db.url(),
                    4,
                    std::time::Duration::from_secs(5),
                )
                .unwrap(),
            ),
            None => std::sync::Arc::new(
                easel::store::SqliteStore::open(
                    &self.data_dir.path().join("easel.db"),
                    4,
                    std::time::Duration::from_secs(5),
                )
                .await
                .unwrap(),
            ),
        };
        store
    }
}

/// Signs a token with the test apps' secret.
pub fn token(user: &str, admin: bool, ttl: std::time::Duration) -> String {
    let keys = easel::auth::JwtKeys::from_secret(&easel::config::Secret::new(TEST_JWT_SECRET));
    keys.issue(&easel::auth::TokenRequest {
        name: Some(user.to_owned()),
        admin,
        ..easel::auth::TokenRequest::new(easel::domain::UserId::parse(user).unwrap(), ttl)
    })
    .unwrap()
}

/// Creates a board owned by `owner` with extra members, through the app's store.
pub async fn board_with(
    app: &TestApp,
    owner: &str,
    members: &[(&str, easel::domain::Role)],
) -> String {
    create_board_in(app.store().await, owner, members).await
}

/// Creates a board owned by `owner` with extra members in the Postgres database at
/// `database_url` (for tests that run servers as processes, with no [`TestApp`]).
pub async fn pg_board_with(
    database_url: &str,
    owner: &str,
    members: &[(&str, easel::domain::Role)],
) -> String {
    create_board_in(pg_store(database_url), owner, members).await
}

/// A store on the Postgres database at `database_url`, opened as another process would.
pub fn pg_store(database_url: &str) -> Arc<dyn easel::store::Store> {
    Arc::new(
        easel::store::PostgresStore::connect(database_url, 4, std::time::Duration::from_secs(5))
            .expect("a Postgres store"),
    )
}

async fn create_board_in(
    store: Arc<dyn easel::store::Store>,
    owner: &str,
    members: &[(&str, easel::domain::Role)],
) -> String {
    let board = store
        .create_board(&easel::store::NewBoard {
            id: easel::domain::BoardId::new(),
            name: easel::domain::BoardName::parse("Test board").unwrap(),
            owner: easel::domain::UserId::parse(owner).unwrap(),
        })
        .await
        .unwrap();
    for (user, role) in members {
        store
            .add_member(
                board.id,
                &easel::domain::UserId::parse(user).unwrap(),
                *role,
            )
            .await
            .unwrap();
    }
    store.close().await;
    board.id.to_string()
}

/// A real `easel serve` process (for tests that must kill it or read its logs).
pub struct ServerProcess {
    /// The child process.
    pub child: std::process::Child,
    /// The port it listens on.
    pub port: u16,
    logs: Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `bin serve` (pass `env!("CARGO_BIN_EXE_easel-test-server")`) with `env`
    /// (plus a test secret and a free port) and waits until it says it is listening. Every
    /// line it logs (JSON) is kept for [`ServerProcess::logs`].
    pub async fn start(bin: &str, env: &[(&str, &str)]) -> Self {
        use std::io::{BufRead, BufReader};
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("serve")
            .env_clear()
            .env("EASEL_BIND", "127.0.0.1:0")
            .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
            .env("EASEL_LOG", "info")
            .env("EASEL_LOG_FORMAT", "json")
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start easel serve");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = logs.clone();
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let keep = move |line: String| kept.lock().expect("log lines").push(line);
            while let Some(Ok(line)) = lines.next() {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                keep(line);
                if v["fields"]["message"] == "easel is listening" {
                    std::thread::spawn(move || lines.map_while(Result::ok).for_each(keep));
                    return v["fields"]["port"].as_u64().expect("port") as u16;
                }
            }
            panic!("the server never said it was listening");
        })
        .await
        .expect("reading the server's log");
        Self { child, port, logs }
    }

    /// Every line the server has logged so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("log lines").clone()
    }

    /// Stops the process gracefully with SIGTERM and waits for it to exit; kills it if it
    /// is still running after 30 s. Returns how it exited.
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: `kill` only sends a signal; `pid` is our own child, not yet reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.kill9();
        self.child.wait().expect("the killed server's exit status")
    }

    /// Kills the process with SIGKILL: no chance to save anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The WebSocket URL of a board, with a token.
    pub fn ws_url(&self, board: &str, token: &str) -> String {
        format!(
            "ws://127.0.0.1:{}/ws/boards/{board}?token={token}",
            self.port
        )
    }
}

/// One of several `easel serve` processes sharing one database: its own data directory
/// and settings, kept so the same node can be started again after it stopped.
pub struct Node {
    vars: Vec<(String, String)>,
    /// Removed with the node.
    _data_dir: tempfile::TempDir,
}

impl Node {
    /// A node on the database at `database_url`, with a fresh data directory and `vars`.
    pub fn new(database_url: &str, vars: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let mut all = vec![
            ("DATABASE_URL".to_owned(), database_url.to_owned()),
            (
                "EASEL_DATA_DIR".to_owned(),
                data_dir.path().display().to_string(),
            ),
        ];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Self {
            vars: all,
            _data_dir: data_dir,
        }
    }

    /// Starts this node's process (pass `env!("CARGO_BIN_EXE_easel-test-server")`).
    pub async fn start(&self, bin: &str) -> ServerProcess {
        let env: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        ServerProcess::start(bin, &env).await
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs the `easel` command line (`bin`, as for [`ServerProcess::start`]) with `args`, in
/// `data_dir`, against `database_url` (SQLite in `data_dir` when `None`), as an operator
/// would beside a running server; returns its stdout once it has exited successfully
/// (its change is committed).
pub async fn run_cli(
    bin: &str,
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    args: &[&str],
) -> String {
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .env_clear()
        .env("EASEL_DATA_DIR", data_dir)
        .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
        .env("EASEL_LOG", "error");
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run easel"))
        .await
        .expect("the easel command line");
    assert!(
        out.status.success(),
        "easel {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}
