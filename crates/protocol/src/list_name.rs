//! Names of lists, and the patterns a token's scopes name them by.
//!
//! One server holds many lists, each under a name that goes into URLs
//! (`/api/v1/lists/{list}/ws`), store keys (`{roster:<list>}`) and log
//! lines, so the grammar is narrow: 1–64 characters of `a-z`, `0-9`, `-`,
//! `_` and `.`, starting with a letter or a digit. No uppercase (so two
//! names never differ by case only), no `/`, `:`, `{`, `}` or `*` (which
//! mean something in URLs, scopes and Redis hash tags).
//!
//! The list every server has, and every URL of the single-list days
//! means, is [`ListName::default_list`] (`default`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ErrorBody, ErrorCode};

/// The longest list name.
pub const MAX_LIST_NAME: usize = 64;

/// The list every server holds and old URLs mean.
pub const DEFAULT_LIST: &str = "default";

/// A list's name, checked (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ListName(String);

/// Why a text is not a list name (or pattern).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid list name {text:?}: {why}")]
pub struct InvalidList {
    pub text: String,
    pub why: &'static str,
}

impl From<InvalidList> for ErrorBody {
    fn from(err: InvalidList) -> Self {
        ErrorBody::new(ErrorCode::InvalidList, err.to_string())
    }
}

fn allowed_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
}

/// Checks the grammar of a name (`whole`) or a pattern's prefix (not
/// `whole`: it may be empty).
fn check(text: &str, whole: bool) -> Result<(), InvalidList> {
    let invalid = |why| {
        Err(InvalidList {
            text: text.chars().take(80).collect(),
            why,
        })
    };
    if whole && text.is_empty() {
        return invalid("a list name has at least one character");
    }
    if text.len() > MAX_LIST_NAME {
        return invalid("a list name has at most 64 characters");
    }
    if !text.chars().all(allowed_char) {
        return invalid("a list name has only a-z, 0-9, '-', '_' and '.'");
    }
    if text
        .chars()
        .next()
        .is_some_and(|first| !first.is_ascii_alphanumeric())
    {
        return invalid("a list name starts with a letter or a digit");
    }
    Ok(())
}

impl ListName {
    /// `text`, if it is a valid name.
    pub fn parse(text: &str) -> Result<Self, InvalidList> {
        check(text, true)?;
        Ok(Self(text.to_owned()))
    }

    /// `default`: the list of the single-list URLs.
    pub fn default_list() -> Self {
        Self(DEFAULT_LIST.to_owned())
    }

    pub fn is_default(&self) -> bool {
        self.0 == DEFAULT_LIST
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ListName {
    fn default() -> Self {
        Self::default_list()
    }
}

impl fmt::Display for ListName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ListName {
    type Err = InvalidList;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl<'de> Deserialize<'de> for ListName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The lists a scope names: one by its name, or every name that starts
/// with a prefix (written with a trailing `*`; `*` alone is every list).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListPattern {
    Exactly(ListName),
    StartsWith(String),
}

impl ListPattern {
    /// `team-a`, `team-*` or `*`.
    pub fn parse(text: &str) -> Result<Self, InvalidList> {
        match text.strip_suffix('*') {
            Some(prefix) => {
                check(prefix, false)?;
                Ok(Self::StartsWith(prefix.to_owned()))
            }
            None => ListName::parse(text).map(Self::Exactly),
        }
    }

    pub fn matches(&self, list: &ListName) -> bool {
        match self {
            Self::Exactly(name) => name == list,
            Self::StartsWith(prefix) => list.as_str().starts_with(prefix.as_str()),
        }
    }
}

impl fmt::Display for ListPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exactly(name) => write!(f, "{name}"),
            Self::StartsWith(prefix) => write!(f, "{prefix}*"),
        }
    }
}

impl std::str::FromStr for ListPattern {
    type Err = InvalidList;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        for good in [
            "default",
            "team-a",
            "a",
            "0",
            "q3.sales_emea",
            &"x".repeat(64),
        ] {
            assert_eq!(ListName::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "-team",
            "_x",
            ".hidden",
            "Team",
            "team a",
            "team/a",
            "team:a",
            "{team}",
            "team*",
            "équipe",
            &"x".repeat(65),
        ] {
            let err = ListName::parse(bad).unwrap_err();
            assert!(err.to_string().contains("invalid list name"), "{bad:?}");
            assert_eq!(ErrorBody::from(err).code, ErrorCode::InvalidList);
        }
    }

    #[test]
    fn a_name_from_json_is_checked() {
        let name: ListName = serde_json::from_str(r#""team-a""#).unwrap();
        assert_eq!(name.to_string(), "team-a");
        assert!(serde_json::from_str::<ListName>(r#""Team A""#).is_err());
    }

    #[test]
    fn patterns_name_one_list_or_a_prefix() {
        let name = |text| ListName::parse(text).unwrap();
        let exact = ListPattern::parse("team-a").unwrap();
        assert!(exact.matches(&name("team-a")));
        assert!(!exact.matches(&name("team-ab")));
        let prefix = ListPattern::parse("team-*").unwrap();
        assert!(prefix.matches(&name("team-a")));
        assert!(prefix.matches(&name("team-")));
        assert!(!prefix.matches(&name("teams")));
        let all = ListPattern::parse("*").unwrap();
        assert!(all.matches(&name("default")) && all.matches(&name("x")));
        for bad in ["", "**", "team*a", "Team-*", "-*", "a:b"] {
            assert!(ListPattern::parse(bad).is_err(), "{bad:?}");
        }
        for text in ["team-a", "team-*", "*"] {
            assert_eq!(ListPattern::parse(text).unwrap().to_string(), text);
        }
    }
}
