//! The "N new users ↓" button, shown while users arrived below the view
//! since the reader last saw the end of the list.
//!
//! Made here rather than as a Leptos view: an element with a reactive
//! attribute and its own handler cost 0.5 KB gzip for what is three DOM
//! calls. Its clicks are caught by the scroller it sits in (one handler
//! fewer to build).

use wasm_bindgen::JsCast;
use web_sys::{Element, EventTarget, HtmlElement};

use crate::dom::{create, set};
use crate::numbers::grouped;

pub struct NewUsers {
    /// Sticks to the bottom of the view, over the rows, taking no room of
    /// its own; it comes after the list.
    bar: Element,
    button: HtmlElement,
    /// The number shown; 0 while hidden.
    shown: usize,
}

impl NewUsers {
    pub fn new() -> Self {
        let bar = create("div");
        bar.set_class_name("new-users-bar");
        set(
            &bar,
            "style",
            "position:sticky;bottom:0;height:0;display:flex;justify-content:center;align-items:flex-start",
        );
        let button: HtmlElement = create("button").unchecked_into();
        set(&button, "type", "button");
        button.set_class_name("new-users");
        set(&button, "data-testid", "new-users");
        button.set_hidden(true);
        let _ = bar.append_child(&button);
        Self {
            bar,
            button,
            shown: 0,
        }
    }

    /// What goes into the scroller, after the list.
    pub fn element(&self) -> &Element {
        &self.bar
    }

    /// Shows `new` users, or hides the button for none.
    pub fn show(&mut self, new: usize) {
        if new == self.shown {
            return;
        }
        self.shown = new;
        let label = match new {
            0 => None,
            1 => Some("1 new user ↓".to_owned()),
            n => Some(format!("{} new users ↓", grouped(n))),
        };
        self.button.set_hidden(label.is_none());
        self.button.set_text_content(label.as_deref());
    }

    /// Whether an event's `target` is the button.
    pub fn is(&self, target: Option<&EventTarget>) -> bool {
        target.is_some_and(|target| target == self.button.as_ref())
    }
}
