# Shared by scripts/*.sh: progress output, getting the tools ready, the
# wasm toolchain switch and the Playwright runner. Source it; it defines
# functions and sets nothing else.

ROSTER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROSTER_STARTED_AT=$(date +%s)

# Prints a progress line with the seconds since the script started, so a
# long step never looks hung.
step() {
    printf '\n\033[1m[roster +%ss] %s\033[0m\n' "$(($(date +%s) - ROSTER_STARTED_AT))" "$*" >&2
}

note() {
    printf '[roster] %s\n' "$*" >&2
}

die() {
    printf '\033[31m[roster] error: %s\033[0m\n' "$*" >&2
    exit 1
}

# Installs whatever of the tools is missing (scripts/bootstrap.sh, given
# these options, e.g. --test) and puts cargo's tools on PATH. Every
# command calls this first; it takes seconds once all is installed.
tools_ready() {
    "$ROSTER_ROOT/scripts/bootstrap.sh" "$@" || die "could not install what is needed (scripts/bootstrap.sh $*)"
    export PATH="$HOME/.cargo/bin:$PATH"
}

# Runs the Playwright specs named (all of tests/e2e/specs without any)
# against the server's debug binary and the release client in dist/.
run_playwright() {
    (
        export ROSTER_SERVER_BIN="$ROSTER_ROOT/target/debug/roster-server"
        export ROSTER_DIST="$ROSTER_ROOT/dist"
        cd "$ROSTER_ROOT/tests/e2e" && npx playwright test "$@"
    )
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm build mode, decided by scripts/bootstrap.sh and remembered in
# target/ so every later command uses the same one:
#   rustup  - rustup's wasm32-unknown-unknown target is installed;
#   debian  - Debian's rustc-web builds the wasm standard library itself
#             (see README, "Building without rustup's wasm target").
wasm_mode_file() {
    echo "$ROSTER_ROOT/target/roster-wasm-mode"
}

wasm_mode() {
    cat "$(wasm_mode_file)" 2>/dev/null || echo unknown
}

# Extra rustc flags for the release bundle only (see build_release_client):
# the standard library is rebuilt so that a panic aborts at once, with no
# message, location or formatting code behind it. Debug builds and the
# browser tests keep ordinary panics with messages.
WASM_RELEASE_RUSTFLAGS="-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort"

# Runs a command (cargo, trunk) with the environment the wasm build needs,
# in target directory "$1-<mode>". Each kind of build and each mode gets its
# own, because a target directory whose std was built with other settings
# fails with "duplicate lang item". ROSTER_WASM_RUSTFLAGS adds rustc flags;
# they need a rebuilt std, so std is then built from source in both modes.
with_wasm_env() {
    local target_dir="$1-$(wasm_mode)"
    shift
    local extra="${ROSTER_WASM_RUSTFLAGS:-}"
    case "$(wasm_mode)" in
        rustup)
            if [ -n "$extra" ]; then
                CARGO_TARGET_DIR="$target_dir" \
                    RUSTC_BOOTSTRAP=1 \
                    CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
                    RUSTFLAGS="$extra" \
                    "$@"
            else
                CARGO_TARGET_DIR="$target_dir" "$@"
            fi
            ;;
        debian)
            CARGO_TARGET_DIR="$target_dir" \
                RUSTC=/usr/bin/rustc \
                RUSTC_BOOTSTRAP=1 \
                CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
                RUSTFLAGS="-C target-feature=-reference-types $extra" \
                "$@"
            ;;
        *)
            die "the wasm toolchain is not set up; run scripts/bootstrap.sh"
            ;;
    esac
}

# Builds the release client into dist/ (what roster-server serves), with
# the size settings above.
build_release_client() {
    ROSTER_WASM_RUSTFLAGS="$WASM_RELEASE_RUSTFLAGS" \
        with_wasm_env "$ROSTER_ROOT/target/wasm-release" trunk build --release "$@"
}
