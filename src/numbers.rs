//! Numbers as people read them: grouped for the reader's locale
//! (`Intl.NumberFormat`, so "100,000" in English, "100 000" in French),
//! with words that agree ("1 user", "2 users").
//!
//! The formatter is the browser's: one `Intl.NumberFormat` made once per
//! page and reused, which costs a few hundred bytes of bindings instead of
//! locale tables of our own.

use std::cell::OnceCell;

use wasm_bindgen::JsValue;

thread_local! {
    static FORMAT: OnceCell<js_sys::Function> = const { OnceCell::new() };
}

/// `n` grouped for the page's locale; plain digits if the browser has no
/// `Intl` (never seen, but nothing is lost then).
pub fn grouped(n: usize) -> String {
    FORMAT.with(|format| {
        let format = format.get_or_init(|| {
            js_sys::Intl::NumberFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).format()
        });
        format
            .call1(&JsValue::NULL, &JsValue::from_f64(n as f64))
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_else(|| n.to_string())
    })
}

/// `one` or `many`, whichever agrees with `n`.
pub fn agreeing(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::agreeing;

    #[test]
    fn words_agree_with_their_number() {
        assert_eq!(agreeing(0, "user", "users"), "users");
        assert_eq!(agreeing(1, "user", "users"), "user");
        assert_eq!(agreeing(2, "user", "users"), "users");
    }
}
