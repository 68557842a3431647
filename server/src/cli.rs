//! The command line (`easel serve`, `migrate`, `token`, `board ...`, `admin ...`, `health`),
//! with clap.
//!
//! Owns the CLI surface and how results and errors are printed: results on stdout, one
//! error line on stderr, non-zero exit. It lives in the library so the integration tests
//! can build the same binary; `main.rs` only calls [`main`].

use std::process::ExitCode;
use std::time::Duration;

use crate::auth::{JwtKeys, TokenRequest, hash_password};
use crate::config::Config;
use crate::domain::{BoardId, BoardName, DisplayName, Email, NewPassword, Role, UserId};
use crate::startup::Application;
use crate::store::{self, ArchivedFilter, BoardQuery, NewBoard, NewUser, Store, StoreError};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

/// Easel: a self-hosted collaborative whiteboard. Settings come from EASEL_* environment
/// variables and DATABASE_URL (see docs/configuration.md).
#[derive(Parser)]
#[command(name = "easel", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrates the store first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print a signed token for a user, for scripts, tests and operators.
    Token {
        /// The user id (the token's `sub`).
        #[arg(long)]
        user: String,
        /// The display name shown to others.
        #[arg(long)]
        name: Option<String>,
        /// Grant the admin role.
        #[arg(long)]
        admin: bool,
        /// How long the token is valid, e.g. 30m, 1h, 7d.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
    /// Manage boards.
    #[command(subcommand)]
    Board(BoardCommand),
    /// Manage accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check that the server on EASEL_BIND answers `GET /healthz` (over HTTPS when
    /// EASEL_TLS_CERT is set): exit 0 if it does. The container image's HEALTHCHECK.
    Health {
        /// How long to wait for each of connect, send and answer.
        #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account with a password and print its id. Prompts for the password twice
    /// on the terminal (not echoed) unless --password-stdin is given.
    CreateUser {
        /// The account's email (its login; unique, stored lowercased).
        #[arg(long)]
        email: String,
        /// The display name shown to others.
        #[arg(long)]
        name: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable or re-enable an account, or grant or withdraw its admin role. A running
    /// server applies the change to the account's open connections at once.
    UpdateUser {
        /// The account: its id, or its email.
        user: String,
        /// Disable (true: its connections close) or re-enable (false) the account.
        #[arg(long)]
        disabled: Option<bool>,
        /// Grant (true) or withdraw (false) the admin role.
        #[arg(long)]
        admin: Option<bool>,
    },
}

#[derive(Subcommand)]
enum BoardCommand {
    /// Create a board and print its id.
    Create {
        /// The board's name.
        #[arg(long)]
        name: String,
        /// The user who owns it.
        #[arg(long)]
        owner: String,
    },
    /// List boards, most recently changed first (tab-separated: id, name, owner, archived, last seq).
    List {
        /// Only boards this user is a member of.
        #[arg(long)]
        member: Option<String>,
        /// Only boards whose name contains this text.
        #[arg(long)]
        search: Option<String>,
        /// Which boards to show by archive state.
        #[arg(long, value_enum, default_value_t = Archived::Exclude)]
        archived: Archived,
        /// Most boards to print.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Give a user a role on a board (or change it).
    Grant {
        /// The board id.
        board: String,
        /// The user id.
        user: String,
        /// owner, editor or viewer.
        role: String,
    },
    /// Remove a user from a board.
    Revoke {
        /// The board id.
        board: String,
        /// The user id.
        user: String,
    },
    /// Delete a board and everything on it.
    Delete {
        /// The board id.
        board: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Archived {
    Exclude,
    Include,
    Only,
}

/// Runs the command line given to this process and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Config::from_env()
        .context("invalid configuration")
        .and_then(|config| {
            crate::telemetry::init(&config);
            actix_web::rt::System::new().block_on(run(cli.command, config))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.stop_on_signals();
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Token {
            user,
            name,
            admin,
            ttl,
        } => {
            let keys = JwtKeys::from_config(&config)?;
            let user = UserId::parse(&user)?;
            println!(
                "{}",
                keys.issue(&TokenRequest {
                    name,
                    admin,
                    ..TokenRequest::new(user, ttl)
                })?
            );
            Ok(())
        }
        Command::Board(cmd) => {
            let store = open_store(&config).await?;
            let result = board(&*store, cmd).await;
            store.close().await;
            result
        }
        Command::Admin(cmd) => {
            let store = open_store(&config).await?;
            let result = admin(&*store, cmd).await;
            store.close().await;
            result
        }
        Command::Health { timeout } => {
            let addr = crate::probe::local_address(config.bind);
            crate::probe::check(addr, config.tls.is_some(), timeout)?;
            println!("healthy");
            Ok(())
        }
    }
}

async fn open_store(config: &Config) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let store = store::open(config).await.context("opening the store")?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    Ok(store)
}

async fn admin(store: &dyn Store, cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::CreateUser {
            email,
            name,
            admin,
            password_stdin,
        } => {
            let name = DisplayName::parse(&name)?;
            let email = Email::parse(&email)?;
            if store.find_user_by_email(email.as_str()).await?.is_some() {
                anyhow::bail!(
                    "an account with the email {:?} already exists",
                    email.as_str()
                );
            }
            let password = tokio::task::spawn_blocking(move || read_password(password_stdin))
                .await
                .context("reading the password")??;
            let password = NewPassword::parse(&password)?;
            let new = NewUser {
                id: UserId::parse(&uuid::Uuid::now_v7().to_string())?,
                email: email.into(),
                name: name.into(),
                password_hash: Some(hash_password(password.expose()).await?),
                admin,
            };
            println!("{}", store.create_user(&new).await?.id);
        }
        AdminCommand::UpdateUser {
            user,
            disabled,
            admin,
        } => {
            anyhow::ensure!(
                disabled.is_some() || admin.is_some(),
                "nothing to change: give --disabled and/or --admin"
            );
            let id = if user.contains('@') {
                store
                    .find_user_by_email(&user)
                    .await?
                    .with_context(|| format!("no account has the email {:?}", user.trim()))?
                    .id
            } else {
                UserId::parse(&user)?
            };
            let mut account = store.get_user(&id).await?;
            if let Some(admin) = admin {
                account = store.set_user_admin(&id, admin).await?;
            }
            if let Some(disabled) = disabled {
                account = store.set_user_disabled(&id, disabled).await?;
            }
            let state = if account.disabled {
                "disabled"
            } else {
                "enabled"
            };
            let role = if account.admin { "admin" } else { "user" };
            println!("{}\t{}\t{state}\t{role}", account.id, account.email);
        }
    }
    Ok(())
}

/// The new password: the first line of stdin, or typed twice on the terminal without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    let prompt = |text: &str| {
        rpassword::prompt_password(text)
            .context("reading the password from the terminal (or pass --password-stdin)")
    };
    let first = prompt("Password: ")?;
    let second = prompt("Repeat the password: ")?;
    anyhow::ensure!(first == second, "the passwords do not match");
    Ok(first)
}

async fn board(store: &dyn Store, cmd: BoardCommand) -> anyhow::Result<()> {
    match cmd {
        BoardCommand::Create { name, owner } => {
            let new = NewBoard {
                id: BoardId::new(),
                name: BoardName::parse(&name)?,
                owner: UserId::parse(&owner)?,
            };
            println!("{}", store.create_board(&new).await?.id);
        }
        BoardCommand::List {
            member,
            search,
            archived,
            limit,
        } => {
            let query = BoardQuery {
                member: member.as_deref().map(UserId::parse).transpose()?,
                name_contains: search,
                archived: match archived {
                    Archived::Exclude => ArchivedFilter::Exclude,
                    Archived::Include => ArchivedFilter::Include,
                    Archived::Only => ArchivedFilter::Only,
                },
                limit: limit.min(store::MAX_PAGE_SIZE),
                after: None,
            };
            for b in store.list_boards(&query).await?.items {
                let archived = if b.archived_at.is_some() {
                    "archived"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    b.id, b.name, b.owner, archived, b.last_seq
                );
            }
        }
        BoardCommand::Grant { board, user, role } => {
            let (board, user, role) = (
                BoardId::parse(&board)?,
                UserId::parse(&user)?,
                Role::parse(&role)?,
            );
            match store.add_member(board, &user, role).await {
                Err(StoreError::Conflict(_)) => {
                    store.set_member_role(board, &user, role).await?;
                }
                other => {
                    other?;
                }
            }
            println!("{user} is now {role} on {board}");
        }
        BoardCommand::Revoke { board, user } => {
            let (board, user) = (BoardId::parse(&board)?, UserId::parse(&user)?);
            store.remove_member(board, &user).await?;
            println!("{user} removed from {board}");
        }
        BoardCommand::Delete { board } => {
            let board = BoardId::parse(&board)?;
            store.delete_board(board).await?;
            println!("deleted {board}");
        }
    }
    Ok(())
}
