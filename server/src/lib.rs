//! Easel: a self-hosted, multi-user collaborative whiteboard server.
//!
//! The library holds everything; `main.rs` only parses the command line and calls in.
//! See `docs/architecture.md` for the architecture: `http` (transport) sits on `auth` and `store`;
//! `store` knows nothing of HTTP; `domain` and `config` do no I/O.

pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod document;
pub mod domain;
pub mod feed;
pub mod http;
pub mod image;
pub mod metrics;
pub mod private_fs;
pub mod probe;
pub mod protocol;
pub mod rooms;
pub mod serve_lock;
pub mod spill;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;
