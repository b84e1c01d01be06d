//! Which WebSocket URL the client connects to.
//!
//! Decided at run time, not build time, so one build of the client can be
//! served by any Roster server or pointed at another one: the `server`
//! setting wins; otherwise the page's own origin is used, with `wss:` on
//! `https:` pages.
//!
//! With a `list` setting the socket is that list's,
//! `/api/v1/lists/{list}/ws`, on the page's origin or on the `server`
//! given as an origin (`https://roster.example`) or as the single-list
//! socket (`…/api/v1/users/ws`). A `server` with any other path (a proxy
//! of its own) is taken as the socket, as given.

use crate::list_name::{ListName, DEFAULT_LIST};

/// Where every Roster and seed server serves its user list socket (the
/// list `default`'s, on Roster).
pub const USERS_WS_PATH: &str = "/api/v1/users/ws";

/// The socket of list `list` on a Roster server.
pub fn list_ws_path(list: &ListName) -> String {
    format!("/api/v1/lists/{list}/ws")
}

/// The list a socket URL is for: the name in `/api/v1/lists/{list}/ws`,
/// else `default`.
pub fn list_of(url: &str) -> &str {
    url.split_once("/api/v1/lists/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map_or(DEFAULT_LIST, |(list, _)| list)
}

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
    /// The `list` setting, if one was given.
    pub list: Option<&'a ListName>,
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
        let server = normalise_server(server.trim())?;
        return Ok(match page.list {
            Some(list) => on_list(&server, list),
            None => server,
        });
    }
    if page.host.is_empty() {
        return Err(EndpointError::NoHost);
    }
    let scheme = if page.protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    let path = page
        .list
        .map_or_else(|| USERS_WS_PATH.to_owned(), list_ws_path);
    Ok(format!("{scheme}://{}{path}", page.host))
}

/// `server` (a `ws(s)://` URL) turned to list `list`'s socket, when its
/// path is none, `/`, or the single-list socket's.
fn on_list(server: &str, list: &ListName) -> String {
    let after_scheme = server.find("://").map_or(0, |at| at + 3);
    let (origin, path) = match server[after_scheme..].find('/') {
        Some(slash) => server.split_at(after_scheme + slash),
        None => (server, ""),
    };
    match path {
        "" | "/" | USERS_WS_PATH => format!("{origin}{}", list_ws_path(list)),
        _ => server.to_owned(),
    }
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
            list: None,
        })
    }

    fn on_list(protocol: &str, host: &str, server: Option<&str>, list: &str) -> String {
        let list = ListName::parse(list).unwrap();
        super::websocket_url(PageLocation {
            protocol,
            host,
            server,
            list: Some(&list),
        })
        .unwrap()
    }

    #[test]
    fn a_list_setting_names_the_lists_socket_on_the_page_or_the_server() {
        assert_eq!(
            on_list("https:", "r.example", None, "team-a"),
            "wss://r.example/api/v1/lists/team-a/ws"
        );
        for server in [
            "https://b:2",
            "https://b:2/",
            "wss://b:2/api/v1/users/ws",
            "https://b:2/api/v1/users/ws",
        ] {
            assert_eq!(
                on_list("http:", "a:1", Some(server), "team-a"),
                "wss://b:2/api/v1/lists/team-a/ws",
                "{server}"
            );
        }
        assert_eq!(
            on_list("http:", "a:1", Some("wss://proxy/roster/socket"), "team-a"),
            "wss://proxy/roster/socket",
            "a proxy's own path is kept"
        );
    }

    #[test]
    fn a_socket_url_says_which_list_it_is_for() {
        assert_eq!(list_of("ws://h/api/v1/lists/team-a/ws"), "team-a");
        assert_eq!(list_of("ws://h/api/v1/users/ws"), "default");
        assert_eq!(list_of("wss://proxy/roster/socket"), "default");
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
