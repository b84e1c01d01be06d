//! The windowed list: rows drawn and rewritten, 100,000 users, anchoring,
//! the filter and the "N new" button.

use crate::support::*;

#[wasm_bindgen_test]
async fn the_user_list_renders_one_row_per_user_with_its_id() {
    let root = test_root();
    let users = list(vec![user("1", "Ada Lovelace"), user("2", "Grace Hopper")]);
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });

    assert_eq!(row_ids(&root), ["1", "2"]);
    let first = &select_all(&root, "[data-testid=user-row]")[0];
    assert!(first.text_content().unwrap().contains("Ada Lovelace"));
    assert!(first.text_content().unwrap().contains("1@roster.test"));
    assert_eq!(first.get_attribute("aria-posinset").as_deref(), Some("1"));
    assert_eq!(first.get_attribute("aria-setsize").as_deref(), Some("2"));
}

#[wasm_bindgen_test]
async fn a_change_rewrites_only_rows_whose_user_or_place_changed() {
    let root = test_root();
    let users = list(vec![user("1", "Ada"), user("2", "Grace")]);
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    let first_row = select(&root, "[data-user-id='1']");
    let kept_row = select(&root, "[data-user-id='2']");
    let kept_name = select(&kept_row, ".user-name").first_child().unwrap();

    users.update(|list| list.edit(ListEdit::Upsert(user("3", "Alan"))));
    drawn().await;
    assert_eq!(row_ids(&root), ["1", "2", "3"]);
    assert!(kept_row.is_same_node(Some(&select(&root, "[data-user-id='2']"))));
    assert!(
        select(&kept_row, ".user-name")
            .first_child()
            .unwrap()
            .is_same_node(Some(&kept_name)),
        "an unchanged row's text is not written again"
    );

    users.update(|list| list.edit(ListEdit::Upsert(user("2", "Grace Hopper"))));
    drawn().await;
    let renamed = select(&root, "[data-user-id='2']");
    assert!(renamed.text_content().unwrap().contains("Grace Hopper"));
    assert_eq!(
        select(&renamed, ".user-avatar").text_content().unwrap(),
        "GH"
    );
    assert!(first_row.is_same_node(Some(&select(&root, "[data-user-id='1']"))));
    assert_eq!(first_row.text_content().unwrap(), "AAda1@roster.test#1");

    // A user moving inside the window moves its row, and the row keeps it.
    users.update(|list| {
        let reordered = vec![
            user("3", "Alan"),
            user("1", "Ada"),
            user("2", "Grace Hopper"),
        ];
        list.edit(ListEdit::Replace(reordered));
    });
    drawn().await;
    assert_eq!(row_ids(&root), ["3", "1", "2"]);
    assert!(first_row.is_same_node(Some(&select(&root, "[data-user-id='1']"))));
    assert_eq!(
        first_row.get_attribute("aria-posinset").as_deref(),
        Some("2")
    );
}

#[wasm_bindgen_test]
async fn a_burst_of_changes_is_drawn_together_in_the_next_frame() {
    let root = test_root();
    let users = list(many(3));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    // 500 separate changes, as a busy server sends them, before a frame.
    for id in 1..=500u64 {
        users.update(|list| {
            list.edit(ListEdit::Upsert(user(
                &id.to_string(),
                &format!("Renamed {id}"),
            )))
        });
    }
    users.update(|list| list.edit(ListEdit::Remove(UserId::new("1"))));
    drawn().await;
    assert_eq!(row_ids(&root)[..3], ["2", "3", "4"]);
    let first = select(&root, "[data-user-id='2']");
    assert!(first.text_content().unwrap().contains("Renamed 2"));
    assert_eq!(first.get_attribute("aria-posinset").as_deref(), Some("1"));
    assert_eq!(first.get_attribute("aria-setsize").as_deref(), Some("499"));
    assert_eq!(
        select(&root, "[data-testid=user-list]")
            .style()
            .get_property_value("height")
            .unwrap(),
        format!("{}px", 499 * ROW_HEIGHT_PX as usize)
    );

    // The first change after a frame is drawn at once; more in the same
    // frame wait for its end, and are then drawn together.
    drawn().await;
    users.update(|list| list.edit(ListEdit::Upsert(user("2", "Drawn At Once"))));
    tick().await;
    assert!(first.text_content().unwrap().contains("Drawn At Once"));
    users.update(|list| list.edit(ListEdit::Upsert(user("2", "Drawn At Frame End"))));
    users.update(|list| list.edit(ListEdit::Upsert(user("3", "Also At Frame End"))));
    tick().await;
    assert!(first.text_content().unwrap().contains("Drawn At Once"));
    drawn().await;
    assert!(first.text_content().unwrap().contains("Drawn At Frame End"));
    assert!(select(&root, "[data-user-id='3']")
        .text_content()
        .unwrap()
        .contains("Also At Frame End"));
}

#[wasm_bindgen_test]
async fn an_empty_list_says_so_and_the_message_goes_when_users_arrive() {
    let root = test_root();
    let users = list(Vec::new());
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    assert_eq!(select_all(&root, "[data-testid=user-list-empty]").len(), 1);
    let message = select(&root, "[data-testid=user-list-empty]").offset_height();
    let shown = scroller(&root).client_height();
    assert!(
        message > 0 && shown >= message,
        "the message ({message} px) is in view, not clipped ({shown} px shown)"
    );

    users.update(|list| list.edit(ListEdit::Replace(vec![user("7", "Radia Perlman")])));
    drawn().await;
    assert!(select_all(&root, "[data-testid=user-list-empty]").is_empty());
    assert_eq!(row_ids(&root), ["7"]);
}

#[wasm_bindgen_test]
async fn a_hundred_thousand_users_keep_a_few_dozen_rows_in_the_dom_from_first_to_last() {
    let root = test_root_of_height(600);
    let users = list(many(100_000));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    let bounded = |root: &HtmlElement| {
        let rows = row_ids(root).len();
        assert!((1..=80).contains(&rows), "{rows} rows in the DOM");
    };
    bounded(&root);
    assert_eq!(row_ids(&root)[0], "1");
    // The scrollbar covers the whole list.
    let height = select(&root, "[data-testid=user-list]").offset_height();
    assert_eq!(height, (100_000.0 * ROW_HEIGHT_PX) as i32);

    for position in [50_000, 99_000, 12_345] {
        scroll_to(
            &root,
            (position as f64 * ROW_HEIGHT_PX) as i32,
            &(position + 1).to_string(),
        )
        .await;
        bounded(&root);
        let row = select(&root, &format!("[data-user-id='{}']", position + 1));
        assert_eq!(
            row.get_attribute("aria-posinset"),
            Some((position + 1).to_string())
        );
        assert_eq!(row.get_attribute("aria-setsize").as_deref(), Some("100000"));
    }
    let end = scroller(&root).scroll_height();
    scroll_to(&root, end, "100000").await;
    bounded(&root);
    let last = select(&root, "[data-user-id='100000']");
    let view = scroller(&root).get_bounding_client_rect();
    assert!(
        last.get_bounding_client_rect().bottom() <= view.bottom() + 1.0,
        "the last user is fully in view"
    );
}

#[wasm_bindgen_test]
async fn rows_removed_or_inserted_above_the_view_do_not_move_the_rows_in_view() {
    let root = test_root_of_height(400);
    let users = list(many(1_000));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    scroll_to(&root, (500.0 * ROW_HEIGHT_PX + 20.0) as i32, "502").await;
    let before = screen_top(&root, "502");

    users.update(|list| list.edit(ListEdit::Remove(UserId::new("10"))));
    drawn().await;
    assert!(
        (screen_top(&root, "502") - before).abs() < 1.0,
        "after a removal above"
    );

    users.update(|list| {
        let mut shifted = vec![user("new", "Inserted At The Top")];
        shifted.extend(list.iter().cloned());
        list.edit(ListEdit::Replace(shifted));
    });
    drawn().await;
    assert!(
        (screen_top(&root, "502") - before).abs() < 1.0,
        "after an insert above"
    );
    let row = select(&root, "[data-user-id='502']");
    assert_eq!(
        row.get_attribute("aria-posinset").as_deref(),
        Some("502"),
        "1 removed, 1 inserted above"
    );

    // Removing the row at the top of the view keeps the next one in place.
    let top_position = (scroller(&root).scroll_top() as f64 / ROW_HEIGHT_PX) as usize;
    let top_id = users.with_untracked(|list| list.get(top_position).unwrap().id.clone());
    let next_id = users.with_untracked(|list| list.get(top_position + 1).unwrap().id.clone());
    let next_before = screen_top(&root, next_id.as_str());
    users.update(|list| list.edit(ListEdit::Remove(top_id)));
    drawn().await;
    let moved = screen_top(&root, next_id.as_str()) - next_before;
    assert!(moved.abs() <= ROW_HEIGHT_PX + 1.0, "moved {moved} px");
}

#[wasm_bindgen_test]
async fn at_the_very_top_new_rows_come_into_view() {
    let root = test_root_of_height(400);
    let users = list(many(100));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    users.update(|list| {
        let mut shifted = vec![user("new", "Newest")];
        shifted.extend(list.iter().cloned());
        list.edit(ListEdit::Replace(shifted));
    });
    drawn().await;
    assert_eq!(scroller(&root).scroll_top(), 0);
    assert_eq!(row_ids(&root)[0], "new");
}

#[wasm_bindgen_test]
async fn a_filter_shows_only_matching_rows_from_the_top_and_says_when_none_match() {
    let root = test_root_of_height(400);
    let users = list(many(1_000));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    scroll_to(&root, (500.0 * ROW_HEIGHT_PX) as i32, "502").await;

    // "User 99" is in users 99 and 990 to 999; case is ignored.
    set_filter(users, "uSER 99");
    drawn().await;
    assert_eq!(
        scroller(&root).scroll_top(),
        0,
        "a new filter starts at the top"
    );
    let ids: Vec<String> = std::iter::once(99)
        .chain(990..=999)
        .map(|id| id.to_string())
        .collect();
    assert_eq!(row_ids(&root), ids);
    let first = &select_all(&root, "[data-testid=user-row]")[0];
    assert_eq!(first.get_attribute("aria-setsize").as_deref(), Some("11"));

    // A change goes through the filter: a match appears, others do not.
    users.update(|list| list.upsert(user("1001", "user 99 again")));
    users.update(|list| list.upsert(user("1002", "Someone Else")));
    users.update(|list| list.edit(ListEdit::Remove(UserId::new("990"))));
    drawn().await;
    assert_eq!(row_ids(&root).len(), 11);
    assert_eq!(row_ids(&root).last().map(String::as_str), Some("1001"));
    assert!(!row_ids(&root).contains(&"990".to_owned()));

    // By email too, and nothing matched says so.
    set_filter(users, "1002@ROSTER");
    drawn().await;
    assert_eq!(row_ids(&root), ["1002"]);
    set_filter(users, "nobody");
    drawn().await;
    assert!(row_ids(&root).is_empty());
    assert_eq!(
        text_of(&root, "[data-testid=user-list-empty]"),
        "No users match the filter."
    );

    // Clearing it shows everyone again.
    set_filter(users, "");
    drawn().await;
    assert!(root
        .query_selector("[data-testid=user-list-empty]")
        .unwrap()
        .is_none());
    assert_eq!(row_ids(&root)[0], "1");
}

#[wasm_bindgen_test]
async fn the_filter_ignores_case_beyond_ascii_with_the_browsers_own_tables() {
    let zoe = user("1", "Zoë Ångström");
    assert!(filter_for("ÅNGSTRÖM").unwrap().matches(&zoe));
    assert!(filter_for("zoË").unwrap().matches(&zoe));
    assert!(!filter_for("zoe").unwrap().matches(&zoe));
    assert!(filter_for(" \t").is_none());
}

#[wasm_bindgen_test]
async fn the_filter_box_reports_each_edit() {
    let root = test_root();
    let typed = RwSignal::new(Vec::<String>::new());
    let on_filter = Callback::new(move |text: String| typed.update(|all| all.push(text)));
    let _mounted = mount_to(root.clone(), move || view! { <UserFilter on_filter /> });
    let input: web_sys::HtmlInputElement = select(&root, "[data-testid=filter]").unchecked_into();
    assert_eq!(input.type_(), "search");
    assert!(input.get_attribute("aria-label").is_some(), "it has a name");
    for text in ["a", "ad", ""] {
        input.set_value(text);
        input
            .dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
    }
    assert_eq!(typed.get_untracked(), ["a", "ad", ""]);
}

#[wasm_bindgen_test]
async fn users_arriving_below_the_view_are_counted_and_the_button_goes_to_them() {
    let root = test_root_of_height(400);
    let users = list(many(100));
    let on_seen = Callback::new(move |()| users.update_untracked(|list| list.mark_seen()));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users on_seen /> });
    let button = select(&root, "[data-testid=new-users]");
    assert!(button.hidden(), "nobody is new yet");

    // At the top, away from the end: the view holds still and counts.
    users.update(|list| list.upsert(user("101", "New One")));
    drawn().await;
    assert_eq!(scroller(&root).scroll_top(), 0);
    assert_eq!(row_ids(&root)[0], "1");
    assert!(!button.hidden());
    assert_eq!(button.text_content().unwrap(), "1 new user ↓");
    users.update(|list| list.upsert(user("102", "New Two")));
    users.update(|list| list.upsert(user("5", "Renamed, not new")));
    drawn().await;
    assert_eq!(button.text_content().unwrap(), "2 new users ↓");

    // The button takes the reader to them, and goes.
    button.click();
    drawn().await;
    assert!(button.hidden());
    let view = scroller(&root).get_bounding_client_rect();
    assert!(
        screen_top(&root, "102") < view.bottom(),
        "the newest is in view"
    );
    assert!(root
        .query_selector(":focus")
        .unwrap()
        .is_some_and(|f| f == scroller(&root).into()));

    // At the end, the view follows new users, with nothing to count.
    let top = scroller(&root).scroll_top();
    users.update(|list| list.upsert(user("103", "New Three")));
    drawn().await;
    assert!(scroller(&root).scroll_top() > top, "it followed the end");
    let last = select(&root, "[data-user-id='103']").get_bounding_client_rect();
    assert!(
        last.bottom() <= view.bottom() + 1.0,
        "the newest is fully in view"
    );
    assert!(button.hidden());

    // Scrolled away again: counted again; back at the end: gone.
    scroll_to(&root, 0, "1").await;
    users.update(|list| list.upsert(user("104", "New Four")));
    drawn().await;
    assert_eq!(button.text_content().unwrap(), "1 new user ↓");
    scroll_to(&root, 1_000_000, "104").await;
    assert!(eventually(|| button.hidden()).await, "seen at the end");
}

#[wasm_bindgen_test]
async fn writers_get_a_remove_button_per_row_named_for_its_user_and_readers_none() {
    let root = test_root();
    let users = list(vec![user("1", "Ada Lovelace"), user("2", "Grace Hopper")]);
    let removable = RwSignal::new(false);
    let removed = RwSignal::new(Vec::<String>::new());
    let on_remove = Callback::new(move |id: UserId| removed.update(|ids| ids.push(id.to_string())));
    let _mounted = mount_to(root.clone(), move || {
        view! { <UserList users on_remove removable /> }
    });
    assert!(
        select_all(&root, "[data-testid=remove-user]").is_empty(),
        "a reader has none"
    );

    removable.set(true);
    tick().await;
    let buttons = select_all(&root, "[data-testid=remove-user]");
    let names: Vec<_> = buttons
        .iter()
        .map(|b| b.get_attribute("aria-label").unwrap())
        .collect();
    assert_eq!(names, ["Remove Ada Lovelace", "Remove Grace Hopper"]);
    assert_eq!(buttons[0].tag_name(), "BUTTON", "reachable by keyboard");
    buttons[1].click();
    assert_eq!(removed.get_untracked(), ["2"]);

    // A renamed user's button says the new name.
    users.update(|list| list.edit(ListEdit::Upsert(user("1", "Ada King"))));
    drawn().await;
    let first = &select_all(&root, "[data-testid=remove-user]")[0];
    assert_eq!(
        first.get_attribute("aria-label").as_deref(),
        Some("Remove Ada King")
    );

    removable.set(false);
    tick().await;
    assert!(select_all(&root, "[data-testid=remove-user]").is_empty());
}
