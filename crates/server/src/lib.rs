//! Roster's server: the live user list over WebSocket (seed protocol and
//! Roster protocol v1), the same list over HTTP, and the built browser
//! client, all from one process.
//!
//! # Layout
//! - [`config`]: command-line and environment settings.
//! - [`auth`]: tokens, scopes and what clients without a token may do.
//! - [`store`]: the durable list: SQLite by default (behind a small
//!   trait), Redis (`--redis`) for several instances.
//! - [`lists`]: the named lists: which exist, which are in memory, who
//!   may create them, and the store they are kept in.
//! - [`directory`]: the list in memory, with id and name generation. Pure.
//! - [`roster`]: commits, applies and publishes changes in one order,
//!   through one backend per kind of store (`roster::local`,
//!   `roster::shared`), chosen once in [`AppState::open`].
//! - [`text`]: a frame's payload, encoded once and shared (compressed
//!   once too, by `roster_protocol::deflate`, permessage-deflate's codec).
//! - [`ws`]: the WebSocket endpoint: limits, then [`ws`]'s seed or v1 loop.
//! - [`paths`]: the list and user a request's path names.
//! - [`http`]: the router: JSON API, health, metrics, static files.
//! - [`assets`]: the built client, compressed once (brotli, gzip), with
//!   ETags and a cache policy.
//! - [`connections`]: accepting and serving HTTP/1.1, with a deadline for
//!   each request head.
//! - [`limits`]: the Origin rule and the write-rate token bucket. Pure.
//! - [`csp`]: the Content-Security-Policy of the pages served, naming
//!   their inline scripts by hash.
//! - [`metrics`]: counters rendered for Prometheus.
//! - [`presence`]: the viewer count, coalesced into `presence` frames.
//! - [`shutdown`]: Ctrl-C / SIGTERM.
//!
//! [`run`] serves an already bound listener until a shutdown future
//! resolves, so tests start the real server on port 0 in-process.

pub mod assets;
pub mod auth;
pub mod config;
pub mod connections;
pub mod csp;
pub mod directory;
pub mod http;
pub mod limits;
pub mod lists;
pub mod metrics;
pub mod paths;
pub mod presence;
pub mod roster;
pub mod shutdown;
pub mod store;
pub mod text;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use lists::{List, Lists};
pub use metrics::Metrics;
pub use roster::Roster;
use roster_protocol::ListName;

/// How long shutdown waits for open sockets to say goodbye before the
/// process exits anyway (a client that stopped reading must not hold it).
const SOCKET_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Every list, loaded as it is used.
    pub lists: Arc<Lists>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// Cancelled when the server shuts down; each socket closes with 1001.
    pub shutdown: CancellationToken,
    /// Every open socket's task, so shutdown can wait for their close frames.
    pub sockets: TaskTracker,
    /// One permit per open WebSocket, up to `--max-connections`.
    pub slots: Arc<Semaphore>,
    /// Who may see and change each list.
    pub auth: Arc<auth::Auth>,
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Access(#[from] auth::SetupError),
    #[error("the lists named at start could not be loaded: {0}")]
    Lists(String),
}

impl AppState {
    /// Opens the store named in `config` (`--redis`, else `--db`) and
    /// loads `default` and the lists named with `--list` (creating those
    /// that are missing). With Redis, refuses a configuration that can
    /// lose acknowledged changes unless `--redis-allow-unsafe-durability`.
    pub async fn open(config: Config) -> Result<Self, StartError> {
        let auth = Arc::new(auth::Auth::open(&config.auth, config.addr).await?);
        let metrics = Arc::new(Metrics::default());
        let shutdown = CancellationToken::new();
        let stores = lists::Stores::open(&config, &metrics).await?;
        let lists = Lists::new(
            stores,
            config.list_settings(),
            Arc::clone(&metrics),
            shutdown.clone(),
        );
        lists
            .start()
            .await
            .map_err(|err| StartError::Lists(err.message))?;
        if lists.is_embedded() {
            // In one transaction a list, before the address is bound.
            // (With Redis, through the feed, once `serve` runs.)
            fill_with_demo_users(&lists, config.demo_users)
                .await
                .map_err(|err| StartError::Lists(err.message))?;
        }
        Ok(Self {
            lists,
            slots: Arc::new(Semaphore::new(config.max_connections)),
            config: Arc::new(config),
            metrics,
            shutdown,
            sockets: TaskTracker::new(),
            auth,
        })
    }

    /// The list `default`, loaded if it is not in memory.
    pub async fn default_list(&self) -> Result<Arc<List>, roster_protocol::v1::ErrorBody> {
        self.lists.open(&ListName::default_list(), false).await
    }
}

/// Adds demo users to each list named at start until it holds `wanted`.
async fn fill_with_demo_users(
    lists: &Lists,
    wanted: usize,
) -> Result<(), roster_protocol::v1::ErrorBody> {
    if wanted == 0 {
        return Ok(());
    }
    for name in &lists.named_at_start() {
        let list = lists.open(name, false).await?;
        list.roster()
            .blocking(move |roster| roster.fill_with_demo_users(wanted))
            .await?;
    }
    Ok(())
}

impl AppState {
    /// A new connection's allowance of adds and removes
    /// (`--write-rate`, `--write-burst`).
    pub fn write_limit(&self) -> limits::TokenBucket {
        let config = &self.config;
        limits::TokenBucket::new(
            config.write_rate,
            config.write_burst,
            std::time::Instant::now(),
        )
    }
}

/// Serves `listener` until `shutdown` resolves, then stops accepting,
/// lets requests in flight finish (commits included), closes every socket
/// with 1001 (going away) and returns once they have closed.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::open(config)
        .await
        .map_err(std::io::Error::other)?;
    serve(listener, state, shutdown).await
}

/// Connections the kernel may hold for the server before it accepts them.
/// tokio's default of 1,024 let a storm of 1,000 connects overflow the
/// queue: the last ones were dropped and their SYNs retried a second
/// later (the 1,000-client connect storm took 1.1 s, most clients 0.1 s).
/// The kernel caps it at `net.core.somaxconn` (4,096 here).
const LISTEN_BACKLOG: u32 = 8_192;

/// Listens on `addr` with room for a connect storm in the accept queue.
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// [`run`] with the state already open. `roster-server` opens the store
/// before it binds its address, so while a restarted server loads its
/// list, its clients' connects are refused and retried with their jitter
/// instead of waiting in the listen backlog to be accepted all at once.
/// (With `:memory:` the load is too short for this to show in the
/// reconnect storm; with a large SQLite file or Redis it is not.)
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = http::router(state.clone());
    let token = state.shutdown.clone();
    tokio::spawn(Arc::clone(&state.lists).sweep(token.clone()));
    // Demo users with Redis: through the feeds the lists started
    // (`AppState::open` added them itself for SQLite).
    if !state.lists.is_embedded() {
        fill_with_demo_users(&state.lists, state.config.demo_users)
            .await
            .map_err(|err| std::io::Error::other(err.message))?;
    }
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(
            %addr,
            db = %state.config.db,
            dist = %state.config.dist.display(),
            "roster-server listening on http://{addr}"
        );
    }
    let deadlines = connections::Deadlines {
        header: Duration::from_millis(state.config.header_timeout_ms),
        peer: Duration::from_millis(state.config.peer_timeout_ms),
    };
    connections::serve(listener, router, deadlines, token, shutdown).await?;
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
