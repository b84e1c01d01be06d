#!/usr/bin/env bash
# Builds everything and serves Roster on http://127.0.0.1:8080 (embedded
# storage: SQLite in roster.db) until Ctrl-C. Extra arguments go to roster-server,
# e.g. scripts/run.sh --addr 0.0.0.0:9000.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

tools_ready

step "Building the client (trunk build --release)"
build_release_client

step "Building the server (cargo build --release)"
cargo build --release --locked -p roster-server

step "Compressing the client once (brotli, gzip; roster-server precompress)"
"$ROSTER_ROOT/target/release/roster-server" precompress --dist "${ROSTER_DIST:-$ROSTER_ROOT/dist}"

step "Serving Roster; press Ctrl-C to stop"
# Defaults through the environment, so that flags given to this script win.
export ROSTER_DIST="${ROSTER_DIST:-$ROSTER_ROOT/dist}"
export ROSTER_DB="${ROSTER_DB:-$ROSTER_ROOT/roster.db}"
# Two lists besides default, open to this machine's pages like default
# (embed-example.html shows them side by side).
export ROSTER_LIST="${ROSTER_LIST:-team-a,team-b}"
export ROSTER_ANONYMOUS_LISTS="${ROSTER_ANONYMOUS_LISTS:-team-a,team-b}"
exec "$ROSTER_ROOT/target/release/roster-server" "$@"
