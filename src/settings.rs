//! The settings of one Roster on a page, read in the one documented order
//! (see `roster_protocol::settings`), from what this way of mounting has:
//!
//! - Roster's own page: the query string, then `data-*` attributes of
//!   `<body>`, then `<meta name="roster:…">` tags.
//! - `mount(element, options)`: the options object, then the element's
//!   `data-*` attributes, then the meta tags. (The host page's query string
//!   is its own business, and two lists on one page must not share it.)
//! - `<roster-users>`: its attributes (`server`, `theme`, `ping-ms`, …),
//!   then the meta tags.

use roster_protocol::endpoint::{self, EndpointError, PageLocation};
use roster_protocol::query::query_param;
use roster_protocol::settings::{attribute_name, Settings};
use wasm_bindgen::JsValue;
use web_sys::Element;

/// Everything one Roster needs to start, read once.
pub struct PageSettings {
    pub settings: Settings,
    /// Settings that were given but not valid, in words.
    pub problems: Vec<String>,
    /// The socket to connect to: the `server` setting, or the page's own
    /// origin.
    pub url: Result<String, EndpointError>,
}

/// Where the settings come from, first found wins.
pub enum Source<'a> {
    /// The page's query string.
    Query,
    /// Attributes of an element, named with a prefix (`data-`, or none).
    Attributes(&'a Element, &'a str),
    /// A JavaScript object's own properties, by setting name.
    Options(&'a JsValue),
}

/// One place to look a setting up by name.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Reads the settings from `sources`, then the page's meta tags.
pub fn read(sources: &[Source]) -> PageSettings {
    let window = web_sys::window();
    let location = window.as_ref().map(|window| window.location());
    let search = location
        .as_ref()
        .and_then(|location| location.search().ok())
        .unwrap_or_default();
    let document = window.as_ref().and_then(|window| window.document());
    let lookups: Vec<Lookup> = sources
        .iter()
        .map(|source| -> Lookup {
            match source {
                Source::Query => Box::new(|name: &str| query_param(&search, name)),
                Source::Attributes(element, prefix) => {
                    Box::new(move |name: &str| element.get_attribute(&attribute_name(prefix, name)))
                }
                Source::Options(options) => Box::new(move |name: &str| option(options, name)),
            }
        })
        .collect();
    let from_meta = |name: &str| {
        let selector = format!("meta[name=\"roster:{name}\"]");
        document
            .as_ref()?
            .query_selector(&selector)
            .ok()??
            .get_attribute("content")
    };
    let mut all: Vec<roster_protocol::settings::Lookup> =
        lookups.iter().map(|lookup| lookup.as_ref()).collect();
    all.push(&from_meta);
    let (settings, problems) = Settings::resolve(&all);
    let protocol = location
        .as_ref()
        .and_then(|location| location.protocol().ok())
        .unwrap_or_default();
    let host = location
        .as_ref()
        .and_then(|location| location.host().ok())
        .unwrap_or_default();
    let url = endpoint::websocket_url(PageLocation {
        protocol: &protocol,
        host: &host,
        server: settings.server.as_deref(),
        list: settings.list.as_ref(),
    });
    PageSettings {
        settings,
        problems,
        url,
    }
}

/// A string or number property of a JS options object, as text.
fn option(options: &JsValue, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(options, &JsValue::from_str(name)).ok()?;
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if let Some(number) = value.as_f64() {
        return Some(format!("{}", number as i64));
    }
    value
        .as_bool()
        .map(|flag| if flag { "1" } else { "0" }.to_owned())
}
