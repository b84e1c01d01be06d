//! The reader's filter: which users the list shows while one is typed.
//!
//! A user matches when the text typed (trimmed) is in their name or email,
//! ignoring case. Typing is the common case, and typing usually narrows:
//! a filter that contains the previous one can only match users the
//! previous one matched, so only those are checked again.
//!
//! Case is ignored for all of Unicode, but this module folds only ASCII
//! itself. Other text goes through a [`Fold`] the caller gives: natively
//! `str::to_lowercase`; in the browser, JavaScript's `toLowerCase`, because
//! Rust's Unicode case tables cost the client 6.6 KB gzip (measured) for
//! what the browser already has.

use super::ranks::Ranks;
use crate::user::User;

/// Lower-cases text (all of Unicode); see the module docs.
pub type Fold = fn(&str) -> String;

/// What the reader typed, ready to match.
#[derive(Clone, Debug)]
pub struct Filter {
    /// As typed, trimmed: what the view shows back.
    text: String,
    /// Lower-cased, for matching.
    needle: String,
    fold: Fold,
}

impl Filter {
    /// The filter for `text`, folding non-ASCII text with `fold`; `None`
    /// when it is blank (everyone is shown).
    pub fn new(text: &str, fold: Fold) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| Self {
            text: text.to_owned(),
            needle: lower(text, fold),
            fold,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `user`'s name or email contains the filter, ignoring case.
    pub fn matches(&self, user: &User) -> bool {
        self.found_in(&user.name) || self.found_in(&user.email)
    }

    /// Whether every user this filter matches was matched by `previous`:
    /// true when this one contains it (the reader typed more).
    fn narrows(&self, previous: &Filter) -> bool {
        contains(self.needle.as_bytes(), previous.needle.as_bytes(), false)
    }

    /// Whether `haystack` contains the filter, ignoring case. ASCII text,
    /// which most names and every common email are, is compared in place.
    fn found_in(&self, haystack: &str) -> bool {
        if haystack.is_ascii() {
            // Lower-cased ASCII is ASCII: a non-ASCII needle is not in it.
            self.needle.is_ascii() && contains(haystack.as_bytes(), self.needle.as_bytes(), true)
        } else {
            contains(
                (self.fold)(haystack).as_bytes(),
                self.needle.as_bytes(),
                false,
            )
        }
    }
}

fn lower(text: &str, fold: Fold) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        fold(text)
    }
}

/// Whether `needle` occurs in `haystack`, optionally ignoring ASCII case.
/// Bytes compare correctly for UTF-8 (no character's bytes occur inside
/// another's). A plain scan, because names and emails are short, and
/// `str::contains`' two-way search costs bundle bytes.
fn contains(haystack: &[u8], needle: &[u8], ignore_ascii_case: bool) -> bool {
    needle.is_empty()
        || haystack.windows(needle.len()).any(|window| {
            if ignore_ascii_case {
                window.eq_ignore_ascii_case(needle)
            } else {
                window == needle
            }
        })
}

/// A filter and the slots of the list it lets through.
#[derive(Clone, Debug)]
pub(super) struct Filtered {
    pub(super) filter: Filter,
    /// Per slot: a present user who matches.
    shown: Vec<bool>,
    /// Counts the shown slots: position among the shown ↔ slot.
    pub(super) ranks: Ranks,
}

impl Filtered {
    /// Checks every user in `slots`: O(n).
    pub(super) fn build(filter: Filter, slots: &[Option<User>]) -> Self {
        let shown: Vec<bool> = slots
            .iter()
            .map(|user| user.as_ref().is_some_and(|user| filter.matches(user)))
            .collect();
        let ranks = Ranks::from_flags(&shown);
        Self {
            filter,
            shown,
            ranks,
        }
    }

    /// This filter replaced by `filter`, checking only the users that can
    /// still match it.
    pub(super) fn refine(mut self, filter: Filter, slots: &[Option<User>]) -> Self {
        if filter.needle == self.filter.needle {
            self.filter = filter;
            return self;
        }
        if !filter.narrows(&self.filter) {
            return Self::build(filter, slots);
        }
        for (shown, user) in self.shown.iter_mut().zip(slots) {
            if *shown {
                *shown = user.as_ref().is_some_and(|user| filter.matches(user));
            }
        }
        self.ranks = Ranks::from_flags(&self.shown);
        self.filter = filter;
        self
    }

    /// Whether the user in `slot` is shown.
    pub(super) fn shows(&self, slot: usize) -> bool {
        self.shown.get(slot).copied().unwrap_or(false)
    }

    /// The user in the new last slot, shown if it matches.
    pub(super) fn push(&mut self, user: &User) {
        let shown = self.filter.matches(user);
        self.shown.push(shown);
        self.ranks.push(i64::from(shown));
    }

    /// The user in `slot` is now `user` (`None`: removed).
    pub(super) fn update(&mut self, slot: usize, user: Option<&User>) {
        let shown = user.is_some_and(|user| self.filter.matches(user));
        if self.shown[slot] != shown {
            self.shown[slot] = shown;
            self.ranks.add(slot, if shown { 1 } else { -1 });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::UserId;

    fn filter(text: &str) -> Option<Filter> {
        Filter::new(text, str::to_lowercase)
    }

    fn named(name: &str, email: &str) -> User {
        User {
            id: UserId::from(1),
            name: name.into(),
            email: email.into(),
        }
    }

    #[test]
    fn a_blank_filter_is_no_filter() {
        assert!(filter("").is_none());
        assert!(filter("  \t").is_none());
        assert_eq!(filter(" Ada ").unwrap().text(), "Ada");
    }

    #[test]
    fn it_matches_name_or_email_ignoring_case() {
        let ada = named("Ada Lovelace", "ada@analytical.engine");
        assert!(filter("lovelace").unwrap().matches(&ada));
        assert!(filter("ADA L").unwrap().matches(&ada));
        assert!(filter("analytical.eng").unwrap().matches(&ada));
        assert!(!filter("babbage").unwrap().matches(&ada));
        assert!(!filter("lovelace@").unwrap().matches(&ada));
    }

    #[test]
    fn it_matches_text_beyond_ascii() {
        let zoe = named("Zoë Ångström", "zoe@example.com");
        assert!(filter("ÅNGSTRÖM").unwrap().matches(&zoe));
        assert!(filter("zoë").unwrap().matches(&zoe));
        assert!(!filter("zoë").unwrap().matches(&named("Zoe", "zoe@x")));
        // The Kelvin sign lower-cases to an ASCII "k".
        assert!(filter("\u{212A}ate").unwrap().matches(&named("Kate", "")));
    }

    proptest::proptest! {
        /// The ASCII fast path and the byte scan agree with lower-casing
        /// everything and searching.
        #[test]
        fn it_agrees_with_lower_casing_everything(
            user in crate::fixtures::any_user(),
            text in "\\PC{0,4}",
            from_name in proptest::bool::ANY,
        ) {
            // Half the time, a piece of the user's own name or email.
            let source = if from_name { &user.name } else { &user.email };
            let text = if from_name && !source.is_empty() {
                source.chars().skip(1).take(3).collect::<String>().to_uppercase()
            } else {
                text
            };
            let needle = text.trim().to_lowercase();
            let expected = user.name.to_lowercase().contains(&needle)
                || user.email.to_lowercase().contains(&needle);
            match filter(&text) {
                Some(filter) => proptest::prop_assert_eq!(filter.matches(&user), expected),
                None => proptest::prop_assert!(needle.is_empty()),
            }
        }
    }

    #[test]
    fn typing_more_narrows_only_what_matched() {
        let a = filter("an").unwrap();
        let b = filter("ann").unwrap();
        assert!(b.narrows(&a));
        assert!(!a.narrows(&b));
        assert!(filter("joanne").unwrap().narrows(&a));
    }
}
