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

use leptos::ev;
use leptos::prelude::*;
use roster_protocol::list::UserList as Users;
use roster_protocol::UserId;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use super::list_rows::Rows;

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

/// The users, windowed; see the module docs.
#[component]
pub fn UserList(#[prop(into)] users: Signal<Users>) -> impl IntoView {
    // Filled in when the scroller is created (see `windowed`), so the
    // scroll and resize handlers below can reach it.
    let view = ListSlot::new();
    let on_scroll = move |_| view.with(|view| users.with_untracked(|list| view.scrolled(list)));
    let resize = window_event_listener(ev::resize, move |_| {
        view.with(|view| users.with_untracked(|list| view.resized(list)))
    });
    on_cleanup(move || resize.remove());

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
            use:windowed=(users, view)
        ></div>
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

    fn with(&self, f: impl FnOnce(&mut ListView)) {
        self.0.try_update_value(|view| view.as_mut().map(f));
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
fn windowed(scroller: Element, (users, slot): (Signal<Users>, ListSlot)) {
    let mut view = ListView {
        scroller: scroller.unchecked_into(),
        rows: Rows::new(),
        anchor: None,
        scroll_top: 0.0,
        view_height: window_height(),
        frame: None,
        behind: false,
    };
    let _ = view.scroller.append_child(view.rows.element());
    users.with_untracked(|list| view.draw(list));
    slot.0.set_value(Some(view));
    let frame_ends = move || {
        slot.with(|view| {
            view.frame = None;
            if std::mem::take(&mut view.behind) {
                users.with_untracked(|list| view.changed(list));
            }
        })
    };
    Effect::new(move |_| {
        users.track();
        slot.with(|view| match view.frame {
            Some(_) => view.behind = true,
            None => {
                users.with_untracked(|list| view.changed(list));
                view.frame = request_animation_frame_with_handle(frame_ends).ok();
            }
        });
    });
    on_cleanup(move || {
        slot.with(|view| {
            if let Some(frame) = view.frame.take() {
                frame.cancel();
            }
        })
    });
}

/// One list on screen: its scroller, the rows drawn and the anchor.
struct ListView {
    scroller: HtmlElement,
    rows: Rows,
    /// The user at the top of the view, and how far into its row the view
    /// starts; `None` at the very top.
    anchor: Option<(UserId, f64)>,
    /// The scroller's `scrollTop` as last read in a scroll event or set
    /// here. Reading the live value after the rows changed would make the
    /// browser lay the page out at once, on every change (measured: most
    /// of the time a change took).
    scroll_top: f64,
    view_height: f64,
    /// Set when a change was drawn: the end of that animation frame.
    frame: Option<AnimationFrameRequestHandle>,
    /// A change arrived after the last draw, within the same frame.
    behind: bool,
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
        let top = self.scroll_top(users.len());
        let (first, end) = rows_in_view(top, self.view_height, users.len());
        self.rows.draw(users, first, end);
    }

    fn scrolled(&mut self, users: &Users) {
        self.scroll_top = f64::from(self.scroller.scroll_top());
        self.set_anchor(self.scroll_top, users);
        // A change not drawn yet is drawn at this frame's end, anchored.
        if !self.behind {
            self.draw(users);
        }
    }

    fn resized(&mut self, users: &Users) {
        self.view_height = window_height();
        self.draw(users);
    }

    /// After a change, keeps the anchor user where it was on screen, then
    /// draws.
    fn changed(&mut self, users: &Users) {
        // The list must be its new height before the view can scroll in it.
        self.rows.size_for(users.len());
        if let Some((id, offset)) = self.anchor.clone() {
            match users.position(&id) {
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
                    let top = self.scroll_top(users.len());
                    let position = (top / ROW_HEIGHT_PX) as usize;
                    self.anchor = anchor_at(top, users.get(position).map(|user| &user.id));
                }
            }
        }
        self.draw(users);
    }

    /// Makes the user the reader sees at the top of the view the anchor:
    /// the one drawn there, which is not yet the one the list holds there
    /// when a change is waiting to be drawn.
    fn set_anchor(&mut self, top: f64, users: &Users) {
        let position = (top / ROW_HEIGHT_PX) as usize;
        let drawn = self.rows.user_at(position);
        let id = drawn.or_else(|| users.get(position).map(|user| &user.id));
        self.anchor = anchor_at(top, id);
    }
}

/// The anchor for a view scrolled to `top` with user `id` at its top: none
/// at the very top, where new rows should come into view.
fn anchor_at(top: f64, id: Option<&UserId>) -> Option<(UserId, f64)> {
    let offset = top - (top / ROW_HEIGHT_PX).floor() * ROW_HEIGHT_PX;
    id.filter(|_| top > 0.0).map(|id| (id.clone(), offset))
}

/// The browser window's height: no view of the list is taller.
fn window_height() -> f64 {
    window()
        .inner_height()
        .ok()
        .and_then(|height| height.as_f64())
        .unwrap_or(1_080.0)
}
