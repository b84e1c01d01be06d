//! The client's settings, and the one order in which a page finds them.
//!
//! Every setting has one name (`server`, `ping_ms`, `theme`, …). A page
//! looks for it in this order and takes the first it finds:
//! 1. the query string: `?theme=dark`;
//! 2. the mount element's attributes: `data-theme="dark"` (on the page's
//!    `<body>`), or `theme="dark"` on a `<roster-users>` element;
//! 3. `<meta name="roster:theme" content="dark">` in the page;
//! 4. the default.
//!
//! Each place is a [`Lookup`]: a function from a setting's name to its
//! text. The browser builds them (`src/settings.rs`); everything else,
//! including what counts as valid, is here and tested natively. A value
//! that is not valid is named in a problem and replaced by the default,
//! so a typo never stops the page.

use crate::auth::Token;
use crate::engine::{EngineConfig, QUERY_PARAMETERS};
use crate::list_name::ListName;

/// One place settings can come from: the text given for a setting's name,
/// if any.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The colour scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Follow the browser's `prefers-color-scheme`.
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }
}

/// Every setting besides the engine's ([`QUERY_PARAMETERS`]).
pub const SETTINGS: [&str; 8] = [
    "server",
    "list",
    "theme",
    "compact",
    "embed",
    "bg",
    "token",
    "parent_origin",
];

/// Everything a page can be told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// `server`: the socket to connect to, as given (`ws://`, `wss://`,
    /// `http://` or `https://`, see [`crate::endpoint`]); by default the
    /// page's own origin.
    pub server: Option<String>,
    /// `list`: the name of the list to show; `default`'s (with no name
    /// shown) when none is given.
    pub list: Option<ListName>,
    /// `ping_ms` … `outbox_ttl_ms`: the connection engine's settings.
    pub engine: EngineConfig,
    /// `theme`: `auto` (the default), `light` or `dark`.
    pub theme: Theme,
    /// `compact`: the list and its controls without the page's header and
    /// margins. Implied by `embed`.
    pub compact: bool,
    /// `embed`: compact, and tells the parent page its height.
    pub embed: bool,
    /// `bg=transparent`: no background of its own, so the host's shows.
    pub transparent: bool,
    /// `token`: presented to the server in `hello`. Kept in memory only.
    pub token: Option<Token>,
    /// `parent_origin`: in an iframe, the origin of the page that embeds
    /// it; the frame asks that page for its token (`postMessage`) and
    /// takes an answer from no other origin.
    pub parent_origin: Option<String>,
}

impl Settings {
    /// Resolves every setting from `sources`, first found wins, and lists
    /// what was ignored and why.
    pub fn resolve(sources: &[Lookup]) -> (Self, Vec<String>) {
        let get = |name: &str| {
            sources
                .iter()
                .find_map(|source| source(name))
                .map(|text| text.trim().to_owned())
        };
        let mut problems = Vec::new();
        let (engine, engine_problems) = EngineConfig::from_lookup(get);
        let server = get("server").filter(|server| !server.is_empty());
        let list = get("list")
            .filter(|list| !list.is_empty())
            .and_then(|text| {
                ListName::parse(&text)
                    .map_err(|err| problems.push(format!("ignored list={text:?}: {}", err.why)))
                    .ok()
            });
        let theme = get("theme").map_or(Theme::Auto, |text| {
            Theme::parse(&text).unwrap_or_else(|| {
                problems.push(format!(
                    "ignored theme={text:?}: expected auto, light or dark"
                ));
                Theme::Auto
            })
        });
        let mut flag = |name: &str| {
            get(name).is_some_and(|text| {
                parse_flag(&text).unwrap_or_else(|| {
                    problems.push(format!("ignored {name}={text:?}: expected 1 or 0"));
                    false
                })
            })
        };
        let embed = flag("embed");
        let compact = flag("compact") || embed;
        let transparent = get("bg").is_some_and(|text| match text.as_str() {
            "transparent" => true,
            "" | "default" => false,
            _ => {
                problems.push(format!(
                    "ignored bg={text:?}: expected transparent or default"
                ));
                false
            }
        });
        let token = get("token")
            .filter(|token| !token.is_empty())
            .map(Token::new);
        let parent_origin = get("parent_origin").and_then(|origin| {
            let origin = origin.trim_end_matches('/').to_owned();
            let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin["https://".len().min(origin.len())..].contains('/');
            if valid {
                Some(origin)
            } else {
                problems.push(format!(
                    "ignored parent_origin={origin:?}: expected an origin like https://dash.example.com"
                ));
                None
            }
        });
        problems.extend(engine_problems);
        let settings = Self {
            server,
            list,
            engine,
            theme,
            compact,
            embed,
            transparent,
            token,
            parent_origin,
        };
        (settings, problems)
    }
}

/// Every setting's name, the engine's included, for documentation and for
/// watching a custom element's attributes.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    SETTINGS.into_iter().chain(QUERY_PARAMETERS)
}

/// `1`, `true`, `yes` and an empty value (`?embed`) are on; `0`, `false`
/// and `no` are off.
fn parse_flag(text: &str) -> Option<bool> {
    match text {
        "" | "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// The attribute name of a setting on an element: `ping_ms` is
/// `ping-ms`, and with `prefix` `data-` it is `data-ping-ms`.
pub fn attribute_name(prefix: &str, name: &str) -> String {
    format!("{prefix}{}", name.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn source(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn nothing_given_is_the_defaults() {
        let (settings, problems) = Settings::resolve(&[]);
        assert_eq!(settings, Settings::default());
        assert!(problems.is_empty());
        assert_eq!(settings.theme, Theme::Auto);
    }

    #[test]
    fn a_list_is_named_by_the_grammar_or_ignored_with_a_reason() {
        let query = source(&[("list", "team-a")]);
        let (settings, problems) = Settings::resolve(&[&query]);
        assert_eq!(settings.list.unwrap().as_str(), "team-a");
        assert!(problems.is_empty());
        let query = source(&[("list", "Team A")]);
        let (settings, problems) = Settings::resolve(&[&query]);
        assert_eq!(settings.list, None, "the default list, not a broken name");
        assert!(
            problems[0].starts_with("ignored list=\"Team A\""),
            "{problems:?}"
        );
        let empty = source(&[("list", "")]);
        assert_eq!(Settings::resolve(&[&empty]).0.list, None);
    }

    #[test]
    fn the_first_source_that_names_a_setting_wins() {
        let query = source(&[("theme", "dark")]);
        let attributes = source(&[("theme", "light"), ("ping_ms", "700"), ("server", "ws://a")]);
        let meta = source(&[("ping_ms", "900"), ("server", "ws://b"), ("compact", "1")]);
        let (settings, problems) = Settings::resolve(&[&query, &attributes, &meta]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(settings.theme, Theme::Dark, "query over attribute");
        assert_eq!(settings.engine.ping_ms, 700, "attribute over meta");
        assert_eq!(settings.server.as_deref(), Some("ws://a"));
        assert!(settings.compact, "meta over the default");
        assert_eq!(
            settings.engine.pong_timeout_ms,
            EngineConfig::default().pong_timeout_ms
        );
    }

    #[test]
    fn embed_implies_compact_and_flags_read_like_people_write_them() {
        let (settings, _) = Settings::resolve(&[&source(&[("embed", ""), ("bg", "transparent")])]);
        assert!(settings.embed && settings.compact && settings.transparent);
        let (settings, _) = Settings::resolve(&[&source(&[("embed", "0"), ("compact", "true")])]);
        assert!(!settings.embed && settings.compact);
    }

    #[test]
    fn a_value_that_is_not_valid_is_named_and_replaced_by_the_default() {
        let given = source(&[
            ("theme", "purple"),
            ("embed", "maybe"),
            ("bg", "red"),
            ("ping_ms", "soon"),
        ]);
        let (settings, problems) = Settings::resolve(&[&given]);
        assert_eq!(settings.theme, Theme::Auto);
        assert!(!settings.embed);
        assert!(!settings.transparent);
        assert_eq!(settings.engine.ping_ms, EngineConfig::default().ping_ms);
        assert_eq!(
            problems,
            [
                "ignored theme=\"purple\": expected auto, light or dark",
                "ignored embed=\"maybe\": expected 1 or 0",
                "ignored bg=\"red\": expected transparent or default",
                "ignored ping_ms=\"soon\": expected a whole number above 0",
            ]
        );
    }

    #[test]
    fn an_invalid_value_earlier_is_not_skipped_for_a_valid_one_later() {
        // What the page was told first is what it reports: a typo in the
        // query is shown, not silently replaced by the page's meta tag.
        let query = source(&[("theme", "drak")]);
        let meta = source(&[("theme", "dark")]);
        let (settings, problems) = Settings::resolve(&[&query, &meta]);
        assert_eq!(settings.theme, Theme::Auto);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn a_token_and_the_parent_origin_are_read_and_a_bad_origin_is_named() {
        let given = source(&[
            ("token", "t.k.n"),
            ("parent_origin", "https://dash.example.com/"),
        ]);
        let (settings, problems) = Settings::resolve(&[&given]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(settings.token, Some(Token::new("t.k.n")));
        assert_eq!(
            settings.parent_origin.as_deref(),
            Some("https://dash.example.com")
        );
        assert!(!format!("{settings:?}").contains("t.k.n"), "never printed");
        for bad in ["dash.example.com", "https://dash.example.com/page", "*"] {
            let (settings, problems) = Settings::resolve(&[&source(&[("parent_origin", bad)])]);
            assert_eq!(settings.parent_origin, None, "{bad}");
            assert_eq!(problems.len(), 1, "{bad}");
        }
    }

    #[test]
    fn names_map_to_attributes() {
        assert_eq!(attribute_name("data-", "ping_ms"), "data-ping-ms");
        assert_eq!(attribute_name("", "server"), "server");
        assert_eq!(all_names().count(), SETTINGS.len() + QUERY_PARAMETERS.len());
    }
}
