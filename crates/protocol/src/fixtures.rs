//! Test data shared by this crate's unit and property tests.

use proptest::prelude::*;

use crate::user::{User, UserId};

/// User `id` with a name and email derived from it.
pub fn user(id: u64) -> User {
    User {
        id: UserId::from(id),
        name: format!("U{id}"),
        email: format!("u{id}@roster.test"),
    }
}

/// Any user: numeric or arbitrary text ids, any printable name and email.
pub fn any_user() -> impl Strategy<Value = User> {
    (
        prop_oneof!["[0-9]{1,6}", "\\PC{1,12}"],
        "\\PC{0,20}",
        "\\PC{0,20}",
    )
        .prop_map(|(id, name, email)| User {
            id: UserId::new(id),
            name,
            email,
        })
}
