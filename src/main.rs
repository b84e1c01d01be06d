//! The browser entry point: everything else lives in the library, so tests
//! can mount the same components.

fn main() {
    // Release builds abort on panic without a message (scripts/lib.sh), so
    // the hook would only add size there.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    roster::start();
}
