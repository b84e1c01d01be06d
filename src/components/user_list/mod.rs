//! The list of users, windowed: only the rows in view and a few either side
//! are in the DOM, so 100,000 users cost what 40 do.
//!
//! Every row has the same height ([`ROW_HEIGHT_PX`]), so a row's place is
//! arithmetic (`window.rs`, tested natively): the list is as tall as all its rows (the scrollbar reflects
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

//!
//! # Layout
//! This file is the component and its wiring to the signals; `view.rs`
//! is one list on screen, `rows.rs` draws its rows, `new_users.rs` the
//! "N new" button and `window.rs` the arithmetic.

mod new_users;
mod rows;
mod view;
mod window;

use leptos::ev;
use leptos::prelude::*;
use roster_protocol::list::UserList as Users;
use roster_protocol::UserId;
use wasm_bindgen::JsCast;
use web_sys::Element;

pub use rows::ROW_HEIGHT_PX;
use view::ListView;

/// The users, windowed; see the module docs. `on_seen` is told when the
/// reader has seen the end of the list, so that nobody in it counts as new
/// ([`Users::mark_seen`]); without it, "N new" counts from the start.
#[component]
pub fn UserList(
    #[prop(into)] users: Signal<Users>,
    #[prop(optional)] on_seen: Option<Callback<()>>,
    /// Asked to remove a user, from the row's "Remove" button. Without it,
    /// or while `removable` is false, rows have no such button.
    #[prop(optional)]
    on_remove: Option<Callback<UserId>>,
    #[prop(optional, into)] removable: Signal<bool>,
) -> impl IntoView {
    let removable = Signal::derive(move || on_remove.is_some() && removable.get());
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
        if let (Some(on_remove), Some(id)) = (on_remove, removed_user(target.as_ref())) {
            return on_remove.run(id);
        }
        seen(view.with(|view| {
            let clicked = view.is_new_users_button(target.as_ref());
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
            use:windowed=(users, view, on_seen, removable)
        ></div>
    }
}

/// The user whose "Remove" button `target` is, if it is one.
fn removed_user(target: Option<&web_sys::EventTarget>) -> Option<UserId> {
    let element = target?.dyn_ref::<Element>()?;
    let button = element.closest("[data-testid=remove-user]").ok()??;
    let row = button.closest("[data-user-id]").ok()??;
    row.get_attribute("data-user-id").map(UserId::new)
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
    (users, slot, on_seen, removable): (
        Signal<Users>,
        ListSlot,
        Option<Callback<()>>,
        Signal<bool>,
    ),
) {
    let view = users.with_untracked(|list| ListView::new(scroller.unchecked_into(), list));
    slot.0.set_value(Some(view));
    Effect::new(move |_| {
        let removable = removable.get();
        slot.with(|view| users.with_untracked(|list| view.set_removable(removable, list)));
    });
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
