//! The page's settings, read in the one documented order (see
//! `roster_protocol::settings`): the query string, then the mount element's
//! `data-*` attributes, then `<meta name="roster:…">` tags, then defaults.

use roster_protocol::endpoint::{self, EndpointError, PageLocation};
use roster_protocol::query::query_param;
use roster_protocol::settings::{attribute_name, Settings};
use web_sys::Element;

/// Everything the page needs to start, read once.
pub struct PageSettings {
    pub settings: Settings,
    /// Settings that were given but not valid, in words.
    pub problems: Vec<String>,
    /// The socket to connect to: the `server` setting, or the page's own
    /// origin.
    pub url: Result<String, EndpointError>,
}

/// Reads the settings for Roster mounted into `mount`, whose attributes
/// are named with `attribute_prefix` (`data-` on a page's `<body>`).
pub fn read(mount: Option<&Element>, attribute_prefix: &str) -> PageSettings {
    let window = web_sys::window();
    let location = window.as_ref().map(|window| window.location());
    let search = location
        .as_ref()
        .and_then(|location| location.search().ok())
        .unwrap_or_default();
    let document = window.as_ref().and_then(|window| window.document());
    let from_query = |name: &str| query_param(&search, name);
    let from_attribute = |name: &str| {
        mount.and_then(|element| element.get_attribute(&attribute_name(attribute_prefix, name)))
    };
    let from_meta = |name: &str| {
        let selector = format!("meta[name=\"roster:{name}\"]");
        document
            .as_ref()?
            .query_selector(&selector)
            .ok()??
            .get_attribute("content")
    };
    let (settings, problems) = Settings::resolve(&[&from_query, &from_attribute, &from_meta]);
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
    });
    PageSettings {
        settings,
        problems,
        url,
    }
}
