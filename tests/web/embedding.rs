//! `<roster-users>` and `mount()`, as host pages use them.

use crate::support::*;

#[wasm_bindgen_test]
async fn the_element_takes_its_attributes_remounts_on_change_keeps_a_move_and_releases_on_removal()
{
    roster::mount::define_element();
    roster::mount::define_element();
    let document = web_sys::window().unwrap().document().unwrap();
    let home = test_root();
    let element = document.create_element("roster-users").unwrap();
    element
        .set_attribute("server", "ws://127.0.0.1:9/one")
        .unwrap();
    element.set_attribute("theme", "dark").unwrap();
    home.append_child(&element).unwrap();
    let shadow = element.shadow_root().expect("a shadow root");
    let target: HtmlElement = shadow
        .query_selector("div")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(target.get_attribute("data-theme").as_deref(), Some("dark"));
    let last_error = |shadow: &web_sys::ShadowRoot| {
        shadow
            .query_selector("[data-testid=last-error]")
            .unwrap()
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    assert!(
        eventually(|| last_error(&shadow).contains("127.0.0.1:9/one")).await,
        "{}",
        last_error(&shadow)
    );
    assert!(
        shadow.query_selector(".roster-compact").unwrap().is_some(),
        "compact in an element"
    );

    element
        .set_attribute("server", "ws://127.0.0.1:9/two")
        .unwrap();
    assert!(
        eventually(|| last_error(&shadow).contains("127.0.0.1:9/two")).await,
        "{}",
        last_error(&shadow)
    );
    assert_eq!(shadow.query_selector_all(".roster").unwrap().length(), 1);

    // Moving it keeps the same list (no new connection).
    let kept = shadow.query_selector(".roster").unwrap().unwrap();
    let elsewhere = test_root();
    elsewhere.append_child(&element).unwrap();
    tick().await;
    drawn().await;
    assert!(kept.is_connected(), "a move keeps the mounted list");

    // Removing it unmounts: the list and its socket go.
    element.remove();
    drawn().await;
    assert!(!kept.is_connected());
    assert!(shadow.query_selector(".roster").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn mount_reads_its_options_reports_to_its_callbacks_and_unmounts() {
    let host = test_root();
    host.set_attribute("data-theme", "light").unwrap();
    let options = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        js_sys::Reflect::set(&options, &JsValue::from_str(key), &value).unwrap();
    };
    set("server", "ws://127.0.0.1:9/mounted".into());
    set("theme", "dark".into());
    let statuses = std::rc::Rc::new(std::cell::RefCell::new(Vec::<JsValue>::new()));
    let counts = std::rc::Rc::new(std::cell::RefCell::new(Vec::<f64>::new()));
    let on_status = {
        let statuses = statuses.clone();
        wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(move |s| {
            statuses.borrow_mut().push(s)
        })
    };
    let on_users = {
        let counts = counts.clone();
        wasm_bindgen::closure::Closure::<dyn Fn(f64)>::new(move |n| counts.borrow_mut().push(n))
    };
    set("onStatus", on_status.as_ref().clone());
    set("onUsers", on_users.as_ref().clone());

    let mut handle = roster::mount::mount_js(host.clone(), options.clone().into());
    assert_eq!(
        host.get_attribute("data-theme").as_deref(),
        Some("dark"),
        "options win"
    );
    assert!(eventually(|| !counts.borrow().is_empty()).await);
    assert_eq!(counts.borrow()[0], 0.0);
    let kind = |status: &JsValue| {
        js_sys::Reflect::get(status, &"problemKind".into())
            .unwrap()
            .as_string()
    };
    assert!(
        eventually(|| statuses
            .borrow()
            .iter()
            .any(|s| kind(s).as_deref() == Some("cannot_connect")))
        .await,
        "onStatus tells the host about the failed connection"
    );
    assert_eq!(host.query_selector_all(".roster").unwrap().length(), 1);

    handle.unmount();
    handle.unmount();
    assert_eq!(host.query_selector_all(".roster").unwrap().length(), 0);
}
