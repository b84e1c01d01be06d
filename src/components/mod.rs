//! What the page renders. Every component takes signals or callbacks, never
//! the socket itself, so each can be mounted and tested alone.
//!
//! The `data-testid` attributes are a stable interface for tests and for
//! pages that embed Roster: `connection-status` (with `data-state`),
//! `user-list`, `user-row` (with `data-user-id`), `user-count`,
//! `shown-count` ("N of ", while filtered), `filter`, `new-users`, `add-user`,
//! `pending-count`, `last-error`, `error-banner` (with `data-problem`),
//! `error-dismiss`, `pause-toggle` (with `aria-pressed`), `viewer-count`, `attempt`, `next-retry`
//! (with `data-at`), `connection-detail`, `retry-now`, `disconnect`.

mod add_user_button;
mod connection_badge;
mod connection_controls;
mod error_banner;
mod pause_toggle;
mod user_count;
mod user_filter;
mod user_list;
mod viewer_count;

pub use add_user_button::AddUserButton;
pub use connection_badge::ConnectionBadge;
pub use connection_controls::ConnectionControls;
pub use error_banner::ErrorBanner;
pub use pause_toggle::PauseToggle;
pub use user_count::UserCount;
pub use user_filter::UserFilter;
pub use user_list::{UserList, ROW_HEIGHT_PX};
pub use viewer_count::ViewerCount;
