//! `roster-loadgen SCENARIO --url ws://host:port/api/v1/users/ws …`: runs
//! one scenario against a Roster protocol v1 server and prints its figures
//! as one line of JSON. See the library's docs for the scenarios.

use clap::{Parser, Subcommand};
use roster_loadgen::client::Protocol;
use roster_loadgen::Backoff;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The server's WebSocket URL.
    #[arg(
        long,
        global = true,
        default_value = "ws://127.0.0.1:8080/api/v1/users/ws"
    )]
    url: String,
    /// How many clients.
    #[arg(long, global = true, default_value_t = 1_000)]
    clients: usize,
    /// Offer permessage-deflate, as browsers do (fanout, connect-storm,
    /// idle-memory).
    #[arg(long, global = true)]
    deflate: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// One add at a time, delivered to every client.
    Fanout {
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// What the watching clients speak: v1 gets each change, seed the
        /// whole list after each change.
        #[arg(long, value_enum, default_value_t = Protocol::V1)]
        watchers: Protocol,
        /// The server's process id, to report its memory before the
        /// watchers connect and after the last round.
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Adds at a fixed rate.
    Sustained {
        /// Adds per second.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Every client at once.
    ConnectStorm {
        /// Each client presents its own HS256 token, signed with the
        /// secret in this file (the server's --auth-hs256-secret-file).
        #[arg(long)]
        token_secret_file: Option<std::path::PathBuf>,
    },
    /// Clients dropped by a server restart come back. Prints `ready` on
    /// stderr once all are connected: restart the server then.
    ReconnectStorm {
        #[arg(long, value_enum, default_value_t = Backoff::Roster)]
        backoff: Backoff,
    },
    /// `--clients` watchers on each of `--lists` lists (`--url` has
    /// `{list}` where the name goes: l0000, l0001, …): the server's
    /// memory, and what an add to the first list costs the others.
    Lists {
        #[arg(long, default_value_t = 1_000)]
        lists: usize,
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// The server's process id.
        #[arg(long)]
        pid: u32,
    },
    /// Idle connections held open; the server process's memory.
    IdleMemory {
        /// The server's process id.
        #[arg(long)]
        pid: u32,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let (url, clients, deflate) = (cli.url.as_str(), cli.clients, cli.deflate);
    let result = match cli.scenario {
        Scenario::Fanout {
            rounds,
            watchers,
            pid,
        } => roster_loadgen::fanout(url, clients, rounds, watchers, pid, deflate).await,
        Scenario::Sustained { rate, seconds } => {
            roster_loadgen::sustained(url, clients, rate, seconds).await
        }
        Scenario::ConnectStorm { token_secret_file } => {
            let tokens = token_secret_file.map(|file| {
                let secret =
                    std::fs::read(&file).map_err(|err| format!("{}: {err}", file.display()))?;
                roster_loadgen::mint_tokens(secret.trim_ascii(), clients)
            });
            match tokens.transpose() {
                Ok(tokens) => roster_loadgen::connect_storm(url, clients, tokens, deflate).await,
                Err(err) => Err(err),
            }
        }
        Scenario::ReconnectStorm { backoff } => {
            roster_loadgen::reconnect_storm(url, clients, backoff, || eprintln!("ready")).await
        }
        Scenario::Lists { lists, rounds, pid } => {
            roster_loadgen::lists::lists(url, lists, clients, rounds, pid).await
        }
        Scenario::IdleMemory { pid } => {
            roster_loadgen::idle_memory(url, clients, pid, deflate).await
        }
    };
    match result {
        Ok(figures) => {
            println!("{figures}");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("roster-loadgen: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
