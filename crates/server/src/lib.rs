//! Roster's server: the live user list over WebSocket, the same list over
//! HTTP, and the built browser client, all from one process.
//!
//! # Layout
//! - [`config`]: command-line and environment settings.
//! - [`directory`]: the user list itself, with id and name generation. Pure
//!   logic, no I/O.
//! - [`roster`]: the shared list plus the latest encoded snapshot, which
//!   every connection watches.
//! - [`ws`]: the WebSocket endpoint, speaking the seed protocol.
//! - [`http`]: the router: JSON API, WebSocket route and static files.
//! - [`shutdown`]: Ctrl-C / SIGTERM.
//!
//! [`run`] serves an already bound listener until a shutdown future
//! resolves, so tests start the real server on port 0 in-process.

pub mod config;
pub mod directory;
pub mod http;
pub mod roster;
pub mod shutdown;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use roster::Roster;

/// How long shutdown waits for open sockets to say goodbye before the
/// process exits anyway (a client that stopped reading must not hold it).
const SOCKET_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub roster: Arc<Roster>,
    /// Cancelled when the server shuts down; each socket closes with 1001.
    pub shutdown: CancellationToken,
    /// Every open socket's task, so shutdown can wait for their close frames.
    pub sockets: TaskTracker,
}

impl AppState {
    pub fn new() -> Self {
        Self {
            roster: Arc::new(Roster::new()),
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// Serves `listener` until `shutdown` resolves, then closes every socket
/// with 1001 (going away) and returns once they have closed.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new();
    let router = http::router(state.clone(), &config);
    let token = state.shutdown.clone();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, dist = %config.dist.display(), "roster-server listening on http://{addr}");
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: closing sockets with 1001");
            token.cancel();
        })
        .await?;
    state.sockets.close();
    if tokio::time::timeout(SOCKET_DRAIN_TIMEOUT, state.sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = state.sockets.len(),
            "sockets did not close in time; exiting anyway"
        );
    }
    Ok(())
}
