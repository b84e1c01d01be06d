use crate::helpers::{ids, TestApp};

#[tokio::test]
async fn the_http_list_matches_the_socket_list() {
    let app = TestApp::spawn().await;
    let (mut client, _) = app.connect_and_read().await;
    client.send_text("__addUser__").await;
    let from_socket = client.next_text().await;

    let response = reqwest::get(app.url("/api/v1/users")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), from_socket);
}

#[tokio::test]
async fn the_http_list_of_a_new_server_is_empty() {
    let app = TestApp::spawn().await;
    let users: Vec<roster_protocol::User> = reqwest::get(app.url("/api/v1/users"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ids(&users).is_empty());
}

#[tokio::test]
async fn the_built_client_is_served_at_the_root() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<title>Roster test page</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log('hi')").unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;

    let index = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.text().await.unwrap().contains("Roster test page"));

    let script = reqwest::get(app.url("/app.js")).await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
}

#[tokio::test]
async fn without_a_built_client_the_root_says_how_to_build_it() {
    let app = TestApp::spawn().await;
    let response = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("client is not built"));
}

#[tokio::test]
async fn a_plain_get_of_the_socket_route_is_refused() {
    let app = TestApp::spawn().await;
    let response = reqwest::get(app.url("/api/v1/users/ws")).await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}
