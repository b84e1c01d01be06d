//! A text frame's payload, encoded once and shared by every connection it
//! is sent to. The list publishes these and the sockets write them, so the
//! type sits below both: the domain never imports the transport.

use bytes::Bytes;

/// A text frame's payload, encoded once and shared by every connection it
/// is sent to (cloning is a reference count).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(Bytes);

impl Text {
    pub fn as_str(&self) -> &str {
        // Only built from `String` and `&'static str`.
        std::str::from_utf8(&self.0).expect("Text holds UTF-8")
    }

    pub fn bytes(&self) -> &Bytes {
        &self.0
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }
}
