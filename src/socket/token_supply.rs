//! Where a page's tokens come from, and how the engine's requests for one
//! ([`Action::AskToken`](roster_protocol::engine::Action)) are answered.
//!
//! Tokens live in memory only: never in `localStorage`, never in a log.

use std::cell::Cell;
use std::rc::Rc;

use futures::channel::mpsc::UnboundedSender;
use js_sys::{Function, Promise, Reflect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use roster_protocol::auth::Token;
use roster_protocol::engine::{Event, TokenSource};
use wasm_bindgen::{JsCast, JsValue};

/// Where this page's token comes from.
#[derive(Clone, Default)]
pub enum TokenSupply {
    /// Nowhere: `hello` carries no token.
    #[default]
    None,
    /// The `token` setting: one token, which only the page replaces.
    Fixed(Token),
    /// The host's `getToken`: a function returning a token (a string), a
    /// promise of one, or nothing.
    Function(Function),
    /// The page embedding this frame (`parent_origin`), over
    /// `postMessage`.
    Parent { origin: String },
}

impl TokenSupply {
    /// The engine's view of it: whether it can ask.
    pub fn source(&self) -> TokenSource {
        match self {
            Self::None => TokenSource::None,
            Self::Fixed(token) => TokenSource::Fixed(token.clone()),
            Self::Function(_) | Self::Parent { .. } => TokenSource::Asked,
        }
    }
}

/// Answers the engine's requests, one at a time, through `events`.
pub struct TokenAsker {
    supply: TokenSupply,
    events: UnboundedSender<Event>,
    /// The request the parent frame is to answer.
    waiting: Rc<Cell<Option<u64>>>,
}

impl TokenAsker {
    pub fn new(supply: TokenSupply, events: UnboundedSender<Event>) -> Self {
        Self {
            supply,
            events,
            waiting: Rc::default(),
        }
    }

    /// Whether `hello` carries a token on this page (given or asked).
    pub fn has_tokens(&self) -> bool {
        !matches!(self.supply, TokenSupply::None)
    }

    /// The cell the parent frame's answers are matched against (see
    /// [`listen_to_the_parent`]).
    pub fn waiting(&self) -> Rc<Cell<Option<u64>>> {
        Rc::clone(&self.waiting)
    }

    /// Asks for request `request`'s token; the answer comes back as
    /// [`Event::TokenAnswered`].
    pub fn ask(&self, request: u64) {
        match &self.supply {
            TokenSupply::Function(get_token) => {
                let get_token = get_token.clone();
                let events = self.events.clone();
                spawn_local(async move {
                    let answer = call(&get_token).await;
                    let _ = events.unbounded_send(Event::TokenAnswered { request, answer });
                });
            }
            TokenSupply::Parent { origin } => {
                self.waiting.set(Some(request));
                let request = js_sys::Object::new();
                let _ = Reflect::set(&request, &"type".into(), &"roster:token-request".into());
                if let Some(parent) = window().parent().ok().flatten() {
                    let _ = parent.post_message(&request, origin);
                }
            }
            TokenSupply::None | TokenSupply::Fixed(_) => {
                let answer = Err("this page has no way to get a new token".to_owned());
                let _ = self
                    .events
                    .unbounded_send(Event::TokenAnswered { request, answer });
            }
        }
    }
}

/// Calls the host's `getToken` and waits for what it gives.
async fn call(get_token: &Function) -> Result<Option<Token>, String> {
    let value = get_token.call0(&JsValue::NULL).map_err(describe)?;
    let value = wasm_bindgen_futures::JsFuture::from(Promise::resolve(&value))
        .await
        .map_err(describe)?;
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    value
        .as_string()
        .map(|token| Some(Token::new(token)))
        .ok_or_else(|| "getToken gave something that is not a string".to_owned())
}

/// Why `getToken` failed, in words (an `Error`'s message, or the value).
fn describe(err: JsValue) -> String {
    let message = err
        .dyn_ref::<js_sys::Error>()
        .map(|err| String::from(err.message()))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "it threw".to_owned());
    format!("getToken failed: {message}")
}

/// In a frame, takes `{"type":"roster:token","token":…}` from the parent
/// page at `origin` (and from nowhere else) as the answer to the request
/// `waiting` for one; the handle must be removed on cleanup.
pub fn listen_to_the_parent(
    origin: String,
    waiting: Rc<Cell<Option<u64>>>,
    events: UnboundedSender<Event>,
) -> WindowListenerHandle {
    window_event_listener_untyped("message", move |event| {
        let event: web_sys::MessageEvent = event.unchecked_into();
        if event.origin() != origin {
            return;
        }
        let data = event.data();
        let is_token = Reflect::get(&data, &"type".into())
            .ok()
            .and_then(|kind| kind.as_string())
            .is_some_and(|kind| kind == "roster:token");
        if !is_token {
            return;
        }
        let token = Reflect::get(&data, &"token".into())
            .ok()
            .and_then(|token| token.as_string())
            .map(Token::new);
        if let Some(request) = waiting.take() {
            let answer = Ok(token);
            let _ = events.unbounded_send(Event::TokenAnswered { request, answer });
        }
    })
}
