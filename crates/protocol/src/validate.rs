//! Values that are checked once, where they enter, and trusted after.
//!
//! Each type can only be built by parsing, so a `UserName` in hand is known
//! to be 1–64 characters without control characters, and so on. Errors carry
//! the machine-readable [`ErrorCode`] that acks and HTTP answers report.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ErrorBody, ErrorCode};

/// The most characters a user's name may have.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest email address (RFC 5321's path limit), in bytes.
pub const MAX_EMAIL_BYTES: usize = 254;
/// The longest part before the `@`, in bytes (RFC 5321).
pub const MAX_EMAIL_LOCAL_BYTES: usize = 64;
/// The most characters a client-chosen request id may have.
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// Why a value was refused, worded for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    pub code: ErrorCode,
    pub message: String,
}

impl InvalidValue {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<InvalidValue> for ErrorBody {
    fn from(invalid: InvalidValue) -> Self {
        Self::new(invalid.code, invalid.message)
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A user's display name: 1–64 characters (Unicode scalar values), no
/// control characters, not only whitespace. Surrounding whitespace is
/// trimmed before counting.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let name = raw.trim();
        let invalid = |why: &str| InvalidValue::new(ErrorCode::InvalidName, why);
        if name.is_empty() {
            return Err(invalid("a name must have at least one visible character"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid("a name may have at most 64 characters"));
        }
        if has_control(name) {
            return Err(invalid("a name may not contain control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An email address that is plausible, not proven: at most 254 bytes, one
/// `@` with 1–64 bytes before it, a domain of dot-separated non-empty labels
/// with at least one dot, and no spaces or control characters. Whether the
/// mailbox exists is not this type's business.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let email = raw.trim();
        let invalid = |why: &str| InvalidValue::new(ErrorCode::InvalidEmail, why);
        if email.len() > MAX_EMAIL_BYTES {
            return Err(invalid("an email may have at most 254 characters"));
        }
        if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(
                "an email may not contain spaces or control characters",
            ));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("an email needs an @"));
        };
        if local.is_empty() || local.len() > MAX_EMAIL_LOCAL_BYTES {
            return Err(invalid(
                "the part before the @ must have 1 to 64 characters",
            ));
        }
        if domain.contains('@') {
            return Err(invalid("an email may have only one @"));
        }
        let labels_ok = domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if !domain.contains('.') || !labels_ok {
            return Err(invalid(
                "the part after the @ must be a domain such as example.com",
            ));
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A client-chosen key that makes a request idempotent: 1–128 characters,
/// no control characters. UUIDs fit comfortably.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = |why: &str| InvalidValue::new(ErrorCode::InvalidRequestId, why);
        if raw.is_empty() {
            return Err(invalid("a request id may not be empty"));
        }
        if raw.chars().count() > MAX_REQUEST_ID_CHARS {
            return Err(invalid("a request id may have at most 128 characters"));
        }
        if has_control(raw) {
            return Err(invalid("a request id may not contain control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(UserName::parse("  Ada  ").unwrap().as_str(), "Ada");
        let max = "é".repeat(64);
        assert!(UserName::parse(&max).is_ok());
        let err = UserName::parse(&"é".repeat(65)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidName);
    }

    #[test]
    fn empty_blank_and_control_names_are_refused() {
        for name in ["", "   ", "Ada\u{0}", "line\nbreak", "bell\u{7}"] {
            let err = UserName::parse(name).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidName, "{name:?}");
        }
    }

    #[test]
    fn plausible_emails_pass() {
        for email in [
            "a@b.co",
            "ada.lovelace+list@example.org",
            "x@sub.domain.test",
        ] {
            assert_eq!(Email::parse(email).unwrap().as_str(), email);
        }
    }

    #[test]
    fn implausible_emails_are_refused_with_a_reason() {
        let too_long = format!("a@{}.com", "b".repeat(250));
        let long_local = format!("{}@example.com", "a".repeat(65));
        for email in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@b@c.com",
            "a b@c.com",
            "a@c..com",
            "a@-c.com",
            "a\u{1}@c.com",
            too_long.as_str(),
            long_local.as_str(),
        ] {
            let err = Email::parse(email).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidEmail, "{email:?}");
            assert!(!err.message.is_empty());
        }
    }

    #[test]
    fn request_ids_are_bounded_and_printable() {
        assert!(RequestId::parse("6f1c-42").is_ok());
        assert!(RequestId::parse(&"r".repeat(128)).is_ok());
        for id in ["", "\t", &"r".repeat(129)] {
            assert_eq!(
                RequestId::parse(id).unwrap_err().code,
                ErrorCode::InvalidRequestId
            );
        }
    }
}
