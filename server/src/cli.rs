//! The command line (`easel serve`, `migrate`, `token`, `board ...`), parsed with clap.
//!
//! Owns the CLI surface and how results and errors are printed: results on stdout, one
//! error line on stderr, non-zero exit. It lives in the library so the integration tests
//! can build the same binary; `main.rs` only calls [`main`].

use std::process::ExitCode;
use std::time::Duration;

use crate::auth::{JwtKeys, TokenRequest};
use crate::config::Config;
use crate::domain::{BoardId, BoardName, Role, UserId};
use crate::startup::Application;
use crate::store::{self, ArchivedFilter, BoardQuery, NewBoard, Store, StoreError};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

/// Easel: a self-hosted collaborative whiteboard. Settings come from EASEL_* environment
/// variables and DATABASE_URL (see the README).
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
