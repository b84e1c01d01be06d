//! The connection's token: where it comes from, the one request for a new
//! one that may be in flight, and when to ask for a fresh one before the
//! session's token expires.
//!
//! The page asks (a host's `getToken`, or the parent frame) when the
//! engine says so ([`Action::AskToken`]) and answers with
//! [`super::Event::TokenAnswered`] under the same request number. There
//! is never more than one request in flight: a connect that needs a token
//! while a refresh is being asked for waits for that answer and uses it,
//! so a token fetched before a reconnect goes to the new socket, never to
//! the old one.

use super::backoff::Rng;
use super::events::{Action, Millis};
use crate::auth::Token;

/// Where a page's token comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TokenSource {
    /// Nowhere: `hello` carries none (the server's anonymous rules apply).
    #[default]
    None,
    /// One token the page gave (the `token` setting); only the page
    /// replaces it ([`super::Event::TokenGiven`]).
    Fixed(Token),
    /// Asked for before each connect and before the token expires.
    Asked,
}

/// The share of a token's lifetime before its expiry when the refresh is
/// asked for: somewhere between these, at random, so that many pages
/// whose tokens expire together do not all ask their backend at once.
const REFRESH_EARLIEST: f64 = 0.3;
const REFRESH_LATEST: f64 = 0.1;

#[derive(Clone, Debug, Default)]
pub(super) struct Tokens {
    source: TokenSource,
    /// What the next `hello` or `auth` carries.
    current: Option<Token>,
    /// The request in flight, by number.
    asking: Option<u64>,
    /// Requests made so far (the next one's number).
    asked: u64,
    /// When to ask for a fresh token for the live session.
    refresh_at: Option<Millis>,
}

impl Tokens {
    pub(super) fn new(source: TokenSource) -> Self {
        let current = match &source {
            TokenSource::Fixed(token) => Some(token.clone()),
            _ => None,
        };
        Self {
            source,
            current,
            ..Self::default()
        }
    }

    /// Whether a new token can be asked for.
    pub(super) fn asks(&self) -> bool {
        self.source == TokenSource::Asked
    }

    /// The token the next `hello` or `auth` carries.
    pub(super) fn current(&self) -> Option<Token> {
        self.current.clone()
    }

    /// Asks for a token, unless a request is in flight already.
    pub(super) fn ask(&mut self, out: &mut Vec<Action>) {
        if self.asking.is_none() && self.asks() {
            let request = self.asked;
            self.asked += 1;
            self.asking = Some(request);
            self.refresh_at = None;
            out.push(Action::AskToken { request });
        }
    }

    /// Takes the page's answer to `request`: the token, the reason there
    /// is none, or `None` when it answers no request in flight (it came
    /// late, after another took its place).
    pub(super) fn answered(
        &mut self,
        request: u64,
        answer: Result<Option<Token>, String>,
    ) -> Option<Result<Token, String>> {
        if self.asking != Some(request) {
            return None;
        }
        self.asking = None;
        let answer = answer.and_then(|token| {
            token
                .filter(|token| !token.as_str().is_empty())
                .ok_or_else(|| "no token was given".to_owned())
        });
        if let Ok(token) = &answer {
            self.current = Some(token.clone());
        }
        Some(answer)
    }

    /// The page gave a new token of its own (its `token` setting changed).
    pub(super) fn given(&mut self, token: Token) {
        self.source = TokenSource::Fixed(token.clone());
        self.current = Some(token);
        self.asking = None;
        self.refresh_at = None;
    }

    /// The server refused the token (4401): it is not presented again.
    /// A fixed token stays, since the page may know better later.
    pub(super) fn refused(&mut self) {
        if self.asks() {
            self.current = None;
        }
        self.refresh_at = None;
    }

    /// A session granted at `now` for a token with `lifetime` left (by
    /// the server's clock, so the page's wall clock never enters: `now` is
    /// the page's monotonic clock): when the token can be asked for again,
    /// a fresh one is asked for between 30 % and 10 % of its lifetime
    /// before it expires.
    pub(super) fn session(&mut self, now: Millis, lifetime: Option<Millis>, rng: &mut Rng) {
        self.refresh_at = None;
        let Some(lifetime) = lifetime.filter(|_| self.asks()) else {
            return;
        };
        let expires_at = now.saturating_add(lifetime);
        let latest = (lifetime as f64 * REFRESH_LATEST) as u64;
        let earliest = (lifetime as f64 * REFRESH_EARLIEST) as u64;
        let lead = latest + rng.up_to(earliest - latest);
        self.refresh_at = Some(expires_at.saturating_sub(lead));
    }

    /// When the live session's token is to be refreshed.
    pub(super) fn next_deadline(&self) -> Option<Millis> {
        self.refresh_at.filter(|_| self.asking.is_none())
    }

    /// Whether it is time to ask for a fresh token at `now`.
    pub(super) fn refresh_due(&self, now: Millis) -> bool {
        self.next_deadline().is_some_and(|at| now >= at)
    }

    /// The connection ended: no refresh is due for it.
    pub(super) fn session_ended(&mut self) {
        self.refresh_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> Tokens {
        Tokens::new(TokenSource::Asked)
    }

    fn requests(actions: &[Action]) -> Vec<u64> {
        actions
            .iter()
            .filter_map(|action| match action {
                Action::AskToken { request } => Some(*request),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_request_at_a_time_and_only_its_answer_counts() {
        let mut tokens = asked();
        let mut out = Vec::new();
        tokens.ask(&mut out);
        tokens.ask(&mut out);
        assert_eq!(requests(&out), [0], "a second ask waits for the first");
        assert_eq!(tokens.answered(7, Ok(Some(Token::new("x")))), None);
        assert_eq!(
            tokens.answered(0, Ok(Some(Token::new("t1")))),
            Some(Ok(Token::new("t1")))
        );
        assert_eq!(tokens.current(), Some(Token::new("t1")));
        assert_eq!(tokens.answered(0, Ok(Some(Token::new("late")))), None);
        assert_eq!(tokens.current(), Some(Token::new("t1")));
    }

    #[test]
    fn nothing_or_an_empty_token_is_no_token() {
        let mut tokens = asked();
        for (request, answer) in [
            (0, Ok(None)),
            (1, Ok(Some(Token::new("")))),
            (2, Err("down".into())),
        ] {
            tokens.ask(&mut Vec::new());
            assert!(tokens.answered(request, answer).unwrap().is_err());
        }
        assert_eq!(tokens.current(), None);
    }

    #[test]
    fn the_refresh_falls_between_thirty_and_ten_percent_before_expiry() {
        let mut rng = Rng::new(5);
        let mut tokens = asked();
        for _ in 0..1_000 {
            tokens.session(0, Some(100_000), &mut rng);
            let at = tokens.next_deadline().unwrap();
            assert!((70_000..=90_000).contains(&at), "{at}");
        }
        assert!(!tokens.refresh_due(69_999) || tokens.next_deadline().unwrap() < 70_000);
    }

    #[test]
    fn a_fixed_token_is_never_asked_for_nor_refreshed() {
        let mut tokens = Tokens::new(TokenSource::Fixed(Token::new("page")));
        let mut out = Vec::new();
        tokens.ask(&mut out);
        assert!(out.is_empty());
        tokens.session(0, Some(1_000), &mut Rng::new(1));
        assert_eq!(tokens.next_deadline(), None);
        tokens.refused();
        assert_eq!(tokens.current(), Some(Token::new("page")));
        tokens.given(Token::new("newer"));
        assert_eq!(tokens.current(), Some(Token::new("newer")));
    }
}
