//! Every setting Easel reads, from environment variables, with defaults and validation.
//!
//! Owns parsing and validating settings; it does no I/O beyond reading the variables it is
//! handed, so it is unit-testable. Secrets are redacted in `Debug`. The README's settings
//! table lists exactly the variables named here.

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
    /// `EASEL_WEB_DIR`: the browser client's files, served at `/`.
    pub web_dir: PathBuf,
    /// `EASEL_SHUTDOWN_TIMEOUT_SECS`: how long a graceful shutdown may take before exiting anyway.
    pub shutdown_timeout: Duration,
    /// `EASEL_ALLOWED_ORIGINS`: browser origins allowed to open WebSockets; `None` means
    /// only the server's own origin (the request's `Host`).
    pub allowed_origins: Option<Vec<String>>,
    /// The realtime limits and timings.
    pub realtime: Realtime,
}

/// Settings of the realtime core (rooms and WebSocket connections).
#[derive(Debug, Clone)]
pub struct Realtime {
    /// `EASEL_ROOM_IDLE_SECS`: unload a room this long after its last member left.
    pub room_idle: Duration,
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
    /// `EASEL_OUTBOUND_QUEUE`: frames queued per connection before it counts as too slow.
    pub outbound_queue: usize,
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
}

/// Shortest accepted `EASEL_JWT_SECRET`, in bytes (HS256 wants at least 256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

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
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(v) => {
                return Err(bad(
                    "EASEL_LOG_FORMAT",
                    format!("{v:?} is neither text nor json"),
                ));
            }
        };
        let web_dir = PathBuf::from(get("EASEL_WEB_DIR").unwrap_or_else(|| "./web".into()));
        let shutdown_timeout =
            Duration::from_secs(parse_num(&get, "EASEL_SHUTDOWN_TIMEOUT_SECS", 30, 1, 3600)?);

        let allowed_origins = get("EASEL_ALLOWED_ORIGINS").map(|v| {
            v.split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect()
        });
        let realtime = Realtime {
            room_idle: Duration::from_secs(parse_num(&get, "EASEL_ROOM_IDLE_SECS", 30, 0, 86_400)?),
            compact_every: parse_num(&get, "EASEL_COMPACT_EVERY", 1000, 1, 10_000_000)?,
            compact_bytes: parse_num(&get, "EASEL_COMPACT_BYTES", 8 << 20, 1024, 1 << 40)?,
            max_message_bytes: parse_num(&get, "EASEL_MAX_MESSAGE_BYTES", 16 << 20, 1024, 1 << 30)?
                as usize,
            max_doc_bytes: parse_num(&get, "EASEL_MAX_DOC_BYTES", 256 << 20, 1024, 1 << 40)?,
            max_pending_bytes: parse_num(&get, "EASEL_MAX_PENDING_BYTES", 64 << 20, 1024, 1 << 40)?,
            outbound_queue: parse_num(&get, "EASEL_OUTBOUND_QUEUE", 1024, 1, 1 << 20)? as usize,
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
        };

        Ok(Self {
            bind,
            mode,
            database,
            data_dir,
            db_max_connections: db_max_connections as u32,
            db_timeout,
            jwt_secret,
            log_filter,
            log_format,
            web_dir,
            shutdown_timeout,
            allowed_origins,
            realtime,
        })
    }
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
        let secret = "k".repeat(32);
        let c = config(&[("EASEL_ENV", "production"), ("EASEL_JWT_SECRET", &secret)]).unwrap();
        assert_eq!(c.mode, Mode::Production);
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
    fn empty_values_count_as_unset() {
        let c = config(&[("EASEL_BIND", ""), ("DATABASE_URL", " ")]).unwrap();
        assert_eq!(c.bind.port(), 8080);
        assert!(matches!(c.database, Database::Sqlite(_)));
    }
}
