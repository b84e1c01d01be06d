//! Which WebSocket extension a client gets: permessage-deflate (RFC 7692)
//! when it offers it in a form we can honour, else none. Pure over the
//! request's `Sec-WebSocket-Extensions` headers.
//!
//! We always answer with no context takeover both ways: each message is
//! compressed on its own, so a frame compressed once serves every
//! connection (see `roster_protocol::deflate`), and an idle connection keeps no
//! window. Browsers offer `permessage-deflate; client_max_window_bits`
//! and accept that answer.

use axum::http::{header, HeaderMap};

/// What the `101` says when compression was agreed.
pub const AGREED: &str =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// [`AGREED`], for an offer that named the server's window size: it must
/// be answered (RFC 7692 §7.1.2.1), and ours is the full 15 bits.
pub const AGREED_WITH_WINDOW: &str =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15";

/// The answer to the first permessage-deflate offer we can honour, if any.
pub fn permessage_deflate(headers: &HeaderMap) -> Option<&'static str> {
    headers
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(answer)
}

/// The answer to one offer, or `None` to decline it.
fn answer(offer: &str) -> Option<&'static str> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case("permessage-deflate") {
        return None;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut server_window = false;
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (param, None),
        };
        // A parameter named twice makes the offer invalid (§7).
        if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return None;
        }
        seen.push(name);
        match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover" | "client_no_context_takeover", None) => {}
            // The client can limit its window: any size inflates here.
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", Some(bits)) => {
                window_bits(bits)?;
            }
            // Our compressor's window is 15 bits; a smaller one is
            // declined (then the next offer, or none, is taken).
            ("server_max_window_bits", Some(bits)) => {
                if window_bits(bits)? != 15 {
                    return None;
                }
                server_window = true;
            }
            _ => return None,
        }
    }
    Some(if server_window {
        AGREED_WITH_WINDOW
    } else {
        AGREED
    })
}

/// A window size as the RFC writes it: 8 to 15, digits only.
fn window_bits(value: &str) -> Option<u8> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) || value.len() > 2 {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn offered(values: &[&'static str]) -> Option<&'static str> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::SEC_WEBSOCKET_EXTENSIONS,
                HeaderValue::from_static(value),
            );
        }
        permessage_deflate(&headers)
    }

    #[test]
    fn what_browsers_offer_is_agreed_with_no_context_takeover() {
        // Chromium and Firefox.
        assert_eq!(
            offered(&["permessage-deflate; client_max_window_bits"]),
            Some(AGREED)
        );
        assert_eq!(offered(&["permessage-deflate"]), Some(AGREED));
        assert_eq!(
            offered(&[
                "PerMessage-Deflate; Server_No_Context_Takeover; client_no_context_takeover"
            ]),
            Some(AGREED)
        );
    }

    #[test]
    fn no_offer_or_another_extension_gets_none() {
        assert_eq!(offered(&[]), None);
        assert_eq!(offered(&["x-webkit-deflate-frame"]), None);
        assert_eq!(offered(&["permessage-deflate-ish"]), None);
    }

    #[test]
    fn a_server_window_of_15_is_answered_and_a_smaller_one_declined() {
        assert_eq!(
            offered(&["permessage-deflate; server_max_window_bits=15"]),
            Some(AGREED_WITH_WINDOW)
        );
        assert_eq!(
            offered(&["permessage-deflate; server_max_window_bits=\"15\""]),
            Some(AGREED_WITH_WINDOW)
        );
        assert_eq!(
            offered(&["permessage-deflate; server_max_window_bits=10"]),
            None
        );
        // The next offer is the fallback (RFC 7692 §5, example 2).
        assert_eq!(
            offered(&["permessage-deflate; server_max_window_bits=10, permessage-deflate"]),
            Some(AGREED)
        );
        assert_eq!(
            offered(&[
                "permessage-deflate; server_max_window_bits=9",
                "permessage-deflate; client_max_window_bits=12"
            ]),
            Some(AGREED)
        );
    }

    #[test]
    fn invalid_offers_are_declined() {
        for offer in [
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; client_max_window_bits=+9",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; mystery",
        ] {
            assert_eq!(offered(&[offer]), None, "{offer}");
        }
    }
}
