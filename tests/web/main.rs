//! Component tests in a real browser (headless Chromium through
//! wasm-bindgen-test). Each test mounts one component into its own element,
//! drives its signals, and asserts on the DOM.
#![cfg(target_arch = "wasm32")]

mod support;

mod embedding;
mod settings;
mod socket;
mod status;
mod user_list;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
