//! `embed=1`: telling the page around the iframe how tall Roster is, so
//! the host can size the frame to fit (README, "Embedding Roster").
//!
//! Every time the element's height changes, the parent window gets
//! `{type: "roster:height", height}` (CSS pixels, rounded up) by
//! `postMessage`. The height is not a secret, so any parent may read it;
//! the host checks that the message comes from its own iframe.
//!
//! The observer is a few lines of JavaScript: written in Rust through
//! web-sys it was 1.2 KB gzip of wasm (its closure and the message object
//! built field by field), against about 0.2 KB as a snippet.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::Element;

/// The message type the parent page listens for.
pub const HEIGHT_MESSAGE: &str = "roster:height";

#[wasm_bindgen(inline_js = "
export function observeHeight(element, type) {
  const post = () => parent.postMessage(
    { type, height: Math.ceil(element.getBoundingClientRect().height) }, '*');
  const observer = new ResizeObserver(post);
  observer.observe(element);
  return () => observer.disconnect();
}")]
extern "C" {
    /// Posts `element`'s height now and on every change; the function it
    /// returns stops it.
    #[wasm_bindgen(js_name = observeHeight)]
    fn observe_height(element: &Element, kind: &str) -> js_sys::Function;
}

/// Posts `element`'s height to the parent window now and whenever it
/// changes, until the calling component is cleaned up.
pub fn report_height(element: &Element) {
    let stop = StoredValue::new_local(observe_height(element, HEIGHT_MESSAGE));
    on_cleanup(move || {
        if let Some(stop) = stop.try_get_value() {
            let _ = stop.call0(&JsValue::NULL);
        }
    });
}
