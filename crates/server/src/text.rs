//! A text frame's payload, encoded once and shared by every connection it
//! is sent to. The list publishes these and the sockets write them, so the
//! type sits below both: the domain never imports the transport.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use roster_protocol::deflate;

/// A text frame's payload, encoded once and shared by every connection it
/// is sent to (cloning is a reference count). Its compressed form
/// (permessage-deflate) is made the first time a connection that
/// negotiated compression sends it, and shared the same way: a snapshot
/// sent to 10,000 browsers is compressed once.
#[derive(Clone, Debug)]
pub struct Text(Arc<Forms>);

#[derive(Debug)]
struct Forms {
    plain: Bytes,
    /// `None` inside: too small to be worth it, or would not shrink.
    deflated: OnceLock<Option<Bytes>>,
}

impl Text {
    fn new(plain: Bytes) -> Self {
        Self(Arc::new(Forms {
            plain,
            deflated: OnceLock::new(),
        }))
    }

    pub fn as_str(&self) -> &str {
        // Only built from `String` and `&'static str`.
        std::str::from_utf8(&self.0.plain).expect("Text holds UTF-8")
    }

    pub fn bytes(&self) -> &Bytes {
        &self.0.plain
    }

    /// The payload compressed from an empty window, when it is at least
    /// [`deflate::SMALLEST`] bytes and compressing makes it smaller.
    pub fn deflated(&self) -> Option<&Bytes> {
        self.0
            .deflated
            .get_or_init(|| {
                (self.0.plain.len() >= deflate::SMALLEST)
                    .then(|| deflate::compress(&self.0.plain))
                    .flatten()
                    .map(Bytes::from)
            })
            .as_ref()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.0.plain == other.0.plain
    }
}

impl Eq for Text {}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self::new(Bytes::from(text))
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Self {
        Self::new(Bytes::from_static(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_frame_is_compressed_once_and_shared_by_its_clones() {
        let text = Text::from(format!("[{}]", r#"{"name":"Ada"},"#.repeat(100)));
        let copy = text.clone();
        let first = text.deflated().expect("compressible").clone();
        // The same allocation, not a second compression.
        assert_eq!(copy.deflated().unwrap().as_ptr(), first.as_ptr());
        assert_eq!(
            deflate::inflate(&first, 10_000).unwrap(),
            text.bytes().as_ref()
        );
    }

    #[test]
    fn a_small_frame_is_sent_as_it_is() {
        assert_eq!(Text::from(r#"{"type":"pong"}"#).deflated(), None);
        let short = "a".repeat(deflate::SMALLEST - 1);
        assert_eq!(Text::from(short).deflated(), None);
    }
}
