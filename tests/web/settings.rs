//! Where a page's settings come from, and in which order.

use crate::support::*;

#[wasm_bindgen_test]
async fn settings_come_from_the_query_then_the_mount_element_then_meta_tags() {
    let window = web_sys::window().unwrap();
    let document = window.document().unwrap();
    let history = window.history().unwrap();
    let before = window.location().href().unwrap();
    let query = "?theme=dark&ping_ms=oops";
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(query))
        .unwrap();
    let meta = document.create_element("meta").unwrap();
    meta.set_attribute("name", "roster:pong_timeout_ms")
        .unwrap();
    meta.set_attribute("content", "4321").unwrap();
    let meta_theme = document.create_element("meta").unwrap();
    meta_theme.set_attribute("name", "roster:theme").unwrap();
    meta_theme.set_attribute("content", "light").unwrap();
    document.head().unwrap().append_child(&meta).unwrap();
    document.head().unwrap().append_child(&meta_theme).unwrap();
    let mount = test_root();
    mount.set_attribute("data-compact", "1").unwrap();
    mount.set_attribute("data-pong-timeout-ms", "1234").unwrap();
    mount
        .set_attribute("data-server", "ws://elsewhere.test/ws")
        .unwrap();

    let page = roster::settings::read(&[Source::Query, Source::Attributes(&mount, "data-")]);

    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&before))
        .unwrap();
    meta.remove();
    meta_theme.remove();
    let settings = &page.settings;
    assert_eq!(
        settings.theme,
        Theme::Dark,
        "the query wins over the meta tag"
    );
    assert_eq!(
        settings.engine.pong_timeout_ms, 1234,
        "the element wins over the meta tag"
    );
    assert!(settings.compact);
    assert_eq!(page.url.as_deref(), Ok("ws://elsewhere.test/ws"));
    assert_eq!(
        page.problems,
        ["ignored ping_ms=\"oops\": expected a whole number above 0"]
    );
    assert_eq!(
        settings.engine.ping_ms,
        EngineConfig::default().ping_ms,
        "an invalid value falls back to the default"
    );
}
