//! The few DOM calls Roster makes by hand, where a Leptos view would cost
//! more than it gives (the windowed list's rows, the "N new" button). A
//! failure here means the document itself is broken, so it is not
//! reported further.

use leptos::prelude::document;
use web_sys::{Element, HtmlElement};

/// A new element named `tag`, not yet in the page.
pub fn create(tag: &str) -> Element {
    document()
        .create_element(tag)
        .expect("the document creates elements")
}

/// Sets attribute `name` of `element`.
pub fn set(element: &Element, name: &str, value: &str) {
    let _ = element.set_attribute(name, value);
}

/// Sets one inline style property of `element`.
pub fn style(element: &HtmlElement, name: &str, value: &str) {
    let _ = element.style().set_property(name, value);
}
