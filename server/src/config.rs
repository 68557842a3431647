//! Every setting Easel reads, from environment variables, with defaults and validation.
//!
//! Owns parsing and validating settings; it does no I/O beyond reading the variables it is
//! handed (and the key file `EASEL_JWT_PUBLIC_KEY` may name), so it is unit-testable.
//! Secrets are redacted in `Debug`. The settings table in `docs/configuration.md` lists
//! exactly the variables named here.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A bad setting: which variable, and why.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// A string that must never be printed (a secret key, a database password).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Whether Easel runs for development (forgiving defaults) or production (strict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Missing secrets are generated and kept under the data directory, with a warning.
    Development,
    /// Missing secrets are an error at start.
    Production,
}

/// Which database holds the boards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A Postgres server (production, multi-node); the URL may hold a password.
    Postgres(Secret),
    /// An embedded SQLite file: needs no database server.
    Sqlite(PathBuf),
}

/// How log lines are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Every setting of a running Easel.
#[derive(Debug, Clone)]
pub struct Config {
    /// `EASEL_BIND`: where the HTTP/WebSocket server listens. Port 0 picks a free port.
    pub bind: SocketAddr,
    /// `EASEL_METRICS_BIND`: where `/metrics` is served instead of on `bind`; `None` keeps it
    /// on `bind`. Port 0 picks a free port.
    pub metrics_bind: Option<SocketAddr>,
    /// `EASEL_ENV`: development or production.
    pub mode: Mode,
    /// `DATABASE_URL` (and `EASEL_DATA_DIR` when it is unset): the store.
    pub database: Database,
    /// `EASEL_DATA_DIR`: where the embedded database and generated secrets live.
    pub data_dir: PathBuf,
    /// `EASEL_DB_MAX_CONNECTIONS`: size of the database connection pool.
    pub db_max_connections: u32,
    /// `EASEL_DB_TIMEOUT_MS`: how long to wait for a database connection before failing.
    pub db_timeout: Duration,
    /// `EASEL_JWT_SECRET`: the HS256 signing key; `None` lets development mode generate one.
    pub jwt_secret: Option<Secret>,
    /// `EASEL_LOG`: the tracing filter (e.g. `info`, `easel=debug,sqlx=warn`).
    pub log_filter: String,
    /// `EASEL_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `EASEL_WEB_DIR`: the built browser client (`index.html`, `assets/`, `sw.js`), served
    /// at `/` as a single-page app.
    pub web_dir: PathBuf,
    /// `EASEL_WORKERS`: HTTP/WebSocket worker threads; `None` means one per CPU core.
    pub workers: Option<usize>,
    /// `EASEL_SHUTDOWN_TIMEOUT_SECS`: how long a graceful shutdown may take before exiting anyway.
    pub shutdown_timeout: Duration,
    /// `EASEL_ALLOWED_ORIGINS`: browser origins allowed to open WebSockets; `None` means
    /// only the server's own origin (the request's `Host`).
    pub allowed_origins: Option<Vec<String>>,
    /// The realtime limits and timings.
    pub realtime: Realtime,
    /// `EASEL_OPEN_SIGNUP`: whether anyone may create an account.
    pub open_signup: bool,
    /// `EASEL_GUEST_LINKS`: whether share links may admit guests without an account.
    pub guest_links: bool,
    /// `EASEL_TOKEN_TTL_SECS`: how long a token from login is valid.
    pub token_ttl: Duration,
    /// `EASEL_PUBLIC_URL`: the base URL share-link URLs are built on: `http(s)://host[:port][/path]`,
    /// no query, no trailing slash. `None`: links are built from the request's host.
    pub public_url: Option<String>,
    /// `EASEL_LOGIN_ATTEMPTS_PER_MINUTE`: login attempts allowed per client address, and per
    /// account from each address.
    pub login_attempts_per_minute: u32,
    /// `EASEL_ADMIN_EMAIL` and `EASEL_ADMIN_PASSWORD`: an administrator account created at
    /// start when no account has that email.
    pub first_admin: Option<FirstAdmin>,
    /// `EASEL_JWT_PUBLIC_KEY`, `EASEL_JWT_ISSUER`, `EASEL_JWT_AUDIENCE`: an external identity
    /// provider whose tokens Easel accepts besides its own.
    pub external_issuer: Option<ExternalIssuer>,
    /// `EASEL_SIGNUP_ATTEMPTS_PER_MINUTE`: account registrations allowed per client address.
    pub signup_attempts_per_minute: u32,
    /// `EASEL_BOARDS_PER_HOUR`: boards one user may create (or import) per hour.
    pub boards_per_hour: u32,
    /// `EASEL_MAX_VERSIONS_PER_BOARD`: named versions one board may hold.
    pub max_versions_per_board: u32,
    /// `EASEL_MAX_ASSET_BYTES`: largest image one upload may hold.
    pub max_asset_bytes: usize,
    /// `EASEL_MAX_BOARD_ASSET_BYTES`: bytes all of one board's images may take together.
    pub max_board_asset_bytes: u64,
    /// `EASEL_TLS_CERT` and `EASEL_TLS_KEY`: serve HTTPS and WSS directly with this
    /// certificate; `None` serves plain HTTP (behind a proxy that terminates TLS).
    pub tls: Option<TlsFiles>,
}

/// The PEM files `easel serve` serves TLS with, read at start and again on `SIGHUP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `EASEL_TLS_CERT`: the certificate chain, leaf first.
    pub cert: PathBuf,
    /// `EASEL_TLS_KEY`: the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The administrator account `easel serve` creates when it does not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstAdmin {
    /// `EASEL_ADMIN_EMAIL`.
    pub email: String,
    /// `EASEL_ADMIN_PASSWORD`, already checked against the password policy.
    pub password: Secret,
}

/// The signature algorithm of an external issuer's key, fixed by the key's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalAlgorithm {
    /// An RSA key (at least 2048 bits): RS256.
    Rs256,
    /// An EC P-256 key: ES256.
    Es256,
}

/// An external identity provider whose tokens Easel verifies with a public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIssuer {
    /// The algorithm its tokens must be signed with.
    pub algorithm: ExternalAlgorithm,
    /// Its public key, PEM text (SPKI, or PKCS#1 for RSA).
    pub public_key_pem: String,
    /// The `iss` its tokens must carry.
    pub issuer: String,
    /// The `aud` its tokens must carry (alone or among others).
    pub audience: String,
}

/// Settings of the realtime core (rooms and WebSocket connections).
#[derive(Debug, Clone)]
pub struct Realtime {
    /// `EASEL_ROOM_IDLE_SECS`: unload a room this long after its last member left.
    pub room_idle: Duration,
    /// `EASEL_BOARD_CHECK_SECS`: how often a live room checks its board still exists (a
    /// board deleted by another process, such as `easel board delete`, closes with 4404).
    pub board_check: Duration,
    /// `EASEL_PRESENCE_TIMEOUT_MS`: how long the presence of another process's members
    /// stays shown without news from that process (it relays it three times as often).
    pub presence_timeout: Duration,
    /// `EASEL_COMPACT_EVERY`: compact a board after this many logged updates.
    pub compact_every: u64,
    /// `EASEL_COMPACT_BYTES`: compact a board after this many logged bytes.
    pub compact_bytes: u64,
    /// `EASEL_MAX_MESSAGE_BYTES`: largest inbound WebSocket message.
    pub max_message_bytes: usize,
    /// `EASEL_MAX_DOC_BYTES`: largest document a board may grow to.
    pub max_doc_bytes: u64,
    /// `EASEL_MAX_PENDING_BYTES`: unsaved bytes a room holds while the store is down.
    pub max_pending_bytes: u64,
    /// `EASEL_OUTBOUND_QUEUE`: frames a room holds for a connection whose socket queue is
    /// full, before it counts as too slow.
    pub outbound_queue: usize,
    /// `EASEL_MAX_QUEUED_BYTES`: bytes queued for one connection, beyond one copy of the
    /// document, before it counts as too slow.
    pub max_queued_bytes: usize,
    /// `EASEL_MAX_ROOM_QUEUED_BYTES`: bytes queued for all of a room's connections, beyond
    /// one copy of the document, before the ones holding the most count as too slow.
    pub max_room_queued_bytes: usize,
    /// `EASEL_MAX_AWARENESS_BYTES`: largest awareness state (JSON) one client may set.
    pub max_awareness_bytes: usize,
    /// `EASEL_MAX_CONNECTIONS`: WebSocket connections this node accepts.
    pub max_connections: usize,
    /// `EASEL_MAX_ROOM_CONNECTIONS`: connections one board accepts.
    pub max_room_connections: usize,
    /// `EASEL_RATE_LIMIT`: inbound messages per second a connection may sustain.
    pub rate_per_sec: u32,
    /// `EASEL_RATE_BURST`: inbound messages a connection may send in a burst.
    pub rate_burst: u32,
    /// `EASEL_PING_SECS`: how often the server pings each connection.
    pub ping_every: Duration,
    /// `EASEL_SILENCE_TIMEOUT_SECS`: close a connection that sent nothing for this long.
    pub silence_timeout: Duration,
    /// `EASEL_EVENT_POLL_MS`: how often the change feed of access changes is read when the
    /// database cannot announce new events (SQLite, or a lost Postgres listener).
    pub event_poll: Duration,
}

/// Shortest accepted `EASEL_JWT_SECRET`, in bytes (HS256 wants at least 256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Fewest different characters a production `EASEL_JWT_SECRET` may hold: a placeholder
/// such as `changeme…` repeated to length, or one character repeated, is refused.
pub const MIN_JWT_SECRET_DISTINCT: usize = 8;

fn looks_weak(secret: &str) -> bool {
    let mut seen: Vec<char> = secret.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len() < MIN_JWT_SECRET_DISTINCT
}

/// Smallest accepted RSA key for `EASEL_JWT_PUBLIC_KEY`, in bits.
pub const MIN_RSA_KEY_BITS: usize = 2048;

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`, which returns a variable's value if set.
    /// Empty values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let bind = match get("EASEL_BIND") {
            Some(v) => v.trim().parse().map_err(|_| {
                bad(
                    "EASEL_BIND",
                    format!("{v:?} is not an address like 127.0.0.1:8080"),
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let metrics_bind = get("EASEL_METRICS_BIND")
            .map(|v| {
                v.trim().parse().map_err(|_| {
                    bad(
                        "EASEL_METRICS_BIND",
                        format!("{v:?} is not an address like 127.0.0.1:9090"),
                    )
                })
            })
            .transpose()?;
        let mode = match get("EASEL_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") => Mode::Development,
            Some("production") | Some("prod") => Mode::Production,
            Some(v) => {
                return Err(bad(
                    "EASEL_ENV",
                    format!("{v:?} is neither development nor production"),
                ));
            }
        };
        let data_dir = PathBuf::from(get("EASEL_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database = match get("DATABASE_URL") {
            None => Database::Sqlite(data_dir.join("easel.db")),
            Some(url) => parse_database_url(url.trim())?,
        };
        let db_max_connections = parse_num(&get, "EASEL_DB_MAX_CONNECTIONS", 10, 1, 1000)?;
        let db_timeout =
            Duration::from_millis(parse_num(&get, "EASEL_DB_TIMEOUT_MS", 5000, 100, 600_000)?);
        let jwt_secret = match get("EASEL_JWT_SECRET") {
            Some(s) if s.len() < MIN_JWT_SECRET_BYTES => {
                return Err(bad(
                    "EASEL_JWT_SECRET",
                    format!(
                        "must be at least {MIN_JWT_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
                    ),
                ));
            }
            Some(s) if mode == Mode::Production && looks_weak(&s) => {
                return Err(bad(
                    "EASEL_JWT_SECRET",
                    format!(
                        "looks weak (fewer than {MIN_JWT_SECRET_DISTINCT} different characters), which EASEL_ENV=production refuses; use a random one (e.g. `openssl rand -hex 32`)"
                    ),
                ));
            }
            Some(s) => Some(Secret::new(s)),
            None if mode == Mode::Production => {
                return Err(bad(
                    "EASEL_JWT_SECRET",
                    "is required when EASEL_ENV=production",
                ));
            }
            None => None,
        };
        let log_filter = get("EASEL_LOG").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|e| {
            bad(
                "EASEL_LOG",
                format!("{log_filter:?} is not a valid filter: {e}"),
            )
        })?;
        let log_format = match get("EASEL_LOG_FORMAT").as_deref().map(str::trim) {
            None if mode == Mode::Production => LogFormat::Json,
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(v) => {
                return Err(bad(
                    "EASEL_LOG_FORMAT",
                    format!("{v:?} is neither text nor json"),
                ));
            }
        };
        let web_dir = PathBuf::from(get("EASEL_WEB_DIR").unwrap_or_else(|| "./web/dist".into()));
        let shutdown_timeout =
            Duration::from_secs(parse_num(&get, "EASEL_SHUTDOWN_TIMEOUT_SECS", 30, 1, 3600)?);
        let workers = get("EASEL_WORKERS")
            .map(|_| parse_num(&get, "EASEL_WORKERS", 1, 1, 1024).map(|n| n as usize))
            .transpose()?;

        let allowed_origins = get("EASEL_ALLOWED_ORIGINS").map(|v| {
            v.split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect()
        });
        let realtime = Realtime {
            room_idle: Duration::from_secs(parse_num(&get, "EASEL_ROOM_IDLE_SECS", 30, 0, 86_400)?),
            board_check: Duration::from_secs(parse_num(
                &get,
                "EASEL_BOARD_CHECK_SECS",
                30,
                1,
                86_400,
            )?),
            presence_timeout: Duration::from_millis(parse_num(
                &get,
                "EASEL_PRESENCE_TIMEOUT_MS",
                15_000,
                300,
                600_000,
            )?),
            compact_every: parse_num(&get, "EASEL_COMPACT_EVERY", 1000, 1, 10_000_000)?,
            compact_bytes: parse_num(&get, "EASEL_COMPACT_BYTES", 8 << 20, 1024, 1 << 40)?,
            max_message_bytes: parse_num(&get, "EASEL_MAX_MESSAGE_BYTES", 16 << 20, 1024, 1 << 30)?
                as usize,
            max_doc_bytes: parse_num(&get, "EASEL_MAX_DOC_BYTES", 64 << 20, 1024, 1 << 40)?,
            max_pending_bytes: parse_num(&get, "EASEL_MAX_PENDING_BYTES", 64 << 20, 1024, 1 << 40)?,
            outbound_queue: parse_num(&get, "EASEL_OUTBOUND_QUEUE", 1024, 1, 1 << 20)? as usize,
            max_queued_bytes: parse_num(&get, "EASEL_MAX_QUEUED_BYTES", 16 << 20, 1024, 1 << 40)?
                as usize,
            max_room_queued_bytes: parse_num(
                &get,
                "EASEL_MAX_ROOM_QUEUED_BYTES",
                256 << 20,
                1024,
                1 << 40,
            )? as usize,
            max_awareness_bytes: parse_num(&get, "EASEL_MAX_AWARENESS_BYTES", 8192, 64, 1 << 24)?
                as usize,
            max_connections: parse_num(&get, "EASEL_MAX_CONNECTIONS", 50_000, 1, 10_000_000)?
                as usize,
            max_room_connections: parse_num(
                &get,
                "EASEL_MAX_ROOM_CONNECTIONS",
                2_000,
                1,
                1_000_000,
            )? as usize,
            rate_per_sec: parse_num(&get, "EASEL_RATE_LIMIT", 200, 1, 1_000_000)? as u32,
            rate_burst: parse_num(&get, "EASEL_RATE_BURST", 2_000, 1, 10_000_000)? as u32,
            ping_every: Duration::from_secs(parse_num(&get, "EASEL_PING_SECS", 30, 1, 3600)?),
            silence_timeout: Duration::from_secs(parse_num(
                &get,
                "EASEL_SILENCE_TIMEOUT_SECS",
                60,
                1,
                86_400,
            )?),
            event_poll: Duration::from_millis(parse_num(
                &get,
                "EASEL_EVENT_POLL_MS",
                250,
                10,
                60_000,
            )?),
        };

        let open_signup = parse_bool(&get, "EASEL_OPEN_SIGNUP", true)?;
        let guest_links = parse_bool(&get, "EASEL_GUEST_LINKS", false)?;
        let token_ttl = Duration::from_secs(parse_num(
            &get,
            "EASEL_TOKEN_TTL_SECS",
            7 * 86_400,
            60,
            366 * 86_400,
        )?);
        let public_url = get("EASEL_PUBLIC_URL")
            .map(|v| parse_public_url(v.trim()))
            .transpose()?;
        let login_attempts_per_minute =
            parse_num(&get, "EASEL_LOGIN_ATTEMPTS_PER_MINUTE", 10, 1, 100_000)? as u32;
        let first_admin = parse_first_admin(&get)?;
        let external_issuer = parse_external_issuer(&get)?;
        let signup_attempts_per_minute =
            parse_num(&get, "EASEL_SIGNUP_ATTEMPTS_PER_MINUTE", 10, 1, 100_000)? as u32;
        let boards_per_hour = parse_num(&get, "EASEL_BOARDS_PER_HOUR", 100, 1, 1_000_000)? as u32;
        let max_versions_per_board =
            parse_num(&get, "EASEL_MAX_VERSIONS_PER_BOARD", 1000, 1, 1_000_000)? as u32;
        let max_asset_bytes =
            parse_num(&get, "EASEL_MAX_ASSET_BYTES", 10 << 20, 1024, 1 << 30)? as usize;
        let max_board_asset_bytes = parse_num(
            &get,
            "EASEL_MAX_BOARD_ASSET_BYTES",
            512 << 20,
            1024,
            1 << 40,
        )?;

        let tls = parse_tls_files(&get)?;

        Ok(Self {
            bind,
            metrics_bind,
            mode,
            database,
            data_dir,
            db_max_connections: db_max_connections as u32,
            db_timeout,
            jwt_secret,
            log_filter,
            log_format,
            web_dir,
            workers,
            shutdown_timeout,
            allowed_origins,
            realtime,
            open_signup,
            guest_links,
            token_ttl,
            public_url,
            login_attempts_per_minute,
            first_admin,
            external_issuer,
            signup_attempts_per_minute,
            boards_per_hour,
            max_versions_per_board,
            max_asset_bytes,
            max_board_asset_bytes,
            tls,
        })
    }
}

fn parse_tls_files(get: &impl Fn(&str) -> Option<String>) -> Result<Option<TlsFiles>, ConfigError> {
    match (get("EASEL_TLS_CERT"), get("EASEL_TLS_KEY")) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsFiles {
            cert: PathBuf::from(cert.trim()),
            key: PathBuf::from(key.trim()),
        })),
        (Some(_), None) => Err(bad(
            "EASEL_TLS_KEY",
            "is required when EASEL_TLS_CERT is set (the certificate's private key, PEM)",
        )),
        (None, Some(_)) => Err(bad(
            "EASEL_TLS_CERT",
            "is required when EASEL_TLS_KEY is set (the certificate chain, PEM)",
        )),
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(v) = get(var) else {
        return Ok(default);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(bad(var, format!("{v:?} is neither true nor false"))),
    }
}

fn parse_public_url(v: &str) -> Result<String, ConfigError> {
    const VAR: &str = "EASEL_PUBLIC_URL";
    let url = url::Url::parse(v).map_err(|e| {
        bad(
            VAR,
            format!("{v:?} is not a URL like https://easel.example.com: {e}"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(VAR, "must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad(VAR, "needs a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            VAR,
            "must not have a query (?...) or a fragment (#...)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(VAR, "must not hold credentials"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn parse_first_admin(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<FirstAdmin>, ConfigError> {
    match (get("EASEL_ADMIN_EMAIL"), get("EASEL_ADMIN_PASSWORD")) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(bad(
            "EASEL_ADMIN_PASSWORD",
            "is required when EASEL_ADMIN_EMAIL is set",
        )),
        (None, Some(_)) => Err(bad(
            "EASEL_ADMIN_EMAIL",
            "is required when EASEL_ADMIN_PASSWORD is set",
        )),
        (Some(email), Some(password)) => {
            let email = crate::domain::Email::parse(&email)
                .map_err(|e| bad("EASEL_ADMIN_EMAIL", format!("is not usable: {e}")))?;
            crate::domain::NewPassword::parse(&password)
                .map_err(|e| bad("EASEL_ADMIN_PASSWORD", e.to_string()))?;
            Ok(Some(FirstAdmin {
                email: email.into(),
                password: Secret::new(password),
            }))
        }
    }
}

fn parse_external_issuer(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<ExternalIssuer>, ConfigError> {
    const KEY: &str = "EASEL_JWT_PUBLIC_KEY";
    let Some(key) = get(KEY) else {
        if get("EASEL_JWT_ISSUER").is_some() || get("EASEL_JWT_AUDIENCE").is_some() {
            return Err(bad(
                KEY,
                "is required when EASEL_JWT_ISSUER or EASEL_JWT_AUDIENCE is set",
            ));
        }
        return Ok(None);
    };
    let required = |var: &'static str| {
        get(var)
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| bad(var, format!("is required when {KEY} is set")))
    };
    let issuer = required("EASEL_JWT_ISSUER")?;
    let audience = required("EASEL_JWT_AUDIENCE")?;
    let key = key.trim();
    let pem = if key.starts_with("-----BEGIN") {
        // A PEM squeezed into one line (an env file) keeps its line breaks as `\n`.
        key.replace("\\n", "\n")
    } else {
        std::fs::read_to_string(key)
            .map_err(|e| bad(KEY, format!("reading the key file {key:?}: {e}")))?
    };
    let algorithm = classify_public_key(&pem).map_err(|m| bad(KEY, m))?;
    Ok(Some(ExternalIssuer {
        algorithm,
        public_key_pem: pem,
        issuer,
        audience,
    }))
}

/// Which algorithm a PEM public key is for: RSA (SPKI or PKCS#1, at least
/// [`MIN_RSA_KEY_BITS`]) means RS256, EC P-256 means ES256; anything else is refused.
fn classify_public_key(pem: &str) -> Result<ExternalAlgorithm, String> {
    use p256::pkcs8::DecodePublicKey as _;
    use rsa::pkcs1::DecodeRsaPublicKey as _;
    use rsa::traits::PublicKeyParts as _;

    if p256::PublicKey::from_public_key_pem(pem).is_ok() {
        return Ok(ExternalAlgorithm::Es256);
    }
    let rsa = rsa::RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| {
            "is not a PEM public key of a supported type (RSA for RS256, EC P-256 for ES256)"
                .to_owned()
        })?;
    let bits = rsa.size() * 8;
    if bits < MIN_RSA_KEY_BITS {
        return Err(format!(
            "the RSA key has {bits} bits; at least {MIN_RSA_KEY_BITS} are required"
        ));
    }
    Ok(ExternalAlgorithm::Rs256)
}

fn parse_database_url(url: &str) -> Result<Database, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Database::Postgres(Secret::new(url)))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(bad(
                "DATABASE_URL",
                "a sqlite: URL needs a file path, e.g. sqlite://./data/easel.db",
            ));
        }
        Ok(Database::Sqlite(PathBuf::from(path)))
    } else {
        Err(bad(
            "DATABASE_URL",
            "must start with postgres:// (or sqlite://); leave it unset for the embedded database",
        ))
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(v) = get(var) else {
        return Ok(default);
    };
    match v.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(
            var,
            format!("{v:?} is not a whole number between {min} and {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_database_server() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mode, Mode::Development);
        assert_eq!(
            c.database,
            Database::Sqlite(PathBuf::from("./data/easel.db"))
        );
        assert_eq!(c.jwt_secret, None);
        assert_eq!(c.log_filter, "info");
        assert_eq!(c.db_timeout, Duration::from_secs(5));
        assert_eq!(c.workers, None);
        assert_eq!(c.web_dir, PathBuf::from("./web/dist"));
        assert_eq!(config(&[("EASEL_WORKERS", "3")]).unwrap().workers, Some(3));
    }

    #[test]
    fn database_url_selects_the_backend() {
        let c = config(&[("DATABASE_URL", "postgres://u:pw@db/easel")]).unwrap();
        assert!(matches!(c.database, Database::Postgres(_)));
        let c = config(&[("DATABASE_URL", "sqlite:///tmp/x.db?mode=rwc")]).unwrap();
        assert_eq!(c.database, Database::Sqlite(PathBuf::from("/tmp/x.db")));
        let c = config(&[("EASEL_DATA_DIR", "/srv/easel")]).unwrap();
        assert_eq!(
            c.database,
            Database::Sqlite(PathBuf::from("/srv/easel/easel.db"))
        );
        let e = config(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.var, "DATABASE_URL");
    }

    #[test]
    fn errors_name_the_variable() {
        for (var, value) in [
            ("EASEL_BIND", "localhost"),
            ("EASEL_ENV", "staging"),
            ("EASEL_DB_MAX_CONNECTIONS", "0"),
            ("EASEL_DB_TIMEOUT_MS", "soon"),
            ("EASEL_JWT_SECRET", "short"),
            ("EASEL_LOG", "easel=loud"),
            ("EASEL_LOG_FORMAT", "xml"),
            ("EASEL_SHUTDOWN_TIMEOUT_SECS", "-1"),
            ("EASEL_WORKERS", "0"),
            ("EASEL_OPEN_SIGNUP", "maybe"),
            ("EASEL_GUEST_LINKS", "2"),
            ("EASEL_TOKEN_TTL_SECS", "0"),
            ("EASEL_PUBLIC_URL", "easel.example.com"),
            ("EASEL_LOGIN_ATTEMPTS_PER_MINUTE", "0"),
        ] {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{value}");
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }

    #[test]
    fn production_requires_a_jwt_secret() {
        let e = config(&[("EASEL_ENV", "production")]).unwrap_err();
        assert_eq!(e.var, "EASEL_JWT_SECRET");
        let secret = "0123456789abcdef".repeat(4);
        let c = config(&[("EASEL_ENV", "production"), ("EASEL_JWT_SECRET", &secret)]).unwrap();
        assert_eq!(c.mode, Mode::Production);
        assert_eq!(
            c.log_format,
            LogFormat::Json,
            "production logs JSON by default"
        );
        let c = config(&[
            ("EASEL_ENV", "production"),
            ("EASEL_JWT_SECRET", &secret),
            ("EASEL_LOG_FORMAT", "text"),
        ])
        .unwrap();
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn production_refuses_a_weak_jwt_secret() {
        for weak in ["k".repeat(32), "changeme".repeat(4)] {
            let e =
                config(&[("EASEL_ENV", "production"), ("EASEL_JWT_SECRET", &weak)]).unwrap_err();
            assert_eq!(e.var, "EASEL_JWT_SECRET");
            assert!(e.to_string().contains("looks weak"), "{e}");
            config(&[("EASEL_JWT_SECRET", &weak)]).expect("development accepts it");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
        let c = config(&[
            ("EASEL_JWT_SECRET", secret),
            ("DATABASE_URL", "postgres://u:hunter2@db/e"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains(secret) && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn identity_settings_have_defaults() {
        let c = config(&[]).unwrap();
        assert!(c.open_signup);
        assert!(!c.guest_links);
        assert_eq!(c.token_ttl, Duration::from_secs(604_800));
        assert_eq!(c.public_url, None);
        assert_eq!(c.login_attempts_per_minute, 10);
        assert_eq!(c.first_admin, None);
        assert_eq!(c.external_issuer, None);
    }

    #[test]
    fn identity_settings_parse() {
        let c = config(&[
            ("EASEL_OPEN_SIGNUP", "false"),
            ("EASEL_GUEST_LINKS", "yes"),
            ("EASEL_TOKEN_TTL_SECS", "3600"),
            ("EASEL_PUBLIC_URL", "https://example.com/easel/"),
            ("EASEL_LOGIN_ATTEMPTS_PER_MINUTE", "5"),
        ])
        .unwrap();
        assert!(!c.open_signup);
        assert!(c.guest_links);
        assert_eq!(c.token_ttl, Duration::from_secs(3600));
        assert_eq!(c.public_url.as_deref(), Some("https://example.com/easel"));
        assert_eq!(c.login_attempts_per_minute, 5);
        for flag in ["1", "ON", " True "] {
            assert!(config(&[("EASEL_GUEST_LINKS", flag)]).unwrap().guest_links);
        }
        for flag in ["0", "off", "No"] {
            assert!(!config(&[("EASEL_OPEN_SIGNUP", flag)]).unwrap().open_signup);
        }
    }

    #[test]
    fn the_public_url_is_a_plain_http_base() {
        let url = |v: &str| config(&[("EASEL_PUBLIC_URL", v)]).map(|c| c.public_url);
        assert_eq!(
            url("http://localhost:8080").unwrap().as_deref(),
            Some("http://localhost:8080")
        );
        for bad in [
            "ftp://example.com",
            "https://example.com/?x=1",
            "https://example.com/#top",
            "https://user:pw@example.com",
            "/relative/path",
        ] {
            assert_eq!(url(bad).unwrap_err().var, "EASEL_PUBLIC_URL", "{bad}");
        }
    }

    #[test]
    fn the_first_admin_needs_both_variables_and_a_good_password() {
        let c = config(&[
            ("EASEL_ADMIN_EMAIL", " admin@example.com "),
            ("EASEL_ADMIN_PASSWORD", "correct horse battery"),
        ])
        .unwrap();
        let admin = c.first_admin.clone().unwrap();
        assert_eq!(admin.email, "admin@example.com");
        assert_eq!(admin.password.expose(), "correct horse battery");
        assert!(!format!("{c:?}").contains("correct horse"), "redacted");

        let e = config(&[("EASEL_ADMIN_EMAIL", "admin@example.com")]).unwrap_err();
        assert_eq!(e.var, "EASEL_ADMIN_PASSWORD");
        let e = config(&[("EASEL_ADMIN_PASSWORD", "correct horse battery")]).unwrap_err();
        assert_eq!(e.var, "EASEL_ADMIN_EMAIL");
        let e = config(&[
            ("EASEL_ADMIN_EMAIL", "admin"),
            ("EASEL_ADMIN_PASSWORD", "correct horse battery"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "EASEL_ADMIN_EMAIL");
        let e = config(&[
            ("EASEL_ADMIN_EMAIL", "admin@example.com"),
            ("EASEL_ADMIN_PASSWORD", "short"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "EASEL_ADMIN_PASSWORD");
        assert!(!e.to_string().contains("short"), "{e}");
    }

    fn issuer_config(key: &str) -> Result<Config, ConfigError> {
        config(&[
            ("EASEL_JWT_PUBLIC_KEY", key),
            ("EASEL_JWT_ISSUER", "https://id.example.com"),
            ("EASEL_JWT_AUDIENCE", "easel"),
        ])
    }

    #[test]
    fn an_external_key_picks_its_algorithm() {
        use crate::auth::test_keys;
        let rsa = issuer_config(test_keys::RSA_PUBLIC).unwrap();
        let issuer = rsa.external_issuer.unwrap();
        assert_eq!(issuer.algorithm, ExternalAlgorithm::Rs256);
        assert_eq!(issuer.issuer, "https://id.example.com");
        assert_eq!(issuer.audience, "easel");
        let pkcs1 = issuer_config(test_keys::RSA_PUBLIC_PKCS1).unwrap();
        assert_eq!(
            pkcs1.external_issuer.unwrap().algorithm,
            ExternalAlgorithm::Rs256
        );
        let ec = issuer_config(test_keys::EC_PUBLIC).unwrap();
        assert_eq!(
            ec.external_issuer.unwrap().algorithm,
            ExternalAlgorithm::Es256
        );
        let one_line = test_keys::EC_PUBLIC.replace('\n', "\\n");
        let ec = issuer_config(&one_line).unwrap();
        assert_eq!(
            ec.external_issuer.unwrap().public_key_pem,
            test_keys::EC_PUBLIC
        );
    }

    #[test]
    fn an_external_key_may_be_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.pem");
        std::fs::write(&path, crate::auth::test_keys::RSA_PUBLIC).unwrap();
        let c = issuer_config(path.to_str().unwrap()).unwrap();
        assert_eq!(
            c.external_issuer.unwrap().public_key_pem,
            crate::auth::test_keys::RSA_PUBLIC
        );
        let missing = dir.path().join("missing.pem");
        let e = issuer_config(missing.to_str().unwrap()).unwrap_err();
        assert_eq!(e.var, "EASEL_JWT_PUBLIC_KEY");
        assert!(e.to_string().contains("missing.pem"), "{e}");
    }

    #[test]
    fn unsupported_external_keys_are_refused() {
        use crate::auth::test_keys;
        for key in [
            test_keys::P384_PUBLIC,
            test_keys::RSA_1024_PUBLIC,
            test_keys::RSA_PRIVATE,
            "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n",
        ] {
            let e = issuer_config(key).unwrap_err();
            assert_eq!(e.var, "EASEL_JWT_PUBLIC_KEY", "{e}");
        }
    }

    #[test]
    fn an_external_key_needs_issuer_and_audience() {
        let key = crate::auth::test_keys::RSA_PUBLIC;
        let e = config(&[
            ("EASEL_JWT_PUBLIC_KEY", key),
            ("EASEL_JWT_AUDIENCE", "easel"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "EASEL_JWT_ISSUER");
        let e = config(&[
            ("EASEL_JWT_PUBLIC_KEY", key),
            ("EASEL_JWT_ISSUER", "https://id.example.com"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "EASEL_JWT_AUDIENCE");
        let e = config(&[("EASEL_JWT_ISSUER", "https://id.example.com")]).unwrap_err();
        assert_eq!(e.var, "EASEL_JWT_PUBLIC_KEY");
    }

    #[test]
    fn the_change_feed_has_a_poll_setting() {
        assert_eq!(
            config(&[]).unwrap().realtime.event_poll,
            Duration::from_millis(250)
        );
        let c = config(&[("EASEL_EVENT_POLL_MS", "50")]).unwrap();
        assert_eq!(c.realtime.event_poll, Duration::from_millis(50));
        for value in ["0", "soon"] {
            let e = config(&[("EASEL_EVENT_POLL_MS", value)]).unwrap_err();
            assert_eq!(e.var, "EASEL_EVENT_POLL_MS", "{value}");
        }
    }

    #[test]
    fn signups_are_limited_per_address() {
        assert_eq!(config(&[]).unwrap().signup_attempts_per_minute, 10);
        let c = config(&[("EASEL_SIGNUP_ATTEMPTS_PER_MINUTE", "3")]).unwrap();
        assert_eq!(c.signup_attempts_per_minute, 3);
        for bad in ["0", "100001", "many"] {
            let e = config(&[("EASEL_SIGNUP_ATTEMPTS_PER_MINUTE", bad)]).unwrap_err();
            assert_eq!(e.var, "EASEL_SIGNUP_ATTEMPTS_PER_MINUTE", "{bad}");
        }
    }

    #[test]
    fn metrics_may_have_an_address_of_their_own() {
        assert_eq!(config(&[]).unwrap().metrics_bind, None);
        let c = config(&[("EASEL_METRICS_BIND", "127.0.0.1:0")]).unwrap();
        assert_eq!(c.metrics_bind, Some(SocketAddr::from(([127, 0, 0, 1], 0))));
        let e = config(&[("EASEL_METRICS_BIND", "9090")]).unwrap_err();
        assert_eq!(e.var, "EASEL_METRICS_BIND");
    }

    #[test]
    fn boards_and_versions_per_user_and_board_are_bounded() {
        let c = config(&[]).unwrap();
        assert_eq!((c.boards_per_hour, c.max_versions_per_board), (100, 1000));
        let c = config(&[
            ("EASEL_BOARDS_PER_HOUR", "5"),
            ("EASEL_MAX_VERSIONS_PER_BOARD", "3"),
        ])
        .unwrap();
        assert_eq!((c.boards_per_hour, c.max_versions_per_board), (5, 3));
        for var in ["EASEL_BOARDS_PER_HOUR", "EASEL_MAX_VERSIONS_PER_BOARD"] {
            for bad in ["0", "1000001", "lots"] {
                assert_eq!(config(&[(var, bad)]).unwrap_err().var, var, "{bad}");
            }
        }
    }

    #[test]
    fn images_are_bounded_per_upload_and_per_board() {
        let c = config(&[]).unwrap();
        assert_eq!(
            (c.max_asset_bytes, c.max_board_asset_bytes),
            (10 << 20, 512 << 20)
        );
        let c = config(&[
            ("EASEL_MAX_ASSET_BYTES", "2048"),
            ("EASEL_MAX_BOARD_ASSET_BYTES", "4096"),
        ])
        .unwrap();
        assert_eq!((c.max_asset_bytes, c.max_board_asset_bytes), (2048, 4096));
        for var in ["EASEL_MAX_ASSET_BYTES", "EASEL_MAX_BOARD_ASSET_BYTES"] {
            for bad in ["0", "1023", "lots"] {
                assert_eq!(config(&[(var, bad)]).unwrap_err().var, var, "{bad}");
            }
        }
    }

    #[test]
    fn tls_needs_both_files() {
        assert_eq!(config(&[]).unwrap().tls, None);
        let c = config(&[
            ("EASEL_TLS_CERT", "/etc/easel/cert.pem"),
            ("EASEL_TLS_KEY", "/etc/easel/key.pem"),
        ])
        .unwrap();
        assert_eq!(
            c.tls,
            Some(TlsFiles {
                cert: PathBuf::from("/etc/easel/cert.pem"),
                key: PathBuf::from("/etc/easel/key.pem"),
            })
        );
        let e = config(&[("EASEL_TLS_CERT", "/etc/easel/cert.pem")]).unwrap_err();
        assert_eq!(e.var, "EASEL_TLS_KEY");
        let e = config(&[("EASEL_TLS_KEY", "/etc/easel/key.pem")]).unwrap_err();
        assert_eq!(e.var, "EASEL_TLS_CERT");
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("EASEL_BIND", ""), ("DATABASE_URL", " ")]).unwrap();
        assert_eq!(c.bind.port(), 8080);
        assert!(matches!(c.database, Database::Sqlite(_)));
    }
}
