//! Roster inside other pages: `mount(element, options)` for JavaScript,
//! and the `<roster-users>` custom element built on it.
//!
//! Both mount the same component as Roster's own page, compact, into an
//! element of the host page, with its own socket, timer and listeners. A
//! handle's `unmount()` (or removing the element) releases all of them.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use leptos::prelude::*;
use roster_protocol::auth::{Access, Token};
use roster_protocol::settings::{all_names, attribute_name};
use roster_protocol::ConnectionStatus;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

use crate::app::{apply_theme, Listeners, Roster};
use crate::settings::{self, PageSettings, Source};
use crate::socket::RosterSocket;

/// A mounted Roster; `unmount()` removes it and everything it holds.
#[wasm_bindgen]
pub struct RosterHandle {
    mounted: Option<Box<dyn Any>>,
    socket: Rc<Cell<Option<RosterSocket>>>,
}

#[wasm_bindgen]
impl RosterHandle {
    /// Removes the list and closes its socket, timer and listeners.
    /// Calling it again does nothing.
    pub fn unmount(&mut self) {
        self.socket.set(None);
        self.mounted = None;
    }

    /// Gets a fresh token from `getToken` now: on a live connection it
    /// replaces the old one; after a close (`getToken` failed or gave
    /// nothing) it connects again.
    pub fn refresh(&self) {
        if let Some(socket) = self.socket.get() {
            socket.refresh();
        }
    }

    /// Presents `token` in place of the one before, on the live
    /// connection (the `token` attribute of `<roster-users>` changed).
    #[wasm_bindgen(js_name = setToken)]
    pub fn set_token(&self, token: String) {
        if let Some(socket) = self.socket.get() {
            socket.give_token(Token::new(token));
        }
    }
}

/// `mount(element, options)`: Roster inside `element`. `options` holds
/// settings by name (`server`, `theme`, `ping_ms`, `token`, …, as in the
/// README), which win over the element's `data-*` attributes and the
/// page's meta tags, and may hold `onUsers(count)`, `onStatus(status)` and
/// `getToken()` (a token, or a promise of one, asked before each connect
/// and before the token expires).
#[wasm_bindgen(js_name = mount)]
pub fn mount_js(element: HtmlElement, options: JsValue) -> RosterHandle {
    let page = settings::read(&[
        Source::Options(&options),
        Source::Attributes(&element, "data-"),
    ]);
    let listeners = Listeners {
        on_users: function(&options, "onUsers").map(|f| -> Rc<dyn Fn(usize)> {
            Rc::new(move |count| {
                let _ = f.call1(&JsValue::NULL, &JsValue::from(count as f64));
            })
        }),
        on_status: function(&options, "onStatus").map(|f| -> Rc<dyn Fn(ConnectionStatus)> {
            Rc::new(move |status| {
                let _ = f.call1(&JsValue::NULL, &status_object(&status));
            })
        }),
        get_token: function(&options, "getToken"),
        on_socket: None,
    };
    mount_into(element, page, listeners)
}

fn mount_into(element: HtmlElement, page: PageSettings, listeners: Listeners) -> RosterHandle {
    apply_theme(&element, &page);
    // Its own background unless told otherwise (style/main.css), so that
    // its colours hold on any host page.
    let _ = element.set_attribute("data-roster-mount", "");
    if page.settings.transparent {
        let _ = element.set_attribute("data-bg", "transparent");
    } else {
        let _ = element.remove_attribute("data-bg");
    }
    let socket = Rc::new(Cell::new(None));
    let keep = Rc::clone(&socket);
    let listeners = Listeners {
        on_socket: Some(Rc::new(move |mounted| keep.set(Some(mounted)))),
        ..listeners
    };
    let handle = leptos::mount::mount_to(element, move || {
        view! { <Roster page compact=true listeners /> }
    });
    RosterHandle {
        mounted: Some(Box::new(handle)),
        socket,
    }
}

fn function(options: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(options, &JsValue::from_str(name))
        .ok()?
        .dyn_into()
        .ok()
}

/// The status as a plain object: `state`, `attempt`, `protocol`,
/// `access` (`read` or `write`), `problem` (words) and `problemKind`.
fn status_object(status: &ConnectionStatus) -> JsValue {
    let object = Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&object, &JsValue::from_str(key), &value);
    };
    set("state", status.state.as_str().into());
    set("attempt", f64::from(status.attempt).into());
    set("protocol", status.protocol.map(|p| p.as_str()).into());
    let access = match status.access {
        Access::Write => "write",
        Access::Read => "read",
    };
    set("access", access.into());
    set(
        "problem",
        status.last_error.as_ref().map(ToString::to_string).into(),
    );
    set(
        "problemKind",
        status.last_error.as_ref().map(|p| p.kind()).into(),
    );
    object.into()
}

#[wasm_bindgen(inline_js = r#"
export function defineRosterUsers(mount, names) {
  if (customElements.get('roster-users')) return;
  const sheet = new URL('../../main.css', import.meta.url).href;
  customElements.define('roster-users', class extends HTMLElement {
    static get observedAttributes() { return names; }
    connectedCallback() {
      if (this.handle) return; // moved within the page: keep the connection
      if (!this.shadowRoot) {
        const root = this.attachShadow({ mode: 'open' });
        const link = document.createElement('link');
        link.rel = 'stylesheet';
        link.href = sheet;
        this.target = document.createElement('div');
        root.append(link, this.target);
      }
      this.handle = mount(this.target, this);
    }
    disconnectedCallback() {
      // A move disconnects and connects again at once: only a removal
      // is still disconnected a microtask later.
      queueMicrotask(() => {
        if (!this.isConnected && this.handle) {
          this.handle.unmount();
          this.handle = null;
        }
      });
    }
    attributeChangedCallback(name, before, after) {
      if (!this.handle || before === after) return;
      // A new token goes to the live socket; anything else remounts.
      if (name === 'token' && after) return this.handle.setToken(after);
      this.remount();
    }
    // `getToken`: a function giving a token (or a promise of one).
    get getToken() { return this.tokenSource; }
    set getToken(source) {
      this.tokenSource = source;
      if (this.handle) this.remount();
    }
    // Asks getToken for a fresh token now (or connects again after a close).
    refresh() { this.handle?.refresh(); }
    remount() {
      this.handle.unmount();
      this.target.removeAttribute('data-theme');
      this.handle = mount(this.target, this);
    }
  });
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = defineRosterUsers)]
    fn define_roster_users(mount: &Function, names: &Array);
}

/// Defines `<roster-users>`: each element mounts its own Roster into its
/// shadow root, with Roster's stylesheet, its settings from its attributes
/// (`server`, `theme`, `ping-ms`, …) and then the page's meta tags. A
/// changed attribute mounts it again with the new settings; removing it
/// releases everything; moving it keeps the connection.
pub fn define_element() {
    let mount = Closure::<dyn Fn(HtmlElement, HtmlElement) -> JsValue>::new(
        |target: HtmlElement, host: HtmlElement| {
            let page = settings::read(&[Source::Attributes(&host, "")]);
            let listeners = Listeners {
                get_token: function(&host, "getToken"),
                ..Listeners::default()
            };
            mount_into(target, page, listeners).into()
        },
    );
    let names: Array = all_names()
        .map(|name| JsValue::from(attribute_name("", name)))
        .collect();
    define_roster_users(mount.as_ref().unchecked_ref(), &names);
    // Lives as long as the page: the element's definition cannot be undone.
    mount.forget();
}
