//! The list of users, windowed: only the rows in view and a few either side
//! are in the DOM, so 100,000 users cost what 40 do.
//!
//! Every row has the same height ([`ROW_HEIGHT_PX`]), so a row's place is
//! arithmetic: the list is as tall as all its rows (the scrollbar reflects
//! the whole list), and the rows shown are pushed down by the height of the
//! rows above them. Screen readers get the true position from
//! `aria-setsize`/`aria-posinset`.
//!
//! What the reader is looking at stays put when rows are added or removed
//! above it: the top user in view is the anchor, and after a change the
//! list scrolls to wherever that user now is. (The browser's own
//! `overflow-anchor` cannot help: the rows it would anchor to are replaced.)
//! At the very top there is no anchor, so new rows there come into view.
//!
//! New users are added at the end. A reader who has scrolled to the end
//! follows it: the list scrolls so that new rows come into view. A reader
//! anywhere else, the very top included, stays where they are, and an
//! "N new" button says how many users arrived below since they last saw
//! the end; it takes them there.
//!
//! With a filter typed, the list shows only the users it matches (the list
//! model keeps their positions), and a new filter starts at the top.

use leptos::ev;
use leptos::prelude::*;
use roster_protocol::list::UserList as Users;
use roster_protocol::UserId;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use super::list_rows::{create, set, Rows};

/// The height of one row, in CSS pixels. Rows get it inline, so the
/// arithmetic above holds whatever the stylesheet says.
pub const ROW_HEIGHT_PX: f64 = 56.0;

/// Rows rendered beyond each edge of the view, so a quick scroll does not
/// show blank space before the next frame.
const OVERSCAN_ROWS: usize = 8;

/// The rows `[first, end)` to render for a view of `height` pixels scrolled
/// to `top`, in a list of `count`.
fn rows_in_view(top: f64, height: f64, count: usize) -> (usize, usize) {
    let first = ((top.max(0.0) / ROW_HEIGHT_PX) as usize).saturating_sub(OVERSCAN_ROWS);
    let end = (((top.max(0.0) + height.max(0.0)) / ROW_HEIGHT_PX).ceil() as usize)
        .saturating_add(OVERSCAN_ROWS)
        .min(count);
    (first.min(end), end)
}

/// The users, windowed; see the module docs. `on_seen` is told when the
/// reader has seen the end of the list, so that nobody in it counts as new
/// ([`Users::mark_seen`]); without it, "N new" counts from the start.
#[component]
pub fn UserList(
    #[prop(into)] users: Signal<Users>,
    #[prop(optional)] on_seen: Option<Callback<()>>,
) -> impl IntoView {
    // Filled in when the scroller is created (see `windowed`), so the
    // scroll and resize handlers below can reach it.
    let view = ListSlot::new();
    let seen = move |at_end| report_seen(on_seen, at_end);
    let on_scroll =
        move |_| seen(view.with(|view| users.with_untracked(|list| view.scrolled(list))));
    let resize = window_event_listener(ev::resize, move |_| {
        seen(view.with(|view| users.with_untracked(|list| view.resized(list))))
    });
    on_cleanup(move || resize.remove());
    // The "N new" button's clicks, caught by the scroller it is in: one
    // handler fewer to build (see `NewUsers`).
    let on_click = move |event: ev::MouseEvent| {
        let target = event.target();
        seen(view.with(|view| {
            let clicked = view.new_users.is(target.as_ref());
            clicked && users.with_untracked(|list| view.go_to_end(list))
        }));
    };

    view! {
        <div
            class="user-list-scroller"
            data-testid="user-list-scroller"
            // What windowing needs is inline, so the list works without
            // Roster's stylesheet; its height is themable from outside.
            style="overflow-y:auto;overflow-anchor:none;max-height:var(--roster-list-max-height,70vh)"
            // Focusable, so the keyboard scrolls it too.
            tabindex="0"
            on:scroll=on_scroll
            on:click=on_click
            use:windowed=(users, view, on_seen)
        ></div>
    }
}

/// Tells `on_seen` when a handler found the reader at the end of the list.
/// Handlers return that rather than call it, because `on_seen` edits the
/// list, which they are reading.
fn report_seen(on_seen: Option<Callback<()>>, at_end: Option<bool>) {
    if let (Some(on_seen), Some(true)) = (on_seen, at_end) {
        on_seen.run(());
    }
}

/// Where a list's [`ListView`] lives once its scroller exists. Owned by
/// the component, so it goes when the list is unmounted.
#[derive(Clone, Copy)]
struct ListSlot(StoredValue<Option<ListView>, LocalStorage>);

impl ListSlot {
    fn new() -> Self {
        Self(StoredValue::new_local(None))
    }

    fn with<T>(&self, f: impl FnOnce(&mut ListView) -> T) -> Option<T> {
        self.0
            .try_update_value(|view| view.as_mut().map(f))
            .flatten()
    }
}

/// Runs when the scroller element is created: puts the `<ul>` in it and
/// draws the first rows at once, so a mounted list is never blank.
///
/// After that, a change is drawn at once when none was drawn earlier in the
/// same animation frame, and otherwise once at the frame's end, however
/// many more arrive: a snapshot shows without waiting for a frame, and at
/// 1,000 changes a second the rows are written at most twice a frame, not
/// 16 times.
fn windowed(
    scroller: Element,
    (users, slot, on_seen): (Signal<Users>, ListSlot, Option<Callback<()>>),
) {
    let mut view = ListView {
        scroller: scroller.unchecked_into(),
        rows: Rows::new(),
        new_users: NewUsers::new(),
        anchor: None,
        scroll_top: 0.0,
        view_height: window_height(),
        max_height: None,
        frame: None,
        behind: false,
        count: 0,
        filter: None,
        replaced: 0,
    };
    let _ = view.scroller.append_child(view.rows.element());
    let _ = view.scroller.append_child(&view.new_users.bar);
    users.with_untracked(|list| {
        view.count = list.shown_len();
        view.filter = list.filter().map(str::to_owned);
        view.replaced = list.replaced();
        view.draw(list);
    });
    slot.0.set_value(Some(view));
    let seen = move |at_end| report_seen(on_seen, at_end);
    let frame_ends = move || {
        seen(slot.with(|view| {
            view.frame = None;
            std::mem::take(&mut view.behind) && users.with_untracked(|list| view.changed(list))
        }))
    };
    Effect::new(move |_| {
        users.track();
        seen(slot.with(|view| match view.frame {
            Some(_) => {
                view.behind = true;
                false
            }
            None => {
                let at_end = users.with_untracked(|list| view.changed(list));
                view.frame = request_animation_frame_with_handle(frame_ends).ok();
                at_end
            }
        }));
    });
    on_cleanup(move || {
        slot.with(|view| {
            if let Some(frame) = view.frame.take() {
                frame.cancel();
            }
        });
    });
}

/// One list on screen: its scroller, the rows drawn and the anchor.
struct ListView {
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
    frame: Option<AnimationFrameRequestHandle>,
    /// A change arrived after the last draw, within the same frame.
    behind: bool,
    /// The number of users shown, the filter, and how many snapshots had
    /// replaced the list, as last drawn.
    count: usize,
    filter: Option<String>,
    replaced: u64,
}

impl ListView {
    /// Where the view starts. The browser lowers `scrollTop` by itself
    /// when the list shrinks below it, and says so only in the next scroll
    /// event; until then the rows from here down to a window's height
    /// above the end still cover whatever the scroller shows.
    fn scroll_top(&self, count: usize) -> f64 {
        let lowest = (count as f64 * ROW_HEIGHT_PX - self.view_height).max(0.0);
        self.scroll_top.min(lowest)
    }

    fn draw(&mut self, users: &Users) {
        let count = users.shown_len();
        let top = self.scroll_top(count);
        let (first, end) = rows_in_view(top, self.view_height, count);
        self.rows.draw(users, first, end);
    }

    /// After a scroll; returns whether the reader now sees the end.
    fn scrolled(&mut self, users: &Users) -> bool {
        self.scroll_top = f64::from(self.scroller.scroll_top());
        self.set_anchor(self.scroll_top, users);
        // A change not drawn yet is drawn at this frame's end, anchored.
        if !self.behind {
            self.draw(users);
        }
        self.show_new(users)
    }

    fn resized(&mut self, users: &Users) -> bool {
        self.view_height = window_height();
        self.max_height = None;
        self.draw(users);
        self.show_new(users)
    }

    /// Scrolls to the end of the list (the "N new" button).
    fn go_to_end(&mut self, users: &Users) -> bool {
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
    fn changed(&mut self, users: &Users) -> bool {
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
                    let top = position as f64 * ROW_HEIGHT_PX + offset;
                    if (top - self.scroll_top).abs() >= 0.5 {
                        self.scroller.set_scroll_top(top as i32);
                        self.scroll_top = top;
                    }
                }
                // The anchor itself was removed: whoever is now at the top
                // of the view becomes it.
                None => {
                    let top = self.scroll_top(count);
                    let position = (top / ROW_HEIGHT_PX) as usize;
                    self.anchor = anchor_at(top, users.shown(position).map(|user| &user.id));
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
        let position = (top / ROW_HEIGHT_PX) as usize;
        self.anchor = anchor_at(top, users.shown(position).map(|user| &user.id));
    }

    /// How much of a list of `count` rows is in view.
    fn viewport(&mut self, count: usize) -> f64 {
        if self.max_height.is_none() {
            self.max_height = max_height(&self.scroller);
        }
        // Until it is known, no more than the window.
        let max = self.max_height.unwrap_or(self.view_height);
        (count as f64 * ROW_HEIGHT_PX).min(max)
    }

    /// Where the view starts when it shows the end of `count` rows.
    fn end_top(&mut self, count: usize) -> f64 {
        (count as f64 * ROW_HEIGHT_PX - self.viewport(count)).max(0.0)
    }

    /// Whether the view shows the end of a list of `count` rows (within
    /// half a row).
    fn at_end(&mut self, count: usize) -> bool {
        // Past the end counts: the browser lowers `scrollTop` by itself
        // when the list shrinks.
        self.scroll_top + ROW_HEIGHT_PX / 2.0 >= self.end_top(count)
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
        let position = (top / ROW_HEIGHT_PX) as usize;
        let drawn = self.rows.user_at(position);
        let id = drawn.or_else(|| users.shown(position).map(|user| &user.id));
        self.anchor = anchor_at(top, id);
    }
}

/// The "N new users" button, made here rather than in the view: a Leptos
/// element with a reactive attribute and its own handler cost 0.5 KB gzip
/// for what is three DOM calls.
struct NewUsers {
    /// Sticks to the bottom of the view, over the rows, taking no room of
    /// its own; it comes after the list.
    bar: Element,
    button: HtmlElement,
    /// The number shown; 0 while hidden.
    shown: usize,
}

impl NewUsers {
    fn new() -> Self {
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

    /// Shows `new` users, or hides the button for none.
    fn show(&mut self, new: usize) {
        if new == self.shown {
            return;
        }
        self.shown = new;
        let label = match new {
            0 => None,
            1 => Some("1 new user ↓".to_owned()),
            n => Some(format!("{n} new users ↓")),
        };
        self.button.set_hidden(label.is_none());
        self.button.set_text_content(label.as_deref());
    }

    /// Whether an event's `target` is the button.
    fn is(&self, target: Option<&web_sys::EventTarget>) -> bool {
        target.is_some_and(|target| target == self.button.as_ref())
    }
}

/// The anchor for a view scrolled to `top` with user `id` at its top: none
/// at the very top, where new rows should come into view.
fn anchor_at(top: f64, id: Option<&UserId>) -> Option<(UserId, f64)> {
    let offset = top - (top / ROW_HEIGHT_PX).floor() * ROW_HEIGHT_PX;
    id.filter(|_| top > 0.0).map(|id| (id.clone(), offset))
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
