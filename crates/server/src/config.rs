//! Settings, from flags or the environment (flags win).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use roster_protocol::ListName;

use crate::auth::AuthConfig;
use crate::lists::{Creation, ListSettings};

/// roster-server: serves the live user list over WebSocket and HTTP, and the
/// built browser client.
#[derive(Clone, Debug, clap::Parser)]
#[command(version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Directory of the built client (Trunk's output), served at `/`.
    #[arg(long, env = "ROSTER_DIST", default_value = "dist", global = true)]
    pub dist: PathBuf,

    /// SQLite database file; created if missing. `:memory:` keeps
    /// everything in memory (lost on exit).
    #[arg(long, env = "ROSTER_DB", default_value = "roster.db")]
    pub db: String,

    /// Extra origins allowed to open a WebSocket, e.g.
    /// `https://dash.example.com` (repeat the flag, or comma-separate in the
    /// environment); `*` allows any. The server's own origin and
    /// localhost/127.0.0.1/[::1] on any port are always allowed.
    #[arg(
        long = "allowed-origin",
        env = "ROSTER_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Largest WebSocket frame or HTTP body a client may send, in bytes.
    #[arg(long, env = "ROSTER_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,

    /// Writes (adds and removes) each connection may make per second, on
    /// average (a token bucket).
    #[arg(long, env = "ROSTER_WRITE_RATE", default_value_t = 10.0)]
    pub write_rate: f64,

    /// Writes a connection may make in a burst before the rate applies.
    #[arg(long, env = "ROSTER_WRITE_BURST", default_value_t = 20)]
    pub write_burst: u32,

    /// Open WebSocket connections the server accepts; more get 503.
    #[arg(long, env = "ROSTER_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Frames waiting to be written to one connection. A client that stops
    /// reading fills it and is dropped (see --send-timeout-ms) instead of
    /// growing memory. The frames are shared, so a full queue costs about
    /// 56 bytes a frame; 1,024 gives a page whose main thread is busy about
    /// a second at 1,000 changes a second before it falls behind.
    #[arg(long, env = "ROSTER_SEND_QUEUE", default_value_t = 1024)]
    pub send_queue: usize,

    /// How long a full send queue may stay full before the client counts as
    /// not reading and is dropped, in milliseconds.
    #[arg(long, env = "ROSTER_SEND_TIMEOUT_MS", default_value_t = 5_000)]
    pub send_timeout_ms: u64,

    /// How long a connection may take to send a request's head (its first
    /// one from when it is accepted), in milliseconds; then it is closed.
    /// Stops slow-loris clients from holding connections open.
    #[arg(long, env = "ROSTER_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,

    /// Compress WebSocket frames for clients that offer permessage-deflate
    /// (every browser does): large frames are compressed once and shared,
    /// small ones go as they are. `false` turns it off, for a proxy that
    /// compresses, or to compare.
    #[arg(
        long,
        env = "ROSTER_PERMESSAGE_DEFLATE",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub permessage_deflate: bool,

    /// Changes kept in the log for clients resuming with `since`; older
    /// gaps are answered with a snapshot.
    #[arg(long, env = "ROSTER_CHANGE_LOG", default_value_t = 10_000)]
    pub change_log: u64,

    /// Keep the list in Redis (`redis://host:port/db`) instead of `--db`,
    /// so that several instances behind one address share it. Redis must
    /// run with `appendonly yes` and `appendfsync always` unless
    /// `--redis-allow-unsafe-durability` is given.
    #[arg(long, env = "ROSTER_REDIS")]
    pub redis: Option<String>,

    /// Keep the lists in a Redis Cluster instead: its seed nodes,
    /// `redis://host:port` separated by commas (the others are found from
    /// them). Each list's keys share one hash tag, so the cluster spreads
    /// lists over its shards, and a shard that stops takes down only the
    /// lists on it.
    #[arg(
        long,
        env = "ROSTER_REDIS_CLUSTER",
        value_delimiter = ',',
        conflicts_with = "redis"
    )]
    pub redis_cluster: Vec<String>,

    /// Serve from a Redis that may lose acknowledged changes (no AOF, or
    /// `appendfsync everysec`): logged as a warning and reported by
    /// `/healthz` and `/metrics`.
    #[arg(long, env = "ROSTER_REDIS_ALLOW_UNSAFE_DURABILITY")]
    pub redis_allow_unsafe_durability: bool,

    /// How long one Redis command, or one attempt to connect, may take
    /// before Redis counts as unreachable (writes are then refused with
    /// `store_unavailable`). A Redis that goes silent is noticed within
    /// this plus half a second.
    #[arg(long, env = "ROSTER_REDIS_TIMEOUT_MS", default_value_t = 2_000)]
    pub redis_timeout_ms: u64,

    /// How long a client's TCP connection may go unanswered (keepalive
    /// probes, or data not acknowledged) before the kernel closes it, so
    /// that a client behind a partition does not hold its socket, task
    /// and place in the connection count until TCP gives up (15 minutes).
    #[arg(long, env = "ROSTER_PEER_TIMEOUT_MS", default_value_t = 60_000)]
    pub peer_timeout_ms: u64,

    /// At start, add generated users until each list named at start
    /// (`default` and `--list`) holds at least this many (one transaction
    /// a list; 100,000 take about a second). For demos and benchmarks.
    #[arg(long, env = "ROSTER_DEMO_USERS", default_value_t = 0)]
    pub demo_users: usize,

    /// Who may create lists: `declared` (an admin, with
    /// `PUT /api/v1/lists/{list}`, or `--list` at start) or `open` (also a
    /// writer whose scope names the list, by its first add).
    #[arg(
        long = "lists",
        env = "ROSTER_LISTS",
        value_enum,
        default_value = "declared"
    )]
    pub creation: Creation,

    /// A list that exists from the start (created if missing), besides
    /// `default`. Repeat the flag, or comma-separate in the environment.
    #[arg(long = "list", env = "ROSTER_LIST", value_delimiter = ',')]
    pub lists: Vec<ListName>,

    /// The most lists that may exist; creating one more is refused
    /// (`too_many_lists`).
    #[arg(long, env = "ROSTER_MAX_LISTS", default_value_t = 10_000)]
    pub max_lists: u64,

    /// The most lists held in memory at once. Past it, the list unused
    /// the longest is dropped from memory; when every one is in use, a
    /// request for another is refused with `too_many_lists` (retry).
    #[arg(long, env = "ROSTER_MAX_LOADED_LISTS", default_value_t = 2_000)]
    pub max_loaded_lists: usize,

    /// How long a list nobody has open stays in memory, in milliseconds
    /// (its data stays in the store).
    #[arg(long, env = "ROSTER_LIST_IDLE_MS", default_value_t = 60_000)]
    pub list_idle_ms: u64,

    /// Who may see and change the list (tokens, `--anonymous`).
    #[command(flatten)]
    pub auth: AuthConfig,

    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `roster-server` can do besides serving.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Prints a token signed with the HS256 secret
    /// (`--auth-hs256-secret-file`), for development and scripts.
    Token(TokenArgs),
    /// Writes FILE.br and FILE.gz beside each file of `--dist`, for a web
    /// server that sends them from disk (deploy/nginx.conf); roster-server
    /// uses them too, instead of compressing at start.
    Precompress,
}

/// What `roster-server token` puts in the token.
#[derive(Clone, Debug, clap::Args)]
pub struct TokenArgs {
    /// Whose token it is (`sub`).
    #[arg(long)]
    pub sub: String,
    /// Space-separated scopes: `roster:read`, `roster:write`,
    /// `roster:admin`, each for the list `default`, or with a list
    /// (`roster:read:team-a`) or a prefix (`roster:write:team-*`).
    #[arg(long, default_value = "roster:read roster:write")]
    pub scope: String,
    /// How long it is valid: seconds, or with a unit (`90s`, `10m`, `2h`,
    /// `1d`).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub ttl: Duration,
}

/// `90`, `90s`, `10m`, `2h` or `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let count: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 10m, 2h or 1d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    Ok(Duration::from_secs(count.saturating_mul(seconds)))
}

impl Config {
    /// The list rules these settings give.
    pub fn list_settings(&self) -> ListSettings {
        ListSettings {
            creation: self.creation,
            named: self.lists.clone(),
            max_lists: self.max_lists.max(1),
            max_loaded: self.max_loaded_lists.max(1),
            idle: Duration::from_millis(self.list_idle_ms),
        }
    }
}

impl Default for Config {
    /// Every default, with storage in memory: what tests and embedders
    /// start from.
    fn default() -> Self {
        let mut config = <Self as clap::Parser>::parse_from(["roster-server"]);
        config.db = ":memory:".into();
        config
    }
}
