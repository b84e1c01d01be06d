//! One windowed list on screen: its scroller, the rows drawn, the "N new"
//! button and the anchor that keeps what the reader sees in place. The
//! arithmetic is `window.rs`'s; this reads and writes the DOM.

use leptos::prelude::{window, AnimationFrameRequestHandle};
use roster_protocol::list::UserList as Users;
use roster_protocol::UserId;
use web_sys::{EventTarget, HtmlElement};

use super::new_users::NewUsers;
use super::rows::Rows;
use super::window::{clamp_top, end_top, offset_in_row, row_at, rows_in_view, shows_end, top_of};

/// One list on screen: its scroller, the rows drawn and the anchor.
pub struct ListView {
    scroller: HtmlElement,
    rows: Rows,
    /// "N new users", shown while users arrived below the view.
    new_users: NewUsers,
    /// The user at the top of the view, and how far into its row the view
    /// starts; `None` at the very top.
    anchor: Option<(UserId, f64)>,
    /// The scroller's `scrollTop` as last read in a scroll event or set
    /// here. Reading the live value after the rows changed would make the
    /// browser lay the page out at once, on every change (measured: most
    /// of the time a change took).
    scroll_top: f64,
    view_height: f64,
    /// The scroller's largest height, from the stylesheet: how much of the
    /// list is in view once it is longer than that. `None` until it is
    /// known (the scroller is created before it is in the page).
    max_height: Option<f64>,
    /// Set when a change was drawn: the end of that animation frame.
    pub frame: Option<AnimationFrameRequestHandle>,
    /// A change arrived after the last draw, within the same frame.
    pub behind: bool,
    /// The number of users shown, the filter, and how many snapshots had
    /// replaced the list, as last drawn.
    count: usize,
    filter: Option<String>,
    replaced: u64,
}

impl ListView {
    /// Puts the `<ul>` and the "N new" button into `scroller` and draws
    /// the first rows of `users` at once, so a mounted list is never blank.
    pub fn new(scroller: HtmlElement, users: &Users) -> Self {
        let mut view = Self {
            scroller,
            rows: Rows::new(),
            new_users: NewUsers::new(),
            anchor: None,
            scroll_top: 0.0,
            view_height: window_height(),
            max_height: None,
            frame: None,
            behind: false,
            count: users.shown_len(),
            filter: users.filter().map(str::to_owned),
            replaced: users.replaced(),
        };
        let _ = view.scroller.append_child(view.rows.element());
        let _ = view.scroller.append_child(view.new_users.element());
        view.draw(users);
        view
    }

    /// Shows or takes away the rows' remove buttons.
    pub fn set_removable(&mut self, removable: bool, users: &Users) {
        self.rows.set_removable(removable);
        self.draw(users);
    }

    /// Whether an event's `target` is the "N new" button.
    pub fn is_new_users_button(&self, target: Option<&EventTarget>) -> bool {
        self.new_users.is(target)
    }

    /// Where the view starts. The browser lowers `scrollTop` by itself
    /// when the list shrinks below it, and says so only in the next scroll
    /// event; until then the rows from here down to a window's height
    /// above the end still cover whatever the scroller shows.
    fn scroll_top(&self, count: usize) -> f64 {
        clamp_top(self.scroll_top, count, self.view_height)
    }

    fn draw(&mut self, users: &Users) {
        let count = users.shown_len();
        let top = self.scroll_top(count);
        let rows = rows_in_view(top, self.view_height, count);
        self.rows.draw(users, rows.start, rows.end);
    }

    /// After a scroll; returns whether the reader now sees the end.
    pub fn scrolled(&mut self, users: &Users) -> bool {
        self.scroll_top = f64::from(self.scroller.scroll_top());
        self.set_anchor(self.scroll_top, users);
        // A change not drawn yet is drawn at this frame's end, anchored.
        if !self.behind {
            self.draw(users);
        }
        self.show_new(users)
    }

    pub fn resized(&mut self, users: &Users) -> bool {
        self.view_height = window_height();
        self.max_height = None;
        self.draw(users);
        self.show_new(users)
    }

    /// Scrolls to the end of the list (the "N new" button).
    pub fn go_to_end(&mut self, users: &Users) -> bool {
        let count = users.shown_len();
        let top = self.end_top(count);
        self.scroll_to(top, users);
        self.draw(users);
        // The button is gone; the keyboard stays in the list.
        let _ = self.scroller.focus();
        self.show_new(users)
    }

    /// After a change: keeps the anchor user where it was on screen (or
    /// follows the end, or starts a new filter at the top), then draws.
    /// Returns whether the reader sees the end.
    pub fn changed(&mut self, users: &Users) -> bool {
        let count = users.shown_len();
        let new_filter = users.filter() != self.filter.as_deref();
        let grew = count > self.count && users.replaced() == self.replaced;
        let was_at_end = self.at_end(self.count);
        if new_filter {
            self.filter = users.filter().map(str::to_owned);
        }
        self.replaced = users.replaced();
        self.count = count;
        // The list must be its new height before the view can scroll in it.
        self.rows.size_for(count);
        if new_filter {
            self.scroll_to(0.0, users);
        } else if grew && was_at_end && self.scroll_top > 0.0 {
            let top = self.end_top(count);
            self.scroll_to(top, users);
        } else if let Some((id, offset)) = self.anchor.clone() {
            match users.shown_position(&id) {
                Some(position) => {
                    let top = top_of(position, offset);
                    if (top - self.scroll_top).abs() >= 0.5 {
                        self.scroller.set_scroll_top(top as i32);
                        self.scroll_top = top;
                    }
                }
                // The anchor itself was removed: whoever is now at the top
                // of the view becomes it.
                None => {
                    let top = self.scroll_top(count);
                    let id = users.shown(row_at(top)).map(|user| &user.id);
                    self.anchor = anchor_at(top, id);
                }
            }
        }
        self.draw(users);
        self.show_new(users)
    }

    /// Scrolls the view to `top` and makes the user there the anchor.
    fn scroll_to(&mut self, top: f64, users: &Users) {
        if (top - self.scroll_top).abs() >= 0.5 {
            self.scroller.set_scroll_top(top as i32);
        }
        self.scroll_top = top;
        self.anchor = anchor_at(top, users.shown(row_at(top)).map(|user| &user.id));
    }

    /// The scroller's largest height, read once it is known; until then
    /// no more than the window.
    fn max_height(&mut self) -> f64 {
        if self.max_height.is_none() {
            self.max_height = max_height(&self.scroller);
        }
        self.max_height.unwrap_or(self.view_height)
    }

    /// Where the view starts when it shows the end of `count` rows.
    fn end_top(&mut self, count: usize) -> f64 {
        end_top(count, self.max_height())
    }

    /// Whether the view shows the end of a list of `count` rows.
    fn at_end(&mut self, count: usize) -> bool {
        shows_end(self.scroll_top, count, self.max_height())
    }

    /// Shows how many users arrived below the view, or nothing when the
    /// reader sees the end; returns whether they do.
    fn show_new(&mut self, users: &Users) -> bool {
        let at_end = self.at_end(users.shown_len());
        self.new_users
            .show(if at_end { 0 } else { users.new_since_seen() });
        at_end
    }

    /// Makes the user the reader sees at the top of the view the anchor:
    /// the one drawn there, which is not yet the one the list holds there
    /// when a change is waiting to be drawn.
    fn set_anchor(&mut self, top: f64, users: &Users) {
        let position = row_at(top);
        let drawn = self.rows.user_at(position);
        let id = drawn.or_else(|| users.shown(position).map(|user| &user.id));
        self.anchor = anchor_at(top, id);
    }
}

/// The anchor for a view scrolled to `top` with user `id` at its top: none
/// at the very top, where new rows should come into view.
fn anchor_at(top: f64, id: Option<&UserId>) -> Option<(UserId, f64)> {
    id.filter(|_| top > 0.0)
        .map(|id| (id.clone(), offset_in_row(top)))
}

/// The scroller's `max-height` as the browser resolved it, in pixels;
/// `None` while it has none (not in the page yet); infinite for `none`.
fn max_height(scroller: &HtmlElement) -> Option<f64> {
    let style = window().get_computed_style(scroller).ok()??;
    let value = style.get_property_value("max-height").ok()?;
    if value == "none" {
        return Some(f64::INFINITY);
    }
    // "630px" or "630.5px": whole pixels are enough, and parsing only
    // digits keeps float parsing out of the bundle.
    let whole = value.split(['.', 'p']).next()?;
    whole.parse::<u32>().ok().map(f64::from)
}

/// The browser window's height: no view of the list is taller.
fn window_height() -> f64 {
    window()
        .inner_height()
        .ok()
        .and_then(|height| height.as_f64())
        .unwrap_or(1_080.0)
}
