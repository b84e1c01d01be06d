//! `roster-server`: parses settings and runs the server until Ctrl-C or
//! SIGTERM (or, with `token`, prints a token; with `precompress`, writes
//! the client's compressed forms). Everything else is in the library.

use clap::Parser;
use roster_server::auth::{mint_hs256, Mint};
use roster_server::config::{Command, TokenArgs};
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
    match &config.command {
        Some(Command::Token(args)) => return print_token(&config, args),
        Some(Command::Precompress) => return precompress(&config),
        None => {}
    }
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

/// `roster-server precompress`: FILE.br and FILE.gz beside `--dist`'s files.
fn precompress(config: &Config) -> std::process::ExitCode {
    match roster_server::assets::precompress(&config.dist) {
        Ok(written) => {
            println!(
                "{} compressed forms written under {}",
                written.len(),
                config.dist.display()
            );
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!(
                "roster-server precompress: {}: {err}",
                config.dist.display()
            );
            std::process::ExitCode::FAILURE
        }
    }
}

/// `roster-server token`: a token signed with the configured HS256 secret.
fn print_token(config: &Config, args: &TokenArgs) -> std::process::ExitCode {
    let Some(path) = &config.auth.auth_hs256_secret_file else {
        eprintln!("roster-server token needs the secret: --auth-hs256-secret-file FILE (or ROSTER_AUTH_HS256_SECRET_FILE)");
        return std::process::ExitCode::FAILURE;
    };
    // The scope as the server will read it: a typo is said here, not
    // found out when the token is refused.
    match roster_server::auth::Rights::parse(&args.scope) {
        Ok(rights) if !rights.is_empty() => {}
        Ok(_) => {
            eprintln!("roster-server token: the scope {:?} grants nothing: use roster:read, roster:write or roster:admin, each optionally with :<list> or :<prefix>*", args.scope);
            return std::process::ExitCode::FAILURE;
        }
        Err(refusal) => {
            eprintln!("roster-server token: {refusal}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let minted = std::fs::read(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))
        .and_then(|secret| {
            let mint = Mint {
                sub: &args.sub,
                scope: &args.scope,
                ttl: args.ttl,
                audience: &config.auth.auth_audience,
                issuer: config.auth.auth_issuer.as_deref(),
            };
            mint_hs256(secret.trim_ascii(), &mint)
        });
    match minted {
        Ok(token) => {
            println!("{token}");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("roster-server token: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
