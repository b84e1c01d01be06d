use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn shutdown_closes_every_socket_with_going_away_and_returns() {
    let app = TestApp::spawn().await;
    let (mut first, _) = app.connect_and_read().await;
    let (mut second, _) = app.connect_and_read().await;

    let stopped = tokio::spawn(app.shut_down());

    for client in [&mut first, &mut second] {
        let frame = client.closed().await.expect("a close frame");
        assert_eq!(frame.code, CloseCode::Away);
    }
    stopped.await.unwrap().expect("run returns Ok");
}
