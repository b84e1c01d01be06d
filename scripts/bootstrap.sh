#!/usr/bin/env bash
# Installs what building, running and testing Roster needs, each piece only
# when it is missing, so a second run takes seconds.
#
#   scripts/bootstrap.sh           wasm toolchain, trunk, wasm-bindgen
#   scripts/bootstrap.sh --test    the same, plus Chromium, ChromeDriver,
#                                  redis-server (the Redis tests start their
#                                  own on a free port), nginx, iptables and
#                                  iproute2 (the fault scenarios), the
#                                  end-to-end tests' npm packages and
#                                  cargo-fuzz
#   scripts/bootstrap.sh --fuzz    only cargo-fuzz (scripts/fuzz.sh)
#
# The wasm toolchain: rustup's wasm32-unknown-unknown target where it is
# installed or can be added; otherwise Debian's rustc-web, which builds the
# wasm standard library from source (-Z build-std). ROSTER_WASM_MODE=rustup
# or =debian forces one of the two.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROSTER_ROOT"

TRUNK_VERSION=0.21.14
CARGO_FUZZ_VERSION=0.13.2
WITH_TEST_TOOLS=0
FUZZ_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --test) WITH_TEST_TOOLS=1 ;;
        --fuzz) FUZZ_ONLY=1 ;;
        *) die "unknown option $arg (known: --test, --fuzz)" ;;
    esac
done

export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || die "cargo is not installed; install Rust with rustup first"

APT_UPDATED=0
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "please install: ${missing[*]} (no apt-get here)"
    if [ "$APT_UPDATED" -eq 0 ]; then
        step "apt-get update"
        as_root apt-get update -q
        APT_UPDATED=1
    fi
    step "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# --- the wasm toolchain -----------------------------------------------------
# The release bundle rebuilds std (lib.sh, WASM_RELEASE_RUSTFLAGS), which
# needs its source: rustup's rust-src component.
use_rustup_target() {
    if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
        step "rustup component add rust-src (gives up after 60 s)"
        timeout 60 rustup component add rust-src || return 1
    fi
    echo rustup >"$(wasm_mode_file)"
}

use_debian_rustc() {
    apt_install rustc-web cargo-web rust-web-src lld-22
    [ -d /usr/lib/rustlib/src/rust/library ] || die "rust-web-src did not install the std source"
    echo debian >"$(wasm_mode_file)"
}

choose_wasm_mode() {
    mkdir -p target
    case "${ROSTER_WASM_MODE:-}" in
        rustup)
            rustup target add wasm32-unknown-unknown || die "rustup cannot add the wasm32 target"
            use_rustup_target || die "rustup cannot add the rust-src component"
            return
            ;;
        debian)
            use_debian_rustc
            return
            ;;
        "") ;;
        *) die "ROSTER_WASM_MODE must be rustup or debian, not $ROSTER_WASM_MODE" ;;
    esac
    if command -v rustup >/dev/null \
        && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
        && use_rustup_target; then
        return
    fi
    # Asking rustup hangs without internet access, so ask once, briefly, and
    # remember a failure for this machine.
    local no_target_marker="$HOME/.cache/roster/rustup-wasm-target-unavailable"
    if command -v rustup >/dev/null && [ ! -e "$no_target_marker" ]; then
        step "rustup target add wasm32-unknown-unknown (gives up after 60 s)"
        if timeout 60 rustup target add wasm32-unknown-unknown && use_rustup_target; then
            return
        fi
        mkdir -p "$(dirname "$no_target_marker")" && touch "$no_target_marker"
        note "rustup cannot add the wasm target here; using Debian's rustc-web instead"
    fi
    use_debian_rustc
}

# --- cargo-installed tools ----------------------------------------------------
locked_wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock
}

# Builds a tool for this machine. Both tools only start processes and
# rewrite a few hundred KB, so they are built for compile speed: no LTO,
# many codegen units, opt-level 1 (trunk: 17 min with its own fat-LTO
# profile, 5 min like this on 2 cores), and without their TLS and
# self-update features: neither downloads anything, since Trunk finds the
# exact wasm-bindgen installed here.
cargo_install() {
    local crate="$1" version="$2"
    step "cargo install $crate $version (a few minutes on a fresh machine)"
    # One target directory for both tools, so the crates they share (serde,
    # clap, anyhow, …) are compiled once; removed once both are installed.
    local fast=(env CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
        CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0
        CARGO_PROFILE_RELEASE_STRIP=true CARGO_TARGET_DIR="$TOOL_BUILD_DIR")
    # --locked first for reproducible tools; without it if the registry lacks
    # a locked dependency version (wasm-bindgen-cli's do, at times).
    "${fast[@]}" cargo install "$crate" --version "=$version" --no-default-features --locked \
        || "${fast[@]}" cargo install "$crate" --version "=$version" --no-default-features
}

TOOL_BUILD_DIR="$ROSTER_ROOT/target/tool-build"

install_tools() {
    if ! trunk --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then
        cargo_install trunk "$TRUNK_VERSION"
    fi
    [ -f Cargo.lock ] || cargo generate-lockfile
    local bindgen
    bindgen="$(locked_wasm_bindgen_version)"
    [ -n "$bindgen" ] || die "no wasm-bindgen in Cargo.lock"
    if ! wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $bindgen"; then
        cargo_install wasm-bindgen-cli "$bindgen"
    fi
    rm -rf "$TOOL_BUILD_DIR"
}

# cargo-fuzz, which scripts/fuzz.sh runs on the stable toolchain.
install_fuzz_tools() {
    if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
        step "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
        cargo install --locked cargo-fuzz --version "=$CARGO_FUZZ_VERSION"
    fi
}

install_test_tools() {
    apt_install chromium chromium-driver redis-server nginx libnginx-mod-http-brotli-static iptables iproute2
    command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
    local e2e="$ROSTER_ROOT/tests/e2e"
    if [ ! -d "$e2e/node_modules" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; then
        step "npm ci (end-to-end test packages)"
        (cd "$e2e" && npm ci --no-audit --no-fund)
    fi
}

if [ "$FUZZ_ONLY" -eq 1 ]; then
    install_fuzz_tools
    exit 0
fi
step "Checking the toolchain"
choose_wasm_mode
note "wasm build mode: $(wasm_mode)"
install_tools
if [ "$WITH_TEST_TOOLS" -eq 1 ]; then
    install_test_tools
    install_fuzz_tools
fi
step "Toolchain ready"
