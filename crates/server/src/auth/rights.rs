//! What a grant allows on each list: the token's scopes read as
//! (level, list pattern) pairs, added up.
//!
//! A scope is `roster:<level>` or `roster:<level>:<pattern>`, where the
//! level is `read`, `write` (which implies read) or `admin` (which implies
//! both, and may create and delete lists), and the pattern is a list name
//! or a prefix ending in `*` (`team-*`, `*`). A bare `roster:read` means
//! the `default` list only, so a token minted before lists existed keeps
//! exactly the rights it had.
//!
//! Grants add up: a list's level is the highest of every scope whose
//! pattern matches it, in any order. No scope takes a right away, so
//! there is no first-matching-rule to get wrong (Centrifugo's users
//! report that trap in its channel rules).

use roster_protocol::{ListName, ListPattern};

use super::Refusal;

/// The most scopes one token may carry; a token with more is refused
/// (each list check walks them all).
pub const MAX_SCOPES: usize = 32;

/// What a grant allows on a list, each implying the ones before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// See the list.
    Read,
    /// Add and remove users.
    Write,
    /// Create and delete the list.
    Admin,
}

impl Level {
    /// The scope word: `read`, `write`, `admin`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        match word {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// The lists a grant reaches, and at which level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rights(Vec<(Level, ListPattern)>);

impl Rights {
    /// `level` on every list `patterns` names.
    pub fn on(level: Level, patterns: impl IntoIterator<Item = ListPattern>) -> Self {
        Self(
            patterns
                .into_iter()
                .map(|pattern| (level, pattern))
                .collect(),
        )
    }

    /// Reads a token's space-separated `scope` claim. Scopes that are not
    /// Roster's (`openid`, `roster:readx`) are ignored; a Roster scope
    /// with a pattern outside the grammar, or more than [`MAX_SCOPES`]
    /// scopes, refuse the token.
    pub fn parse(scope: &str) -> Result<Self, Refusal> {
        let words: Vec<&str> = scope.split_ascii_whitespace().collect();
        if words.len() > MAX_SCOPES {
            return Err(Refusal::TooManyScopes);
        }
        let mut rights = Vec::new();
        for word in words {
            let Some(rest) = word.strip_prefix("roster:") else {
                continue;
            };
            let (level, pattern) = match rest.split_once(':') {
                Some((level, pattern)) => (level, Some(pattern)),
                None => (rest, None),
            };
            let Some(level) = Level::from_word(level) else {
                continue;
            };
            let pattern = match pattern {
                None => ListPattern::Exactly(ListName::default_list()),
                Some(text) => ListPattern::parse(text).map_err(|_| Refusal::BadScope)?,
            };
            rights.push((level, pattern));
        }
        Ok(Self(rights))
    }

    /// The highest level any scope gives on `list`, if one reaches it.
    pub fn level_on(&self, list: &ListName) -> Option<Level> {
        self.0
            .iter()
            .filter(|(_, pattern)| pattern.matches(list))
            .map(|(level, _)| *level)
            .max()
    }

    /// Whether any scope is there at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `other`'s scopes to these.
    pub fn extend(&mut self, other: Rights) {
        self.0.extend(other.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(name: &str) -> ListName {
        ListName::parse(name).unwrap()
    }

    #[test]
    fn bare_scopes_mean_the_default_list_only() {
        let rights = Rights::parse("roster:read roster:write").unwrap();
        assert_eq!(rights.level_on(&list("default")), Some(Level::Write));
        assert_eq!(rights.level_on(&list("team-a")), None);
        let admin = Rights::parse("roster:admin").unwrap();
        assert_eq!(admin.level_on(&list("default")), Some(Level::Admin));
        assert_eq!(admin.level_on(&list("other")), None);
    }

    #[test]
    fn grants_add_up_whatever_their_order() {
        for scope in [
            "roster:read:* roster:write:team-*",
            "roster:write:team-* roster:read:*",
        ] {
            let rights = Rights::parse(scope).unwrap();
            assert_eq!(rights.level_on(&list("team-a")), Some(Level::Write));
            assert_eq!(rights.level_on(&list("sales")), Some(Level::Read));
            assert_eq!(rights.level_on(&list("default")), Some(Level::Read));
        }
        let rights = Rights::parse("roster:admin:team-a roster:read:team-a").unwrap();
        assert_eq!(rights.level_on(&list("team-a")), Some(Level::Admin));
        assert_eq!(rights.level_on(&list("team-b")), None);
    }

    #[test]
    fn other_scopes_are_ignored_and_broken_roster_scopes_refused() {
        let rights = Rights::parse("openid roster:readx roster roster:own:x profile").unwrap();
        assert!(rights.is_empty());
        for bad in [
            "roster:read:Team",
            "roster:write:team*x",
            "roster:read:",
            "roster:admin:-x",
        ] {
            assert_eq!(Rights::parse(bad), Err(Refusal::BadScope), "{bad}");
        }
    }

    #[test]
    fn at_most_32_scopes() {
        let scopes = |n: usize| {
            (0..n)
                .map(|i| format!("roster:read:l{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let rights = Rights::parse(&scopes(32)).unwrap();
        assert_eq!(rights.level_on(&list("l31")), Some(Level::Read));
        assert_eq!(Rights::parse(&scopes(33)), Err(Refusal::TooManyScopes));
    }

    #[test]
    fn each_level_implies_the_ones_before() {
        assert!(Level::Admin > Level::Write && Level::Write > Level::Read);
    }
}
