//! The user object, as every Roster and seed peer puts it on the wire:
//! `{"id":"1","name":"Gianfranco","email":"gianfranco@email.com"}`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A user's id: an opaque key, compared as text.
///
/// Most seed servers send ids as JSON strings; the Postgres-backed variant
/// sends JSON numbers. Both decode to the same `UserId` (`7` and `"7"` are the
/// same user), and Roster always writes ids back as strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<u64> for UserId {
    fn from(id: u64) -> Self {
        Self(id.to_string())
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UserIdVisitor)
    }
}

struct UserIdVisitor;

impl Visitor<'_> for UserIdVisitor {
    type Value = UserId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a user id as a JSON string or integer")
    }

    fn visit_str<E: de::Error>(self, id: &str) -> Result<UserId, E> {
        Ok(UserId::new(id))
    }

    fn visit_string<E: de::Error>(self, id: String) -> Result<UserId, E> {
        Ok(UserId(id))
    }

    fn visit_u64<E: de::Error>(self, id: u64) -> Result<UserId, E> {
        Ok(UserId::from(id))
    }

    fn visit_i64<E: de::Error>(self, id: i64) -> Result<UserId, E> {
        Ok(UserId(id.to_string()))
    }
}

/// One user of the list.
///
/// Unknown extra fields are ignored, so a server that adds fields does not
/// break older clients.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_id_decodes() {
        let user: User =
            serde_json::from_str(r#"{"id":"1","name":"Gianfranco","email":"g@email.com"}"#)
                .unwrap();
        assert_eq!(user.id, UserId::new("1"));
        assert_eq!(user.name, "Gianfranco");
    }

    #[test]
    fn a_number_id_decodes_to_the_same_key_as_its_string_form() {
        let from_number: User =
            serde_json::from_str(r#"{"id":7,"name":"A","email":"a@b.c"}"#).unwrap();
        let from_string: User =
            serde_json::from_str(r#"{"id":"7","name":"A","email":"a@b.c"}"#).unwrap();
        assert_eq!(from_number, from_string);
    }

    #[test]
    fn ids_are_always_written_as_strings() {
        let user = User {
            id: UserId::from(42),
            name: "A".into(),
            email: "a@b.c".into(),
        };
        assert_eq!(
            serde_json::to_string(&user).unwrap(),
            r#"{"id":"42","name":"A","email":"a@b.c"}"#
        );
    }

    #[test]
    fn fractional_boolean_and_null_ids_are_rejected() {
        for id in ["1.5", "true", "null", "[1]", "{}"] {
            let json = format!(r#"{{"id":{id},"name":"A","email":"a@b.c"}}"#);
            let err = serde_json::from_str::<User>(&json).unwrap_err();
            assert!(err.to_string().contains("user id"), "{id}: {err}");
        }
    }

    #[test]
    fn extra_fields_are_ignored() {
        let user: User =
            serde_json::from_str(r#"{"id":"1","name":"A","email":"a@b.c","role":"admin"}"#)
                .unwrap();
        assert_eq!(user.id.as_str(), "1");
    }

    #[test]
    fn missing_fields_are_rejected() {
        assert!(serde_json::from_str::<User>(r#"{"id":"1","name":"A"}"#).is_err());
    }
}
