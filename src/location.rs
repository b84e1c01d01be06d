//! The page's own address, read from the browser.

use roster_protocol::endpoint::{self, EndpointError, PageLocation};
use roster_protocol::engine::EngineConfig;

/// The WebSocket URL this page should connect to: `?server=` if given,
/// otherwise the page's own origin (see [`endpoint::websocket_url`]).
pub fn websocket_url() -> Result<String, EndpointError> {
    let location = web_sys::window().ok_or(EndpointError::NoHost)?.location();
    let protocol = location.protocol().unwrap_or_default();
    let host = location.host().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    endpoint::websocket_url(PageLocation {
        protocol: &protocol,
        host: &host,
        search: &search,
    })
}

/// The connection engine's settings: the defaults, overridden by the query
/// string (`?ping_ms=1000`, see [`EngineConfig::from_query`]), and what was
/// ignored.
pub fn engine_config() -> (EngineConfig, Vec<String>) {
    let search = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    EngineConfig::from_query(&search)
}
