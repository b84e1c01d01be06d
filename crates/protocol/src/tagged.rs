//! Reading a JSON frame tagged by `"type"`, so that each kind of mistake
//! gets its own error code, at the cost of one quick scan and one typed
//! parse.
//!
//! # Why this path (measured for issue 9, see BENCHMARKS.md)
//! The first version parsed every frame into a `serde_json::Value`, looked
//! at `type`, then converted the `Value` with serde's internally tagged
//! enum support, which buffers the whole object a second time. For a
//! 100,000-user snapshot (7 MB) that built two full trees and took 1.5×
//! the time, and in the browser bundle `Value` and serde's buffering cost
//! 7.5 KB gzip (18.5 KB raw) of wasm. Parsing with the browser's `JSON.parse` and handing the objects to
//! wasm was slower still: every field crosses the JS/wasm boundary as its
//! own call. So the frame is read here, in wasm, in two passes that build
//! nothing they do not keep:
//! 1. [`Outline`] walks the whole frame with serde's `deserialize_any`, the
//!    same walk `Value` makes (so the same syntax, number-range and depth
//!    errors at the same positions), and keeps only the top-level `type`
//!    and `request_id` strings.
//! 2. The variant's own struct reads the frame directly. The `type` key is
//!    an unknown field to it and is skipped.
//!
//! Snapshots, the only large frames, skip the first pass when they start
//! with their `type` (Roster's server always writes it first) and read
//! cleanly; anything else goes through both passes.
//!
//! Error codes and messages are the ones the `Value` path gave; the unit
//! tests compare the two on every kind of bad frame.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use crate::error::{ErrorBody, ErrorCode};
use crate::validate::RequestId;

/// A frame that could not be read as a message.
///
/// `request_id` is set when the frame named one, so the sender can answer
/// with an error ack that settles the request instead of a bare error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct FrameError {
    pub error: ErrorBody,
    pub request_id: Option<RequestId>,
}

impl FrameError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody::new(code, message),
            request_id: None,
        }
    }

    /// A binary frame, which v1 does not use.
    pub fn binary() -> Self {
        Self::new(
            ErrorCode::BinaryFrame,
            "binary frames are not part of roster.v1; send JSON text",
        )
    }
}

/// A message enum whose variants are read once the frame's `type` is known.
pub(crate) trait Tagged: Sized {
    /// Every `type` this message may have, for the error that names them.
    const TYPES: &'static [&'static str];

    /// Reads `frame` as the variant named `kind`; `None` when no variant
    /// has that name. Each decoder names every type it reads, so a new
    /// type is never taken for another.
    fn decode_as(kind: &str, frame: &str) -> Option<serde_json::Result<Self>>;

    /// A frame read in one pass, without the outline, when its start
    /// already says what it is and it is valid; `None` sends it down the
    /// full path, which also gives every error its exact code and message.
    fn fast_path(_frame: &str) -> Option<Self> {
        None
    }
}

/// Reads one frame as `T`.
pub(crate) fn decode<T: Tagged>(frame: &str) -> Result<T, FrameError> {
    if let Some(message) = T::fast_path(frame) {
        return Ok(message);
    }
    let outline: Outline = serde_json::from_str(frame).map_err(|err| {
        let code = match err.classify() {
            Category::Data => ErrorCode::InvalidMessage,
            _ => ErrorCode::MalformedJson,
        };
        FrameError::new(code, format!("the frame is not valid JSON: {err}"))
    })?;
    let Outline::Object { kind, request_id } = outline else {
        return Err(FrameError::new(
            ErrorCode::InvalidMessage,
            "a message must be a JSON object with a \"type\"",
        ));
    };
    let request_id = request_id.and_then(|id| RequestId::parse(&id).ok());
    let fail = |code, message: String| FrameError {
        error: ErrorBody::new(code, message),
        request_id: request_id.clone(),
    };
    let Some(kind) = kind else {
        return Err(fail(
            ErrorCode::UnknownType,
            "a message needs a string \"type\" field".into(),
        ));
    };
    let Some(decoded) = T::decode_as(&kind, frame) else {
        return Err(fail(
            ErrorCode::UnknownType,
            format!(
                "unknown message type {kind:?}; expected one of {}",
                T::TYPES.join(", ")
            ),
        ));
    };
    decoded.map_err(|err| {
        fail(
            ErrorCode::InvalidMessage,
            format!("invalid message: {}", without_position(&err)),
        )
    })
}

/// Reads a variant's body: the whole frame, whose `type` key the body's
/// struct ignores.
pub(crate) fn body<T: DeserializeOwned>(frame: &str) -> serde_json::Result<T> {
    serde_json::from_str(frame)
}

/// serde_json's message without " at line L column C": the `Value` path
/// reported none, and people read the field name, not the column.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => text,
    }
}

/// What the first pass keeps of a frame.
#[derive(Default)]
enum Outline {
    Object {
        /// The last `type` key's value, if it is a string.
        kind: Option<String>,
        /// The last `request_id` key's value, if it is a string.
        request_id: Option<String>,
    },
    #[default]
    NotObject,
}

impl<'de> de::Deserialize<'de> for Outline {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OutlineVisitor)
    }
}

struct OutlineVisitor;

/// Visitor methods that accept a scalar and give the value's default (for
/// the visitors here: not an object, not text, nothing to keep).
macro_rules! scalars_give_default {
    ($($method:ident($($ty:ty)?)),*) => {$(
        fn $method<E: de::Error>(self $(, _: $ty)?) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
    )*};
}

impl<'de> Visitor<'de> for OutlineVisitor {
    type Value = Outline;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    scalars_give_default!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str),
        visit_unit()
    );

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip.visit_seq(seq)?;
        Ok(Outline::NotObject)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = None;
        let mut request_id = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type => kind = map.next_value::<MaybeText>()?.0,
                Key::RequestId => request_id = map.next_value::<MaybeText>()?.0,
                Key::Other => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(Outline::Object { kind, request_id })
    }
}

/// A top-level key: only two matter.
enum Key {
    Type,
    RequestId,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "type" => Key::Type,
                    "request_id" => Key::RequestId,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A value kept if it is a string, walked and dropped otherwise.
#[derive(Default)]
struct MaybeText(Option<String>);

impl<'de> de::Deserialize<'de> for MaybeText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = MaybeText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<MaybeText, E> {
                Ok(MaybeText(Some(text.to_owned())))
            }
            scalars_give_default!(
                visit_bool(bool),
                visit_i64(i64),
                visit_u64(u64),
                visit_f64(f64),
                visit_unit()
            );
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<MaybeText, A::Error> {
                Skip.visit_seq(seq).map(|()| MaybeText(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MaybeText, A::Error> {
                Skip.visit_map(map).map(|()| MaybeText(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// Any JSON value, checked exactly as `serde_json::Value` would be and
/// then dropped. (`serde::de::IgnoredAny` skips numbers without checking
/// their range, so it would accept frames the `Value` path refused.)
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skip).map(|()| Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    scalars_give_default!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str),
        visit_unit()
    );

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{ClientMessage, ServerMessage};
    use proptest::prelude::*;
    use serde_json::Value;

    /// The decoder this module replaced: a `Value` first, then serde's
    /// internally tagged enum. Kept here as the reference for every code
    /// and message.
    fn reference<T: DeserializeOwned + Tagged>(frame: &str) -> Result<T, FrameError> {
        let value: Value = serde_json::from_str(frame).map_err(|err| {
            let code = match err.classify() {
                Category::Data => ErrorCode::InvalidMessage,
                _ => ErrorCode::MalformedJson,
            };
            FrameError::new(code, format!("the frame is not valid JSON: {err}"))
        })?;
        let Some(object) = value.as_object() else {
            return Err(FrameError::new(
                ErrorCode::InvalidMessage,
                "a message must be a JSON object with a \"type\"",
            ));
        };
        let request_id = object
            .get("request_id")
            .and_then(Value::as_str)
            .and_then(|id| RequestId::parse(id).ok());
        match object.get("type").and_then(Value::as_str) {
            Some(kind) if T::TYPES.contains(&kind) => {}
            Some(kind) => {
                return Err(FrameError {
                    error: ErrorBody::new(
                        ErrorCode::UnknownType,
                        format!(
                            "unknown message type {kind:?}; expected one of {}",
                            T::TYPES.join(", ")
                        ),
                    ),
                    request_id,
                })
            }
            None => {
                return Err(FrameError {
                    error: ErrorBody::new(
                        ErrorCode::UnknownType,
                        "a message needs a string \"type\" field",
                    ),
                    request_id,
                })
            }
        }
        serde_json::from_value(value).map_err(|err| FrameError {
            error: ErrorBody::new(ErrorCode::InvalidMessage, format!("invalid message: {err}")),
            request_id,
        })
    }

    fn same_as_reference(frame: &str) {
        assert_eq!(
            decode::<ServerMessage>(frame),
            reference::<ServerMessage>(frame),
            "server message {frame}"
        );
        assert_eq!(
            decode::<ClientMessage>(frame),
            reference::<ClientMessage>(frame),
            "client message {frame}"
        );
    }

    #[test]
    fn every_kind_of_bad_frame_reads_as_before() {
        for frame in [
            "",
            "not json",
            "{\"type\":",
            "[1,2]",
            "\"hello\"",
            "null",
            "1e400",
            "{}",
            r#"{"type":5}"#,
            r#"{"type":"dance","request_id":"r1"}"#,
            r#"{"type":"add"}"#,
            r#"{"type":"add","request_id":""}"#,
            r#"{"type":"add","request_id":"r","name":5}"#,
            r#"{"type":"add","request_id":"r","name":null,"x":1e400}"#,
            r#"{"type":"hello","since":-1}"#,
            r#"{"type":"hello","since":1.5}"#,
            r#"{"type":"hello","since":18446744073709551616}"#,
            r#"{"type":"remove","request_id":"r","id":null}"#,
            r#"{"type":"remove","request_id":"r","id":true}"#,
            r#"{"type":"snapshot","epoch":1,"version":1,"users":[]}"#,
            r#"{"type":"snapshot","epoch":"e","version":1,"users":[{"id":1.5,"name":"a","email":"b"}]}"#,
            r#"{"type":"snapshot","epoch":"e","version":1,"users":[{"id":"1","name":"a"}]}"#,
            r#"{"type":"snapshot","epoch":"e","version":1,"users":{}}"#,
            r#"{"type":"change","version":2,"op":"renamed","user":{"id":"1","name":"a","email":"b"}}"#,
            r#"{"type":"ack","request_id":"r1","error":{"code":7}}"#,
            r#"{"type":"pong","nonce":"x"}"#,
            r#"{"type":"presence"}"#,
            r#"{"type":"error","code":"x"}"#,
            r#"{"type":"ping"} trailing"#,
            r#"{"type":"ping","type":"dance"}"#,
            r#"{"type":"snapshot","epoch":"e","version":1,"users":[],"type":"dance"}"#,
            &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
            &format!(
                r#"{{"type":"ping","deep":{}1{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
        ] {
            same_as_reference(frame);
        }
    }

    /// The one deliberate difference: a repeated field is refused instead
    /// of silently keeping its last value (RFC 8259 leaves it undefined, and
    /// a peer that repeats `request_id` does not know what it asked for).
    #[test]
    fn a_repeated_field_is_an_invalid_message_that_names_it() {
        let err = decode::<ClientMessage>(r#"{"request_id":"a","type":"add","request_id":"b"}"#)
            .unwrap_err();
        assert_eq!(err.error.code, ErrorCode::InvalidMessage);
        assert_eq!(
            err.error.message,
            "invalid message: duplicate field `request_id`"
        );
        assert_eq!(err.request_id, RequestId::parse("b").ok());
        // A snapshot's `type` too, so its one-pass read cannot be fooled by
        // a second one.
        let frame = r#"{"type":"snapshot","epoch":"e","version":1,"users":[],"type":"snapshot"}"#;
        let err = decode::<ServerMessage>(frame).unwrap_err();
        assert_eq!(err.error.code, ErrorCode::InvalidMessage);
        assert_eq!(err.error.message, "invalid message: duplicate field `type`");
    }

    #[test]
    fn a_snapshot_that_starts_with_its_type_reads_in_one_pass_to_the_same_message() {
        let frame = r#"{"type":"snapshot","epoch":"e","version":3,"users":[{"id":1,"name":"a","email":"b"}]}"#;
        assert!(ServerMessage::fast_path(frame).is_some());
        assert_eq!(
            decode::<ServerMessage>(frame),
            reference::<ServerMessage>(frame)
        );
        // Bad snapshots fall through to the full path and its exact errors.
        let bad = r#"{"type":"snapshot","epoch":"e","version":-3,"users":[]}"#;
        assert!(ServerMessage::fast_path(bad).is_none());
        assert_eq!(
            decode::<ServerMessage>(bad),
            reference::<ServerMessage>(bad)
        );
    }

    /// Frames built from the catalogue's types and field names with values
    /// of every JSON kind, most of them wrong for their field.
    fn any_frame() -> impl Strategy<Value = String> {
        let kinds = prop::sample::select(vec![
            "\"snapshot\"",
            "\"change\"",
            "\"ack\"",
            "\"pong\"",
            "\"presence\"",
            "\"error\"",
            "\"hello\"",
            "\"add\"",
            "\"remove\"",
            "\"ping\"",
            "\"dance\"",
            "7",
            "null",
        ]);
        let fields = prop::sample::select(vec![
            "epoch",
            "version",
            "users",
            "op",
            "user",
            "request_id",
            "error",
            "code",
            "message",
            "nonce",
            "viewers",
            "since",
            "name",
            "email",
            "id",
            "replayed",
            "other",
        ]);
        let values = prop::sample::select(vec![
            "1",
            "-1",
            "1.5",
            "0",
            "18446744073709551615",
            "18446744073709551616",
            "\"x\"",
            "\"r-1\"",
            "\"added\"",
            "\"removed\"",
            "\"\"",
            "null",
            "true",
            "[]",
            "{}",
            r#"{"id":"1","name":"a","email":"b"}"#,
            r#"[{"id":1,"name":"a","email":"b"}]"#,
            r#"[{"id":"1","name":"a"}]"#,
            r#"{"code":"not_found","message":"m"}"#,
        ]);
        let fields = prop::collection::btree_map(fields, values, 0..6);
        (kinds, fields, any::<bool>()).prop_map(|(kind, fields, shuffled)| {
            let mut fields: Vec<_> = fields.into_iter().collect();
            if shuffled {
                fields.reverse();
            }
            let mut frame = format!(r#"{{"type":{kind}"#);
            for (field, value) in fields {
                frame.push_str(&format!(r#","{field}":{value}"#));
            }
            frame.push('}');
            frame
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// The `Value` path visited fields in alphabetical order, this one
        /// in the frame's order: with the fields in alphabetical order
        /// everything matches; in any order, the outcome, code and request
        /// id match (a frame with two bad fields may name the other one).
        #[test]
        fn built_frames_read_as_before(frame in any_frame()) {
            let keys: Vec<&str> = frame.split(",\"").skip(1).map(|field| field.split('"').next().unwrap()).collect();
            if keys.windows(2).all(|pair| pair[0] <= pair[1]) {
                same_as_reference(&frame);
            } else {
                let (new, old) = (decode::<ServerMessage>(&frame), reference::<ServerMessage>(&frame));
                prop_assert_eq!(new.as_ref().ok(), old.as_ref().ok());
                prop_assert_eq!(new.err().map(|e| (e.error.code, e.request_id)), old.err().map(|e| (e.error.code, e.request_id)));
                let (new, old) = (decode::<ClientMessage>(&frame), reference::<ClientMessage>(&frame));
                prop_assert_eq!(new.as_ref().ok(), old.as_ref().ok());
                prop_assert_eq!(new.err().map(|e| (e.error.code, e.request_id)), old.err().map(|e| (e.error.code, e.request_id)));
            }
        }

        #[test]
        fn arbitrary_text_reads_as_before(frame in "\\PC{0,60}") {
            same_as_reference(&frame);
        }
    }

    #[test]
    fn every_type_in_the_catalogue_has_a_decoder_and_no_other_does() {
        for kind in ServerMessage::TYPES {
            assert!(ServerMessage::decode_as(kind, "{}").is_some(), "{kind}");
        }
        for kind in ClientMessage::TYPES {
            assert!(ClientMessage::decode_as(kind, "{}").is_some(), "{kind}");
        }
        assert_eq!(
            ServerMessage::TYPES,
            ["snapshot", "change", "ack", "pong", "presence", "error", "session"]
        );
        assert_eq!(
            ClientMessage::TYPES,
            ["hello", "auth", "add", "remove", "ping"]
        );
        assert!(ServerMessage::decode_as("hello", "{}").is_none());
        assert!(ClientMessage::decode_as("snapshot", "{}").is_none());
    }
}
