#!/usr/bin/env bash
# Runs the fault scenarios (tests/e2e/faults/) inside a network namespace
# made for this run: Chromium, roster-server, Redis and nginx all live on
# the namespace's own loopback, where iptables rules cut, slow and lose
# packets (support/faults.js) and nothing reaches the machine's network.
# The namespace, and every rule and mount made in it, is removed when this
# ends, however it ends.
#
#   scripts/faults.sh [playwright args...]
#
# Expects the debug server, roster-link and the release client built (as
# scripts/test.sh and scripts/reliability.sh do first). Where the machine
# cannot make a namespace (no root, no iproute2, a container without
# CAP_SYS_ADMIN), says so in one line, counts the scenarios as skipped
# and exits 0.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

NS="roster-faults-$$"
SCENARIOS=$(grep -ho "^test(" tests/e2e/faults/*.spec.js | wc -l)

cannot() {
    echo "faults: skipped all $SCENARIOS scenarios: $*"
    echo "  0 passed"
    echo "  $SCENARIOS skipped"
    exit 0
}

[ "$(id -u)" -eq 0 ] || cannot "network namespaces need root"
command -v ip >/dev/null || cannot "no ip (iproute2)"
command -v iptables >/dev/null || cannot "no iptables"
why=$(ip netns add "$NS" 2>&1) || cannot "this machine cannot make a network namespace ($why)"
trap 'ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$NS" 2>/dev/null' EXIT
ip netns exec "$NS" ip link set lo up || cannot "could not bring up the namespace's loopback"
# Chromium counts a machine with nothing but loopback as offline (and the
# page then waits for the network): a veth pair with both ends inside the
# namespace, up, with only its IPv6 link-local addresses, gives it an
# interface. Nothing is ever sent to it.
ip netns exec "$NS" ip link add roster0 type veth peer name roster1 \
    && ip netns exec "$NS" ip link set roster0 up \
    && ip netns exec "$NS" ip link set roster1 up \
    || cannot "could not make an interface in the namespace"
ip netns exec "$NS" iptables -w -L OUTPUT >/dev/null 2>&1 \
    || cannot "iptables does not work in a namespace here"

note "fault scenarios in network namespace $NS ($SCENARIOS scenarios)"
ip netns exec "$NS" env ROSTER_FAULT_NS="$NS" ROSTER_HOST_NETNS="$(readlink /proc/self/ns/net)" \
    ROSTER_SERVER_BIN="$ROSTER_ROOT/target/debug/roster-server" \
    ROSTER_LINK_BIN="$ROSTER_ROOT/target/debug/roster-link" \
    ROSTER_DIST="$ROSTER_ROOT/dist" \
    bash -c 'cd tests/e2e && npx playwright test -c faults.config.js "$@"' faults "$@"
