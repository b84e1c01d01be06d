//! Settings, from flags or the environment (flags win).

use std::net::SocketAddr;
use std::path::PathBuf;

/// roster-server: serves the live user list over WebSocket and HTTP, and the
/// built browser client.
#[derive(Clone, Debug, clap::Parser)]
#[command(version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Directory of the built client (Trunk's output), served at `/`.
    #[arg(long, env = "ROSTER_DIST", default_value = "dist")]
    pub dist: PathBuf,
}
