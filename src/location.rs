//! The page's own address, read from the browser.

use roster_protocol::endpoint::{self, EndpointError, PageLocation};

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
