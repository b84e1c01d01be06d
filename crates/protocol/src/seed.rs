//! The seed (legacy) protocol: what the Dart Frog servers and Flutter
//! clients Roster grew from put on the wire at `/api/v1/users/ws`.
//!
//! - Server → client: every text frame is the **whole** list as a JSON array
//!   of users, sent on connect and after every change. Some servers join the
//!   users with `", "`; that is still valid JSON and decodes the same.
//! - Client → server: the text `__addUser__` adds a user and
//!   `__removeUser__` removes the most recently added one; anything else is
//!   ignored without a reply.
//!
//! There are no versions, acknowledgements or heartbeats in this protocol.

use std::collections::HashSet;

use serde_json::error::Category;

use crate::user::User;

/// The frame that asks a seed server to add a user.
pub const ADD_USER: &str = "__addUser__";
/// The frame that asks a seed server to remove the most recently added user.
pub const REMOVE_USER: &str = "__removeUser__";

/// A request a seed client can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedCommand {
    AddUser,
    RemoveUser,
}

impl SeedCommand {
    /// Reads a client's text frame. `None` means the frame is not a command
    /// and, as in the seed server, is ignored.
    pub fn parse(frame: &str) -> Option<Self> {
        match frame {
            ADD_USER => Some(Self::AddUser),
            REMOVE_USER => Some(Self::RemoveUser),
            _ => None,
        }
    }

    /// The frame that carries this command.
    pub fn as_frame(self) -> &'static str {
        match self {
            Self::AddUser => ADD_USER,
            Self::RemoveUser => REMOVE_USER,
        }
    }
}

/// Why a frame from a server could not be read as a user list.
///
/// The messages are written for a person: the client shows them as they are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the server sent a binary frame; Roster expects text")]
    Binary,
    #[error("the server sent something that is not JSON ({0})")]
    NotJson(String),
    #[error("the server sent JSON that is not a list of users ({0})")]
    NotAUserList(String),
    #[error("the server sent a list in which user {0} appears twice")]
    DuplicateId(String),
}

/// Decodes a server's frame into the full user list it carries.
///
/// A list naming one id twice is rejected rather than shown, because the
/// client keys rows by id and would otherwise show one user as two.
pub fn decode_user_list(frame: &str) -> Result<Vec<User>, DecodeError> {
    let users: Vec<User> = serde_json::from_str(frame).map_err(|err| match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => DecodeError::NotJson(err.to_string()),
        Category::Data => DecodeError::NotAUserList(err.to_string()),
    })?;
    let mut seen = HashSet::with_capacity(users.len());
    if let Some(twice) = users.iter().find(|user| !seen.insert(&user.id)) {
        return Err(DecodeError::DuplicateId(twice.id.to_string()));
    }
    Ok(users)
}

/// Encodes the full user list as one compact frame.
pub fn encode_user_list(users: &[User]) -> String {
    // Serialising plain strings into a Vec cannot fail.
    serde_json::to_string(users).expect("a user list always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::UserId;

    fn user(id: &str) -> User {
        User {
            id: UserId::new(id),
            name: format!("User {id}"),
            email: format!("u{id}@x.test"),
        }
    }

    #[test]
    fn a_compact_list_decodes() {
        let frame = r#"[{"id":"1","name":"Gianfranco","email":"g@email.com"},{"id":"2","name":"B","email":"b@x"}]"#;
        let users = decode_user_list(frame).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[1].id, UserId::new("2"));
    }

    #[test]
    fn a_list_joined_with_comma_space_decodes() {
        let frame =
            r#"[{"id":"0","name":"Test","email":"Test"}, {"id":"1","name":"Test","email":"Test"}]"#;
        let ids: Vec<_> = decode_user_list(frame)
            .unwrap()
            .into_iter()
            .map(|u| u.id.to_string())
            .collect();
        assert_eq!(ids, ["0", "1"]);
    }

    #[test]
    fn an_empty_list_decodes() {
        assert_eq!(decode_user_list("[]").unwrap(), vec![]);
    }

    #[test]
    fn numeric_ids_decode() {
        let users = decode_user_list(r#"[{"id":1,"name":"A","email":"a@x"}]"#).unwrap();
        assert_eq!(users[0].id.as_str(), "1");
    }

    #[test]
    fn invalid_json_is_reported_as_not_json() {
        for frame in ["", "[", "[{\"id\":", "hello", "[{]", "[,]"] {
            assert!(
                matches!(decode_user_list(frame), Err(DecodeError::NotJson(_))),
                "{frame:?}"
            );
        }
    }

    #[test]
    fn json_of_the_wrong_shape_is_reported_as_not_a_user_list() {
        for frame in [
            "{}",
            "42",
            "null",
            r#"{"type":"ping"}"#,
            r#"[{"id":"1"}]"#,
            "[1,2]",
        ] {
            assert!(
                matches!(decode_user_list(frame), Err(DecodeError::NotAUserList(_))),
                "{frame:?}"
            );
        }
    }

    #[test]
    fn a_list_with_a_repeated_id_is_rejected() {
        let frame = encode_user_list(&[user("1"), user("2"), user("1")]);
        assert_eq!(
            decode_user_list(&frame),
            Err(DecodeError::DuplicateId("1".into()))
        );
    }

    #[test]
    fn a_string_and_a_number_id_with_the_same_text_are_the_same_user() {
        let frame = r#"[{"id":"3","name":"A","email":"a@x"},{"id":3,"name":"B","email":"b@x"}]"#;
        assert_eq!(
            decode_user_list(frame),
            Err(DecodeError::DuplicateId("3".into()))
        );
    }

    #[test]
    fn errors_read_as_sentences_for_people() {
        let err = decode_user_list("nope").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("the server sent something that is not JSON"));
    }

    #[test]
    fn only_the_two_trigger_texts_are_commands() {
        assert_eq!(
            SeedCommand::parse("__addUser__"),
            Some(SeedCommand::AddUser)
        );
        assert_eq!(
            SeedCommand::parse("__removeUser__"),
            Some(SeedCommand::RemoveUser)
        );
        for other in [
            "",
            "__adduser__",
            " __addUser__",
            "{\"type\":\"ping\"}",
            "hello",
        ] {
            assert_eq!(SeedCommand::parse(other), None, "{other:?}");
        }
    }

    #[test]
    fn commands_round_trip_through_their_frames() {
        for command in [SeedCommand::AddUser, SeedCommand::RemoveUser] {
            assert_eq!(SeedCommand::parse(command.as_frame()), Some(command));
        }
    }

    mod properties {
        use super::*;
        use crate::fixtures::any_user;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn lists_with_distinct_ids_round_trip(users in proptest::collection::vec(any_user(), 0..20)) {
                let mut seen = HashSet::new();
                let users: Vec<User> = users.into_iter().filter(|u| seen.insert(u.id.clone())).collect();
                prop_assert_eq!(decode_user_list(&encode_user_list(&users)).unwrap(), users);
            }

            #[test]
            fn a_numeric_id_and_its_string_form_decode_alike(id in any::<u64>()) {
                let as_number = format!(r#"[{{"id":{id},"name":"A","email":"a@x"}}]"#);
                let as_string = format!(r#"[{{"id":"{id}","name":"A","email":"a@x"}}]"#);
                prop_assert_eq!(decode_user_list(&as_number).unwrap(), decode_user_list(&as_string).unwrap());
            }

            #[test]
            fn whatever_arbitrary_text_decodes_to_survives_a_round_trip(frame in "\\PC{0,200}") {
                // Decoding must return (not panic) on any text; what it accepts must be a
                // list that encodes and decodes back to itself.
                if let Ok(users) = decode_user_list(&frame) {
                    prop_assert_eq!(decode_user_list(&encode_user_list(&users)).unwrap(), users);
                }
            }
        }
    }
}
