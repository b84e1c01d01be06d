//! The Content-Security-Policy of every page the server hands out.
//!
//! Trunk starts the client with an inline module script, and the embed
//! example has one too, so a policy without `'unsafe-inline'` must name
//! each by its SHA-256 hash. The hashes are taken from the page as it is
//! served, not once at start: `dist/` may be rebuilt under a running
//! server, and each page gets exactly its own scripts. A page is a few
//! kilobytes, so hashing it per answer costs microseconds.
//!
//! What the policy allows, and why:
//! - scripts from this origin, the page's own inline scripts by hash, and
//!   `'wasm-unsafe-eval'`, which compiling the client's WebAssembly needs;
//! - styles from this origin and inline: the list's scroll box has a
//!   `style` attribute, and the embed example an inline stylesheet. CSS
//!   cannot run code; the risk left is restyling by injected markup, which
//!   the client never renders (names go in as text nodes, see SECURITY.md);
//! - connections to this origin and to any `ws:`/`wss:` server, because a
//!   page may be pointed at another server (`?server=`);
//! - no plugins (`object-src 'none'`), no `<base>`, forms only to here.
//!
//! Framing is not restricted: an iframe on another site is one of the
//! documented ways to embed Roster.

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Pages bigger than this are passed on without a policy rather than
/// held in memory (the client's pages are under 4 KB).
const MAX_PAGE_BYTES: usize = 1 << 20;

/// The policy for a page whose inline scripts are `scripts`.
pub fn policy_for<'a>(scripts: impl IntoIterator<Item = &'a str>) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for script in scripts {
        script_src.push_str(" 'sha256-");
        script_src.push_str(&BASE64.encode(Sha256::digest(script.as_bytes())));
        script_src.push('\'');
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; \
         base-uri 'none'; form-action 'self'"
    )
}

/// The text of every inline `<script>` (one without `src`) in `html`, as
/// the browser hashes it: everything between the tags, byte for byte.
pub fn inline_scripts(html: &str) -> Vec<&str> {
    let lower = html.to_ascii_lowercase();
    let mut scripts = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<script").map(|i| i + from) {
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| i + tag_end) else {
            break;
        };
        let tag = &lower[start + "<script".len()..tag_end];
        if !has_src(tag) {
            scripts.push(&html[tag_end + 1..close]);
        }
        from = close;
    }
    scripts
}

/// Whether a lower-cased tag's attributes include `src`.
fn has_src(attributes: &str) -> bool {
    attributes
        .split(|c: char| c.is_ascii_whitespace())
        .any(|attribute| attribute == "src" || attribute.starts_with("src="))
}

/// Sets the policy on an HTML answer (see the module docs); other answers
/// pass untouched.
pub async fn add_to_pages(response: Response<Body>) -> Response<Body> {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !is_html
        || response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE_BYTES).await else {
        tracing::warn!("a page too big to read for its Content-Security-Policy was cut off");
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    let policy = policy_for(inline_scripts(&String::from_utf8_lossy(&bytes)));
    if let Ok(value) = HeaderValue::from_str(&policy) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_scripts_with_src_are_not() {
        let html = "<p><SCRIPT type=module>one()</SCRIPT><script src=a.js></script>\
                    <script data-src=x>two()</script><script\nsrc=\"b.js\"></script>";
        assert_eq!(inline_scripts(html), ["one()", "two()"]);
    }

    #[test]
    fn an_unclosed_script_is_not_taken() {
        assert!(inline_scripts("<script>never closed").is_empty());
        assert!(inline_scripts("<script").is_empty());
    }

    #[test]
    fn the_policy_names_each_script_by_the_hash_browsers_compute() {
        // `printf "alert('hi')" | openssl dgst -sha256 -binary | base64`
        let policy = policy_for(["alert('hi')"]);
        assert!(
            policy.contains("'sha256-XTqNqFSUlZHAW7f/OGNYSOEzxKhjdAAGMXoid2VEbJk='"),
            "{policy}"
        );
        let script_src = policy
            .split(';')
            .find(|directive| directive.trim_start().starts_with("script-src"))
            .unwrap();
        assert!(script_src.contains("'wasm-unsafe-eval'"));
        assert!(!script_src.contains("'unsafe-inline'"), "{script_src}");
        assert!(!script_src.contains("'unsafe-eval'"), "{script_src}");
    }
}
