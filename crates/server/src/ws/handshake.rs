//! The opening handshake (RFC 6455 §4.2): which requests may upgrade, and
//! the `101 Switching Protocols` answer. Pure over the request's headers.
//!
//! Only HTTP/1.1 upgrades are accepted: browsers reach this server over
//! plain HTTP/1.1, or through a proxy (see `deploy/nginx.conf`) that speaks
//! HTTP/1.1 to it.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The only WebSocket version there is.
const VERSION: &str = "13";

/// Why a request cannot be upgraded.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a WebSocket upgrade request at all (a plain GET, say).
    NotUpgrade,
    /// Another protocol version: answered with the one we speak.
    Version,
    /// `Sec-WebSocket-Key` is missing or not 16 bytes in base64.
    Key,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::NotUpgrade => (
                StatusCode::BAD_REQUEST,
                "this is Roster's WebSocket; connect with a WebSocket client\n",
            )
                .into_response(),
            Self::Version => (
                StatusCode::UPGRADE_REQUIRED,
                [(header::SEC_WEBSOCKET_VERSION, VERSION)],
                "only WebSocket version 13 is spoken here\n",
            )
                .into_response(),
            Self::Key => (
                StatusCode::BAD_REQUEST,
                "Sec-WebSocket-Key must be 16 bytes in base64\n",
            )
                .into_response(),
        }
    }
}

/// Checks an upgrade request; gives the `Sec-WebSocket-Accept` value.
pub fn accept_key(headers: &HeaderMap) -> Result<String, Refusal> {
    if !has_token(headers, &header::CONNECTION, "upgrade")
        || !has_token(headers, &header::UPGRADE, "websocket")
    {
        return Err(Refusal::NotUpgrade);
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(VERSION.as_bytes())
    {
        return Err(Refusal::Version);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(HeaderValue::as_bytes)
        .filter(|key| key.len() == 24 && key.ends_with(b"=="))
        .ok_or(Refusal::Key)?;
    Ok(tungstenite::handshake::derive_accept_key(key))
}

/// Whether the client offers this subprotocol.
pub fn offers(headers: &HeaderMap, subprotocol: &str) -> bool {
    has_token(headers, &header::SEC_WEBSOCKET_PROTOCOL, subprotocol)
}

/// The `101` answer, naming the subprotocol and the extension agreed.
pub fn switching(
    accept: &str,
    subprotocol: Option<&'static str>,
    extension: Option<&'static str>,
) -> Response {
    let mut response = (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::CONNECTION, "upgrade"),
            (header::UPGRADE, "websocket"),
        ],
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(accept) = HeaderValue::from_str(accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(subprotocol) = subprotocol {
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(subprotocol),
        );
    }
    if let Some(extension) = extension {
        headers.insert(
            header::SEC_WEBSOCKET_EXTENSIONS,
            HeaderValue::from_static(extension),
        );
    }
    response
}

/// Whether any `name` header lists `token` (comma-separated, any case).
fn has_token(headers: &HeaderMap, name: &header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    const UPGRADE: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn the_rfc_sample_key_gets_the_rfc_sample_accept() {
        assert_eq!(
            accept_key(&request(&UPGRADE)).unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn requests_that_are_not_version_13_upgrades_are_refused_with_the_reason() {
        assert_eq!(accept_key(&request(&[])), Err(Refusal::NotUpgrade));
        assert_eq!(
            accept_key(&request(&UPGRADE[1..])),
            Err(Refusal::NotUpgrade)
        );
        let mut old = UPGRADE;
        old[2].1 = "8";
        assert_eq!(accept_key(&request(&old)), Err(Refusal::Version));
        assert_eq!(accept_key(&request(&UPGRADE[..3])), Err(Refusal::Key));
        let mut short = UPGRADE;
        short[3].1 = "c2hvcnQ=";
        assert_eq!(accept_key(&request(&short)), Err(Refusal::Key));
        assert_eq!(
            Refusal::Version.into_response().headers()[header::SEC_WEBSOCKET_VERSION],
            "13"
        );
    }

    #[test]
    fn a_subprotocol_is_found_in_any_of_several_headers_and_lists() {
        let headers = request(&[
            ("sec-websocket-protocol", "chat, superchat"),
            ("sec-websocket-protocol", "roster.v1"),
        ]);
        assert!(offers(&headers, "roster.v1"));
        assert!(!offers(&headers, "roster.v2"));
        let answer = switching("x", Some("roster.v1"), Some("permessage-deflate"));
        assert_eq!(answer.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            answer.headers()[header::SEC_WEBSOCKET_PROTOCOL],
            "roster.v1"
        );
        assert_eq!(
            answer.headers()[header::SEC_WEBSOCKET_EXTENSIONS],
            "permessage-deflate"
        );
        let plain = switching("x", None, None);
        assert!(!plain.headers().contains_key(header::SEC_WEBSOCKET_PROTOCOL));
        assert!(!plain
            .headers()
            .contains_key(header::SEC_WEBSOCKET_EXTENSIONS));
    }
}
