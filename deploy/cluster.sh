#!/usr/bin/env bash
# Runs Roster as a deployment on one machine: Redis (AOF, fsync on every
# write), three roster-server instances sharing it, and nginx terminating
# TLS in front of them (deploy/nginx.conf). Ctrl-C stops everything.
#
#   deploy/cluster.sh          then open https://127.0.0.1:8443/
#
# Settings (environment):
#   ROSTER_CLUSTER_PORT     nginx's HTTPS port                 (8443)
#   ROSTER_INSTANCE_PORTS   the instances' ports               ("8081 8082 8083")
#   ROSTER_REDIS_PORT       Redis' port                        (6390)
#   ROSTER_CLUSTER_DIR      data, logs, certificate and config (target/cluster)
#   ROSTER_SERVER_BIN       roster-server                      (target/release/roster-server,
#                                                               built if missing)
#   ROSTER_DIST             the built client                   (dist, built if missing;
#                                                               precompressed for nginx)
#   ROSTER_NGINX_BROTLI_MODULE  nginx's brotli_static module   (Debian's path)
#
# The certificate is self-signed (made with openssl on first run, for
# 127.0.0.1 and localhost): browsers warn once. Use your own with
# ROSTER_TLS_CERT and ROSTER_TLS_KEY.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROSTER_ROOT"

PORT="${ROSTER_CLUSTER_PORT:-8443}"
INSTANCE_PORTS="${ROSTER_INSTANCE_PORTS:-8081 8082 8083}"
REDIS_PORT="${ROSTER_REDIS_PORT:-6390}"
DIR="$(mkdir -p "${ROSTER_CLUSTER_DIR:-target/cluster}" && cd "${ROSTER_CLUSTER_DIR:-target/cluster}" && pwd)"
SERVER_BIN="${ROSTER_SERVER_BIN:-$ROSTER_ROOT/target/release/roster-server}"
DIST="${ROSTER_DIST:-$ROSTER_ROOT/dist}"
CERT="${ROSTER_TLS_CERT:-$DIR/tls/cert.pem}"
KEY="${ROSTER_TLS_KEY:-$DIR/tls/key.pem}"

command -v redis-server >/dev/null || die "redis-server is missing: apt-get install redis-server"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || die "nginx is missing: apt-get install nginx"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
BROTLI_STATIC_MODULE="${ROSTER_NGINX_BROTLI_MODULE:-/usr/lib/nginx/modules/ngx_http_brotli_static_module.so}"
[ -f "$BROTLI_STATIC_MODULE" ] \
    || die "nginx's brotli_static module is missing: apt-get install libnginx-mod-http-brotli-static"
if [ ! -x "$SERVER_BIN" ]; then
    step "Building roster-server (cargo build --release)"
    cargo build --release --locked -p roster-server
fi
if [ ! -f "$DIST/index.html" ]; then
    tools_ready
    step "Building the client"
    build_release_client
fi
step "Compressing the client's files for nginx (brotli, gzip)"
"$SERVER_BIN" precompress --dist "$DIST"

PIDS=()
stop() {
    [ -f "$DIR/nginx.pid" ] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

step "Redis on 127.0.0.1:$REDIS_PORT (appendonly yes, appendfsync always)"
mkdir -p "$DIR/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis" \
    --appendonly yes --appendfsync always --save "" --daemonize no \
    --logfile "$DIR/redis.log" &
PIDS+=($!)
for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "redis did not start; see $DIR/redis.log"

step "roster-server instances on $INSTANCE_PORTS"
UPSTREAMS=""
for port in $INSTANCE_PORTS; do
    "$SERVER_BIN" --addr "127.0.0.1:$port" --redis "redis://127.0.0.1:$REDIS_PORT/0" \
        --dist "$DIST" >"$DIR/instance-$port.log" 2>&1 &
    PIDS+=($!)
    UPSTREAMS+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
done

if [ ! -f "$CERT" ]; then
    step "A self-signed certificate for 127.0.0.1 and localhost"
    mkdir -p "$(dirname "$CERT")"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$KEY" -out "$CERT" 2>/dev/null
fi

step "nginx on https://127.0.0.1:$PORT/"
mkdir -p "$DIR/nginx-tmp"
awk -v dir="$DIR" -v listen="127.0.0.1:$PORT" -v cert="$CERT" -v key="$KEY" -v upstreams="$UPSTREAMS" \
    -v dist="$DIST" -v brotli="$BROTLI_STATIC_MODULE" '
    /^@UPSTREAMS@$/ { printf "%s", upstreams; next }
    { gsub(/@DIR@/, dir); gsub(/@LISTEN@/, listen); gsub(/@CERT@/, cert); gsub(/@KEY@/, key);
      gsub(/@DIST@/, dist); gsub(/@BROTLI_STATIC_MODULE@/, brotli); print }
' "$ROSTER_ROOT/deploy/nginx.conf" >"$DIR/nginx.conf"
"$NGINX" -c "$DIR/nginx.conf" -p "$DIR" -e "$DIR/nginx-error.log" -g "daemon off;" &
PIDS+=($!)

note "serving https://127.0.0.1:$PORT/ through nginx; Ctrl-C stops everything"
wait -n "${PIDS[@]}" || true
die "a process of the cluster stopped; see the logs in $DIR"
