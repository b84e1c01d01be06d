//! Drawing the rows of the windowed list straight into the DOM.
//!
//! Why not `<For>`: a keyed `<For>` over rows of five elements was 32 KB
//! gzip of the 124 KB bundle (Leptos generates the build, rebuild and mount
//! code for every element and attribute type of the row), and on every
//! change it diffed its keys and rebuilt rows through that code. The window
//! holds a few dozen rows, so this module does what a plain-JS virtual list
//! does instead: it keeps the rows it drew, keyed by user, and on each draw
//! reuses them, writes only the text and attributes that changed, and moves
//! nodes only where the order changed. Measured in BENCHMARKS.md.

use roster_protocol::list::UserList;
use roster_protocol::{User, UserId};
use rustc_hash::FxHashMap;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, Node};

use crate::dom::{create, set, style};

/// The height of one row, in CSS pixels. Rows get it inline, so the list's
/// arithmetic (`window.rs`) holds whatever the stylesheet says.
pub const ROW_HEIGHT_PX: f64 = 56.0;

/// The `<ul>` of a windowed list and the rows drawn in it.
pub(crate) struct Rows {
    list: HtmlElement,
    /// The rows in the DOM, in order.
    drawn: Vec<Row>,
    /// Rows taken out of the DOM, kept for reuse while scrolling.
    spare: Vec<Row>,
    /// "No users yet." (or that none matches the filter), while no row is
    /// shown.
    empty: Option<Element>,
    /// The `<ul>`'s height and top padding as last set, in pixels.
    height: Option<usize>,
    padding: Option<usize>,
    /// Rows carry a remove button (the person may write).
    removable: bool,
}

impl Rows {
    /// An empty `<ul>` with the list's test id, class and ARIA role.
    pub(crate) fn new() -> Self {
        let list = create("ul").unchecked_into::<HtmlElement>();
        list.set_class_name("user-list");
        set(&list, "data-testid", "user-list");
        set(&list, "role", "list");
        set(&list, "aria-label", "Users");
        style(&list, "box-sizing", "border-box");
        style(&list, "margin", "0");
        Self {
            list,
            drawn: Vec::new(),
            spare: Vec::new(),
            empty: None,
            height: None,
            padding: None,
            removable: false,
        }
    }

    /// Gives every row a remove button, or takes them all away; the next
    /// draw shows it.
    pub(crate) fn set_removable(&mut self, removable: bool) {
        self.removable = removable;
    }

    /// The `<ul>`, to put into the page.
    pub(crate) fn element(&self) -> &HtmlElement {
        &self.list
    }

    /// Makes the `<ul>` as tall as `count` rows, so the scrollbar covers the
    /// whole list, before the view scrolls within it.
    pub(crate) fn size_for(&mut self, count: usize) {
        let height = pixels(count);
        if self.height.replace(height) != Some(height) {
            if height == 0 {
                // As tall as "No users yet.", which is all it holds.
                let _ = self.list.style().remove_property("height");
            } else {
                style(&self.list, "height", &format!("{height}px"));
            }
        }
    }

    /// Shows the users at positions `[first, end)` of those shown, pushed
    /// down by the height of the rows above them.
    pub(crate) fn draw(&mut self, users: &UserList, first: usize, end: usize) {
        let count = users.shown_len();
        self.size_for(count);
        let padding = pixels(first);
        if self.padding.replace(padding) != Some(padding) {
            style(&self.list, "padding-top", &format!("{padding}px"));
        }

        let mut previous: FxHashMap<UserId, Row> = FxHashMap::default();
        for row in self.drawn.drain(..) {
            if let Some(user) = &row.user {
                previous.insert(user.id.clone(), row);
            }
        }
        let mut next = Vec::with_capacity(end.saturating_sub(first));
        for position in first..end {
            let Some(user) = users.shown(position) else {
                break;
            };
            let mut row = previous
                .remove(&user.id)
                .or_else(|| self.spare.pop())
                .unwrap_or_else(Row::new);
            row.show(user, position, count);
            row.removable(self.removable, &user.name);
            next.push(row);
        }
        for (_, row) in previous {
            row.item.remove();
            self.spare.push(row);
        }
        // No more spares than one window's worth of rows.
        self.spare.truncate(next.len().max(1));

        self.show_empty(match (count, users.filter()) {
            (0, None) => Some("No users yet."),
            (0, Some(_)) => Some("No users match the filter."),
            _ => None,
        });
        let mut cursor: Option<Node> = self.list.first_child();
        for row in &next {
            let node: &Node = &row.item;
            if cursor.as_ref() == Some(node) {
                cursor = node.next_sibling();
            } else {
                // Moves the row here, whether it was elsewhere or new.
                let _ = self.list.insert_before(node, cursor.as_ref());
            }
        }
        self.drawn = next;
    }

    /// The user drawn at `position`, if that row is drawn.
    pub(crate) fn user_at(&self, position: usize) -> Option<&UserId> {
        let first = self.drawn.first()?.position;
        let row = self.drawn.get(position.checked_sub(first)?)?;
        row.user.as_ref().map(|user| &user.id)
    }

    fn show_empty(&mut self, text: Option<&str>) {
        match (&self.empty, text) {
            (None, Some(text)) => {
                let item = create("li");
                item.set_class_name("user-list-empty");
                set(&item, "data-testid", "user-list-empty");
                item.set_text_content(Some(text));
                let _ = self.list.append_child(&item);
                self.empty = Some(item);
            }
            (Some(item), Some(text)) => {
                if item.text_content().as_deref() != Some(text) {
                    item.set_text_content(Some(text));
                }
            }
            (Some(item), None) => {
                item.remove();
                self.empty = None;
            }
            (None, None) => {}
        }
    }
}

/// One `<li>`: avatar, name, email and id, and what it shows now.
struct Row {
    item: HtmlElement,
    avatar: Element,
    name: Element,
    email: Element,
    id: Element,
    /// "Remove", while the person may write.
    remove: Option<HtmlElement>,
    user: Option<User>,
    position: usize,
    set_size: usize,
}

impl Row {
    fn new() -> Self {
        let item = create("li").unchecked_into::<HtmlElement>();
        item.set_class_name("user-row");
        set(&item, "data-testid", "user-row");
        style(&item, "height", &format!("{}px", pixels(1)));
        let part = |class: &str| {
            let span = create("span");
            span.set_class_name(class);
            let _ = item.append_child(&span);
            span
        };
        let avatar = part("user-avatar");
        set(&avatar, "aria-hidden", "true");
        Self {
            avatar,
            name: part("user-name"),
            email: part("user-email"),
            id: part("user-id"),
            remove: None,
            item,
            user: None,
            position: usize::MAX,
            set_size: usize::MAX,
        }
    }

    /// Writes what differs from what the row shows.
    fn show(&mut self, user: &User, position: usize, set_size: usize) {
        let shown = self.user.as_ref();
        if shown.map(|u| &u.id) != Some(&user.id) {
            set(&self.item, "data-user-id", user.id.as_str());
            self.id.set_text_content(Some(&format!("#{}", user.id)));
        }
        if shown.map(|u| &u.name) != Some(&user.name) {
            self.avatar.set_text_content(Some(&initials(&user.name)));
            self.name.set_text_content(Some(&user.name));
            if let Some(remove) = &self.remove {
                set(remove, "aria-label", &remove_label(&user.name));
            }
        }
        if shown.map(|u| &u.email) != Some(&user.email) {
            self.email.set_text_content(Some(&user.email));
        }
        if shown != Some(user) {
            self.user = Some(user.clone());
        }
        if self.position != position {
            self.position = position;
            set(&self.item, "aria-posinset", &(position + 1).to_string());
        }
        if self.set_size != set_size {
            self.set_size = set_size;
            set(&self.item, "aria-setsize", &set_size.to_string());
        }
    }
}

impl Row {
    /// Adds the remove button (named for the user, so a screen reader
    /// says whom it removes) or takes it away. Its clicks are caught by the
    /// list's scroller, like the "N new" button's.
    fn removable(&mut self, removable: bool, name: &str) {
        match (&self.remove, removable) {
            (None, true) => {
                let button = create("button").unchecked_into::<HtmlElement>();
                set(&button, "type", "button");
                button.set_class_name("remove-user");
                set(&button, "data-testid", "remove-user");
                set(&button, "aria-label", &remove_label(name));
                button.set_text_content(Some("Remove"));
                let _ = self.item.append_child(&button);
                self.remove = Some(button);
            }
            (Some(button), false) => {
                button.remove();
                self.remove = None;
            }
            _ => {}
        }
    }
}

/// What the remove button says to a screen reader.
fn remove_label(name: &str) -> String {
    format!("Remove {name}")
}

/// Up to two capital letters from a name, for the avatar circle.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// The height of `rows` rows in whole pixels. Integer, because formatting
/// an `f64` links Rust's float printing: 25 KB of wasm.
fn pixels(rows: usize) -> usize {
    rows.saturating_mul(ROW_HEIGHT_PX as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_up_to_two_capitals_from_the_first_words() {
        assert_eq!(initials("ada lovelace"), "AL");
        assert_eq!(initials("Grace Brewster Murray Hopper"), "GB");
        assert_eq!(initials("  Cher  "), "C");
        assert_eq!(initials(""), "");
        assert_eq!(initials("émilie du châtelet"), "ÉD");
    }

    #[test]
    fn rows_are_whole_pixels_tall() {
        assert_eq!(pixels(0), 0);
        assert_eq!(pixels(3), 3 * ROW_HEIGHT_PX as usize);
        assert_eq!(pixels(usize::MAX), usize::MAX, "saturates");
    }
}
