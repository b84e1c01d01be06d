//! WebSocket close codes, one list for both sides: the server's framing
//! sends them and the client's engine acts on them.
//!
//! 1000–1015 are the RFC's (RFC 6455 §7.4.1); 4000–4999 are for
//! applications, and Roster's follow the HTTP status they resemble
//! (4401 like 401, 4403 like 403), as Liveblocks and others do.

/// A normal close: the user disconnected, or the browser went offline.
pub const NORMAL: u16 = 1000;
/// Going away: the server shuts down, or the page goes into the
/// back/forward cache.
pub const GOING_AWAY: u16 = 1001;
/// The peer broke the framing rules (masking, opcodes, fragmentation).
pub const PROTOCOL_ERROR: u16 = 1002;
/// A text message that is not valid UTF-8.
pub const INVALID_DATA: u16 = 1007;
/// The server refuses this client by policy.
pub const POLICY: u16 = 1008;
/// A message larger than the receiver accepts.
pub const TOO_BIG: u16 = 1009;
/// The server cannot serve this now (a list it cannot load yet); try
/// again later, with backoff.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// What the browser reports when a socket ended without a close frame.
pub const ABNORMAL: u16 = 1006;
/// The server stopped answering (no frame after a ping), or a socket
/// never opened (the client's own code).
pub const DEAD: u16 = 4000;
/// The server wants credentials this client does not have.
pub const UNAUTHORIZED: u16 = 4401;
/// The server forbids this client.
pub const FORBIDDEN: u16 = 4403;
/// No list has the name the socket was opened on.
pub const NO_SUCH_LIST: u16 = 4404;
/// The list was deleted while the socket was open.
pub const LIST_DELETED: u16 = 4410;

/// Whether a close with `code` means "do not come back on your own".
pub fn is_refusal(code: u16) -> bool {
    matches!(
        code,
        POLICY | UNAUTHORIZED | FORBIDDEN | NO_SUCH_LIST | LIST_DELETED
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_policy_the_credential_codes_and_the_missing_list_are_refusals() {
        for code in [POLICY, UNAUTHORIZED, FORBIDDEN, NO_SUCH_LIST, LIST_DELETED] {
            assert!(is_refusal(code), "{code}");
        }
        for code in [
            NORMAL,
            GOING_AWAY,
            PROTOCOL_ERROR,
            ABNORMAL,
            TOO_BIG,
            DEAD,
            4001,
        ] {
            assert!(!is_refusal(code), "{code}");
        }
    }
}
