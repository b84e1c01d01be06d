//! `roster-server`: parses settings and runs the server until Ctrl-C or
//! SIGTERM. Everything else is in the library.

use clap::Parser;
use roster_server::{serve, shutdown, AppState, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    let addr = config.addr;
    // Open first, then listen: see `roster_server::serve`.
    let state = match AppState::open(config).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(%err, "server failed");
            return std::process::ExitCode::FAILURE;
        }
    };
    let listener = match roster_server::listen(addr) {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(%addr, %err, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    match serve(listener, state, shutdown::signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}
