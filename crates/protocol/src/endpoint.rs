//! Which WebSocket URL the client connects to.
//!
//! Decided at run time, not build time, so one build of the client can be
//! served by any Roster server or pointed at another one: the `server`
//! setting wins; otherwise the page's own origin is used, with `wss:` on
//! `https:` pages.

/// Where every Roster and seed server serves its user list socket.
pub const USERS_WS_PATH: &str = "/api/v1/users/ws";

/// The parts of the page's address that decide the socket URL, as the
/// browser's `location` gives them.
#[derive(Clone, Copy, Debug)]
pub struct PageLocation<'a> {
    /// `location.protocol`, such as `"https:"`.
    pub protocol: &'a str,
    /// `location.host`: host name and port, such as `"127.0.0.1:8080"`.
    pub host: &'a str,
    /// The `server` setting, if one was given (see [`crate::settings`]).
    pub server: Option<&'a str>,
}

/// Why no socket URL could be chosen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("the server address {0:?} must start with ws://, wss://, http:// or https://")]
    UnsupportedScheme(String),
    #[error(
        "this page has no host to connect back to; pass ?server=ws://host:port{USERS_WS_PATH}"
    )]
    NoHost,
}

/// The WebSocket URL for a page at `page`.
///
/// An `http(s)://` address in `?server=` is accepted and turned into the
/// matching `ws(s)://` one, since people paste the address they browse to.
pub fn websocket_url(page: PageLocation<'_>) -> Result<String, EndpointError> {
    if let Some(server) = page.server.filter(|s| !s.trim().is_empty()) {
        return normalise_server(server.trim());
    }
    if page.host.is_empty() {
        return Err(EndpointError::NoHost);
    }
    let scheme = if page.protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    Ok(format!("{scheme}://{}{USERS_WS_PATH}", page.host))
}

fn normalise_server(server: &str) -> Result<String, EndpointError> {
    let lower = server.to_ascii_lowercase();
    for (from, to) in [
        ("ws://", "ws://"),
        ("wss://", "wss://"),
        ("http://", "ws://"),
        ("https://", "wss://"),
    ] {
        if lower.starts_with(from) && server.len() > from.len() {
            return Ok(format!("{to}{}", &server[from.len()..]));
        }
    }
    Err(EndpointError::UnsupportedScheme(server.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page whose `server` setting comes from `search`.
    fn websocket_url(page: (&str, &str, &str)) -> Result<String, EndpointError> {
        let (protocol, host, search) = page;
        let server = crate::query::query_param(search, "server");
        super::websocket_url(PageLocation {
            protocol,
            host,
            server: server.as_deref(),
        })
    }

    fn page<'a>(protocol: &'a str, host: &'a str, search: &'a str) -> (&'a str, &'a str, &'a str) {
        (protocol, host, search)
    }

    #[test]
    fn an_http_page_connects_to_its_own_origin_over_ws() {
        assert_eq!(
            websocket_url(page("http:", "127.0.0.1:8080", "")).unwrap(),
            "ws://127.0.0.1:8080/api/v1/users/ws"
        );
    }

    #[test]
    fn an_https_page_connects_over_wss() {
        assert_eq!(
            websocket_url(page("https:", "roster.example", "?x=1")).unwrap(),
            "wss://roster.example/api/v1/users/ws"
        );
    }

    #[test]
    fn the_server_parameter_wins_over_the_origin() {
        assert_eq!(
            websocket_url(page(
                "http:",
                "a:1",
                "?server=ws%3A%2F%2Fb%3A2%2Fapi%2Fv1%2Fusers%2Fws"
            ))
            .unwrap(),
            "ws://b:2/api/v1/users/ws"
        );
    }

    #[test]
    fn an_http_server_parameter_becomes_ws() {
        assert_eq!(
            websocket_url(page("http:", "a:1", "?server=https://b/api/v1/users/ws")).unwrap(),
            "wss://b/api/v1/users/ws"
        );
    }

    #[test]
    fn an_empty_server_parameter_falls_back_to_the_origin() {
        assert_eq!(
            websocket_url(page("http:", "a:1", "?server=")).unwrap(),
            "ws://a:1/api/v1/users/ws"
        );
    }

    #[test]
    fn a_server_parameter_of_another_scheme_is_an_error() {
        assert_eq!(
            websocket_url(page("http:", "a:1", "?server=ftp://b")),
            Err(EndpointError::UnsupportedScheme("ftp://b".into()))
        );
        assert!(websocket_url(page("http:", "a:1", "?server=ws://")).is_err());
    }

    #[test]
    fn a_page_without_a_host_needs_the_server_parameter() {
        assert_eq!(
            websocket_url(page("file:", "", "")),
            Err(EndpointError::NoHost)
        );
        assert!(websocket_url(page("file:", "", "?server=ws://h/p")).is_ok());
    }
}
