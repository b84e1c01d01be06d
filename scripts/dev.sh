#!/usr/bin/env bash
# The dev loop's second half: `trunk serve` with the wasm toolchain this
# machine uses (scripts/bootstrap.sh), on http://127.0.0.1:8081. It
# rebuilds and reloads the page on every save, and proxies the API and the
# socket to the roster-server that scripts/run.sh serves on 8080 (see
# Trunk.toml). Extra arguments go to trunk serve.
#
#   terminal 1: scripts/run.sh
#   terminal 2: scripts/dev.sh        then open http://127.0.0.1:8081/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

tools_ready
step "trunk serve on http://127.0.0.1:8081/ (proxying to roster-server on 127.0.0.1:8080)"
# Built into target/dev-dist (unless --dist says otherwise), so the release
# dist/ that roster-server serves stays as it is.
TRUNK_BUILD_DIST="${TRUNK_BUILD_DIST:-$ROSTER_ROOT/target/dev-dist}" \
    with_wasm_env "$ROSTER_ROOT/target/wasm-dev" trunk serve "$@"
