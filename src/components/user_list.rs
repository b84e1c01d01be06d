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
use leptos::html;
use leptos::prelude::*;
use roster_protocol::list::UserList as Users;
use roster_protocol::{User, UserId};

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
    let scroller = NodeRef::<html::Div>::new();
    let scroll_top = RwSignal::new(0.0_f64);
    let view_height = RwSignal::new(window_height());
    let count = Memo::new(move |_| users.with(Users::len));
    // The user at the top of the view, and how far into its row the view
    // starts.
    let anchor = StoredValue::new(None::<(UserId, f64)>);

    let set_anchor = move |top: f64| {
        let position = (top / ROW_HEIGHT_PX) as usize;
        let user = users.with_untracked(|list| list.get(position).map(|u| u.id.clone()));
        let anchored = user
            .filter(|_| top > 0.0)
            .map(|id| (id, top - position as f64 * ROW_HEIGHT_PX));
        anchor.set_value(anchored);
    };

    let on_scroll = move |_| {
        let Some(element) = scroller.get_untracked() else {
            return;
        };
        let top = f64::from(element.scroll_top());
        if (top - scroll_top.get_untracked()).abs() >= 0.5 {
            scroll_top.set(top);
        }
        set_anchor(top);
    };

    // After every change to the list, keep the anchor user where it was.
    Effect::new(move |_| {
        users.track();
        let Some((id, offset)) = anchor.get_value() else {
            return;
        };
        let Some(position) = users.with_untracked(|list| list.position(&id)) else {
            // The anchor itself was removed: whoever is now at the top of
            // the view becomes it.
            set_anchor(scroll_top.get_untracked());
            return;
        };
        let top = position as f64 * ROW_HEIGHT_PX + offset;
        if (top - scroll_top.get_untracked()).abs() >= 0.5 {
            if let Some(element) = scroller.get_untracked() {
                element.set_scroll_top(top as i32);
            }
            scroll_top.set(top);
        }
    });

    let resize = window_event_listener(ev::resize, move |_| view_height.set(window_height()));
    on_cleanup(move || resize.remove());

    let window = Memo::new(move |_| rows_in_view(scroll_top.get(), view_height.get(), count.get()));
    let rows = Memo::new(move |_| {
        let (first, end) = window.get();
        users.with(|list| {
            (first..end)
                .filter_map(|position| Some((position, list.get(position)?.clone())))
                .collect::<Vec<_>>()
        })
    });
    let total_height = move || format!("{}px", count.get() as f64 * ROW_HEIGHT_PX);
    let offset = move || format!("{}px", window.get().0 as f64 * ROW_HEIGHT_PX);
    let row_height = format!("{ROW_HEIGHT_PX}px");

    view! {
        <div
            class="user-list-scroller"
            data-testid="user-list-scroller"
            // What windowing needs is inline, so the list works without
            // Roster's stylesheet; its height is themable from outside.
            style="overflow-y:auto;overflow-anchor:none;max-height:var(--roster-list-max-height,70vh)"
            // Focusable, so the keyboard scrolls it too.
            tabindex="0"
            node_ref=scroller
            on:scroll=on_scroll
        >
            <ul
                class="user-list"
                data-testid="user-list"
                role="list"
                aria-label="Users"
                style="box-sizing:border-box;margin:0"
                style:height=total_height
                style:padding-top=offset
            >
                // Keyed by position and user, so a row whose user or place
                // changed is drawn again; only the few rows in view are.
                <For each=move || rows.get() key=|row| row.clone() let:row>
                    <UserRow position=row.0 user=row.1 count height=row_height.clone() />
                </For>
                <Show when=move || count.get() == 0>
                    <li class="user-list-empty" data-testid="user-list-empty">"No users yet."</li>
                </Show>
            </ul>
        </div>
    }
}

#[component]
fn UserRow(position: usize, user: User, count: Memo<usize>, height: String) -> impl IntoView {
    view! {
        <li
            class="user-row"
            data-testid="user-row"
            data-user-id=user.id.to_string()
            aria-posinset=position + 1
            aria-setsize=move || count.get()
            style:height=height
        >
            <span class="user-avatar" aria-hidden="true">{initials(&user.name)}</span>
            <span class="user-name">{user.name.clone()}</span>
            <span class="user-email">{user.email.clone()}</span>
            <span class="user-id">"#"{user.id.to_string()}</span>
        </li>
    }
}

/// The browser window's height: no view of the list is taller.
fn window_height() -> f64 {
    web_sys::window()
        .and_then(|window| window.inner_height().ok())
        .and_then(|height| height.as_f64())
        .unwrap_or(1_080.0)
}

/// Up to two capital letters from a name, for the avatar circle.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}
