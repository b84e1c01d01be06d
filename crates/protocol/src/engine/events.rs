//! What crosses between the engine and its driver: the events the driver
//! reports, the actions it carries out and the clock's unit. (The close
//! codes are [`crate::close_code`], shared with the server.)

use super::outbox::SavedWrite;
use crate::auth::Token;
use crate::connection::{ConnectionStatus, Protocol};
use crate::list::ListEdit;
use crate::user::UserId;

/// Wall-clock time in milliseconds since the Unix epoch (`Date.now()`).
pub type Millis = u64;

/// Something that happened, told to `Engine::handle`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The driver is ready; `online` is `navigator.onLine`.
    Start {
        online: bool,
    },
    /// The socket asked for by [`Action::Open`] opened, speaking `protocol`.
    Opened {
        protocol: Protocol,
    },
    /// A text frame arrived.
    Frame(String),
    /// A binary frame arrived (neither protocol has any).
    BinaryFrame,
    /// The socket closed or failed (1006 when the browser gives no code).
    Closed {
        code: u16,
        reason: String,
    },
    /// The browser refused to create a socket for the URL at all.
    Unusable {
        reason: String,
    },
    /// The timer from [`Action::ArmTimer`] fired.
    Tick,
    Offline,
    Online,
    Hidden,
    Visible,
    /// The page is being hidden or put in the back/forward cache.
    PageHide,
    /// The page is shown again (also from the back/forward cache).
    PageShow,
    /// The user asked to add a user.
    Add,
    /// The user asked to remove this user.
    Remove(UserId),
    /// The page's answer to [`Action::AskToken`] with this `request`: a
    /// token, none, or why it has none.
    TokenAnswered {
        request: u64,
        answer: Result<Option<Token>, String>,
    },
    /// The page gave a new token of its own (its `token` setting changed):
    /// a live connection presents it at once.
    TokenGiven(Token),
    /// The page asked to refresh: a fresh token on a live connection, or
    /// a connect now after a close.
    Refresh,
    /// The user asked to retry now, or to connect again after a close.
    Retry,
    /// The user asked to disconnect.
    Disconnect,
}

/// Something for the driver to do, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Drop any socket and open a new one, offering `roster.v1` or nothing.
    Open {
        offer_v1: bool,
    },
    /// Send a text frame on the open socket.
    Send(String),
    /// Close the socket and forget it; no [`Event::Closed`] is expected.
    Close {
        code: u16,
        reason: String,
    },
    /// Fire [`Event::Tick`] at this instant (replaces any earlier timer).
    /// A timer that has fired is spent; the answer to the tick arms the
    /// next one.
    ArmTimer {
        at: Millis,
    },
    /// No timer is needed.
    DisarmTimer,
    ShowStatus(ConnectionStatus),
    /// Edit the list on screen (the view keeps it; the engine keeps only
    /// its version).
    EditUsers(ListEdit),
    /// Adds not yet done.
    ShowPending(usize),
    ShowViewers(Option<u64>),
    /// Keep these writes, and only these, where a reload finds them (the
    /// browser's `localStorage`), to give back with
    /// `Engine::restore_writes`.
    SaveWrites(Vec<SavedWrite>),
    /// Ask the page for a token, and answer with
    /// [`Event::TokenAnswered`] under this `request` number.
    AskToken {
        request: u64,
    },
}
