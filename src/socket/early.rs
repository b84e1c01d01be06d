//! The socket Roster's own page opens before its module has loaded.
//!
//! On a cold load the module (wasm) is most of the bytes, and a socket
//! opened only once it runs adds three round trips after it: TCP, the
//! upgrade, and `hello` → snapshot (1.7 s on the DevTools "Slow 4G"
//! preset). So `index.html`'s first script opens the socket and says a
//! fresh `hello` while the module downloads, keeping whatever arrives, and
//! the first connection adopts that socket instead of opening another
//! (`bench/cold-load.mjs` measures the difference).
//!
//! It is adopted only when it is what the engine would have opened: the
//! same URL, v1, no token (a page given a token or another server by its
//! settings does not open one; if it did, it is closed here). A socket
//! that already closed is not adopted: its close event has passed, and the
//! engine opens a new one as it always would.

use std::collections::VecDeque;

use gloo_net::websocket::futures::WebSocket;
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// Where `index.html`'s script leaves the socket.
const GLOBAL: &str = "__rosterEarlySocket";

/// An adopted socket and what it said before it was adopted.
pub struct Early {
    pub ws: WebSocket,
    /// Frames that arrived before adoption, oldest first: text, or `None`
    /// for a binary frame.
    pub held: VecDeque<Option<String>>,
    /// The page's script already sent [`roster_protocol::v1::FRESH_HELLO`]
    /// (it had opened), so the engine's own is not sent again.
    pub hello_sent: bool,
}

/// Takes the page's early socket when it was opened for `url` and `wanted`
/// (v1, no token) holds and it has not closed; otherwise closes it (if
/// there is one) and gives `None`. Only the first call can find it.
pub fn adopt(url: &str, wanted: bool) -> Option<Early> {
    let window = web_sys::window()?;
    let early = Reflect::get(&window, &GLOBAL.into())
        .ok()
        .filter(JsValue::is_object)?;
    let _ = Reflect::delete_property(&window, &GLOBAL.into());
    let field = |name: &str| Reflect::get(&early, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let ws: web_sys::WebSocket = field("ws").dyn_into().ok()?;
    // From here on its script sends nothing and keeps nothing.
    let _ = Reflect::set(&early, &"adopted".into(), &JsValue::TRUE);
    let same_url = field("url").as_string().as_deref() == Some(url);
    if !wanted || !same_url || ws.ready_state() > web_sys::WebSocket::OPEN {
        let _ = ws.close_with_code_and_reason(1000, "not needed");
        return None;
    }
    let hello_sent = field("helloSent").as_bool().unwrap_or(false);
    let held = field("frames")
        .dyn_into::<Array>()
        .map(|frames| frames.iter().map(|frame| frame.as_string()).collect())
        .unwrap_or_default();
    let _ = Reflect::set(&early, &"frames".into(), &JsValue::NULL);
    // gloo-net listens from now on; nothing can arrive in between, as this
    // runs in one turn of the event loop.
    let ws = WebSocket::try_from(ws).ok()?;
    Some(Early {
        ws,
        held,
        hello_sent,
    })
}

#[cfg(test)]
mod tests {
    use roster_protocol::endpoint::USERS_WS_PATH;
    use roster_protocol::v1::{FRESH_HELLO, SUBPROTOCOL};

    use super::GLOBAL;

    /// The page's script and this module must agree on every name.
    #[test]
    fn index_html_opens_what_is_adopted_here() {
        let index = include_str!("../../index.html");
        for needle in [
            format!("send('{FRESH_HELLO}')"),
            format!("'{USERS_WS_PATH}'"),
            format!("'{SUBPROTOCOL}'"),
            format!("window.{GLOBAL} = early"),
            "early.helloSent = true".to_owned(),
            "early.adopted".to_owned(),
            "early.frames".to_owned(),
        ] {
            assert!(index.contains(&needle), "index.html lacks {needle}");
        }
    }
}
